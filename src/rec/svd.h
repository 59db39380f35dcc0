// Sparse matrices (CSR) and a truncated SVD of them by randomized subspace iteration (Halko,
// Martinsson, Tropp 2011, algorithm 4.4): the LSA step of the text embeddings (src/rec/embed_text.h)
// and of the co-occurrence embeddings (src/data/item_cooc.h). Memory beyond the sparse matrix is
// (rows + cols) x (k + oversample) floats; the small dense problems go to LAPACK (OpenBLAS's).
#pragma once
#include <stdint.h>

typedef struct {
    int64_t rows, cols;
    int64_t *ptr;   // [rows + 1] start of each row in idx/val
    int32_t *idx;   // [nnz] column of each value, ascending within a row
    float *val;     // [nnz]
} csr_mat;

static inline int64_t csr_nnz(const csr_mat *a) { return a->ptr ? a->ptr[a->rows] : 0; }
void csr_free(csr_mat *a);
int csr_transpose(csr_mat *t, const csr_mat *a);

typedef struct {
    int oversample;    // extra columns of the range finder: l = k + oversample (sklearn: 10)
    int power_iters;   // subspace iterations (sklearn: 4..7; more converge on flat spectra)
    uint64_t seed;     // of the Gaussian test matrix
} svd_opts;

void svd_opts_default(svd_opts *o);   // oversample 0 (= max(10, k), chosen at run time), 12 iterations

// The k largest singular triplets' left vectors u [rows, k] (row-major, orthonormal columns) and
// values s [k] (descending). k must be in 1..min(rows, cols). Columns of u have an arbitrary sign.
int svd_truncated(float *u, float *s, const csr_mat *a, int k, const svd_opts *o);

// out [rows, k] = u * diag(s)^s_power (1: LSA document vectors, 0.5: the symmetric split of a
// co-occurrence matrix), rows not normalised. s_out [k] (may be NULL) gets the singular values.
int svd_embed(float *out, float *s_out, const csr_mat *a, int k, double s_power, const svd_opts *o);

// out [rows, k] = a * g, g [cols, k] Gaussian N(0, 1/k) from seed: a Johnson-Lindenstrauss
// projection, the fallback when no SVD is wanted.
int svd_random_project(float *out, const csr_mat *a, int k, uint64_t seed);
