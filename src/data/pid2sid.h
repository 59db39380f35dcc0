// The item <-> SID maps, both ways, and the files they are read from and written to:
//   pid2sid: pid -> SID codes; the pid2sid table (pid int64, sid list<int32>) of `sid encode`,
//            `synth` and the RecIF release, read as Parquet or JSONL, written as Parquet or TSV;
//   sid2pid: packed SID (sid_pack, rec/sid.h) -> its most popular item, for PID-mode scoring; the
//            benchmark's sid2pid.json that `data convert` writes and `eval` reads.
// Why data/ and not rec/: the maps are keyed through the pid index (data/pidmap.h), and the pid2sid
// tables are Parquet or JSONL (`onerec synth` writes JSONL when Parquet is not built in), read
// through data/table.h; nothing below the data layer needs an item id. What a SID *is* (codes,
// strings, token ids, key packing) stays in rec/sid.h, which this module builds on.
#pragma once
#include <stdint.h>

#include "data/pidmap.h"
#include "data/table.h"
#include "rec/sid.h"

extern const dcol PID2SID_COLS[];   // pid int64, sid list<int32>

// Values in dense arrays (insertion order) behind the pid index. A zeroed pid2sid is an empty map.
typedef struct {
    pid_index ix;
    int64_t *pids;       // [n] in insertion order
    int32_t *codes;      // [n, nlev]
    int64_t n, cap;
    int nlev;            // levels per SID (3 in the reference): fixed by the first item put
} pid2sid;

// Appends the rows of a pid2sid table (a later row for the same pid replaces its SID); every SID
// must have the same number of codes (1..8).
int pid2sid_load(pid2sid *m, const char *path);
int pid2sid_put(pid2sid *m, int64_t pid, const int32_t *codes, int nlev);
const int32_t *pid2sid_get(const pid2sid *m, int64_t pid);   // NULL when absent
void pid2sid_free(pid2sid *m);
// Writes pids [n] with their codes [n, nlev] atomically: "pid<TAB>SID string" lines when path ends
// in ".tsv", else a Parquet table of PID2SID_COLS.
int pid2sid_write(const char *path, const int64_t *pids, const int32_t *codes, int64_t n, int nlev);

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
// Writes sid2pid.json for the items of m: {"<packed sid>": [pid, ...]} (the key is
// sid_key(codes, m->nlev, SID_PACK_K): sid_pack for 3 levels), keys ascending, each SID's items by
// count (counts [m->n] aligned with m->pids, NULL: all 0), the most interacted first, then by pid.
int sid2pid_write_json(const char *path, const pid2sid *m, const int64_t *counts);
