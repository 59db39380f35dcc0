// Parquet: encodings, random write/read round trips over every type, list and null shape and
// codec, widening and type errors, projection, and bad files (truncated, bad magic, footer past
// the file, corrupt pages, failed decompression). With `--write-fixtures DIR` it writes files and
// the JSON lines they must read as, for tests/test_parquet.sh (DuckDB and hyparquet read them);
// `--write-fixtures DIR small` writes small ones as fuzzer seeds.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/file.h"
#include "base/rng.h"
#include "formats/parquet.h"
#include "formats/parquet_int.h"
#include "formats/thrift.h"
#include "test.h"

// ------------------------------------------------------------------ a table model

typedef struct {
    int null;
    size_t n;          // list length (1 for flat)
    int64_t *i;        // ints / bools
    double *d;         // floats / doubles (float columns hold float-rounded values)
    char **s;
} cell;

typedef struct {
    int ncols;
    parquet_column_spec spec[8];
    char names[8][16];
    int64_t rows;
    cell *cells;       // [rows * ncols]
} table;

static void gen_string(rng *r, char *buf, int card) {
    static const char *pool[] = {"", "a", "hello", "wörld", "tab\there", "quote\"back\\slash", "line\nbreak", "zeta"};
    if (card) { snprintf(buf, 64, "%s_%d", pool[rng_below(r, 8)], (int)rng_below(r, (uint64_t)card)); return; }
    int len = (int)rng_below(r, 40);
    for (int k = 0; k < len; k++) buf[k] = (char)('a' + rng_below(r, 26));
    buf[len] = 0;
}

static void table_gen(table *t, rng *r, int64_t rows, int ncols) {
    t->ncols = ncols;
    t->rows = rows;
    for (int c = 0; c < ncols; c++) {
        snprintf(t->names[c], sizeof t->names[c], "c%d", c);
        t->spec[c].name = t->names[c];
        t->spec[c].type = (pq_type)rng_below(r, 6);
        t->spec[c].is_list = t->spec[c].type != PQ_BOOL && rng_below(r, 2);   // no list<bool> appender
        t->spec[c].nullable = rng_below(r, 2);
    }
    t->cells = calloc((size_t)(rows * ncols), sizeof(cell));
    int card = (int)rng_below(r, 3) * 50;   // 0 = high cardinality strings
    int low_ints = (int)rng_below(r, 2);     // few distinct ints: the writer picks a dictionary
    for (int64_t i = 0; i < rows; i++)
        for (int c = 0; c < ncols; c++) {
            cell *x = &t->cells[i * ncols + c];
            const parquet_column_spec *s = &t->spec[c];
            if (s->nullable && rng_below(r, 5) == 0) { x->null = 1; continue; }
            x->n = s->is_list ? rng_below(r, 4) == 0 ? 0 : rng_below(r, 12) : 1;
            x->i = calloc(x->n + 1, 8);
            x->d = calloc(x->n + 1, 8);
            x->s = calloc(x->n + 1, sizeof(char *));
            for (size_t k = 0; k < x->n; k++) {
                switch (s->type) {
                case PQ_INT32: x->i[k] = low_ints ? (int64_t)rng_below(r, 20) - 10 : (int32_t)rng_next(r); break;
                case PQ_INT64: x->i[k] = low_ints ? (int64_t)rng_below(r, 20) << 40 : (int64_t)rng_next(r) >> (rng_below(r, 2) ? 0 : 40); break;
                case PQ_BOOL: x->i[k] = rng_below(r, 2); break;
                case PQ_FLOAT: x->d[k] = (float)(rng_normal(r) * 100); break;
                case PQ_DOUBLE: x->d[k] = rng_normal(r) * 1e6; break;
                case PQ_STRING: { char buf[64]; gen_string(r, buf, card); x->s[k] = strdup(buf); break; }
                }
            }
        }
}

static void table_free(table *t) {
    for (int64_t i = 0; i < t->rows * t->ncols; i++) {
        cell *x = &t->cells[i];
        for (size_t k = 0; x->s && k < x->n; k++) free(x->s[k]);
        free(x->i); free(x->d); free(x->s);
    }
    free(t->cells);
}

