// Our GEMM (src/model/gemm.c) against OpenBLAS on one thread, on the products a row lane of the
// bench configs runs (512 rows; forward NT, input-gradient NN, weight-gradient TN), in the same run,
// alternating. Prints GFLOP/s of both per shape, the geometric mean ratio last:
//   gemm ratio=R (ours=X ref=Y GFLOP/s)
// Run it through bench/gemm.sh (one thread for both).
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "base/log.h"
#include "model/gemm.h"

static const char *op_name[] = {"NT", "NN", "TN"};

// GFLOP/s of ~1.5 GFLOP of products of this shape (one product first, untimed)
static double rate(int op, float *c, const float *a, const float *b, int M, int N, int K) {
    int lda = op == GEMM_TN ? M : K, ldb = op == GEMM_NT ? K : N;
    int reps = (int)(1.5e9 / (2.0 * M * N * K)) + 1;
    gemm_f32(op, c, N, a, lda, b, ldb, M, N, K, 0);
    double t0 = time_now();
    for (int r = 0; r < reps; r++) gemm_f32(op, c, N, a, lda, b, ldb, M, N, K, op == GEMM_TN);
    return 2.0 * M * N * K * reps / (time_now() - t0) / 1e9;
}

int main(void) {
    static const int shapes[][3] = {{512, 512, 512}, {512, 256, 512}, {512, 1536, 512}, {512, 512, 1536}};
    size_t n = (size_t)1536 * 1536;
    float *a = malloc(n * sizeof(float)), *b = malloc(n * sizeof(float)), *c = malloc(n * sizeof(float));
    for (size_t i = 0; i < n; i++) a[i] = (float)(i % 7) * 0.1f, b[i] = (float)(i % 5) * 0.1f, c[i] = 0.0f;
    if (!gemm_uses_own(512, 512, 512)) printf("note: this build runs every product on OpenBLAS (no AVX-512)\n");
    double lo = 0, lr = 0, so = 0, sr = 0;
    int cnt = 0;
    for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++)
        for (int op = GEMM_NT; op <= GEMM_TN; op++) {
            int M = shapes[s][0], N = shapes[s][1], K = shapes[s][2];
            double best[2] = {0, 0};
            for (int round = 0; round < 2; round++)
                for (int blas = 0; blas <= 1; blas++) {
                    gemm_set_blas_only(blas);
                    double g = rate(op, c, a, b, M, N, K);
                    best[blas] = g > best[blas] ? g : best[blas];
                }
            gemm_set_blas_only(0);
            printf("%s M=%d N=%d K=%d: ours %.1f OpenBLAS %.1f GFLOP/s (x%.2f)\n", op_name[op], M, N, K, best[0],
                   best[1], best[0] / best[1]);
            lo += log(best[0]), lr += log(best[1]), so += best[0], sr += best[1], cnt++;
        }
    printf("gemm ratio=%.2f (ours=%.1f ref=%.1f GFLOP/s)\n", exp((lo - lr) / cnt), so / cnt, sr / cnt);
    free(a), free(b), free(c);
    return 0;
}
