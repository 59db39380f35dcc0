#include "eval/results.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "base/file.h"
#include "base/json.h"
#include "base/outdir.h"
#include "base/mem.h"

int results_init(results_table *r) {
    r->root = cJSON_CreateObject();
    return r->root ? 0 : err_set("results: out of memory");
}

void results_free(results_table *r) {
    cJSON_Delete(r->root);
    r->root = NULL;
}

int results_load(results_table *r, const char *path) {
    if (!file_exists(path)) return results_init(r);
    r->root = json_load_file(path);
    if (!r->root) return ERR_FAIL;
    // validate the shape now so later lookups can trust it
    const cJSON *sys, *task, *met;
    if (!cJSON_IsObject(r->root)) goto bad;
    cJSON_ArrayForEach(sys, r->root) {
        if (!cJSON_IsObject(sys)) goto bad;
        cJSON_ArrayForEach(task, sys) {
            if (!cJSON_IsObject(task)) goto bad;
            cJSON_ArrayForEach(met, task) if (!cJSON_IsNumber(met)) goto bad;
        }
    }
    return 0;
bad:
    results_free(r);
    return err_set("%s: expected {system: {task: {metric: number}}}", path);
}

static cJSON *child_object(cJSON *parent, const char *key) {
    cJSON *c = cJSON_GetObjectItemCaseSensitive(parent, key);
    if (!c) c = cJSON_AddObjectToObject(parent, key);
    return c;
}

int results_set(results_table *r, const char *system, const char *task, const char *metric, double value) {
    cJSON *s = child_object(r->root, system), *t = s ? child_object(s, task) : NULL;
    if (!t) return err_set("results: out of memory");
    cJSON *v = cJSON_CreateNumber(value);
    if (!v) return err_set("results: out of memory");
    if (cJSON_GetObjectItemCaseSensitive(t, metric)) cJSON_ReplaceItemInObjectCaseSensitive(t, metric, v);
    else cJSON_AddItemToObject(t, metric, v);
    return 0;
}

int results_get(const results_table *r, const char *system, const char *task, const char *metric, double *value) {
    const cJSON *s = cJSON_GetObjectItemCaseSensitive(r->root, system);
    const cJSON *t = s ? cJSON_GetObjectItemCaseSensitive(s, task) : NULL;
    const cJSON *v = t ? cJSON_GetObjectItemCaseSensitive(t, metric) : NULL;
    if (!cJSON_IsNumber(v)) return err_set("results: no %s / %s / %s", system, task, metric);
    *value = v->valuedouble;
    return 0;
}

int results_add_rec(results_table *r, const char *system, const char *task, const rec_metrics *m) {
    char name[64];
    for (int i = 0; i < m->nk; i++) {
        snprintf(name, sizeof name, "pass@%d", m->ks[i]);
        if (results_set(r, system, task, name, rec_metrics_pass(m, i))) return ERR_FAIL;
        snprintf(name, sizeof name, "position1_pass@%d", m->ks[i]);
        if (results_set(r, system, task, name, rec_metrics_pos1(m, i))) return ERR_FAIL;
        snprintf(name, sizeof name, "recall@%d", m->ks[i]);
        if (results_set(r, system, task, name, rec_metrics_recall(m, i))) return ERR_FAIL;
        snprintf(name, sizeof name, "ndcg@%d", m->ks[i]);
        if (results_set(r, system, task, name, rec_metrics_ndcg(m, i))) return ERR_FAIL;
    }
    return results_set(r, system, task, "samples", (double)m->n);
}

int results_prepare_files(const char *json_path, const char *md_path) {
    if (json_path && outdir_prepare_file(json_path)) return ERR_FAIL;
    return md_path ? outdir_prepare_file(md_path) : 0;
}

int results_save_json(const results_table *r, const char *path) { return json_save_file(path, r->root); }

// A growing string.
typedef struct {
    char *s;
    size_t n, cap;
    int oom;
} sbuf;

