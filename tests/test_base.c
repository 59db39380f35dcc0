#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "base/err.h"
#include "base/file.h"
#include "base/json.h"
#include "base/log.h"
#include "base/mem.h"
#include "base/rng.h"
#include "test.h"

static char g_dir[256];

// a usage error keeps its mark through the wrapping on the way up; any new message drops it
static void test_err_usage(void) {
    CHECK(err_usage("--beam %d: must be >= 0", -4) == ERR_USAGE);
    CHECK(err_is_usage());
    err_wrap("generate");
    CHECK(err_is_usage() && strstr(err_msg(), "generate: --beam -4") == err_msg());
    err_set("x.parquet: truncated");
    CHECK(!err_is_usage());
    err_usage("u");
    errno = ENOENT;
    err_errno("open y");
    CHECK(!err_is_usage());
    err_usage("u");
    err_saved sv;
    err_save(&sv);
    err_set("clean-up noise");
    err_restore(&sv);
    CHECK(err_is_usage() && !strcmp(err_msg(), "u"));
    err_clear();
    CHECK(!err_is_usage());
}

// the UTF-8 rule of text going into string columns: each kind of invalid sequence is found
static void test_utf8_bad_at(void) {
    CHECK(json_utf8_bad_at("plain ascii") == -1);
    CHECK(json_utf8_bad_at("caf\xc3\xa9 \xe4\xbd\xa0\xe5\xa5\xbd \xf0\x9f\x98\x80") == -1);
    CHECK(json_utf8_bad_at("ab\xff") == 2);                 // never a lead byte
    CHECK(json_utf8_bad_at("x\xc3") == 1);                  // truncated
    CHECK(json_utf8_bad_at("\xc0\xaf") == 0);              // overlong '/'
    CHECK(json_utf8_bad_at("a\xed\xa0\x80") == 1);        // a surrogate
    CHECK(json_utf8_bad_at("\xf4\x90\x80\x80") == 0);    // above U+10FFFF
    CHECK(json_utf8_bad_at("ok\x80") == 2);                 // a lone continuation byte
}

// an integer key beyond what a double holds exactly is refused, not cast (undefined past 2^63)
static void test_json_int_range(void) {
    cJSON *j = cJSON_Parse("{\"a\": 1.2e25, \"b\": -9007199254740992, \"c\": 9007199254740993e3}");
    int64_t v = 0;
    CHECK_FAILS_WITH(json_get_int(j, "a", &v, "c.json"), "c.json: key \"a\" = 1.2e+25 is out of range");
    CHECK_OK(json_get_int(j, "b", &v, "c.json"));
    CHECK(v == -9007199254740992LL);
    CHECK_FAILS_WITH(json_get_int(j, "c", &v, "c.json"), "out of range");
    cJSON_Delete(j);
}

static void test_err_wrap(void) {
    err_set("bad value %d", 7);
    err_wrap("reading %s", "x.json");
    CHECK(!strcmp(err_msg(), "reading x.json: bad value 7"));
}

static void test_rng_deterministic(void) {
    rng a, b;
    rng_seed(&a, 42);
    rng_seed(&b, 42);
    int same = 1;
    for (int i = 0; i < 1000; i++) same &= rng_next(&a) == rng_next(&b);
    CHECK(same);
    rng_seed(&b, 43);
    CHECK(rng_next(&a) != rng_next(&b));
    double sum = 0, sq = 0;
    int n = 200000, below_ok = 1;
    for (int i = 0; i < n; i++) {
        double x = rng_normal(&a);
        sum += x;
        sq += x * x;
        below_ok &= rng_below(&a, 10) < 10;
    }
    CHECK_NEAR(sum / n, 0.0, 0.01);
    CHECK_NEAR(sq / n, 1.0, 0.02);
    CHECK(below_ok);
    uint32_t perm[100];
    for (uint32_t i = 0; i < 100; i++) perm[i] = i;
    rng_shuffle_u32(&a, perm, 100);
    int seen[100] = {0}, moved = 0;
    for (int i = 0; i < 100; i++) {
        seen[perm[i]]++;
        moved += perm[i] != (uint32_t)i;
    }
    int all_once = 1;
    for (int i = 0; i < 100; i++) all_once &= seen[i] == 1;
    CHECK(all_once);
    CHECK(moved > 50);
}

