// k-means and residual k-means on in-memory data: assignment against brute force, cluster recovery,
// determinism across thread counts, empty-cluster repair, subsampling, bad input.
#include <math.h>
#include <omp.h>
#include <stdlib.h>
#include <string.h>

#include "base/rng.h"
#include "rec/kmeans.h"
#include "test.h"

static float *blobs(int64_t n, int d, int nb, float spread, float noise, uint64_t seed, int32_t *label) {
    rng r;
    rng_seed(&r, seed);
    float *c = malloc(sizeof(float) * nb * d), *x = malloc(sizeof(float) * n * d);
    for (int i = 0; i < nb * d; i++) c[i] = spread * (float)rng_normal(&r);
    for (int64_t i = 0; i < n; i++) {
        int b = (int)(i % nb);
        if (label) label[i] = b;
        for (int j = 0; j < d; j++) x[i * d + j] = c[b * d + j] + noise * (float)rng_normal(&r);
    }
    free(c);
    return x;
}

static void test_assign_brute_force(void) {
    // k > 1024 exercises several centroid chunks, n not a multiple of the point block
    int64_t n = 601;
    int d = 19, k = 1100;
    float *x = blobs(n, d, 7, 1, 1, 1, NULL), *c = blobs(k, d, 5, 1, 1, 2, NULL);
    int32_t *a = malloc(sizeof(int32_t) * n);
    float *dist = malloc(sizeof(float) * n);
    CHECK_OK(kmeans_assign(a, dist, x, n, d, c, k));
    int wrong = 0;
    double maxerr = 0;
    for (int64_t i = 0; i < n; i++) {
        double best = INFINITY;
        int bi = -1;
        for (int j = 0; j < k; j++) {
            double s = 0;
            for (int t = 0; t < d; t++) s += ((double)x[i * d + t] - c[j * d + t]) * ((double)x[i * d + t] - c[j * d + t]);
            if (s < best) best = s, bi = j;
        }
        // the GEMM form may flip near-ties: accept another index only when its distance is as close
        if (a[i] != bi) {
            double s = 0;
            for (int t = 0; t < d; t++) s += ((double)x[i * d + t] - c[a[i] * d + t]) * ((double)x[i * d + t] - c[a[i] * d + t]);
            if (s > best * (1 + 1e-5) + 1e-5) wrong++;
        }
        double e = fabs(dist[i] - best) / (best + 1);
        if (e > maxerr) maxerr = e;
    }
    CHECK_MSG(wrong == 0, "%d wrong assignments", wrong);
    CHECK_MSG(maxerr < 1e-4, "distance error %g", maxerr);
    free(x), free(c), free(a), free(dist);
}

static void test_recovers_blobs(void) {
    int64_t n = 4000;
    int d = 16, k = 8;
    int32_t *lab = malloc(sizeof(int32_t) * n), *a = malloc(sizeof(int32_t) * n);
    float *x = blobs(n, d, k, 10, 0.1f, 3, lab), *c = malloc(sizeof(float) * k * d);
    for (int init = 0; init < 2; init++) {
        kmeans_options o;
        kmeans_options_default(&o);
        o.init = init ? KMEANS_INIT_PLUSPLUS : KMEANS_INIT_SAMPLE;
        kmeans_stats st;
        CHECK_OK(kmeans_train(c, x, n, d, k, 20, 5, &o, &st));
        CHECK_OK(kmeans_assign(a, NULL, x, n, d, c, k));
        // k-means++ always separates well-spread blobs; every cluster must be one blob
        int map[8], pure = 1;
        for (int b = 0; b < k; b++) map[b] = -1;
        for (int64_t i = 0; i < n; i++) {
            if (map[lab[i]] < 0) map[lab[i]] = a[i];
            else if (map[lab[i]] != a[i]) pure = 0;
        }
        if (init == 1) {
            CHECK_MSG(pure, "k-means++ did not recover the blobs");
            CHECK_NEAR(st.objective / (double)(st.n_train * d), 0.01, 0.002);
        }
        CHECK(st.n_train == 8 * 256);   // 4000 points > 256 per centroid: subsampled like faiss
    }
    free(lab), free(a), free(x), free(c);
}

static void test_deterministic_threads(void) {
    int64_t n = 5000;
    int d = 24, k = 50;
    float *x = blobs(n, d, 30, 1, 0.5f, 4, NULL);
    float *c1 = malloc(sizeof(float) * k * d), *c2 = malloc(sizeof(float) * k * d), *c3 = malloc(sizeof(float) * k * d);
    int saved = omp_get_max_threads();
    omp_set_num_threads(1);
    CHECK_OK(kmeans_train(c1, x, n, d, k, 8, 9, NULL, NULL));
    omp_set_num_threads(2);
    CHECK_OK(kmeans_train(c2, x, n, d, k, 8, 9, NULL, NULL));
    omp_set_num_threads(3);
    CHECK_OK(kmeans_train(c3, x, n, d, k, 8, 9, NULL, NULL));
    omp_set_num_threads(saved);
    CHECK(!memcmp(c1, c2, sizeof(float) * k * d));
    CHECK(!memcmp(c1, c3, sizeof(float) * k * d));
    CHECK_OK(kmeans_train(c2, x, n, d, k, 8, 10, NULL, NULL));
    CHECK(memcmp(c1, c2, sizeof(float) * k * d) != 0);
    free(x), free(c1), free(c2), free(c3);
}

