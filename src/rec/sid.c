#include "rec/sid.h"

#include <cblas.h>
#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "base/mem.h"

// ---------------- token ids ----------------

int64_t sid_token_id(const sid_vocab *v, int layer, int code) { return v->base + (int64_t)layer * v->k + code; }
int64_t sid_begin_id(const sid_vocab *v) { return v->base + (int64_t)v->layers * v->k; }
int64_t sid_end_id(const sid_vocab *v) { return sid_begin_id(v) + 1; }

int sid_token_decode(const sid_vocab *v, int64_t id, int *layer, int *code) {
    int64_t off = id - v->base;
    if (off < 0 || off >= (int64_t)v->layers * v->k) return -1;
    *layer = (int)(off / v->k);
    *code = (int)(off % v->k);
    return 0;
}

int sid_token_name(char *buf, size_t cap, int layer, int code) {
    int n = snprintf(buf, cap, "<s_%c_%d>", 'a' + layer, code);
    return n < 0 || (size_t)n >= cap ? -1 : n;
}

void sid_codes_to_tokens(int64_t *ids, const int32_t *codes, int64_t n, const sid_vocab *v) {
    int L = v->layers;
    for (int64_t i = 0; i < n; i++) {
        int64_t *o = ids + i * (L + 2);
        o[0] = sid_begin_id(v);
        for (int l = 0; l < L; l++) o[1 + l] = sid_token_id(v, l, codes[i * L + l]);
        o[L + 1] = sid_end_id(v);
    }
}

int sid_tokens_to_codes(int32_t *codes, int64_t max_items, int64_t *n_items, const int64_t *ids, int64_t n_ids,
                        const sid_vocab *v) {
    int L = v->layers;
    int64_t m = 0, p = 0;
    *n_items = 0;
    while (p < n_ids) {
        if (ids[p] != sid_begin_id(v))
            return err_set("token %lld: expected <|sid_begin|> (%lld), got %lld", (long long)p,
                           (long long)sid_begin_id(v), (long long)ids[p]);
        if (p + L + 1 >= n_ids) return err_set("token %lld: SID truncated (needs %d codes and <|sid_end|>)", (long long)p, L);
        if (m >= max_items) return err_set("more than %lld SIDs in the token sequence", (long long)max_items);
        for (int l = 0; l < L; l++) {
            int layer, code;
            if (sid_token_decode(v, ids[p + 1 + l], &layer, &code) || layer != l)
                return err_set("token %lld: expected a layer-%c code token, got id %lld", (long long)(p + 1 + l),
                               'a' + l, (long long)ids[p + 1 + l]);
            codes[m * L + l] = code;
        }
        if (ids[p + L + 1] != sid_end_id(v))
            return err_set("token %lld: expected <|sid_end|> (%lld), got %lld", (long long)(p + L + 1),
                           (long long)sid_end_id(v), (long long)ids[p + L + 1]);
        p += L + 2;
        m++;
    }
    *n_items = m;
    return 0;
}

// ---------------- strings ----------------

static const char BEGIN[] = "<|sid_begin|>", END[] = "<|sid_end|>";

int sid_format(char *buf, size_t cap, const int32_t *codes, int layers) {
    size_t len = 0;
    int n = snprintf(buf, cap, "%s", BEGIN);
    if (n < 0 || (size_t)n >= cap) return err_set("sid_format: buffer of %zu bytes too small", cap);
    len = (size_t)n;
    for (int l = 0; l < layers; l++) {
        n = sid_token_name(buf + len, cap - len, l, codes[l]);
        if (n < 0) return err_set("sid_format: buffer of %zu bytes too small", cap);
        len += (size_t)n;
    }
    n = snprintf(buf + len, cap - len, "%s", END);
    if (n < 0 || (size_t)n >= cap - len) return err_set("sid_format: buffer of %zu bytes too small", cap);
    return (int)(len + (size_t)n);
}

int sid_parse(int32_t *codes, int64_t max_items, int64_t *n_items, const char *s, int layers, int k) {
    const char *p = s;
    int64_t m = 0;
    *n_items = 0;
    for (;;) {
        while (isspace((unsigned char)*p)) p++;
        if (!*p) break;
        if (strncmp(p, BEGIN, sizeof BEGIN - 1))
            return err_set("SID string, byte %td: expected %s", p - s, BEGIN);
        p += sizeof BEGIN - 1;
        if (m >= max_items) return err_set("SID string: more than %lld SIDs", (long long)max_items);
        for (int l = 0; l < layers; l++) {
            if (p[0] != '<' || p[1] != 's' || p[2] != '_' || p[3] != 'a' + l || p[4] != '_' || !isdigit((unsigned char)p[5]))
                return err_set("SID string, byte %td: expected <s_%c_N>", p - s, 'a' + l);
            p += 5;
            long long v = 0;
            while (isdigit((unsigned char)*p)) {
                v = v * 10 + (*p - '0');
                if (v > INT32_MAX) return err_set("SID string, byte %td: code too large", p - s);
                p++;
            }
            if (*p != '>') return err_set("SID string, byte %td: expected '>' after the code", p - s);
            p++;
            if (k > 0 && v >= k) return err_set("SID string, byte %td: code %lld out of range (codebook %d)", p - s, v, k);
            codes[m * layers + l] = (int32_t)v;
        }
        if (strncmp(p, END, sizeof END - 1))
            return err_set("SID string, byte %td: expected %s after %d codes", p - s, END, layers);
        p += sizeof END - 1;
        m++;
    }
    *n_items = m;
    return 0;
}

