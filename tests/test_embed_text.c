// Model-free item embeddings: the word splitter and co-occurrence counts on hand-checked cases;
// TF-IDF against scikit-learn's TfidfVectorizer and the randomized SVD against numpy's dense SVD
// (tests/ref/embed_ref.py, which also writes the fixtures); PPMI + SVD against numpy; the raw
// reader's split rule; item_embed_file end to end on JSONL tables, with its errors.
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/file.h"
#include "base/mem.h"
#include "data/item_cooc.h"
#include "data/item_embed.h"
#include "data/raw.h"
#include "data/table.h"
#include "rec/embed_text.h"
#include "rec/svd.h"
#include "test.h"

static char g_dir[256];
static const char *tpath(const char *name) {
    static char buf[4][512];
    static int k;
    k = (k + 1) % 4;
    snprintf(buf[k], sizeof buf[k], "%s/%s", g_dir, name);
    return buf[k];
}

typedef struct {
    char out[1024];
    size_t n;
    int count;
} words_acc;

static int acc_word(void *ctx, const char *w, size_t n) {
    words_acc *a = ctx;
    CHECK(strlen(w) == n);
    a->n += (size_t)snprintf(a->out + a->n, sizeof a->out - a->n, "%s%s", a->count++ ? " " : "", w);
    return 0;
}

static const char *split(const char *s, size_t len) {
    static words_acc a;
    memset(&a, 0, sizeof a);
    CHECK_OK(text_words(s, len, acc_word, &a));
    return a.out;
}

static void test_words(void) {
    CHECK(!strcmp(split("Toy Story (1995) Adventure|Animation|Children's", 48),
                  "toy story 1995 adventure animation children s"));
    CHECK(!strcmp(split("ÉCOLE Café naïve_x2", strlen("ÉCOLE Café naïve_x2")), "école café naïve x2"));
    CHECK(!strcmp(split("小猫ABC旅行 ok", strlen("小猫ABC旅行 ok")), "小 猫 abc 旅 行 ok"));
    CHECK(!strcmp(split("ab\xff" "cd", 5), "ab cd"));            // an invalid byte separates
    CHECK(!strcmp(split("abc def", 5), "abc d"));                // len, not the NUL, ends the text
    CHECK(!strcmp(split(" --- ", 5), ""));
    char longw[600];
    memset(longw, 'x', sizeof longw - 1);
    longw[sizeof longw - 1] = 0;
    CHECK(strlen(split(longw, strlen(longw))) == TEXT_WORD_MAX);
}

static void test_cooc_hand(void) {
    cooc_counts c = {0};
    int32_t seq[] = {0, 1, 2, 1, -1, 3};
    CHECK_OK(cooc_add_sequence(&c, seq, 6, 1));   // {0,1} {1,2} {2,1}; -1 breaks 1-3
    CHECK(cooc_pairs(&c) == 2);
    csr_mat p;
    CHECK_OK(cooc_ppmi(&p, &c, 4, 1.0, 1.0));
    // counts {0,1}: 1, {1,2}: 2; row sums 1, 3, 2, 0; total 6
    // PMI(0,1) = ln(1 * 6 / (1 * 3)) = ln 2; PMI(1,2) = ln(2 * 6 / (3 * 2)) = ln 2
    CHECK(p.rows == 4 && csr_nnz(&p) == 4 && p.ptr[4] == 4 && p.ptr[3] == 4);
    CHECK(p.idx[0] == 1 && p.idx[1] == 0 && p.idx[2] == 2 && p.idx[3] == 1);
    for (int e = 0; e < 4; e++) CHECK_NEAR(p.val[e], log(2.0), 1e-6);
    csr_free(&p);
    CHECK_OK(cooc_ppmi(&p, &c, 4, 2.0, 1.0));   // shifted by ln 2: nothing stays positive
    CHECK(csr_nnz(&p) == 0);
    csr_free(&p);
    CHECK_FAILS_WITH(cooc_ppmi(&p, &c, 2, 1.0, 1.0), "2 rows for 3 items");
    CHECK_FAILS_WITH(cooc_ppmi(&p, &c, 4, 0.5, 1.0), "--shift 0.5: must be at least 1");
    cooc_free(&c);
    CHECK_OK(cooc_add_sequence(&c, seq, 4, 0));   // every pair: {0,1} x2, {0,2}, {1,2} x2 (1-1 skipped)
    CHECK(cooc_pairs(&c) == 3);
    cooc_free(&c);
}

