#include "eval/metrics_auc.h"

#include <math.h>
#include <stdlib.h>

#include "base/err.h"
#include "base/mem.h"

static const double *g_sort_scores;   // qsort has no context argument; AUC is not called in parallel
static int cmp_by_score(const void *a, const void *b) {
    double x = g_sort_scores[*(const int64_t *)a], y = g_sort_scores[*(const int64_t *)b];
    return (x > y) - (x < y);
}

int metrics_auc(const double *scores, const int *labels, int64_t n, double *auc) {
    int64_t npos = 0;
    for (int64_t i = 0; i < n; i++) {
        if (labels[i] != 0 && labels[i] != 1) return err_set("auc: label %d at sample %lld is not 0/1", labels[i], (long long)i);
        if (isnan(scores[i])) return err_set("auc: score at sample %lld is NaN", (long long)i);
        npos += labels[i];
    }
    int64_t nneg = n - npos;
    if (npos == 0 || nneg == 0)
        return err_set("auc: undefined with %lld positive and %lld negative samples (both classes needed)",
                       (long long)npos, (long long)nneg);
    int64_t *idx = mem_alloc((size_t)n * sizeof *idx);
    if (!idx) return ERR_FAIL;
    for (int64_t i = 0; i < n; i++) idx[i] = i;
    g_sort_scores = scores;
    qsort(idx, (size_t)n, sizeof *idx, cmp_by_score);
    // Mann-Whitney U: sum of the (1-based, tie-averaged) ranks of the positives.
    double rank_sum = 0;
    for (int64_t i = 0; i < n;) {
        int64_t j = i;
        int64_t pos_in_group = 0;
        while (j < n && scores[idx[j]] == scores[idx[i]]) pos_in_group += labels[idx[j++]];
        double mean_rank = 0.5 * (double)(i + 1 + j);   // mean of ranks i+1 .. j
        rank_sum += mean_rank * (double)pos_in_group;
        i = j;
    }
    free(idx);
    double u = rank_sum - 0.5 * (double)npos * (double)(npos + 1);
    *auc = u / ((double)npos * (double)nneg);
    return 0;
}

double metrics_yes_score(double logit_yes, double logit_no) {
    // p_yes / (p_yes + p_no) = 1 / (1 + exp(l_no - l_yes)); the softmax normaliser cancels.
    double d = logit_no - logit_yes;
    if (d > 0) {
        double e = exp(-d);
        return e / (1.0 + e);
    }
    return 1.0 / (1.0 + exp(d));
}
