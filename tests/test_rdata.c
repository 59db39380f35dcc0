// R serialization reader and lazy-load DB: the fixture written by tests/ref/rdata_fixture.py (from
// the format's description; python3-rdata confirms it there) read back exactly, broken databases
// failing with messages that name the file and offset, and hostile streams (every truncation,
// every single-byte change, absurd lengths, deep nesting, dangling references) failing cleanly.
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

#include "base/err.h"
#include "base/file.h"
#include "base/mem.h"
#include "formats/rdata.h"
#include "test.h"

static char tmpdir[64];

// Writes the fixture (or a --bad variant) and returns its prefix (malloc'd).
static char *fixture(const char *bad) {
    char *prefix = mem_printf("%s/%s", tmpdir, bad ? bad : "good");
    char cmd[512];
    snprintf(cmd, sizeof cmd, "/usr/bin/python3 tests/ref/rdata_fixture.py %s%s%s", prefix, bad ? " --bad " : "",
             bad ? bad : "");
    CHECK_MSG(system(cmd) == 0, "%s", cmd);
    return prefix;
}

static int str_is(const char *got, const char *want) { return want ? got && !strcmp(got, want) : got == NULL; }

static void test_fixture_df(void) {
    char *p = fixture(NULL);
    rdata_db *db;
    robj *df = NULL;
    CHECK_OK(rdata_db_open(&db, p));
    if (!db) return;
    CHECK(rdata_db_count(db) == 4 && !strcmp(rdata_db_name(db, 0), "df") && rdata_db_find(db, "nested") == 3);
    CHECK_OK(rdata_db_read(db, "df", &df));
    if (df) {
        CHECK(robj_df_nrow(df) == 5 && df->n == 5 && robj_inherits(df, "data.frame"));
        const robj *id = robj_df_column(df, "id"), *score = robj_df_column(df, "score"), *name = robj_df_column(df, "name");
        const robj *flag = robj_df_column(df, "flag"), *kind = robj_df_column(df, "kind");
        CHECK(id && id->type == RSXP_INT && id->n == 5);
        if (id) CHECK(id->i[0] == 1 && id->i[1] == -2 && id->i[2] == R_NA_INT && id->i[3] == INT32_MAX && id->i[4] == 0);
        CHECK(score && score->type == RSXP_REAL);
        if (score)
            CHECK(score->d[0] == 0.5 && score->d[1] == -1.25e10 && isnan(score->d[2]) && isinf(score->d[3]) &&
                  score->d[4] == 0 && signbit(score->d[4]));
        CHECK(name && name->type == RSXP_STR);
        if (name)   // the latin1-flagged "naïve" comes out as UTF-8
            CHECK(str_is(name->s[0], "alpha") && str_is(name->s[1], NULL) && str_is(name->s[2], "") &&
                  str_is(name->s[3], "caf\xc3\xa9") && str_is(name->s[4], "na\xc3\xafve"));
        CHECK(flag && flag->type == RSXP_LGL);
        if (flag) CHECK(flag->i[0] == 1 && flag->i[1] == 0 && flag->i[2] == R_NA_INT && flag->i[3] == 1);
        const robj *lv = robj_factor_levels(kind);
        CHECK(lv && lv->n == 3 && str_is(lv->s[2], "z"));
        const char *want[] = {"y", "x", NULL, "y", "z"};
        for (int k = 0; k < 5 && kind; k++) {
            const char *s;
            CHECK_OK(robj_string_at(kind, k, &s));
            CHECK_MSG(str_is(s, want[k]), "kind[%d] = %s", k, s ? s : "NA");
        }
        int64_t v;
        int na;
        CHECK_FAILS_WITH(robj_int_at(score, 0, &v, &na), "element 1: 0.5 is not an integer");
        CHECK_OK(robj_int_at(id, 2, &v, &na));
        CHECK(na == 1);
        CHECK_FAILS_WITH(robj_df_column(df, "nope") ? 0 : ERR_FAIL, "no column \"nope\" (columns: id, score, name, flag, kind)");
        kind->i[0] = 4;   // a factor code past its levels
        const char *s;
        CHECK_FAILS_WITH(robj_string_at(kind, 0, &s), "factor code 4 outside its 3 levels");
        robj_free(df);
    }
    rdata_db_close(db);
    free(p);
}

