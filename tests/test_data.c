// Tests of the data layer: row tables, the raw schema checks, the converters on hand-built users
// (hand-checkable answers), sharding and the RL split, the general corpus scorer.
#include <string.h>
#include <unistd.h>

#include "base/err.h"
#include "base/file.h"
#include "base/json.h"
#include "base/mem.h"
#include "data/convert.h"
#include "data/general.h"
#include "data/msg.h"
#include "data/prompts.h"
#include "data/shard.h"
#include "data/table.h"
#include "test.h"

static char g_dir[256];

static char *tpath(const char *name) { return test_path(g_dir, name); }

static int count_str(const char *s, const char *needle) {
    int n = 0;
    for (const char *p = s; (p = strstr(p, needle)); p += strlen(needle)) n++;
    return n;
}

static void test_table_roundtrip_and_check(void) {
    const dcol cols[] = {{"a", DCOL_I64, 0}, {"b", DCOL_STR, 1}, {"c", DCOL_LIST_I32, 0}};
    dtab_writer *w;
    CHECK_OK(dtab_writer_open(&w, tpath("t.jsonl"), cols, 3));
    cJSON *r = cJSON_Parse("{\"a\":5,\"b\":\"x\",\"c\":[1,2]}");
    CHECK_OK(dtab_writer_row(w, r));
    cJSON_Delete(r);
    r = cJSON_Parse("{\"a\":6,\"b\":null,\"c\":[]}");
    CHECK_OK(dtab_writer_row(w, r));
    cJSON_Delete(r);
    r = cJSON_Parse("{\"a\":\"7\",\"c\":[]}");
    CHECK_FAILS_WITH(dtab_writer_row(w, r), "column \"a\" is not a int64");
    cJSON_Delete(r);
    CHECK(dtab_writer_count(w) == 2);
    CHECK(!file_exists(tpath("t.jsonl")));   // atomic: only on close
    CHECK_OK(dtab_writer_close(w));
    dtab_reader *rd;
    CHECK_OK(dtab_reader_open(&rd, tpath("t.jsonl")));
    CHECK(dtab_reader_ncols(rd) == 3);
    const dcol want[] = {{"a", DCOL_I64, 0}, {"c", DCOL_LIST_I64, 0}, {"zz", DCOL_STR, 0}, {"b", DCOL_LIST_I64, 0}};
    CHECK_FAILS_WITH(dtab_reader_check(rd, want, 4, "test table"), "missing: zz; mistyped: b (string, expected list<int64>)");
    CHECK_OK(dtab_reader_check(rd, want, 2, "test table"));
    cJSON *row;
    int n = 0;
    while (dtab_reader_next(rd, &row) > 0) {
        n++;
        cJSON_Delete(row);
    }
    CHECK(n == 2);
    dtab_reader_close(rd);
    // a missing file is said to be missing, whatever its name; an existing one of another kind is not a table
    CHECK_FAILS_WITH(dtab_reader_open(&rd, tpath("t.csv")), "t.csv: cannot open");
    CHECK_FAILS_WITH(dtab_reader_open(&rd, tpath("nowhere")), "nowhere: cannot open");
    CHECK_OK(file_write_atomic(tpath("t.csv"), "a,b\n", 4));
    CHECK_FAILS_WITH(dtab_reader_open(&rd, tpath("t.csv")), "unknown table format");
}

