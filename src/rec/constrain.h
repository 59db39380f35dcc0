// Beams restricted to real items: the SID trie's allowed next codes as itemic token ids, in the
// shape beam search takes (rec/beam.h beam_allowed_fn), and beam tokens back to SID codes.
#pragma once
#include <stdint.h>

#include "rec/sid.h"
#include "rec/trie.h"

typedef struct {
    const sid_trie *trie;
    const sid_vocab *vocab;
    // SIDs never to complete (e.g. the items already in the user's history): sorted sid_key
    // values (sid.h, with vocab->k); NULL / 0 for none. Owned when set by sid_constraint_ban_shown.
    uint64_t *banned;
    int64_t n_banned;
} sid_constraint;

// Bans every whole SID shown in the token sequence (a prompt's history): sets c->banned, owned by
// c until sid_constraint_free.
int sid_constraint_ban_shown(sid_constraint *c, const int32_t *ids, int64_t n_ids);
void sid_constraint_free(sid_constraint *c);

// beam_allowed_fn over a sid_constraint (ctx): the tokens that extend `prefix` (depth itemic
// tokens, one per layer) towards a SID in the trie and not banned; 0 when the prefix is not one.
int sid_constraint_allowed(void *ctx, const int32_t *prefix, int depth, int32_t *out, int max);
// The distinct whole SIDs (begin, one code per layer, end) inside a token sequence, as sorted
// sid_key values: *out malloc'd (NULL when none), *n their count. Other tokens are skipped.
int sid_keys_in_tokens(uint64_t **out, int64_t *n, const int32_t *ids, int64_t n_ids, const sid_vocab *v);
// The codes of n beam tokens (one per layer, in layer order): 1, or 0 when they are not a SID.
int sid_beam_codes(const sid_vocab *v, const int32_t *tokens, int n, int32_t *codes);
