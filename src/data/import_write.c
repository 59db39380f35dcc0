// data import, second half: the items file (captions, tags) and the outputs (the RecIF raw table,
// pid2caption, sequences, import_stats.json). Rules in docs/data.md, "Importing your own log".
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "base/file.h"
#include "base/json.h"
#include "base/log.h"
#include "base/mem.h"
#include "data/import_int.h"
#include "data/logsrc.h"
#include "data/raw.h"

#define GSU_ITEMS 5       // reco_gsu_caption: captions of the last 5 history items
#define PROFILE_TAGS 3    // the profile's most frequent tags
#define PROFILE_LIKED 3   // and its most recent liked items
#define BASELINE_MAX_ID (1LL << 30)   // src/eval/bench_seq.c's dense id tables

static const dcol SEQ_COLS[] = {
    {"user_id", DCOL_I64, 0}, {"train", DCOL_LIST_I64, 0}, {"valid", DCOL_I64, 0}, {"test", DCOL_I64, 0}};

// Appends printf output to a malloc'd string (*dst may be NULL).
static int cat(char **dst, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int cat(char **dst, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    size_t old = *dst ? strlen(*dst) : 0;
    char *p = mem_realloc(*dst, old + (size_t)n + 1);
    if (!p) return ERR_FAIL;
    va_start(ap, fmt);
    vsnprintf(p + old, (size_t)n + 1, fmt, ap);
    va_end(ap);
    *dst = p;
    return 0;
}

// ------------------------------------------------------------------------------------ items file
static uint64_t fnv1a(const char *s, size_t n) {
    uint64_t h = 1469598103934665603ULL;
    for (size_t i = 0; i < n; i++) h = (h ^ (unsigned char)s[i]) * 1099511628211ULL;
    return h;
}

// The id of tag s[0..n), a new one when unseen (hash collisions move on to the next key).
static int tag_id(imp_state *s, const char *t, size_t n, int32_t *id) {
    for (uint64_t h = fnv1a(t, n) >> 1;; h = (h + 1) & (UINT64_MAX >> 1)) {
        int64_t k;
        int is_new;
        if (pid_index_put(&s->tix, (int64_t)h, &k, &is_new)) return ERR_FAIL;
        if (!is_new && (strlen(s->tag_name[k]) != n || memcmp(s->tag_name[k], t, n))) continue;
        if (is_new) {
            if (k >= s->cap_tags) {
                int64_t nc = s->cap_tags ? s->cap_tags * 2 : 64;
                char **p = mem_realloc(s->tag_name, sizeof *p * (size_t)nc);
                if (!p) return ERR_FAIL;
                s->tag_name = p;
                s->cap_tags = nc;
            }
            if (!(s->tag_name[k] = mem_strndup(t, n))) return ERR_FAIL;
            s->ntags = k + 1;
        }
        *id = (int32_t)k;
        return 0;
    }
}

// "Adventure|Animation" -> tag ids of item i (blank tags skipped).
static int parse_tags(imp_state *s, int32_t i, const char *text) {
    int max = 2;
    for (const char *p = text; *p; p++) max += *p == '|';
    int32_t *v = mem_alloc(sizeof *v * (size_t)max);
    if (!v) return ERR_FAIL;
    v[0] = 0;
    for (const char *p = text; *p;) {
        const char *q = strchr(p, '|');
        size_t n = q ? (size_t)(q - p) : strlen(p);
        const char *a = p;
        while (n && (*a == ' ' || *a == '\t')) a++, n--;
        while (n && (a[n - 1] == ' ' || a[n - 1] == '\t')) n--;
        if (n && tag_id(s, a, n, &v[1 + v[0]])) {
            free(v);
            return ERR_FAIL;
        }
        v[0] += n > 0;
        p = q ? q + 1 : p + strlen(p);
    }
    s->tags[i] = v;
    return 0;
}

static int is_integer_text(const char *t) {
    if (*t == '-') t++;
    if (!*t) return 0;
    for (; *t; t++)
        if (*t < '0' || *t > '9') return 0;
    return 1;
}

// The caption rule: the first non-empty value as it is; after it, integers in parentheses and
// text after an em dash: "Toy Story (1995) — Adventure|Animation".
static int add_caption_part(char **cap, const char *v) {
    if (!*v) return 0;
    if (!*cap) return cat(cap, "%s", v);
    return is_integer_text(v) ? cat(cap, " (%s)", v) : cat(cap, " \xe2\x80\x94 %s", v);
}

typedef struct {
    int id, tag, text[16];
    int ntext;
} item_cols;

static int find_item_cols(imp_state *s, logsrc *src, item_cols *c) {
    const import_options *o = s->o;
    c->tag = -1;
    c->ntext = 0;
    if (logsrc_find(src, o->item_id_col, "--item-id-col", &c->id)) return ERR_FAIL;
    char names[1024];
    snprintf(names, sizeof names, "%s", o->text_cols ? o->text_cols : "");
    for (char *save = NULL, *t = strtok_r(names, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
        while (*t == ' ') t++;
        if (!*t) continue;
        if (c->ntext == 16) return err_set("--text-cols: at most 16 columns");
        if (logsrc_find(src, t, "--text-cols", &c->text[c->ntext++])) return ERR_FAIL;
    }
    s->tag_col = o->tag_col ? o->tag_col : "genres";
    if (s->tag_col[0] && logsrc_find(src, s->tag_col, "--tag-col", &c->tag)) {
        if (o->tag_col) return ERR_FAIL;
        s->tag_col = "";   // the default column is optional
        c->tag = -1;
        err_clear();
    }
    return 0;
}

// One row of the items file: every value is read (so bad text fails wherever it is), then kept
// when the id is an item of the split that has no text yet.
static int read_item_row(imp_state *s, logsrc *src, const item_cols *c) {
    int64_t id;
    char *cap = NULL;
    const char *t;
    int rc = logsrc_get_i64(src, c->id, &id);
    for (int k = 0; !rc && k < c->ntext; k++) {
        rc = logsrc_get_text(src, c->text[k], &t);
        if (!rc) rc = add_caption_part(&cap, t);
    }
    const char *tags = "";
    if (!rc && c->tag >= 0 && !(rc = logsrc_get_text(src, c->tag, &t))) tags = t;
    int64_t i = rc ? -1 : pid_index_get(&s->iix, id);
    if (rc || i < 0 || !s->used[i]) {
        if (!rc) s->st->items_not_in_log++;
    } else if (s->caption[i] || s->tags[i]) {
        s->st->item_rows_duplicate++;
    } else {
        rc = parse_tags(s, (int32_t)i, tags);
        s->caption[i] = cap;
        cap = NULL;
    }
    free(cap);
    return rc;
}

int imp_read_items(imp_state *s) {
    s->caption = mem_calloc((size_t)s->ni + 1, sizeof *s->caption);
    s->tags = mem_calloc((size_t)s->ni + 1, sizeof *s->tags);
    if (!s->caption || !s->tags) return ERR_FAIL;
    s->tag_col = "";
    if (s->o->items) {
        logsrc src;
        item_cols c;
        if (logsrc_open(&src, s->o->items)) return ERR_FAIL;
        int rc = find_item_cols(s, &src, &c), got = 0;
        while (!rc && (got = logsrc_next(&src)) > 0) {
            s->st->item_rows_read++;
            rc = read_item_row(s, &src, &c);
        }
        logsrc_close(&src);
        if (rc || got < 0) return ERR_FAIL;
    }
    for (int64_t i = 0; i < s->ni; i++)
        if (s->used[i] && !s->caption[i]) s->st->items_without_text++;
    if (s->o->items)
        log_info("import: items file: %lld rows, %lld not in the split, %lld duplicate ids (first kept)",
                 (long long)s->st->item_rows_read, (long long)s->st->items_not_in_log,
                 (long long)s->st->item_rows_duplicate);
    log_info("import: %lld items without text are captioned by their id", (long long)s->st->items_without_text);
    return 0;
}

void imp_items_free(imp_state *s) {
    for (int64_t i = 0; i < s->ni; i++) {
        if (s->caption) free(s->caption[i]);
        if (s->tags) free(s->tags[i]);
    }
    for (int64_t k = 0; k < s->ntags; k++) free(s->tag_name[k]);
    free(s->caption);
    free(s->tags);
    free(s->tag_name);
    pid_index_free(&s->tix);
}

// --------------------------------------------------------------------------------------- outputs
// The caption of item i, or its id when it has no text (buf holds the id).
static const char *caption_of(const imp_state *s, int32_t i, char *buf, int cap) {
    if (s->caption[i]) return s->caption[i];
    snprintf(buf, (size_t)cap, "%lld", (long long)s->iid[i]);
    return buf;
}

// Behaviour flags from the rating (longview, like, follow, forward, not_interested).
static void flags_of(const imp_state *s, const imp_event *e, int f[RAW_NLABELS]) {
    memset(f, 0, sizeof *f * RAW_NLABELS);
    f[0] = !s->has_rating || e->r >= 4.0f;
    f[1] = s->has_rating && e->r >= 4.5f;
    f[4] = s->has_rating && e->r <= 2.0f;
}

typedef struct {
    int32_t *cnt;       // [ntags]
    int32_t *touched;   // tags counted for the current user
} tag_counts;

// The most frequent tags of e[0..n) (count, then name), into top; returns how many.
static int top_tags(const imp_state *s, const imp_event *e, int n, tag_counts *tc, int32_t *top) {
    int nt = 0, ntop = 0;
    for (int k = 0; k < n; k++) {
        const int32_t *t = s->tags[e[k].i];
        for (int j = 1; t && j <= t[0]; j++)
            if (tc->cnt[t[j]]++ == 0) tc->touched[nt++] = t[j];
    }
    for (int r = 0; r < PROFILE_TAGS; r++) {
        int best = -1;
        for (int j = 0; j < nt; j++) {
            int32_t g = tc->touched[j];
            if (tc->cnt[g] <= 0) continue;
            if (best < 0 || tc->cnt[g] > tc->cnt[best] ||
                (tc->cnt[g] == tc->cnt[best] && strcmp(s->tag_name[g], s->tag_name[best]) < 0))
                best = g;
        }
        if (best < 0) break;
        top[ntop++] = best;
        tc->cnt[best] = -tc->cnt[best];   // taken
    }
    for (int j = 0; j < nt; j++) tc->cnt[tc->touched[j]] = 0;
    return ntop;
}

// The profile from the training items e[0..n) only: counts, mean rating, most frequent tags and
// the last liked items as <pid:N> placeholders (data convert turns them into SIDs).
static char *make_profile(const imp_state *s, const imp_event *e, int n, tag_counts *tc) {
    char *p = NULL;
    double sum = 0;
    for (int k = 0; k < n; k++) sum += e[k].r;
    int rc = s->has_rating ? cat(&p, "The user has rated %d items (mean rating %.1f)", n, n ? sum / n : 0)
                           : cat(&p, "The user has interacted with %d items", n);
    int32_t top[PROFILE_TAGS];
    int nt = top_tags(s, e, n, tc, top);
    for (int j = 0; !rc && j < nt; j++)
        rc = j ? cat(&p, ", %s", s->tag_name[top[j]]) : cat(&p, "; most frequent %s: %s", s->tag_col, s->tag_name[top[j]]);
    if (!rc) rc = cat(&p, ".");
    int idx[PROFILE_LIKED], nl = 0, f[RAW_NLABELS];
    for (int k = n - 1; k >= 0 && nl < PROFILE_LIKED; k--) {
        flags_of(s, &e[k], f);
        if (f[0]) idx[nl++] = k;
    }
    if (!rc && nl) rc = cat(&p, s->has_rating ? " Recently liked: " : " Most recent: ");
    for (int j = nl - 1; !rc && j >= 0; j--) rc = cat(&p, "<pid:%lld>", (long long)s->iid[e[idx[j]].i]);
    if (!rc && nl) rc = cat(&p, ".");
    if (rc) {
        free(p);
        return NULL;
    }
    return p;
}

// One raw-table row: history h[0..nh), one target.
static int fill_row(const imp_state *s, recif_user *u, int split, const imp_event *h, int nh, const imp_event *tgt,
                    const char *profile) {
    recif_user_clear(u);
    u->uid = s->uid[tgt->u];
    u->split = split;
    int f[RAW_NLABELS], rc = 0;
    char buf[32];
    for (int k = 0; !rc && k <= nh; k++) {
        const imp_event *e = k < nh ? &h[k] : tgt;
        int64_t pid = s->iid[e->i];
        flags_of(s, e, f);
        rc = i64vec_push(k < nh ? &u->hist_video : &u->target_video, pid);
        for (int j = 0; !rc && j < RAW_NLABELS; j++) rc = i64vec_push(k < nh ? &u->hist_flag[j] : &u->target_flag[j], f[j]);
        if (!rc && k < nh && f[0]) rc = i64vec_push(&u->hist_longview, pid);
    }
    for (int k = nh > GSU_ITEMS ? nh - GSU_ITEMS : 0; !rc && k < nh; k++)
        rc = cat(&u->gsu_caption, "%s%s", u->gsu_caption ? "; " : "", caption_of(s, h[k].i, buf, sizeof buf));
    if (rc) return ERR_FAIL;
    u->profile = mem_strdup(profile);
    u->keywords = mem_strdup("{}");
    if (!u->gsu_caption) u->gsu_caption = mem_strdup("");
    u->target_caption = mem_strdup(caption_of(s, tgt->i, buf, sizeof buf));
    u->cot = mem_strdup("");
    return u->profile && u->keywords && u->gsu_caption && u->target_caption && u->cot ? 0 : ERR_FAIL;
}

static int write_user_row(dtab_writer *w, const recif_user *u) {
    cJSON *row = recif_user_to_row(u);
    int rc = row ? dtab_writer_row(w, row) : err_set("out of memory");
    cJSON_Delete(row);
    return rc;
}

static int write_sequence(dtab_writer *w, const imp_state *s, const imp_event *train, int n) {
    int64_t *ids = mem_alloc(sizeof *ids * (size_t)(n + 1));
    if (!ids) return ERR_FAIL;
    for (int k = 0; k < n; k++) ids[k] = s->iid[train[k].i];
    cJSON *row = cJSON_CreateObject();
    cJSON_AddNumberToObject(row, "user_id", (double)s->uid[train[n].u]);
    cJSON_AddItemToObject(row, "train", dtab_int_array(ids, n));
    cJSON_AddNumberToObject(row, "valid", (double)s->iid[train[n].i]);
    cJSON_AddNumberToObject(row, "test", (double)s->iid[train[n + 1].i]);
    int rc = dtab_writer_row(w, row);
    cJSON_Delete(row);
    free(ids);
    return rc;
}

// The three raw rows and the sequence row of the user whose events are e[0..n), n >= 3.
static int write_user(imp_state *s, dtab_writer *raw, dtab_writer *seq, const imp_event *e, int n, recif_user *u,
                      tag_counts *tc) {
    int ntrain = n - 2, ts = 0;   // train = e[ts .. n-2), valid = e[n-2], test = e[n-1]
    if (s->o->max_history > 0 && ntrain > s->o->max_history) ts = ntrain - s->o->max_history;
    s->st->trimmed_history += ts;
    s->st->train_items += ntrain - ts;
    char *profile = make_profile(s, e, ntrain, tc);
    if (!profile) return ERR_FAIL;
    const imp_event *t = e + ts;
    int m = ntrain - ts;
    int rc = fill_row(s, u, 0, t, m - 1, &t[m - 1], profile) || write_user_row(raw, u) ||
             fill_row(s, u, 1, t, m + 1, &e[n - 1], profile) || write_user_row(raw, u) ||
             fill_row(s, u, 2, t, m, &e[n - 2], profile) || write_user_row(raw, u) ||
             write_sequence(seq, s, t, m);
    free(profile);
    if (!rc) s->st->raw_rows += 3;
    return rc ? ERR_FAIL : 0;
}

static const imp_state *g_items;   // qsort has no context argument
static int by_item_id(const void *a, const void *b) {
    int64_t x = g_items->iid[*(const int32_t *)a], y = g_items->iid[*(const int32_t *)b];
    return (x > y) - (x < y);
}

// pid2caption: the items of the split, by id.
static int write_captions(imp_state *s, dtab_writer *w) {
    int32_t *order = mem_alloc(sizeof *order * (size_t)(s->ni + 1));
    if (!order) return ERR_FAIL;
    int64_t n = 0;
    for (int64_t i = 0; i < s->ni; i++)
        if (s->used[i]) order[n++] = (int32_t)i;
    g_items = s;
    qsort(order, (size_t)n, sizeof *order, by_item_id);
    int rc = 0;
    char buf[32];
    for (int64_t k = 0; !rc && k < n; k++) {
        int64_t id = s->iid[order[k]];
        if (id < 0 || id >= BASELINE_MAX_ID) s->st->ids_outside_baselines++;
        cJSON *row = cJSON_CreateObject();
        cJSON_AddNumberToObject(row, "pid", (double)id);
        cJSON_AddStringToObject(row, "dense_caption", caption_of(s, order[k], buf, sizeof buf));
        rc = dtab_writer_row(w, row);
        cJSON_Delete(row);
    }
    free(order);
    return rc;
}

// The counts, keyed as in import_stats.json; "a.b" puts b into the object a.
static int add_counts(cJSON *j, const char *const *keys, const int64_t *const *vals, int n) {
    for (int k = 0; k < n; k++) {
        const char *dot = strchr(keys[k], '.');
        cJSON *o = j;
        if (dot) {
            char obj[64];
            snprintf(obj, sizeof obj, "%.*s", (int)(dot - keys[k]), keys[k]);
            o = cJSON_GetObjectItemCaseSensitive(j, obj);
            if (!o) o = cJSON_AddObjectToObject(j, obj);
        }
        if (!o || !cJSON_AddNumberToObject(o, dot ? dot + 1 : keys[k], (double)*vals[k])) return ERR_FAIL;
    }
    return 0;
}

static int write_stats(const imp_state *s, const char *path) {
    const import_stats *st = s->st;
    const import_options *o = s->o;
    const char *const keys[] = {"rows_read", "users_read", "items_read", "dropped_rows.min_rating",
                                "dropped_rows.duplicates", "dropped_rows.kcore", "dropped_rows.short_users",
                                "users_short", "kcore_passes", "trimmed_history", "users", "items", "interactions",
                                "train_items", "raw_rows", "items_file_rows.read", "items_file_rows.not_in_split",
                                "items_file_rows.duplicate_ids", "items_without_text", "ids_outside_baselines"};
    const int64_t *const vals[] = {&st->rows_read, &st->users_read, &st->items_read, &st->dropped_min_rating,
                                   &st->dropped_duplicates, &st->dropped_kcore, &st->dropped_short,
                                   &st->users_short, &st->kcore_rounds, &st->trimmed_history, &st->users, &st->items,
                                   &st->interactions, &st->train_items, &st->raw_rows, &st->item_rows_read,
                                   &st->items_not_in_log, &st->item_rows_duplicate, &st->items_without_text,
                                   &st->ids_outside_baselines};
    cJSON *j = cJSON_CreateObject();
    cJSON_AddStringToObject(j, "interactions_file", o->interactions);
    cJSON_AddStringToObject(j, "items_file", o->items ? o->items : "");
    cJSON_AddStringToObject(j, "ratings", s->has_rating ? o->rating_col : "");
    if (s->has_rating && isfinite(o->min_rating)) cJSON_AddNumberToObject(j, "min_rating", o->min_rating);
    else cJSON_AddNullToObject(j, "min_rating");
    cJSON_AddNumberToObject(j, "kcore", o->kcore);
    cJSON_AddNumberToObject(j, "max_history", o->max_history);
    cJSON_AddNumberToObject(j, "mean_length", st->mean_length);
    int rc = add_counts(j, keys, vals, (int)(sizeof keys / sizeof keys[0]));
    if (!rc) rc = json_save_file(path, j);
    cJSON_Delete(j);
    return rc;
}

static int open_table(dtab_writer **w, const char *dir, const char *name, const dcol *cols, int ncols) {
    char path[4096];
    snprintf(path, sizeof path, "%s/%s%s", dir, name, dtab_default_ext());
    return dtab_writer_open(w, path, cols, ncols);
}

int imp_write(imp_state *s) {
    const char *out = s->o->out;
    dtab_writer *raw = NULL, *seq = NULL, *cap = NULL;
    recif_user u = {0};
    tag_counts tc = {mem_calloc((size_t)s->ntags + 1, sizeof(int32_t)), mem_calloc((size_t)s->ntags + 1, sizeof(int32_t))};
    int rc = tc.cnt && tc.touched ? 0 : ERR_FAIL;
    if (!rc) rc = file_mkdirs(out);
    if (!rc) rc = open_table(&raw, out, "onerec_bench_release", RAW_COLS, RAW_NCOLS);
    if (!rc) rc = open_table(&seq, out, "sequences", SEQ_COLS, 4);
    if (!rc) rc = open_table(&cap, out, "pid2caption", PID2CAPTION_COLS, 2);
    progress pg;
    progress_begin(&pg, "import: write", s->st->users, "users");
    for (int64_t a = 0, b; !rc && a < s->nev; a = b) {
        for (b = a; b < s->nev && s->ev[b].u == s->ev[a].u; b++) {}
        if (b - a > INT32_MAX / 2) rc = err_set("user %lld has more than 2^30 items", (long long)s->uid[s->ev[a].u]);
        if (!rc) rc = write_user(s, raw, seq, s->ev + a, (int)(b - a), &u, &tc);
        progress_add(&pg, 1);
    }
    progress_end(&pg);
    if (!rc) rc = write_captions(s, cap);
    if (!rc) {   // commit together: a failure above leaves none of them behind
        rc = dtab_writer_close(raw) | dtab_writer_close(seq) | dtab_writer_close(cap);
        raw = seq = cap = NULL;
    }
    if (s->o->max_history > 0)
        log_info("import: --max-history %d cut %lld training items", s->o->max_history, (long long)s->st->trimmed_history);
    if (s->st->ids_outside_baselines)
        log_warn("import: %lld item ids are outside [0, 2^30): `baseline recif` refuses them (the rest of the "
                 "pipeline takes them)", (long long)s->st->ids_outside_baselines);
    char path[4096];
    snprintf(path, sizeof path, "%s/import_stats.json", out);
    if (!rc) rc = write_stats(s, path);
    dtab_writer_abort(raw);
    dtab_writer_abort(seq);
    dtab_writer_abort(cap);
    recif_user_free(&u);
    free(tc.cnt);
    free(tc.touched);
    return rc ? ERR_FAIL : 0;
}
