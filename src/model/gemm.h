// fp32 matrix products of the model (internal to src/model). With AVX-512 and a single-threaded
// caller (a row lane, or one thread in all) they run on our own kernel; otherwise, and for products
// too small to pay for packing or vocabulary-wide (see gemm_uses_own), on OpenBLAS. Row-major throughout; acc: 0 writes c, 1 adds to it.
#pragma once

enum { GEMM_NT, GEMM_NN, GEMM_TN };

// c [M, N] (row stride ldc), with a's and b's row strides lda and ldb:
//   GEMM_NT: a [M, K], b [N, K]: c = a b^T   (a forward product: inputs times weights^T)
//   GEMM_NN: a [M, K], b [K, N]: c = a b     (an input gradient)
//   GEMM_TN: a [K, M], b [K, N]: c = a^T b   (a weight gradient)
void gemm_f32(int op, float *c, int ldc, const float *a, int lda, const float *b, int ldb, int M, int N, int K,
              int acc);
// 1 where gemm_f32 runs on its own kernel for this shape in the calling context, else 0 (OpenBLAS).
int gemm_uses_own(int M, int N, int K);
// Forces every gemm_f32 call onto OpenBLAS (1) or lets it choose (0): for tests and benchmarks.
void gemm_set_blas_only(int on);
