// The training/benchmark `messages` column (reference 5.2) -> chat messages:
// [{"role": "system|user|assistant", "content": "text" | [{"type": "text", "text": "..."}, ...]}]
// Non-text parts (images, videos) are skipped; text parts are concatenated.
#pragma once
#include <stddef.h>

#include "text/chat.h"

typedef struct {
    chat_msg *msgs;
    size_t n;
    char **owned;   // the strings msgs point to
} chat_messages;

// `where` names the source in messages ("file.parquet row 12").
int chat_messages_parse(chat_messages *out, const char *json, const char *where);
void chat_messages_free(chat_messages *m);
