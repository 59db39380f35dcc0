// Elementwise and GEMM kernels of the Qwen3 model (see kernels.h for shapes).
#include "model/kernels.h"
#include "model/gemm.h"

#include <math.h>
#include <omp.h>
#include <stdlib.h>
#include <string.h>

void k_matmul(float *out, const float *inp, const float *w, int N, int IC, int OC, int acc) {
    gemm_f32(GEMM_NT, out, OC, inp, IC, w, IC, N, OC, IC, acc);
}

void k_matmul_bwd(float *dinp, const float *dout, const float *w, int N, int IC, int OC, int acc) {
    // [N, IC] (+)= [N, OC] [OC, IC]
    gemm_f32(GEMM_NN, dinp, IC, dout, OC, w, IC, N, IC, OC, acc);
}

void k_rmsnorm(float *out, float *rstd, const float *inp, const float *w, int N, int C, float eps) {
#pragma omp parallel for schedule(static)
    for (int i = 0; i < N; i++) {
        const float *x = inp + (size_t)i * C;
        float *y = out + (size_t)i * C;
        float ss = 0.0f;
#pragma omp simd reduction(+ : ss)
        for (int j = 0; j < C; j++) ss += x[j] * x[j];
        float r = 1.0f / sqrtf(ss / C + eps);
        if (rstd) rstd[i] = r;
        for (int j = 0; j < C; j++) y[j] = w[j] * (x[j] * r);
    }
}

void k_rmsnorm_bwd(float *dinp, float *dw, const float *dout, const float *inp, const float *w,
                   const float *rstd, int N, int C, int acc) {
    // each thread sums its rows' weight gradient into its own slice; the slices are then added in
    // thread order, so the result does not depend on which thread finishes first
    int nt = omp_get_max_threads();
    float *part = dw ? calloc((size_t)nt * C, sizeof(float)) : NULL;
#pragma omp parallel num_threads(nt)
    {
        float *dwl = part ? part + (size_t)omp_get_thread_num() * C : NULL;
#pragma omp for schedule(static)
        for (int i = 0; i < N; i++) {
            const float *x = inp + (size_t)i * C, *dy = dout + (size_t)i * C;
            float *dx = dinp + (size_t)i * C;
            float r = rstd[i], dot = 0.0f;
#pragma omp simd reduction(+ : dot)
            for (int j = 0; j < C; j++) dot += w[j] * dy[j] * x[j];
            float c = dot * r * r * r / C;
            if (acc)
                for (int j = 0; j < C; j++) dx[j] += r * w[j] * dy[j] - c * x[j];
            else
                for (int j = 0; j < C; j++) dx[j] = r * w[j] * dy[j] - c * x[j];
            if (dwl)
                for (int j = 0; j < C; j++) dwl[j] += dy[j] * x[j] * r;
        }
    }
    if (part) {
        for (int t = 0; t < nt; t++)
            for (int j = 0; j < C; j++) dw[j] += part[(size_t)t * C + j];
        free(part);
    } else if (dw) {   // no memory for the slices: the same sums in one pass, never a lost gradient
        for (int i = 0; i < N; i++) {
            const float *x = inp + (size_t)i * C, *dy = dout + (size_t)i * C;
            for (int j = 0; j < C; j++) dw[j] += dy[j] * x[j] * rstd[i];
        }
    }
}

void k_rope(float *x, const int *pos, int N, int H, int D, float theta, int inverse) {
    int half = D / 2;
    float inv[1024];   // D <= 2048
    for (int i = 0; i < half; i++) inv[i] = 1.0f / powf(theta, (float)(2 * i) / (float)D);
#pragma omp parallel for schedule(static)
    for (int t = 0; t < N; t++) {
        float cs[1024], sn[1024];
        for (int i = 0; i < half; i++) {
            // float angle as in the HF reference, so long positions round the same way
            float a = (float)pos[t] * inv[i];
            cs[i] = cosf(a);
            sn[i] = inverse ? -sinf(a) : sinf(a);
        }
        for (int h = 0; h < H; h++) {
            float *v = x + ((size_t)t * H + h) * D;
            for (int i = 0; i < half; i++) {
                float a = v[i], b = v[i + half];
                v[i] = a * cs[i] - b * sn[i];
                v[i + half] = b * cs[i] + a * sn[i];
            }
        }
    }
}

// The elementwise loops run over spans of at most SPAN elements, one span per OpenMP iteration,
// with `omp simd` inner loops (k_exp included); h may be g itself (the KV-cache path does that).
#define SPAN 4096

static void swiglu_span(float *h, const float *g, const float *u, size_t n) {
#pragma omp simd
    for (size_t i = 0; i < n; i++) {
        float s = 1.0f / (1.0f + k_exp(-g[i]));
        h[i] = g[i] * s * u[i];
    }
}

void k_swiglu(float *h, const float *g, const float *u, size_t n) {
    long ns = (long)((n + SPAN - 1) / SPAN);
#pragma omp parallel for schedule(static)
    for (long k = 0; k < ns; k++) {
        size_t o = (size_t)k * SPAN;
        swiglu_span(h + o, g + o, u + o, n - o < SPAN ? n - o : SPAN);
    }
}

static void swiglu_bwd_span(float *dg, float *du, const float *dh, const float *g, const float *u, size_t n) {
#pragma omp simd
    for (size_t i = 0; i < n; i++) {
        float s = 1.0f / (1.0f + k_exp(-g[i]));
        dg[i] = dh[i] * u[i] * s * (1.0f + g[i] * (1.0f - s));
        du[i] = dh[i] * g[i] * s;
    }
}

void k_swiglu_bwd(float *dg, float *du, const float *dh, const float *g, const float *u, size_t n) {
    long ns = (long)((n + SPAN - 1) / SPAN);
#pragma omp parallel for schedule(static)
    for (long k = 0; k < ns; k++) {
        size_t o = (size_t)k * SPAN;
        swiglu_bwd_span(dg + o, du + o, dh + o, g + o, u + o, n - o < SPAN ? n - o : SPAN);
    }
}

void k_embed(float *out, const float *embed, const int *tok, int N, int C) {
#pragma omp parallel for schedule(static)
    for (int i = 0; i < N; i++) memcpy(out + (size_t)i * C, embed + (size_t)tok[i] * C, C * sizeof(float));
}

void k_embed_bwd(float *dembed, const float *dout, const int *tok, int N, int C, int row0, int part, int nparts) {
    // serial: the same token may repeat and rows would race; N*C is small next to the GEMMs
    for (int i = 0; i < N; i++) {
        if (tok[i] < row0 || tok[i] % nparts != part) continue;
        float *d = dembed + (size_t)tok[i] * C;
        const float *s = dout + (size_t)i * C;
        for (int j = 0; j < C; j++) d[j] += s[j];
    }
}
