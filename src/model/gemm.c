// Our single-threaded fp32 GEMM (see gemm.h). A row lane's products are 512-row products on one
// core; OpenBLAS runs those at ~65% of the core's FMA peak, a fifth of its time going to packing
// copies and clearing. Here, per block of KC depths: a is packed once into MR-row tiles (kept in
// L2), b one NR-column panel at a time (kept in L1), and an MR x NR tile of c stays in registers
// across the whole block (GotoBLAS's loop order with BLIS-style broadcast micro-kernel).
#include "model/gemm.h"

#include <cblas.h>
#include <omp.h>
#include <stdlib.h>
#include <string.h>

static int g_blas_only;

void gemm_set_blas_only(int on) { g_blas_only = on; }

static void gemm_blas(int op, float *c, int ldc, const float *a, int lda, const float *b, int ldb, int M, int N,
                      int K, int acc) {
    enum CBLAS_TRANSPOSE ta = op == GEMM_TN ? CblasTrans : CblasNoTrans;
    enum CBLAS_TRANSPOSE tb = op == GEMM_NT ? CblasTrans : CblasNoTrans;
    cblas_sgemm(CblasRowMajor, ta, tb, M, N, K, 1.0f, a, lda, b, ldb, acc ? 1.0f : 0.0f, c, ldc);
}

#if defined(__AVX512F__)
#include <immintrin.h>

#define MR 14     // rows of a register tile: 2 x 14 accumulators + 2 b vectors + 1 broadcast of 32 zmm
#define NR 32     // columns of a register tile (two vectors)
#define KC 256    // depths per block: an NR panel of b is 32 KiB (L1)
// strided rows are fetched this many rows ahead while packing (the hardware prefetcher does not
// follow row strides of several KiB)
#define PF_ROWS 8
#define BIG_DIM 8192   // beyond this in any dimension a product goes to OpenBLAS
#define NC 2048   // columns per block of c: the block stays in cache across the depth blocks
#define MC 1008   // rows per packed block of a (72 tiles, <= 1 MiB: L2)

int gemm_uses_own(int M, int N, int K) {
    if (g_blas_only || M < 2 * MR || N < NR || K < 16) return 0;
    // vocabulary-wide products stream a weight matrix of 100+ MiB from memory: OpenBLAS overlaps
    // that better than our one-panel-at-a-time packing (prefill of the 151,936-vocabulary model:
    // 1,059 vs 1,008 tokens/s with them on ours)
    if (M > BIG_DIM || N > BIG_DIM || K > BIG_DIM) return 0;
    return omp_in_parallel() || omp_get_max_threads() == 1;
}

// r[0..15] (the rows of a 16 x 16 block) become its columns: pairs, then quads, then 128-bit lanes.
static inline void transpose16(__m512 r[16]) {
    __m512 t[16];
    for (int i = 0; i < 16; i += 2) {
        t[i] = _mm512_unpacklo_ps(r[i], r[i + 1]);
        t[i + 1] = _mm512_unpackhi_ps(r[i], r[i + 1]);
    }
    for (int i = 0; i < 16; i += 4) {
        __m512d a = _mm512_castps_pd(t[i]), b = _mm512_castps_pd(t[i + 1]);
        __m512d c = _mm512_castps_pd(t[i + 2]), d = _mm512_castps_pd(t[i + 3]);
        r[i] = _mm512_castpd_ps(_mm512_unpacklo_pd(a, c));
        r[i + 1] = _mm512_castpd_ps(_mm512_unpackhi_pd(a, c));
        r[i + 2] = _mm512_castpd_ps(_mm512_unpacklo_pd(b, d));
        r[i + 3] = _mm512_castpd_ps(_mm512_unpackhi_pd(b, d));
    }
    // r[4g + q] now holds column q, 4 * (lane) + q of rows 4g..4g+3 in each 128-bit lane
    for (int h = 0; h < 2; h++)
        for (int q = 0; q < 4; q++) {
            t[8 * h + q] = _mm512_shuffle_f32x4(r[8 * h + q], r[8 * h + 4 + q], 0x88);
            t[8 * h + 4 + q] = _mm512_shuffle_f32x4(r[8 * h + q], r[8 * h + 4 + q], 0xdd);
        }
    for (int q = 0; q < 8; q++) {
        r[q] = _mm512_shuffle_f32x4(t[q], t[8 + q], 0x88);
        r[q + 8] = _mm512_shuffle_f32x4(t[q], t[8 + q], 0xdd);
    }
}

