// Parquet writer: rows are buffered per column (values in PLAIN layout plus def/rep levels) until
// the row group passes its size, then each column chunk is written as an optional dictionary page
// and v1 data pages of about page_bytes, compressed with the chosen codec. The footer follows on
// close and the file is renamed into place.
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "base/file.h"
#include "base/mem.h"
#include "formats/parquet_int.h"
#include "formats/thrift.h"

typedef struct {
    char *name;
    pq_type type;
    int is_list, nullable;
    int ptype;
    size_t esize;          // 0 for strings
    int max_def, max_rep;
    pq_buf vals;           // non-null values, PLAIN layout (strings: u32 length + bytes)
    pq_buf defs, reps;     // one byte per level entry
    int64_t nlevels, nvals, nnull;
    int set;               // set in the current row
    // statistics over the row group
    int has_minmax;
    int64_t imin, imax;
    double dmin, dmax;
    pq_buf smin, smax;
    int stats_ok;
} wcol;

typedef struct {
    int64_t offset, dict_offset, num_values, compressed, uncompressed, null_count;
    int used_dict;
    tr_writer stats;
} chunk_info;

typedef struct {
    int64_t rows, offset, compressed, uncompressed;
    chunk_info *chunks;
} rg_info;

struct parquet_writer {
    afile af;
    char *path;
    parquet_write_options opt;
    int ncols;
    wcol *cols;
    int64_t rows, rg_rows, offset;
    rg_info *rgs;
    int nrgs, caprgs;
    pq_buf page, comp, chunk, lev;   // scratch
    int failed;
};

const char *pq_type_name(pq_type t) {
    static const char *n[] = {"int32", "int64", "float", "double", "bool", "string"};
    return (unsigned)t < 6 ? n[t] : "?";
}

const char *pq_codec_name(pq_codec c) {
    switch ((int)c) {
    case 0: return "UNCOMPRESSED";
    case 1: return "SNAPPY";
    case 2: return "GZIP";
    case 3: return "LZO";
    case 4: return "BROTLI";
    case 5: return "LZ4";
    case 6: return "ZSTD";
    case 7: return "LZ4_RAW";
    default: return "unknown";
    }
}

void parquet_write_options_default(parquet_write_options *o) {
    *o = (parquet_write_options){
        .codec = PQ_CODEC_ZSTD,
        .row_group_bytes = (size_t)64 << 20,
        .page_bytes = (size_t)1 << 20,
        .dictionary = 1,
        .statistics = 1,
    };
}

static void wcol_free(wcol *c) {
    free(c->name);
    pq_buf_free(&c->vals); pq_buf_free(&c->defs); pq_buf_free(&c->reps);
    pq_buf_free(&c->smin); pq_buf_free(&c->smax);
}

static void writer_free(parquet_writer *w) {
    for (int i = 0; i < w->ncols; i++) wcol_free(&w->cols[i]);
    free(w->cols);
    for (int g = 0; g < w->nrgs; g++) {
        for (int i = 0; i < w->ncols; i++) tw_free(&w->rgs[g].chunks[i].stats);
        free(w->rgs[g].chunks);
    }
    free(w->rgs);
    pq_buf_free(&w->page); pq_buf_free(&w->comp); pq_buf_free(&w->chunk); pq_buf_free(&w->lev);
    free(w->path);
    free(w);
}

