// Qwen3 kernels (internal to src/model): outputs first, then inputs, then sizes; backward kernels
// accumulate (+=) into weight gradients, and into input gradients where `acc` says so (the first
// writer of a buffer overwrites it, so no buffer is cleared first); a NULL weight-gradient pointer
// skips that work.
#pragma once
#include <stddef.h>
#include <stdint.h>
#include <string.h>

// exp for float that the compiler vectorizes (libm's expf is a scalar call without -ffast-math):
// range reduction by ln2 and a degree-6 polynomial, within ~2 ulp over [-87, 88]; below that it
// returns ~1e-38 instead of 0, which no caller can tell apart after normalisation.
static inline float k_exp(float x) {
    // the comparisons map NaN to the lower bound, so the integer conversion below is always
    // defined; the NaN itself is passed through at the end (a non-finite loss must stay visible)
    float x0 = x;
    x = x > -87.0f ? x : -87.0f;
    x = x < 88.0f ? x : 88.0f;
    // n = round(x / ln2) by the 1.5 * 2^23 shifter (floorf does not vectorise without -ffast-math)
    float n = (x * 1.44269504f + 12582912.0f) - 12582912.0f;
    float r = x - n * 0.693359375f + n * 2.12194440e-4f;
    float p = 1.9875691500e-4f;
    p = p * r + 1.3981999507e-3f;
    p = p * r + 8.3334519073e-3f;
    p = p * r + 4.1665795894e-2f;
    p = p * r + 1.6666665459e-1f;
    p = p * r + 5.0000001201e-1f;
    p = p * r * r + r + 1.0f;
    union { int32_t i; float f; } scale = {.i = ((int32_t)n + 127) << 23};   // 2^n (C11 union pun)
    float y = p * scale.f;
    return x0 == x0 ? y : x0;
}

// out [N, OC] (= or += with acc), inp [N, IC], w [OC, IC]   (out = inp w^T)
void k_matmul(float *out, const float *inp, const float *w, int N, int IC, int OC, int acc);
// The input gradient of k_matmul: dinp [N, IC] (+= with acc, else =) dout w ; dout [N, OC]. The
// weight gradient is wgrad_gemm's (model/wgrad.h): at once, or shared out among row lanes.
void k_matmul_bwd(float *dinp, const float *dout, const float *w, int N, int IC, int OC, int acc);
// out [N, C], rstd [N] (may be NULL), inp [N, C], w [C]
void k_rmsnorm(float *out, float *rstd, const float *inp, const float *w, int N, int C, float eps);
// dinp [N, C] (+= with acc, else =), dw [C] += (may be NULL), dout [N, C], inp [N, C], w [C], rstd [N]
void k_rmsnorm_bwd(float *dinp, float *dw, const float *dout, const float *inp, const float *w,
                   const float *rstd, int N, int C, int acc);
// x [N, H, D] rotated in place by the half-split rope at positions pos [N]; inverse=1 undoes it
// (the backward of a rotation is the rotation by the negated angle).
void k_rope(float *x, const int *pos, int N, int H, int D, float theta, int inverse);
// h [N, F] = silu(g) * u ; g, u [N, F]
void k_swiglu(float *h, const float *g, const float *u, size_t n);
// dg, du [N, F] = (written, not accumulated), dh [N, F], g, u [N, F]
void k_swiglu_bwd(float *dg, float *du, const float *dh, const float *g, const float *u, size_t n);
// out [N, C] = embed[tok]
void k_embed(float *out, const float *embed, const int *tok, int N, int C);
// dembed [V, C] += dout rows at tok: only tokens >= row0 with tok % nparts == part (a row lane's
// share of the embedding rows; part 0 of 1 for all)
void k_embed_bwd(float *dembed, const float *dout, const int *tok, int N, int C, int row0, int part, int nparts);

// Attention over packed rows, per sample block. q [N, nH, D], k/v [N, nKV, D] (N = B*T, rows of
// T), out [N, nH, D], lse [N, nH] (log-sum-exp of the scaled scores, kept for backward).
// seg [N] (NULL: one sample per row) delimits samples; causal inside each sample.
void k_attention(float *out, float *lse, const float *q, const float *k, const float *v, const int *seg,
                 int B, int T, int nH, int nKV, int D);
// dq [N, nH, D], dk/dv [N, nKV, D] +=; recomputes the probabilities from lse.
void k_attention_bwd(float *dq, float *dk, float *dv, const float *dout, const float *out,
                     const float *lse, const float *q, const float *k, const float *v, const int *seg,
                     int B, int T, int nH, int nKV, int D);
// One sequence's new queries against its keys (KV-cache prefill): q/out [nq, nH, D], k/v [nk, nKV, D]
// with nk = q0 + nq; query r sits at position q0 + r and attends keys 0..q0+r.
void k_attention_causal(float *out, const float *q, const float *k, const float *v, int nq, int q0, int nH,
                        int nKV, int D);
