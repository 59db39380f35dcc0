// onerec synth: write a synthetic RecIF world (see docs/data.md).
#include <stdio.h>
#include <string.h>

#include "base/err.h"
#include "base/outdir.h"
#include "cli/args.h"
#include "data/synth.h"
#include "data/table.h"

int cmd_synth(int argc, char **argv) {
    world_config c;
    world_config_default(&c);
    char *out = NULL, *lang = "zh", *format = NULL;
    int64_t seed = (int64_t)c.seed, oracle_users = 5000;
    const arg_spec specs[] = {
        {"out", ARG_STR, &out, "output directory", 1},
        {"users", ARG_I64, &c.users, "number of users", 0},
        {"videos", ARG_I64, &c.videos, "number of videos", 0},
        {"ads", ARG_I64, &c.ads, "number of ads", 0},
        {"products", ARG_I64, &c.products, "number of products", 0},
        {"topics", ARG_INT, &c.topics, "latent topics (2..255; <= 24 keeps their words distinct)", 0},
        {"seed", ARG_I64, &seed, "random seed", 0},
        {"lang", ARG_STR, &lang, "caption language: zh or en", 0},
        {"emb-dim", ARG_INT, &c.emb_dim, "item embedding dimension", 0},
        {"test-frac", ARG_DOUBLE, &c.test_frac, "share of users with split == 1", 0},
        {"hist-min", ARG_INT, &c.hist_min, "shortest video history", 0},
        {"hist-max", ARG_INT, &c.hist_max, "longest video history", 0},
        {"p-switch", ARG_DOUBLE, &c.p_switch, "per step: redraw the focus topic", 0},
        {"p-drift", ARG_DOUBLE, &c.p_drift, "per step: replace an interest topic", 0},
        {"p-noise", ARG_DOUBLE, &c.p_noise, "per draw: a globally popular item instead", 0},
        {"oracle-users", ARG_I64, &oracle_users, "test users covered by the oracle files and figures (0: all)", 0},
        {"format", ARG_STR, &format, "parquet or jsonl (default: parquet when built in)", 0},
        {NULL, 0, NULL, NULL, 0},
    };
    int rc = args_parse(argc, argv, specs, "onerec synth --out DIR [options]",
                        "Writes a synthetic RecIF world: onerec_bench_release, pid2caption, planted\n"
                        "pid2sid files, item embeddings, the general corpus and the oracle.",
                        NULL, 0, NULL);
    if (rc) return rc > 0 ? 0 : 2;
    c.seed = (uint64_t)seed;
    if (lex_parse_lang(lang, &c.lang)) return cli_fail("synth");
    const char *ext = NULL;
    if (format && !strcmp(format, "jsonl")) ext = ".jsonl";
    else if (format && !strcmp(format, "parquet")) ext = ".parquet";
    else if (format) {
        err_usage("--format must be parquet or jsonl (got \"%s\")", format);
        return cli_fail("synth");
    }
    synth_report r;
    outdir od;
    if (outdir_open(&od, out, "synth", 0) || outdir_close(&od, synth_run(&c, out, ext, oracle_users, &r), NULL))
        return cli_fail("synth");
    printf("users %lld (test %lld), items %lld, interactions %lld, %.1f s\n", (long long)r.users,
           (long long)r.test_users, (long long)(c.videos + c.ads + c.products), (long long)r.interactions, r.seconds);
    printf("Recall@32 over %lld test users\n", (long long)r.oracle_users);
    printf("%-8s %12s %14s %12s\n", "domain", "oracle R@32", "popularity R@32", "random R@32");
    for (int d = 0; d < DOM_COUNT; d++)
        printf("%-8s %12.4f %14.4f %12.4f\n", DOMAIN_NAME[d], r.oracle_recall[d], r.pop_recall[d], r.random_recall[d]);
    printf("general corpus: %lld training pairs, %lld test questions\n", (long long)r.general_train,
           (long long)r.general_test);
    return 0;
}
