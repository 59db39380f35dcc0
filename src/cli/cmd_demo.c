// onerec demo: the whole pipeline on the built-in synthetic world. Every stage runs the same
// `onerec` subcommand a user would type (the report lists them), with its output in DIR/logs;
// a finished stage leaves DIR/.done/<stage> and is skipped when the demo runs again.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "base/file.h"
#include "base/json.h"
#include "base/log.h"
#include "base/mem.h"
#include "base/outdir.h"
#include "cli/args.h"
#include "cli/demo.h"
#include "data/corpus.h"
#include "eval/report.h"
#include "text/tokenizer.h"

typedef struct demo_size {
    const char *name;
    int users, videos, ads, products, topics;
    int vocab, hidden, layers, heads, kv, head_dim, ffn, codebook, max_len, micro;
    int base_steps, s1_steps, s2_steps, sft_steps, distill_steps, rl_steps, rl_prompts, rl_width;
    int eval_samples, general_samples;
} demo_size;

static const demo_size SIZES[] = {
    // smoke: every stage for a few steps, for the test suite (results are not meaningful)
    {.name = "smoke", .users = 300, .videos = 200, .ads = 60, .products = 60, .topics = 8, .vocab = 600,
     .hidden = 32, .layers = 2, .heads = 2, .kv = 1, .head_dim = 16, .ffn = 64, .codebook = 8, .max_len = 512,
     .micro = 1, .base_steps = 4, .s1_steps = 2, .s2_steps = 3, .sft_steps = 4, .distill_steps = 2, .rl_steps = 2,
     .rl_prompts = 2, .rl_width = 4, .eval_samples = 6, .general_samples = 6},
    {.name = "tiny", .users = 2000, .videos = 1000, .ads = 300, .products = 300, .topics = 24, .vocab = 2048,
     .hidden = 128, .layers = 4, .heads = 4, .kv = 2, .head_dim = 32, .ffn = 384, .codebook = 32, .max_len = 1024,
     .micro = 2, .base_steps = 600, .s1_steps = 120, .s2_steps = 500, .sft_steps = 1000, .distill_steps = 400,
     .rl_steps = 20, .rl_prompts = 4, .rl_width = 16, .eval_samples = 250, .general_samples = 0},
    {.name = "small", .users = 4000, .videos = 2000, .ads = 600, .products = 600, .topics = 24, .vocab = 4096,
     .hidden = 256, .layers = 6, .heads = 8, .kv = 4, .head_dim = 32, .ffn = 768, .codebook = 64, .max_len = 1024,
     .micro = 4, .base_steps = 800, .s1_steps = 150, .s2_steps = 500, .sft_steps = 1000, .distill_steps = 40,
     .rl_steps = 40, .rl_prompts = 8, .rl_width = 32, .eval_samples = 300, .general_samples = 0},
    {.name = "base", .users = 20000, .videos = 8000, .ads = 2000, .products = 2000, .topics = 24, .vocab = 8192,
     .hidden = 512, .layers = 8, .heads = 8, .kv = 4, .head_dim = 64, .ffn = 1536, .codebook = 128, .max_len = 2048,
     .micro = 4, .base_steps = 3000, .s1_steps = 500, .s2_steps = 2000, .sft_steps = 4000, .distill_steps = 100,
     .rl_steps = 100, .rl_prompts = 8, .rl_width = 32, .eval_samples = 1000, .general_samples = 0},
};

// the stages of a full run (demo_run checks the count, so it cannot drift from the code)
enum { SYNTH_STAGES = 28 };

static const char *SFT_TASKS[] = {"video_rec", "ad_rec", "product_rec", "interactive_rec", "label_cond_rec",
                                  "label_pred", "item_understand", "rec_reason"};
static const char *EVAL_MODELS[][2] = {{"stage2", "runs/stage2"}, {"sft", "runs/sft"}, {"distill", "runs/distill"},
                                       {"rl", "runs/rl"}};

