#include "train/source.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "base/json.h"
#include "base/mem.h"
#include "data/table.h"
#include "text/chat.h"

typedef struct {
    int file;                 // -1: empty slot
    int64_t n;
    cJSON **rows;             // [n] the file's rows ({column: value})
    unsigned long long used;  // LRU clock
} file_cache;

struct train_data {
    train_data_config cfg;
    int32_t eot;
    file_cache cache[2];
    unsigned long long clock;
    int64_t *nrows;           // per file, -1 until known
    char **names;             // source names in order of first sight
    int nnames;
    tok_buf tb;
};

static void cache_clear(file_cache *c) {
    for (int64_t i = 0; i < c->n; i++) cJSON_Delete(c->rows[i]);
    free(c->rows);
    memset(c, 0, sizeof *c);
    c->file = -1;
}

int train_data_open(train_data **out, const train_data_config *c) {
    train_data *d = mem_calloc(1, sizeof *d);
    if (!d) return ERR_FAIL;
    d->cfg = *c;
    d->cache[0].file = d->cache[1].file = -1;
    d->nrows = mem_alloc(sizeof(int64_t) * (size_t)(c->nfiles > 0 ? c->nfiles : 1));
    if (!d->nrows) {
        free(d);
        return ERR_FAIL;
    }
    for (int i = 0; i < c->nfiles; i++) d->nrows[i] = -1;
    d->eot = tokenizer_token_to_id(c->tok, "<|endoftext|>");
    if (d->eot < 0) {
        train_data_close(d);
        return err_set("the tokenizer has no <|endoftext|> token (needed to end and pad samples)");
    }
    *out = d;
    return 0;
}

void train_data_close(train_data *d) {
    if (!d) return;
    cache_clear(&d->cache[0]);
    cache_clear(&d->cache[1]);
    for (int i = 0; i < d->nnames; i++) free(d->names[i]);
    free(d->names);
    free(d->nrows);
    tok_buf_free(&d->tb);
    free(d);
}

int train_data_num_sources(const train_data *d) { return d->nnames; }
const char *train_data_source_name(const train_data *d, int i) { return i >= 0 && i < d->nnames ? d->names[i] : "?"; }
int32_t train_data_pad_id(const train_data *d) { return d->eot; }

static int source_index(train_data *d, const char *name) {
    for (int i = 0; i < d->nnames; i++)
        if (!strcmp(d->names[i], name)) return i;
    if (d->nnames >= 32767) return err_set("more than 32767 distinct sources");
    char **n = mem_realloc(d->names, sizeof(char *) * (size_t)(d->nnames + 1));
    if (!n) return ERR_FAIL;
    d->names = n;
    if (!(n[d->nnames] = mem_strdup(name))) return ERR_FAIL;
    return d->nnames++;
}

// Reads a whole file through the data layer's row tables (.parquet or .jsonl).
static int load_file(train_data *d, int f, file_cache *c) {
    const char *path = d->cfg.files[f];
    cache_clear(c);
    dtab_reader *r = NULL;
    if (dtab_reader_open(&r, path)) return err_wrap("training data");
    int64_t cap = 0;
    int got;
    cJSON *row;
    while ((got = dtab_reader_next(r, &row)) == 1) {
        if (c->n == cap) {
            cap = cap ? 2 * cap : 1024;
            cJSON **rows = mem_realloc(c->rows, sizeof(cJSON *) * (size_t)cap);
            if (!rows) {
                cJSON_Delete(row);
                got = ERR_FAIL;
                break;
            }
            c->rows = rows;
        }
        c->rows[c->n++] = row;
    }
    dtab_reader_close(r);
    if (got < 0) {
        cache_clear(c);
        return err_wrap("reading %s", path);
    }
    c->file = f;
    d->nrows[f] = c->n;
    return 0;
}

static file_cache *cached(train_data *d, int f) {
    file_cache *c = d->cache[0].file == f ? &d->cache[0] : d->cache[1].file == f ? &d->cache[1] : NULL;
    if (!c) {
        c = d->cache[0].used <= d->cache[1].used ? &d->cache[0] : &d->cache[1];
        if (load_file(d, f, c)) return NULL;
    }
    c->used = ++d->clock;
    return c;
}

static int t_file_rows(void *ctx, int f, int64_t *n) {
    train_data *d = ctx;
    if (d->nrows[f] < 0 && !cached(d, f)) return ERR_FAIL;
    *n = d->nrows[f];
    return 0;
}

static const char *str_col(const cJSON *row, const char *key) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(row, key);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

static int t_fetch(void *ctx, int f, int64_t row, train_sample *out) {
    train_data *d = ctx;
    file_cache *c = cached(d, f);
    if (!c) return ERR_FAIL;
    if (row < 0 || row >= c->n) return err_set("training data %s: row %lld out of range (%lld rows)", d->cfg.files[f], (long long)row, (long long)c->n);
    char where[600];
    snprintf(where, sizeof where, "%s row %lld", d->cfg.files[f], (long long)row);
    const cJSON *r = c->rows[row];
    return train_data_tokenize(d, str_col(r, "source"), str_col(r, "messages"), str_col(r, "segments"), out, where);
}

train_source train_data_source(train_data *d) { return (train_source){d, t_file_rows, t_fetch}; }

