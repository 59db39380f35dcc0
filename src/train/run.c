#include "train/run.h"
#include "train/update.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/err.h"
#include "base/file.h"
#include "base/json.h"
#include "base/log.h"
#include "base/mem.h"
#include "formats/tfevents.h"
#include "train/ckpt.h"
#include "train/dataset.h"
#include "train/dist.h"
#include "train/model_io.h"
#include "train/source.h"
#include "train/trainer.h"

void train_run_default(train_run_args *a) {
    *a = (train_run_args){
        .lr_scheduler_type = "cosine",
        .learning_rate = 2e-4,
        .min_lr = 1e-4,
        .weight_decay = 0.1,
        .beta1 = 0.9,
        .beta2 = 0.95,
        .max_grad_norm = 1.0,
        .num_warmup_steps = 200,
        .num_training_steps = 2000,
        .save_checkpoint_per_step = 500,
        .logging_per_step = 1,
        .eval_rows = 16,
        .seed = 19260817,
        .minibatch_size = 4096,
        .gradient_accumulation_steps = 1,
        .micro_batch_size = 1,
        .peak_gflops = 190,
        .plot = 1,
    };
}

typedef struct {
    const train_run_args *a;
    int rank, world;
    train_dataset_config dc;
    tokenizer *tok;
    qwen3_model m;
    hf_config hf;
    int have_model;
    train_data *data, *eval_data;
    train_loader loader;
    int have_loader;
    trainer *tr;
    train_logs logs;          // stdout.log, stderr.log, args.json, events (rank 0)
    FILE *dump;
    int64_t last_ckpt;       // step of the newest complete checkpoint (-1: none)
    cJSON *args;
    cJSON *state;            // trainer_state.json when resuming
    int64_t start;           // the step training continues from
    train_dataset_config edc;   // --eval_dataset_config (eval_data != NULL)
} run_ctx;

static int check_args(const train_run_args *a) {
    if (!a->model_dir) return err_usage("--model_dir is required (the base model dir, also when resuming: its tokenizer is used)");
    if (!a->output_dir) return err_usage("--output_dir is required");
    if (!a->dataset_config) return err_usage("--dataset_config is required");
    if (!(a->learning_rate > 0)) return err_usage("--learning_rate must be positive");
    if (a->min_lr < 0 || a->min_lr > a->learning_rate) return err_usage("--min_lr must be in [0, learning_rate]");
    if (a->num_training_steps < 1) return err_usage("--num_training_steps must be >= 1");
    if (a->num_warmup_steps < 0) return err_usage("--num_warmup_steps must be >= 0");
    if (a->save_checkpoint_per_step < 1 || a->logging_per_step < 1)
        return err_usage("--save_checkpoint_per_step and --logging_per_step must be >= 1");
    if (a->gradient_accumulation_steps < 1 || a->micro_batch_size < 1)
        return err_usage("--gradient_accumulation_steps and --micro_batch_size must be >= 1");
    if (a->beta1 < 0 || a->beta1 >= 1 || a->beta2 < 0 || a->beta2 >= 1) return err_usage("--beta1/--beta2 must be in [0, 1)");
    if (a->start_optimize_embedding_index < 0) return err_usage("--start_optimize_embedding_index must be >= 0");
    if (a->max_length < 0) return err_usage("--max_length %d: must be >= 0 (0: the dataset config's)", a->max_length);
    return 0;
}

static cJSON *make_state(run_ctx *c, int64_t step) {
    cJSON *s = cJSON_CreateObject();
    cJSON_AddNumberToObject(s, "step", (double)step);
    cJSON_AddNumberToObject(s, "world_size", c->world);
    cJSON_AddNumberToObject(s, "rows_per_step",
                            (double)c->world * c->a->gradient_accumulation_steps * c->a->micro_batch_size);
    cJSON_AddItemToObject(s, "loader", train_loader_state(&c->loader));
    cJSON_AddItemToObject(s, "args", cJSON_Duplicate(c->args, 1));
    return s;
}

