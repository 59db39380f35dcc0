// A streaming reader of delimited text (CSV, RFC 4180; TSV with the same rules and a tab): a
// header line names the columns, then one record per row. Fields may be quoted ("a, b"), with ""
// for a quote inside and line breaks inside quotes; CRLF and LF both end a record; a UTF-8 BOM
// before the header is skipped; blank lines are skipped. Memory: one record at a time.
#pragma once
#include <stdint.h>

typedef struct csv_reader csv_reader;

// Opens path and reads its header. An empty file (no header) is an error naming the file.
int csv_reader_open(csv_reader **r, const char *path, char delim);
int csv_reader_ncols(const csv_reader *r);
const char *csv_reader_col_name(const csv_reader *r, int i);
// 1 and a current record, 0 at the end, ERR_FAIL on a malformed record (unterminated quote,
// text after a closing quote, a field count other than the header's), naming the file and line.
int csv_reader_next(csv_reader *r);
// Field i of the current record, NUL-terminated (a NUL byte inside a field ends it early);
// valid until the next csv_reader_next.
const char *csv_reader_field(const csv_reader *r, int i);
int64_t csv_reader_line(const csv_reader *r);   // 1-based line where the current record starts
void csv_reader_close(csv_reader *r);
