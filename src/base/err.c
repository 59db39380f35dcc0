#include "base/err.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

static _Thread_local char g_msg[ERR_MSG_MAX];
static _Thread_local int g_usage;

static int set_msg(int usage, const char *fmt, va_list ap) {
    vsnprintf(g_msg, sizeof g_msg, fmt, ap);
    g_usage = usage;
    return usage ? ERR_USAGE : ERR_FAIL;
}

int err_set(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    int rc = set_msg(0, fmt, ap);
    va_end(ap);
    return rc;
}

int err_usage(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    int rc = set_msg(1, fmt, ap);
    va_end(ap);
    return rc;
}

int err_is_usage(void) { return g_usage; }

int err_wrap(const char *fmt, ...) {
    char prefix[ERR_MSG_MAX], old[ERR_MSG_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(prefix, sizeof prefix, fmt, ap);
    va_end(ap);
    memcpy(old, g_msg, sizeof old);
    snprintf(g_msg, sizeof g_msg, "%.400s: %.600s", prefix, old);
    return ERR_FAIL;
}

int err_errno(const char *fmt, ...) {
    int e = errno;
    char what[ERR_MSG_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    snprintf(g_msg, sizeof g_msg, "%.800s: %.200s", what, strerror(e));
    g_usage = 0;
    return ERR_FAIL;
}

void err_save(err_saved *s) {
    memcpy(s->msg, g_msg, sizeof s->msg);
    s->usage = g_usage;
}

void err_restore(const err_saved *s) {
    memcpy(g_msg, s->msg, sizeof g_msg);
    g_usage = s->usage;
}

const char *err_msg(void) { return g_msg[0] ? g_msg : "unknown error"; }

void err_clear(void) {
    g_msg[0] = 0;
    g_usage = 0;
}
