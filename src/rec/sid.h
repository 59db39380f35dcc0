// Semantic IDs: itemic token ids <-> codes, SID strings, sid2pid keys, collision statistics and
// de-duplication (an extra digit, or re-balancing the last level onto free codes).
//
// Token ids (reference section 3): layer l (letter 'a' + l), code c -> base + l*K + c; then
// <|sid_begin|> = base + L*K and <|sid_end|> = base + L*K + 1. For Qwen3 with 3 x 8192:
// <s_a_0> = 151669, <s_b_0> = 159861, <s_c_0> = 168053, begin = 176245, end = 176246.
// SID string: "<|sid_begin|><s_a_12><s_b_3><s_c_4095><|sid_end|>"; a list is the concatenation.
// This header is the one home of SIDs: token ids, strings (strict and lenient parsing, formatting)
// and key packing; the item <-> SID maps and their files are data/pid2sid.h.
#pragma once
#include <stddef.h>
#include <stdint.h>

#include "rec/kmeans.h"

#define SID_QWEN3_BASE 151669
#define SID_MAX_LAYERS 16

typedef struct {
    int64_t base;   // first itemic token id (len(tokenizer) before expansion)
    int layers;     // digits per SID (3, or 4 with the disambiguation digit)
    int k;          // codes per layer
} sid_vocab;

int64_t sid_token_id(const sid_vocab *v, int layer, int code);
int64_t sid_begin_id(const sid_vocab *v);
int64_t sid_end_id(const sid_vocab *v);
// The (layer, code) of an itemic code token; returns 0, or -1 (no message) for any other id,
// including sid_begin/sid_end.
int sid_token_decode(const sid_vocab *v, int64_t id, int *layer, int *code);
// The token name of (layer, code): "<s_a_12>"; returns the length, or -1 when cap is too small.
int sid_token_name(char *buf, size_t cap, int layer, int code);

// ids out [n * (layers + 2)]: begin, one token per layer, end, per item; codes [n, layers]
void sid_codes_to_tokens(int64_t *ids, const int32_t *codes, int64_t n, const sid_vocab *v);
// codes out [max_items, layers] from a token sequence of whole SIDs (begin, L codes, end) each;
// *n_items gets the count. Any other token, a wrong layer order or a truncated SID is an error
// naming its position.
int sid_tokens_to_codes(int32_t *codes, int64_t max_items, int64_t *n_items, const int64_t *ids, int64_t n_ids,
                        const sid_vocab *v);

// Format one SID string. Returns the length written (NUL-terminated), or ERR_FAIL if cap is short.
int sid_format(char *buf, size_t cap, const int32_t *codes, int layers);
// Parse a concatenation of SID strings (whitespace between them allowed). codes out
// [max_items, layers]; layers is the number of digits expected; k bounds each code (0: no bound).
// Errors name the byte offset and what was expected.
int sid_parse(int32_t *codes, int64_t max_items, int64_t *n_items, const char *s, int layers, int k);

// sid2pid key: c0*K^(L-1) + ... + c_{L-1} (reference: c0*8192^2 + c1*8192 + c2). K^L must fit
// in 63 bits (checked by sid_key_check).
uint64_t sid_key(const int32_t *codes, int layers, int k);
void sid_key_split(int32_t *codes, uint64_t key, int layers, int k);
int sid_key_check(int layers, int k);

// The benchmark's packed SID (sid2pid.json keys, integer items in predictions and metrics): the
// key of 3 layers of 8192 codes, whatever codebook a model was trained with.
#define SID_PACK_LAYERS 3
#define SID_PACK_K 8192
static inline int64_t sid_pack(int c0, int c1, int c2) {
    return ((int64_t)c0 * SID_PACK_K + c1) * SID_PACK_K + c2;
}
// Lenient parsing, for model output and benchmark answers: the packed SIDs of the well-formed
// "<s_a_N><s_b_N><s_c_N>" triples found anywhere in text (the <|sid_begin|> / <|sid_end|> markers
// optional), in order, at most max; returns the count. A malformed or out-of-range SID is skipped
// (the benchmark scores it as a miss). sid_parse is the strict parser.
int sid_scan_packed(int64_t *keys, int max, const char *text);
// The SID string of a packed SID; returns the length, or ERR_FAIL when cap is short.
int sid_format_packed(char *buf, size_t cap, int64_t key);

typedef struct {
    int64_t n;                  // items
    int64_t unique;             // distinct SIDs
    int64_t colliding_items;    // items whose SID is shared with another item
    int64_t groups;             // SIDs shared by >= 2 items
    int64_t largest_group;      // most items on one SID
    double collision_rate;      // 1 - unique / n: share of items that need another SID
    int64_t used[SID_MAX_LAYERS];   // distinct codes used per layer
} sid_collision_stats;

// codes [n, layers]
int sid_collisions(sid_collision_stats *st, const int32_t *codes, int64_t n, int layers, int k);

typedef enum { SID_DEDUP_NONE = 0, SID_DEDUP_DIGIT = 1, SID_DEDUP_BALANCE = 2 } sid_dedup;
int sid_dedup_parse(const char *s, sid_dedup *out);
const char *sid_dedup_name(sid_dedup m);

// digit: out [n, layers + 1] = codes plus the item's rank inside its collision group (items in
// input order: the first keeps 0). Fails when a group is larger than k (the digit's code space).
int sid_dedup_digit(int32_t *out, const int32_t *codes, int64_t n, int layers, int k);

// balance: codes [n, L] in/out. In every collision group the item closest to its code keeps it;
// the others move, in order of distance, to the nearest last-level code that no item uses under
// the same prefix. resid [n, d] is each item's residual entering the last layer (rqkmeans_encode's
// resid_prev), or NULL when `rows` is given; rows: for streaming callers, the residuals of only the
// items listed by sid_colliders (in that order), see below. Returns the number of items moved;
// items whose prefix has no free code left stay collided. *moved may be NULL.
int sid_dedup_balance(int32_t *codes, int64_t n, const rq_codebook *cb, const float *resid, int64_t *moved);

// Indices (ascending) of items in collision groups: *out is malloc'd, *count its length.
int sid_colliders(int64_t **out, int64_t *count, const int32_t *codes, int64_t n, int layers, int k);
// The same as sid_dedup_balance, but the residuals are given only for the colliders:
// resid [count, d], in the order sid_colliders returned.
int sid_dedup_balance_sparse(int32_t *codes, int64_t n, const rq_codebook *cb, const int64_t *idx,
                             const float *resid, int64_t count, int64_t *moved);