// Reads "<s_X_" digits ">" at *p for layer letter X; returns the code (< SID_PACK_K) or -1,
// advancing *p past it on success.
static int read_packed_code(const char **p, char letter) {
    const char *s = *p;
    if (strncmp(s, "<s_", 3) || s[3] != letter || s[4] != '_') return -1;
    s += 5;
    int v = 0, nd = 0;
    while (*s >= '0' && *s <= '9' && nd < 6) v = v * 10 + (*s++ - '0'), nd++;
    if (!nd || *s != '>' || v >= SID_PACK_K) return -1;
    *p = s + 1;
    return v;
}

int sid_scan_packed(int64_t *keys, int max, const char *text) {
    int n = 0;
    for (const char *p = strstr(text, "<s_a_"); p && n < max; p = strstr(p, "<s_a_")) {
        const char *q = p;
        int c0 = read_packed_code(&q, 'a'), c1 = c0 >= 0 ? read_packed_code(&q, 'b') : -1;
        int c2 = c1 >= 0 ? read_packed_code(&q, 'c') : -1;
        if (c2 >= 0) keys[n++] = sid_pack(c0, c1, c2);
        p = q > p ? q : p + 1;
    }
    return n;
}

int sid_format_packed(char *buf, size_t cap, int64_t key) {
    int32_t c[SID_PACK_LAYERS];
    sid_key_split(c, (uint64_t)key, SID_PACK_LAYERS, SID_PACK_K);
    return sid_format(buf, cap, c, SID_PACK_LAYERS);
}

// ---------------- keys ----------------

int sid_key_check(int layers, int k) {
    double bits = layers * log2((double)k);
    if (layers < 1 || layers > SID_MAX_LAYERS || k < 1 || bits > 63)
        return err_set("SID keys: %d layers of %d codes do not fit a 63-bit key", layers, k);
    return 0;
}

uint64_t sid_key(const int32_t *codes, int layers, int k) {
    uint64_t key = 0;
    for (int l = 0; l < layers; l++) key = key * (uint64_t)k + (uint64_t)codes[l];
    return key;
}

void sid_key_split(int32_t *codes, uint64_t key, int layers, int k) {
    for (int l = layers - 1; l >= 0; l--) {
        codes[l] = (int32_t)(key % (uint64_t)k);
        key /= (uint64_t)k;
    }
}

// ---------------- collisions ----------------

typedef struct {
    uint64_t key;
    int64_t idx;
} keyidx;

static int cmp_keyidx(const void *a, const void *b) {
    const keyidx *x = a, *y = b;
    if (x->key != y->key) return x->key < y->key ? -1 : 1;
    return x->idx < y->idx ? -1 : x->idx > y->idx;
}

// items sorted by (key, index): groups are runs of equal keys
static keyidx *sorted_keys(const int32_t *codes, int64_t n, int layers, int k) {
    if (sid_key_check(layers, k)) return NULL;
    keyidx *ki = mem_alloc(sizeof(keyidx) * (n > 0 ? n : 1));
    if (!ki) return NULL;
    for (int64_t i = 0; i < n; i++) {
        ki[i].key = sid_key(codes + i * layers, layers, k);
        ki[i].idx = i;
    }
    qsort(ki, (size_t)n, sizeof *ki, cmp_keyidx);
    return ki;
}

int sid_collisions(sid_collision_stats *st, const int32_t *codes, int64_t n, int layers, int k) {
    memset(st, 0, sizeof *st);
    st->n = n;
    keyidx *ki = sorted_keys(codes, n, layers, k);
    if (!ki) return ERR_FAIL;
    for (int64_t i = 0; i < n;) {
        int64_t j = i;
        while (j < n && ki[j].key == ki[i].key) j++;
        st->unique++;
        if (j - i > 1) {
            st->groups++;
            st->colliding_items += j - i;
        }
        if (j - i > st->largest_group) st->largest_group = j - i;
        i = j;
    }
    free(ki);
    st->collision_rate = n ? 1.0 - (double)st->unique / (double)n : 0;
    unsigned char *seen = mem_alloc((size_t)k);
    if (!seen) return ERR_FAIL;
    for (int l = 0; l < layers; l++) {
        memset(seen, 0, (size_t)k);
        for (int64_t i = 0; i < n; i++) {
            int32_t c = codes[i * layers + l];
            if (c >= 0 && c < k && !seen[c]) {
                seen[c] = 1;
                st->used[l]++;
            }
        }
    }
    free(seen);
    return 0;
}

