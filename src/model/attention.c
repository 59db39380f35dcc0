// Varlen causal attention for packed rows. Each sample is a contiguous block of equal seg ids;
// work is done per (block, head, query tile) with BLAS on strided head views, so a row of many
// short samples costs sum(len^2), not T^2, and no T x T mask exists. Backward recomputes the
// probabilities from the saved log-sum-exp (flash-attention style) instead of storing them.
#include <cblas.h>
#include <math.h>
#include <stdlib.h>

#include "model/kernels.h"

#define TILE 64

typedef struct {
    int base;       // first token of the row (b * T)
    int s0, s1;     // sample block [s0, s1) within the row
} blk;

// Sample blocks of all rows; returns the count (array malloc'd into *out).
static int find_blocks(blk **out, const int *seg, int B, int T) {
    int cap = B, n = 0;
    blk *v = malloc((size_t)cap * sizeof *v);
    for (int b = 0; b < B; b++) {
        int s = 0;
        while (s < T) {
            int e = s + 1;
            if (seg)
                while (e < T && seg[b * T + e] == seg[b * T + s]) e++;
            else
                e = T;
            if (n == cap) v = realloc(v, (size_t)(cap *= 2) * sizeof *v);
            v[n++] = (blk){b * T, s, e};
            s = e;
        }
    }
    *out = v;
    return n;
}

// S [rows, nk] = scale * Q K^T masked causally (row r is query i0+r; key c is s0+c), then
// softmax in place; lse [rows] written when not NULL, else read (recompute for backward).
static void scores_softmax(float *S, float *lse, int lse_stride, int recompute, const float *q,
                           const float *k, int rows, int nk, int D, int ldq, int ldk, int i0, int s0,
                           float scale) {
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, rows, nk, D, scale, q, ldq, k, ldk, 0.0f, S, nk);
    for (int r = 0; r < rows; r++) {
        float *s = S + (size_t)r * nk;
        int valid = i0 + r - s0 + 1;   // keys 0..valid-1
        if (recompute) {
            float l = lse[(size_t)r * lse_stride];
            for (int c = 0; c < valid; c++) s[c] = k_exp(s[c] - l);
        } else {
            float mx = -INFINITY;
#pragma omp simd reduction(max : mx)
            for (int c = 0; c < valid; c++) mx = s[c] > mx ? s[c] : mx;
            float sum = 0.0f;
#pragma omp simd reduction(+ : sum)
            for (int c = 0; c < valid; c++) {
                s[c] = k_exp(s[c] - mx);
                sum += s[c];
            }
            float inv = 1.0f / sum;
            for (int c = 0; c < valid; c++) s[c] *= inv;
            lse[(size_t)r * lse_stride] = mx + logf(sum);
        }
        for (int c = valid; c < nk; c++) s[c] = 0.0f;
    }
}

void k_attention(float *out, float *lse, const float *q, const float *k, const float *v, const int *seg,
                 int B, int T, int nH, int nKV, int D) {
    blk *bl;
    int nb = find_blocks(&bl, seg, B, T);
    // tasks: (block, head, tile), enumerated through a prefix count of tiles per block
    int *first = malloc((size_t)(nb + 1) * sizeof *first);
    first[0] = 0;
    for (int i = 0; i < nb; i++) first[i + 1] = first[i] + (bl[i].s1 - bl[i].s0 + TILE - 1) / TILE;
    int ntask = first[nb] * nH, group = nH / nKV;
    int ldq = nH * D, ldk = nKV * D;
    float scale = 1.0f / sqrtf((float)D);
#pragma omp parallel
    {
        float *S = malloc((size_t)TILE * T * sizeof(float));
        int bi = 0;
#pragma omp for schedule(dynamic, 1)
        for (int task = 0; task < ntask; task++) {
            int h = task % nH, tile = task / nH;
            while (first[bi + 1] <= tile) bi++;
            while (first[bi] > tile) bi--;
            const blk *x = &bl[bi];
            int i0 = x->s0 + (tile - first[bi]) * TILE, i1 = i0 + TILE < x->s1 ? i0 + TILE : x->s1;
            int rows = i1 - i0, nk = i1 - x->s0, kvh = h / group;
            const float *qp = q + (size_t)(x->base + i0) * ldq + h * D;
            const float *kp = k + (size_t)(x->base + x->s0) * ldk + kvh * D;
            const float *vp = v + (size_t)(x->base + x->s0) * ldk + kvh * D;
            scores_softmax(S, lse + (size_t)(x->base + i0) * nH + h, nH, 0, qp, kp, rows, nk, D, ldq, ldk,
                           i0, x->s0, scale);
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, rows, D, nk, 1.0f, S, nk, vp, ldk, 0.0f,
                        out + (size_t)(x->base + i0) * ldq + h * D, ldq);
        }
        free(S);
    }
    free(first);
    free(bl);
}

