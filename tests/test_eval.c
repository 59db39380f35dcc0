// Result tables (JSON round trip, Markdown layout), SID parsing, and scoring a predictions file
// of every task kind against hand-computed values.
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/file.h"
#include "base/log.h"
#include "eval/bench_score.h"
#include "eval/results.h"
#include "test.h"

static void test_results_table(void) {
    results_table r;
    CHECK_OK(results_init(&r));
    CHECK_OK(results_set(&r, "model", "video", "recall@32", 0.25));
    CHECK_OK(results_set(&r, "popularity", "video", "recall@32", 0.125));
    CHECK_OK(results_set(&r, "popularity", "ad", "recall@32", 0.5));
    CHECK_OK(results_set(&r, "model", "video", "recall@32", 0.375));   // replaced, not duplicated
    CHECK_OK(results_set(&r, "model", "label_pred", "auc", 0.6));
    double v;
    CHECK_OK(results_get(&r, "model", "video", "recall@32", &v));
    CHECK(v == 0.375);
    CHECK_FAILS_WITH(results_get(&r, "model", "ad", "recall@32", &v), "no model / ad / recall@32");
    char *md = results_markdown(&r);
    const char *want = "| task | metric | model | popularity |\n"
                       "|---|---|---:|---:|\n"
                       "| video | recall@32 | 0.3750 | 0.1250 |\n"
                       "| label_pred | auc | 0.6000 | - |\n"
                       "| ad | recall@32 | - | 0.5000 |\n";
    CHECK_MSG(md && !strcmp(md, want), "got:\n%s", md ? md : "(null)");
    free(md);
    const char *p = "/tmp/onerec_test_results.json";
    CHECK_OK(results_save_json(&r, p));
    results_table r2;
    CHECK_OK(results_load(&r2, p));
    CHECK_OK(results_get(&r2, "popularity", "ad", "recall@32", &v));
    CHECK(v == 0.5);
    results_free(&r2);
    results_free(&r);
    const char *bad = "{\"model\": {\"video\": 3}}";
    CHECK_OK(file_write_atomic(p, bad, strlen(bad)));
    CHECK_FAILS_WITH(results_load(&r2, p), "expected {system: {task: {metric: number}}}");
    unlink(p);
    CHECK_OK(results_load(&r2, "/tmp/onerec_no_such_results.json"));   // missing: empty table
    results_free(&r2);
}

static void test_score_file(void) {
    const char *p = "/tmp/onerec_test_preds.jsonl";
    char sid_a[128], sid_b[128], sid_c[128];
    CHECK(sid_format_packed(sid_a, sizeof sid_a, sid_pack(1, 1, 1)) > 0);
    CHECK(sid_format_packed(sid_b, sizeof sid_b, sid_pack(2, 2, 2)) > 0);
    CHECK(sid_format_packed(sid_c, sizeof sid_c, sid_pack(3, 3, 3)) > 0);
    char text[4096];
    snprintf(text, sizeof text,
             // video: sample 1 hits GT item 2 at rank 1 (GT = [2, 1]); sample 2 misses
             "{\"task\": \"video\", \"pred\": [\"<s_a_3><s_b_3><s_c_3>\", \"%s\"], \"answer\": \"%s%s\", \"answer_pid\": [20, 10]}\n"
             "{\"task\": \"video\", \"pred\": [%lld], \"answer\": \"%s\", \"answer_pid\": [30]}\n"
             "\n"
             "{\"task\": \"label_pred\", \"score\": 0.9, \"label\": 1}\n"
             "{\"task\": \"label_pred\", \"logit_yes\": 0.0, \"logit_no\": 1.0, \"answer\": \"否\"}\n"
             "{\"task\": \"label_pred\", \"score\": 0.2, \"answer\": \"是\"}\n"
             "{\"task\": \"item_understand\", \"pred\": \"我喜欢猫\", \"answer\": \"我很喜欢狗\"}\n",
             sid_b, sid_b, sid_a, (long long)sid_pack(1, 1, 1), sid_c);
    CHECK_OK(file_write_atomic(p, text, strlen(text)));
    sid2pid map = {0};
    CHECK_OK(sid2pid_offer(&map, sid_pack(2, 2, 2), 20, 5));
    CHECK_OK(sid2pid_offer(&map, sid_pack(1, 1, 1), 10, 5));
    CHECK_OK(sid2pid_offer(&map, sid_pack(3, 3, 3), 31, 5));   // SID right, item wrong: a PID-mode miss
    results_table r;
    CHECK_OK(results_init(&r));
    bench_score_opts opt = {.pid_map = &map};
    CHECK_OK(bench_score_file(p, "model", &opt, &r));
    double v;
    CHECK_OK(results_get(&r, "model", "video", "pass@1", &v));
    CHECK_NEAR(v, 0.0, 1e-12);
    CHECK_OK(results_get(&r, "model", "video", "pass@32", &v));
    CHECK_NEAR(v, 0.5, 1e-12);
    CHECK_OK(results_get(&r, "model", "video", "position1_pass@32", &v));
    CHECK_NEAR(v, 0.5, 1e-12);
    CHECK_OK(results_get(&r, "model", "video", "recall@32", &v));
    CHECK_NEAR(v, 0.25, 1e-12);
    CHECK_OK(results_get(&r, "model", "video", "pid_recall@32", &v));
    CHECK_NEAR(v, 0.25, 1e-12);
    CHECK_OK(results_get(&r, "model", "video", "samples", &v));
    CHECK(v == 2);
    // scores 0.9 (pos), sigmoid(-1)=0.269 (neg), 0.2 (pos): pairs 1 and 0 -> 0.5
    CHECK_OK(results_get(&r, "model", "label_pred", "auc", &v));
    CHECK_NEAR(v, 0.5, 1e-12);
    CHECK_OK(results_get(&r, "model", "item_understand", "rouge_l", &v));
    CHECK_NEAR(v, 2 * 0.75 * 0.6 / 1.35, 1e-12);
    CHECK_OK(results_get(&r, "model", "item_understand", "char_f1", &v));
    CHECK_NEAR(v, 2 * 0.75 * 0.6 / 1.35, 1e-12);
    results_free(&r);

    const char *bad = "{\"task\": \"video\", \"pred\": [1]}\n";
    CHECK_OK(file_write_atomic(p, bad, strlen(bad)));
    CHECK_OK(results_init(&r));
    CHECK_FAILS_WITH(bench_score_file(p, "m", &opt, &r), "onerec_test_preds.jsonl:1: a ranking sample needs");
    const char *one_class = "{\"task\": \"label_pred\", \"score\": 0.5, \"label\": 1}\n";
    CHECK_OK(file_write_atomic(p, one_class, strlen(one_class)));
    CHECK_FAILS_WITH(bench_score_file(p, "m", &opt, &r), "both classes");
    const char *notjson = "{\"task\": \n";
    CHECK_OK(file_write_atomic(p, notjson, strlen(notjson)));
    CHECK_FAILS_WITH(bench_score_file(p, "m", &opt, &r), "invalid JSON");
    results_free(&r);
    sid2pid_free(&map);
    unlink(p);
}

int main(void) {
    log_set_level(LOG_WARN);
    RUN(test_results_table);
    RUN(test_score_file);
    return test_summary("test_eval");
}