static int table_write(const table *t, const char *path, const parquet_write_options *opt) {
    parquet_writer *w;
    if (parquet_writer_open(&w, path, t->spec, t->ncols, opt)) return ERR_FAIL;
    int32_t i32[16]; float f[16]; uint8_t bo[16];
    for (int64_t i = 0; i < t->rows; i++) {
        for (int c = 0; c < t->ncols; c++) {
            const cell *x = &t->cells[i * t->ncols + c];
            const parquet_column_spec *s = &t->spec[c];
            int rc;
            if (x->null) rc = parquet_writer_add_null(w, c);
            else if (!s->is_list) {
                switch (s->type) {
                case PQ_INT32: rc = parquet_writer_add_int32(w, c, (int32_t)x->i[0]); break;
                case PQ_INT64: rc = parquet_writer_add_int64(w, c, x->i[0]); break;
                case PQ_BOOL: rc = parquet_writer_add_bool(w, c, (int)x->i[0]); break;
                case PQ_FLOAT: rc = parquet_writer_add_float(w, c, (float)x->d[0]); break;
                case PQ_DOUBLE: rc = parquet_writer_add_double(w, c, x->d[0]); break;
                default: rc = parquet_writer_add_string(w, c, x->s[0], strlen(x->s[0])); break;
                }
            } else {
                for (size_t k = 0; k < x->n; k++) { i32[k] = (int32_t)x->i[k]; f[k] = (float)x->d[k]; bo[k] = (uint8_t)x->i[k]; }
                switch (s->type) {
                case PQ_INT32: rc = parquet_writer_add_list_int32(w, c, i32, x->n); break;
                case PQ_INT64: rc = parquet_writer_add_list_int64(w, c, x->i, x->n); break;
                case PQ_FLOAT: rc = parquet_writer_add_list_float(w, c, f, x->n); break;
                case PQ_DOUBLE: rc = parquet_writer_add_list_double(w, c, x->d, x->n); break;
                case PQ_STRING: rc = parquet_writer_add_list_string(w, c, (const char *const *)x->s, NULL, x->n); break;
                default: (void)bo; rc = err_set("list<bool> is not generated");
                }
            }
            if (rc) { parquet_writer_abort(w); return ERR_FAIL; }
        }
        if (parquet_writer_end_row(w)) { parquet_writer_abort(w); return ERR_FAIL; }
    }
    return parquet_writer_close(w);
}

// Reads the file back with a projection in reverse column order and compares every cell.
static int table_check(const table *t, const char *path) {
    parquet_reader *r;
    if (parquet_reader_open(&r, path)) return ERR_FAIL;
    const char *names[8];
    for (int c = 0; c < t->ncols; c++) names[c] = t->names[t->ncols - 1 - c];
    parquet_cursor *cur;
    int bad = 0;
    if (parquet_reader_num_rows(r) != t->rows) { fprintf(stderr, "rows %lld vs %lld\n", (long long)parquet_reader_num_rows(r), (long long)t->rows); bad = 1; }
    if (parquet_cursor_open(&cur, r, names, t->ncols)) { parquet_reader_close(r); return ERR_FAIL; }
    int64_t row = 0;
    int rc;
    while (!bad && (rc = parquet_cursor_next(cur)) == 1) {
        for (int j = 0; j < t->ncols && !bad; j++) {
            int c = t->ncols - 1 - j;
            const cell *x = &t->cells[row * t->ncols + c];
            const parquet_column_spec *s = &t->spec[c];
            if (parquet_cursor_is_null(cur, j) != x->null) { bad = 1; break; }
            if (x->null) continue;
            if (!s->is_list) {
                int64_t v; double d; const char *str; size_t len;
                switch (s->type) {
                case PQ_INT32: case PQ_INT64: case PQ_BOOL:
                    bad = parquet_cursor_get_int64(cur, j, &v) || v != x->i[0]; break;
                case PQ_FLOAT: case PQ_DOUBLE:
                    bad = parquet_cursor_get_double(cur, j, &d) || d != x->d[0]; break;
                default:
                    bad = parquet_cursor_get_string(cur, j, &str, &len) || len != strlen(x->s[0]) || memcmp(str, x->s[0], len);
                }
            } else {
                size_t n = 0;
                const uint8_t *nulls;
                bad = parquet_cursor_get_list_nulls(cur, j, &nulls, &n) || nulls || n != x->n;
                if (bad) break;
                switch (s->type) {
                case PQ_INT32: case PQ_INT64: {
                    const int64_t *v;
                    bad = parquet_cursor_get_list_int64(cur, j, &v, &n) || n != x->n || (n && memcmp(v, x->i, n * 8));
                    if (!bad && s->type == PQ_INT32) {
                        const int32_t *v32;
                        bad = parquet_cursor_get_list_int32(cur, j, &v32, &n) || n != x->n;
                        for (size_t k = 0; !bad && k < n; k++) bad = v32[k] != x->i[k];
                    }
                    break;
                }
                case PQ_FLOAT: case PQ_DOUBLE: {
                    const double *v;
                    bad = parquet_cursor_get_list_double(cur, j, &v, &n) || n != x->n || (n && memcmp(v, x->d, n * 8));
                    break;
                }
                default: {
                    const char *const *sv; const size_t *lens;
                    bad = parquet_cursor_get_list_string(cur, j, &sv, &lens, &n) || n != x->n;
                    for (size_t k = 0; !bad && k < n; k++) bad = lens[k] != strlen(x->s[k]) || memcmp(sv[k], x->s[k], lens[k]);
                }
                }
            }
            if (bad) fprintf(stderr, "%s: row %lld column %s differs (%s)\n", path, (long long)row, t->names[c], err_msg());
        }
        row++;
    }
    if (!bad && rc < 0) { fprintf(stderr, "%s\n", err_msg()); bad = 1; }
    if (!bad && row != t->rows) { fprintf(stderr, "read %lld rows of %lld\n", (long long)row, (long long)t->rows); bad = 1; }
    parquet_cursor_close(cur);
    parquet_reader_close(r);
    return bad ? ERR_FAIL : 0;
}

