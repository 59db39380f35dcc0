#include "data/table.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/err.h"
#include "base/file.h"
#include "base/mem.h"
#include "data/table_pq.h"

// "int64", "list<int32>", ...
static const char *dcol_type_name(dcol_type t) {
    switch (t) {
    case DCOL_I64: return "int64";
    case DCOL_I32: return "int32";
    case DCOL_F64: return "double";
    case DCOL_STR: return "string";
    case DCOL_LIST_I64: return "list<int64>";
    case DCOL_LIST_I32: return "list<int32>";
    case DCOL_LIST_F32: return "list<float>";
    }
    return "?";
}

int dtab_have_parquet(void) { return dtab_pq_available(); }
const char *dtab_default_ext(void) { return dtab_pq_available() ? ".parquet" : ".jsonl"; }

static int ends_with(const char *s, const char *suf) {
    size_t a = strlen(s), b = strlen(suf);
    return a >= b && !strcmp(s + a - b, suf);
}

static int is_parquet(const char *path, int *out) {
    if (ends_with(path, ".parquet")) *out = 1;
    else if (ends_with(path, ".jsonl")) *out = 0;
    else return err_set("%s: unknown table format (expected a .parquet or .jsonl file)", path);
    if (*out && !dtab_pq_available())
        return err_set("%s: Parquet support is not built into this onerec (use .jsonl)", path);
    return 0;
}

// A value matches a column type when a reader of that type could take it.
static int value_ok(const cJSON *v, dcol_type t) {
    switch (t) {
    case DCOL_I64:
    case DCOL_I32: return cJSON_IsNumber(v) && v->valuedouble == floor(v->valuedouble);
    case DCOL_F64: return cJSON_IsNumber(v);
    case DCOL_STR: return cJSON_IsString(v);
    case DCOL_LIST_I64:
    case DCOL_LIST_I32:
    case DCOL_LIST_F32: {
        if (!cJSON_IsArray(v)) return 0;
        for (const cJSON *e = v->child; e; e = e->next)
            if (!cJSON_IsNumber(e) || (t != DCOL_LIST_F32 && e->valuedouble != floor(e->valuedouble)))
                return 0;
        return 1;
    }
    }
    return 0;
}

// ---------------------------------------------------------------------------------------- writer
struct dtab_writer {
    int parquet;
    dcol *cols;
    int ncols;
    int64_t count;
    char *path;
    afile af;              // jsonl
    dtab_pq_writer *pq;    // parquet
};

int dtab_writer_open(dtab_writer **out, const char *path, const dcol *cols, int ncols) {
    *out = NULL;
    int pq;
    if (is_parquet(path, &pq)) return ERR_FAIL;
    dtab_writer *w = mem_calloc(1, sizeof *w);
    if (!w) return ERR_FAIL;
    w->parquet = pq;
    w->ncols = ncols;
    w->cols = mem_calloc((size_t)ncols, sizeof *w->cols);
    w->path = mem_strdup(path);
    if (!w->cols || !w->path) goto fail;
    for (int i = 0; i < ncols; i++) {
        w->cols[i] = cols[i];
        w->cols[i].name = mem_strdup(cols[i].name);
        if (!w->cols[i].name) goto fail;
    }
    if (pq) {
        if (dtab_pq_writer_open(&w->pq, path, w->cols, ncols)) goto fail;
    } else {
        if (afile_open(&w->af, path)) goto fail;
    }
    *out = w;
    return 0;
fail:
    dtab_writer_abort(w);
    return ERR_FAIL;
}

int dtab_writer_row(dtab_writer *w, const cJSON *row) {
    for (int i = 0; i < w->ncols; i++) {
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(row, w->cols[i].name);
        if (!v || cJSON_IsNull(v)) {
            if (w->cols[i].nullable) continue;
            return err_set("%s: row %lld: column \"%s\" is missing", w->path, (long long)w->count,
                           w->cols[i].name);
        }
        if (!value_ok(v, w->cols[i].type))
            return err_set("%s: row %lld: column \"%s\" is not a %s", w->path, (long long)w->count,
                           w->cols[i].name, dcol_type_name(w->cols[i].type));
    }
    if (w->parquet) {
        if (dtab_pq_writer_row(w->pq, row)) return err_wrap("%s", w->path);
    } else {
        char *s = cJSON_PrintUnformatted(row);
        if (!s) return err_set("%s: cannot print row %lld", w->path, (long long)w->count);
        int bad = fputs(s, w->af.fp) < 0 || fputc('\n', w->af.fp) == EOF;
        cJSON_free(s);
        if (bad) return err_errno("%s: write", w->path);
    }
    w->count++;
    return 0;
}

