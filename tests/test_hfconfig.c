// HF config.json: the real Qwen3 0.6B/1.7B/4B/8B configs (tests/data), round trips that keep
// every unknown key, defaults, and validation messages naming the file and the field.
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/err.h"
#include "base/file.h"
#include "base/json.h"
#include "formats/hfconfig.h"
#include "test.h"

static char tmpdir[64];

static const struct {
    const char *file;
    int hidden, inter, layers, heads, tie;
} real[] = {
    {"tests/data/qwen3-0.6b.config.json", 1024, 3072, 28, 16, 1},
    {"tests/data/qwen3-1.7b.config.json", 2048, 6144, 28, 16, 1},
    {"tests/data/qwen3-4b.config.json", 2560, 9728, 36, 32, 1},
    {"tests/data/qwen3-8b.config.json", 4096, 12288, 36, 32, 0},
};

static void test_real_configs(void) {
    for (int i = 0; i < 4; i++) {
        hf_config c;
        CHECK_OK(hf_config_load(&c, real[i].file));
        CHECK(c.hidden_size == real[i].hidden && c.intermediate_size == real[i].inter);
        CHECK(c.num_hidden_layers == real[i].layers && c.num_attention_heads == real[i].heads);
        CHECK(c.num_key_value_heads == 8 && c.head_dim == 128 && c.vocab_size == 151936);
        CHECK(c.tie_word_embeddings == real[i].tie);
        CHECK(c.rope_theta == 1e6 && c.rms_norm_eps == 1e-6 && c.max_position_embeddings == 40960);
        CHECK(c.bos_token_id == 151643 && c.eos_token_id == 151645);
        const cJSON *td = cJSON_GetObjectItemCaseSensitive(c.extra, "torch_dtype");
        CHECK(cJSON_IsString(td) && strcmp(td->valuestring, "bfloat16") == 0);
        CHECK(!cJSON_GetObjectItemCaseSensitive(c.extra, "hidden_size"));   // known keys are not duplicated
        // save and reload: the same JSON document, key for key
        char *out = path_join(tmpdir, "config.json");
        CHECK_OK(hf_config_save(&c, tmpdir));   // a dir gets config.json
        cJSON *a = json_load_file(real[i].file), *b = json_load_file(out);
        CHECK(a && b && cJSON_Compare(a, b, 1));
        // sorted keys, as transformers writes them
        for (const cJSON *e = b ? b->child : NULL; e && e->next; e = e->next) CHECK(strcmp(e->string, e->next->string) < 0);
        hf_config d;
        CHECK_OK(hf_config_load(&d, out));
        CHECK(d.hidden_size == c.hidden_size && d.head_dim == c.head_dim && d.tie_word_embeddings == c.tie_word_embeddings);
        hf_config_free(&d);
        cJSON_Delete(a);
        cJSON_Delete(b);
        free(out);
        hf_config_free(&c);
    }
}

static int from_text(hf_config *c, const char *text) {
    cJSON *j = json_parse_text(text, "t.json");
    if (!j) return ERR_FAIL;
    int rc = hf_config_from_json(c, j, "t.json");
    if (!rc) rc = hf_config_validate(c, "t.json");
    hf_config_free(c);
    cJSON_Delete(j);
    return rc;
}

#define CORE "\"hidden_size\":64,\"intermediate_size\":128,\"num_hidden_layers\":2,\"vocab_size\":1000"

static void test_defaults_and_extra(void) {
    hf_config c;
    cJSON *j = json_parse_text("{" CORE ",\"num_attention_heads\":4,\"my_key\":{\"x\":[1,2]},"
                               "\"eos_token_id\":[7,9]}", "t.json");
    CHECK_OK(hf_config_from_json(&c, j, "t.json"));
    CHECK(c.head_dim == 16 && c.num_key_value_heads == 4 && c.tie_word_embeddings == 0);
    CHECK(c.rope_theta == 10000.0 && c.rms_norm_eps == 1e-6 && c.max_position_embeddings == 32768);
    CHECK(c.bos_token_id == -1 && c.eos_token_id == 7);
    cJSON *o = hf_config_to_json(&c);
    CHECK(cJSON_Compare(cJSON_GetObjectItem(o, "my_key"), cJSON_GetObjectItem(j, "my_key"), 1));
    CHECK(cJSON_Compare(cJSON_GetObjectItem(o, "eos_token_id"), cJSON_GetObjectItem(j, "eos_token_id"), 1));
    CHECK(!cJSON_GetObjectItem(o, "bos_token_id"));
    CHECK(strcmp(cJSON_GetObjectItem(o, "model_type")->valuestring, "qwen3") == 0);
    cJSON_Delete(o);
    // a changed eos replaces the list
    c.eos_token_id = 9;
    o = hf_config_to_json(&c);
    CHECK(cJSON_IsNumber(cJSON_GetObjectItem(o, "eos_token_id")) && cJSON_GetObjectItem(o, "eos_token_id")->valueint == 9);
    cJSON_Delete(o);
    hf_config_free(&c);
    cJSON_Delete(j);
    // a config built in code (no extra) saves and loads
    hf_config n = {.hidden_size = 32, .intermediate_size = 64, .num_hidden_layers = 1, .num_attention_heads = 4,
                   .num_key_value_heads = 2, .head_dim = 12, .vocab_size = 50, .max_position_embeddings = 128,
                   .tie_word_embeddings = 1, .rope_theta = 1e6, .rms_norm_eps = 1e-6, .bos_token_id = -1,
                   .eos_token_id = 3};
    char *p = path_join(tmpdir, "n.json");
    CHECK_OK(hf_config_save(&n, p));
    hf_config m;
    CHECK_OK(hf_config_load(&m, p));
    CHECK(m.head_dim == 12 && m.tie_word_embeddings == 1 && m.eos_token_id == 3 && m.bos_token_id == -1);
    hf_config_free(&m);
    free(p);
}

