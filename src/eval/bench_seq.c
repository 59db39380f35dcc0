#include "eval/bench_seq.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "base/file.h"
#include "base/log.h"
#include "base/mem.h"
#include "data/table.h"
#include "eval/bench_score.h"
#include "eval/harness.h"
#include "eval/metrics_auc.h"

static const char *DOMAIN_NAMES[] = {"video", "ad", "product"};
static const char *HIST_COLS[] = {"hist_video_pid", "hist_ad_pid", "hist_goods_pid"};
static const char *TARGET_COLS[] = {"target_video_pid", "target_ad_pid", "target_goods_pid"};

const char *bench_domain_name(bench_domain d) { return d >= 0 && d <= BENCH_PRODUCT ? DOMAIN_NAMES[d] : "unknown"; }

typedef struct {
    bench_domain d;
    int max_targets;
    seq_set *train;
    eval_set *test;
    int64_t *uids;
    int64_t nuid, cap_uid;
    int32_t *buf;
    int64_t cap_buf;
    int64_t other_splits;
    int64_t no_target;   // split-1 rows without a target in this domain
} load_ctx;

// Copies pids into the int32 buffer at offset `at`; pids must fit the dense id tables.
static int put_ids(load_ctx *c, const int64_t *v, int n, int64_t at) {
    if (at + n > c->cap_buf) {
        int64_t nc = c->cap_buf ? c->cap_buf : 1024;
        while (nc < at + n) nc *= 2;
        int32_t *nb = mem_realloc(c->buf, (size_t)nc * sizeof *nb);
        if (!nb) return ERR_FAIL;
        c->buf = nb;
        c->cap_buf = nc;
    }
    for (int i = 0; i < n; i++) {
        if (v[i] < 0 || v[i] > INT32_MAX / 2) return err_set("pid %lld out of the supported range [0, 2^30)", (long long)v[i]);
        c->buf[at + i] = (int32_t)v[i];
    }
    return 0;
}

static int on_row(void *ctx, const cJSON *row) {
    load_ctx *c = ctx;
    const cJSON *split = cJSON_GetObjectItemCaseSensitive(row, "split"), *uid = cJSON_GetObjectItemCaseSensitive(row, "uid");
    if (!cJSON_IsNumber(split) || !cJSON_IsNumber(uid)) return err_set("split/uid must be integers");
    int64_t *h = NULL, *t = NULL;
    int nh = 0, nt = 0;
    int rc = dtab_get_int_array(row, HIST_COLS[c->d], &h, &nh);
    if (!rc) rc = dtab_get_int_array(row, TARGET_COLS[c->d], &t, &nt);
    if (!rc && split->valuedouble == 0) {
        rc = put_ids(c, h, nh, 0);
        if (!rc) rc = put_ids(c, t, nt, nh);
        if (!rc && nh + nt > 0) rc = seq_set_append(c->train, c->buf, nh + nt);
    } else if (!rc && split->valuedouble == 1 && nt == 0) {
        c->no_target++;   // nothing to rank against (a log without this domain)
    } else if (!rc && split->valuedouble == 1) {
        int k = nt < c->max_targets ? nt : c->max_targets;
        rc = put_ids(c, h, nh, 0);
        if (!rc) rc = put_ids(c, t, k, nh);
        if (!rc) rc = seq_set_append(&c->test->hist, c->buf, nh);
        if (!rc) rc = seq_set_append(&c->test->target, c->buf + nh, k);
        if (!rc && c->nuid == c->cap_uid) {
            int64_t nc = c->cap_uid ? 2 * c->cap_uid : 256;
            int64_t *nu = mem_realloc(c->uids, (size_t)nc * sizeof *nu);
            if (!nu) rc = ERR_FAIL;
            else c->uids = nu, c->cap_uid = nc;
        }
        if (!rc) c->uids[c->nuid++] = (int64_t)uid->valuedouble;
    } else if (!rc) {
        c->other_splits++;
    }
    free(h);
    free(t);
    return rc;
}

static int cmp_i32(const void *a, const void *b) {
    int32_t x = *(const int32_t *)a, y = *(const int32_t *)b;
    return x < y ? -1 : x > y;
}