static void test_atomic_write(void) {
    char *p = path_join(g_dir, "a/b/c.txt");
    char *d = path_join(g_dir, "a/b");
    CHECK_OK(file_mkdirs(d));
    CHECK_OK(file_write_atomic(p, "hello", 5));
    char *text;
    size_t n;
    CHECK_OK(file_read_all(p, &text, &n));
    CHECK(n == 5 && !strcmp(text, "hello"));
    free(text);
    // an aborted write leaves the old content and no temporary file
    afile af;
    CHECK_OK(afile_open(&af, p));
    fputs("half", af.fp);
    char *tmp = mem_strdup(af.tmp);
    afile_abort(&af);
    CHECK(!file_exists(tmp));
    CHECK_OK(file_read_all(p, &text, &n));
    CHECK(!strcmp(text, "hello"));
    free(text);
    free(tmp);
    CHECK_FAILS_WITH(file_read_all("/nonexistent/x", &text, &n), "/nonexistent/x");
    CHECK_FAILS_WITH(file_write_atomic("/nonexistent/dir/x", "a", 1), "/nonexistent/dir/x");
    free(p);
    free(d);
}

static void test_dir_commit(void) {
    char *a = path_join(g_dir, "ck.tmp"), *b = path_join(g_dir, "ck");
    char *fa = path_join(a, "f");
    CHECK_OK(file_mkdirs(a));
    CHECK_OK(file_write_atomic(fa, "1", 1));
    CHECK_OK(dir_commit(a, b));
    CHECK(file_is_dir(b) && !file_exists(a));
    CHECK_OK(file_mkdirs(a));
    CHECK_OK(file_write_atomic(fa, "2", 1));
    CHECK_OK(dir_commit(a, b));
    char *fb = path_join(b, "f"), *text;
    CHECK_OK(file_read_all(fb, &text, NULL));
    CHECK(!strcmp(text, "2"));
    free(text);
    free(a), free(b), free(fa), free(fb);
}

static void test_json(void) {
    char *p = path_join(g_dir, "c.json");
    const char *src = "{\"a\": 3, \"b\": 2.5, \"c\": \"x\", \"d\": true, \"e\": 1}";
    CHECK_OK(file_write_atomic(p, src, strlen(src)));
    cJSON *j = json_load_file(p);
    CHECK(j != NULL);
    int64_t a = 0;
    double b = 0;
    int d = 0, e = 0;
    CHECK_OK(json_get_int(j, "a", &a, p));
    CHECK(a == 3);
    CHECK_OK(json_get_double(j, "b", &b, p));
    CHECK(b == 2.5);
    CHECK_OK(json_get_bool(j, "d", &d, p));
    CHECK_OK(json_get_bool(j, "e", &e, p));
    CHECK(d == 1 && e == 1);
    CHECK(!strcmp(json_get_string(j, "c", p), "x"));
    CHECK_FAILS_WITH(json_get_int(j, "b", &a, p), "\"b\" must be an integer");
    CHECK_FAILS_WITH(json_get_int(j, "zz", &a, p), "missing key \"zz\"");
    CHECK_OK(json_opt_int(j, "zz", 9, &a, p));
    CHECK(a == 9);
    cJSON_Delete(j);
    CHECK_OK(file_write_atomic(p, "{\"a\": ", 6));
    err_clear();
    CHECK(json_load_file(p) == NULL && strstr(err_msg(), "invalid JSON"));
    free(p);
}

int main(void) {
    snprintf(g_dir, sizeof g_dir, "/tmp/onerec_test_base_%d", (int)getpid());
    RUN(test_err_wrap);
    RUN(test_err_usage);
    RUN(test_utf8_bad_at);
    RUN(test_json_int_range);
    RUN(test_rng_deterministic);
    RUN(test_atomic_write);
    RUN(test_dir_commit);
    RUN(test_json);
    file_remove_tree(g_dir);
    return test_summary("test_base");
}
