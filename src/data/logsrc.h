// Any user-supplied table read row by row, whatever its format: CSV (header line, RFC 4180),
// TSV, JSONL or Parquet, chosen by the file's extension. Values are read by column with typed
// getters whose messages name the file, the row (CSV/TSV: its line; JSONL/Parquet: the 0-based
// row index), the column and the offending value, so `data import` can report bad input exactly.
#pragma once
#include <stdint.h>

#include "data/csv.h"
#include "data/table.h"

typedef struct {
    char *path;
    csv_reader *csv;     // .csv / .tsv
    dtab_reader *tab;    // .jsonl / .parquet
    cJSON *row;          // tab: the current row
    int64_t rows;        // rows returned so far
    char num[64];        // a number printed as text (logsrc_get_text)
} logsrc;

int logsrc_open(logsrc *s, const char *path);   // unknown extension, empty file: errors
void logsrc_close(logsrc *s);
const char *logsrc_col_name(const logsrc *s, int i);
// Index of column `name`; a missing column is an error naming it, the flag that chose it, and
// listing the columns the file has.
int logsrc_find(const logsrc *s, const char *name, const char *flag, int *col);
int logsrc_next(logsrc *s);   // 1 = a row, 0 = end, ERR_FAIL
// "line 12" (CSV/TSV) or "row 11" (JSONL/Parquet) for the current row, into buf.
const char *logsrc_where(const logsrc *s, char *buf, int cap);
// An integer (a number or a string holding one; at most 2^53 in magnitude for JSONL/Parquet
// numbers, which go through doubles).
int logsrc_get_i64(logsrc *s, int col, int64_t *v);
int logsrc_get_f64(logsrc *s, int col, double *v);   // a finite number or a string holding one
// Text of a value, UTF-8 checked: strings as they are, integers without a decimal point, other
// numbers with %g, null or absent as "". Valid until the next call on s.
int logsrc_get_text(logsrc *s, int col, const char **text);
