// Plain text from training tables, for tokenizer training: every message content and segment
// text of the given tables, one per line (newlines inside a text kept), written atomically.
#pragma once
#include <stdint.h>

int data_dump_text(const char *out_path, const char *const *tables, int n, int64_t *chars);
