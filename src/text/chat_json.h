// The training/benchmark `messages` column (reference 5.2) -> chat messages:
// [{"role": "system|user|assistant", "content": "text" | [{"type": "text", "text": "..."}, ...]}]
// Non-text parts (images, videos) are skipped; text parts are concatenated.
#pragma once
#include <stddef.h>

#include <cjson/cJSON.h>

#include "text/chat.h"

typedef struct {
    chat_msg *msgs;
    size_t n;
    char **owned;   // the strings msgs point to
} chat_messages;

// `where` names the source in messages ("file.parquet row 12").
int chat_messages_parse(chat_messages *out, const char *json, const char *where);
// The same from a parsed list, with `reasoning`: also "reasoning_content" (a string or absent; the
// table path leaves it to <think> in the content). A role or content that is not text is an error
// naming `where` and the message, never rendered as empty.
int chat_messages_from_json(chat_messages *out, const cJSON *list, const char *where, int reasoning);
void chat_messages_free(chat_messages *m);
