#include "rec/constrain.h"

#include <stdlib.h>

#include "base/err.h"
#include "base/mem.h"

int sid_beam_codes(const sid_vocab *v, const int32_t *tokens, int n, int32_t *codes) {
    for (int i = 0; i < n; i++) {
        int layer, code;
        if (sid_token_decode(v, tokens[i], &layer, &code) || layer != i) return 0;
        codes[i] = code;
    }
    return 1;
}

static int key_cmp(const void *a, const void *b) {
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

static int is_banned(const sid_constraint *c, const int32_t *codes) {
    if (!c->n_banned) return 0;
    uint64_t key = sid_key(codes, c->vocab->layers, c->vocab->k);
    return bsearch(&key, c->banned, (size_t)c->n_banned, sizeof key, key_cmp) != NULL;
}

int sid_constraint_allowed(void *ctx, const int32_t *prefix, int depth, int32_t *out, int max) {
    const sid_constraint *c = ctx;
    int32_t codes[SID_MAX_LAYERS];
    if (depth >= SID_MAX_LAYERS || !sid_beam_codes(c->vocab, prefix, depth, codes)) return 0;
    const int32_t *next;
    int64_t n = sid_trie_next(c->trie, codes, depth, &next);
    int last = depth == c->vocab->layers - 1, m = 0;
    for (int64_t i = 0; i < n && m < max; i++) {
        codes[depth] = next[i];
        if (last && is_banned(c, codes)) continue;
        out[m++] = (int32_t)sid_token_id(c->vocab, depth, next[i]);
    }
    return m;
}

int sid_constraint_ban_shown(sid_constraint *c, const int32_t *ids, int64_t n_ids) {
    return sid_keys_in_tokens(&c->banned, &c->n_banned, ids, n_ids, c->vocab);
}

void sid_constraint_free(sid_constraint *c) {
    free(c->banned);
    c->banned = NULL, c->n_banned = 0;
}

int sid_keys_in_tokens(uint64_t **out, int64_t *n, const int32_t *ids, int64_t n_ids, const sid_vocab *v) {
    *out = NULL, *n = 0;
    int L = v->layers;
    int64_t cap = n_ids / (L + 2) + 1, cnt = 0;
    uint64_t *keys = NULL;
    int64_t begin = sid_begin_id(v), end = sid_end_id(v);
    for (int64_t i = 0; i + L + 1 < n_ids; i++) {
        if (ids[i] != begin || ids[i + L + 1] != end) continue;
        int32_t codes[SID_MAX_LAYERS];
        int ok = 1;
        for (int j = 0; j < L && ok; j++) {
            int layer, code;
            ok = !sid_token_decode(v, ids[i + 1 + j], &layer, &code) && layer == j;
            codes[j] = code;
        }
        if (!ok) continue;
        if (!keys && !(keys = mem_alloc((size_t)cap * sizeof *keys))) return ERR_FAIL;
        keys[cnt++] = sid_key(codes, L, v->k);
        i += L + 1;
    }
    if (!cnt) return 0;
    qsort(keys, (size_t)cnt, sizeof *keys, key_cmp);
    int64_t u = 0;
    for (int64_t i = 0; i < cnt; i++)
        if (!u || keys[i] != keys[u - 1]) keys[u++] = keys[i];
    *out = keys, *n = u;
    return 0;
}
