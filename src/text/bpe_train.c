// Byte-level BPE training: count pre-tokenized words, then repeatedly merge the most frequent
// adjacent pair, updating pair counts only in the words that contain it.
#include "text/bpe_train.h"

#include <cjson/cJSON.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "base/log.h"
#include "base/mem.h"
#include "text/tok_internal.h"

static const char *SPECIALS[] = {"<|endoftext|>", "<|im_start|>", "<|im_end|>", "<think>", "</think>"};
#define NSPECIAL 5

// The pre-tokenizer of the tokenizer we write, so training sees exactly the words encoding will.
static char *skeleton_json(const char *vocab_json, const char *merges_json, const char *added_json) {
    return mem_printf(
        "{\"version\":\"1.0\",\"truncation\":null,\"padding\":null,\"added_tokens\":%s,"
        "\"normalizer\":{\"type\":\"NFC\"},"
        "\"pre_tokenizer\":{\"type\":\"Sequence\",\"pretokenizers\":[{\"type\":\"Split\",\"pattern\":{\"Regex\":\"%s\"},"
        "\"behavior\":\"Isolated\",\"invert\":false},{\"type\":\"ByteLevel\",\"add_prefix_space\":false,"
        "\"trim_offsets\":false,\"use_regex\":false}]},"
        "\"post_processor\":{\"type\":\"ByteLevel\",\"add_prefix_space\":false,\"trim_offsets\":false,\"use_regex\":false},"
        "\"decoder\":{\"type\":\"ByteLevel\",\"add_prefix_space\":false,\"trim_offsets\":false,\"use_regex\":false},"
        "\"model\":{\"type\":\"BPE\",\"dropout\":null,\"unk_token\":null,\"continuing_subword_prefix\":\"\","
        "\"end_of_word_suffix\":\"\",\"fuse_unk\":false,\"byte_fallback\":false,\"ignore_merges\":false,"
        "\"vocab\":%s,\"merges\":%s}}",
        added_json, "__REGEX__", vocab_json, merges_json);
}

typedef struct {
    strmap words;       // word bytes -> index
    char **wtext;
    uint32_t *wlen;
    int64_t *wcount;
    size_t nw, wcap;
} counter;

static int count_word(void *ud, const char *w, size_t n) {
    counter *c = ud;
    int32_t k = strmap_get(&c->words, w, n);
    if (k >= 0) {
        c->wcount[k]++;
        return 0;
    }
    if (c->nw == c->wcap) {
        size_t nc = c->wcap ? c->wcap * 2 : 4096;
        char **a = mem_realloc(c->wtext, nc * sizeof *a);
        if (!a) return ERR_FAIL;
        c->wtext = a;
        uint32_t *b = mem_realloc(c->wlen, nc * sizeof *b);
        if (!b) return ERR_FAIL;
        c->wlen = b;
        int64_t *d = mem_realloc(c->wcount, nc * sizeof *d);
        if (!d) return ERR_FAIL;
        c->wcount = d;
        c->wcap = nc;
    }
    char *s = mem_strndup(w, n);
    if (!s) return ERR_FAIL;
    c->wtext[c->nw] = s, c->wlen[c->nw] = (uint32_t)n, c->wcount[c->nw] = 1;
    if (strmap_put(&c->words, s, n, (int32_t)c->nw)) return ERR_FAIL;
    c->nw++;
    return 0;
}

// pair -> count and the words that (may) contain it
typedef struct {
    uint64_t key;     // UINT64_MAX empty
    int64_t count;
    int32_t *where;
    uint32_t nwhere, cwhere;
} pair_slot;
typedef struct {
    pair_slot *s;
    size_t cap, n;
} pairmap;