void k_attention_bwd(float *dq, float *dk, float *dv, const float *dout, const float *out,
                     const float *lse, const float *q, const float *k, const float *v, const int *seg,
                     int B, int T, int nH, int nKV, int D) {
    blk *bl;
    int nb = find_blocks(&bl, seg, B, T);
    int group = nH / nKV, ldq = nH * D, ldk = nKV * D, ntask = nb * nKV;
    float scale = 1.0f / sqrtf((float)D);
    // one task owns a (block, kv head): its dk/dv rows and the dq of its query heads
#pragma omp parallel
    {
        float *P = malloc((size_t)TILE * T * sizeof(float));
        float *dP = malloc((size_t)TILE * T * sizeof(float));
#pragma omp for schedule(dynamic, 1)
        for (int task = 0; task < ntask; task++) {
            const blk *x = &bl[task / nKV];
            int kvh = task % nKV;
            size_t kb = (size_t)(x->base + x->s0) * ldk + kvh * D;
            for (int h = kvh * group; h < (kvh + 1) * group; h++) {
                for (int i0 = x->s0; i0 < x->s1; i0 += TILE) {
                    int i1 = i0 + TILE < x->s1 ? i0 + TILE : x->s1;
                    int rows = i1 - i0, nk = i1 - x->s0;
                    size_t qb = (size_t)(x->base + i0) * ldq + h * D;
                    scores_softmax(P, (float *)lse + (size_t)(x->base + i0) * nH + h, nH, 1, q + qb, k + kb,
                                   rows, nk, D, ldq, ldk, i0, x->s0, scale);
                    // dV += P^T dO
                    cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, nk, D, rows, 1.0f, P, nk, dout + qb,
                                ldq, 1.0f, dv + kb, ldk);
                    // dP = dO V^T
                    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, rows, nk, D, 1.0f, dout + qb, ldq,
                                v + kb, ldk, 0.0f, dP, nk);
                    // dS = P * (dP - rowsum(dO * O)), scaled into the score derivative
                    for (int r = 0; r < rows; r++) {
                        const float *o = out + qb + (size_t)r * ldq, *d = dout + qb + (size_t)r * ldq;
                        float di = 0.0f;
#pragma omp simd reduction(+ : di)
                        for (int j = 0; j < D; j++) di += o[j] * d[j];
                        float *p = P + (size_t)r * nk, *dp = dP + (size_t)r * nk;
                        for (int c = 0; c < nk; c++) dp[c] = p[c] * (dp[c] - di) * scale;
                    }
                    // dQ += dS K ; dK += dS^T Q
                    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, rows, D, nk, 1.0f, dP, nk, k + kb,
                                ldk, 1.0f, dq + qb, ldq);
                    cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, nk, D, rows, 1.0f, dP, nk, q + qb, ldq,
                                1.0f, dk + kb, ldk);
                }
            }
        }
        free(P);
        free(dP);
    }
    free(bl);
}

void k_attention_causal(float *out, const float *q, const float *k, const float *v, int nq, int q0, int nH,
                        int nKV, int D) {
    int ntile = (nq + TILE - 1) / TILE, group = nH / nKV, ldq = nH * D, ldk = nKV * D, nkmax = q0 + nq;
    float scale = 1.0f / sqrtf((float)D);
#pragma omp parallel
    {
        float *S = malloc((size_t)TILE * nkmax * sizeof(float));
        float lse[TILE];
#pragma omp for schedule(dynamic, 1)
        for (int task = 0; task < ntile * nH; task++) {
            int h = task % nH, r0 = (task / nH) * TILE, rows = nq - r0 < TILE ? nq - r0 : TILE;
            int nk = q0 + r0 + rows, kvh = h / group;
            scores_softmax(S, lse, 1, 0, q + (size_t)r0 * ldq + h * D, k + kvh * D, rows, nk, D, ldq, ldk, q0 + r0,
                           0, scale);
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, rows, D, nk, 1.0f, S, nk, v + kvh * D, ldk, 0.0f,
                        out + (size_t)r0 * ldq + h * D, ldq);
        }
        free(S);
    }
}
