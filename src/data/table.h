// Row tables for the data layer: every file the data layer reads or writes (raw RecIF table, side
// files, task tables, shards, benchmark sets) goes through this one thin interface. A row is a
// cJSON object {column: value}; the column types are declared once per file.
// Backends by file extension: ".parquet" (through src/formats/parquet.h, when it is built in) and
// ".jsonl" (one JSON object per line; always available, used by tests and as a fallback).
#pragma once
#include <cjson/cJSON.h>
#include <stdint.h>

typedef enum {
    DCOL_I64,       // int64
    DCOL_I32,       // int32
    DCOL_F64,       // double
    DCOL_STR,       // UTF-8 string
    DCOL_LIST_I64,  // list<int64>
    DCOL_LIST_I32,  // list<int32>
    DCOL_LIST_F32,  // list<float>
} dcol_type;

typedef struct {
    const char *name;
    dcol_type type;
    int nullable;   // null values allowed (strings only in practice)
} dcol;


// The extension data files get by default: ".parquet" when Parquet is built in, else ".jsonl".
const char *dtab_default_ext(void);
int dtab_have_parquet(void);

typedef struct dtab_writer dtab_writer;
// The file appears at `path` only on dtab_writer_close (atomic). Columns are copied.
int dtab_writer_open(dtab_writer **w, const char *path, const dcol *cols, int ncols);
// Writes one row; every declared column must be present with its type (or null when nullable).
int dtab_writer_row(dtab_writer *w, const cJSON *row);
int64_t dtab_writer_count(const dtab_writer *w);
int dtab_writer_close(dtab_writer *w);   // commit; frees w (also on failure)
void dtab_writer_abort(dtab_writer *w);  // discard; frees w; NULL is fine

typedef struct dtab_reader dtab_reader;
int dtab_reader_open(dtab_reader **r, const char *path);
// Column names/types as stored (Parquet: from the schema; JSONL: inferred from the first row,
// -1 for a column whose first value is null). Valid after open.
int dtab_reader_ncols(const dtab_reader *r);
const char *dtab_reader_col_name(const dtab_reader *r, int i);
int dtab_reader_col_type(const dtab_reader *r, int i);   // dcol_type or -1 when unknown
// Next row: 1 and *row (caller frees with cJSON_Delete), 0 at the end, ERR_FAIL on error.
int dtab_reader_next(dtab_reader *r, cJSON **row);
int64_t dtab_reader_row_index(const dtab_reader *r);   // index of the row returned last
void dtab_reader_close(dtab_reader *r);

// Checks that `r` has every column in `want` with a compatible type (int32/int64 interchangeable,
// as are list<int32>/list<int64>); on failure lists all missing and mistyped columns at once.
int dtab_reader_check(const dtab_reader *r, const dcol *want, int nwant, const char *what);

// Opens path, checks its columns against want (see dtab_reader_check) and calls fn on every row;
// stops at the first non-zero return (the error is wrapped with the file and row).
int dtab_foreach(const char *path, const dcol *want, int nwant, const char *what,
                 int (*fn)(void *ctx, const cJSON *row), void *ctx);

// Helpers for building rows.
cJSON *dtab_int_array(const int64_t *v, int n);
// Reads a JSON array of integers into a malloc'd buffer; ERR_FAIL if not an array of numbers.
int dtab_get_int_array(const cJSON *row, const char *col, int64_t **v, int *n);
