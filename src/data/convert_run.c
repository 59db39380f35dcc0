// `data convert` end to end: read the raw files, stream users through the converters into the
// 11 task tables and the 8 benchmark sets, write sid2pid.json and the counts.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "base/file.h"
#include "base/json.h"
#include "base/log.h"
#include "base/mem.h"
#include "data/convert.h"
#include "data/msg.h"
#include "data/table.h"

int conv_find_table(const char *dir, const char *name, char *path, int cap) {
    const char *ext[2] = {".parquet", ".jsonl"};
    for (int i = 0; i < 2; i++) {
        snprintf(path, (size_t)cap, "%s/%s%s", dir, name, ext[i]);
        if (file_exists(path)) return 0;
    }
    return err_set("%s: no %s.parquet or %s.jsonl", dir, name, name);
}

typedef struct {
    dtab_writer *w[TASK_COUNT], *b[TASK_COUNT];
} sinks;

static int sink_row(void *ctx, task_id t, int bench, cJSON *row) {
    sinks *s = ctx;
    dtab_writer *w = bench ? s->b[t] : s->w[t];
    int rc = w ? dtab_writer_row(w, row) : 0;
    cJSON_Delete(row);
    return rc;
}

// interaction counts for sid2pid (items ranked by count inside a SID)
typedef struct {
    pid_index ix;
    int64_t *counts, cap;
} count_map;

static int count_add(count_map *m, int64_t pid) {
    int64_t i;
    int is_new;
    if (pid_index_put(&m->ix, pid, &i, &is_new)) return ERR_FAIL;
    if (i >= m->cap) {
        int64_t nc = m->cap ? m->cap * 2 : 4096;
        int64_t *p = mem_realloc(m->counts, sizeof *p * (size_t)nc);
        if (!p) return ERR_FAIL;
        memset(p + m->cap, 0, sizeof *p * (size_t)(nc - m->cap));
        m->counts = p;
        m->cap = nc;
    }
    m->counts[i]++;
    return 0;
}

static int64_t count_get(const count_map *m, int64_t pid) {
    int64_t i = pid_index_get(&m->ix, pid);
    return i < 0 ? 0 : m->counts[i];
}

// sid2pid.json ranks the items of a SID by their interaction count.
static int write_sid2pid(const pid2sid *m, const count_map *cnt, const char *path) {
    int64_t *counts = mem_alloc(sizeof *counts * (size_t)(m->n + 1));
    if (!counts) return ERR_FAIL;
    for (int64_t i = 0; i < m->n; i++) counts[i] = count_get(cnt, m->pids[i]);
    int rc = sid2pid_write_json(path, m, counts);
    free(counts);
    return rc;
}

static cJSON *stats_json(const conv_stats *st) {
    cJSON *j = cJSON_CreateObject();
    cJSON_AddNumberToObject(j, "users_read", (double)st->users_read);
    cJSON_AddNumberToObject(j, "users_train", (double)st->users_train);
    cJSON_AddNumberToObject(j, "users_test", (double)st->users_test);
    cJSON_AddNumberToObject(j, "users_other_split", (double)st->users_other_split);
    cJSON_AddNumberToObject(j, "bad_rows", (double)st->bad_rows);
    if (st->first_bad[0]) cJSON_AddStringToObject(j, "first_bad_row", st->first_bad);
    cJSON_AddNumberToObject(j, "empty_history", (double)st->empty_history);
    cJSON_AddNumberToObject(j, "items_without_sid", (double)st->items_without_sid);
    cJSON_AddNumberToObject(j, "samples_without_target", (double)st->samples_without_target);
    cJSON_AddNumberToObject(j, "bad_keywords", (double)st->bad_keywords);
    cJSON *r = cJSON_AddObjectToObject(j, "rows"), *b = cJSON_AddObjectToObject(j, "benchmark_rows");
    for (int t = 0; t < TASK_COUNT; t++) {
        cJSON_AddNumberToObject(r, task_source((task_id)t), (double)st->rows[t]);
        if (task_bench_name((task_id)t)) cJSON_AddNumberToObject(b, task_bench_name((task_id)t), (double)st->bench_rows[t]);
    }
    return j;
}