// The Parquet backend: every column type round-trips, and the stored types are reported.
static void test_table_parquet(void) {
    CHECK(dtab_have_parquet());
    CHECK(!strcmp(dtab_default_ext(), ".parquet"));
    const dcol cols[] = {{"a", DCOL_I64, 0},      {"b", DCOL_I32, 0},      {"c", DCOL_F64, 0},
                         {"d", DCOL_STR, 1},      {"e", DCOL_LIST_I64, 0}, {"f", DCOL_LIST_I32, 0},
                         {"g", DCOL_LIST_F32, 0}};
    dtab_writer *w;
    CHECK_OK(dtab_writer_open(&w, tpath("t.parquet"), cols, 7));
    if (!w) return;
    const char *rows[3] = {
        "{\"a\":123456789012,\"b\":-5,\"c\":0.25,\"d\":\"火锅\",\"e\":[1,2,3],\"f\":[7],\"g\":[0.5,-1.5]}",
        "{\"a\":0,\"b\":0,\"c\":-1,\"d\":null,\"e\":[],\"f\":[],\"g\":[]}",
        "{\"a\":-1,\"b\":2147483647,\"c\":1e10,\"d\":\"\",\"e\":[9007199254740991],\"f\":[-1,0],\"g\":[3]}",
    };
    for (int i = 0; i < 3; i++) {
        cJSON *r = cJSON_Parse(rows[i]);
        CHECK_OK(dtab_writer_row(w, r));
        cJSON_Delete(r);
    }
    CHECK_OK(dtab_writer_close(w));
    dtab_reader *rd;
    CHECK_OK(dtab_reader_open(&rd, tpath("t.parquet")));
    CHECK(dtab_reader_ncols(rd) == 7);
    for (int i = 0; i < 7; i++) CHECK(dtab_reader_col_type(rd, i) == (int)cols[i].type);
    cJSON *row;
    for (int i = 0; i < 3; i++) {
        CHECK(dtab_reader_next(rd, &row) == 1);
        cJSON *want = cJSON_Parse(rows[i]);
        CHECK_MSG(cJSON_Compare(row, want, 1), "row %d", i);
        cJSON_Delete(want);
        cJSON_Delete(row);
    }
    CHECK(dtab_reader_next(rd, &row) == 0);
    dtab_reader_close(rd);
}

// A tiny hand-made world: pid p has SID (p/100, p/10%10, p%10); pid 999 has no SID.
static void small_ctx(conv_ctx *c) {
    memset(c, 0, sizeof *c);
    c->lang = LANG_ZH;
    c->seed = 42;
    for (int p = 1; p < 700; p++) {
        int32_t codes[3] = {p / 100, p / 10 % 10, p % 10};
        if (p < 600) pid2sid_put(&c->va, p, codes, 3);
        else pid2sid_put(&c->prod, p, codes, 3);
        char cap[64];
        snprintf(cap, sizeof cap, "caption %d", p);
        caption_map_put(&c->cap, p, cap);
    }
}

static char *sid_of(int p) {
    static char b[4][128];
    static int k;
    k = (k + 1) % 4;
    snprintf(b[k], sizeof b[k], "<|sid_begin|><s_a_%d><s_b_%d><s_c_%d><|sid_end|>", p / 100, p / 10 % 10, p % 10);
    return b[k];
}

typedef struct {
    cJSON *rows[TASK_COUNT][64];
    int n[TASK_COUNT];
    int want_bench;   // keep only rows of this kind
} collect;

static int collect_sink(void *ctx, task_id t, int bench, cJSON *row) {
    collect *c = ctx;
    if (bench == c->want_bench && c->n[t] < 64) c->rows[t][c->n[t]++] = row;
    else cJSON_Delete(row);
    return 0;
}

static void collect_free(collect *c) {
    for (int t = 0; t < TASK_COUNT; t++)
        for (int i = 0; i < c->n[t]; i++) cJSON_Delete(c->rows[t][i]);
    for (int t = 0; t < TASK_COUNT; t++) c->n[t] = 0;
}

// the text of message `role` in a row's messages
static char *msg_text(const cJSON *row, const char *role) {
    static char buf[65536];
    buf[0] = 0;
    cJSON *m = cJSON_Parse(cJSON_GetObjectItem(row, "messages")->valuestring);
    for (cJSON *x = m ? m->child : NULL; x; x = x->next)
        if (!strcmp(cJSON_GetObjectItem(x, "role")->valuestring, role))
            snprintf(buf, sizeof buf, "%s", cJSON_GetArrayItem(cJSON_GetObjectItem(x, "content"), 0)->child->next->valuestring);
    cJSON_Delete(m);
    return buf;
}

static void push_flags(recif_user *u, int target, int lv, int like) {
    i64vec *f = target ? u->target_flag : u->hist_flag;
    i64vec_push(&f[0], lv);
    i64vec_push(&f[1], like);
    i64vec_push(&f[2], 0);
    i64vec_push(&f[3], 0);
    i64vec_push(&f[4], !lv);
}