static char tmpdir[256];

static void test_round_trip_random(void) {
    rng r;
    for (int iter = 0; iter < 40; iter++) {
        rng_seed(&r, 1000 + (uint64_t)iter);
        table t;
        int64_t rows = (int64_t)rng_below(&r, 3) == 0 ? (int64_t)rng_below(&r, 5) : (int64_t)rng_below(&r, 3000);
        table_gen(&t, &r, rows, 1 + (int)rng_below(&r, 8));
        parquet_write_options o;
        parquet_write_options_default(&o);
        static const pq_codec codecs[] = {PQ_CODEC_UNCOMPRESSED, PQ_CODEC_SNAPPY, PQ_CODEC_GZIP, PQ_CODEC_ZSTD, PQ_CODEC_LZ4_RAW};
        o.codec = codecs[iter % 5];
        o.dictionary = iter % 3 != 0;
        o.page_bytes = rng_below(&r, 2) ? 64 + rng_below(&r, 2000) : (size_t)1 << 20;
        o.row_group_bytes = rng_below(&r, 2) ? 512 + rng_below(&r, 20000) : (size_t)64 << 20;
        char path[300];
        snprintf(path, sizeof path, "%s/rt%d.parquet", tmpdir, iter);
        CHECK_OK(table_write(&t, path, &o));
        CHECK_OK(table_check(&t, path));
        table_free(&t);
    }
}

static void test_rle_round_trip(void) {
    rng r;
    rng_seed(&r, 7);
    for (int iter = 0; iter < 200; iter++) {
        int bw = (int)rng_below(&r, 21);
        int64_t n = (int64_t)rng_below(&r, 3000);
        uint32_t *v = malloc((size_t)(n + 1) * 4), *back = malloc((size_t)(n + 1) * 4);
        uint32_t maxv = bw ? (uint32_t)((1ull << bw) - 1) : 0;
        for (int64_t i = 0; i < n; i++) {
            // runs of repeats mixed with noise, so both run kinds appear
            if (i && rng_below(&r, 3)) v[i] = v[i - 1];
            else v[i] = maxv ? (uint32_t)rng_below(&r, (uint64_t)maxv + 1) : 0;
        }
        pq_buf b = {0};
        CHECK_OK(pq_rle_encode(&b, v, n, bw));
        CHECK_OK(pq_rle_decode32(back, n, bw, b.buf, b.buf + b.len));
        CHECK(n == 0 || !memcmp(v, back, (size_t)n * 4));
        pq_buf_free(&b);
        free(v);
        free(back);
    }
    // a truncated bit-packed run is an error, not a read past the end
    uint8_t bad[] = {0x03 << 1 | 1, 0xff};
    uint32_t out[24];
    CHECK_FAILS_WITH(pq_rle_decode32(out, 24, 3, bad, bad + sizeof bad), "past the end");
}

