// The general-text corpus of the synthetic world: the stand-in for "general ability". Two skills
// that can be scored by exact match: small arithmetic ("12+7=" -> "19") and facts about a fixed
// that can be scored by exact match: small arithmetic ("12+7=" -> "19") and facts about a fixed
// fictional world (the capital of a country, and back). Arithmetic is split by a hash into a
// training part and a held-out test part, so accuracy measures learning, not recall; facts are
// all trained and all tested (knowledge that later training stages should keep).
#pragma once
#include <stdint.h>

#include "data/lexicon.h"

typedef struct {
    char question[160];
    char answer[64];
    const char *skill;   // "arith" | "fact"
    int test;            // 1: held out (never in the training files)
} general_qa;

// Number of distinct question/answer pairs (the enumeration is fixed for a language).
int64_t general_count(void);
// The i-th pair (0 <= i < general_count()); phrasing `variant` picks the wording.
void general_get(data_lang l, int64_t i, int variant, general_qa *qa);

// Exact-match scoring: a prediction counts when, after dropping a <think>...</think> block,
// surrounding white space and trailing punctuation (.,。！!), it equals the answer.
int general_score(const char *prediction, const char *answer);

// Writes under dir: general_pretrain{ext} (Segments), general_sft{ext} (Chat, training pairs) and
// general_test{ext} (Chat prompts without the answer + metadata {"answer", "skill"}).
int general_write(const char *dir, data_lang l, uint64_t seed, const char *ext, int64_t *n_train, int64_t *n_test);