static void make_user(recif_user *u, int nhist) {
    memset(u, 0, sizeof *u);
    u->uid = 7;
    for (int i = 0; i < nhist; i++) {
        i64vec_push(&u->hist_video, 1 + i % 590);
        push_flags(u, 0, i % 2, i % 3 == 0);
        if (i % 2) i64vec_push(&u->hist_longview, 1 + i % 590);
    }
    for (int i = 0; i < 12; i++) {   // 12 targets: only the first 10 count
        i64vec_push(&u->target_video, 500 + i);
        push_flags(u, 1, i < 4, i == 5);
    }
    u->target_video.v[2] = 999;   // no SID: dropped and counted
    for (int i = 0; i < 250; i++) i64vec_push(&u->hist_ad, 300 + i % 100);
    for (int i = 0; i < 3; i++) i64vec_push(&u->target_ad, 420 + i);
    for (int i = 0; i < 5; i++) i64vec_push(&u->hist_goods, 600 + i);
    for (int i = 0; i < 2; i++) i64vec_push(&u->target_goods, 650 + i);
    u->profile = mem_strdup("画像：最近看了<pid:12><pid:999>。");
    u->keywords = mem_strdup("{\"火锅\":[11,12,13],\"篮球\":[21,999]}");
    u->gsu_caption = mem_strdup("caption 1；caption 3");
    u->target_caption = mem_strdup("caption 500");
    u->cot = mem_strdup("因为用户喜欢火锅。");
}

