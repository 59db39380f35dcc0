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

int policy_backward(qwen3_model *m, const policy_batch *b, const float *dlogp, int micro) {
    if (!m->grad_mem && qwen3_alloc_grads(m)) return ERR_FAIL;
    return for_rows(m, b, b->tokens, micro, NULL, dlogp);
}
