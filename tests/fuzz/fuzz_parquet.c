// libFuzzer target: a whole Parquet file from the fuzzer's bytes is opened, every column projected
// and every row read through the typed getters and the JSON printer. Any input must end in a row
// count or a clean error, never a crash, a leak or undefined behaviour (ASan + UBSan).
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "formats/parquet.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    static FILE *devnull;
    if (!devnull) devnull = fopen("/dev/null", "w");
    parquet_reader *r;
    if (parquet_reader_open_mem(&r, data, size, "fuzz.parquet")) return 0;
    for (int i = 0; i < parquet_reader_num_columns(r); i++) {
        const parquet_column_info *ci = parquet_reader_column(r, i);
        (void)parquet_reader_find_column(r, ci->name);
    }
    parquet_cursor *c;
    if (parquet_cursor_open(&c, r, NULL, 0) == 0) {
        int64_t rows = 0;
        while (parquet_cursor_next(c) == 1 && rows++ < 100000) {
            parquet_cursor_print_json(c, devnull);
            for (int i = 0; i < parquet_cursor_num_columns(c); i++) {
                int64_t v; double d; const char *s; size_t n; const int32_t *l32; const float *lf;
                parquet_cursor_get_int64(c, i, &v);
                parquet_cursor_get_double(c, i, &d);
                parquet_cursor_get_string(c, i, &s, &n);
                parquet_cursor_get_list_int32(c, i, &l32, &n);
                parquet_cursor_get_list_float(c, i, &lf, &n);
            }
        }
        parquet_cursor_close(c);
    }
    parquet_reader_close(r);
    return 0;
}