static void test_convert_hand_checked(void) {
    conv_ctx c;
    small_ctx(&c);
    recif_user u;
    make_user(&u, 600);
    collect col = {0};
    conv_stats st = {0};
    CHECK_OK(conv_user(&c, &u, 0, collect_sink, &col, &st));
    for (int t = 0; t < TASK_COUNT; t++)
        if (t != TASK_PT_ITEM_UNDERSTAND && t != TASK_ITEM_UNDERSTAND && t != TASK_INTERACTIVE_REC && t != TASK_LABEL_PRED)
            CHECK_MSG(col.n[t] == 1, "task %s: %d rows", task_source((task_id)t), col.n[t]);
    // video_rec: history = the last 512 items, answer = targets[:10] minus the one without SID
    cJSON *vr = col.rows[TASK_VIDEO_REC][0];
    CHECK(!strcmp(cJSON_GetObjectItem(vr, "source")->valuestring, "RecIF_VideoRec"));
    CHECK(count_str(msg_text(vr, "user"), "<|sid_begin|>") == 512);
    CHECK(strstr(msg_text(vr, "user"), sid_of(u.hist_video.v[599])) != NULL);
    char want[4096] = "";
    for (int i = 0; i < 10; i++)
        if (i != 2) strcat(want, sid_of(500 + i));
    CHECK(!strcmp(msg_text(vr, "assistant"), want));
    CHECK(msg_text(vr, "system")[0] != 0);
    // pretrain video_rec: 512 history + 9 targets, no words
    const char *seg = cJSON_GetObjectItem(col.rows[TASK_PT_VIDEO_REC][0], "segments")->valuestring;
    CHECK(count_str(seg, "<|sid_begin|>") == 521);
    CHECK(cJSON_IsNull(cJSON_GetObjectItem(col.rows[TASK_PT_VIDEO_REC][0], "messages")));
    // user profile: placeholder 12 -> its SID, 999 dropped
    const char *prof = cJSON_GetObjectItem(col.rows[TASK_PT_USER_PROFILE][0], "segments")->valuestring;
    CHECK(strstr(prof, "<s_a_0><s_b_1><s_c_2>") != NULL && !strstr(prof, "pid:"));
    // ad_rec: long-view videos[-100:] + ads[-200:]
    const char *ad = msg_text(col.rows[TASK_AD_REC][0], "user");
    CHECK(count_str(ad, "<|sid_begin|>") == 300);
    CHECK(count_str(msg_text(col.rows[TASK_AD_REC][0], "assistant"), "<|sid_begin|>") == 3);
    // product_rec: videos[-100:] + 5 products -> 2 targets
    CHECK(count_str(msg_text(col.rows[TASK_PRODUCT_REC][0], "user"), "<|sid_begin|>") == 105);
    CHECK(!strcmp(msg_text(col.rows[TASK_PRODUCT_REC][0], "assistant"), strcat(strcpy(want, sid_of(650)), sid_of(651))));
    // interactive: one sample per keyword, answer = the keyword's items with SIDs
    CHECK(col.n[TASK_INTERACTIVE_REC] == 2);
    int seen_hotpot = 0;
    for (int i = 0; i < col.n[TASK_INTERACTIVE_REC]; i++) {
        cJSON *row = col.rows[TASK_INTERACTIVE_REC][i];
        cJSON *meta = cJSON_Parse(cJSON_GetObjectItem(row, "metadata")->valuestring);
        const char *kw = cJSON_GetObjectItem(meta, "keyword")->valuestring;
        CHECK(strstr(msg_text(row, "user"), kw) != NULL);
        if (!strcmp(kw, "火锅")) {
            seen_hotpot = 1;
            snprintf(want, sizeof want, "%s%s%s", sid_of(11), sid_of(12), sid_of(13));
            CHECK(!strcmp(msg_text(row, "assistant"), want));
        } else CHECK(!strcmp(msg_text(row, "assistant"), sid_of(21)));
        cJSON_Delete(meta);
    }
    CHECK(seen_hotpot);
    // label_pred: one per target candidate[:10] with a SID, answers match the longview flags
    CHECK(col.n[TASK_LABEL_PRED] == 9);
    for (int i = 0; i < col.n[TASK_LABEL_PRED]; i++) {
        cJSON *row = col.rows[TASK_LABEL_PRED][i];
        cJSON *meta = cJSON_Parse(cJSON_GetObjectItem(row, "metadata")->valuestring);
        int pid = (int)cJSON_GetObjectItem(meta, "pid")->valuedouble;
        int lv = pid - 500 < 4;
        CHECK(!strcmp(msg_text(row, "assistant"), lv ? "是" : "否"));
        CHECK((int)cJSON_GetObjectItem(meta, "label")->valuedouble == lv);
        CHECK(strstr(msg_text(row, "user"), sid_of(pid)) != NULL);
        // the history block holds at most 10 positives per type (5 types)
        CHECK(count_str(msg_text(row, "user"), "<|sid_begin|>") <= 5 * 10 + 1);
        cJSON_Delete(meta);
    }
    // label_cond: the answer is the first 10 targets positive for the chosen type
    {
        cJSON *row = col.rows[TASK_LABEL_COND_REC][0];
        cJSON *meta = cJSON_Parse(cJSON_GetObjectItem(row, "metadata")->valuestring);
        const char *label = cJSON_GetObjectItem(meta, "label")->valuestring;
        want[0] = 0;
        if (!strcmp(label, "longview")) strcat(strcat(strcat(want, sid_of(500)), sid_of(501)), sid_of(503));
        else if (!strcmp(label, "like")) strcat(want, sid_of(505));
        else if (!strcmp(label, "not_interested"))
            for (int i = 4; i < 12; i++) strcat(want, sid_of(500 + i));
        CHECK_MSG(!strcmp(msg_text(row, "assistant"), want), "label %s: %s", label, msg_text(row, "assistant"));
        CHECK(strcmp(label, "follow") && strcmp(label, "forward"));   // no positive targets
        cJSON_Delete(meta);
    }
    // rec_reason: no system message; answer = reco_cot
    CHECK(msg_text(col.rows[TASK_REC_REASON][0], "system")[0] == 0);
    CHECK(!strcmp(msg_text(col.rows[TASK_REC_REASON][0], "assistant"), "因为用户喜欢火锅。"));
    CHECK(strstr(msg_text(col.rows[TASK_REC_REASON][0], "user"), "caption 500") != NULL);
    CHECK(st.items_without_sid >= 4);
    collect_free(&col);
    // benchmark mode: no assistant turn, answer in metadata
    conv_stats sb = {0};
    col.want_bench = 1;
    CHECK_OK(conv_user(&c, &u, 1, collect_sink, &col, &sb));
    col.want_bench = 0;
    CHECK(col.n[TASK_PT_VIDEO_REC] == 0 && col.n[TASK_VIDEO_REC] == 1);
    cJSON *meta = cJSON_Parse(cJSON_GetObjectItem(col.rows[TASK_VIDEO_REC][0], "metadata")->valuestring);
    CHECK(msg_text(col.rows[TASK_VIDEO_REC][0], "assistant")[0] == 0);
    CHECK(strstr(cJSON_GetObjectItem(meta, "answer")->valuestring, sid_of(509)) != NULL);
    CHECK(cJSON_GetArraySize(cJSON_GetObjectItem(meta, "answer_pid")) == 9);
    cJSON_Delete(meta);
    collect_free(&col);
    // an empty history: counted; history tasks skipped; nothing crashes
    recif_user_free(&u);
    make_user(&u, 0);
    conv_stats se = {0};
    CHECK_OK(conv_user(&c, &u, 0, collect_sink, &col, &se));
    CHECK(se.empty_history == 1 && col.n[TASK_VIDEO_REC] == 0 && col.n[TASK_LABEL_PRED] == 0);
    CHECK(col.n[TASK_AD_REC] == 1);   // ads alone still make an ad_rec sample
    collect_free(&col);
    recif_user_free(&u);
    // items: one in ten held out for the benchmark, the rest trained
    conv_stats si = {0};
    CHECK_OK(conv_items(&c, collect_sink, &col, &si));
    CHECK(si.rows[TASK_ITEM_UNDERSTAND] + si.bench_rows[TASK_ITEM_UNDERSTAND] == 599);
    CHECK(si.bench_rows[TASK_ITEM_UNDERSTAND] > 30 && si.bench_rows[TASK_ITEM_UNDERSTAND] < 100);
    cJSON *ir = col.rows[TASK_ITEM_UNDERSTAND][0];
    meta = cJSON_Parse(cJSON_GetObjectItem(ir, "metadata")->valuestring);
    int pid = (int)cJSON_GetObjectItem(meta, "pid")->valuedouble;
    snprintf(want, sizeof want, "caption %d", pid);
    CHECK_MSG(!strcmp(msg_text(ir, "assistant"), want), "%s vs %s", msg_text(ir, "assistant"), want);
    CHECK_MSG(strstr(msg_text(ir, "user"), sid_of(pid)) != NULL, "%s", msg_text(ir, "user"));
    cJSON_Delete(meta);
    collect_free(&col);
    pid2sid_free(&c.va);
    pid2sid_free(&c.prod);
    caption_map_free(&c.cap);
}

