// Recommendations for one user's history, as a user would ask the trained model: the history
// becomes the domain's SFT prompt (the same phrasing pool the model was trained on), beam search
// after "<|sid_begin|>" gives ranked SIDs, and the pid2sid table maps them back to items.
#pragma once
#include <stdint.h>

#include "rec/lm.h"

typedef struct {
    int64_t pid;        // -1 when the SID names no item
    int32_t codes[3];
    float score;        // cumulative log-prob of the beam
} rec_item;

typedef struct {
    const char *domain;          // video, ad or product
    const int64_t *videos;       // watched videos, oldest first
    int nvideos;
    const int64_t *others;       // ad clicks (ad) or purchases (product), oldest first; may be NULL
    int nothers;
    const char *video_ad_pid2sid, *product_pid2sid;   // tables (pid, sid)
    int k;                       // items wanted (the beam width is max(k, 32))
    int constrain;               // only real items (a SID trie over the domain's table)
    int lang_en;                 // prompt language (the converter's --lang)
} rec_request;

// out [k]; *n gets how many were written. Unknown history pids are skipped and counted in *unknown.
int recommend_items(lm *l, const rec_request *q, rec_item *out, int *n, int *unknown);