static void test_fixture_others(void) {
    char *p = fixture(NULL);
    rdata_db *db;
    CHECK_OK(rdata_db_open(&db, p));
    if (!db) return;
    robj *w = NULL, *seq = NULL, *nested = NULL;
    CHECK_OK(rdata_db_read(db, "words", &w));   // a version-2 serialization
    if (w) {
        CHECK(w->type == RSXP_STR && w->n == 4 && robj_df_nrow(w) == -1);
        CHECK(str_is(w->s[1], "universally acknowledged") && !w->s[2] &&
              str_is(w->s[3], "\xef\xac\x81n \xe2\x80\x94 \xe2\x80\x9cquoted\xe2\x80\x9d"));
    }
    CHECK_OK(rdata_db_read(db, "seq", &seq));   // ALTREP compact_intseq 1:10, materialised
    if (seq) {
        CHECK(seq->type == RSXP_INT && seq->n == 10);
        for (int k = 0; k < 10 && seq->type == RSXP_INT; k++) CHECK(seq->i[k] == k + 1);
    }
    CHECK_OK(rdata_db_read(db, "nested", &nested));   // the second `names` is a reference
    if (nested) {
        const robj *a = robj_get(nested, "a"), *c = robj_get(robj_get(nested, "b"), "c");
        CHECK(a && a->type == RSXP_INT && a->n == 1 && a->i[0] == 7);
        CHECK(c && c->type == RSXP_STR && str_is(c->s[0], "deep"));
        CHECK(robj_get(nested, "zz") == NULL);
    }
    robj *x = NULL;
    CHECK_FAILS_WITH(rdata_db_read(db, "zzz", &x), "no object \"zzz\" (it has: df, words, seq, nested)");
    CHECK(x == NULL);
    robj_free(w);
    robj_free(seq);
    robj_free(nested);
    rdata_db_close(db);
    free(p);
}

// Each broken database fails with a message naming the file and where.
static void test_bad_db(void) {
    static const struct { const char *bad, *on_open, *on_read; } cases[] = {
        {"zlib-truncated", NULL, "zlib stream truncated (expected"},
        {"zlib-corrupt", NULL, "corrupt zlib stream at compressed byte"},
        {"xdr-truncated", NULL, "stream truncated"},
        {"wrong-magic", NULL, "byte 0: bad magic 59 0a: expected \"X\\n\""},
        {"rdx-garbage", "rdx-garbage.rdx: byte 0: bad magic 74 68", NULL},
        {"rdx-not-index", "rdx-not-index.rdx: not a lazy-load index", NULL},
    };
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        char *p = fixture(cases[k].bad);
        rdata_db *db = NULL;
        robj *o = NULL;
        if (cases[k].on_open) {
            CHECK_FAILS_WITH(rdata_db_open(&db, p), cases[k].on_open);
        } else {
            CHECK_OK(rdata_db_open(&db, p));
            if (db) {
                CHECK_FAILS_WITH(rdata_db_read(db, "df", &o), cases[k].on_read);
                CHECK_MSG(strstr(err_msg(), ".rdb: record \"df\" at offset 0"), "%s: %s", cases[k].bad, err_msg());
                CHECK_OK(rdata_db_read(db, "words", &o));   // the other records are still fine
                robj_free(o);
            }
        }
        rdata_db_close(db);
        free(p);
    }
    // the .rdb cut short: a record runs past its end
    char *p = fixture("short");
    char *rdb = mem_printf("%s.rdb", p);
    CHECK(truncate(rdb, file_size(rdb) - 10) == 0);
    rdata_db *db = NULL;
    robj *o = NULL;
    CHECK_OK(rdata_db_open(&db, p));
    if (db) CHECK_FAILS_WITH(rdata_db_read(db, "nested", &o), "bytes run past the end of the file");
    rdata_db_close(db);
    CHECK(rdata_db_open(&db, "/nonexistent/x") != 0 && strstr(err_msg(), "/nonexistent/x.rdx"));
    free(rdb);
    free(p);
}

