// onerec baseline train|eval|rank|world|bench: popularity / item-kNN / SASRec on item-id sequences.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "base/file.h"
#include "base/log.h"
#include "base/outdir.h"
#include "cli/args.h"
#include "eval/baseline.h"
#include "eval/harness.h"
#include "eval/bench_seq.h"
#include "eval/results.h"
#include "eval/seqdata.h"

#define BASELINE_FLAGS(c)                                                                                      \
    {"exclude-history", ARG_BOOL, &(c).exclude_history, "never recommend an item already in the history", 0},  \
    {"knn-window", ARG_INT, &(c).knn_window, "item_knn: co-occurrence window (steps)", 0},                     \
    {"knn-neighbours", ARG_INT, &(c).knn_neighbours, "item_knn: neighbours kept per item", 0},                 \
    {"knn-history", ARG_INT, &(c).knn_history, "item_knn: most recent history items that vote", 0},            \
    {"knn-decay", ARG_DOUBLE, &(c).knn_decay, "item_knn: weight decay per older voter", 0},                    \
    {"knn-symmetric", ARG_BOOL, &(c).knn_symmetric, "item_knn: count co-occurrence in both directions", 0},    \
    {"dim", ARG_INT, &(c).sasrec.dim, "sasrec: embedding width", 0},                                           \
    {"layers", ARG_INT, &(c).sasrec.layers, "sasrec: transformer blocks", 0},                                  \
    {"heads", ARG_INT, &(c).sasrec.heads, "sasrec: attention heads", 0},                                       \
    {"maxlen", ARG_INT, &(c).sasrec.maxlen, "sasrec: most recent items seen", 0},                              \
    {"epochs", ARG_INT, &(c).sasrec.epochs, "sasrec: training epochs", 0},                                     \
    {"batch", ARG_INT, &(c).sasrec.batch, "sasrec: sequences per step", 0},                                    \
    {"lr", ARG_FLOAT, &(c).sasrec.lr, "sasrec: Adam learning rate", 0},                                        \
    {"weight-decay", ARG_FLOAT, &(c).sasrec.weight_decay, "sasrec: decoupled weight decay", 0}

static int print_results(const results_table *r, const char *json_path, const char *md_path) {
    if (json_path && results_save_json(r, json_path)) return ERR_FAIL;
    if (md_path && results_save_markdown(r, md_path)) return ERR_FAIL;
    char *md = results_markdown(r);
    if (!md) return ERR_FAIL;
    fputs(md, stdout);
    free(md);
    return 0;
}

static int do_train(int argc, char **argv) {
    baseline_config c;
    baseline_config_default(&c, BASELINE_ITEMKNN);
    char *kind = "item_knn", *train = NULL, *out = NULL;
    int64_t seed = 42;
    arg_spec specs[] = {
        {"kind", ARG_STR, &kind, "popularity | item_knn | sasrec", 0},
        {"train", ARG_STR, &train, "training sequences (one line per user: item ids, oldest first)", 1},
        {"out", ARG_STR, &out, "model file to write", 1},
        {"seed", ARG_I64, &seed, "random seed (sasrec)", 0},
        BASELINE_FLAGS(c),
        {0}};
    int rc = args_parse(argc, argv, specs, "onerec baseline train --kind K --train FILE --out MODEL",
                        "Fit a baseline on item-id sequences and save it.", NULL, 0, NULL);
    if (rc) return rc > 0 ? 0 : 2;
    baseline_kind k;
    if (baseline_kind_parse(kind, &k)) return cli_fail("baseline train");
    c.kind = k;
    c.seed = (uint64_t)seed;
    seq_set s;
    if (outdir_prepare_file(out) || seq_file_read(train, &s)) return cli_fail("baseline train");
    log_info("%lld sequences, %d items, %lld interactions", (long long)s.nseq, s.nitems, (long long)s.offsets[s.nseq]);
    baseline *b;
    rc = baseline_fit(&b, &c, &s);
    seq_set_free(&s);
    if (rc) return cli_fail("baseline train");
    rc = baseline_save(b, out);
    baseline_free(b);
    if (rc) return cli_fail("baseline train");
    printf("%s\n", out);
    return 0;
}

