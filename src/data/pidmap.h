// pid -> dense index (0, 1, 2, ... in insertion order), an open-addressing hash table. The maps of
// the data layer (pid -> SID, caption, count) keep their values in dense arrays indexed by it.
#pragma once
#include <stdint.h>

typedef struct {
    int64_t *keys;    // [cap], INT64_MIN = empty
    int64_t *slot;    // [cap] dense index of the key
    int64_t cap, n;
} pid_index;

// The dense index of pid, inserting it (index n) when new; *is_new tells which. ERR_FAIL on OOM
// or for the reserved pid INT64_MIN.
int pid_index_put(pid_index *m, int64_t pid, int64_t *idx, int *is_new);
int64_t pid_index_get(const pid_index *m, int64_t pid);   // -1 when absent
void pid_index_free(pid_index *m);
// An error naming `what` and the first pid that appears twice in pids[n]; 0 when all differ.
int pid_check_unique(const int64_t *pids, int64_t n, const char *what);
