// onerec data convert | shard | prepare rl | prepare distill | import (see docs/data.md).
#include <stdio.h>
#include <string.h>

#include "base/err.h"
#include "base/outdir.h"
#include "cli/args.h"
#include "data/corpus.h"
#include "data/convert.h"
#include "data/shard.h"
#include "data/table.h"

int cmd_data_import(int argc, char **argv);   // cmd_data_import.c

static const char *format_ext(const char *format) {
    if (!format) return NULL;
    if (!strcmp(format, "jsonl")) return ".jsonl";
    if (!strcmp(format, "parquet")) return ".parquet";
    err_usage("--format must be parquet or jsonl (got \"%s\")", format);
    return "";
}

static int data_convert(int argc, char **argv) {
    char *raw = NULL, *out = NULL, *lang = "zh", *sid_dir = NULL, *format = NULL;
    int64_t seed = 42;
    conv_windows win = conv_windows_reference();
    const arg_spec specs[] = {
        {"raw", ARG_STR, &raw, "directory with onerec_bench_release, pid2caption, *_pid2sid", 1},
        {"windows", ARG_INT, &win.count, "video_rec samples per training user, windows ending `--window-stride` items apart (1: the reference's one)", 0},
        {"window-stride", ARG_INT, &win.stride, "items between the ends of two windows", 0},
        {"window-history", ARG_INT, &win.history, "history items per window (the reference: 512)", 0},
        {"window-targets", ARG_INT, &win.targets, "answer items per window, 1..10 (the reference: 10)", 0},
        {"out", ARG_STR, &out, "output directory", 1},
        {"sid-dir", ARG_STR, &sid_dir, "take video_ad_pid2sid / product_pid2sid from here instead", 0},
        {"lang", ARG_STR, &lang, "prompt language: zh or en", 0},
        {"seed", ARG_I64, &seed, "seed of the prompt choice", 0},
        {"format", ARG_STR, &format, "parquet or jsonl (default: parquet when built in)", 0},
        {NULL, 0, NULL, NULL, 0},
    };
    int rc = args_parse(argc, argv, specs, "onerec data convert --raw DIR --out DIR [options]",
                        "Converts RecIF raw data into the 11 task tables (split 0 users) and the\n"
                        "RecIF-Bench test sets (split 1 users).", NULL, 0, NULL);
    if (rc) return rc > 0 ? 0 : 2;
    if (win.count < 1 || win.stride < 1 || win.history < 1 || win.targets < 1 || win.targets > CONV_TARGETS) {
        fprintf(stderr, "onerec data convert: --windows, --window-stride and --window-history must be >= 1 and "
                        "--window-targets in 1..%d\n", CONV_TARGETS);
        return 2;
    }
    conv_options o = {raw, sid_dir, out, LANG_ZH, (uint64_t)seed, format_ext(format), win};
    if ((o.ext && !o.ext[0]) || lex_parse_lang(lang, &o.lang)) return cli_fail("data convert");
    conv_stats st;
    outdir od;
    if (outdir_open(&od, out, "data convert", 0) || outdir_close(&od, conv_run(&o, &st), NULL))
        return cli_fail("data convert");
    printf("users %lld (train %lld, test %lld, other split %lld, unreadable %lld)\n", (long long)st.users_read,
           (long long)st.users_train, (long long)st.users_test, (long long)st.users_other_split, (long long)st.bad_rows);
    printf("dropped: %lld item references without SID, %lld samples without target, %lld empty histories, %lld bad keyword maps\n",
           (long long)st.items_without_sid, (long long)st.samples_without_target, (long long)st.empty_history,
           (long long)st.bad_keywords);
    printf("%-32s %10s %10s\n", "source", "rows", "benchmark");
    for (int t = 0; t < TASK_COUNT; t++)
        printf("%-32s %10lld %10lld\n", task_source((task_id)t), (long long)st.rows[t], (long long)st.bench_rows[t]);
    return 0;
}