static void test_svd_diagonal(void) {
    // 6 x 5, one value per row: singular values are the magnitudes, vectors the unit rows
    int64_t ptr[7] = {0, 1, 2, 3, 3, 4, 5};   // row 3 is empty
    int32_t idx[5] = {0, 1, 2, 3, 4};
    float val[5] = {1, -5, 3, 4, 2};
    csr_mat a = {6, 5, ptr, idx, val};
    float u[6 * 3], s[3];
    CHECK_OK(svd_truncated(u, s, &a, 3, NULL));
    CHECK_NEAR(s[0], 5, 1e-5);
    CHECK_NEAR(s[1], 4, 1e-5);
    CHECK_NEAR(s[2], 3, 1e-5);
    CHECK_NEAR(fabs(u[1 * 3 + 0]), 1, 1e-5);   // row 1 carries the largest value
    CHECK_NEAR(fabs(u[4 * 3 + 1]), 1, 1e-5);
    CHECK_NEAR(fabs(u[2 * 3 + 2]), 1, 1e-5);
    CHECK_FAILS_WITH(svd_truncated(u, s, &a, 6, NULL), "rank 6: must be in 1..5");
    float x[6 * 4];
    CHECK_OK(svd_random_project(x, &a, 4, 1));
    for (int j = 0; j < 4; j++) CHECK(x[3 * 4 + j] == 0);   // the empty row stays empty
    csr_mat t;
    CHECK_OK(csr_transpose(&t, &a));
    CHECK(t.rows == 5 && t.cols == 6 && csr_nnz(&t) == 5 && t.idx[1] == 1 && t.val[3] == 4);
    csr_free(&t);
}

static void test_tfidf_dim(void) {
    const char *texts[3] = {"a a", "A", "b"};
    float x[3 * 2];
    embed_text_opts o;
    embed_text_opts_default(&o);
    o.dim = 3;
    CHECK_FAILS_WITH(embed_text_tfidf(x, texts, NULL, 3, &o, NULL), "and of distinct words, 2");
    o.dim = 2;
    embed_text_stats st;
    CHECK_OK(embed_text_tfidf(x, texts, NULL, 3, &o, &st));
    CHECK(st.terms == 2 && st.nnz == 3 && st.empty == 0);
    CHECK_NEAR(st.explained, 1, 1e-5);   // rank 2: nothing lost
    o.projection = TEXT_PROJ_RANDOM;
    CHECK_OK(embed_text_tfidf(x, texts, NULL, 3, &o, &st));
    CHECK(x[0] == x[2] && x[1] == x[3]);   // "a a" and "A" have the same unit TF-IDF row
}

static void test_normalize(void) {
    float x[3 * 4] = {3, 4, 0, 0, 0, 0, 0, 0, 1e-9f, 0, 0, 0};
    int64_t pids[3] = {10, 11, 12};
    CHECK(embed_rows_normalize(x, 3, 4, pids, 5) == 2);   // 1e-9 is noise next to 5
    CHECK_NEAR(x[0], 0.6, 1e-6);
    float again[4] = {0, 0, 0, 0};
    int64_t p11 = 11;
    CHECK(embed_rows_normalize(again, 1, 4, &p11, 5) == 1);
    double ss = 0;
    for (int j = 0; j < 4; j++) {
        ss += x[4 + j] * x[4 + j];
        CHECK(x[4 + j] == again[j]);   // seeded by pid alone, wherever the row is
    }
    CHECK_NEAR(ss, 1, 1e-6);
    CHECK(memcmp(x + 4, x + 8, 4 * sizeof *x) != 0);
    float z[4] = {0};
    CHECK(embed_rows_normalize(z, 1, 4, NULL, 5) == 1 && z[0] == 0);
}

