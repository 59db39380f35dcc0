// The JSON bodies of the server's POST endpoints, parsed and checked into one request struct.
// A bad body gives the HTTP status and a message naming the field, so the client learns what to fix.
#pragma once
#include <stdint.h>

#include "eval/recommend.h"

typedef enum { SREQ_RECOMMEND, SREQ_SCORE, SREQ_GENERATE } sreq_kind;

#define SREQ_MAX_HISTORY 4096   // pids per list (the prompt keeps at most the last 512)
#define SREQ_MAX_ITEMS 256      // items one /v1/score call may rate
#define SREQ_MAX_NEW 512        // /v1/generate's max_new cap

typedef struct {
    sreq_kind kind;
    char domain[16];
    int64_t *history, *others, *items;
    int nhistory, nothers, nitems;
    int k, exclude_history, think;
    // generate: exactly one of prompt (text) and chat (a JSON array of messages)
    char *prompt, *chat, *stop;
    int max_new, top_k;
    float temperature, top_p, repetition_penalty;
    int64_t seed;
} sreq;

typedef struct {
    int status;         // HTTP status (400, ...)
    char field[32];     // the offending field ("" for the body as a whole)
    char msg[256];
} sreq_error;

// Parses body [len] for `kind`; pids are checked against the tables. Returns 0, or -1 with *e set.
int sreq_parse(sreq *r, sreq_kind kind, const char *body, size_t len, const rec_tables *t, sreq_error *e);
void sreq_free(sreq *r);
// The recommend request of a parsed body (pointers into r; constrained, as the server always is).
rec_request sreq_rec_request(const sreq *r, int lang_en);
// {"error": msg, "field": field} (malloc'd)
char *sreq_error_json(const sreq_error *e);
