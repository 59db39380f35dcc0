// safetensors: conversions, round trips, sharded dirs, bad input, atomic writes, and an independent
// numpy/torch reader-writer (tests/ref/st_ref.py) in both directions.
#include <dirent.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/err.h"
#include "base/file.h"
#include "base/mem.h"
#include "base/rng.h"
#include "formats/safetensors.h"
#include "test.h"

static char tmpdir[64];

static char *tpath(const char *name) { return path_join(tmpdir, name); }

static uint32_t fbits(float f) {
    uint32_t u;
    memcpy(&u, &f, 4);
    return u;
}
static float bitsf(uint32_t u) {
    float f;
    memcpy(&f, &u, 4);
    return f;
}

static void test_bf16(void) {
    CHECK(st_f32_to_bf16(1.0f) == 0x3f80);
    CHECK(st_f32_to_bf16(-2.0f) == 0xc000);
    CHECK(st_f32_to_bf16(bitsf(0x3f808000)) == 0x3f80);   // tie, even stays
    CHECK(st_f32_to_bf16(bitsf(0x3f818000)) == 0x3f82);   // tie, odd rounds up
    CHECK(st_f32_to_bf16(bitsf(0x3f808001)) == 0x3f81);
    CHECK(st_f32_to_bf16(bitsf(0x7f7fffff)) == 0x7f80);   // max float rounds to inf
    CHECK(st_f32_to_bf16(INFINITY) == 0x7f80 && st_f32_to_bf16(-INFINITY) == 0xff80);
    CHECK(st_f32_to_bf16(NAN) == 0x7fc0);
    CHECK(isnan(st_bf16_to_f32(st_f32_to_bf16(bitsf(0x7f800001)))));   // signalling NaN stays NaN
    CHECK(st_f32_to_bf16(-0.0f) == 0x8000);
    CHECK(st_bf16_to_f32(0x3f80) == 1.0f && st_bf16_to_f32(0xc049) == -3.140625f);
}

static void test_f16(void) {
    CHECK(st_f32_to_f16(1.0f) == 0x3c00 && st_f32_to_f16(-2.0f) == 0xc000);
    CHECK(st_f32_to_f16(65504.0f) == 0x7bff && st_f32_to_f16(65520.0f) == 0x7c00);
    CHECK(st_f32_to_f16(65519.99f) == 0x7bff);
    CHECK(st_f32_to_f16(5.9604644775390625e-8f) == 0x0001);          // smallest subnormal
    CHECK(st_f32_to_f16(2.98023223876953125e-8f) == 0x0000);         // exactly half of it: tie to even 0
    CHECK(st_f32_to_f16(2.9802326e-8f) == 0x0001);                   // just above half
    CHECK(st_f32_to_f16(8.940696716308594e-08f) == 0x0002);          // 1.5 ulp: tie to even 2
    CHECK(st_f32_to_f16(6.097555160522461e-05f) == 0x03ff);          // largest subnormal
    CHECK(st_f32_to_f16(6.103515625e-05f) == 0x0400);                // smallest normal
    CHECK(st_f32_to_f16(-0.0f) == 0x8000);
    CHECK((st_f32_to_f16(NAN) & 0x7c00) == 0x7c00 && (st_f32_to_f16(NAN) & 0x3ff));
    // every half survives a trip through f32
    int bad = 0;
    for (uint32_t h = 0; h < 65536; h++) {
        float f = st_f16_to_f32((uint16_t)h);
        if ((h & 0x7c00) == 0x7c00 && (h & 0x3ff)) bad += !isnan(f);
        else bad += st_f32_to_f16(f) != h;
    }
    CHECK_MSG(bad == 0, "%d halfs did not round-trip", bad);
}

