// Logging and progress on stderr. Results go to stdout (from src/cli only), never through here.
#pragma once
#include <stdint.h>
#include <stdio.h>

typedef enum { LOG_DEBUG = 0, LOG_INFO = 1, LOG_WARN = 2, LOG_ERROR = 3, LOG_QUIET = 4 } log_level;

void log_set_level(log_level level);
log_level log_get_level(void);
// Also copy every log line to this file (the trainer's stderr.log); NULL to stop.
void log_set_mirror(FILE *fp);
void log_msg(log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
#define log_debug(...) log_msg(LOG_DEBUG, __VA_ARGS__)
#define log_info(...) log_msg(LOG_INFO, __VA_ARGS__)
#define log_warn(...) log_msg(LOG_WARN, __VA_ARGS__)
#define log_error(...) log_msg(LOG_ERROR, __VA_ARGS__)

double time_now(void);   // monotonic seconds

// A progress bar for long loops: rate and ETA. On a terminal it redraws one line at most
// 5 times a second; otherwise (CI, files) it prints a plain line every 10 seconds.
typedef struct {
    char label[64];
    char unit[16];
    char note[96];
    int64_t total;       // 0 when unknown
    int64_t done;
    double t0, last_draw;
    int tty;
} progress;

void progress_begin(progress *p, const char *label, int64_t total, const char *unit);
void progress_add(progress *p, int64_t n);
void progress_note(progress *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void progress_end(progress *p);
