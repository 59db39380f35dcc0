// Tests of `data import`'s library parts: the CSV/TSV reader (RFC 4180 cases by hand), the
// messages of the log source (file, line/row, column, value), and the rules of import_run on
// hand-checkable logs (K-core cascade, duplicates, the (time, item id) order, --force).
#include <string.h>
#include <unistd.h>

#include "base/err.h"
#include "base/file.h"
#include "base/mem.h"
#include "data/csv.h"
#include "data/import.h"
#include "data/logsrc.h"
#include "data/table.h"
#include "test.h"

static char g_dir[256];

static char *tpath(const char *name) { return test_path(g_dir, name); }

static const char *put(const char *name, const char *text) {
    const char *p = tpath(name);
    CHECK_OK(file_write_atomic(p, text, strlen(text)));
    return p;
}

static void test_csv_rfc4180(void) {
    const char *p = put("a.csv", "\xEF\xBB\xBF" "a,b,c\r\n1,\"x, \"\"y\"\"\",3\r\n\r\n2,\"line1\nline2\",\n3,,\"\"");
    csv_reader *r;
    CHECK_OK(csv_reader_open(&r, p, ','));
    CHECK(csv_reader_ncols(r) == 3 && !strcmp(csv_reader_col_name(r, 0), "a"));   // BOM skipped
    CHECK(csv_reader_next(r) == 1);
    CHECK(!strcmp(csv_reader_field(r, 1), "x, \"y\"") && !strcmp(csv_reader_field(r, 2), "3"));
    CHECK(csv_reader_line(r) == 2);
    CHECK(csv_reader_next(r) == 1);   // the blank line is skipped
    CHECK(!strcmp(csv_reader_field(r, 1), "line1\nline2") && !strcmp(csv_reader_field(r, 2), ""));
    CHECK(csv_reader_line(r) == 4);
    CHECK(csv_reader_next(r) == 1);   // no line end after the last record
    CHECK(csv_reader_line(r) == 6 && !strcmp(csv_reader_field(r, 0), "3") && !strcmp(csv_reader_field(r, 2), ""));
    CHECK(csv_reader_next(r) == 0);
    csv_reader_close(r);
    CHECK_OK(csv_reader_open(&r, put("t.tsv", "u\tv\n7\tsome text, with a comma\n"), '\t'));
    CHECK(csv_reader_next(r) == 1 && !strcmp(csv_reader_field(r, 1), "some text, with a comma"));
    csv_reader_close(r);
}

static void test_csv_errors(void) {
    csv_reader *r = NULL;
    CHECK_FAILS_WITH(csv_reader_open(&r, put("empty.csv", ""), ','), "empty.csv is empty (no header line)");
    CHECK_OK(csv_reader_open(&r, put("n.csv", "a,b,c\n1,2,3\n4,5\n"), ','));
    CHECK(csv_reader_next(r) == 1);
    CHECK_FAILS_WITH(csv_reader_next(r), "n.csv: line 3 has 2 fields, the header has 3");
    csv_reader_close(r);
    CHECK_OK(csv_reader_open(&r, put("q.csv", "a,b\n1,\"open\n2,3\n"), ','));
    CHECK_FAILS_WITH(csv_reader_next(r), "a quoted field opened on line 2 is never closed");
    csv_reader_close(r);
    CHECK_OK(csv_reader_open(&r, put("x.csv", "a,b\n1,\"ab\"c\n"), ','));
    CHECK_FAILS_WITH(csv_reader_next(r), "x.csv: line 2: text after the closing quote of field 2");
    csv_reader_close(r);
}

static void test_logsrc_messages(void) {
    logsrc s;
    int col;
    int64_t v;
    double d;
    const char *t;
    CHECK_OK(logsrc_open(&s, put("l.csv", "user_id,item_id,title\n1,abc,ok\n2,3,bad \xC3(\n")));
    CHECK_FAILS_WITH(logsrc_find(&s, "ts", "--time-col", &col),
                     "has no column \"ts\" (--time-col); its columns are: user_id, item_id, title");
    CHECK(logsrc_next(&s) == 1);
    CHECK_OK(logsrc_get_i64(&s, 0, &v));
    CHECK(v == 1);
    CHECK_FAILS_WITH(logsrc_get_i64(&s, 1, &v), "l.csv: line 2, column item_id: \"abc\" is not an integer");
    CHECK(logsrc_next(&s) == 1);
    CHECK_FAILS_WITH(logsrc_get_text(&s, 2, &t), "l.csv: line 3, column title: invalid UTF-8 at byte 4");
    CHECK(logsrc_next(&s) == 0);
    logsrc_close(&s);
    CHECK_OK(logsrc_open(&s, put("l.jsonl", "{\"user_id\": 1.5, \"r\": \"4.5\", \"y\": 1995}\n{\"user_id\": null}\n")));
    CHECK(logsrc_next(&s) == 1);
    CHECK_FAILS_WITH(logsrc_get_i64(&s, 0, &v), "l.jsonl: row 0, column user_id: 1.5 is not an integer");
    CHECK_OK(logsrc_get_f64(&s, 1, &d));
    CHECK(d == 4.5);
    CHECK_OK(logsrc_get_text(&s, 2, &t));
    CHECK(!strcmp(t, "1995"));
    CHECK(logsrc_next(&s) == 1);
    CHECK_FAILS_WITH(logsrc_get_i64(&s, 0, &v), "row 1, column user_id: null is not an integer");
    CHECK_OK(logsrc_get_text(&s, 2, &t));   // absent: empty text
    CHECK(!strcmp(t, ""));
    logsrc_close(&s);
    CHECK_FAILS_WITH(logsrc_open(&s, put("l.txt", "a\n")), "l.txt: unknown file type");
    CHECK_OK(logsrc_open(&s, put("h.csv", "a,b\n")));
    CHECK_FAILS_WITH(logsrc_next(&s), "h.csv has no data rows");
    logsrc_close(&s);
}

