#include "data/synth.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "base/file.h"
#include "base/json.h"
#include "base/log.h"
#include "base/mem.h"
#include "data/general.h"
#include "data/table.h"

const char *const DOMAIN_NAME[DOM_COUNT] = {"video", "ad", "product"};

static int write_items(const world *w, const char *out, const char *ext) {
    char p_cap[1024], p_sid[2][1024], p_emb[2][1024];
    snprintf(p_cap, sizeof p_cap, "%s/pid2caption%s", out, ext);
    snprintf(p_sid[0], sizeof p_sid[0], "%s/video_ad_pid2sid%s", out, ext);
    snprintf(p_sid[1], sizeof p_sid[1], "%s/product_pid2sid%s", out, ext);
    snprintf(p_emb[0], sizeof p_emb[0], "%s/video_ad_embeddings%s", out, ext);
    snprintf(p_emb[1], sizeof p_emb[1], "%s/product_embeddings%s", out, ext);
    dtab_writer *cap = NULL, *sid[2] = {0}, *emb[2] = {0};
    float *e = mem_alloc(sizeof *e * (size_t)w->cfg.emb_dim);
    if (!e || dtab_writer_open(&cap, p_cap, PID2CAPTION_COLS, 2)) goto fail;
    for (int k = 0; k < 2; k++)
        if (dtab_writer_open(&sid[k], p_sid[k], PID2SID_COLS, 2) || dtab_writer_open(&emb[k], p_emb[k], EMBEDDING_COLS, 2))
            goto fail;
    progress pg;
    progress_begin(&pg, "synth items", w->n_items, "items");
    for (int64_t i = 0; i < w->n_items; i++) {
        int k = world_domain(w, i) == DOM_PRODUCT;
        char text[256];
        world_caption(w, i, text, sizeof text);
        int32_t codes[3];
        world_planted_sid(w, i, codes);
        world_embedding(w, i, e);
        cJSON *r1 = cJSON_CreateObject(), *r2 = cJSON_CreateObject(), *r3 = cJSON_CreateObject();
        cJSON_AddNumberToObject(r1, "pid", (double)world_pid(i));
        cJSON_AddStringToObject(r1, "dense_caption", text);
        cJSON_AddNumberToObject(r2, "pid", (double)world_pid(i));
        cJSON_AddItemToObject(r2, "sid", cJSON_CreateIntArray(codes, 3));
        cJSON_AddNumberToObject(r3, "pid", (double)world_pid(i));
        cJSON *arr = cJSON_CreateArray();
        for (int d = 0; d < w->cfg.emb_dim; d++) cJSON_AddItemToArray(arr, cJSON_CreateNumber(e[d]));
        cJSON_AddItemToObject(r3, "embedding", arr);
        int rc = dtab_writer_row(cap, r1) || dtab_writer_row(sid[k], r2) || dtab_writer_row(emb[k], r3);
        cJSON_Delete(r1);
        cJSON_Delete(r2);
        cJSON_Delete(r3);
        if (rc) goto fail;
        progress_add(&pg, 1);
    }
    progress_end(&pg);
    free(e);
    e = NULL;
    int rc = dtab_writer_close(cap);
    cap = NULL;
    for (int k = 0; k < 2; k++) {
        rc |= dtab_writer_close(sid[k]);
        sid[k] = NULL;
        rc |= dtab_writer_close(emb[k]);
        emb[k] = NULL;
    }
    return rc ? ERR_FAIL : 0;
fail:
    free(e);
    dtab_writer_abort(cap);
    for (int k = 0; k < 2; k++) {
        dtab_writer_abort(sid[k]);
        dtab_writer_abort(emb[k]);
    }
    return ERR_FAIL;
}

static const i64vec *dom_hist(const recif_user *u, int d) {
    return d == DOM_VIDEO ? &u->hist_video : d == DOM_AD ? &u->hist_ad : &u->hist_goods;
}
static const i64vec *dom_target(const recif_user *u, int d) {
    return d == DOM_VIDEO ? &u->target_video : d == DOM_AD ? &u->target_ad : &u->target_goods;
}

