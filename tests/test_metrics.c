// RecIF-Bench metrics on hand-computed cases; AUC against scikit-learn (Debian python3-sklearn).
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/file.h"
#include "base/rng.h"
#include "data/pid2sid.h"
#include "eval/metrics_auc.h"
#include "eval/metrics_rank.h"
#include "eval/metrics_text.h"
#include "test.h"

static void test_rec_metrics_hand(void) {
    rec_metrics m;
    int ks[] = {1, 2, 32};
    CHECK_OK(rec_metrics_init(&m, ks, 3));
    // GT dedups to [3, 7, 8]; first hit at rank 1 (item 3), item 7 at rank 4.
    int64_t p1[] = {5, 3, 9, 3, 7}, g1[] = {3, 7, 3, 8};
    CHECK_OK(rec_metrics_add(&m, p1, 5, g1, 4));
    // first GT item (2) is never predicted, item 1 at rank 0.
    int64_t p2[] = {1, 8}, g2[] = {2, 1};
    CHECK_OK(rec_metrics_add(&m, p2, 2, g2, 2));
    // empty GT: skipped, not averaged in
    CHECK_OK(rec_metrics_add(&m, p2, 2, g2, 0));
    CHECK(m.n == 2 && m.n_empty_gt == 1);
    CHECK_NEAR(rec_metrics_pass(&m, 0), 0.5, 1e-12);
    CHECK_NEAR(rec_metrics_pos1(&m, 0), 0.0, 1e-12);
    CHECK_NEAR(rec_metrics_recall(&m, 0), 0.25, 1e-12);
    CHECK_NEAR(rec_metrics_pass(&m, 1), 1.0, 1e-12);
    CHECK_NEAR(rec_metrics_pos1(&m, 1), 0.5, 1e-12);
    CHECK_NEAR(rec_metrics_recall(&m, 1), (1.0 / 3 + 0.5) / 2, 1e-12);
    CHECK_NEAR(rec_metrics_pass(&m, 2), 1.0, 1e-12);
    CHECK_NEAR(rec_metrics_pos1(&m, 2), 0.5, 1e-12);
    CHECK_NEAR(rec_metrics_recall(&m, 2), (2.0 / 3 + 0.5) / 2, 1e-12);
    // NDCG: sample 1 hits at ranks 1 and 4 of 3 GT items, sample 2 at rank 0 of 2
    double l3 = 1 / log2(3.0), l4 = 0.5, l6 = 1 / log2(6.0);
    CHECK_NEAR(rec_metrics_ndcg(&m, 0), (0 + 1.0) / 2, 1e-12);
    CHECK_NEAR(rec_metrics_ndcg(&m, 1), (l3 / (1 + l3) + 1 / (1 + l3)) / 2, 1e-12);
    CHECK_NEAR(rec_metrics_ndcg(&m, 2), ((l3 + l6) / (1 + l3 + l4) + 1 / (1 + l3)) / 2, 1e-12);

    // duplicates in predictions take slots and count once; unmapped (-1) never match
    rec_metrics d;
    CHECK_OK(rec_metrics_init(&d, NULL, 0));
    CHECK(d.nk == 2 && d.ks[0] == 1 && d.ks[1] == 32);
    int64_t p3[] = {-1, 4, 4, 4}, g3[] = {4, 6};
    CHECK_OK(rec_metrics_add(&d, p3, 4, g3, 2));
    CHECK_NEAR(rec_metrics_pass(&d, 0), 0.0, 1e-12);
    CHECK_NEAR(rec_metrics_recall(&d, 1), 0.5, 1e-12);
    CHECK_NEAR(rec_metrics_pos1(&d, 1), 1.0, 1e-12);
    int64_t gm1[] = {-1};
    CHECK_OK(rec_metrics_add(&d, p3, 1, gm1, 1));   // -1 in GT is still never hit by -1 in pred
    CHECK_NEAR(rec_metrics_pass(&d, 1), 0.5, 1e-12);

    rec_metrics e;
    CHECK_OK(rec_metrics_init(&e, ks, 3));
    CHECK_OK(rec_metrics_merge(&e, &m));
    CHECK_NEAR(rec_metrics_recall(&e, 2), rec_metrics_recall(&m, 2), 1e-12);
    CHECK_FAILS_WITH(rec_metrics_merge(&e, &d), "different cut-offs");
    int bad[] = {0};
    CHECK_FAILS_WITH(rec_metrics_init(&e, bad, 1), "k=0");
}

