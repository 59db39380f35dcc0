// Policy batches: log-probs equal a per-sequence full forward, micro-batching does not change
// log-probs or gradients, and the weighted backward is the gradient of sum dlogp * logp
// (checked by a finite difference on one weight).
#include <string.h>

#include "base/mem.h"
#include "model/qwen3.h"
#include "post/policy.h"
#include "rec/sample.h"
#include "test.h"

static qwen3_model g_m;

static void setup(void) {
    qwen3_config c = {.dim = 32, .ffn = 64, .n_layers = 2, .n_heads = 4, .n_kv = 2, .head_dim = 8,
                      .vocab = 29, .tied = 0, .max_pos = 128, .rope_theta = 10000.0f, .eps = 1e-6f};
    CHECK_OK(qwen3_model_init(&g_m, &c));
    qwen3_init_random(&g_m, 11, 0.3f);
    CHECK_OK(qwen3_alloc_grads(&g_m));
}

static const int32_t S0[] = {1, 2, 3, 4, 5, 6, 7}, S1[] = {9, 8, 7, 6}, S2[] = {3, 3, 3, 10, 11, 12, 13, 14, 15};

static void make_batch(policy_batch *b) {
    const int32_t *seqs[3] = {S0, S1, S2};
    int plen[3] = {3, 2, 4}, len[3] = {7, 4, 9};
    uint8_t tr2[5] = {1, 0, 1, 1, 1};
    const uint8_t *train[3] = {NULL, NULL, tr2};
    CHECK_OK(policy_batch_build(b, seqs, plen, len, train, 3, 0));
}

static void test_logp_matches_forward(void) {
    policy_batch b;
    make_batch(&b);
    float *lp = mem_calloc((size_t)b.n * b.T, sizeof(float));
    CHECK_OK(policy_logp(&g_m, &b, NULL, 2, lp));
    // sequence 0, response token 5 (index 4) is predicted at position 3
    qwen3_acts *a;
    CHECK_OK(qwen3_acts_init(&a, &g_m, 1, 4, 0));
    qwen3_batch qb = {.B = 1, .T = 4, .tokens = S0};
    CHECK_OK(qwen3_forward(&g_m, a, &qb, NULL, NULL));
    float logits[29], ls[29];
    qwen3_logits(&g_m, logits, qwen3_acts_hidden(a) + 3 * 32, 1);
    sample_log_softmax(ls, logits, 29);
    CHECK_NEAR(lp[3], ls[S0[4]], 1e-4);
    CHECK(b.mask[0 * b.T + 1] == 0 && b.mask[0 * b.T + 2] == 1);   // prompt targets carry no loss
    CHECK(b.mask[2 * b.T + 4] == 0 && b.mask[2 * b.T + 3] == 1);   // train flag 0 on response token 1
    qwen3_acts_free(a);
    free(lp);
    policy_batch_free(&b);
}

static void test_backward_micro_and_fd(void) {
    policy_batch b;
    make_batch(&b);
    size_t NT = (size_t)b.n * b.T;
    float *d = mem_calloc(NT, sizeof(float)), *lp = mem_calloc(NT, sizeof(float));
    for (size_t t = 0; t < NT; t++) d[t] = b.mask[t] * (float)((int)(t % 5) - 2) * 0.3f;
    qwen3_zero_grads(&g_m);
    CHECK_OK(policy_backward(&g_m, &b, d, 3));
    float *g_all = mem_alloc(g_m.n_params * sizeof(float));
    memcpy(g_all, g_m.grad_mem, g_m.n_params * sizeof(float));
    qwen3_zero_grads(&g_m);
    CHECK_OK(policy_backward(&g_m, &b, d, 1));
    double md = 0;
    for (size_t i = 0; i < g_m.n_params; i++) md = fmax(md, fabs(g_all[i] - g_m.grad_mem[i]));
    CHECK_MSG(md < 1e-5, "micro-batching changed the gradient by %g", md);
    // finite difference on one wq entry of layer 1: L = sum d * logp
    float *w = &g_m.w.layers[1].wq[5];
    size_t idx = (size_t)(w - g_m.param_mem);
    double L[2];
    float keep = *w, h = 1e-2f;
    for (int s = 0; s < 2; s++) {
        *w = keep + (s ? -h : h);
        CHECK_OK(policy_logp(&g_m, &b, NULL, 3, lp));
        L[s] = 0;
        for (size_t t = 0; t < NT; t++) L[s] += (double)d[t] * lp[t];
    }
    *w = keep;
    double fd = (L[0] - L[1]) / (2 * h);
    CHECK_MSG(fabs(fd - g_all[idx]) < 2e-3 + 2e-2 * fabs(fd), "fd %g vs backward %g", fd, g_all[idx]);
    free(g_all), free(d), free(lp);
    policy_batch_free(&b);
}

// Rows whose dlogp is all zero are left out of the backward: the gradient is that of the full batch.
static void test_backward_skips_zero_rows(void) {
    policy_batch b;
    make_batch(&b);
    size_t NT = (size_t)b.n * b.T;
    float *d = mem_calloc(NT, sizeof(float));
    for (size_t t = 0; t < NT; t++) d[t] = b.mask[t] * (float)((int)(t % 5) - 2) * 0.3f;
    for (int t = 0; t < b.T; t++) d[(size_t)1 * b.T + t] = 0;   // row 1: nothing to learn
    qwen3_zero_grads(&g_m);
    CHECK_OK(policy_backward(&g_m, &b, d, 1));
    float *g_skip = mem_alloc(g_m.n_params * sizeof(float));
    memcpy(g_skip, g_m.grad_mem, g_m.n_params * sizeof(float));
    // the same rows without row 1 in the batch at all
    const int32_t *seqs[2] = {S0, S2};
    int plen[2] = {3, 4}, len[2] = {7, 9};
    uint8_t tr2[5] = {1, 0, 1, 1, 1};
    const uint8_t *train[2] = {NULL, tr2};
    policy_batch b2;
    CHECK_OK(policy_batch_build(&b2, seqs, plen, len, train, 2, 0));
    float *d2 = mem_calloc((size_t)2 * b2.T, sizeof(float));
    memcpy(d2, d, (size_t)b.T * sizeof(float));
    memcpy(d2 + b2.T, d + (size_t)2 * b.T, (size_t)b.T * sizeof(float));
    qwen3_zero_grads(&g_m);
    CHECK_OK(policy_backward(&g_m, &b2, d2, 1));
    double md = 0, mx = 0;
    for (size_t i = 0; i < g_m.n_params; i++) md = fmax(md, fabs(g_skip[i] - g_m.grad_mem[i])), mx = fmax(mx, fabs(g_skip[i]));
    CHECK_MSG(md < 1e-6 && mx > 0, "skipping a zero row changed the gradient by %g (max %g)", md, mx);
    // every row zero: no gradient at all
    memset(d, 0, NT * sizeof(float));
    qwen3_zero_grads(&g_m);
    CHECK_OK(policy_backward(&g_m, &b, d, 2));
    mx = 0;
    for (size_t i = 0; i < g_m.n_params; i++) mx = fmax(mx, fabs(g_m.grad_mem[i]));
    CHECK(mx == 0);
    free(g_skip), free(d), free(d2);
    policy_batch_free(&b);
    policy_batch_free(&b2);
}

int main(void) {
    setup();
    RUN(test_backward_skips_zero_rows);
    RUN(test_logp_matches_forward);
    RUN(test_backward_micro_and_fd);
    qwen3_model_free(&g_m);
    return test_summary("test_policy");
}
