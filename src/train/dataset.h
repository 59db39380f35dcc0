// Dataset config JSON (reference section 5.4) and file_list.json: which parquet shards to read, how
// long rows are, how samples are masked. Unknown keys are errors, so a typo never silently falls
// back to a default.
#pragma once
#include <cjson/cJSON.h>

typedef struct {
    char *name;                  // "chat_completion_parquet" (the only loader kind)
    char **files;                // resolved parquet paths, in file_list order
    int nfiles;
    char *base_model_dir;        // NULL when absent (informational; --model_dir wins)
    int max_length;              // tokens per packed row
    int max_sample_length;       // longer samples are skipped and counted
    int num_epochs;
    int num_workers;             // accepted for compatibility; loading is single-threaded
    int cut_to_pad;              // 1: the overflowing sample fills the row, its rest is dropped
    int full_attention;          // 1: attention spans the whole row (no per-sample restart)
    int local_shuffle_buffer_size;      // 0/1: no shuffling beyond the per-epoch file shuffle
    double local_shuffle_random_fetch;  // accepted, validated in [0, 1]; see docs/train.md
    int itemic_lo, itemic_hi;    // itemic_id_range, inclusive
    int add_think_pattern;
    int only_assistant_loss;     // Chat samples: loss on assistant tokens only (0: on every token)
} train_dataset_config;

// `path` is the config file; relative paths inside resolve against the current directory when they
// exist there, else against the directory of the file that names them.
void train_dataset_config_default(train_dataset_config *c);   // the reference's values
// From parsed JSON; `where` names the source in messages, relative paths resolve against base_dir.
int train_dataset_config_from_json(train_dataset_config *c, const cJSON *j, const char *where, const char *base_dir);
int train_dataset_config_load(train_dataset_config *c, const char *path);
void train_dataset_config_free(train_dataset_config *c);

// file_list.json: a JSON array of paths (strings). Appends the resolved paths to *files.
int train_file_list_load(const char *path, char ***files, int *nfiles);