static int data_shard(int argc, char **argv) {
    char *out = NULL, *format = NULL;
    int rows = 1000, shuffle = 0;
    int64_t seed = 42;
    char *pos[4096];
    int npos = 0;
    const arg_spec specs[] = {
        {"out", ARG_STR, &out, "output directory (part-*-of-*, file_list.json)", 1},
        {"rows", ARG_INT, &rows, "rows per shard", 0},
        {"shuffle", ARG_BOOL, &shuffle, "shuffle rows across shards (seeded)", 0},
        {"seed", ARG_I64, &seed, "shuffle seed", 0},
        {"format", ARG_STR, &format, "parquet or jsonl (default: parquet when built in)", 0},
        {NULL, 0, NULL, NULL, 0},
    };
    int rc = args_parse(argc, argv, specs, "onerec data shard --out DIR [--rows 1000] [--shuffle] TABLE...",
                        "Merges training tables into shards of --rows rows and writes file_list.json.", pos, 4096, &npos);
    if (rc) return rc > 0 ? 0 : 2;
    if (npos == 0) {
        fprintf(stderr, "onerec data shard: error: no input tables given\n");
        return 2;
    }
    const char *ext = format_ext(format);
    if (ext && !ext[0]) return cli_fail("data shard");
    int64_t n;
    int ns;
    outdir od;
    if (outdir_open(&od, out, "data shard", 0) ||
        outdir_close(&od, shard_run((const char *const *)pos, npos, out, rows, shuffle, (uint64_t)seed, ext, &n, &ns), NULL))
        return cli_fail("data shard");
    printf("%lld rows in %d shards, list in %s/file_list.json\n", (long long)n, ns, out);
    return 0;
}

static int data_prepare(int argc, char **argv) {
    const char *usage = "onerec data prepare rl --in CONVERT_DIR --out DIR [--test-size 1000]\n"
                        "       onerec data prepare distill --out FILE [--rows N] TABLE...";
    if (argc < 2 || (strcmp(argv[1], "rl") && strcmp(argv[1], "distill"))) {
        if (argc >= 2 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
            printf("usage: %s\n", usage);
            return 0;
        }
        fprintf(stderr, "usage: %s\n", usage);
        return 2;
    }
    int rl = !strcmp(argv[1], "rl");
    char *in = NULL, *out = NULL, *format = NULL;
    int64_t seed = 42, test_size = 1000, nrows = 200000;
    char *pos[4096];
    int npos = 0;
    const arg_spec rl_specs[] = {
        {"in", ARG_STR, &in, "a data convert output directory", 1},
        {"out", ARG_STR, &out, "output directory (train, test)", 1},
        {"test-size", ARG_I64, &test_size, "held-out test rows", 0},
        {"seed", ARG_I64, &seed, "shuffle seed", 0},
        {"format", ARG_STR, &format, "parquet or jsonl (default: parquet when built in)", 0},
        {NULL, 0, NULL, NULL, 0},
    };
    const arg_spec d_specs[] = {
        {"out", ARG_STR, &out, "output table (.parquet or .jsonl)", 1},
        {"rows", ARG_I64, &nrows, "rows to sample", 0},
        {"seed", ARG_I64, &seed, "sampling seed", 0},
        {NULL, 0, NULL, NULL, 0},
    };
    int rc = args_parse(argc - 1, argv + 1, rl ? rl_specs : d_specs, usage,
                        rl ? "RL data: the 5 *_rec SFT tables, shuffled, with a held-out test set."
                           : "Distillation data: a seeded sample of general SFT rows.",
                        rl ? NULL : pos, rl ? 0 : 4096, rl ? NULL : &npos);
    if (rc) return rc > 0 ? 0 : 2;
    if (rl) {
        const char *ext = format_ext(format);
        if (ext && !ext[0]) return cli_fail("data prepare rl");
        int64_t ntr, nte;
        outdir od;
        if (outdir_open(&od, out, "data prepare rl", 0) ||
            outdir_close(&od, prepare_rl(in, out, test_size, (uint64_t)seed, ext, &ntr, &nte), NULL))
            return cli_fail("data prepare rl");
        printf("rl: %lld train rows, %lld test rows in %s\n", (long long)ntr, (long long)nte, out);
        return 0;
    }
    if (npos == 0) {
        fprintf(stderr, "onerec data prepare distill: error: no input tables given\n");
        return 2;
    }
    int64_t n;
    if (outdir_prepare_file(out)) return cli_fail("data prepare distill");
    if (prepare_distill((const char *const *)pos, npos, out, nrows, (uint64_t)seed, &n)) return cli_fail("data prepare distill");
    printf("distill: %lld rows in %s\n", (long long)n, out);
    return 0;
}