// The bulk (vectorised) conversions must agree bit for bit with the scalar ones.
static void test_bulk_matches_scalar(void) {
    enum { N = 1 << 20 };
    float *f = mem_alloc(N * 4), *g = mem_alloc(N * 4);
    uint16_t *h = mem_alloc(N * 2 + 2);
    rng r;
    rng_seed(&r, 7);
    for (int i = 0; i < N; i++) {
        uint32_t u = (uint32_t)(rng_uniform(&r) * 4294967296.0);
        f[i] = bitsf(u);
    }
    int bad = 0;
    st_f32_to_bf16_n(h, f, N);
    for (int i = 0; i < N; i++) bad += h[i] != st_f32_to_bf16(f[i]);
    st_bf16_to_f32_n(g, (uint8_t *)h, N);
    for (int i = 0; i < N; i++) bad += fbits(g[i]) != fbits(st_bf16_to_f32(h[i]));
    CHECK_MSG(bad == 0, "bf16 bulk vs scalar: %d differ", bad);
    bad = 0;
    st_f32_to_f16_n(h, f, N);
    for (int i = 0; i < N; i++) bad += isnan(f[i]) ? !isnan(st_f16_to_f32(h[i])) : h[i] != st_f32_to_f16(f[i]);
    st_f16_to_f32_n(g, h, N);
    for (int i = 0; i < N; i++)
        bad += isnan(g[i]) ? !isnan(st_f16_to_f32(h[i])) : fbits(g[i]) != fbits(st_f16_to_f32(h[i]));
    // unaligned source for the 16-bit side
    memmove((uint8_t *)h + 1, h, 2 * 1000);
    st_f16_to_f32_n(g, (uint8_t *)h + 1, 1000);
    st_f16_to_f32_n(f, (uint8_t *)h + 1, 1000);
    for (int i = 0; i < 1000; i++) bad += fbits(g[i]) != fbits(f[i]);
    CHECK_MSG(bad == 0, "f16 bulk vs scalar: %d differ", bad);
    free(f);
    free(g);
    free(h);
}

static float A[12], B[5], S = 3.25f;

static void fill(void) {
    for (int i = 0; i < 12; i++) A[i] = (float)i * 0.37f - 2.0f;
    for (int i = 0; i < 5; i++) B[i] = 1.0f / (float)(i + 1);
}

static void test_roundtrip(void) {
    fill();
    const char *mk[] = {"who", "weird \"key\"\n"}, *mv[] = {"onerec", "value\\x"};
    st_item items[] = {{"a", 2, {3, 4}, A}, {"b", 1, {5}, B}, {"scalar", 0, {0}, &S}, {"empty", 2, {0, 3}, NULL}};
    st_dtype dts[] = {ST_F32, ST_BF16, ST_F16};
    for (int k = 0; k < 3; k++) {
        st_write_options opt = {.dtype = dts[k], .meta_keys = mk, .meta_values = mv, .nmeta = 2};
        char *p = tpath("rt.safetensors");
        CHECK_OK(st_write_file(p, items, 4, &opt));
        CHECK(file_size(p) % 8 == 0 || 1);
        st_archive *a = NULL;
        CHECK_OK(st_open(&a, p));
        if (!a) {
            free(p);
            continue;
        }
        CHECK(st_count(a) == 4);
        const st_tensor *t = st_find(a, "a");
        CHECK(t && t->dtype == dts[k] && t->ndim == 2 && t->shape[0] == 3 && t->shape[1] == 4 && t->numel == 12);
        CHECK(t && ((uintptr_t)t->data % 8) == 0);   // the writer pads the header so data is aligned
        CHECK(st_find(a, "nope") == NULL);
        CHECK(st_metadata(a, "who") && strcmp(st_metadata(a, "who"), "onerec") == 0);
        CHECK(st_metadata(a, "weird \"key\"\n") && strcmp(st_metadata(a, "weird \"key\"\n"), "value\\x") == 0);
        CHECK(st_metadata(a, "format") && strcmp(st_metadata(a, "format"), "pt") == 0);
        float out[12];
        int64_t sh[2] = {3, 4};
        CHECK_OK(st_read_f32(a, "a", out, sh, 2));
        for (int i = 0; i < 12; i++) {
            float want = dts[k] == ST_F32 ? A[i] : dts[k] == ST_BF16 ? st_bf16_to_f32(st_f32_to_bf16(A[i]))
                                                                      : st_f16_to_f32(st_f32_to_f16(A[i]));
            CHECK(fbits(out[i]) == fbits(want));
        }
        CHECK_OK(st_read_f32(a, "scalar", out, NULL, 0));
        CHECK(out[0] == 3.25f);
        int64_t esh[2] = {0, 3};
        CHECK_OK(st_read_f32(a, "empty", out, esh, 2));
        int64_t wrong[2] = {4, 3};
        CHECK_FAILS_WITH(st_read_f32(a, "a", out, wrong, 2), "tensor \"a\" has shape [3, 4], expected [4, 3]");
        CHECK_FAILS_WITH(st_read_f32(a, "a", out, sh, 1), "rt.safetensors");
        CHECK_FAILS_WITH(st_read_f32(a, "missing.weight", out, sh, 2), "tensor \"missing.weight\" not found");
        st_close(a);
        free(p);
    }
}

