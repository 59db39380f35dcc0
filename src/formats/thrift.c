#include "formats/thrift.h"

#include <stdlib.h>
#include <string.h>

void tr_init(tr_reader *t, const void *data, size_t n) {
    memset(t, 0, sizeof *t);
    t->p = data;
    t->end = t->p + n;
}

void tr_struct_begin(tr_reader *t) {
    if (t->depth >= 63) { t->bad = 1; return; }
    t->last[++t->depth] = 0;
}

void tr_struct_end(tr_reader *t) {
    if (t->depth > 0) t->depth--;
}

// unsigned
static int64_t tr_varint(tr_reader *t) {
    uint64_t v = 0;
    for (int shift = 0; shift < 64; shift += 7) {
        if (t->p >= t->end) { t->bad = 1; return 0; }
        uint8_t b = *t->p++;
        v |= (uint64_t)(b & 0x7f) << shift;
        if (!(b & 0x80)) return (int64_t)v;
    }
    t->bad = 1;
    return 0;
}

int64_t tr_i64(tr_reader *t) {
    uint64_t u = (uint64_t)tr_varint(t);
    return (int64_t)(u >> 1) ^ -(int64_t)(u & 1);
}

int32_t tr_i32(tr_reader *t) {
    int64_t v = tr_i64(t);
    if (v < INT32_MIN || v > INT32_MAX) { t->bad = 1; return 0; }
    return (int32_t)v;
}

static double tr_double(tr_reader *t) {
    double d = 0;
    if (t->end - t->p < 8) { t->bad = 1; return 0; }
    memcpy(&d, t->p, 8);
    t->p += 8;
    return d;
}

const uint8_t *tr_binary(tr_reader *t, size_t *len) {
    int64_t n = tr_varint(t);
    if (t->bad || n < 0 || n > t->end - t->p) { t->bad = 1; *len = 0; return (const uint8_t *)""; }
    const uint8_t *s = t->p;
    t->p += n;
    *len = (size_t)n;
    return s;
}

int tr_field(tr_reader *t, int *id, int *type) {
    if (t->bad || t->p >= t->end) { t->bad = 1; return 0; }
    uint8_t b = *t->p++;
    if (b == 0) return 0;
    *type = b & 0x0f;
    int delta = b >> 4;
    int fid = delta ? t->last[t->depth] + delta : (int)tr_i64(t);
    t->last[t->depth] = (int16_t)fid;
    *id = fid;
    return !t->bad;
}

int64_t tr_list(tr_reader *t, int *elem_type) {
    if (t->p >= t->end) { t->bad = 1; return 0; }
    uint8_t b = *t->p++;
    *elem_type = b & 0x0f;
    int64_t n = b >> 4;
    if (n == 15) n = tr_varint(t);
    // every element takes at least one byte (bools too), which bounds allocations by the input
    if (n < 0 || n > t->end - t->p) { t->bad = 1; return 0; }
    return n;
}

int tr_bool(tr_reader *t, int type) {
    (void)t;
    return type == TT_TRUE;
}

static void skip_elem(tr_reader *t, int type) {
    // bools inside lists/maps take one byte; as fields they live in the type nibble
    if (type == TT_TRUE || type == TT_FALSE) {
        if (t->p >= t->end) t->bad = 1; else t->p++;
        return;
    }
    tr_skip(t, type);
}

