#include "eval/harness.h"

#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "base/log.h"
#include "base/mem.h"

int eval_ranking(eval_rank_fn rank, void *ctx, const eval_set *data, rec_metrics *m) {
    int k = 1;
    for (int i = 0; i < m->nk; i++) k = m->ks[i] > k ? m->ks[i] : k;
    int64_t n = data->hist.nseq;
    if (data->target.nseq != n) return err_set("eval: %lld histories but %lld target lists", (long long)n,
                                              (long long)data->target.nseq);
    int failed = 0;
    char first_err[ERR_MSG_MAX] = "";
    int64_t first_bad = -1;
    rec_metrics total = *m;
    progress pg;
    progress_begin(&pg, "eval", n, "samples");
#pragma omp parallel
    {
        rec_metrics part;
        rec_metrics_init(&part, m->ks, m->nk);
        int32_t *out = malloc((size_t)k * sizeof *out);
        int64_t *pred = malloc((size_t)k * sizeof *pred);
        int64_t *gt = NULL;
        int64_t gcap = 0;
        int bad = !out || !pred;
        int64_t pending = 0;   // samples done since this thread last reported progress
#pragma omp for schedule(dynamic, 16)
        for (int64_t i = 0; i < n; i++) {
            if (bad) continue;
            int np = rank(ctx, seq_at(&data->hist, i), (int)seq_len(&data->hist, i), k, out);
            int64_t ng = seq_len(&data->target, i);
            if (np >= 0 && ng > gcap) {
                int64_t *g = realloc(gt, (size_t)ng * sizeof *g);
                if (g) gt = g, gcap = ng;
                else np = err_set("eval: out of memory");
            }
            if (np < 0) {
#pragma omp critical(eval_err)
                if (first_bad < 0 || i < first_bad) {
                    first_bad = i;
                    snprintf(first_err, sizeof first_err, "%s", err_msg());
                }
                bad = 1;
                continue;
            }
            for (int j = 0; j < np; j++) pred[j] = out[j];
            const int32_t *t = seq_at(&data->target, i);
            for (int64_t j = 0; j < ng; j++) gt[j] = t[j];
            rec_metrics_add(&part, pred, np, gt, (int)ng);
            if (++pending == 256) {
#pragma omp critical(eval_progress)
                progress_add(&pg, pending);
                pending = 0;
            }
        }
#pragma omp critical(eval_merge)
        {
            rec_metrics_merge(&total, &part);
            failed |= bad;
            progress_add(&pg, pending);
        }
        free(out);
        free(pred);
        free(gt);
    }
    progress_end(&pg);
    if (failed) {
        if (first_bad >= 0) return err_set("eval: sample %lld: %s", (long long)first_bad, first_err);
        return err_set("eval: out of memory");
    }
    *m = total;
    return 0;
}

int eval_rank_baseline(void *baseline_ptr, const int32_t *hist, int n, int k, int32_t *out) {
    return baseline_rank(baseline_ptr, hist, n, k, out);
}

int eval_rank_markov_oracle(void *world_ptr, const int32_t *hist, int n, int k, int32_t *out) {
    return markov_world_rank(world_ptr, hist, n, k, out);
}