static int save_checkpoint(run_ctx *c, int64_t step) {
    int rc = 0;
    if (c->rank == 0) {
        cJSON *s = make_state(c, step);
        rc = ckpt_save(c->a->output_dir, step, &c->m, &c->hf, c->a->model_dir, s);
        cJSON_Delete(s);
        if (!rc) log_info("checkpoint %s/step%lld written", c->a->output_dir, (long long)step);
    }
    long long bad[1] = {rc != 0};
    dist_allreduce_max_i64(bad, 1);
    if (bad[0]) return rc ? rc : err_set("rank 0 failed to write checkpoint step%lld", (long long)step);
    c->last_ckpt = step;
    return 0;
}

static int open_loader(run_ctx *c, train_data *d, const train_dataset_config *dc, train_loader *l, int eval) {
    train_loader_config lc = {dc->nfiles, eval ? 1 : dc->num_epochs, eval ? 0 : dc->local_shuffle_buffer_size,
                              dc->max_sample_length, dc->cut_to_pad, dc->full_attention, (uint64_t)c->a->seed};
    return train_loader_init(l, &lc, train_data_source(d));
}

static int run_eval(run_ctx *c, const train_dataset_config *edc, int64_t step) {
    train_loader l;
    if (open_loader(c, c->eval_data, edc, &l, 1)) return ERR_FAIL;
    double loss;
    int64_t ntok;
    int rc = trainer_eval(c->tr, &l, c->a->eval_rows, &loss, &ntok);
    train_loader_free(&l);
    if (rc) return err_wrap("evaluating at step %lld", (long long)step);
    if (c->rank == 0) {
        log_info("step %lld eval loss %.4f over %lld tokens", (long long)step, loss, (long long)ntok);
        fprintf(c->logs.out_log, "eval step %lld loss %.17g tokens %lld\n", (long long)step, loss, (long long)ntok);
        fflush(c->logs.out_log);
        tfevents_add_scalar(&c->logs.tb, "eval/loss", step, (float)loss);
        char *p = path_join(c->a->output_dir, "eval.tsv");
        FILE *f = p ? fopen(p, "a") : NULL;
        if (f) fprintf(f, "%lld\t%.9g\n", (long long)step, loss), fclose(f);
        free(p);
    }
    return 0;
}

static void log_step(run_ctx *c, const trainer_stats *st, double dt) {
    double tps = dt > 0 ? (double)st->tokens / dt : 0;
    double flops = 3.0 * qwen3_flops_per_token(&c->m.cfg, c->dc.max_length / 2) * (double)st->tokens;
    double mfu = dt > 0 && c->a->peak_gflops > 0 ? flops / dt / (c->a->peak_gflops * 1e9) : 0;
    fprintf(c->logs.out_log, "step %lld loss %.17g itemic_token_loss %.9g text_token_loss %.9g grad_norm %.9g lr %.9g tokens %lld tokens_per_sec %.1f mfu %.4f\n",
            (long long)st->step, st->loss, st->itemic_loss, st->text_loss, st->grad_norm, st->lr,
            (long long)st->tokens, tps, mfu);
    fflush(c->logs.out_log);
    tfevents_writer *w = &c->logs.tb;
    int64_t s = st->step;
    tfevents_add_scalar(w, "training/loss", s, (float)st->loss);
    if (st->itemic_tokens) tfevents_add_scalar(w, "training/itemic_token_loss", s, (float)st->itemic_loss);
    if (st->text_tokens) tfevents_add_scalar(w, "training/text_token_loss", s, (float)st->text_loss);
    tfevents_add_scalar(w, "training/grad_norm", s, (float)st->grad_norm);
    tfevents_add_scalar(w, "training/learning_rate", s, (float)st->lr);
    tfevents_add_scalar(w, "perf/tokens_per_sec", s, (float)tps);
    tfevents_add_scalar(w, "perf/mfu", s, (float)mfu);
    for (int i = 0; i < st->nsources; i++) {
        if (!st->source_tokens[i]) continue;
        char tag[300];
        snprintf(tag, sizeof tag, "data_source_loss/%s", train_data_source_name(c->data, i));
        tfevents_add_scalar(w, tag, s, (float)st->source_loss[i]);
    }
    char *p = path_join(c->a->output_dir, "loss.tsv");
    FILE *f = p ? fopen(p, "a") : NULL;
    if (f) fprintf(f, "%lld\t%.9g\n", (long long)s, st->loss), fclose(f);
    free(p);
}

