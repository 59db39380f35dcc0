// Error reporting: the library never exits or prints on its own. A failing function returns a
// negative status (ERR_FAIL) and leaves a message in a thread-local buffer that the caller
// (ultimately src/cli) reads with err_msg(). Messages say what, where and what to do.
#pragma once
#include <stdarg.h>

#define ERR_FAIL (-1)
#define ERR_MSG_MAX 1024

// Sets the message; always returns ERR_FAIL so callers can `return err_set(...)`.
int err_set(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
// Prefixes context to the current message ("reading x.parquet: " + old); returns ERR_FAIL.
int err_wrap(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
// Sets the message from errno: "<what>: strerror(errno)"; returns ERR_FAIL.
int err_errno(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
const char *err_msg(void);
void err_clear(void);
