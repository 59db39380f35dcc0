// onerec eval --model DIR --data BENCH_DIR: generate and score RecIF-Bench with a model.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "base/mem.h"
#include "base/outdir.h"
#include "cli/args.h"
#include "eval/bench_run.h"
#include "eval/metrics_rank.h"

int cmd_eval_model(int argc, char **argv);

int cmd_eval_model(int argc, char **argv) {
    bench_run_opts o = {.name = "model", .width = 32, .max_text_tokens = 64};
    char *model = NULL, *data = NULL, *out = NULL, *name = "model", *general = NULL, *tasks = NULL, *json = NULL, *md = NULL;
    char *judge = NULL, *baselines = NULL;
    int64_t max_samples = 0, general_samples = 0;
    int constrain = 0, width = 32, text_tokens = 64, exclude_history = 0, ks[METRICS_MAX_K], nk = 0;
    char *ks_s = "1,32";
    arg_spec specs[] = {
        {"model", ARG_STR, &model, "HF model dir with itemic tokens", 1},
        {"data", ARG_STR, &data, "benchmark dir ({task}/{task}_test.parquet, sid2pid.json, product_sid2pid.json)", 1},
        {"out", ARG_STR, &out, "output dir: pred_{task}.jsonl, results.json, results.md", 1},
        {"name", ARG_STR, &name, "system name in the results", 0},
        {"tasks", ARG_STR, &tasks, "comma-separated subset of the 8 tasks (default: all; none: only --general)", 0},
        {"max-samples", ARG_I64, &max_samples, "samples per task at most (0: all)", 0},
        {"width", ARG_INT, &width, "beam width (the reference: 32)", 0},
        {"k", ARG_STR, &ks_s, "cut-offs of the ranking metrics", 0},
        {"constrain", ARG_BOOL, &constrain, "beams restricted to real items (a SID trie; the reference has none)", 0},
        {"exclude-history", ARG_BOOL, &exclude_history,
         "with --constrain: no beam completes a SID the prompt shows (the user's history), as the baselines", 0},
        {"text-tokens", ARG_INT, &text_tokens, "new tokens for item_understand / rec_reason", 0},
        {"judge", ARG_STR, &judge, "judge model dir: also score item_understand (info points) and rec_reason (1-5)", 0},
        {"general", ARG_STR, &general, "general_test table: also score general skill (exact match)", 0},
        {"general-samples", ARG_I64, &general_samples, "general questions at most (0: all)", 0},
        {"baselines", ARG_STR, &baselines, "results.json of the baselines (onerec baseline ...) to show beside the model", 0},
        {"results", ARG_STR, &json, "also merge into this results.json", 0},
        {"markdown", ARG_STR, &md, "also write the Markdown table here", 0},
        {0}};
    int r = args_parse(argc, argv, specs, "onerec eval --model DIR --data BENCH_DIR --out DIR [options]",
                       "RecIF-Bench with a model: beam search over items (SID and PID mode), label_pred AUC, text scores.",
                       NULL, 0, NULL);
    if (r) return r > 0 ? 0 : 2;
    if (exclude_history && !constrain) {
        fprintf(stderr, "onerec eval: --exclude-history needs --constrain (it removes items from the SID trie)\n");
        return 2;
    }
    if (metrics_parse_ks(ks_s, ks, &nk)) return cli_fail("eval");
    o.ks = ks, o.nk = nk;
    char *list[16];
    int nt = 0;
    char *copy = tasks ? mem_strdup(tasks) : NULL;
    for (char *t = copy ? strtok(copy, ",") : NULL; t && nt < 16; t = strtok(NULL, ",")) list[nt++] = t;
    o.model_dir = model, o.bench_dir = data, o.out_dir = out, o.name = name, o.general_path = general, o.judge_dir = judge;
    int none = tasks && !strcmp(tasks, "none");
    o.tasks = tasks ? (const char *const *)list : NULL, o.ntasks = none ? 0 : nt;
    o.max_samples = max_samples, o.general_samples = general_samples, o.width = width, o.constrain = constrain;
    o.exclude_history = exclude_history;
    o.max_text_tokens = text_tokens;
    results_table res;
    outdir od;
    if (results_prepare_files(json, md) || outdir_open(&od, out, "eval", 0)) {
        free(copy);
        return cli_fail("eval");
    }
    int rc = json ? results_load(&res, json) : results_init(&res);
    // their systems first, so the table reads baselines, then the model
    if (!rc && baselines) rc = results_merge_file(&res, baselines);
    if (!rc) rc = bench_run_model(&o, &res);
    char *rj = mem_printf("%s/results.json", out), *rm = mem_printf("%s/results.md", out);
    if (!rc) rc = results_save_json(&res, rj) || results_save_markdown(&res, rm);
    if (!rc && json) rc = results_save_json(&res, json);
    if (!rc && md) rc = results_save_markdown(&res, md);
    if (!rc) {
        char *text = results_markdown(&res);
        if (text) fputs(text, stdout);
        free(text);
    }
    results_free(&res);
    free(rj), free(rm), free(copy);
    rc = outdir_close(&od, rc, NULL);
    return rc ? cli_fail("eval") : 0;
}
