#include "base/err.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

static _Thread_local char g_msg[ERR_MSG_MAX];

int err_set(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(g_msg, sizeof g_msg, fmt, ap);
    va_end(ap);
    return ERR_FAIL;
}

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
    return ERR_FAIL;
}

const char *err_msg(void) { return g_msg[0] ? g_msg : "unknown error"; }

void err_clear(void) { g_msg[0] = 0; }