// ---- against the Python references -------------------------------------------------------------------

static int run_ref(const char *args, char *line, size_t cap) {
    char cmd[1024];
    snprintf(cmd, sizeof cmd, "/usr/bin/python3 tests/ref/embed_ref.py %s", args);
    FILE *p = popen(cmd, "r");
    if (!p) return -1;
    line[0] = 0;
    if (!fgets(line, (int)cap, p)) line[0] = 0;
    int rc = pclose(p);
    printf("  %s", line);
    return rc;
}

static double field(const char *line, const char *key) {
    const char *p = strstr(line, key);
    return p ? atof(p + strlen(key)) : NAN;
}

static void write_svd(const float *u, const float *s, int64_t n, int k) {
    FILE *f = fopen(tpath("u.txt"), "w"), *g = fopen(tpath("s.txt"), "w");
    for (int64_t i = 0; i < n; i++)
        for (int j = 0; j < k; j++) fprintf(f, "%.9g%c", u[i * k + j], j + 1 < k ? ' ' : '\n');
    for (int j = 0; j < k; j++) fprintf(g, "%.9g\n", s[j]);
    fclose(f), fclose(g);
}

static void check_svd_figures(const char *line) {
    CHECK_MSG(field(line, "sv_max_rel=") < 1e-3, "%s", line);
    CHECK_MSG(field(line, "min_cos=") > 0.999, "%s", line);
}

static int read_captions_tsv(const char *path, char ***texts, int64_t *n) {
    char *data;
    size_t len;
    if (file_read_all(path, &data, &len)) return ERR_FAIL;
    int64_t cap = 1024, k = 0;
    char **t = mem_alloc((size_t)cap * sizeof *t);
    for (char *line = strtok(data, "\n"); line; line = strtok(NULL, "\n")) {
        char *tab = strchr(line, '\t');
        t[k++] = mem_strdup(tab ? tab + 1 : "");
    }
    free(data);
    *texts = t, *n = k;
    return 0;
}

static void tfidf_case(tfidf_model *m, int64_t n, int k) {
    float *u = mem_alloc((size_t)n * k * sizeof *u), s[64];
    svd_opts o;
    svd_opts_default(&o);
    CHECK_OK(svd_truncated(u, s, &m->x, k, &o));
    write_svd(u, s, n, k);
    char args[600], line[1024];
    snprintf(args, sizeof args, "tfidf %s", g_dir);
    CHECK(run_ref(args, line, sizeof line) == 0);
    CHECK_MSG(field(line, "tfidf_max_abs=") < 1e-6 && field(line, "idf_max_abs=") < 1e-5, "%s", line);
    CHECK_MSG(field(line, "terms_ref=") == m->n_terms && field(line, "unknown_terms=") == 0, "%s", line);
    check_svd_figures(line);
    free(u);
}

static void test_tfidf_vs_sklearn(void) {
    char args[600];
    snprintf(args, sizeof args, "captions %s 300 7", tpath("captions.tsv"));
    char line[1024];
    CHECK(run_ref(args, line, sizeof line) == 0);
    char **texts = NULL;
    int64_t n = 0;
    CHECK_OK(read_captions_tsv(tpath("captions.tsv"), &texts, &n));
    CHECK(n == 300);
    tfidf_model m;
    CHECK_OK(tfidf_build(&m, (const char *const *)texts, NULL, n));
    CHECK(m.empty == 2);   // the empty caption and the one of punctuation
    FILE *f = fopen(tpath("tfidf.tsv"), "w"), *g = fopen(tpath("idf.tsv"), "w");
    for (int64_t i = 0; i < n; i++)
        for (int64_t e = m.x.ptr[i]; e < m.x.ptr[i + 1]; e++)
            fprintf(f, "%lld\t%s\t%.9g\n", (long long)i, m.terms[m.x.idx[e]], m.x.val[e]);
    for (int64_t t = 0; t < m.n_terms; t++) fprintf(g, "%s\t%.9g\n", m.terms[t], m.idf[t]);
    fclose(f), fclose(g);
    tfidf_case(&m, n, 8);    // the 8 planted topics: a clear gap after 8
    tfidf_case(&m, n, 30);   // inside the slowly decaying tail
    tfidf_free(&m);
    for (int64_t i = 0; i < n; i++) free(texts[i]);
    free(texts);
}

