#include "rec/constrain.h"

int sid_beam_codes(const sid_vocab *v, const int32_t *tokens, int n, int32_t *codes) {
    for (int i = 0; i < n; i++) {
        int layer, code;
        if (sid_token_decode(v, tokens[i], &layer, &code) || layer != i) return 0;
        codes[i] = code;
    }
    return 1;
}

int sid_constraint_allowed(void *ctx, const int32_t *prefix, int depth, int32_t *out, int max) {
    const sid_constraint *c = ctx;
    int32_t codes[SID_MAX_LAYERS];
    if (depth >= SID_MAX_LAYERS || !sid_beam_codes(c->vocab, prefix, depth, codes)) return 0;
    const int32_t *next;
    int64_t n = sid_trie_next(c->trie, codes, depth, &next);
    n = n > max ? max : n;
    for (int64_t i = 0; i < n; i++) out[i] = (int32_t)sid_token_id(c->vocab, depth, next[i]);
    return (int)n;
}
