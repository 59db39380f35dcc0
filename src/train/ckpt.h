// Checkpoint directories: {out}/step{N}/ holds the fp32 weights as an HF model dir (config.json,
// model.safetensors, tokenizer files), optimizer.safetensors (AdamW exp_avg / exp_avg_sq, flat
// over all parameters) and trainer_state.json (step, loader state, args); {out}/latest names the
// newest one. A checkpoint is built in {out}/.step{N}.partial and renamed into place, then latest
// is replaced atomically, so a crash leaves the previous complete checkpoint and never a half one.
#pragma once
#include <cjson/cJSON.h>
#include <stdint.h>

#include "formats/hfconfig.h"
#include "model/qwen3.h"

// Writes a complete checkpoint of step `step`. `state` is stored as trainer_state.json.
int ckpt_save(const char *out, int64_t step, const qwen3_model *m, const hf_config *hf,
              const char *tok_dir, const cJSON *state);
// --resume_from: a step dir (holding trainer_state.json) or an output dir with `latest`.
// *dir is malloc'd.
int ckpt_resolve(const char *path, char **dir);
// Loads trainer_state.json of a step dir.
cJSON *ckpt_load_state(const char *dir);
// Loads the AdamW moments into m->adam_m / adam_v (allocated here); they must cover n_params.
int ckpt_load_optimizer(qwen3_model *m, const char *dir);
// Removes partial checkpoint dirs a crash left in `out`.
int ckpt_clean_partial(const char *out);