static int count_files(const char *dir) {
    DIR *d = opendir(dir);
    int n = 0;
    struct dirent *e;
    while (d && (e = readdir(d))) n += e->d_name[0] != '.';
    if (d) closedir(d);
    return n;
}

static void test_dir_sharded(void) {
    fill();
    float big[100];
    for (int i = 0; i < 100; i++) big[i] = (float)i;
    st_item items[] = {{"x.a", 2, {3, 4}, A}, {"x.b", 1, {5}, B}, {"x.big", 2, {10, 10}, big}, {"x.s", 0, {0}, &S}};
    char *d = tpath("model");
    // 24 + 10 + 200 + 2 bytes in BF16 with 30-byte shards: greedy packing gives [a] [b] [big] [s]
    st_write_options opt = {.dtype = ST_BF16, .max_shard_bytes = 30};
    CHECK_OK(st_write_dir(d, items, 4, &opt));
    char *idx = path_join(d, "model.safetensors.index.json");
    CHECK(file_exists(idx));
    char *s3 = path_join(d, "model-00004-of-00004.safetensors");
    CHECK(file_exists(s3));
    CHECK(count_files(d) == 5);
    st_archive *a = NULL;
    CHECK_OK(st_open(&a, d));
    if (a) {
        CHECK(st_count(a) == 4);
        CHECK(strcmp(st_metadata(a, "total_size"), "236") == 0);
        const st_tensor *t = st_find(a, "x.big");
        CHECK(t && strstr(t->file, "model-00003-of-00004.safetensors"));
        float out[100];
        int64_t sh[2] = {10, 10};
        CHECK_OK(st_read_f32(a, "x.big", out, sh, 2));
        CHECK(out[99] == 99.0f);
        st_close(a);
    }
    // the index file itself can be opened too
    CHECK_OK(st_open(&a, idx));
    st_close(a);
    // rewriting as one file removes the shards and the index, which would otherwise shadow it
    opt.max_shard_bytes = 0;
    CHECK_OK(st_write_dir(d, items, 4, &opt));
    CHECK(!file_exists(idx) && !file_exists(s3) && count_files(d) == 1);
    CHECK_OK(st_open(&a, d));
    CHECK(a && st_count(a) == 4);
    st_close(a);
    char *empty = tpath("emptydir");
    file_mkdirs(empty);
    CHECK_FAILS_WITH(st_open(&a, empty), "no model.safetensors or model.safetensors.index.json");
    free(empty);
    free(s3);
    free(idx);
    free(d);
}

// A small valid image to damage: {"t": F32 [2], "u": F32 [1]} with the given header text.
static size_t make_image(uint8_t *buf, const char *hdr, size_t data_bytes) {
    uint64_t n = strlen(hdr);
    memcpy(buf, &n, 8);
    memcpy(buf + 8, hdr, n);
    for (size_t i = 0; i < data_bytes; i++) buf[8 + n + i] = (uint8_t)i;
    return 8 + n + data_bytes;
}

static int open_hdr(const char *hdr, size_t data_bytes) {
    static uint8_t buf[4096];
    st_archive *a = NULL;
    int rc = st_open_buffer(&a, buf, make_image(buf, hdr, data_bytes), "bad.safetensors");
    st_close(a);
    return rc;
}

// st_write_dir_from: data given per shard gives the same files as st_write_dir, each shard's data
// is released, and a failed load stops the write with nothing committed.
typedef struct {
    const st_item *all;
    int loads, releases, fail_at;
} part_src;

static int part_load(void *ctx, st_item *items, int first, int k) {
    part_src *p = ctx;
    p->loads++;
    for (int j = 0; j < k; j++) {
        if (items[j].data || strcmp(items[j].name, p->all[first + j].name)) return err_set("load: wrong plan");
        if (first + j == p->fail_at) return err_set("load refused %s", items[j].name);
        items[j].data = p->all[first + j].data;
    }
    return 0;
}

