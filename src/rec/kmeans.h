// k-means and residual k-means ("RQ-KMeans") on float arrays: the semantic-ID quantiser.
// No file formats here: callers bring rows of floats (rec/embsrc.h reads them from Parquet/npy).
//
// Determinism: for a seed the result is identical for any thread count. Assignment works on a
// fixed partition of the points into blocks (each block's GEMM runs single-threaded inside the
// OpenMP loop, so its floating-point order never depends on the thread count); centroid sums are
// accumulated per centroid in point order, in double; no float atomics.
#pragma once
#include <stdint.h>

typedef enum {
    KMEANS_INIT_SAMPLE = 0,   // k distinct points drawn uniformly (what faiss does)
    KMEANS_INIT_PLUSPLUS = 1, // k-means++ (D^2 sampling) on the training (sub)sample
} kmeans_init;

typedef struct {
    kmeans_init init;
    // Train on at most k * max_points_per_centroid points drawn at random (faiss: 256); 0 = all.
    int max_points_per_centroid;
    int verbose;   // log one line per iteration (objective, repaired empty clusters)
} kmeans_options;

typedef struct {
    double objective;      // sum of squared distances of the training points after the last update
    int64_t n_train;       // points actually used (after subsampling)
    int empty_repaired;    // empty clusters split off large ones, over all iterations
    double seconds;
} kmeans_stats;

void kmeans_options_default(kmeans_options *o);
// "sample" or "kmeans++"; the message names --init.
int kmeans_init_parse(const char *s, kmeans_init *out);

// Checks that every value is finite; the message names the first bad row and column.
int kmeans_check_finite(const float *data, int64_t n, int d, int64_t row_offset);

// centroids out [k, d], data [n, d]. opt and st may be NULL (defaults / not wanted).
// Errors: n < k, d <= 0, k <= 0, iters < 0, NaN/Inf in data.
int kmeans_train(float *centroids, const float *data, int64_t n, int d, int k, int iters,
                 uint64_t seed, const kmeans_options *opt, kmeans_stats *st);

// assign out [n], dist out [n] (squared L2, may be NULL), data [n, d], centroids [k, d].
// Nearest centroid by ||x||^2 + ||c||^2 - 2 x.c (GEMM through BLAS, blocks of points); ties go to
// the lower index.
int kmeans_assign(int32_t *assign, float *dist, const float *data, int64_t n, int d,
                  const float *centroids, int k);

// ---- residual k-means ----
typedef struct {
    int layers, k, d;
    float *centroids;   // [layers, k, d], owned
} rq_codebook;

typedef struct {
    kmeans_stats layer[16];
    double mse;         // mean over points of ||x - decode(encode(x))||^2 / d
    double rel_error;   // sum ||x - x^||^2 / sum ||x||^2
} rq_stats;

#define RQ_MAX_LAYERS 16

int rq_codebook_init(rq_codebook *cb, int layers, int k, int d);   // zeroed centroids
void rq_codebook_free(rq_codebook *cb);

// Train layer by layer on the residual of the previous layers. data [n, d].
int rqkmeans_train(rq_codebook *cb, const float *data, int64_t n, int d, int layers, int k,
                   int iters, uint64_t seed, const kmeans_options *opt, rq_stats *st);
// The same without the copy: resid [n, d] holds the data on entry and the final residual on return
// (halves the memory for large tables).
int rqkmeans_train_inplace(rq_codebook *cb, float *resid, int64_t n, int d, int layers, int k, int iters,
                           uint64_t seed, const kmeans_options *opt, rq_stats *st);
// codes out [n, layers]; err out [n] (squared reconstruction error per point, may be NULL);
// resid_prev out [n, d] (may be NULL): the residual entering the last layer (for dedup).
int rqkmeans_encode(int32_t *codes, float *err, float *resid_prev, const rq_codebook *cb,
                    const float *data, int64_t n);
// out [n, d] = sum over layers of the chosen centroids
void rqkmeans_decode(float *out, const rq_codebook *cb, const int32_t *codes, int64_t n);
