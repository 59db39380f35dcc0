// Embedding sources for sid train/encode: one reader over .npy and Parquet so both passes of
// sid encode (codes, then the balance pass) stream the file the same way.
#include "rec/embsrc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "base/mem.h"
#include "rec/kmeans.h"

static int ends_with(const char *s, const char *suf) {
    size_t a = strlen(s), b = strlen(suf);
    return a >= b && !strcmp(s + a - b, suf);
}

// The npy reader's messages start with the path; ours say which input it was.
static int embsrc_npy_fail(void) {
    char m[ERR_MSG_MAX];
    snprintf(m, sizeof m, "%s", err_msg());
    return err_set("embeddings %s", m);
}

static int pq_cursor_start(embsrc *s) {
    const char *cols[2] = {s->column, s->pid_column};
    if (parquet_cursor_open(&s->c, s->r, cols, s->has_pid ? 2 : 1)) return err_wrap("embeddings %s", s->path);
    s->row = 0;
    return 0;
}

static int pq_check_columns(embsrc *s) {
    int ci = parquet_reader_find_column(s->r, s->column);
    if (ci < 0) {
        char names[512] = "";
        for (int i = 0; i < parquet_reader_num_columns(s->r); i++) {
            size_t len = strlen(names);
            snprintf(names + len, sizeof names - len, "%s%s", i ? ", " : "", parquet_reader_column(s->r, i)->name);
        }
        return err_set("embeddings %s: no column '%s' (columns: %s); name the embedding column with --column", s->path,
                       s->column, names);
    }
    const parquet_column_info *info = parquet_reader_column(s->r, ci);
    if (info->is_list != 1 || (info->type != PQ_FLOAT && info->type != PQ_DOUBLE))
        return err_set("embeddings %s: column '%s' is not a list of float/double", s->path, s->column);
    s->col_double = info->type == PQ_DOUBLE;
    int pi = parquet_reader_find_column(s->r, s->pid_column);
    s->has_pid = pi >= 0;
    if (s->has_pid) {
        const parquet_column_info *pinfo = parquet_reader_column(s->r, pi);
        if (pinfo->is_list || (pinfo->type != PQ_INT64 && pinfo->type != PQ_INT32))
            return err_set("embeddings %s: column '%s' must be an integer item id", s->path, s->pid_column);
    }
    return 0;
}

static int pq_get_row(embsrc *s, const float **vf, const double **vd, size_t *len) {
    *vf = NULL, *vd = NULL;
    return s->col_double ? parquet_cursor_get_list_double(s->c, 0, vd, len) : parquet_cursor_get_list_float(s->c, 0, vf, len);
}

static int pq_open(embsrc *s) {
    if (parquet_reader_open(&s->r, s->path)) return err_wrap("embeddings");
    if (pq_check_columns(s)) return ERR_FAIL;
    s->n = parquet_reader_num_rows(s->r);
    if (pq_cursor_start(s)) return ERR_FAIL;
    // the dimension is the first row's length; every other row must match it
    int rc = parquet_cursor_next(s->c);
    if (rc < 0) return ERR_FAIL;
    if (rc == 0) return err_set("embeddings %s: no rows", s->path);
    size_t len;
    const float *vf;
    const double *vd;
    if (pq_get_row(s, &vf, &vd, &len)) return ERR_FAIL;
    if (len == 0) return err_set("embeddings %s: row 0 of '%s' is empty: embeddings must have at least one component", s->path, s->column);
    s->d = (int)len;
    parquet_cursor_close(s->c);
    s->c = NULL;
    return pq_cursor_start(s);
}

void embsrc_close(embsrc *s) {
    npy_close(&s->npy);
    if (s->c) parquet_cursor_close(s->c);
    if (s->r) parquet_reader_close(s->r);
    s->c = NULL, s->r = NULL;
}

int embsrc_open(embsrc *s, const char *path, const char *column, const char *pid_column) {
    memset(s, 0, sizeof *s);
    s->path = path, s->column = column, s->pid_column = pid_column;
    s->is_npy = ends_with(path, ".npy");
    int rc;
    if (s->is_npy) {
        rc = npy_open(&s->npy, path) ? embsrc_npy_fail() : 0;
        s->n = s->npy.rows, s->d = s->npy.cols;
    } else {
        rc = pq_open(s);
    }
    if (rc) embsrc_close(s);
    return rc;
}

int embsrc_rewind(embsrc *s) {
    s->row = 0;
    if (s->is_npy) return npy_rewind(&s->npy) ? embsrc_npy_fail() : 0;
    parquet_cursor_close(s->c);
    s->c = NULL;
    return pq_cursor_start(s);
}

static int pq_read(embsrc *s, float *x, int64_t *pid, int64_t max, int64_t *got) {
    int64_t m = 0, d = s->d;
    while (m < max) {
        int rc = parquet_cursor_next(s->c);
        if (rc < 0) return ERR_FAIL;
        if (rc == 0) break;
        size_t len;
        const float *vf;
        const double *vd;
        if (pq_get_row(s, &vf, &vd, &len)) return ERR_FAIL;
        if ((int64_t)len != d)
            return err_set("embeddings %s: row %lld of '%s' has %zu components, row 0 has %d: all embeddings "
                           "must have one dimension", s->path, (long long)(s->row + m), s->column, len, s->d);
        float *o = x + m * d;
        for (int64_t j = 0; j < d; j++) o[j] = vf ? vf[j] : (float)vd[j];
        if (s->has_pid) {
            if (parquet_cursor_get_int64(s->c, 1, &pid[m])) return ERR_FAIL;
        } else {
            pid[m] = s->row + m;
        }
        m++;
    }
    *got = m;
    return 0;
}

int embsrc_read(embsrc *s, float *x, int64_t *pid, int64_t max, int64_t *got) {
    int64_t m = 0;
    if (s->is_npy) {
        if (npy_read_rows(&s->npy, x, max, &m)) return embsrc_npy_fail();
        for (int64_t i = 0; i < m; i++) pid[i] = s->row + i;
    } else if (pq_read(s, x, pid, max, &m)) {
        return ERR_FAIL;
    }
    if (kmeans_check_finite(x, m, s->d, s->row)) return err_wrap("embeddings %s", s->path);
    s->row += m;
    *got = m;
    return 0;
}

int embsrc_read_all(embsrc *s, float **x, int64_t *n) {
    *x = mem_alloc(sizeof(float) * (size_t)s->n * s->d);
    int64_t *pid = mem_alloc(sizeof(int64_t) * (size_t)s->n);
    int rc = (!*x || !pid) ? ERR_FAIL : embsrc_read(s, *x, pid, s->n, n);
    free(pid);
    if (rc) {
        free(*x);
        *x = NULL;
    }
    return rc;
}