static void ppmi_case(int window, double shift, double cds, int k) {
    enum { N = 200 };
    char *data;
    size_t len;
    CHECK_OK(file_read_all(tpath("sequences.txt"), &data, &len));
    cooc_counts c = {0};
    int32_t seq[64];
    for (char *line = strtok(data, "\n"); line; line = strtok(NULL, "\n")) {
        int n = 0;
        char *save;
        for (char *t = strtok_r(line, " ", &save); t && n < 64; t = strtok_r(NULL, " ", &save)) seq[n++] = atoi(t);
        CHECK_OK(cooc_add_sequence(&c, seq, n, window));
    }
    free(data);
    csr_mat p;
    CHECK_OK(cooc_ppmi(&p, &c, N, shift, cds));
    FILE *f = fopen(tpath("ppmi.tsv"), "w");
    for (int64_t i = 0; i < N; i++)
        for (int64_t e = p.ptr[i]; e < p.ptr[i + 1]; e++) fprintf(f, "%lld %d %.9g\n", (long long)i, p.idx[e], p.val[e]);
    fclose(f);
    CHECK(p.ptr[N] == p.ptr[N - 1]);   // the item that never occurs has an empty row
    float *u = mem_alloc((size_t)N * k * sizeof *u), s[32];
    CHECK_OK(svd_truncated(u, s, &p, k, NULL));
    write_svd(u, s, N, k);
    char args[700], line[1024];
    snprintf(args, sizeof args, "ppmi %s %d %d %g %g", g_dir, N, window, shift, cds);
    CHECK(run_ref(args, line, sizeof line) == 0);
    CHECK_MSG(field(line, "ppmi_max_abs=") < 1e-5, "%s", line);
    CHECK_MSG(field(line, "ppmi_nnz_ref=") == field(line, "ppmi_nnz_ours="), "%s", line);
    check_svd_figures(line);
    free(u);
    csr_free(&p);
    cooc_free(&c);
}

static void test_ppmi_vs_numpy(void) {
    char args[600], line[1024];
    snprintf(args, sizeof args, "sequences %s 200 400 3", tpath("sequences.txt"));
    CHECK(run_ref(args, line, sizeof line) == 0);
    ppmi_case(0, 1.0, 1.0, 10);
    ppmi_case(3, 2.0, 0.75, 16);   // sigma_16 / sigma_17 = 1.002: slow convergence
}

// ---- the raw table and the file driver ------------------------------------------------------------------

static void push_videos(recif_user *u, int target, const int64_t *pids, int n) {
    for (int i = 0; i < n; i++) {
        i64vec_push(target ? &u->target_video : &u->hist_video, pids[i]);
        for (int k = 0; k < RAW_NLABELS; k++) i64vec_push(target ? &u->target_flag[k] : &u->hist_flag[k], 0);
    }
}

// users: split 0 with videos 1 2 | 3 and ad 7; split 0 with 2 3 | 4; split 1 with 1 | 9 (9 only there)
static void write_raw(const char *path) {
    dtab_writer *w;
    CHECK_OK(dtab_writer_open(&w, path, RAW_COLS, RAW_NCOLS));
    int64_t h[3][2] = {{1, 2}, {2, 3}, {1, 0}}, t[3] = {3, 4, 9};
    for (int i = 0; i < 3; i++) {
        recif_user u = {0};
        u.uid = i, u.split = i == 2;
        push_videos(&u, 0, h[i], i == 2 ? 1 : 2);
        push_videos(&u, 1, &t[i], 1);
        if (i == 0) i64vec_push(&u.hist_ad, 7);
        cJSON *row = recif_user_to_row(&u);
        CHECK_OK(dtab_writer_row(w, row));
        cJSON_Delete(row);
        recif_user_free(&u);
    }
    CHECK_OK(dtab_writer_close(w));
}

