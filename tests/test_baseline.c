// Baselines: sequence files, top-k, popularity and item-kNN on hand cases, SASRec gradients against
// finite differences, and on a Markov world with known structure: item-kNN and SASRec must beat
// popularity and stay below the oracle.
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/file.h"
#include "base/log.h"
#include "base/rng.h"
#include "eval/baseline.h"
#include "eval/harness.h"
#include "eval/sasrec.h"
#include "eval/seqdata.h"
#include "eval/topk.h"
#include "test.h"

static void test_seq_files(void) {
    const char *p = "/tmp/onerec_test_seq.txt";
    const char *text = "# comment\n3 1 4 1 5\n\n9 2\t6\n7\n";
    CHECK_OK(file_write_atomic(p, text, strlen(text)));
    seq_set s;
    CHECK_OK(seq_file_read(p, &s));
    CHECK(s.nseq == 3 && s.nitems == 10);
    CHECK(seq_len(&s, 0) == 5 && seq_at(&s, 0)[4] == 5 && seq_len(&s, 1) == 3 && seq_at(&s, 2)[0] == 7);
    CHECK_OK(seq_file_write(p, &s));
    seq_set s2;
    CHECK_OK(seq_file_read(p, &s2));
    CHECK(s2.nseq == 3 && !memcmp(s.items, s2.items, 9 * sizeof(int32_t)));
    seq_set_free(&s);
    seq_set_free(&s2);
    const char *ev = "1 2 3 | 4 5\n | 6\n";
    CHECK_OK(file_write_atomic(p, ev, strlen(ev)));
    eval_set e;
    CHECK_OK(eval_file_read(p, &e));
    CHECK(e.hist.nseq == 2 && e.target.nseq == 2 && seq_len(&e.hist, 1) == 0 && seq_at(&e.target, 1)[0] == 6);
    eval_set_free(&e);
    const char *bad = "1 2 x\n";
    CHECK_OK(file_write_atomic(p, bad, strlen(bad)));
    CHECK_FAILS_WITH(seq_file_read(p, &s), ":1: expected non-negative item ids");
    const char *nobar = "1 2\n";
    CHECK_OK(file_write_atomic(p, nobar, strlen(nobar)));
    CHECK_FAILS_WITH(eval_file_read(p, &e), "missing \"|\"");
    unlink(p);
}

static int cmp_desc(const void *a, const void *b) {
    const float *x = a, *y = b;
    return (*x < *y) - (*x > *y);
}

static void test_topk(void) {
    rng r;
    rng_seed(&r, 3);
    enum { N = 1000 };
    float s[N], sorted[N], scratch[50];
    int32_t out[50];
    for (int i = 0; i < N; i++) s[i] = (float)rng_below(&r, 300);   // ties
    s[17] = -INFINITY;
    memcpy(sorted, s, sizeof s);
    qsort(sorted, N, sizeof *sorted, cmp_desc);
    int n = topk_f32(out, scratch, s, N, 50);
    CHECK(n == 50);
    int ok = 1;
    for (int i = 0; i < n; i++) ok &= s[out[i]] == sorted[i];
    for (int i = 1; i < n; i++) ok &= s[out[i - 1]] > s[out[i]] || out[i - 1] < out[i];   // ties: smaller id first
    CHECK(ok);
    float few[3] = {1, -INFINITY, 2};
    CHECK(topk_f32(out, scratch, few, 3, 5) == 2 && out[0] == 2 && out[1] == 0);
}

static void make_set(seq_set *s, const int32_t *const *seqs, const int *lens, int n) {
    seq_set_init(s);
    for (int i = 0; i < n; i++) seq_set_append(s, seqs[i], lens[i]);
}

