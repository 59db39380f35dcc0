// Error reporting: the library never exits or prints on its own. A failing function returns a
// negative status (ERR_FAIL) and leaves a message in a thread-local buffer that the caller
// (ultimately src/cli) reads with err_msg(). Messages say what, where and what to do.
#pragma once
#include <stdarg.h>

#define ERR_FAIL (-1)
// A flag's value outside its range or choices: the caller's fault, not the input's. Callers pass it
// on as any negative status; the mark stays with the message (err_wrap keeps it, err_set and
// err_errno clear it), so src/cli can exit 2 for it however deep it was set.
#define ERR_USAGE (-2)
#define ERR_MSG_MAX 1024

// Sets the message; always returns ERR_FAIL so callers can `return err_set(...)`.
int err_set(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
// Prefixes context to the current message ("reading x.parquet: " + old); returns ERR_FAIL.
int err_wrap(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
// Sets the message from errno: "<what>: strerror(errno)"; returns ERR_FAIL.
int err_errno(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
// Sets the message and marks it a usage error; returns ERR_USAGE.
int err_usage(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
// 1 when the current message was set by err_usage (and only wrapped since).
int err_is_usage(void);
// The current message and its kind, kept across clean-up work that may set messages of its own.
typedef struct {
    char msg[ERR_MSG_MAX];
    int usage;
} err_saved;
void err_save(err_saved *s);
void err_restore(const err_saved *s);
const char *err_msg(void);
void err_clear(void);