int64_t dtab_writer_count(const dtab_writer *w) { return w->count; }

static void writer_free(dtab_writer *w) {
    for (int i = 0; w->cols && i < w->ncols; i++) free((char *)w->cols[i].name);
    free(w->cols);
    free(w->path);
    free(w);
}

int dtab_writer_close(dtab_writer *w) {
    int rc = w->parquet ? dtab_pq_writer_close(w->pq) : afile_commit(&w->af);
    writer_free(w);
    return rc;
}

void dtab_writer_abort(dtab_writer *w) {
    if (!w) return;
    if (w->parquet) dtab_pq_writer_abort(w->pq);
    else afile_abort(&w->af);
    writer_free(w);
}

// ---------------------------------------------------------------------------------------- reader
struct dtab_reader {
    int parquet;
    char *path;
    FILE *fp;
    char *line;
    size_t line_cap;
    cJSON *first;          // jsonl: the first row, read at open to know the columns
    int64_t index;         // rows returned so far
    int ncols;
    char **names;
    int *types;
    dtab_pq_reader *pq;
};

static int infer_type(const cJSON *v) {
    if (cJSON_IsNumber(v)) return v->valuedouble == floor(v->valuedouble) ? DCOL_I64 : DCOL_F64;
    if (cJSON_IsString(v)) return DCOL_STR;
    if (cJSON_IsArray(v)) {
        int t = DCOL_LIST_I64;
        for (const cJSON *e = v->child; e; e = e->next) {
            if (!cJSON_IsNumber(e)) return -1;
            if (e->valuedouble != floor(e->valuedouble)) t = DCOL_LIST_F32;
        }
        return t;
    }
    return -1;
}

static int jsonl_next(dtab_reader *r, cJSON **row) {
    for (;;) {
        ssize_t n = getline(&r->line, &r->line_cap, r->fp);
        if (n < 0) {
            if (ferror(r->fp)) return err_errno("%s: read", r->path);
            return 0;
        }
        while (n > 0 && (r->line[n - 1] == '\n' || r->line[n - 1] == '\r')) r->line[--n] = 0;
        if (n == 0) continue;
        cJSON *j = cJSON_ParseWithLength(r->line, (size_t)n);
        if (!j || !cJSON_IsObject(j)) {
            cJSON_Delete(j);
            return err_set("%s: row %lld is not a JSON object", r->path, (long long)r->index);
        }
        *row = j;
        return 1;
    }
}

int dtab_reader_open(dtab_reader **out, const char *path) {
    *out = NULL;
    int pq;
    // a missing file is said as missing, whatever its name ends with
    if (access(path, F_OK)) return err_errno("%s: cannot open", path);
    if (is_parquet(path, &pq)) return ERR_FAIL;
    dtab_reader *r = mem_calloc(1, sizeof *r);
    if (!r) return ERR_FAIL;
    r->parquet = pq;
    r->path = mem_strdup(path);
    r->index = -1;
    if (pq) {
        if (dtab_pq_reader_open(&r->pq, path)) goto fail;
        r->ncols = dtab_pq_reader_ncols(r->pq);
        r->names = mem_calloc((size_t)r->ncols + 1, sizeof *r->names);
        r->types = mem_calloc((size_t)r->ncols + 1, sizeof *r->types);
        if (!r->names || !r->types) goto fail;
        for (int i = 0; i < r->ncols; i++) {
            r->names[i] = mem_strdup(dtab_pq_reader_col_name(r->pq, i));
            r->types[i] = dtab_pq_reader_col_type(r->pq, i);
        }
    } else {
        r->fp = fopen(path, "rb");
        if (!r->fp) {
            err_errno("cannot open %s", path);
            goto fail;
        }
        int got = jsonl_next(r, &r->first);
        if (got < 0) goto fail;
        if (got > 0) {
            int n = cJSON_GetArraySize(r->first);
            r->names = mem_calloc((size_t)n + 1, sizeof *r->names);
            r->types = mem_calloc((size_t)n + 1, sizeof *r->types);
            if (!r->names || !r->types) goto fail;
            for (const cJSON *c = r->first->child; c; c = c->next) {
                r->names[r->ncols] = mem_strdup(c->string);
                r->types[r->ncols++] = infer_type(c);
            }
        }
    }
    *out = r;
    return 0;
fail:
    dtab_reader_close(r);
    return ERR_FAIL;
}

int dtab_reader_ncols(const dtab_reader *r) { return r->ncols; }
const char *dtab_reader_col_name(const dtab_reader *r, int i) { return r->names[i]; }
int dtab_reader_col_type(const dtab_reader *r, int i) { return r->types[i]; }
int64_t dtab_reader_row_index(const dtab_reader *r) { return r->index; }

