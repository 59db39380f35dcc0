// Model directories for the trainer: load an HF Qwen3 dir, save fp32 checkpoints and bf16 exports
// (config.json, safetensors, tokenizer files copied). One thin file over the model layer's I/O so
// the trainer does not depend on how it is done.
#pragma once
#include <stddef.h>

#include "formats/hfconfig.h"
#include "model/qwen3.h"

// Loads config.json (kept in *hf for saving, extra keys included) and the weights.
int train_model_load(qwen3_model *m, hf_config *hf, const char *dir);
// Writes config.json and the weights as dtype ("F32" or "BF16"), sharded above shard_bytes
// (0: one file), then copies the tokenizer files found in tok_dir (may be NULL).
int train_model_save(const qwen3_model *m, const hf_config *hf, const char *dir, const char *dtype,
                     size_t shard_bytes, const char *tok_dir);