// --windows: window k ends k * stride items before the history's end, in hist + targets; its answer
// is the next `targets` items; benchmark rows keep the reference's single sample.
static void test_convert_windows(void) {
    conv_ctx c;
    small_ctx(&c);
    c.win = (conv_windows){.count = 4, .stride = 2, .history = 3, .targets = 2};
    recif_user u;
    make_user(&u, 6);   // hist 1..6, targets 500, 501, 999 (no SID), 503, ...
    collect col = {0};
    conv_stats st = {0};
    CHECK_OK(conv_user(&c, &u, 0, collect_sink, &col, &st));
    // ends 6, 4, 2 (a window ending at 0 has no history)
    CHECK_MSG(col.n[TASK_VIDEO_REC] == 3, "%d windows", col.n[TASK_VIDEO_REC]);
    const int64_t want_hist[3][3] = {{4, 5, 6}, {2, 3, 4}, {1, 2, -1}}, want_ans[3][2] = {{500, 501}, {5, 6}, {3, 4}};
    for (int k = 0; k < 3 && col.n[TASK_VIDEO_REC] == 3; k++) {
        char want[1024] = "";
        for (int i = 0; i < 3; i++)
            if (want_hist[k][i] > 0) strcat(want, sid_of(want_hist[k][i]));
        CHECK_MSG(strstr(msg_text(col.rows[TASK_VIDEO_REC][k], "user"), want) != NULL, "window %d history", k);
        CHECK(count_str(msg_text(col.rows[TASK_VIDEO_REC][k], "user"), "<|sid_begin|>") == (k == 2 ? 2 : 3));
        strcat(strcpy(want, sid_of(want_ans[k][0])), sid_of(want_ans[k][1]));
        CHECK_MSG(!strcmp(msg_text(col.rows[TASK_VIDEO_REC][k], "assistant"), want), "window %d answer", k);
    }
    collect_free(&col);
    // the benchmark row: the same history cap, answer targets[:10] (9 with a SID)
    col.want_bench = 1;
    CHECK_OK(conv_user(&c, &u, 1, collect_sink, &col, &st));
    CHECK(col.n[TASK_VIDEO_REC] == 1);
    if (col.n[TASK_VIDEO_REC] == 1) {
        cJSON *meta = cJSON_Parse(cJSON_GetObjectItem(col.rows[TASK_VIDEO_REC][0], "metadata")->valuestring);
        CHECK(cJSON_GetArraySize(cJSON_GetObjectItem(meta, "answer_pid")) == 9);
        CHECK(strstr(msg_text(col.rows[TASK_VIDEO_REC][0], "user"), sid_of(4)) != NULL);
        CHECK(strstr(msg_text(col.rows[TASK_VIDEO_REC][0], "user"), sid_of(3)) == NULL);
        cJSON_Delete(meta);
    }
    collect_free(&col);
    recif_user_free(&u);
    pid2sid_free(&c.va);
    pid2sid_free(&c.prod);
    caption_map_free(&c.cap);
}

