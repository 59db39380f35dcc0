// RecIF-Bench scoring of generated predictions. The generation step (or any other system) writes
// one JSON object per line; this scores them per task into a results table:
//   ranking tasks (video, ad, product, interactive, label_cond, and any other task name):
//     {"task": "video", "pred": [<item>, ...] ranked best first, "answer": "<SIDs>" or "gt": [<item>...],
//      "answer_pid": [pid, ...] (optional, for PID mode)}
//     an <item> is a packed SID integer or a string holding one SID "<s_a_1><s_b_2><s_c_3>"
//     (the <|sid_begin|> / <|sid_end|> markers are optional); "answer" may hold several SIDs.
//   label_pred: {"task": "label_pred", "label": 0|1 (or "answer": "是"|"否"),
//                "score": p  or  "logit_yes": x, "logit_no": y}
//   item_understand, rec_reason: {"task": ..., "pred": "text", "answer": "reference", "prompt": "..."}
// Metrics: pass@k, position1_pass@k, recall@k, ndcg@k (SID mode; with a sid2pid map also pid_* in PID mode
// against "answer_pid"), auc, rouge_l, char_f1 (and judge when a judge is set), samples.
#pragma once
#include <stdint.h>
#include <stdio.h>

#include "data/pid2sid.h"
#include "eval/metrics_rank.h"
#include "eval/metrics_text.h"
#include "eval/results.h"

typedef struct {
    const int *ks;     // NULL: {1, 32}
    int nk;
    const sid2pid *pid_map;   // NULL: SID mode only
    text_judge_fn judge;
    void *judge_ctx;
} bench_score_opts;

// Scores a predictions JSONL file under `system` into r.
int bench_score_file(const char *path, const char *system, const bench_score_opts *opt, results_table *r);
// A ranking task's predictions as items: one line {"user_id": uid, "items": [pid, ...]} per
// prediction line that has a "uid", its SIDs mapped through map in rank order (SIDs that name no
// item left out), written atomically to out_path.
int bench_items_file(const char *pred_path, const sid2pid *map, const char *out_path);
// One such line: {"user_id": uid, "items": [the non-negative items, in order]}.
int bench_items_line(FILE *f, int64_t uid, const int64_t *items, int n);
