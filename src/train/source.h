// Training samples from the unified parquet format (reference section 5.2): a row with non-empty
// `messages` is Chat (rendered with the Qwen3 chat template, think pattern optional, loss on the
// assistant spans unless only_assistant_loss is off), otherwise Segments (texts concatenated, loss
// on every token); both end with <|endoftext|>. The `source` column names the task for the
// per-source loss. Files (.parquet, or .jsonl rows) are read whole through the data layer's row
// tables (shards are ~1000 rows); the last two are cached.
#pragma once
#include "text/tokenizer.h"
#include "train/loader.h"

typedef struct train_data train_data;

typedef struct {
    char *const *files;
    int nfiles;
    const tokenizer *tok;
    int add_think_pattern;
    int only_assistant_loss;
} train_data_config;

int train_data_open(train_data **d, const train_data_config *c);
void train_data_close(train_data *d);
train_source train_data_source(train_data *d);
int train_data_num_sources(const train_data *d);
const char *train_data_source_name(const train_data *d, int i);
int32_t train_data_pad_id(const train_data *d);   // <|endoftext|>

// Tokenises one sample given its column texts (messages / segments may be NULL or "").
// `where` names the row in messages ("file.parquet row 12").
int train_data_tokenize(train_data *d, const char *source, const char *messages, const char *segments,
                        train_sample *out, const char *where);
