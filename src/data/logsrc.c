#include "data/logsrc.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "base/err.h"
#include "base/json.h"
#include "base/mem.h"

static int has_ext(const char *path, const char *ext) {
    size_t a = strlen(path), b = strlen(ext);
    return a > b && !strcasecmp(path + a - b, ext);
}

int logsrc_open(logsrc *s, const char *path) {
    memset(s, 0, sizeof *s);
    int rc;
    if (has_ext(path, ".csv") || has_ext(path, ".tsv"))
        rc = csv_reader_open(&s->csv, path, has_ext(path, ".tsv") ? '\t' : ',');
    else if (has_ext(path, ".jsonl") || has_ext(path, ".parquet")) {
        rc = dtab_reader_open(&s->tab, path);
        if (!rc && dtab_reader_ncols(s->tab) == 0) rc = err_set("%s is empty (no rows)", path);
    } else
        rc = err_set("%s: unknown file type (expected a .csv, .tsv, .jsonl or .parquet file)", path);
    if (!rc && !(s->path = mem_strdup(path))) rc = ERR_FAIL;
    if (rc) logsrc_close(s);
    return rc;
}

void logsrc_close(logsrc *s) {
    csv_reader_close(s->csv);
    dtab_reader_close(s->tab);
    cJSON_Delete(s->row);
    free(s->path);
    memset(s, 0, sizeof *s);
}

static int logsrc_ncols(const logsrc *s) { return s->csv ? csv_reader_ncols(s->csv) : dtab_reader_ncols(s->tab); }

const char *logsrc_col_name(const logsrc *s, int i) {
    return s->csv ? csv_reader_col_name(s->csv, i) : dtab_reader_col_name(s->tab, i);
}

int logsrc_find(const logsrc *s, const char *name, const char *flag, int *col) {
    int n = logsrc_ncols(s);
    for (int i = 0; i < n; i++)
        if (!strcmp(logsrc_col_name(s, i), name)) {
            *col = i;
            return 0;
        }
    char have[600] = "";
    for (int i = 0; i < n; i++) {
        size_t l = strlen(have);
        snprintf(have + l, sizeof have - l, "%s%s", i ? ", " : "", logsrc_col_name(s, i));
    }
    return err_set("%s has no column \"%s\" (%s); its columns are: %s", s->path, name, flag, have);
}

int logsrc_next(logsrc *s) {
    int got;
    if (s->csv) got = csv_reader_next(s->csv);
    else {
        cJSON_Delete(s->row);
        s->row = NULL;
        got = dtab_reader_next(s->tab, &s->row);
    }
    if (got > 0) s->rows++;
    if (got == 0 && s->rows == 0) return err_set("%s has no data rows", s->path);
    return got;
}

const char *logsrc_where(const logsrc *s, char *buf, int cap) {
    if (s->csv) snprintf(buf, (size_t)cap, "line %lld", (long long)csv_reader_line(s->csv));
    else snprintf(buf, (size_t)cap, "row %lld", (long long)dtab_reader_row_index(s->tab));
    return buf;
}

static const cJSON *cell(const logsrc *s, int col) {
    return cJSON_GetObjectItemCaseSensitive(s->row, dtab_reader_col_name(s->tab, col));
}

// "<file>: line 12, column user_id: "abc" is not an integer"
static int bad_value(const logsrc *s, int col, const char *value, int quote, const char *what) {
    char w[48];
    return err_set("%s: %s, column %s: %s%.80s%s %s", s->path, logsrc_where(s, w, sizeof w), logsrc_col_name(s, col),
                   quote ? "\"" : "", value, quote ? "\"" : "", what);
}

static int bad_cell(const logsrc *s, int col, const char *what) {
    const cJSON *v = cell(s, col);
    if (!v) return bad_value(s, col, "missing", 0, what);
    if (cJSON_IsString(v)) return bad_value(s, col, v->valuestring, 1, what);
    char *p = cJSON_PrintUnformatted(v);
    int rc = bad_value(s, col, p ? p : "?", 0, what);
    cJSON_free(p);
    return rc;
}

static const char *skip_space(const char *p) {
    while (*p == ' ' || *p == '\t') p++;
    return p;
}

static int parse_i64(const char *t, int64_t *v) {
    char *end;
    errno = 0;
    long long x = strtoll(skip_space(t), &end, 10);
    if (errno || end == skip_space(t) || *skip_space(end)) return ERR_FAIL;
    *v = x;
    return 0;
}

static int parse_f64(const char *t, double *v) {
    char *end;
    double x = strtod(skip_space(t), &end);
    if (end == skip_space(t) || *skip_space(end) || !isfinite(x)) return ERR_FAIL;
    *v = x;
    return 0;
}

int logsrc_get_i64(logsrc *s, int col, int64_t *v) {
    static const char *want = "is not an integer";
    if (s->csv) {
        const char *t = csv_reader_field(s->csv, col);
        return parse_i64(t, v) ? bad_value(s, col, t, 1, want) : 0;
    }
    const cJSON *c = cell(s, col);
    if (cJSON_IsString(c)) return parse_i64(c->valuestring, v) ? bad_cell(s, col, want) : 0;
    if (!cJSON_IsNumber(c) || c->valuedouble != floor(c->valuedouble)) return bad_cell(s, col, want);
    if (fabs(c->valuedouble) > 9007199254740992.0) return bad_cell(s, col, "is beyond 2^53 (not exact as a JSON number)");
    *v = (int64_t)c->valuedouble;
    return 0;
}

int logsrc_get_f64(logsrc *s, int col, double *v) {
    static const char *want = "is not a number";
    if (s->csv) {
        const char *t = csv_reader_field(s->csv, col);
        return parse_f64(t, v) ? bad_value(s, col, t, 1, want) : 0;
    }
    const cJSON *c = cell(s, col);
    if (cJSON_IsString(c)) return parse_f64(c->valuestring, v) ? bad_cell(s, col, want) : 0;
    if (!cJSON_IsNumber(c)) return bad_cell(s, col, want);
    *v = c->valuedouble;
    return 0;
}

static int check_utf8(const logsrc *s, int col, const char *t) {
    int64_t i = json_utf8_bad_at(t);
    if (i < 0) return 0;
    char w[48];
    return err_set("%s: %s, column %s: invalid UTF-8 at byte %lld of the value (convert the file to UTF-8)", s->path,
                   logsrc_where(s, w, sizeof w), logsrc_col_name(s, col), (long long)i);
}

int logsrc_get_text(logsrc *s, int col, const char **text) {
    if (s->csv) {
        *text = csv_reader_field(s->csv, col);
        return check_utf8(s, col, *text);
    }
    const cJSON *c = cell(s, col);
    if (!c || cJSON_IsNull(c)) *text = "";
    else if (cJSON_IsString(c)) *text = c->valuestring;
    else if (cJSON_IsBool(c)) *text = cJSON_IsTrue(c) ? "true" : "false";
    else if (cJSON_IsNumber(c)) {
        double x = c->valuedouble;
        if (x == floor(x) && fabs(x) < 1e18) snprintf(s->num, sizeof s->num, "%lld", (long long)x);
        else snprintf(s->num, sizeof s->num, "%g", x);
        *text = s->num;
    } else return bad_cell(s, col, "is not text (a list or an object)");
    return check_utf8(s, col, *text);
}
