#include "post/prompts.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "base/mem.h"
#include "base/rng.h"
#include "data/table.h"

void prompt_item_free(prompt_item *p) {
    chat_messages_free(&p->msgs);
    free(p->answer);
    memset(p, 0, sizeof *p);
}

void prompt_source_close(prompt_source *s) {
    if (s->reader) dtab_reader_close(s->reader);
    for (int64_t i = 0; i < s->nrows; i++) free(s->messages[i]), free(s->metadata[i]);
    free(s->messages), free(s->metadata), free(s->perm);
    free(s->path);
    memset(s, 0, sizeof *s);
}

static int reopen(prompt_source *s) {
    if (s->reader) dtab_reader_close(s->reader);
    s->reader = NULL;
    dtab_reader *r;
    if (dtab_reader_open(&r, s->path)) return ERR_FAIL;
    s->reader = r;
    return 0;
}

static const char *row_string(const cJSON *row, const char *col) {
    const cJSON *j = cJSON_GetObjectItemCaseSensitive(row, col);
    return cJSON_IsString(j) ? j->valuestring : NULL;
}

// Turns a row's messages and metadata into a prompt; returns 1 when usable, 0 when not, ERR_FAIL
// on allocation errors.
static int row_prompt(const char *messages, const char *metadata, prompt_item *out, const char *where) {
    if (!messages || !messages[0]) return 0;
    if (chat_messages_parse(&out->msgs, messages, where)) return 0;
    const char *answer = NULL;
    if (out->msgs.n > 0 && !strcmp(out->msgs.msgs[out->msgs.n - 1].role, "assistant")) {
        answer = out->msgs.msgs[out->msgs.n - 1].content;
        out->msgs.n--;   // the string stays owned by msgs
    }
    cJSON *mo = metadata ? cJSON_Parse(metadata) : NULL;
    const cJSON *ans = mo ? cJSON_GetObjectItemCaseSensitive(mo, "answer") : NULL;
    if (cJSON_IsString(ans)) answer = ans->valuestring;
    out->answer = mem_strdup(answer ? answer : "");
    cJSON_Delete(mo);
    if (!out->answer) return ERR_FAIL;
    if (out->msgs.n == 0) {
        prompt_item_free(out);
        return 0;
    }
    return 1;
}

static int next_streamed(prompt_source *s, prompt_item *out) {
    int wrapped = 0;
    for (;;) {
        cJSON *row = NULL;
        int got = dtab_reader_next(s->reader, &row);
        if (got < 0) return err_wrap("%s row %lld", s->path, (long long)s->row);
        if (got == 0) {
            if (wrapped || s->row == 0) return err_set("%s: no usable prompt (a messages column with user turns)", s->path);
            wrapped = 1;
            s->epoch++;
            s->row = 0;
            if (reopen(s)) return ERR_FAIL;
            continue;
        }
        char where[512];
        snprintf(where, sizeof where, "%s row %lld", s->path, (long long)s->row);
        int ok = row_prompt(row_string(row, "messages"), row_string(row, "metadata"), out, where);
        cJSON_Delete(row);
        out->row = s->row++;
        if (ok < 0) return ERR_FAIL;
        if (ok) return 0;
        s->skipped++;
    }
}

static void permute(prompt_source *s) {
    rng r;
    rng_seed_stream(&r, s->seed, (uint64_t)s->epoch);
    for (int64_t i = 0; i < s->nrows; i++) s->perm[i] = (uint32_t)i;
    rng_shuffle_u32(&r, s->perm, (size_t)s->nrows);
}

static int next_shuffled(prompt_source *s, prompt_item *out) {
    for (int64_t tries = 0; tries <= s->nrows; tries++) {
        if (s->row == s->nrows) {
            s->epoch++;
            s->row = 0;
            permute(s);
        }
        int64_t i = s->perm[s->row++];
        char where[512];
        snprintf(where, sizeof where, "%s row %lld", s->path, (long long)i);
        int ok = row_prompt(s->messages[i], s->metadata[i], out, where);
        out->row = i;
        if (ok < 0) return ERR_FAIL;
        if (ok) return 0;
        s->skipped++;
    }
    return err_set("%s: no usable prompt (a messages column with user turns)", s->path);
}

int prompt_source_next(prompt_source *s, prompt_item *out) {
    memset(out, 0, sizeof *out);
    return s->shuffled ? next_shuffled(s, out) : next_streamed(s, out);
}

// Reads every row's messages and metadata text (the shuffled order).
static int load_rows(prompt_source *s) {
    int64_t cap = 0;
    for (;;) {
        cJSON *row = NULL;
        int got = dtab_reader_next(s->reader, &row);
        if (got <= 0) {
            if (got < 0) return err_wrap("%s row %lld", s->path, (long long)s->nrows);
            break;
        }
        if (s->nrows == cap) {
            cap = cap ? cap * 2 : 1024;
            char **m = mem_realloc(s->messages, (size_t)cap * sizeof(char *));
            if (m) s->messages = m;
            char **d = m ? mem_realloc(s->metadata, (size_t)cap * sizeof(char *)) : NULL;
            if (d) s->metadata = d;
            if (!m || !d || cap > UINT32_MAX) {
                cJSON_Delete(row);
                return m && d ? err_set("%s: over 2^32 rows", s->path) : ERR_FAIL;
            }
        }
        const char *mj = row_string(row, "messages"), *md = row_string(row, "metadata");
        s->messages[s->nrows] = mj ? mem_strdup(mj) : NULL;
        s->metadata[s->nrows] = md ? mem_strdup(md) : NULL;
        s->nrows++;
        cJSON_Delete(row);
    }
    if (s->nrows == 0) return err_set("%s: no usable prompt (the table is empty)", s->path);
    s->perm = mem_alloc((size_t)s->nrows * sizeof(uint32_t));
    return s->perm ? 0 : ERR_FAIL;
}

static int open_shuffled(prompt_source *s, int64_t epoch, int64_t row) {
    if (load_rows(s)) return ERR_FAIL;
    dtab_reader_close(s->reader);
    s->reader = NULL;
    if (row > s->nrows) return err_set("%s: cannot resume at row %lld: the table is shorter", s->path, (long long)row);
    s->epoch = epoch;
    s->row = row;
    permute(s);
    return 0;
}

int prompt_source_open(prompt_source *s, const char *path, int64_t epoch, int64_t row, int shuffle, uint64_t seed) {
    memset(s, 0, sizeof *s);
    s->path = mem_strdup(path);
    s->shuffled = shuffle;
    s->seed = seed;
    if (!s->path || reopen(s) || (shuffle && open_shuffled(s, epoch, row))) {
        prompt_source_close(s);
        return ERR_FAIL;
    }
    if (shuffle) return 0;
    s->epoch = epoch;
    for (int64_t i = 0; i < row; i++) {
        cJSON *r = NULL;
        int got = dtab_reader_next(s->reader, &r);
        cJSON_Delete(r);
        if (got <= 0) {
            prompt_source_close(s);
            return got < 0 ? ERR_FAIL : err_set("%s: cannot resume at row %lld: the table is shorter", path, (long long)row);
        }
    }
    s->row = row;
    return 0;
}