int parquet_writer_open(parquet_writer **out, const char *path, const parquet_column_spec *cols, int ncols,
                        const parquet_write_options *opt) {
    *out = NULL;
    if (ncols <= 0) return err_set("parquet writer %s: no columns", path);
    parquet_writer *w = mem_calloc(1, sizeof *w);
    if (!w) return ERR_FAIL;
    if (opt) w->opt = *opt; else parquet_write_options_default(&w->opt);
    if (!w->opt.page_bytes) w->opt.page_bytes = (size_t)1 << 20;
    if (!w->opt.row_group_bytes) w->opt.row_group_bytes = (size_t)64 << 20;
    w->path = mem_strdup(path);
    w->cols = mem_calloc((size_t)ncols, sizeof *w->cols);
    if (!w->path || !w->cols) { free(w->path); free(w->cols); free(w); return ERR_FAIL; }
    w->ncols = ncols;
    for (int i = 0; i < ncols; i++) {
        wcol *c = &w->cols[i];
        const parquet_column_spec *s = &cols[i];
        if (!s->name || !s->name[0] || (unsigned)s->type > PQ_STRING) {
            writer_free(w);
            return err_set("parquet writer %s: column %d has no name or a bad type", path, i);
        }
        for (int k = 0; k < i; k++)
            if (!strcmp(cols[k].name, s->name)) { writer_free(w); return err_set("parquet writer %s: column '%s' given twice", path, s->name); }
        c->name = mem_strdup(s->name);
        c->type = s->type;
        c->is_list = s->is_list != 0;
        c->nullable = s->nullable != 0;
        static const int PT[] = {PT_INT32, PT_INT64, PT_FLOAT, PT_DOUBLE, PT_BOOLEAN, PT_BYTE_ARRAY};
        static const size_t ES[] = {4, 8, 4, 8, 1, 0};
        c->ptype = PT[s->type];
        c->esize = ES[s->type];
        c->max_def = c->nullable + c->is_list;
        c->max_rep = c->is_list;
        c->stats_ok = 1;
    }
    if (afile_open(&w->af, path)) { writer_free(w); return err_wrap("parquet writer"); }
    if (fwrite("PAR1", 1, 4, w->af.fp) != 4) { afile_abort(&w->af); writer_free(w); return err_errno("writing %s", path); }
    w->offset = 4;
    *out = w;
    return 0;
}

// ---------------------------------------------------------------------------- appending values

static int col_check(parquet_writer *w, int col) {
    if (w->failed) return err_set("parquet writer %s: an earlier error stopped this file", w->path);
    if (col < 0 || col >= w->ncols) return err_set("parquet writer %s: column %d out of range (%d columns)", w->path, col, w->ncols);
    if (w->cols[col].set) return err_set("parquet writer %s: column %s set twice in row %lld", w->path, w->cols[col].name, (long long)w->rows);
    return 0;
}

static int wrong(parquet_writer *w, const wcol *c, const char *what) {
    return err_set("parquet writer %s: column %s is %s%s%s, cannot add %s", w->path, c->name, c->is_list ? "list<" : "",
                   pq_type_name(c->type), c->is_list ? ">" : "", what);
}

static int put_level(pq_buf *b, uint8_t v, int64_t n) {
    if (pq_buf_reserve(b, (size_t)n)) return ERR_FAIL;
    memset(b->buf + b->len, v, (size_t)n);
    b->len += (size_t)n;
    return 0;
}

static void stat_num(wcol *c, int64_t i, double d, int is_float) {
    if (is_float) {
        if (isnan(d)) { c->stats_ok = 0; return; }
        if (!c->has_minmax) { c->dmin = c->dmax = d; c->has_minmax = 1; }
        else { if (d < c->dmin) c->dmin = d; if (d > c->dmax) c->dmax = d; }
    } else {
        if (!c->has_minmax) { c->imin = c->imax = i; c->has_minmax = 1; }
        else { if (i < c->imin) c->imin = i; if (i > c->imax) c->imax = i; }
    }
}

static int bytes_cmp(const uint8_t *a, size_t an, const uint8_t *b, size_t bn) {
    int r = memcmp(a, b, an < bn ? an : bn);
    return r ? r : (an < bn ? -1 : an > bn);
}

static void stat_str(wcol *c, const char *s, size_t n) {
    if (!c->stats_ok) return;
    if (n > 64) { c->stats_ok = 0; return; }   // long values would make large (or truncated) stats
    if (!c->has_minmax || bytes_cmp((const uint8_t *)s, n, c->smin.buf, c->smin.len) < 0) { c->smin.len = 0; pq_buf_put(&c->smin, s, n); }
    if (!c->has_minmax || bytes_cmp((const uint8_t *)s, n, c->smax.buf, c->smax.len) > 0) { c->smax.len = 0; pq_buf_put(&c->smax, s, n); }
    c->has_minmax = 1;
}

// One flat value or the levels of a list with n elements (values appended by the caller).
static int add_levels(wcol *c, size_t n) {
    if (!c->is_list) {
        if (c->nullable && put_level(&c->defs, 1, 1)) return ERR_FAIL;
        c->nlevels++;
        return 0;
    }
    if (n == 0) {
        if (put_level(&c->defs, (uint8_t)c->nullable, 1) || put_level(&c->reps, 0, 1)) return ERR_FAIL;
        c->nlevels++;
        return 0;
    }
    if (put_level(&c->defs, (uint8_t)c->max_def, (int64_t)n) || put_level(&c->reps, 1, (int64_t)n)) return ERR_FAIL;
    c->reps.buf[c->reps.len - n] = 0;
    c->nlevels += (int64_t)n;
    return 0;
}