static inline __mmask16 mask_first(int n) { return n >= 16 ? 0xFFFF : n <= 0 ? 0 : (__mmask16)((1u << n) - 1); }

// rows [0, rows) of a row-major block (stride ld), depths [0, kc): out[k * ostride + j] = src[j][k]
// for j < width (the first `width` lanes stored; rows past `rows` as zeros), 16 depths at a time.
static void pack_transposed(float *out, int ostride, int width, const float *src, int ld, int rows, int kc) {
    __mmask16 wm = mask_first(width);
    for (int k = 0; k < kc; k += 16) {
        __mmask16 km = mask_first(kc - k);
        __m512 r[16];
        for (int j = 0; j < 16; j++)
            r[j] = j < rows ? _mm512_maskz_loadu_ps(km, src + (size_t)j * ld + k) : _mm512_setzero_ps();
        transpose16(r);
        for (int q = 0; q < 16 && k + q < kc; q++) _mm512_mask_storeu_ps(out + (size_t)(k + q) * ostride, wm, r[q]);
    }
}

// Rows [m0, m0 + mc) and depths [k0, k0 + kc) of op(a) as MR-row tiles: tile t holds ap[k * MR + i]
// (row m0 + t * MR + i, depth k0 + k), rows past mc as zeros.
static void pack_a(float *ap, int op, const float *a, int lda, int m0, int mc, int k0, int kc) {
    for (int t = 0; t < mc; t += MR) {
        int mr = mc - t < MR ? mc - t : MR;
        float *d = ap + (size_t)t * kc;
        if (op == GEMM_TN) {   // a [K, M]: a tile's rows at one depth are contiguous
            __mmask16 m = mask_first(mr);
            for (int k = 0; k < kc; k++) {
                const float *s = a + (size_t)(k0 + k) * lda + m0 + t;
                _mm_prefetch((const char *)(s + PF_ROWS * (size_t)lda), _MM_HINT_T0);
                _mm512_mask_storeu_ps(d + k * MR, mask_first(MR), _mm512_maskz_loadu_ps(m, s));
            }
            continue;
        }
        pack_transposed(d, MR, MR, a + (size_t)(m0 + t) * lda + k0, lda, mr, kc);
    }
}

// Columns [n0, n0 + nr) and depths [k0, k0 + kc) of op(b) as bp[k * NR + j], columns past nr as zeros.
static void pack_b(float *bp, int op, const float *b, int ldb, int n0, int nr, int k0, int kc) {
    if (op != GEMM_NT) {   // b [K, N]: a depth's columns are contiguous
        __mmask16 m0 = mask_first(nr), m1 = mask_first(nr - 16);
        for (int k = 0; k < kc; k++) {
            const float *s = b + (size_t)(k0 + k) * ldb + n0;
            _mm_prefetch((const char *)(s + PF_ROWS * (size_t)ldb), _MM_HINT_T0);
            _mm_prefetch((const char *)(s + PF_ROWS * (size_t)ldb + 16), _MM_HINT_T0);
            _mm512_store_ps(bp + k * NR, _mm512_maskz_loadu_ps(m0, s));
            _mm512_store_ps(bp + k * NR + 16, _mm512_maskz_loadu_ps(m1, s + 16));
        }
        return;
    }
    for (int j = 0; j < NR; j += 16)   // b [N, K]: transposed 16 columns at a time
        pack_transposed(bp + j, NR, 16, b + (size_t)(n0 + j) * ldb + k0, ldb, nr - j, kc);
}