static void test_thrift(void) {
    tr_writer w;
    tw_init(&w);
    tw_struct_begin(&w);
    tw_i32(&w, 1, -5);
    tw_i64(&w, 20, 1ll << 40);
    tw_binary(&w, 21, "abc", 3);
    tw_bool(&w, 22, 1);
    tw_list_begin(&w, 23, TT_I32, 20);
    for (int i = 0; i < 20; i++) tw_raw_i32(&w, i * 1000);
    tw_struct_end(&w);
    tr_reader t;
    tr_init(&t, w.buf, w.len);
    tr_struct_begin(&t);
    int id, ty, seen = 0;
    while (tr_field(&t, &id, &ty)) {
        if (id == 1) { CHECK(tr_i32(&t) == -5); seen++; }
        else if (id == 20) { CHECK(tr_i64(&t) == 1ll << 40); seen++; }
        else if (id == 21) { size_t n; const uint8_t *s = tr_binary(&t, &n); CHECK(n == 3 && !memcmp(s, "abc", 3)); seen++; }
        else if (id == 22) { CHECK(tr_bool(&t, ty)); seen++; }
        else if (id == 23) { int et; int64_t n = tr_list(&t, &et); CHECK(n == 20); for (int i = 0; i < n; i++) CHECK(tr_i32(&t) == i * 1000); seen++; }
    }
    CHECK(seen == 5 && !t.bad && t.p == t.end);
    // truncated input: flagged, never read past the end
    tr_init(&t, w.buf, w.len / 2);
    tr_skip(&t, TT_STRUCT);
    CHECK(t.bad);
    tw_free(&w);
}

// pid2sid-shaped file: widening int32 -> int64, narrowing int64 lists that fit, type errors.
static void test_widening_and_errors(void) {
    char path[300];
    snprintf(path, sizeof path, "%s/pid2sid.parquet", tmpdir);
    parquet_column_spec cols[] = {{"pid", PQ_INT32, 0, 0}, {"sid", PQ_INT32, 1, 0}, {"emb", PQ_FLOAT, 1, 1}, {"name", PQ_STRING, 0, 1}};
    parquet_writer *w;
    CHECK_OK(parquet_writer_open(&w, path, cols, 4, NULL));
    for (int i = 0; i < 100; i++) {
        int32_t sid[3] = {i, i * 2, i * 3};
        float emb[2] = {i * 0.5f, -1.0f};
        CHECK_OK(parquet_writer_add_int64(w, 0, i));   // int64 into an INT32 column: range-checked
        CHECK_OK(parquet_writer_add_list_int32(w, 1, sid, 3));
        if (i % 3) CHECK_OK(parquet_writer_add_list_float(w, 2, emb, 2)); else CHECK_OK(parquet_writer_add_null(w, 2));
        CHECK_OK(parquet_writer_add_string(w, 3, "x", 1));
        CHECK_OK(parquet_writer_end_row(w));
    }
    CHECK_FAILS_WITH(parquet_writer_add_int64(w, 0, 1ll << 40), "does not fit int32");
    CHECK_FAILS_WITH(parquet_writer_add_null(w, 1), "not nullable");
    CHECK_FAILS_WITH(parquet_writer_add_string(w, 1, "a", 1), "column sid is list<int32>");
    CHECK_FAILS_WITH(parquet_writer_end_row(w), "was not set");
    parquet_writer_abort(w);
    CHECK(!file_exists(path));   // aborted: nothing appears under the name
    // write again, completely
    CHECK_OK(parquet_writer_open(&w, path, cols, 4, NULL));
    for (int i = 0; i < 100; i++) {
        int64_t sid[3] = {i, i * 2, i * 3};
        double emb[2] = {i * 0.5, -1.0};
        CHECK_OK(parquet_writer_add_int32(w, 0, i));
        CHECK_OK(parquet_writer_add_list_int64(w, 1, sid, 3));
        CHECK_OK(parquet_writer_add_list_double(w, 2, emb, 2));
        CHECK_OK(parquet_writer_add_null(w, 3));
        CHECK_OK(parquet_writer_end_row(w));
    }
    CHECK(parquet_writer_rows(w) == 100);
    CHECK_OK(parquet_writer_close(w));
    parquet_reader *r;
    CHECK_OK(parquet_reader_open(&r, path));
    if (!r) return;
    CHECK(parquet_reader_num_columns(r) == 4);
    CHECK(parquet_reader_find_column(r, "sid") == 1 && parquet_reader_find_column(r, "nope") == -1);
    const parquet_column_info *ci = parquet_reader_column(r, 1);
    CHECK(ci && ci->is_list == 1 && ci->type == PQ_INT32 && !ci->nullable);
    parquet_cursor *c;
    const char *proj[] = {"sid", "pid", "name", "emb"};
    CHECK_OK(parquet_cursor_open(&c, r, proj, 4));
    int64_t n = 0;
    while (parquet_cursor_next(c) == 1) {
        int64_t pid; const int64_t *s64; const int32_t *s32; size_t ns; const float *e; size_t ne;
        CHECK_OK(parquet_cursor_get_int64(c, 1, &pid));
        CHECK(pid == n);
        CHECK_OK(parquet_cursor_get_list_int64(c, 0, &s64, &ns));
        CHECK(ns == 3 && s64[2] == 3 * n);
        CHECK_OK(parquet_cursor_get_list_int32(c, 0, &s32, &ns));
        CHECK(ns == 3 && s32[1] == 2 * n);
        CHECK(parquet_cursor_is_null(c, 2));
        CHECK_OK(parquet_cursor_get_list_float(c, 3, &e, &ne));
        CHECK(ne == 2 && e[0] == n * 0.5f);
        n++;
    }
    CHECK(n == 100);
    CHECK_FAILS_WITH(parquet_cursor_get_string(c, 1, &(const char *){0}, &(size_t){0}), "column pid is int32, not string");
    parquet_cursor_close(c);
    const char *missing[] = {"pid", "uid"};
    CHECK_FAILS_WITH(parquet_cursor_open(&c, r, missing, 2), "no column 'uid'");
    // seek: row group 0 again
    CHECK_OK(parquet_cursor_open(&c, r, proj, 1));
    CHECK(parquet_cursor_next(c) == 1 && parquet_cursor_next(c) == 1);
    CHECK_OK(parquet_cursor_seek_row_group(c, 0));
    CHECK(parquet_cursor_next(c) == 1 && parquet_cursor_row(c) == 0);
    parquet_cursor_close(c);
    parquet_reader_close(r);
}

