#include "data/import.h"

#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "base/file.h"
#include "base/outdir.h"
#include "base/log.h"
#include "base/mem.h"
#include "data/import_int.h"
#include "data/logsrc.h"

// Ids travel through the row tables as JSON numbers (doubles): beyond 2^53 they would change.
#define MAX_EXACT_ID 9007199254740992LL

void import_options_default(import_options *o) {
    memset(o, 0, sizeof *o);
    o->user_col = "user_id";
    o->item_col = "item_id";
    o->time_col = "timestamp";
    o->item_id_col = "item_id";
    o->text_cols = "title,year,genres";
    o->min_rating = -INFINITY;
}

// Refuses an output that holds anything unless --force: an import never mixes with old files.
int import_check_out(const import_options *o) {
    if (!file_exists(o->out)) return 0;
    if (!file_is_dir(o->out)) return err_set("--out %s exists and is not a directory", o->out);
    if (o->force) return 0;
    DIR *d = opendir(o->out);
    if (!d) return err_errno("cannot read directory %s", o->out);
    struct dirent *e;
    int empty = 1;
    while (empty && (e = readdir(d)))
        if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..") && strcmp(e->d_name, OUTDIR_LOCK_NAME)) empty = 0;
    closedir(d);
    return empty ? 0 : err_set("--out %s exists and is not empty (--force writes into it, replacing files of the same names)", o->out);
}

// The dense index of id in ix, appending id to *ids when it is new.
static int intern(pid_index *ix, int64_t **ids, int64_t *n, int64_t *cap, int64_t id, int32_t *out) {
    int64_t k;
    int is_new;
    if (pid_index_put(ix, id, &k, &is_new)) return ERR_FAIL;
    if (is_new) {
        if (k >= INT32_MAX) return err_set("more than 2^31 distinct ids");
        if (k >= *cap) {
            int64_t nc = *cap ? *cap * 2 : 1024;
            int64_t *p = mem_realloc(*ids, sizeof *p * (size_t)nc);
            if (!p) return ERR_FAIL;
            *ids = p;
            *cap = nc;
        }
        (*ids)[k] = id;
        *n = k + 1;
    }
    *out = (int32_t)k;
    return 0;
}

static int push_event(imp_state *s, imp_event e) {
    if (s->nev == s->cap_ev) {
        int64_t nc = s->cap_ev ? s->cap_ev * 2 : 4096;
        imp_event *p = mem_realloc(s->ev, sizeof *p * (size_t)nc);
        if (!p) return ERR_FAIL;
        s->ev = p;
        s->cap_ev = nc;
    }
    s->ev[s->nev++] = e;
    return 0;
}

static int check_id(logsrc *src, int col, int64_t id) {
    if (id >= -MAX_EXACT_ID && id <= MAX_EXACT_ID) return 0;
    char w[48];
    return err_set("%s: %s, column %s: id %lld is beyond 2^53 (the RecIF tables hold ids as JSON numbers)",
                   src->path, logsrc_where(src, w, sizeof w), logsrc_col_name(src, col), (long long)id);
}

// One row of the log into an event (or into the min-rating count).
static int read_row(imp_state *s, logsrc *src, const int *col) {
    int64_t user, item, t;
    double r = 0;
    if (logsrc_get_i64(src, col[0], &user) || check_id(src, col[0], user) || logsrc_get_i64(src, col[1], &item) ||
        check_id(src, col[1], item) || logsrc_get_i64(src, col[2], &t) || (col[3] >= 0 && logsrc_get_f64(src, col[3], &r)))
        return ERR_FAIL;
    imp_event e = {.t = t, .r = (float)r, .ord = (uint32_t)s->st->rows_read};
    if (s->st->rows_read++ == UINT32_MAX) return err_set("%s: more than 2^32 rows", src->path);
    if (intern(&s->uix, &s->uid, &s->nu, &s->cap_u, user, &e.u) || intern(&s->iix, &s->iid, &s->ni, &s->cap_i, item, &e.i))
        return ERR_FAIL;
    if (col[3] >= 0 && r < s->o->min_rating) {
        s->st->dropped_min_rating++;
        return 0;
    }
    return push_event(s, e);
}