static int add_fixed(parquet_writer *w, int col, pq_type t, const void *v, size_t n, int is_list) {
    if (col_check(w, col)) return ERR_FAIL;
    wcol *c = &w->cols[col];
    if (c->is_list != is_list) return wrong(w, c, is_list ? "a list" : "a single value");
    if (pq_buf_reserve(&c->vals, n * 8 + 8)) return ERR_FAIL;
    uint8_t *o = c->vals.buf + c->vals.len;
    int st = w->opt.statistics && c->stats_ok;
    if (t == c->type) {
        memcpy(o, v, n * c->esize);
        if (st) {
            for (size_t k = 0; k < n; k++) {
                switch (t) {
                case PQ_INT32: stat_num(c, ((const int32_t *)v)[k], 0, 0); break;
                case PQ_INT64: stat_num(c, ((const int64_t *)v)[k], 0, 0); break;
                case PQ_FLOAT: stat_num(c, 0, ((const float *)v)[k], 1); break;
                case PQ_DOUBLE: stat_num(c, 0, ((const double *)v)[k], 1); break;
                default: stat_num(c, ((const uint8_t *)v)[k], 0, 0); break;
                }
            }
        }
    } else if (c->type == PQ_INT64 && t == PQ_INT32) {
        for (size_t k = 0; k < n; k++) { int64_t x = ((const int32_t *)v)[k]; memcpy(o + 8 * k, &x, 8); if (st) stat_num(c, x, 0, 0); }
    } else if (c->type == PQ_INT32 && t == PQ_INT64) {
        for (size_t k = 0; k < n; k++) {
            int64_t x = ((const int64_t *)v)[k];
            if (x < INT32_MIN || x > INT32_MAX) return err_set("parquet writer %s: column %s: %lld does not fit int32", w->path, c->name, (long long)x);
            int32_t y = (int32_t)x;
            memcpy(o + 4 * k, &y, 4);
            if (st) stat_num(c, y, 0, 0);
        }
    } else if (c->type == PQ_DOUBLE && t == PQ_FLOAT) {
        for (size_t k = 0; k < n; k++) { double x = ((const float *)v)[k]; memcpy(o + 8 * k, &x, 8); if (st) stat_num(c, 0, x, 1); }
    } else if (c->type == PQ_FLOAT && t == PQ_DOUBLE) {
        for (size_t k = 0; k < n; k++) { float x = (float)((const double *)v)[k]; memcpy(o + 4 * k, &x, 4); if (st) stat_num(c, 0, x, 1); }
    } else return wrong(w, c, pq_type_name(t));
    if (add_levels(c, n)) return ERR_FAIL;
    c->vals.len += n * c->esize;
    c->nvals += (int64_t)n;
    c->set = 1;
    return 0;
}

int parquet_writer_add_int32(parquet_writer *w, int col, int32_t v) { return add_fixed(w, col, PQ_INT32, &v, 1, 0); }
int parquet_writer_add_int64(parquet_writer *w, int col, int64_t v) { return add_fixed(w, col, PQ_INT64, &v, 1, 0); }
int parquet_writer_add_float(parquet_writer *w, int col, float v) { return add_fixed(w, col, PQ_FLOAT, &v, 1, 0); }
int parquet_writer_add_double(parquet_writer *w, int col, double v) { return add_fixed(w, col, PQ_DOUBLE, &v, 1, 0); }
int parquet_writer_add_bool(parquet_writer *w, int col, int v) { uint8_t b = v != 0; return add_fixed(w, col, PQ_BOOL, &b, 1, 0); }
int parquet_writer_add_list_int32(parquet_writer *w, int col, const int32_t *v, size_t n) { return add_fixed(w, col, PQ_INT32, v, n, 1); }
int parquet_writer_add_list_int64(parquet_writer *w, int col, const int64_t *v, size_t n) { return add_fixed(w, col, PQ_INT64, v, n, 1); }
int parquet_writer_add_list_float(parquet_writer *w, int col, const float *v, size_t n) { return add_fixed(w, col, PQ_FLOAT, v, n, 1); }
int parquet_writer_add_list_double(parquet_writer *w, int col, const double *v, size_t n) { return add_fixed(w, col, PQ_DOUBLE, v, n, 1); }

