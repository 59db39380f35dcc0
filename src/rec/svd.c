// Randomized truncated SVD of a CSR matrix (see svd.h). The tall dense blocks stay row-major, so
// the sparse products read contiguous rows; row-major [n, l] is column-major [l, n], so an LQ
// factorisation of that (LAPACK sgelqf/sorglq) orthonormalises the block's columns in place.
// Debian ships no lapacke.h: the Fortran entry points OpenBLAS exports are declared here.
#include "rec/svd.h"

#include <cblas.h>
#include <limits.h>
#include <math.h>
#include <omp.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "base/mem.h"
#include "base/rng.h"

void sgelqf_(const int *m, const int *n, float *a, const int *lda, float *tau, float *work, const int *lwork,
             int *info);
void sorglq_(const int *m, const int *n, const int *k, float *a, const int *lda, const float *tau, float *work,
             const int *lwork, int *info);
void dgesdd_(const char *jobz, const int *m, const int *n, double *a, const int *lda, double *s, double *u,
             const int *ldu, double *vt, const int *ldvt, double *work, const int *lwork, int *iwork, int *info,
             size_t jobz_len);

void csr_free(csr_mat *a) {
    free(a->ptr), free(a->idx), free(a->val);
    memset(a, 0, sizeof *a);
}

int csr_transpose(csr_mat *t, const csr_mat *a) {
    memset(t, 0, sizeof *t);
    if (a->cols > INT32_MAX || a->rows > INT32_MAX)
        return err_set("matrix %lld x %lld: too large to transpose (at most 2^31 rows and columns)",
                       (long long)a->rows, (long long)a->cols);
    int64_t nnz = csr_nnz(a);
    t->rows = a->cols, t->cols = a->rows;
    t->ptr = mem_calloc((size_t)t->rows + 1, sizeof *t->ptr);
    t->idx = mem_alloc((size_t)(nnz ? nnz : 1) * sizeof *t->idx);
    t->val = mem_alloc((size_t)(nnz ? nnz : 1) * sizeof *t->val);
    if (!t->ptr || !t->idx || !t->val) {
        csr_free(t);
        return ERR_FAIL;
    }
    for (int64_t e = 0; e < nnz; e++) t->ptr[a->idx[e] + 1]++;
    for (int64_t c = 0; c < t->rows; c++) t->ptr[c + 1] += t->ptr[c];
    int64_t *next = mem_alloc((size_t)(t->rows ? t->rows : 1) * sizeof *next);
    if (!next) {
        csr_free(t);
        return ERR_FAIL;
    }
    memcpy(next, t->ptr, (size_t)t->rows * sizeof *next);
    // rows in ascending order keep each transposed row's columns ascending
    for (int64_t r = 0; r < a->rows; r++)
        for (int64_t e = a->ptr[r]; e < a->ptr[r + 1]; e++) {
            int64_t d = next[a->idx[e]]++;
            t->idx[d] = (int32_t)r;
            t->val[d] = a->val[e];
        }
    free(next);
    return 0;
}

// out [a->rows, l] = a [rows, cols] * x [cols, l] (row-major dense)
static void csr_mul_dense(float *out, const csr_mat *a, const float *x, int l) {
    // a parallel region costs more than a small product (see LAPACK_THREADED_MIN)
#pragma omp parallel for schedule(dynamic, 256) if ((csr_nnz(a) + a->rows) * l >= (1 << 20))
    for (int64_t r = 0; r < a->rows; r++) {
        float *o = out + r * l;
        memset(o, 0, (size_t)l * sizeof *o);
        for (int64_t e = a->ptr[r]; e < a->ptr[r + 1]; e++) {
            const float *xr = x + (int64_t)a->idx[e] * l;
            float v = a->val[e];
            for (int j = 0; j < l; j++) o[j] += v * xr[j];
        }
    }
}

void svd_opts_default(svd_opts *o) {
    *o = (svd_opts){
        .oversample = 0,
        .power_iters = 12,
        .seed = 42,
    };
}

static void fill_gaussian(float *g, int64_t n, double scale, uint64_t seed) {
    rng r;
    rng_seed(&r, seed);
    for (int64_t i = 0; i < n; i++) g[i] = (float)(rng_normal(&r) * scale);
}