static int has(const i64vec *a, int64_t x) {
    for (int i = 0; i < a->n; i++)
        if (a->v[i] == x) return 1;
    return 0;
}

// |set(first k of ranked pids) & set(gt)| / |set(gt)|
static double recall_at(const int64_t *ranked_pids, int n, const i64vec *gt) {
    int distinct = 0, hit = 0;
    for (int i = 0; i < gt->n; i++) {
        int dup = 0;
        for (int j = 0; j < i; j++) dup |= gt->v[j] == gt->v[i];
        if (dup) continue;
        distinct++;
        for (int j = 0; j < n; j++)
            if (ranked_pids[j] == gt->v[i]) {
                hit++;
                break;
            }
    }
    return distinct ? (double)hit / distinct : 0;
}

static const int64_t *g_counts;
static int by_count_desc(const void *a, const void *b) {
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    if (g_counts[x] != g_counts[y]) return g_counts[x] < g_counts[y] ? 1 : -1;
    return x < y ? -1 : x > y;
}

static const dcol ORACLE_COLS[] = {{"uid", DCOL_I64, 0}, {"pid", DCOL_LIST_I64, 0}, {"prob", DCOL_LIST_F32, 0}};

static void warn_planted_ranks(const world *w) {
    int32_t max_rank = 0;
    for (int64_t i = 0; i < w->n_items; i++)
        if (w->rank[i] > max_rank) max_rank = w->rank[i];
    if (max_rank >= 8192)
        log_warn("synth: %d items share one (topic, subtopic) cell: the planted SIDs exceed 8192 codes; "
                 "use more --topics or learned SIDs (sid train/encode)", max_rank + 1);
}

// pass 1: every user into the release table; popularity from the training users' histories
static int pass_release(world *w, const world_config *cfg, const char *out, const char *ext, recif_user *u,
                        int64_t *counts, synth_report *rep) {
    char path[1024];
    dtab_writer *raw = NULL;
    snprintf(path, sizeof path, "%s/onerec_bench_release%s", out, ext);
    if (dtab_writer_open(&raw, path, RAW_COLS, RAW_NCOLS)) return ERR_FAIL;
    progress pg;
    progress_begin(&pg, "synth users", cfg->users, "users");
    for (int64_t uid = 0; uid < cfg->users; uid++) {
        if (world_user(w, uid, u, NULL)) goto fail;
        cJSON *row = recif_user_to_row(u);
        int bad = !row || dtab_writer_row(raw, row);
        cJSON_Delete(row);
        if (bad) goto fail;
        rep->users++;
        rep->test_users += u->split;
        for (int d = 0; d < DOM_COUNT; d++) {
            rep->interactions += dom_hist(u, d)->n + dom_target(u, d)->n;
            if (u->split == 0)
                for (int i = 0; i < dom_hist(u, d)->n; i++) counts[dom_hist(u, d)->v[i] - 1]++;
        }
        progress_add(&pg, 1);
    }
    progress_end(&pg);
    return dtab_writer_close(raw);
fail:
    dtab_writer_abort(raw);
    return ERR_FAIL;
}

// Pass 2's per-domain state: items by training popularity and the oracle file.
typedef struct {
    int64_t *ranked[DOM_COUNT];
    dtab_writer *orc[DOM_COUNT];
} oracle_out;

static int oracle_open(oracle_out *o, const world *w, const int64_t *counts, const char *out, const char *ext) {
    char path[1024];
    g_counts = counts;
    for (int d = 0; d < DOM_COUNT; d++) {
        int64_t off = w->dom_start[d], n = w->dom_start[d + 1] - off;
        o->ranked[d] = mem_alloc(sizeof(int64_t) * (size_t)n);
        if (!o->ranked[d]) return ERR_FAIL;
        for (int64_t i = 0; i < n; i++) o->ranked[d][i] = off + i;
        qsort(o->ranked[d], (size_t)n, sizeof(int64_t), by_count_desc);
        snprintf(path, sizeof path, "%s/oracle/oracle_%s%s", out, DOMAIN_NAME[d], ext);
        if (dtab_writer_open(&o->orc[d], path, ORACLE_COLS, 3)) return ERR_FAIL;
    }
    return 0;
}