static void test_empty_repair(void) {
    // half the points are one repeated vector: the sampled start picks it several times, and all
    // but one of those copies go empty and must be split off other clusters
    int64_t n = 400;
    int d = 8, k = 40;
    float *x = blobs(n, d, 200, 5, 1, 6, NULL);
    for (int64_t i = 0; i < n / 2; i++)
        for (int j = 0; j < d; j++) x[i * d + j] = 1.0f;
    float *c = malloc(sizeof(float) * k * d);
    kmeans_stats st;
    CHECK_OK(kmeans_train(c, x, n, d, k, 10, 1, NULL, &st));
    CHECK_MSG(st.empty_repaired > 0, "no empty cluster was repaired");
    int32_t *a = malloc(sizeof(int32_t) * n);
    CHECK_OK(kmeans_assign(a, NULL, x, n, d, c, k));
    int used[40] = {0}, nused = 0;
    for (int64_t i = 0; i < n; i++) used[a[i]] = 1;
    for (int j = 0; j < k; j++) nused += used[j];
    CHECK_MSG(nused >= k - 2, "only %d of %d clusters in use after repair", nused, k);
    free(x), free(c), free(a);
}

static void test_subsample(void) {
    int64_t n = 20000;
    int d = 4, k = 10;
    float *x = blobs(n, d, 10, 3, 1, 7, NULL), *c = malloc(sizeof(float) * k * d);
    kmeans_options o;
    kmeans_options_default(&o);
    o.max_points_per_centroid = 39;
    kmeans_stats st;
    CHECK_OK(kmeans_train(c, x, n, d, k, 5, 1, &o, &st));
    CHECK(st.n_train == 390);
    o.max_points_per_centroid = 0;
    CHECK_OK(kmeans_train(c, x, n, d, k, 5, 1, &o, &st));
    CHECK(st.n_train == n);
    free(x), free(c);
}

static void test_bad_input(void) {
    float x[12] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12}, c[12];
    CHECK_FAILS_WITH(kmeans_train(c, x, 3, 4, 5, 10, 1, NULL, NULL), "give at least as many items");
    CHECK_FAILS_WITH(kmeans_train(c, x, 3, 0, 2, 10, 1, NULL, NULL), "dimension is 0");
    x[7] = NAN;
    CHECK_FAILS_WITH(kmeans_train(c, x, 3, 4, 2, 10, 1, NULL, NULL), "row 1, component 3 is NaN");
    x[7] = INFINITY;
    CHECK_FAILS_WITH(kmeans_train(c, x, 3, 4, 2, 10, 1, NULL, NULL), "is Inf");
    rq_codebook cb;
    CHECK_FAILS_WITH(rqkmeans_train(&cb, x, 3, 4, 2, 2, 10, 1, NULL, NULL), "must be finite");
    x[7] = 0;
    CHECK_FAILS_WITH(rqkmeans_train(&cb, x, 3, 4, 2, 8, 10, 1, NULL, NULL), "cannot fill a codebook of 8");
    CHECK_FAILS_WITH(rqkmeans_train(&cb, x, 3, 4, 0, 2, 10, 1, NULL, NULL), "layers is 0");
}

static void test_residual(void) {
    int64_t n = 3000;
    int d = 12, k = 16;
    float *x = blobs(n, d, 40, 2, 0.7f, 8, NULL);
    rq_codebook cb1, cb3;
    rq_stats s1, s3;
    CHECK_OK(rqkmeans_train(&cb1, x, n, d, 1, k, 10, 3, NULL, &s1));
    CHECK_OK(rqkmeans_train(&cb3, x, n, d, 3, k, 10, 3, NULL, &s3));
    CHECK_MSG(s3.rel_error < s1.rel_error * 0.8, "3 layers %g vs 1 layer %g", s3.rel_error, s1.rel_error);
    // the first layer of a 3-layer codebook is the same k-means as the 1-layer one
    CHECK(!memcmp(cb1.centroids, cb3.centroids, sizeof(float) * k * d));
    int32_t *codes = malloc(sizeof(int32_t) * n * 3);
    float *err = malloc(sizeof(float) * n), *rp = malloc(sizeof(float) * n * d), *rec = malloc(sizeof(float) * n * d);
    CHECK_OK(rqkmeans_encode(codes, err, rp, &cb3, x, n));
    rqkmeans_decode(rec, &cb3, codes, n);
    double se = 0, sx = 0, maxd = 0, maxr = 0;
    for (int64_t i = 0; i < n; i++) {
        double e = 0;
        for (int j = 0; j < d; j++) {
            double t = x[i * d + j] - rec[i * d + j];
            e += t * t;
            sx += (double)x[i * d + j] * x[i * d + j];
            // resid_prev = x - (first two centroids)
            double r = x[i * d + j] - cb3.centroids[(size_t)codes[i * 3] * d + j] -
                       cb3.centroids[((size_t)k + codes[i * 3 + 1]) * d + j];
            if (fabs(r - rp[i * d + j]) > maxr) maxr = fabs(r - rp[i * d + j]);
        }
        se += e;
        if (fabs(e - err[i]) > maxd) maxd = fabs(e - err[i]);
    }
    CHECK_MSG(maxd < 1e-3, "per-item error mismatch %g", maxd);
    CHECK_MSG(maxr < 1e-4, "resid_prev mismatch %g", maxr);
    // encoding the training data reproduces the training statistics
    CHECK_NEAR(se / sx, s3.rel_error, 1e-5);
    CHECK_NEAR(se / (double)(n * d), s3.mse, 1e-5);
    rq_codebook_free(&cb1), rq_codebook_free(&cb3);
    free(x), free(codes), free(err), free(rp), free(rec);
}

int main(void) {
    RUN(test_assign_brute_force);
    RUN(test_recovers_blobs);
    RUN(test_deterministic_threads);
    RUN(test_empty_repair);
    RUN(test_subsample);
    RUN(test_bad_input);
    RUN(test_residual);
    return test_summary("test_kmeans");
}
