// Encoding: added-token split -> normalize -> pre-tokenize (PCRE2) -> BPE with a word cache; decoding.
#include <stdlib.h>
#include <string.h>
#include <utf8proc.h>

#include "base/err.h"
#include "base/mem.h"
#include "text/tok_internal.h"

void tok_buf_free(tok_buf *b) {
    free(b->ids);
    free(b->offs);
    b->ids = NULL, b->offs = NULL, b->n = b->cap = 0;
}

static int buf_reserve(tok_buf *b, size_t extra) {
    if (b->n + extra <= b->cap) return 0;
    size_t nc = b->cap ? b->cap * 2 : 256;
    while (nc < b->n + extra) nc *= 2;
    int32_t *ni = mem_realloc(b->ids, nc * sizeof *ni);
    if (!ni) return ERR_FAIL;
    b->ids = ni;
    if (b->want_offs || b->offs) {
        uint32_t *no = mem_realloc(b->offs, nc * sizeof *no);
        if (!no) return ERR_FAIL;
        b->offs = no;
    }
    b->cap = nc;
    return 0;
}

int tok_buf_push(tok_buf *b, int32_t id, uint32_t off) {
    if (b->n == b->cap && buf_reserve(b, 1)) return ERR_FAIL;
    b->ids[b->n] = id;
    if (b->offs) b->offs[b->n] = off;
    b->n++;
    return 0;
}

// ---------------------------------------------------------------- normalization

// Code points whose NFC/NFD/NFKC/NFKD-relevant properties make a run of them stable when none of
// them changes: checked exhaustively against utf8proc in the tests. Anything else sends the whole
// chunk through utf8proc.
static int cp_inert(uint32_t cp) {
    return cp < 0xA0 || (cp >= 0x4E00 && cp <= 0x9FFF) || (cp >= 0x3400 && cp <= 0x4DBF) ||
           (cp >= 0x3001 && cp <= 0x3029) || (cp >= 0x3041 && cp <= 0x3094) || (cp >= 0x30A1 && cp <= 0x30F4) ||
           (cp >= 0xAC00 && cp <= 0xD7A3) || (cp >= 0xFF01 && cp <= 0xFF5E) || (cp >= 0x2010 && cp <= 0x2027) ||
           (cp >= 0x2030 && cp <= 0x205E) || (cp >= 0x0400 && cp <= 0x0482) || (cp >= 0x048A && cp <= 0x04FF) ||
           (cp >= 0x0621 && cp <= 0x064A) ||
           (cp >= 0x1F300 && cp <= 0x1F5FF) || (cp >= 0x1F600 && cp <= 0x1F64F) ||
           (cp >= 0x1F680 && cp <= 0x1F6FF) || (cp >= 0x1F900 && cp <= 0x1F9FF);
}

int tok_needs_norm(const tokenizer *t, const char *s, size_t n) {
    if (!t->nnorm) return 0;
    // NFKC/NFKD also rewrite compatibility characters such as U+00A0..U+02FF; NFC/NFD only act on
    // code points >= U+00C0 (precomposed letters) and combining marks (>= U+0300)
    int compat = 0;
    for (int i = 0; i < t->nnorm; i++) compat |= t->norm[i] == NORM_NFKC || t->norm[i] == NORM_NFKD;
    int nfd = 0;
    for (int i = 0; i < t->nnorm; i++) nfd |= t->norm[i] == NORM_NFD || t->norm[i] == NORM_NFKD;
    const unsigned char *u = (const unsigned char *)s;
    size_t i = 0;
    while (i < n) {
        if (u[i] < 0x80) {
            i++;
            continue;
        }
        uint32_t cp;
        int l = tok_utf8_len(u + i, n - i, &cp);
        if (!l) {
            i++;
            continue;
        }
        if (!(cp_inert(cp) || (!compat && !nfd && cp < 0x300))) return 1;
        i += (size_t)l;
    }
    return 0;
}

