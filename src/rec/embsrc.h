// Item embeddings read in row chunks from Parquet (a list<float|double> column, optional integer
// pid column) or .npy (float32/float64 [n, d], pid = row number): the input of sid train/encode.
#pragma once
#include <stdint.h>

#include "formats/npy.h"
#include "formats/parquet.h"

typedef struct {
    const char *path;
    int is_npy;
    int64_t n;     // rows
    int d;         // dimension
    int64_t row;   // next row to read
    npy_file npy;
    parquet_reader *r;
    parquet_cursor *c;
    const char *column, *pid_column;
    int has_pid, col_double;
} embsrc;

// A .npy path (by its suffix) or a Parquet file whose `column` holds the vectors; messages start
// "embeddings PATH".
int embsrc_open(embsrc *s, const char *path, const char *column, const char *pid_column);
void embsrc_close(embsrc *s);
int embsrc_rewind(embsrc *s);
// x out [max, d], pid out [max]; *got rows read (0 at the end). Rows with another length or
// non-finite values are errors naming the row.
int embsrc_read(embsrc *s, float *x, int64_t *pid, int64_t max, int64_t *got);
// Every remaining row into one allocation: *x out [*n, d] (owned, free); the pids are dropped.
int embsrc_read_all(embsrc *s, float **x, int64_t *n);
