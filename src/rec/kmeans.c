#include "rec/kmeans.h"

#include <cblas.h>
#include <math.h>
#include <omp.h>
#include <stdlib.h>
#include <string.h>

#ifdef __AVX2__
#include <immintrin.h>
#endif

#include "base/err.h"
#include "base/log.h"
#include "base/mem.h"
#include "base/rng.h"

// Points per assignment block and centroids per GEMM chunk: a [256 x 1024] f32 block of inner
// products is 1 MiB, so the argmin pass reads it back from L2 instead of memory (faiss uses
// 4096 x 1024 blocks, 16 MiB). Fixed sizes: the partition never depends on the thread count.
#define KM_BLOCK 256
#define KM_CHUNK 1024

void kmeans_options_default(kmeans_options *o) {
    *o = (kmeans_options){
        .init = KMEANS_INIT_SAMPLE,
        .max_points_per_centroid = 256,
        .verbose = 0,
    };
}

int kmeans_init_parse(const char *s, kmeans_init *out) {
    if (!strcmp(s, "sample")) *out = KMEANS_INIT_SAMPLE;
    else if (!strcmp(s, "kmeans++")) *out = KMEANS_INIT_PLUSPLUS;
    else return err_set("--init: unknown '%s' (use sample or kmeans++)", s);
    return 0;
}

int kmeans_check_finite(const float *data, int64_t n, int d, int64_t row_offset) {
    int64_t bad = -1;
#pragma omp parallel for schedule(static) reduction(max : bad)
    for (int64_t i = 0; i < n; i++) {
        const float *x = data + i * d;
        float acc = 0;
        for (int j = 0; j < d; j++) acc += x[j] * 0.0f;   // NaN/Inf * 0 is NaN
        if (acc != 0) bad = bad > i ? bad : i;
    }
    if (bad < 0) return 0;
    // report the first bad row (the reduction found the last; scan forward for the first)
    for (int64_t i = 0; i < n; i++)
        for (int j = 0; j < d; j++)
            if (!isfinite(data[i * d + j]))
                return err_set("embedding row %lld, component %d is %s: embeddings must be finite",
                               (long long)(i + row_offset), j, isnan(data[i * d + j]) ? "NaN" : "Inf");
    return 0;
}

// out [n] = ||x_i||^2, data [n, d]
static void row_norms(float *out, const float *data, int64_t n, int d) {
#pragma omp parallel for schedule(static)
    for (int64_t i = 0; i < n; i++) {
        const float *x = data + i * d;
        float s = 0;
        for (int j = 0; j < d; j++) s += x[j] * x[j];
        out[i] = s;
    }
}

// For one row: running argmin over j of cn[j] - 2 ip[j], j in [0, m); first index wins ties.
static inline void row_argmin(float *best, int32_t *besti, const float *ip, const float *cn, int m,
                              int32_t j0) {
    float bv = *best;
    int32_t bi = *besti;
    int j = 0;
#ifdef __AVX2__
    if (m >= 8) {
        __m256 vmin = _mm256_set1_ps(INFINITY);
        __m256i vidx = _mm256_set1_epi32(0);
        __m256i idx = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
        const __m256i step = _mm256_set1_epi32(8);
        const __m256 m2 = _mm256_set1_ps(-2.0f);
        for (; j + 8 <= m; j += 8) {
            __m256 v = _mm256_fmadd_ps(m2, _mm256_loadu_ps(ip + j), _mm256_loadu_ps(cn + j));
            __m256 lt = _mm256_cmp_ps(v, vmin, _CMP_LT_OQ);
            vmin = _mm256_blendv_ps(vmin, v, lt);
            vidx = _mm256_blendv_epi8(vidx, idx, _mm256_castps_si256(lt));
            idx = _mm256_add_epi32(idx, step);
        }
        float lv[8];
        int32_t li[8];
        _mm256_storeu_ps(lv, vmin);
        _mm256_storeu_si256((__m256i *)li, vidx);
        for (int t = 0; t < 8; t++) {
            int32_t gi = li[t] + j0;
            if (lv[t] < bv || (lv[t] == bv && gi < bi)) {
                bv = lv[t];
                bi = gi;
            }
        }
    }
#endif
    for (; j < m; j++) {
        float v = fmaf(-2.0f, ip[j], cn[j]);
        if (v < bv) {
            bv = v;
            bi = j + j0;
        }
    }
    *best = bv;
    *besti = bi;
}

