#include "eval/metrics_rank.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "base/mem.h"

int rec_metrics_init(rec_metrics *m, const int *ks, int nk) {
    static const int bench_ks[] = {1, 32};
    memset(m, 0, sizeof *m);
    if (!ks) {
        ks = bench_ks;
        nk = 2;
    }
    if (nk < 1 || nk > METRICS_MAX_K) return err_set("metrics: %d cut-offs k (1..%d allowed)", nk, METRICS_MAX_K);
    for (int i = 0; i < nk; i++) {
        if (ks[i] < 1) return err_set("metrics: cut-off k=%d must be >= 1", ks[i]);
        m->ks[i] = ks[i];
    }
    m->nk = nk;
    return 0;
}

int rec_metrics_add(rec_metrics *m, const int64_t *pred, int npred, const int64_t *gt, int ngt) {
    if (npred < 0 || ngt < 0) return err_set("metrics: negative list length");
    // Ground truth, de-duplicated in order. Lists are short (<= a few hundred), so quadratic
    // membership tests are cheaper than building a hash set per sample.
    int64_t stack_buf[256];
    int64_t *g = ngt <= 256 ? stack_buf : mem_alloc((size_t)ngt * sizeof *g);
    if (!g) return ERR_FAIL;
    int ng = 0;
    for (int i = 0; i < ngt; i++) {
        int seen = 0;
        for (int j = 0; j < ng && !seen; j++) seen = g[j] == gt[i];
        if (!seen) g[ng++] = gt[i];
    }
    if (ng == 0) {
        m->n_empty_gt++;
        if (g != stack_buf) free(g);
        return 0;
    }
    // hit_at[j]: the rank (0-based) at which ground-truth item j first appears in pred, or -1.
    int hit_stack[256];
    int *hit_at = ng <= 256 ? hit_stack : mem_alloc((size_t)ng * sizeof *hit_at);
    if (!hit_at) {
        if (g != stack_buf) free(g);
        return ERR_FAIL;
    }
    int first_any = -1;   // rank of the first prediction that is in GT
    for (int j = 0; j < ng; j++) hit_at[j] = -1;
    for (int r = 0; r < npred; r++) {
        if (pred[r] < 0) continue;
        for (int j = 0; j < ng; j++) {
            if (pred[r] == g[j]) {
                if (hit_at[j] < 0) hit_at[j] = r;
                if (first_any < 0) first_any = r;
                break;
            }
        }
    }
    for (int i = 0; i < m->nk; i++) {
        int k = m->ks[i];
        int found = 0;
        for (int j = 0; j < ng; j++) found += hit_at[j] >= 0 && hit_at[j] < k;
        m->pass[i] += first_any >= 0 && first_any < k;
        m->pos1[i] += hit_at[0] >= 0 && hit_at[0] < k;
        m->recall[i] += (double)found / ng;
        double dcg = 0, ideal = 0;
        for (int j = 0; j < ng; j++)
            if (hit_at[j] >= 0 && hit_at[j] < k) dcg += 1.0 / log2(hit_at[j] + 2.0);
        for (int j = 0; j < ng && j < k; j++) ideal += 1.0 / log2(j + 2.0);
        m->ndcg[i] += dcg / ideal;
    }
    m->n++;
    if (g != stack_buf) free(g);
    if (hit_at != hit_stack) free(hit_at);
    return 0;
}

static double mean_of(double sum, int64_t n) { return n ? sum / (double)n : 0.0; }
double rec_metrics_pass(const rec_metrics *m, int ki) { return mean_of(m->pass[ki], m->n); }
double rec_metrics_pos1(const rec_metrics *m, int ki) { return mean_of(m->pos1[ki], m->n); }
double rec_metrics_recall(const rec_metrics *m, int ki) { return mean_of(m->recall[ki], m->n); }
double rec_metrics_ndcg(const rec_metrics *m, int ki) { return mean_of(m->ndcg[ki], m->n); }

int rec_metrics_merge(rec_metrics *a, const rec_metrics *b) {
    if (a->nk != b->nk || memcmp(a->ks, b->ks, sizeof(int) * (size_t)a->nk))
        return err_set("metrics: cannot merge accumulators with different cut-offs");
    a->n += b->n;
    a->n_empty_gt += b->n_empty_gt;
    for (int i = 0; i < a->nk; i++) {
        a->pass[i] += b->pass[i];
        a->pos1[i] += b->pos1[i];
        a->recall[i] += b->recall[i];
        a->ndcg[i] += b->ndcg[i];
    }
    return 0;
}

int metrics_parse_ks(const char *s, int *ks, int *nk) {
    *nk = 0;
    const char *p = s;
    while (*p) {
        char *end;
        long v = strtol(p, &end, 10);
        if (end == p || v < 1 || v > 1000000 || (*end && *end != ','))
            return err_set("cut-offs \"%s\": expected a comma-separated list of integers >= 1", s);
        if (*nk == METRICS_MAX_K) return err_set("cut-offs \"%s\": at most %d values", s, METRICS_MAX_K);
        ks[(*nk)++] = (int)v;
        p = *end ? end + 1 : end;
    }
    if (*nk == 0) return err_set("cut-offs: empty list");
    return 0;
}