static void test_raw_split_rule(void) {
    write_raw(tpath("raw.jsonl"));
    cooc_counts c = {0};
    pid_index ix = {0};
    cooc_read_stats st;
    CHECK_OK(cooc_read_raw(&c, &ix, 1, tpath("raw.jsonl"), 0, &st));
    CHECK(st.users == 3 && st.train_users == 2 && st.interactions == 7 && st.unknown == 0);
    CHECK(pid_index_get(&ix, 9) < 0);   // the held-out user's target never enters
    CHECK(ix.n == 5);                   // 1 2 3 7 4
    // whole users: {1,2,3,7} -> 6 pairs, {2,3,4} -> 3 pairs, {2,3} shared
    CHECK(cooc_pairs(&c) == 8);
    cooc_free(&c);
    // window 1 inside one domain: 1-2 2-3 | 2-3 3-4; the ad pairs with nothing
    CHECK_OK(cooc_read_raw(&c, &ix, 0, tpath("raw.jsonl"), 1, &st));
    CHECK(cooc_pairs(&c) == 3);
    cooc_free(&c);
    pid_index_free(&ix);
    pid_index_put(&ix, 1, &(int64_t){0}, &(int){0});   // a fixed item list: others are unknown
    CHECK_OK(cooc_read_raw(&c, &ix, 0, tpath("raw.jsonl"), 0, &st));
    CHECK(st.interactions == 1 && st.unknown == 6 && cooc_pairs(&c) == 0);
    cooc_free(&c);
    pid_index_free(&ix);
    CHECK_FAILS_WITH(cooc_read_raw(&c, &ix, 1, tpath("raw.jsonl"), -1, &st), "--window -1");
}

static void write_captions(const char *path, int dup) {
    dtab_writer *w;
    CHECK_OK(dtab_writer_open(&w, path, PID2CAPTION_COLS, 2));
    const char *caps[] = {"cat video", "cat and dog", "dog park", "cooking pasta", "pasta recipe", "", "ads for cats",
                          "anything"};
    int64_t pids[] = {1, 2, 3, 4, 5, 6, 7, 9};
    for (int i = 0; i < 8; i++) {
        cJSON *r = cJSON_CreateObject();
        cJSON_AddNumberToObject(r, "pid", (double)(dup && i == 7 ? 1 : pids[i]));
        cJSON_AddStringToObject(r, "dense_caption", caps[i]);
        CHECK_OK(dtab_writer_row(w, r));
        cJSON_Delete(r);
    }
    CHECK_OK(dtab_writer_close(w));
}

static int read_embeddings(const char *path, int64_t *pids, float *x, int d) {
    dtab_reader *r;
    if (dtab_reader_open(&r, path)) return -1;
    cJSON *row;
    int n = 0;
    while (dtab_reader_next(r, &row) > 0) {
        pids[n] = (int64_t)cJSON_GetObjectItem(row, "pid")->valuedouble;
        const cJSON *e = cJSON_GetObjectItem(row, "embedding");
        CHECK(cJSON_GetArraySize(e) == d);
        for (int j = 0; j < d && j < cJSON_GetArraySize(e); j++) x[n * d + j] = (float)cJSON_GetArrayItem(e, j)->valuedouble;
        cJSON_Delete(row);
        n++;
    }
    dtab_reader_close(r);
    return n;
}

static void check_unit_rows(const float *x, int n, int d) {
    for (int i = 0; i < n; i++) {
        double ss = 0;
        for (int j = 0; j < d; j++) ss += x[i * d + j] * x[i * d + j];
        CHECK_NEAR(ss, 1, 1e-5);
    }
}