// assign [n], dist [n] or NULL; xn [n] row norms or NULL (only needed for dist); cn [k].
static void assign_blocks(int32_t *assign, float *dist, const float *data, const float *xn, int64_t n,
                          int d, const float *centroids, const float *cn, int k, float *work,
                          size_t work_per_thread) {
    int64_t nblocks = (n + KM_BLOCK - 1) / KM_BLOCK;
#pragma omp parallel
    {
        float *ip = work + (size_t)omp_get_thread_num() * work_per_thread;
#pragma omp for schedule(dynamic, 1)
        for (int64_t b = 0; b < nblocks; b++) {
            int64_t i0 = b * KM_BLOCK;
            int bn = (int)(n - i0 < KM_BLOCK ? n - i0 : KM_BLOCK);
            float best[KM_BLOCK];
            int32_t besti[KM_BLOCK];
            for (int i = 0; i < bn; i++) {
                best[i] = INFINITY;
                besti[i] = 0;
            }
            for (int c0 = 0; c0 < k; c0 += KM_CHUNK) {
                int cm = k - c0 < KM_CHUNK ? k - c0 : KM_CHUNK;
                // ip [bn, cm] = x [bn, d] . c[c0:c0+cm, d]^T ; single-threaded inside this loop
                cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, bn, cm, d, 1.0f, data + i0 * d, d,
                            centroids + (size_t)c0 * d, d, 0.0f, ip, cm);
                for (int i = 0; i < bn; i++) row_argmin(&best[i], &besti[i], ip + (size_t)i * cm, cn + c0, cm, c0);
            }
            for (int i = 0; i < bn; i++) {
                assign[i0 + i] = besti[i];
                if (dist) {
                    float v = xn[i0 + i] + best[i];
                    dist[i0 + i] = v > 0 ? v : 0;
                }
            }
        }
    }
}

static float *alloc_work(size_t *per_thread) {
    *per_thread = (size_t)KM_BLOCK * KM_CHUNK;
    return mem_alloc(sizeof(float) * *per_thread * (size_t)omp_get_max_threads());
}

int kmeans_assign(int32_t *assign, float *dist, const float *data, int64_t n, int d, const float *centroids,
                  int k) {
    if (n <= 0) return 0;
    if (d <= 0 || k <= 0) return err_set("kmeans_assign: bad sizes d=%d k=%d", d, k);
    float *cn = mem_alloc(sizeof(float) * k);
    float *xn = dist ? mem_alloc(sizeof(float) * n) : NULL;
    size_t wpt;
    float *work = alloc_work(&wpt);
    if (!cn || (dist && !xn) || !work) {
        free(cn), free(xn), free(work);
        return err_wrap("kmeans_assign: %lld x %d", (long long)n, d);
    }
    row_norms(cn, centroids, k, d);
    if (dist) row_norms(xn, data, n, d);
    assign_blocks(assign, dist, data, xn, n, d, centroids, cn, k, work, wpt);
    free(cn), free(xn), free(work);
    return 0;
}

// k-means++ seeding: first centre uniform, then each next one with probability proportional to
// the squared distance to the nearest centre chosen so far.
static int init_plusplus(float *centroids, const float *x, int64_t n, int d, int k, rng *r) {
    float *mind = mem_alloc(sizeof(float) * n);
    if (!mind) return ERR_FAIL;
    int64_t first = (int64_t)rng_below(r, (uint64_t)n);
    memcpy(centroids, x + first * d, sizeof(float) * d);
    for (int64_t i = 0; i < n; i++) mind[i] = INFINITY;
    for (int c = 1; c <= k; c++) {
        const float *cc = centroids + (size_t)(c - 1) * d;
        double total = 0;
#pragma omp parallel for schedule(static) reduction(+ : total)
        for (int64_t i = 0; i < n; i++) {
            const float *xi = x + i * d;
            float s = 0;
            for (int j = 0; j < d; j++) {
                float t = xi[j] - cc[j];
                s += t * t;
            }
            if (s < mind[i]) mind[i] = s;
            total += mind[i];
        }
        if (c == k) break;
        // sequential pick so the draw does not depend on threads (the sum above may, slightly, so
        // the threshold walk recomputes it in order)
        double seq = 0;
        for (int64_t i = 0; i < n; i++) seq += mind[i];
        double u = rng_uniform(r) * seq, acc = 0;
        int64_t pick = n - 1;
        for (int64_t i = 0; i < n; i++) {
            acc += mind[i];
            if (acc > u) {
                pick = i;
                break;
            }
        }
        (void)total;
        memcpy(centroids + (size_t)c * d, x + pick * d, sizeof(float) * d);
    }
    free(mind);
    return 0;
}

