// Parquet cursor: a projection of columns, one decoded row group at a time (parquet_read.c
// decodes the chunks), rows stepped through with typed getters that widen where it is safe.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "base/err.h"
#include "base/mem.h"
#include "formats/parquet_int.h"


static void col_free(pq_col *c) {
    pq_col_reset(c);
    for (int i = 0; i < c->ntotal; i++) free(c->bufs[i]);
    free(c->bufs);
    free(c->bufsz); free(c->row_null); free(c->row_off); free(c->slot_null); free(c->vals);
    free(c->sptr); free(c->slen); free(c->dict_vals); free(c->dict_sptr); free(c->dict_slen);
    free(c->defs); free(c->reps); free(c->idx); free(c->tmp64);
    pq_buf_free(&c->scratch);
    pq_buf_free(&c->scratch2);
    pq_buf_free(&c->page);
}

static size_t phys_size(int t) {
    switch (t) {
    case PT_BOOLEAN: return 1;
    case PT_INT32: case PT_FLOAT: return 4;
    case PT_INT64: case PT_DOUBLE: return 8;
    case PT_INT96: return 12;
    default: return 0;
    }
}

int parquet_cursor_open(parquet_cursor **out, parquet_reader *r, const char *const *names, int n) {
    *out = NULL;
    const pq_meta *m = &r->meta;
    parquet_cursor *c = mem_calloc(1, sizeof *c);
    if (!c) return ERR_FAIL;
    c->r = r;
    c->rg = -1;
    c->row = -1;
    int want = names ? n : m->nleaves;
    c->cols = mem_calloc((size_t)(want ? want : 1), sizeof *c->cols);
    if (!c->cols) { free(c); return ERR_FAIL; }
    for (int i = 0; i < want; i++) {
        int ci = i;
        if (names) {
            ci = parquet_reader_find_column(r, names[i]);
            if (ci < 0) {
                char list[512] = "";
                size_t len = 0;
                for (int k = 0; k < m->nleaves && len + 2 < sizeof list; k++)
                    len += (size_t)snprintf(list + len, sizeof list - len, "%s%s", k ? ", " : "", m->names[k]);
                parquet_cursor_close(c);
                return err_set("file %s: no column '%s' (columns: %s)", r->path, names[i], list);
            }
        } else if (!m->cols[ci].supported) continue;
        const parquet_column_info *info = &m->cols[ci];
        if (!info->supported) {
            parquet_cursor_close(c);
            return err_set("file %s: column %s: unsupported type (physical %d, logical %s%s)", r->path, info->name,
                           info->physical, info->logical[0] ? info->logical : "none", info->is_list > 1 ? ", nested list" : "");
        }
        pq_col *col = &c->cols[c->ncols++];
        const pq_leaf *L = &m->leaves[ci];
        const pq_schema_elem *e = &m->schema[L->leaf];
        col->ci = ci;
        col->ptype = e->type;
        col->type_length = e->type_length;
        col->max_def = L->max_def;
        col->max_rep = L->max_rep;
        col->rep_def = L->rep_def;
        col->is_unsigned = L->is_unsigned;
        col->esize = phys_size(e->type);
    }
    *out = c;
    return 0;
}

void parquet_cursor_close(parquet_cursor *c) {
    if (!c) return;
    for (int i = 0; i < c->ncols; i++) col_free(&c->cols[i]);
    free(c->cols);
    free(c);
}

int parquet_cursor_num_columns(const parquet_cursor *c) { return c->ncols; }
int parquet_cursor_column_index(const parquet_cursor *c, int i) { return i >= 0 && i < c->ncols ? c->cols[i].ci : -1; }
int64_t parquet_cursor_row(const parquet_cursor *c) { return c->row; }
const parquet_column_info *parquet_cursor_column_info(const parquet_cursor *c, int i) {
    return i >= 0 && i < c->ncols ? &c->r->meta.cols[c->cols[i].ci] : NULL;
}

