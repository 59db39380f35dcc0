// Parquet reader: the file is mapped, the footer parsed once; a cursor decodes the projected
// column chunks of one row group at a time into flat arrays (values with null slots, row offsets)
// that the getters index, so memory stays bounded by one row group of the projected columns.
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/err.h"
#include "base/mem.h"
#include "formats/parquet_int.h"

// ---------------------------------------------------------------------------- open / close

static int reader_init(parquet_reader *r) {
    const uint8_t *d = r->data;
    size_t n = r->size;
    if (n < 12) return err_set("file %s: %zu bytes is too short for Parquet (truncated?)", r->path, n);
    if (memcmp(d, "PAR1", 4) || memcmp(d + n - 4, "PAR1", 4)) {
        if (!memcmp(d + n - 4, "PARE", 4)) return err_set("file %s: encrypted Parquet is not supported", r->path);
        return err_set("file %s: bad magic (not a Parquet file, or truncated)", r->path);
    }
    uint32_t flen = (uint32_t)d[n - 8] | (uint32_t)d[n - 7] << 8 | (uint32_t)d[n - 6] << 16 | (uint32_t)d[n - 5] << 24;
    if ((uint64_t)flen + 12 > n)
        return err_set("file %s: footer length %u runs past the start of the file (%zu bytes; truncated?)", r->path, flen, n);
    if (pq_meta_parse(&r->meta, d + n - 8 - flen, flen, (int64_t)(n - 8 - flen)))
        return err_wrap("file %s", r->path);
    return 0;
}

int parquet_reader_open_mem(parquet_reader **out, const void *data, size_t n, const char *name) {
    *out = NULL;
    parquet_reader *r = mem_calloc(1, sizeof *r);
    if (!r) return ERR_FAIL;
    r->path = mem_strdup(name ? name : "<memory>");
    r->data = data;
    r->size = n;
    if (!r->path || reader_init(r)) { parquet_reader_close(r); return ERR_FAIL; }
    *out = r;
    return 0;
}

int parquet_reader_open(parquet_reader **out, const char *path) {
    *out = NULL;
    int fd = open(path, O_RDONLY);
    if (fd < 0) return err_errno("file %s: cannot open", path);
    struct stat st;
    if (fstat(fd, &st)) { close(fd); return err_errno("file %s: stat", path); }
    if (S_ISDIR(st.st_mode)) { close(fd); return err_set("file %s: a directory, not a Parquet file", path); }
    parquet_reader *r = mem_calloc(1, sizeof *r);
    if (!r) { close(fd); return ERR_FAIL; }
    r->path = mem_strdup(path);
    r->size = (size_t)st.st_size;
    if (r->size > 0) {
        void *m = mmap(NULL, r->size, PROT_READ, MAP_PRIVATE, fd, 0);
        if (m == MAP_FAILED) { close(fd); parquet_reader_close(r); return err_errno("file %s: mmap", path); }
        r->data = m;
        r->mapped = 1;
    } else r->data = (const uint8_t *)"";
    close(fd);
    if (!r->path || reader_init(r)) { parquet_reader_close(r); return ERR_FAIL; }
    *out = r;
    return 0;
}

void parquet_reader_close(parquet_reader *r) {
    if (!r) return;
    if (r->mapped) munmap((void *)r->data, r->size);
    pq_meta_free(&r->meta);
    free(r->path);
    free(r);
}

int64_t parquet_reader_num_rows(const parquet_reader *r) { return r->meta.num_rows; }
int parquet_reader_num_row_groups(const parquet_reader *r) { return r->meta.nrgs; }
int parquet_reader_num_columns(const parquet_reader *r) { return r->meta.nleaves; }
const parquet_column_info *parquet_reader_column(const parquet_reader *r, int i) {
    return i >= 0 && i < r->meta.nleaves ? &r->meta.cols[i] : NULL;
}
int parquet_reader_find_column(const parquet_reader *r, const char *name) {
    for (int i = 0; i < r->meta.nleaves; i++)
        if (!strcmp(r->meta.names[i], name)) return i;
    return -1;
}
const char *parquet_reader_path(const parquet_reader *r) { return r->path; }
const char *parquet_reader_created_by(const parquet_reader *r) { return r->meta.created_by; }
const char *parquet_reader_column_codec(const parquet_reader *r, int rg, int col) {
    if (rg < 0 || rg >= r->meta.nrgs || col < 0 || col >= r->meta.nleaves) return "";
    return pq_codec_name((pq_codec)r->meta.rgs[rg].chunks[col].codec);
}