// The serialization of `df`, inflated from the fixture's .rdb.
static uint8_t *df_stream(size_t *n) {
    char *p = fixture(NULL), *rdb = mem_printf("%s.rdb", p);
    char *data = NULL;
    size_t len = 0;
    uint8_t *out = NULL;
    CHECK_OK(file_read_all(rdb, &data, &len));
    if (data && len > 4) {
        uLongf want = (uLongf)((uint8_t)data[0] << 24 | (uint8_t)data[1] << 16 | (uint8_t)data[2] << 8 | (uint8_t)data[3]);
        out = malloc(want);
        // the df record is first; uncompress stops at its stream's end
        z_stream zs = {0};
        inflateInit(&zs);
        zs.next_in = (Bytef *)data + 4;
        zs.avail_in = (uInt)len - 4;
        zs.next_out = out;
        zs.avail_out = (uInt)want;
        CHECK(inflate(&zs, Z_FINISH) == Z_STREAM_END);
        inflateEnd(&zs);
        *n = want;
    }
    free(data);
    free(rdb);
    free(p);
    return out;
}

static void test_hostile(void) {
    size_t n = 0;
    uint8_t *s = df_stream(&n);
    if (!s) return;
    robj *o = NULL;
    CHECK_OK(rdata_parse(&o, s, n, "df"));
    robj_free(o);
    // every strict prefix fails (the stream ends inside the object), with a byte offset
    int bad = 0;
    for (size_t k = 0; k < n; k++) {
        err_clear();
        if (rdata_parse(&o, s, k, "cut") == 0 || !strstr(err_msg(), "cut: byte ")) bad++;
        if (o) robj_free(o);
        o = NULL;
    }
    CHECK_MSG(bad == 0, "%d prefixes parsed or failed without an offset", bad);
    // every byte changed to each of a few values: success or a clean failure (ASan/UBSan watch)
    uint8_t *c = malloc(n);
    static const uint8_t vals[] = {0x00, 0xff, 0x7f, 0x80, 0x01, 0x13, 0x10, 0xee};
    for (size_t k = 0; k < n; k++)
        for (size_t v = 0; v < sizeof vals; v++) {
            memcpy(c, s, n);
            c[k] = vals[v];
            if (rdata_parse(&o, c, n, "flip") == 0) robj_free(o);
        }
    free(c);
    free(s);
    // a 2^31-element integer vector in a 30-byte stream
    uint8_t huge[] = {'X', '\n', 0, 0, 0, 2, 0, 4, 1, 1, 0, 2, 3, 0, 0, 0, 0, 13, 0x7f, 0xff, 0xff, 0xff, 0, 0, 0, 1};
    CHECK_FAILS_WITH(rdata_parse(&o, huge, sizeof huge, "huge"), "huge: byte 18: integer of length 2147483647 needs at least");
    // a reference to an object never read
    uint8_t ref[] = {'X', '\n', 0, 0, 0, 2, 0, 4, 1, 1, 0, 2, 3, 0, 0, 0, 5, 0xff};
    CHECK_FAILS_WITH(rdata_parse(&o, ref, sizeof ref, "ref"), "ref: byte 14: reference 5 to an object not read yet");
    // lists nested 10,000 deep: a depth error, not a stack overflow
    size_t dn = 14 + 10000 * 8;
    uint8_t *deep = calloc(1, dn);
    memcpy(deep, huge, 14);
    for (size_t k = 0; k < 10000; k++) {
        uint8_t cell[8] = {0, 0, 0, 19, 0, 0, 0, 1};
        memcpy(deep + 14 + 8 * k, cell, 8);
    }
    CHECK_FAILS_WITH(rdata_parse(&o, deep, dn, "deep"), "nested deeper than");
    free(deep);
    uint8_t ascii[] = {'A', '\n', '2', '\n'};
    CHECK_FAILS_WITH(rdata_parse(&o, ascii, sizeof ascii, "a.rds"), "ASCII serialization is not supported");
}

int main(void) {
    snprintf(tmpdir, sizeof tmpdir, "/tmp/test_rdata.XXXXXX");
    if (!mkdtemp(tmpdir)) return 1;
    RUN(test_fixture_df);
    RUN(test_fixture_others);
    RUN(test_bad_db);
    RUN(test_hostile);
    file_remove_tree(tmpdir);
    return test_summary("test_rdata");
}
