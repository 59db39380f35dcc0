#include "data/pidmap.h"

#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "base/mem.h"

#define EMPTY INT64_MIN

static uint64_t hash64(int64_t k) {
    uint64_t z = (uint64_t)k + 0x9e3779b97f4a7c15ULL;
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

static int grow(pid_index *m) {
    int64_t nc = m->cap ? m->cap * 2 : 1024;
    int64_t *keys = mem_alloc(sizeof *keys * (size_t)nc), *slot = mem_alloc(sizeof *slot * (size_t)nc);
    if (!keys || !slot) {
        free(keys);
        free(slot);
        return ERR_FAIL;
    }
    for (int64_t i = 0; i < nc; i++) keys[i] = EMPTY;
    for (int64_t i = 0; i < m->cap; i++) {
        if (m->keys[i] == EMPTY) continue;
        uint64_t h = hash64(m->keys[i]) & (uint64_t)(nc - 1);
        while (keys[h] != EMPTY) h = (h + 1) & (uint64_t)(nc - 1);
        keys[h] = m->keys[i];
        slot[h] = m->slot[i];
    }
    free(m->keys);
    free(m->slot);
    m->keys = keys;
    m->slot = slot;
    m->cap = nc;
    return 0;
}

int pid_index_put(pid_index *m, int64_t pid, int64_t *idx, int *is_new) {
    if (pid == EMPTY) return err_set("pid %lld is reserved", (long long)pid);
    if ((m->n + 1) * 2 > m->cap && grow(m)) return ERR_FAIL;
    uint64_t h = hash64(pid) & (uint64_t)(m->cap - 1);
    while (m->keys[h] != EMPTY && m->keys[h] != pid) h = (h + 1) & (uint64_t)(m->cap - 1);
    *is_new = m->keys[h] == EMPTY;
    if (*is_new) {
        m->keys[h] = pid;
        m->slot[h] = m->n++;
    }
    *idx = m->slot[h];
    return 0;
}

int64_t pid_index_get(const pid_index *m, int64_t pid) {
    if (!m->cap) return -1;
    uint64_t h = hash64(pid) & (uint64_t)(m->cap - 1);
    while (m->keys[h] != EMPTY) {
        if (m->keys[h] == pid) return m->slot[h];
        h = (h + 1) & (uint64_t)(m->cap - 1);
    }
    return -1;
}

void pid_index_free(pid_index *m) {
    free(m->keys);
    free(m->slot);
    memset(m, 0, sizeof *m);
}

int pid_check_unique(const int64_t *pids, int64_t n, const char *what) {
    pid_index ix = {0};
    int rc = 0;
    for (int64_t i = 0; !rc && i < n; i++) {
        int64_t k;
        int is_new;
        if (pid_index_put(&ix, pids[i], &k, &is_new)) rc = ERR_FAIL;
        else if (!is_new) rc = err_set("%s: pid %lld appears twice (rows %lld and %lld): give each item once", what,
                                       (long long)pids[i], (long long)k, (long long)i);
    }
    pid_index_free(&ix);
    return rc;
}
