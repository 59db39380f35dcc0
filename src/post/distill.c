// On-policy distillation (reference 7.1): the student samples answers to general prompts, the
// teacher (the original model, without itemic tokens) scores the same tokens, and the student is
// pushed towards the teacher with the per-token advantage -(log p_s - log p_t), clipped.
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "base/file.h"
#include "base/log.h"
#include "base/mem.h"
#include "post/policy.h"
#include "post/prompts.h"
#include "post/rl.h"
#include "post/rl_loss.h"
#include "post/run_common.h"
#include "rec/generate.h"
#include "rec/sample.h"
#include "train/optim.h"

void distill_args_default(distill_args *a) {
    *a = (distill_args){
        .steps = 100,
        .prompts = 8,
        .max_new = 256,
        .micro = 8,
        .save_every = 50,
        .log_every = 1,
        .lr = 1e-6,
        .min_lr = 1e-6,
        .max_grad_norm = 1.0,
        .clip_low = 0.2f,
        .clip_high = 0.28f,
        .temperature = 1.1f,
        .top_p = 0.95f,
        .adv_lo = -30.0f,
        .adv_hi = 5.0f,
        .seed = 42,
    };
}

// The teacher knows ids below its tokenizer length; they must mean the same tokens in the student.
static int check_vocab(const post_run *r, const char *teacher_dir, int32_t *teacher_len) {
    tokenizer *t = NULL;
    int rc = tokenizer_load_dir(&t, teacher_dir);
    if (rc) return err_wrap("teacher");
    int32_t n = tokenizer_vocab_size(t);
    if (n > r->ref.cfg.vocab) rc = err_set("teacher %s: its tokenizer has %d tokens but the embedding %d rows", teacher_dir, n, r->ref.cfg.vocab);
    for (int32_t id = 0; !rc && id < n; id++) {
        const char *a = tokenizer_id_to_token(r->pol.tok, id), *b = tokenizer_id_to_token(t, id);
        if ((a || b) && (!a || !b || strcmp(a, b)))
            rc = err_set("teacher and student have different base vocabularies: id %d is \"%s\" in the student and \"%s\" "
                         "in the teacher (%s); the teacher must be the model the student was expanded from",
                         id, a ? a : "(none)", b ? b : "(none)", teacher_dir);
    }
    tokenizer_free(t);
    *teacher_len = n;
    return rc;
}

typedef struct {
    int n;
    int32_t **seqs;
    int *plen, *len, *itemic_at;   // itemic_at: response index of the first itemic token, -1 none
} rollouts;

static void rollouts_free(rollouts *r) {
    for (int i = 0; i < r->n; i++) free(r->seqs[i]);
    free(r->seqs), free(r->plen), free(r->len), free(r->itemic_at);
    memset(r, 0, sizeof *r);
}

static int sample(post_run *run, const distill_args *a, prompt_source *src, int64_t step, int32_t teacher_len,
                  rollouts *out, double *gen_s) {
    int B = a->prompts, rc = 0;
    memset(out, 0, sizeof *out);
    tok_buf *prompts = mem_calloc((size_t)B, sizeof(tok_buf));
    const int32_t **pp = mem_calloc((size_t)B, sizeof(int32_t *));
    int *pl = mem_calloc((size_t)B, sizeof(int));
    gen_output *gen = mem_calloc((size_t)B, sizeof(gen_output));
    out->seqs = mem_calloc((size_t)B, sizeof(int32_t *));
    out->plen = mem_calloc((size_t)B, sizeof(int)), out->len = mem_calloc((size_t)B, sizeof(int));
    out->itemic_at = mem_calloc((size_t)B, sizeof(int));
    if (!prompts || !pp || !pl || !gen || !out->seqs || !out->plen || !out->len || !out->itemic_at) rc = ERR_FAIL;
    int64_t total = 0;
    for (int i = 0; !rc && i < B; i++) {
        prompt_item p;
        rc = prompt_source_next(src, &p);
        if (!rc) rc = lm_chat_prompt(&run->pol, p.msgs.msgs, p.msgs.n, -1, "/no_think", &prompts[i]);
        prompt_item_free(&p);
        pp[i] = prompts[i].ids;
        pl[i] = (int)prompts[i].n;
        total += pl[i];
    }
    double t0 = time_now();
    qwen3_kv *kv = NULL;
    if (!rc) rc = qwen3_kv_init(&kv, &run->pol.model, gen_kv_tokens_sample((int)total, B, a->max_new));
    int32_t stops[2] = {run->pol.im_end, run->pol.endoftext};
    gen_params gp = {.max_new = a->max_new, .sample = {a->temperature, a->top_k, a->top_p, 1.0f}, .stop_ids = stops,
                     .n_stop = 2, .seed = (uint64_t)a->seed * 1000003u + (uint64_t)step,
                     .vocab_limit = tokenizer_vocab_size(run->pol.tok)};
    if (!rc) rc = gen_sample_batch(&run->pol.model, kv, pp, pl, B, &gp, gen);
    if (kv) qwen3_kv_free(kv);
    *gen_s = time_now() - t0;
    for (int i = 0; !rc && i < B; i++) {
        int n = gen[i].n;
        out->itemic_at[i] = -1;
        for (int j = 0; j < n; j++)
            if (gen[i].tokens[j] >= teacher_len) {   // cut after the first token the teacher lacks
                out->itemic_at[i] = j;
                n = j + 1;
                break;
            }
        out->seqs[i] = mem_alloc((size_t)(pl[i] + n) * sizeof(int32_t));
        if (!out->seqs[i]) {
            rc = ERR_FAIL;
            break;
        }
        memcpy(out->seqs[i], pp[i], (size_t)pl[i] * sizeof(int32_t));
        memcpy(out->seqs[i] + pl[i], gen[i].tokens, (size_t)n * sizeof(int32_t));
        out->plen[i] = pl[i];
        out->len[i] = pl[i] + n;
        out->n = i + 1;
    }
    for (int i = 0; i < B && prompts; i++) tok_buf_free(&prompts[i]);
    for (int i = 0; i < B && gen; i++) gen_output_free(&gen[i]);
    free(prompts), free(pp), free(pl), free(gen);
    return rc;
}