static pair_slot *pm_get(pairmap *m, uint64_t key, int create) {
    if (create && (m->n + 1) * 2 > m->cap) {
        size_t nc = m->cap ? m->cap * 2 : 1 << 16;
        pair_slot *ns = mem_alloc(nc * sizeof *ns);
        if (!ns) return NULL;
        for (size_t i = 0; i < nc; i++) ns[i].key = UINT64_MAX;
        for (size_t i = 0; i < m->cap; i++) {
            if (m->s[i].key == UINT64_MAX) continue;
            size_t j = tok_hash(&m->s[i].key, 8) & (nc - 1);
            while (ns[j].key != UINT64_MAX) j = (j + 1) & (nc - 1);
            ns[j] = m->s[i];
        }
        free(m->s);
        m->s = ns, m->cap = nc;
    }
    if (!m->cap) return NULL;
    size_t j = tok_hash(&key, 8) & (m->cap - 1);
    while (m->s[j].key != UINT64_MAX) {
        if (m->s[j].key == key) return &m->s[j];
        j = (j + 1) & (m->cap - 1);
    }
    if (!create) return NULL;
    m->s[j] = (pair_slot){key, 0, NULL, 0, 0};
    m->n++;
    return &m->s[j];
}

typedef struct {
    int64_t count;
    uint64_t key;
} hent;
typedef struct {
    hent *h;
    size_t n, cap;
} heap;
// max by count, then smallest key (deterministic ties)
static int hbetter(hent a, hent b) { return a.count > b.count || (a.count == b.count && a.key < b.key); }
static int hpush(heap *q, int64_t count, uint64_t key) {
    if (q->n == q->cap) {
        size_t nc = q->cap ? q->cap * 2 : 1 << 16;
        hent *nh = mem_realloc(q->h, nc * sizeof *nh);
        if (!nh) return ERR_FAIL;
        q->h = nh, q->cap = nc;
    }
    size_t k = q->n++;
    q->h[k] = (hent){count, key};
    while (k && hbetter(q->h[k], q->h[(k - 1) / 2])) {
        hent t = q->h[k];
        q->h[k] = q->h[(k - 1) / 2], q->h[(k - 1) / 2] = t;
        k = (k - 1) / 2;
    }
    return 0;
}
static hent hpop(heap *q) {
    hent top = q->h[0];
    q->h[0] = q->h[--q->n];
    for (size_t k = 0;;) {
        size_t l = 2 * k + 1, r = l + 1, m = k;
        if (l < q->n && hbetter(q->h[l], q->h[m])) m = l;
        if (r < q->n && hbetter(q->h[r], q->h[m])) m = r;
        if (m == k) break;
        hent t = q->h[k];
        q->h[k] = q->h[m], q->h[m] = t;
        k = m;
    }
    return top;
}

static int add_where(pair_slot *p, int32_t w) {
    if (p->nwhere && p->where[p->nwhere - 1] == w) return 0;
    if (p->nwhere == p->cwhere) {
        uint32_t nc = p->cwhere ? p->cwhere * 2 : 4;
        int32_t *nw = mem_realloc(p->where, nc * sizeof *nw);
        if (!nw) return ERR_FAIL;
        p->where = nw, p->cwhere = nc;
    }
    p->where[p->nwhere++] = w;
    return 0;
}

#define PKEY(a, b) (((uint64_t)(uint32_t)(a) << 32) | (uint32_t)(b))

// Training state, one struct so each phase below is a function of its own.
typedef struct {
    const bpe_train_opts *o;
    int target, minf;   // tokens to reach before the specials; minimum pair count to merge
    counter c;
    pairmap pm;
    heap q;
    int32_t **sym;      // [word] current symbols
    uint32_t *nsym, *stamp;
    char **tokstr;      // [token id] its byte-level spelling
    int32_t (*merges)[2];
    strmap tokmap;
    int ntok, nmerge;
} bpe_trainer;

static cJSON *specials_json(int first_id, int full) {
    cJSON *added = cJSON_CreateArray();
    for (int i = 0; i < NSPECIAL; i++) {
        cJSON *a = cJSON_CreateObject();
        cJSON_AddNumberToObject(a, "id", first_id + i);
        cJSON_AddStringToObject(a, "content", SPECIALS[i]);
        if (full) {
            cJSON_AddBoolToObject(a, "single_word", 0);
            cJSON_AddBoolToObject(a, "lstrip", 0);
            cJSON_AddBoolToObject(a, "rstrip", 0);
            cJSON_AddBoolToObject(a, "normalized", 0);
            // as in Qwen3: <think> and </think> are added but not special (decoding keeps them)
            cJSON_AddBoolToObject(a, "special", i < 3);
        } else {
            cJSON_AddBoolToObject(a, "special", 1);
            cJSON_AddBoolToObject(a, "normalized", 0);
        }
        cJSON_AddItemToArray(added, a);
    }
    return added;
}

