// HF config.json <-> Qwen3 configuration (the fields of reference section 2).
#pragma once
#include <cjson/cJSON.h>

typedef struct {
    int hidden_size;
    int intermediate_size;
    int num_hidden_layers;
    int num_attention_heads;
    int num_key_value_heads;
    int head_dim;                 // may differ from hidden_size / num_attention_heads
    int vocab_size;               // embedding rows (>= tokenizer length, aligned)
    int max_position_embeddings;
    int tie_word_embeddings;      // 1: lm_head shares embed_tokens
    double rope_theta;
    double rms_norm_eps;
    int bos_token_id;             // -1 when absent
    int eos_token_id;             // -1 when absent
    cJSON *extra;                 // every other key of the source file, kept for save (owned; may be NULL)
} hf_config;

// `path` is a config.json or a model dir holding one. Missing or mistyped required fields are an
// error naming the file and the field; head_dim defaults to hidden/heads when absent.
int hf_config_load(hf_config *c, const char *path);
int hf_config_from_json(hf_config *c, const cJSON *j, const char *where);
// Consistency checks (positive sizes, heads divisible by kv heads, ...); `where` names the source.
int hf_config_validate(const hf_config *c, const char *where);
// Writes config.json atomically (model_type "qwen3", architectures, plus c->extra's other keys).
int hf_config_save(const hf_config *c, const char *path);
cJSON *hf_config_to_json(const hf_config *c);
void hf_config_free(hf_config *c);   // releases extra