typedef struct {
    rl_loss_stats ls;
    double rkl, grad_norm, lr, update_s, gen_s, resp_len, itemic_rate;
    int64_t tokens;
} distill_stats;

static int update(post_run *run, const distill_args *a, int64_t step, const rollouts *r, distill_stats *st) {
    policy_batch b;
    double t0 = time_now();
    int rc = policy_batch_build(&b, (const int32_t *const *)r->seqs, r->plen, r->len, NULL, r->n, run->pol.endoftext);
    if (rc) return rc;
    size_t NT = (size_t)b.n * b.T;
    float *ls = mem_calloc(NT, sizeof(float)), *lt = mem_calloc(NT, sizeof(float));
    float *adv = mem_alloc(NT * sizeof(float)), *grad = mem_alloc(NT * sizeof(float));
    int32_t *ttok = mem_alloc(NT * sizeof(int32_t)), *ttgt = mem_alloc(NT * sizeof(int32_t));
    rc = ls && lt && adv && grad && ttok && ttgt ? 0 : ERR_FAIL;
    if (!rc) rc = policy_logp(&run->pol.model, &b, NULL, a->micro, ls);
    if (!rc) {
        // the teacher sees <|im_end|> where the student wrote a token it does not have
        int32_t *keep_tgt = b.targets;
        for (int s = 0; s < b.n; s++) {
            int at = r->itemic_at[s];
            for (int t = 0; t < b.T; t++) {
                size_t i = (size_t)s * b.T + t;
                ttok[i] = b.tokens[i];
                ttgt[i] = b.targets[i];
                if (at >= 0 && t == r->plen[s] + at) ttok[i] = run->pol.im_end;
                if (at >= 0 && t == r->plen[s] + at - 1) ttgt[i] = run->pol.im_end;
            }
        }
        b.targets = ttgt;
        rc = policy_logp(&run->ref, &b, ttok, a->micro, lt);
        b.targets = keep_tgt;
        for (int s = 0; !rc && s < b.n; s++)
            if (r->itemic_at[s] >= 0) lt[(size_t)s * b.T + r->plen[s] + r->itemic_at[s] - 1] = -100.0f;
    }
    if (!rc) {
        rl_distill_advantages(adv, ls, lt, b.mask, (int64_t)NT, a->adv_lo, a->adv_hi);
        rl_loss_params lp = {a->clip_low, a->clip_high, 0, 0, RL_AGG_TOKEN_MEAN};
        rc = rl_policy_loss(&st->ls, grad, ls, ls, NULL, adv, b.mask, b.offsets, b.n, &lp);
    }
    double n = 0;
    for (size_t i = 0; i < NT; i++)
        if (b.mask[i] > 0) st->rkl += ls[i] - lt[i], n++;
    st->rkl = n > 0 ? st->rkl / n : 0;
    st->tokens = (int64_t)n;
    if (!rc) {
        qwen3_zero_grads(&run->pol.model);
        rc = policy_backward(&run->pol.model, &b, grad, a->micro);
        lr_schedule sch = {LR_COSINE, a->lr, a->min_lr, a->warmup, a->steps};
        st->lr = lr_at(&sch, step - 1);
        train_update_cfg uc = {st->lr, 0.9f, 0.95f, 1e-8f, a->weight_decay, a->max_grad_norm};
        if (!rc) rc = train_update(&run->pol.model, &uc, step, &st->grad_norm);
    }
    st->update_s = time_now() - t0;
    free(ls), free(lt), free(adv), free(grad), free(ttok), free(ttgt);
    policy_batch_free(&b);
    return rc;
}

