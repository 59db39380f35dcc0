// RecIF-Bench metrics: ranking metrics over predicted item lists (pass@k, position1_pass@k,
// recall@k), AUC for label_pred, and judge-free text scores (ROUGE-L, character F1) for
// item_understand / rec_reason, with a hook for a judge model.
// Items are int64 ids: a PID, or a SID packed as c0*8192^2 + c1*8192 + c2 (sid_pack).
#pragma once
#include <stdint.h>

#define METRICS_MAX_K 8
#define SID_CODES 8192

static inline int64_t sid_pack(int c0, int c1, int c2) {
    return ((int64_t)c0 * SID_CODES + c1) * SID_CODES + c2;
}

// ---- ranking metrics -------------------------------------------------------------------------
// Accumulates per-sample scores; the reported value is the mean over added samples.
// Predictions are used as given (not de-duplicated: a repeated hit counts once in recall since it
// is a set intersection, and a duplicate still occupies a slot of the first k). Ground truth is
// de-duplicated with its order kept, so "the first ground-truth item" is well defined.
typedef struct {
    int nk;
    int ks[METRICS_MAX_K];
    int64_t n;            // samples counted
    int64_t n_empty_gt;   // samples skipped because their ground truth was empty
    double pass[METRICS_MAX_K], pos1[METRICS_MAX_K], recall[METRICS_MAX_K];
} rec_metrics;

// ks NULL means the benchmark's {1, 32}.
int rec_metrics_init(rec_metrics *m, const int *ks, int nk);
// pred [npred] ranked best first; gt [ngt]. Negative ids in pred never match (unmapped SIDs).
int rec_metrics_add(rec_metrics *m, const int64_t *pred, int npred, const int64_t *gt, int ngt);
// Mean over samples (0 when none). ki indexes m->ks.
double rec_metrics_pass(const rec_metrics *m, int ki);
double rec_metrics_pos1(const rec_metrics *m, int ki);
double rec_metrics_recall(const rec_metrics *m, int ki);
// Merge b into a (same ks), e.g. per-thread partial sums.
int rec_metrics_merge(rec_metrics *a, const rec_metrics *b);

// ---- AUC --------------------------------------------------------------------------------------
// Area under the ROC curve = P(score of a random positive > random negative) + 0.5 P(tie),
// computed from average ranks (ties share their mean rank); equals sklearn's roc_auc_score.
// labels are 0/1. Fails when either class is absent (the AUC is undefined).
int metrics_auc(const double *scores, const int *labels, int64_t n, double *auc);
// label_pred score from the first generated token: p("是") / (p("是") + p("否")), computed from the
// two logits (or log-probs) in a numerically safe way (a sigmoid of their difference).
double metrics_yes_score(double logit_yes, double logit_no);

// ---- text metrics -----------------------------------------------------------------------------
// Tokens for ROUGE-L: each CJK ideograph / kana / hangul syllable is one token (Chinese has no
// spaces, so the benchmark scores it over characters); every other run of letters/digits is one
// word token, lower-cased; punctuation, symbols and spaces separate tokens and are dropped.
// Returns the number of tokens (or ERR_FAIL); *tokens is a malloc'd array of malloc'd UTF-8
// strings, released with text_tokens_free. Invalid UTF-8 bytes are treated as separators.
int text_tokenize(const char *s, char ***tokens);
void text_tokens_free(char **tokens, int n);
// ROUGE-L F1 (beta = 1) on the tokens above: LCS / len as precision and recall. Both empty -> 1.
double text_rouge_l(const char *pred, const char *ref);
// Character F1: bag-of-characters overlap (multiset intersection) of the non-space codepoints,
// lower-cased; precision = overlap / |pred|, recall = overlap / |ref|. Both empty -> 1.
double text_char_f1(const char *pred, const char *ref);

// A local judge model plugs in here later: given the prompt, the reference and the prediction it
// writes a score (the benchmark's scales: info-point F1 in [0,1] for item_understand, 1..5 for
// rec_reason) and returns 0, or ERR_FAIL with a message.
typedef int (*text_judge_fn)(void *ctx, const char *prompt, const char *ref, const char *pred,
                             double *score);

typedef struct {
    int64_t n;
    double rouge_l, char_f1, judge;   // sums
    int64_t n_judged;
    text_judge_fn judge_fn;           // NULL: judge-free scores only
    void *judge_ctx;
} text_metrics;

void text_metrics_init(text_metrics *m, text_judge_fn judge, void *judge_ctx);
int text_metrics_add(text_metrics *m, const char *prompt, const char *pred, const char *ref);
double text_metrics_rouge_l(const text_metrics *m);
double text_metrics_char_f1(const text_metrics *m);
double text_metrics_judge(const text_metrics *m);   // mean over judged samples; NAN when none

// ---- PID mode ---------------------------------------------------------------------------------
// sid2pid: packed SID -> the items carrying it; PID mode maps a predicted SID to its most popular
// item. Open addressing over the packed SIDs.
typedef struct {
    int64_t *keys;   // packed SID, -1 = empty slot
    int64_t *pids;   // the chosen (most popular) item
    int64_t cap, n;
} sid2pid;

int sid2pid_init(sid2pid *m, int64_t expected);
void sid2pid_free(sid2pid *m);
// Offer an item with its popularity count; the item with the highest count wins (ties: the
// smaller pid, so the map does not depend on insertion order).
int sid2pid_offer(sid2pid *m, int64_t sid, int64_t pid, int64_t count);
int64_t sid2pid_get(const sid2pid *m, int64_t sid);   // -1 when the SID names no item
// Reads the benchmark's sid2pid.json: {"<packed sid>": [pid, ...]} (most popular first) or
// {"<packed sid>": {"<pid>": count, ...}}.
int sid2pid_load_json(sid2pid *m, const char *path);
// out[i] = pid of sids[i], -1 for unknown SIDs (they then never match a ground-truth item).
void sid2pid_map(const sid2pid *m, const int64_t *sids, int n, int64_t *out);

// Parses a cut-off list such as "1,32" into ks (at most METRICS_MAX_K values, each >= 1).
int metrics_parse_ks(const char *s, int *ks, int *nk);
