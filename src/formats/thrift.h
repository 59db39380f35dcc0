// Thrift compact protocol: just what the Parquet footer and page headers need. The reader is
// bounds-checked and depth-limited (it reads untrusted files); the writer appends to a buffer.
#pragma once
#include <stddef.h>
#include <stdint.h>

enum {
    TT_STOP = 0, TT_TRUE = 1, TT_FALSE = 2, TT_I8 = 3, TT_I16 = 4, TT_I32 = 5, TT_I64 = 6,
    TT_DOUBLE = 7, TT_BINARY = 8, TT_LIST = 9, TT_SET = 10, TT_MAP = 11, TT_STRUCT = 12,
};

typedef struct {
    const uint8_t *p, *end;
    int bad;            // set on any out-of-bounds or malformed read; values read then are 0
    int depth;
    int16_t last[64];   // last field id per struct nesting level
} tr_reader;

void tr_init(tr_reader *t, const void *data, size_t n);
// Starts a struct (pushes the field-id context) / ends it (pops).
void tr_struct_begin(tr_reader *t);
void tr_struct_end(tr_reader *t);
// Next field of the current struct: returns 0 at STOP (or on error), else 1 with *id, *type.
int tr_field(tr_reader *t, int *id, int *type);
int64_t tr_i64(tr_reader *t);             // zigzag varint (also i16/i32)
int32_t tr_i32(tr_reader *t);
// Binary/string: pointer into the buffer and its length.
const uint8_t *tr_binary(tr_reader *t, size_t *len);
// List header: element type and count (count is checked against the bytes left).
int64_t tr_list(tr_reader *t, int *elem_type);
int tr_bool(tr_reader *t, int type);      // a bool field's value lives in its type
void tr_skip(tr_reader *t, int type);

typedef struct {
    uint8_t *buf;
    size_t len, cap;
    int depth;
    int16_t last[64];
    int oom;
} tr_writer;

void tw_init(tr_writer *w);
void tw_free(tr_writer *w);
void tw_struct_begin(tr_writer *w);
void tw_struct_end(tr_writer *w);          // writes STOP
void tw_field(tr_writer *w, int id, int type);
void tw_i32(tr_writer *w, int id, int32_t v);        // field header + value
void tw_i64(tr_writer *w, int id, int64_t v);
void tw_bool(tr_writer *w, int id, int v);
void tw_binary(tr_writer *w, int id, const void *s, size_t n);
void tw_list_begin(tr_writer *w, int id, int elem_type, int64_t n);   // id < 0: no field header
void tw_raw_i32(tr_writer *w, int32_t v);            // list element
void tw_raw_binary(tr_writer *w, const void *s, size_t n);
void tw_bytes(tr_writer *w, const void *s, size_t n);