static int do_eval(int argc, char **argv) {
    char *model = NULL, *test = NULL, *ks_s = "1,32", *name = NULL, *task = "video", *json = NULL, *md = NULL;
    arg_spec specs[] = {
        {"model", ARG_STR, &model, "model file from `baseline train`", 1},
        {"test", ARG_STR, &test, "eval samples (one line each: history ids | target ids)", 1},
        {"k", ARG_STR, &ks_s, "cut-offs", 0},
        {"name", ARG_STR, &name, "system name in the table (default: the baseline kind)", 0},
        {"task", ARG_STR, &task, "task name in the table", 0},
        {"results", ARG_STR, &json, "results.json to add to (created when missing)", 0},
        {"markdown", ARG_STR, &md, "write the Markdown table here", 0},
        {0}};
    int rc = args_parse(argc, argv, specs, "onerec baseline eval --model MODEL --test FILE",
                        "Rank every test history and print pass@k, position1_pass@k, recall@k.", NULL, 0, NULL);
    if (rc) return rc > 0 ? 0 : 2;
    int ks[METRICS_MAX_K], nk;
    if (metrics_parse_ks(ks_s, ks, &nk)) return cli_fail("baseline eval");
    baseline *b;
    if (baseline_load(&b, model)) return cli_fail("baseline eval");
    eval_set ev;
    if (results_prepare_files(json, md) || eval_file_read(test, &ev)) {
        baseline_free(b);
        return cli_fail("baseline eval");
    }
    rec_metrics m;
    results_table r = {0};
    rc = rec_metrics_init(&m, ks, nk);
    if (!rc) rc = eval_ranking(eval_rank_baseline, b, &ev, &m);
    if (!rc) rc = json ? results_load(&r, json) : results_init(&r);
    if (!rc) rc = results_add_rec(&r, name ? name : baseline_kind_name(baseline_get_config(b)->kind), task, &m);
    if (!rc) rc = print_results(&r, json, md);
    results_free(&r);
    eval_set_free(&ev);
    baseline_free(b);
    return rc ? cli_fail("baseline eval") : 0;
}

static int do_rank(int argc, char **argv) {
    char *model = NULL, *hist = "";
    int k = 10;
    arg_spec specs[] = {{"model", ARG_STR, &model, "model file", 1},
                        {"history", ARG_STR, &hist, "item ids, oldest first, space-separated", 0},
                        {"k", ARG_INT, &k, "how many items", 0},
                        {0}};
    int rc = args_parse(argc, argv, specs, "onerec baseline rank --model MODEL --history \"1 2 3\"",
                        "Print the top-k items for one history.", NULL, 0, NULL);
    if (rc) return rc > 0 ? 0 : 2;
    if (k < 1) {
        err_set("--k must be >= 1");
        return cli_fail("baseline rank");
    }
    int32_t h[4096];
    int n = 0;
    for (char *p = hist, *end; *p && n < 4096; p = end) {
        long v = strtol(p, &end, 10);
        if (end == p) {
            if (*p == ' ') {
                end = p + 1;
                continue;
            }
            err_set("--history: \"%s\" is not a list of item ids", hist);
            return cli_fail("baseline rank");
        }
        h[n++] = (int32_t)v;
    }
    baseline *b;
    if (baseline_load(&b, model)) return cli_fail("baseline rank");
    int32_t *out = malloc((size_t)k * sizeof *out);
    int m = out ? baseline_rank(b, h, n, k, out) : ERR_FAIL;
    for (int i = 0; i < m; i++) printf(i ? " %d" : "%d", out[i]);
    if (m >= 0) printf("\n");
    free(out);
    baseline_free(b);
    return m < 0 ? cli_fail("baseline rank") : 0;
}

#define WORLD_FLAGS(b)                                                                           \
    {"items", ARG_INT, &(b).nitems, "catalogue size", 0},                                        \
    {"branch", ARG_INT, &(b).branch, "successors per item", 0},                                  \
    {"jump", ARG_DOUBLE, &(b).jump, "probability of a jump to a popular item", 0},               \
    {"zipf", ARG_DOUBLE, &(b).zipf, "Zipf exponent of popularity", 0},                           \
    {"users", ARG_I64, &(b).users, "training users", 0},                                         \
    {"eval-users", ARG_I64, &(b).eval_users, "held-out users", 0},                               \
    {"len", ARG_INT, &(b).len, "items per user", 0},                                             \
    {"targets", ARG_INT, &(b).targets, "ground-truth items per held-out user (the last ones)", 0}

