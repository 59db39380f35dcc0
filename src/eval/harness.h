// The evaluation harness for ranking tasks: anything that maps a history to a ranked list of item
// ids (the model through its decoder, a baseline, the synthetic world's oracle) is scored the same
// way, over an eval_set, into rec_metrics.
#pragma once
#include <stdint.h>

#include "eval/baseline.h"
#include "eval/metrics_rank.h"
#include "eval/results.h"
#include "eval/seqdata.h"

// Writes up to k item ids, best first, into out; returns how many, or ERR_FAIL with a message.
// Called concurrently from several threads.
typedef int (*eval_rank_fn)(void *ctx, const int32_t *hist, int n, int k, int32_t *out);

// Ranks every sample's history (top max(ks) items) and accumulates the metrics against its targets.
// m must be initialised (rec_metrics_init) with the cut-offs wanted.
int eval_ranking(eval_rank_fn rank, void *ctx, const eval_set *data, rec_metrics *m);
// The same, also keeping each sample's first ktop items in top [samples, ktop] (-1 past the end).
int eval_ranking_top(eval_rank_fn rank, void *ctx, const eval_set *data, rec_metrics *m, int ktop, int32_t *top);

// Adapters: a fitted baseline and the Markov world's oracle as eval_rank_fn.
int eval_rank_baseline(void *baseline_ptr, const int32_t *hist, int n, int k, int32_t *out);
int eval_rank_markov_oracle(void *world_ptr, const int32_t *hist, int n, int k, int32_t *out);

// The baselines on a synthetic Markov world (seqdata.h), side by side with its oracle: generates
// the world, fits popularity, item-kNN and SASRec on its training walks, ranks the held-out users'
// histories and writes every system's metrics under `task` into r.
typedef struct {
    int32_t nitems, branch;
    double jump, zipf;
    int64_t users, eval_users;
    int len, targets;
    uint64_t seed;
    baseline_config knn, sasrec;   // kind fields are set by the bench
    int ks[METRICS_MAX_K], nk;
    const char *task;
    int skip_sasrec;
} markov_bench;

void markov_bench_default(markov_bench *b);
int eval_markov_bench(const markov_bench *b, results_table *r);