static void test_popularity_and_knn_hand(void) {
    int32_t a[] = {0, 1, 2}, b[] = {0, 1, 3}, c[] = {1, 2}, d[] = {4, 4, 4, 4};
    const int32_t *seqs[] = {a, b, c, d};
    int lens[] = {3, 3, 2, 4};
    seq_set s;
    make_set(&s, seqs, lens, 4);
    baseline_config cfg;
    baseline_config_default(&cfg, BASELINE_POPULARITY);
    baseline *pop;
    CHECK_OK(baseline_fit(&pop, &cfg, &s));
    int32_t out[5];
    // counts: 0:2 1:3 2:2 3:1 4:4
    CHECK(baseline_rank(pop, NULL, 0, 5, out) == 5);
    CHECK(out[0] == 4 && out[1] == 1 && out[2] == 0 && out[3] == 2 && out[4] == 3);
    baseline_free(pop);
    cfg.exclude_history = 1;
    CHECK_OK(baseline_fit(&pop, &cfg, &s));
    int32_t h[] = {4, 1};
    CHECK(baseline_rank(pop, h, 2, 5, out) == 3 && out[0] == 0 && out[1] == 2 && out[2] == 3);
    baseline_free(pop);

    baseline_config_default(&cfg, BASELINE_ITEMKNN);
    cfg.knn_window = 2;
    baseline *knn;
    CHECK_OK(baseline_fit(&knn, &cfg, &s));
    // after 0: 1 (2 times at distance 1: C=2, sim 2/sqrt(2*3)), 2 and 3 (distance 2: C=0.5 each,
    // sim 0.5/sqrt(2*2) and 0.5/sqrt(2*1)); so 1, 3, 2, then popularity fills 4, 0
    int32_t h0[] = {0};
    CHECK(baseline_rank(knn, h0, 1, 5, out) == 5);
    CHECK(out[0] == 1 && out[1] == 3 && out[2] == 2 && out[3] == 4 && out[4] == 0);
    int32_t cand[] = {1, 3, 2, 4, 99};
    float sc[5];
    CHECK_OK(baseline_score_items(knn, h0, 1, cand, 5, sc));
    CHECK_NEAR(sc[0], 2 / sqrt(6.0), 1e-6);
    CHECK_NEAR(sc[1], 0.5 / sqrt(2.0), 1e-6);
    CHECK_NEAR(sc[2], 0.25, 1e-6);
    CHECK(sc[3] == 0 && sc[4] == -INFINITY);
    // directed: nothing follows 3, so only popularity
    int32_t h3[] = {3};
    CHECK(baseline_rank(knn, h3, 1, 2, out) == 2 && out[0] == 4 && out[1] == 1);
    // unknown ids in a history are ignored
    int32_t hx[] = {0, 99};
    CHECK(baseline_rank(knn, hx, 2, 1, out) == 1 && out[0] == 1);

    // save / load keeps the ranking
    const char *p = "/tmp/onerec_test_knn.bin";
    CHECK_OK(baseline_save(knn, p));
    baseline *k2;
    CHECK_OK(baseline_load(&k2, p));
    CHECK(baseline_rank(knn, h0, 1, 5, out) == 5);
    int32_t out2[5];
    CHECK(baseline_rank(k2, h0, 1, 5, out2) == 5 && !memcmp(out, out2, sizeof out));
    baseline_free(k2);
    const char *junk = "not a model";
    CHECK_OK(file_write_atomic(p, junk, strlen(junk)));
    CHECK_FAILS_WITH(baseline_load(&k2, p), "not a baseline file");
    unlink(p);
    baseline_free(knn);
    baseline_kind kind;
    CHECK_FAILS_WITH(baseline_kind_parse("bpr", &kind), "unknown baseline");
    seq_set_free(&s);
}