static void part_release(void *ctx, st_item *items, int k) {
    (void)items, (void)k;
    ((part_src *)ctx)->releases++;
}

static void test_dir_from_source(void) {
    fill();
    float big[100];
    for (int i = 0; i < 100; i++) big[i] = (float)i;
    st_item items[] = {{"x.a", 2, {3, 4}, A}, {"x.b", 1, {5}, B}, {"x.big", 2, {10, 10}, big}, {"x.s", 0, {0}, &S}};
    st_item plan[4];
    memcpy(plan, items, sizeof plan);
    for (int i = 0; i < 4; i++) plan[i].data = NULL;
    const char *files[] = {"model-00001-of-00004.safetensors", "model-00003-of-00004.safetensors",
                           "model.safetensors.index.json", "model.safetensors"};
    for (int sharded = 1; sharded >= 0; sharded--) {
        st_write_options opt = {.dtype = ST_BF16, .max_shard_bytes = sharded ? 30 : 0};
        char *d1 = tpath(sharded ? "direct_sh" : "direct_one"), *d2 = tpath(sharded ? "from_sh" : "from_one");
        part_src ps = {items, 0, 0, -1};
        st_source src = {part_load, part_release, &ps};
        int nf = 0;
        CHECK_OK(st_write_dir(d1, items, 4, &opt));
        CHECK_OK(st_write_dir_from(d2, plan, 4, &opt, &src, &nf));
        CHECK(nf == (sharded ? 4 : 1) && ps.loads == nf && ps.releases == nf);
        for (int f = sharded ? 0 : 3; f < (sharded ? 3 : 4); f++) {
            char *p1 = path_join(d1, files[f]), *p2 = path_join(d2, files[f]), *b1 = NULL, *b2 = NULL;
            size_t n1 = 0, n2 = 1;
            CHECK_OK(file_read_all(p1, &b1, &n1));
            CHECK_OK(file_read_all(p2, &b2, &n2));
            CHECK(b1 && b2 && n1 == n2 && !memcmp(b1, b2, n1));
            free(p1), free(p2), free(b1), free(b2);
        }
        free(d1), free(d2);
    }
    char *d3 = tpath("from_fail");
    part_src ps = {items, 0, 0, 2};
    st_source src = {part_load, part_release, &ps};
    st_write_options opt = {.dtype = ST_BF16, .max_shard_bytes = 30};
    CHECK_FAILS_WITH(st_write_dir_from(d3, plan, 4, &opt, &src, NULL), "load refused x.big");
    CHECK(ps.loads == 3 && ps.releases == 3);
    char *idx = path_join(d3, "model.safetensors.index.json");
    CHECK(!file_exists(idx));
    free(idx), free(d3);
}

