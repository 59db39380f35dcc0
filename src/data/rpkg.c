// MovieLens and plain text out of R lazy-load databases (see rpkg.h).
#include "data/rpkg.h"

#include <ctype.h>
#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/err.h"
#include "base/file.h"
#include "base/log.h"
#include "base/mem.h"
#include "base/outdir.h"
#include "formats/parquet.h"

// ---------------------------------------------------------------------------------- the cache

// $ONEREC_DATA_CACHE, else data-cache/ in the working directory, else the repository's data-cache/
// beside build/ (the binary is build/onerec), so commands run from anywhere find setup.sh's cache.
static const char *rpkg_cache_dir(void) {
    static char found[4096];
    const char *env = getenv("ONEREC_DATA_CACHE");
    if (env && env[0]) return env;
    if (file_exists("data-cache") || found[0]) return found[0] ? found : "data-cache";
    char exe[4000];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (n > 0) {
        exe[n] = 0;
        char *slash = strrchr(exe, '/');
        if (slash) *slash = 0;
        snprintf(found, sizeof found, "%s/../data-cache", exe);
        if (file_exists(found)) return found;
        found[0] = 0;
    }
    return "data-cache";
}

// Where scripts/setup.sh's `dpkg -x` puts an R package's data: CACHE/r-cran-<lower>/usr/lib/R/...
static char *cache_prefix(const char *pkg) {
    char deb[128];
    size_t k = 0;
    for (; pkg[k] && k + 1 < sizeof deb; k++) deb[k] = (char)tolower((unsigned char)pkg[k]);
    deb[k] = 0;
    return mem_printf("%s/r-cran-%s/usr/lib/R/site-library/%s/data/Rdata", rpkg_cache_dir(), deb, pkg);
}

// A --db argument: a path prefix (X for X.rdx + X.rdb), or the name of an R package in the cache
// ("dslabs", "janeaustenr": its data/Rdata); a bare name is a path when NAME.rdx exists.
// *prefix is malloc'd.
static int rpkg_resolve_db(const char *db, char **prefix) {
    *prefix = NULL;
    char *rdx = mem_printf("%s.rdx", db);
    if (!rdx) return ERR_FAIL;
    int local = strchr(db, '/') || file_exists(rdx);
    free(rdx);
    *prefix = local ? mem_strdup(db) : cache_prefix(db);
    return *prefix ? 0 : ERR_FAIL;
}

int rpkg_open_db(rdata_db **out, const char *db) {
    *out = NULL;
    char *prefix, *rdx = NULL;
    if (rpkg_resolve_db(db, &prefix)) return ERR_FAIL;
    int rc = 0;
    if (!strchr(db, '/') && strcmp(prefix, db) && !file_exists((rdx = mem_printf("%s.rdx", prefix))))
        rc = err_set("R package \"%s\" is not in the data cache (no %s): run `bash scripts/setup.sh` from the repository "
                     "root to download it (or set ONEREC_DATA_CACHE to the cache, or pass --db PATH_PREFIX)",
                     db, rdx ? rdx : prefix);
    else rc = rdata_db_open(out, prefix);
    free(rdx);
    free(prefix);
    return rc;
}

static int read_object(const char *db, const char *name, robj **out) {
    rdata_db *d;
    if (rpkg_open_db(&d, db)) return ERR_FAIL;
    int rc = rdata_db_read(d, name, out);
    rdata_db_close(d);
    return rc;
}

// ---------------------------------------------------------------------------------- output dir

static int dir_is_empty(const char *path) {
    DIR *d = opendir(path);
    if (!d) return 0;
    struct dirent *e;
    int empty = 1;
    while (empty && (e = readdir(d))) empty = !strcmp(e->d_name, ".") || !strcmp(e->d_name, "..");
    closedir(d);
    return empty;
}

// The files are written into a sibling temporary dir, then moved in: a new or empty out dir is
// replaced by it in one rename; a non-empty one (--force) gets each file renamed into it.
static int out_begin(const char *dir, int force, char **tmp, int *merge) {
    *tmp = NULL;
    *merge = 0;
    if (file_exists(dir)) {
        if (!file_is_dir(dir)) return err_set("%s exists and is not a directory", dir);
        if (!dir_is_empty(dir)) {
            if (!force) return err_set("%s is not empty (--force replaces the files this command writes there and keeps the others)", dir);
            *merge = 1;
        }
    }
    outdir_clean_beside(dir);   // a killed run's DIR.tmp.PID
    if (!(*tmp = mem_printf("%s.tmp.%d", dir, (int)getpid()))) return ERR_FAIL;
    file_remove_tree(*tmp);
    return file_mkdirs(*tmp);
}