// The sequences table as "uid:train...|valid|test;" lines.
static void read_sequences(const char *dir, char *out, size_t cap) {
    char path[600];
    snprintf(path, sizeof path, "%s/sequences%s", dir, dtab_default_ext());
    dtab_reader *r;
    out[0] = 0;
    if (dtab_reader_open(&r, path)) {
        CHECK_MSG(0, "%s", err_msg());
        return;
    }
    cJSON *row;
    while (dtab_reader_next(r, &row) > 0) {
        size_t l = strlen(out);
        snprintf(out + l, cap - l, "%d:", cJSON_GetObjectItem(row, "user_id")->valueint);
        for (cJSON *e = cJSON_GetObjectItem(row, "train")->child; e; e = e->next) {
            l = strlen(out);
            snprintf(out + l, cap - l, "%d%s", e->valueint, e->next ? "," : "");
        }
        l = strlen(out);
        snprintf(out + l, cap - l, "|%d|%d;", cJSON_GetObjectItem(row, "valid")->valueint,
                 cJSON_GetObjectItem(row, "test")->valueint);
        cJSON_Delete(row);
    }
    dtab_reader_close(r);
}

static void test_import_rules(void) {
    // user 1: equal times order by item id (10 before 20 although 20 comes first in the file);
    // user 2: a duplicate of item 10 whose later row holds the earlier time (that one stays);
    // user 3: items 40 and 50 have one interaction each: the 2-core drops them, which leaves
    //         user 3 with one row, so the next pass drops that too; user 4 has two items only;
    // user 5: item 60 goes in the 2-core (3 items left); with no K-core, --max-history 1 keeps
    //         one of its two training items.
    const char *log = put("log.csv",
                          "user_id,item_id,timestamp\n"
                          "1,20,5\n1,10,5\n1,30,1\n"
                          "2,10,3\n2,20,4\n2,30,9\n2,10,1\n"
                          "3,20,2\n3,40,3\n3,50,4\n"
                          "4,10,1\n4,30,2\n"
                          "5,10,1\n5,20,2\n5,30,3\n5,60,4\n");
    import_options o;
    import_options_default(&o);
    o.interactions = log;
    o.out = tpath("w");
    o.kcore = 2;
    import_stats st;
    CHECK_OK(import_run(&o, &st));
    char seq[512];
    read_sequences(o.out, seq, sizeof seq);
    CHECK_MSG(!strcmp(seq, "1:30|10|20;2:10|20|30;5:10|20|30;"), "%s", seq);
    CHECK(st.rows_read == 16 && st.dropped_duplicates == 1 && st.dropped_kcore == 4 && st.kcore_rounds == 3);
    CHECK(st.users_short == 1 && st.dropped_short == 2 && st.users == 3 && st.items == 3);
    CHECK(st.items_without_text == 3 && st.raw_rows == 9);
    // an existing output is refused unless --force
    CHECK_FAILS_WITH(import_run(&o, &st), "exists and is not empty (--force");
    o.force = 1;
    o.kcore = 0;
    o.max_history = 1;
    CHECK_OK(import_run(&o, &st));
    read_sequences(o.out, seq, sizeof seq);
    CHECK_MSG(!strcmp(seq, "1:30|10|20;2:10|20|30;3:20|40|50;5:20|30|60;"), "%s", seq);
    CHECK(st.trimmed_history == 1 && st.train_items == 4);
}

int main(void) {
    snprintf(g_dir, sizeof g_dir, "/tmp/onerec_test_import_%d", (int)getpid());
    file_remove_tree(g_dir);
    file_mkdirs(g_dir);
    RUN(test_csv_rfc4180);
    RUN(test_csv_errors);
    RUN(test_logsrc_messages);
    RUN(test_import_rules);
    file_remove_tree(g_dir);
    return test_summary("test_import");
}