int dtab_reader_next(dtab_reader *r, cJSON **row) {
    *row = NULL;
    int got;
    if (r->parquet) got = dtab_pq_reader_next(r->pq, row);
    else if (r->first) {
        *row = r->first;
        r->first = NULL;
        got = 1;
    } else got = jsonl_next(r, row);
    if (got > 0) r->index++;
    return got;
}

void dtab_reader_close(dtab_reader *r) {
    if (!r) return;
    if (r->pq) dtab_pq_reader_close(r->pq);
    if (r->fp) fclose(r->fp);
    cJSON_Delete(r->first);
    for (int i = 0; r->names && i < r->ncols; i++) free(r->names[i]);
    free(r->names);
    free(r->types);
    free(r->line);
    free(r->path);
    free(r);
}

static int types_compatible(int have, dcol_type want) {
    if (have < 0) return 1;   // unknown (a null first value): checked per row
    if (have == (int)want) return 1;
    if ((have == DCOL_I32 || have == DCOL_I64) && (want == DCOL_I32 || want == DCOL_I64)) return 1;
    if ((have == DCOL_LIST_I32 || have == DCOL_LIST_I64) && (want == DCOL_LIST_I32 || want == DCOL_LIST_I64))
        return 1;
    if (have == DCOL_LIST_I64 && want == DCOL_LIST_F32) return 1;   // jsonl: whole-number floats
    return 0;
}

int dtab_reader_check(const dtab_reader *r, const dcol *want, int nwant, const char *what) {
    char missing[512] = "", mistyped[768] = "";
    for (int i = 0; i < nwant; i++) {
        int k = -1;
        for (int j = 0; j < r->ncols; j++)
            if (!strcmp(r->names[j], want[i].name)) k = j;
        if (k < 0) {
            if (want[i].nullable) continue;   // optional column
            size_t l = strlen(missing);
            snprintf(missing + l, sizeof missing - l, "%s%s", l ? ", " : "", want[i].name);
        } else if (!types_compatible(r->types[k], want[i].type)) {
            size_t l = strlen(mistyped);
            snprintf(mistyped + l, sizeof mistyped - l, "%s%s (%s, expected %s)", l ? ", " : "",
                     want[i].name, dcol_type_name((dcol_type)r->types[k]), dcol_type_name(want[i].type));
        }
    }
    if (!missing[0] && !mistyped[0]) return 0;
    return err_set("%s %s does not have the expected columns:%s%s%s%s", what, r->path,
                   missing[0] ? " missing: " : "", missing, mistyped[0] ? "; mistyped: " : "", mistyped);
}

int dtab_foreach(const char *path, const dcol *want, int nwant, const char *what,
                 int (*fn)(void *ctx, const cJSON *row), void *ctx) {
    dtab_reader *r;
    if (dtab_reader_open(&r, path)) return ERR_FAIL;
    int got = 0, rc = dtab_reader_check(r, want, nwant, what);
    cJSON *row;
    while (!rc && (got = dtab_reader_next(r, &row)) > 0) {
        rc = fn(ctx, row);
        cJSON_Delete(row);
        if (rc) err_wrap("%s: row %lld", path, (long long)dtab_reader_row_index(r));
    }
    if (!rc && got < 0) rc = ERR_FAIL;
    dtab_reader_close(r);
    return rc;
}

cJSON *dtab_int_array(const int64_t *v, int n) {
    cJSON *a = cJSON_CreateArray();
    for (int i = 0; a && i < n; i++) cJSON_AddItemToArray(a, cJSON_CreateNumber((double)v[i]));
    return a;
}

int dtab_get_int_array(const cJSON *row, const char *col, int64_t **v, int *n) {
    *v = NULL;
    *n = 0;
    const cJSON *a = cJSON_GetObjectItemCaseSensitive(row, col);
    if (!cJSON_IsArray(a)) return err_set("column \"%s\" is not a list", col);
    int m = cJSON_GetArraySize(a);
    int64_t *out = mem_alloc(sizeof *out * (size_t)(m ? m : 1));
    if (!out) return ERR_FAIL;
    int i = 0;
    for (const cJSON *e = a->child; e; e = e->next) {
        if (!cJSON_IsNumber(e) || e->valuedouble != floor(e->valuedouble)) {
            free(out);
            return err_set("column \"%s\" element %d is not an integer", col, i);
        }
        out[i++] = (int64_t)e->valuedouble;
    }
    *v = out;
    *n = m;
    return 0;
}