int conv_run(const conv_options *o, conv_stats *st) {
    memset(st, 0, sizeof *st);
    const char *ext = o->ext ? o->ext : dtab_default_ext();
    const char *sid_dir = o->sid_dir ? o->sid_dir : o->raw_dir;
    conv_ctx c = {0};
    c.lang = o->lang;
    c.seed = o->seed;
    c.win = o->win;
    sinks s = {0};
    recif_raw rr = {0};
    recif_user u = {0};
    count_map cnt = {0};
    char path[1200];
    int rc = ERR_FAIL;
    double t0 = time_now();
    if (conv_find_table(sid_dir, "video_ad_pid2sid", path, sizeof path) || pid2sid_load(&c.va, path)) goto done;
    // a catalogue without products (an imported log) has no product_pid2sid: product_rec is then empty
    if (conv_find_table(sid_dir, "product_pid2sid", path, sizeof path))
        log_info("convert: %s has no product_pid2sid: no product SIDs", sid_dir);
    else if (pid2sid_load(&c.prod, path)) goto done;
    if (conv_find_table(o->raw_dir, "pid2caption", path, sizeof path) || caption_map_load(&c.cap, path)) goto done;
    log_info("convert: %lld video/ad SIDs, %lld product SIDs, %lld captions", (long long)c.va.n,
             (long long)c.prod.n, (long long)c.cap.n);
    if (conv_find_table(o->raw_dir, "onerec_bench_release", path, sizeof path) || recif_raw_open(&rr, path)) goto done;
    for (int t = 0; t < TASK_COUNT; t++) {
        snprintf(path, sizeof path, "%s/%s%s", o->out_dir, task_file((task_id)t), ext);
        char *slash = strrchr(path, '/');
        *slash = 0;
        if (file_mkdirs(path)) goto done;
        *slash = '/';
        if (dtab_writer_open(&s.w[t], path, MSG_COLS, 5)) goto done;
        const char *bn = task_bench_name((task_id)t);
        if (!bn) continue;
        snprintf(path, sizeof path, "%s/benchmark/%s", o->out_dir, bn);
        if (file_mkdirs(path)) goto done;
        snprintf(path, sizeof path, "%s/benchmark/%s/%s_test%s", o->out_dir, bn, bn, ext);
        if (dtab_writer_open(&s.b[t], path, MSG_COLS, 5)) goto done;
    }
    progress pg;
    progress_begin(&pg, "convert", 0, "users");
    int got;
    while ((got = recif_raw_next(&rr, &u)) > 0) {
        st->users_read++;
        progress_add(&pg, 1);
        const i64vec *lists[4] = {&u.hist_video, &u.target_video, &u.hist_ad, &u.hist_goods};
        for (int l = 0; l < 4; l++)
            for (int i = 0; i < lists[l]->n; i++)
                if (count_add(&cnt, lists[l]->v[i])) goto done_pg;
        if (u.split != 0 && u.split != 1) {
            st->users_other_split++;
            continue;
        }
        if (u.split == 0) st->users_train++;
        else st->users_test++;
        if (conv_user(&c, &u, u.split, sink_row, &s, st)) {
            err_wrap("user %lld", (long long)u.uid);
            goto done_pg;
        }
    }
    if (got < 0) goto done_pg;
    st->bad_rows = rr.bad_rows;
    if (rr.bad_rows) {
        snprintf(st->first_bad, sizeof st->first_bad, "%s", rr.first_bad);
        log_warn("convert: skipped %lld unreadable user rows (first: %s)", (long long)rr.bad_rows, rr.first_bad);
    }
    if (conv_items(&c, sink_row, &s, st)) goto done_pg;
    progress_end(&pg);
    for (int t = 0; t < TASK_COUNT; t++) {
        int e1 = dtab_writer_close(s.w[t]), e2 = s.b[t] ? dtab_writer_close(s.b[t]) : 0;
        s.w[t] = s.b[t] = NULL;
        if (e1 || e2) goto done;
    }
    snprintf(path, sizeof path, "%s/benchmark/sid2pid.json", o->out_dir);
    if (write_sid2pid(&c.va, &cnt, path)) goto done;
    snprintf(path, sizeof path, "%s/benchmark/product_sid2pid.json", o->out_dir);
    if (write_sid2pid(&c.prod, &cnt, path)) goto done;
    cJSON *j = stats_json(st);
    cJSON_AddNumberToObject(j, "seconds", time_now() - t0);
    snprintf(path, sizeof path, "%s/convert_stats.json", o->out_dir);
    int e = json_save_file(path, j);
    cJSON_Delete(j);
    if (e) goto done;
    rc = 0;
    goto done;
done_pg:
    progress_end(&pg);
done:
    if (rc) err_wrap("data convert");
    for (int t = 0; t < TASK_COUNT; t++) {
        dtab_writer_abort(s.w[t]);
        dtab_writer_abort(s.b[t]);
    }
    if (rr.r) recif_raw_close(&rr);
    recif_user_free(&u);
    pid2sid_free(&c.va);
    pid2sid_free(&c.prod);
    caption_map_free(&c.cap);
    pid_index_free(&cnt.ix);
    free(cnt.counts);
    return rc;
}
