// Recommendations for one user's history, as a user would ask the trained model: the history
// becomes the domain's SFT prompt (the same phrasing pool the model was trained on), beam search
// after "<|sid_begin|>" gives ranked SIDs, and the pid2sid table maps them back to items.
// `recommend` runs it in one call; a server splits it (tables once, then prepare / beams / finish
// per request) so that the beams of many requests can share one batched decode.
#pragma once
#include <stdint.h>

#include "data/pid2sid.h"
#include "rec/beam.h"
#include "rec/constrain.h"
#include "rec/lm.h"
#include "rec/trie.h"

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
    int exclude_history;         // never recommend an item the prompt shows (eval --exclude-history)
} rec_request;

// out [k]; *n gets how many were written. Unknown history pids are skipped and counted in *unknown.
int recommend_items(lm *l, const rec_request *q, rec_item *out, int *n, int *unknown);

// ---- the same in parts ------------------------------------------------------------------------
// The pid2sid tables and their SID tries, loaded once (product ones only when a path is given).
typedef struct {
    pid2sid va, pm;
    sid_trie tva, tpm;
    int has_pm;
} rec_tables;
int rec_tables_open(rec_tables *t, const char *video_ad_pid2sid, const char *product_pid2sid);
void rec_tables_free(rec_tables *t);

// One request made ready for beam search: the prompt ids (ending in <|sid_begin|>) and the beam
// parameters (bp.allowed_ctx points into the job: do not copy a job after preparing it).
typedef struct {
    tok_buf ids;
    sid_constraint sc;
    beam_params bp;
    const pid2sid *dom;
    int k, unknown;
} rec_job;
// q's table paths are ignored (t is used). Fails on an unknown domain or k < 1.
int rec_job_prepare(lm *l, const rec_tables *t, const rec_request *q, rec_job *j);
// The beams as items: out [j->k], *n written.
void rec_job_items(const lm *l, const rec_job *j, const beam_result *br, rec_item *out, int *n);
void rec_job_free(rec_job *j);
// The task of a domain name: 0 video, 1 ad, 2 product, -1 unknown.
int rec_domain_index(const char *domain);
