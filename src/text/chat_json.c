#include "text/chat_json.h"

#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "base/json.h"
#include "base/mem.h"

// The text of a content value: a string, or a list of {"type": "text", "text": ...} parts.
static char *content_text(const cJSON *v, const char *where, int index) {
    if (cJSON_IsString(v)) return mem_strdup(v->valuestring);
    if (!cJSON_IsArray(v)) {
        err_set("%s: message %d: content must be a string or a list of parts", where, index);
        return NULL;
    }
    size_t len = 0;
    const cJSON *p;
    cJSON_ArrayForEach(p, v) {
        const cJSON *t = cJSON_GetObjectItemCaseSensitive(p, "text");
        if (cJSON_IsString(t)) len += strlen(t->valuestring);
    }
    char *out = mem_alloc(len + 1), *w = out;
    if (!out) return NULL;
    cJSON_ArrayForEach(p, v) {
        const cJSON *ty = cJSON_GetObjectItemCaseSensitive(p, "type");
        const cJSON *t = cJSON_GetObjectItemCaseSensitive(p, "text");
        if (cJSON_IsString(ty) && strcmp(ty->valuestring, "text")) continue;   // images, videos
        if (!cJSON_IsString(t)) {
            free(out);
            err_set("%s: message %d: a text part has no \"text\" string", where, index);
            return NULL;
        }
        size_t n = strlen(t->valuestring);
        memcpy(w, t->valuestring, n);
        w += n;
    }
    *w = 0;
    return out;
}

int chat_messages_parse(chat_messages *out, const char *json, const char *where) {
    memset(out, 0, sizeof *out);
    cJSON *j = json_parse_text(json, where);
    if (!j) return ERR_FAIL;
    if (!cJSON_IsArray(j)) {
        cJSON_Delete(j);
        return err_set("%s: messages must be a JSON list", where);
    }
    size_t n = (size_t)cJSON_GetArraySize(j);
    out->msgs = mem_calloc(n ? n : 1, sizeof(chat_msg));
    out->owned = mem_calloc(2 * n + 1, sizeof(char *));
    int rc = out->msgs && out->owned ? 0 : ERR_FAIL;
    const cJSON *m;
    size_t i = 0, k = 0;
    cJSON_ArrayForEach(m, j) {
        if (rc) break;
        const cJSON *role = cJSON_GetObjectItemCaseSensitive(m, "role");
        if (!cJSON_IsString(role)) {
            rc = err_set("%s: message %zu has no \"role\" string", where, i);
            break;
        }
        char *r = mem_strdup(role->valuestring), *c = content_text(cJSON_GetObjectItemCaseSensitive(m, "content"), where, (int)i);
        if (r) out->owned[k++] = r;
        if (c) out->owned[k++] = c;
        if (!r || !c) {
            rc = ERR_FAIL;
            break;
        }
        out->msgs[i].role = r;
        out->msgs[i].content = c;
        i++;
    }
    out->n = i;
    cJSON_Delete(j);
    if (rc) chat_messages_free(out);
    return rc;
}

void chat_messages_free(chat_messages *m) {
    if (m->owned)
        for (size_t i = 0; m->owned[i]; i++) free(m->owned[i]);
    free(m->owned);
    free(m->msgs);
    memset(m, 0, sizeof *m);
}
