// The server's pieces without HTTP: request bodies parsed and checked (status, field, message),
// the Prometheus text, and two beam searches stepped in lockstep (as the scheduler interleaves
// requests) giving what each gives alone.
#include <string.h>

#include "rec/beam.h"
#include "serve/metrics.h"
#include "serve/request.h"
#include "test.h"

static rec_tables tables(void) {
    rec_tables t;
    memset(&t, 0, sizeof t);
    for (int i = 0; i < 5; i++) {
        int32_t c[3] = {i, i + 1, i + 2};
        pid2sid_put(&t.va, 100 + i, c, 3);
    }
    return t;
}

static void expect_bad(sreq_kind kind, const char *body, int status, const char *field, const char *needle) {
    rec_tables t = tables();
    sreq r;
    sreq_error e = {0};
    int rc = sreq_parse(&r, kind, body, strlen(body), &t, &e);
    CHECK_MSG(rc != 0 && e.status == status && !strcmp(e.field, field) && strstr(e.msg, needle),
              "%s: rc %d status %d field \"%s\" msg \"%s\"", body, rc, e.status, e.field, e.msg);
    if (!rc) sreq_free(&r);
    rec_tables_free(&t);
}

static void test_parse_good(void) {
    rec_tables t = tables();
    sreq r;
    sreq_error e;
    const char *b = "{\"history\": [100, 103], \"others\": [104], \"domain\": \"ad\", \"k\": 7, \"exclude_history\": true}";
    CHECK(sreq_parse(&r, SREQ_RECOMMEND, b, strlen(b), &t, &e) == 0);
    CHECK(r.nhistory == 2 && r.history[1] == 103 && r.nothers == 1 && r.others[0] == 104);
    CHECK(r.k == 7 && r.exclude_history == 1 && !strcmp(r.domain, "ad"));
    rec_request q = sreq_rec_request(&r, 0);
    CHECK(q.constrain == 1 && q.nvideos == 2 && q.exclude_history == 1);
    sreq_free(&r);
    b = "{\"history\": [101]}";   // the defaults
    CHECK(sreq_parse(&r, SREQ_RECOMMEND, b, strlen(b), &t, &e) == 0);
    CHECK(r.k == 10 && r.exclude_history == 0 && !strcmp(r.domain, "video") && r.nothers == 0);
    sreq_free(&r);
    b = "{\"chat\": [{\"role\": \"user\", \"content\": \"hi\"}], \"max_new\": 5, \"top_p\": 0.9, \"stop\": \"x\"}";
    CHECK(sreq_parse(&r, SREQ_GENERATE, b, strlen(b), &t, &e) == 0);
    CHECK(r.chat && strstr(r.chat, "\"hi\"") && r.max_new == 5 && fabsf(r.top_p - 0.9f) < 1e-6f && !strcmp(r.stop, "x"));
    sreq_free(&r);
    rec_tables_free(&t);
}

static void test_parse_bad(void) {
    expect_bad(SREQ_RECOMMEND, "{\"history\": [100", 400, "", "not valid JSON");
    expect_bad(SREQ_RECOMMEND, "\"x\"", 400, "", "JSON object");
    expect_bad(SREQ_RECOMMEND, "{\"history\": [100], \"domain\": 5}", 400, "domain", "must be");
    expect_bad(SREQ_RECOMMEND, "{\"history\": [100], \"domain\": \"product\"}", 400, "domain", "--product-pid2sid");
    expect_bad(SREQ_RECOMMEND, "{\"history\": {}}", 400, "history", "list of pids");
    expect_bad(SREQ_RECOMMEND, "{\"history\": [100, 999]}", 400, "history", "unknown pid 999");
    expect_bad(SREQ_RECOMMEND, "{\"history\": [100.5]}", 400, "history", "not an integer");
    expect_bad(SREQ_RECOMMEND, "{\"history\": [100], \"k\": 257}", 400, "k", "outside 1..256");
    expect_bad(SREQ_RECOMMEND, "{\"history\": [100], \"k\": \"3\"}", 400, "k", "an integer");
    expect_bad(SREQ_RECOMMEND, "{\"history\": [100], \"exclude_history\": 1}", 400, "exclude_history", "true or false");
    expect_bad(SREQ_RECOMMEND, "{\"history\": [100], \"think\": true}", 400, "think", "not supported");
    expect_bad(SREQ_SCORE, "{\"history\": [100], \"items\": []}", 400, "items", "is empty");
    expect_bad(SREQ_GENERATE, "{\"prompt\": \"a\", \"chat\": []}", 400, "prompt", "exactly one");
    expect_bad(SREQ_GENERATE, "{\"prompt\": \"a\", \"max_new\": 100000}", 400, "max_new", "outside");
    expect_bad(SREQ_GENERATE, "{\"prompt\": 3}", 400, "prompt", "a string");
}

