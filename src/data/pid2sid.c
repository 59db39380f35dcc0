#include "data/pid2sid.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "base/file.h"
#include "base/json.h"
#include "base/mem.h"
#include "formats/parquet.h"

const dcol PID2SID_COLS[] = {{"pid", DCOL_I64, 0}, {"sid", DCOL_LIST_I32, 0}};

// The dense index *i of key in a map whose values live in the arrays arr[0..narr) (element sizes
// elem[]), *n of *cap used: grows them before the index takes a new key, so a failure leaves the
// map as it was.
static int dense_put(pid_index *ix, void **arr[], const size_t *elem, int narr, int64_t *cap, int64_t *n,
                     int64_t key, int64_t *i, int *is_new) {
    if (*n == *cap) {
        int64_t nc = *cap ? *cap * 2 : 1024;
        for (int a = 0; a < narr; a++) {
            void *p = mem_realloc(*arr[a], elem[a] * (size_t)nc);
            if (!p) return ERR_FAIL;
            *arr[a] = p;
        }
        *cap = nc;
    }
    if (pid_index_put(ix, key, i, is_new)) return ERR_FAIL;
    if (*is_new) *n = *i + 1;
    return 0;
}

// ------------------------------------------------------------------------------------ pid2sid

int pid2sid_put(pid2sid *m, int64_t pid, const int32_t *codes, int nlev) {
    if (m->nlev == 0) m->nlev = nlev;
    if (nlev != m->nlev)
        return err_set("pid %lld has a SID of %d levels, others have %d", (long long)pid, nlev, m->nlev);
    void **arr[] = {(void **)&m->pids, (void **)&m->codes};
    const size_t elem[] = {sizeof *m->pids, sizeof *m->codes * (size_t)nlev};
    int64_t i;
    int is_new;
    if (dense_put(&m->ix, arr, elem, 2, &m->cap, &m->n, pid, &i, &is_new)) return ERR_FAIL;
    // one pid, one SID: a second row would silently replace the first
    if (!is_new) return err_set("pid %lld appears twice (each item needs exactly one SID)", (long long)pid);
    m->pids[i] = pid;
    memcpy(m->codes + i * nlev, codes, sizeof *codes * (size_t)nlev);
    return 0;
}

const int32_t *pid2sid_get(const pid2sid *m, int64_t pid) {
    int64_t i = pid_index_get(&m->ix, pid);
    return i < 0 ? NULL : m->codes + i * m->nlev;
}

void pid2sid_free(pid2sid *m) {
    pid_index_free(&m->ix);
    free(m->pids);
    free(m->codes);
    memset(m, 0, sizeof *m);
}

static int sid_row(void *ctx, const cJSON *row) {
    const cJSON *pid = cJSON_GetObjectItemCaseSensitive(row, "pid");
    int64_t *codes = NULL;
    int n = 0, rc;
    if (!cJSON_IsNumber(pid) || dtab_get_int_array(row, "sid", &codes, &n) || n < 1 || n > 8) {
        rc = err_set("pid/sid unreadable (sid needs 1..8 codes)");
    } else {
        int32_t c32[8];
        for (int i = 0; i < n; i++) c32[i] = (int32_t)codes[i];
        rc = pid2sid_put(ctx, (int64_t)pid->valuedouble, c32, n);
    }
    free(codes);
    return rc;
}

int pid2sid_load(pid2sid *m, const char *path) {
    return dtab_foreach(path, PID2SID_COLS, 2, "pid2sid file", sid_row, m);
}

static int write_tsv(const char *path, const int64_t *pids, const int32_t *codes, int64_t n, int nlev) {
    afile af;
    if (afile_open(&af, path)) return ERR_FAIL;
    char buf[512];
    for (int64_t i = 0; i < n; i++) {
        if (sid_format(buf, sizeof buf, codes + i * nlev, nlev) < 0) {
            afile_abort(&af);
            return ERR_FAIL;
        }
        fprintf(af.fp, "%lld\t%s\n", (long long)pids[i], buf);
    }
    return afile_commit(&af);
}

int pid2sid_write(const char *path, const int64_t *pids, const int32_t *codes, int64_t n, int nlev) {
    size_t len = strlen(path);
    if (len >= 4 && !strcmp(path + len - 4, ".tsv")) return write_tsv(path, pids, codes, n, nlev);
    parquet_column_spec cols[] = {{"pid", PQ_INT64, 0, 0}, {"sid", PQ_INT32, 1, 0}};
    parquet_writer *w;
    if (parquet_writer_open(&w, path, cols, 2, NULL)) return ERR_FAIL;
    for (int64_t i = 0; i < n; i++) {
        if (parquet_writer_add_int64(w, 0, pids[i]) || parquet_writer_add_list_int32(w, 1, codes + i * nlev, (size_t)nlev) ||
            parquet_writer_end_row(w)) {
            parquet_writer_abort(w);
            return ERR_FAIL;
        }
    }
    return parquet_writer_close(w);
}

// ------------------------------------------------------------------------------------ sid2pid

void sid2pid_free(sid2pid *m) {
    pid_index_free(&m->ix);
    free(m->sids);
    free(m->pids);
    free(m->counts);
    memset(m, 0, sizeof *m);
}

