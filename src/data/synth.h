// `onerec synth`: writes a synthetic world in the RecIF raw layout, plus item embeddings, planted
// SIDs, the general corpus and the oracle (true next-item distributions of test users, and the
// oracle / popularity Recall@32 that bound what a recommender can reach on this world).
#pragma once
#include <stdint.h>

#include "data/world.h"

#define SYNTH_K 32        // the K of Recall@K reported
#define SYNTH_ORACLE_TOP 100   // items per test user in the oracle files

typedef struct {
    int64_t users, test_users;
    int64_t oracle_users;                  // test users behind the figures below
    int64_t interactions;                  // history + target items over all domains
    double oracle_recall[DOM_COUNT];       // mean Recall@32 over test users
    double pop_recall[DOM_COUNT];          // popularity baseline (train histories, seen excluded)
    double random_recall[DOM_COUNT];       // expected Recall@32 of a uniform random ranking
    int64_t general_train, general_test;
    double seconds;
} synth_report;

extern const char *const DOMAIN_NAME[DOM_COUNT];   // "video", "ad", "product"

// ext: ".parquet" or ".jsonl" (NULL: dtab_default_ext()). oracle_users: the oracle files and the
// Recall@32 figures cover the first oracle_users test users (0: all); the oracle costs
// O(items of the user's topics) per test user, which matters for huge catalogues.
int synth_run(const world_config *cfg, const char *out_dir, const char *ext, int64_t oracle_users, synth_report *rep);