static int add_strings(parquet_writer *w, int col, const char *const *s, const size_t *lens, size_t n, int is_list) {
    if (col_check(w, col)) return ERR_FAIL;
    wcol *c = &w->cols[col];
    if (c->type != PQ_STRING || c->is_list != is_list) return wrong(w, c, is_list ? "list<string>" : "string");
    for (size_t k = 0; k < n; k++) {
        size_t len = lens ? lens[k] : strlen(s[k]);
        if (len > UINT32_MAX) return err_set("parquet writer %s: column %s: string of %zu bytes", w->path, c->name, len);
        if (pq_buf_reserve(&c->vals, len + 4)) return ERR_FAIL;
        uint32_t l32 = (uint32_t)len;
        memcpy(c->vals.buf + c->vals.len, &l32, 4);
        if (len) memcpy(c->vals.buf + c->vals.len + 4, s[k], len);
        c->vals.len += len + 4;
        if (w->opt.statistics) stat_str(c, s[k], len);
    }
    if (add_levels(c, n)) return ERR_FAIL;
    c->nvals += (int64_t)n;
    c->set = 1;
    return 0;
}

int parquet_writer_add_string(parquet_writer *w, int col, const char *s, size_t len) {
    return add_strings(w, col, &s, &len, 1, 0);
}
int parquet_writer_add_list_string(parquet_writer *w, int col, const char *const *s, const size_t *lens, size_t n) {
    return add_strings(w, col, s, lens, n, 1);
}

int parquet_writer_add_null(parquet_writer *w, int col) {
    if (col_check(w, col)) return ERR_FAIL;
    wcol *c = &w->cols[col];
    if (!c->nullable) return err_set("parquet writer %s: column %s is not nullable (row %lld)", w->path, c->name, (long long)w->rows);
    if (put_level(&c->defs, 0, 1)) return ERR_FAIL;
    if (c->is_list && put_level(&c->reps, 0, 1)) return ERR_FAIL;
    c->nlevels++;
    c->nnull++;
    c->set = 1;
    return 0;
}

int64_t parquet_writer_rows(const parquet_writer *w) { return w->rows; }

// ---------------------------------------------------------------------------- column chunks

static int write_out(parquet_writer *w, const void *p, size_t n) {
    if (n && fwrite(p, 1, n, w->af.fp) != n) return err_errno("writing %s", w->path);
    w->offset += (int64_t)n;
    return 0;
}

// Compresses raw and writes header + body. dict: a dictionary page of nv entries.
static int write_page(parquet_writer *w, int dict, const uint8_t *raw, size_t rawlen, int64_t nv, int enc, chunk_info *ci) {
    w->comp.len = 0;
    if (pq_compress(w->opt.codec, w->opt.level, raw, rawlen, &w->comp)) return ERR_FAIL;
    if (rawlen > INT32_MAX || w->comp.len > INT32_MAX) return err_set("page of %zu bytes is too large", rawlen);
    tr_writer h;
    tw_init(&h);
    tw_struct_begin(&h);
    tw_i32(&h, 1, dict ? PAGE_DICT : PAGE_DATA);
    tw_i32(&h, 2, (int32_t)rawlen);
    tw_i32(&h, 3, (int32_t)w->comp.len);
    tw_field(&h, dict ? 7 : 5, TT_STRUCT);
    tw_struct_begin(&h);
    tw_i32(&h, 1, (int32_t)nv);
    tw_i32(&h, 2, enc);
    if (!dict) { tw_i32(&h, 3, ENC_RLE); tw_i32(&h, 4, ENC_RLE); }
    tw_struct_end(&h);
    tw_struct_end(&h);
    if (h.oom) { tw_free(&h); return err_set("out of memory"); }
    int rc = write_out(w, h.buf, h.len) || write_out(w, w->comp.buf, w->comp.len);
    ci->compressed += (int64_t)(h.len + w->comp.len);
    ci->uncompressed += (int64_t)(h.len + rawlen);
    tw_free(&h);
    return rc ? ERR_FAIL : 0;
}

static uint64_t hash_bytes(const uint8_t *p, size_t n) {
    uint64_t h = 0x9e3779b97f4a7c15ull ^ n;
    while (n >= 8) { uint64_t x; memcpy(&x, p, 8); h = (h ^ x) * 0xff51afd7ed558ccdull; h ^= h >> 32; p += 8; n -= 8; }
    uint64_t x = 0;
    memcpy(&x, p, n);
    h = (h ^ x) * 0xc4ceb9fe1a85ec53ull;
    return h ^ (h >> 29);
}

