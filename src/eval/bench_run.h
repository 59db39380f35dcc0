// `onerec eval --model`: RecIF-Bench end to end for a model dir: predictions for every task of a
// benchmark dir (written as JSONL next to the results), scored in SID and PID mode, plus the
// general-skill score, into a results table under one system name. Ranking tasks with a sid2pid
// map also get items_{task}.jsonl: per user {"user_id", "items": the beams' items in rank order}.
#pragma once
#include <stdint.h>

#include "eval/results.h"

typedef struct {
    const char *model_dir, *bench_dir, *out_dir, *name, *general_path;
    const char *judge_dir;      // a local judge model for item_understand / rec_reason (NULL: none)
    const char *const *tasks;   // NULL: all 8
    int ntasks;
    int64_t max_samples, general_samples;
    int width, constrain, max_text_tokens;
    int exclude_history;   // with constrain: no beam completes a SID shown in the prompt
    const int *ks;         // cut-offs (NULL: the benchmark's {1, 32})
    int nk;
} bench_run_opts;

int bench_run_model(const bench_run_opts *o, results_table *r);