// c [mr, nr] (= or += with acc) ap [kc, MR]^T bp [kc, NR]: the register tile over one depth block.
static void kernel(float *c, int ldc, const float *ap, const float *bp, int kc, int mr, int nr, int acc) {
    __m512 c0[MR], c1[MR];
    // the tile of c is touched only after the depth loop: fetch it now, while the loop runs (c is
    // often larger than L2, and 2 x MR misses at the end would cost a fifth of the tile's time)
    for (int i = 0; i < mr; i++) {
        _mm_prefetch((const char *)(c + (size_t)i * ldc), _MM_HINT_T0);
        _mm_prefetch((const char *)(c + (size_t)i * ldc + 16), _MM_HINT_T0);
    }
#pragma GCC unroll 14
    for (int i = 0; i < MR; i++) c0[i] = c1[i] = _mm512_setzero_ps();
    for (int k = 0; k < kc; k++) {
        __m512 b0 = _mm512_load_ps(bp), b1 = _mm512_load_ps(bp + 16);
#pragma GCC unroll 14
        for (int i = 0; i < MR; i++) {
            __m512 av = _mm512_set1_ps(ap[i]);
            c0[i] = _mm512_fmadd_ps(av, b0, c0[i]);
            c1[i] = _mm512_fmadd_ps(av, b1, c1[i]);
        }
        ap += MR, bp += NR;
    }
    __mmask16 m0 = mask_first(nr), m1 = mask_first(nr - 16);
#pragma GCC unroll 14
    for (int i = 0; i < MR; i++) {
        if (i >= mr) break;
        float *ci = c + (size_t)i * ldc;
        __m512 v0 = c0[i], v1 = c1[i];
        if (acc) {
            v0 = _mm512_add_ps(v0, _mm512_maskz_loadu_ps(m0, ci));
            v1 = _mm512_add_ps(v1, _mm512_maskz_loadu_ps(m1, ci + 16));
        }
        _mm512_mask_storeu_ps(ci, m0, v0);
        _mm512_mask_storeu_ps(ci + 16, m1, v1);
    }
}

// The packed block of a: one per thread, grown to MC x KC floats on first use and kept (a thread's
// lifetime; reachable through the thread-local pointer).
static _Thread_local float *t_ap;

static void gemm_own(int op, float *c, int ldc, const float *a, int lda, const float *b, int ldb, int M, int N,
                     int K, int acc) {
    if (!t_ap) t_ap = aligned_alloc(64, (size_t)MC * KC * sizeof(float));
    if (!t_ap) {   // no memory for the block: OpenBLAS manages its own
        gemm_blas(op, c, ldc, a, lda, b, ldb, M, N, K, acc);
        return;
    }
    _Alignas(64) float bp[KC * NR];
    // columns in blocks of NC: a block of c stays in cache across the depth blocks (a wider c, up to
    // BIG_DIM columns, would otherwise go to memory and back once per depth block)
    for (int nb = 0; nb < N; nb += NC) {
        int ne = N - nb < NC ? N : nb + NC;
        for (int k0 = 0; k0 < K; k0 += KC) {
            int kc = K - k0 < KC ? K - k0 : KC, acck = acc || k0 > 0;
            for (int m0 = 0; m0 < M; m0 += MC) {
                int mc = M - m0 < MC ? M - m0 : MC;
                pack_a(t_ap, op, a, lda, m0, mc, k0, kc);
                for (int n0 = nb; n0 < ne; n0 += NR) {
                    int nr = ne - n0 < NR ? ne - n0 : NR;
                    pack_b(bp, op, b, ldb, n0, nr, k0, kc);
                    for (int t = 0; t < mc; t += MR)
                        kernel(c + (size_t)(m0 + t) * ldc + n0, ldc, t_ap + (size_t)t * kc, bp, kc,
                               mc - t < MR ? mc - t : MR, nr, acck);
                }
            }
        }
    }
}

void gemm_f32(int op, float *c, int ldc, const float *a, int lda, const float *b, int ldb, int M, int N, int K,
              int acc) {
    if (gemm_uses_own(M, N, K))
        gemm_own(op, c, ldc, a, lda, b, ldb, M, N, K, acc);
    else
        gemm_blas(op, c, ldc, a, lda, b, ldb, M, N, K, acc);
}

#else   // no AVX-512 at build time: OpenBLAS for every product

int gemm_uses_own(int M, int N, int K) {
    (void)M, (void)N, (void)K;
    return 0;
}

void gemm_f32(int op, float *c, int ldc, const float *a, int lda, const float *b, int ldb, int M, int N, int K,
              int acc) {
    gemm_blas(op, c, ldc, a, lda, b, ldb, M, N, K, acc);
}
#endif