// loss.tsv / eval.tsv keep one line per step; after a resume drop the killed run's later lines.
static void trim_tsv(const char *out, const char *name, int64_t upto) {
    char *p = path_join(out, name), *text = NULL;
    if (!p || file_read_all(p, &text, NULL)) {
        free(p);
        err_clear();
        return;
    }
    size_t keep = 0;
    for (char *line = text; *line;) {
        char *nl = strchr(line, '\n');
        size_t len = nl ? (size_t)(nl - line + 1) : strlen(line);
        if (strtoll(line, NULL, 10) <= upto) {
            memmove(text + keep, line, len);
            keep += len;
        }
        line += len;
    }
    file_write_atomic(p, text, keep);
    free(text);
    free(p);
}

static void plot_loss(const char *out) {
    char *ev = path_join(out, "eval.tsv");
    int have_eval = ev && file_size(ev) > 0;
    free(ev);
    char *cmd = mem_printf("cd '%s' && gnuplot -e \"set terminal png size 900,500; set output 'loss.png.tmp'; "
                           "set xlabel 'step'; set ylabel 'loss'; set grid; plot 'loss.tsv' using 1:2 with lines "
                           "title 'train loss'%s\" >/dev/null 2>&1 && mv loss.png.tmp loss.png",
                           out, have_eval ? ", 'eval.tsv' using 1:2 with linespoints title 'held-out loss'" : "");
    if (cmd && system(cmd) != 0) log_warn("gnuplot failed: no loss.png");
    free(cmd);
}

static void ctx_free(run_ctx *c) {
    trainer_free(c->tr);
    if (c->have_loader) train_loader_free(&c->loader);
    train_data_close(c->data);
    train_data_close(c->eval_data);
    if (c->have_model) {
        qwen3_model_free(&c->m);
        hf_config_free(&c->hf);
    }
    tokenizer_free(c->tok);
    train_dataset_config_free(&c->dc);
    train_logs_close(&c->logs);
    if (c->dump) fclose(c->dump);
    cJSON_Delete(c->args);
    cJSON_Delete(c->state);
    train_dataset_config_free(&c->edc);
}

// Loads the model (from --model_dir, or the checkpoint when resuming) and, when resuming, the
// optimizer moments and the trainer state. *start receives the step to continue from.
static int load_model(run_ctx *c, cJSON **state, int64_t *start) {
    const train_run_args *a = c->a;
    *state = NULL;
    *start = 0;
    char *dir = NULL;
    if (a->resume_from) {
        if (ckpt_resolve(a->resume_from, &dir)) return ERR_FAIL;
        if (!(*state = ckpt_load_state(dir))) goto fail;
        int64_t st;
        if (json_get_int(*state, "step", &st, "trainer_state.json")) goto fail;
        *start = st;
        if (train_model_load(&c->m, &c->hf, dir)) goto fail;
        c->have_model = 1;
        if (ckpt_load_optimizer(&c->m, dir)) goto fail;
        log_info("resuming from %s (step %lld)", dir, (long long)st);
    } else {
        if (train_model_load(&c->m, &c->hf, a->model_dir)) return ERR_FAIL;
        c->have_model = 1;
    }
    free(dir);
    return 0;
fail:
    err_wrap("resuming from %s", dir);
    free(dir);
    return ERR_FAIL;
}

// The output dir and its logs, the dataset config, the model (or the checkpoint) and tokenizer.
static int open_run(run_ctx *c) {
    const train_run_args *a = c->a;
    if (check_args(a)) return ERR_FAIL;
    if (c->rank == 0 && train_prepare_output(a->output_dir)) return ERR_FAIL;
    if (dist_barrier()) return ERR_FAIL;
    if (c->rank == 0 && (ckpt_clean_partial(a->output_dir) || train_logs_open(&c->logs, a->output_dir, c->args)))
        return ERR_FAIL;
    if (train_dataset_config_load(&c->dc, a->dataset_config)) return ERR_FAIL;
    if (a->max_length > 0) c->dc.max_length = a->max_length;
    if (c->dc.max_length < 2) return err_set("max_length %d is too short", c->dc.max_length);
    if (load_model(c, &c->state, &c->start)) return ERR_FAIL;
    if (tokenizer_load_dir(&c->tok, a->model_dir)) return err_wrap("the trainer needs the model's tokenizer");
    if (a->use_tie_weights && !c->m.cfg.tied)
        log_warn("--use_tie_weights: %s has untied lm_head weights; they stay untied", a->model_dir);
    return 0;
}

