#include "data/csv.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "base/mem.h"

struct csv_reader {
    FILE *fp;
    char *path;
    char delim;
    int64_t line;       // physical line of the next byte (1-based)
    int64_t rec_line;   // line where the current record starts
    char *buf;          // the record's fields, each NUL-terminated
    size_t len, cap;
    size_t *off;        // start of each field in buf
    int nf, cap_f;
    int ncols;
    char **names;
};

static int put_byte(csv_reader *r, char c) {
    if (r->len + 1 >= r->cap) {
        size_t nc = r->cap ? r->cap * 2 : 256;
        char *p = mem_realloc(r->buf, nc);
        if (!p) return ERR_FAIL;
        r->buf = p;
        r->cap = nc;
    }
    r->buf[r->len++] = c;
    return 0;
}

static int reserve_fields(csv_reader *r, int n) {
    if (n < r->cap_f) return 0;
    int nc = r->cap_f ? r->cap_f * 2 : 16;
    while (nc <= n) nc *= 2;
    size_t *p = mem_realloc(r->off, sizeof *p * (size_t)nc);
    if (!p) return ERR_FAIL;
    r->off = p;
    r->cap_f = nc;
    return 0;
}

// Closes the current field and opens the next one at the end of buf.
static int end_field(csv_reader *r) {
    if (put_byte(r, 0) || reserve_fields(r, r->nf + 1)) return ERR_FAIL;
    r->off[++r->nf] = r->len;
    return 0;
}

// Consumes the rest of a line end that began with c ('\r' may be followed by '\n').
static void end_line(csv_reader *r, int c) {
    if (c == '\r') {
        int d = getc_unlocked(r->fp);
        if (d != '\n' && d != EOF) ungetc(d, r->fp);
    }
    if (c != EOF) r->line++;
}

// The rest of a quoted field, after its opening quote; returns the byte after the closing quote.
static int read_quoted(csv_reader *r, int *after) {
    int64_t opened = r->line;
    for (;;) {
        int c = getc_unlocked(r->fp);
        if (c == EOF)
            return err_set("%s: line %lld: a quoted field opened on line %lld is never closed", r->path,
                           (long long)r->line, (long long)opened);
        if (c == '"') {
            int d = getc_unlocked(r->fp);
            if (d != '"') {
                *after = d;
                return 0;
            }
        } else if (c == '\n') r->line++;
        if (put_byte(r, (char)c)) return ERR_FAIL;
    }
}

// Reads one record into buf/off: 1, or 0 at the end of the file.
static int read_record(csv_reader *r) {
    int c;
    for (;;) {   // blank lines between records
        c = getc_unlocked(r->fp);
        if (c != '\n' && c != '\r') break;
        end_line(r, c);
    }
    if (c == EOF) return ferror(r->fp) ? err_errno("%s: read", r->path) : 0;
    r->rec_line = r->line;
    r->len = 0;
    r->nf = 0;
    if (reserve_fields(r, 1)) return ERR_FAIL;
    r->off[0] = 0;
    int fresh = 1;   // nothing read yet in this field: a quote here opens a quoted field
    for (;; c = getc_unlocked(r->fp)) {
        if (fresh && c == '"') {
            if (read_quoted(r, &c)) return ERR_FAIL;
            if (c != r->delim && c != '\n' && c != '\r' && c != EOF)
                return err_set("%s: line %lld: text after the closing quote of field %d (a quote inside a "
                               "quoted field is written \"\")", r->path, (long long)r->line, r->nf + 1);
        }
        fresh = 0;
        if (c == r->delim) {
            if (end_field(r)) return ERR_FAIL;
            fresh = 1;
        } else if (c == '\n' || c == '\r' || c == EOF) {
            if (c == EOF && ferror(r->fp)) return err_errno("%s: read", r->path);
            end_line(r, c);
            return end_field(r) ? ERR_FAIL : 1;
        } else if (put_byte(r, (char)c)) return ERR_FAIL;
    }
}

static void skip_bom(csv_reader *r) {
    int c = getc_unlocked(r->fp);
    if (c != 0xEF) {
        if (c != EOF) ungetc(c, r->fp);
        return;
    }
    int b = getc_unlocked(r->fp), d = getc_unlocked(r->fp);
    if (b != 0xBB || d != 0xBF) fseek(r->fp, 0, SEEK_SET);
}

int csv_reader_open(csv_reader **out, const char *path, char delim) {
    *out = NULL;
    csv_reader *r = mem_calloc(1, sizeof *r);
    if (!r) return ERR_FAIL;
    r->delim = delim;
    r->line = 1;
    r->path = mem_strdup(path);
    if (!r->path) goto fail;
    r->fp = fopen(path, "rb");
    if (!r->fp) {
        err_errno("cannot open %s", path);
        goto fail;
    }
    skip_bom(r);
    int got = read_record(r);
    if (got < 0) goto fail;
    if (got == 0) {
        err_set("%s is empty (no header line)", path);
        goto fail;
    }
    r->ncols = r->nf;
    r->names = mem_calloc((size_t)r->ncols, sizeof *r->names);
    if (!r->names) goto fail;
    for (int i = 0; i < r->ncols; i++)
        if (!(r->names[i] = mem_strdup(r->buf + r->off[i]))) goto fail;
    *out = r;
    return 0;
fail:
    csv_reader_close(r);
    return ERR_FAIL;
}

int csv_reader_ncols(const csv_reader *r) { return r->ncols; }
const char *csv_reader_col_name(const csv_reader *r, int i) { return r->names[i]; }
const char *csv_reader_field(const csv_reader *r, int i) { return r->buf + r->off[i]; }
int64_t csv_reader_line(const csv_reader *r) { return r->rec_line; }

int csv_reader_next(csv_reader *r) {
    int got = read_record(r);
    if (got <= 0) return got;
    if (r->nf != r->ncols)
        return err_set("%s: line %lld has %d fields, the header has %d", r->path, (long long)r->rec_line, r->nf,
                       r->ncols);
    return 1;
}

void csv_reader_close(csv_reader *r) {
    if (!r) return;
    if (r->fp) fclose(r->fp);
    for (int i = 0; r->names && i < r->ncols; i++) free(r->names[i]);
    free(r->names);
    free(r->buf);
    free(r->off);
    free(r->path);
    free(r);
}
