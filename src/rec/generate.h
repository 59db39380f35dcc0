// Generation with a Qwen3 model and its KV cache: batched sampling (greedy, temperature, top-k,
// top-p, repetition penalty, stop ids), beam search that shares the prompt's cache across beams,
// and the two-stage rollout of the reference (sample a reasoning until </think>, then beam search
// over item tokens after "\n<|sid_begin|>").
#pragma once
#include <stdint.h>

#include "model/qwen3.h"
#include "rec/beam.h"
#include "rec/sample.h"

typedef struct {
    int max_new;              // new tokens at most
    sample_params sample;
    const int32_t *stop_ids;  // generation stops after emitting one of these (it is kept)
    int n_stop;
    uint64_t seed;            // prompt i samples from the stream (seed, i): batch-size independent
    // Optional stop test after each new token (stop strings): returns 1 to stop prompt i, whose
    // generated tokens so far are tokens [n].
    int (*stop_fn)(void *ctx, int i, const int32_t *tokens, int n);
    void *stop_ctx;
    int vocab_limit;          // > 0: ids >= this are never sampled (embedding rows past the tokenizer)
} gen_params;

typedef struct {
    int32_t *tokens;    // [n] generated ids
    float *logprobs;    // [n] log-prob of each under the sampling distribution
    int n;
    int stopped;        // 1 when a stop id ended it, 0 when max_new did
} gen_output;

void gen_output_free(gen_output *o);

// Appends `n` tokens to sequence `seq` and, when logp is not NULL, writes the log-softmax of the
// last position's logits: logp [V].
int gen_prefill(const qwen3_model *m, qwen3_kv *kv, int seq, const int32_t *tokens, int n, float *logp);

// Samples continuations of `np` prompts together (one decode step advances every live sequence).
// out [np]
int gen_sample_batch(const qwen3_model *m, qwen3_kv *kv, const int32_t *const *prompts, const int *plen, int np,
                     const gen_params *p, gen_output *out);

// Beam search after a prompt (W beams x N tokens, cumulative log-prob, optional constraint).
#define GEN_BEAM_MAX 256   // widest beam (a fork table on the stack)
int gen_beam(const qwen3_model *m, qwen3_kv *kv, const int32_t *prompt, int plen, const beam_params *bp,
             beam_result *out);

// Two-stage rollout: sample (p) until a stop id (e.g. </think>) or p->max_new, append `suffix`
// (e.g. "\n<|sid_begin|>"), then beam search. reasoning receives the sampled tokens.
int gen_two_stage(const qwen3_model *m, qwen3_kv *kv, const int32_t *prompt, int plen, const gen_params *p,
                  const int32_t *suffix, int nsuffix, const beam_params *bp, gen_output *reasoning,
                  beam_result *out);

// KV-cache sizes (tokens) that always suffice: the cache is paged (16 tokens), a forked beam
// copies its partial last page on its first write, and a beam step holds parents and children.
static inline int gen_kv_tokens_sample(int prompt_tokens, int nseq, int max_new) {
    return prompt_tokens + nseq * (max_new + 32) + 64;
}
static inline int gen_kv_tokens_beam(int prompt_tokens, int width, int steps) {
    return prompt_tokens + 2 * width * (steps + 32) + 64;
}