// Combining marks (Unicode 11-15) that HF's normalizer tables predate: HF gives them combining
// class 0, so they never reorder and act as a barrier. We copy them through unchanged and normalize
// the text on either side separately, which is the same thing. (Found by comparing HF and utf8proc
// on every mark; tests/test_tokenizer_ref.sh keeps checking it.)
static const uint32_t HF_OLD_MARKS[][2] = {
    {0x7FD, 0x7FD}, {0x898, 0x89F}, {0x8CA, 0x8D3}, {0x9FE, 0x9FE}, {0xC3C, 0xC3C}, {0xD3B, 0xD3C},
    {0xEBA, 0xEBA}, {0x1715, 0x1715}, {0x1ABF, 0x1ACE}, {0x1DF6, 0x1DFA}, {0xA82C, 0xA82C},
    {0x10D24, 0x10D27}, {0x10EAB, 0x10EAC}, {0x10EFD, 0x10EFF}, {0x10F46, 0x10F50}, {0x10F82, 0x10F85},
    {0x11070, 0x11070}, {0x1133B, 0x1133B}, {0x1145E, 0x1145E}, {0x11839, 0x1183A}, {0x1193D, 0x1193E},
    {0x11943, 0x11943}, {0x119E0, 0x119E0}, {0x11A34, 0x11A34}, {0x11A47, 0x11A47}, {0x11A99, 0x11A99},
    {0x11D42, 0x11D42}, {0x11D44, 0x11D45}, {0x11D97, 0x11D97}, {0x11F41, 0x11F42}, {0x16FF0, 0x16FF1},
    {0x1E08F, 0x1E08F}, {0x1E130, 0x1E136}, {0x1E2AE, 0x1E2AE}, {0x1E2EC, 0x1E2EF}, {0x1E4EC, 0x1E4EF},
};

static int hf_old_mark(uint32_t cp) {
    if (cp < 0x7FD) return 0;
    for (size_t i = 0; i < sizeof HF_OLD_MARKS / sizeof *HF_OLD_MARKS; i++)
        if (cp >= HF_OLD_MARKS[i][0] && cp <= HF_OLD_MARKS[i][1]) return 1;
    return 0;
}

int tok_normalize(const tokenizer *t, const char *s, size_t n, char **out, size_t *outn) {
    char *o = mem_alloc(n * 3 + 16);
    size_t cap = n * 3 + 16, on = 0;
    if (!o) return ERR_FAIL;
    const unsigned char *u = (const unsigned char *)s;
    size_t i = 0;
    while (i < n) {
        // a maximal valid UTF-8 run is normalized; invalid bytes (and HF_OLD_MARKS) are copied through
        size_t j = i, skip = 1;
        while (j < n) {
            uint32_t cp;
            int l = tok_utf8_len(u + j, n - j, &cp);
            if (!l) break;
            if (hf_old_mark(cp)) {
                skip = (size_t)l;
                break;
            }
            j += (size_t)l;
        }
        if (j > i) {
            utf8proc_uint8_t *cur = NULL;
            size_t curn = j - i;
            const utf8proc_uint8_t *src = u + i;
            for (int k = 0; k < t->nnorm; k++) {
                int f = t->norm[k];
                utf8proc_option_t opt = UTF8PROC_STABLE |
                                        (f == NORM_NFC || f == NORM_NFKC ? UTF8PROC_COMPOSE : UTF8PROC_DECOMPOSE) |
                                        (f == NORM_NFKC || f == NORM_NFKD ? UTF8PROC_COMPAT : 0);
                utf8proc_uint8_t *res = NULL;
                utf8proc_ssize_t rn = utf8proc_map(src, (utf8proc_ssize_t)curn, &res, opt);
                free(cur);
                if (rn < 0) {
                    free(o);
                    return err_set("normalization failed: %s", utf8proc_errmsg(rn));
                }
                cur = res, curn = (size_t)rn, src = res;
            }
            if (on + curn + (n - j) + 16 > cap) {
                cap = (on + curn + (n - j)) * 2 + 16;
                char *no = mem_realloc(o, cap);
                if (!no) {
                    free(o), free(cur);
                    return ERR_FAIL;
                }
                o = no;
            }
            memcpy(o + on, cur ? (const char *)cur : s + i, curn);
            on += curn;
            free(cur);
            i = j;
        }
        for (size_t k = 0; k < skip && i < n; k++) o[on++] = s[i++];
    }
    o[on] = 0;
    *out = o;
    *outn = on;
    return 0;
}

// ---------------------------------------------------------------- word cache