static int out_commit(const char *tmp, const char *dir, int merge, const char *const *files, int nfiles) {
    if (!merge) return rename(tmp, dir) ? err_errno("cannot rename %s to %s", tmp, dir) : 0;
    for (int k = 0; k < nfiles; k++) {
        char *a = path_join(tmp, files[k]), *b = path_join(dir, files[k]);
        int rc = !a || !b ? ERR_FAIL : rename(a, b) ? err_errno("cannot rename %s to %s", a, b) : 0;
        free(a);
        free(b);
        if (rc) return ERR_FAIL;
    }
    return rmdir(tmp) ? err_errno("cannot remove %s", tmp) : 0;
}

// ---------------------------------------------------------------------------------- movielens

typedef struct {
    const robj *movie, *title, *year, *genres, *user, *rating, *ts;
    int64_t n;
} ml_frame;

static int ml_bind(const robj *df, ml_frame *f) {
    if ((f->n = robj_df_nrow(df)) < 0) return ERR_FAIL;
    struct { const char *name; const robj **dst; int text; } cols[] = {
        {"movieId", &f->movie, 0}, {"title", &f->title, 1}, {"year", &f->year, 0}, {"genres", &f->genres, 1},
        {"userId", &f->user, 0},   {"rating", &f->rating, 0}, {"timestamp", &f->ts, 0},
    };
    for (size_t k = 0; k < sizeof cols / sizeof cols[0]; k++) {
        const robj *c = robj_df_column(df, cols[k].name);
        if (!c) return ERR_FAIL;
        int ok = cols[k].text ? c->type == RSXP_STR || robj_factor_levels(c)
                              : c->type == RSXP_INT || c->type == RSXP_REAL || c->type == RSXP_LGL;
        if (!ok) return err_set("column %s is %s, expected %s", cols[k].name, robj_type_name(c->type), cols[k].text ? "text" : "numbers");
        if (c->n != f->n) return err_set("column %s has %lld values for %lld rows", cols[k].name, (long long)c->n, (long long)f->n);
        *cols[k].dst = c;
    }
    return 0;
}

static int num_at(const robj *o, int64_t i, double *v) {
    if (o->type == RSXP_REAL) *v = o->d[i];
    else *v = o->i[i] == R_NA_INT ? NAN : o->i[i];
    return *v == *v ? 0 : ERR_FAIL;
}

// A required integer cell; the message names the row (1-based, as R counts).
static int req_int(const robj *c, const char *name, int64_t i, int64_t *v) {
    int na;
    if (robj_int_at(c, i, v, &na)) return err_wrap("row %lld, %s", (long long)i + 1, name);
    return na ? err_set("row %lld: %s is NA", (long long)i + 1, name) : 0;
}

static int cmp_pair(const void *a, const void *b) {
    const int64_t *x = a, *y = b;
    return x[0] != y[0] ? (x[0] < y[0] ? -1 : 1) : (x[1] > y[1]) - (x[1] < y[1]);
}

// The first row of movie id; pairs = (id, row) sorted, one per movie.
static int64_t movie_row(const int64_t *pairs, int64_t nm, int64_t id) {
    int64_t lo = 0, hi = nm - 1;
    while (lo <= hi) {
        int64_t mid = (lo + hi) / 2;
        if (pairs[2 * mid] == id) return pairs[2 * mid + 1];
        if (pairs[2 * mid] < id) lo = mid + 1;
        else hi = mid - 1;
    }
    return -1;
}

static int same_str(const char *a, const char *b) { return a == b || (a && b && !strcmp(a, b)); }