// Empty cluster repair: split a cluster chosen with probability proportional to its size beyond
// one point; the two halves are nudged apart symmetrically so the next assignment separates them.
static int repair_empty(float *centroids, int64_t *counts, int k, int d, int64_t n, rng *r) {
    int repaired = 0;
    for (int ci = 0; ci < k; ci++) {
        if (counts[ci] != 0) continue;
        int cj = 0;
        for (;;) {
            double u = rng_uniform(r) * (double)(n - k), acc = 0;
            for (cj = 0; cj < k; cj++) {
                acc += (double)(counts[cj] > 1 ? counts[cj] - 1 : 0);
                if (acc > u) break;
            }
            if (cj < k && counts[cj] > 1) break;
        }
        float *a = centroids + (size_t)ci * d, *b = centroids + (size_t)cj * d;
        const float eps = 1.0f / 1024;
        for (int t = 0; t < d; t++) {
            float delta = eps * (fabsf(b[t]) + 1e-7f);
            float s = (t & 1) ? -delta : delta;
            a[t] = b[t] + s;
            b[t] = b[t] - s;
        }
        counts[ci] = counts[cj] / 2;
        counts[cj] -= counts[ci];
        repaired++;
    }
    return repaired;
}

// centroids [k, d] = mean of the points assigned to each; counts [k]. Sums in double per centroid
// in point order (order[] is a counting sort of the points by centroid), parallel over centroids.
static void update_centroids(float *centroids, int64_t *counts, const float *x, const int32_t *assign,
                             int64_t n, int d, int k, int64_t *start, int64_t *order) {
    memset(counts, 0, sizeof(int64_t) * k);
    for (int64_t i = 0; i < n; i++) counts[assign[i]]++;
    start[0] = 0;
    for (int c = 0; c < k; c++) start[c + 1] = start[c] + counts[c];
    for (int c = 0; c < k; c++) counts[c] = 0;
    for (int64_t i = 0; i < n; i++) {
        int c = assign[i];
        order[start[c] + counts[c]++] = i;
    }
#pragma omp parallel
    {
        double *acc = malloc(sizeof(double) * d);
#pragma omp for schedule(dynamic, 16)
        for (int c = 0; c < k; c++) {
            if (!counts[c] || !acc) continue;
            for (int j = 0; j < d; j++) acc[j] = 0;
            for (int64_t p = start[c]; p < start[c + 1]; p++) {
                const float *xi = x + order[p] * d;
                for (int j = 0; j < d; j++) acc[j] += xi[j];
            }
            double inv = 1.0 / (double)counts[c];
            float *cc = centroids + (size_t)c * d;
            for (int j = 0; j < d; j++) cc[j] = (float)(acc[j] * inv);
        }
        free(acc);
    }
}

static double sum_ordered(const float *v, int64_t n) {
    double s = 0;
    for (int64_t i = 0; i < n; i++) s += v[i];
    return s;
}

