// Plain text from training tables, for tokenizer training: every message content and segment
// text of the given tables, one per line (newlines inside a text kept), written atomically.
#pragma once
#include <stdint.h>

int data_dump_text(const char *out_path, const char *const *tables, int n, int64_t *chars);

// Plain text files (e.g. novels, one printed line per line) as training rows: consecutive lines
// joined into chunks of at least `chars` characters (a chunk ends at a line end; blank lines are
// paragraph breaks). Each chunk goes, by a seeded hash of its index, to the test table with
// probability test_frac, else to the training table as a Segments row (source `source`) and, when
// chat_out is set, also as a Chat row asking to continue its first `prompt_chars` characters
// (rounded to a word end) with the rest of the chunk as the answer.
typedef struct {
    const char *const *inputs;
    int ninputs;
    const char *out;        // Segments rows (training)
    const char *test_out;   // Segments rows (held out); NULL: no held-out rows
    const char *chat_out;   // Chat rows (training); NULL: none
    const char *source;     // the rows' source, e.g. "General_Text"
    int chars, prompt_chars;
    double test_frac;
    uint64_t seed;
} corpus_seg_opts;

typedef struct {
    int64_t lines, chunks, train, test, chat, chars;
} corpus_seg_stats;

int corpus_segments_run(const corpus_seg_opts *o, corpus_seg_stats *st);