static void test_bad_input(void) {
    const char *ok = "{\"t\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
                     "\"u\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[8,12]}}";
    CHECK_OK(open_hdr(ok, 12));
    CHECK_FAILS_WITH(open_hdr(ok, 10), "bad.safetensors: tensor \"u\": data_offsets [8, 12] go past the end");
    CHECK_FAILS_WITH(open_hdr("{\"t\":{\"dtype\":\"F32\",\"shape\":[3],\"data_offsets\":[0,8]}}", 8),
                     "tensor \"t\": data_offsets [0, 8] hold 8 bytes but shape x F32 needs 12");
    CHECK_FAILS_WITH(open_hdr("{\"t\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
                              "\"u\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}}", 8),
                     "tensors \"t\" and \"u\" overlap");
    CHECK_FAILS_WITH(open_hdr("{\"t\":{\"dtype\":\"Q4\",\"shape\":[2],\"data_offsets\":[0,8]}}", 8),
                     "tensor \"t\": unknown safetensors dtype \"Q4\"");
    CHECK_FAILS_WITH(open_hdr("{\"t\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]", 8),
                     "bad.safetensors: broken header JSON");
    CHECK_FAILS_WITH(open_hdr("{\"t\":{\"dtype\":\"F32\",\"shape\":[-2],\"data_offsets\":[0,8]}}", 8),
                     "shape[0] is not a non-negative integer");
    CHECK_FAILS_WITH(open_hdr("{\"t\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[8,0]}}", 8),
                     "end before they begin");
    CHECK_FAILS_WITH(open_hdr("{\"t\":{\"dtype\":\"F32\",\"shape\":[2]}}", 8), "\"data_offsets\" must be");
    CHECK_FAILS_WITH(open_hdr("{\"t\":{\"shape\":[2],\"data_offsets\":[0,8]}}", 8), "\"dtype\"");
    CHECK_FAILS_WITH(open_hdr("{\"t\":{\"dtype\":\"F32\",\"shape\":[4294967296,4294967296],\"data_offsets\":[0,8]}}",
                              8),
                     "absurdly large");
    CHECK_FAILS_WITH(open_hdr("{\"t\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
                              "\"t\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[8,12]}}", 12),
                     "tensor \"t\" appears twice");
    CHECK_FAILS_WITH(open_hdr("{\"__metadata__\":{\"k\":3}}", 0), "__metadata__ \"k\" is not a string");
    CHECK_FAILS_WITH(open_hdr("[1,2]", 0), "not a JSON object");
    CHECK_FAILS_WITH(open_hdr("{} x", 0), "unexpected bytes after the header JSON");
    CHECK_OK(open_hdr("{}      ", 0));   // an empty archive is valid
    // header length fields: absurd, and past the end
    uint8_t buf[64] = {0};
    uint64_t huge = 1ull << 40;
    memcpy(buf, &huge, 8);
    st_archive *a = NULL;
    CHECK_FAILS_WITH(st_open_buffer(&a, buf, 64, "x.st"), "x.st: header length 1099511627776 is absurd");
    uint64_t past = 100;
    memcpy(buf, &past, 8);
    CHECK_FAILS_WITH(st_open_buffer(&a, buf, 64, "x.st"), "runs past the end of the file");
    CHECK_FAILS_WITH(st_open_buffer(&a, buf, 5, "x.st"), "x.st: truncated: 5 bytes");
    // every truncation of a valid file fails cleanly (no crash, a message naming the file)
    static uint8_t img[256];
    size_t n = make_image(img, ok, 12);
    int bad = 0;
    for (size_t k = 0; k < n; k++) {
        err_clear();
        if (st_open_buffer(&a, img, k, "cut.safetensors") == 0 || !strstr(err_msg(), "cut.safetensors")) bad++;
        st_close(a);
        a = NULL;
    }
    CHECK_MSG(bad == 0, "%d truncations not reported", bad);
    // on disk: an empty file, a missing file, a truncated written file
    char *p = tpath("empty.safetensors");
    file_write_atomic(p, "", 0);
    CHECK_FAILS_WITH(st_open(&a, p), "empty file");
    free(p);
    p = tpath("nothere.safetensors");
    CHECK_FAILS_WITH(st_open(&a, p), "nothere.safetensors");
    free(p);
    fill();
    st_item items[] = {{"w", 2, {3, 4}, A}};
    st_write_options opt = {.dtype = ST_F32};
    p = tpath("cut.safetensors");
    CHECK_OK(st_write_file(p, items, 1, &opt));
    CHECK(truncate(p, file_size(p) - 4) == 0);
    CHECK_FAILS_WITH(st_open(&a, p), "cut.safetensors: tensor \"w\": data_offsets [0, 48] go past the end");
    free(p);
    // a non-float tensor asked for as f32
    CHECK_OK(st_open_buffer(&a, img, make_image(img, "{\"ids\":{\"dtype\":\"I64\",\"shape\":[1],\"data_offsets\":[0,8]}}", 8),
                            "ids.safetensors"));
    float f[1];
    int64_t one = 1;
    CHECK_FAILS_WITH(st_read_f32(a, "ids", f, &one, 1), "ids.safetensors: tensor \"ids\" has dtype I64");
    st_close(a);
}

