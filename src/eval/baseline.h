// Non-generative baselines for RecIF-Bench's recommendation tasks. They work on dense item-id
// sequences (seqdata.h): fit on users' histories, then rank: history -> top-k item ids, so the
// evaluation harness treats them exactly like the model (see eval_rank_fn in harness.h).
//   popularity  items by training frequency
//   item_knn    item-to-item co-occurrence kNN: sim(a,b) = C(a,b) / sqrt(n_a n_b), where C counts
//               b following a within a window (weight 1/distance); a history's recent items vote
//   sasrec      self-attentive sequential recommender (Kang & McAuley 2018) trained with
//               full-softmax cross-entropy on next-item prediction (sasrec.h)
#pragma once
#include <stdint.h>
#include <stdio.h>

#include "eval/seqdata.h"

typedef enum { BASELINE_POPULARITY = 0, BASELINE_ITEMKNN = 1, BASELINE_SASREC = 2 } baseline_kind;

typedef struct {
    int dim;            // embedding width
    int layers;         // transformer blocks
    int heads;          // attention heads (dim % heads == 0)
    int maxlen;         // most recent items the model sees
    int epochs;         // passes over all training positions
    int batch;          // sequences per step
    float lr;           // Adam learning rate
    float weight_decay; // decoupled (AdamW) decay on matrices
} sasrec_config;

typedef struct {
    baseline_kind kind;
    int exclude_history;   // never recommend an item already in the history
    int knn_window;        // co-occurrence counted for items up to this many steps apart
    int knn_neighbours;    // neighbours kept per item
    int knn_history;       // this many most recent history items vote
    double knn_decay;      // the i-th most recent voter weighs decay^i
    int knn_symmetric;     // also count "b then a" (undirected co-occurrence)
    sasrec_config sasrec;
    uint64_t seed;
} baseline_config;

typedef struct baseline baseline;

void baseline_config_default(baseline_config *c, baseline_kind kind);
const char *baseline_kind_name(baseline_kind kind);            // "popularity", "item_knn", "sasrec"
int baseline_kind_parse(const char *name, baseline_kind *kind); // accepts the names above, "pop", "knn"

int baseline_fit(baseline **out, const baseline_config *cfg, const seq_set *train);
// out [k]: the top-k item ids for this history, best first; returns how many were written (fewer
// than k only when the catalogue, after exclusions, is smaller). Thread-safe for concurrent calls.
int baseline_rank(const baseline *b, const int32_t *history, int n, int k, int32_t *out);
// Scores of given candidate items after this history (higher = more likely next), for label_pred
// style AUC: popularity counts, item-kNN votes (0 without any), SASRec logits. out [ncand];
// candidates outside the catalogue score -inf.
int baseline_score_items(const baseline *b, const int32_t *history, int n, const int32_t *cand, int ncand,
                         float *out);
const baseline_config *baseline_get_config(const baseline *b);
// A trained baseline as one binary file (magic "ONERECBL", version, config, tables).
int baseline_save(const baseline *b, const char *path);
int baseline_load(baseline **out, const char *path);
void baseline_free(baseline *b);