const char *parquet_reader_column_encodings(const parquet_reader *r, int rg, int col, char *buf, size_t cap) {
    static const char *names[] = {"PLAIN", "GROUP_VAR_INT", "PLAIN_DICTIONARY", "RLE", "BIT_PACKED", "DELTA_BINARY_PACKED",
                                  "DELTA_LENGTH_BYTE_ARRAY", "DELTA_BYTE_ARRAY", "RLE_DICTIONARY", "BYTE_STREAM_SPLIT"};
    if (cap) buf[0] = 0;
    if (rg < -1 || rg >= r->meta.nrgs || col < 0 || col >= r->meta.nleaves) return buf;
    uint32_t e = 0;   // rg -1: every row group
    for (int g = rg < 0 ? 0 : rg; g < (rg < 0 ? r->meta.nrgs : rg + 1); g++) e |= r->meta.rgs[g].chunks[col].encodings;
    size_t len = 0;
    for (int i = 0; i < 10 && len < cap; i++)
        if (e & (1u << i)) len += (size_t)snprintf(buf + len, cap - len, "%s%s", len ? "," : "", names[i]);
    return buf;
}

// ---------------------------------------------------------------------------- decoding helpers

// A buffer that lives until the next row group; reusing earlier ones saves the page faults of
// fresh large allocations.
static void *col_alloc(pq_col *c, size_t n) {
    if (n == 0) n = 1;
    for (int i = c->nbufs; i < c->ntotal; i++)
        if (c->bufsz[i] >= n) {
            void *b = c->bufs[i];
            size_t sz = c->bufsz[i];
            c->bufs[i] = c->bufs[c->nbufs];
            c->bufsz[i] = c->bufsz[c->nbufs];
            c->bufs[c->nbufs] = b;
            c->bufsz[c->nbufs++] = sz;
            return b;
        }
    if (c->ntotal == c->capbufs) {
        int cap = c->capbufs ? c->capbufs * 2 : 16;
        void **nb = realloc(c->bufs, (size_t)cap * sizeof *nb);
        if (nb) c->bufs = nb;
        size_t *ns = realloc(c->bufsz, (size_t)cap * sizeof *ns);
        if (ns) c->bufsz = ns;
        if (!nb || !ns) { err_set("out of memory"); return NULL; }
        c->capbufs = cap;
    }
    void *b = malloc(n);
    if (!b) { err_set("out of memory (%zu bytes)", n); return NULL; }
    // move the first spare to the end, put the new buffer at nbufs
    c->bufs[c->ntotal] = c->bufs[c->nbufs];
    c->bufsz[c->ntotal] = c->bufsz[c->nbufs];
    c->ntotal++;
    c->bufs[c->nbufs] = b;
    c->bufsz[c->nbufs++] = n;
    return b;
}

void pq_col_reset(pq_col *c) {
    c->nbufs = 0;
    c->nrows = c->nslots = 0;
    c->ndict = 0;
    c->any_null_slot = 0;
}

static int grow(void **p, int64_t *cap, int64_t need, size_t esize) {
    if (need <= *cap) return 0;
    int64_t nc = *cap ? *cap : 1024;
    while (nc < need) nc *= 2;
    void *np = realloc(*p, (size_t)nc * esize);
    if (!np) return err_set("out of memory (%lld values)", (long long)nc);
    *p = np;
    *cap = nc;
    return 0;
}