// Dictionary for a string or integer column: idx[nvals] and the dictionary page (PLAIN) in dictp.
// Returns 1 when it pays (at most half the values distinct, checked early on a prefix so that
// unique columns cost little), 0 when plain encoding is better, ERR_FAIL on no memory.
typedef struct {
    uint32_t *slots;   // entry id + 1, 0 = empty
    size_t cap;
} dict_table;

static uint64_t dict_hash(const wcol *c, size_t pos) {
    if (c->esize) return hash_bytes(c->vals.buf + pos, c->esize);
    uint32_t len;
    memcpy(&len, c->vals.buf + pos, 4);
    return hash_bytes(c->vals.buf + pos + 4, len);
}

static int dict_equal(const wcol *c, size_t a, size_t b) {
    if (c->esize) return !memcmp(c->vals.buf + a, c->vals.buf + b, c->esize);
    uint32_t la, lb;
    memcpy(&la, c->vals.buf + a, 4);
    memcpy(&lb, c->vals.buf + b, 4);
    return la == lb && !memcmp(c->vals.buf + a + 4, c->vals.buf + b + 4, la);
}

static int dict_grow(dict_table *t, const wcol *c, const size_t *offs, int64_t nd) {
    size_t cap = t->cap ? t->cap * 2 : 1024;
    uint32_t *s = calloc(cap, sizeof *s);
    if (!s) return err_set("out of memory");
    for (int64_t d = 0; d < nd; d++) {
        size_t k = dict_hash(c, offs[d]) & (cap - 1);
        while (s[k]) k = (k + 1) & (cap - 1);
        s[k] = (uint32_t)(d + 1);
    }
    free(t->slots);
    t->slots = s;
    t->cap = cap;
    return 0;
}

static int build_dict(wcol *c, uint32_t **idx_out, pq_buf *dictp, int64_t *ndict) {
    int64_t limit = c->nvals / 2 + 1, probe = c->nvals < 65536 ? c->nvals : 65536;
    size_t *offs = malloc((size_t)limit * sizeof *offs);   // dictionary entries: byte offset in vals
    uint32_t *idx = malloc((size_t)c->nvals * sizeof *idx);
    dict_table t = {0};
    if (!offs || !idx || dict_grow(&t, c, offs, 0)) { free(offs); free(idx); free(t.slots); return err_set("out of memory"); }
    int64_t nd = 0;
    size_t pos = 0, dict_bytes = 0;
    int pays = 1;
    for (int64_t i = 0; i < c->nvals && pays == 1; i++) {
        if (i == probe && nd > probe / 2) { pays = 0; break; }   // mostly distinct: give up early
        size_t len = c->esize;
        if (!len) { uint32_t l32; memcpy(&l32, c->vals.buf + pos, 4); len = 4 + (size_t)l32; }
        size_t slot = dict_hash(c, pos) & (t.cap - 1);
        for (;;) {
            uint32_t e = t.slots[slot];
            if (!e) {
                if (nd >= limit || dict_bytes > ((size_t)8 << 20)) { pays = 0; break; }
                offs[nd] = pos;
                t.slots[slot] = (uint32_t)++nd;
                dict_bytes += len;
                idx[i] = (uint32_t)(nd - 1);
                if ((size_t)nd * 2 > t.cap && dict_grow(&t, c, offs, nd)) pays = ERR_FAIL;
                break;
            }
            if (dict_equal(c, offs[e - 1], pos)) { idx[i] = e - 1; break; }
            slot = (slot + 1) & (t.cap - 1);
        }
        pos += len;
    }
    if (pays == 1) {
        dictp->len = 0;
        for (int64_t d = 0; d < nd && pays == 1; d++) {
            size_t len = c->esize;
            if (!len) { uint32_t l32; memcpy(&l32, c->vals.buf + offs[d], 4); len = 4 + (size_t)l32; }
            if (pq_buf_put(dictp, c->vals.buf + offs[d], len)) pays = ERR_FAIL;
        }
    }
    free(t.slots);
    free(offs);
    if (pays != 1) { free(idx); return pays; }
    *idx_out = idx;
    *ndict = nd;
    return 1;
}

static int put_levels(pq_buf *page, pq_buf *scratch, const uint8_t *lv, int64_t n, int max_level) {
    scratch->len = 0;
    if (pq_rle_encode8(scratch, lv, n, pq_bit_width((uint64_t)max_level))) return ERR_FAIL;
    uint32_t len = (uint32_t)scratch->len;
    if (pq_buf_put(page, &len, 4) || pq_buf_put(page, scratch->buf, scratch->len)) return ERR_FAIL;
    return 0;
}

