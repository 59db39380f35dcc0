// The Parquet backend of data/table.h through src/formats/parquet.h. Built as a stub (every call
// fails with a clear message) when that module is not part of the tree yet.
#include "data/table_pq.h"

#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "base/mem.h"

#if __has_include("formats/parquet.h")
#include "formats/parquet.h"

int dtab_pq_available(void) { return 1; }

struct dtab_pq_writer {
    parquet_writer *w;
    const dcol *cols;   // owned by the dtab_writer, which outlives us
    int ncols;
    void *buf;          // scratch for list values
    size_t buf_cap;
};

static int scratch(dtab_pq_writer *p, size_t bytes) {
    if (bytes <= p->buf_cap) return 0;
    void *b = mem_realloc(p->buf, bytes * 2);
    if (!b) return ERR_FAIL;
    p->buf = b;
    p->buf_cap = bytes * 2;
    return 0;
}

int dtab_pq_writer_open(dtab_pq_writer **out, const char *path, const dcol *cols, int ncols) {
    *out = NULL;
    dtab_pq_writer *p = mem_calloc(1, sizeof *p);
    parquet_column_spec *spec = mem_calloc((size_t)ncols, sizeof *spec);
    if (!p || !spec) {
        free(p);
        free(spec);
        return ERR_FAIL;
    }
    for (int i = 0; i < ncols; i++) {
        spec[i].name = cols[i].name;
        spec[i].nullable = cols[i].nullable;
        switch (cols[i].type) {
        case DCOL_I64: spec[i].type = PQ_INT64; break;
        case DCOL_I32: spec[i].type = PQ_INT32; break;
        case DCOL_F64: spec[i].type = PQ_DOUBLE; break;
        case DCOL_STR: spec[i].type = PQ_STRING; break;
        case DCOL_LIST_I64: spec[i].type = PQ_INT64, spec[i].is_list = 1; break;
        case DCOL_LIST_I32: spec[i].type = PQ_INT32, spec[i].is_list = 1; break;
        case DCOL_LIST_F32: spec[i].type = PQ_FLOAT, spec[i].is_list = 1; break;
        }
    }
    // the data layer keeps up to ~20 writers open at once (convert): smaller row groups than the
    // default keep the peak memory of a convert run low
    parquet_write_options opt;
    parquet_write_options_default(&opt);
    opt.row_group_bytes = 4u << 20;
    // min/max statistics of every row group stay in memory until the footer: with long string
    // columns (messages) that grows with the number of rows, and they are useless for our tables
    opt.statistics = 0;
    int rc = parquet_writer_open(&p->w, path, spec, ncols, &opt);
    free(spec);
    if (rc) {
        free(p);
        return ERR_FAIL;
    }
    p->cols = cols;
    p->ncols = ncols;
    *out = p;
    return 0;
}

// Values were checked against the column types by dtab_writer_row.
int dtab_pq_writer_row(dtab_pq_writer *p, const cJSON *row) {
    for (int i = 0; i < p->ncols; i++) {
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(row, p->cols[i].name);
        int rc = 0;
        if (!v || cJSON_IsNull(v)) {
            rc = parquet_writer_add_null(p->w, i);
        } else {
            size_t n = (size_t)cJSON_GetArraySize(v), k = 0;
            switch (p->cols[i].type) {
            case DCOL_I64: rc = parquet_writer_add_int64(p->w, i, (int64_t)v->valuedouble); break;
            case DCOL_I32: rc = parquet_writer_add_int32(p->w, i, (int32_t)v->valuedouble); break;
            case DCOL_F64: rc = parquet_writer_add_double(p->w, i, v->valuedouble); break;
            case DCOL_STR: rc = parquet_writer_add_string(p->w, i, v->valuestring, strlen(v->valuestring)); break;
            case DCOL_LIST_I64:
                if ((rc = scratch(p, n * 8 + 8))) break;
                for (const cJSON *e = v->child; e; e = e->next) ((int64_t *)p->buf)[k++] = (int64_t)e->valuedouble;
                rc = parquet_writer_add_list_int64(p->w, i, p->buf, n);
                break;
            case DCOL_LIST_I32:
                if ((rc = scratch(p, n * 4 + 8))) break;
                for (const cJSON *e = v->child; e; e = e->next) ((int32_t *)p->buf)[k++] = (int32_t)e->valuedouble;
                rc = parquet_writer_add_list_int32(p->w, i, p->buf, n);
                break;
            case DCOL_LIST_F32:
                if ((rc = scratch(p, n * 4 + 8))) break;
                for (const cJSON *e = v->child; e; e = e->next) ((float *)p->buf)[k++] = (float)e->valuedouble;
                rc = parquet_writer_add_list_float(p->w, i, p->buf, n);
                break;
            }
        }
        if (rc) return ERR_FAIL;
    }
    return parquet_writer_end_row(p->w);
}

