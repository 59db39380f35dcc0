// Parquet encodings (RLE/bit-packed hybrid, DELTA_BINARY_PACKED) and the page codecs.
#include <dlfcn.h>
#include <limits.h>
#include <lz4.h>
#include <snappy-c.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>
#include <zstd.h>

#include "base/err.h"
#include "formats/parquet_int.h"

int pq_bit_width(uint64_t v) {
    int w = 0;
    while (v) { w++; v >>= 1; }
    return w;
}

static int read_uvarint(const uint8_t **pp, const uint8_t *end, uint64_t *v) {
    uint64_t r = 0;
    const uint8_t *p = *pp;
    for (int shift = 0; shift < 64; shift += 7) {
        if (p >= end) return err_set("truncated varint");
        uint8_t b = *p++;
        r |= (uint64_t)(b & 0x7f) << shift;
        if (!(b & 0x80)) { *pp = p; *v = r; return 0; }
    }
    return err_set("varint too long");
}

// The hybrid decoder, instantiated for uint8 (levels) and uint32 (dictionary indices). Bit-packed
// groups read through a 64-bit buffer; widths above 32 are refused (no level or index needs them).
#define RLE_DECODE(NAME, T)                                                                        \
    int NAME(T *out, int64_t n, int bit_width, const uint8_t *p, const uint8_t *end) {            \
        if (bit_width < 0 || bit_width > 32) return err_set("bad RLE bit width %d", bit_width);  \
        if (bit_width == 0) { memset(out, 0, (size_t)n * sizeof(T)); return 0; }                   \
        int vbytes = (bit_width + 7) / 8;                                                          \
        uint64_t mask = bit_width == 64 ? ~0ull : ((1ull << bit_width) - 1);                       \
        int64_t i = 0;                                                                             \
        while (i < n) {                                                                            \
            uint64_t h = 0;                                                                            \
            if (read_uvarint(&p, end, &h)) return err_wrap("RLE run header");                      \
            if (h & 1) {                                                                           \
                int64_t groups = (int64_t)(h >> 1);                                                \
                if (groups > (int64_t)(end - p) / bit_width + 1)                                   \
                    return err_set("bit-packed run past the end of the data");                     \
                int64_t cnt = groups * 8;                                                          \
                size_t bytes = (size_t)groups * (size_t)bit_width;                                 \
                if (bytes > (size_t)(end - p)) bytes = (size_t)(end - p); /* last run may be short */ \
                const uint8_t *q = p, *qe = p + bytes;                                             \
                uint64_t buf = 0;                                                                  \
                int bits = 0;                                                                      \
                int64_t take = cnt < n - i ? cnt : n - i;                                          \
                for (int64_t k = 0; k < take; k++) {                                               \
                    while (bits < bit_width) {                                                     \
                        if (q >= qe) return err_set("bit-packed run past the end of the data");    \
                        buf |= (uint64_t)*q++ << bits;                                             \
                        bits += 8;                                                                 \
                    }                                                                              \
                    out[i + k] = (T)(buf & mask);                                                  \
                    buf >>= bit_width;                                                             \
                    bits -= bit_width;                                                             \
                }                                                                                  \
                i += take;                                                                         \
                p = qe;                                                                            \
            } else {                                                                               \
                int64_t cnt = (int64_t)(h >> 1);                                                   \
                if (cnt <= 0) return err_set("empty RLE run");                                     \
                if (end - p < vbytes) return err_set("RLE run past the end of the data");          \
                uint64_t v = 0;                                                                    \
                for (int b = 0; b < vbytes; b++) v |= (uint64_t)p[b] << (8 * b);                   \
                p += vbytes;                                                                       \
                if (v > mask) return err_set("RLE value wider than its bit width");               \
                int64_t take = cnt < n - i ? cnt : n - i;                                          \
                if (sizeof(T) == 1) memset(out + i, (int)v, (size_t)take);                         \
                else for (int64_t k = 0; k < take; k++) out[i + k] = (T)v;                         \
                i += take;                                                                         \
            }                                                                                      \
        }                                                                                          \
        return 0;                                                                                  \
    }
RLE_DECODE(pq_rle_decode8, uint8_t)
RLE_DECODE(pq_rle_decode32, uint32_t)

// ------------------------------------------------------------------ DELTA_BINARY_PACKED

typedef struct {
    uint64_t block, mini, count;
    int64_t first;
} delta_hdr;

