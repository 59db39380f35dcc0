// Beam search against exhaustive search, with a mock decoder whose next-token distribution depends
// on the whole history of its slot (so a wrong reorder/fork shows up as a wrong score).
#include <string.h>

#include "base/mem.h"
#include "rec/beam.h"
#include "rec/sample.h"
#include "test.h"

#define V 6
#define MAXS 64
#define MAXLEN 8

typedef struct {
    int len[MAXS];
    int32_t hist[MAXS][MAXLEN];
    int calls;
} mock;

static void mock_logp(float *out, const int32_t *hist, int len) {
    float logits[V];
    for (int v = 0; v < V; v++) {
        uint64_t h = 1469598103934665603ULL ^ (uint64_t)v;
        for (int i = 0; i < len; i++) h = (h ^ (uint64_t)(hist[i] + 7)) * 1099511628211ULL;
        logits[v] = (float)((h >> 11) % 1000) / 250.0f;
    }
    sample_log_softmax(out, logits, V);
}

static int mock_step(void *ctx, float *logp, const int32_t *tokens, int n) {
    mock *m = ctx;
    for (int i = 0; i < n; i++) {
        m->hist[i][m->len[i]++] = tokens[i];
        mock_logp(logp + (size_t)i * V, m->hist[i], m->len[i]);
    }
    m->calls++;
    return 0;
}

static int mock_reorder(void *ctx, const int *parents, int n) {
    mock *m = ctx, old = *m;
    for (int i = 0; i < n; i++) {
        m->len[i] = old.len[parents[i]];
        memcpy(m->hist[i], old.hist[parents[i]], sizeof m->hist[i]);
    }
    return 0;
}

// All V^N continuations of the prompt with their cumulative scores, sorted best first.
typedef struct {
    int32_t t[4];
    float s;
} seq;

static int seq_cmp(const void *a, const void *b) {
    const seq *x = a, *y = b;
    if (x->s != y->s) return x->s < y->s ? 1 : -1;
    return memcmp(x->t, y->t, sizeof x->t);
}

static int enumerate(seq *out, const int32_t *prompt, int plen, int N, int (*valid)(const int32_t *, int)) {
    int total = 1, n = 0;
    for (int i = 0; i < N; i++) total *= V;
    for (int code = 0; code < total; code++) {
        seq s = {{0}, 0};
        int32_t h[MAXLEN];
        memcpy(h, prompt, (size_t)plen * sizeof(int32_t));
        int c = code, ok = 1;
        for (int d = 0; d < N; d++) {
            s.t[d] = c % V;
            c /= V;
        }
        for (int d = 0; d < N && ok; d++) {
            float lp[V];
            mock_logp(lp, h, plen + d);
            s.s += lp[s.t[d]];
            h[plen + d] = s.t[d];
        }
        if (valid && !valid(s.t, N)) ok = 0;
        if (ok) out[n++] = s;
    }
    qsort(out, (size_t)n, sizeof(seq), seq_cmp);
    return n;
}

static int run_beam(beam_result *r, int W, int N, beam_allowed_fn allowed) {
    static mock m;
    memset(&m, 0, sizeof m);
    int32_t prompt[2] = {3, 1};
    m.len[0] = 2;
    memcpy(m.hist[0], prompt, sizeof prompt);
    float first[V];
    mock_logp(first, prompt, 2);
    beam_decoder dec = {&m, V, mock_step, mock_reorder};
    beam_params p = {W, N, allowed, NULL};
    return beam_search(r, &dec, first, &p);
}

static void test_beam_equals_exhaustive(void) {
    // with W >= V^(N-1) no prefix is ever pruned, so beam search is exact
    int N = 3, W = V * V;
    beam_result r;
    CHECK_OK(run_beam(&r, W, N, NULL));
    seq all[V * V * V];
    int32_t prompt[2] = {3, 1};
    int n = enumerate(all, prompt, 2, N, NULL);
    CHECK(r.n == W);
    int same = 1;
    for (int i = 0; i < r.n && i < n; i++) {
        same &= fabsf(r.scores[i] - all[i].s) < 1e-5f;
        same &= !memcmp(r.tokens + (size_t)i * N, all[i].t, (size_t)N * sizeof(int32_t));
    }
    CHECK(same);
    beam_result_free(&r);
}

static void test_beam_sorted_distinct(void) {
    beam_result r;
    CHECK_OK(run_beam(&r, 4, 4, NULL));
    CHECK(r.n == 4);
    for (int i = 1; i < r.n; i++) {
        CHECK(r.scores[i - 1] >= r.scores[i]);
        for (int j = 0; j < i; j++) CHECK(memcmp(r.tokens + i * 4, r.tokens + j * 4, 4 * sizeof(int32_t)) != 0);
    }
    beam_result_free(&r);
}

// valid "items": sequences whose tokens are strictly increasing
static int increasing(const int32_t *t, int n) {
    for (int i = 1; i < n; i++)
        if (t[i] <= t[i - 1]) return 0;
    return 1;
}

static int allowed_increasing(void *ctx, const int32_t *prefix, int depth, int32_t *out, int max) {
    (void)ctx;
    (void)max;
    int lo = depth ? prefix[depth - 1] + 1 : 0, n = 0;
    // leave room for the remaining tokens of a 3-token item
    for (int v = lo; v < V - (2 - depth); v++) out[n++] = v;
    return n;
}

static void test_beam_constrained(void) {
    int N = 3;
    beam_result r;
    CHECK_OK(run_beam(&r, 64, N, allowed_increasing));
    seq all[V * V * V];
    int32_t prompt[2] = {3, 1};
    int n = enumerate(all, prompt, 2, N, increasing);
    CHECK(n == 20);     // C(6,3) valid items, all of them fit in 64 beams
    CHECK(r.n == n);
    int same = 1;
    for (int i = 0; i < r.n && i < n; i++) {
        same &= increasing(r.tokens + (size_t)i * N, N);
        same &= !memcmp(r.tokens + (size_t)i * N, all[i].t, (size_t)N * sizeof(int32_t));
    }
    CHECK(same);
    beam_result_free(&r);
}

static void test_beam_bad_params(void) {
    beam_result r;
    CHECK_FAILS_WITH(run_beam(&r, 0, 3, NULL), "width");
}

int main(void) {
    RUN(test_beam_equals_exhaustive);
    RUN(test_beam_sorted_distinct);
    RUN(test_beam_constrained);
    RUN(test_beam_bad_params);
    return test_summary("test_beam");
}