static void test_auc_hand(void) {
    double auc;
    double s1[] = {0.1, 0.4, 0.35, 0.8};
    int l1[] = {0, 0, 1, 1};
    CHECK_OK(metrics_auc(s1, l1, 4, &auc));
    CHECK_NEAR(auc, 0.75, 1e-12);
    double s2[] = {0.5, 0.5, 0.5};
    int l2[] = {0, 1, 1};
    CHECK_OK(metrics_auc(s2, l2, 3, &auc));
    CHECK_NEAR(auc, 0.5, 1e-12);
    double s3[] = {0.2, 0.9, 0.9, 0.1};   // pos {0.9, 0.1}, neg {0.2, 0.9}: pairs 1, .5, 0, 0
    int l3[] = {0, 1, 0, 1};
    CHECK_OK(metrics_auc(s3, l3, 4, &auc));
    CHECK_NEAR(auc, 0.375, 1e-12);
    int l4[] = {1, 1, 1, 1};
    CHECK_FAILS_WITH(metrics_auc(s3, l4, 4, &auc), "both classes");
    int l5[] = {0, 2, 0, 1};
    CHECK_FAILS_WITH(metrics_auc(s3, l5, 4, &auc), "not 0/1");
    CHECK_NEAR(metrics_yes_score(0, 0), 0.5, 1e-15);
    CHECK_NEAR(metrics_yes_score(2.0, 1.0), 1.0 / (1.0 + exp(-1.0)), 1e-15);
    CHECK_NEAR(metrics_yes_score(-1000, 1000), 0.0, 1e-15);   // no overflow
    CHECK_NEAR(metrics_yes_score(1000, -1000), 1.0, 1e-15);
}

// Random scores with many ties (20 levels), labels correlated with the score; sklearn computes
// the reference in a child process reading the same numbers.
static void test_auc_vs_sklearn(void) {
    char path[] = "/tmp/onerec_auc_XXXXXX";
    int fd = mkstemp(path);
    CHECK(fd >= 0);
    if (fd < 0) return;
    FILE *f = fdopen(fd, "w");
    rng r;
    rng_seed(&r, 7);
    enum { N = 5000 };
    static double s[N];
    static int l[N];
    for (int trial = 0; trial < 3; trial++) {
        int levels = trial == 0 ? 20 : trial == 1 ? 3 : 100000;
        for (int i = 0; i < N; i++) {
            s[i] = (double)rng_below(&r, (uint64_t)levels) / levels;
            l[i] = rng_uniform(&r) < 0.2 + 0.5 * s[i];
            fprintf(f, "%d %.17g %d\n", trial, s[i], l[i]);
        }
    }
    fclose(f);
    char cmd[512];
    snprintf(cmd, sizeof cmd,
             "/usr/bin/python3 -c \"import numpy as np, sys; from sklearn.metrics import roc_auc_score;"
             "d = np.loadtxt('%s');"
             "[print(repr(roc_auc_score(d[d[:,0]==t,2], d[d[:,0]==t,1]))) for t in range(3)]\"",
             path);
    FILE *py = popen(cmd, "r");
    CHECK(py != NULL);
    double ref[3] = {-1, -1, -1};
    int got = 0;
    while (py && got < 3 && fscanf(py, "%lf", &ref[got]) == 1) got++;
    if (py) CHECK(pclose(py) == 0);
    CHECK_MSG(got == 3, "sklearn printed %d values", got);
    // recompute ours from the same file (identical doubles)
    f = fopen(path, "r");
    for (int trial = 0; trial < 3 && f; trial++) {
        for (int i = 0; i < N; i++) {
            int t;
            if (fscanf(f, "%d %lf %d", &t, &s[i], &l[i]) != 3) CHECK(0);
        }
        double auc;
        CHECK_OK(metrics_auc(s, l, N, &auc));
        CHECK_MSG(fabs(auc - ref[trial]) < 1e-12, "trial %d: ours %.15f sklearn %.15f", trial, auc, ref[trial]);
        CHECK(auc > 0.55);   // the labels do depend on the score
    }
    if (f) fclose(f);
    unlink(path);
}

static void test_tokenize(void) {
    char **t;
    int n = text_tokenize("Hello, World! 你好 x2y-3", &t);
    CHECK(n == 6);
    if (n == 6) {
        CHECK(!strcmp(t[0], "hello") && !strcmp(t[1], "world") && !strcmp(t[2], "你") && !strcmp(t[3], "好"));
        CHECK(!strcmp(t[4], "x2y") && !strcmp(t[5], "3"));
    }
    text_tokens_free(t, n);
    n = text_tokenize("", &t);
    CHECK(n == 0);
    text_tokens_free(t, n);
    n = text_tokenize("ab\xff" "cd", &t);   // invalid byte separates
    CHECK(n == 2);
    text_tokens_free(t, n);
}