static int delta_header(const uint8_t **p, const uint8_t *end, delta_hdr *h) {
    uint64_t z = 0;
    if (read_uvarint(p, end, &h->block) || read_uvarint(p, end, &h->mini) ||
        read_uvarint(p, end, &h->count) || read_uvarint(p, end, &z))
        return err_wrap("DELTA_BINARY_PACKED header");
    h->first = (int64_t)(z >> 1) ^ -(int64_t)(z & 1);
    if (h->block == 0 || h->block % 128 || h->mini == 0 || h->block % h->mini ||
        (h->block / h->mini) % 32 || h->block > (1u << 20))
        return err_set("bad DELTA_BINARY_PACKED block size %llu / %llu miniblocks",
                       (unsigned long long)h->block, (unsigned long long)h->mini);
    return 0;
}

int pq_delta_decode(int64_t *out, int64_t n, const uint8_t *p, const uint8_t *end, size_t *used) {
    const uint8_t *start = p;
    delta_hdr h = {0};   // gcc cannot see that a failed header returns before h is read
    if (delta_header(&p, end, &h)) return ERR_FAIL;
    if (n >= 0 && (uint64_t)n != h.count)
        return err_set("DELTA_BINARY_PACKED holds %llu values where %lld were expected",
                       (unsigned long long)h.count, (long long)n);
    n = (int64_t)h.count;
    if (n == 0) { *used = (size_t)(p - start); return 0; }
    uint64_t per_mini = h.block / h.mini;
    uint64_t last = (uint64_t)h.first;
    out[0] = h.first;
    int64_t i = 1;
    while (i < n) {
        uint64_t z = 0;
        if (read_uvarint(&p, end, &z)) return err_wrap("DELTA_BINARY_PACKED block");
        uint64_t min_delta = (z >> 1) ^ -(z & 1);
        if ((uint64_t)(end - p) < h.mini) return err_set("DELTA_BINARY_PACKED block past the end");
        const uint8_t *widths = p;
        p += h.mini;
        for (uint64_t m = 0; m < h.mini && i < n; m++) {
            int w = widths[m];
            if (w > 64) return err_set("DELTA_BINARY_PACKED bit width %d", w);
            size_t bytes = (size_t)(per_mini * (uint64_t)w / 8);
            if ((size_t)(end - p) < bytes) return err_set("DELTA_BINARY_PACKED miniblock past the end");
            const uint8_t *q = p;
            unsigned __int128 buf = 0;
            int bits = 0;
            uint64_t mask = w == 64 ? ~0ull : ((1ull << w) - 1);
            for (uint64_t k = 0; k < per_mini && i < n; k++) {
                uint64_t d = 0;
                if (w) {
                    while (bits < w) { buf |= (unsigned __int128)*q++ << bits; bits += 8; }
                    d = (uint64_t)buf & mask;
                    buf >>= w;
                    bits -= w;
                }
                last += min_delta + d;   // wraps modulo 2^64 as the format specifies
                out[i++] = (int64_t)last;
            }
            p += bytes;
        }
    }
    *used = (size_t)(p - start);
    return 0;
}

// ------------------------------------------------------------------ buffers and RLE encoder

int pq_buf_reserve(pq_buf *b, size_t extra) {
    if (b->len + extra <= b->cap) return 0;
    size_t cap = b->cap ? b->cap : 4096;
    while (cap < b->len + extra) cap *= 2;
    uint8_t *nb = realloc(b->buf, cap);
    if (!nb) return err_set("out of memory (%zu bytes)", cap);
    b->buf = nb;
    b->cap = cap;
    return 0;
}

int pq_buf_put(pq_buf *b, const void *s, size_t n) {
    if (pq_buf_reserve(b, n)) return ERR_FAIL;
    if (n) memcpy(b->buf + b->len, s, n);
    b->len += n;
    return 0;
}

void pq_buf_free(pq_buf *b) {
    free(b->buf);
    memset(b, 0, sizeof *b);
}

static void put_uvarint(pq_buf *b, uint64_t v) {
    while (v >= 0x80) { b->buf[b->len++] = (uint8_t)(v | 0x80); v >>= 7; }
    b->buf[b->len++] = (uint8_t)v;
}

