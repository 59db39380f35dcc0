// The current cursor row as a JSON line (for `onerec parquet cat` and the cross-checks in tests).
#include <math.h>
#include <string.h>

#include "base/err.h"
#include "formats/parquet.h"

static void put_str(FILE *fp, const char *s, size_t n) {
    fputc('"', fp);
    for (size_t i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)s[i];
        if (ch == '"' || ch == '\\') { fputc('\\', fp); fputc(ch, fp); }
        else if (ch == '\n') fputs("\\n", fp);
        else if (ch == '\t') fputs("\\t", fp);
        else if (ch == '\r') fputs("\\r", fp);
        else if (ch < 0x20) fprintf(fp, "\\u%04x", ch);
        else fputc(ch, fp);
    }
    fputc('"', fp);
}

static void put_double(FILE *fp, double d, int is_float) {
    if (!isfinite(d)) { fputs("null", fp); return; }
    fprintf(fp, is_float ? "%.9g" : "%.17g", d);
}

int parquet_cursor_print_json(parquet_cursor *c, FILE *fp) {
    // the reader is reachable only through the column indices; names come from the reader info
    fputc('{', fp);
    for (int i = 0; i < parquet_cursor_num_columns(c); i++) {
        const parquet_column_info *ci = parquet_cursor_column_info(c, i);
        if (i) fputs(", ", fp);
        put_str(fp, ci->name, strlen(ci->name));
        fputs(": ", fp);
        if (parquet_cursor_is_null(c, i)) { fputs("null", fp); continue; }
        if (!ci->is_list) {
            switch (ci->type) {
            case PQ_STRING: { const char *s; size_t n; if (parquet_cursor_get_string(c, i, &s, &n)) return ERR_FAIL; put_str(fp, s, n); break; }
            case PQ_FLOAT: case PQ_DOUBLE: { double d; if (parquet_cursor_get_double(c, i, &d)) return ERR_FAIL; put_double(fp, d, ci->type == PQ_FLOAT); break; }
            case PQ_BOOL: { int b; if (parquet_cursor_get_bool(c, i, &b)) return ERR_FAIL; fputs(b ? "true" : "false", fp); break; }
            default: { int64_t v; if (parquet_cursor_get_int64(c, i, &v)) return ERR_FAIL; fprintf(fp, "%lld", (long long)v); break; }
            }
            continue;
        }
        const uint8_t *nulls;
        size_t n;
        if (parquet_cursor_get_list_nulls(c, i, &nulls, &n)) return ERR_FAIL;
        fputc('[', fp);
        switch (ci->type) {
        case PQ_STRING: {
            const char *const *s; const size_t *l;
            if (parquet_cursor_get_list_string(c, i, &s, &l, &n)) return ERR_FAIL;
            for (size_t k = 0; k < n; k++) { if (k) fputs(", ", fp); if (nulls && nulls[k]) fputs("null", fp); else put_str(fp, s[k], l[k]); }
            break;
        }
        case PQ_FLOAT: case PQ_DOUBLE: {
            const double *v;
            if (parquet_cursor_get_list_double(c, i, &v, &n)) return ERR_FAIL;
            for (size_t k = 0; k < n; k++) { if (k) fputs(", ", fp); if (nulls && nulls[k]) fputs("null", fp); else put_double(fp, v[k], ci->type == PQ_FLOAT); }
            break;
        }
        case PQ_BOOL: {
            const uint8_t *v;
            if (parquet_cursor_get_list_bool(c, i, &v, &n)) return ERR_FAIL;
            for (size_t k = 0; k < n; k++) { if (k) fputs(", ", fp); fputs(nulls && nulls[k] ? "null" : v[k] ? "true" : "false", fp); }
            break;
        }
        default: {
            const int64_t *v;
            if (parquet_cursor_get_list_int64(c, i, &v, &n)) return ERR_FAIL;
            for (size_t k = 0; k < n; k++) { if (k) fputs(", ", fp); if (nulls && nulls[k]) fputs("null", fp); else fprintf(fp, "%lld", (long long)v[k]); }
            break;
        }
        }
        fputc(']', fp);
    }
    fputs("}\n", fp);
    return 0;
}
