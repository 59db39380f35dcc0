#include "serve/metrics.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/mem.h"

static const char *PATHS[SERVE_PATHS] = {"/health", "/metrics", "/v1/recommend", "/v1/score", "/v1/generate", "/admin",
                                         "other"};
static const double LAT_LE[SERVE_LAT_BUCKETS - 1] = {0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10};
static const int BATCH_LE[SERVE_BATCH_BUCKETS - 1] = {1, 2, 4, 8, 16, 32, 64};

void serve_metrics_init(serve_metrics *m) {
    memset(m, 0, sizeof *m);
    pthread_mutex_init(&m->mu, NULL);
}

void serve_metrics_free(serve_metrics *m) { pthread_mutex_destroy(&m->mu); }

int serve_metrics_path_index(const char *url) {
    for (int i = 0; i < SERVE_PATHS - 2; i++)
        if (!strcmp(url, PATHS[i])) return i;
    return !strncmp(url, "/admin/", 7) ? SERVE_PATHS - 2 : SERVE_PATHS - 1;
}

// The column of a status code (a new code takes a free column; the last one collects the rest).
static int status_slot(serve_metrics *m, int status) {
    for (int i = 0; i < SERVE_STATUSES; i++) {
        if (m->status_code[i] == status) return i;
        if (!m->status_code[i]) {
            m->status_code[i] = status;
            return i;
        }
    }
    return SERVE_STATUSES - 1;
}

void serve_metrics_request(serve_metrics *m, int path, int status, double seconds) {
    pthread_mutex_lock(&m->mu);
    m->requests[path][status_slot(m, status)]++;
    int b = 0;
    while (b < SERVE_LAT_BUCKETS - 1 && seconds > LAT_LE[b]) b++;
    m->lat_bucket[b]++;
    m->lat_sum += seconds;
    m->lat_count++;
    pthread_mutex_unlock(&m->mu);
}

void serve_metrics_step(serve_metrics *m, int requests, int64_t tokens, double seconds) {
    pthread_mutex_lock(&m->mu);
    int b = 0;
    while (b < SERVE_BATCH_BUCKETS - 1 && requests > BATCH_LE[b]) b++;
    m->batch_bucket[b]++;
    m->batch_sum += requests;
    m->batch_count++;
    m->tokens += tokens;
    m->busy_s += seconds;
    pthread_mutex_unlock(&m->mu);
}

void serve_metrics_queue(serve_metrics *m, int queue_len, int active) {
    pthread_mutex_lock(&m->mu);
    m->queue_len = queue_len;
    m->active = active;
    pthread_mutex_unlock(&m->mu);
}

typedef struct {
    char *s;
    size_t len, cap;
    int failed;
} sbuf;

static void sb_printf(sbuf *b, const char *fmt, ...) {
    if (b->failed) return;
    for (;;) {
        va_list ap;
        va_start(ap, fmt);
        int w = vsnprintf(b->s ? b->s + b->len : NULL, b->s ? b->cap - b->len : 0, fmt, ap);
        va_end(ap);
        if (w < 0) return (void)(b->failed = 1);
        if (b->s && b->len + (size_t)w < b->cap) {
            b->len += (size_t)w;
            return;
        }
        size_t cap = (b->cap ? b->cap * 2 : 4096) + (size_t)w;
        char *p = mem_realloc(b->s, cap);
        if (!p) return (void)(b->failed = 1);
        b->s = p, b->cap = cap;
    }
}

static void print_requests(sbuf *b, const serve_metrics *m) {
    sb_printf(b, "# HELP onerec_requests_total HTTP requests by path and status.\n# TYPE onerec_requests_total counter\n");
    for (int p = 0; p < SERVE_PATHS; p++)
        for (int s = 0; s < SERVE_STATUSES; s++)
            if (m->requests[p][s])
                sb_printf(b, "onerec_requests_total{path=\"%s\",status=\"%d\"} %lld\n", PATHS[p], m->status_code[s],
                          (long long)m->requests[p][s]);
}

static void print_histograms(sbuf *b, const serve_metrics *m) {
    sb_printf(b, "# HELP onerec_request_seconds Request latency.\n# TYPE onerec_request_seconds histogram\n");
    int64_t cum = 0;
    for (int i = 0; i < SERVE_LAT_BUCKETS; i++) {
        cum += m->lat_bucket[i];
        if (i < SERVE_LAT_BUCKETS - 1) sb_printf(b, "onerec_request_seconds_bucket{le=\"%g\"} %lld\n", LAT_LE[i], (long long)cum);
        else sb_printf(b, "onerec_request_seconds_bucket{le=\"+Inf\"} %lld\n", (long long)cum);
    }
    sb_printf(b, "onerec_request_seconds_sum %.6f\nonerec_request_seconds_count %lld\n", m->lat_sum, (long long)m->lat_count);
    sb_printf(b, "# HELP onerec_batch_requests Requests decoded together per model step.\n"
                 "# TYPE onerec_batch_requests histogram\n");
    cum = 0;
    for (int i = 0; i < SERVE_BATCH_BUCKETS; i++) {
        cum += m->batch_bucket[i];
        if (i < SERVE_BATCH_BUCKETS - 1) sb_printf(b, "onerec_batch_requests_bucket{le=\"%d\"} %lld\n", BATCH_LE[i], (long long)cum);
        else sb_printf(b, "onerec_batch_requests_bucket{le=\"+Inf\"} %lld\n", (long long)cum);
    }
    sb_printf(b, "onerec_batch_requests_sum %.0f\nonerec_batch_requests_count %lld\n", m->batch_sum, (long long)m->batch_count);
}

char *serve_metrics_text(serve_metrics *m, int inflight) {
    sbuf b = {0};
    pthread_mutex_lock(&m->mu);
    print_requests(&b, m);
    print_histograms(&b, m);
    sb_printf(&b, "# HELP onerec_queue_length Requests waiting for the scheduler.\n# TYPE onerec_queue_length gauge\n"
                  "onerec_queue_length %d\n", m->queue_len);
    sb_printf(&b, "# HELP onerec_inflight_requests HTTP requests being answered.\n# TYPE onerec_inflight_requests gauge\n"
                  "onerec_inflight_requests %d\n", inflight);
    sb_printf(&b, "# HELP onerec_active_requests Requests being decoded.\n# TYPE onerec_active_requests gauge\n"
                  "onerec_active_requests %d\n", m->active);
    sb_printf(&b, "# HELP onerec_model_tokens_total Token rows through the model.\n# TYPE onerec_model_tokens_total counter\n"
                  "onerec_model_tokens_total %lld\n", (long long)m->tokens);
    sb_printf(&b, "# HELP onerec_tokens_per_second Token rows per second of model time.\n"
                  "# TYPE onerec_tokens_per_second gauge\nonerec_tokens_per_second %.1f\n",
              m->busy_s > 0 ? m->tokens / m->busy_s : 0.0);
    pthread_mutex_unlock(&m->mu);
    if (b.failed) {
        free(b.s);
        return NULL;
    }
    return b.s;
}
