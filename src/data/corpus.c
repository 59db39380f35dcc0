#include "data/corpus.h"

#include <stdio.h>
#include <string.h>

#include "base/err.h"
#include "base/file.h"
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