static int col_reserve(pq_col *c, int64_t rows, int64_t slots) {
    int64_t cr = c->cap_rows;
    if (grow((void **)&c->row_null, &cr, c->nrows + rows, 1)) return ERR_FAIL;
    if (c->max_rep) {
        int64_t cr2 = c->cap_rows;
        if (grow((void **)&c->row_off, &cr2, c->nrows + rows + 1, 8)) return ERR_FAIL;
    }
    c->cap_rows = cr;
    int64_t cs = c->cap_slots, cs2 = c->cap_slots;
    if (grow((void **)&c->slot_null, &cs, c->nslots + slots, 1)) return ERR_FAIL;
    if (c->esize) {
        if (grow((void **)&c->vals, &cs2, c->nslots + slots, c->esize)) return ERR_FAIL;
    } else {
        int64_t cs3 = c->cap_slots;
        if (grow((void **)&c->sptr, &cs2, c->nslots + slots, sizeof(char *))) return ERR_FAIL;
        if (grow((void **)&c->slen, &cs3, c->nslots + slots, sizeof(size_t))) return ERR_FAIL;
    }
    c->cap_slots = cs;
    return 0;
}

static int ensure(void **p, size_t *cap, size_t n, size_t esize) {
    if (n <= *cap) return 0;
    size_t nc = *cap ? *cap : 1024;
    while (nc < n) nc *= 2;
    void *np = realloc(*p, nc * esize);
    if (!np) return err_set("out of memory");
    *p = np;
    *cap = nc;
    return 0;
}

static uint32_t rd32(const uint8_t *p) { return (uint32_t)p[0] | p[1] << 8 | p[2] << 16 | (uint32_t)p[3] << 24; }

// PLAIN values: n of them into vals (fixed width) or sptr/slen (byte arrays) at slot position pos.
static int decode_plain(pq_col *c, uint8_t *vals, const char **sptr, size_t *slen, int64_t n,
                        const uint8_t *p, const uint8_t *end) {
    size_t avail = (size_t)(end - p);
    switch (c->ptype) {
    case PT_BOOLEAN:
        if ((size_t)(n + 7) / 8 > avail) return err_set("PLAIN booleans past the end of the page");
        for (int64_t i = 0; i < n; i++) vals[i] = (p[i >> 3] >> (i & 7)) & 1;
        return 0;
    case PT_BYTE_ARRAY:
        for (int64_t i = 0; i < n; i++) {
            if (end - p < 4) return err_set("PLAIN byte array %lld past the end of the page", (long long)i);
            uint32_t len = rd32(p);
            p += 4;
            if (len > (size_t)(end - p)) return err_set("PLAIN byte array %lld (%u bytes) past the end of the page", (long long)i, len);
            sptr[i] = (const char *)p;
            slen[i] = len;
            p += len;
        }
        return 0;
    case PT_FLBA: {
        size_t L = (size_t)c->type_length;
        if ((size_t)n > avail / L) return err_set("PLAIN fixed-length values past the end of the page");
        for (int64_t i = 0; i < n; i++) { sptr[i] = (const char *)p + i * L; slen[i] = L; }
        return 0;
    }
    default:
        if ((size_t)n > avail / c->esize) return err_set("PLAIN values past the end of the page (%lld values, %zu bytes)", (long long)n, avail);
        memcpy(vals, p, (size_t)n * c->esize);
        return 0;
    }
}

static int decode_delta_lba(pq_col *c, const char **sptr, size_t *slen, int64_t n, const uint8_t *p,
                            const uint8_t *end, const uint8_t **after) {
    if (ensure((void **)&c->tmp64, &c->tmp_cap, (size_t)n + 1, 8)) return ERR_FAIL;
    size_t used;
    if (pq_delta_decode(c->tmp64, n, p, end, &used)) return err_wrap("DELTA_LENGTH_BYTE_ARRAY lengths");
    p += used;
    for (int64_t i = 0; i < n; i++) {
        int64_t len = c->tmp64[i];
        if (len < 0 || len > end - p) return err_set("DELTA_LENGTH_BYTE_ARRAY value %lld past the end of the page", (long long)i);
        sptr[i] = (const char *)p;
        slen[i] = (size_t)len;
        p += len;
    }
    if (after) *after = p;
    return 0;
}

