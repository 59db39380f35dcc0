// OpenBLAS keeps its own pool, so omp_set_num_threads alone would not cap a GEMM.
#include "base/threads.h"

#include <cblas.h>
#include <omp.h>

void threads_set(int n) {
    if (n > 0) {
        omp_set_num_threads(n);
        openblas_set_num_threads(n);
    }
}
