// onerec vocab expand: add the itemic tokens to a Qwen3 HF model dir (tokenizer + weights).
#include <stdio.h>
#include <string.h>

#include "base/err.h"
#include "cli/args.h"
#include "rec/vocab.h"

static int vocab_expand_cmd(int argc, char **argv) {
    vocab_expand_opts o;
    vocab_expand_opts_default(&o);
    char *model = NULL, *out = NULL, *init = "mean", *dtype = NULL;
    int force = 0;
    int64_t seed = (int64_t)o.seed, shard_mb = (int64_t)(o.shard_bytes >> 20);
    arg_spec specs[] = {
        {"model", ARG_STR, &model, "base HF model dir (config.json, tokenizer.json, *.safetensors)", 1},
        {"out", ARG_STR, &out, "output model dir (must not exist unless --force)", 1},
        {"layers", ARG_INT, &o.layers, "SID layers: token letters a, b, c, ...", 0},
        {"codebook", ARG_INT, &o.codebook, "codes per layer", 0},
        {"align", ARG_INT, &o.align, "round vocab_size up to a multiple of this", 0},
        {"init", ARG_STR, &init, "new rows: mean (every row past the old tokenizer) or hf (reference: keep old rows)", 0},
        {"noise", ARG_DOUBLE, &o.noise, "noise std per dimension, as a fraction of that dimension's std", 0},
        {"seed", ARG_I64, &seed, "noise seed", 0},
        {"dtype", ARG_STR, &dtype, "weights dtype F32, BF16 or F16 (default: that of embed_tokens)", 0},
        {"shard-mb", ARG_I64, &shard_mb, "weight files of at most this many MiB (0: one file)", 0},
        {"force", ARG_BOOL, &force, "replace an existing --out dir", 0},
        {0},
    };
    int a = args_parse(argc, argv, specs, "onerec vocab expand --model DIR --out DIR [--layers 3 --codebook 8192]",
                       "Appends <s_a_0>.. (one letter per layer), <|sid_begin|>, <|sid_end|> to tokenizer.json as\n"
                       "non-special added tokens, aligns vocab_size, initialises the new embedding rows and\n"
                       "writes config.json, tokenizer files and weights to a new model dir.",
                       NULL, 0, NULL);
    if (a) return a > 0 ? 0 : 2;
    if (vocab_init_parse(init, &o.init)) return cli_fail("vocab expand");
    if (shard_mb < 0) {
        err_usage("--shard-mb %lld: must be >= 0", (long long)shard_mb);
        return cli_fail("vocab expand");
    }
    o.seed = (uint64_t)seed;
    o.dtype = dtype;
    o.shard_bytes = (size_t)shard_mb << 20;
    o.force = force;
    vocab_expand_result r;
    if (vocab_expand(model, out, &o, &r)) return cli_fail("vocab expand");
    printf("out: %s\nlen(tokenizer): %lld -> %lld\nvocab_size: %lld -> %lld\nadded: %lld\n"
           "itemic_id_range: [%lld, %lld]\nsid_begin: %lld\nsid_end: %lld\nlm_head: %s\nweight_files: %d\n",
           out, (long long)r.old_len, (long long)r.new_len, (long long)r.old_vocab, (long long)r.new_vocab,
           (long long)r.added, (long long)r.old_len, (long long)r.new_len - 1, (long long)r.new_len - 2,
           (long long)r.new_len - 1, r.untied ? "untied (expanded)" : "tied", r.shards);
    return 0;
}

int cmd_vocab(int argc, char **argv) {
    if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
        printf("usage: onerec vocab expand [options]  (see onerec vocab expand --help)\n"
               "  expand  add the itemic tokens to a Qwen3 HF model dir\n");
        return argc < 2 ? 2 : 0;
    }
    if (!strcmp(argv[1], "expand")) return vocab_expand_cmd(argc - 1, argv + 1);
    fprintf(stderr, "onerec vocab: unknown subcommand '%s' (use expand)\n", argv[1]);
    return 2;
}
