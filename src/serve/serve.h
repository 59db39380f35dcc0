// onerec serve: an HTTP recommendation server (libmicrohttpd, a thread per connection). The model
// loads once; every model computation runs on the scheduler thread (serve/sched.h), which batches
// the beams of concurrent requests. Endpoints: GET /health, GET /metrics, POST /v1/recommend,
// /v1/score, /v1/generate (bodies: serve/request.h; docs/serve.md).
#pragma once
#include <stddef.h>

typedef struct {
    const char *model_dir, *pid2sid, *product_pid2sid;   // product table optional
    const char *host;          // an IPv4 or IPv6 address to listen on
    int port;                  // 0: any free port (serve_port tells which)
    int threads;               // model threads (OpenMP); 0: the default
    int max_batch;             // requests decoded together
    int max_queue;             // requests waiting beyond that; more get 503
    int kv_tokens;             // shared KV cache size; 0: max_batch prompts of 1024 tokens at width 32
    int timeout_ms;            // per request; 504 after it
    int batch_wait_ms;         // an idle server waits this long for more requests before a batch
    size_t max_body;           // bytes; larger bodies get 413
    int lang_en;               // prompt language the model was trained with
    int admin;                 // POST /admin/reload is served
} serve_opts;

typedef struct serve_server serve_server;

// Loads the model and tables, binds, and starts answering.
int serve_open(serve_server **out, const serve_opts *o);
int serve_port(const serve_server *s);
// Loads the model dir (NULL: --model again) while serving goes on, then swaps it in between two
// batched steps: no request is dropped; requests queued meanwhile are answered by the new model.
int serve_reload(serve_server *s, const char *dir);
// Stops accepting, lets in-flight requests finish (at most drain_ms), then frees everything.
// Returns the number of requests still in flight when it gave up waiting (0: a clean drain).
int serve_close(serve_server *s, int drain_ms);
