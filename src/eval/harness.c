#include "eval/harness.h"

#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "base/log.h"
#include "base/mem.h"

int eval_ranking(eval_rank_fn rank, void *ctx, const eval_set *data, rec_metrics *m) {
    return eval_ranking_top(rank, ctx, data, m, 0, NULL);
}

int eval_ranking_top(eval_rank_fn rank, void *ctx, const eval_set *data, rec_metrics *m, int ktop, int32_t *top) {
    int k = top ? ktop : 1;
    for (int i = 0; i < m->nk; i++) k = m->ks[i] > k ? m->ks[i] : k;
    int64_t n = data->hist.nseq;
    if (data->target.nseq != n) return err_set("eval: %lld histories but %lld target lists", (long long)n,
                                              (long long)data->target.nseq);
    // samples in fixed blocks whose partial sums are added in block order: the same metrics, to
    // the last bit, for any thread count and schedule
    enum { BLOCK = 64 };
    int64_t nblk = (n + BLOCK - 1) / BLOCK;
    rec_metrics *blk = mem_alloc((size_t)(nblk ? nblk : 1) * sizeof *blk);
    if (!blk) return ERR_FAIL;
    int failed = 0;
    char first_err[ERR_MSG_MAX] = "";
    int64_t first_bad = -1;
    progress pg;
    progress_begin(&pg, "eval", n, "samples");
#pragma omp parallel
    {
        int32_t *out = malloc((size_t)k * sizeof *out);
        int64_t *pred = malloc((size_t)k * sizeof *pred);
        int64_t *gt = NULL;
        int64_t gcap = 0;
        int bad = !out || !pred;
#pragma omp for schedule(dynamic, 1)
        for (int64_t bi = 0; bi < nblk; bi++) {
            rec_metrics_init(&blk[bi], m->ks, m->nk);
            int64_t end = (bi + 1) * BLOCK < n ? (bi + 1) * BLOCK : n;
            for (int64_t i = bi * BLOCK; i < end && !bad; i++) {
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
                    break;
                }
                for (int j = 0; j < np; j++) pred[j] = out[j];
                for (int j = 0; top && j < ktop; j++) top[i * ktop + j] = j < np ? out[j] : -1;
                const int32_t *t = seq_at(&data->target, i);
                for (int64_t j = 0; j < ng; j++) gt[j] = t[j];
                rec_metrics_add(&blk[bi], pred, np, gt, (int)ng);
            }
#pragma omp critical(eval_progress)
            progress_add(&pg, end - bi * BLOCK);
        }
#pragma omp critical(eval_merge)
        failed |= bad;
        free(out);
        free(pred);
        free(gt);
    }
    progress_end(&pg);
    rec_metrics total = *m;
    for (int64_t bi = 0; bi < nblk && !failed; bi++) rec_metrics_merge(&total, &blk[bi]);
    free(blk);
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

void markov_bench_default(markov_bench *b) {
    *b = (markov_bench){
        .nitems = 1000,
        .branch = 4,
        .jump = 0.1,
        .zipf = 0.8,
        .users = 1500,
        .eval_users = 300,
        .len = 30,
        .targets = 3,
        .seed = 1,
        .ks = {1, 32},
        .nk = 2,
        .task = "markov",
    };
    baseline_config_default(&b->knn, BASELINE_ITEMKNN);
    baseline_config_default(&b->sasrec, BASELINE_SASREC);
    b->sasrec.sasrec = (sasrec_config){.dim = 32, .layers = 1, .heads = 1, .maxlen = 20, .epochs = 15, .batch = 32,
                                       .lr = 5e-3f, .weight_decay = 0};
}

int eval_markov_bench(const markov_bench *b, results_table *r) {
    markov_world w;
    if (markov_world_init(&w, b->nitems, b->branch, b->jump, b->zipf, b->seed)) return ERR_FAIL;
    w.horizon = b->targets;
    seq_set train;
    eval_set ev;
    int rc = markov_world_sample(&w, b->users, b->len, b->seed + 1, &train, b->eval_users, b->targets, &ev);
    if (rc) {
        markov_world_free(&w);
        return ERR_FAIL;
    }
    baseline_config cfgs[3];
    baseline_config_default(&cfgs[0], BASELINE_POPULARITY);
    cfgs[1] = b->knn;
    cfgs[1].kind = BASELINE_ITEMKNN;
    cfgs[2] = b->sasrec;
    cfgs[2].kind = BASELINE_SASREC;
    for (int i = 0; i < 3 && !rc; i++) {
        if (i == 2 && b->skip_sasrec) break;
        baseline *bl;
        double t0 = time_now();
        rc = baseline_fit(&bl, &cfgs[i], &train);
        if (rc) break;
        double t_fit = time_now() - t0;
        rec_metrics m;
        rc = rec_metrics_init(&m, b->ks, b->nk);
        if (!rc) rc = eval_ranking(eval_rank_baseline, bl, &ev, &m);
        if (!rc) rc = results_add_rec(r, baseline_kind_name(cfgs[i].kind), b->task, &m);
        if (!rc) rc = results_set(r, baseline_kind_name(cfgs[i].kind), b->task, "fit_seconds", t_fit);
        baseline_free(bl);
    }
    if (!rc) {
        rec_metrics m;
        rc = rec_metrics_init(&m, b->ks, b->nk);
        if (!rc) rc = eval_ranking(eval_rank_markov_oracle, &w, &ev, &m);
        if (!rc) rc = results_add_rec(r, "oracle", b->task, &m);
    }
    seq_set_free(&train);
    eval_set_free(&ev);
    markov_world_free(&w);
    return rc;
}
