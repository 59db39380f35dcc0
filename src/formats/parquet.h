// Parquet reader and writer (no Arrow): Thrift compact footer, flat and LIST/MAP/STRUCT schemas,
// data pages v1/v2, dictionary pages, PLAIN / dictionary / RLE / DELTA_* / BYTE_STREAM_SPLIT
// encodings, codecs UNCOMPRESSED, SNAPPY, GZIP, ZSTD, LZ4_RAW.
//
// Columns are the LEAVES of the schema, named by their path without the list wrappers:
//   a flat column `uid`                               -> "uid"
//   list<int64> `hist` (hist.list.element)            -> "hist" (is_list = 1)
//   struct `s` {a, b}                                 -> "s.a", "s.b"
//   map<k,v> `m` (m.key_value.key / .value)           -> "m.key", "m.value" (both is_list = 1)
// Lists nested in lists are reported with is_list = 2 and are refused by the cursor.
//
// Reading streams one row group at a time (memory bounded by a row group of the projected columns):
//   parquet_reader *r; parquet_cursor *c;
//   parquet_reader_open(&r, path);
//   const char *cols[] = {"uid", "hist"};
//   parquet_cursor_open(&c, r, cols, 2);            // projection: cursor column i = cols[i]
//   while ((rc = parquet_cursor_next(c)) == 1) {
//       int64_t uid; const int64_t *h; size_t n;
//       parquet_cursor_get_int64(c, 0, &uid);
//       parquet_cursor_get_list_int64(c, 1, &h, &n);  // pointers valid until the next row
//   }
//   // rc == 0 at the end, ERR_FAIL (message names file, row group, column) on bad data
//   parquet_cursor_close(c); parquet_reader_close(r);
// Getters widen (int32/bool -> int64, float/ints -> double, int32 -> int64 lists, float -> double
// lists); any other mismatch is an error naming the column. A null value reads as 0 / "" / empty
// list (check parquet_cursor_is_null when it matters).
//
// Writing is row at a time; each row sets every column once (add_* or add_null), then end_row:
//   parquet_column_spec cols[] = {{"pid", PQ_INT64, 0, 0}, {"sid", PQ_INT32, 1, 0}};
//   parquet_writer *w; parquet_writer_open(&w, path, cols, 2, NULL);   // NULL = default options
//   parquet_writer_add_int64(w, 0, pid); parquet_writer_add_list_int32(w, 1, sid, 3);
//   parquet_writer_end_row(w);
//   parquet_writer_close(w);         // writes the footer and renames into place (atomic)
// Lists are written in the standard 3-level form (`optional group x (LIST) { repeated group list
// { required element } }`), strings as BYTE_ARRAY (STRING), so DuckDB/pyarrow/hyparquet read them.
#pragma once
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

typedef enum { PQ_INT32, PQ_INT64, PQ_FLOAT, PQ_DOUBLE, PQ_BOOL, PQ_STRING } pq_type;

typedef enum {
    PQ_CODEC_UNCOMPRESSED = 0,
    PQ_CODEC_SNAPPY = 1,
    PQ_CODEC_GZIP = 2,
    PQ_CODEC_ZSTD = 6,     // the Thrift CompressionCodec numbers
    PQ_CODEC_LZ4_RAW = 7,
} pq_codec;

const char *pq_type_name(pq_type t);
const char *pq_codec_name(pq_codec c);

// ---------------------------------------------------------------------------------------------
// Writer

typedef struct {
    const char *name;
    pq_type type;
    int is_list;     // list<type>; the list itself may be empty
    int nullable;    // the value (or the whole list) may be null
} parquet_column_spec;

typedef struct {
    pq_codec codec;            // default ZSTD
    int level;                 // codec level (zstd 1..19, gzip 1..9); 0 = zstd 1, gzip 6
    size_t row_group_bytes;    // flush a row group when its buffered data passes this (64 MiB)
    size_t page_bytes;         // target uncompressed data page size (1 MiB)
    int dictionary;            // 1 = dictionary-encode columns where it pays (default), 0 = never
    int statistics;            // 1 = min/max/null_count per column chunk (default)
} parquet_write_options;

void parquet_write_options_default(parquet_write_options *o);

typedef struct parquet_writer parquet_writer;

// Column names must be unique and non-empty. opt may be NULL.
int parquet_writer_open(parquet_writer **w, const char *path, const parquet_column_spec *cols,
                        int ncols, const parquet_write_options *opt);
int parquet_writer_add_int32(parquet_writer *w, int col, int32_t v);
int parquet_writer_add_int64(parquet_writer *w, int col, int64_t v);   // INT32 columns: range-checked
int parquet_writer_add_float(parquet_writer *w, int col, float v);
int parquet_writer_add_double(parquet_writer *w, int col, double v);
int parquet_writer_add_bool(parquet_writer *w, int col, int v);
int parquet_writer_add_string(parquet_writer *w, int col, const char *s, size_t len);
int parquet_writer_add_list_int32(parquet_writer *w, int col, const int32_t *v, size_t n);
int parquet_writer_add_list_int64(parquet_writer *w, int col, const int64_t *v, size_t n);
int parquet_writer_add_list_float(parquet_writer *w, int col, const float *v, size_t n);
int parquet_writer_add_list_double(parquet_writer *w, int col, const double *v, size_t n);
// lens may be NULL: then each s[i] is NUL-terminated
int parquet_writer_add_list_string(parquet_writer *w, int col, const char *const *s,
                                   const size_t *lens, size_t n);
