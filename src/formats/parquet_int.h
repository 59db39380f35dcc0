// Internals shared by the Parquet reader and writer: encodings, codecs, footer structures.
#pragma once
#include <stddef.h>
#include <stdint.h>

#include "formats/parquet.h"

enum { PT_BOOLEAN = 0, PT_INT32 = 1, PT_INT64 = 2, PT_INT96 = 3, PT_FLOAT = 4, PT_DOUBLE = 5,
       PT_BYTE_ARRAY = 6, PT_FLBA = 7 };
enum { REP_REQUIRED = 0, REP_OPTIONAL = 1, REP_REPEATED = 2 };
enum { ENC_PLAIN = 0, ENC_PLAIN_DICT = 2, ENC_RLE = 3, ENC_BIT_PACKED = 4, ENC_DELTA_BP = 5,
       ENC_DELTA_LBA = 6, ENC_DELTA_BA = 7, ENC_RLE_DICT = 8, ENC_BSS = 9 };
enum { PAGE_DATA = 0, PAGE_INDEX = 1, PAGE_DICT = 2, PAGE_DATA_V2 = 3 };

// ---- encodings (parquet_enc.c). Decoders return 0 or ERR_FAIL with a message (no context).
// RLE/bit-packed hybrid without a length prefix; reads exactly n values from [p, end).
int pq_rle_decode8(uint8_t *out, int64_t n, int bit_width, const uint8_t *p, const uint8_t *end);
int pq_rle_decode32(uint32_t *out, int64_t n, int bit_width, const uint8_t *p, const uint8_t *end);
// DELTA_BINARY_PACKED into int64 (n must equal the header's count, or n < 0 to take it from the
// header into *count); *used = bytes consumed.
int pq_delta_decode(int64_t *out, int64_t n, const uint8_t *p, const uint8_t *end, size_t *used);

typedef struct {
    uint8_t *buf;
    size_t len, cap;
} pq_buf;
int pq_buf_reserve(pq_buf *b, size_t extra);
int pq_buf_put(pq_buf *b, const void *s, size_t n);
void pq_buf_free(pq_buf *b);
// Hybrid encoder: values < 2^bit_width; appends (no length prefix). Uses RLE runs for repeats
// and bit-packed groups of 8 otherwise.
int pq_rle_encode(pq_buf *out, const uint32_t *v, int64_t n, int bit_width);
int pq_rle_encode8(pq_buf *out, const uint8_t *v, int64_t n, int bit_width);
int pq_bit_width(uint64_t max_value);

// ---- codecs
int pq_decompress(int codec, const uint8_t *src, size_t n, uint8_t *dst, size_t dst_len);
// Appends the compressed form of src to out.
int pq_compress(int codec, int level, const uint8_t *src, size_t n, pq_buf *out);

// ---- footer (parquet_meta.c)
typedef struct {
    int type, type_length, repetition, num_children, converted, scale, precision;
    int has_type, has_repetition;
    char name[256];
    char logical[32];   // the LogicalType union member name, "" when absent
    int int_bits, int_signed;
} pq_schema_elem;

typedef struct {
    int type, codec;
    int64_t num_values, total_compressed, total_uncompressed;
    int64_t data_page_offset, dict_page_offset;   // dict -1 when absent
    uint32_t encodings;      // bit e set for each encoding the footer lists
} pq_chunk_meta;

typedef struct {
    int64_t num_rows;
    pq_chunk_meta *chunks;   // [num_leaves]
} pq_row_group;

typedef struct {
    int leaf;                // index of the schema element
    int max_def, max_rep;
    int rep_def;             // def level of the (single) repeated node; 0 when flat
    int is_unsigned;
} pq_leaf;

typedef struct {
    pq_schema_elem *schema;
    int nschema;
    int64_t num_rows;
    pq_row_group *rgs;
    int nrgs;
    char created_by[256];
    // leaves in file order
    int nleaves;
    pq_leaf *leaves;
    parquet_column_info *cols;
    char **names;
} pq_meta;

int pq_meta_parse(pq_meta *m, const uint8_t *p, size_t n, int64_t file_size);
void pq_meta_free(pq_meta *m);

typedef struct {
    int type;
    int32_t uncompressed, compressed;
    // data page v1/v2, dict page
    int32_t num_values, num_nulls, num_rows;
    int encoding, def_encoding, rep_encoding;
    int32_t def_len, rep_len;
    int is_compressed;
} pq_page_header;

// Parses a page header at p; *hlen = its size.
int pq_page_header_parse(pq_page_header *h, const uint8_t *p, size_t n, size_t *hlen);

// ---- reader and cursor state (parquet_read.c decodes, parquet_cursor.c steps and gets)
#define MAX_PAGE_VALUES (1 << 27)

struct parquet_reader {
    char *path;
    const uint8_t *data;
    size_t size;
    int mapped;
    pq_meta meta;
};

typedef struct {
    int ci;                    // reader column
    int ptype, type_length, max_def, max_rep, rep_def, is_unsigned;
    size_t esize;              // bytes per value slot (0 for byte arrays)
    int64_t nrows, nslots, cap_rows, cap_slots;
    uint8_t *row_null;         // [nrows]
    int64_t *row_off;          // [nrows + 1], lists only
    uint8_t *slot_null;        // [nslots]
    int any_null_slot;
    uint8_t *vals;             // [nslots * esize]
    const char **sptr;         // [nslots], byte arrays
    size_t *slen;
    int64_t ndict;
    uint8_t *dict_vals;
    const char **dict_sptr;
    size_t *dict_slen;
    void **bufs;               // page buffers and arenas: [0, nbufs) alive for this row group,
    size_t *bufsz;             // [nbufs, ntotal) kept from earlier row groups for reuse
    int nbufs, ntotal, capbufs;
    uint8_t *defs, *reps;
    uint32_t *idx;
    int64_t *tmp64;
    size_t lvl_cap, idx_cap, tmp_cap;
    pq_buf scratch, scratch2;  // widened lists
    pq_buf page;               // decompressed pages of fixed-width columns (values are copied out)
} pq_col;

struct parquet_cursor {
    parquet_reader *r;
    int ncols;
    pq_col *cols;
    int rg;                    // current row group (-1 before the first)
    int64_t row_in_rg, rg_rows, row;
};

// Decodes one column chunk (all its pages) of a row group into c; messages without context.
int pq_col_decode_chunk(parquet_reader *r, pq_col *c, const pq_chunk_meta *cm, int64_t rg_rows);
// Forgets the decoded row group (buffers are kept for reuse).
void pq_col_reset(pq_col *c);
