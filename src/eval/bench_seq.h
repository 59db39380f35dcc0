// The RecIF raw table (reference 5.1; `onerec synth` writes one) as item-id sequences for the
// baselines, per domain: training sequences are the split-0 users' history followed by their
// targets; eval samples are the split-1 users' history -> their first `max_targets` targets.
// The one dependency on the data layer (src/data/table.h) lives in this file.
#pragma once
#include <stdint.h>

#include "eval/baseline.h"
#include "eval/metrics_rank.h"
#include "eval/results.h"
#include "eval/seqdata.h"

typedef enum { BENCH_VIDEO = 0, BENCH_AD = 1, BENCH_PRODUCT = 2 } bench_domain;
const char *bench_domain_name(bench_domain d);   // "video", "ad", "product" (also the task names)

// The baselines work on dense item ids 1..N (pid order): their tables are sized by the largest id,
// and real catalogues have sparse ids (MovieLens' movieIds reach 163,949 for 9,066 movies).
typedef struct {
    int32_t *pid;   // [n + 1]: pid[dense]; pid[0] unused
    int32_t n;
} bench_ids;
int32_t bench_ids_dense(const bench_ids *ids, int64_t pid);   // n + 1 (an unknown id) when absent
void bench_ids_free(bench_ids *ids);

// raw: onerec_bench_release.parquet or .jsonl. uids (optional, malloc'd) receives the eval users'
// uids in sample order; ids the dense id space the sets are written in.
int bench_load_sequences(const char *raw, bench_domain d, int max_targets, seq_set *train, eval_set *test,
                         int64_t **uids, bench_ids *ids);

// label_pred as the converter builds it: for each split-1 user, the candidates target_video_pid[:max_cand]
// after its video history, labelled by target_video_longview (1 = long view).
typedef struct {
    seq_set hist, cand;   // sample i: history hist[i], candidates cand[i]
    int *labels;          // aligned with cand's items
} label_set;

int bench_load_labels(const char *raw, int max_cand, label_set *out);
void label_set_free(label_set *l);
// AUC of a baseline's candidate scores (baseline_score_items) over every (candidate, label).
int bench_label_auc(const baseline *b, const label_set *l, double *auc);

// Scores the world's oracle file (oracle/oracle_{domain}: uid, pid list ranked) against the eval
// samples of those uids; users absent from the oracle file are skipped (it may cover a prefix).
int bench_oracle_score(const char *oracle_path, const eval_set *test, const int64_t *uids, const bench_ids *ids, rec_metrics *m);

// Every baseline on every domain of a raw table, plus the world's oracle when `world_dir` (the
// `onerec synth` output dir holding oracle/) is given; results under task = domain name.
typedef struct {
    const char *raw;
    const char *world_dir;   // NULL: no oracle
    int max_targets;         // the benchmark's 10
    baseline_config cfg[3];  // popularity, item_knn, sasrec
    int skip_sasrec;
    int ks[METRICS_MAX_K], nk;
    const char *video_task;  // the video domain's task name in results and prediction files (NULL: "video")
    const char *pred_dir;    // NULL, or write pred_dir/{system}/pred_{task}.jsonl: per test user
                             // {"user_id": uid, "items": [its top pred_k item ids]}
    int pred_k;
} bench_baselines;

void bench_baselines_default(bench_baselines *b);
int bench_baselines_run(const bench_baselines *b, results_table *r);
