// The Parquet backend of data/table.h: the only file of the data layer that knows
// src/formats/parquet.h. Until that module is built in, dtab_pq_available() is 0 and the
// functions fail with a message naming the file.
#pragma once
#include <cjson/cJSON.h>

#include "data/table.h"

typedef struct dtab_pq_writer dtab_pq_writer;
typedef struct dtab_pq_reader dtab_pq_reader;

int dtab_pq_available(void);
int dtab_pq_writer_open(dtab_pq_writer **w, const char *path, const dcol *cols, int ncols);
int dtab_pq_writer_row(dtab_pq_writer *w, const cJSON *row);
int dtab_pq_writer_close(dtab_pq_writer *w);
void dtab_pq_writer_abort(dtab_pq_writer *w);
int dtab_pq_reader_open(dtab_pq_reader **r, const char *path);
int dtab_pq_reader_ncols(const dtab_pq_reader *r);
const char *dtab_pq_reader_col_name(const dtab_pq_reader *r, int i);
int dtab_pq_reader_col_type(const dtab_pq_reader *r, int i);
int dtab_pq_reader_next(dtab_pq_reader *r, cJSON **row);
void dtab_pq_reader_close(dtab_pq_reader *r);
