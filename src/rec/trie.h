// A trie over the valid SIDs, for constrained decoding: given a prefix of codes, the sorted set of
// codes that can follow. Nodes are numbered level by level (root = 0); each node's children are a
// sorted slice of one array, so a step is a binary search and "allowed next codes" is a pointer.
#pragma once
#include <stdint.h>

typedef struct {
    int layers;
    int64_t n_sids;      // distinct SIDs stored
    int64_t n_nodes;     // internal nodes (levels 0..layers-1)
    int64_t *first;      // [n_nodes + 1]: children of node v are entries first[v] .. first[v+1]-1
    int32_t *code;       // [entries] the child's code, sorted within a node
    int64_t *child;      // [entries] the child's node id (for the last level: the SID's rank)
} sid_trie;

// codes [n, layers]; duplicates are merged. Codes must be >= 0.
int sid_trie_build(sid_trie *t, const int32_t *codes, int64_t n, int layers);
void sid_trie_free(sid_trie *t);

// The child of `node` along `code`, or -1. At depth layers-1 the result is the SID's rank
// (0..n_sids-1, in sorted order), not a node.
int64_t sid_trie_step(const sid_trie *t, int64_t node, int32_t code);
// Allowed next codes at a node: *codes points into the trie, sorted ascending; returns the count.
int64_t sid_trie_children(const sid_trie *t, int64_t node, const int32_t **codes);
// The child along the j-th allowed code of sid_trie_children (0 <= j < count), without a search:
// beam search walks the allowed array and keeps j, so a step costs one load.
static inline int64_t sid_trie_child_at(const sid_trie *t, int64_t node, int64_t j) {
    return t->child[t->first[node] + j];
}
// Allowed next codes after a prefix of `len` codes (0 <= len < layers): count, or 0 when the
// prefix matches no SID (then *codes is NULL).
int64_t sid_trie_next(const sid_trie *t, const int32_t *prefix, int len, const int32_t **codes);
// 1 when the full SID is in the trie
int sid_trie_contains(const sid_trie *t, const int32_t *sid);
