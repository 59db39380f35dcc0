// The 11 RecIF task converters (reference section 5.3) and the RecIF-Bench test sets (section 8).
// Training tables come from split == 0 users, benchmark sets from split == 1 users. Items without
// a SID are dropped and counted; users whose rows are unusable are counted and skipped.
#pragma once
#include <cjson/cJSON.h>
#include <stdint.h>

#include "data/lexicon.h"
#include "data/prompts.h"
#include "data/raw.h"

// The reference's length caps.
#define CONV_VIDEO_HIST 512     // video_rec: hist[-512:]
#define CONV_TARGETS 10         // every *_rec task: target[:10]
#define CONV_AD_VIDEOS 100      // ad_rec: long-view videos[-100:]
#define CONV_AD_HIST 200        // ad_rec: ad clicks[-200:]
#define CONV_PRODUCT_VIDEOS 100 // product_rec: videos[-100:]
#define CONV_PRODUCT_HIST 100   // product_rec: products[-100:]
#define CONV_LABEL_HIST 10      // label tasks: last 10 positives per interaction type
#define CONV_ITEM_BENCH 500     // item_understand benchmark items
#define CONV_ITEM_LINES 10      // item_understand pretrain: lines per Segments row

// video_rec training samples per split-0 user. The reference makes one (hist[-512:] -> target[:10]);
// a next-item model such as SASRec learns from every position of the sequence, so `count` > 1 adds
// samples whose history ends earlier in hist + target, `stride` items apart (window 0 is the
// reference's sample when history = CONV_VIDEO_HIST and targets = CONV_TARGETS).
typedef struct {
    int count;      // windows per user (1: the reference's single sample)
    int stride;     // items between window ends
    int history;    // history items per window (the last ones before its end); benchmark rows too
    int targets;    // answer items per window (the next ones)
} conv_windows;

static inline conv_windows conv_windows_reference(void) {
    return (conv_windows){.count = 1, .stride = 1, .history = CONV_VIDEO_HIST, .targets = CONV_TARGETS};
}

typedef struct {
    data_lang lang;
    uint64_t seed;
    conv_windows win;
    pid2sid va;         // videos and ads
    pid2sid prod;       // products
    caption_map cap;    // pid -> caption
} conv_ctx;

typedef struct {
    int64_t users_read, users_train, users_test, users_other_split, bad_rows;
    int64_t empty_history;        // user rows whose video history is empty (history tasks skipped)
    int64_t items_without_sid;    // item references dropped because the pid has no SID
    int64_t samples_without_target;   // samples skipped: no target item with a SID
    int64_t bad_keywords;         // inter_keyword_to_items that is not a {keyword: [pid]} object
    int64_t rows[TASK_COUNT], bench_rows[TASK_COUNT];
    char first_bad[256];
} conv_stats;

// A sink receives every produced row (and owns it). bench: 1 for a benchmark row.
typedef int (*conv_sink)(void *sink_ctx, task_id task, int bench, cJSON *row);

// Converts one user: training rows when bench == 0, benchmark rows when bench == 1.
int conv_user(const conv_ctx *c, const recif_user *u, int bench, conv_sink sink, void *sink_ctx, conv_stats *st);
// item_understand (pretrain + SFT) for items with a caption and a video/ad SID; one item in ten
// (by a hash of the pid) is held out for the benchmark (at most CONV_ITEM_BENCH).
int conv_items(const conv_ctx *c, conv_sink sink, void *sink_ctx, conv_stats *st);


typedef struct {
    const char *raw_dir;     // onerec_bench_release + pid2caption (+ pid2sid unless sid_dir)
    const char *sid_dir;     // pid2sid files (NULL: raw_dir)
    const char *out_dir;
    data_lang lang;
    uint64_t seed;
    const char *ext;         // output extension (NULL: dtab_default_ext())
    conv_windows win;        // video_rec windows of training users (conv_windows_reference())
} conv_options;

// The whole `data convert`: out/pretrain/*, out/sft/*, out/benchmark/{task}/{task}_test*,
// out/benchmark/sid2pid.json, out/benchmark/product_sid2pid.json, out/convert_stats.json.
int conv_run(const conv_options *o, conv_stats *st);
// Finds DIR/NAME.parquet or DIR/NAME.jsonl (in that order) into path.
int conv_find_table(const char *dir, const char *name, char *path, int cap);