int tok_cache_init(tokenizer *t) {
    t->cache = mem_calloc(TOK_CACHE_STRIPES, sizeof *t->cache);
    if (!t->cache) return ERR_FAIL;
    for (int i = 0; i < TOK_CACHE_STRIPES; i++) pthread_mutex_init(&t->cache[i].mu, NULL);
    return 0;
}

void tok_cache_free(tokenizer *t) {
    if (!t->cache) return;
    for (int i = 0; i < TOK_CACHE_STRIPES; i++) {
        if (t->cache[i].slots)
            for (int j = 0; j < TOK_CACHE_SLOTS; j++) free(t->cache[i].slots[j].block);
        free(t->cache[i].slots);
        pthread_mutex_destroy(&t->cache[i].mu);
    }
    free(t->cache);
    t->cache = NULL;
}

// ---------------------------------------------------------------- BPE

typedef struct {
    int32_t rank, pos;
} heap_ent;

static inline size_t merge_slot_of(const tokenizer *t, uint64_t key) {
    // the 8-byte case of tok_hash, inlined: this runs for every adjacent pair
    uint64_t h = (1469598103934665603ull ^ key) * 0x9E3779B97F4A7C15ull;
    h ^= h >> 29;
    h ^= h >> 32;
    h *= 0xD6E8FEB86659FD93ull;
    h ^= h >> 32;
    return h & (t->merge_cap - 1);
}

static int merge_get_from(const tokenizer *t, uint64_t key, size_t j, int32_t *id) {
    for (;;) {
        const merge_slot *s = &t->merges[j];
        if (s->key == key) {
            *id = s->id;
            return s->rank;
        }
        if (s->key == UINT64_MAX) return -1;
        j = (j + 1) & (t->merge_cap - 1);
    }
}

static int merge_get(const tokenizer *t, int32_t a, int32_t b, int32_t *id) {
    uint64_t key = ((uint64_t)(uint32_t)a << 32) | (uint32_t)b;
    return merge_get_from(t, key, merge_slot_of(t, key), id);
}

