// The item <-> SID maps, both ways, and the files they come from:
//   sid2pid: packed SID (sid_pack, rec/sid.h) -> its most popular item, for PID-mode scoring; read
//            from the benchmark's sid2pid.json.
// Why data/ and not rec/: the maps are keyed through the pid index (data/pidmap.h), and the pid2sid
// tables are Parquet or JSONL (`onerec synth` writes JSONL when Parquet is not built in), read
// through data/table.h; nothing below the data layer needs an item id. What a SID *is* (codes,
// strings, token ids, key packing) stays in rec/sid.h, which this module builds on.
#pragma once
#include <stdint.h>

#include "data/pidmap.h"
#include "rec/sid.h"

// A zeroed sid2pid is an empty map.
typedef struct {
    pid_index ix;      // packed SID -> dense index
    int64_t *sids;     // [n] packed SIDs in insertion order
    int64_t *pids;     // [n] the chosen (most popular) item of each
    int64_t *counts;   // [n] its count
    int64_t n, cap;
} sid2pid;

void sid2pid_free(sid2pid *m);
// Offer an item with its popularity count; the item with the highest count wins (ties: the
// smaller pid, so the map does not depend on insertion order).
int sid2pid_offer(sid2pid *m, int64_t sid, int64_t pid, int64_t count);
int64_t sid2pid_get(const sid2pid *m, int64_t sid);   // -1 when the SID names no item
// out[i] = pid of sids[i], -1 for unknown SIDs (they then never match a ground-truth item).
void sid2pid_map(const sid2pid *m, const int64_t *sids, int n, int64_t *out);
// Reads the benchmark's sid2pid.json: {"<packed sid>": [pid, ...]} (most popular first) or
// {"<packed sid>": {"<pid>": count, ...}}. m is overwritten (and left empty on failure).
int sid2pid_load_json(sid2pid *m, const char *path);