// Rewrites the items of every set to dense ids 1..N in pid order (ties between items then break as
// they did on pids) and keeps the pids in ids->pid[1..N].
static int dense_build(bench_ids *ids, seq_set *const *sets, int nsets) {
    int64_t total = 0;
    for (int i = 0; i < nsets; i++) total += sets[i]->offsets[sets[i]->nseq];
    int32_t *all = mem_alloc((size_t)(total + 1) * sizeof *all);
    if (!all) return ERR_FAIL;
    int64_t n = 0;
    for (int i = 0; i < nsets; i++)
        for (int64_t j = 0; j < sets[i]->offsets[sets[i]->nseq]; j++) all[n++] = sets[i]->items[j];
    qsort(all, (size_t)n, sizeof *all, cmp_i32);
    int64_t u = 0;
    for (int64_t j = 0; j < n; j++)
        if (u == 0 || all[j] != all[u - 1]) all[u++] = all[j];
    ids->pid = mem_alloc((size_t)(u + 1) * sizeof *ids->pid);
    if (!ids->pid) {
        free(all);
        return ERR_FAIL;
    }
    ids->pid[0] = -1;
    memcpy(ids->pid + 1, all, (size_t)u * sizeof *all);
    ids->n = (int32_t)u;
    free(all);
    for (int i = 0; i < nsets; i++) {
        for (int64_t j = 0; j < sets[i]->offsets[sets[i]->nseq]; j++) sets[i]->items[j] = bench_ids_dense(ids, sets[i]->items[j]);
        sets[i]->nitems = ids->n + 1;
    }
    return 0;
}

int32_t bench_ids_dense(const bench_ids *ids, int64_t pid) {
    int32_t lo = 1, hi = ids->n;
    while (lo <= hi) {
        int32_t mid = lo + (hi - lo) / 2;
        if (ids->pid[mid] == pid) return mid;
        if (ids->pid[mid] < pid) lo = mid + 1;
        else hi = mid - 1;
    }
    return ids->n + 1;
}

void bench_ids_free(bench_ids *ids) {
    free(ids->pid);
    ids->pid = NULL;
    ids->n = 0;
}

int bench_load_sequences(const char *raw, bench_domain d, int max_targets, seq_set *train, eval_set *test,
                         int64_t **uids, bench_ids *ids) {
    if (d < BENCH_VIDEO || d > BENCH_PRODUCT) return err_set("recif: unknown domain %d", d);
    if (max_targets < 1) return err_set("recif: max_targets must be >= 1");
    const dcol want[] = {{"uid", DCOL_I64, 0}, {"split", DCOL_I32, 0}, {HIST_COLS[d], DCOL_LIST_I64, 0},
                         {TARGET_COLS[d], DCOL_LIST_I64, 0}};
    if (seq_set_init(train)) return ERR_FAIL;
    if (eval_set_init(test)) {
        seq_set_free(train);
        return ERR_FAIL;
    }
    load_ctx c = {.d = d, .max_targets = max_targets, .train = train, .test = test};
    int rc = dtab_foreach(raw, want, 4, "RecIF raw table", on_row, &c);
    free(c.buf);
    // a domain without any item (an imported log has no ads or products) is empty, not an error
    int absent = train->nseq == 0 && test->hist.nseq == 0;
    if (!rc && !absent && (train->nseq == 0 || test->hist.nseq == 0))
        rc = err_set("%s: %s: %lld training and %lld test users with items (both needed)", raw, DOMAIN_NAMES[d],
                     (long long)train->nseq, (long long)test->hist.nseq);
    if (rc) {
        free(c.uids);
        seq_set_free(train);
        eval_set_free(test);
        return ERR_FAIL;
    }
    // one dense id space for fitting and ranking
    seq_set *sets[3] = {train, &test->hist, &test->target};
    memset(ids, 0, sizeof *ids);
    if (dense_build(ids, sets, 3)) {
        free(c.uids);
        seq_set_free(train);
        eval_set_free(test);
        return ERR_FAIL;
    }
    if (c.other_splits)
        log_info("%s: %lld rows with a split other than 0/1 ignored (data import's split 2: validation)", raw,
                 (long long)c.other_splits);
    if (c.no_target && !absent)
        log_warn("%s: %s: %lld test users without a target skipped", raw, DOMAIN_NAMES[d], (long long)c.no_target);
    if (uids) *uids = c.uids;
    else free(c.uids);
    return 0;
}

typedef struct {
    int max_cand;
    label_set *l;
    int32_t *buf;
    int64_t nlab, cap_lab;
} label_ctx;

