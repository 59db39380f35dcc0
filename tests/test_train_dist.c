// The MPI layer. As a plain test (make test) it checks the single-process behaviour; under
// `mpirun -np N` (tests/test_mpi.sh links it against the MPI build of src/train/dist.c) every
// rank checks sums, averages, maxima and broadcasts across ranks.
#include <stdlib.h>
#include <string.h>

#include "base/mem.h"
#include "test.h"
#include "train/dist.h"

static void test_reductions(void) {
    int r = dist_rank(), w = dist_size();
    CHECK(r >= 0 && r < w);
    if (!dist_enabled()) CHECK(w == 1 && r == 0);
    size_t n = 3000001;   // odd, larger than one message, exercising the in-place path
    float *a = mem_alloc(sizeof(float) * n);
    for (size_t i = 0; i < n; i++) a[i] = (float)((r + 1) * (int)(i % 7));
    CHECK_OK(dist_allreduce_sum_f32(a, n));
    int ok = 1;
    float tri = (float)(w * (w + 1) / 2);
    for (size_t i = 0; i < n; i++) ok &= a[i] == tri * (float)(i % 7);
    CHECK(ok);
    for (size_t i = 0; i < n; i++) a[i] = (float)(r * 2 + 1);
    CHECK_OK(dist_allreduce_avg_f32(a, n));
    ok = 1;
    for (size_t i = 0; i < n; i++) ok &= a[i] == (float)w;   // mean of 1, 3, 5, ... = w
    CHECK(ok);
    free(a);
    double d[2] = {0.5 * r, 1};
    CHECK_OK(dist_allreduce_sum_f64(d, 2));
    CHECK(d[0] == 0.25 * w * (w - 1) && d[1] == w);
    long long m[1] = {100 + r};
    CHECK_OK(dist_allreduce_max_i64(m, 1));
    CHECK(m[0] == 100 + w - 1);
    char msg[32] = "";
    if (r == 0) strcpy(msg, "from rank zero");
    CHECK_OK(dist_broadcast(msg, sizeof msg, 0));
    CHECK(!strcmp(msg, "from rank zero"));
    CHECK_OK(dist_barrier());
}

int main(int argc, char **argv) {
    if (dist_init(&argc, &argv)) {
        fprintf(stderr, "%s\n", err_msg());
        return 1;
    }
    RUN(test_reductions);
    int fails = t_tests_failed, rank = dist_rank(), size = dist_size();
    // every rank must pass; rank 0 prints the one summary line with the rank count
    long long f[1] = {fails};
    dist_allreduce_max_i64(f, 1);
    dist_finalize();
    if (rank != 0) return f[0] ? 1 : 0;
    t_tests_failed = (int)f[0];
    if (f[0]) t_tests_passed = 0;
    char name[64];
    snprintf(name, sizeof name, size > 1 ? "test_train_dist_np%d" : "test_train_dist", size);
    return test_summary(name);
}