// In-place merges over sym[0..n): the lowest-rank adjacent pair first, leftmost among equals (what
// HF's priority queue does). Short words rescan the array; long ones use a heap so that a run of
// thousands of spaces stays O(n log n). Returns the merged count, or SIZE_MAX (with a message) when
// a long word's heap cannot be allocated: a word left unmerged would silently give other ids.
static size_t bpe_merge(const tokenizer *t, int32_t *sym, size_t n) {
    if (n < 2) return n;
    if (n <= 64) {
        // ranks of adjacent pairs kept in an array: a merge only changes its two neighbours
        // the first pass looks up every pair: prefetch all slots first so the misses overlap
        int32_t rank[64], mid[64];
        size_t slot[64];
        for (size_t i = 0; i + 1 < n; i++) {
            slot[i] = merge_slot_of(t, ((uint64_t)(uint32_t)sym[i] << 32) | (uint32_t)sym[i + 1]);
            __builtin_prefetch(&t->merges[slot[i]]);
        }
        for (size_t i = 0; i + 1 < n; i++)
            rank[i] = merge_get_from(t, ((uint64_t)(uint32_t)sym[i] << 32) | (uint32_t)sym[i + 1], slot[i], &mid[i]);
        for (;;) {
            int32_t best = INT32_MAX;
            size_t bi = 0;
            for (size_t i = 0; i + 1 < n; i++)
                if (rank[i] >= 0 && rank[i] < best) best = rank[i], bi = i;
            if (best == INT32_MAX) return n;
            sym[bi] = mid[bi];
            memmove(sym + bi + 1, sym + bi + 2, (n - bi - 2) * sizeof *sym);
            memmove(rank + bi + 1, rank + bi + 2, (n - bi - 2) * sizeof *rank);
            memmove(mid + bi + 1, mid + bi + 2, (n - bi - 2) * sizeof *mid);
            n--;
            if (bi > 0) rank[bi - 1] = merge_get(t, sym[bi - 1], sym[bi], &mid[bi - 1]);
            if (bi + 1 < n) rank[bi] = merge_get(t, sym[bi], sym[bi + 1], &mid[bi]);
        }
    }
    int32_t *next = malloc(n * sizeof *next), *prev = malloc(n * sizeof *prev);
    heap_ent *h = malloc(n * 3 * sizeof *h);   // n-1 initial pairs + at most 2 per merge
    if (!next || !prev || !h) {
        free(next), free(prev), free(h);
        err_set("out of memory merging a word of %zu symbols", n);
        return SIZE_MAX;
    }
    size_t hn = 0;
#define HLESS(x, y) ((x).rank < (y).rank || ((x).rank == (y).rank && (x).pos < (y).pos))
#define HPUSH(r_, p_)                                                      \
    do {                                                                   \
        size_t k_ = hn++;                                                  \
        h[k_] = (heap_ent){(r_), (p_)};                                    \
        while (k_ && HLESS(h[k_], h[(k_ - 1) / 2])) {                      \
            heap_ent tmp_ = h[k_];                                         \
            h[k_] = h[(k_ - 1) / 2];                                       \
            h[(k_ - 1) / 2] = tmp_;                                        \
            k_ = (k_ - 1) / 2;                                             \
        }                                                                  \
    } while (0)
    for (size_t i = 0; i < n; i++) next[i] = i + 1 < n ? (int32_t)i + 1 : -1, prev[i] = (int32_t)i - 1;
    for (size_t i = 0; i + 1 < n; i++) {
        int32_t id, r = merge_get(t, sym[i], sym[i + 1], &id);
        if (r >= 0) HPUSH(r, (int32_t)i);
    }
    while (hn) {
        heap_ent top = h[0];
        h[0] = h[--hn];
        for (size_t k = 0;;) {
            size_t l = 2 * k + 1, r = l + 1, m = k;
            if (l < hn && HLESS(h[l], h[m])) m = l;
            if (r < hn && HLESS(h[r], h[m])) m = r;
            if (m == k) break;
            heap_ent tmp = h[k];
            h[k] = h[m], h[m] = tmp;
            k = m;
        }
        int32_t p = top.pos;
        if (sym[p] < 0 || next[p] < 0) continue;
        int32_t q = next[p], id = -1;
        int32_t r = merge_get(t, sym[p], sym[q], &id);
        if (r != top.rank) continue;   // stale: one side changed since this entry was pushed
        sym[p] = id;
        sym[q] = -1;
        next[p] = next[q];
        if (next[q] >= 0) prev[next[q]] = p;
        if (prev[p] >= 0 && (r = merge_get(t, sym[prev[p]], sym[p], &id)) >= 0) HPUSH(r, prev[p]);
        if (next[p] >= 0 && (r = merge_get(t, sym[p], sym[next[p]], &id)) >= 0) HPUSH(r, p);
    }
#undef HPUSH
#undef HLESS
    size_t o = 0;
    for (size_t i = 0; i < n; i++)
        if (sym[i] >= 0) sym[o++] = sym[i];
    free(next), free(prev), free(h);
    return o;
}