// Runs of >= 8 equal values become RLE runs; everything else goes into bit-packed groups of 8
// (a bit-packed run holds up to 63 groups so its header stays one byte).
#define RLE_ENCODE(NAME, T)                                                                      \
    int NAME(pq_buf *out, const T *v, int64_t n, int bit_width) {                               \
        int vbytes = (bit_width + 7) / 8;                                                        \
        if (pq_buf_reserve(out, (size_t)(n * bit_width / 8) + (size_t)n / 4 + 64)) return ERR_FAIL; \
        int64_t i = 0;                                                                           \
        while (i < n) {                                                                          \
            int64_t j = i + 1;                                                                   \
            while (j < n && v[j] == v[i]) j++;                                                   \
            if (j - i >= 8 || j == n) {                                                          \
                if (pq_buf_reserve(out, 16)) return ERR_FAIL;                                    \
                put_uvarint(out, (uint64_t)(j - i) << 1);                                        \
                uint32_t x = (uint32_t)v[i];                                                     \
                for (int b = 0; b < vbytes; b++) out->buf[out->len++] = (uint8_t)(x >> (8 * b)); \
                i = j;                                                                           \
                continue;                                                                        \
            }                                                                                    \
            /* bit-pack groups of 8 until a long repeat starts at a group boundary */            \
            int64_t s = i, groups = 0;                                                           \
            while (i < n && groups < 63) {                                                       \
                int64_t r = i + 1;                                                               \
                while (r < n && r - i < 8 && v[r] == v[i]) r++;                                  \
                if (r - i >= 8 && groups > 0) break;                                             \
                i += 8;                                                                          \
                groups++;                                                                        \
            }                                                                                    \
            if (i > n) i = n;                                                                    \
            if (pq_buf_reserve(out, 16 + (size_t)groups * bit_width)) return ERR_FAIL;           \
            put_uvarint(out, (uint64_t)groups << 1 | 1);                                         \
            uint64_t buf = 0;                                                                    \
            int bits = 0;                                                                        \
            for (int64_t k = s; k < s + groups * 8; k++) {                                       \
                uint64_t x = k < n ? (uint64_t)v[k] : 0;                                         \
                buf |= x << bits;                                                                \
                bits += bit_width;                                                               \
                while (bits >= 8) { out->buf[out->len++] = (uint8_t)buf; buf >>= 8; bits -= 8; } \
            }                                                                                    \
        }                                                                                        \
        return 0;                                                                                \
    }
RLE_ENCODE(pq_rle_encode, uint32_t)
RLE_ENCODE(pq_rle_encode8, uint8_t)

// ------------------------------------------------------------------ codecs

static const char *codec_str(int c) {
    static const char *names[] = {"UNCOMPRESSED", "SNAPPY", "GZIP", "LZO", "BROTLI", "LZ4", "ZSTD", "LZ4_RAW"};
    return c >= 0 && c < 8 ? names[c] : "unknown";
}

// BROTLI is read through libbrotlidec loaded at run time, so the build needs no extra library;
// without it a BROTLI file gets a message saying what to install.
typedef int (*brotli_fn)(size_t, const uint8_t *, size_t *, uint8_t *);

static brotli_fn brotli_decoder(void) {
    static brotli_fn fn;
    static int tried;
    if (!tried) {
        void *h = dlopen("libbrotlidec.so.1", RTLD_NOW | RTLD_LOCAL);
        if (h) *(void **)&fn = dlsym(h, "BrotliDecoderDecompress");
        tried = 1;
    }
    return fn;
}

