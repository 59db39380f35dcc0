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

int bpe_train(const char *text, size_t len, const bpe_train_opts *o, char **json, int *vocab_out) {
    *json = NULL;
    tok_bytelevel_init();
    int target = o->vocab_size - NSPECIAL;
    if (target < 256) return err_usage("vocab size %d is too small: need at least 256 byte tokens + %d special tokens", o->vocab_size, NSPECIAL);
    int minf = o->min_frequency > 0 ? o->min_frequency : 1;
    int rc = ERR_FAIL;
    tokenizer *pre = NULL;
    counter c = {0};
    pairmap pm = {0};
    heap q = {0};
    int32_t **sym = NULL;
    uint32_t *nsym = NULL, *stamp = NULL;
    char **tokstr = NULL;
    int32_t (*merges)[2] = NULL;
    strmap tokmap = {0};
    int ntok = 256, nmerge = 0;
    cJSON *root = NULL;

    // 1. words, through the same pre-tokenizer (the special tokens are split out, not learned)
    {
        cJSON *added = cJSON_CreateArray();
        for (int i = 0; i < NSPECIAL; i++) {
            cJSON *a = cJSON_CreateObject();
            cJSON_AddNumberToObject(a, "id", i);
            cJSON_AddStringToObject(a, "content", SPECIALS[i]);
            cJSON_AddBoolToObject(a, "special", 1);
            cJSON_AddBoolToObject(a, "normalized", 0);
            cJSON_AddItemToArray(added, a);
        }
        char *astr = cJSON_PrintUnformatted(added);
        cJSON_Delete(added);
        char *sk = skeleton_json("{}", "[]", astr);
        free(astr);
        if (!sk) goto done;
        // the regex goes in through cJSON so its backslashes are escaped correctly
        cJSON *j = cJSON_Parse(sk);
        free(sk);
        if (!j) {
            err_set("internal: trainer skeleton JSON does not parse");
            goto done;
        }
        cJSON *pat = cJSON_GetObjectItem(cJSON_GetArrayItem(cJSON_GetObjectItem(cJSON_GetObjectItem(j, "pre_tokenizer"), "pretokenizers"), 0), "pattern");
        cJSON_ReplaceItemInObject(pat, "Regex", cJSON_CreateString(TOK_QWEN_REGEX));
        char *s = cJSON_PrintUnformatted(j);
        cJSON_Delete(j);
        int lr = tokenizer_load_json(&pre, s, strlen(s), "<trainer>");
        free(s);
        if (lr) goto done;
    }
    if (tok_pretokenize(pre, text, len, count_word, &c)) goto done;
    log_info("bpe train: %zu bytes, %zu distinct words", len, c.nw);

    // 2. symbols: byte-level ids are the bytes' alphabet order (id b for byte b)
    sym = mem_calloc(c.nw + 1, sizeof *sym);
    nsym = mem_calloc(c.nw + 1, sizeof *nsym);
    stamp = mem_calloc(c.nw + 1, sizeof *stamp);
    tokstr = mem_calloc((size_t)target + 1, sizeof *tokstr);
    merges = mem_calloc((size_t)target + 1, sizeof *merges);
    if (!sym || !nsym || !stamp || !tokstr || !merges) goto done;
    for (int b = 0; b < 256; b++) {
        char ch[3] = {0};
        tok_bytelevel_char((uint8_t)b, ch);
        tokstr[b] = mem_strdup(ch);
        if (!tokstr[b] || strmap_put(&tokmap, tokstr[b], strlen(tokstr[b]), b)) goto done;
    }
    for (size_t w = 0; w < c.nw; w++) {
        sym[w] = mem_alloc(c.wlen[w] * sizeof **sym);
        if (!sym[w]) goto done;
        for (uint32_t i = 0; i < c.wlen[w]; i++) sym[w][i] = (uint8_t)c.wtext[w][i];
        nsym[w] = c.wlen[w];
        for (uint32_t i = 0; i + 1 < nsym[w]; i++) {
            pair_slot *p = pm_get(&pm, PKEY(sym[w][i], sym[w][i + 1]), 1);
            if (!p) goto done;
            p->count += c.wcount[w];
            if (add_where(p, (int32_t)w)) goto done;
        }
    }
    for (size_t i = 0; i < pm.cap; i++)
        if (pm.s[i].key != UINT64_MAX && pm.s[i].count > 0 && hpush(&q, pm.s[i].count, pm.s[i].key)) goto done;

    // 3. merges
    progress pg;
    if (o->progress) progress_begin(&pg, "bpe merges", target - 256, "merges");
    uint32_t epoch = 0;
    while (ntok < target && q.n) {
        hent top = hpop(&q);
        pair_slot *p = pm_get(&pm, top.key, 0);
        if (!p || p->count != top.count) {
            if (p && p->count > 0) hpush(&q, p->count, p->key);   // stale entry: requeue at its current count
            continue;
        }
        if (p->count < minf) break;
        int32_t a = (int32_t)(top.key >> 32), b = (int32_t)(top.key & 0xffffffffu);
        char *ns = mem_printf("%s%s", tokstr[a], tokstr[b]);
        if (!ns) goto done;
        int32_t z = strmap_get(&tokmap, ns, strlen(ns));
        if (z < 0) {
            z = ntok++;
            tokstr[z] = ns;
            if (strmap_put(&tokmap, ns, strlen(ns), z)) goto done;
        } else {
            free(ns);   // two merge paths can spell the same token: it keeps its first id
        }
        merges[nmerge][0] = a, merges[nmerge][1] = b;
        nmerge++;
        epoch++;
        // the word list may change while we walk it (new pairs added): copy it first
        uint32_t nwh = p->nwhere;
        int32_t *wl = mem_alloc((nwh + 1) * sizeof *wl);
        if (!wl) goto done;
        memcpy(wl, p->where, nwh * sizeof *wl);
        for (uint32_t k = 0; k < nwh; k++) {
            int32_t w = wl[k];
            if (stamp[w] == epoch) continue;
            stamp[w] = epoch;
            int32_t *s = sym[w];
            uint32_t n = nsym[w], out = 0;
            int64_t f = c.wcount[w];
            int prev_merged = 0;
            for (uint32_t i = 0; i < n;) {
                if (i + 1 < n && s[i] == a && s[i + 1] == b) {
                    // pairs around the merged position lose this occurrence and gain the new token's;
                    // after a merge right before, the left pair (b, a) was already taken off
                    if (out > 0) {
                        if (!prev_merged) {
                            pair_slot *l = pm_get(&pm, PKEY(s[out - 1], a), 0);
                            if (l) l->count -= f;
                        }
                        pair_slot *nl = pm_get(&pm, PKEY(s[out - 1], z), 1);
                        if (!nl) goto done_wl;
                        nl->count += f;
                        if (add_where(nl, w) || hpush(&q, nl->count, nl->key)) goto done_wl;
                    }
                    if (i + 2 < n) {
                        pair_slot *r = pm_get(&pm, PKEY(b, s[i + 2]), 0);
                        if (r) r->count -= f;
                        // when the next pair is the same merge again, its gain is counted then
                        if (!(i + 3 < n && s[i + 2] == a && s[i + 3] == b)) {
                            pair_slot *nr = pm_get(&pm, PKEY(z, s[i + 2]), 1);
                            if (!nr) goto done_wl;
                            nr->count += f;
                            if (add_where(nr, w) || hpush(&q, nr->count, nr->key)) goto done_wl;
                        }
                    }
                    s[out++] = z;
                    i += 2;
                    prev_merged = 1;
                } else {
                    s[out++] = s[i++];
                    prev_merged = 0;
                }
            }
            nsym[w] = out;
        }
        p = pm_get(&pm, top.key, 0);
        p->count = 0;
        free(wl);
        if (o->progress) progress_add(&pg, 1);
        continue;
    done_wl:
        free(wl);
        goto done;
    }
    if (o->progress) progress_end(&pg);
    log_info("bpe train: %d merges, %d tokens (+%d special)", nmerge, ntok, NSPECIAL);

    // 4. tokenizer.json
    {
        cJSON *vocab = cJSON_CreateObject(), *marr = cJSON_CreateArray(), *added = cJSON_CreateArray();
        for (int i = 0; i < ntok; i++) cJSON_AddNumberToObject(vocab, tokstr[i], i);
        for (int i = 0; i < nmerge; i++) {
            cJSON *pr = cJSON_CreateArray();
            cJSON_AddItemToArray(pr, cJSON_CreateString(tokstr[merges[i][0]]));
            cJSON_AddItemToArray(pr, cJSON_CreateString(tokstr[merges[i][1]]));
            cJSON_AddItemToArray(marr, pr);
        }
        for (int i = 0; i < NSPECIAL; i++) {
            cJSON *a = cJSON_CreateObject();
            cJSON_AddNumberToObject(a, "id", ntok + i);
            cJSON_AddStringToObject(a, "content", SPECIALS[i]);
            cJSON_AddBoolToObject(a, "single_word", 0);
            cJSON_AddBoolToObject(a, "lstrip", 0);
            cJSON_AddBoolToObject(a, "rstrip", 0);
            cJSON_AddBoolToObject(a, "normalized", 0);
            // as in Qwen3: <think> and </think> are added but not special (decoding keeps them)
            cJSON_AddBoolToObject(a, "special", i < 3);
            cJSON_AddItemToArray(added, a);
        }
        char *sk = skeleton_json("{}", "[]", "[]");
        if (!sk) goto done;
        root = cJSON_Parse(sk);
        free(sk);
        if (!root) goto done;
        cJSON *model = cJSON_GetObjectItem(root, "model");
        cJSON_ReplaceItemInObject(model, "vocab", vocab);
        cJSON_ReplaceItemInObject(model, "merges", marr);
        cJSON_ReplaceItemInObject(root, "added_tokens", added);
        cJSON *pat = cJSON_GetObjectItem(cJSON_GetArrayItem(cJSON_GetObjectItem(cJSON_GetObjectItem(root, "pre_tokenizer"), "pretokenizers"), 0), "pattern");
        cJSON_ReplaceItemInObject(pat, "Regex", cJSON_CreateString(TOK_QWEN_REGEX));
        *json = cJSON_Print(root);
        if (vocab_out) *vocab_out = ntok + NSPECIAL;
        if (!*json) {
            err_set("bpe train: out of memory writing the JSON");
            goto done;
        }
    }
    rc = 0;
done:
    cJSON_Delete(root);
    tokenizer_free(pre);
    for (size_t w = 0; w < c.nw; w++) free(c.wtext[w]);
    if (sym)
        for (size_t w = 0; w < c.nw; w++) free(sym[w]);
    free(c.wtext), free(c.wlen), free(c.wcount);
    strmap_free(&c.words);
    for (size_t i = 0; i < pm.cap; i++)
        if (pm.s[i].key != UINT64_MAX) free(pm.s[i].where);
    free(pm.s), free(q.h), free(sym), free(nsym), free(stamp), free(merges);
    if (tokstr)
        for (int i = 0; i < ntok; i++) free(tokstr[i]);
    free(tokstr);
    strmap_free(&tokmap);
    return rc;
}