static int decode_delta_ba(pq_col *c, const char **sptr, size_t *slen, int64_t n, const uint8_t *p, const uint8_t *end) {
    int64_t *pre = malloc((size_t)(n + 1) * 8);
    if (!pre) return err_set("out of memory");
    size_t used;
    if (pq_delta_decode(pre, n, p, end, &used)) { free(pre); return err_wrap("DELTA_BYTE_ARRAY prefixes"); }
    p += used;
    if (decode_delta_lba(c, sptr, slen, n, p, end, NULL)) { free(pre); return ERR_FAIL; }
    size_t total = 0;
    for (int64_t i = 0; i < n; i++) {
        // a prefix never exceeds the previous value, so the sum below is bounded by the page
        size_t prev = i ? (size_t)pre[i - 1] + slen[i - 1] : 0;
        if (pre[i] < 0 || (size_t)pre[i] > prev) {
            long long bad = (long long)pre[i];
            free(pre);
            return err_set("DELTA_BYTE_ARRAY prefix %lld longer than the previous value", bad);
        }
        total += (size_t)pre[i] + slen[i];
        if (total > ((size_t)1 << 31)) { free(pre); return err_set("DELTA_BYTE_ARRAY page expands past 2 GiB"); }
    }
    char *arena = col_alloc(c, total);
    if (!arena) { free(pre); return ERR_FAIL; }
    char *q = arena;
    size_t prev_len = 0;
    const char *prev = "";
    for (int64_t i = 0; i < n; i++) {
        size_t pl = (size_t)pre[i];
        if (pl > prev_len) { free(pre); return err_set("DELTA_BYTE_ARRAY prefix %zu longer than the previous value (%zu)", pl, prev_len); }
        memcpy(q, prev, pl);
        memcpy(q + pl, sptr[i], slen[i]);
        sptr[i] = q;
        slen[i] += pl;
        prev = q;
        prev_len = slen[i];
        q += slen[i];
    }
    free(pre);
    return 0;
}

