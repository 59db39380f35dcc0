// Ranking metrics over predicted item lists: RecIF-Bench's pass@k, position1_pass@k, recall@k, and
// the field's NDCG@k (binary relevance; with one ground-truth item, pass@k is the field's HR@k).
// Items are int64 ids: a PID, or a packed SID (sid_pack in rec/sid.h).
#pragma once
#include <stdint.h>

#define METRICS_MAX_K 8

// Accumulates per-sample scores; the reported value is the mean over added samples.
// Predictions are used as given (not de-duplicated: a repeated hit counts once in recall since it
// is a set intersection, and a duplicate still occupies a slot of the first k). Ground truth is
// de-duplicated with its order kept, so "the first ground-truth item" is well defined.
typedef struct {
    int nk;
    int ks[METRICS_MAX_K];
    int64_t n;            // samples counted
    int64_t n_empty_gt;   // samples skipped because their ground truth was empty
    double pass[METRICS_MAX_K], pos1[METRICS_MAX_K], recall[METRICS_MAX_K], ndcg[METRICS_MAX_K];
} rec_metrics;

// ks NULL means the benchmark's {1, 32}.
int rec_metrics_init(rec_metrics *m, const int *ks, int nk);
// pred [npred] ranked best first; gt [ngt]. Negative ids in pred never match (unmapped SIDs).
int rec_metrics_add(rec_metrics *m, const int64_t *pred, int npred, const int64_t *gt, int ngt);
// Mean over samples (0 when none). ki indexes m->ks.
double rec_metrics_pass(const rec_metrics *m, int ki);
double rec_metrics_pos1(const rec_metrics *m, int ki);
double rec_metrics_recall(const rec_metrics *m, int ki);
// DCG of the first k (1 / log2(rank + 2) per ground-truth item at its first rank) over the ideal
// DCG of min(k, ground-truth size) hits.
double rec_metrics_ndcg(const rec_metrics *m, int ki);
// Merge b into a (same ks), e.g. per-thread partial sums.
int rec_metrics_merge(rec_metrics *a, const rec_metrics *b);

// Parses a cut-off list such as "1,32" into ks (at most METRICS_MAX_K values, each >= 1).
int metrics_parse_ks(const char *s, int *ks, int *nk);