static void log_step(post_run *run, int64_t step, const rollouts *r, distill_stats *st) {
    double len = 0, it = 0;
    for (int i = 0; i < r->n; i++) len += r->len[i] - r->plen[i], it += r->itemic_at[i] >= 0;
    st->resp_len = r->n ? len / r->n : 0;
    st->itemic_rate = r->n ? it / r->n : 0;
    post_run_scalar(run, "training/loss", step, st->ls.loss);
    post_run_scalar(run, "distill/reverse_kl", step, st->rkl);
    post_run_scalar(run, "distill/response_length", step, st->resp_len);
    post_run_scalar(run, "distill/itemic_rate", step, st->itemic_rate);
    post_run_scalar(run, "training/grad_norm", step, st->grad_norm);
    post_run_scalar(run, "training/learning_rate", step, st->lr);
    post_run_scalar(run, "perf/rollout_tokens_per_sec", step, st->gen_s > 0 ? len / st->gen_s : 0);
    post_run_scalar(run, "perf/update_tokens_per_sec", step, st->update_s > 0 ? st->tokens / st->update_s : 0);
    post_run_line(run,
                  "{\"step\": %lld, \"loss\": %.6g, \"reverse_kl\": %.5f, \"response_length\": %.1f, \"itemic_rate\": %.3f, "
                  "\"grad_norm\": %.5g, \"lr\": %.3g, \"rollout_s\": %.2f, \"update_s\": %.2f}",
                  (long long)step, st->ls.loss, st->rkl, st->resp_len, st->itemic_rate, st->grad_norm, st->lr, st->gen_s,
                  st->update_s);
}

int distill_run(const distill_args *a, const cJSON *args_json) {
    if (a->prompts < 1 || a->steps < 1 || a->max_new < 1) return err_usage("--prompts, --steps and --max-new must be >= 1");
    if (!a->teacher_dir) return err_usage("--teacher is required");
    sample_params sp = {a->temperature, a->top_k, a->top_p, 1.0f};
    if (sample_params_check(&sp)) return ERR_USAGE;
    post_run run;
    cJSON *state = NULL;
    prompt_source src;
    memset(&src, 0, sizeof src);
    int32_t teacher_len = 0;
    int64_t start = 0, epoch = 0, row = 0;
    int rc = post_run_open(&run, a->student_dir, a->teacher_dir, 1, a->out, a->resume_from, args_json, &state);
    if (!rc) rc = check_vocab(&run, a->teacher_dir, &teacher_len);
    if (!rc && state) {
        post_state_read(state, &start, &epoch, &row);
    }
    cJSON_Delete(state);
    if (!rc) rc = prompt_source_open(&src, a->data, epoch, row, 0, 0);
    progress prog;
    progress_begin(&prog, "distill", a->steps - start, "steps");
    int64_t step = start;
    while (!rc && step < a->steps) {
        step++;
        rollouts r;
        distill_stats st;
        memset(&st, 0, sizeof st);
        rc = sample(&run, a, &src, step, teacher_len, &r, &st.gen_s);
        if (!rc) rc = update(&run, a, step, &r, &st);
        if (!rc && (step % a->log_every == 0 || step == a->steps)) log_step(&run, step, &r, &st);
        progress_note(&prog, "reverse KL %.3f", st.rkl);
        progress_add(&prog, 1);
        rollouts_free(&r);
        if (!rc && (step % a->save_every == 0 || step == a->steps)) {
            cJSON *s = post_state_new(step, src.epoch, src.row);
            rc = post_run_checkpoint(&run, step, s);
            cJSON_Delete(s);
        }
    }
    progress_end(&prog);
    if (rc) post_run_fail(&run, step);
    prompt_source_close(&src);
    post_run_close(&run);
    return rc;
}