// The regex goes in through cJSON so its backslashes are escaped correctly.
static void set_regex(cJSON *root) {
    cJSON *pat = cJSON_GetObjectItem(cJSON_GetArrayItem(cJSON_GetObjectItem(cJSON_GetObjectItem(root, "pre_tokenizer"), "pretokenizers"), 0), "pattern");
    cJSON_ReplaceItemInObject(pat, "Regex", cJSON_CreateString(TOK_QWEN_REGEX));
}

// 1. words, through the same pre-tokenizer (the special tokens are split out, not learned)
static int bt_pretokenizer(tokenizer **pre) {
    cJSON *added = specials_json(0, 0);
    char *astr = cJSON_PrintUnformatted(added);
    cJSON_Delete(added);
    char *sk = skeleton_json("{}", "[]", astr);
    free(astr);
    if (!sk) return ERR_FAIL;
    cJSON *j = cJSON_Parse(sk);
    free(sk);
    if (!j) return err_set("internal: trainer skeleton JSON does not parse");
    set_regex(j);
    char *s = cJSON_PrintUnformatted(j);
    cJSON_Delete(j);
    int rc = tokenizer_load_json(pre, s, strlen(s), "<trainer>");
    free(s);
    return rc;
}

// 2. symbols: byte-level ids are the bytes' alphabet order (id b for byte b)
static int bt_symbols(bpe_trainer *t) {
    counter *c = &t->c;
    t->sym = mem_calloc(c->nw + 1, sizeof *t->sym);
    t->nsym = mem_calloc(c->nw + 1, sizeof *t->nsym);
    t->stamp = mem_calloc(c->nw + 1, sizeof *t->stamp);
    t->tokstr = mem_calloc((size_t)t->target + 1, sizeof *t->tokstr);
    t->merges = mem_calloc((size_t)t->target + 1, sizeof *t->merges);
    if (!t->sym || !t->nsym || !t->stamp || !t->tokstr || !t->merges) return ERR_FAIL;
    for (int b = 0; b < 256; b++) {
        char ch[3] = {0};
        tok_bytelevel_char((uint8_t)b, ch);
        t->tokstr[b] = mem_strdup(ch);
        if (!t->tokstr[b] || strmap_put(&t->tokmap, t->tokstr[b], strlen(t->tokstr[b]), b)) return ERR_FAIL;
    }
    for (size_t w = 0; w < c->nw; w++) {
        t->sym[w] = mem_alloc(c->wlen[w] * sizeof **t->sym);
        if (!t->sym[w]) return ERR_FAIL;
        for (uint32_t i = 0; i < c->wlen[w]; i++) t->sym[w][i] = (uint8_t)c->wtext[w][i];
        t->nsym[w] = c->wlen[w];
        for (uint32_t i = 0; i + 1 < t->nsym[w]; i++) {
            pair_slot *p = pm_get(&t->pm, PKEY(t->sym[w][i], t->sym[w][i + 1]), 1);
            if (!p) return ERR_FAIL;
            p->count += c->wcount[w];
            if (add_where(p, (int32_t)w)) return ERR_FAIL;
        }
    }
    for (size_t i = 0; i < t->pm.cap; i++)
        if (t->pm.s[i].key != UINT64_MAX && t->pm.s[i].count > 0 && hpush(&t->q, t->pm.s[i].count, t->pm.s[i].key))
            return ERR_FAIL;
    return 0;
}

