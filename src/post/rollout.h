// RL rollouts for recommendation (reference 7.2): the two-stage rollout of one prompt (sample a
// reasoning until </think>, append "\n<|sid_begin|>", beam search one token per SID layer) gives
// a group of W responses; each is rewarded by whether its SID is in the ground truth.
#pragma once
#include <stdint.h>

#include "rec/lm.h"
#include "rec/trie.h"

typedef enum {
    ROLLOUT_REWARD_HIT = 0,   // 1 when the SID is in the ground truth (the reference's)
    ROLLOUT_REWARD_PREFIX = 1 // codes matched from the first, best over the ground truth, / 3
} rollout_reward;

typedef struct {
    int width;              // beams = group size (32)
    int max_think;          // reasoning tokens at most (reference 1024)
    float temperature, top_p;
    const char *soft_switch;   // "/no_think" (default) or "/think" on the last user turn; NULL: none
    const sid_trie *trie;   // constrained beams (real items only); NULL: unconstrained
    uint64_t seed;
    rollout_reward reward;
    int sample_sids;        // 1: the group is W sampled SIDs (temperature, top-p) instead of the W best
                            // beams; needs max_think 0 and no trie
    int exclude_history;    // with a trie: no beam completes a SID the prompt shows (the history)
} rollout_params;

typedef struct {
    int n;                  // responses (<= width)
    int plen;               // prompt tokens
    int32_t **seqs;         // [n] prompt + reasoning + suffix + SID tokens
    int *len;               // [n]
    uint8_t **train;        // [n] per response token: 1 when it carries loss (not the forced suffix)
    float *reward;          // [n] by rollout_params.reward
    float *partial;         // [n] 100 full hit, 10 first two codes, 1 first code, 0
    float *format;          // [n] 1: reasoning closed by </think> and a well-formed SID
    int think_tokens;       // sampled reasoning length
    int think_closed;
} rollout_group;

// One prompt (chat messages) and its ground truth (text with SIDs). A ground truth without any
// SID gives rewards of 0 (counted by the caller through gt_count).
int rollout_rec(lm *l, const chat_msg *msgs, size_t nmsgs, const char *answer, const rollout_params *p,
                rollout_group *g, int *gt_count);
void rollout_group_free(rollout_group *g);
