// onerec embed: item captions (Parquet) -> item embeddings (Parquet) with a Qwen3 model.
#include <cblas.h>
#include <omp.h>
#include <stdio.h>

#include "base/err.h"
#include "base/outdir.h"
#include "cli/args.h"
#include "rec/embed.h"

int cmd_embed(int argc, char **argv) {
    embed_opts o;
    embed_opts_default(&o);
    char *model = NULL, *in = NULL, *out = NULL, *idcol = "pid", *textcol = "dense_caption";
    char *end = (char *)o.end_token;
    int threads = 0, no_norm = 0;
    arg_spec specs[] = {
        {"model", ARG_STR, &model, "Qwen3 HF model dir (config.json, safetensors, tokenizer.json)", 1},
        {"input", ARG_STR, &in, "captions Parquet (pid int64 + dense_caption string, as pid2caption.parquet)", 1},
        {"out", ARG_STR, &out, "embeddings Parquet to write (pid int64, embedding list<float>)", 1},
        {"batch", ARG_INT, &o.batch, "captions per forward pass (packed into one row, no padding)", 0},
        {"max-length", ARG_INT, &o.max_length, "tokens per caption including the end token (longer ones are cut)", 0},
        {"id-column", ARG_STR, &idcol, "item id column", 0},
        {"text-column", ARG_STR, &textcol, "caption column", 0},
        {"end-token", ARG_STR, &end, "token appended to every caption (its hidden state is the embedding); '' for none", 0},
        {"no-normalize", ARG_BOOL, &no_norm, "keep the raw hidden state (default: L2-normalised)", 0},
        {"threads", ARG_INT, &threads, "threads (0 = OMP_NUM_THREADS or all cores)", 0},
        {0},
    };
    int a = args_parse(argc, argv, specs, "onerec embed --model DIR --input captions.parquet --out embeddings.parquet",
                       "Qwen3-Embedding style item embeddings: caption + <|endoftext|>, last-token final hidden\n"
                       "state, L2-normalised; the output feeds `onerec sid train/encode --embeddings`.",
                       NULL, 0, NULL);
    if (a) return a > 0 ? 0 : 2;
    if (threads > 0) {
        omp_set_num_threads(threads);
        openblas_set_num_threads(threads);
    }
    o.end_token = end;
    o.normalize = !no_norm;
    embed_stats st;
    if (outdir_prepare_file(out)) return cli_fail("embed");
    if (embed_file(model, in, out, idcol, textcol, &o, &st)) return cli_fail("embed");
    printf("out: %s\nitems: %lld\ndim: %d\ntokens: %lld\nempty_captions: %lld\ntruncated: %lld\nseconds: %.2f\n"
           "load_seconds: %.2f\nembed_seconds: %.2f\ntokens_per_s: %.1f\n",
           out, (long long)st.rows, st.dim, (long long)st.tokens, (long long)st.empty, (long long)st.truncated,
           st.seconds, st.load_seconds, st.embed_seconds, st.tokens / (st.embed_seconds > 0 ? st.embed_seconds : 1e-9));
    return 0;
}
