// What distill and rl share: the policy (model + tokenizer) and its HF config for saving, an
// optional frozen reference/teacher model, the output dir with logs, checkpoints with exact resume
// (through src/train/ckpt.h), and error reporting that names the last good checkpoint.
#pragma once
#include <cjson/cJSON.h>
#include <stdint.h>

#include "formats/hfconfig.h"
#include "rec/lm.h"
#include "train/update.h"

typedef struct {
    lm pol;
    hf_config hf;
    qwen3_model ref;
    int has_ref;
    char *out, *tok_dir;
    train_logs logs;
    int64_t last_ckpt;    // -1: none written or resumed from
} post_run;

// Loads the policy from model_dir, or from the checkpoint resume_from names (weights, tokenizer,
// AdamW moments; *state gets its trainer_state.json, else NULL); the reference from ref_dir when
// need_ref. Opens the logs in out.
int post_run_open(post_run *r, const char *model_dir, const char *ref_dir, int need_ref, const char *out,
                  const char *resume_from, const cJSON *args_json, cJSON **state);
void post_run_close(post_run *r);
int post_run_checkpoint(post_run *r, int64_t step, const cJSON *state);
void post_run_scalar(post_run *r, const char *tag, int64_t step, double value);
// One JSON line to {out}/stdout.log (and nothing to stdout).
void post_run_line(post_run *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
// Adds "stopped at step N; last good checkpoint ..." to the current error message.
void post_run_fail(post_run *r, int64_t step);

// The resumable position of a run: {"step", "epoch", "row"} (absent keys read as 0).
cJSON *post_state_new(int64_t step, int64_t epoch, int64_t row);
void post_state_read(const cJSON *state, int64_t *step, int64_t *epoch, int64_t *row);