static void oracle_free(oracle_out *o) {
    for (int d = 0; d < DOM_COUNT; d++) {
        dtab_writer_abort(o->orc[d]);
        free(o->ranked[d]);
    }
}

// One test user in domain d: the oracle row, and the oracle / popularity / random Recall@K sums.
static int oracle_user(oracle_out *o, world *w, world_state *st, const recif_user *u, int64_t uid, int d,
                       synth_report *rep) {
    int64_t top_items[SYNTH_ORACLE_TOP], pids[SYNTH_ORACLE_TOP];
    double probs[SYNTH_ORACLE_TOP];
    const i64vec *seen = dom_hist(u, d), *gt = dom_target(u, d);
    int n = world_oracle_topk(w, st, d, u, SYNTH_ORACLE_TOP, top_items, probs);
    cJSON *row = cJSON_CreateObject(), *pa = cJSON_CreateArray(), *qa = cJSON_CreateArray();
    for (int i = 0; i < n; i++) {
        pids[i] = world_pid(top_items[i]);
        cJSON_AddItemToArray(pa, cJSON_CreateNumber((double)pids[i]));
        cJSON_AddItemToArray(qa, cJSON_CreateNumber((float)probs[i]));
    }
    cJSON_AddNumberToObject(row, "uid", (double)uid);
    cJSON_AddItemToObject(row, "pid", pa);
    cJSON_AddItemToObject(row, "prob", qa);
    int bad = dtab_writer_row(o->orc[d], row);
    cJSON_Delete(row);
    if (bad) return ERR_FAIL;
    rep->oracle_recall[d] += recall_at(pids, n < SYNTH_K ? n : SYNTH_K, gt);
    int64_t pop[SYNTH_K];
    int m = 0;
    int64_t nd = w->dom_start[d + 1] - w->dom_start[d];
    for (int64_t i = 0; i < nd && m < SYNTH_K; i++)
        if (!has(seen, world_pid(o->ranked[d][i]))) pop[m++] = world_pid(o->ranked[d][i]);
    rep->pop_recall[d] += recall_at(pop, m, gt);
    double r = (double)SYNTH_K / (double)(nd - seen->n);
    rep->random_recall[d] += r > 1 ? 1 : r;
    return 0;
}

// pass 2: test users again (they are a pure function of (seed, uid)): oracle and baselines
static int pass_oracle(world *w, const world_config *cfg, const char *out, const char *ext, int64_t oracle_users,
                       recif_user *u, const int64_t *counts, synth_report *rep) {
    oracle_out o = {0};
    int rc = oracle_open(&o, w, counts, out, ext);
    progress pg;
    progress_begin(&pg, "synth oracle", cfg->users, "users");
    for (int64_t uid = 0; !rc && uid < cfg->users; uid++) {
        progress_add(&pg, 1);
        world_state st;
        if ((rc = world_user(w, uid, u, &st))) break;
        if (!u->split) continue;
        if (oracle_users > 0 && rep->oracle_users >= oracle_users) break;
        rep->oracle_users++;
        for (int d = 0; !rc && d < DOM_COUNT; d++) rc = oracle_user(&o, w, &st, u, uid, d, rep);
    }
    progress_end(&pg);
    for (int d = 0; !rc && d < DOM_COUNT; d++) {
        rc = dtab_writer_close(o.orc[d]);
        o.orc[d] = NULL;
        if (!rc && rep->oracle_users) {
            rep->oracle_recall[d] /= (double)rep->oracle_users;
            rep->pop_recall[d] /= (double)rep->oracle_users;
            rep->random_recall[d] /= (double)rep->oracle_users;
        }
    }
    oracle_free(&o);
    return rc;
}