static int ml_interactions(const ml_frame *f, const char *path, int64_t *pairs, int64_t *users) {
    parquet_column_spec cols[] = {{"user_id", PQ_INT64, 0, 0}, {"item_id", PQ_INT64, 0, 0},
                                  {"timestamp", PQ_INT64, 0, 0}, {"rating", PQ_DOUBLE, 0, 0}};
    parquet_writer *w;
    if (parquet_writer_open(&w, path, cols, 4, NULL)) return ERR_FAIL;
    for (int64_t i = 0; i < f->n; i++) {
        int64_t u, m, t;
        double r;
        if (req_int(f->user, "userId", i, &u) || req_int(f->movie, "movieId", i, &m) || req_int(f->ts, "timestamp", i, &t))
            goto fail;
        if (num_at(f->rating, i, &r)) {
            err_set("row %lld: rating is NA", (long long)i + 1);
            goto fail;
        }
        if (parquet_writer_add_int64(w, 0, u) || parquet_writer_add_int64(w, 1, m) || parquet_writer_add_int64(w, 2, t) ||
            parquet_writer_add_double(w, 3, r) || parquet_writer_end_row(w))
            goto fail;
        pairs[2 * i] = m;
        pairs[2 * i + 1] = i;
        users[i] = u;
    }
    return parquet_writer_close(w);
fail:
    parquet_writer_abort(w);
    return ERR_FAIL;
}

static int add_opt_string(parquet_writer *w, int col, const char *s) {
    return s ? parquet_writer_add_string(w, col, s, strlen(s)) : parquet_writer_add_null(w, col);
}

// One row per movie (pairs: (id, first row), sorted by id); counts ratings that disagree with it.
static int ml_items(const ml_frame *f, const char *path, const int64_t *pairs, int64_t nm, int64_t *inconsistent) {
    parquet_column_spec cols[] = {{"item_id", PQ_INT64, 0, 0}, {"title", PQ_STRING, 0, 1},
                                  {"year", PQ_INT32, 0, 1}, {"genres", PQ_STRING, 0, 1}};
    parquet_writer *w;
    if (parquet_writer_open(&w, path, cols, 4, NULL)) return ERR_FAIL;
    for (int64_t k = 0; k < nm; k++) {
        int64_t i = pairs[2 * k + 1], y;
        const char *title, *genres;
        int na;
        if (robj_string_at(f->title, i, &title) || robj_string_at(f->genres, i, &genres) || robj_int_at(f->year, i, &y, &na)) {
            err_wrap("row %lld", (long long)i + 1);
            goto fail;
        }
        if (parquet_writer_add_int64(w, 0, pairs[2 * k]) || add_opt_string(w, 1, title) ||
            (na ? parquet_writer_add_null(w, 2) : parquet_writer_add_int64(w, 2, y)) || add_opt_string(w, 3, genres) ||
            parquet_writer_end_row(w))
            goto fail;
    }
    *inconsistent = 0;
    for (int64_t i = 0; i < f->n; i++) {
        int64_t m;
        int mna;
        robj_int_at(f->movie, i, &m, &mna);   // checked while writing interactions
        int64_t j = movie_row(pairs, nm, m);
        const char *a, *b, *c, *d;
        robj_string_at(f->title, i, &a);
        robj_string_at(f->title, j, &b);
        robj_string_at(f->genres, i, &c);
        robj_string_at(f->genres, j, &d);
        double y1, y2;
        int ya = num_at(f->year, i, &y1), yb = num_at(f->year, j, &y2);
        *inconsistent += !same_str(a, b) || !same_str(c, d) || ya != yb || (!ya && y1 != y2);
    }
    return parquet_writer_close(w);
fail:
    parquet_writer_abort(w);
    return ERR_FAIL;
}

static int64_t count_distinct_sorted(int64_t *v, int64_t n, int stride) {
    int64_t d = 0;
    for (int64_t k = 0; k < n; k++) d += k == 0 || v[k * stride] != v[(k - 1) * stride];
    return d;
}

