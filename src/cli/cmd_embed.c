// onerec embed: item captions (Parquet) -> item embeddings (Parquet) with a Qwen3 model, or without
// one from TF-IDF text vectors and/or training co-occurrences (--method tfidf|cooc|mix).
#include <stdio.h>
#include <string.h>

#include "base/err.h"
#include "base/outdir.h"
#include "base/threads.h"
#include "cli/args.h"
#include "data/item_embed.h"
#include "rec/embed.h"

static int run_item_embed(const char *out, item_embed_opts *io, const char *proj, int64_t seed) {
    if (strcmp(proj, "svd") && strcmp(proj, "random"))
        return err_usage("--projection %s: want svd or random", proj), cli_fail("embed");
    if (item_embed_check_opts(io) || outdir_prepare_file(out)) return cli_fail("embed");
    io->text.projection = strcmp(proj, "random") ? TEXT_PROJ_SVD : TEXT_PROJ_RANDOM;
    io->text.svd.seed = (uint64_t)seed;
    item_embed_stats st;
    if (item_embed_file(out, io, &st)) return cli_fail("embed");
    static const char *const names[] = {"tfidf", "cooc", "mix"};
    printf("out: %s\nmethod: %s\nitems: %lld\ndim: %d\n", out, names[io->method], (long long)st.items, st.dim);
    if (io->method != ITEM_EMBED_COOC)
        printf("words: %lld\ntfidf_nonzeros: %lld\nempty_captions: %lld\ntext_explained: %.4f\n",
               (long long)st.text.terms, (long long)st.text.nnz, (long long)st.text_fallback, st.text.explained);
    if (io->method != ITEM_EMBED_TFIDF)
        printf("train_users: %lld\nskipped_users: %lld\ninteractions: %lld\nunknown_pids: %lld\npairs: %lld\n"
               "ppmi_nonzeros: %lld\ncooc_explained: %.4f\ncold_items: %lld\n",
               (long long)st.cooc.train_users, (long long)(st.cooc.users - st.cooc.train_users),
               (long long)st.cooc.interactions, (long long)st.cooc.unknown, (long long)st.pairs,
               (long long)st.ppmi_nnz, st.cooc_explained, (long long)st.cold);
    printf("seconds: %.2f\n", st.seconds);
    return 0;
}

int cmd_embed(int argc, char **argv) {
    embed_opts o;
    embed_opts_default(&o);
    item_embed_opts io;
    item_embed_opts_default(&io);
    char *model = NULL, *in = NULL, *out = NULL, *idcol = "pid", *textcol = "dense_caption";
    char *end = (char *)o.end_token, *method = "model", *raw = NULL, *proj = "svd";
    int threads = 0, no_norm = 0;
    int64_t seed = (int64_t)io.text.svd.seed;
    arg_spec specs[] = {
        {"method", ARG_STR, &method, "model (a Qwen3 model), tfidf (caption words), cooc (training co-occurrences) or mix", 0},
        {"model", ARG_STR, &model, "model: Qwen3 HF model dir (config.json, safetensors, tokenizer.json)", 0},
        {"input", ARG_STR, &in, "captions Parquet (pid int64 + dense_caption string, as pid2caption.parquet); cooc: the items to cover", 0},
        {"raw", ARG_STR, &raw, "cooc, mix: interactions (onerec_bench_release.parquet; only split-0 rows are read)", 0},
        {"out", ARG_STR, &out, "embeddings Parquet to write (pid int64, embedding list<float>)", 1},
        {"dim", ARG_INT, &io.text.dim, "tfidf, cooc: output dimension (mix: of each half)", 0},
        {"seed", ARG_I64, &seed, "tfidf, cooc, mix: seed of the SVD's test matrix and of the fallback vectors", 0},
        {"projection", ARG_STR, &proj, "tfidf, mix: svd (LSA) or random (Gaussian projection)", 0},
        {"power-iters", ARG_INT, &io.text.svd.power_iters, "SVD: subspace iterations", 0},
        {"oversample", ARG_INT, &io.text.svd.oversample, "SVD: extra columns of the range finder (0: max(10, dim))", 0},
        {"window", ARG_INT, &io.window, "cooc, mix: pair items at most N apart in one domain's sequence (0: all of a user's items)", 0},
        {"shift", ARG_DOUBLE, &io.shift, "cooc, mix: PPMI = max(0, PMI - ln shift)", 0},
        {"cds", ARG_DOUBLE, &io.cds, "cooc, mix: context distribution smoothing exponent (1: none)", 0},
        {"alpha", ARG_DOUBLE, &io.alpha, "mix: share of the text half (the cooc half gets 1 - alpha)", 0},
        {"batch", ARG_INT, &o.batch, "model: captions per forward pass (packed into one row, no padding)", 0},
        {"max-length", ARG_INT, &o.max_length, "model: tokens per caption including the end token (longer ones are cut)", 0},
        {"id-column", ARG_STR, &idcol, "item id column", 0},
        {"text-column", ARG_STR, &textcol, "caption column", 0},
        {"end-token", ARG_STR, &end, "model: token appended to every caption (its hidden state is the embedding); '' for none", 0},
        {"no-normalize", ARG_BOOL, &no_norm, "model: keep the raw hidden state (default: L2-normalised)", 0},
        {"threads", ARG_INT, &threads, "threads (0 = OMP_NUM_THREADS or all cores)", 0},
        {0},
    };
    int a = args_parse(argc, argv, specs,
                       "onerec embed --model DIR --input captions.parquet --out embeddings.parquet\n"
                       "       onerec embed --method tfidf|cooc|mix [--input captions.parquet] [--raw release.parquet] --out F",
                       "Qwen3-Embedding style item embeddings: caption + <|endoftext|>, last-token final hidden\n"
                       "state, L2-normalised; without a model: TF-IDF + SVD of the captions (tfidf), PPMI + SVD of\n"
                       "the training co-occurrences (cooc), or both concatenated (mix). The output feeds\n"
                       "`onerec sid train/encode --embeddings`.",
                       NULL, 0, NULL);
    if (a) return a > 0 ? 0 : 2;
    threads_set(threads);
    if (strcmp(method, "model")) {
        if (model) return err_usage("--model is for --method model, not %s", method), cli_fail("embed");
        if (item_embed_method_parse(method, &io.method)) return cli_fail("embed");
        io.captions = in, io.raw = raw, io.id_col = idcol, io.text_col = textcol;
        return run_item_embed(out, &io, proj, seed);
    }
    if (!model || !in) return err_usage("--method model needs --model and --input"), cli_fail("embed");
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