// Training data and its loader, at the checkpoint's position when resuming.
static int open_data(run_ctx *c) {
    const train_run_args *a = c->a;
    train_data_config tdc = {c->dc.files, c->dc.nfiles, c->tok, c->dc.add_think_pattern, c->dc.only_assistant_loss};
    if (train_data_open(&c->data, &tdc)) return ERR_FAIL;
    if (open_loader(c, c->data, &c->dc, &c->loader, 0)) return ERR_FAIL;
    c->have_loader = 1;
    if (c->state) {
        const cJSON *ls = cJSON_GetObjectItemCaseSensitive(c->state, "loader");
        if (!ls || train_loader_restore(&c->loader, ls)) return err_wrap("resuming");
        int64_t rows, want = (int64_t)c->world * a->gradient_accumulation_steps * a->micro_batch_size;
        if (!json_opt_int(c->state, "rows_per_step", 0, &rows, "trainer_state.json") && rows != want)
            log_warn("the checkpoint used %lld rows per step, this run %lld: the continuation is not the same run",
                     (long long)rows, (long long)want);
        c->last_ckpt = c->start;
    }
    if (c->rank == 0) {   // a fresh run starts the plot data over; a resumed one drops the lost steps
        trim_tsv(a->output_dir, "loss.tsv", c->start);
        trim_tsv(a->output_dir, "eval.tsv", c->start - (c->state ? 0 : 1));
    }
    return 0;
}

// The trainer, the batch dump, and the eval set (scored once before a fresh run's first step).
static int open_trainer(run_ctx *c) {
    const train_run_args *a = c->a;
    lr_kind lk;
    if (lr_kind_parse(a->lr_scheduler_type, &lk)) return ERR_FAIL;
    trainer_config tc = {c->dc.max_length, a->micro_batch_size, a->gradient_accumulation_steps,
                         {lk, a->learning_rate, a->min_lr, a->num_warmup_steps, a->num_training_steps},
                         (float)a->beta1, (float)a->beta2, 1e-8f, (float)a->weight_decay, a->max_grad_norm,
                         a->freeze_llm, a->start_optimize_embedding_index, c->dc.itemic_lo, c->dc.itemic_hi,
                         a->enable_gradient_checkpointing};
    if (trainer_init(&c->tr, &c->m, &c->loader, &tc)) return ERR_FAIL;
    trainer_set_step(c->tr, c->start);
    if (a->dump_batches && c->rank == 0) {
        if (!(c->dump = fopen(a->dump_batches, "wb"))) return err_errno("--dump_batches %s", a->dump_batches);
        trainer_set_dump(c->tr, c->dump);
    }
    if (!a->eval_dataset_config) return 0;
    if (train_dataset_config_load(&c->edc, a->eval_dataset_config)) return ERR_FAIL;
    c->edc.max_length = c->dc.max_length;
    train_data_config e = {c->edc.files, c->edc.nfiles, c->tok, c->edc.add_think_pattern, c->edc.only_assistant_loss};
    if (train_data_open(&c->eval_data, &e)) return ERR_FAIL;
    return c->start == 0 ? run_eval(c, &c->edc, 0) : 0;
}

// trainer_step gave no batch: an error at step 0 (nothing trainable), else the data ran out.
static int no_first_step(run_ctx *c) {
    const train_run_args *a = c->a;
    return err_set("no trainable tokens: %lld samples read, %lld longer than max_sample_length %d, %lld without "
                   "loss tokens, not enough for one step of %lld rows",
                   (long long)c->loader.samples_read, (long long)c->loader.skipped_long, c->dc.max_sample_length,
                   (long long)c->loader.skipped_empty,
                   (long long)c->world * a->gradient_accumulation_steps * a->micro_batch_size);
}

