#include "serve/request.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/mem.h"
#include "rec/generate.h"

static int fail(sreq_error *e, int status, const char *field, const char *fmt, ...) __attribute__((format(printf, 4, 5)));
static int fail(sreq_error *e, int status, const char *field, const char *fmt, ...) {
    e->status = status;
    snprintf(e->field, sizeof e->field, "%s", field);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(e->msg, sizeof e->msg, fmt, ap);
    va_end(ap);
    return -1;
}

// A list of pids (integers) known to `table`; absent: empty. `need` > 0: at least one.
static int get_pids(const cJSON *o, const char *key, const pid2sid *table, int need, int64_t **out, int *n, sreq_error *e) {
    *out = NULL, *n = 0;
    const cJSON *a = cJSON_GetObjectItemCaseSensitive(o, key);
    if (!a || cJSON_IsNull(a)) return need ? fail(e, 400, key, "\"%s\" is required: a list of pids", key) : 0;
    if (!cJSON_IsArray(a)) return fail(e, 400, key, "\"%s\" must be a list of pids", key);
    int cnt = cJSON_GetArraySize(a), lim = need == 2 ? SREQ_MAX_ITEMS : SREQ_MAX_HISTORY;
    if (need && cnt == 0) return fail(e, 400, key, "\"%s\" is empty", key);
    if (cnt > lim) return fail(e, 400, key, "\"%s\" has %d pids, more than %d", key, cnt, lim);
    *out = mem_alloc((size_t)(cnt ? cnt : 1) * sizeof(int64_t));
    if (!*out) return fail(e, 500, "", "out of memory");
    const cJSON *v;
    cJSON_ArrayForEach(v, a) {
        double d = cJSON_IsNumber(v) ? v->valuedouble : NAN;
        if (!(d == floor(d)) || fabs(d) > 9e15) return fail(e, 400, key, "\"%s\"[%d] is not an integer pid", key, *n);
        int64_t pid = (int64_t)d;
        if (!table || !pid2sid_get(table, pid))
            return fail(e, 400, key, "\"%s\"[%d]: unknown pid %lld (not in the pid2sid table)", key, *n, (long long)pid);
        (*out)[(*n)++] = pid;
    }
    return 0;
}

// An optional number in [lo, hi] (integer when `integer`).
static int get_num(const cJSON *o, const char *key, double def, double lo, double hi, int integer, double *out, sreq_error *e) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    *out = def;
    if (!v) return 0;
    if (!cJSON_IsNumber(v) || (integer && v->valuedouble != floor(v->valuedouble)))
        return fail(e, 400, key, "\"%s\" must be %s", key, integer ? "an integer" : "a number");
    if (!(v->valuedouble >= lo && v->valuedouble <= hi))
        return fail(e, 400, key, "\"%s\" is %g, outside %g..%g", key, v->valuedouble, lo, hi);
    *out = v->valuedouble;
    return 0;
}

static int get_bool(const cJSON *o, const char *key, int def, int *out, sreq_error *e) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    *out = def;
    if (!v) return 0;
    if (!cJSON_IsBool(v)) return fail(e, 400, key, "\"%s\" must be true or false", key);
    *out = cJSON_IsTrue(v);
    return 0;
}

static int get_str(const cJSON *o, const char *key, char **out, sreq_error *e) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    *out = NULL;
    if (!v) return 0;
    if (!cJSON_IsString(v)) return fail(e, 400, key, "\"%s\" must be a string", key);
    *out = mem_strdup(v->valuestring);
    return *out ? 0 : fail(e, 500, "", "out of memory");
}