static void test_rouge_and_char_f1(void) {
    CHECK_NEAR(text_rouge_l("the cat sat on the mat", "the cat is on the mat"), 5.0 / 6, 1e-12);
    double p = 3.0 / 4, r = 3.0 / 5;
    CHECK_NEAR(text_rouge_l("我喜欢猫", "我很喜欢狗"), 2 * p * r / (p + r), 1e-12);
    CHECK_NEAR(text_rouge_l("Hello, World! 你好", "hello 你们好"), 0.75, 1e-12);
    CHECK_NEAR(text_rouge_l("a b c", "c b a"), 1.0 / 3, 1e-12);
    CHECK_NEAR(text_rouge_l("", ""), 1.0, 0);
    CHECK_NEAR(text_rouge_l("x", ""), 0.0, 0);
    CHECK_NEAR(text_char_f1("abc", "abd"), 2.0 / 3, 1e-12);
    CHECK_NEAR(text_char_f1("aab", "ab"), 0.8, 1e-12);
    CHECK_NEAR(text_char_f1("我喜欢猫", "我很喜欢狗"), 2 * p * r / (p + r), 1e-12);
    CHECK_NEAR(text_char_f1("A b", "a B"), 1.0, 1e-12);
    CHECK_NEAR(text_char_f1("xyz", "abc"), 0.0, 0);
}

static int fake_judge(void *ctx, const char *prompt, const char *ref, const char *pred, double *score) {
    (void)prompt;
    int *calls = ctx;
    ++*calls;
    if (!strcmp(pred, "fail")) return err_set("judge refused");
    *score = strcmp(ref, pred) ? 1.0 : 5.0;
    return 0;
}

static void test_text_metrics_judge(void) {
    text_metrics m;
    text_metrics_init(&m, NULL, NULL);
    CHECK_OK(text_metrics_add(&m, NULL, "abc", "abc"));
    CHECK_OK(text_metrics_add(&m, NULL, "abc", "xyz"));
    CHECK_NEAR(text_metrics_rouge_l(&m), 0.5, 1e-12);
    CHECK_NEAR(text_metrics_char_f1(&m), 0.5, 1e-12);
    CHECK(isnan(text_metrics_judge(&m)));
    int calls = 0;
    text_metrics_init(&m, fake_judge, &calls);
    CHECK_OK(text_metrics_add(&m, "q", "same", "same"));
    CHECK_OK(text_metrics_add(&m, "q", "other", "same"));
    CHECK(calls == 2);
    CHECK_NEAR(text_metrics_judge(&m), 3.0, 1e-12);
    CHECK_FAILS_WITH(text_metrics_add(&m, "q", "fail", "x"), "judge refused");
}

static void test_sid2pid(void) {
    sid2pid m = {0};
    // enough SIDs to force several rehashes
    for (int i = 0; i < 1000; i++) {
        CHECK_OK(sid2pid_offer(&m, sid_pack(i % 7, i, 8191 - i), 10 * i, 5));
        CHECK_OK(sid2pid_offer(&m, sid_pack(i % 7, i, 8191 - i), 10 * i + 1, 9));
        CHECK_OK(sid2pid_offer(&m, sid_pack(i % 7, i, 8191 - i), 10 * i + 2, 9));   // tie: smaller pid kept
    }
    int ok = 1;
    for (int i = 0; i < 1000; i++) ok &= sid2pid_get(&m, sid_pack(i % 7, i, 8191 - i)) == 10 * i + 1;
    CHECK(ok);
    CHECK(m.n == 1000);
    CHECK(sid2pid_get(&m, sid_pack(8000, 1, 1)) == -1);
    sid2pid_free(&m);

    const char *path = "/tmp/onerec_test_sid2pid.json";
    char json[256];
    snprintf(json, sizeof json, "{\"%lld\": [42, 7, 9], \"%lld\": {\"5\": 1, \"6\": 3}}",
             (long long)sid_pack(1, 2, 3), (long long)sid_pack(0, 0, 9));
    CHECK_OK(file_write_atomic(path, json, strlen(json)));
    CHECK_OK(sid2pid_load_json(&m, path));
    int64_t sids[] = {sid_pack(1, 2, 3), sid_pack(0, 0, 9), sid_pack(3, 3, 3)}, pids[3];
    sid2pid_map(&m, sids, 3, pids);
    CHECK(pids[0] == 42 && pids[1] == 6 && pids[2] == -1);
    sid2pid_free(&m);
    const char *bad = "{\"abc\": [1]}";
    CHECK_OK(file_write_atomic(path, bad, strlen(bad)));
    CHECK_FAILS_WITH(sid2pid_load_json(&m, path), "not a packed SID");
    unlink(path);
}

int main(void) {
    RUN(test_rec_metrics_hand);
    RUN(test_auc_hand);
    RUN(test_auc_vs_sklearn);
    RUN(test_tokenize);
    RUN(test_rouge_and_char_f1);
    RUN(test_text_metrics_judge);
    RUN(test_sid2pid);
    return test_summary("test_metrics");
}
