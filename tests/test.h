// A minimal test harness: CHECK* macros count failures inside a test function, RUN counts test
// functions, and test_summary prints "<file>: N passed, N failed" (read by tests/run.sh).
#pragma once
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "base/err.h"

static int t_checks_failed, t_tests_passed, t_tests_failed;

#define CHECK(cond)                                                                   \
    do {                                                                              \
        if (!(cond)) {                                                                \
            t_checks_failed++;                                                        \
            fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond);  \
        }                                                                             \
    } while (0)

#define CHECK_MSG(cond, ...)                                                  \
    do {                                                                      \
        if (!(cond)) {                                                        \
            t_checks_failed++;                                                \
            fprintf(stderr, "%s:%d: CHECK failed: %s: ", __FILE__, __LINE__, #cond); \
            fprintf(stderr, __VA_ARGS__);                                     \
            fputc('\n', stderr);                                              \
        }                                                                     \
    } while (0)

// expr returns 0 on success; on failure prints the library's error message
#define CHECK_OK(expr)                                                                          \
    do {                                                                                        \
        int t_rc_ = (expr);                                                                     \
        if (t_rc_ != 0) {                                                                       \
            t_checks_failed++;                                                                  \
            fprintf(stderr, "%s:%d: %s returned %d: %s\n", __FILE__, __LINE__, #expr, t_rc_, err_msg()); \
        }                                                                                       \
    } while (0)

// expr must fail, and its message must contain `needle`
#define CHECK_FAILS_WITH(expr, needle)                                                           \
    do {                                                                                         \
        err_clear();                                                                             \
        int t_rc_ = (expr);                                                                      \
        if (t_rc_ == 0 || !strstr(err_msg(), (needle))) {                                        \
            t_checks_failed++;                                                                   \
            fprintf(stderr, "%s:%d: %s: expected failure mentioning \"%s\", got rc=%d msg=\"%s\"\n", \
                    __FILE__, __LINE__, #expr, (needle), t_rc_, err_msg());                      \
        }                                                                                        \
    } while (0)

#define CHECK_NEAR(a, b, tol)                                                                  \
    do {                                                                                       \
        double t_a_ = (a), t_b_ = (b);                                                         \
        if (!(fabs(t_a_ - t_b_) <= (tol))) {                                                   \
            t_checks_failed++;                                                                 \
            fprintf(stderr, "%s:%d: CHECK_NEAR failed: %s=%.9g %s=%.9g tol=%g\n", __FILE__, __LINE__, \
                    #a, t_a_, #b, t_b_, (double)(tol));                                        \
        }                                                                                      \
    } while (0)

#define RUN(fn)                                                            \
    do {                                                                   \
        int t_before_ = t_checks_failed;                                   \
        fn();                                                              \
        if (t_checks_failed == t_before_) t_tests_passed++;                \
        else {                                                             \
            t_tests_failed++;                                              \
            fprintf(stderr, "FAIL %s\n", #fn);                             \
        }                                                                  \
    } while (0)

// dir/name in one of 8 rotating static buffers: a test's temporary files, no frees.
static inline char *test_path(const char *dir, const char *name) {
    static char buf[8][512];
    static int k;
    k = (k + 1) % 8;
    snprintf(buf[k], sizeof buf[k], "%s/%s", dir, name);
    return buf[k];
}

static inline int test_summary(const char *name) {
    printf("%s: %d passed, %d failed\n", name, t_tests_passed, t_tests_failed);
    return t_tests_failed ? 1 : 0;
}