// madvise over the mapped bytes of the cursor's column chunks in row group g
static void advise_chunks(parquet_cursor *c, const pq_row_group *g, int advice) {
    parquet_reader *r = c->r;
    if (!r->mapped) return;
    long pg = sysconf(_SC_PAGESIZE);
    for (int i = 0; i < c->ncols; i++) {
        const pq_chunk_meta *cm = &g->chunks[c->cols[i].ci];
        int64_t start = cm->dict_page_offset > 0 && cm->dict_page_offset < cm->data_page_offset ? cm->dict_page_offset : cm->data_page_offset;
        int64_t a = start / pg * pg;
        madvise((void *)(r->data + a), (size_t)(start + cm->total_compressed - a), advice);
    }
}

static int load_row_group(parquet_cursor *c, int rg) {
    parquet_reader *r = c->r;
    const pq_row_group *g = &r->meta.rgs[rg];
    // fault the chunks in with one call each instead of one page fault per 4 KiB page
    advise_chunks(c, g, 22 /* MADV_POPULATE_READ */);
    for (int i = 0; i < c->ncols; i++) {
        pq_col *col = &c->cols[i];
        if (pq_col_decode_chunk(r, col, &g->chunks[col->ci], g->num_rows))
            return err_wrap("file %s, row group %d, column %s", r->path, rg, r->meta.names[col->ci]);
    }
    // the chunks are decoded: drop their file pages so memory stays bounded by a row group, not
    // by the file (a read-only private file mapping refaults the same bytes if touched again)
    advise_chunks(c, g, MADV_DONTNEED);
    c->rg = rg;
    c->rg_rows = g->num_rows;
    c->row_in_rg = -1;
    return 0;
}

int parquet_cursor_seek_row_group(parquet_cursor *c, int rg) {
    parquet_reader *r = c->r;
    if (rg < 0 || rg > r->meta.nrgs) return err_set("file %s: no row group %d (%d row groups)", r->path, rg, r->meta.nrgs);
    int64_t before = 0;
    for (int g = 0; g < rg; g++) before += r->meta.rgs[g].num_rows;
    for (int i = 0; i < c->ncols; i++) pq_col_reset(&c->cols[i]);
    c->rg = rg - 1;
    c->rg_rows = 0;
    c->row_in_rg = 0;
    c->row = before - 1;
    return 0;
}

int parquet_cursor_next(parquet_cursor *c) {
    while (c->rg < 0 || c->row_in_rg + 1 >= c->rg_rows) {
        int next = c->rg + 1;
        if (next >= c->r->meta.nrgs) return 0;
        if (c->r->meta.rgs[next].num_rows == 0) { c->rg = next; c->rg_rows = 0; c->row_in_rg = 0; continue; }
        if (load_row_group(c, next)) return ERR_FAIL;
    }
    c->row_in_rg++;
    c->row++;
    return 1;
}

// ---------------------------------------------------------------------------- getters

static int bad_col(const parquet_cursor *c, int i) {
    return err_set("cursor column %d out of range (%d columns)", i, c->ncols);
}

#define COL_OR_FAIL(c, i)                                                  \
    if ((i) < 0 || (i) >= (c)->ncols) return bad_col(c, i);               \
    if ((c)->rg < 0 || (c)->row_in_rg < 0) return err_set("no current row (call parquet_cursor_next first)"); \
    pq_col *col = &(c)->cols[i];

static int mismatch(const parquet_cursor *c, const pq_col *col, const char *want) {
    const parquet_column_info *ci = &c->r->meta.cols[col->ci];
    return err_set("file %s: column %s is %s%s%s, not %s", c->r->path, ci->name, ci->is_list ? "list<" : "",
                   pq_type_name(ci->type), ci->is_list ? ">" : "", want);
}

int parquet_cursor_is_null(const parquet_cursor *c, int i) {
    if (i < 0 || i >= c->ncols || c->rg < 0 || c->row_in_rg < 0) return 0;
    return c->cols[i].row_null[c->row_in_rg];
}