// Ids of one pre-tokenized word (raw bytes) appended to out; all tokens get offset `off`
// plus their byte position inside the word.
static int encode_word(const tokenizer *t, const char *w, size_t n, tok_buf *out, uint32_t off,
                       const uint32_t *offmap) {
    if (!n) return 0;
    if (t->ignore_merges) {
        int32_t id = strmap_get(&t->vocab_key, w, n);
        if (id >= 0) return tok_buf_push(out, id, offmap ? offmap[0] : off);
    }
    if (t->bytelevel && n == 1 && t->byte_id[(uint8_t)w[0]] >= 0)
        return tok_buf_push(out, t->byte_id[(uint8_t)w[0]], offmap ? offmap[0] : off);
    uint64_t h = 0;
    cache_stripe *cs = NULL;
    cache_slot *slot = NULL;
    int cacheable = n <= TOK_CACHE_MAXKEY && !out->offs;
    if (cacheable) {
        h = tok_hash(w, n);
        cs = &t->cache[h & (TOK_CACHE_STRIPES - 1)];
        pthread_mutex_lock(&cs->mu);
        slot = cs->slots ? &cs->slots[(h >> 6) & (TOK_CACHE_SLOTS - 1)] : NULL;
        if (slot && slot->block && slot->h == h && slot->klen == n && !memcmp(slot->block, w, n)) {
            int rc = buf_reserve(out, slot->nids);
            if (!rc) {
                memcpy(out->ids + out->n, slot->block + n, slot->nids * sizeof(int32_t));
                out->n += slot->nids;
            }
            pthread_mutex_unlock(&cs->mu);
            return rc;
        }
        pthread_mutex_unlock(&cs->mu);
    }
    // initial symbols: bytes (byte-level) or UTF-8 chars, with their start positions in the word
    int32_t stack_sym[128];
    uint32_t stack_pos[128];
    int32_t *sym = n <= 128 ? stack_sym : malloc(n * sizeof *sym);
    uint32_t *pos = n <= 128 ? stack_pos : malloc(n * sizeof *pos);
    if (!sym || !pos) {
        if (sym != stack_sym) free(sym);
        if (pos != stack_pos) free(pos);
        return err_set("out of memory encoding a %zu-byte word", n);
    }
    size_t ns = 0;
    for (size_t i = 0; i < n;) {
        size_t l = 1;
        int32_t id;
        if (t->bytelevel) {
            id = t->byte_id[(uint8_t)w[i]];
        } else {
            uint32_t cp;
            int ul = tok_utf8_len((const unsigned char *)w + i, n - i, &cp);
            l = ul ? (size_t)ul : 1;
            id = strmap_get(&t->vocab_key, w + i, l);
        }
        if (id >= 0) {
            sym[ns] = id, pos[ns++] = (uint32_t)i;
        } else if (t->byte_fallback && !t->bytelevel) {
            int ok = 1;
            for (size_t k = 0; k < l; k++) ok &= t->fallback_id[(uint8_t)w[i + k]] >= 0;
            if (ok)
                for (size_t k = 0; k < l; k++) sym[ns] = t->fallback_id[(uint8_t)w[i + k]], pos[ns++] = (uint32_t)(i + k);
            else if (t->unk_id >= 0) sym[ns] = t->unk_id, pos[ns++] = (uint32_t)i;
        } else if (t->unk_id >= 0) {
            // fuse_unk: consecutive unknowns become one <unk>
            if (!(t->fuse_unk && ns && sym[ns - 1] == t->unk_id)) sym[ns] = t->unk_id, pos[ns++] = (uint32_t)i;
        }
        i += l;
    }
    // keep symbol start positions only when offsets are wanted: merging then tracks the left position
    size_t before = ns, m = 0;
    int32_t *orig = NULL;
    int rc = 0;
    if (out->offs && ns > 1) {
        orig = mem_alloc(ns * sizeof *orig);
        if (orig) memcpy(orig, sym, ns * sizeof *orig);
        else rc = ERR_FAIL;
    }
    if (!rc && (m = bpe_merge(t, sym, ns)) == SIZE_MAX) rc = ERR_FAIL;
    if (!rc) rc = buf_reserve(out, m);
    if (!rc) {
        if (out->offs) {
            // walk the original symbols: each merged token covers its bytes' concatenation
            size_t k = 0;
            for (size_t j = 0; j < m; j++) {
                uint32_t p = k < before ? pos[k] : (uint32_t)n - 1;
                out->offs[out->n + j] = offmap ? offmap[p] : off + p;
                size_t need = t->id_blen[sym[j]], got = 0;
                while (k < before && got < need) got += orig ? t->id_blen[orig[k]] : need, k++;
            }
        }
        memcpy(out->ids + out->n, sym, m * sizeof *sym);
        out->n += m;
    }
    free(orig);
    if (cacheable && !rc && m <= 0xFFFF) {
        char *blk = malloc(n + m * sizeof(int32_t));
        if (blk) {
            memcpy(blk, w, n);
            memcpy(blk + n, sym, m * sizeof(int32_t));
            pthread_mutex_lock(&cs->mu);
            if (!cs->slots) cs->slots = calloc(TOK_CACHE_SLOTS, sizeof *cs->slots);
            if (cs->slots) {
                slot = &cs->slots[(h >> 6) & (TOK_CACHE_SLOTS - 1)];
                free(slot->block);
                slot->block = blk, slot->h = h, slot->klen = (uint16_t)n, slot->nids = (uint16_t)m;
            } else {
                free(blk);
            }
            pthread_mutex_unlock(&cs->mu);
        }
    }
    if (sym != stack_sym) free(sym);
    if (pos != stack_pos) free(pos);
    return rc;
}

