// onerec demo --dataset movielens: the whole pipeline on a real log, MovieLens ml-latest-small (from
// Debian's r-cran-dslabs), with Jane Austen's novels (r-cran-janeaustenr) as the real English of the
// base model and of the general-skill check. Leave-one-out split; the model and the baselines are
// ranked over every item with the user's earlier items excluded (HR@K, NDCG@K).
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "base/file.h"
#include "base/log.h"
#include "cli/demo.h"
#include "eval/report.h"

typedef struct ml_size {
    const char *name;
    demo_model model;
    int vocab, codebook, emb_dim, max_len, micro;
    int windows, window_stride, window_history, window_targets;
    int base_steps, s1_steps, s2_steps, sft_steps, distill_steps;
    int eval_width, eval_samples;   // eval_samples 0: every test user
    int sasrec_epochs;
} ml_size;

static const ml_size ML_SIZES[] = {
    // smoke: every stage for a few steps, for the test suite (results are not meaningful)
    {.name = "smoke", .model = {32, 2, 2, 1, 16, 64}, .vocab = 600, .codebook = 32, .emb_dim = 16, .max_len = 512,
     .micro = 1, .windows = 2, .window_stride = 8, .window_history = 20, .window_targets = 1, .base_steps = 2,
     .s1_steps = 2, .s2_steps = 2, .sft_steps = 2, .distill_steps = 2, .eval_width = 8, .eval_samples = 6, .sasrec_epochs = 1},
    {.name = "tiny", .model = {128, 4, 4, 2, 32, 384}, .vocab = 2048, .codebook = 64, .emb_dim = 32, .max_len = 1024,
     .micro = 2, .windows = 8, .window_stride = 4, .window_history = 50, .window_targets = 1, .base_steps = 400,
     .s1_steps = 100, .s2_steps = 600, .sft_steps = 600, .distill_steps = 100, .eval_width = 50, .eval_samples = 0, .sasrec_epochs = 40},
};

const struct ml_size *demo_movielens_size(const char *name) {
    for (size_t i = 0; name && i < sizeof ML_SIZES / sizeof ML_SIZES[0]; i++)
        if (!strcmp(ML_SIZES[i].name, name)) return &ML_SIZES[i];
    return NULL;
}

// the stages of a full run (checked at its end)
enum { ML_STAGES = 29 };

static const char *NOVELS[] = {"emma", "mansfieldpark", "northangerabbey", "persuasion", "prideprejudice", "sensesensibility"};
enum { NNOVELS = 6 };