// world.json: the parameters and the figures, for the demo report and for eval
static int write_world_json(const world_config *cfg, const synth_report *rep, const char *out) {
    char path[1024];
    cJSON *j = cJSON_CreateObject(), *c = cJSON_AddObjectToObject(j, "config");
    cJSON_AddNumberToObject(c, "users", (double)cfg->users);
    cJSON_AddNumberToObject(c, "videos", (double)cfg->videos);
    cJSON_AddNumberToObject(c, "ads", (double)cfg->ads);
    cJSON_AddNumberToObject(c, "products", (double)cfg->products);
    cJSON_AddNumberToObject(c, "topics", cfg->topics);
    cJSON_AddNumberToObject(c, "seed", (double)cfg->seed);
    cJSON_AddStringToObject(c, "lang", cfg->lang == LANG_ZH ? "zh" : "en");
    cJSON_AddNumberToObject(c, "emb_dim", cfg->emb_dim);
    cJSON_AddNumberToObject(c, "test_frac", cfg->test_frac);
    cJSON_AddNumberToObject(c, "hist_min", cfg->hist_min);
    cJSON_AddNumberToObject(c, "hist_max", cfg->hist_max);
    cJSON_AddNumberToObject(c, "n_targets", cfg->n_targets);
    cJSON_AddNumberToObject(c, "p_switch", cfg->p_switch);
    cJSON_AddNumberToObject(c, "p_drift", cfg->p_drift);
    cJSON_AddNumberToObject(c, "p_noise", cfg->p_noise);
    cJSON_AddNumberToObject(c, "p_fav", cfg->p_fav);
    cJSON_AddNumberToObject(j, "users", (double)rep->users);
    cJSON_AddNumberToObject(j, "test_users", (double)rep->test_users);
    cJSON_AddNumberToObject(j, "oracle_users", (double)rep->oracle_users);
    cJSON_AddNumberToObject(j, "interactions", (double)rep->interactions);
    cJSON_AddNumberToObject(j, "k", SYNTH_K);
    const char *keys[3] = {"oracle_recall@32", "popularity_recall@32", "random_recall@32"};
    for (int q = 0; q < 3; q++) {
        cJSON *o = cJSON_AddObjectToObject(j, keys[q]);
        for (int d = 0; d < DOM_COUNT; d++)
            cJSON_AddNumberToObject(o, DOMAIN_NAME[d], q == 0 ? rep->oracle_recall[d] : q == 1 ? rep->pop_recall[d] : rep->random_recall[d]);
    }
    snprintf(path, sizeof path, "%s/world.json", out);
    int e = json_save_file(path, j);
    cJSON_Delete(j);
    return e;
}

int synth_run(const world_config *cfg, const char *out, const char *ext, int64_t oracle_users, synth_report *rep) {
    memset(rep, 0, sizeof *rep);
    if (!ext) ext = dtab_default_ext();
    double t0 = time_now();
    world w;
    if (world_init(&w, cfg)) return ERR_FAIL;
    char dir[1024];
    recif_user u = {0};
    int64_t *counts = NULL;
    snprintf(dir, sizeof dir, "%s/oracle", out);
    int rc = file_mkdirs(out) || file_mkdirs(dir) || write_items(&w, out, ext) ? ERR_FAIL : 0;
    if (!rc) {
        warn_planted_ranks(&w);
        counts = mem_calloc((size_t)w.n_items, sizeof *counts);
        rc = counts ? pass_release(&w, cfg, out, ext, &u, counts, rep) : ERR_FAIL;
    }
    if (!rc) rc = pass_oracle(&w, cfg, out, ext, oracle_users, &u, counts, rep);
    snprintf(dir, sizeof dir, "%s/general", out);
    if (!rc) rc = general_write(dir, cfg->lang, cfg->seed, ext, &rep->general_train, &rep->general_test);
    rep->seconds = time_now() - t0;
    if (!rc) rc = write_world_json(cfg, rep, out);
    if (rc) err_wrap("synth into %s", out);
    free(counts);
    recif_user_free(&u);
    world_free(&w);
    return rc ? ERR_FAIL : 0;
}