int dtab_pq_writer_close(dtab_pq_writer *p) {
    int rc = parquet_writer_close(p->w);
    free(p->buf);
    free(p);
    return rc;
}

void dtab_pq_writer_abort(dtab_pq_writer *p) {
    if (!p) return;
    parquet_writer_abort(p->w);
    free(p->buf);
    free(p);
}

struct dtab_pq_reader {
    parquet_reader *r;
    parquet_cursor *c;
    int ncols;
    const parquet_column_info **info;   // per cursor column
};

int dtab_pq_reader_open(dtab_pq_reader **out, const char *path) {
    *out = NULL;
    dtab_pq_reader *p = mem_calloc(1, sizeof *p);
    if (!p) return ERR_FAIL;
    if (parquet_reader_open(&p->r, path) || parquet_cursor_open(&p->c, p->r, NULL, 0)) goto fail;
    p->ncols = parquet_cursor_num_columns(p->c);
    p->info = mem_calloc((size_t)p->ncols + 1, sizeof *p->info);
    if (!p->info) goto fail;
    for (int i = 0; i < p->ncols; i++) p->info[i] = parquet_reader_column(p->r, parquet_cursor_column_index(p->c, i));
    *out = p;
    return 0;
fail:
    dtab_pq_reader_close(p);
    return ERR_FAIL;
}

int dtab_pq_reader_ncols(const dtab_pq_reader *p) { return p->ncols; }
const char *dtab_pq_reader_col_name(const dtab_pq_reader *p, int i) { return p->info[i]->name; }

int dtab_pq_reader_col_type(const dtab_pq_reader *p, int i) {
    const parquet_column_info *c = p->info[i];
    switch (c->type) {
    case PQ_INT32:
    case PQ_BOOL: return c->is_list ? DCOL_LIST_I32 : DCOL_I32;
    case PQ_INT64: return c->is_list ? DCOL_LIST_I64 : DCOL_I64;
    case PQ_FLOAT:
    case PQ_DOUBLE: return c->is_list ? DCOL_LIST_F32 : DCOL_F64;
    case PQ_STRING: return c->is_list ? -1 : DCOL_STR;
    }
    return -1;
}

static cJSON *num_array_i64(const int64_t *v, size_t n) {
    cJSON *a = cJSON_CreateArray();
    for (size_t k = 0; a && k < n; k++) cJSON_AddItemToArray(a, cJSON_CreateNumber((double)v[k]));
    return a;
}