static void test_item_embed_file(void) {
    char cap[512], raw[512];
    snprintf(cap, sizeof cap, "%s", tpath("cap.jsonl"));
    snprintf(raw, sizeof raw, "%s", tpath("raw.jsonl"));
    write_captions(cap, 0);
    item_embed_opts o;
    item_embed_opts_default(&o);
    o.captions = cap, o.raw = raw, o.text.dim = 3;
    item_embed_stats st;
    int64_t pids[16];
    float x[16 * 6];
    CHECK_OK(item_embed_file(tpath("t.jsonl"), &o, &st));
    CHECK(st.items == 8 && st.dim == 3 && st.text_fallback == 1 && st.text.terms == 12);
    CHECK(read_embeddings(tpath("t.jsonl"), pids, x, 3) == 8 && pids[0] == 1 && pids[7] == 9);
    check_unit_rows(x, 8, 3);
    o.method = ITEM_EMBED_COOC;
    CHECK_OK(item_embed_file(tpath("c.jsonl"), &o, &st));
    // 9 only in a held-out row, 5 and 6 nowhere: cold
    CHECK(st.items == 8 && st.cold == 3 && st.cooc.train_users == 2 && st.pairs == 8);
    CHECK(read_embeddings(tpath("c.jsonl"), pids, x, 3) == 8);
    check_unit_rows(x, 8, 3);
    o.method = ITEM_EMBED_MIX, o.alpha = 0.25;
    CHECK_OK(item_embed_file(tpath("m.jsonl"), &o, &st));
    CHECK(st.dim == 6 && st.cold == 3);
    CHECK(read_embeddings(tpath("m.jsonl"), pids, x, 6) == 8);
    check_unit_rows(x, 8, 6);
    double text2 = 0;
    for (int j = 0; j < 3; j++) text2 += x[0 * 6 + j] * x[0 * 6 + j];
    CHECK_NEAR(text2, 0.25, 1e-5);                      // a warm item: alpha of the norm is text
    for (int j = 3; j < 6; j++) CHECK(x[7 * 6 + j] == 0);   // a cold one: text only
    // cooc without captions: the items are those of the training rows
    o.method = ITEM_EMBED_COOC, o.captions = NULL;
    CHECK_OK(item_embed_file(tpath("c2.jsonl"), &o, &st));
    CHECK(st.items == 5 && st.cold == 0);
    // errors, and no output left behind
    o.text.dim = 6;
    CHECK_FAILS_WITH(item_embed_file(tpath("x.jsonl"), &o, &st), "--dim 6: must be at most the number of items (5)");
    o.method = ITEM_EMBED_TFIDF, o.captions = cap, o.text.dim = 13;
    CHECK_FAILS_WITH(item_embed_file(tpath("x.jsonl"), &o, &st), "--dim 13: must be at most the number of items (8)");
    o.text.dim = 2, o.text_col = "caption";
    CHECK_FAILS_WITH(item_embed_file(tpath("x.jsonl"), &o, &st),
                     "expected columns: missing: caption (choose the columns with --id-column and --text-column)");
    o.text_col = "dense_caption";
    char other[512];
    snprintf(other, sizeof other, "%s", tpath("dup.jsonl"));
    write_captions(other, 1);
    o.captions = other;
    CHECK_FAILS_WITH(item_embed_file(tpath("x.jsonl"), &o, &st), "row 7: pid 1 appears twice");
    snprintf(other, sizeof other, "%s", tpath("empty.parquet"));
    dtab_writer *w;
    CHECK_OK(dtab_writer_open(&w, other, PID2CAPTION_COLS, 2));
    CHECK_OK(dtab_writer_close(w));
    CHECK_FAILS_WITH(item_embed_file(tpath("x.jsonl"), &o, &st), "empty.parquet: no rows");
    o.method = ITEM_EMBED_MIX, o.raw = NULL;
    CHECK_FAILS_WITH(item_embed_file(tpath("x.jsonl"), &o, &st), "needs the interactions (--raw");
    CHECK(!file_exists(tpath("x.jsonl")));
}

int main(void) {
    snprintf(g_dir, sizeof g_dir, "/tmp/onerec_test_embed_text_%d", (int)getpid());
    file_remove_tree(g_dir);
    file_mkdirs(g_dir);
    RUN(test_words);
    RUN(test_cooc_hand);
    RUN(test_svd_diagonal);
    RUN(test_tfidf_dim);
    RUN(test_normalize);
    RUN(test_tfidf_vs_sklearn);
    RUN(test_ppmi_vs_numpy);
    RUN(test_raw_split_rule);
    RUN(test_item_embed_file);
    file_remove_tree(g_dir);
    return test_summary("test_embed_text");
}
