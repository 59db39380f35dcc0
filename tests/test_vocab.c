// Vocabulary expansion library (src/rec/vocab.c): token order against the SID id helpers, the row
// init rule (exact mean, noise statistics, thread-count independence), and vocab_expand on a tiny
// model with a hand-written tokenizer (F32 rows bitwise, untied head, side files, refusals).
// The real-Qwen3 checks against HF tokenizers / numpy / torch are in tests/test_vocab.sh.
#include <math.h>
#include <omp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/file.h"
#include "base/json.h"
#include "base/mem.h"
#include "base/rng.h"
#include "formats/safetensors.h"
#include "model/qwen3.h"
#include "rec/sid.h"
#include "rec/vocab.h"
#include "test.h"
#include "text/tokenizer.h"

static char g_dir[256];

static void test_token_order(void) {
    char **names;
    size_t n;
    CHECK_OK(vocab_itemic_tokens(&names, &n, 3, 8192));
    CHECK(n == 3 * 8192 + 2);
    if (n != 3 * 8192 + 2) return;
    sid_vocab v = {SID_QWEN3_BASE, 3, 8192};
    // every name's position agrees with the SID helpers' ids (the rest of the pipeline)
    int bad = 0;
    for (int l = 0; l < 3; l++)
        for (int c = 0; c < 8192; c++) {
            char want[32];
            sid_token_name(want, sizeof want, l, c);
            size_t i = (size_t)(sid_token_id(&v, l, c) - SID_QWEN3_BASE);
            bad += i >= n || strcmp(names[i], want) != 0;
        }
    CHECK(bad == 0);
    CHECK(!strcmp(names[0], "<s_a_0>") && !strcmp(names[8192], "<s_b_0>") && !strcmp(names[16383], "<s_b_8191>"));
    CHECK(!strcmp(names[n - 2], "<|sid_begin|>") && sid_begin_id(&v) == SID_QWEN3_BASE + (int64_t)n - 2);
    CHECK(!strcmp(names[n - 1], "<|sid_end|>") && sid_end_id(&v) == 176246);
    free(names);
    CHECK_OK(vocab_itemic_tokens(&names, &n, 16, 2));   // 16 layers: letters a..p
    CHECK(n == 34 && !strcmp(names[31], "<s_p_1>"));
    free(names);
    CHECK_FAILS_WITH(vocab_itemic_tokens(&names, &n, 0, 10), "--layers 0");
    CHECK_FAILS_WITH(vocab_check_shape(17, 10), "must be 1..16");
    CHECK_FAILS_WITH(vocab_check_shape(3, 0), "--codebook 0");
    CHECK_FAILS_WITH(vocab_check_shape(2, 10000000), "more than the limit");
    CHECK_FAILS_WITH(vocab_check_shape(8, 1 << 20), "63-bit key");
    CHECK_OK(vocab_check_shape(4, 8192));   // the disambiguation-digit layout fits
}

static void test_init_rows(void) {
    enum { R = 300, C = 16, OLD = 200 };
    float *w = malloc(sizeof(float) * R * C), *w2 = malloc(sizeof(float) * R * C);
    rng g;
    rng_seed(&g, 5);
    for (int i = 0; i < OLD * C; i++) w[i] = (float)(rng_normal(&g) * (1 + i % C) + 0.1 * (i % C));
    memcpy(w2, w, sizeof(float) * R * C);
    CHECK_OK(vocab_init_rows(w, R, C, OLD, OLD, 0.0, 1));
    double maxerr = 0;
    for (int d = 0; d < C; d++) {
        double m = 0;
        for (int r = 0; r < OLD; r++) m += w[r * C + d];
        m /= OLD;
        for (int r = OLD; r < R; r++) maxerr = fmax(maxerr, fabs(w[r * C + d] - m));
    }
    CHECK(maxerr < 1e-6);
    CHECK(memcmp(w, w2, sizeof(float) * OLD * C) == 0);   // old rows untouched
    // noise: z = (w - mean) / (noise * sd) is standard normal; same bits with 1 or 2 threads
    float *a = malloc(sizeof(float) * 5000 * C), *b = malloc(sizeof(float) * 5000 * C);
    memcpy(a, w2, sizeof(float) * OLD * C);
    memcpy(b, w2, sizeof(float) * OLD * C);
    omp_set_num_threads(1);
    CHECK_OK(vocab_init_rows(a, 5000, C, OLD, OLD, 0.1, 9));
    omp_set_num_threads(2);
    CHECK_OK(vocab_init_rows(b, 5000, C, OLD, OLD, 0.1, 9));
    CHECK(memcmp(a, b, sizeof(float) * 5000 * C) == 0);
    double zs = 0, zz = 0;
    int nz = 0;
    for (int d = 0; d < C; d++) {
        double m = 0, v = 0;
        for (int r = 0; r < OLD; r++) m += w2[r * C + d];
        m /= OLD;
        for (int r = 0; r < OLD; r++) v += (w2[r * C + d] - m) * (w2[r * C + d] - m);
        double sd = sqrt(v / OLD);
        for (int r = OLD; r < 5000; r++, nz++) {
            double z = (a[r * C + d] - m) / (0.1 * sd);
            zs += z, zz += z * z;
        }
    }
    CHECK_NEAR(zs / nz, 0.0, 0.03);
    CHECK_NEAR(sqrt(zz / nz), 1.0, 0.03);
    free(w), free(w2), free(a), free(b);
}

