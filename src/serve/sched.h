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
    lm *l;
    const rec_tables *tables;
    serve_metrics *metrics;
    const char *model_name;
    int max_batch, max_queue, threads, lang_en;
    int kv_tokens;              // the shared cache's size (tokens); a request needs gen_kv_tokens_beam
    int batch_wait_ms;          // an idle scheduler waits this long for more requests to start a batch with
} sched_opts;

typedef struct sched sched;

int sched_start(sched **out, const sched_opts *o);
// Finishes the queued and active requests, then stops the thread.
void sched_stop(sched *s);

// Runs one parsed request (taking ownership of *r) and waits for its answer, at most timeout_ms:
// *status and *body (malloc'd JSON) are the HTTP answer (503 when the queue is full, 504 on time-out).
void sched_run(sched *s, sreq *r, int timeout_ms, int *status, char **body);