static int data_stages(demo *d, const ml_size *z) {
    char *ml = demo_path(d, "ml"), *W = demo_path(d, "world"), *S = demo_path(d, "sid"), *C = demo_path(d, "data");
    char *T = demo_path(d, "text");
    int rc = demo_stage(d, "movielens", ARGV("data", "movielens", "--out", ml, "--force"));
    if (!rc) rc = demo_stage(d, "import", ARGV("data", "import", "--interactions", mem_printf("%s/interactions.parquet", ml),
                                               "--items", mem_printf("%s/items.parquet", ml), "--rating-col", "rating", "--out", W,
                                               "--force"));
    char *novels[NNOVELS];
    for (int i = 0; i < NNOVELS; i++) {
        novels[i] = mem_printf("%s/%s.txt", T, NOVELS[i]);
        if (!rc) rc = demo_stage(d, mem_printf("text_%s", NOVELS[i]),
                                 ARGV("data", "rtext", "--db", "janeaustenr", "--object", (char *)NOVELS[i], "--out", novels[i]));
    }
    // held-out chunks of the novels measure the general skill (their loss) before and after each stage
    if (!rc) rc = demo_stage(d, "text_segments", ARGV("data", "segments", "--out", mem_printf("%s/austen.parquet", T), "--test-out",
                                                      mem_printf("%s/austen_test.parquet", T), "--chat-out",
                                                      mem_printf("%s/austen_chat.parquet", T), "--seed", demo_seed(d), novels[0],
                                                      novels[1], novels[2], novels[3], novels[4], novels[5]));
    // collaborative (training sequences only) and text vectors side by side: co-occurrence alone
    // leaves the rarely rated movies in a few large SID collision groups (29% of the items share a
    // SID at codebook 32 after balancing, 12% at 64), the text separates them (0% at 64)
    char *emb = mem_printf("%s/item_embeddings.parquet", S), *cb = mem_printf("%s/codebook.safetensors", S);
    if (!rc) rc = demo_stage(d, "embed", ARGV("embed", "--method", "mix", "--raw", mem_printf("%s/onerec_bench_release.parquet", W),
                                              "--input", mem_printf("%s/pid2caption.parquet", W), "--dim", I(z->emb_dim),
                                              "--out", emb));
    if (!rc) rc = demo_stage(d, "sid_train", ARGV("sid", "train", "--embeddings", emb, "--layers", "3", "--codebook", I(z->codebook),
                                                  "--iters", "20", "--seed", demo_seed(d), "--out", cb));
    if (!rc) rc = demo_stage(d, "sid_encode", ARGV("sid", "encode", "--codebook", cb, "--embeddings", emb, "--dedup", "balance",
                                                   "--out", mem_printf("%s/video_ad_pid2sid.parquet", S)));
    if (!rc) rc = demo_stage(d, "data_convert", ARGV("data", "convert", "--raw", W, "--sid-dir", S, "--out", C, "--lang", "en",
                                                     "--seed", demo_seed(d), "--windows", I(z->windows), "--window-stride",
                                                     I(z->window_stride), "--window-history", I(z->window_history),
                                                     "--window-targets", I(z->window_targets)));
    char *vr_pre = mem_printf("%s/pretrain/video_rec.parquet", C), *iu_pre = mem_printf("%s/pretrain/item_understand.parquet", C);
    char *prof = mem_printf("%s/pretrain/user_profile.parquet", C), *vr = mem_printf("%s/sft/video_rec.parquet", C);
    char *iu = mem_printf("%s/sft/item_understand.parquet", C), *txt = mem_printf("%s/austen.parquet", T);
    char *chat = mem_printf("%s/austen_chat.parquet", T);
    if (!rc) rc = demo_stage(d, "shard_pretrain", ARGV("data", "shard", "--out", demo_path(d, "shards/pretrain"), "--shuffle", "--seed",
                                                       demo_seed(d), vr_pre, vr_pre, vr_pre, iu_pre, prof, txt, chat));
    if (!rc) rc = demo_stage(d, "shard_sft", ARGV("data", "shard", "--out", demo_path(d, "shards/sft"), "--shuffle", "--seed",
                                                  demo_seed(d), vr, iu, chat));
    if (!rc) rc = demo_stage(d, "prepare_distill", ARGV("data", "prepare", "distill", "--out", demo_path(d, "distill/train.parquet"),
                                                        "--rows", "2000", "--seed", demo_seed(d), chat));
    if (!rc) rc = demo_stage(d, "tokenizer_corpus", ARGV("data", "text", "--out", demo_path(d, "tok/corpus.txt"), txt, chat, vr, iu));
    if (!rc) rc = demo_stage(d, "tokenizer_train", ARGV("tokenizer", "train", "--input", demo_path(d, "tok/corpus.txt"), "--vocab-size",
                                                        I(z->vocab), "--out", demo_path(d, "tok/tokenizer.json")));
    return rc;
}

