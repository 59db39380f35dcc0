// libFuzzer target over the CSV/TSV reader of `data import` (src/data/csv.c): the first byte picks
// the delimiter, the rest is the file. The reader opens a path, so each input is written to one
// file in a private directory (tmpfs when there is one). Either every record has the header's
// field count and its fields can be read, or the reader fails with a message naming the file and a
// line. Never a crash. Built by tests/fuzz/run_fuzz_csv.sh.
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/err.h"
#include "data/csv.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char g_path[256];

static void set_path(void) {
    const char *dir = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp";
    snprintf(g_path, sizeof g_path, "%s/onerec_fuzz_csv.%d.csv", dir, (int)getpid());
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 1) return 0;
    if (!g_path[0]) set_path();
    FILE *f = fopen(g_path, "wb");
    if (!f || fwrite(data + 1, 1, size - 1, f) != size - 1 || fclose(f)) abort();
    csv_reader *r;
    err_clear();
    if (csv_reader_open(&r, g_path, data[0] & 1 ? '\t' : ',')) {
        if (!strstr(err_msg(), g_path)) abort();   // the message names the file
        return 0;
    }
    int nc = csv_reader_ncols(r), rc;
    if (nc < 1) abort();
    for (int i = 0; i < nc; i++)
        if (!csv_reader_col_name(r, i)) abort();
    int64_t last = 0;
    while ((rc = csv_reader_next(r)) == 1) {
        if (csv_reader_line(r) <= last) abort();   // records start on increasing lines
        last = csv_reader_line(r);
        for (int i = 0; i < nc; i++) (void)strlen(csv_reader_field(r, i));
    }
    if (rc < 0 && !strstr(err_msg(), "line")) abort();   // a bad record is located
    csv_reader_close(r);
    return 0;
}