static int step_failed(run_ctx *c) {
    char why[ERR_MSG_MAX];
    snprintf(why, sizeof why, "%s", err_msg());
    if (c->last_ckpt >= 0)
        return err_set("%s; training stopped, the last good checkpoint is %s/step%lld", why, c->a->output_dir,
                       (long long)c->last_ckpt);
    return err_set("%s; training stopped before any checkpoint was written", why);
}

// Steps from c->start to --num_training_steps (or the end of the data), with logs, checkpoints
// and evals on their schedules; the last step is always checkpointed.
static int train_loop(run_ctx *c, int64_t *final) {
    const train_run_args *a = c->a;
    int64_t eval_every = a->eval_per_step > 0 ? a->eval_per_step : a->save_checkpoint_per_step;
    progress pb;
    if (c->rank == 0) progress_begin(&pb, "train", a->num_training_steps - c->start, "steps");
    trainer_stats st;
    int64_t step = c->start;
    int rc = 0;
    while (!rc && step < a->num_training_steps) {
        double t0 = time_now();
        int got = trainer_step(c->tr, &st);
        if (got < 0) {
            rc = step_failed(c);
            break;
        }
        if (got == 0) {
            if (step == 0) rc = no_first_step(c);
            else log_info("the data ran out after %d epoch(s) at step %lld", c->dc.num_epochs, (long long)step);
            break;
        }
        step = st.step;
        double dt = time_now() - t0;
        if (c->rank == 0) {
            if (step % a->logging_per_step == 0 || step == a->num_training_steps) log_step(c, &st, dt);
            progress_add(&pb, 1);
            progress_note(&pb, "loss %.4f lr %.2e %.0f tok/s", st.loss, st.lr, dt > 0 ? st.tokens / dt : 0);
        }
        if (step % a->save_checkpoint_per_step == 0) rc = save_checkpoint(c, step);
        if (!rc && c->eval_data && (step % eval_every == 0 || step == a->num_training_steps)) rc = run_eval(c, &c->edc, step);
    }
    if (!rc && c->last_ckpt != step) rc = save_checkpoint(c, step);
    if (c->rank == 0) progress_end(&pb);
    *final = step;
    return rc;
}

int train_run(const train_run_args *a, const cJSON *args_json, int64_t *final_step) {
    run_ctx c;
    memset(&c, 0, sizeof c);
    c.a = a;
    c.rank = dist_rank();
    c.world = dist_size();
    c.last_ckpt = -1;
    c.args = args_json ? cJSON_Duplicate(args_json, 1) : cJSON_CreateObject();
    int rc = open_run(&c) || open_data(&c) || open_trainer(&c) ? ERR_FAIL : 0;
    if (!rc)
        log_info("training %s: %d rank(s), %d x %d rows of %d tokens per step, steps %lld..%lld, %s",
                 a->freeze_llm ? "stage 1 (LLM frozen)" : "all parameters", c.world, a->gradient_accumulation_steps,
                 a->micro_batch_size, c.dc.max_length, (long long)c.start + 1, (long long)a->num_training_steps,
                 c.m.cfg.tied ? "tied embeddings" : "untied embeddings");
    int64_t step = c.start;
    if (!rc) rc = train_loop(&c, &step);
    if (!rc && c.rank == 0) {
        log_info("trained to step %lld; samples read %lld, skipped %lld over max_sample_length, %lld without loss "
                 "tokens; %lld tokens cut by cut_to_pad", (long long)step, (long long)c.loader.samples_read,
                 (long long)c.loader.skipped_long, (long long)c.loader.skipped_empty, (long long)c.loader.tokens_cut);
        tfevents_flush(&c.logs.tb);
        if (a->plot) plot_loss(a->output_dir);
    }
    if (!rc && final_step) *final_step = step;
    if (rc && c.logs.err_log) fprintf(c.logs.err_log, "[error] %s\n", err_msg());   // the CLI prints it on stderr
    ctx_free(&c);
    return rc;
}