// Many row groups by size, dictionary strings, statistics: check what the footer says.
static void test_row_groups_and_dictionary(void) {
    char path[300];
    snprintf(path, sizeof path, "%s/rg.parquet", tmpdir);
    parquet_column_spec cols[] = {{"uuid", PQ_STRING, 0, 0}, {"source", PQ_STRING, 0, 0}, {"hist", PQ_INT64, 1, 0}};
    parquet_write_options o;
    parquet_write_options_default(&o);
    o.row_group_bytes = 64 << 10;
    o.codec = PQ_CODEC_SNAPPY;
    parquet_writer *w;
    CHECK_OK(parquet_writer_open(&w, path, cols, 3, &o));
    int64_t hist[50];
    for (int i = 0; i < 5000; i++) {
        char u[32];
        int n = snprintf(u, sizeof u, "uuid-%08d", i);
        static const char *src[] = {"video_rec", "ad_rec", "product_rec", "label_cond"};
        for (int k = 0; k < 50; k++) hist[k] = (int64_t)i * 100 + k;
        CHECK_OK(parquet_writer_add_string(w, 0, u, (size_t)n));
        CHECK_OK(parquet_writer_add_string(w, 1, src[i % 4], strlen(src[i % 4])));
        CHECK_OK(parquet_writer_add_list_int64(w, 2, hist, (size_t)(i % 51)));
        CHECK_OK(parquet_writer_end_row(w));
    }
    CHECK_OK(parquet_writer_close(w));
    parquet_reader *r;
    CHECK_OK(parquet_reader_open(&r, path));
    if (!r) return;
    CHECK(parquet_reader_num_row_groups(r) > 5);
    CHECK(parquet_reader_num_rows(r) == 5000);
    char enc[128];
    CHECK(strstr(parquet_reader_column_encodings(r, -1, 1, enc, sizeof enc), "RLE_DICTIONARY") != NULL);
    CHECK(strstr(parquet_reader_column_encodings(r, -1, 0, enc, sizeof enc), "RLE_DICTIONARY") == NULL);
    CHECK(!strcmp(parquet_reader_column_codec(r, 0, 2), "SNAPPY"));
    parquet_cursor *c;
    CHECK_OK(parquet_cursor_open(&c, r, NULL, 0));
    int64_t n = 0, sum = 0;
    while (parquet_cursor_next(c) == 1) {
        const int64_t *h; size_t nh; const char *s; size_t ls;
        CHECK_OK(parquet_cursor_get_list_int64(c, 2, &h, &nh));
        CHECK(nh == (size_t)(n % 51));
        for (size_t k = 0; k < nh; k++) sum += h[k] - n * 100;
        CHECK_OK(parquet_cursor_get_string(c, 1, &s, &ls));
        n++;
    }
    CHECK(n == 5000);
    int64_t want = 0;
    for (int i = 0; i < 5000; i++) want += (int64_t)(i % 51) * (i % 51 - 1) / 2;
    CHECK(sum == want);
    parquet_cursor_close(c);
    parquet_reader_close(r);
}

