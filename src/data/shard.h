// Sharding and the RL / distillation sets (reference section 5.2 and step 3 of section 1):
// shards of `rows_per_shard` rows named part-00000-of-000NN{ext} with file_list.json (a JSON array
// of the shards' absolute paths); the RL split of the 5 *_rec SFT tables; the general sample for
// on-policy distillation. Shuffling keeps only a permutation of row indices in memory.
#pragma once
#include <stdint.h>

// Counts the rows of every input table.
int shard_count_rows(const char *const *inputs, int n, int64_t *rows);
// inputs in order (shuffle 0) or in a seeded random order (shuffle 1).
int shard_run(const char *const *inputs, int n, const char *out_dir, int rows_per_shard, int shuffle,
              uint64_t seed, const char *ext, int64_t *rows, int *shards);
// The 5 *_rec SFT tables of a `data convert` output (video_rec, ad_rec, product_rec,
// interactive_rec, label_cond_rec), shuffled; `test_size` rows to out/test{ext}, the rest to
// out/train{ext}.
int prepare_rl(const char *convert_dir, const char *out_dir, int64_t test_size, uint64_t seed, const char *ext,
               int64_t *n_train, int64_t *n_test);
// A seeded uniform sample of `count` rows (all when fewer) of the inputs into out_path, kept in
// input order (the trainer shuffles).
int prepare_distill(const char *const *inputs, int n, const char *out_path, int64_t count, uint64_t seed,
                    int64_t *n_out);
