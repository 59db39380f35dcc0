// HF config.json <-> hf_config. Known fields are parsed and checked; every other key is kept in
// `extra` and written back, so a config passes through load/save without losing anything.
#include "formats/hfconfig.h"

#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "base/file.h"
#include "base/json.h"
#include "base/mem.h"

// Keys this module owns: they never go into `extra`.
static const char *const known[] = {
    "hidden_size", "intermediate_size", "num_hidden_layers", "num_attention_heads", "num_key_value_heads",
    "head_dim", "vocab_size", "max_position_embeddings", "tie_word_embeddings", "rope_theta", "rms_norm_eps",
    "bos_token_id", "eos_token_id", "model_type", "architectures",
};

static int is_known(const char *k) {
    for (size_t i = 0; i < sizeof known / sizeof known[0]; i++)
        if (strcmp(known[i], k) == 0) return 1;
    return 0;
}

static int get_int(const cJSON *j, const char *key, int required, int64_t def, int *out, const char *where) {
    int64_t v;
    if (required ? json_get_int(j, key, &v, where) : json_opt_int(j, key, def, &v, where)) return ERR_FAIL;
    if (v < INT_MIN || v > INT_MAX) return err_set("%s: key \"%s\" = %lld is out of range", where, key, (long long)v);
    *out = (int)v;
    return 0;
}

// A token id may be an int, null, or (eos in some configs) a list whose first entry is used.
static int get_token(const cJSON *j, const char *key, int *out, const char *where) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(j, key);
    if (cJSON_IsArray(v)) v = cJSON_GetArrayItem(v, 0);
    if (!v || cJSON_IsNull(v)) {
        *out = -1;
        return 0;
    }
    if (!cJSON_IsNumber(v) || v->valuedouble != floor(v->valuedouble) || v->valuedouble < -1 ||
        v->valuedouble > INT_MAX)
        return err_set("%s: key \"%s\" must be a token id (integer)", where, key);
    *out = (int)v->valuedouble;
    return 0;
}

// Features of the wider Qwen family that this model does not implement: refuse rather than
// silently compute something else.
static int check_unsupported(const cJSON *j, const char *where) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(j, "model_type");
    if (v && (!cJSON_IsString(v) || strcmp(v->valuestring, "qwen3") != 0))
        return err_set("%s: model_type is %s; only \"qwen3\" (dense Qwen3) is supported", where,
                       cJSON_IsString(v) ? v->valuestring : "not a string");
    if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(j, "attention_bias")))
        return err_set("%s: attention_bias is true; Qwen3 here has no attention biases", where);
    if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(j, "use_sliding_window")))
        return err_set("%s: use_sliding_window is true; sliding-window attention is not supported", where);
    v = cJSON_GetObjectItemCaseSensitive(j, "hidden_act");
    if (v && (!cJSON_IsString(v) || strcmp(v->valuestring, "silu") != 0))
        return err_set("%s: hidden_act must be \"silu\"", where);
    v = cJSON_GetObjectItemCaseSensitive(j, "rope_scaling");
    if (v && !cJSON_IsNull(v)) return err_set("%s: rope_scaling is set; only plain RoPE is supported (use null)", where);
    return 0;
}

