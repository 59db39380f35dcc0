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

// A message's optional reasoning_content: absent/null is none; anything but a string is an error.
static int reasoning_text(const cJSON *v, const char *where, size_t index, char **out) {
    *out = NULL;
    if (!v || cJSON_IsNull(v)) return 0;
    if (!cJSON_IsString(v)) return err_set("%s: message %zu: reasoning_content must be a string", where, index);
    return (*out = mem_strdup(v->valuestring)) ? 0 : ERR_FAIL;
}

int chat_messages_from_json(chat_messages *out, const cJSON *list, const char *where, int reasoning) {
    memset(out, 0, sizeof *out);
    if (!cJSON_IsArray(list)) return err_set("%s: messages must be a JSON list", where);
    size_t n = (size_t)cJSON_GetArraySize(list);
    out->msgs = mem_calloc(n ? n : 1, sizeof(chat_msg));
    out->owned = mem_calloc(3 * n + 1, sizeof(char *));
    int rc = out->msgs && out->owned ? 0 : ERR_FAIL;
    const cJSON *m;
    size_t i = 0, k = 0;
    cJSON_ArrayForEach(m, list) {
        if (rc) break;
        const cJSON *role = cJSON_GetObjectItemCaseSensitive(m, "role");
        if (!cJSON_IsString(role)) {
            rc = err_set("%s: message %zu has no \"role\" string", where, i);
            break;
        }
        char *r = mem_strdup(role->valuestring), *c = content_text(cJSON_GetObjectItemCaseSensitive(m, "content"), where, (int)i);
        char *th = NULL;
        if (r) out->owned[k++] = r;
        if (c) out->owned[k++] = c;
        if (!r || !c || (reasoning && reasoning_text(cJSON_GetObjectItemCaseSensitive(m, "reasoning_content"), where, i, &th))) {
            rc = ERR_FAIL;
            break;
        }
        if (th) out->owned[k++] = th;
        out->msgs[i].role = r;
        out->msgs[i].content = c;
        out->msgs[i].reasoning = th;
        i++;
    }
    out->n = i;
    if (rc) chat_messages_free(out);
    return rc;
}

int chat_messages_parse(chat_messages *out, const char *json, const char *where) {
    memset(out, 0, sizeof *out);
    cJSON *j = json_parse_text(json, where);
    if (!j) return ERR_FAIL;
    int rc = chat_messages_from_json(out, j, where, 0);
    cJSON_Delete(j);
    return rc;
}

void chat_messages_free(chat_messages *m) {
    if (m->owned)
        for (size_t i = 0; m->owned[i]; i++) free(m->owned[i]);
    free(m->owned);
    free(m->msgs);
    memset(m, 0, sizeof *m);
}