// Central finite differences on random parameters of a tiny model with padded windows.
static void test_sasrec_gradients(void) {
    sasrec_config c = {.dim = 8, .layers = 2, .heads = 2, .maxlen = 5, .epochs = 1, .batch = 3, .lr = 1e-3f};
    sasrec *m;
    CHECK_OK(sasrec_create(&m, &c, 7, 11));
    if (!m) return;
    int64_t n;
    float *p = sasrec_params(m, &n);
    rng r;
    rng_seed(&r, 5);
    for (int64_t i = 0; i < n; i++) p[i] += 0.05f * (float)rng_normal(&r);   // break LN/bias symmetry
    // B=3 windows of T=4 inputs (+1 target); the third is padded after 3 items
    int32_t ids[] = {0, 3, 5, 1, 2, 6, 6, 2, 4, 0, 1, 4, 3, -1, -1};
    double loss;
    CHECK_OK(sasrec_batch_loss(m, ids, 3, 4, 1, &loss));
    CHECK(loss > 0 && isfinite(loss));
    float *g = malloc((size_t)n * sizeof *g);
    memcpy(g, sasrec_grads(m, &n), (size_t)n * sizeof *g);
    int bad = 0, checked = 0;
    double maxg = 0;
    for (int64_t i = 0; i < n; i += (i % 7 == 0 ? 1 : 3)) {
        float keep = p[i];
        double lp, lm;
        const float h = 2e-3f;
        p[i] = keep + h;
        sasrec_batch_loss(m, ids, 3, 4, 0, &lp);
        p[i] = keep - h;
        sasrec_batch_loss(m, ids, 3, 4, 0, &lm);
        p[i] = keep;
        double num = (lp - lm) / (2 * h);
        if (fabs(num - g[i]) > 2e-3 + 0.03 * fabs(num)) {
            if (bad < 5) fprintf(stderr, "param %lld: analytic %.6f numeric %.6f\n", (long long)i, g[i], num);
            bad++;
        }
        maxg = fabs(num) > maxg ? fabs(num) : maxg;
        checked++;
    }
    CHECK_MSG(bad == 0, "%d of %d gradients differ", bad, checked);
    CHECK(maxg > 0.01);   // the check compared real gradients, not zeros
    free(g);
    sasrec_free(m);
}

// The same model in PyTorch (tests/ref/eval_sasrec_ref.py, float64 autograd): loss and every
// gradient must agree, with several heads and layers and padded windows.
static void test_sasrec_vs_torch(void) {
    sasrec_config c = {.dim = 12, .layers = 2, .heads = 3, .maxlen = 7, .epochs = 1, .batch = 4, .lr = 1e-3f};
    enum { V = 23, B = 4, T = 6 };
    sasrec *m;
    CHECK_OK(sasrec_create(&m, &c, V, 21));
    if (!m) return;
    int64_t n;
    float *p = sasrec_params(m, &n);
    rng r;
    rng_seed(&r, 9);
    for (int64_t i = 0; i < n; i++) p[i] += 0.1f * (float)rng_normal(&r);
    int32_t ids[B * (T + 1)];
    for (int b = 0; b < B; b++) {
        int len = T + 1 - 2 * b;   // 7, 5, 3, 1 real items, the rest padding
        for (int t = 0; t <= T; t++) ids[b * (T + 1) + t] = t < len ? (int32_t)rng_below(&r, V) : -1;
    }
    double loss;
    CHECK_OK(sasrec_batch_loss(m, ids, B, T, 1, &loss));
    char dir[] = "/tmp/onerec_sasref_XXXXXX";
    CHECK(mkdtemp(dir) != NULL);
    char cfgp[128], parp[128], outp[128], cmd[512];
    snprintf(cfgp, sizeof cfgp, "%s/cfg.json", dir);
    snprintf(parp, sizeof parp, "%s/params.f32", dir);
    snprintf(outp, sizeof outp, "%s/out.f64", dir);
    FILE *f = fopen(cfgp, "w");
    fprintf(f, "{\"items\": %d, \"dim\": %d, \"layers\": %d, \"heads\": %d, \"maxlen\": %d, \"B\": %d, \"T\": %d, \"ids\": [",
            V, c.dim, c.layers, c.heads, c.maxlen, B, T);
    for (int i = 0; i < B * (T + 1); i++) fprintf(f, i ? ", %d" : "%d", ids[i]);
    fprintf(f, "]}\n");
    fclose(f);
    CHECK_OK(file_write_atomic(parp, p, (size_t)n * sizeof(float)));
    snprintf(cmd, sizeof cmd, "/usr/bin/python3 tests/ref/eval_sasrec_ref.py %s %s %s", cfgp, parp, outp);
    CHECK(system(cmd) == 0);
    double *ref = malloc((size_t)(n + 1) * sizeof *ref);
    f = fopen(outp, "rb");
    size_t got = f ? fread(ref, sizeof *ref, (size_t)n + 1, f) : 0;
    if (f) fclose(f);
    CHECK_MSG(got == (size_t)n + 1, "reference wrote %zu of %lld values", got, (long long)n + 1);
    if (got == (size_t)n + 1) {
        CHECK_NEAR(loss, ref[0], 1e-5 * fabs(ref[0]));
        float *g = sasrec_grads(m, &n);
        double worst = 0, scale = 0;
        for (int64_t i = 0; i < n; i++) {
            worst = fmax(worst, fabs(g[i] - ref[i + 1]));
            scale = fmax(scale, fabs(ref[i + 1]));
        }
        CHECK_MSG(worst <= 1e-4 * scale, "max gradient difference %.3g (largest gradient %.3g)", worst, scale);
        CHECK(scale > 0.01);
    }
    free(ref);
    unlink(cfgp);
    unlink(parp);
    unlink(outp);
    rmdir(dir);
    sasrec_free(m);
}