static void stats_encode(parquet_writer *w, wcol *c, chunk_info *ci) {
    tr_writer *t = &ci->stats;
    tw_init(t);
    if (!w->opt.statistics) return;
    tw_struct_begin(t);
    tw_i64(t, 3, ci->null_count);
    if (c->has_minmax && c->stats_ok) {
        uint8_t mn[8], mx[8];
        const void *pmn = mn, *pmx = mx;
        size_t ln = c->esize, lx = c->esize;
        switch (c->type) {
        case PQ_INT32: { int32_t a = (int32_t)c->imin, b = (int32_t)c->imax; memcpy(mn, &a, 4); memcpy(mx, &b, 4); break; }
        case PQ_INT64: memcpy(mn, &c->imin, 8); memcpy(mx, &c->imax, 8); break;
        case PQ_FLOAT: { float a = (float)c->dmin, b = (float)c->dmax; memcpy(mn, &a, 4); memcpy(mx, &b, 4); break; }
        case PQ_DOUBLE: memcpy(mn, &c->dmin, 8); memcpy(mx, &c->dmax, 8); break;
        case PQ_BOOL: mn[0] = (uint8_t)c->imin; mx[0] = (uint8_t)c->imax; break;
        case PQ_STRING: pmn = c->smin.buf ? (const void *)c->smin.buf : ""; ln = c->smin.len; pmx = c->smax.buf ? (const void *)c->smax.buf : ""; lx = c->smax.len; break;
        }
        tw_binary(t, 5, pmx, lx);
        tw_binary(t, 6, pmn, ln);
    }
    tw_struct_end(t);
}

static int flush_column(parquet_writer *w, wcol *c, chunk_info *ci) {
    memset(ci, 0, sizeof *ci);
    ci->dict_offset = -1;
    ci->num_values = c->nlevels;
    if (c->max_def) for (size_t i = 0; i < c->defs.len; i++) ci->null_count += c->defs.buf[i] < c->max_def;
    uint32_t *idx = NULL;
    int64_t ndict = 0;
    if (w->opt.dictionary && (c->type == PQ_STRING || c->type == PQ_INT32 || c->type == PQ_INT64) && c->nvals > 0) {
        w->chunk.len = 0;
        int r = build_dict(c, &idx, &w->chunk, &ndict);
        if (r < 0) return ERR_FAIL;
        if (r == 1) {
            ci->dict_offset = w->offset;
            ci->used_dict = 1;
            if (write_page(w, 1, w->chunk.buf, w->chunk.len, ndict, ENC_PLAIN, ci)) { free(idx); return ERR_FAIL; }
        }
    }
    ci->offset = w->offset;
    int bw = ndict > 1 ? pq_bit_width((uint64_t)(ndict - 1)) : 1;
    int64_t li = 0, vi = 0;
    size_t vb = 0;   // byte position of value vi in c->vals
    const uint8_t *defs = c->defs.buf, *reps = c->reps.buf;
    int rc = 0;
    while (li < c->nlevels && !rc) {
        // extend the page to about page_bytes, cutting only where a row starts
        int64_t le = li, nv = 0;
        size_t bytes = 0, vb_end = vb;
        while (le < c->nlevels) {
            if (bytes >= w->opt.page_bytes && (!c->is_list || reps[le] == 0)) break;
            if (!c->max_def || defs[le] == c->max_def) {
                if (c->esize) bytes += idx ? 2 : c->esize, vb_end += c->esize;
                else {
                    uint32_t len;
                    memcpy(&len, c->vals.buf + vb_end, 4);
                    vb_end += 4 + len;
                    bytes += idx ? 2 : 4 + len;
                }
                nv++;
            }
            bytes += c->max_def ? 1 : 0;
            le++;
        }
        pq_buf *pg = &w->page;
        pg->len = 0;
        if (c->max_rep) rc = put_levels(pg, &w->lev, reps + li, le - li, c->max_rep);
        if (!rc && c->max_def) rc = put_levels(pg, &w->lev, defs + li, le - li, c->max_def);
        if (rc) break;
        int enc = ENC_PLAIN;
        if (idx) {
            enc = ENC_RLE_DICT;
            uint8_t b = (uint8_t)bw;
            rc = pq_buf_put(pg, &b, 1) || pq_rle_encode(pg, idx + vi, nv, bw);
        } else if (c->type == PQ_BOOL) {
            rc = pq_buf_reserve(pg, (size_t)nv / 8 + 1);
            if (!rc) {
                memset(pg->buf + pg->len, 0, (size_t)nv / 8 + 1);
                for (int64_t k = 0; k < nv; k++) pg->buf[pg->len + k / 8] |= (uint8_t)(c->vals.buf[vi + k] << (k % 8));
                pg->len += (size_t)(nv + 7) / 8;
            }
        } else rc = pq_buf_put(pg, c->vals.buf + vb, vb_end - vb);
        if (!rc) rc = write_page(w, 0, pg->buf, pg->len, le - li, enc, ci);
        li = le;
        vi += nv;
        vb = vb_end;
    }
    free(idx);
    if (rc) return ERR_FAIL;
    stats_encode(w, c, ci);
    return 0;
}