static const char *TINY_TOK =
    "{\"version\":\"1.0\",\"truncation\":null,\"padding\":null,\"added_tokens\":[{\"id\":10,\"content\":"
    "\"<|endoftext|>\",\"single_word\":false,\"lstrip\":false,\"rstrip\":false,\"normalized\":false,\"special\":true}],"
    "\"normalizer\":null,\"pre_tokenizer\":{\"type\":\"ByteLevel\",\"add_prefix_space\":false,\"trim_offsets\":true,"
    "\"use_regex\":true},\"post_processor\":null,\"decoder\":{\"type\":\"ByteLevel\"},\"model\":{\"type\":\"BPE\","
    "\"dropout\":null,\"unk_token\":null,\"continuing_subword_prefix\":null,\"end_of_word_suffix\":null,"
    "\"fuse_unk\":false,\"byte_fallback\":false,\"vocab\":{\"a\":0,\"b\":1,\"c\":2,\"d\":3,\"e\":4,\"f\":5,\"g\":6,"
    "\"h\":7,\"ab\":8,\"cd\":9},\"merges\":[\"a b\",\"c d\"]}}";

static int write_text(const char *dir, const char *name, const char *text) {
    char *p = path_join(dir, name);
    int rc = p ? file_write_atomic(p, text, strlen(text)) : ERR_FAIL;
    free(p);
    return rc;
}

// a 16-row, hidden-8 model with the tiny tokenizer (11 tokens)
static int make_tiny(const char *dir, int tied, size_t shard_bytes) {
    qwen3_config c = {.dim = 8, .ffn = 16, .n_layers = 1, .n_heads = 2, .n_kv = 1, .head_dim = 4, .vocab = 16,
                      .tied = tied, .max_pos = 64, .rope_theta = 1e4f, .eps = 1e-6f};
    qwen3_model m;
    if (qwen3_model_init(&m, &c)) return ERR_FAIL;
    qwen3_init_random(&m, 3, 0.5f);
    int rc = qwen3_save_dir(&m, NULL, dir, "F32", shard_bytes);
    qwen3_model_free(&m);
    if (!rc) rc = write_text(dir, "tokenizer.json", TINY_TOK);
    if (!rc) rc = write_text(dir, "added_tokens.json", "{\"<|endoftext|>\": 10}");
    if (!rc) rc = write_text(dir, "README.md", "tiny\n");
    return rc;
}

static float *read_tensor(const char *dir, const char *name, int64_t rows, int64_t cols) {
    st_archive *a;
    if (st_open(&a, dir)) return NULL;
    float *v = malloc(sizeof(float) * rows * cols);
    int64_t shape[2] = {rows, cols};
    if (st_read_f32(a, name, v, shape, 2)) free(v), v = NULL;
    st_close(a);
    return v;
}