// The text of a content value: a string, or a list of {"type": "text", "text": ...} parts.
static int content_text(const cJSON *v, char **out, const char *where) {
    if (cJSON_IsString(v)) return (*out = mem_strdup(v->valuestring)) ? 0 : ERR_FAIL;
    if (!cJSON_IsArray(v)) return err_set("%s: content must be a string or a list of parts", where);
    size_t len = 0, cap = 64;
    char *s = mem_alloc(cap);
    if (!s) return ERR_FAIL;
    s[0] = 0;
    const cJSON *p;
    cJSON_ArrayForEach(p, v) {
        const cJSON *t = cJSON_GetObjectItemCaseSensitive(p, "text");
        const cJSON *ty = cJSON_GetObjectItemCaseSensitive(p, "type");
        if (cJSON_IsString(ty) && strcmp(ty->valuestring, "text")) continue;   // images, videos
        if (!cJSON_IsString(t)) {
            free(s);
            return err_set("%s: a text part has no \"text\" string", where);
        }
        size_t n = strlen(t->valuestring);
        if (len + n + 1 > cap) {
            while (len + n + 1 > cap) cap *= 2;
            char *s2 = mem_realloc(s, cap);
            if (!s2) {
                free(s);
                return ERR_FAIL;
            }
            s = s2;
        }
        memcpy(s + len, t->valuestring, n + 1);
        len += n;
    }
    *out = s;
    return 0;
}

static int nonempty_json_list(const char *s) {
    if (!s) return 0;
    while (*s == ' ' || *s == '\n' || *s == '\t' || *s == '\r') s++;
    if (!*s || !strcmp(s, "null")) return 0;
    if (*s == '[') {
        s++;
        while (*s == ' ' || *s == '\n' || *s == '\t' || *s == '\r') s++;
        return *s != ']';
    }
    return 1;
}

static int tokenize_chat(train_data *d, const char *messages, train_sample *out, const char *where) {
    cJSON *j = json_parse_text(messages, where);
    if (!j) return err_wrap("messages");
    int rc = ERR_FAIL, n = cJSON_GetArraySize(j);
    chat_msg *msgs = mem_calloc((size_t)(n > 0 ? n : 1), sizeof(chat_msg));
    char **texts = mem_calloc((size_t)(n > 0 ? n : 1), sizeof(char *));
    chat_encoded enc = {0};
    if (!msgs || !texts) goto done;
    if (!cJSON_IsArray(j)) {
        err_set("%s: messages must be a JSON list", where);
        goto done;
    }
    int i = 0;
    const cJSON *m;
    cJSON_ArrayForEach(m, j) {
        const cJSON *role = cJSON_GetObjectItemCaseSensitive(m, "role");
        if (!cJSON_IsString(role)) {
            err_set("%s: message %d has no \"role\" string", where, i);
            goto done;
        }
        if (content_text(cJSON_GetObjectItemCaseSensitive(m, "content"), &texts[i], where)) goto done;
        msgs[i].role = role->valuestring;
        msgs[i].content = texts[i];
        i++;
    }
    chat_opts o = {0, -1, d->cfg.add_think_pattern, NULL};
    if (chat_encode(d->cfg.tok, msgs, (size_t)n, &o, &enc)) {
        err_wrap("%s", where);
        goto done;
    }
    if (train_sample_reserve(out, (int)enc.n + 1)) goto done;
    for (size_t k = 0; k < enc.n; k++) {
        out->ids[k] = enc.ids[k];
        out->mask[k] = d->cfg.only_assistant_loss ? enc.mask[k] != 0 : 1;
    }
    out->ids[enc.n] = d->eot;
    out->mask[enc.n] = !d->cfg.only_assistant_loss;
    out->n = (int)enc.n + 1;
    rc = 0;
done:
    chat_encoded_free(&enc);
    for (int k = 0; k < n && texts; k++) free(texts[k]);
    free(texts);
    free(msgs);
    cJSON_Delete(j);
    return rc;
}

static int tokenize_segments(train_data *d, const char *segments, train_sample *out, const char *where) {
    cJSON *j = json_parse_text(segments, where);
    if (!j) return err_wrap("segments");
    char *text = NULL;
    int rc = content_text(j, &text, where);
    cJSON_Delete(j);
    if (rc) return ERR_FAIL;
    d->tb.n = 0;
    rc = tokenizer_encode(d->cfg.tok, text, strlen(text), &d->tb);
    free(text);
    if (rc) return err_wrap("%s", where);
    if (train_sample_reserve(out, (int)d->tb.n + 1)) return ERR_FAIL;
    for (size_t k = 0; k < d->tb.n; k++) {
        out->ids[k] = d->tb.ids[k];
        out->mask[k] = 1;
    }
    out->ids[d->tb.n] = d->eot;
    out->mask[d->tb.n] = 1;
    out->n = (int)d->tb.n + 1;
    return 0;
}

int train_data_tokenize(train_data *d, const char *source, const char *messages, const char *segments,
                        train_sample *out, const char *where) {
    int s = source_index(d, source && *source ? source : "unknown");
    if (s < 0) return ERR_FAIL;
    out->n = 0;
    out->source = s;
    if (nonempty_json_list(messages)) return tokenize_chat(d, messages, out, where);
    if (nonempty_json_list(segments)) return tokenize_segments(d, segments, out, where);
    return 0;   // nothing to train on: the loader counts it as skipped
}