static int flush_row_group(parquet_writer *w) {
    if (w->rg_rows == 0) return 0;
    if (w->nrgs == w->caprgs) {
        int cap = w->caprgs ? w->caprgs * 2 : 8;
        rg_info *n = realloc(w->rgs, (size_t)cap * sizeof *n);
        if (!n) return err_set("out of memory");
        w->rgs = n;
        w->caprgs = cap;
    }
    rg_info *g = &w->rgs[w->nrgs];
    memset(g, 0, sizeof *g);
    g->chunks = mem_calloc((size_t)w->ncols, sizeof *g->chunks);
    if (!g->chunks) return ERR_FAIL;
    w->nrgs++;
    g->rows = w->rg_rows;
    g->offset = w->offset;
    for (int i = 0; i < w->ncols; i++) {
        wcol *c = &w->cols[i];
        if (flush_column(w, c, &g->chunks[i])) return err_wrap("parquet writer %s, row group %d, column %s", w->path, w->nrgs - 1, c->name);
        g->compressed += g->chunks[i].compressed;
        g->uncompressed += g->chunks[i].uncompressed;
        c->vals.len = c->defs.len = c->reps.len = 0;
        c->nlevels = c->nvals = c->nnull = 0;
        c->has_minmax = 0;
        c->stats_ok = 1;
    }
    w->rg_rows = 0;
    return 0;
}

int parquet_writer_end_row(parquet_writer *w) {
    if (w->failed) return err_set("parquet writer %s: an earlier error stopped this file", w->path);
    size_t bytes = 0;
    for (int i = 0; i < w->ncols; i++) {
        wcol *c = &w->cols[i];
        if (!c->set) return err_set("parquet writer %s: row %lld: column %s was not set", w->path, (long long)w->rows, c->name);
        bytes += c->vals.len + c->defs.len + c->reps.len;
    }
    for (int i = 0; i < w->ncols; i++) w->cols[i].set = 0;
    w->rows++;
    w->rg_rows++;
    if (bytes >= w->opt.row_group_bytes && flush_row_group(w)) { w->failed = 1; return ERR_FAIL; }
    return 0;
}

// ---------------------------------------------------------------------------- footer

static void schema_leaf(tr_writer *t, const wcol *c, const char *name, int repetition) {
    tw_struct_begin(t);
    tw_i32(t, 1, c->ptype);
    tw_i32(t, 3, repetition);
    tw_binary(t, 4, name, strlen(name));
    if (c->type == PQ_STRING) {
        tw_i32(t, 6, 0);   // UTF8
        tw_field(t, 10, TT_STRUCT);
        tw_struct_begin(t);
        tw_field(t, 1, TT_STRUCT);
        tw_struct_begin(t);
        tw_struct_end(t);
        tw_struct_end(t);
    }
    tw_struct_end(t);
}

