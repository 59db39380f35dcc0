// Throughput of the safetensors bulk conversions (f32 <-> bf16, f32 <-> f16) against the scalar
// per-element functions; bench/st_convert.sh puts torch's own conversions beside it.
//   build/bench/st_convert [millions of elements, default 64]
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/log.h"
#include "base/mem.h"
#include "formats/safetensors.h"

static double best_of(int reps, void (*fn)(void *), void *ctx) {
    double best = 1e30;
    for (int r = 0; r < reps; r++) {
        double t = time_now();
        fn(ctx);
        t = time_now() - t;
        if (t < best) best = t;
    }
    return best;
}

typedef struct {
    float *f;
    uint16_t *h;
    size_t n;
} buf;

static void to_bf16(void *c) { buf *b = c; st_f32_to_bf16_n(b->h, b->f, b->n); }
static void from_bf16(void *c) { buf *b = c; st_bf16_to_f32_n(b->f, b->h, b->n); }
static void to_f16(void *c) { buf *b = c; st_f32_to_f16_n(b->h, b->f, b->n); }
static void from_f16(void *c) { buf *b = c; st_f16_to_f32_n(b->f, b->h, b->n); }
static void to_bf16_scalar(void *c) {
    buf *b = c;
    for (size_t i = 0; i < b->n; i++) b->h[i] = st_f32_to_bf16(b->f[i]);
}
static void to_f16_scalar(void *c) {
    buf *b = c;
    for (size_t i = 0; i < b->n; i++) b->h[i] = st_f32_to_f16(b->f[i]);
}

int main(int argc, char **argv) {
    size_t n = (size_t)(argc > 1 ? atof(argv[1]) : 64) * 1000000;
    buf b = {mem_aligned(n * 4), mem_aligned(n * 2), n};
    if (!b.f || !b.h) return 1;
    for (size_t i = 0; i < n; i++) b.f[i] = (float)((double)(i % 100003) * 1e-3 - 50.0);
    const struct {
        const char *name;
        void (*fn)(void *);
    } k[] = {{"f32->bf16", to_bf16}, {"bf16->f32", from_bf16},           {"f32->f16", to_f16},
             {"f16->f32", from_f16}, {"f32->bf16 scalar", to_bf16_scalar}, {"f32->f16 scalar", to_f16_scalar}};
    for (size_t i = 0; i < sizeof k / sizeof k[0]; i++) {
        double t = best_of(5, k[i].fn, &b);
        printf("ours %-17s %8.1f M elem/s  (%5.2f GB/s of f32)\n", k[i].name, n / t * 1e-6, n * 4 / t * 1e-9);
    }
    free(b.f);
    free(b.h);
    return 0;
}