static void sb_add(sbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void sb_add(sbuf *b, const char *fmt, ...) {
    if (b->oom) return;
    va_list ap;
    va_start(ap, fmt);
    int need = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (b->n + (size_t)need + 1 > b->cap) {
        size_t nc = b->cap ? b->cap : 1024;
        while (nc < b->n + (size_t)need + 1) nc *= 2;
        char *ns = realloc(b->s, nc);
        if (!ns) {
            b->oom = 1;
            return;
        }
        b->s = ns;
        b->cap = nc;
    }
    va_start(ap, fmt);
    vsnprintf(b->s + b->n, (size_t)need + 1, fmt, ap);
    va_end(ap);
    b->n += (size_t)need;
}

// Is (task, metric) already among the rows collected so far?
static int has_row(cJSON *rows, const char *task, const char *metric) {
    const cJSON *row;
    cJSON_ArrayForEach(row, rows) {
        if (!strcmp(cJSON_GetArrayItem(row, 0)->valuestring, task) && !strcmp(cJSON_GetArrayItem(row, 1)->valuestring, metric))
            return 1;
    }
    return 0;
}

char *results_markdown(const results_table *r) {
    // Rows: every (task, metric) in order of first appearance; tasks stay grouped.
    cJSON *rows = cJSON_CreateArray();
    cJSON *tasks = cJSON_CreateArray();
    const cJSON *sys, *task, *met;
    cJSON_ArrayForEach(sys, r->root) cJSON_ArrayForEach(task, sys) {
        int seen = 0;
        const cJSON *t;
        cJSON_ArrayForEach(t, tasks) seen |= !strcmp(t->valuestring, task->string);
        if (!seen) cJSON_AddItemToArray(tasks, cJSON_CreateString(task->string));
    }
    const cJSON *tname;
    cJSON_ArrayForEach(tname, tasks) cJSON_ArrayForEach(sys, r->root) {
        task = cJSON_GetObjectItemCaseSensitive(sys, tname->valuestring);
        if (!task) continue;
        cJSON_ArrayForEach(met, task) {
            if (has_row(rows, task->string, met->string)) continue;
            cJSON *row = cJSON_CreateArray();
            cJSON_AddItemToArray(row, cJSON_CreateString(task->string));
            cJSON_AddItemToArray(row, cJSON_CreateString(met->string));
            cJSON_AddItemToArray(rows, row);
        }
    }
    sbuf b = {0};
    sb_add(&b, "| task | metric |");
    cJSON_ArrayForEach(sys, r->root) sb_add(&b, " %s |", sys->string);
    sb_add(&b, "\n|---|---|");
    cJSON_ArrayForEach(sys, r->root) sb_add(&b, "---:|");
    sb_add(&b, "\n");
    const cJSON *row;
    cJSON_ArrayForEach(row, rows) {
        const char *tk = cJSON_GetArrayItem(row, 0)->valuestring, *mk = cJSON_GetArrayItem(row, 1)->valuestring;
        sb_add(&b, "| %s | %s |", tk, mk);
        cJSON_ArrayForEach(sys, r->root) {
            const cJSON *t = cJSON_GetObjectItemCaseSensitive(sys, tk);
            const cJSON *v = t ? cJSON_GetObjectItemCaseSensitive(t, mk) : NULL;
            if (!v) sb_add(&b, " - |");
            else if (!strcmp(mk, "samples")) sb_add(&b, " %.0f |", v->valuedouble);
            else sb_add(&b, " %.4f |", v->valuedouble);
        }
        sb_add(&b, "\n");
    }
    cJSON_Delete(rows);
    cJSON_Delete(tasks);
    if (b.oom) {
        free(b.s);
        err_set("results: out of memory");
        return NULL;
    }
    return b.s;
}

int results_save_markdown(const results_table *r, const char *path) {
    char *md = results_markdown(r);
    if (!md) return ERR_FAIL;
    int rc = file_write_atomic(path, md, strlen(md));
    free(md);
    return rc;
}

int results_merge_file(results_table *r, const char *path) {
    results_table b;
    if (results_load(&b, path)) return ERR_FAIL;
    int rc = 0;
    const cJSON *sys, *task, *met;
    cJSON_ArrayForEach(sys, b.root) cJSON_ArrayForEach(task, sys) cJSON_ArrayForEach(met, task) {
        if (!rc && cJSON_IsNumber(met)) rc = results_set(r, sys->string, task->string, met->string, met->valuedouble);
    }
    results_free(&b);
    return rc;
}
