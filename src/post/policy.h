// Sequences (prompt + response) as padded model rows, their per-token log-probs under a model, and
// the backward of a loss given as dL/dlogp per token (policy-gradient losses). Rows are processed
// in micro-batches so activations stay bounded whatever the group size.
#pragma once
#include <stdint.h>

#include "model/qwen3.h"

typedef struct {
    int n;             // sequences (rows)
    int T;             // row length: the longest sequence
    int32_t *tokens;   // [n, T], padded
    int32_t *targets;  // [n, T]: position t predicts tokens[t+1]; -1 off the response
    float *mask;       // [n, T]: 1 where the target is a response token that trains
    int64_t *offsets;  // [n + 1]: row s covers positions [s*T, (s+1)*T) (for post/rl_loss.h)
} policy_batch;

// seqs[i] has len[i] tokens, of which the first plen[i] are the prompt; train[i] (may be NULL: all
// on) flags, per response token j (0-based), whether it carries loss.
int policy_batch_build(policy_batch *b, const int32_t *const *seqs, const int *plen, const int *len,
                       const uint8_t *const *train, int n, int32_t pad_id);
void policy_batch_free(policy_batch *b);

// logp [n*T]: log p(target) at each masked position (0 elsewhere). tokens may differ from b->tokens
// (the teacher of distillation sees a rewritten copy): pass NULL to use b->tokens.
int policy_logp(const qwen3_model *m, const policy_batch *b, const int32_t *tokens, int micro, float *logp);
// Accumulates into m's gradients the gradient of sum_t dlogp[t] * logp[t] (dlogp [n*T] is
// dL/dlogp from post/rl_loss.h, 0 off the mask).
int policy_backward(qwen3_model *m, const policy_batch *b, const float *dlogp, int micro);