static int model_stages(demo *d, const ml_size *z) {
    int32_t base_len = 0;
    if (demo_tokenizer_len(d, &base_len)) return ERR_FAIL;
    int rc = demo_model_config(d, &z->model, (base_len + 63) / 64 * 64);
    char *T = demo_path(d, "text");
    const char *gen[2] = {mem_printf("%s/austen.parquet", T), mem_printf("%s/austen_chat.parquet", T)};
    const char *pre[1] = {demo_path(d, "shards/pretrain/file_list.json")}, *sft[1] = {demo_path(d, "shards/sft/file_list.json")};
    // the general-skill check: held-out chunks of the novels; the stage-1 check: the test users' prompts
    const char *held_text[1] = {mem_printf("%s/austen_test.parquet", T)};
    const char *held[2] = {demo_path(d, "data/benchmark/video/video_test.parquet"),
                           demo_path(d, "data/benchmark/item_understand/item_understand_test.parquet")};
    int ilo = base_len, ihi = base_len + 3 * z->codebook + 1;
    if (!rc) rc = demo_dataset(d, "base", gen, 2, 1, 0, 0, 1) || demo_dataset(d, "pretrain", pre, 1, 1, ilo, ihi, 1) ||
                  demo_dataset(d, "sft", sft, 1, 1, ilo, ihi, 1) || demo_dataset(d, "heldout", held, 2, 0, ilo, ihi, 0) ||
                  demo_dataset(d, "heldout_text", held_text, 1, 0, 0, 0, 0);
    if (!rc) rc = demo_stage(d, "base_init", ARGV("init", "--config", demo_path(d, "config/model.json"), "--out",
                                                  demo_path(d, "models/base_init"), "--seed", demo_seed(d), "--tokenizer",
                                                  demo_path(d, "tok"), "--force"));
    if (!rc) rc = demo_train(d, "base_pretrain", demo_path(d, "models/base_init"), "runs/base", "base", z->base_steps, "2e-3", "2e-4",
                             NULL, NULL);
    char *base = demo_final_step(d, "runs/base", z->base_steps);
    if (!rc) rc = demo_stage(d, "vocab_expand", ARGV("vocab", "expand", "--model", base, "--out", demo_path(d, "models/base_itemic"),
                                                     "--layers", "3", "--codebook", I(z->codebook), "--force"));
    char *s1 = mem_printf("--start_optimize_embedding_index=%d", base_len);
    if (!rc) rc = demo_train(d, "stage1", demo_path(d, "models/base_itemic"), "runs/stage1", "pretrain", z->s1_steps, "1e-2", "1e-3",
                             "--freeze_llm", s1);
    if (!rc) rc = demo_train(d, "stage2", demo_final_step(d, "runs/stage1", z->s1_steps), "runs/stage2", "pretrain", z->s2_steps,
                             "1e-3", "1e-4", NULL, NULL);
    if (!rc) rc = demo_train(d, "sft", demo_final_step(d, "runs/stage2", z->s2_steps), "runs/sft", "sft", z->sft_steps, "1e-3",
                             "1e-4", NULL, NULL);
    // the synthetic demo's distillation settings (docs/post.md), on continuation prompts of the novels
    if (!rc) rc = demo_stage(d, "distill", ARGV("distill", "--student", demo_final_step(d, "runs/sft", z->sft_steps), "--teacher", base,
                                                "--data", demo_path(d, "distill/train.parquet"), "--out", demo_path(d, "runs/distill"),
                                                "--steps", I(z->distill_steps), "--prompts", "32", "--max-new", "16", "--lr", "2e-4",
                                                "--min-lr", "1e-4", "--save-every", I(z->distill_steps), "--seed", demo_seed(d)));
    return rc;
}

static const char *ML_MODELS[][2] = {{"stage2", "runs/stage2"}, {"sft", "runs/sft"}, {"distill", "runs/distill"}};

static int eval_stages(demo *d, const ml_size *z) {
    char *W = demo_path(d, "world");
    int rc = demo_stage(d, "baselines", ARGV("baseline", "recif", "--raw", mem_printf("%s/onerec_bench_release.parquet", W), "--k",
                                             "5,10,20", "--predictions", demo_path(d, "predictions"), "--video-task", "movielens",
                                             "--epochs", I(z->sasrec_epochs),
                                             "--results", demo_path(d, "baselines.json")));
    int steps[3] = {z->s2_steps, z->sft_steps, z->distill_steps};
    for (int i = 0; !rc && i < 3; i++)
        rc = demo_stage(d, mem_printf("eval_%s", ML_MODELS[i][0]),
                        ARGV("eval", "--model", demo_final_step(d, ML_MODELS[i][1], steps[i]), "--data", demo_path(d, "data/benchmark"),
                             "--tasks", "video", "--constrain", "--exclude-history", "--width", I(z->eval_width), "--k", "5,10,20",
                             "--max-samples", I(z->eval_samples), "--name", (char *)ML_MODELS[i][0], "--out",
                             mem_printf("%s/eval/%s", d->dir, ML_MODELS[i][0])));
    return rc;
}

int demo_movielens_run(demo *d, const char *size, int only_report) {
    const ml_size *z = demo_movielens_size(size);
    if (!z) return err_set("no MovieLens demo size \"%s\"", size);
    d->nsteps = ML_STAGES;
    d->max_len = z->max_len, d->micro = z->micro;
    static const char *sub[] = {"sid", "tok", "text", "distill", "config", "models", "runs", "eval", "predictions"};
    int rc = demo_dirs(d, sub, 9);
    double t0 = time_now();
    if (!rc && !only_report) rc = data_stages(d, z);
    if (!rc && !only_report) rc = model_stages(d, z);
    if (!rc && !only_report) rc = eval_stages(d, z);
    if (!rc && !only_report && d->step != d->nsteps) rc = err_set("demo: ran %d stages, expected %d", d->step, d->nsteps);
    if (!rc) rc = report_movielens_write(d->dir, z->name, time_now() - t0);
    return rc;
}