// ---------------------------------------------------------------- pre-tokenization and encode

typedef struct {
    const tokenizer *t;
    tok_buf *out;
    // map from a position in the (normalized) chunk to an offset in the caller's text
    size_t a, ol, nl, prefix;
    int (*word_cb)(void *ud, const char *w, size_t n);   // set: hand words over instead of encoding
    void *ud;
} enc_ctx;

static uint32_t map_off(const enc_ctx *c, size_t p) {
    if (p <= c->prefix || c->nl <= c->prefix) return (uint32_t)(c->a + (p < c->ol ? p : c->ol));
    return (uint32_t)(c->a + c->prefix + (p - c->prefix) * (c->ol - c->prefix) / (c->nl - c->prefix));
}

// One pcre2 match block per thread, freed when the thread exits.
static pthread_key_t md_key;
static pthread_once_t md_once = PTHREAD_ONCE_INIT;
static void md_free(void *p) { pcre2_match_data_free(p); }
static void md_key_init(void) { pthread_key_create(&md_key, md_free); }
static pcre2_match_data *thread_md(void) {
    pthread_once(&md_once, md_key_init);
    pcre2_match_data *md = pthread_getspecific(md_key);
    if (!md && (md = pcre2_match_data_create(4, NULL))) pthread_setspecific(md_key, md);
    return md;
}

// s[0..n) is a piece whose first byte sits at chunk position cpos (minus one when `pre`: the piece
// starts with a space that add_prefix_space inserted).
static int run_steps(enc_ctx *c, const char *s, size_t n, int step, size_t cpos, int pre) {
    if (!n) return 0;
    const tokenizer *t = c->t;
    if (step == t->nsteps) return c->word_cb ? c->word_cb(c->ud, s, n) : encode_word(t, s, n, c->out, map_off(c, cpos), NULL);
    const pt_step *st = &t->steps[step];
    char *tmp = NULL;
    if (st->kind == PT_BYTELEVEL && st->add_prefix_space && s[0] != ' ') {
        tmp = malloc(n + 1);
        if (!tmp) return err_set("out of memory");
        tmp[0] = ' ';
        memcpy(tmp + 1, s, n);
        s = tmp, n++, pre = 1;
    }
    int rc = 0;
    if (!st->re) {
        rc = run_steps(c, s, n, step + 1, cpos, pre);
        free(tmp);
        return rc;
    }
    pcre2_match_data *tl_md = thread_md();
    if (!tl_md) {
        free(tmp);
        return err_set("out of memory (pcre2 match data)");
    }
    size_t start = 0, last = 0;
#define PIECE(b, e) run_steps(c, s + (b), (e) - (b), step + 1, cpos + ((b) > 0 && pre ? (b) - 1 : (b)), pre && (b) == 0)
    while (start < n) {
        int m = pcre2_match(st->re, (PCRE2_SPTR)s, n, start, 0, tl_md, NULL);
        if (m == PCRE2_ERROR_NOMATCH) break;
        if (m < 0) {
            PCRE2_UCHAR buf[128];
            pcre2_get_error_message(m, buf, sizeof buf);
            free(tmp);
            return err_set("pre-tokenizer regex failed: %s", (char *)buf);
        }
        PCRE2_SIZE *ov = pcre2_get_ovector_pointer(tl_md);
        size_t ms = ov[0], me = ov[1];
        if (me == ms) {
            uint32_t cp;
            int l = tok_utf8_len((const unsigned char *)s + ms, n - ms, &cp);
            start = ms + (l ? (size_t)l : 1);
            continue;
        }
        if (ms > last && (rc = PIECE(last, ms))) break;
        if (st->behavior == SPLIT_ISOLATED && (rc = PIECE(ms, me))) break;
        last = start = me;
    }
    if (!rc && last < n) rc = PIECE(last, n);
#undef PIECE
    free(tmp);
    return rc;
}

// Leftmost-longest added token at position i: its length, or 0.
static size_t match_at(const tok_matcher *m, const char *s, size_t n, size_t i, int32_t *id) {
    for (size_t k = 0; k < m->nlens; k++) {
        size_t l = m->lens[k];
        if (l > n - i) continue;
        int32_t v = strmap_get(&m->map, s + i, l);
        if (v >= 0) {
            *id = v;
            return l;
        }
    }
    return 0;
}