// The slot range of the current row: [*s, *s + *n).
static int flat_slot(const parquet_cursor *c, const pq_col *col, const char *want, int64_t *s) {
    if (col->max_rep) return mismatch(c, col, want);
    *s = c->row_in_rg;
    return 0;
}

static int list_slots(const parquet_cursor *c, const pq_col *col, const char *want, int64_t *s, size_t *n) {
    if (!col->max_rep) return mismatch(c, col, want);
    *s = col->row_off[c->row_in_rg];
    *n = (size_t)(col->row_off[c->row_in_rg + 1] - *s);
    return 0;
}

static int64_t widen_i64(const pq_col *col, int64_t s) {
    switch (col->ptype) {
    case PT_INT64: return ((const int64_t *)col->vals)[s];
    case PT_INT32: return col->is_unsigned ? (int64_t)((const uint32_t *)col->vals)[s] : ((const int32_t *)col->vals)[s];
    default: return col->vals[s];   // BOOLEAN
    }
}

static double widen_f64(const pq_col *col, int64_t s) {
    switch (col->ptype) {
    case PT_DOUBLE: return ((const double *)col->vals)[s];
    case PT_FLOAT: return ((const float *)col->vals)[s];
    default: return (double)widen_i64(col, s);
    }
}

int parquet_cursor_get_int64(parquet_cursor *c, int i, int64_t *v) {
    COL_OR_FAIL(c, i);
    int64_t s = 0;
    if ((col->ptype != PT_INT64 && col->ptype != PT_INT32 && col->ptype != PT_BOOLEAN) || flat_slot(c, col, "int64", &s))
        return mismatch(c, col, "int64");
    *v = widen_i64(col, s);
    return 0;
}

int parquet_cursor_get_int32(parquet_cursor *c, int i, int32_t *v) {
    COL_OR_FAIL(c, i);
    int64_t s = 0;
    if ((col->ptype != PT_INT32 && col->ptype != PT_BOOLEAN) || col->is_unsigned || flat_slot(c, col, "int32", &s))
        return mismatch(c, col, "int32");
    *v = (int32_t)widen_i64(col, s);
    return 0;
}

int parquet_cursor_get_bool(parquet_cursor *c, int i, int *v) {
    COL_OR_FAIL(c, i);
    int64_t s = 0;
    if (col->ptype != PT_BOOLEAN || flat_slot(c, col, "bool", &s)) return mismatch(c, col, "bool");
    *v = col->vals[s];
    return 0;
}

int parquet_cursor_get_double(parquet_cursor *c, int i, double *v) {
    COL_OR_FAIL(c, i);
    int64_t s = 0;
    if (!col->esize || col->ptype == PT_INT96 || flat_slot(c, col, "double", &s)) return mismatch(c, col, "double");
    *v = widen_f64(col, s);
    return 0;
}

int parquet_cursor_get_string(parquet_cursor *c, int i, const char **str, size_t *len) {
    COL_OR_FAIL(c, i);
    int64_t s = 0;
    if (col->esize || flat_slot(c, col, "string", &s)) return mismatch(c, col, "string");
    *str = col->sptr[s];
    *len = col->slen[s];
    return 0;
}

int parquet_cursor_get_list_int64(parquet_cursor *c, int i, const int64_t **v, size_t *n) {
    COL_OR_FAIL(c, i);
    int64_t s = 0;
    if ((col->ptype != PT_INT64 && col->ptype != PT_INT32 && col->ptype != PT_BOOLEAN) || list_slots(c, col, "list<int64>", &s, n))
        return mismatch(c, col, "list<int64>");
    if (col->ptype == PT_INT64) { *v = (const int64_t *)col->vals + s; return 0; }
    col->scratch.len = 0;
    if (pq_buf_reserve(&col->scratch, *n * 8 + 8)) return ERR_FAIL;
    int64_t *o = (int64_t *)col->scratch.buf;
    for (size_t k = 0; k < *n; k++) o[k] = widen_i64(col, s + (int64_t)k);
    *v = o;
    return 0;
}