static void test_raw_reader_bad_rows(void) {
    // a release table with one good row, one with mismatched flags, one with a string history
    recif_user u;
    make_user(&u, 5);
    cJSON *good = recif_user_to_row(&u);
    cJSON *bad1 = cJSON_Duplicate(good, 1);
    cJSON_ReplaceItemInObject(bad1, "hist_video_like", cJSON_CreateIntArray((int[]){1}, 1));
    cJSON *bad2 = cJSON_Duplicate(good, 1);
    cJSON_ReplaceItemInObject(bad2, "hist_ad_pid", cJSON_CreateString("1,2"));
    dtab_writer *w;
    CHECK_OK(dtab_writer_open(&w, tpath("raw.jsonl"), RAW_COLS, 2));   // two declared: rows carry all
    CHECK_OK(dtab_writer_row(w, good));
    CHECK_OK(dtab_writer_row(w, bad1));
    CHECK_OK(dtab_writer_row(w, bad2));
    CHECK_OK(dtab_writer_row(w, good));
    CHECK_OK(dtab_writer_close(w));
    recif_raw rr;
    CHECK_OK(recif_raw_open(&rr, tpath("raw.jsonl")));
    recif_user v = {0};
    int n = 0;
    while (recif_raw_next(&rr, &v) > 0) n++;
    CHECK(n == 2 && rr.bad_rows == 2);
    CHECK_MSG(strstr(rr.first_bad, "hist_video_like has 1 values for 5 history videos") != NULL, "%s", rr.first_bad);
    recif_raw_close(&rr);
    // missing and mistyped columns: one error listing them
    cJSON *m = cJSON_Duplicate(good, 1);
    cJSON_DeleteItemFromObject(m, "reco_cot");
    cJSON_DeleteItemFromObject(m, "split");
    cJSON_ReplaceItemInObject(m, "target_ad_pid", cJSON_CreateString("x"));
    CHECK_OK(dtab_writer_open(&w, tpath("raw2.jsonl"), RAW_COLS, 1));
    CHECK_OK(dtab_writer_row(w, m));
    CHECK_OK(dtab_writer_close(w));
    CHECK_FAILS_WITH(recif_raw_open(&rr, tpath("raw2.jsonl")), "missing: split, reco_cot; mistyped: target_ad_pid (string, expected list<int64>)");
    cJSON_Delete(m);
    cJSON_Delete(good);
    cJSON_Delete(bad1);
    cJSON_Delete(bad2);
    recif_user_free(&u);
    recif_user_free(&v);
}

static void test_pid2sid(void) {
    pid2sid m = {0};
    for (int i = 0; i < 5000; i++) {
        int32_t c[3] = {i, i * 2, i * 3};
        CHECK_OK(pid2sid_put(&m, (int64_t)i * 7919, c, 3));
    }
    CHECK(m.n == 5000);
    const int32_t *c = pid2sid_get(&m, 4999LL * 7919);
    CHECK(c && c[0] == 4999 && c[2] == 4999 * 3);
    CHECK(pid2sid_get(&m, 3) == NULL);
    int32_t two[2] = {1, 2};
    CHECK_FAILS_WITH(pid2sid_put(&m, 1, two, 2), "2 levels");
    int32_t again[3] = {9, 9, 9};
    CHECK_FAILS_WITH(pid2sid_put(&m, 7919, again, 3), "pid 7919 appears twice");
    CHECK(pid2sid_get(&m, 7919)[0] == 1);   // the first SID stays
    int64_t dup[4] = {5, 8, 13, 8};
    CHECK_OK(pid_check_unique(dup, 3, "x.parquet"));
    CHECK_FAILS_WITH(pid_check_unique(dup, 4, "x.parquet"), "x.parquet: pid 8 appears twice (rows 1 and 3)");
    char buf[128];
    int32_t cc[3] = {1, 22, 333};
    CHECK(sid_format(buf, sizeof buf, cc, 3) > 0 && !strcmp(buf, "<|sid_begin|><s_a_1><s_b_22><s_c_333><|sid_end|>"));
    pid2sid_free(&m);
}