static int on_label_row(void *ctx, const cJSON *row) {
    label_ctx *c = ctx;
    const cJSON *split = cJSON_GetObjectItemCaseSensitive(row, "split");
    if (!cJSON_IsNumber(split)) return err_set("split must be an integer");
    if (split->valuedouble != 1) return 0;
    int64_t *h = NULL, *t = NULL, *lv = NULL;
    int nh = 0, nt = 0, nl = 0;
    int rc = dtab_get_int_array(row, "hist_video_pid", &h, &nh);
    if (!rc) rc = dtab_get_int_array(row, "target_video_pid", &t, &nt);
    if (!rc) rc = dtab_get_int_array(row, "target_video_longview", &lv, &nl);
    if (!rc && nl != nt) rc = err_set("target_video_longview has %d flags for %d targets", nl, nt);
    int k = nt < c->max_cand ? nt : c->max_cand;
    int32_t *b = rc ? NULL : mem_realloc(c->buf, (size_t)(nh + k + 1) * sizeof *b);
    if (!rc && !b) rc = ERR_FAIL;
    if (!rc) c->buf = b;
    for (int i = 0; !rc && i < nh + k; i++) {
        int64_t v = i < nh ? h[i] : t[i - nh];
        if (v < 0 || v > INT32_MAX / 2) rc = err_set("pid %lld out of the supported range", (long long)v);
        else b[i] = (int32_t)v;
    }
    if (!rc && k > 0) {
        rc = seq_set_append(&c->l->hist, b, nh);
        if (!rc) rc = seq_set_append(&c->l->cand, b + nh, k);
        if (!rc && c->nlab + k > c->cap_lab) {
            int64_t nc = c->cap_lab ? 2 * c->cap_lab : 1024;
            while (nc < c->nlab + k) nc *= 2;
            int *nlb = mem_realloc(c->l->labels, (size_t)nc * sizeof *nlb);
            if (!nlb) rc = ERR_FAIL;
            else c->l->labels = nlb, c->cap_lab = nc;
        }
        for (int i = 0; !rc && i < k; i++) c->l->labels[c->nlab++] = lv[i] != 0;
    }
    free(h);
    free(t);
    free(lv);
    return rc;
}

int bench_load_labels(const char *raw, int max_cand, label_set *out) {
    memset(out, 0, sizeof *out);
    const dcol want[] = {{"split", DCOL_I32, 0}, {"hist_video_pid", DCOL_LIST_I64, 0}, {"target_video_pid", DCOL_LIST_I64, 0},
                         {"target_video_longview", DCOL_LIST_I64, 0}};
    if (seq_set_init(&out->hist) || seq_set_init(&out->cand)) {
        label_set_free(out);
        return ERR_FAIL;
    }
    label_ctx c = {.max_cand = max_cand, .l = out};
    int rc = dtab_foreach(raw, want, 4, "RecIF raw table", on_label_row, &c);
    free(c.buf);
    if (rc) label_set_free(out);
    return rc;
}

void label_set_free(label_set *l) {
    seq_set_free(&l->hist);
    seq_set_free(&l->cand);
    free(l->labels);
    l->labels = NULL;
}

int bench_label_auc(const baseline *b, const label_set *l, double *auc) {
    int64_t n = l->cand.offsets[l->cand.nseq];
    float *s = mem_alloc((size_t)(n ? n : 1) * sizeof *s);
    double *sd = mem_alloc((size_t)(n ? n : 1) * sizeof *sd);
    int rc = s && sd ? 0 : ERR_FAIL;
    for (int64_t i = 0; !rc && i < l->cand.nseq; i++)
        rc = baseline_score_items(b, seq_at(&l->hist, i), (int)seq_len(&l->hist, i), seq_at(&l->cand, i),
                                  (int)seq_len(&l->cand, i), s + l->cand.offsets[i]);
    // -inf (unknown candidates) would tie at the bottom anyway; a finite floor keeps the ranks exact
    for (int64_t i = 0; !rc && i < n; i++) sd[i] = isinf(s[i]) ? -1e30 : (double)s[i];
    if (!rc) rc = metrics_auc(sd, l->labels, n, auc);
    free(s);
    free(sd);
    return rc;
}

typedef struct {
    int64_t *uid;   // sorted by uid with their rank lists
    int64_t **pids;
    int *n;
    int64_t count, cap;
} oracle_rows;

