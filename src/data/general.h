// The general-text corpus of the synthetic world: the stand-in for "general ability". Two skills
// that can be scored by exact match: the single-digit tables ("7×8=" -> "56") and facts about a
// fixed fictional world (the capital of a country, and back). Both are knowledge: every pair is
// trained and the test asks every pair again in one of its trained wordings, so the test measures
// what a model knows and later stages can make it forget (the knowledge the reference's
// distillation restores), not generalisation to unseen questions.
#pragma once
#include <stdint.h>

#include "data/lexicon.h"

typedef struct {
    char question[160];
    char answer[64];
    const char *skill;   // "arith" | "fact"
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