// Damaged files fail with a message naming the file (and row group and column for page damage).
static int read_all(const char *path) {
    parquet_reader *r;
    if (parquet_reader_open(&r, path)) return ERR_FAIL;
    parquet_cursor *c;
    if (parquet_cursor_open(&c, r, NULL, 0)) { parquet_reader_close(r); return ERR_FAIL; }
    int rc;
    while ((rc = parquet_cursor_next(c)) == 1) {}
    parquet_cursor_close(c);
    parquet_reader_close(r);
    return rc < 0 ? ERR_FAIL : 0;
}

static void test_bad_files(void) {
    char good[300], bad[300];
    snprintf(good, sizeof good, "%s/good.parquet", tmpdir);
    snprintf(bad, sizeof bad, "%s/bad.parquet", tmpdir);
    parquet_column_spec cols[] = {{"id", PQ_INT64, 0, 0}, {"hist", PQ_INT64, 1, 1}};
    parquet_write_options o;
    parquet_write_options_default(&o);
    o.codec = PQ_CODEC_ZSTD;
    parquet_writer *w;
    CHECK_OK(parquet_writer_open(&w, good, cols, 2, &o));
    for (int i = 0; i < 1000; i++) {
        int64_t h[8] = {i, i + 1, i + 2, i + 3, i + 4, i + 5, i + 6, i + 7};
        CHECK_OK(parquet_writer_add_int64(w, 0, i));
        CHECK_OK(parquet_writer_add_list_int64(w, 1, h, (size_t)(i % 9 == 8 ? 0 : i % 9)));
        CHECK_OK(parquet_writer_end_row(w));
    }
    CHECK_OK(parquet_writer_close(w));
    char *data;
    size_t n;
    CHECK_OK(file_read_all(good, &data, &n));
    if (!data) return;
    CHECK_OK(read_all(good));
    // truncated
    CHECK_OK(file_write_atomic(bad, data, n / 2));
    CHECK_FAILS_WITH(read_all(bad), "bad.parquet");
    CHECK_FAILS_WITH(read_all(bad), "bad magic");
    CHECK_OK(file_write_atomic(bad, data, 7));
    CHECK_FAILS_WITH(read_all(bad), "too short");
    // bad magic at the start
    char *copy = malloc(n);
    memcpy(copy, data, n);
    copy[0] = 'X';
    CHECK_OK(file_write_atomic(bad, copy, n));
    CHECK_FAILS_WITH(read_all(bad), "bad magic");
    // footer length past the file
    memcpy(copy, data, n);
    copy[n - 8] = (char)0xff; copy[n - 7] = (char)0xff; copy[n - 6] = 0x0f;
    CHECK_OK(file_write_atomic(bad, copy, n));
    CHECK_FAILS_WITH(read_all(bad), "footer length");
    // corrupt page header of the first chunk: message names rg and column
    memcpy(copy, data, n);
    for (size_t k = 4; k < 12; k++) copy[k] = (char)0xff;
    CHECK_OK(file_write_atomic(bad, copy, n));
    CHECK_FAILS_WITH(read_all(bad), "row group 0, column id: malformed page header");
    // corrupt compressed body of the first page: failed decompression, named as such
    pq_page_header h;
    size_t hl = 0;
    CHECK_OK(pq_page_header_parse(&h, (const uint8_t *)data + 4, n - 4, &hl));
    memcpy(copy, data, n);
    for (size_t k = 4 + hl + 4; k + 4 < 4 + hl + (size_t)h.compressed; k++) copy[k] ^= 0x5a;
    CHECK_OK(file_write_atomic(bad, copy, n));
    CHECK_FAILS_WITH(read_all(bad), "row group 0, column id: ZSTD decompression failed");
    // damaged footer bytes
    memcpy(copy, data, n);
    uint32_t flen;
    memcpy(&flen, data + n - 8, 4);
    for (size_t k = n - 8 - flen; k < n - 8; k += 3) copy[k] = (char)0xee;
    CHECK_OK(file_write_atomic(bad, copy, n));
    CHECK_FAILS_WITH(read_all(bad), "bad.parquet");
    // failed decompression reported as such: an uncompressed-size mismatch in a page header
    // (every single-byte change must give either success or a clean error, never a crash)
    int fails = 0;
    for (size_t k = 4; k < n; k += 7) {
        memcpy(copy, data, n);
        copy[k] = (char)(copy[k] + 1 + (k % 200));
        parquet_reader *r;
        if (parquet_reader_open_mem(&r, copy, n, "mutant.parquet")) { fails++; continue; }
        parquet_cursor *c;
        if (!parquet_cursor_open(&c, r, NULL, 0)) {
            int rc;
            while ((rc = parquet_cursor_next(c)) == 1) {}
            if (rc < 0) { fails++; CHECK(strstr(err_msg(), "mutant.parquet") != NULL); }
            parquet_cursor_close(c);
        }
        parquet_reader_close(r);
    }
    CHECK(fails > 0);
    free(copy);
    free(data);
}

