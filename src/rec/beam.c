#include "rec/beam.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "base/mem.h"

typedef struct {
    float score;
    int parent;
    int32_t token;
} cand;

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

int beam_search(beam_result *out, const beam_decoder *dec, const float *first_logp, const beam_params *p) {
    memset(out, 0, sizeof *out);
    int W = p->width, N = p->steps, V = dec->vocab;
    if (W < 1 || N < 1) return err_set("beam search: width (%d) and steps (%d) must be positive", W, N);
    int32_t *tok = mem_calloc((size_t)W * N, sizeof(int32_t));
    int32_t *tok_next = mem_calloc((size_t)W * N, sizeof(int32_t));
    float *scores = mem_calloc((size_t)W, sizeof(float));
    cand *top = mem_calloc((size_t)W, sizeof(cand));
    int *parents = mem_calloc((size_t)W, sizeof(int));
    int32_t *last = mem_calloc((size_t)W, sizeof(int32_t));
    int32_t *allowed = mem_calloc((size_t)V, sizeof(int32_t));
    float *logp = mem_alloc((size_t)W * V * sizeof(float));
    int rc = (tok && tok_next && scores && top && parents && last && allowed && logp) ? 0 : ERR_FAIL;
    int nbeam = 0;
    // step 0: expand the single prompt state
    if (!rc) rc = expand_beam(top, &nbeam, W, first_logp, V, 0.0f, 0, p, NULL, 0, allowed);
    for (int i = 0; !rc && i < nbeam; i++) {
        tok[(size_t)i * N] = top[i].token;
        scores[i] = top[i].score;
        parents[i] = 0;
        last[i] = top[i].token;
    }
    for (int depth = 1; !rc && depth < N && nbeam > 0; depth++) {
        rc = dec->reorder(dec->ctx, parents, nbeam);
        if (!rc) rc = dec->step(dec->ctx, logp, last, nbeam);
        int ntop = 0;
        for (int b = 0; !rc && b < nbeam; b++)
            rc = expand_beam(top, &ntop, W, logp + (size_t)b * V, V, scores[b], b, p, tok + (size_t)b * N, depth, allowed);
        if (rc) break;
        for (int i = 0; i < ntop; i++) {
            memcpy(tok_next + (size_t)i * N, tok + (size_t)top[i].parent * N, (size_t)depth * sizeof(int32_t));
            tok_next[(size_t)i * N + depth] = top[i].token;
            scores[i] = top[i].score;
            parents[i] = top[i].parent;
            last[i] = top[i].token;
        }
        int32_t *t = tok;
        tok = tok_next;
        tok_next = t;
        nbeam = ntop;
    }
    free(top), free(parents), free(last), free(allowed), free(logp), free(tok_next);
    if (rc) {
        free(tok), free(scores);
        return err_wrap("beam search");
    }
    out->n = nbeam;
    out->steps = N;
    out->tokens = tok;
    out->scores = scores;
    return 0;
}

void beam_result_free(beam_result *r) {
    free(r->tokens);
    free(r->scores);
    memset(r, 0, sizeof *r);
}
