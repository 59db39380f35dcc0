// Collaborative item embeddings from interaction sequences (`onerec embed --method cooc`): item-item
// co-occurrence counts over the training users' sequences, positive pointwise mutual information
// (PPMI), then a truncated SVD (src/rec/svd.h) whose item vectors are U sqrt(S), as in Levy &
// Goldberg's SVD of the word-context PMI matrix. Items that never co-occur get no direction from
// here; the caller fills them (embed_rows_normalize).
#pragma once
#include <stdint.h>

#include "data/pidmap.h"
#include "rec/svd.h"

// Symmetric counts, each unordered pair {i, j} (i != j) stored once. Memory: ~40 bytes per
// distinct pair (the hash index and the count), nothing per user.
typedef struct {
    pid_index pairs;   // key i << 32 | j with i < j -> slot in count
    double *count;
    int64_t cap;
    int64_t n_items;   // 1 + the largest item index seen
} cooc_counts;

// Adds every pair of positions p < q of items [n] with q - p <= window (window 0: every pair) to
// the counts, once per pair of positions; entries < 0 (unknown items) are skipped, as are pairs of
// the same item.
int cooc_add_sequence(cooc_counts *c, const int32_t *items, int n, int window);
int64_t cooc_pairs(const cooc_counts *c);   // distinct unordered pairs
void cooc_free(cooc_counts *c);

// out [n_items, n_items] (n_items >= c->n_items) = max(0, PMI_ij - ln(shift)) with
// PMI_ij = ln(c_ij * sum_k c_k^a / (c_i * c_j^a)), c_i = sum_j c_ij, a = cds (context distribution
// smoothing; 1 = none, the plain PMI); rows sorted by column. shift >= 1 (1 = plain PPMI).
int cooc_ppmi(csr_mat *out, const cooc_counts *c, int64_t n_items, double shift, double cds);

typedef struct {
    int64_t users;          // rows read
    int64_t train_users;    // split 0: the only rows used
    int64_t interactions;   // known items in the training rows' lists
    int64_t unknown;        // pids of training rows not in the item index (grow = 0)
    int64_t bad_rows;       // rows the raw reader skipped
} cooc_read_stats;

// Counts the co-occurrences of the RecIF raw table's training users (split == 0; every other
// split's rows are skipped whole, so no held-out target can leak into the embeddings). A user's
// sequences are, per domain, history then targets: video, ad, goods. window 0 pairs all of a
// user's items across domains; window N pairs items at most N apart inside one domain's sequence.
// items maps pid -> row; with grow, new pids are added to it, else counted as unknown.
int cooc_read_raw(cooc_counts *c, pid_index *items, int grow, const char *raw_path, int window, cooc_read_stats *st);