int dtab_pq_reader_next(dtab_pq_reader *p, cJSON **row) {
    *row = NULL;
    int got = parquet_cursor_next(p->c);
    if (got <= 0) return got;
    cJSON *o = cJSON_CreateObject();
    if (!o) return err_set("out of memory");
    for (int i = 0; i < p->ncols; i++) {
        const parquet_column_info *c = p->info[i];
        cJSON *v = NULL;
        int rc = 0;
        if (parquet_cursor_is_null(p->c, i)) v = cJSON_CreateNull();
        else if (c->is_list) {
            if (c->type == PQ_STRING) {
                const char *const *s;
                const size_t *lens;
                size_t n;
                if (!(rc = parquet_cursor_get_list_string(p->c, i, &s, &lens, &n))) {
                    v = cJSON_CreateArray();
                    for (size_t k = 0; k < n; k++) {
                        char *t = mem_strndup(s[k], lens[k]);
                        cJSON_AddItemToArray(v, cJSON_CreateString(t ? t : ""));
                        free(t);
                    }
                }
            } else if (c->type == PQ_FLOAT || c->type == PQ_DOUBLE) {
                const double *d;
                size_t n;
                if (!(rc = parquet_cursor_get_list_double(p->c, i, &d, &n))) v = cJSON_CreateDoubleArray(d, (int)n);
            } else {
                const int64_t *d;
                size_t n;
                if (c->type == PQ_BOOL) {
                    const uint8_t *b;
                    if (!(rc = parquet_cursor_get_list_bool(p->c, i, &b, &n))) {
                        v = cJSON_CreateArray();
                        for (size_t k = 0; k < n; k++) cJSON_AddItemToArray(v, cJSON_CreateNumber(b[k]));
                    }
                } else if (!(rc = parquet_cursor_get_list_int64(p->c, i, &d, &n))) v = num_array_i64(d, n);
            }
        } else {
            switch (c->type) {
            case PQ_STRING: {
                const char *s;
                size_t n;
                if (!(rc = parquet_cursor_get_string(p->c, i, &s, &n))) {
                    char *t = mem_strndup(s, n);
                    v = cJSON_CreateString(t ? t : "");
                    free(t);
                }
                break;
            }
            case PQ_FLOAT:
            case PQ_DOUBLE: {
                double d;
                if (!(rc = parquet_cursor_get_double(p->c, i, &d))) v = cJSON_CreateNumber(d);
                break;
            }
            default: {
                int64_t d;
                if (!(rc = parquet_cursor_get_int64(p->c, i, &d))) v = cJSON_CreateNumber((double)d);
                break;
            }
            }
        }
        if (rc || !v) {
            cJSON_Delete(o);
            cJSON_Delete(v);
            return rc ? ERR_FAIL : err_set("out of memory");
        }
        cJSON_AddItemToObject(o, c->name, v);
    }
    *row = o;
    return 1;
}

void dtab_pq_reader_close(dtab_pq_reader *p) {
    if (!p) return;
    if (p->c) parquet_cursor_close(p->c);
    if (p->r) parquet_reader_close(p->r);
    free(p->info);
    free(p);
}

#else   // Parquet not in this tree yet

int dtab_pq_available(void) { return 0; }
int dtab_pq_writer_open(dtab_pq_writer **w, const char *path, const dcol *cols, int ncols) {
    (void)cols, (void)ncols;
    *w = NULL;
    return err_set("%s: Parquet support is not built in", path);
}
int dtab_pq_writer_row(dtab_pq_writer *w, const cJSON *row) {
    (void)w, (void)row;
    return err_set("Parquet support is not built in");
}
int dtab_pq_writer_close(dtab_pq_writer *w) {
    (void)w;
    return err_set("Parquet support is not built in");
}
void dtab_pq_writer_abort(dtab_pq_writer *w) { (void)w; }
int dtab_pq_reader_open(dtab_pq_reader **r, const char *path) {
    *r = NULL;
    return err_set("%s: Parquet support is not built in", path);
}
int dtab_pq_reader_ncols(const dtab_pq_reader *r) { (void)r; return 0; }
const char *dtab_pq_reader_col_name(const dtab_pq_reader *r, int i) { (void)r, (void)i; return ""; }
int dtab_pq_reader_col_type(const dtab_pq_reader *r, int i) { (void)r, (void)i; return -1; }
int dtab_pq_reader_next(dtab_pq_reader *r, cJSON **row) {
    (void)r, (void)row;
    return err_set("Parquet support is not built in");
}
void dtab_pq_reader_close(dtab_pq_reader *r) { (void)r; }
#endif
