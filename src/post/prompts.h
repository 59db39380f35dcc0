// Prompts for post-training, read in a cycle from a training table (messages column, Chat JSON):
// the conversation without its final assistant turn is the prompt; that turn (or metadata.answer)
// is the ground truth. Streams the table (one row at a time), so memory does not grow with it;
// the position (epoch, row) is the state saved in checkpoints.
#pragma once
#include <stdint.h>

#include "text/chat_json.h"

typedef struct {
    char *path;
    void *reader;          // dtab_reader
    int64_t epoch, row;    // rows consumed in this epoch
    int64_t skipped;       // rows without a usable prompt
} prompt_source;

typedef struct {
    chat_messages msgs;    // system/user turns (the final assistant turn removed)
    char *answer;          // ground truth text ("" when none)
    int64_t row;
} prompt_item;

// Opens the table and skips to (epoch, row) (for a resume).
int prompt_source_open(prompt_source *s, const char *path, int64_t epoch, int64_t row);
void prompt_source_close(prompt_source *s);
// The next usable prompt, wrapping around at the end of the table (epoch + 1).
int prompt_source_next(prompt_source *s, prompt_item *out);
void prompt_item_free(prompt_item *p);