static int on_oracle(void *ctx, const cJSON *row) {
    oracle_rows *o = ctx;
    if (o->count == o->cap) {
        int64_t nc = o->cap ? 2 * o->cap : 256;
        int64_t *nu = mem_realloc(o->uid, (size_t)nc * sizeof *nu);
        if (!nu) return ERR_FAIL;
        o->uid = nu;
        int64_t **np = mem_realloc(o->pids, (size_t)nc * sizeof *np);
        if (!np) return ERR_FAIL;
        o->pids = np;
        int *nn = mem_realloc(o->n, (size_t)nc * sizeof *nn);
        if (!nn) return ERR_FAIL;
        o->n = nn;
        o->cap = nc;
    }
    const cJSON *u = cJSON_GetObjectItemCaseSensitive(row, "uid");
    if (!cJSON_IsNumber(u)) return err_set("uid must be an integer");
    if (dtab_get_int_array(row, "pid", &o->pids[o->count], &o->n[o->count])) return ERR_FAIL;
    o->uid[o->count++] = (int64_t)u->valuedouble;
    return 0;
}

int bench_oracle_score(const char *oracle_path, const eval_set *test, const int64_t *uids, const bench_ids *ids, rec_metrics *m) {
    const dcol want[] = {{"uid", DCOL_I64, 0}, {"pid", DCOL_LIST_I64, 0}};
    oracle_rows o = {0};
    int rc = dtab_foreach(oracle_path, want, 2, "oracle table", on_oracle, &o);
    int64_t *gt = NULL;
    int64_t matched = 0;
    for (int64_t i = 0; !rc && i < test->hist.nseq; i++) {
        int64_t j = -1;
        // oracle rows come in test-user order, so a forward scan from the last match is cheap
        for (int64_t s = 0; s < o.count && j < 0; s++)
            if (o.uid[(matched + s) % o.count] == uids[i]) j = (matched + s) % o.count;
        if (j < 0) continue;
        int64_t ng = seq_len(&test->target, i);
        int64_t *g = mem_realloc(gt, (size_t)(ng ? ng : 1) * sizeof *g);
        if (!g) {
            rc = ERR_FAIL;
            break;
        }
        gt = g;
        for (int64_t t = 0; t < ng; t++) gt[t] = ids->pid[seq_at(&test->target, i)[t]];   // the oracle names pids
        rc = rec_metrics_add(m, o.pids[j], o.n[j], gt, (int)ng);
        matched++;
    }
    if (!rc && matched == 0) rc = err_set("%s: none of the %lld test users is in the oracle file", oracle_path,
                                          (long long)test->hist.nseq);
    for (int64_t i = 0; i < o.count; i++) free(o.pids[i]);
    free(o.uid);
    free(o.pids);
    free(o.n);
    free(gt);
    return rc;
}

// pred_dir/{system}/pred_{task}.jsonl from the ranked lists top [users, k].
static int write_predictions(const char *dir, const char *system, const char *task, const int64_t *uids, int64_t n,
                             const int32_t *top, int k, const bench_ids *ids) {
    char *sub = mem_printf("%s/%s", dir, system), *path = mem_printf("%s/%s/pred_%s.jsonl", dir, system, task);
    int64_t *items = mem_alloc((size_t)k * sizeof *items);
    afile af;
    int rc = !sub || !path || !items || file_mkdirs(sub) ? ERR_FAIL : afile_open(&af, path);
    for (int64_t i = 0; !rc && i < n; i++) {
        int m = 0;
        for (; m < k && top[i * k + m] >= 0; m++) items[m] = ids->pid[top[i * k + m]];
        if ((rc = bench_items_line(af.fp, uids[i], items, m))) afile_abort(&af);
    }
    if (!rc) rc = afile_commit(&af);
    free(sub), free(path), free(items);
    return rc;
}

void bench_baselines_default(bench_baselines *b) {
    memset(b, 0, sizeof *b);
    b->max_targets = 10;
    for (int i = 0; i < 3; i++) {
        baseline_config_default(&b->cfg[i], (baseline_kind)i);
        // the RecIF world never repeats an item for a user (and its oracle excludes seen items)
        b->cfg[i].exclude_history = 1;
    }
    b->ks[0] = 1;
    b->ks[1] = 32;
    b->nk = 2;
    b->pred_k = 50;
}