static int do_world(int argc, char **argv) {
    markov_bench b;
    markov_bench_default(&b);
    char *out = NULL;
    int64_t seed = 1;
    arg_spec specs[] = {{"out", ARG_STR, &out, "directory for train.txt and test.txt", 1},
                        {"seed", ARG_I64, &seed, "random seed", 0},
                        WORLD_FLAGS(b),
                        {0}};
    int rc = args_parse(argc, argv, specs, "onerec baseline world --out DIR",
                        "Write a synthetic Markov world: DIR/train.txt (walks) and DIR/test.txt (history | targets).",
                        NULL, 0, NULL);
    if (rc) return rc > 0 ? 0 : 2;
    markov_world w;
    seq_set train;
    eval_set ev;
    if (markov_world_init(&w, b.nitems, b.branch, b.jump, b.zipf, (uint64_t)seed)) return cli_fail("baseline world");
    rc = markov_world_sample(&w, b.users, b.len, (uint64_t)seed + 1, &train, b.eval_users, b.targets, &ev);
    markov_world_free(&w);
    if (rc) return cli_fail("baseline world");
    char tp[4096], ep[4096];
    snprintf(tp, sizeof tp, "%s/train.txt", out);
    snprintf(ep, sizeof ep, "%s/test.txt", out);
    outdir od;
    rc = outdir_open(&od, out, "baseline world", 0);
    if (!rc) rc = outdir_close(&od, seq_file_write(tp, &train) || eval_file_write(ep, &ev), NULL);
    seq_set_free(&train);
    eval_set_free(&ev);
    if (rc) return cli_fail("baseline world");
    printf("%s\n%s\n", tp, ep);
    return 0;
}

static int do_bench(int argc, char **argv) {
    markov_bench b;
    markov_bench_default(&b);
    char *json = NULL, *md = NULL, *ks_s = "1,32";
    int64_t seed = 1;
    arg_spec specs[] = {{"results", ARG_STR, &json, "write results.json here", 0},
                        {"markdown", ARG_STR, &md, "write the Markdown table here", 0},
                        {"k", ARG_STR, &ks_s, "cut-offs", 0},
                        {"seed", ARG_I64, &seed, "random seed", 0},
                        {"no-sasrec", ARG_BOOL, &b.skip_sasrec, "skip SASRec (the slow one)", 0},
                        WORLD_FLAGS(b),
                        {"knn-window", ARG_INT, &b.knn.knn_window, "item_knn: co-occurrence window", 0},
                        {"knn-history", ARG_INT, &b.knn.knn_history, "item_knn: voting history items", 0},
                        {"dim", ARG_INT, &b.sasrec.sasrec.dim, "sasrec: embedding width", 0},
                        {"layers", ARG_INT, &b.sasrec.sasrec.layers, "sasrec: blocks", 0},
                        {"heads", ARG_INT, &b.sasrec.sasrec.heads, "sasrec: heads", 0},
                        {"maxlen", ARG_INT, &b.sasrec.sasrec.maxlen, "sasrec: most recent items seen", 0},
                        {"epochs", ARG_INT, &b.sasrec.sasrec.epochs, "sasrec: epochs", 0},
                        {"lr", ARG_FLOAT, &b.sasrec.sasrec.lr, "sasrec: learning rate", 0},
                        {0}};
    int rc = args_parse(argc, argv, specs, "onerec baseline bench [--results results.json] [--markdown results.md]",
                        "Baselines vs the oracle on a synthetic Markov world; prints the table.", NULL, 0, NULL);
    if (rc) return rc > 0 ? 0 : 2;
    if (metrics_parse_ks(ks_s, b.ks, &b.nk) || results_prepare_files(json, md)) return cli_fail("baseline bench");
    b.seed = (uint64_t)seed;
    results_table r;
    if (results_init(&r)) return cli_fail("baseline bench");
    rc = eval_markov_bench(&b, &r);
    if (!rc) rc = print_results(&r, json, md);
    results_free(&r);
    return rc ? cli_fail("baseline bench") : 0;
}

