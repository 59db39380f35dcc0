// Server counters in Prometheus text format: requests by path and status, a latency histogram,
// queue length, batch sizes (requests per decode step) and model tokens per second.
#pragma once
#include <pthread.h>
#include <stdint.h>

#define SERVE_PATHS 7       // /health /metrics /v1/recommend /v1/score /v1/generate /admin other
#define SERVE_STATUSES 12   // distinct status codes kept per path
#define SERVE_LAT_BUCKETS 12
#define SERVE_BATCH_BUCKETS 8

typedef struct {
    pthread_mutex_t mu;
    int status_code[SERVE_STATUSES];
    int64_t requests[SERVE_PATHS][SERVE_STATUSES];
    int64_t lat_bucket[SERVE_LAT_BUCKETS];   // cumulative counts filled when printed
    double lat_sum;
    int64_t lat_count;
    int64_t batch_bucket[SERVE_BATCH_BUCKETS];
    double batch_sum;
    int64_t batch_count;
    int64_t tokens;          // rows through the model (prefill + decode)
    double busy_s;           // scheduler time spent in the model
    int queue_len, active;
} serve_metrics;

void serve_metrics_init(serve_metrics *m);
void serve_metrics_free(serve_metrics *m);
int serve_metrics_path_index(const char *url);   // 0..SERVE_PATHS-1
void serve_metrics_request(serve_metrics *m, int path, int status, double seconds);
// One model step: requests in it, token rows, seconds.
void serve_metrics_step(serve_metrics *m, int requests, int64_t tokens, double seconds);
void serve_metrics_queue(serve_metrics *m, int queue_len, int active);
// The text (malloc'd); inflight: HTTP requests being answered (this one included).
char *serve_metrics_text(serve_metrics *m, int inflight);