static int data_stages(demo *d) {
    const demo_size *z = d->z;
    char *W = demo_path(d, "world"), *S = demo_path(d, "sid"), *C = demo_path(d, "data"), *seed = demo_seed(d);
    int rc = demo_stage(d, "synth", ARGV("synth", "--out", W, "--users", I(z->users), "--videos", I(z->videos), "--ads",
                                        I(z->ads), "--products", I(z->products), "--topics", I(z->topics), "--seed", seed));
    const char *doms[2] = {"video_ad", "product"};
    for (int i = 0; !rc && i < 2; i++) {
        char *emb = mem_printf("%s/%s_embeddings.parquet", W, doms[i]), *cb = mem_printf("%s/%s_codebook.safetensors", S, doms[i]);
        char *p2s = mem_printf("%s/%s_pid2sid.parquet", S, doms[i]);
        char *n1 = mem_printf("sid_train_%s", doms[i]), *n2 = mem_printf("sid_encode_%s", doms[i]);
        rc = demo_stage(d, n1, ARGV("sid", "train", "--embeddings", emb, "--layers", "3", "--codebook", I(z->codebook),
                                   "--iters", "20", "--seed", seed, "--out", cb));
        if (!rc) rc = demo_stage(d, n2, ARGV("sid", "encode", "--codebook", cb, "--embeddings", emb, "--dedup", "balance", "--out", p2s));
    }
    if (!rc) rc = demo_stage(d, "data_convert", ARGV("data", "convert", "--raw", W, "--sid-dir", S, "--out", C, "--seed", seed));
    char *pre[4], *sft[9];
    const char *pre_names[3] = {"video_rec", "user_profile", "item_understand"};
    for (int i = 0; i < 3; i++) pre[i] = mem_printf("%s/pretrain/%s.parquet", C, pre_names[i]);
    pre[3] = mem_printf("%s/general/general_pretrain.parquet", W);
    for (int i = 0; i < 8; i++) sft[i] = mem_printf("%s/sft/%s.parquet", C, SFT_TASKS[i]);
    sft[8] = mem_printf("%s/general/general_sft.parquet", W);
    // the general text six times (14% of the rows instead of 3%) and the general chat rows three
    // times: co-pretraining is where the reference keeps general ability; at 3% stage 2 erased the
    // base's general skill (0.74 -> 0.004), and with the raw text alone it kept the skill only in
    // the raw "问：… 答：" form, not in the chat form the test (and SFT, distillation) use
    if (!rc) rc = demo_stage(d, "shard_pretrain", ARGV("data", "shard", "--out", demo_path(d, "shards/pretrain"), "--shuffle", "--seed", seed,
                                                      pre[0], pre[1], pre[2], pre[3], pre[3], pre[3], pre[3], pre[3], pre[3],
                                                      sft[8], sft[8], sft[8]));
    // label_pred has one row per target candidate (10 per user, 56% of all SFT rows): a sample of
    // one row per user keeps the yes/no task from crowding out the next-item tasks (with all rows,
    // ad and product Recall@32 stayed under popularity's)
    char *lp = demo_path(d, "data/sft_mix/label_pred.parquet");
    if (!rc) rc = demo_stage(d, "sample_label_pred", ARGV("data", "prepare", "distill", "--out", lp, "--rows", I(z->users),
                                                         "--seed", seed, sft[5]));
    // ad and product rows twice: they appear only in SFT (stage 2's item sequences are videos), so
    // they get two passes where videos had stage 2 (ad Recall@32 0.31 -> 0.37, product 0.27 -> 0.35)
    if (!rc) rc = demo_stage(d, "shard_sft", ARGV("data", "shard", "--out", demo_path(d, "shards/sft"), "--shuffle", "--seed", seed, sft[0],
                                                 sft[1], sft[1], sft[2], sft[2], sft[3], sft[4], lp, sft[6], sft[7], sft[8]));
    if (!rc) rc = demo_stage(d, "prepare_rl", ARGV("data", "prepare", "rl", "--in", C, "--out", demo_path(d, "rl"), "--test-size", "200", "--seed", seed));
    if (!rc) rc = demo_stage(d, "prepare_distill", ARGV("data", "prepare", "distill", "--out", demo_path(d, "distill/train.parquet"),
                                                       "--rows", "2000", "--seed", seed, sft[8]));
    if (!rc) rc = demo_stage(d, "tokenizer_corpus", ARGV("data", "text", "--out", demo_path(d, "tok/corpus.txt"), pre[3], sft[8], sft[0],
                                                        sft[3], sft[4], sft[5], sft[6], sft[7]));
    if (!rc) rc = demo_stage(d, "tokenizer_train", ARGV("tokenizer", "train", "--input", demo_path(d, "tok/corpus.txt"), "--vocab-size",
                                                       I(z->vocab), "--out", demo_path(d, "tok/tokenizer.json")));
    return rc;
}