int parquet_cursor_get_list_int32(parquet_cursor *c, int i, const int32_t **v, size_t *n) {
    COL_OR_FAIL(c, i);
    int64_t s = 0;
    if (col->ptype != PT_INT32 || col->is_unsigned || list_slots(c, col, "list<int32>", &s, n)) {
        // int64 lists are narrowed when every value fits (pid2sid written with int64 sids)
        if (col->ptype != PT_INT64 || list_slots(c, col, "list<int32>", &s, n)) return mismatch(c, col, "list<int32>");
        col->scratch.len = 0;
        if (pq_buf_reserve(&col->scratch, *n * 4 + 4)) return ERR_FAIL;
        int32_t *o = (int32_t *)col->scratch.buf;
        for (size_t k = 0; k < *n; k++) {
            int64_t x = ((const int64_t *)col->vals)[s + (int64_t)k];
            if (x < INT32_MIN || x > INT32_MAX)
                return err_set("file %s: column %s: value %lld does not fit int32", c->r->path, c->r->meta.names[col->ci], (long long)x);
            o[k] = (int32_t)x;
        }
        *v = o;
        return 0;
    }
    *v = (const int32_t *)col->vals + s;
    return 0;
}

int parquet_cursor_get_list_float(parquet_cursor *c, int i, const float **v, size_t *n) {
    COL_OR_FAIL(c, i);
    int64_t s = 0;
    if ((col->ptype != PT_FLOAT && col->ptype != PT_DOUBLE) || list_slots(c, col, "list<float>", &s, n))
        return mismatch(c, col, "list<float>");
    if (col->ptype == PT_FLOAT) { *v = (const float *)col->vals + s; return 0; }
    col->scratch.len = 0;
    if (pq_buf_reserve(&col->scratch, *n * 4 + 4)) return ERR_FAIL;
    float *o = (float *)col->scratch.buf;
    for (size_t k = 0; k < *n; k++) o[k] = (float)((const double *)col->vals)[s + (int64_t)k];
    *v = o;
    return 0;
}

int parquet_cursor_get_list_double(parquet_cursor *c, int i, const double **v, size_t *n) {
    COL_OR_FAIL(c, i);
    int64_t s = 0;
    if (!col->esize || col->ptype == PT_INT96 || list_slots(c, col, "list<double>", &s, n)) return mismatch(c, col, "list<double>");
    if (col->ptype == PT_DOUBLE) { *v = (const double *)col->vals + s; return 0; }
    col->scratch.len = 0;
    if (pq_buf_reserve(&col->scratch, *n * 8 + 8)) return ERR_FAIL;
    double *o = (double *)col->scratch.buf;
    for (size_t k = 0; k < *n; k++) o[k] = widen_f64(col, s + (int64_t)k);
    *v = o;
    return 0;
}

int parquet_cursor_get_list_bool(parquet_cursor *c, int i, const uint8_t **v, size_t *n) {
    COL_OR_FAIL(c, i);
    int64_t s = 0;
    if (col->ptype != PT_BOOLEAN || list_slots(c, col, "list<bool>", &s, n)) return mismatch(c, col, "list<bool>");
    *v = col->vals + s;
    return 0;
}

int parquet_cursor_get_list_string(parquet_cursor *c, int i, const char *const **str, const size_t **lens, size_t *n) {
    COL_OR_FAIL(c, i);
    int64_t s = 0;
    if (col->esize || list_slots(c, col, "list<string>", &s, n)) return mismatch(c, col, "list<string>");
    *str = col->sptr + s;
    *lens = col->slen + s;
    return 0;
}

int parquet_cursor_get_list_nulls(parquet_cursor *c, int i, const uint8_t **nulls, size_t *n) {
    COL_OR_FAIL(c, i);
    int64_t s = 0;
    if (list_slots(c, col, "a list", &s, n)) return ERR_FAIL;
    *nulls = NULL;
    if (col->any_null_slot)
        for (size_t k = 0; k < *n; k++)
            if (col->slot_null[s + (int64_t)k]) { *nulls = col->slot_null + s; break; }
    return 0;
}
