#include "base/log.h"

#include <stdarg.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static log_level g_level = LOG_INFO;
static FILE *g_mirror;

void log_set_level(log_level level) { g_level = level; }
void log_set_mirror(FILE *fp) { g_mirror = fp; }

double time_now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static const char *level_name(log_level l) {
    switch (l) {
    case LOG_DEBUG: return "debug";
    case LOG_INFO: return "info";
    case LOG_WARN: return "warning";
    default: return "error";
    }
}

void log_msg(log_level level, const char *fmt, ...) {
    if (level < g_level) return;
    char line[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    if (level == LOG_INFO)
        fprintf(stderr, "%s\n", line);
    else
        fprintf(stderr, "%s: %s\n", level_name(level), line);
    if (g_mirror) {
        fprintf(g_mirror, "[%s] %s\n", level_name(level), line);
        fflush(g_mirror);
    }
}

static void fmt_duration(char *out, size_t n, double s) {
    if (s < 0 || s > 1e7) {
        snprintf(out, n, "?");
        return;
    }
    int t = (int)(s + 0.5);
    if (t >= 3600)
        snprintf(out, n, "%dh%02dm", t / 3600, (t / 60) % 60);
    else
        snprintf(out, n, "%dm%02ds", t / 60, t % 60);
}

static void progress_draw(progress *p, int final) {
    double now = time_now(), el = now - p->t0;
    double rate = el > 0 ? (double)p->done / el : 0;
    char eta[32] = "", elapsed[32];
    fmt_duration(elapsed, sizeof elapsed, el);
    if (p->total > 0 && rate > 0 && !final) fmt_duration(eta, sizeof eta, (double)(p->total - p->done) / rate);
    char head[160];
    if (p->total > 0) {
        int width = 24, fill = (int)((double)width * (double)p->done / (double)p->total);
        if (fill > width) fill = width;
        char bar[32];
        for (int i = 0; i < width; i++) bar[i] = i < fill ? '#' : '.';
        bar[width] = 0;
        snprintf(head, sizeof head, "%s [%s] %lld/%lld", p->label, bar, (long long)p->done, (long long)p->total);
    } else {
        snprintf(head, sizeof head, "%s %lld", p->label, (long long)p->done);
    }
    fprintf(stderr, "%s%s %.1f %s/s %s%s%s%s%s", p->tty ? "\r\033[K" : "", head, rate, p->unit, elapsed,
            eta[0] ? " eta " : "", eta, p->note[0] ? " " : "", p->note);
    if (!p->tty || final) fputc('\n', stderr);
    fflush(stderr);
    p->last_draw = now;
}

void progress_begin(progress *p, const char *label, int64_t total, const char *unit) {
    memset(p, 0, sizeof *p);
    snprintf(p->label, sizeof p->label, "%s", label);
    snprintf(p->unit, sizeof p->unit, "%s", unit ? unit : "it");
    p->total = total;
    p->t0 = p->last_draw = time_now();
    p->tty = isatty(2);
}

void progress_add(progress *p, int64_t n) {
    p->done += n;
    if (g_level > LOG_INFO) return;
    double gap = p->tty ? 0.2 : 10.0;
    if (time_now() - p->last_draw >= gap) progress_draw(p, 0);
}

void progress_note(progress *p, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(p->note, sizeof p->note, fmt, ap);
    va_end(ap);
}

void progress_end(progress *p) {
    if (g_level <= LOG_INFO) progress_draw(p, 1);
}
