#include "data/raw.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "base/json.h"
#include "base/mem.h"

int i64vec_push(i64vec *a, int64_t x) {
    if (a->n == a->cap) {
        int nc = a->cap ? a->cap * 2 : 16;
        int64_t *p = mem_realloc(a->v, sizeof *p * (size_t)nc);
        if (!p) return ERR_FAIL;
        a->v = p;
        a->cap = nc;
    }
    a->v[a->n++] = x;
    return 0;
}

void i64vec_free(i64vec *a) {
    free(a->v);
    a->v = NULL;
    a->n = a->cap = 0;
}

#define FLAG_COLS(prefix)                                                                      \
    {prefix "longview", DCOL_LIST_I32, 0}, {prefix "like", DCOL_LIST_I32, 0},                  \
        {prefix "follow", DCOL_LIST_I32, 0}, {prefix "forward", DCOL_LIST_I32, 0},             \
        {prefix "not_interested", DCOL_LIST_I32, 0}

const dcol RAW_COLS[] = {
    {"uid", DCOL_I64, 0},
    {"split", DCOL_I32, 0},
    {"hist_video_pid", DCOL_LIST_I64, 0},
    FLAG_COLS("hist_video_"),
    {"target_video_pid", DCOL_LIST_I64, 0},
    FLAG_COLS("target_video_"),
    {"hist_ad_pid", DCOL_LIST_I64, 0},
    {"target_ad_pid", DCOL_LIST_I64, 0},
    {"hist_longview_video_list", DCOL_LIST_I64, 0},
    {"hist_goods_pid", DCOL_LIST_I64, 0},
    {"target_goods_pid", DCOL_LIST_I64, 0},
    {"inter_user_profile_with_sid", DCOL_STR, 0},
    {"inter_keyword_to_items", DCOL_STR, 0},
    {"reco_gsu_caption", DCOL_STR, 0},
    {"reco_target_caption", DCOL_STR, 0},
    {"reco_cot", DCOL_STR, 0},
};
const int RAW_NCOLS = sizeof RAW_COLS / sizeof RAW_COLS[0];
const dcol PID2CAPTION_COLS[] = {{"pid", DCOL_I64, 0}, {"dense_caption", DCOL_STR, 0}};
const dcol EMBEDDING_COLS[] = {{"pid", DCOL_I64, 0}, {"embedding", DCOL_LIST_F32, 0}};

static i64vec *list_slot(recif_user *u, int col) {
    // index into RAW_COLS -> the list it fills
    switch (col) {
    case 2: return &u->hist_video;
    case 3: case 4: case 5: case 6: case 7: return &u->hist_flag[col - 3];
    case 8: return &u->target_video;
    case 9: case 10: case 11: case 12: case 13: return &u->target_flag[col - 9];
    case 14: return &u->hist_ad;
    case 15: return &u->target_ad;
    case 16: return &u->hist_longview;
    case 17: return &u->hist_goods;
    case 18: return &u->target_goods;
    }
    return NULL;
}

static char **str_slot(recif_user *u, int col) {
    switch (col) {
    case 19: return &u->profile;
    case 20: return &u->keywords;
    case 21: return &u->gsu_caption;
    case 22: return &u->target_caption;
    case 23: return &u->cot;
    }
    return NULL;
}

void recif_user_clear(recif_user *u) {
    for (int c = 0; c < RAW_NCOLS; c++) {
        i64vec *l = list_slot(u, c);
        if (l) l->n = 0;
        char **s = str_slot(u, c);
        if (s) {
            free(*s);
            *s = NULL;
        }
    }
    u->uid = 0;
    u->split = 0;
}

void recif_user_free(recif_user *u) {
    recif_user_clear(u);
    for (int c = 0; c < RAW_NCOLS; c++) {
        i64vec *l = list_slot(u, c);
        if (l) i64vec_free(l);
    }
}

cJSON *recif_user_to_row(const recif_user *cu) {
    recif_user *u = (recif_user *)cu;   // slots are only read
    cJSON *row = cJSON_CreateObject();
    if (!row) return NULL;
    cJSON_AddNumberToObject(row, "uid", (double)u->uid);
    cJSON_AddNumberToObject(row, "split", u->split);
    for (int c = 2; c < RAW_NCOLS; c++) {
        i64vec *l = list_slot(u, c);
        if (l) cJSON_AddItemToObject(row, RAW_COLS[c].name, dtab_int_array(l->v, l->n));
        char **s = str_slot(u, c);
        if (s) cJSON_AddStringToObject(row, RAW_COLS[c].name, *s ? *s : "");
    }
    return row;
}