int sid_dedup_parse(const char *s, sid_dedup *out) {
    if (!strcmp(s, "none")) *out = SID_DEDUP_NONE;
    else if (!strcmp(s, "digit")) *out = SID_DEDUP_DIGIT;
    else if (!strcmp(s, "balance")) *out = SID_DEDUP_BALANCE;
    else return err_usage("unknown dedup mode '%s': use none, digit or balance", s);
    return 0;
}

const char *sid_dedup_name(sid_dedup m) {
    return m == SID_DEDUP_DIGIT ? "digit" : m == SID_DEDUP_BALANCE ? "balance" : "none";
}

int sid_dedup_digit(int32_t *out, const int32_t *codes, int64_t n, int layers, int k) {
    if (sid_key_check(layers + 1, k)) return ERR_FAIL;
    keyidx *ki = sorted_keys(codes, n, layers, k);
    if (!ki) return ERR_FAIL;
    for (int64_t i = 0; i < n;) {
        int64_t j = i;
        while (j < n && ki[j].key == ki[i].key) j++;
        if (j - i > k) {
            int32_t c[SID_MAX_LAYERS];
            sid_key_split(c, ki[i].key, layers, k);
            free(ki);
            return err_set("dedup digit: %lld items share one SID (first code %d), more than the %d codes of "
                           "the extra digit: use --dedup balance or a larger codebook", (long long)(j - i), c[0], k);
        }
        for (int64_t t = i; t < j; t++) {
            int64_t it = ki[t].idx;
            memcpy(out + it * (layers + 1), codes + it * layers, sizeof(int32_t) * layers);
            out[it * (layers + 1) + layers] = (int32_t)(t - i);
        }
        i = j;
    }
    free(ki);
    return 0;
}

int sid_colliders(int64_t **out, int64_t *count, const int32_t *codes, int64_t n, int layers, int k) {
    *out = NULL;
    *count = 0;
    keyidx *ki = sorted_keys(codes, n, layers, k);
    if (!ki) return ERR_FAIL;
    unsigned char *flag = mem_calloc((size_t)(n > 0 ? n : 1), 1);
    if (!flag) {
        free(ki);
        return ERR_FAIL;
    }
    int64_t m = 0;
    for (int64_t i = 0; i < n;) {
        int64_t j = i;
        while (j < n && ki[j].key == ki[i].key) j++;
        if (j - i > 1)
            for (int64_t t = i; t < j; t++) flag[ki[t].idx] = 1, m++;
        i = j;
    }
    free(ki);
    int64_t *idx = mem_alloc(sizeof(int64_t) * (m > 0 ? m : 1));
    if (!idx) {
        free(flag);
        return ERR_FAIL;
    }
    int64_t c = 0;
    for (int64_t i = 0; i < n; i++)
        if (flag[i]) idx[c++] = i;
    free(flag);
    *out = idx;
    *count = m;
    return 0;
}

// ---- balance ----

// An open-addressing set of 64-bit keys (UINT64_MAX is the empty slot).
typedef struct {
    uint64_t *slot;
    uint64_t mask;
} keyset;

static uint64_t mix64(uint64_t x) {
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdULL;
    x ^= x >> 33;
    return x;
}

static int keyset_init(keyset *s, int64_t n) {
    uint64_t cap = 16;
    while (cap < (uint64_t)n * 2 + 16) cap <<= 1;
    s->slot = mem_alloc(sizeof(uint64_t) * cap);
    if (!s->slot) return ERR_FAIL;
    memset(s->slot, 0xff, sizeof(uint64_t) * cap);
    s->mask = cap - 1;
    return 0;
}

static int keyset_has(const keyset *s, uint64_t key) {
    for (uint64_t h = mix64(key) & s->mask;; h = (h + 1) & s->mask) {
        if (s->slot[h] == key) return 1;
        if (s->slot[h] == UINT64_MAX) return 0;
    }
}

static void keyset_add(keyset *s, uint64_t key) {
    for (uint64_t h = mix64(key) & s->mask;; h = (h + 1) & s->mask) {
        if (s->slot[h] == key) return;
        if (s->slot[h] == UINT64_MAX) {
            s->slot[h] = key;
            return;
        }
    }
}

typedef struct {
    uint64_t key;
    float dist;
    int64_t pos;   // position in idx / resid
} mover;

