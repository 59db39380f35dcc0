// Prompts for post-training, read in a cycle from a training table (messages column, Chat JSON):
// the conversation without its final assistant turn is the prompt; that turn (or metadata.answer)
// is the ground truth. Two orders: the table's (streamed, one row at a time, so memory does not
// grow with it) or a seeded permutation per epoch (the rows' text is held in memory: a table
// written task after task would otherwise feed one task for thousands of steps). The position
// (epoch, row) is the state saved in checkpoints; with the seed it gives the same stream again.
#pragma once
#include <stdint.h>

#include "text/chat_json.h"

typedef struct {
    char *path;
    void *reader;          // dtab_reader (table order)
    int64_t epoch, row;    // rows consumed in this epoch
    int64_t skipped;       // rows without a usable prompt
    // shuffled order: every row's messages and metadata text, and this epoch's permutation
    int shuffled;
    uint64_t seed;
    char **messages, **metadata;
    uint32_t *perm;
    int64_t nrows;
} prompt_source;

typedef struct {
    chat_messages msgs;    // system/user turns (the final assistant turn removed)
    char *answer;          // ground truth text ("" when none)
    int64_t row;           // row of the table
} prompt_item;

// Opens the table at (epoch, row) (0, 0 for a fresh run; a checkpoint's for a resume). shuffle:
// rows in a permutation drawn from (seed, epoch), else in the table's order.
int prompt_source_open(prompt_source *s, const char *path, int64_t epoch, int64_t row, int shuffle, uint64_t seed);
void prompt_source_close(prompt_source *s);
// The next usable prompt, wrapping around at the end of the table (epoch + 1).
int prompt_source_next(prompt_source *s, prompt_item *out);
void prompt_item_free(prompt_item *p);