// pid2sid tables and sid2pid.json: what the writers write, the readers read back.
static void test_pid2sid_files(void) {
    int64_t pids[4] = {70, 10, 30, 20};
    int32_t codes[12] = {1, 2, 3, 4, 5, 6, 1, 2, 3, 8191, 0, 7};   // pids 70 and 30 share a SID
    CHECK_OK(pid2sid_write(tpath("p2s.parquet"), pids, codes, 4, 3));
    pid2sid m = {0};
    CHECK_OK(pid2sid_load(&m, tpath("p2s.parquet")));
    CHECK(m.n == 4 && m.nlev == 3 && m.pids[3] == 20);
    const int32_t *c = pid2sid_get(&m, 20);
    CHECK(c && c[0] == 8191 && c[1] == 0 && c[2] == 7);
    CHECK_OK(pid2sid_write(tpath("p2s.tsv"), pids, codes, 2, 3));
    char *text = NULL;
    CHECK_OK(file_read_all(tpath("p2s.tsv"), &text, NULL));
    CHECK(text && !strcmp(text, "70\t<|sid_begin|><s_a_1><s_b_2><s_c_3><|sid_end|>\n"
                               "10\t<|sid_begin|><s_a_4><s_b_5><s_c_6><|sid_end|>\n"));
    free(text);
    // sid2pid.json: the shared SID lists 30 (count 5) before 70 (count 2)
    int64_t counts[4] = {2, 0, 5, 1};
    CHECK_OK(sid2pid_write_json(tpath("s2p.json"), &m, counts));
    CHECK_OK(file_read_all(tpath("s2p.json"), &text, NULL));
    char want[256];
    snprintf(want, sizeof want, "{\"%lld\":[30,70],\"%lld\":[10],\"%lld\":[20]}", (long long)sid_pack(1, 2, 3),
             (long long)sid_pack(4, 5, 6), (long long)sid_pack(8191, 0, 7));
    CHECK(text && !strcmp(text, want));
    free(text);
    sid2pid back = {0};
    CHECK_OK(sid2pid_load_json(&back, tpath("s2p.json")));
    CHECK(back.n == 3 && sid2pid_get(&back, sid_pack(1, 2, 3)) == 30 && sid2pid_get(&back, sid_pack(8191, 0, 7)) == 20);
    sid2pid_free(&back);
    pid2sid_free(&m);
    int32_t four[4] = {1, 2, 3, 4};
    CHECK_OK(pid2sid_write(tpath("p2s4.parquet"), pids, four, 1, 4));
    CHECK_OK(pid2sid_load(&m, tpath("p2s4.parquet")));
    CHECK_FAILS_WITH(pid2sid_load(&m, tpath("p2s.parquet")), "3 levels, others have 4");
    pid2sid_free(&m);
}

static void test_prompts_and_general(void) {
    const char *args[2] = {"X", "Y"};
    char *s = prompt_fill("a{0}b{1}c{2}{0}", args, 2);
    CHECK(!strcmp(s, "aXbYc{2}X"));
    free(s);
    for (int l = 0; l < 2; l++)
        for (int t = TASK_VIDEO_REC; t < TASK_COUNT; t++) {
            CHECK(prompt_pool_size((data_lang)l, (task_id)t, 0) == 3);
            CHECK(prompt_pool_size((data_lang)l, (task_id)t, 1) == (t == TASK_REC_REASON ? 0 : 3));
        }
    CHECK(general_score("19", "19"));
    CHECK(general_score("<think>\nhmm\n</think>\n\n 19。", "19"));
    CHECK(general_score("松城.", "松城"));
    CHECK(!general_score("190", "19"));
    CHECK(!general_score("1", "19"));
    // every pair's answer is right (a few spot checks across the enumeration)
    int ok = 1, narith = 0, nparsed = 0, nfact = 0;
    for (int64_t i = 0; i < general_count(); i++) {
        general_qa qa;
        general_get(LANG_EN, i, 0, &qa);
        narith += qa.skill[0] == 'a';
        nfact += qa.skill[0] == 'f';
        int a, b, r;
        char op[4];
        if (sscanf(qa.question, "%d%3[^0-9]%d=", &a, op, &b) == 3) {
            nparsed++;
            r = !strcmp(op, "+") ? a + b : !strcmp(op, "-") ? a - b : a * b;
            char want[16];
            snprintf(want, sizeof want, "%d", r);
            ok &= !strcmp(want, qa.answer) && r >= 0;
        }
    }
    CHECK(ok);
    CHECK(narith > 0 && nparsed == narith);   // wording 0 of every arithmetic pair is "a op b="
    CHECK(nfact == 2 * LEX_PLACES);
}

