// Data parallelism over MPI (OpenMPI, `mpirun -np N build/onerec train ...`). Built with
// ONEREC_MPI (make MPI=1); otherwise a single-process stub with the same calls, so the trainer
// has one code path. Every rank runs the same program; rank 0 writes files and logs.
#pragma once
#include <stddef.h>

// Initialises MPI when built with it and launched under mpirun (harmless otherwise).
int dist_init(int *argc, char ***argv);
void dist_finalize(void);
int dist_rank(void);
int dist_size(void);
int dist_enabled(void);   // 1 when built with MPI

// In-place reductions over all ranks (no-ops in a single process).
int dist_allreduce_sum_f32(float *buf, size_t n);
int dist_allreduce_avg_f32(float *buf, size_t n);
int dist_allreduce_sum_f64(double *buf, size_t n);
int dist_allreduce_max_i64(long long *buf, size_t n);
int dist_broadcast(void *buf, size_t nbytes, int root);
int dist_barrier(void);
// Aborts every rank (after an error on one of them that the others cannot see).
void dist_abort(int code);