// y [n, l] (row-major) = Q L^T: with form_q, y becomes Q (an orthonormal basis of the columns' span);
// else y[0 : l*l] holds L (column-major lower triangle) and the rest Householder vectors.
static int lq_factor_blas(float *y, int64_t n, int l, int form_q) {
    int m = l, nn = (int)n, info = 0, lwork = -1;
    float q = 0;
    sgelqf_(&m, &nn, y, &m, NULL, &q, &lwork, &info);
    float wq = 0;
    sorglq_(&m, &nn, &m, y, &m, NULL, &wq, &lwork, &info);
    lwork = (int)(q > wq ? q : wq) + 1;
    float *tau = mem_alloc((size_t)l * sizeof *tau), *work = mem_alloc((size_t)lwork * sizeof *work);
    if (!tau || !work) {
        free(tau), free(work);
        return ERR_FAIL;
    }
    sgelqf_(&m, &nn, y, &m, tau, work, &lwork, &info);
    if (!info && form_q) sorglq_(&m, &nn, &m, y, &m, tau, work, &lwork, &info);
    free(tau), free(work);
    return info ? err_set("LAPACK sgelqf/sorglq failed (info %d) on a %lld x %d block", info, (long long)n, l) : 0;
}

// OpenBLAS's OpenMP build opens a parallel region per level-2 call inside LAPACK's unblocked
// steps (thousands per factorisation); on a small matrix that costs far more than the work (10x on
// a busy 2-core box), so small problems run on one thread. Returns the count to restore.
#define LAPACK_THREADED_MIN (1 << 22)

static int lapack_threads_begin(int64_t elems) {
    int threads = omp_get_max_threads();
    if (elems < LAPACK_THREADED_MIN && threads > 1) omp_set_num_threads(1);
    return threads;
}

static void lapack_threads_end(int threads) {
    if (omp_get_max_threads() != threads) omp_set_num_threads(threads);
}

static int lq_factor(float *y, int64_t n, int l, int form_q) {
    int threads = lapack_threads_begin(n * l);
    int rc = lq_factor_blas(y, n, l, form_q);
    lapack_threads_end(threads);
    return rc;
}

// lt [l, l] column-major lower triangle (sgelqf's L) -> its left singular vectors ub [l, l]
// (column-major, descending values) and values s [l], in double.
static int small_svd(double *ub, double *s, const float *lt, int l) {
    double *a = mem_calloc((size_t)l * l, sizeof *a), *vt = mem_alloc((size_t)l * l * sizeof *vt);
    int *iwork = mem_alloc((size_t)8 * l * sizeof *iwork);
    int info = 0, lwork = -1;
    double q = 0;
    if (!a || !vt || !iwork) goto fail;
    for (int j = 0; j < l; j++)
        for (int i = j; i < l; i++) a[i + (size_t)j * l] = lt[i + (size_t)j * l];
    dgesdd_("S", &l, &l, a, &l, s, ub, &l, vt, &l, &q, &lwork, iwork, &info, 1);
    lwork = (int)q + 1;
    double *work = mem_alloc((size_t)lwork * sizeof *work);
    if (!work) goto fail;
    dgesdd_("S", &l, &l, a, &l, s, ub, &l, vt, &l, work, &lwork, iwork, &info, 1);
    free(work);
    free(a), free(vt), free(iwork);
    return info ? err_set("LAPACK dgesdd failed (info %d) on the %d x %d reduced matrix", info, l, l) : 0;
fail:
    free(a), free(vt), free(iwork);
    return ERR_FAIL;
}

static int check_k(const csr_mat *a, int k) {
    int64_t lim = a->rows < a->cols ? a->rows : a->cols;
    if (k < 1 || k > lim)
        return err_set("rank %d: must be in 1..%lld (the matrix is %lld x %lld)", k, (long long)lim,
                       (long long)a->rows, (long long)a->cols);
    if (a->rows > INT_MAX || a->cols > INT_MAX)
        return err_set("matrix %lld x %lld: at most 2^31 - 1 rows and columns", (long long)a->rows, (long long)a->cols);
    return 0;
}