// Values of one page: n non-null values at slot position `pos`.
static int decode_values(pq_col *c, int enc, int64_t pos, int64_t n, const uint8_t *p, const uint8_t *end) {
    if (n == 0) return 0;
    uint8_t *vals = c->esize ? c->vals + pos * c->esize : NULL;
    const char **sptr = c->esize ? NULL : c->sptr + pos;
    size_t *slen = c->esize ? NULL : c->slen + pos;
    switch (enc) {
    case ENC_PLAIN:
        return decode_plain(c, vals, sptr, slen, n, p, end);
    case ENC_PLAIN_DICT:
    case ENC_RLE_DICT: {
        if (c->ndict == 0 && n > 0) return err_set("dictionary-encoded page without a dictionary page");
        if (p >= end) return err_set("dictionary page data is empty");
        int bw = *p++;
        if (ensure((void **)&c->idx, &c->idx_cap, (size_t)n, 4)) return ERR_FAIL;
        if (pq_rle_decode32(c->idx, n, bw, p, end)) return err_wrap("dictionary indices");
        int64_t nd = c->ndict;
        for (int64_t i = 0; i < n; i++)
            if (c->idx[i] >= (uint64_t)nd) return err_set("dictionary index %u out of range (%lld entries)", c->idx[i], (long long)nd);
        if (c->esize == 8) for (int64_t i = 0; i < n; i++) ((uint64_t *)vals)[i] = ((uint64_t *)c->dict_vals)[c->idx[i]];
        else if (c->esize == 4) for (int64_t i = 0; i < n; i++) ((uint32_t *)vals)[i] = ((uint32_t *)c->dict_vals)[c->idx[i]];
        else if (c->esize) for (int64_t i = 0; i < n; i++) memcpy(vals + i * c->esize, c->dict_vals + c->idx[i] * c->esize, c->esize);
        else for (int64_t i = 0; i < n; i++) { sptr[i] = c->dict_sptr[c->idx[i]]; slen[i] = c->dict_slen[c->idx[i]]; }
        return 0;
    }
    case ENC_RLE:
        if (c->ptype != PT_BOOLEAN) return err_set("RLE values are only defined for BOOLEAN");
        if (end - p < 4) return err_set("RLE booleans: missing length");
        {
            uint32_t len = rd32(p);
            p += 4;
            if (len > (size_t)(end - p)) return err_set("RLE booleans past the end of the page");
            return pq_rle_decode8(vals, n, 1, p, p + len);
        }
    case ENC_DELTA_BP: {
        if (c->ptype != PT_INT32 && c->ptype != PT_INT64) return err_set("DELTA_BINARY_PACKED on a non-integer column");
        size_t used;
        if (c->ptype == PT_INT64) return pq_delta_decode((int64_t *)vals, n, p, end, &used);
        if (ensure((void **)&c->tmp64, &c->tmp_cap, (size_t)n, 8)) return ERR_FAIL;
        if (pq_delta_decode(c->tmp64, n, p, end, &used)) return ERR_FAIL;
        for (int64_t i = 0; i < n; i++) ((int32_t *)vals)[i] = (int32_t)c->tmp64[i];
        return 0;
    }
    case ENC_DELTA_LBA:
        if (c->esize) return err_set("DELTA_LENGTH_BYTE_ARRAY on a non-byte-array column");
        return decode_delta_lba(c, sptr, slen, n, p, end, NULL);
    case ENC_DELTA_BA:
        if (c->esize) return err_set("DELTA_BYTE_ARRAY on a non-byte-array column");
        return decode_delta_ba(c, sptr, slen, n, p, end);
    case ENC_BSS: {
        size_t k = c->esize ? c->esize : (size_t)c->type_length;
        if (c->ptype == PT_BOOLEAN || c->ptype == PT_BYTE_ARRAY) return err_set("BYTE_STREAM_SPLIT on a BOOLEAN/BYTE_ARRAY column");
        if ((size_t)(end - p) < (size_t)n * k) return err_set("BYTE_STREAM_SPLIT values past the end of the page");
        if (c->esize) {
            for (size_t b = 0; b < k; b++)
                for (int64_t i = 0; i < n; i++) vals[i * k + b] = p[b * (size_t)n + i];
        } else {
            char *arena = col_alloc(c, (size_t)n * k);
            if (!arena) return ERR_FAIL;
            for (size_t b = 0; b < k; b++)
                for (int64_t i = 0; i < n; i++) arena[i * k + b] = (char)p[b * (size_t)n + i];
            for (int64_t i = 0; i < n; i++) { sptr[i] = arena + i * k; slen[i] = k; }
        }
        return 0;
    }
    default:
        return err_set("unsupported value encoding %d", enc);
    }
}

// Moves the n decoded values at [pos, pos+n) to their slots, leaving zeroed null slots.
static void spread_nulls(pq_col *c, int64_t pos, int64_t nslots_page, int64_t n) {
    int64_t src = pos + n - 1;
    for (int64_t s = pos + nslots_page - 1; s >= pos; s--) {
        if (c->slot_null[s]) {
            if (c->esize) memset(c->vals + s * c->esize, 0, c->esize);
            else { c->sptr[s] = ""; c->slen[s] = 0; }
        } else {
            if (c->esize) memmove(c->vals + s * c->esize, c->vals + src * c->esize, c->esize);
            else { c->sptr[s] = c->sptr[src]; c->slen[s] = c->slen[src]; }
            src--;
        }
    }
}

