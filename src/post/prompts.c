#include "post/prompts.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "base/mem.h"
#include "data/table.h"

void prompt_item_free(prompt_item *p) {
    chat_messages_free(&p->msgs);
    free(p->answer);
    memset(p, 0, sizeof *p);
}

void prompt_source_close(prompt_source *s) {
    if (s->reader) dtab_reader_close(s->reader);
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

// Turns a row into a prompt; returns 1 when usable, 0 when not, ERR_FAIL on allocation errors.
static int row_prompt(const cJSON *row, prompt_item *out, const char *where) {
    const cJSON *mj = cJSON_GetObjectItemCaseSensitive(row, "messages");
    if (!cJSON_IsString(mj) || !mj->valuestring[0]) return 0;
    if (chat_messages_parse(&out->msgs, mj->valuestring, where)) return 0;
    const char *answer = NULL;
    if (out->msgs.n > 0 && !strcmp(out->msgs.msgs[out->msgs.n - 1].role, "assistant")) {
        answer = out->msgs.msgs[out->msgs.n - 1].content;
        out->msgs.n--;   // the string stays owned by msgs
    }
    const cJSON *meta = cJSON_GetObjectItemCaseSensitive(row, "metadata");
    cJSON *mo = cJSON_IsString(meta) ? cJSON_Parse(meta->valuestring) : NULL;
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

int prompt_source_next(prompt_source *s, prompt_item *out) {
    memset(out, 0, sizeof *out);
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
        int ok = row_prompt(row, out, where);
        cJSON_Delete(row);
        out->row = s->row++;
        if (ok < 0) return ERR_FAIL;
        if (ok) return 0;
        s->skipped++;
    }
}

int prompt_source_open(prompt_source *s, const char *path, int64_t epoch, int64_t row) {
    memset(s, 0, sizeof *s);
    s->path = mem_strdup(path);
    if (!s->path || reopen(s)) {
        prompt_source_close(s);
        return ERR_FAIL;
    }
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
