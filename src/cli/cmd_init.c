// onerec init: a randomly initialised Qwen3 HF model dir of any shape.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "base/file.h"
#include "base/log.h"
#include "base/outdir.h"
#include "cli/args.h"
#include "formats/hfconfig.h"
#include "model/qwen3.h"

int cmd_init(int argc, char **argv) {
    char *config = NULL, *out = NULL, *tokenizer = NULL, *dtype = "F32";
    int64_t seed = 0;
    float std = 0.02f;
    int shard_mb = 5120, force = 0;
    arg_spec specs[] = {
        {"config", ARG_STR, &config, "HF-style config.json (Qwen3 fields) or a model dir holding one", 1},
        {"out", ARG_STR, &out, "output model dir (written whole when complete; must not exist unless --force)", 1},
        {"force", ARG_BOOL, &force, "replace an existing --out (that path only)", 0},
        {"seed", ARG_I64, &seed, "random seed", 0},
        {"std", ARG_FLOAT, &std, "std of the normal init of linear and embedding weights", 0},
        {"dtype", ARG_STR, &dtype, "storage dtype: F32, BF16 or F16", 0},
        {"shard-mb", ARG_INT, &shard_mb, "shard the weights into files of at most this many MiB", 0},
        {"tokenizer", ARG_STR, &tokenizer, "dir whose tokenizer.json / tokenizer_config.json are copied", 0},
        {0}};
    int r = args_parse(argc, argv, specs, "onerec init --config CONFIG.json --out DIR [--seed S]",
                       "Write a randomly initialised Qwen3 model dir: config.json + model.safetensors "
                       "(normal(0, std) weights, ones for norms; sharded when large).",
                       NULL, 0, NULL);
    if (r) return r < 0 ? 2 : 0;
    if (shard_mb < 0) return err_usage("--shard-mb %d: must be >= 0 (0: one file)", shard_mb), cli_fail("init");
    if (!(std >= 0)) return err_usage("--std %g: must be >= 0", std), cli_fail("init");
    if (outdir_check_input(out, config) || (tokenizer && outdir_check_input(out, tokenizer))) return cli_fail("init");
    hf_config hf;
    if (hf_config_load(&hf, config)) return cli_fail("init");
    qwen3_config c;
    qwen3_model m;
    if (qwen3_config_from_hf(&c, &hf, config) || qwen3_model_init(&m, &c)) {
        hf_config_free(&hf);
        return cli_fail("init");
    }
    // tokenizer files are checked before any work so a typo fails fast
    const char *tok_files[] = {"tokenizer.json", "tokenizer_config.json"};
    char *tok_src[2] = {NULL, NULL};
    int rc = 0;
    if (tokenizer) {
        for (int i = 0; i < 2; i++) {
            tok_src[i] = path_join(tokenizer, tok_files[i]);
            if (i == 0 && !file_exists(tok_src[i]))
                rc = err_set("--tokenizer %s: no tokenizer.json there", tokenizer);
        }
    }
    log_info("init: %.1fM parameters (%d layers, hidden %d, vocab %d, %s), seed %lld", m.n_params / 1e6,
             c.n_layers, c.dim, c.vocab, c.tied ? "tied" : "untied", (long long)seed);
    // everything goes to a temporary dir that takes the place of `out` only when complete
    outdir od = {0};
    if (!rc) rc = outdir_open(&od, out, "init", OUTDIR_REPLACE | (force ? OUTDIR_FORCE : 0));
    if (!rc) qwen3_init_random(&m, (uint64_t)seed, std);
    if (!rc) rc = qwen3_save_dir(&m, &hf, od.work, dtype, (size_t)shard_mb << 20);
    for (int i = 0; !rc && tokenizer && i < 2; i++) {
        if (!file_exists(tok_src[i])) continue;
        char *dst = path_join(od.work, tok_files[i]);
        rc = file_copy(tok_src[i], dst);
        free(dst);
    }
    if (!rc) rc = outdir_commit(&od);
    else outdir_abort(&od, NULL);
    free(tok_src[0]), free(tok_src[1]);
    hf_config_free(&hf);
    qwen3_model_free(&m);
    if (rc) return cli_fail("init");
    printf("%s\n", out);
    return 0;
}