static void test_shard_and_rl(void) {
    // a fake convert dir: 5 rec tables of 700 rows each
    const char *names[5] = {"video_rec", "ad_rec", "product_rec", "interactive_rec", "label_cond_rec"};
    char dir[512];
    snprintf(dir, sizeof dir, "%s/conv/sft", g_dir);
    CHECK_OK(file_mkdirs(dir));
    const dcol cols[] = {{"uuid", DCOL_STR, 0}, {"source", DCOL_STR, 0}, {"metadata", DCOL_STR, 0},
                         {"messages", DCOL_STR, 1}, {"segments", DCOL_STR, 1}};
    const char *in[5];
    static char paths[5][600];
    for (int k = 0; k < 5; k++) {
        snprintf(paths[k], sizeof paths[k], "%s/%s.jsonl", dir, names[k]);
        in[k] = paths[k];
        dtab_writer *w;
        CHECK_OK(dtab_writer_open(&w, paths[k], cols, 5));
        for (int i = 0; i < 700; i++) {
            char uuid[32];
            snprintf(uuid, sizeof uuid, "%d-%d", k, i);
            cJSON *r = msg_row(uuid, names[k], NULL, msg_chat("s", "u", "a"), NULL);
            CHECK_OK(dtab_writer_row(w, r));
            cJSON_Delete(r);
        }
        CHECK_OK(dtab_writer_close(w));
    }
    int64_t rows;
    int ns;
    CHECK_OK(shard_run(in, 5, tpath("shards"), 1000, 1, 7, ".jsonl", &rows, &ns));
    CHECK(rows == 3500 && ns == 4);
    cJSON *list = json_load_file(tpath("shards/file_list.json"));
    CHECK(cJSON_GetArraySize(list) == 4);
    CHECK(strstr(cJSON_GetArrayItem(list, 3)->valuestring, "part-00003-of-00004.jsonl") != NULL);
    int64_t n0;
    const char *p0[1] = {cJSON_GetArrayItem(list, 0)->valuestring};
    const char *p3[1] = {cJSON_GetArrayItem(list, 3)->valuestring};
    CHECK_OK(shard_count_rows(p0, 1, &n0));
    CHECK(n0 == 1000);
    CHECK_OK(shard_count_rows(p3, 1, &n0));
    CHECK(n0 == 500);
    cJSON_Delete(list);
    int64_t ntr, nte;
    char cdir[512];
    snprintf(cdir, sizeof cdir, "%s/conv", g_dir);
    CHECK_OK(prepare_rl(cdir, tpath("rl"), 1000, 3, ".jsonl", &ntr, &nte));
    CHECK(ntr == 2500 && nte == 1000);
    int64_t nd;
    CHECK_OK(prepare_distill(in, 2, tpath("distill.jsonl"), 100, 5, &nd));
    CHECK(nd == 100);
    CHECK_FAILS_WITH(prepare_rl(g_dir, tpath("rl2"), 10, 3, ".jsonl", &ntr, &nte), "sft/video_rec");
    // a split that leaves RL nothing to train on is refused, not written as 0 training rows
    CHECK_FAILS_WITH(prepare_rl(cdir, tpath("rl3"), -5, 3, ".jsonl", &ntr, &nte), "--test-size -5: must be >= 0");
    CHECK(err_is_usage());
    CHECK_FAILS_WITH(prepare_rl(cdir, tpath("rl4"), 3500, 3, ".jsonl", &ntr, &nte), "leaves no training rows");
    CHECK(!err_is_usage());
}

int main(void) {
    snprintf(g_dir, sizeof g_dir, "/tmp/onerec_test_data_%d", (int)getpid());
    file_remove_tree(g_dir);
    file_mkdirs(g_dir);
    RUN(test_table_roundtrip_and_check);
    RUN(test_table_parquet);
    RUN(test_convert_hand_checked);
    RUN(test_convert_windows);
    RUN(test_raw_reader_bad_rows);
    RUN(test_pid2sid);
    RUN(test_pid2sid_files);
    RUN(test_prompts_and_general);
    RUN(test_shard_and_rl);
    file_remove_tree(g_dir);
    return test_summary("test_data");
}