// Schema shapes other writers use: a legacy 2-level list (repeated leaf under a LIST group), a
// top-level repeated field, a pyarrow map, a list of structs. Checks names, list-ness and levels.
static void schema_elem(tr_writer *t, const char *name, int type, int rep, int nchild, int converted) {
    tw_struct_begin(t);
    if (type >= 0) tw_i32(t, 1, type);
    tw_i32(t, 3, rep);
    tw_binary(t, 4, name, strlen(name));
    if (nchild) tw_i32(t, 5, nchild);
    if (converted >= 0) tw_i32(t, 6, converted);
    tw_struct_end(t);
}

static void test_schema_shapes(void) {
    tr_writer t;
    tw_init(&t);
    tw_struct_begin(&t);
    tw_i32(&t, 1, 1);
    tw_list_begin(&t, 2, TT_STRUCT, 16);
    schema_elem(&t, "schema", -1, 0, 5, -1);
    schema_elem(&t, "tags", -1, REP_OPTIONAL, 1, 3);                     // legacy 2-level list
    schema_elem(&t, "array", PT_BYTE_ARRAY, REP_REPEATED, 0, 0);
    schema_elem(&t, "ids", PT_INT32, REP_REPEATED, 0, -1);                // bare repeated field
    schema_elem(&t, "m", -1, REP_OPTIONAL, 1, 1);                         // pyarrow map
    schema_elem(&t, "key_value", -1, REP_REPEATED, 2, -1);
    schema_elem(&t, "key", PT_BYTE_ARRAY, REP_REQUIRED, 0, 0);
    schema_elem(&t, "value", PT_INT64, REP_OPTIONAL, 0, -1);
    schema_elem(&t, "items", -1, REP_OPTIONAL, 1, 3);                     // list<struct{a, b}>
    schema_elem(&t, "list", -1, REP_REPEATED, 1, -1);
    schema_elem(&t, "element", -1, REP_OPTIONAL, 2, -1);
    schema_elem(&t, "a", PT_DOUBLE, REP_REQUIRED, 0, -1);
    schema_elem(&t, "b", PT_INT96, REP_OPTIONAL, 0, -1);
    schema_elem(&t, "nested", -1, REP_OPTIONAL, 1, 3);                    // list<list<int32>>, 2-level inside
    schema_elem(&t, "list", -1, REP_REPEATED, 1, 3);
    schema_elem(&t, "x", PT_INT32, REP_REPEATED, 0, -1);
    tw_i64(&t, 3, 0);
    tw_struct_end(&t);
    pq_meta m;
    CHECK_OK(pq_meta_parse(&m, t.buf, t.len, 1000));
    static const char *names[] = {"tags", "ids", "m.key", "m.value", "items.a", "items.b", "nested"};
    static const int lists[] = {1, 1, 1, 1, 1, 1, 2}, defs[] = {2, 1, 2, 3, 3, 4, 3};
    CHECK(m.nleaves == 7);
    for (int i = 0; i < m.nleaves && i < 7; i++) {
        CHECK_MSG(!strcmp(m.names[i], names[i]), "leaf %d is %s, want %s", i, m.names[i], names[i]);
        CHECK_MSG(m.cols[i].is_list == lists[i] && m.leaves[i].max_def == defs[i], "leaf %s: list %d def %d", m.names[i], m.cols[i].is_list, m.leaves[i].max_def);
    }
    CHECK(m.nleaves == 7 && !m.cols[5].supported && m.cols[4].supported && !m.cols[6].supported);
    CHECK(m.nleaves == 7 && m.cols[0].nullable && !m.cols[1].nullable && m.cols[3].elem_nullable);
    pq_meta_free(&m);
    tw_free(&t);
}