int kmeans_train(float *centroids, const float *data, int64_t n, int d, int k, int iters, uint64_t seed,
                 const kmeans_options *opt, kmeans_stats *st) {
    kmeans_options defo;
    if (!opt) {
        kmeans_options_default(&defo);
        opt = &defo;
    }
    if (d <= 0) return err_set("k-means: embedding dimension is %d; it must be positive", d);
    if (k <= 0) return err_set("k-means: codebook size is %d; it must be positive", k);
    if (iters < 0) return err_set("k-means: iterations is %d; it must be >= 0", iters);
    if (n < k)
        return err_set("k-means: %lld points cannot make %d clusters: give at least as many items as the "
                       "codebook size (or a smaller --codebook)", (long long)n, k);
    if (kmeans_check_finite(data, n, d, 0)) return ERR_FAIL;
    double t0 = time_now();
    rng r;
    rng_seed(&r, seed);

    // optional subsample (faiss: max 256 points per centroid), drawn by a partial shuffle
    const float *x = data;
    float *sub = NULL;
    int64_t nt = n;
    int64_t cap = opt->max_points_per_centroid > 0 ? (int64_t)k * opt->max_points_per_centroid : n;
    int64_t *perm = NULL;
    int64_t pick_n = nt > cap ? cap : k;   // points to draw: the subsample, or the initial centres
    perm = mem_alloc(sizeof(int64_t) * n);
    if (!perm) return ERR_FAIL;
    for (int64_t i = 0; i < n; i++) perm[i] = i;
    for (int64_t i = 0; i < pick_n; i++) {
        int64_t j = i + (int64_t)rng_below(&r, (uint64_t)(n - i));
        int64_t t = perm[i];
        perm[i] = perm[j];
        perm[j] = t;
    }
    if (n > cap) {
        nt = cap;
        sub = mem_alloc(sizeof(float) * (size_t)nt * d);
        if (!sub) {
            free(perm);
            return ERR_FAIL;
        }
#pragma omp parallel for schedule(static)
        for (int64_t i = 0; i < nt; i++) memcpy(sub + i * d, data + perm[i] * d, sizeof(float) * d);
        x = sub;
        if (opt->verbose) log_info("k-means: training on a sample of %lld of %lld points", (long long)nt, (long long)n);
    }
    int rc = 0;
    if (opt->init == KMEANS_INIT_PLUSPLUS) {
        rc = init_plusplus(centroids, x, nt, d, k, &r);
    } else if (sub) {
        // the sample is already a uniform random draw: its first k rows are k distinct points
        memcpy(centroids, x, sizeof(float) * (size_t)k * d);
    } else {
        for (int c = 0; c < k; c++) memcpy(centroids + (size_t)c * d, x + perm[c] * d, sizeof(float) * d);
    }
    free(perm);
    if (rc) {
        free(sub);
        return rc;
    }

    int32_t *assign = mem_alloc(sizeof(int32_t) * nt);
    float *dist = mem_alloc(sizeof(float) * nt);
    float *xn = mem_alloc(sizeof(float) * nt);
    float *cn = mem_alloc(sizeof(float) * k);
    int64_t *counts = mem_alloc(sizeof(int64_t) * k);
    int64_t *start = mem_alloc(sizeof(int64_t) * (k + 1));
    int64_t *order = mem_alloc(sizeof(int64_t) * nt);
    size_t wpt;
    float *work = alloc_work(&wpt);
    if (!assign || !dist || !xn || !cn || !counts || !start || !order || !work) {
        rc = err_wrap("k-means on %lld x %d", (long long)nt, d);
        goto done;
    }
    row_norms(xn, x, nt, d);
    int repaired = 0;
    double obj = 0;
    for (int it = 0; it < iters; it++) {
        row_norms(cn, centroids, k, d);
        assign_blocks(assign, dist, x, xn, nt, d, centroids, cn, k, work, wpt);
        obj = sum_ordered(dist, nt);
        update_centroids(centroids, counts, x, assign, nt, d, k, start, order);
        int rep = repair_empty(centroids, counts, k, d, nt, &r);
        repaired += rep;
        if (opt->verbose)
            log_info("k-means iter %d/%d: objective %.6g, %d empty clusters repaired", it + 1, iters, obj, rep);
    }
    if (st) {
        st->objective = obj;
        st->n_train = nt;
        st->empty_repaired = repaired;
        st->seconds = time_now() - t0;
    }
done:
    free(sub), free(assign), free(dist), free(xn), free(cn), free(counts), free(start), free(order), free(work);
    return rc;
}

// ---------------- residual k-means ----------------

int rq_codebook_init(rq_codebook *cb, int layers, int k, int d) {
    memset(cb, 0, sizeof *cb);
    if (layers <= 0 || layers > RQ_MAX_LAYERS) return err_set("residual k-means: layers is %d; use 1..%d", layers, RQ_MAX_LAYERS);
    if (k <= 0 || d <= 0) return err_set("residual k-means: codebook size %d and dimension %d must be positive", k, d);
    cb->centroids = mem_calloc((size_t)layers * k * d, sizeof(float));
    if (!cb->centroids) return ERR_FAIL;
    cb->layers = layers, cb->k = k, cb->d = d;
    return 0;
}

void rq_codebook_free(rq_codebook *cb) {
    free(cb->centroids);
    memset(cb, 0, sizeof *cb);
}

// resid [n, d] -= centroids[assign[i]]; err [n] (may be NULL) = ||resid||^2 afterwards
static void subtract_assigned(float *resid, float *err, const float *centroids, const int32_t *assign,
                              int64_t n, int d, int64_t stride_a) {
#pragma omp parallel for schedule(static)
    for (int64_t i = 0; i < n; i++) {
        float *x = resid + i * d;
        const float *c = centroids + (size_t)assign[i * stride_a] * d;
        float s = 0;
        for (int j = 0; j < d; j++) {
            x[j] -= c[j];
            s += x[j] * x[j];
        }
        if (err) err[i] = s;
    }
}