typedef struct {
    double pass32, recall32, recall1;
} scores;

static scores score_of(eval_rank_fn fn, void *ctx, const eval_set *ev) {
    rec_metrics m;
    rec_metrics_init(&m, NULL, 0);
    CHECK_OK(eval_ranking(fn, ctx, ev, &m));
    return (scores){rec_metrics_pass(&m, 1), rec_metrics_recall(&m, 1), rec_metrics_recall(&m, 0)};
}

static void test_markov_world(void) {
    markov_world w;
    CHECK_OK(markov_world_init(&w, 1000, 4, 0.1, 0.8, 1));
    w.horizon = 3;
    seq_set train;
    eval_set ev;
    CHECK_OK(markov_world_sample(&w, 1500, 30, 2, &train, 300, 3, &ev));
    CHECK(train.nseq == 1500 && ev.hist.nseq == 300 && seq_len(&ev.hist, 0) == 27 && seq_len(&ev.target, 0) == 3);
    baseline_config cfg;
    baseline *pop, *knn, *sas;
    baseline_config_default(&cfg, BASELINE_POPULARITY);
    CHECK_OK(baseline_fit(&pop, &cfg, &train));
    baseline_config_default(&cfg, BASELINE_ITEMKNN);
    CHECK_OK(baseline_fit(&knn, &cfg, &train));
    baseline_config_default(&cfg, BASELINE_SASREC);
    cfg.sasrec = (sasrec_config){.dim = 32, .layers = 1, .heads = 1, .maxlen = 20, .epochs = 8, .batch = 32, .lr = 5e-3f};
    double t0 = time_now();
    CHECK_OK(baseline_fit(&sas, &cfg, &train));
    double t_sas = time_now() - t0;
    scores sp = score_of(eval_rank_baseline, pop, &ev), sk = score_of(eval_rank_baseline, knn, &ev);
    scores ss = sas ? score_of(eval_rank_baseline, sas, &ev) : (scores){0};
    scores so = score_of(eval_rank_markov_oracle, &w, &ev);
    fprintf(stderr, "recall@32: popularity %.4f item_knn %.4f sasrec %.4f (%.1f s) oracle %.4f\n", sp.recall32,
            sk.recall32, ss.recall32, t_sas, so.recall32);
    CHECK(sk.recall32 > sp.recall32 + 0.05);
    CHECK(ss.recall32 > sp.recall32 + 0.05);
    CHECK(so.recall32 >= sk.recall32 - 0.01 && so.recall32 >= ss.recall32 - 0.01);
    CHECK(sk.recall1 > sp.recall1);
    if (sas) {
        const char *p = "/tmp/onerec_test_sasrec.bin";
        CHECK_OK(baseline_save(sas, p));
        baseline *s2;
        CHECK_OK(baseline_load(&s2, p));
        int32_t a[32], b[32];
        int32_t h[] = {5, 9, 13};
        CHECK(baseline_rank(sas, h, 3, 32, a) == 32 && baseline_rank(s2, h, 3, 32, b) == 32 && !memcmp(a, b, sizeof a));
        baseline_free(s2);
        unlink(p);
    }
    baseline_free(pop);
    baseline_free(knn);
    baseline_free(sas);
    seq_set_free(&train);
    eval_set_free(&ev);
    markov_world_free(&w);
}

int main(void) {
    log_set_level(getenv("VERBOSE") ? LOG_INFO : LOG_WARN);
    RUN(test_seq_files);
    RUN(test_topk);
    RUN(test_popularity_and_knn_hand);
    RUN(test_sasrec_gradients);
    RUN(test_sasrec_vs_torch);
    RUN(test_markov_world);
    return test_summary("test_baseline");
}