static int decode_dict_page(pq_col *c, const pq_page_header *h, const uint8_t *p, const uint8_t *end) {
    if (h->encoding != ENC_PLAIN && h->encoding != ENC_PLAIN_DICT) return err_set("dictionary page with encoding %d", h->encoding);
    int64_t n = h->num_values;
    if (n > MAX_PAGE_VALUES) return err_set("dictionary page with %lld values", (long long)n);
    if (c->esize) {
        free(c->dict_vals);
        c->dict_vals = malloc((size_t)(n ? n : 1) * c->esize);
        if (!c->dict_vals) return err_set("out of memory");
    } else {
        free(c->dict_sptr);
        free(c->dict_slen);
        c->dict_sptr = malloc((size_t)(n ? n : 1) * sizeof(char *));
        c->dict_slen = malloc((size_t)(n ? n : 1) * sizeof(size_t));
        if (!c->dict_sptr || !c->dict_slen) return err_set("out of memory");
    }
    c->ndict = 0;
    if (decode_plain(c, c->dict_vals, c->dict_sptr, c->dict_slen, n, p, end)) return err_wrap("dictionary page");
    c->ndict = n;
    return 0;
}

static int decode_data_page(pq_col *c, const pq_page_header *h, const uint8_t *p, const uint8_t *end,
                            const uint8_t *rep_p, const uint8_t *rep_e, const uint8_t *def_p, const uint8_t *def_e) {
    int64_t N = h->num_values;
    if (N > MAX_PAGE_VALUES) return err_set("data page with %lld values", (long long)N);
    if (N == 0) return 0;
    if (ensure((void **)&c->defs, &c->lvl_cap, (size_t)N, 1)) return ERR_FAIL;
    if (c->max_rep) {
        uint8_t *nr = realloc(c->reps, c->lvl_cap);
        if (!nr) return err_set("out of memory");
        c->reps = nr;
    }
    int v1 = h->type == PAGE_DATA;
    if (v1) {   // levels are inside the (decompressed) page, each with a 4-byte length
        if (c->max_rep) {
            if (h->rep_encoding != ENC_RLE) return err_set("repetition levels with encoding %d (only RLE is supported)", h->rep_encoding);
            if (end - p < 4) return err_set("repetition levels: missing length");
            uint32_t len = rd32(p); p += 4;
            if (len > (size_t)(end - p)) return err_set("repetition levels past the end of the page");
            rep_p = p; rep_e = p + len; p += len;
        }
        if (c->max_def) {
            if (h->def_encoding != ENC_RLE) return err_set("definition levels with encoding %d (only RLE is supported)", h->def_encoding);
            if (end - p < 4) return err_set("definition levels: missing length");
            uint32_t len = rd32(p); p += 4;
            if (len > (size_t)(end - p)) return err_set("definition levels past the end of the page");
            def_p = p; def_e = p + len; p += len;
        }
    }
    if (c->max_rep && pq_rle_decode8(c->reps, N, pq_bit_width((uint64_t)c->max_rep), rep_p, rep_e)) return err_wrap("repetition levels");
    if (c->max_def && pq_rle_decode8(c->defs, N, pq_bit_width((uint64_t)c->max_def), def_p, def_e)) return err_wrap("definition levels");
    if (col_reserve(c, N, N)) return ERR_FAIL;
    int64_t pos = c->nslots, nvals = 0;
    int max_def = c->max_def;
    if (!c->max_rep) {
        if (!max_def) {
            memset(c->row_null + c->nrows, 0, (size_t)N);
            memset(c->slot_null + c->nslots, 0, (size_t)N);
            nvals = N;
        } else {
            for (int64_t i = 0; i < N; i++) {
                if (c->defs[i] > max_def) return err_set("definition level %d above the maximum %d", c->defs[i], max_def);
                uint8_t nul = c->defs[i] < max_def;
                c->row_null[c->nrows + i] = nul;
                c->slot_null[c->nslots + i] = nul;
                nvals += !nul;
            }
        }
        c->nrows += N;
        c->nslots += N;
    } else {
        int rd = c->rep_def;
        int64_t r = c->nrows, s = c->nslots;
        for (int64_t i = 0; i < N; i++) {
            int d = c->defs[i], rp = c->reps[i];
            if (d > max_def || rp > c->max_rep) return err_set("level (def %d, rep %d) above the maximum", d, rp);
            if (rp == 0) {
                c->row_off[r] = s;
                c->row_null[r] = d < rd - 1;
                r++;
                if (d < rd) continue;
            } else if (r == 0 || d < rd) return err_set("repetition level %d without a list entry (def %d)", rp, d);
            uint8_t nul = d < max_def;
            c->slot_null[s++] = nul;
            nvals += !nul;
        }
        c->row_off[r] = s;
        c->nrows = r;
        c->nslots = s;
    }
    int64_t nslots_page = c->nslots - pos;
    if (decode_values(c, h->encoding, pos, nvals, p, end)) return ERR_FAIL;
    if (nvals != nslots_page) {
        c->any_null_slot = 1;
        spread_nulls(c, pos, nslots_page, nvals);
    }
    return 0;
}

