// A ~1 GiB safetensors file: one BF16 tensor of 2^29 + 2^16 elements (its f32 copy is > 2 GiB, so
// any int-sized element or byte count overflows) and a small tensor after it (offsets > 1 GiB).
// Written, mmapped, read back and checked value by value.
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "base/err.h"
#include "base/file.h"
#include "base/log.h"
#include "base/mem.h"
#include "formats/safetensors.h"
#include "test.h"

#define ROWS 32772LL   // 32772 * 16384 = 2^29 + 2^16 elements
#define COLS 16384LL

static char tmpdir[64];

// exactly representable in bf16 (<= 8 significant bits), distinct along each row
static inline float pattern(int64_t i) { return (float)((i * 7 + (i >> 14)) & 255) - 128.0f; }

static void test_big(void) {
    const int64_t n = ROWS * COLS;
    double t0 = time_now();
    float *big = mem_alloc((size_t)n * sizeof(float));
    CHECK(big != NULL);
    if (!big) return;
    for (int64_t i = 0; i < n; i++) big[i] = pattern(i);
    float tail[5] = {1.5f, -2.5f, 3.0f, 4.0f, 5.0f};
    st_item items[] = {{"big", 2, {ROWS, COLS}, big}, {"tail", 1, {5}, tail}};
    st_write_options opt = {.dtype = ST_BF16};
    char *p = path_join(tmpdir, "big.safetensors");
    CHECK_OK(st_write_file(p, items, 2, &opt));
    double t1 = time_now();
    CHECK(file_size(p) > (1LL << 30));
    memset(big, 0, (size_t)n * sizeof(float));
    st_archive *a = NULL;
    CHECK_OK(st_open(&a, p));
    if (a) {
        const st_tensor *t = st_find(a, "big");
        CHECK(t && t->numel == n && t->nbytes == (size_t)n * 2);
        const st_tensor *tt = st_find(a, "tail");
        CHECK(tt && (const char *)tt->data - (const char *)t->data == (ptrdiff_t)(n * 2));
        int64_t shape[2] = {ROWS, COLS};
        CHECK_OK(st_read_f32(a, "big", big, shape, 2));
        int64_t bad = 0;
        for (int64_t i = 0; i < n; i++) bad += big[i] != pattern(i);
        CHECK_MSG(bad == 0, "%lld of %lld values differ", (long long)bad, (long long)n);
        float got[5];
        int64_t five = 5;
        CHECK_OK(st_read_f32(a, "tail", got, &five, 1));
        CHECK(memcmp(got, tail, sizeof tail) == 0);
        st_close(a);
    }
    double t2 = time_now();
    unlink(p);
    free(p);
    free(big);
    fprintf(stderr, "write %.2fs, open+read+check %.2fs\n", t1 - t0, t2 - t1);
}

static int shm_has_room(void) {
    struct statvfs v;
    return statvfs("/dev/shm", &v) == 0 && (double)v.f_bavail * (double)v.f_frsize > 3.0 * (1 << 30);
}

int main(void) {
    // tmpfs when there is room: fsync of 1 GiB to a disk alone can take longer than this test may
    snprintf(tmpdir, sizeof tmpdir, "%s/test_stbig.XXXXXX", shm_has_room() ? "/dev/shm" : "/tmp");
    if (!mkdtemp(tmpdir)) return 1;
    RUN(test_big);
    file_remove_tree(tmpdir);
    return test_summary("test_safetensors_big");
}