static int read_log(imp_state *s) {
    const import_options *o = s->o;
    logsrc src;
    if (logsrc_open(&src, o->interactions)) return ERR_FAIL;
    int col[4] = {-1, -1, -1, -1}, got = 0;
    int rc = logsrc_find(&src, o->user_col, "--user-col", &col[0]);
    if (!rc) rc = logsrc_find(&src, o->item_col, "--item-col", &col[1]);
    if (!rc) rc = logsrc_find(&src, o->time_col, "--time-col", &col[2]);
    if (!rc && o->rating_col) rc = logsrc_find(&src, o->rating_col, "--rating-col", &col[3]);
    progress pg;
    progress_begin(&pg, "import: read", 0, "rows");
    while (!rc && (got = logsrc_next(&src)) > 0) {
        rc = read_row(s, &src, col);
        progress_add(&pg, 1);
    }
    progress_end(&pg);
    if (!rc && got < 0) rc = ERR_FAIL;
    logsrc_close(&src);
    s->st->users_read = s->nu;
    s->st->items_read = s->ni;
    return rc;
}

static int cmp_pair(const void *a, const void *b) {
    const imp_event *x = a, *y = b;
    if (x->u != y->u) return x->u < y->u ? -1 : 1;
    if (x->i != y->i) return x->i < y->i ? -1 : 1;
    if (x->t != y->t) return x->t < y->t ? -1 : 1;
    return (x->ord > y->ord) - (x->ord < y->ord);
}

// Duplicate (user, item) pairs: the earliest stays (equal times: the first in the file).
static void drop_duplicates(imp_state *s) {
    qsort(s->ev, (size_t)s->nev, sizeof *s->ev, cmp_pair);
    int64_t w = 0;
    for (int64_t k = 0; k < s->nev; k++) {
        if (w > 0 && s->ev[w - 1].u == s->ev[k].u && s->ev[w - 1].i == s->ev[k].i) {
            s->st->dropped_duplicates++;
            continue;
        }
        s->ev[w++] = s->ev[k];
    }
    s->nev = w;
}

// Drops events marked with u = -1.
static void compact(imp_state *s) {
    int64_t w = 0;
    for (int64_t k = 0; k < s->nev; k++)
        if (s->ev[k].u >= 0) s->ev[w++] = s->ev[k];
    s->nev = w;
}

// The iterated K-core: users and items with < K interactions go, until none has fewer. Removals
// update the counts at once, so one pass may cascade; the fixed point (the K-core) is unique.
static int kcore(imp_state *s) {
    int K = s->o->kcore;
    if (K <= 1) return 0;
    int32_t *uc = mem_calloc((size_t)s->nu + 1, sizeof *uc), *ic = mem_calloc((size_t)s->ni + 1, sizeof *ic);
    if (!uc || !ic) {
        free(uc);
        free(ic);
        return ERR_FAIL;
    }
    for (int64_t k = 0; k < s->nev; k++) uc[s->ev[k].u]++, ic[s->ev[k].i]++;
    for (int64_t removed = 1; removed;) {
        removed = 0;
        for (int64_t k = 0; k < s->nev; k++) {
            imp_event *e = &s->ev[k];
            if (e->u < 0 || (uc[e->u] >= K && ic[e->i] >= K)) continue;
            uc[e->u]--, ic[e->i]--;
            e->u = -1;
            removed++;
        }
        s->st->kcore_rounds++;
        s->st->dropped_kcore += removed;
    }
    free(uc);
    free(ic);
    compact(s);
    return 0;
}

