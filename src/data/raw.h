// The RecIF raw schema (reference section 5.1): one row per user of onerec_bench_release.parquet,
// the pid2caption side file and the pid2sid files. Readers check the columns up front (missing or
// mistyped columns are listed in one error) and count rows that cannot be used.
#pragma once
#include <cjson/cJSON.h>
#include <stdint.h>

#include "data/pid2sid.h"   // the pid2sid files
#include "data/pidmap.h"
#include "data/table.h"

#define RAW_NLABELS 5   // longview, like, follow, forward, not_interested

typedef struct {
    int64_t *v;
    int n, cap;
} i64vec;

int i64vec_push(i64vec *a, int64_t x);
void i64vec_free(i64vec *a);

typedef struct {
    int64_t uid;
    int split;                           // 0 train, 1 test
    i64vec hist_video, hist_flag[RAW_NLABELS];
    i64vec target_video, target_flag[RAW_NLABELS];
    i64vec hist_ad, target_ad;
    i64vec hist_longview;                // hist_longview_video_list
    i64vec hist_goods, target_goods;
    char *profile;                       // inter_user_profile_with_sid
    char *keywords;                      // inter_keyword_to_items as a JSON object text
    char *gsu_caption, *target_caption, *cot;   // reco_gsu_caption, reco_target_caption, reco_cot
} recif_user;

void recif_user_clear(recif_user *u);   // empties lists and strings, keeps capacity
void recif_user_free(recif_user *u);

// Columns of the release table, in order (target_pid, an optional column, is not used).
extern const dcol RAW_COLS[];
extern const int RAW_NCOLS;
extern const dcol PID2CAPTION_COLS[];   // pid int64, dense_caption string
extern const dcol EMBEDDING_COLS[];     // pid int64, embedding list<float>

cJSON *recif_user_to_row(const recif_user *u);

// The release table reader: checks the schema at open.
typedef struct {
    dtab_reader *r;
    int64_t bad_rows;   // rows skipped by recif_raw_next
    char first_bad[256];
} recif_raw;
int recif_raw_open(recif_raw *rr, const char *path);
// 1 and a filled user, 0 at the end, ERR_FAIL on an I/O error. Bad rows are counted and skipped.
int recif_raw_next(recif_raw *rr, recif_user *u);
void recif_raw_close(recif_raw *rr);

// pid -> caption: values in dense arrays (insertion order) behind a pid index (pid -> SID codes is
// pid2sid in data/pid2sid.h).
typedef struct {
    pid_index ix;
    char **vals;
    int64_t n, cap;
} caption_map;
int caption_map_load(caption_map *m, const char *path);
int caption_map_put(caption_map *m, int64_t pid, const char *caption);
const char *caption_map_get(const caption_map *m, int64_t pid);
void caption_map_free(caption_map *m);
