// General skill (the synthetic world's stand-in for "general ability"): greedy answers to the
// held-out questions of general_test, scored by exact match (data/general.h general_score).
#pragma once
#include <stdint.h>

#include "rec/lm.h"

typedef struct {
    int64_t n, correct;
    double accuracy;
    int64_t skill_n[2], skill_correct[2];   // [0] arithmetic (held-out pairs), [1] facts (all trained)
    double skill_accuracy[2];
} general_result;

int eval_general(lm *l, const char *test_path, int64_t max_samples, int max_new, general_result *out);