static int cmp_i64(const void *a, const void *b) {
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

static int ml_write(const ml_frame *f, const char *tmp, movielens_stats *st) {
    int64_t *pairs = mem_alloc((size_t)(f->n ? f->n : 1) * 16), *users = mem_alloc((size_t)(f->n ? f->n : 1) * 8);
    char *pi = path_join(tmp, "interactions.parquet"), *pm = path_join(tmp, "items.parquet");
    int rc = ERR_FAIL;
    if (!pairs || !users || !pi || !pm || ml_interactions(f, pi, pairs, users)) goto done;
    qsort(pairs, (size_t)f->n, 16, cmp_pair);
    qsort(users, (size_t)f->n, 8, cmp_i64);
    int64_t nm = 0;   // keep each movie's first (lowest) row
    for (int64_t k = 0; k < f->n; k++)
        if (k == 0 || pairs[2 * k] != pairs[2 * (k - 1)]) {
            pairs[2 * nm] = pairs[2 * k];
            pairs[2 * nm + 1] = pairs[2 * k + 1];
            nm++;
        }
    st->ratings = f->n;
    st->users = count_distinct_sorted(users, f->n, 1);
    st->movies = nm;
    rc = ml_items(f, pm, pairs, nm, &st->inconsistent);
done:
    free(pairs);
    free(users);
    free(pi);
    free(pm);
    return rc;
}

int rpkg_export_movielens(const char *db, const char *out_dir, int force, movielens_stats *st) {
    memset(st, 0, sizeof *st);
    robj *df = NULL;
    ml_frame f;
    char *tmp;
    int merge;
    // the output first: a bad --out fails before minutes of reading, and a dead run's DIR.tmp.PID goes
    int rc = out_begin(out_dir, force, &tmp, &merge);
    if (!rc && read_object(db, "movielens", &df)) rc = ERR_FAIL;
    if (!rc && ml_bind(df, &f)) rc = err_wrap("%s: object movielens", db);
    if (!rc && ml_write(&f, tmp, st)) rc = err_wrap("%s: object movielens", db);
    static const char *const files[] = {"interactions.parquet", "items.parquet"};
    if (!rc) rc = out_commit(tmp, out_dir, merge, files, 2);
    if (rc && tmp) file_remove_tree(tmp);
    if (!rc && st->inconsistent)
        log_warn("movielens: %lld ratings carry a title/year/genres that differ from their movie's first rating "
                 "(items.parquet keeps the first)", (long long)st->inconsistent);
    free(tmp);
    robj_free(df);
    return rc;
}

// ---------------------------------------------------------------------------------- text

static int ends_with(const char *s, const char *suf) {
    size_t a = strlen(s), b = strlen(suf);
    return a >= b && !strcmp(s + a - b, suf);
}

static const robj *text_vector(const robj *o, const char *object, const char *column) {
    const robj *v = o;
    if (column) {
        if (robj_inherits(o, "data.frame")) v = robj_df_column(o, column);
        else if (!(v = robj_get(o, column))) err_set("object %s has no element \"%s\"", object, column);
        if (!v) return NULL;
    } else if (o->type == RSXP_VEC) {
        err_set("object %s is a %s: name the text column with --column", object,
                robj_inherits(o, "data.frame") ? "data frame" : "list");
        return NULL;
    }
    if (v->type != RSXP_STR && !robj_factor_levels(v)) {
        err_set("%s%s%s is %s, not text (character or factor)", object, column ? "$" : "", column ? column : "",
                robj_type_name(v->type));
        return NULL;
    }
    return v;
}

static int write_txt(const robj *v, const char *out, rtext_stats *st) {
    afile af;
    if (afile_open(&af, out)) return ERR_FAIL;
    for (int64_t i = 0; i < v->n; i++) {
        const char *s;
        if (robj_string_at(v, i, &s)) goto fail;
        st->na += !s;
        int broke = 0;
        for (const char *p = s ? s : ""; *p; p++) {
            int nl = *p == '\n' || *p == '\r';
            broke |= nl;
            putc(nl ? ' ' : *p, af.fp);
        }
        putc('\n', af.fp);
        st->newlines += broke;
        st->bytes += s ? (int64_t)strlen(s) : 0;
    }
    return afile_commit(&af);
fail:
    afile_abort(&af);
    return ERR_FAIL;
}

static int write_pq(const robj *v, const char *out, rtext_stats *st) {
    parquet_column_spec col = {"text", PQ_STRING, 0, 1};
    parquet_writer *w;
    if (parquet_writer_open(&w, out, &col, 1, NULL)) return ERR_FAIL;
    for (int64_t i = 0; i < v->n; i++) {
        const char *s;
        if (robj_string_at(v, i, &s) || add_opt_string(w, 0, s) || parquet_writer_end_row(w)) {
            parquet_writer_abort(w);
            return ERR_FAIL;
        }
        st->na += !s;
        st->bytes += s ? (int64_t)strlen(s) : 0;
    }
    return parquet_writer_close(w);
}

int rpkg_export_text(const char *db, const char *object, const char *column, const char *out, rtext_stats *st) {
    memset(st, 0, sizeof *st);
    robj *o;
    if (read_object(db, object, &o)) return ERR_FAIL;
    const robj *v = text_vector(o, object, column);
    int rc = !v ? ERR_FAIL : ends_with(out, ".parquet") ? write_pq(v, out, st) : write_txt(v, out, st);
    if (!rc) st->lines = v->n;
    else err_wrap("%s: %s", db, object);
    robj_free(o);
    return rc;
}