// Fills u from one row; on a bad value returns ERR_FAIL with the column named (the caller counts
// and skips the row). Flag lists must have the length of their pid list.
static int recif_user_from_row(recif_user *u, const cJSON *row) {
    recif_user_clear(u);
    for (int c = 0; c < RAW_NCOLS; c++) {
        const char *name = RAW_COLS[c].name;
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(row, name);
        if (c < 2) {
            if (!cJSON_IsNumber(v) || v->valuedouble != floor(v->valuedouble))
                return err_set("column %s is not an integer", name);
            if (c == 0) u->uid = (int64_t)v->valuedouble;
            else u->split = (int)v->valuedouble;
            continue;
        }
        i64vec *l = list_slot(u, c);
        if (l) {
            if (cJSON_IsNull(v) || !v) continue;   // a null list reads as empty
            if (!cJSON_IsArray(v)) return err_set("column %s is not a list", name);
            for (const cJSON *e = v->child; e; e = e->next) {
                if (!cJSON_IsNumber(e) || e->valuedouble != floor(e->valuedouble))
                    return err_set("column %s holds a non-integer", name);
                if (i64vec_push(l, (int64_t)e->valuedouble)) return ERR_FAIL;
            }
            continue;
        }
        char **s = str_slot(u, c);
        if (!v || cJSON_IsNull(v)) continue;
        if (cJSON_IsString(v)) *s = mem_strdup(v->valuestring);
        else if (c == 20 && cJSON_IsObject(v)) *s = cJSON_PrintUnformatted(v);   // map form
        else return err_set("column %s is not a string", name);
        if (!*s) return ERR_FAIL;
    }
    for (int k = 0; k < RAW_NLABELS; k++) {
        if (u->hist_flag[k].n != u->hist_video.n)
            return err_set("column %s has %d values for %d history videos", RAW_COLS[3 + k].name,
                           u->hist_flag[k].n, u->hist_video.n);
        if (u->target_flag[k].n != u->target_video.n)
            return err_set("column %s has %d values for %d target videos", RAW_COLS[9 + k].name,
                           u->target_flag[k].n, u->target_video.n);
    }
    return 0;
}

int recif_raw_open(recif_raw *rr, const char *path) {
    memset(rr, 0, sizeof *rr);
    if (dtab_reader_open(&rr->r, path)) return ERR_FAIL;
    if (dtab_reader_check(rr->r, RAW_COLS, RAW_NCOLS, "RecIF table")) {
        dtab_reader_close(rr->r);
        rr->r = NULL;
        return ERR_FAIL;
    }
    return 0;
}

int recif_raw_next(recif_raw *rr, recif_user *u) {
    for (;;) {
        cJSON *row = NULL;
        int got = dtab_reader_next(rr->r, &row);
        if (got <= 0) return got;
        int rc = recif_user_from_row(u, row);
        cJSON_Delete(row);
        if (rc == 0) return 1;
        if (!rr->bad_rows)
            snprintf(rr->first_bad, sizeof rr->first_bad, "row %lld: %s",
                     (long long)dtab_reader_row_index(rr->r), err_msg());
        rr->bad_rows++;
    }
}

void recif_raw_close(recif_raw *rr) {
    dtab_reader_close(rr->r);
    rr->r = NULL;
}

// ------------------------------------------------------------------------------------ captions
// Grows the dense arrays of a map to hold index i.
static int dense_reserve(void **arr, size_t elem, int64_t *cap, int64_t i) {
    if (i < *cap) return 0;
    int64_t nc = *cap ? *cap * 2 : 1024;
    while (nc <= i) nc *= 2;
    void *p = mem_realloc(*arr, elem * (size_t)nc);
    if (!p) return ERR_FAIL;
    *arr = p;
    *cap = nc;
    return 0;
}

int caption_map_put(caption_map *m, int64_t pid, const char *caption) {
    int64_t i;
    int is_new;
    char *v = mem_strdup(caption);
    if (!v || pid_index_put(&m->ix, pid, &i, &is_new) ||
        (is_new && dense_reserve((void **)&m->vals, sizeof *m->vals, &m->cap, i))) {
        free(v);
        return ERR_FAIL;
    }
    if (is_new) m->n = i + 1;
    else free(m->vals[i]);
    m->vals[i] = v;
    return 0;
}

const char *caption_map_get(const caption_map *m, int64_t pid) {
    int64_t i = pid_index_get(&m->ix, pid);
    return i < 0 ? NULL : m->vals[i];
}

void caption_map_free(caption_map *m) {
    for (int64_t i = 0; i < m->n; i++) free(m->vals[i]);
    pid_index_free(&m->ix);
    free(m->vals);
    memset(m, 0, sizeof *m);
}

static int caption_row(void *ctx, const cJSON *row) {
    const cJSON *pid = cJSON_GetObjectItemCaseSensitive(row, "pid");
    const cJSON *cap = cJSON_GetObjectItemCaseSensitive(row, "dense_caption");
    if (!cJSON_IsNumber(pid) || !cJSON_IsString(cap)) return err_set("pid/dense_caption unreadable");
    int64_t bad = json_utf8_bad_at(cap->valuestring);   // it would go into UTF-8 columns that readers refuse
    if (bad >= 0)
        return err_set("pid %lld: dense_caption has invalid UTF-8 at byte %lld (convert the captions to UTF-8)",
                       (long long)pid->valuedouble, (long long)bad);
    return caption_map_put(ctx, (int64_t)pid->valuedouble, cap->valuestring);
}

int caption_map_load(caption_map *m, const char *path) {
    return dtab_foreach(path, PID2CAPTION_COLS, 2, "pid2caption file", caption_row, m);
}
