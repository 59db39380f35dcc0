// The training data stream: epochs over the dataset's files (file order reshuffled each epoch
// from the seed), a local shuffle buffer of tokenised samples, skipping of over-long and
// untrainable samples, and packing into rows. Its whole state (cursor, RNG, the buffer as sample
// references, the pending sample) is saved as JSON at step boundaries and restored exactly.
#pragma once
#include <cjson/cJSON.h>
#include <stdint.h>

#include "base/rng.h"
#include "train/pack.h"

// Where samples come from: the parquet + tokeniser adapter in training, a table in tests.
typedef struct {
    void *ctx;
    int (*file_rows)(void *ctx, int file, int64_t *nrows);                  // samples in file
    int (*fetch)(void *ctx, int file, int64_t row, train_sample *out);     // tokenise one sample
} train_source;

typedef struct {
    int32_t file;        // index into the dataset's file list (not the shuffled order)
    int64_t row;
} sample_ref;

typedef struct {
    int nfiles, num_epochs, buffer_size, max_sample_length, cut_to_pad, full_attention;
    uint64_t seed;
} train_loader_config;

typedef struct {
    train_loader_config cfg;
    train_source src;
    // the read cursor
    int epoch, file_pos;
    int64_t row, file_nrows;      // file_nrows < 0: not read yet
    uint32_t *order;              // this epoch's file order
    rng rng;                      // buffer picks
    // the shuffle buffer
    train_sample *buf;
    sample_ref *buf_ref;
    int nbuf;
    train_sample out;             // the sample last returned
    sample_ref out_ref;
    train_sample pending;         // a sample that did not fit the last row (no cut_to_pad)
    sample_ref pending_ref;
    int has_pending;
    // counters (saved with the state)
    int64_t samples_read, skipped_long, skipped_empty, rows, tokens_cut, samples_packed;
    int64_t epoch_used;           // usable samples in the current epoch (none: stop, more epochs cannot help)
} train_loader;

int train_loader_init(train_loader *l, const train_loader_config *cfg, train_source src);
void train_loader_free(train_loader *l);
// The next sample after shuffling and skipping: 1 with *s pointing at it (valid until the next
// call), 0 when every epoch is consumed, ERR_FAIL on a read error.
int train_loader_next_sample(train_loader *l, const train_sample **s, sample_ref *ref);
// The next packed row (finished and padded): 1, 0 at the end of the data, or ERR_FAIL. A last
// partial row is returned when it has at least one trainable label.
int train_loader_next_row(train_loader *l, pack_row *row);

// State as JSON (owned by the caller) and back. Restoring re-fetches the buffered samples, so it
// needs the same files and loader config (checked: a mismatch is an error).
cJSON *train_loader_state(const train_loader *l);
int train_loader_restore(train_loader *l, const cJSON *state);
