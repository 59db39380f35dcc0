// The scheduler: one thread owns the model's compute. Requests wait in a bounded queue; each
// model step takes the newly admitted requests' prompt prefills and every active request's beam
// decode tokens in ONE batched forward over a shared paged KV cache (ragged prompts, each request
// with its own constraint trie and banned SIDs). A request joins at the next step and leaves when
// its SIDs are complete, so nobody waits for a whole batch. /v1/score and /v1/generate run between
// steps, one at a time.
#pragma once
#include <pthread.h>

#include "eval/recommend.h"
#include "serve/metrics.h"
#include "serve/request.h"

typedef struct sjob sjob;

typedef struct {
    lm *l;                      // owned by the scheduler from sched_start on (also on failure)
    const rec_tables *tables;
    serve_metrics *metrics;
    const char *model_name;     // copied
    int max_batch, max_queue, threads, lang_en;
    int kv_tokens;              // the shared cache's size (tokens); a request needs gen_kv_tokens_beam
    int batch_wait_ms;          // an idle scheduler waits this long for more requests to start a batch with
} sched_opts;

typedef struct sched sched;

int sched_start(sched **out, const sched_opts *o);
// Finishes the queued and active requests, then stops the thread.
void sched_stop(sched *s);

// Swaps in `fresh` (owned by the scheduler from here on, also on failure) once the requests being
// decoded are done; requests that arrive meanwhile wait and then use it. Returns when the new
// model answers (0), or fails (the old model stays).
int sched_swap_model(sched *s, lm *fresh, const char *name);
// The name of the model answering now, into buf.
void sched_model_name(sched *s, char *buf, size_t n);

// Runs one parsed request (taking ownership of *r) and waits for its answer, at most timeout_ms:
// *status and *body (malloc'd JSON) are the HTTP answer (503 when the queue is full, 504 on time-out).
void sched_run(sched *s, sreq *r, int timeout_ms, int *status, char **body);
