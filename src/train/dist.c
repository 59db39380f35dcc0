#include "train/dist.h"

#include <limits.h>
#include <stdlib.h>

#include "base/err.h"

#ifdef ONEREC_MPI
#include <mpi.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static int g_init_here;
static char g_term_msg[256];
static size_t g_term_len;

// When a rank dies, mpirun names it ("process rank 1 ... exited on signal 9") and stops the others
// with SIGTERM: each survivor says so in its own words instead of vanishing without a line.
// Checkpoints are written to .stepN.partial and renamed, so `latest` still names a complete one.
static void on_term(int sig) {
    ssize_t w = write(STDERR_FILENO, g_term_msg, g_term_len);
    (void)w;
    _exit(128 + sig);
}

static void watch_term(void) {
    int rank = 0, size = 1;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &size);
    if (size < 2) return;
    snprintf(g_term_msg, sizeof g_term_msg,
             "onerec: rank %d of %d stopped by the MPI launcher (a rank was lost or the job was cancelled: see mpirun's message); "
             "the checkpoint named by OUT/latest is complete\n", rank, size);
    g_term_len = strlen(g_term_msg);
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_term;
    sigaction(SIGTERM, &sa, NULL);
}

int dist_init(int *argc, char ***argv) {
    int ok = 0;
    MPI_Initialized(&ok);
    if (ok) return 0;
    if (MPI_Init(argc, argv) != MPI_SUCCESS) return err_set("MPI_Init failed");
    g_init_here = 1;
    watch_term();
    return 0;
}

void dist_finalize(void) {
    int fin = 0;
    MPI_Finalized(&fin);
    if (g_init_here && !fin) MPI_Finalize();
    g_init_here = 0;
}

static int live(void) {
    int ok = 0, fin = 0;
    MPI_Initialized(&ok);
    MPI_Finalized(&fin);
    return ok && !fin;
}

int dist_rank(void) {
    int r = 0;
    if (live()) MPI_Comm_rank(MPI_COMM_WORLD, &r);
    return r;
}

int dist_size(void) {
    int n = 1;
    if (live()) MPI_Comm_size(MPI_COMM_WORLD, &n);
    return n;
}

int dist_enabled(void) { return 1; }

// MPI counts are ints: large buffers go in chunks of at most 2^30 elements.
static int allreduce(void *buf, size_t n, size_t elem, MPI_Datatype t, MPI_Op op) {
    if (!live() || dist_size() == 1) return 0;
    const size_t chunk = (size_t)1 << 30;
    char *p = buf;
    for (size_t off = 0; off < n; off += chunk) {
        int cnt = (int)(n - off < chunk ? n - off : chunk);
        if (MPI_Allreduce(MPI_IN_PLACE, p + off * elem, cnt, t, op, MPI_COMM_WORLD) != MPI_SUCCESS)
            return err_set("MPI_Allreduce of %zu elements failed", n);
    }
    return 0;
}

int dist_allreduce_sum_f32(float *buf, size_t n) { return allreduce(buf, n, sizeof(float), MPI_FLOAT, MPI_SUM); }
int dist_allreduce_sum_f64(double *buf, size_t n) { return allreduce(buf, n, sizeof(double), MPI_DOUBLE, MPI_SUM); }
int dist_allreduce_max_i64(long long *buf, size_t n) { return allreduce(buf, n, sizeof(long long), MPI_LONG_LONG, MPI_MAX); }

int dist_broadcast(void *buf, size_t nbytes, int root) {
    if (!live() || dist_size() == 1) return 0;
    const size_t chunk = (size_t)1 << 30;
    for (size_t off = 0; off < nbytes; off += chunk) {
        int cnt = (int)(nbytes - off < chunk ? nbytes - off : chunk);
        if (MPI_Bcast((char *)buf + off, cnt, MPI_BYTE, root, MPI_COMM_WORLD) != MPI_SUCCESS)
            return err_set("MPI_Bcast of %zu bytes failed", nbytes);
    }
    return 0;
}

int dist_barrier(void) {
    if (live() && MPI_Barrier(MPI_COMM_WORLD) != MPI_SUCCESS) return err_set("MPI_Barrier failed");
    return 0;
}

void dist_abort(int code) {
    if (live() && dist_size() > 1) MPI_Abort(MPI_COMM_WORLD, code);
    exit(code);
}

#else   // single process

int dist_init(int *argc, char ***argv) {
    (void)argc;
    (void)argv;
    return 0;
}
void dist_finalize(void) {}
int dist_rank(void) { return 0; }
int dist_size(void) { return 1; }
int dist_enabled(void) { return 0; }
int dist_allreduce_sum_f32(float *buf, size_t n) { (void)buf; (void)n; return 0; }
int dist_allreduce_sum_f64(double *buf, size_t n) { (void)buf; (void)n; return 0; }
int dist_allreduce_max_i64(long long *buf, size_t n) { (void)buf; (void)n; return 0; }
int dist_broadcast(void *buf, size_t nbytes, int root) { (void)buf; (void)nbytes; (void)root; return 0; }
int dist_barrier(void) { return 0; }
void dist_abort(int code) { exit(code); }

#endif

int dist_allreduce_avg_f32(float *buf, size_t n) {
    if (dist_allreduce_sum_f32(buf, n)) return ERR_FAIL;
    int w = dist_size();
    if (w > 1) {
        float inv = 1.0f / (float)w;
        for (size_t i = 0; i < n; i++) buf[i] *= inv;
    }
    return 0;
}