static int model_stages(demo *d) {
    const demo_size *z = d->z;
    int32_t base_len = 0;
    if (demo_tokenizer_len(d, &base_len)) return ERR_FAIL;
    demo_model m = {z->hidden, z->layers, z->heads, z->kv, z->head_dim, z->ffn};
    int rc = demo_model_config(d, &m, (base_len + 63) / 64 * 64);
    char *W = demo_path(d, "world");
    const char *gen[2] = {mem_printf("%s/general/general_pretrain.parquet", W), mem_printf("%s/general/general_sft.parquet", W)};
    const char *pre[1] = {demo_path(d, "shards/pretrain/file_list.json")}, *sft[1] = {demo_path(d, "shards/sft/file_list.json")};
    // the report's stage-1 check: the benchmark prompts of the test users (history SIDs, profiles,
    // captions' questions), every token a target; none of these rows is trained on
    const char *held[3] = {demo_path(d, "data/benchmark/video/video_test.parquet"), demo_path(d, "data/benchmark/interactive/interactive_test.parquet"),
                           demo_path(d, "data/benchmark/item_understand/item_understand_test.parquet")};
    int ilo = base_len, ihi = base_len + 3 * z->codebook + 1;
    if (!rc) rc = file_mkdirs(demo_path(d, "config")) || demo_dataset(d, "base", gen, 2, 1, 0, 0, 1) ||
                  demo_dataset(d, "pretrain", pre, 1, 1, ilo, ihi, 1) || demo_dataset(d, "sft", sft, 1, 1, ilo, ihi, 1) ||
                  demo_dataset(d, "heldout", held, 3, 0, ilo, ihi, 0);
    if (!rc) rc = demo_stage(d, "base_init", ARGV("init", "--config", demo_path(d, "config/model.json"), "--out", demo_path(d, "models/base_init"),
                                                 "--seed", demo_seed(d), "--tokenizer", demo_path(d, "tok"), "--force"));
    if (!rc) rc = demo_train(d, "base_pretrain", demo_path(d, "models/base_init"), "runs/base", "base", z->base_steps, "2e-3", "2e-4", NULL, NULL);
    char *base = demo_final_step(d, "runs/base", z->base_steps);
    if (!rc) rc = demo_stage(d, "vocab_expand", ARGV("vocab", "expand", "--model", base, "--out", demo_path(d, "models/base_itemic"),
                                                    "--layers", "3", "--codebook", I(z->codebook), "--force"));
    char *s1 = mem_printf("--start_optimize_embedding_index=%d", base_len);
    if (!rc) rc = demo_train(d, "stage1", demo_path(d, "models/base_itemic"), "runs/stage1", "pretrain", z->s1_steps, "1e-2", "1e-3", "--freeze_llm", s1);
    if (!rc) rc = demo_train(d, "stage2", demo_final_step(d, "runs/stage1", z->s1_steps), "runs/stage2", "pretrain", z->s2_steps, "1e-3", "1e-4", NULL, NULL);
    if (!rc) rc = demo_train(d, "sft", demo_final_step(d, "runs/stage2", z->s2_steps), "runs/sft", "sft", z->sft_steps, "1e-3", "1e-4", NULL, NULL);
    char *sftm = demo_final_step(d, "runs/sft", z->sft_steps);
    // the reference's algorithm and sampling; 32 prompts a step and lr 2e-4 -> 1e-4 restored the most
    // general skill of the settings tried (docs/post.md, "onerec distill"); answers are a few tokens
    if (!rc) rc = demo_stage(d, "distill", ARGV("distill", "--student", sftm, "--teacher", base, "--data", demo_path(d, "distill/train.parquet"),
                                               "--out", demo_path(d, "runs/distill"), "--steps", I(z->distill_steps), "--prompts", "32",
                                               "--max-new", "16", "--lr", "2e-4", "--min-lr", "1e-4", "--save-every", I(z->distill_steps),
                                               "--seed", demo_seed(d)));
    char *dist = demo_final_step(d, "runs/distill", z->distill_steps);
    // GRPO with the hit reward as the reference; no KL term (it stays ~1e-3 and costs ~45% of the
    // update) and a low lr (higher ones lower held-out pass@1): docs/post.md
    if (!rc) rc = demo_stage(d, "rl", ARGV("rl", "--algo", "grpo", "--reward", "hit", "--model", dist, "--data", demo_path(d, "rl/train.parquet"),
                                          "--out", demo_path(d, "runs/rl"), "--steps", I(z->rl_steps), "--prompts", I(z->rl_prompts), "--width",
                                          I(z->rl_width), "--lr", "2e-5", "--min-lr", "2e-5", "--kl-coef", "0",
                                          "--save-every", I(z->rl_steps), "--seed", demo_seed(d)));
    return rc;
}