int hf_config_from_json(hf_config *c, const cJSON *j, const char *where) {
    memset(c, 0, sizeof *c);
    if (!cJSON_IsObject(j)) return err_set("%s: config must be a JSON object", where);
    if (check_unsupported(j, where)) return ERR_FAIL;
    if (get_int(j, "hidden_size", 1, 0, &c->hidden_size, where) ||
        get_int(j, "intermediate_size", 1, 0, &c->intermediate_size, where) ||
        get_int(j, "num_hidden_layers", 1, 0, &c->num_hidden_layers, where) ||
        get_int(j, "num_attention_heads", 1, 0, &c->num_attention_heads, where) ||
        get_int(j, "vocab_size", 1, 0, &c->vocab_size, where) ||
        // defaults are transformers' Qwen3Config defaults
        get_int(j, "num_key_value_heads", 0, c->num_attention_heads, &c->num_key_value_heads, where) ||
        get_int(j, "max_position_embeddings", 0, 32768, &c->max_position_embeddings, where) ||
        get_token(j, "bos_token_id", &c->bos_token_id, where) || get_token(j, "eos_token_id", &c->eos_token_id, where))
        return ERR_FAIL;
    int64_t hd_def = c->num_attention_heads > 0 ? c->hidden_size / c->num_attention_heads : 0;
    if (get_int(j, "head_dim", 0, hd_def, &c->head_dim, where) ||
        json_opt_bool(j, "tie_word_embeddings", 0, &c->tie_word_embeddings, where) ||
        json_opt_double(j, "rope_theta", 10000.0, &c->rope_theta, where) ||
        json_opt_double(j, "rms_norm_eps", 1e-6, &c->rms_norm_eps, where))
        return ERR_FAIL;
    c->extra = cJSON_CreateObject();
    if (!c->extra) return err_set("out of memory copying %s", where);
    for (const cJSON *e = j->child; e; e = e->next) {
        // a list-valued eos is kept as given; hf_config_to_json writes it back while it still starts with eos
        if (is_known(e->string) && !(strcmp(e->string, "eos_token_id") == 0 && cJSON_IsArray(e))) continue;
        cJSON *dup = cJSON_Duplicate(e, 1);
        if (!dup || !cJSON_AddItemToObject(c->extra, e->string, dup)) {
            cJSON_Delete(dup);
            hf_config_free(c);
            return err_set("out of memory copying %s", where);
        }
    }
    return 0;
}

int hf_config_validate(const hf_config *c, const char *where) {
    const struct {
        const char *name;
        int v;
    } pos[] = {{"hidden_size", c->hidden_size},
               {"intermediate_size", c->intermediate_size},
               {"num_hidden_layers", c->num_hidden_layers},
               {"num_attention_heads", c->num_attention_heads},
               {"num_key_value_heads", c->num_key_value_heads},
               {"head_dim", c->head_dim},
               {"vocab_size", c->vocab_size},
               {"max_position_embeddings", c->max_position_embeddings}};
    for (size_t i = 0; i < sizeof pos / sizeof pos[0]; i++)
        if (pos[i].v <= 0) return err_set("%s: field \"%s\" must be positive (got %d)", where, pos[i].name, pos[i].v);
    if (c->num_attention_heads % c->num_key_value_heads)
        return err_set("%s: field \"num_attention_heads\" (%d) must be a multiple of \"num_key_value_heads\" (%d)",
                       where, c->num_attention_heads, c->num_key_value_heads);
    if (c->head_dim % 2)
        return err_set("%s: field \"head_dim\" (%d) must be even (RoPE rotates halves)", where, c->head_dim);
    if (!(c->rope_theta > 1.0) || !isfinite(c->rope_theta))
        return err_set("%s: field \"rope_theta\" must be a finite number > 1 (got %g)", where, c->rope_theta);
    if (!(c->rms_norm_eps > 0 && c->rms_norm_eps < 1))
        return err_set("%s: field \"rms_norm_eps\" must be in (0, 1) (got %g)", where, c->rms_norm_eps);
    if (c->tie_word_embeddings != 0 && c->tie_word_embeddings != 1)
        return err_set("%s: field \"tie_word_embeddings\" must be true or false", where);
    if (c->bos_token_id < -1 || c->bos_token_id >= c->vocab_size)
        return err_set("%s: field \"bos_token_id\" (%d) is not below vocab_size (%d)", where, c->bos_token_id,
                       c->vocab_size);
    if (c->eos_token_id < -1 || c->eos_token_id >= c->vocab_size)
        return err_set("%s: field \"eos_token_id\" (%d) is not below vocab_size (%d)", where, c->eos_token_id,
                       c->vocab_size);
    return 0;
}

int hf_config_load(hf_config *c, const char *path) {
    memset(c, 0, sizeof *c);
    char *p = file_is_dir(path) ? path_join(path, "config.json") : mem_strdup(path);
    if (!p) return ERR_FAIL;
    int rc = ERR_FAIL;
    size_t n = strlen(p);
    if (!file_exists(p))
        err_set("%s: no such file (expected a Qwen3 config.json or a model directory holding one)", p);
    else if (n >= 12 && !strcmp(p + n - 12, ".safetensors"))   // a common slip: the weights, not their dir
        err_set("%s is a weights file: give the model directory (the one holding config.json)", p);
    else {
        cJSON *j = json_load_file(p);
        if (j) rc = hf_config_from_json(c, j, p);
        if (!rc) rc = hf_config_validate(c, p);
        if (rc) hf_config_free(c);
        cJSON_Delete(j);
    }
    free(p);
    return rc;
}

