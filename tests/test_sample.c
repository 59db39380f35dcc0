#include <string.h>

#include "base/err.h"
#include "rec/sample.h"
#include "test.h"

#define V 8

static const float LOGITS[V] = {1.0f, 3.0f, -2.0f, 0.5f, 2.5f, -1.0f, 0.0f, 2.9f};

static void softmax(double *p, const float *l, float temp) {
    double m = -1e30, s = 0;
    for (int i = 0; i < V; i++) m = l[i] / temp > m ? l[i] / temp : m;
    for (int i = 0; i < V; i++) s += p[i] = exp(l[i] / temp - m);
    for (int i = 0; i < V; i++) p[i] /= s;
}

// the flags' ranges: each bad value a usage error naming its flag; the defaults and edges pass
static void test_check(void) {
    sample_params p = {1.0f, 0, 1.0f, 1.0f};
    CHECK_OK(sample_params_check(&p));
    p.temperature = 0;
    CHECK_OK(sample_params_check(&p));
    p.temperature = -1;
    CHECK_FAILS_WITH(sample_params_check(&p), "--temperature -1");
    CHECK(err_is_usage());
    p.temperature = 0.0f / 0.0f;
    CHECK_FAILS_WITH(sample_params_check(&p), "--temperature");
    p.temperature = 1, p.top_p = -1;
    CHECK_FAILS_WITH(sample_params_check(&p), "--top-p -1");
    p.top_p = 0;
    CHECK_FAILS_WITH(sample_params_check(&p), "--top-p 0");
    p.top_p = 1, p.top_k = -2;
    CHECK_FAILS_WITH(sample_params_check(&p), "--top-k -2");
    p.top_k = 0, p.repetition_penalty = 0;
    CHECK_FAILS_WITH(sample_params_check(&p), "--repetition-penalty 0");
}

static void test_greedy(void) {
    sample_params p = sample_params_default();
    float work[2 * V], lp;
    rng r;
    rng_seed(&r, 1);
    CHECK(sample_pick(LOGITS, V, &p, &r, work, &lp) == 1);
    double prob[V];
    softmax(prob, LOGITS, 1.0f);
    CHECK_NEAR(lp, log(prob[1]), 1e-5);
    p.temperature = 1.0f;
    p.top_k = 1;
    int all_one = 1;
    for (int i = 0; i < 100; i++) all_one &= sample_pick(LOGITS, V, &p, &r, work, NULL) == 1;
    CHECK(all_one);
}

static void test_temperature_distribution(void) {
    sample_params p = sample_params_default();
    p.temperature = 0.7f;
    float work[2 * V];
    rng r;
    rng_seed(&r, 7);
    int count[V] = {0}, n = 200000;
    for (int i = 0; i < n; i++) count[sample_pick(LOGITS, V, &p, &r, work, NULL)]++;
    double prob[V];
    softmax(prob, LOGITS, 0.7f);
    for (int i = 0; i < V; i++) CHECK_NEAR((double)count[i] / n, prob[i], 0.005);
}

static void test_top_p(void) {
    // probabilities sorted: ids 1, 7, 4 carry most of the mass; top_p 0.8 keeps just enough of them
    sample_params p = sample_params_default();
    p.temperature = 1.0f;
    p.top_p = 0.8f;
    double prob[V];
    softmax(prob, LOGITS, 1.0f);
    int keep[V] = {0};
    double cum = 0;
    int order[V] = {1, 7, 4, 0, 3, 6, 5, 2};
    for (int i = 0; i < V && cum < 0.8; i++) cum += prob[order[i]], keep[order[i]] = 1;
    float work[2 * V], lp;
    rng r;
    rng_seed(&r, 3);
    int ok = 1, count1 = 0, n = 20000;
    for (int i = 0; i < n; i++) {
        int id = sample_pick(LOGITS, V, &p, &r, work, &lp);
        ok &= keep[id];
        if (id == 1) {
            count1++;
            CHECK_NEAR(lp, log(prob[1] / cum), 1e-5);
        }
    }
    CHECK(ok);
    CHECK_NEAR((double)count1 / n, prob[1] / cum, 0.015);
}

static void test_penalty(void) {
    float l[V];
    memcpy(l, LOGITS, sizeof l);
    int32_t seen[3] = {1, 2, 1};
    sample_apply_penalty(l, V, seen, 3, 2.0f);
    CHECK_NEAR(l[1], 1.5, 1e-6);    // positive: divided once, although seen twice
    CHECK_NEAR(l[2], -4.0, 1e-6);   // negative: multiplied
    CHECK_NEAR(l[0], 1.0, 1e-6);
}

int main(void) {
    RUN(test_greedy);
    RUN(test_check);
    RUN(test_temperature_distribution);
    RUN(test_top_p);
    RUN(test_penalty);
    return test_summary("test_sample");
}