static void test_metrics_text(void) {
    serve_metrics m;
    serve_metrics_init(&m);
    int rec = serve_metrics_path_index("/v1/recommend");
    CHECK(serve_metrics_path_index("/nowhere") == SERVE_PATHS - 1 && serve_metrics_path_index("/health") == 0);
    serve_metrics_request(&m, rec, 200, 0.003);
    serve_metrics_request(&m, rec, 200, 0.2);
    serve_metrics_request(&m, rec, 400, 20);
    serve_metrics_step(&m, 3, 96, 0.5);
    serve_metrics_step(&m, 1, 32, 0.5);
    serve_metrics_queue(&m, 2, 3);
    char *t = serve_metrics_text(&m, 4);
    CHECK(t && strstr(t, "onerec_requests_total{path=\"/v1/recommend\",status=\"200\"} 2\n"));
    CHECK(t && strstr(t, "onerec_requests_total{path=\"/v1/recommend\",status=\"400\"} 1\n"));
    CHECK(t && strstr(t, "onerec_request_seconds_bucket{le=\"0.005\"} 1\n"));
    CHECK(t && strstr(t, "onerec_request_seconds_bucket{le=\"0.25\"} 2\n"));
    CHECK(t && strstr(t, "onerec_request_seconds_bucket{le=\"10\"} 2\n"));
    CHECK(t && strstr(t, "onerec_request_seconds_bucket{le=\"+Inf\"} 3\n"));
    CHECK(t && strstr(t, "onerec_batch_requests_bucket{le=\"2\"} 1\nonerec_batch_requests_bucket{le=\"4\"} 2\n"));
    CHECK(t && strstr(t, "onerec_queue_length 2\n") && strstr(t, "onerec_inflight_requests 4\n"));
    CHECK(t && strstr(t, "onerec_tokens_per_second 128.0\n"));
    free(t);
    serve_metrics_free(&m);
}

// A toy decoder's log-probs: a fixed function of the token sequence so far (a hash).
static void toy_logp(float *logp, const int32_t *seq, int n, int V, int salt) {
    uint32_t h = 2166136261u ^ (uint32_t)salt;
    for (int i = 0; i < n; i++) h = (h ^ (uint32_t)seq[i]) * 16777619u;
    double sum = 0;
    for (int v = 0; v < V; v++) {
        uint32_t x = (h ^ (uint32_t)v * 2654435761u) * 2246822519u;
        logp[v] = (float)((x >> 8) % 1000) / 100.0f;
        sum += exp(logp[v]);
    }
    for (int v = 0; v < V; v++) logp[v] -= (float)log(sum);
}

typedef struct {
    int V, salt, n;
    int32_t seq[8][16];   // per slot: tokens so far
    int len[8];
} toy;

static int toy_step(void *ctx, float *logp, const int32_t *tokens, int n) {
    toy *t = ctx;
    for (int i = 0; i < n; i++) {
        t->seq[i][t->len[i]++] = tokens[i];
        toy_logp(logp + (size_t)i * t->V, t->seq[i], t->len[i], t->V, t->salt);
    }
    return 0;
}

static int toy_reorder(void *ctx, const int *parents, int n) {
    toy *t = ctx, old = *t;
    for (int i = 0; i < n; i++) memcpy(t->seq[i], old.seq[parents[i]], sizeof t->seq[i]), t->len[i] = old.len[parents[i]];
    return 0;
}

static void test_beam_lockstep(void) {
    enum { V = 20, W = 6, N = 4 };
    beam_params p = {W, N, NULL, NULL};
    toy a = {.V = V, .salt = 1}, b = {.V = V, .salt = 2};
    float first_a[V], first_b[V], logp[W * V];
    toy_logp(first_a, NULL, 0, V, 1);
    toy_logp(first_b, NULL, 0, V, 2);
    beam_decoder da = {&a, V, toy_step, toy_reorder}, db = {&b, V, toy_step, toy_reorder};
    beam_result ra, rb;
    CHECK_OK(beam_search(&ra, &da, first_a, &p));
    CHECK_OK(beam_search(&rb, &db, first_b, &p));
    // the same two searches, one step of each in turn
    toy sa = {.V = V, .salt = 1}, sb = {.V = V, .salt = 2};
    beam_state s[2];
    toy *st[2] = {&sa, &sb};
    CHECK_OK(beam_state_init(&s[0], &p, V));
    CHECK_OK(beam_state_init(&s[1], &p, V));
    CHECK_OK(beam_state_first(&s[0], first_a));
    CHECK_OK(beam_state_first(&s[1], first_b));
    while (!beam_state_done(&s[0]) || !beam_state_done(&s[1]))
        for (int k = 0; k < 2; k++) {
            if (beam_state_done(&s[k])) continue;
            toy_reorder(st[k], s[k].parents, s[k].nbeam);
            toy_step(st[k], logp, s[k].last, s[k].nbeam);
            CHECK_OK(beam_state_next(&s[k], logp));
        }
    beam_result la, lb;
    beam_state_take(&s[0], &la);
    beam_state_take(&s[1], &lb);
    CHECK(la.n == ra.n && lb.n == rb.n && ra.n == W);
    CHECK(!memcmp(la.tokens, ra.tokens, sizeof(int32_t) * W * N) && !memcmp(lb.tokens, rb.tokens, sizeof(int32_t) * W * N));
    CHECK(!memcmp(la.scores, ra.scores, sizeof(float) * W) && !memcmp(lb.scores, rb.scores, sizeof(float) * W));
    CHECK(memcmp(ra.tokens, rb.tokens, sizeof(int32_t) * W * N) != 0);   // the two searches differ
    beam_result_free(&ra), beam_result_free(&rb), beam_result_free(&la), beam_result_free(&lb);
}

int main(void) {
    RUN(test_parse_good);
    RUN(test_parse_bad);
    RUN(test_metrics_text);
    RUN(test_beam_lockstep);
    return test_summary("test_serve");
}
