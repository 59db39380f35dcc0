// Parquet throughput helper for bench/parquet.sh (single thread):
//   parquet_bench read FILE        read every column of every row through the cursor
//   parquet_bench write IN OUT     load IN (uid, split, hist_video_pid, caption, source) into memory,
//                                  then time writing it to OUT with ZSTD
// Prints "rows=N seconds=S cpu=S checksum=C" (cpu: process CPU seconds, steadier on a busy machine).
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/err.h"
#include "base/log.h"
#include "formats/parquet.h"

static double cpu_now(void) { return (double)clock() / CLOCKS_PER_SEC; }

static int bench_read(const char *path) {
    double t0 = time_now(), c0 = cpu_now();
    parquet_reader *r;
    if (parquet_reader_open(&r, path)) return ERR_FAIL;
    parquet_cursor *c;
    if (parquet_cursor_open(&c, r, NULL, 0)) return ERR_FAIL;
    int nc = parquet_cursor_num_columns(c);
    int64_t rows = 0;
    uint64_t sum = 0;
    int rc;
    while ((rc = parquet_cursor_next(c)) == 1) {
        for (int i = 0; i < nc; i++) {
            const parquet_column_info *ci = parquet_cursor_column_info(c, i);
            if (parquet_cursor_is_null(c, i)) continue;
            if (ci->is_list && ci->type == PQ_STRING) {
                const char *const *s; const size_t *l; size_t n;
                if (parquet_cursor_get_list_string(c, i, &s, &l, &n)) return ERR_FAIL;
                for (size_t k = 0; k < n; k++) sum += l[k];
            } else if (ci->is_list) {
                const int64_t *v; size_t n;
                if (parquet_cursor_get_list_int64(c, i, &v, &n)) return ERR_FAIL;
                for (size_t k = 0; k < n; k++) sum += (uint64_t)v[k];
            } else if (ci->type == PQ_STRING) {
                const char *s; size_t l;
                if (parquet_cursor_get_string(c, i, &s, &l)) return ERR_FAIL;
                sum += l;
            } else {
                int64_t v;
                if (parquet_cursor_get_int64(c, i, &v)) return ERR_FAIL;
                sum += (uint64_t)v;
            }
        }
        rows++;
    }
    if (rc < 0) return ERR_FAIL;
    parquet_cursor_close(c);
    parquet_reader_close(r);
    printf("rows=%lld seconds=%.3f cpu=%.3f checksum=%llu\n", (long long)rows, time_now() - t0, cpu_now() - c0, (unsigned long long)sum);
    return 0;
}

typedef struct {
    int64_t rows;
    int64_t *uid, *hist, *hist_off;
    int32_t *split;
    char *text;
    int64_t *cap_off, *src_off;
} table;

static int load(const char *path, table *t) {
    parquet_reader *r;
    if (parquet_reader_open(&r, path)) return ERR_FAIL;
    const char *cols[] = {"uid", "split", "hist_video_pid", "caption", "source"};
    parquet_cursor *c;
    if (parquet_cursor_open(&c, r, cols, 5)) return ERR_FAIL;
    int64_t n = parquet_reader_num_rows(r);
    t->rows = n;
    t->uid = malloc((size_t)n * 8);
    t->split = malloc((size_t)n * 4);
    t->hist_off = malloc((size_t)(n + 1) * 8);
    t->cap_off = malloc((size_t)(n + 1) * 8);
    t->src_off = malloc((size_t)(n + 1) * 8);
    size_t hcap = 1 << 20, hlen = 0, tcap = 1 << 20, tlen = 0;
    t->hist = malloc(hcap * 8);
    t->text = malloc(tcap);
    int64_t i = 0;
    while (parquet_cursor_next(c) == 1) {
        const int64_t *h; size_t nh; const char *s; size_t ls; int32_t sp;
        if (parquet_cursor_get_int64(c, 0, &t->uid[i]) || parquet_cursor_get_int32(c, 1, &sp) ||
            parquet_cursor_get_list_int64(c, 2, &h, &nh))
            return ERR_FAIL;
        t->split[i] = sp;
        while (hlen + nh > hcap) { hcap *= 2; t->hist = realloc(t->hist, hcap * 8); }
        t->hist_off[i] = (int64_t)hlen;
        memcpy(t->hist + hlen, h, nh * 8);
        hlen += nh;
        for (int k = 3; k <= 4; k++) {
            if (parquet_cursor_get_string(c, k, &s, &ls)) return ERR_FAIL;
            while (tlen + ls > tcap) { tcap *= 2; t->text = realloc(t->text, tcap); }
            (k == 3 ? t->cap_off : t->src_off)[i] = (int64_t)tlen;
            memcpy(t->text + tlen, s, ls);
            tlen += ls;
            (k == 3 ? t->cap_off : t->src_off)[i + 1] = (int64_t)tlen;   // overwritten by the next start
        }
        i++;
    }
    t->hist_off[i] = (int64_t)hlen;
    parquet_cursor_close(c);
    parquet_reader_close(r);
    return 0;
}

static int bench_write(const char *in, const char *out) {
    table t;
    if (load(in, &t)) return ERR_FAIL;
    double t0 = time_now(), c0 = cpu_now();
    parquet_column_spec cols[] = {{"uid", PQ_INT64, 0, 0}, {"split", PQ_INT32, 0, 0}, {"hist_video_pid", PQ_INT64, 1, 0},
                                  {"caption", PQ_STRING, 0, 0}, {"source", PQ_STRING, 0, 0}};
    parquet_writer *w;
    if (parquet_writer_open(&w, out, cols, 5, NULL)) return ERR_FAIL;
    for (int64_t i = 0; i < t.rows; i++) {
        int64_t cs = t.cap_off[i], ss = t.src_off[i];
        int64_t ce = ss, se = i + 1 < t.rows ? t.cap_off[i + 1] : t.src_off[i + 1];
        if (parquet_writer_add_int64(w, 0, t.uid[i]) || parquet_writer_add_int32(w, 1, t.split[i]) ||
            parquet_writer_add_list_int64(w, 2, t.hist + t.hist_off[i], (size_t)(t.hist_off[i + 1] - t.hist_off[i])) ||
            parquet_writer_add_string(w, 3, t.text + cs, (size_t)(ce - cs)) ||
            parquet_writer_add_string(w, 4, t.text + ss, (size_t)(se - ss)) || parquet_writer_end_row(w))
            return ERR_FAIL;
    }
    if (parquet_writer_close(w)) return ERR_FAIL;
    printf("rows=%lld seconds=%.3f cpu=%.3f checksum=0\n", (long long)t.rows, time_now() - t0, cpu_now() - c0);
    return 0;
}

int main(int argc, char **argv) {
    int rc;
    if (argc == 3 && !strcmp(argv[1], "read")) rc = bench_read(argv[2]);
    else if (argc == 4 && !strcmp(argv[1], "write")) rc = bench_write(argv[2], argv[3]);
    else { fprintf(stderr, "usage: parquet_bench read FILE | write IN OUT\n"); return 2; }
    if (rc) fprintf(stderr, "parquet_bench: %s\n", err_msg());
    return rc ? 1 : 0;
}