static void test_errors(void) {
    hf_config c;
    CHECK_FAILS_WITH(from_text(&c, "{\"intermediate_size\":128,\"num_hidden_layers\":2,\"vocab_size\":1000,"
                                   "\"num_attention_heads\":4}"),
                     "t.json: missing key \"hidden_size\"");
    CHECK_FAILS_WITH(from_text(&c, "{" CORE ",\"num_attention_heads\":\"4\"}"),
                     "t.json: key \"num_attention_heads\" must be an integer");
    CHECK_FAILS_WITH(from_text(&c, "{" CORE ",\"num_attention_heads\":4.5}"), "\"num_attention_heads\" must be an integer");
    CHECK_FAILS_WITH(from_text(&c, "{" CORE ",\"num_attention_heads\":6,\"num_key_value_heads\":4}"),
                     "t.json: field \"num_attention_heads\" (6) must be a multiple of \"num_key_value_heads\" (4)");
    CHECK_FAILS_WITH(from_text(&c, "{" CORE ",\"num_attention_heads\":0}"), "field \"num_attention_heads\" must be positive");
    CHECK_FAILS_WITH(from_text(&c, "{" CORE ",\"num_attention_heads\":4,\"head_dim\":15}"), "\"head_dim\" (15) must be even");
    CHECK_FAILS_WITH(from_text(&c, "{" CORE ",\"num_attention_heads\":4,\"rms_norm_eps\":0}"), "\"rms_norm_eps\"");
    CHECK_FAILS_WITH(from_text(&c, "{" CORE ",\"num_attention_heads\":4,\"rope_theta\":\"big\"}"),
                     "key \"rope_theta\" must be a number");
    CHECK_FAILS_WITH(from_text(&c, "{" CORE ",\"num_attention_heads\":4,\"tie_word_embeddings\":\"yes\"}"),
                     "\"tie_word_embeddings\" must be true/false");
    CHECK_FAILS_WITH(from_text(&c, "{" CORE ",\"num_attention_heads\":4,\"eos_token_id\":1000}"),
                     "field \"eos_token_id\" (1000) is not below vocab_size (1000)");
    CHECK_FAILS_WITH(from_text(&c, "{" CORE ",\"num_attention_heads\":4,\"max_position_embeddings\":99999999999}"),
                     "out of range");
    CHECK_FAILS_WITH(from_text(&c, "{" CORE ",\"num_attention_heads\":4,\"model_type\":\"llama\"}"),
                     "model_type is llama");
    CHECK_FAILS_WITH(from_text(&c, "{" CORE ",\"num_attention_heads\":4,\"attention_bias\":true}"), "attention_bias");
    CHECK_FAILS_WITH(from_text(&c, "{" CORE ",\"num_attention_heads\":4,\"rope_scaling\":{\"type\":\"yarn\"}}"),
                     "rope_scaling");
    CHECK_FAILS_WITH(from_text(&c, "[1]"), "t.json: config must be a JSON object");
    // files: broken JSON, missing file, dir without config.json
    char *p = path_join(tmpdir, "broken.json");
    file_write_atomic(p, "{\"hidden_size\": 12,", 19);
    CHECK_FAILS_WITH(hf_config_load(&c, p), "broken.json: invalid JSON");
    free(p);
    char *d = path_join(tmpdir, "emptydir");
    file_mkdirs(d);
    CHECK_FAILS_WITH(hf_config_load(&c, d), "emptydir/config.json: no such file");
    free(d);
    // save validates too, and leaves nothing behind on failure
    hf_config bad = {.hidden_size = 32, .intermediate_size = 64, .num_hidden_layers = 1, .num_attention_heads = 3,
                     .num_key_value_heads = 2, .head_dim = 8, .vocab_size = 50, .max_position_embeddings = 8,
                     .rope_theta = 1e4, .rms_norm_eps = 1e-6, .bos_token_id = -1, .eos_token_id = -1};
    p = path_join(tmpdir, "bad.json");
    CHECK_FAILS_WITH(hf_config_save(&bad, p), "bad.json: field \"num_attention_heads\" (3)");
    CHECK(!file_exists(p));
    free(p);
}

int main(void) {
    snprintf(tmpdir, sizeof tmpdir, "/tmp/test_hfc.XXXXXX");
    if (!mkdtemp(tmpdir)) return 1;
    RUN(test_real_configs);
    RUN(test_defaults_and_extra);
    RUN(test_errors);
    file_remove_tree(tmpdir);
    return test_summary("test_hfconfig");
}
