// Rows of the unified training format (reference section 5.2): uuid, source, metadata (JSON text),
// messages (Chat JSON text) or segments (Segments JSON text).
#pragma once
#include <cjson/cJSON.h>

#include "data/table.h"

// [{"role":"system",...},{"role":"user",...},{"role":"assistant",...}] as JSON text (malloc'd);
// sys or assistant may be NULL to leave that turn out.
char *msg_chat(const char *sys, const char *user, const char *assistant);
// [{"type":"text","text":...}] as JSON text (malloc'd).
char *msg_segments_text(const char *text);
// A row object; takes ownership of meta (may be NULL: "{}"), messages and segments (either NULL).
cJSON *msg_row(const char *uuid, const char *source, cJSON *meta, char *messages, char *segments);
// The training table's columns: uuid, source, metadata, messages (nullable), segments (nullable).
extern const dcol MSG_COLS[5];
