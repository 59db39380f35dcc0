#include "base/json.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "base/file.h"

cJSON *json_parse_text(const char *text, const char *where) {
    const char *end = NULL;
    cJSON *j = cJSON_ParseWithOpts(text, &end, 0);
    if (!j) {
        long off = end ? (long)(end - text) : -1;
        err_set("%s: invalid JSON near byte %ld", where, off);
    }
    return j;
}

cJSON *json_load_file(const char *path) {
    char *text;
    if (file_read_all(path, &text, NULL)) return NULL;
    cJSON *j = json_parse_text(text, path);
    free(text);
    return j;
}

int json_save_file(const char *path, const cJSON *j) {
    char *s = cJSON_Print(j);
    if (!s) return err_set("cannot serialise JSON for %s", path);
    size_t n = strlen(s);
    s[n] = '\n';   // cJSON_Print leaves room for its NUL; we write n+1 bytes ending in a newline
    int rc = file_write_atomic(path, s, n + 1);
    free(s);
    return rc;
}

static const cJSON *field(const cJSON *obj, const char *key, const char *where, int required) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    if (!v && required) err_set("%s: missing key \"%s\"", where, key);
    return v;
}

int json_get_int(const cJSON *obj, const char *key, int64_t *out, const char *where) {
    const cJSON *v = field(obj, key, where, 1);
    if (!v) return ERR_FAIL;
    if (!cJSON_IsNumber(v) || v->valuedouble != floor(v->valuedouble))
        return err_set("%s: key \"%s\" must be an integer", where, key);
    // beyond 2^53 a double no longer holds every integer, and beyond 2^63 the cast is undefined
    if (fabs(v->valuedouble) > 9007199254740992.0)
        return err_set("%s: key \"%s\" = %g is out of range", where, key, v->valuedouble);
    *out = (int64_t)v->valuedouble;
    return 0;
}

int json_get_double(const cJSON *obj, const char *key, double *out, const char *where) {
    const cJSON *v = field(obj, key, where, 1);
    if (!v) return ERR_FAIL;
    if (!cJSON_IsNumber(v)) return err_set("%s: key \"%s\" must be a number", where, key);
    *out = v->valuedouble;
    return 0;
}

int json_get_bool(const cJSON *obj, const char *key, int *out, const char *where) {
    const cJSON *v = field(obj, key, where, 1);
    if (!v) return ERR_FAIL;
    if (cJSON_IsBool(v))
        *out = cJSON_IsTrue(v);
    else if (cJSON_IsNumber(v) && (v->valuedouble == 0 || v->valuedouble == 1))
        *out = v->valuedouble != 0;   // the reference configs write 0/1 for flags such as cut_to_pad
    else
        return err_set("%s: key \"%s\" must be true/false", where, key);
    return 0;
}

const char *json_get_string(const cJSON *obj, const char *key, const char *where) {
    const cJSON *v = field(obj, key, where, 1);
    if (!v) return NULL;
    if (!cJSON_IsString(v)) {
        err_set("%s: key \"%s\" must be a string", where, key);
        return NULL;
    }
    return v->valuestring;
}

int json_opt_int(const cJSON *obj, const char *key, int64_t def, int64_t *out, const char *where) {
    if (!cJSON_GetObjectItemCaseSensitive(obj, key) || cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(obj, key))) {
        *out = def;
        return 0;
    }
    return json_get_int(obj, key, out, where);
}

int json_opt_double(const cJSON *obj, const char *key, double def, double *out, const char *where) {
    if (!cJSON_GetObjectItemCaseSensitive(obj, key) || cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(obj, key))) {
        *out = def;
        return 0;
    }
    return json_get_double(obj, key, out, where);
}

int json_opt_bool(const cJSON *obj, const char *key, int def, int *out, const char *where) {
    if (!cJSON_GetObjectItemCaseSensitive(obj, key) || cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(obj, key))) {
        *out = def;
        return 0;
    }
    return json_get_bool(obj, key, out, where);
}

int64_t json_utf8_bad_at(const char *s) {
    const unsigned char *p = (const unsigned char *)s;
    for (int64_t i = 0; p[i];) {
        unsigned c = p[i];
        int n = c < 0x80 ? 0 : (c >> 5) == 6 ? 1 : (c >> 4) == 14 ? 2 : (c >> 3) == 30 ? 3 : -1;
        if (n < 0) return i;
        uint32_t cp = n == 0 ? c : c & (0x3f >> n);
        for (int k = 1; k <= n; k++) {
            if ((p[i + k] & 0xc0) != 0x80) return i;
            cp = cp << 6 | (p[i + k] & 0x3f);
        }
        static const uint32_t least[4] = {0, 0x80, 0x800, 0x10000};
        if (cp < least[n] || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return i;
        i += n + 1;
    }
    return -1;
}
