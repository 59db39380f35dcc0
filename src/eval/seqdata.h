// Item-id sequences for the baselines: a compact set of users' histories (CSR layout), a text file
// format for them, evaluation samples (history -> ground-truth targets), and a synthetic Markov
// world with a known oracle, used by tests and by `onerec baseline` before real data is at hand.
#pragma once
#include <stdint.h>

// Sequences concatenated: sequence s is items[offsets[s] .. offsets[s+1]); ids in [0, nitems).
typedef struct {
    int32_t *items;
    int64_t *offsets;   // [nseq + 1]
    int64_t nseq;
    int32_t nitems;     // 1 + the largest id (or larger, when the catalogue is known)
    int64_t cap_items, cap_seq;
} seq_set;

int seq_set_init(seq_set *s);
void seq_set_free(seq_set *s);
int seq_set_append(seq_set *s, const int32_t *items, int64_t n);   // one more sequence
static inline int64_t seq_len(const seq_set *s, int64_t i) { return s->offsets[i + 1] - s->offsets[i]; }
static inline const int32_t *seq_at(const seq_set *s, int64_t i) { return s->items + s->offsets[i]; }

// Evaluation samples: sample i has history hist[i] and ground truth target[i] (same index).
typedef struct {
    seq_set hist, target;
} eval_set;

int eval_set_init(eval_set *e);
void eval_set_free(eval_set *e);

// Text formats. A sequence file has one sequence per line: whitespace-separated item ids, oldest
// first ("#" lines and blank lines are skipped). An eval file has "history ids | target ids".
int seq_file_read(const char *path, seq_set *out);
int seq_file_write(const char *path, const seq_set *s);
int eval_file_read(const char *path, eval_set *out);
int eval_file_write(const char *path, const eval_set *e);

// Synthetic Markov world: item i is followed by one of its `branch` successors (Zipf-weighted,
// probability 1 - jump) or, with probability `jump`, by an item drawn from a Zipf popularity law.
// Users' sequences are walks from a popularity-drawn start. The true next-item law is known, so
// the oracle ranking (expected occurrences among the next `horizon` items) is exact.
typedef struct {
    int32_t nitems, branch;
    double jump, zipf;
    int32_t *succ;     // [nitems, branch]
    double *succ_p;    // [branch] probabilities of the successor slots (sum 1)
    double *pop;       // [nitems] popularity law of jumps and starts
    double *pop_cdf;   // [nitems]
    int horizon;       // the oracle scores the next `horizon` steps (the target list length)
} markov_world;

int markov_world_init(markov_world *w, int32_t nitems, int32_t branch, double jump, double zipf,
                      uint64_t seed);
void markov_world_free(markov_world *w);
// nusers walks of length len: the train set gets whole walks; the eval set (when not NULL) gets
// for nusers_eval other walks the first len - ntarget items as history and the rest as targets.
int markov_world_sample(const markov_world *w, int64_t nusers, int len, uint64_t seed, seq_set *train,
                        int64_t nusers_eval, int ntarget, eval_set *eval);
// Oracle top-k for a history: items ranked by their expected number of occurrences among the
// next `horizon` steps given the last history item. Returns k (or ERR_FAIL).
int markov_world_rank(const markov_world *w, const int32_t *hist, int n, int k, int32_t *out);