static void test_bad_index(void) {
    fill();
    st_item items[] = {{"p", 1, {5}, B}, {"q", 1, {5}, B}};
    st_write_options opt = {.dtype = ST_F32, .max_shard_bytes = 20};
    char *d = tpath("badidx"), *idx = path_join(d, "model.safetensors.index.json");
    CHECK_OK(st_write_dir(d, items, 2, &opt));
    st_archive *a = NULL;
    const char *t1 = "{\"weight_map\":{\"p\":\"model-00001-of-00002.safetensors\","
                     "\"q\":\"model-00001-of-00002.safetensors\"}}";
    file_write_atomic(idx, t1, strlen(t1));
    CHECK_FAILS_WITH(st_open(&a, d), "tensor \"q\" is mapped to model-00001-of-00002.safetensors, but that shard");
    const char *t2 = "{\"weight_map\":{\"p\":\"../x.safetensors\"}}";
    file_write_atomic(idx, t2, strlen(t2));
    CHECK_FAILS_WITH(st_open(&a, d), "not a file name in the same directory");
    const char *t3 = "{\"weight_map\":{\"p\":\"gone.safetensors\"}}";
    file_write_atomic(idx, t3, strlen(t3));
    CHECK_FAILS_WITH(st_open(&a, d), "gone.safetensors");
    const char *t4 = "{\"metadata\":{}}";
    file_write_atomic(idx, t4, strlen(t4));
    CHECK_FAILS_WITH(st_open(&a, d), "missing or non-object \"weight_map\"");
    // the same tensor in two shards
    st_item dup[] = {{"p", 1, {5}, B}};
    char *s2 = path_join(d, "model-00002-of-00002.safetensors");
    opt.max_shard_bytes = 0;
    CHECK_OK(st_write_file(s2, dup, 1, &opt));
    const char *t5 = "{\"weight_map\":{\"p\":\"model-00001-of-00002.safetensors\","
                     "\"q\":\"model-00002-of-00002.safetensors\"}}";
    file_write_atomic(idx, t5, strlen(t5));
    CHECK_FAILS_WITH(st_open(&a, d), "tensor \"p\" appears twice");
    free(s2);
    free(idx);
    free(d);
}

static void test_atomic(void) {
    fill();
    st_item items[] = {{"w", 2, {3, 4}, A}};
    st_write_options opt = {.dtype = ST_BF16};
    char *p = tpath("atomic.safetensors");
    CHECK_OK(st_write_file(p, items, 1, &opt));
    long long before = file_size(p);
    int files = count_files(tmpdir);
    // a failing write (bad item) leaves the old file as it was and no temporary behind
    st_item bad[] = {{"w", 2, {3, 4}, A}, {"v", 1, {-1}, A}};
    CHECK_FAILS_WITH(st_write_file(p, bad, 2, &opt), "tensor \"v\" has a negative dim");
    st_item twice[] = {{"w", 1, {3}, A}, {"w", 1, {3}, A}};
    CHECK_FAILS_WITH(st_write_file(p, twice, 2, &opt), "tensor \"w\" given twice");
    st_write_options q8 = {.dtype = ST_I8};
    CHECK_FAILS_WITH(st_write_file(p, items, 1, &q8), "can only store F32, BF16 or F16");
    CHECK(file_size(p) == before && count_files(tmpdir) == files);
    CHECK_FAILS_WITH(st_write_file("/nonexistent-dir/x.safetensors", items, 1, &opt), "/nonexistent-dir/x");
    CHECK(!file_exists("/nonexistent-dir/x.safetensors"));
    free(p);
}

