// Our GEMM (src/model/gemm.c) against a float64 triple loop, for the three layouts the model uses,
// both write modes, row strides wider than the rows, and sizes that leave partial register tiles,
// depth blocks and column blocks; on one thread, and from two threads at once (each thread packs
// into its own buffer). Where the build has no AVX-512 every product goes to OpenBLAS and the same
// checks hold.
#include <omp.h>
#include <string.h>

#include "base/rng.h"
#include "model/gemm.h"
#include "test.h"

typedef struct {
    int M, N, K;
} shape;

// c [M, N] (= or +=) op(a) op(b), in float64
static void ref_gemm(int op, double *c, int ldc, const float *a, int lda, const float *b, int ldb, int M, int N,
                     int K, int acc) {
    for (int i = 0; i < M; i++)
        for (int j = 0; j < N; j++) {
            double s = acc ? c[(size_t)i * ldc + j] : 0.0;
            for (int k = 0; k < K; k++) {
                double x = op == GEMM_TN ? a[(size_t)k * lda + i] : a[(size_t)i * lda + k];
                double y = op == GEMM_NT ? b[(size_t)j * ldb + k] : b[(size_t)k * ldb + j];
                s += x * y;
            }
            c[(size_t)i * ldc + j] = s;
        }
}

static void fill(float *x, size_t n, uint64_t seed) {
    rng r;
    rng_seed(&r, seed);
    for (size_t i = 0; i < n; i++) x[i] = (float)rng_uniform(&r) - 0.5f;
}

// Max error of gemm_f32 against the reference relative to sqrt(K) (the size of a sum of K
// products of values in [-0.5, 0.5)); also checks that c outside the M x N block is untouched.
static double run_case(int op, shape s, int acc, uint64_t seed) {
    int M = s.M, N = s.N, K = s.K;
    int lda = (op == GEMM_TN ? M : K) + 3, ldb = (op == GEMM_NT ? K : N) + 5, ldc = N + 7;
    size_t na = (size_t)(op == GEMM_TN ? K : M) * lda, nb = (size_t)(op == GEMM_NT ? N : K) * ldb;
    size_t nc = (size_t)M * ldc;
    float *a = malloc(na * sizeof(float)), *b = malloc(nb * sizeof(float)), *c = malloc(nc * sizeof(float));
    double *r = malloc(nc * sizeof(double));
    fill(a, na, seed), fill(b, nb, seed + 1), fill(c, nc, seed + 2);
    for (size_t i = 0; i < nc; i++) r[i] = c[i];
    gemm_f32(op, c, ldc, a, lda, b, ldb, M, N, K, acc);
    ref_gemm(op, r, ldc, a, lda, b, ldb, M, N, K, acc);
    double e = 0.0;
    int outside = 0;
    for (int i = 0; i < M; i++)
        for (int j = 0; j < ldc; j++) {
            double d = fabs(c[(size_t)i * ldc + j] - r[(size_t)i * ldc + j]);
            if (j < N) e = d > e ? d : e;
            else outside += d != 0.0;
        }
    CHECK_MSG(outside == 0, "op %d %dx%dx%d wrote %d values past its columns", op, M, N, K, outside);
    free(a), free(b), free(c), free(r);
    return e / sqrt((double)K);
}

// tiles of 14 x 32, depth blocks of 256, column blocks of 2048: full, partial and single ones
static const shape shapes[] = {
    {28, 32, 16},    {29, 33, 17},     {100, 70, 300}, {513, 257, 129}, {42, 64, 512},
    {57, 2080, 40},  {1100, 40, 600},  {30, 95, 257},  {256, 512, 512},
};
enum { NSHAPES = sizeof shapes / sizeof shapes[0] };

static void test_layouts_one_thread(void) {
    int saved = omp_get_max_threads();
    omp_set_num_threads(1);
    double worst = 0.0;
    for (int i = 0; i < NSHAPES; i++) {
#ifdef __AVX512F__
        CHECK_MSG(gemm_uses_own(shapes[i].M, shapes[i].N, shapes[i].K), "%dx%dx%d not on our kernel",
                  shapes[i].M, shapes[i].N, shapes[i].K);
#endif
        for (int op = GEMM_NT; op <= GEMM_TN; op++)
            for (int acc = 0; acc <= 1; acc++) {
                double e = run_case(op, shapes[i], acc, 100 + 10 * i + 2 * op + acc);
                CHECK_MSG(e < 1e-6, "op %d acc %d %dx%dx%d: error %.2e", op, acc, shapes[i].M, shapes[i].N,
                          shapes[i].K, e);
                worst = e > worst ? e : worst;
            }
    }
    printf("gemm: %d shapes x 3 layouts x 2 modes, max error / sqrt(K) %.2e\n", NSHAPES, worst);
    omp_set_num_threads(saved);
}

// The same products from two threads at once (inside a parallel region, where the model's row
// lanes call them), and on OpenBLAS for comparison: all within the same tolerance.
static void test_concurrent_and_blas(void) {
    double e[2] = {0, 0};
#pragma omp parallel num_threads(2)
    {
        int me = omp_get_thread_num();
        for (int i = me; i < NSHAPES; i += 2)
            for (int op = GEMM_NT; op <= GEMM_TN; op++) {
                double x = run_case(op, shapes[i], 1, 900 + 3 * i + op);
                e[me] = x > e[me] ? x : e[me];
            }
    }
    CHECK(e[0] < 1e-6 && e[1] < 1e-6);
    gemm_set_blas_only(1);
    CHECK(!gemm_uses_own(256, 512, 512));
    double eb = run_case(GEMM_NT, shapes[3], 1, 77);
    gemm_set_blas_only(0);
    CHECK(eb < 1e-6);
    // products too small for packing, and vocabulary-wide ones, go to OpenBLAS
    CHECK(!gemm_uses_own(1, 512, 512));
    CHECK(!gemm_uses_own(256, 151936, 512));
    printf("gemm: two threads at once max error %.2e / %.2e, OpenBLAS %.2e\n", e[0], e[1], eb);
}

int main(void) {
    RUN(test_layouts_one_thread);
    RUN(test_concurrent_and_blas);
    return test_summary("test_gemm");
}
