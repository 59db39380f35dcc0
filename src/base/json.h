// JSON through cJSON, with errors that name the file and the key.
#pragma once
#include <cjson/cJSON.h>
#include <stdint.h>

cJSON *json_load_file(const char *path);                 // NULL + message (file, byte offset)
cJSON *json_parse_text(const char *text, const char *where);
int json_save_file(const char *path, const cJSON *j);    // pretty-printed, atomic
// Text bound for a UTF-8 column or a JSON string: the byte offset of the first invalid UTF-8
// sequence in s (overlong forms, surrogates and code points above U+10FFFF included), -1 if none.
int64_t json_utf8_bad_at(const char *s);

// Required fields: a missing or mistyped key is an error naming `where` and the key.
int json_get_int(const cJSON *obj, const char *key, int64_t *out, const char *where);
int json_get_double(const cJSON *obj, const char *key, double *out, const char *where);
int json_get_bool(const cJSON *obj, const char *key, int *out, const char *where);
const char *json_get_string(const cJSON *obj, const char *key, const char *where);
// Optional fields: the default when absent; a present key of the wrong type is still an error.
int json_opt_int(const cJSON *obj, const char *key, int64_t def, int64_t *out, const char *where);
int json_opt_double(const cJSON *obj, const char *key, double def, double *out, const char *where);
int json_opt_bool(const cJSON *obj, const char *key, int def, int *out, const char *where);
