// A language model ready for generation: Qwen3 weights + tokenizer from one HF dir, plus the ids
// of the special tokens the pipeline uses and the itemic vocabulary (when the dir was expanded).
#pragma once
#include <stdint.h>

#include "model/qwen3.h"
#include "rec/generate.h"
#include "text/chat.h"
#include "rec/sid.h"
#include "text/tokenizer.h"

typedef struct {
    qwen3_model model;
    tokenizer *tok;
    int32_t endoftext, im_start, im_end, think, think_end;   // -1 when absent
    int32_t sid_begin, sid_end;                               // -1 when not expanded
    int has_sid;
    sid_vocab sid;    // derived from the tokenizer's <s_a_0>.. tokens
} lm;

// Loads DIR/config.json, the weights and DIR/tokenizer.json; checks that every token id fits the
// embedding (vocab_size >= len(tokenizer)).
int lm_open(lm *l, const char *dir);
void lm_close(lm *l);
// Encodes text (appending to out).
int lm_encode(const lm *l, const char *text, tok_buf *out);

// ---- text in, text out (generate, test-model) ---------------------------------------------------
typedef struct {
    gen_params gen;               // max_new, sampling, seed (stop ids: <|im_end|>/<|endoftext|> added)
    const char *const *stop;      // stop strings: generation ends once the text contains one (cut there)
    int n_stop;
    int beam_width;               // > 0: beam search of beam_steps tokens instead of sampling
    int beam_steps;
} lm_gen_opts;

// Generates after the prompt ids; *text receives the new text (malloc'd), cut at a stop string.
int lm_generate(lm *l, const int32_t *prompt, int n, const lm_gen_opts *o, char **text);
// Sampling for np prompts at once (one decode step advances all of them: much faster than one by
// one); texts [np] receive malloc'd strings.
int lm_generate_batch(lm *l, const int32_t *const *prompts, const int *plen, int np, const lm_gen_opts *o, char **texts);
// Chat prompt ids: the chat template with the generation prompt; enable_thinking 0 pre-fills
// "<think>\n\n</think>\n\n" as the reference's evaluation does.
int lm_chat_prompt(const lm *l, const chat_msg *msgs, size_t n, int enable_thinking, const char *soft_switch,
                   tok_buf *out);