static void test_expand_tiny(void) {
    char base[400], out[400], out2[400];
    snprintf(base, sizeof base, "%s/tiny", g_dir);
    snprintf(out, sizeof out, "%s/tiny_x", g_dir);
    snprintf(out2, sizeof out2, "%s/tiny_xx", g_dir);
    CHECK_OK(make_tiny(base, 0, 0));
    vocab_expand_opts o;
    vocab_expand_opts_default(&o);
    o.layers = 2, o.codebook = 3, o.align = 8, o.noise = 0;
    vocab_expand_result r;
    CHECK_OK(vocab_expand(base, out, &o, &r));
    // 11 tokens + 2 x 3 + 2 = 19, aligned to 8 -> 24
    CHECK(r.old_len == 11 && r.new_len == 19 && r.old_vocab == 16 && r.new_vocab == 24 && r.untied == 1);
    tokenizer *t;
    char *tp = path_join(out, "tokenizer.json");
    CHECK_OK(tokenizer_load(&t, tp));
    free(tp);
    if (t) {
        CHECK(tokenizer_token_to_id(t, "<s_a_0>") == 11 && tokenizer_token_to_id(t, "<s_b_2>") == 16);
        CHECK(tokenizer_token_to_id(t, "<|sid_begin|>") == 17 && tokenizer_token_to_id(t, "<|sid_end|>") == 18);
        CHECK(!tokenizer_is_special(t, 17) && tokenizer_is_added(t, 17));
        tok_buf b = {0};
        const char *txt = "ab<|sid_begin|><s_a_2><s_b_0><|sid_end|>cd";
        CHECK_OK(tokenizer_encode(t, txt, strlen(txt), &b));
        int32_t want[] = {8, 17, 13, 14, 18, 9};
        CHECK(b.n == 6 && memcmp(b.ids, want, sizeof want) == 0);
        tok_buf_free(&b);
        tokenizer_free(t);
    }
    // F32 rows of the old tokens bitwise, rows 11..23 (incl. the 5 old unused rows) = mean of rows 0..10
    for (int k = 0; k < 2; k++) {
        const char *name = k ? "lm_head.weight" : "model.embed_tokens.weight";
        float *old = read_tensor(base, name, 16, 8), *nw = read_tensor(out, name, 24, 8);
        CHECK(old && nw);
        if (!old || !nw) continue;
        CHECK(memcmp(old, nw, sizeof(float) * 11 * 8) == 0);
        for (int d = 0; d < 8; d++) {
            double m = 0;
            for (int i = 0; i < 11; i++) m += old[i * 8 + d];
            m /= 11;
            for (int i = 11; i < 24; i++) CHECK_NEAR(nw[i * 8 + d], m, 1e-6);
        }
        free(old), free(nw);
    }
    // side files: added_tokens.json extended, README copied, config vocab_size
    char *p = path_join(out, "added_tokens.json");
    cJSON *j = p ? json_load_file(p) : NULL;
    free(p);
    CHECK(j && cJSON_GetArraySize(j) == 9 && cJSON_GetObjectItem(j, "<|sid_end|>") &&
          cJSON_GetObjectItem(j, "<|sid_end|>")->valueint == 18);
    cJSON_Delete(j);
    p = path_join(out, "README.md");
    CHECK(p && file_exists(p));
    free(p);
    qwen3_model m;
    CHECK_OK(qwen3_load_dir(&m, out));
    CHECK(m.cfg.vocab == 24 && !m.cfg.tied);
    qwen3_model_free(&m);
    // the hf rule keeps rows 11..15
    o.init = VOCAB_INIT_HF;
    CHECK_OK(vocab_expand(base, out2, &o, &r));
    float *old = read_tensor(base, "model.embed_tokens.weight", 16, 8), *nw = read_tensor(out2, "model.embed_tokens.weight", 24, 8);
    CHECK(old && nw && memcmp(old, nw, sizeof(float) * 16 * 8) == 0);
    free(old), free(nw);
    // refusals, nothing written
    CHECK_FAILS_WITH(vocab_expand(out, out2, &o, &r), "already exists");
    o.force = 1;
    CHECK_FAILS_WITH(vocab_expand(out, out2, &o, &r), "already has the token <s_a_0> (id 11)");
    CHECK(file_exists(out2));   // the previous good output is still there
    o.force = 0;
    char out3[400];
    snprintf(out3, sizeof out3, "%s/tiny_3", g_dir);
    o.align = 0;
    CHECK_FAILS_WITH(vocab_expand(base, out3, &o, &r), "--align 0");
    CHECK(!file_exists(out3));
}

// a sharded tied input (index + shards) expanded into one file; and into shards again
static void test_sharded_input(void) {
    char base[400], out[400], out2[400], idx[500];
    snprintf(base, sizeof base, "%s/tiny_sh", g_dir);
    snprintf(out, sizeof out, "%s/tiny_sh_x", g_dir);
    snprintf(out2, sizeof out2, "%s/tiny_sh_xx", g_dir);
    CHECK_OK(make_tiny(base, 1, 600));
    snprintf(idx, sizeof idx, "%s/model.safetensors.index.json", base);
    CHECK(file_exists(idx));
    vocab_expand_opts o;
    vocab_expand_opts_default(&o);
    o.layers = 1, o.codebook = 5, o.align = 4;
    vocab_expand_result r;
    CHECK_OK(vocab_expand(base, out, &o, &r));
    CHECK(r.shards == 1 && r.new_len == 18 && r.new_vocab == 20 && !r.untied);
    snprintf(idx, sizeof idx, "%s/model.safetensors.index.json", out);
    CHECK(!file_exists(idx));
    o.shard_bytes = 600;
    CHECK_OK(vocab_expand(base, out2, &o, &r));
    snprintf(idx, sizeof idx, "%s/model.safetensors.index.json", out2);
    CHECK(r.shards > 1 && file_exists(idx));
    float *old = read_tensor(base, "model.embed_tokens.weight", 16, 8);
    for (int k = 0; k < 2; k++) {
        float *nw = read_tensor(k ? out2 : out, "model.embed_tokens.weight", 20, 8);
        CHECK(old && nw && memcmp(old, nw, sizeof(float) * 11 * 8) == 0);
        free(nw);
    }
    free(old);
    qwen3_model m;
    CHECK_OK(qwen3_load_dir(&m, out2));
    CHECK(m.cfg.vocab == 20 && m.cfg.tied);
    qwen3_model_free(&m);
}

int main(void) {
    snprintf(g_dir, sizeof g_dir, "/tmp/test_vocab_%d", (int)getpid());
    file_remove_tree(g_dir);
    file_mkdirs(g_dir);
    RUN(test_token_order);
    RUN(test_init_rows);
    RUN(test_expand_tiny);
    RUN(test_sharded_input);
    file_remove_tree(g_dir);
    return test_summary("test_vocab");
}