static int parse_rec(sreq *r, const cJSON *o, const rec_tables *t, sreq_error *e) {
    const cJSON *d = cJSON_GetObjectItemCaseSensitive(o, "domain");
    const char *dom = !d ? "video" : cJSON_IsString(d) ? d->valuestring : "";
    int di = rec_domain_index(dom);
    if (di < 0) return fail(e, 400, "domain", "\"domain\" must be \"video\", \"ad\" or \"product\"");
    if (di == 2 && !t->has_pm) return fail(e, 400, "domain", "domain \"product\" needs the server's --product-pid2sid");
    snprintf(r->domain, sizeof r->domain, "%s", dom);
    double k;
    if (get_pids(o, "history", &t->va, 1, &r->history, &r->nhistory, e)) return -1;
    if (di && get_pids(o, "others", di == 1 ? &t->va : &t->pm, 0, &r->others, &r->nothers, e)) return -1;
    if (get_num(o, "k", 10, 1, GEN_BEAM_MAX, 1, &k, e)) return -1;
    r->k = (int)k;
    if (get_bool(o, "exclude_history", 0, &r->exclude_history, e) || get_bool(o, "think", 0, &r->think, e)) return -1;
    if (r->think) return fail(e, 400, "think", "\"think\": true is not supported by the server yet");
    if (r->kind == SREQ_SCORE) return get_pids(o, "items", di == 2 ? &t->pm : &t->va, 2, &r->items, &r->nitems, e);
    return 0;
}

static int parse_gen(sreq *r, const cJSON *o, sreq_error *e) {
    const cJSON *chat = cJSON_GetObjectItemCaseSensitive(o, "chat");
    if (get_str(o, "prompt", &r->prompt, e) || get_str(o, "stop", &r->stop, e)) return -1;
    if (chat && !cJSON_IsArray(chat)) return fail(e, 400, "chat", "\"chat\" must be a list of {\"role\", \"content\"} messages");
    if (!r->prompt == !chat) return fail(e, 400, "prompt", "give exactly one of \"prompt\" and \"chat\"");
    if (r->prompt && !r->prompt[0]) return fail(e, 400, "prompt", "\"prompt\" is empty");
    if (chat && !(r->chat = cJSON_PrintUnformatted(chat))) return fail(e, 500, "", "out of memory");
    double mx, t, tk, tp, rp, seed;
    if (get_num(o, "max_new", 64, 0, SREQ_MAX_NEW, 1, &mx, e) || get_num(o, "temperature", 0, 0, 100, 0, &t, e) ||
        get_num(o, "top_k", 0, 0, 1e9, 1, &tk, e) || get_num(o, "top_p", 1, 0, 1, 0, &tp, e) ||
        get_num(o, "repetition_penalty", 1, 0.01, 100, 0, &rp, e) || get_num(o, "seed", 0, 0, 9e15, 1, &seed, e) ||
        get_bool(o, "think", 0, &r->think, e))
        return -1;
    r->max_new = (int)mx, r->temperature = (float)t, r->top_k = (int)tk, r->top_p = (float)tp;
    r->repetition_penalty = (float)rp, r->seed = (int64_t)seed;
    return 0;
}

int sreq_parse(sreq *r, sreq_kind kind, const char *body, size_t len, const rec_tables *t, sreq_error *e) {
    memset(r, 0, sizeof *r);
    r->kind = kind;
    cJSON *o = cJSON_ParseWithLength(body, len);
    int rc;
    if (!o) {
        const char *at = cJSON_GetErrorPtr();
        long off = at && at >= body && at <= body + len ? (long)(at - body) : 0;
        rc = fail(e, 400, "", "the body is not valid JSON (near byte %ld)", off);
    } else if (!cJSON_IsObject(o)) {
        rc = fail(e, 400, "", "the body must be a JSON object");
    } else {
        rc = kind == SREQ_GENERATE ? parse_gen(r, o, e) : parse_rec(r, o, t, e);
    }
    cJSON_Delete(o);
    if (rc) sreq_free(r);
    return rc;
}

void sreq_free(sreq *r) {
    free(r->history), free(r->others), free(r->items);
    free(r->prompt), free(r->stop);
    if (r->chat) cJSON_free(r->chat);
    memset(r, 0, sizeof *r);
}

rec_request sreq_rec_request(const sreq *r, int lang_en) {
    return (rec_request){.domain = r->domain, .videos = r->history, .nvideos = r->nhistory, .others = r->others,
                         .nothers = r->nothers, .k = r->k, .constrain = 1, .lang_en = lang_en,
                         .exclude_history = r->exclude_history};
}

char *sreq_error_json(const sreq_error *e) {
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "error", e->msg);
    cJSON_AddStringToObject(o, "field", e->field);
    char *s = cJSON_PrintUnformatted(o);
    cJSON_Delete(o);
    return s;
}