// y [rows, l] <- an orthonormal basis of the dominant range of a (z [cols, l] is scratch)
static int range_finder(float *y, float *z, const csr_mat *a, const csr_mat *at, int l, const svd_opts *o) {
    fill_gaussian(z, a->cols * l, 1.0, o->seed);
    csr_mul_dense(y, a, z, l);
    if (lq_factor(y, a->rows, l, 1)) return ERR_FAIL;
    for (int it = 0; it < o->power_iters; it++) {
        csr_mul_dense(z, at, y, l);
        if (lq_factor(z, a->cols, l, 1)) return ERR_FAIL;
        csr_mul_dense(y, a, z, l);
        if (lq_factor(y, a->rows, l, 1)) return ERR_FAIL;
    }
    return 0;
}

int svd_truncated(float *u, float *s, const csr_mat *a, int k, const svd_opts *o) {
    svd_opts def;
    if (!o) svd_opts_default(&def), o = &def;
    if (check_k(a, k)) return ERR_FAIL;
    if (o->power_iters < 0 || o->oversample < 0)
        return err_set("svd: power iterations %d and oversample %d must be >= 0", o->power_iters, o->oversample);
    int64_t lim = a->rows < a->cols ? a->rows : a->cols;
    int64_t want = (int64_t)k + (o->oversample ? o->oversample : (k > 10 ? k : 10));
    int l = (int)(want < lim ? want : lim);
    csr_mat at = {0};
    float *y = mem_alloc((size_t)a->rows * l * sizeof *y), *z = mem_alloc((size_t)a->cols * l * sizeof *z);
    double *ub = mem_alloc((size_t)l * l * sizeof *ub), *sd = mem_alloc((size_t)l * sizeof *sd);
    float *ubf = mem_alloc((size_t)l * l * sizeof *ubf);
    int rc = y && z && ub && sd && ubf ? csr_transpose(&at, a) : ERR_FAIL;
    if (!rc) rc = range_finder(y, z, a, &at, l, o);
    if (!rc) {
        // B = Y^T A; its transpose A^T Y = Q L^T, so B = L Q^T shares L's left vectors and values
        csr_mul_dense(z, &at, y, l);
        rc = lq_factor(z, a->cols, l, 0);
    }
    if (!rc) {
        int threads = lapack_threads_begin((int64_t)l * l);
        rc = small_svd(ub, sd, z, l);
        lapack_threads_end(threads);
    }
    if (!rc) {
        for (size_t i = 0; i < (size_t)l * l; i++) ubf[i] = (float)ub[i];
        // column j of ub (column-major) is row j of ub^T: u = y ub[:, :k]
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)a->rows, k, l, 1.0f, y, l, ubf, l, 0.0f, u, k);
        for (int j = 0; j < k; j++) s[j] = (float)sd[j];
    }
    csr_free(&at);
    free(y), free(z), free(ub), free(sd), free(ubf);
    return rc ? err_wrap("truncated SVD (rank %d) of a %lld x %lld matrix", k, (long long)a->rows, (long long)a->cols)
              : 0;
}

int svd_random_project(float *out, const csr_mat *a, int k, uint64_t seed) {
    if (check_k(a, k)) return ERR_FAIL;
    float *g = mem_alloc((size_t)a->cols * k * sizeof *g);
    if (!g) return ERR_FAIL;
    fill_gaussian(g, a->cols * k, 1.0 / sqrt((double)k), seed);
    csr_mul_dense(out, a, g, k);
    free(g);
    return 0;
}

int svd_embed(float *out, float *s_out, const csr_mat *a, int k, double s_power, const svd_opts *o) {
    float *s = mem_alloc((size_t)(k > 0 ? k : 1) * sizeof *s);
    if (!s) return ERR_FAIL;
    int rc = svd_truncated(out, s, a, k, o);
    if (!rc) {
        if (s_out) memcpy(s_out, s, (size_t)k * sizeof *s);
        for (int j = 0; j < k; j++) s[j] = (float)pow(s[j], s_power);
        for (int64_t r = 0; r < a->rows; r++)
            for (int j = 0; j < k; j++) out[r * k + j] *= s[j];
    }
    free(s);
    return rc;
}
