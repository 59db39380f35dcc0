// Small shared pieces of the tokenizer: hashing, the byte-level alphabet, UTF-8 checks, a string map.
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "base/mem.h"
#include "text/tok_internal.h"

uint64_t tok_hash(const void *p, size_t n) {
    const unsigned char *s = p;
    uint64_t h = 1469598103934665603ull;
    size_t i = 0;
    // 8 bytes at a time: the words we hash are short, but long ones should not cost a byte loop each
    for (; i + 8 <= n; i += 8) {
        uint64_t w;
        memcpy(&w, s + i, 8);
        h = (h ^ w) * 0x9E3779B97F4A7C15ull;
        h ^= h >> 29;
    }
    for (; i < n; i++) h = (h ^ s[i]) * 1099511628211ull;
    h ^= h >> 32;
    h *= 0xD6E8FEB86659FD93ull;
    h ^= h >> 32;
    return h;
}

uint32_t tok_byte_to_cp[256];
int16_t tok_cp_to_byte[512];
static pthread_once_t bl_once = PTHREAD_ONCE_INIT;

static void bl_build(void) {
    // GPT-2's bytes_to_unicode: printable Latin-1 bytes map to themselves, the rest to 256, 257, ...
    for (int i = 0; i < 512; i++) tok_cp_to_byte[i] = -1;
    int n = 0;
    for (int b = 0; b < 256; b++) {
        int keep = (b >= 33 && b <= 126) || (b >= 161 && b <= 172) || (b >= 174 && b <= 255);
        uint32_t cp = keep ? (uint32_t)b : (uint32_t)(256 + n++);
        tok_byte_to_cp[b] = cp;
        tok_cp_to_byte[cp] = (int16_t)b;
    }
}

void tok_bytelevel_init(void) { pthread_once(&bl_once, bl_build); }

int tok_bytelevel_char(uint8_t b, char *out) {
    uint32_t cp = tok_byte_to_cp[b];
    if (cp < 0x80) {
        out[0] = (char)cp;
        return 1;
    }
    out[0] = (char)(0xC0 | (cp >> 6));
    out[1] = (char)(0x80 | (cp & 0x3F));
    return 2;
}

int tok_utf8_len(const unsigned char *s, size_t n, uint32_t *cp) {
    unsigned c = s[0];
    if (c < 0x80) {
        *cp = c;
        return 1;
    }
    int len;
    uint32_t v, min;
    if ((c & 0xE0) == 0xC0) len = 2, v = c & 0x1F, min = 0x80;
    else if ((c & 0xF0) == 0xE0) len = 3, v = c & 0x0F, min = 0x800;
    else if ((c & 0xF8) == 0xF0) len = 4, v = c & 0x07, min = 0x10000;
    else return 0;
    if ((size_t)len > n) return 0;
    for (int i = 1; i < len; i++) {
        if ((s[i] & 0xC0) != 0x80) return 0;
        v = (v << 6) | (s[i] & 0x3F);
    }
    if (v < min || v > 0x10FFFF || (v >= 0xD800 && v <= 0xDFFF)) return 0;
    *cp = v;
    return len;
}

long tok_bytelevel_decode(const char *s, size_t n, char *out) {
    size_t i = 0, o = 0;
    while (i < n) {
        uint32_t cp;
        int l = tok_utf8_len((const unsigned char *)s + i, n - i, &cp);
        if (!l || cp >= 512 || tok_cp_to_byte[cp] < 0) return -1;
        out[o++] = (char)tok_cp_to_byte[cp];
        i += (size_t)l;
    }
    return (long)o;
}

static int strmap_resize(strmap *m, size_t ncap) {
    strmap_slot *ns = mem_calloc(ncap, sizeof *ns);
    if (!ns) return ERR_FAIL;
    for (size_t i = 0; i < m->cap; i++) {
        strmap_slot *s = &m->slots[i];
        if (!s->k) continue;
        size_t j = s->h & (ncap - 1);
        while (ns[j].k) j = (j + 1) & (ncap - 1);
        ns[j] = *s;
    }
    free(m->slots);
    m->slots = ns;
    m->cap = ncap;
    return 0;
}

int strmap_reserve(strmap *m, size_t n) {
    size_t cap = m->cap ? m->cap : 64;
    while (cap < n * 2) cap *= 2;
    return cap > m->cap ? strmap_resize(m, cap) : 0;
}

int strmap_put(strmap *m, const char *k, size_t klen, int32_t val) {
    if ((m->n + 1) * 2 > m->cap && strmap_resize(m, m->cap ? m->cap * 2 : 64)) return ERR_FAIL;
    uint64_t h = tok_hash(k, klen);
    size_t j = h & (m->cap - 1);
    while (m->slots[j].k) {
        strmap_slot *s = &m->slots[j];
        if (s->h == h && s->klen == klen && memcmp(s->k, k, klen) == 0) {
            s->val = val;
            return 0;
        }
        j = (j + 1) & (m->cap - 1);
    }
    // an empty key still needs a non-NULL pointer to mark the slot used
    m->slots[j] = (strmap_slot){k ? k : "", (uint32_t)klen, val, h};
    m->n++;
    return 0;
}

int32_t strmap_get(const strmap *m, const char *k, size_t klen) {
    if (!m->cap) return -1;
    uint64_t h = tok_hash(k, klen);
    size_t j = h & (m->cap - 1);
    while (m->slots[j].k) {
        const strmap_slot *s = &m->slots[j];
        if (s->h == h && s->klen == klen && memcmp(s->k, k, klen) == 0) return s->val;
        j = (j + 1) & (m->cap - 1);
    }
    return -1;
}

void strmap_free(strmap *m) {
    free(m->slots);
    memset(m, 0, sizeof *m);
}