static int write_footer(parquet_writer *w) {
    tr_writer t;
    tw_init(&t);
    tw_struct_begin(&t);
    tw_i32(&t, 1, 1);
    int nschema = 1;
    for (int i = 0; i < w->ncols; i++) nschema += w->cols[i].is_list ? 3 : 1;
    tw_list_begin(&t, 2, TT_STRUCT, nschema);
    tw_struct_begin(&t);
    tw_binary(&t, 4, "schema", 6);
    tw_i32(&t, 5, w->ncols);
    tw_struct_end(&t);
    for (int i = 0; i < w->ncols; i++) {
        const wcol *c = &w->cols[i];
        int rep = c->nullable ? REP_OPTIONAL : REP_REQUIRED;
        if (!c->is_list) { schema_leaf(&t, c, c->name, rep); continue; }
        tw_struct_begin(&t);
        tw_i32(&t, 3, rep);
        tw_binary(&t, 4, c->name, strlen(c->name));
        tw_i32(&t, 5, 1);
        tw_i32(&t, 6, 3);   // LIST
        tw_field(&t, 10, TT_STRUCT);
        tw_struct_begin(&t);
        tw_field(&t, 3, TT_STRUCT);
        tw_struct_begin(&t);
        tw_struct_end(&t);
        tw_struct_end(&t);
        tw_struct_end(&t);
        tw_struct_begin(&t);
        tw_i32(&t, 3, REP_REPEATED);
        tw_binary(&t, 4, "list", 4);
        tw_i32(&t, 5, 1);
        tw_struct_end(&t);
        schema_leaf(&t, c, "element", REP_REQUIRED);
    }
    tw_i64(&t, 3, w->rows);
    tw_list_begin(&t, 4, TT_STRUCT, w->nrgs);
    for (int g = 0; g < w->nrgs; g++) {
        rg_info *rg = &w->rgs[g];
        tw_struct_begin(&t);
        tw_list_begin(&t, 1, TT_STRUCT, w->ncols);
        for (int i = 0; i < w->ncols; i++) {
            const wcol *c = &w->cols[i];
            chunk_info *ci = &rg->chunks[i];
            tw_struct_begin(&t);
            tw_i64(&t, 2, ci->dict_offset >= 0 ? ci->dict_offset : ci->offset);
            tw_field(&t, 3, TT_STRUCT);
            tw_struct_begin(&t);
            tw_i32(&t, 1, c->ptype);
            if (ci->used_dict) {
                tw_list_begin(&t, 2, TT_I32, 3);
                tw_raw_i32(&t, ENC_PLAIN); tw_raw_i32(&t, ENC_RLE); tw_raw_i32(&t, ENC_RLE_DICT);
            } else {
                tw_list_begin(&t, 2, TT_I32, 2);
                tw_raw_i32(&t, ENC_PLAIN); tw_raw_i32(&t, ENC_RLE);
            }
            tw_list_begin(&t, 3, TT_BINARY, c->is_list ? 3 : 1);
            tw_raw_binary(&t, c->name, strlen(c->name));
            if (c->is_list) { tw_raw_binary(&t, "list", 4); tw_raw_binary(&t, "element", 7); }
            tw_i32(&t, 4, w->opt.codec);
            tw_i64(&t, 5, ci->num_values);
            tw_i64(&t, 6, ci->uncompressed);
            tw_i64(&t, 7, ci->compressed);
            tw_i64(&t, 9, ci->offset);
            if (ci->dict_offset >= 0) tw_i64(&t, 11, ci->dict_offset);
            if (ci->stats.len) { tw_field(&t, 12, TT_STRUCT); tw_bytes(&t, ci->stats.buf, ci->stats.len); }
            tw_struct_end(&t);
            tw_struct_end(&t);
        }
        tw_i64(&t, 2, rg->uncompressed);
        tw_i64(&t, 3, rg->rows);
        tw_i64(&t, 5, rg->offset);
        tw_i64(&t, 6, rg->compressed);
        tw_struct_end(&t);
    }
    tw_binary(&t, 6, "onerec parquet writer", 21);
    tw_struct_end(&t);
    if (t.oom) { tw_free(&t); return err_set("out of memory"); }
    uint32_t len = (uint32_t)t.len;
    int rc = write_out(w, t.buf, t.len) || write_out(w, &len, 4) || write_out(w, "PAR1", 4);
    tw_free(&t);
    return rc ? ERR_FAIL : 0;
}

int parquet_writer_close(parquet_writer *w) {
    if (!w) return 0;
    if (w->failed) { parquet_writer_abort(w); return err_set("parquet writer: not closing a file that failed earlier"); }
    for (int i = 0; i < w->ncols; i++)
        if (w->cols[i].set) {
            int rc = err_set("parquet writer %s: close in the middle of row %lld (call parquet_writer_end_row)", w->path, (long long)w->rows);
            parquet_writer_abort(w);
            return rc;
        }
    if (flush_row_group(w) || write_footer(w)) { afile_abort(&w->af); writer_free(w); return ERR_FAIL; }
    int rc = afile_commit(&w->af);
    writer_free(w);
    return rc;
}

void parquet_writer_abort(parquet_writer *w) {
    if (!w) return;
    afile_abort(&w->af);
    writer_free(w);
}
