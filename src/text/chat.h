// Qwen3 chat rendering (the Jinja template of Qwen3's tokenizer_config.json, without tools), the
// training think pattern, the evaluation soft switch, and the assistant-only loss mask.
#pragma once
#include <stddef.h>
#include <stdint.h>

#include "text/tokenizer.h"

typedef struct {
    const char *role;        // "system", "user", "assistant"
    const char *content;
    const char *reasoning;   // assistant reasoning_content; NULL = taken from <think>..</think>
} chat_msg;

typedef struct {
    int add_generation_prompt;   // append "<|im_start|>assistant\n"
    int enable_thinking;         // -1 undefined (template default), 0 -> "<think>\n\n</think>\n\n" after the prompt, 1
    int think_pattern;           // training (reference section 6): "/think" or "/no_think" on the user turn
                                 // before each assistant turn; an answer without <think> gets "<think>\n</think>\n"
    const char *soft_switch;     // evaluation: NULL, or "/no_think" / "/think" appended to the last user turn
} chat_opts;

// A byte range [begin, end) of the rendered text whose tokens carry loss: the assistant content after
// "<|im_start|>assistant\n" up to and including "<|im_end|>".
typedef struct {
    size_t begin, end;
} chat_span;

// Rendered text (malloc'd, NUL-terminated) and the assistant spans (malloc'd, may be NULL if none).
int chat_render(const chat_msg *msgs, size_t n, const chat_opts *o, char **text, size_t *len,
                chat_span **spans, size_t *nspans);

typedef struct {
    char *text;
    size_t len;
    int32_t *ids;
    uint8_t *mask;   // per token: 1 when the token's bytes overlap an assistant span
    size_t n;
} chat_encoded;

// Render and tokenize the whole text at once (ids equal encoding the rendered text); mask[i] = 1
// when token i overlaps an assistant span. Only a token that straddles the span start (the header's
// "\n" merged with newlines that begin the content) can overlap partially; it counts as content.
int chat_encode(const tokenizer *t, const chat_msg *msgs, size_t n, const chat_opts *o, chat_encoded *out);
void chat_encoded_free(chat_encoded *e);