void tr_skip(tr_reader *t, int type) {
    if (t->bad) return;
    switch (type) {
    case TT_TRUE: case TT_FALSE: return;
    case TT_I8: if (t->p >= t->end) t->bad = 1; else t->p++; return;
    case TT_I16: case TT_I32: case TT_I64: tr_varint(t); return;
    case TT_DOUBLE: tr_double(t); return;
    case TT_BINARY: { size_t n; tr_binary(t, &n); return; }
    case TT_LIST: case TT_SET: {
        int et;
        int64_t n = tr_list(t, &et);
        for (int64_t i = 0; i < n && !t->bad; i++) skip_elem(t, et);
        return;
    }
    case TT_MAP: {
        int64_t n = tr_varint(t);
        if (n == 0) return;
        if (n < 0 || n > t->end - t->p || t->p >= t->end) { t->bad = 1; return; }
        uint8_t kv = *t->p++;
        for (int64_t i = 0; i < n && !t->bad; i++) { skip_elem(t, kv >> 4); skip_elem(t, kv & 15); }
        return;
    }
    case TT_STRUCT: {
        tr_struct_begin(t);
        int id, ft;
        while (!t->bad && tr_field(t, &id, &ft)) tr_skip(t, ft);
        tr_struct_end(t);
        return;
    }
    default: t->bad = 1;
    }
}

// ------------------------------------------------------------------------------------- writer

void tw_init(tr_writer *w) { memset(w, 0, sizeof *w); }
void tw_free(tr_writer *w) { free(w->buf); memset(w, 0, sizeof *w); }

void tw_bytes(tr_writer *w, const void *s, size_t n) {
    if (w->len + n > w->cap) {
        size_t cap = w->cap ? w->cap : 256;
        while (cap < w->len + n) cap *= 2;
        uint8_t *b = realloc(w->buf, cap);
        if (!b) { w->oom = 1; return; }
        w->buf = b;
        w->cap = cap;
    }
    memcpy(w->buf + w->len, s, n);
    w->len += n;
}

static void tw_varint(tr_writer *w, uint64_t v) {
    uint8_t b[10];
    int n = 0;
    while (v >= 0x80) { b[n++] = (uint8_t)(v | 0x80); v >>= 7; }
    b[n++] = (uint8_t)v;
    tw_bytes(w, b, n);
}

static void tw_zigzag(tr_writer *w, int64_t v) { tw_varint(w, ((uint64_t)v << 1) ^ (uint64_t)(v >> 63)); }

void tw_struct_begin(tr_writer *w) { w->last[++w->depth] = 0; }
void tw_struct_end(tr_writer *w) {
    uint8_t z = 0;
    tw_bytes(w, &z, 1);
    w->depth--;
}

void tw_field(tr_writer *w, int id, int type) {
    int delta = id - w->last[w->depth];
    if (delta > 0 && delta <= 15) {
        uint8_t b = (uint8_t)(delta << 4 | type);
        tw_bytes(w, &b, 1);
    } else {
        uint8_t b = (uint8_t)type;
        tw_bytes(w, &b, 1);
        tw_zigzag(w, id);
    }
    w->last[w->depth] = (int16_t)id;
}

void tw_i32(tr_writer *w, int id, int32_t v) { tw_field(w, id, TT_I32); tw_zigzag(w, v); }
void tw_i64(tr_writer *w, int id, int64_t v) { tw_field(w, id, TT_I64); tw_zigzag(w, v); }
void tw_bool(tr_writer *w, int id, int v) { tw_field(w, id, v ? TT_TRUE : TT_FALSE); }
void tw_raw_i32(tr_writer *w, int32_t v) { tw_zigzag(w, v); }
void tw_raw_binary(tr_writer *w, const void *s, size_t n) { tw_varint(w, n); tw_bytes(w, s, n); }
void tw_binary(tr_writer *w, int id, const void *s, size_t n) {
    tw_field(w, id, TT_BINARY);
    tw_raw_binary(w, s, n);
}

void tw_list_begin(tr_writer *w, int id, int elem_type, int64_t n) {
    if (id >= 0) tw_field(w, id, TT_LIST);
    if (n < 15) {
        uint8_t b = (uint8_t)(n << 4 | elem_type);
        tw_bytes(w, &b, 1);
    } else {
        uint8_t b = (uint8_t)(0xf0 | elem_type);
        tw_bytes(w, &b, 1);
        tw_varint(w, (uint64_t)n);
    }
}
