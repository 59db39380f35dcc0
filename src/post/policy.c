#include "post/policy.h"

#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "base/mem.h"

void policy_batch_free(policy_batch *b) {
    free(b->tokens), free(b->targets), free(b->mask), free(b->offsets);
    memset(b, 0, sizeof *b);
}

int policy_batch_build(policy_batch *b, const int32_t *const *seqs, const int *plen, const int *len,
                       const uint8_t *const *train, int n, int32_t pad_id) {
    memset(b, 0, sizeof *b);
    int T = 1;
    for (int i = 0; i < n; i++) {
        if (plen[i] < 1 || len[i] < plen[i]) return err_set("policy batch: sequence %d has prompt %d of %d tokens", i, plen[i], len[i]);
        T = len[i] > T ? len[i] : T;
    }
    size_t NT = (size_t)n * T;
    b->n = n;
    b->T = T;
    b->tokens = mem_alloc(NT * sizeof(int32_t));
    b->targets = mem_alloc(NT * sizeof(int32_t));
    b->mask = mem_calloc(NT, sizeof(float));
    b->offsets = mem_alloc(((size_t)n + 1) * sizeof(int64_t));
    if (!b->tokens || !b->targets || !b->mask || !b->offsets) {
        policy_batch_free(b);
        return ERR_FAIL;
    }
    for (int i = 0; i < n; i++) {
        int32_t *tok = b->tokens + (size_t)i * T, *tgt = b->targets + (size_t)i * T;
        float *mk = b->mask + (size_t)i * T;
        for (int t = 0; t < T; t++) {
            tok[t] = t < len[i] ? seqs[i][t] : pad_id;
            tgt[t] = -1;
        }
        // position t predicts token t+1; response token j sits at plen + j
        for (int j = 0; plen[i] + j < len[i]; j++) {
            int t = plen[i] + j - 1;
            if (train && train[i] && !train[i][j]) continue;
            tgt[t] = tok[t + 1];
            mk[t] = 1.0f;
        }
        b->offsets[i] = (int64_t)i * T;
    }
    b->offsets[n] = (int64_t)n * T;
    return 0;
}

// Runs rows [r0, r0+nr) of the batch; with dlogp, forward+backward of the weighted loss.
static int run_rows(qwen3_model *m, const policy_batch *b, const int32_t *tokens, int r0, int nr, float *logp,
                    const float *dlogp, qwen3_acts **acts, int *acts_rows) {
    int T = b->T;
    if (*acts_rows != nr) {
        qwen3_acts_free(*acts);
        *acts = NULL;
        if (qwen3_acts_init(acts, m, nr, T, dlogp != NULL)) return ERR_FAIL;
        *acts_rows = nr;
    }
    size_t off = (size_t)r0 * T, NT = (size_t)nr * T;
    float *w = NULL;
    if (dlogp) {
        // loss = sum_t w_t * -log p(target_t), so w = -dL/dlogp
        w = mem_alloc(NT * sizeof(float));
        if (!w) return ERR_FAIL;
        for (size_t t = 0; t < NT; t++) w[t] = -dlogp[off + t];
    }
    qwen3_batch qb = {.B = nr, .T = T, .tokens = tokens + off, .targets = b->targets + off, .weights = w};
    float loss;
    int rc = dlogp ? qwen3_forward_backward(m, *acts, &qb, &loss, NULL) : qwen3_forward(m, *acts, &qb, &loss, logp + off);
    free(w);
    return rc;
}

static int for_rows(qwen3_model *m, const policy_batch *b, const int32_t *tokens, int micro, float *logp, const float *dlogp) {
    if (micro < 1) micro = 1;
    qwen3_acts *acts = NULL;
    int acts_rows = -1, rc = 0;
    for (int r0 = 0; r0 < b->n && !rc; r0 += micro) {
        int nr = b->n - r0 < micro ? b->n - r0 : micro;
        rc = run_rows(m, b, tokens, r0, nr, logp, dlogp, &acts, &acts_rows);
    }
    qwen3_acts_free(acts);
    return rc;
}

int policy_logp(const qwen3_model *m, const policy_batch *b, const int32_t *tokens, int micro, float *logp) {
    // forward only: the model is not modified (the cast serves the shared row loop)
    return for_rows((qwen3_model *)m, b, tokens ? tokens : b->tokens, micro, logp, NULL);
}

// The rows of b whose dlogp is not all zero, copied into sub and sub_dlogp; returns their count.
static int nonzero_rows(const policy_batch *b, const float *dlogp, policy_batch *sub, float **sub_dlogp) {
    int T = b->T, k = 0;
    memset(sub, 0, sizeof *sub);
    *sub_dlogp = NULL;
    uint8_t *keep = mem_calloc((size_t)b->n, 1);
    if (!keep) return ERR_FAIL;
    for (int i = 0; i < b->n; i++) {
        for (int t = 0; t < T && !keep[i]; t++) keep[i] = dlogp[(size_t)i * T + t] != 0;
        k += keep[i];
    }
    if (k == b->n || k == 0) {
        free(keep);
        return k;
    }
    size_t NT = (size_t)k * T;
    sub->n = k, sub->T = T;
    sub->tokens = mem_alloc(NT * sizeof(int32_t)), sub->targets = mem_alloc(NT * sizeof(int32_t));
    sub->mask = mem_alloc(NT * sizeof(float)), sub->offsets = mem_alloc(((size_t)k + 1) * sizeof(int64_t));
    *sub_dlogp = mem_alloc(NT * sizeof(float));
    if (!sub->tokens || !sub->targets || !sub->mask || !sub->offsets || !*sub_dlogp) {
        free(keep), policy_batch_free(sub), free(*sub_dlogp);
        return ERR_FAIL;
    }
    for (int i = 0, j = 0; i < b->n; i++) {
        if (!keep[i]) continue;
        size_t from = (size_t)i * T, to = (size_t)j * T;
        memcpy(sub->tokens + to, b->tokens + from, (size_t)T * sizeof(int32_t));
        memcpy(sub->targets + to, b->targets + from, (size_t)T * sizeof(int32_t));
        memcpy(sub->mask + to, b->mask + from, (size_t)T * sizeof(float));
        memcpy(*sub_dlogp + to, dlogp + from, (size_t)T * sizeof(float));
        sub->offsets[j] = (int64_t)to;
        j++;
    }
    sub->offsets[k] = (int64_t)NT;
    free(keep);
    return k;
}

int policy_backward(qwen3_model *m, const policy_batch *b, const float *dlogp, int micro) {
    if (!m->grad_mem && qwen3_alloc_grads(m)) return ERR_FAIL;
    // a row whose every dlogp is 0 adds nothing to the gradient (a degenerate RL group without a
    // KL term): it is left out of the forward/backward
    policy_batch sub;
    float *sub_dlogp;
    int k = nonzero_rows(b, dlogp, &sub, &sub_dlogp);
    if (k < 0) return ERR_FAIL;
    if (k == 0) return 0;
    if (k == b->n) return for_rows(m, b, b->tokens, micro, NULL, dlogp);
    int rc = for_rows(m, &sub, sub.tokens, micro, NULL, sub_dlogp);
    policy_batch_free(&sub);
    free(sub_dlogp);
    return rc;
}