// Adds f to the count of pair (x, y) that word w now holds, and queues it at its new count.
static int bt_gain(bpe_trainer *t, int32_t x, int32_t y, int32_t w, int64_t f) {
    pair_slot *np = pm_get(&t->pm, PKEY(x, y), 1);
    if (!np) return ERR_FAIL;
    np->count += f;
    return add_where(np, w) || hpush(&t->q, np->count, np->key) ? ERR_FAIL : 0;
}

// Rewrites word w with (a, b) -> z and moves the counts of the pairs around each merged position.
static int bt_merge_word(bpe_trainer *t, int32_t w, int32_t a, int32_t b, int32_t z) {
    int32_t *s = t->sym[w];
    uint32_t n = t->nsym[w], out = 0;
    int64_t f = t->c.wcount[w];
    int prev_merged = 0;
    for (uint32_t i = 0; i < n;) {
        if (!(i + 1 < n && s[i] == a && s[i + 1] == b)) {
            s[out++] = s[i++];
            prev_merged = 0;
            continue;
        }
        // pairs around the merged position lose this occurrence and gain the new token's;
        // after a merge right before, the left pair (b, a) was already taken off
        if (out > 0) {
            if (!prev_merged) {
                pair_slot *l = pm_get(&t->pm, PKEY(s[out - 1], a), 0);
                if (l) l->count -= f;
            }
            if (bt_gain(t, s[out - 1], z, w, f)) return ERR_FAIL;
        }
        if (i + 2 < n) {
            pair_slot *r = pm_get(&t->pm, PKEY(b, s[i + 2]), 0);
            if (r) r->count -= f;
            // when the next pair is the same merge again, its gain is counted then
            if (!(i + 3 < n && s[i + 2] == a && s[i + 3] == b) && bt_gain(t, z, s[i + 2], w, f)) return ERR_FAIL;
        }
        s[out++] = z;
        i += 2;
        prev_merged = 1;
    }
    t->nsym[w] = out;
    return 0;
}

// The id of the token a+b: a new one, or the first id of a token two merge paths both spell.
static int bt_token(bpe_trainer *t, int32_t a, int32_t b, int32_t *z) {
    char *ns = mem_printf("%s%s", t->tokstr[a], t->tokstr[b]);
    if (!ns) return ERR_FAIL;
    *z = strmap_get(&t->tokmap, ns, strlen(ns));
    if (*z >= 0) {
        free(ns);
        return 0;
    }
    *z = t->ntok++;
    t->tokstr[*z] = ns;
    return strmap_put(&t->tokmap, ns, strlen(ns), *z);
}

// Applies the pair `key` everywhere it occurs.
static int bt_apply(bpe_trainer *t, const pair_slot *p, uint64_t key, uint32_t epoch) {
    int32_t a = (int32_t)(key >> 32), b = (int32_t)(key & 0xffffffffu), z;
    if (bt_token(t, a, b, &z)) return ERR_FAIL;
    t->merges[t->nmerge][0] = a, t->merges[t->nmerge][1] = b;
    t->nmerge++;
    // the word list may change while we walk it (new pairs added): copy it first
    uint32_t nwh = p->nwhere;
    int32_t *wl = mem_alloc((nwh + 1) * sizeof *wl);
    if (!wl) return ERR_FAIL;
    memcpy(wl, p->where, nwh * sizeof *wl);
    int rc = 0;
    for (uint32_t k = 0; !rc && k < nwh; k++) {
        int32_t w = wl[k];
        if (t->stamp[w] == epoch) continue;
        t->stamp[w] = epoch;
        rc = bt_merge_word(t, w, a, b, z);
    }
    free(wl);
    if (!rc) pm_get(&t->pm, key, 0)->count = 0;
    return rc;
}

