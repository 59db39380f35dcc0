// Beam search over a decoder that keeps per-sequence state (a KV cache) in numbered slots.
// Used for item recommendation: W beams x N tokens after "<|sid_begin|>", ranked by cumulative
// log-probability; optionally constrained so that every beam is a valid item SID.
#pragma once
#include <stdint.h>

typedef struct {
    void *ctx;
    int vocab;
    // Append tokens[i] to the sequence in slot i (i < n) and return its next-token log-probs:
    // logp [n, vocab].
    int (*step)(void *ctx, float *logp, const int32_t *tokens, int n);
    // Slot i takes the state slot parents[i] had (i < n); parents may repeat (a beam forks).
    int (*reorder)(void *ctx, const int *parents, int n);
} beam_decoder;

// Optional constraint: writes the allowed next tokens after `prefix` (depth tokens) into out
// (at most max) and returns their count (0: dead end), or ERR_FAIL.
typedef int (*beam_allowed_fn)(void *ctx, const int32_t *prefix, int depth, int32_t *out, int max);

typedef struct {
    int width;                 // W beams
    int steps;                 // N new tokens
    beam_allowed_fn allowed;   // NULL: unconstrained (the reference's behaviour)
    void *allowed_ctx;
} beam_params;

typedef struct {
    int n;             // beams found (< width when a constraint leaves fewer paths)
    int steps;
    int32_t *tokens;   // [width, steps]
    float *scores;     // [width] cumulative log-prob, best first
} beam_result;

// `first_logp` [vocab] are the log-probs after the prompt, whose state is in slot 0. The decoder
// must have room for `width` slots. On return the beams are sorted best first (ties: earlier
// parent, then smaller token id, so results are deterministic).
int beam_search(beam_result *out, const beam_decoder *dec, const float *first_logp, const beam_params *p);
void beam_result_free(beam_result *r);

// The same search one step at a time, for a caller that drives the decoder itself (a server
// decoding the beams of many requests in one batch); beam_search is this loop. After first/next,
// while not done: move the decoder's slots as `parents` says (reorder), feed `last` [nbeam], and
// pass the log-probs [nbeam, vocab] to beam_state_next.
typedef struct beam_cand beam_cand;
typedef struct {
    beam_params p;
    int vocab, depth, nbeam;
    int32_t *tok, *tok_next;   // [width, steps]
    float *scores;             // [width]
    int *parents;              // [width] slot each beam came from
    int32_t *last;             // [width] the token each beam feeds next
    int32_t *allowed;          // [vocab] constraint scratch
    beam_cand *top;
} beam_state;
int beam_state_init(beam_state *s, const beam_params *p, int vocab);
int beam_state_first(beam_state *s, const float *first_logp);
int beam_state_next(beam_state *s, const float *logp);
static inline int beam_state_done(const beam_state *s) { return s->depth >= s->p.steps || s->nbeam == 0; }
// Moves the beams into out (best first) and frees the state.
void beam_state_take(beam_state *s, beam_result *out);
void beam_state_free(beam_state *s);
