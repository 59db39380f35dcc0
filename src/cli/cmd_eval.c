// onerec eval: RecIF-Bench scores of a predictions file (JSONL, see src/eval/bench_score.h) into
// results.json / a Markdown table, optionally next to the baselines' results.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "base/log.h"
#include "cli/args.h"
#include "eval/metrics_rank.h"
#include "eval/bench_score.h"
#include "eval/results.h"

int cmd_eval_model(int argc, char **argv);

int cmd_eval(int argc, char **argv) {
    // with --model the predictions are generated first (cmd_eval_model.c)
    for (int i = 1; i < argc; i++)
        if (!strcmp(argv[i], "--model") || !strncmp(argv[i], "--model=", 8)) return cmd_eval_model(argc, argv);
    char *pred = NULL, *name = "model", *json = NULL, *md = NULL, *ks_s = "1,32", *s2p = NULL, *base = NULL;
    arg_spec specs[] = {
        {"predictions", ARG_STR, &pred, "predictions JSONL (one sample per line: task, pred, answer, ...)", 1},
        {"name", ARG_STR, &name, "system name in the table", 0},
        {"k", ARG_STR, &ks_s, "cut-offs for pass@k / position1_pass@k / recall@k", 0},
        {"sid2pid", ARG_STR, &s2p, "sid2pid.json: also score PID mode (pid_* metrics, against answer_pid)", 0},
        {"baselines", ARG_STR, &base, "results.json of the baselines (e.g. from `onerec baseline eval`) to show alongside", 0},
        {"results", ARG_STR, &json, "results.json to write (merged into when it exists)", 0},
        {"markdown", ARG_STR, &md, "write the Markdown table here", 0},
        {0}};
    int rc = args_parse(argc, argv, specs, "onerec eval --predictions FILE [--results results.json]\n       onerec eval --model DIR --data BENCH_DIR --out DIR (see onerec eval --model x --help)",
                        "Score RecIF-Bench predictions: recall/pass/position1_pass@k, AUC, ROUGE-L, char F1.",
                        NULL, 0, NULL);
    if (rc) return rc > 0 ? 0 : 2;
    bench_score_opts opt = {0};
    int ks[METRICS_MAX_K], nk;
    if (metrics_parse_ks(ks_s, ks, &nk)) return cli_fail("eval");
    opt.ks = ks;
    opt.nk = nk;
    sid2pid map = {0};
    if (s2p) {
        if (sid2pid_load_json(&map, s2p)) return cli_fail("eval");
        opt.pid_map = &map;
        log_info("sid2pid: %lld SIDs", (long long)map.n);
    }
    results_table r = {0};
    // merge order: an existing results.json, then the baselines' file, then this system
    rc = results_prepare_files(json, md);
    if (!rc) rc = json ? results_load(&r, json) : results_init(&r);
    if (!rc && base) rc = results_merge_file(&r, base);
    if (!rc) rc = bench_score_file(pred, name, &opt, &r);
    if (!rc && json) rc = results_save_json(&r, json);
    if (!rc && md) rc = results_save_markdown(&r, md);
    if (!rc) {
        char *text = results_markdown(&r);
        if (text) fputs(text, stdout);
        else rc = ERR_FAIL;
        free(text);
    }
    results_free(&r);
    sid2pid_free(&map);
    return rc ? cli_fail("eval") : 0;
}