static int do_recif(int argc, char **argv) {
    bench_baselines b;
    bench_baselines_default(&b);
    char *raw = NULL, *world = NULL, *json = NULL, *md = NULL, *ks_s = "1,32";
    int keep_history = 0;
    sasrec_config *sc = &b.cfg[BASELINE_SASREC].sasrec;
    arg_spec specs[] = {{"raw", ARG_STR, &raw, "RecIF raw table (onerec_bench_release.parquet or .jsonl)", 1},
                        {"world", ARG_STR, &world, "`onerec synth` output dir: also score its oracle/ files", 0},
                        {"results", ARG_STR, &json, "results.json to add to (created when missing)", 0},
                        {"markdown", ARG_STR, &md, "write the Markdown table here", 0},
                        {"k", ARG_STR, &ks_s, "cut-offs", 0},
                        {"targets", ARG_INT, &b.max_targets, "ground-truth items per test user (first ones)", 0},
                        {"keep-history", ARG_BOOL, &keep_history, "allow recommending items already in the history", 0},
                        {"no-sasrec", ARG_BOOL, &b.skip_sasrec, "skip SASRec (the slow one)", 0},
                        {"predictions", ARG_STR, &b.pred_dir, "write DIR/{system}/pred_{task}.jsonl (user_id, top items)", 0},
                        {"pred-k", ARG_INT, &b.pred_k, "items per user in the prediction files", 0},
                        {"video-task", ARG_STR, &b.video_task, "task name of the video domain (e.g. movielens)", 0},
                        {"knn-window", ARG_INT, &b.cfg[BASELINE_ITEMKNN].knn_window, "item_knn: co-occurrence window", 0},
                        {"knn-history", ARG_INT, &b.cfg[BASELINE_ITEMKNN].knn_history, "item_knn: voting history items", 0},
                        {"knn-decay", ARG_DOUBLE, &b.cfg[BASELINE_ITEMKNN].knn_decay, "item_knn: voter decay", 0},
                        {"dim", ARG_INT, &sc->dim, "sasrec: embedding width", 0},
                        {"layers", ARG_INT, &sc->layers, "sasrec: blocks", 0},
                        {"heads", ARG_INT, &sc->heads, "sasrec: heads", 0},
                        {"maxlen", ARG_INT, &sc->maxlen, "sasrec: most recent items seen", 0},
                        {"epochs", ARG_INT, &sc->epochs, "sasrec: epochs", 0},
                        {"batch", ARG_INT, &sc->batch, "sasrec: sequences per step", 0},
                        {"lr", ARG_FLOAT, &sc->lr, "sasrec: learning rate", 0},
                        {0}};
    int rc = args_parse(argc, argv, specs, "onerec baseline recif --raw W/onerec_bench_release.parquet [--world W]",
                        "Popularity, item_knn and SASRec on the video/ad/product domains of a RecIF raw table "
                        "(train: split-0 users; test: split-1 history -> first targets), with the world's oracle.",
                        NULL, 0, NULL);
    if (rc) return rc > 0 ? 0 : 2;
    if (metrics_parse_ks(ks_s, b.ks, &b.nk)) return cli_fail("baseline recif");
    if (b.pred_k < 1) {
        fprintf(stderr, "onerec baseline recif: --pred-k must be >= 1\n");
        return 2;
    }
    for (int i = 0; i < 3; i++) b.cfg[i].exclude_history = !keep_history;
    b.raw = raw;
    b.world_dir = world;
    results_table r = {0};
    rc = results_prepare_files(json, md);
    if (!rc) rc = json ? results_load(&r, json) : results_init(&r);
    if (!rc) rc = bench_baselines_run(&b, &r);
    if (!rc) rc = print_results(&r, json, md);
    results_free(&r);
    return rc ? cli_fail("baseline recif") : 0;
}

int cmd_baseline(int argc, char **argv) {
    static const char *usage =
        "usage: onerec baseline SUBCOMMAND [options]   (onerec baseline SUBCOMMAND --help)\n"
        "  train   fit popularity / item_knn / sasrec on item-id sequences, save the model\n"
        "  eval    rank held-out histories, print pass@k / position1_pass@k / recall@k\n"
        "  rank    top-k items for one history\n"
        "  world   write a synthetic Markov world (train.txt, test.txt)\n"
        "  bench   all baselines and the oracle on a Markov world, as a table\n"
        "  recif   all baselines (and the oracle) on a RecIF raw table, e.g. from `onerec synth`\n";
    if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
        fputs(usage, argc < 2 ? stderr : stdout);
        return argc < 2 ? 2 : 0;
    }
    const char *sub = argv[1];
    if (!strcmp(sub, "train")) return do_train(argc - 1, argv + 1);
    if (!strcmp(sub, "eval")) return do_eval(argc - 1, argv + 1);
    if (!strcmp(sub, "rank")) return do_rank(argc - 1, argv + 1);
    if (!strcmp(sub, "world")) return do_world(argc - 1, argv + 1);
    if (!strcmp(sub, "bench")) return do_bench(argc - 1, argv + 1);
    if (!strcmp(sub, "recif")) return do_recif(argc - 1, argv + 1);
    fprintf(stderr, "onerec baseline: unknown subcommand \"%s\"\n%s", sub, usage);
    return 2;
}