int sid2pid_offer(sid2pid *m, int64_t sid, int64_t pid, int64_t count) {
    if (sid < 0) return err_set("sid2pid: negative SID %lld", (long long)sid);
    void **arr[] = {(void **)&m->sids, (void **)&m->pids, (void **)&m->counts};
    const size_t elem[] = {sizeof *m->sids, sizeof *m->pids, sizeof *m->counts};
    int64_t i;
    int is_new;
    if (dense_put(&m->ix, arr, elem, 3, &m->cap, &m->n, sid, &i, &is_new)) return ERR_FAIL;
    if (is_new) m->sids[i] = sid;
    else if (count < m->counts[i] || (count == m->counts[i] && pid >= m->pids[i])) return 0;
    m->pids[i] = pid;
    m->counts[i] = count;
    return 0;
}

int64_t sid2pid_get(const sid2pid *m, int64_t sid) {
    int64_t i = sid < 0 ? -1 : pid_index_get(&m->ix, sid);
    return i < 0 ? -1 : m->pids[i];
}

void sid2pid_map(const sid2pid *m, const int64_t *sids, int n, int64_t *out) {
    for (int i = 0; i < n; i++) out[i] = sid2pid_get(m, sids[i]);
}

static int parse_i64(const char *s, int64_t *v) {
    char *end;
    long long x = strtoll(s, &end, 10);
    if (end == s || *end) return ERR_FAIL;
    *v = x;
    return 0;
}

// One "<sid>": [pid, ...] or {"<pid>": count} entry of sid2pid.json.
static int offer_entry(sid2pid *m, const cJSON *e, int64_t sid, const char *path) {
    const cJSON *p;
    if (cJSON_IsArray(e)) {   // most popular first: rank r gets count -r
        int64_t r = 0;
        cJSON_ArrayForEach(p, e) {
            if (!cJSON_IsNumber(p)) return err_set("%s: SID %s: item list holds a non-number", path, e->string);
            if (sid2pid_offer(m, sid, (int64_t)p->valuedouble, -r++)) return ERR_FAIL;
        }
        return 0;
    }
    if (!cJSON_IsObject(e))
        return err_set("%s: SID %s: value must be a list of pids or a {pid: count} object", path, e->string);
    cJSON_ArrayForEach(p, e) {
        int64_t pid;
        if (parse_i64(p->string, &pid) || !cJSON_IsNumber(p))
            return err_set("%s: SID %s: entry \"%s\" must be \"pid\": count", path, e->string, p->string);
        if (sid2pid_offer(m, sid, pid, (int64_t)p->valuedouble)) return ERR_FAIL;
    }
    return 0;
}

int sid2pid_load_json(sid2pid *m, const char *path) {
    memset(m, 0, sizeof *m);
    cJSON *root = json_load_file(path);
    if (!root) return ERR_FAIL;
    int rc = cJSON_IsObject(root) ? 0 : err_set("%s: expected a JSON object {sid: items}", path);
    const cJSON *e;
    cJSON_ArrayForEach(e, root) {
        int64_t sid;
        if (rc) break;
        if (parse_i64(e->string, &sid)) rc = err_set("%s: key \"%s\" is not a packed SID integer", path, e->string);
        else rc = offer_entry(m, e, sid, path);
    }
    cJSON_Delete(root);
    if (rc) sid2pid_free(m);
    return rc;
}

typedef struct {
    int64_t sid, count, pid;
} sid_entry;

static int by_sid_count(const void *a, const void *b) {
    const sid_entry *x = a, *y = b;
    if (x->sid != y->sid) return x->sid < y->sid ? -1 : 1;
    if (x->count != y->count) return x->count > y->count ? -1 : 1;
    return (x->pid > y->pid) - (x->pid < y->pid);
}

int sid2pid_write_json(const char *path, const pid2sid *m, const int64_t *counts) {
    sid_entry *e = mem_alloc(sizeof *e * (size_t)(m->n + 1));
    if (!e) return ERR_FAIL;
    for (int64_t i = 0; i < m->n; i++)
        e[i] = (sid_entry){(int64_t)sid_key(m->codes + i * m->nlev, m->nlev, SID_PACK_K), counts ? counts[i] : 0, m->pids[i]};
    qsort(e, (size_t)m->n, sizeof *e, by_sid_count);
    cJSON *j = cJSON_CreateObject();
    char key[32];
    for (int64_t i = 0; i < m->n;) {
        cJSON *a = cJSON_CreateArray();
        int64_t k = i;
        for (; k < m->n && e[k].sid == e[i].sid; k++) cJSON_AddItemToArray(a, cJSON_CreateNumber((double)e[k].pid));
        snprintf(key, sizeof key, "%lld", (long long)e[i].sid);
        cJSON_AddItemToObject(j, key, a);
        i = k;
    }
    free(e);
    char *s = cJSON_PrintUnformatted(j);
    cJSON_Delete(j);
    if (!s) return err_set("%s: out of memory", path);
    int rc = file_write_atomic(path, s, strlen(s));
    free(s);
    return rc;
}