// --write-fixtures DIR: files for tests/test_parquet.sh, each with the JSON lines it must read as.
static void put_json_str(FILE *f, const char *s) {
    fputc('"', f);
    for (; *s; s++) {
        unsigned char ch = (unsigned char)*s;
        if (ch == '"' || ch == '\\') fprintf(f, "\\%c", ch);
        else if (ch == '\n') fputs("\\n", f);
        else if (ch == '\t') fputs("\\t", f);
        else if (ch < 0x20) fprintf(f, "\\u%04x", ch);
        else fputc(ch, f);
    }
    fputc('"', f);
}

static int write_expected(const table *t, const char *path) {
    FILE *f = fopen(path, "w");
    if (!f) return err_errno("%s", path);
    for (int64_t i = 0; i < t->rows; i++) {
        fputc('{', f);
        for (int c = 0; c < t->ncols; c++) {
            const cell *x = &t->cells[i * t->ncols + c];
            const parquet_column_spec *s = &t->spec[c];
            fprintf(f, "%s\"%s\": ", c ? ", " : "", t->names[c]);
            if (x->null) { fputs("null", f); continue; }
            if (s->is_list) fputc('[', f);
            for (size_t k = 0; k < x->n; k++) {
                if (k) fputs(", ", f);
                switch (s->type) {
                case PQ_INT32: case PQ_INT64: fprintf(f, "%lld", (long long)x->i[k]); break;
                case PQ_BOOL: fputs(x->i[k] ? "true" : "false", f); break;
                case PQ_FLOAT: fprintf(f, "%.9g", x->d[k]); break;
                case PQ_DOUBLE: fprintf(f, "%.17g", x->d[k]); break;
                default: put_json_str(f, x->s[k]);
                }
            }
            if (s->is_list) fputc(']', f);
        }
        fputs("}\n", f);
    }
    return fclose(f) ? err_errno("%s", path) : 0;
}

static int write_fixtures(const char *dir, int small) {
    if (file_mkdirs(dir)) return ERR_FAIL;
    static const pq_codec codecs[] = {PQ_CODEC_UNCOMPRESSED, PQ_CODEC_SNAPPY, PQ_CODEC_GZIP, PQ_CODEC_ZSTD, PQ_CODEC_LZ4_RAW};
    for (int k = 0; k < 10; k++) {
        rng r;
        rng_seed(&r, 500 + (uint64_t)k);
        table t;
        table_gen(&t, &r, small ? 5 + (int64_t)rng_below(&r, 100) : 200 + (int64_t)rng_below(&r, 2000), 4 + (int)rng_below(&r, 5));
        parquet_write_options o;
        parquet_write_options_default(&o);
        o.codec = codecs[k % 5];
        o.dictionary = k % 2;
        o.page_bytes = small ? 200 + rng_below(&r, 800) : 1000 + rng_below(&r, 8000);
        o.row_group_bytes = small ? 500 + rng_below(&r, 3000) : 4000 + rng_below(&r, 40000);
        char path[512], exp[512];
        snprintf(path, sizeof path, "%s/ours_%d_%s.parquet", dir, k, pq_codec_name(o.codec));
        snprintf(exp, sizeof exp, "%s/ours_%d_%s.expected.jsonl", dir, k, pq_codec_name(o.codec));
        int rc = table_write(&t, path, &o) || write_expected(&t, exp);
        table_free(&t);
        if (rc) return ERR_FAIL;
    }
    return 0;
}

int main(int argc, char **argv) {
    if ((argc == 3 || argc == 4) && !strcmp(argv[1], "--write-fixtures")) {   // [small]: seeds for the fuzzer
        if (write_fixtures(argv[2], argc == 4 && !strcmp(argv[3], "small"))) { fprintf(stderr, "%s\n", err_msg()); return 1; }
        return 0;
    }
    snprintf(tmpdir, sizeof tmpdir, "/tmp/onerec_test_parquet_%d", (int)getpid());
    file_mkdirs(tmpdir);
    RUN(test_thrift);
    RUN(test_rle_round_trip);
    RUN(test_round_trip_random);
    RUN(test_schema_shapes);
    RUN(test_widening_and_errors);
    RUN(test_row_groups_and_dictionary);
    RUN(test_bad_files);
    file_remove_tree(tmpdir);
    return test_summary("test_parquet");
}
