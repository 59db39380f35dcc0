// Judge-free text scores (ROUGE-L, character F1) for item_understand / rec_reason, with a hook
// for a judge model.
#pragma once
#include <stdint.h>

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
