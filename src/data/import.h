// `data import`: a user's interaction log (user, item, time[, rating]) and item text into what
// the rest of the pipeline reads (docs/data.md, "Importing your own log"):
//   onerec_bench_release  the RecIF raw table, three rows per user (leave-one-out split):
//                         split 0 = the training sequence (hist = train[:-1], target = train[-1]),
//                         split 1 = the benchmark (hist = train + valid, target = test),
//                         split 2 = the validation sample (hist = train, target = valid)
//   pid2caption           pid = item id, dense_caption = the item's text columns joined
//   sequences             user_id, train, valid, test: the split itself
//   import_stats.json     what every rule kept and dropped
// Rules, in order: rows with rating < --min-rating are dropped as they are read; duplicate (user,
// item) pairs keep the earliest (equal times: the first in the file); the iterated K-core; the
// order per user is (timestamp, item_id) ascending; users left with < 3 items are dropped.
// Memory: the log is read once; the kept events (24 bytes each) and the id maps stay in memory.
#pragma once
#include <stdint.h>

typedef struct {
    const char *interactions;   // the log: .csv, .tsv, .jsonl or .parquet
    const char *items;          // item text (NULL: every caption is the item id)
    const char *out;            // output directory
    const char *user_col, *item_col, *time_col;
    const char *rating_col;     // NULL: no ratings, every row is a positive
    const char *item_id_col;    // the items file's id column
    const char *text_cols;      // comma-separated columns joined into the caption
    const char *tag_col;        // `|`-separated tags for the profile; NULL: "genres" when present
    double min_rating;          // keep rating >= this (-inf: keep all)
    int kcore;                  // 0/1: off
    int max_history;            // 0: keep every training item
    int force;                  // write into a non-empty out
} import_options;

void import_options_default(import_options *o);

typedef struct {
    int64_t rows_read, users_read, items_read;       // the log as read (distinct ids)
    int64_t dropped_min_rating, dropped_duplicates;  // rows
    int64_t dropped_kcore, kcore_rounds;             // rows, passes until stable
    int64_t dropped_short, users_short;              // rows and users of users with < 3 items
    int64_t trimmed_history;                         // training items cut by --max-history
    int64_t users, items, interactions;              // what is left (interactions before trimming)
    int64_t train_items;                             // training items written (after trimming)
    double mean_length;                              // interactions per user
    int64_t item_rows_read, item_rows_duplicate;     // the items file
    int64_t items_not_in_log;                        // item rows whose id is not a kept item
    int64_t items_without_text;                      // kept items captioned by their id
    int64_t ids_outside_baselines;                   // kept item ids outside [0, 2^30)
    int64_t raw_rows;
} import_stats;

// An --out that exists must be an empty directory (onerec's lock file aside) unless --force.
int import_check_out(const import_options *o);
// Reads, filters, splits and writes everything into o->out; the counts go to st and to
// o->out/import_stats.json, each rule is also logged on stderr.
int import_run(const import_options *o, import_stats *st);
