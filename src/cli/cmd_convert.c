// onerec convert: a training checkpoint -> an HF model dir (bf16 safetensors in 5 GiB shards with an
// index, config.json and the tokenizer files), as the reference's convert_checkpoint_to_hf.sh.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "base/file.h"
#include "base/log.h"
#include "base/mem.h"
#include "base/outdir.h"
#include "cli/args.h"
#include "train/ckpt.h"
#include "train/model_io.h"

int cmd_convert(int argc, char **argv) {
    char *ckpt = NULL, *out = NULL, *dtype = "bf16";
    double shard_gb = 5;
    int force = 0;
    const arg_spec specs[] = {
        {"checkpoint", ARG_STR, &ckpt, "a step{N} checkpoint dir, or a training output dir (its latest)", 1},
        {"out", ARG_STR, &out, "the HF model dir to write (must not exist unless --force)", 1},
        {"force", ARG_BOOL, &force, "replace an existing --out (that path only)", 0},
        {"dtype", ARG_STR, &dtype, "bf16, f16 or f32", 0},
        {"shard_gb", ARG_DOUBLE, &shard_gb, "largest safetensors shard in GiB (0: one file)", 0},
        {0},
    };
    int rc = args_parse(argc, argv, specs, "onerec convert --checkpoint DIR --out DIR [--dtype bf16]",
                        "Write a checkpoint as an HF model dir (sharded safetensors + index, config, tokenizer).",
                        NULL, 0, NULL);
    if (rc) return rc > 0 ? 0 : 2;
    const char *dt = !strcmp(dtype, "bf16") ? "BF16" : !strcmp(dtype, "f16") ? "F16" : !strcmp(dtype, "f32") ? "F32" : NULL;
    if (!dt) {
        err_usage("--dtype %s: use bf16, f16 or f32", dtype);
        return cli_fail("convert");
    }
    if (shard_gb < 0) {
        err_usage("--shard_gb must be >= 0");
        return cli_fail("convert");
    }
    char *dir = NULL;
    outdir od = {0};
    qwen3_model m;
    hf_config hf;
    int loaded = 0;
    rc = ERR_FAIL;
    if (outdir_check_input(out, ckpt) || outdir_open(&od, out, "convert", OUTDIR_REPLACE | (force ? OUTDIR_FORCE : 0)))
        goto done;
    if (ckpt_resolve(ckpt, &dir)) {
        // a plain HF dir is fine too (re-shard or change dtype)
        err_clear();
        dir = mem_strdup(ckpt);
    }
    if (!dir || train_model_load(&m, &hf, dir)) goto done;
    loaded = 1;
    log_info("converting %s (%zu parameters) to %s %s", dir, m.n_params, out, dt);
    size_t shard = (size_t)(shard_gb * 1024.0 * 1024.0 * 1024.0);
    if (train_model_save(&m, &hf, od.work, dt, shard, dir)) goto done;
    rc = outdir_commit(&od);
done:
    if (loaded) {
        qwen3_model_free(&m);
        hf_config_free(&hf);
    }
    if (rc) outdir_abort(&od, NULL);
    free(dir);
    if (rc) return cli_fail("convert");
    printf("%s\n", out);
    return 0;
}