// 3. merges, the most frequent pair first (ties: the smaller key)
static int bt_merges(bpe_trainer *t) {
    progress pg;
    if (t->o->progress) progress_begin(&pg, "bpe merges", t->target - 256, "merges");
    uint32_t epoch = 0;
    while (t->ntok < t->target && t->q.n) {
        hent top = hpop(&t->q);
        pair_slot *p = pm_get(&t->pm, top.key, 0);
        if (!p || p->count != top.count) {
            if (p && p->count > 0) hpush(&t->q, p->count, p->key);   // stale entry: requeue at its current count
            continue;
        }
        if (p->count < t->minf) break;
        if (bt_apply(t, p, top.key, ++epoch)) return ERR_FAIL;
        if (t->o->progress) progress_add(&pg, 1);
    }
    if (t->o->progress) progress_end(&pg);
    log_info("bpe train: %d merges, %d tokens (+%d special)", t->nmerge, t->ntok, NSPECIAL);
    return 0;
}

// 4. tokenizer.json
static int bt_json(const bpe_trainer *t, char **json) {
    cJSON *vocab = cJSON_CreateObject(), *marr = cJSON_CreateArray(), *added = specials_json(t->ntok, 1);
    for (int i = 0; i < t->ntok; i++) cJSON_AddNumberToObject(vocab, t->tokstr[i], i);
    for (int i = 0; i < t->nmerge; i++) {
        cJSON *pr = cJSON_CreateArray();
        cJSON_AddItemToArray(pr, cJSON_CreateString(t->tokstr[t->merges[i][0]]));
        cJSON_AddItemToArray(pr, cJSON_CreateString(t->tokstr[t->merges[i][1]]));
        cJSON_AddItemToArray(marr, pr);
    }
    char *sk = skeleton_json("{}", "[]", "[]");
    cJSON *root = sk ? cJSON_Parse(sk) : NULL;
    free(sk);
    if (!root) {
        cJSON_Delete(vocab), cJSON_Delete(marr), cJSON_Delete(added);
        return ERR_FAIL;
    }
    cJSON *model = cJSON_GetObjectItem(root, "model");
    cJSON_ReplaceItemInObject(model, "vocab", vocab);
    cJSON_ReplaceItemInObject(model, "merges", marr);
    cJSON_ReplaceItemInObject(root, "added_tokens", added);
    set_regex(root);
    *json = cJSON_Print(root);
    cJSON_Delete(root);
    return *json ? 0 : err_set("bpe train: out of memory writing the JSON");
}

static void bt_free(bpe_trainer *t) {
    counter *c = &t->c;
    for (size_t w = 0; w < c->nw; w++) free(c->wtext[w]);
    if (t->sym)
        for (size_t w = 0; w < c->nw; w++) free(t->sym[w]);
    free(c->wtext), free(c->wlen), free(c->wcount);
    strmap_free(&c->words);
    for (size_t i = 0; i < t->pm.cap; i++)
        if (t->pm.s[i].key != UINT64_MAX) free(t->pm.s[i].where);
    free(t->pm.s), free(t->q.h), free(t->sym), free(t->nsym), free(t->stamp), free(t->merges);
    if (t->tokstr)
        for (int i = 0; i < t->ntok; i++) free(t->tokstr[i]);
    free(t->tokstr);
    strmap_free(&t->tokmap);
}

int bpe_train(const char *text, size_t len, const bpe_train_opts *o, char **json, int *vocab_out) {
    *json = NULL;
    tok_bytelevel_init();
    int target = o->vocab_size - NSPECIAL;
    if (target < 256) return err_usage("vocab size %d is too small: need at least 256 byte tokens + %d special tokens", o->vocab_size, NSPECIAL);
    bpe_trainer t = {.o = o, .target = target, .minf = o->min_frequency > 0 ? o->min_frequency : 1, .ntok = 256};
    tokenizer *pre = NULL;
    int rc = bt_pretokenizer(&pre);
    if (!rc) rc = tok_pretokenize(pre, text, len, count_word, &t.c);
    tokenizer_free(pre);
    if (!rc) {
        log_info("bpe train: %zu bytes, %zu distinct words", len, t.c.nw);
        rc = bt_symbols(&t);
    }
    if (!rc) rc = bt_merges(&t);
    if (!rc) rc = bt_json(&t, json);
    if (!rc && vocab_out) *vocab_out = t.ntok + NSPECIAL;
    bt_free(&t);
    return rc ? ERR_FAIL : 0;
}
