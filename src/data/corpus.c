#include "data/corpus.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "base/file.h"
#include "base/mem.h"
#include "data/msg.h"
#include "data/table.h"

typedef struct {
    FILE *fp;
    int64_t chars;
} dump_ctx;

// Writes the "text" of every part/message of a Chat or Segments JSON value.
static void dump_json_texts(dump_ctx *d, const char *json) {
    cJSON *j = cJSON_Parse(json);
    const cJSON *x;
    cJSON_ArrayForEach(x, j) {
        const cJSON *content = cJSON_GetObjectItemCaseSensitive(x, "content");
        const cJSON *text = cJSON_GetObjectItemCaseSensitive(x, "text");
        if (cJSON_IsString(text)) d->chars += fprintf(d->fp, "%s\n", text->valuestring);
        if (cJSON_IsString(content)) d->chars += fprintf(d->fp, "%s\n", content->valuestring);
        const cJSON *part;
        if (cJSON_IsArray(content)) cJSON_ArrayForEach(part, content) {
                const cJSON *t = cJSON_GetObjectItemCaseSensitive(part, "text");
                if (cJSON_IsString(t)) d->chars += fprintf(d->fp, "%s\n", t->valuestring);
            }
    }
    cJSON_Delete(j);
}

static int dump_row(void *ctx, const cJSON *row) {
    dump_ctx *d = ctx;
    static const char *cols[] = {"messages", "segments"};
    for (int i = 0; i < 2; i++) {
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(row, cols[i]);
        if (cJSON_IsString(v) && v->valuestring[0]) dump_json_texts(d, v->valuestring);
    }
    return ferror(d->fp) ? err_set("write error") : 0;
}

int data_dump_text(const char *out_path, const char *const *tables, int n, int64_t *chars) {
    afile af;
    if (afile_open(&af, out_path)) return ERR_FAIL;
    dump_ctx d = {af.fp, 0};
    for (int i = 0; i < n; i++) {
        if (dtab_foreach(tables[i], NULL, 0, "training table", dump_row, &d)) {
            afile_abort(&af);
            return ERR_FAIL;
        }
    }
    if (chars) *chars = d.chars;
    return afile_commit(&af);
}

typedef struct {
    const corpus_seg_opts *o;
    corpus_seg_stats *st;
    dtab_writer *w[3];   // training segments, test segments, chat
} seg_ctx;

static uint64_t seg_hash(uint64_t seed, uint64_t i) {
    uint64_t z = seed * 0x9e3779b97f4a7c15ULL + i + 1;
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

static int seg_write(dtab_writer *w, const char *source, cJSON *row_or_null) {
    if (!row_or_null) return err_set("out of memory building a %s row", source);
    int rc = dtab_writer_row(w, row_or_null);
    cJSON_Delete(row_or_null);
    return rc;
}

// One chunk: held out, or trained as Segments (+ a continuation Chat row).
static int seg_emit(seg_ctx *c, const char *text, size_t n) {
    const corpus_seg_opts *o = c->o;
    int64_t i = c->st->chunks++;
    char uuid[64];
    int test = o->test_out && (double)(seg_hash(o->seed, (uint64_t)i) >> 11) / 9007199254740992.0 < o->test_frac;
    snprintf(uuid, sizeof uuid, "%s-%lld", test ? "text-test" : "text", (long long)i);
    c->st->chars += (int64_t)n;
    if (test) {
        c->st->test++;
        return seg_write(c->w[1], o->source, msg_row(uuid, o->source, NULL, NULL, msg_segments_text(text)));
    }
    c->st->train++;
    int rc = seg_write(c->w[0], o->source, msg_row(uuid, o->source, NULL, NULL, msg_segments_text(text)));
    if (rc || !c->w[2] || n <= (size_t)o->prompt_chars) return rc;
    size_t cut = (size_t)o->prompt_chars;
    while (cut < n && text[cut] != ' ' && text[cut] != '\n') cut++;
    if (cut >= n) return 0;
    char *prompt = mem_printf("Continue the text: %.*s", (int)cut, text);
    snprintf(uuid, sizeof uuid, "text-chat-%lld", (long long)i);
    char *msgs = prompt ? msg_chat(NULL, prompt, text + cut + 1) : NULL;
    free(prompt);
    c->st->chat++;
    return seg_write(c->w[2], o->source, msgs ? msg_row(uuid, o->source, NULL, msgs, NULL) : NULL);
}

static int seg_file(seg_ctx *c, const char *path, char **buf, size_t *len, size_t *cap) {
    FILE *f = fopen(path, "r");
    if (!f) return err_errno("cannot open %s", path);
    char *line = NULL;
    size_t lcap = 0;
    ssize_t n;
    int rc = 0;
    while (!rc && (n = getline(&line, &lcap, f)) >= 0) {
        c->st->lines++;
        while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r' || line[n - 1] == ' ')) line[--n] = 0;
        if (*len + (size_t)n + 2 > *cap) {
            size_t nc = (*cap ? *cap * 2 : 4096) + (size_t)n;
            char *nb = mem_realloc(*buf, nc);
            if (!nb) {
                rc = ERR_FAIL;
                break;
            }
            *buf = nb, *cap = nc;
        }
        if (n == 0) {   // a paragraph break
            if (*len && (*buf)[*len - 1] != '\n') (*buf)[(*len)++] = '\n';
        } else {
            if (*len && (*buf)[*len - 1] != '\n') (*buf)[(*len)++] = ' ';
            memcpy(*buf + *len, line, (size_t)n);
            *len += (size_t)n;
        }
        (*buf)[*len] = 0;
        if (*len >= (size_t)c->o->chars) {
            rc = seg_emit(c, *buf, *len);
            *len = 0;
        }
    }
    if (!rc && ferror(f)) rc = err_errno("cannot read %s", path);
    free(line);
    fclose(f);
    return rc;
}

int corpus_segments_run(const corpus_seg_opts *o, corpus_seg_stats *st) {
    memset(st, 0, sizeof *st);
    if (o->chars < 1 || o->prompt_chars < 1 || o->test_frac < 0 || o->test_frac >= 1)
        return err_set("segments: chars and prompt chars must be >= 1 and the test fraction in [0, 1)");
    seg_ctx c = {.o = o, .st = st};
    const char *paths[3] = {o->out, o->test_out, o->chat_out};
    int rc = 0;
    for (int i = 0; i < 3 && !rc; i++)
        if (paths[i]) rc = dtab_writer_open(&c.w[i], paths[i], MSG_COLS, 5);
    char *buf = NULL;
    size_t len = 0, cap = 0;
    for (int i = 0; i < o->ninputs && !rc; i++) {
        rc = seg_file(&c, o->inputs[i], &buf, &len, &cap);
        if (!rc && len > 0) rc = seg_emit(&c, buf, len);   // a file's tail is its own chunk
        len = 0;
    }
    free(buf);
    if (!rc && st->train == 0) rc = err_set("segments: no text in the %d input files", o->ninputs);
    if (!rc && o->test_out && st->test == 0) rc = err_set("segments: no chunk was held out (raise the test fraction)");
    for (int i = 0; i < 3; i++) {
        if (!c.w[i]) continue;
        if (rc) dtab_writer_abort(c.w[i]);
        else if (dtab_writer_close(c.w[i])) rc = ERR_FAIL;
    }
    return rc;
}