// Splits s[0..n) on the matcher's tokens; the text between them goes through `then`.
static int split_added(enc_ctx *c, const tok_matcher *m, const char *s, size_t n,
                       int (*then)(enc_ctx *, const char *, size_t, size_t), size_t base, int mapped) {
    size_t seg = 0, i = 0;
    if (m->nlens) {
        while (i < n) {
            const char *p = s + i;
            // skip quickly to the next byte that can start an added token
            while (i < n && !m->first[(uint8_t)*p]) i++, p++;
            if (i >= n) break;
            int32_t id;
            size_t l = match_at(m, s, n, i, &id);
            if (!l) {
                i++;
                continue;
            }
            if (i > seg && then(c, s + seg, i - seg, base + seg)) return ERR_FAIL;
            if (c->out && tok_buf_push(c->out, id, mapped ? map_off(c, base + i) : (uint32_t)(base + i))) return ERR_FAIL;
            seg = i = i + l;
        }
    }
    return n > seg ? then(c, s + seg, n - seg, base + seg) : 0;
}

static int after_norm_split(enc_ctx *c, const char *s, size_t n, size_t cpos) {
    return run_steps(c, s, n, 0, cpos, 0);
}

// A chunk of the original text between raw-matched added tokens, starting at offset `a`.
static int encode_chunk(enc_ctx *c, const char *s, size_t n, size_t a) {
    const tokenizer *t = c->t;
    char *nb = NULL;
    size_t nn = n;
    if (tok_needs_norm(t, s, n)) {
        if (tok_normalize(t, s, n, &nb, &nn)) return ERR_FAIL;
    }
    const char *src = nb ? nb : s;
    size_t prefix = 0;
    while (prefix < n && prefix < nn && src[prefix] == s[prefix]) prefix++;
    c->a = a, c->ol = n, c->nl = nn, c->prefix = nb ? prefix : n;
    int rc = split_added(c, &t->m_norm, src, nn, after_norm_split, 0, 1);
    free(nb);
    return rc;
}

static int raw_chunk(enc_ctx *c, const char *s, size_t n, size_t base) { return encode_chunk(c, s, n, base); }

int tokenizer_encode(const tokenizer *t, const char *text, size_t len, tok_buf *out) {
    if (out->want_offs && !out->offs && out->n) return err_set("tokenizer_encode: want_offs set on a non-empty buffer");
    if (buf_reserve(out, len / 3 + 16)) return ERR_FAIL;
    enc_ctx c = {t, out, 0, 0, 0, 0, NULL, NULL};
    // raw added tokens are matched on the caller's text: offsets are identity there
    return split_added(&c, &t->m_raw, text, len, raw_chunk, 0, 0);
}

int tok_pretokenize(const tokenizer *t, const char *text, size_t len, int (*cb)(void *, const char *, size_t),
                    void *ud) {
    enc_ctx c = {t, NULL, 0, 0, 0, 0, cb, ud};
    return split_added(&c, &t->m_raw, text, len, raw_chunk, 0, 0);
}

int tokenizer_decode(const tokenizer *t, const int32_t *ids, size_t n, int skip_special, char **text, size_t *len) {
    size_t total = 1;
    for (size_t i = 0; i < n; i++) {
        if (ids[i] < 0 || ids[i] >= t->nid || !t->id_str[ids[i]])
            return err_set("decode: token id %d at position %zu is not in the vocabulary (size %d)", ids[i], i, t->nid);
        total += t->id_blen[ids[i]] + (t->dec_none ? strlen(t->id_str[ids[i]]) + 1 : 0);
    }
    char *o = mem_alloc(total);
    if (!o) return ERR_FAIL;
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        int32_t id = ids[i];
        if (skip_special && (t->id_flags[id] & TOKF_SPECIAL)) continue;
        if (t->dec_none) {
            // no decoder: HF joins the token strings with spaces
            if (k) o[k++] = ' ';
            size_t l = strlen(t->id_str[id]);
            memcpy(o + k, t->id_str[id], l);
            k += l;
        } else {
            memcpy(o + k, t->id_bytes[id], t->id_blen[id]);
            k += t->id_blen[id];
        }
    }
    o[k] = 0;
    *text = o;
    if (len) *len = k;
    return 0;
}