int rqkmeans_train_inplace(rq_codebook *cb, float *resid, int64_t n, int d, int layers, int k, int iters,
                           uint64_t seed, const kmeans_options *opt, rq_stats *st) {
    if (rq_codebook_init(cb, layers, k, d)) return ERR_FAIL;
    if (n < k) {
        rq_codebook_free(cb);
        return err_set("residual k-means: %lld items cannot fill a codebook of %d codes: give at least %d "
                       "items or a smaller --codebook", (long long)n, k, k);
    }
    if (kmeans_check_finite(resid, n, d, 0)) {
        rq_codebook_free(cb);
        return ERR_FAIL;
    }
    int32_t *assign = mem_alloc(sizeof(int32_t) * n);
    float *err = mem_alloc(sizeof(float) * n);
    if (!assign || !err) {
        free(assign), free(err);
        rq_codebook_free(cb);
        return err_wrap("residual k-means on %lld x %d", (long long)n, d);
    }
    if (st) memset(st, 0, sizeof *st);
    double sx = 0;
    if (st) {
        row_norms(err, resid, n, d);
        sx = sum_ordered(err, n);
    }
    int rc = 0;
    for (int l = 0; l < layers && !rc; l++) {
        float *cl = cb->centroids + (size_t)l * k * d;
        kmeans_stats ks;
        // each layer gets its own stream so layer l's result does not depend on earlier draws
        rc = kmeans_train(cl, resid, n, d, k, iters, seed + (uint64_t)l * 0x9E3779B97F4A7C15ULL, opt, &ks);
        if (rc) {
            err_wrap("layer %d", l);
            break;
        }
        rc = kmeans_assign(assign, NULL, resid, n, d, cl, k);
        if (rc) break;
        subtract_assigned(resid, err, cl, assign, n, d, 1);
        if (st) st->layer[l] = ks;
        if (opt && opt->verbose) log_info("residual k-means: layer %d/%d done in %.2f s", l + 1, layers, ks.seconds);
    }
    if (!rc && st) {
        double se = sum_ordered(err, n);
        st->mse = se / ((double)n * d);
        st->rel_error = sx > 0 ? se / sx : 0;
    }
    free(assign), free(err);
    if (rc) rq_codebook_free(cb);
    return rc;
}

int rqkmeans_train(rq_codebook *cb, const float *data, int64_t n, int d, int layers, int k, int iters,
                   uint64_t seed, const kmeans_options *opt, rq_stats *st) {
    if (n < 0 || d <= 0) return err_set("residual k-means: bad sizes %lld x %d", (long long)n, d);
    float *resid = mem_alloc(sizeof(float) * (size_t)(n > 0 ? n : 1) * d);
    if (!resid) return err_wrap("residual k-means on %lld x %d", (long long)n, d);
    memcpy(resid, data, sizeof(float) * (size_t)n * d);
    int rc = rqkmeans_train_inplace(cb, resid, n, d, layers, k, iters, seed, opt, st);
    free(resid);
    return rc;
}

int rqkmeans_encode(int32_t *codes, float *err, float *resid_prev, const rq_codebook *cb, const float *data,
                    int64_t n) {
    if (n <= 0) return 0;
    int d = cb->d, k = cb->k, L = cb->layers;
    if (kmeans_check_finite(data, n, d, 0)) return ERR_FAIL;
    float *resid = mem_alloc(sizeof(float) * (size_t)n * d);
    int32_t *assign = mem_alloc(sizeof(int32_t) * n);
    if (!resid || !assign) {
        free(resid), free(assign);
        return err_wrap("encoding %lld x %d", (long long)n, d);
    }
    memcpy(resid, data, sizeof(float) * (size_t)n * d);
    int rc = 0;
    for (int l = 0; l < L; l++) {
        const float *cl = cb->centroids + (size_t)l * k * d;
        if (l == L - 1 && resid_prev) memcpy(resid_prev, resid, sizeof(float) * (size_t)n * d);
        if ((rc = kmeans_assign(assign, NULL, resid, n, d, cl, k))) break;
        for (int64_t i = 0; i < n; i++) codes[i * L + l] = assign[i];
        subtract_assigned(resid, l == L - 1 ? err : NULL, cl, assign, n, d, 1);
    }
    free(resid), free(assign);
    return rc;
}

void rqkmeans_decode(float *out, const rq_codebook *cb, const int32_t *codes, int64_t n) {
    int d = cb->d, k = cb->k, L = cb->layers;
#pragma omp parallel for schedule(static)
    for (int64_t i = 0; i < n; i++) {
        float *o = out + i * d;
        for (int j = 0; j < d; j++) o[j] = 0;
        for (int l = 0; l < L; l++) {
            const float *c = cb->centroids + ((size_t)l * k + codes[i * L + l]) * d;
            for (int j = 0; j < d; j++) o[j] += c[j];
        }
    }
}
