// A local judge model for the judged RecIF-Bench tasks (the reference asks gemini-2.5-flash-lite):
// the judge reads the question, the reference and the prediction in a chat prompt and answers with
// a number, read greedily. rec_reason: a 1-5 score (the reference's scale). item_understand: the
// share of the reference's information points the prediction covers, asked as 0-10 and divided by
// 10 (a single-call stand-in for the reference's weighted information-point F1). An answer with no
// number in range scores the minimum (1, or 0) and is counted.
#pragma once
#include <stdint.h>

#include "rec/lm.h"

typedef struct {
    lm *judge;
    int info_points;       // 1: item_understand rubric (0..1), 0: rec_reason (1..5)
    int64_t calls, unparsable;
} judge_ctx;

// text_judge_fn (eval/metrics_text.h) over a judge_ctx
int judge_score(void *ctx, const char *prompt, const char *ref, const char *pred, double *score);
