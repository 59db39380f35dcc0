// RecIF-Bench generation: runs a model over one task's test file and writes one prediction per
// sample as a JSON line, in the format eval/bench_score.h scores:
//   ranking tasks: the prompt (chat template, "/no_think" soft switch, pre-filled empty think) plus
//     "<|sid_begin|>", then beam search (width W, one token per SID layer), beams ranked by
//     cumulative log-prob -> "pred": packed SIDs (-1 for a beam that is not a well-formed SID);
//     optionally constrained to the domain's real items (a SID trie), which the reference lacks;
//   label_pred: the logits of "是" and "否" as the first answer token;
//   item_understand, rec_reason: greedy text (up to max_text_tokens).
#pragma once
#include <stdint.h>
#include <stdio.h>

#include "rec/lm.h"
#include "rec/trie.h"

typedef enum { BENCH_RANKING = 0, BENCH_LABEL = 1, BENCH_TEXT = 2 } bench_task_kind;

bench_task_kind bench_task_kind_of(const char *task);

typedef struct {
    int width;                      // beams (32)
    int max_text_tokens;            // text tasks
    int64_t max_samples;            // 0: all
    const sid_trie *trie_video;     // constraint for video/ad-space tasks; NULL: unconstrained
    const sid_trie *trie_product;   // constraint for product tasks; NULL: unconstrained
    // with a constraint: beams never complete a SID the prompt already shows (the user's history),
    // as the baselines exclude history items (the synthetic world never repeats an item for a user)
    int exclude_history;
} bench_predict_opts;

typedef struct {
    int64_t samples, skipped;       // skipped: rows without usable messages/metadata (reported)
    int64_t invalid_beams;          // beams that are not a SID of the model's itemic vocabulary
    int64_t beams;
    int64_t prompt_tokens;
    double seconds;
} bench_predict_stats;

// Reads `test_path` (columns messages, metadata), writes JSON lines to out.
int bench_predict_file(lm *l, const char *task, const char *test_path, const bench_predict_opts *o, FILE *out,
                       bench_predict_stats *st);
