#include "data/pid2sid.h"

#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "base/json.h"
#include "base/mem.h"

// Grows the dense arrays arr[0..narr) (element sizes elem[]) to hold index i. Called before the
// pid index takes a new key, so a failure leaves the map as it was.
static int dense_grow(void **arr[], const size_t *elem, int narr, int64_t *cap, int64_t i) {
    if (i < *cap) return 0;
    int64_t nc = *cap ? *cap * 2 : 1024;
    while (nc <= i) nc *= 2;
    for (int a = 0; a < narr; a++) {
        void *p = mem_realloc(*arr[a], elem[a] * (size_t)nc);
        if (!p) return ERR_FAIL;
        *arr[a] = p;
    }
    *cap = nc;
    return 0;
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
    if (dense_grow(arr, elem, 3, &m->cap, m->n) || pid_index_put(&m->ix, sid, &i, &is_new)) return ERR_FAIL;
    if (is_new) {
        m->sids[i] = sid;
        m->n = i + 1;
    } else if (count < m->counts[i] || (count == m->counts[i] && pid >= m->pids[i])) {
        return 0;
    }
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