int parquet_writer_add_null(parquet_writer *w, int col);               // column must be nullable
int parquet_writer_end_row(parquet_writer *w);     // error if a column was not set in this row
int64_t parquet_writer_rows(const parquet_writer *w);
// Flush the last row group, write the footer, commit atomically, free w (also on failure).
int parquet_writer_close(parquet_writer *w);
void parquet_writer_abort(parquet_writer *w);      // drop the temporary file, free w (NULL is ok)

// ---------------------------------------------------------------------------------------------
// Reader

typedef struct {
    const char *name;      // leaf path without list wrappers (see top of file)
    pq_type type;          // our type for the physical/logical type; STRING for BYTE_ARRAY/FLBA
    int is_list;           // 0 flat, 1 list (one repeated level), 2 deeper nesting (not readable)
    int nullable;          // value or list may be null
    int elem_nullable;     // list elements may be null
    int physical;          // Parquet physical type number (0 BOOLEAN .. 7 FIXED_LEN_BYTE_ARRAY)
    const char *logical;   // "STRING", "LIST", "INT(8)", "DECIMAL", "TIMESTAMP", ... or ""
    int supported;         // 0 for types the cursor cannot return (INT96, DECIMAL, nested lists)
} parquet_column_info;

typedef struct parquet_reader parquet_reader;

int parquet_reader_open(parquet_reader **r, const char *path);
// The same from a caller-owned buffer (kept until close); name is used in messages. For fuzzing.
int parquet_reader_open_mem(parquet_reader **r, const void *data, size_t n, const char *name);
void parquet_reader_close(parquet_reader *r);
int64_t parquet_reader_num_rows(const parquet_reader *r);
int parquet_reader_num_row_groups(const parquet_reader *r);
int parquet_reader_num_columns(const parquet_reader *r);
const parquet_column_info *parquet_reader_column(const parquet_reader *r, int i);
int parquet_reader_find_column(const parquet_reader *r, const char *name);   // -1 when absent
const char *parquet_reader_path(const parquet_reader *r);
const char *parquet_reader_created_by(const parquet_reader *r);   // "" when absent
// Codec/encodings of a column chunk, for `onerec parquet schema` and tests: e.g. "ZSTD".
const char *parquet_reader_column_codec(const parquet_reader *r, int rg, int col);
// The encodings the footer lists for a column chunk (rg -1: all row groups), comma-separated:
// "PLAIN,RLE,RLE_DICTIONARY".
const char *parquet_reader_column_encodings(const parquet_reader *r, int rg, int col, char *buf, size_t cap);

typedef struct parquet_cursor parquet_cursor;

// names == NULL (n ignored): all readable columns in file order. A missing name is an error that
// lists the file's columns.
int parquet_cursor_open(parquet_cursor **c, parquet_reader *r, const char *const *names, int n);
void parquet_cursor_close(parquet_cursor *c);
int parquet_cursor_num_columns(const parquet_cursor *c);
int parquet_cursor_column_index(const parquet_cursor *c, int i);   // index in the reader's columns
const parquet_column_info *parquet_cursor_column_info(const parquet_cursor *c, int i);
// 1 = a row is current, 0 = end of file, ERR_FAIL = bad data (message names file, rg, column).
int parquet_cursor_next(parquet_cursor *c);
int64_t parquet_cursor_row(const parquet_cursor *c);               // 0-based index of the row
// Jump to the first row of row group rg (the next parquet_cursor_next returns its first row).
int parquet_cursor_seek_row_group(parquet_cursor *c, int rg);

int parquet_cursor_is_null(const parquet_cursor *c, int i);
int parquet_cursor_get_int32(parquet_cursor *c, int i, int32_t *v);
int parquet_cursor_get_int64(parquet_cursor *c, int i, int64_t *v);
int parquet_cursor_get_double(parquet_cursor *c, int i, double *v);
int parquet_cursor_get_bool(parquet_cursor *c, int i, int *v);
int parquet_cursor_get_string(parquet_cursor *c, int i, const char **s, size_t *len);
int parquet_cursor_get_list_int32(parquet_cursor *c, int i, const int32_t **v, size_t *n);
int parquet_cursor_get_list_int64(parquet_cursor *c, int i, const int64_t **v, size_t *n);
int parquet_cursor_get_list_float(parquet_cursor *c, int i, const float **v, size_t *n);
int parquet_cursor_get_list_double(parquet_cursor *c, int i, const double **v, size_t *n);
int parquet_cursor_get_list_bool(parquet_cursor *c, int i, const uint8_t **v, size_t *n);
int parquet_cursor_get_list_string(parquet_cursor *c, int i, const char *const **s,
                                   const size_t **lens, size_t *n);
// Per-element null flags of the current list (1 = null); *nulls = NULL when none is null.
int parquet_cursor_get_list_nulls(parquet_cursor *c, int i, const uint8_t **nulls, size_t *n);
// Writes the current row as one JSON object {"name": value, ...} (lists as arrays, nulls as null,
// floats with round-trip precision, NaN/Inf as null) and a newline to fp: `onerec parquet cat`.
int parquet_cursor_print_json(parquet_cursor *c, FILE *fp);