static int eval_stages(demo *d) {
    const demo_size *z = d->z;
    char *W = demo_path(d, "world");
    int rc = demo_stage(d, "baselines", ARGV("baseline", "recif", "--raw", mem_printf("%s/onerec_bench_release.parquet", W),
                                            "--world", W, "--results", demo_path(d, "baselines.json")));
    if (!rc) rc = demo_stage(d, "eval_base", ARGV("eval", "--model", demo_final_step(d, "runs/base", z->base_steps), "--data",
                                                 demo_path(d, "data/benchmark"), "--tasks", "none", "--general",
                                                 mem_printf("%s/general/general_test.parquet", W), "--name", "base", "--out",
                                                 demo_path(d, "eval/base")));
    int steps[4] = {z->s2_steps, z->sft_steps, z->distill_steps, z->rl_steps};
    for (int i = 0; !rc && i < 4; i++) {
        char *name = mem_printf("eval_%s", EVAL_MODELS[i][0]);
        rc = demo_stage(d, name, ARGV("eval", "--model", demo_final_step(d, EVAL_MODELS[i][1], steps[i]), "--data", demo_path(d, "data/benchmark"),
                                     "--general", mem_printf("%s/general/general_test.parquet", W), "--max-samples",
                                     I(z->eval_samples), "--general-samples", I(z->general_samples), "--name",
                                     (char *)EVAL_MODELS[i][0], "--out", mem_printf("%s/eval/%s", d->dir, EVAL_MODELS[i][0])));
    }
    // the reference has no constrained decoding; the same RL model with beams restricted to real items
    if (!rc) rc = demo_stage(d, "eval_rl_constrained",
                            ARGV("eval", "--model", demo_final_step(d, "runs/rl", z->rl_steps), "--data", demo_path(d, "data/benchmark"),
                                 "--tasks", "video,ad,product,interactive,label_cond", "--constrain", "--exclude-history", "--max-samples",
                                 I(z->eval_samples), "--name", "rl_constrained", "--baselines", demo_path(d, "baselines.json"),
                                 "--out", demo_path(d, "eval/rl_constrained")));
    return rc;
}

static int demo_run(demo *d, int only_report) {
    d->nsteps = SYNTH_STAGES;
    d->max_len = d->z->max_len, d->micro = d->z->micro;
    static const char *sub[] = {"sid", "tok", "distill", "config", "models", "runs", "eval", "data/sft_mix"};
    int rc = demo_dirs(d, sub, 8);
    double t0 = time_now();
    if (!rc && !only_report) rc = data_stages(d);
    if (!rc && !only_report) rc = model_stages(d);
    if (!rc && !only_report) rc = eval_stages(d);
    if (!rc && !only_report && d->step != d->nsteps) rc = err_set("demo: ran %d stages, expected %d", d->step, d->nsteps);
    if (!rc) rc = report_write(d->dir, d->z->name, time_now() - t0);
    return rc;
}

int cmd_demo(int argc, char **argv) {
    char *out = "demo-out", *size = "tiny", *dataset = "synthetic";
    int64_t seed = 42;
    int only_report = 0;
    arg_spec specs[] = {{"out", ARG_STR, &out, "output dir (re-running resumes: finished stages are skipped)", 0},
                        {"dataset", ARG_STR, &dataset, "synthetic (the built-in world) or movielens (ml-latest-small, real)", 0},
                        {"size", ARG_STR, &size, "tiny (about 15 min on 2 cores), small or base; smoke = a few steps per stage (tests)", 0},
                        {"seed", ARG_I64, &seed, "seed of the world and every stage", 0},
                        {"report-only", ARG_BOOL, &only_report, "only rebuild report.md from finished stages", 0},
                        {0}};
    int r = args_parse(argc, argv, specs, "onerec demo [--dataset synthetic|movielens] [--out DIR] [--size tiny|small|base] [--seed S]",
                       "The whole OpenOneRec pipeline on the built-in synthetic world or on MovieLens, with a report.", NULL, 0, NULL);
    if (r) return r > 0 ? 0 : 2;
    int ml = !strcmp(dataset, "movielens");
    if (!ml && strcmp(dataset, "synthetic")) {
        fprintf(stderr, "onerec demo: --dataset must be synthetic or movielens (got \"%s\")\n", dataset);
        return 2;
    }
    demo d;
    if (demo_init(&d, out, seed)) return cli_fail("demo");
    for (size_t i = 0; !ml && i < sizeof SIZES / sizeof SIZES[0]; i++)
        if (!strcmp(SIZES[i].name, size)) d.z = &SIZES[i];
    if (!ml && !d.z) {
        fprintf(stderr, "onerec demo: --size must be tiny, small or base (got \"%s\")\n", size);
        return 2;
    }
    if (ml && !demo_movielens_size(size)) {
        fprintf(stderr, "onerec demo: --size of the MovieLens demo must be tiny or smoke (got \"%s\")\n", size);
        return 2;
    }
    // OpenMP threads that spin while waiting collapse when the machine is shared (measured 5x
    // slower training on 2 busy cores); passive waiting costs little on an idle machine
    setenv("OMP_WAIT_POLICY", "passive", 0);
    outdir od;   // one demo per dir; a failed demo keeps its logs
    int rc = outdir_open(&od, out, "demo", 0) ||
             outdir_close(&od, ml ? demo_movielens_run(&d, size, only_report) : demo_run(&d, only_report), "logs");
    if (rc) return cli_fail("demo");
    printf("demo complete: %s/report.md\n", out);
    return 0;
}