int bench_baselines_run(const bench_baselines *b, results_table *r) {
    label_set labels;
    if (bench_load_labels(b->raw, b->max_targets, &labels)) return err_wrap("label_pred samples");
    int64_t nlab = labels.cand.offsets[labels.cand.nseq];
    log_info("label_pred: %lld candidates of %lld test users", (long long)nlab, (long long)labels.cand.nseq);
    int64_t npos = 0;
    for (int64_t i = 0; i < nlab; i++) npos += labels.labels[i];
    // one class only (a log without ratings: every item is a long view): AUC is undefined
    int with_auc = npos > 0 && npos < nlab;
    if (nlab > 0 && !with_auc) log_info("label_pred: all %lld candidates have the same label: no AUC", (long long)nlab);
    int rc = 0;
    for (int d = BENCH_VIDEO; d <= BENCH_PRODUCT && !rc; d++) {
        const char *task = d == BENCH_VIDEO && b->video_task ? b->video_task : bench_domain_name((bench_domain)d);
        seq_set train;
        eval_set test;
        int64_t *uids = NULL;
        bench_ids ids;
        if (bench_load_sequences(b->raw, (bench_domain)d, b->max_targets, &train, &test, &uids, &ids)) {
            label_set_free(&labels);
            return err_wrap("domain %s", task);
        }
        if (train.nseq == 0) {
            log_info("%s: no items in this domain: skipped", task);
            free(uids);
            bench_ids_free(&ids);
            seq_set_free(&train);
            eval_set_free(&test);
            continue;
        }
        log_info("%s: %lld training sequences (%lld items), %lld test users, %d items", task, (long long)train.nseq,
                 (long long)train.offsets[train.nseq], (long long)test.hist.nseq, ids.n);
        // label_pred's candidates and histories are video pids: into this dense space (unknown
        // candidates get the out-of-range id, which the baselines score as unknown)
        for (int64_t j = 0; d == BENCH_VIDEO && j < labels.hist.offsets[labels.hist.nseq]; j++)
            labels.hist.items[j] = bench_ids_dense(&ids, labels.hist.items[j]);
        for (int64_t j = 0; d == BENCH_VIDEO && j < labels.cand.offsets[labels.cand.nseq]; j++)
            labels.cand.items[j] = bench_ids_dense(&ids, labels.cand.items[j]);
        for (int i = 0; i < 3 && !rc; i++) {
            if (i == BASELINE_SASREC && b->skip_sasrec) break;
            baseline *bl;
            double t0 = time_now();
            rc = baseline_fit(&bl, &b->cfg[i], &train);
            if (rc) break;
            double t_fit = time_now() - t0;
            rec_metrics m;
            const char *name = baseline_kind_name(b->cfg[i].kind);
            rc = rec_metrics_init(&m, b->ks, b->nk);
            int32_t *top = b->pred_dir ? mem_alloc((size_t)test.hist.nseq * (size_t)b->pred_k * sizeof *top) : NULL;
            if (!rc && b->pred_dir && !top) rc = ERR_FAIL;
            if (!rc) rc = eval_ranking_top(eval_rank_baseline, bl, &test, &m, b->pred_k, top);
            if (!rc && top) rc = write_predictions(b->pred_dir, name, task, uids, test.hist.nseq, top, b->pred_k, &ids);
            free(top);
            if (!rc) rc = results_add_rec(r, name, task, &m);
            if (!rc) rc = results_set(r, name, task, "fit_seconds", t_fit);
            if (!rc && d == BENCH_VIDEO && with_auc) {
                double auc;
                rc = bench_label_auc(bl, &labels, &auc);
                if (!rc) rc = results_set(r, name, "label_pred", "auc", auc);
                if (!rc) rc = results_set(r, name, "label_pred", "samples", (double)nlab);
            }
            baseline_free(bl);
        }
        if (!rc && b->world_dir) {
            char path[4096];
            snprintf(path, sizeof path, "%s/oracle/oracle_%s.parquet", b->world_dir, task);
            FILE *f = fopen(path, "rb");
            if (f) fclose(f);
            else snprintf(path, sizeof path, "%s/oracle/oracle_%s.jsonl", b->world_dir, task);
            rec_metrics m;
            rc = rec_metrics_init(&m, b->ks, b->nk);
            if (!rc) rc = bench_oracle_score(path, &test, uids, &ids, &m);
            if (!rc) rc = results_add_rec(r, "oracle", task, &m);
        }
        free(uids);
        bench_ids_free(&ids);
        seq_set_free(&train);
        eval_set_free(&test);
        if (rc) {
            label_set_free(&labels);
            return err_wrap("domain %s", task);
        }
    }
    label_set_free(&labels);
    return 0;
}