int pq_col_decode_chunk(parquet_reader *r, pq_col *c, const pq_chunk_meta *cm, int64_t rg_rows) {
    pq_col_reset(c);
    int64_t start = cm->dict_page_offset > 0 && cm->dict_page_offset < cm->data_page_offset ? cm->dict_page_offset : cm->data_page_offset;
    const uint8_t *p = r->data + start, *end = p + cm->total_compressed;
    while (p < end) {
        pq_page_header h;
        size_t hl;
        if (pq_page_header_parse(&h, p, (size_t)(end - p), &hl)) return ERR_FAIL;
        p += hl;
        if ((size_t)h.compressed > (size_t)(end - p)) return err_set("page of %d bytes runs past the column chunk", h.compressed);
        const uint8_t *body = p, *body_end = p + h.compressed;
        p = body_end;
        if (h.type != PAGE_DATA && h.type != PAGE_DICT && h.type != PAGE_DATA_V2) continue;   // index pages
        const uint8_t *rep_p = NULL, *rep_e = NULL, *def_p = NULL, *def_e = NULL;
        size_t skip = 0;
        if (h.type == PAGE_DATA_V2) {
            if ((int64_t)h.rep_len + h.def_len > h.compressed || (int64_t)h.rep_len + h.def_len > h.uncompressed)
                return err_set("page v2 level lengths exceed the page");
            rep_p = body; rep_e = body + h.rep_len;
            def_p = rep_e; def_e = def_p + h.def_len;
            skip = (size_t)h.rep_len + (size_t)h.def_len;
        }
        const uint8_t *v = body + skip, *ve = body_end;
        size_t ulen = (size_t)h.uncompressed - skip;
        int compressed = cm->codec != PQ_CODEC_UNCOMPRESSED && (h.type != PAGE_DATA_V2 || h.is_compressed);
        if (compressed) {
            if (ulen > ((size_t)1 << 31)) return err_set("page of %zu bytes uncompressed", ulen);
            uint8_t *buf;
            if (c->esize) {   // values are copied out of the page: one buffer serves every page
                c->page.len = 0;
                if (pq_buf_reserve(&c->page, ulen + 1)) return ERR_FAIL;
                buf = c->page.buf;
            } else {          // strings point into the page: it lives as long as the row group
                buf = col_alloc(c, ulen);
                if (!buf) return ERR_FAIL;
            }
            if (pq_decompress(cm->codec, v, (size_t)(ve - v), buf, ulen)) return ERR_FAIL;
            v = buf;
            ve = buf + ulen;
        }
        if (h.type == PAGE_DICT) {
            if (decode_dict_page(c, &h, v, ve)) return ERR_FAIL;
        } else if (decode_data_page(c, &h, v, ve, rep_p, rep_e, def_p, def_e)) {
            return ERR_FAIL;
        }
    }
    if (c->nrows != rg_rows)
        return err_set("pages hold %lld rows, the row group has %lld (corrupt or truncated chunk)", (long long)c->nrows, (long long)rg_rows);
    return 0;
}
