// Byte-level BPE trainer: Qwen pre-tokenizer regex, NFC, special tokens <|endoftext|>, <|im_start|>,
// <|im_end|>, <think>, </think> (ids right after the vocabulary). Output is a tokenizer.json that
// HF tokenizers loads.
#pragma once
#include <stddef.h>

typedef struct {
    int vocab_size;          // total including the 256 byte tokens and the special tokens
    int min_frequency;       // a pair seen fewer times is never merged (default 2)
    int progress;            // print a progress bar on stderr
} bpe_train_opts;

// text: training corpus (any bytes). *json: malloc'd tokenizer.json text. *vocab_out (optional): the
// tokens it holds, special ones included: fewer than asked when the corpus runs out of pairs.
int bpe_train(const char *text, size_t len, const bpe_train_opts *o, char **json, int *vocab_out);