static int cmp_mover(const void *a, const void *b) {
    const mover *x = a, *y = b;
    if (x->key != y->key) return x->key < y->key ? -1 : 1;
    if (x->dist != y->dist) return x->dist < y->dist ? -1 : 1;
    return x->pos < y->pos ? -1 : x->pos > y->pos;
}

#define BAL_BLOCK 256

int sid_dedup_balance_sparse(int32_t *codes, int64_t n, const rq_codebook *cb, const int64_t *idx,
                             const float *resid, int64_t count, int64_t *moved_out) {
    int L = cb->layers, k = cb->k, d = cb->d;
    if (moved_out) *moved_out = 0;
    if (sid_key_check(L, k)) return ERR_FAIL;
    const float *last = cb->centroids + (size_t)(L - 1) * k * d;
    keyset used;
    mover *mv = mem_alloc(sizeof(mover) * (count > 0 ? count : 1));
    int64_t *order = mem_alloc(sizeof(int64_t) * (count > 0 ? count : 1));
    float *cn = mem_alloc(sizeof(float) * k);
    float *ip = mem_alloc(sizeof(float) * (size_t)BAL_BLOCK * k);
    float *xb = mem_alloc(sizeof(float) * (size_t)BAL_BLOCK * d);
    if (!mv || !order || !cn || !ip || !xb || keyset_init(&used, n)) {
        free(mv), free(order), free(cn), free(ip), free(xb);
        return err_wrap("dedup balance on %lld colliding items", (long long)count);
    }
    for (int64_t i = 0; i < n; i++) keyset_add(&used, sid_key(codes + i * L, L, k));
    for (int c = 0; c < k; c++) {
        const float *cc = last + (size_t)c * d;
        float s = 0;
        for (int j = 0; j < d; j++) s += cc[j] * cc[j];
        cn[c] = s;
    }
    // rank every collider inside its group by the distance to its current code
    for (int64_t p = 0; p < count; p++) {
        const int32_t *ci = codes + idx[p] * L;
        const float *r = resid + p * d, *cc = last + (size_t)ci[L - 1] * d;
        float s = 0;
        for (int j = 0; j < d; j++) {
            float t = r[j] - cc[j];
            s += t * t;
        }
        mv[p] = (mover){sid_key(ci, L, k), s, p};
    }
    qsort(mv, (size_t)count, sizeof *mv, cmp_mover);
    // movers: everyone but the first (closest) of each group, in group order then distance order
    int64_t nm = 0;
    for (int64_t p = 0; p < count; p++)
        if (p > 0 && mv[p].key == mv[p - 1].key) order[nm++] = mv[p].pos;
    int64_t moved = 0;
    for (int64_t b0 = 0; b0 < nm; b0 += BAL_BLOCK) {
        int bn = (int)(nm - b0 < BAL_BLOCK ? nm - b0 : BAL_BLOCK);
        for (int i = 0; i < bn; i++) memcpy(xb + (size_t)i * d, resid + order[b0 + i] * d, sizeof(float) * d);
        // ip [bn, k] = xb [bn, d] . last [k, d]^T
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, bn, k, d, 1.0f, xb, d, last, d, 0.0f, ip, k);
        for (int i = 0; i < bn; i++) {
            int32_t *ci = codes + idx[order[b0 + i]] * L;
            const float *row = ip + (size_t)i * k;
            int32_t cur = ci[L - 1];
            float best = INFINITY;
            int bestc = -1;
            for (int c = 0; c < k; c++) {
                float v = cn[c] - 2.0f * row[c];
                if (v < best && c != cur) {
                    ci[L - 1] = c;
                    if (!keyset_has(&used, sid_key(ci, L, k))) {
                        best = v;
                        bestc = c;
                    }
                    ci[L - 1] = cur;
                }
            }
            if (bestc >= 0) {
                ci[L - 1] = bestc;
                keyset_add(&used, sid_key(ci, L, k));
                moved++;
            }
        }
    }
    free(mv), free(order), free(cn), free(ip), free(xb), free(used.slot);
    if (moved_out) *moved_out = moved;
    return 0;
}

int sid_dedup_balance(int32_t *codes, int64_t n, const rq_codebook *cb, const float *resid, int64_t *moved) {
    int64_t *idx, count;
    if (sid_colliders(&idx, &count, codes, n, cb->layers, cb->k)) return ERR_FAIL;
    float *rs = mem_alloc(sizeof(float) * (size_t)(count > 0 ? count : 1) * cb->d);
    if (!rs) {
        free(idx);
        return ERR_FAIL;
    }
    for (int64_t p = 0; p < count; p++) memcpy(rs + p * cb->d, resid + idx[p] * cb->d, sizeof(float) * cb->d);
    int rc = sid_dedup_balance_sparse(codes, n, cb, idx, rs, count, moved);
    free(idx), free(rs);
    return rc;
}