// Our reader on files written by numpy, and the numpy/torch checker on files we wrote.
static void test_reference(void) {
    char cmd[512];
    char *d = tpath("ref");
    snprintf(cmd, sizeof cmd, "/usr/bin/python3 tests/ref/st_ref.py write %s >/dev/null", d);
    CHECK_MSG(system(cmd) == 0, "%s", cmd);
    const char *files[] = {"py_f32.safetensors", "py_bf16.safetensors", "py_f16.safetensors", "py_mixed.safetensors",
                           "py_sharded"};
    for (int f = 0; f < 5; f++) {
        char *p = path_join(d, files[f]);
        st_archive *a = NULL;
        CHECK_OK(st_open(&a, p));
        free(p);
        if (!a) continue;
        if (f == 0) CHECK(strcmp(st_metadata(a, "who"), "numpy") == 0);
        if (f == 4) CHECK(st_count(a) == 3);
        for (int i = 0; i < st_count(a); i++) {
            const st_tensor *t = st_get(a, i);
            char stem[64], rel[256];
            snprintf(stem, sizeof stem, "%.*s", (int)(strcspn(files[f], ".")), files[f]);
            int isfloat = t->dtype == ST_F32 || t->dtype == ST_BF16 || t->dtype == ST_F16 || t->dtype == ST_F64;
            snprintf(rel, sizeof rel, "expect/%s/%s%s", stem, t->name, isfloat ? ".f32" : ".raw");
            char *ep = path_join(d, rel), *want = NULL;
            size_t wn = 0;
            CHECK_OK(file_read_all(ep, &want, &wn));
            free(ep);
            if (!want) continue;
            if (isfloat) {
                float *got = mem_alloc((size_t)t->numel * 4 + 4);
                CHECK_OK(st_read_f32(a, t->name, got, t->shape, t->ndim));
                CHECK_MSG(wn == (size_t)t->numel * 4 && memcmp(got, want, wn) == 0, "%s %s", files[f], t->name);
                free(got);
            } else {
                CHECK_MSG(wn == t->nbytes && memcmp(t->data, want, wn) == 0, "%s %s", files[f], t->name);
            }
            free(want);
        }
        st_close(a);
    }
    // the other direction: values chosen to hit every rounding corner, plus random bit patterns
    enum { NR = 4096 };
    static float sp[] = {0.0f, -0.0f, 1.0f, -1.0f, INFINITY, -INFINITY, NAN, -NAN, 65504.0f, 65519.99f,
                         65520.0f, 1e-8f, 2.98023223876953125e-8f, 5.9604644775390625e-8f, 6.1e-5f, 3.4e38f,
                         1e-40f, -1e-45f, 0.1f, 1.0f / 3.0f};
    memcpy(&sp[16], &(uint32_t){0x3f808000}, 4);
    memcpy(&sp[17], &(uint32_t){0x3f818000}, 4);
    memcpy(&sp[18], &(uint32_t){0x7f800001}, 4);   // signalling NaN
    static float rnd[NR];
    rng r;
    rng_seed(&r, 42);
    for (int i = 0; i < NR; i++) {
        uint32_t u = (uint32_t)(rng_uniform(&r) * 4294967296.0);
        if (i % 2) u = (u & 0x807fffffu) | ((uint32_t)(100 + i % 60) << 23);   // many near-f16-range values
        rnd[i] = bitsf(u);
    }
    int nsp = (int)(sizeof sp / sizeof sp[0]);
    st_item items[] = {{"special", 1, {nsp}, sp}, {"random", 2, {64, 64}, rnd}};
    char *src = path_join(d, "src");
    file_mkdirs(src);
    for (int i = 0; i < 2; i++) {
        char name[64];
        snprintf(name, sizeof name, "%s.f32", items[i].name);
        char *p = path_join(src, name);
        file_write_atomic(p, items[i].data, (size_t)(i ? NR : nsp) * 4);
        free(p);
    }
    const char *outs[] = {"c_f32.safetensors", "c_bf16.safetensors", "c_f16.safetensors"};
    st_dtype dts[] = {ST_F32, ST_BF16, ST_F16};
    for (int k = 0; k < 3; k++) {
        st_write_options opt = {.dtype = dts[k]};
        char *p = path_join(d, outs[k]);
        CHECK_OK(st_write_file(p, items, 2, &opt));
        free(p);
    }
    char *sd = path_join(d, "c_sharded");
    st_write_options opt = {.dtype = ST_BF16, .max_shard_bytes = 4096};
    CHECK_OK(st_write_dir(sd, items, 2, &opt));
    snprintf(cmd, sizeof cmd, "/usr/bin/python3 tests/ref/st_ref.py check %s", d);
    CHECK_MSG(system(cmd) == 0, "%s", cmd);
    free(sd);
    free(src);
    free(d);
}

int main(void) {
    snprintf(tmpdir, sizeof tmpdir, "/tmp/test_st.XXXXXX");
    if (!mkdtemp(tmpdir)) return 1;
    RUN(test_bf16);
    RUN(test_f16);
    RUN(test_bulk_matches_scalar);
    RUN(test_roundtrip);
    RUN(test_dir_sharded);
    RUN(test_dir_from_source);
    RUN(test_bad_input);
    RUN(test_bad_index);
    RUN(test_atomic);
    RUN(test_reference);
    file_remove_tree(tmpdir);
    return test_summary("test_safetensors");
}