static const imp_state *g_sort;   // qsort has no context argument
static int cmp_order(const void *a, const void *b) {
    const imp_event *x = a, *y = b;
    int64_t ux = g_sort->uid[x->u], uy = g_sort->uid[y->u];
    if (ux != uy) return ux < uy ? -1 : 1;
    if (x->t != y->t) return x->t < y->t ? -1 : 1;
    int64_t ix = g_sort->iid[x->i], iy = g_sort->iid[y->i];
    return (ix > iy) - (ix < iy);
}

// The per-user order (user id, timestamp, item id), then users of < 3 items out; marks the
// items that are left.
static int order_and_trim(imp_state *s) {
    g_sort = s;
    qsort(s->ev, (size_t)s->nev, sizeof *s->ev, cmp_order);
    for (int64_t a = 0, b; a < s->nev; a = b) {
        for (b = a; b < s->nev && s->ev[b].u == s->ev[a].u; b++) {}
        if (b - a >= 3) continue;
        s->st->users_short++;
        s->st->dropped_short += b - a;
        for (int64_t k = a; k < b; k++) s->ev[k].u = -1;
    }
    compact(s);
    s->used = mem_calloc((size_t)s->ni + 1, 1);
    if (!s->used) return ERR_FAIL;
    for (int64_t k = 0; k < s->nev; k++) {
        if (!s->used[s->ev[k].i]) s->st->items++;
        s->used[s->ev[k].i] = 1;
        if (k == 0 || s->ev[k].u != s->ev[k - 1].u) s->st->users++;
    }
    s->st->interactions = s->nev;
    s->st->mean_length = s->st->users ? (double)s->nev / (double)s->st->users : 0;
    return 0;
}

static void log_rules(const imp_state *s) {
    const import_stats *st = s->st;
    const import_options *o = s->o;
    log_info("import: %lld rows read (%lld users, %lld items)", (long long)st->rows_read, (long long)st->users_read,
             (long long)st->items_read);
    if (s->has_rating && isfinite(o->min_rating))
        log_info("import: --min-rating %g dropped %lld rows", o->min_rating, (long long)st->dropped_min_rating);
    log_info("import: duplicate (user, item) pairs: %lld later rows dropped (the earliest kept)",
             (long long)st->dropped_duplicates);
    if (o->kcore > 1)
        log_info("import: %d-core dropped %lld rows in %lld passes", o->kcore, (long long)st->dropped_kcore,
                 (long long)st->kcore_rounds);
    log_info("import: %lld users with fewer than 3 items dropped (%lld rows)", (long long)st->users_short,
             (long long)st->dropped_short);
}

// Why nothing is left, rule by rule.
static int nothing_left(const imp_state *s) {
    const import_stats *st = s->st;
    return err_set("%s: nothing left to split: no user has 3 or more items after the filters (%lld rows read; "
                   "dropped: %lld below --min-rating, %lld duplicates, %lld by the K-core, %lld users left with "
                   "fewer than 3 items); leave-one-out needs a training, a validation and a test item per user",
                   s->o->interactions, (long long)st->rows_read, (long long)st->dropped_min_rating,
                   (long long)st->dropped_duplicates, (long long)st->dropped_kcore, (long long)st->users_short);
}

int import_run(const import_options *o, import_stats *st) {
    memset(st, 0, sizeof *st);
    imp_state s = {.o = o, .st = st, .has_rating = o->rating_col != NULL};
    int rc = import_check_out(o);
    if (!rc) rc = read_log(&s);
    if (!rc) {
        drop_duplicates(&s);
        rc = kcore(&s);
    }
    if (!rc) rc = order_and_trim(&s);
    if (!rc) log_rules(&s);
    if (!rc && st->users == 0) rc = nothing_left(&s);
    if (!rc) rc = imp_read_items(&s);
    if (!rc) rc = imp_write(&s);
    pid_index_free(&s.uix);
    pid_index_free(&s.iix);
    free(s.uid);
    free(s.iid);
    free(s.ev);
    free(s.used);
    imp_items_free(&s);
    return rc ? err_wrap("data import") : 0;
}