// transformers writes config.json with sorted keys; doing the same keeps diffs against it small.
static void sort_keys(cJSON *obj) {
    cJSON *sorted = NULL;
    while (obj->child) {
        cJSON *e = obj->child;
        obj->child = e->next;
        cJSON **at = &sorted;
        while (*at && strcmp((*at)->string, e->string) < 0) at = &(*at)->next;
        e->next = *at;
        *at = e;
    }
    // cJSON keeps prev links (the head's prev points at the tail)
    cJSON *prev = NULL;
    for (cJSON *e = sorted; e; e = e->next) {
        e->prev = prev;
        prev = e;
    }
    if (sorted) sorted->prev = prev;
    obj->child = sorted;
}

cJSON *hf_config_to_json(const hf_config *c) {
    cJSON *j = cJSON_CreateObject();
    if (!j) return NULL;
    cJSON *arch = cJSON_AddArrayToObject(j, "architectures");
    cJSON_AddItemToArray(arch, cJSON_CreateString("Qwen3ForCausalLM"));
    cJSON_AddStringToObject(j, "model_type", "qwen3");
    cJSON_AddNumberToObject(j, "hidden_size", c->hidden_size);
    cJSON_AddNumberToObject(j, "intermediate_size", c->intermediate_size);
    cJSON_AddNumberToObject(j, "num_hidden_layers", c->num_hidden_layers);
    cJSON_AddNumberToObject(j, "num_attention_heads", c->num_attention_heads);
    cJSON_AddNumberToObject(j, "num_key_value_heads", c->num_key_value_heads);
    cJSON_AddNumberToObject(j, "head_dim", c->head_dim);
    cJSON_AddNumberToObject(j, "vocab_size", c->vocab_size);
    cJSON_AddNumberToObject(j, "max_position_embeddings", c->max_position_embeddings);
    cJSON_AddBoolToObject(j, "tie_word_embeddings", c->tie_word_embeddings);
    cJSON_AddNumberToObject(j, "rope_theta", c->rope_theta);
    cJSON_AddNumberToObject(j, "rms_norm_eps", c->rms_norm_eps);
    if (c->bos_token_id >= 0) cJSON_AddNumberToObject(j, "bos_token_id", c->bos_token_id);
    const cJSON *eos_list = c->extra ? cJSON_GetObjectItemCaseSensitive(c->extra, "eos_token_id") : NULL;
    int keep_list = cJSON_IsArray(eos_list) && cJSON_GetArrayItem(eos_list, 0) &&
                    cJSON_GetArrayItem(eos_list, 0)->valuedouble == c->eos_token_id;
    if (c->eos_token_id >= 0 && !keep_list) cJSON_AddNumberToObject(j, "eos_token_id", c->eos_token_id);
    for (const cJSON *e = c->extra ? c->extra->child : NULL; e; e = e->next) {
        if (cJSON_GetObjectItemCaseSensitive(j, e->string)) continue;
        if (strcmp(e->string, "eos_token_id") == 0 && !keep_list) continue;
        cJSON_AddItemToObject(j, e->string, cJSON_Duplicate(e, 1));
    }
    sort_keys(j);
    return j;
}

int hf_config_save(const hf_config *c, const char *path) {
    char *p = file_is_dir(path) ? path_join(path, "config.json") : mem_strdup(path);
    if (!p) return ERR_FAIL;
    cJSON *j = NULL;
    int rc = hf_config_validate(c, p);
    if (!rc && !(j = hf_config_to_json(c))) rc = err_set("out of memory building %s", p);
    if (!rc) rc = json_save_file(p, j);
    cJSON_Delete(j);
    free(p);
    return rc;
}

void hf_config_free(hf_config *c) {
    cJSON_Delete(c->extra);
    c->extra = NULL;
}