int pq_decompress(int codec, const uint8_t *src, size_t n, uint8_t *dst, size_t dst_len) {
    switch (codec) {
    case 4: {   // BROTLI
        brotli_fn fn = brotli_decoder();
        if (!fn) return err_set("BROTLI pages need libbrotlidec.so.1 (apt-get install libbrotli1), or rewrite the file with ZSTD");
        size_t got = dst_len;
        if (fn(n, src, &got, dst) != 1 || got != dst_len) return err_set("BROTLI decompression failed");
        return 0;
    }
    case PQ_CODEC_UNCOMPRESSED:
        if (n != dst_len) return err_set("uncompressed page of %zu bytes, header says %zu", n, dst_len);
        memcpy(dst, src, n);
        return 0;
    case PQ_CODEC_SNAPPY: {
        size_t len;
        if (snappy_uncompressed_length((const char *)src, n, &len) != SNAPPY_OK || len != dst_len)
            return err_set("SNAPPY decompression failed (bad length)");
        if (snappy_uncompress((const char *)src, n, (char *)dst, &len) != SNAPPY_OK)
            return err_set("SNAPPY decompression failed");
        return 0;
    }
    case PQ_CODEC_ZSTD: {
        // one context per thread: ZSTD_decompress would allocate (and fault in) a fresh one per page
        static _Thread_local ZSTD_DCtx *dctx;
        if (!dctx && !(dctx = ZSTD_createDCtx())) return err_set("ZSTD: out of memory");
        size_t r = ZSTD_decompressDCtx(dctx, dst, dst_len, src, n);
        if (ZSTD_isError(r)) return err_set("ZSTD decompression failed: %s", ZSTD_getErrorName(r));
        if (r != dst_len) return err_set("ZSTD page gave %zu bytes, header says %zu", r, dst_len);
        return 0;
    }
    case PQ_CODEC_GZIP: {
        z_stream zs;
        memset(&zs, 0, sizeof zs);
        if (inflateInit2(&zs, 15 + 32) != Z_OK) return err_set("GZIP: inflateInit failed");
        zs.next_in = (Bytef *)src;
        zs.avail_in = (uInt)n;
        zs.next_out = dst;
        zs.avail_out = (uInt)dst_len;
        int r = inflate(&zs, Z_FINISH);
        size_t got = zs.total_out;
        inflateEnd(&zs);
        if (r != Z_STREAM_END || got != dst_len)
            return err_set("GZIP decompression failed (zlib status %d, %zu of %zu bytes)", r, got, dst_len);
        return 0;
    }
    case 5: /* LZ4 (Hadoop framing or raw, as old writers did): try raw then the Hadoop frame */
    case PQ_CODEC_LZ4_RAW: {
        if (n > INT_MAX || dst_len > INT_MAX) return err_set("LZ4 page too large");
        int r = LZ4_decompress_safe((const char *)src, (char *)dst, (int)n, (int)dst_len);
        if (r == (int)dst_len) return 0;
        if (codec == 5 && n >= 8) {
            uint32_t ulen = (uint32_t)src[0] << 24 | src[1] << 16 | src[2] << 8 | src[3];
            uint32_t clen = (uint32_t)src[4] << 24 | src[5] << 16 | src[6] << 8 | src[7];
            if (ulen == dst_len && clen == n - 8 &&
                LZ4_decompress_safe((const char *)src + 8, (char *)dst, (int)clen, (int)ulen) == (int)ulen)
                return 0;
        }
        return err_set("LZ4 decompression failed");
    }
    default:
        return err_set("unsupported compression codec %s (%d): rewrite the file with ZSTD, SNAPPY, "
                       "GZIP or LZ4_RAW", codec_str(codec), codec);
    }
}

int pq_compress(int codec, int level, const uint8_t *src, size_t n, pq_buf *out) {
    switch (codec) {
    case PQ_CODEC_UNCOMPRESSED:
        return pq_buf_put(out, src, n);
    case PQ_CODEC_SNAPPY: {
        size_t cap = snappy_max_compressed_length(n);
        if (pq_buf_reserve(out, cap)) return ERR_FAIL;
        if (snappy_compress((const char *)src, n, (char *)out->buf + out->len, &cap) != SNAPPY_OK)
            return err_set("SNAPPY compression failed");
        out->len += cap;
        return 0;
    }
    case PQ_CODEC_ZSTD: {
        size_t cap = ZSTD_compressBound(n);
        if (pq_buf_reserve(out, cap)) return ERR_FAIL;
        static _Thread_local ZSTD_CCtx *cctx;
        if (!cctx && !(cctx = ZSTD_createCCtx())) return err_set("ZSTD: out of memory");
        size_t r = ZSTD_compressCCtx(cctx, out->buf + out->len, cap, src, n, level ? level : 1);
        if (ZSTD_isError(r)) return err_set("ZSTD compression failed: %s", ZSTD_getErrorName(r));
        out->len += r;
        return 0;
    }
    case PQ_CODEC_GZIP: {
        z_stream zs;
        memset(&zs, 0, sizeof zs);
        if (deflateInit2(&zs, level ? level : 6, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK)
            return err_set("GZIP: deflateInit failed");
        size_t cap = deflateBound(&zs, n) + 32;
        if (pq_buf_reserve(out, cap)) { deflateEnd(&zs); return ERR_FAIL; }
        zs.next_in = (Bytef *)src;
        zs.avail_in = (uInt)n;
        zs.next_out = out->buf + out->len;
        zs.avail_out = (uInt)cap;
        int r = deflate(&zs, Z_FINISH);
        out->len += zs.total_out;
        deflateEnd(&zs);
        if (r != Z_STREAM_END) return err_set("GZIP compression failed (%d)", r);
        return 0;
    }
    case PQ_CODEC_LZ4_RAW: {
        if (n > (size_t)LZ4_MAX_INPUT_SIZE) return err_set("LZ4 page too large");
        int cap = LZ4_compressBound((int)n);
        if (pq_buf_reserve(out, (size_t)cap)) return ERR_FAIL;
        int r = LZ4_compress_default((const char *)src, (char *)out->buf + out->len, (int)n, cap);
        if (r <= 0) return err_set("LZ4 compression failed");
        out->len += (size_t)r;
        return 0;
    }
    default:
        return err_set("cannot write codec %s", codec_str(codec));
    }
}
