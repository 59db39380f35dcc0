// Choosing the next token from logits: greedy, temperature, top-k, top-p (nucleus), repetition
// penalty (as HF: positive logits divided, negative multiplied). Used by generation and rollouts.
#pragma once
#include <stdint.h>

#include "base/rng.h"

typedef struct {
    float temperature;          // <= 0: greedy
    int top_k;                  // <= 0: off
    float top_p;                // >= 1: off
    float repetition_penalty;   // 1: off
} sample_params;

sample_params sample_params_default(void);   // greedy, no penalty
// The flags' ranges (--temperature >= 0, --top-k >= 0, --top-p > 0, --repetition-penalty > 0):
// a usage error (err_usage) naming the flag, before any work.
int sample_params_check(const sample_params *p);

// Applies the repetition penalty in place to the ids in `seen` (each at most once).
// logits [V], seen [n]
void sample_apply_penalty(float *logits, int vocab, const int32_t *seen, int n, float penalty);
// Picks a token; `work` has room for 2*vocab floats/ints (sorting scratch). Returns the id and,
// if logprob is not NULL, log p(id) under the distribution actually sampled from (after
// temperature / top-k / top-p renormalisation; for greedy, the plain softmax).
// logits [V] (not modified), work [2V]
int sample_pick(const float *logits, int vocab, const sample_params *p, rng *r, float *work, float *logprob);
// log-softmax of one row: out [V], logits [V]
void sample_log_softmax(float *out, const float *logits, int vocab);
