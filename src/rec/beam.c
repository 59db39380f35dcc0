#include "rec/beam.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "base/mem.h"

struct beam_cand {
    float score;
    int parent;
    int32_t token;
};
typedef struct beam_cand cand;

// true when a ranks before b
static int cand_before(const cand *a, const cand *b) {
    if (a->score != b->score) return a->score > b->score;
    if (a->parent != b->parent) return a->parent < b->parent;
    return a->token < b->token;
}

// Keeps the best `cap` candidates in a sorted array (insertion: cap is small, 32 or so).
static void top_insert(cand *top, int *n, int cap, cand c) {
    if (*n == cap && !cand_before(&c, &top[cap - 1])) return;
    int i = *n < cap ? (*n)++ : cap - 1;
    while (i > 0 && cand_before(&c, &top[i - 1])) {
        top[i] = top[i - 1];
        i--;
    }
    top[i] = c;
}

// Adds the candidates of one beam (parent) with base score `base` to the running top list.
static int expand_beam(cand *top, int *ntop, int cap, const float *logp, int vocab, float base, int parent,
                       const beam_params *p, const int32_t *prefix, int depth, int32_t *allowed_buf) {
    if (!p->allowed) {
        for (int v = 0; v < vocab; v++) {
            float s = base + logp[v];
            if (*ntop == cap && s < top[cap - 1].score) continue;   // fast reject
            top_insert(top, ntop, cap, (cand){s, parent, v});
        }
        return 0;
    }
    int na = p->allowed(p->allowed_ctx, prefix, depth, allowed_buf, vocab);
    if (na < 0) return ERR_FAIL;
    for (int i = 0; i < na; i++) {
        int32_t v = allowed_buf[i];
        if (v < 0 || v >= vocab) return err_set("beam search: constraint allowed token %d outside the vocabulary", v);
        top_insert(top, ntop, cap, (cand){base + logp[v], parent, v});
    }
    return 0;
}

int beam_state_init(beam_state *s, const beam_params *p, int vocab) {
    memset(s, 0, sizeof *s);
    int W = p->width, N = p->steps;
    if (W < 1 || N < 1) return err_set("beam search: width (%d) and steps (%d) must be positive", W, N);
    s->p = *p;
    s->vocab = vocab;
    s->tok = mem_calloc((size_t)W * N, sizeof(int32_t));
    s->tok_next = mem_calloc((size_t)W * N, sizeof(int32_t));
    s->scores = mem_calloc((size_t)W, sizeof(float));
    s->top = mem_calloc((size_t)W, sizeof(cand));
    s->parents = mem_calloc((size_t)W, sizeof(int));
    s->last = mem_calloc((size_t)W, sizeof(int32_t));
    s->allowed = mem_calloc((size_t)vocab, sizeof(int32_t));
    if (s->tok && s->tok_next && s->scores && s->top && s->parents && s->last && s->allowed) return 0;
    beam_state_free(s);
    return ERR_FAIL;
}

void beam_state_free(beam_state *s) {
    free(s->tok), free(s->tok_next), free(s->scores), free(s->top), free(s->parents), free(s->last), free(s->allowed);
    memset(s, 0, sizeof *s);
}

// Makes the running top list the beams of depth s->depth.
static void adopt_top(beam_state *s, int ntop) {
    int N = s->p.steps, d = s->depth;
    for (int i = 0; i < ntop; i++) {
        const cand *c = &s->top[i];
        if (d) memcpy(s->tok_next + (size_t)i * N, s->tok + (size_t)c->parent * N, (size_t)d * sizeof(int32_t));
        s->tok_next[(size_t)i * N + d] = c->token;
        s->scores[i] = c->score;
        s->parents[i] = c->parent;
        s->last[i] = c->token;
    }
    int32_t *t = s->tok;
    s->tok = s->tok_next;
    s->tok_next = t;
    s->nbeam = ntop;
    s->depth++;
}

int beam_state_first(beam_state *s, const float *first_logp) {
    int ntop = 0;
    if (expand_beam(s->top, &ntop, s->p.width, first_logp, s->vocab, 0.0f, 0, &s->p, NULL, 0, s->allowed))
        return err_wrap("beam search");
    adopt_top(s, ntop);
    return 0;
}

int beam_state_next(beam_state *s, const float *logp) {
    int ntop = 0, N = s->p.steps, V = s->vocab;
    for (int b = 0; b < s->nbeam; b++)
        if (expand_beam(s->top, &ntop, s->p.width, logp + (size_t)b * V, V, s->scores[b], b, &s->p, s->tok + (size_t)b * N,
                        s->depth, s->allowed))
            return err_wrap("beam search");
    adopt_top(s, ntop);
    return 0;
}

void beam_state_take(beam_state *s, beam_result *out) {
    out->n = s->nbeam;
    out->steps = s->p.steps;
    out->tokens = s->tok;
    out->scores = s->scores;
    s->tok = NULL, s->scores = NULL;
    beam_state_free(s);
}

int beam_search(beam_result *out, const beam_decoder *dec, const float *first_logp, const beam_params *p) {
    memset(out, 0, sizeof *out);
    beam_state s;
    if (beam_state_init(&s, p, dec->vocab)) return err_wrap("beam search");
    float *logp = mem_alloc((size_t)p->width * dec->vocab * sizeof(float));
    int rc = logp ? beam_state_first(&s, first_logp) : ERR_FAIL;
    while (!rc && !beam_state_done(&s)) {
        rc = dec->reorder(dec->ctx, s.parents, s.nbeam);
        if (!rc) rc = dec->step(dec->ctx, logp, s.last, s.nbeam);
        if (!rc) rc = beam_state_next(&s, logp);
    }
    free(logp);
    if (rc) {
        beam_state_free(&s);
        return err_wrap("beam search");
    }
    beam_state_take(&s, out);
    return 0;
}

void beam_result_free(beam_result *r) {
    free(r->tokens);
    free(r->scores);
    memset(r, 0, sizeof *r);
}
