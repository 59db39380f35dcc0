// Weight gradients applied at once or as a team's jobs split by output rows (see wgrad.h).
#include "model/wgrad.h"

#include <string.h>

#include "model/gemm.h"
#include "model/kernels.h"

enum { WG_GEMM, WG_VEC, WG_EMBED };

static void add_job(wgrad_ctx *c, wgrad_job j) {
    wgrad_team *t = c->team;
    t->jobs[c->lane][t->njobs[c->lane]++] = j;   // WG_MAX_JOBS bounds what one phase records
}

void wgrad_gemm(wgrad_ctx *c, float *dw, const float *dout, int ld_dout, const float *inp, int N, int IC, int OC) {
    if (!dw || N == 0) return;
    if (c->team) {
        add_job(c, (wgrad_job){.kind = WG_GEMM, .dw = dw, .dout = dout, .inp = inp, .N = N, .IC = IC, .OC = OC,
                               .ld_dout = ld_dout});
        return;
    }
    gemm_f32(GEMM_TN, dw, IC, dout, ld_dout, inp, IC, OC, IC, N, 1);
}

float *wgrad_vec(wgrad_ctx *c, float *dw, int n, int slot) {
    if (!dw || !c->team) return dw;
    float *s = c->slots + (size_t)slot * c->slot_len;
    memset(s, 0, (size_t)n * sizeof(float));
    add_job(c, (wgrad_job){.kind = WG_VEC, .dw = dw, .dout = s, .OC = n});
    return s;
}

void wgrad_embed(wgrad_ctx *c, float *dembed, const float *d, const int *tok, int N, int C, int row0) {
    if (c->team) {
        add_job(c, (wgrad_job){.kind = WG_EMBED, .dw = dembed, .dout = d, .tok = tok, .N = N, .IC = C, .row0 = row0});
        return;
    }
    k_embed_bwd(dembed, d, tok, N, C, row0, 0, 1);
}

// Rows [r0, r1) of job j (embedding jobs: the tokens this thread owns, tok % P == me).
static void run_slice(const wgrad_job *j, int r0, int r1, int me, int P) {
    if (j->kind == WG_EMBED) {
        k_embed_bwd(j->dw, j->dout, j->tok, j->N, j->IC, j->row0, me, P);
        return;
    }
    if (r1 <= r0) return;
    if (j->kind == WG_VEC) {
        for (int r = r0; r < r1; r++) j->dw[r] += j->dout[r];
        return;
    }
    gemm_f32(GEMM_TN, j->dw + (size_t)r0 * j->IC, j->IC, j->dout + r0, j->ld_dout, j->inp, j->IC, r1 - r0, j->IC,
             j->N, 1);
}

void wgrad_phase(wgrad_ctx *c) {
    wgrad_team *t = c->team;
    if (!t) return;
#pragma omp barrier
    int P = t->P, me = c->lane;
    // lanes in order, so every element sums its lanes' contributions in the same order
    for (int k = 0; k < P; k++)
        for (int i = 0; i < t->njobs[k]; i++) {
            const wgrad_job *j = &t->jobs[k][i];
            run_slice(j, (int)((long)j->OC * me / P), (int)((long)j->OC * (me + 1) / P), me, P);
        }
#pragma omp barrier
    t->njobs[me] = 0;
}