static int data_text(int argc, char **argv) {
    char *out = NULL;
    char *pos[4096];
    int npos = 0;
    const arg_spec specs[] = {{"out", ARG_STR, &out, "text file to write", 1}, {NULL, 0, NULL, NULL, 0}};
    int rc = args_parse(argc, argv, specs, "onerec data text --out FILE TABLE...",
                        "Plain text of training tables (message contents and segment texts, one per line), e.g. to "
                        "train a tokenizer.",
                        pos, 4096, &npos);
    if (rc) return rc > 0 ? 0 : 2;
    if (npos == 0) {
        fprintf(stderr, "onerec data text: error: no input tables given\n");
        return 2;
    }
    int64_t chars = 0;
    if (outdir_prepare_file(out)) return cli_fail("data text");
    if (data_dump_text(out, (const char *const *)pos, npos, &chars)) return cli_fail("data text");
    printf("text: %lld bytes from %d tables in %s\n", (long long)chars, npos, out);
    return 0;
}

static int data_segments(int argc, char **argv) {
    corpus_seg_opts o = {.source = "General_Text", .chars = 1200, .prompt_chars = 200, .test_frac = 0.05, .seed = 42};
    char *pos[256];
    int npos = 0;
    int64_t seed = 42;
    const arg_spec specs[] = {
        {"out", ARG_STR, &o.out, "Segments table of the training chunks", 1},
        {"test-out", ARG_STR, &o.test_out, "Segments table of the held-out chunks (none when not given)", 0},
        {"chat-out", ARG_STR, &o.chat_out, "also a Chat table: continue a training chunk's first --prompt-chars", 0},
        {"chars", ARG_INT, &o.chars, "characters per chunk at least (a chunk ends at a line end)", 0},
        {"prompt-chars", ARG_INT, &o.prompt_chars, "characters of a chunk in its Chat prompt", 0},
        {"test-frac", ARG_DOUBLE, &o.test_frac, "fraction of chunks held out", 0},
        {"source", ARG_STR, &o.source, "source column of the rows", 0},
        {"seed", ARG_I64, &seed, "seed of the held-out draw", 0},
        {NULL, 0, NULL, NULL, 0},
    };
    int rc = args_parse(argc, argv, specs, "onerec data segments --out T.parquet [--test-out T2] [--chat-out T3] TEXT...",
                        "Plain text files (e.g. from `data rtext`) as Segments training rows, with a held-out part.",
                        pos, 256, &npos);
    if (rc) return rc > 0 ? 0 : 2;
    if (npos == 0) {
        fprintf(stderr, "onerec data segments: error: no input text files given\n");
        return 2;
    }
    o.inputs = (const char *const *)pos, o.ninputs = npos, o.seed = (uint64_t)seed;
    corpus_seg_stats st;
    if (outdir_prepare_file(o.out) || (o.test_out && outdir_prepare_file(o.test_out)) ||
        (o.chat_out && outdir_prepare_file(o.chat_out)) || corpus_segments_run(&o, &st))
        return cli_fail("data segments");
    printf("segments: %lld lines -> %lld chunks (%lld trained, %lld held out, %lld chat rows), %lld chars\n",
           (long long)st.lines, (long long)st.chunks, (long long)st.train, (long long)st.test, (long long)st.chat,
           (long long)st.chars);
    return 0;
}

int cmd_data_movielens(int argc, char **argv);   // cmd_data_r.c
int cmd_data_rtext(int argc, char **argv);

int cmd_data(int argc, char **argv) {
    const char *usage = "usage: onerec data convert|shard|prepare|text|segments|import|movielens|rtext ... (onerec data SUB --help)\n";
    if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
        fputs(usage, argc < 2 ? stderr : stdout);
        return argc < 2 ? 2 : 0;
    }
    if (!strcmp(argv[1], "convert")) return data_convert(argc - 1, argv + 1);
    if (!strcmp(argv[1], "text")) return data_text(argc - 1, argv + 1);
    if (!strcmp(argv[1], "segments")) return data_segments(argc - 1, argv + 1);
    if (!strcmp(argv[1], "shard")) return data_shard(argc - 1, argv + 1);
    if (!strcmp(argv[1], "prepare")) return data_prepare(argc - 1, argv + 1);
    if (!strcmp(argv[1], "movielens")) return cmd_data_movielens(argc - 1, argv + 1);
    if (!strcmp(argv[1], "rtext")) return cmd_data_rtext(argc - 1, argv + 1);
    if (!strcmp(argv[1], "import")) return cmd_data_import(argc - 1, argv + 1);
    fprintf(stderr, "onerec data: unknown subcommand \"%s\"\n%s", argv[1], usage);
    return 2;
}
