#include "post/rl.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "base/file.h"
#include "base/log.h"
#include "base/mem.h"
#include "data/pid2sid.h"
#include "post/policy.h"
#include "post/prompts.h"
#include "post/rl_critic.h"
#include "post/rl_loss.h"
#include "post/rollout.h"
#include "rec/sample.h"
#include "post/run_common.h"
#include "rec/sid.h"
#include "train/ckpt.h"
#include "train/optim.h"

void rl_args_default(rl_args *a) {
    *a = (rl_args){
        .algo_name = "grpo",
        .reward_name = "hit",
        .group_name = "beams",
        .steps = 100,
        .prompts = 4,
        .width = 32,
        .max_think = 0,
        .micro = 8,
        .save_every = 50,
        .log_every = 1,
        .lr = 2e-6,
        .min_lr = 2e-6,
        .max_grad_norm = 1.0,
        .weight_decay = 0.0f,
        .clip_low = 0.2f,
        .clip_high = 0.28f,
        .clip_c = 3.0f,
        .kl_coef = 0.001f,
        .temperature = 1.0f,
        .top_p = 1.0f,
        .dapo_tries = 4,
        .overlong_max = 0,
        .overlong_cache = 0,
        .gamma = 1.0f,
        .lambda = 1.0f,
        .vclip = 0.5f,
        .critic_lr = 1e-3f,
        .seed = 42,
    };
}

int rl_reward_parse(const char *s, int *out) {
    if (!strcmp(s, "hit")) *out = ROLLOUT_REWARD_HIT;
    else if (!strcmp(s, "prefix")) *out = ROLLOUT_REWARD_PREFIX;
    else return err_usage("unknown reward \"%s\" (hit or prefix)", s);
    return 0;
}

int rl_group_parse(const char *s, int *sample_sids) {
    if (strcmp(s, "beams") && strcmp(s, "samples")) return err_usage("unknown group \"%s\" (beams or samples)", s);
    *sample_sids = !strcmp(s, "samples");
    return 0;
}

int rl_algo_parse(const char *s, rl_algo *out) {
    static const char *names[] = {"grpo", "dapo", "gpg", "ppo"};
    for (int i = 0; i < 4; i++)
        if (!strcmp(s, names[i])) {
            *out = (rl_algo)i;
            return 0;
        }
    return err_usage("unknown RL algorithm \"%s\" (grpo, dapo, gpg or ppo)", s);
}

typedef struct {
    const rl_args *a;
    post_run run;          // policy, reference, logs, checkpoints (run_common.h)
    prompt_source src;
    sid_trie trie;
    int has_trie;
    rl_critic critic;      // PPO only (critic.w != NULL)
} rl_ctx;

typedef struct {
    rollout_group *g;
    int ng;
    int64_t prompts_seen, degenerate, no_gt;
    double rollout_s, think_tokens, think_closed;
} rl_rollouts;

static void rollouts_free(rl_rollouts *r) {
    for (int i = 0; i < r->ng; i++) rollout_group_free(&r->g[i]);
    free(r->g);
    memset(r, 0, sizeof *r);
}

static int all_equal(const float *x, int n) {
    for (int i = 1; i < n; i++)
        if (x[i] != x[0]) return 0;
    return 1;
}

// Rollouts for one step. DAPO drops groups whose rewards are all equal and draws more prompts
// (up to prompts * dapo_tries draws).
static int collect(rl_ctx *c, int64_t step, rl_rollouts *r) {
    const rl_args *a = c->a;
    memset(r, 0, sizeof *r);
    r->g = mem_calloc((size_t)a->prompts, sizeof(rollout_group));
    if (!r->g) return ERR_FAIL;
    double t0 = time_now();
    int budget = a->algo == RL_DAPO ? a->prompts * (a->dapo_tries > 1 ? a->dapo_tries : 1) : a->prompts;
    for (int draw = 0; draw < budget && r->ng < a->prompts; draw++) {
        prompt_item p;
        if (prompt_source_next(&c->src, &p)) return ERR_FAIL;
        rollout_params rp = {a->width, a->max_think, a->temperature, a->top_p, "/no_think",
                             c->has_trie ? &c->trie : NULL, (uint64_t)a->seed * 1000003u + (uint64_t)step * 997u + (uint64_t)draw,
                             (rollout_reward)a->reward, a->sample_sids, a->exclude_history};
        int ngt = 0;
        rollout_group *g = &r->g[r->ng];
        int rc = rollout_rec(&c->run.pol, p.msgs.msgs, p.msgs.n, p.answer, &rp, g, &ngt);
        prompt_item_free(&p);
        if (rc) return ERR_FAIL;
        r->prompts_seen++;
        r->no_gt += ngt == 0;
        r->think_tokens += g->think_tokens;
        r->think_closed += g->think_closed;
        int degenerate = g->n == 0 || all_equal(g->reward, g->n);
        r->degenerate += degenerate;
        if (degenerate && a->algo == RL_DAPO && draw + 1 < budget) {
            rollout_group_free(g);
            continue;
        }
        r->ng++;
    }
    r->rollout_s = time_now() - t0;
    return 0;
}

// Flattens the groups into sequences for the policy batch; rewards (DAPO: with the overlong
// penalty on the reasoning) and group ids per sequence.
static int flatten(const rl_ctx *c, const rl_rollouts *r, policy_batch *b, float **reward, int **group) {
    int n = 0;
    for (int i = 0; i < r->ng; i++) n += r->g[i].n;
    if (n == 0) return err_set("no rollout produced a response");
    const int32_t **seqs = mem_alloc((size_t)n * sizeof(int32_t *));
    const uint8_t **train = mem_alloc((size_t)n * sizeof(uint8_t *));
    int *plen = mem_alloc((size_t)n * sizeof(int)), *len = mem_alloc((size_t)n * sizeof(int));
    *reward = mem_alloc((size_t)n * sizeof(float));
    *group = mem_alloc((size_t)n * sizeof(int));
    int rc = seqs && train && plen && len && *reward && *group ? 0 : ERR_FAIL;
    for (int i = 0, k = 0; !rc && i < r->ng; i++) {
        const rollout_group *g = &r->g[i];
        float pen = c->a->algo == RL_DAPO ? rl_overlong_penalty(g->think_tokens, c->a->overlong_max, c->a->overlong_cache) : 0;
        for (int j = 0; j < g->n; j++, k++) {
            seqs[k] = g->seqs[j];
            train[k] = g->train[j];
            plen[k] = g->plen;
            len[k] = g->len[j];
            (*reward)[k] = g->reward[j] + pen;
            (*group)[k] = i;
        }
    }
    if (!rc) rc = policy_batch_build(b, seqs, plen, len, train, n, c->run.pol.endoftext >= 0 ? c->run.pol.endoftext : 0);
    free(seqs), free(train), free(plen), free(len);
    return rc;
}

// Prefix reward (rl_prefix_advantages) on the tokens: the last three trained positions of a
// sequence are its SID codes, earlier ones its reasoning (the mean of the beam's code advantages).
static int prefix_advantages(const rl_rollouts *r, const policy_batch *b, const int *group, float *adv, int *degenerate) {
    int n = b->n, T = b->T;
    float *aj = mem_alloc((size_t)n * 3 * sizeof(float));
    int *m = mem_alloc((size_t)n * sizeof(int)), rc = aj && m ? 0 : ERR_FAIL;
    for (int i = 0, k = 0; !rc && i < r->ng; i++)
        for (int j = 0; j < r->g[i].n; j++, k++) {
            float p = r->g[i].partial[j];
            m[k] = p >= 100 ? 3 : p >= 10 ? 2 : p >= 1 ? 1 : 0;
        }
    if (!rc) rc = rl_prefix_advantages(aj, m, group, n, 3, 1e-6f, degenerate);
    for (int s = 0; !rc && s < n; s++) {
        float mean = (aj[s] + aj[n + s] + aj[2 * (size_t)n + s]) / 3;
        int j = 3;
        for (int t = T - 1; t >= 0; t--) {
            size_t o = (size_t)s * T + t;
            adv[o] = b->mask[o] <= 0 ? 0 : j > 0 ? aj[(size_t)(--j) * n + s] : mean;
        }
    }
    free(aj), free(m);
    return rc;
}

// Sequence advantages broadcast to tokens (GRPO, DAPO, GPG), or GAE (PPO).
static int advantages(rl_ctx *c, const rl_rollouts *r, const policy_batch *b, const float *reward, const int *group, float *adv,
                      int *degenerate) {
    int n = b->n, T = b->T;
    if (c->a->algo == RL_PPO) {
        *degenerate = 0;
        return rl_critic_advantages(&c->critic, &c->run.pol.model, b, reward, c->a->gamma, c->a->lambda, adv);
    }
    if (c->a->reward == ROLLOUT_REWARD_PREFIX) return prefix_advantages(r, b, group, adv, degenerate);
    float *sa = mem_alloc((size_t)n * sizeof(float));
    if (!sa) return ERR_FAIL;
    int rc = c->a->algo == RL_GPG ? rl_gpg_advantages(sa, reward, group, n, degenerate)
                                  : rl_grpo_advantages(sa, reward, group, n, 1, 1e-6f);
    if (!rc && c->a->algo != RL_GPG) {
        int *keep = mem_alloc((size_t)n * sizeof(int));
        rc = keep ? rl_group_informative(keep, reward, group, n) : ERR_FAIL;
        *degenerate = 0;
        for (int i = 0; !rc && i < n; i++) *degenerate += !keep[i];
        free(keep);
    }
    for (int s = 0; !rc && s < n; s++)
        for (int t = 0; t < T; t++) adv[(size_t)s * T + t] = b->mask[(size_t)s * T + t] > 0 ? sa[s] : 0;
    free(sa);
    return rc;
}

typedef struct {
    rl_loss_stats ls;
    double grad_norm, lr, reward, pass, top1, partial, format;
    double update_s, logp_s, ref_s, bwd_s;   // update = old-logp + reference forwards + forward/backward + AdamW
    int64_t tokens, seq_tokens, seqs;         // trained tokens, every token the update's passes run over
    int skipped;
} rl_step_stats;

// The policy's own log-probs are needed only for the KL term (one update per rollout batch, so
// the ratio is 1 and the clipped loss's gradient is -A/N whatever they are) and for GPG's and
// PPO's logged loss; without a reference pass GRPO and DAPO skip that forward.
static int needs_logp(const rl_ctx *c) {
    return (c->run.has_ref && c->a->kl_coef != 0) || c->a->algo == RL_GPG || c->a->algo == RL_PPO;
}

static int policy_loss(rl_ctx *c, const policy_batch *b, const float *logp, const float *ref, const float *adv,
                       float *grad, rl_step_stats *st) {
    const rl_args *a = c->a;
    if (a->algo == RL_GPG) return rl_gpg_loss(&st->ls, grad, logp, adv, b->mask, b->offsets, b->n, RL_AGG_TOKEN_MEAN);
    rl_loss_params lp = {a->clip_low, a->clip_high, a->clip_c, ref ? a->kl_coef : 0, RL_AGG_TOKEN_MEAN};
    return rl_policy_loss(&st->ls, grad, logp, logp, ref, adv, b->mask, b->offsets, b->n, &lp);
}

static int apply_update(rl_ctx *c, int64_t step, const policy_batch *b, const float *grad, rl_step_stats *st) {
    const rl_args *a = c->a;
    double t0 = time_now();
    qwen3_zero_grads(&c->run.pol.model);
    int rc = policy_backward(&c->run.pol.model, b, grad, a->micro);
    lr_schedule sch = {LR_COSINE, a->lr, a->min_lr, a->warmup, a->steps};
    st->lr = lr_at(&sch, step - 1);
    train_update_cfg uc = {st->lr, 0.9f, 0.95f, 1e-8f, a->weight_decay, a->max_grad_norm};
    if (!rc) rc = train_update(&c->run.pol.model, &uc, step, &st->grad_norm);
    if (!rc && a->algo == RL_PPO) rc = rl_critic_update(&c->critic, b, a->vclip, a->critic_lr);
    st->bwd_s = time_now() - t0;
    return rc;
}

static int update(rl_ctx *c, int64_t step, const rl_rollouts *r, rl_step_stats *st) {
    const rl_args *a = c->a;
    policy_batch b;
    float *reward = NULL, *adv = NULL, *logp = NULL, *ref = NULL, *grad = NULL;
    int *group = NULL, degenerate = 0;
    double t0 = time_now(), t1 = t0;
    memset(&b, 0, sizeof b);
    int rc = flatten(c, r, &b, &reward, &group);
    size_t NT = (size_t)b.n * b.T;
    if (!rc) {
        adv = mem_alloc(NT * sizeof(float)), logp = mem_calloc(NT, sizeof(float)), grad = mem_alloc(NT * sizeof(float));
        rc = adv && logp && grad ? 0 : ERR_FAIL;
        if (!rc && needs_logp(c)) rc = policy_logp(&c->run.pol.model, &b, NULL, a->micro, logp);
        st->logp_s = time_now() - t1;
    }
    if (!rc && c->run.has_ref && a->kl_coef != 0) {
        t1 = time_now();
        ref = mem_calloc(NT, sizeof(float));
        rc = ref ? policy_logp(&c->run.ref, &b, NULL, a->micro, ref) : ERR_FAIL;
        st->ref_s = time_now() - t1;
    }
    if (!rc) rc = advantages(c, r, &b, reward, group, adv, &degenerate);
    if (!rc) rc = policy_loss(c, &b, logp, ref, adv, grad, st);
    st->seqs = b.n;
    for (size_t t = 0; t < NT; t++) st->tokens += b.mask[t] > 0;
    for (int i = 0; i < r->ng; i++)
        for (int j = 0; j < r->g[i].n; j++) st->seq_tokens += r->g[i].len[j];
    // nothing to learn when every group is degenerate: skip the update rather than decay the weights
    st->skipped = !rc && a->algo != RL_PPO && degenerate == b.n;
    if (!rc && !st->skipped) rc = apply_update(c, step, &b, grad, st);
    st->update_s = time_now() - t0;
    policy_batch_free(&b);
    free(reward), free(group), free(adv), free(logp), free(ref), free(grad);
    return rc;
}

static void group_stats(const rl_rollouts *r, rl_step_stats *st) {
    double n = 0;
    for (int i = 0; i < r->ng; i++) {
        const rollout_group *g = &r->g[i];
        int any = 0;
        for (int j = 0; j < g->n; j++) {
            st->reward += g->reward[j], st->partial += g->partial[j], st->format += g->format[j];
            any |= g->reward[j] > 0;
            n++;
        }
        st->pass += any;
        st->top1 += g->n > 0 && g->partial[0] == 100.0f;   // the best beam hits: pass@1 on the training prompts
    }
    if (n > 0) st->reward /= n, st->partial /= n, st->format /= n;
    if (r->ng > 0) st->pass /= r->ng, st->top1 /= r->ng;
}

static void log_step(rl_ctx *c, int64_t step, const rl_rollouts *r, const rl_step_stats *st) {
    post_run_scalar(&c->run, "rl/reward", step, st->reward);
    post_run_scalar(&c->run, "rl/hit_rate", step, st->reward);
    post_run_scalar(&c->run, "rl/pass_rate", step, st->pass);
    post_run_scalar(&c->run, "rl/top1_hit", step, st->top1);
    post_run_scalar(&c->run, "rl/partial_hit", step, st->partial);
    post_run_scalar(&c->run, "rl/format_reward", step, st->format);
    post_run_scalar(&c->run, "rl/degenerate_groups", step, (double)r->degenerate);
    post_run_scalar(&c->run, "rl/think_tokens", step, r->prompts_seen ? r->think_tokens / r->prompts_seen : 0);
    post_run_scalar(&c->run, "training/loss", step, st->ls.loss);
    post_run_scalar(&c->run, "rl/pg_loss", step, st->ls.pg_loss);
    post_run_scalar(&c->run, "rl/kl", step, st->ls.kl);
    post_run_scalar(&c->run, "rl/clip_frac", step, st->ls.clip_frac);
    post_run_scalar(&c->run, "training/grad_norm", step, st->grad_norm);
    post_run_scalar(&c->run, "training/learning_rate", step, st->lr);
    double rt = 0, pt = 0;   // generated tokens (reasoning + suffix + SID per beam), prompt tokens prefilled
    for (int i = 0; i < r->ng; i++) {
        pt += r->g[i].plen;
        for (int j = 0; j < r->g[i].n; j++) rt += r->g[i].len[j] - r->g[i].plen;
    }
    post_run_scalar(&c->run, "perf/rollout_tokens_per_sec", step, r->rollout_s > 0 ? rt / r->rollout_s : 0);
    post_run_scalar(&c->run, "perf/update_tokens_per_sec", step, st->update_s > 0 ? st->tokens / st->update_s : 0);
    post_run_scalar(&c->run, "perf/update_seq_tokens_per_sec", step, st->update_s > 0 ? st->seq_tokens / st->update_s : 0);
    post_run_line(&c->run,
                  "{\"step\": %lld, \"reward\": %.5f, \"pass_rate\": %.4f, \"top1_hit\": %.4f, \"partial_hit\": %.3f, \"format\": %.4f, "
                  "\"loss\": %.6g, \"kl\": %.6g, \"grad_norm\": %.5g, \"lr\": %.3g, \"degenerate\": %lld, "
                  "\"groups\": %d, \"prompts_seen\": %lld, \"skipped\": %d, \"rollout_s\": %.3f, \"update_s\": %.3f, "
                  "\"logp_s\": %.3f, \"ref_s\": %.3f, \"fwd_bwd_s\": %.3f, \"prompt_tokens\": %.0f, \"rollout_tokens\": %.0f, "
                  "\"update_seq_tokens\": %lld, \"trained_tokens\": %lld}",
                  (long long)step, st->reward, st->pass, st->top1, st->partial, st->format, st->ls.loss, st->ls.kl, st->grad_norm,
                  st->lr, (long long)r->degenerate, r->ng, (long long)r->prompts_seen, st->skipped, r->rollout_s,
                  st->update_s, st->logp_s, st->ref_s, st->bwd_s, pt, rt, (long long)st->seq_tokens, (long long)st->tokens);
}

static cJSON *state_json(rl_ctx *c, int64_t step) {
    cJSON *s = post_state_new(step, c->src.epoch, c->src.row);
    if (c->critic.w) rl_critic_to_json(&c->critic, s);
    return s;
}

static int open_trie(rl_ctx *c) {
    if (!c->a->constrain_pid2sid) return 0;
    const char *path = c->a->constrain_pid2sid;
    pid2sid m = {0};
    int rc = pid2sid_load(&m, path);
    if (!rc && m.n == 0) rc = err_set("%s: no SIDs", path);
    if (!rc && m.nlev != 3) rc = err_set("%s: a SID has %d codes (3 expected)", path, m.nlev);
    if (!rc) rc = sid_trie_build(&c->trie, m.codes, m.n, 3);
    pid2sid_free(&m);
    c->has_trie = !rc;
    return rc;
}

int rl_run(const rl_args *a, const cJSON *args_json) {
    rl_ctx c;
    memset(&c, 0, sizeof c);
    c.a = a;
    if (a->prompts < 1 || a->width < 1 || a->steps < 1) return err_usage("--prompts, --width and --steps must be >= 1");
    if (a->exclude_history && !a->constrain_pid2sid) return err_usage("--exclude-history needs --constrain (it removes items from the SID trie)");
    if (a->width > 256) return err_usage("--width %d is above 256", a->width);
    sample_params sp = {a->temperature, 0, a->top_p, 1.0f};
    if (sample_params_check(&sp)) return ERR_USAGE;
    int64_t start = 0, epoch = 0, row = 0;
    cJSON *state = NULL;
    int rc = post_run_open(&c.run, a->model_dir, a->ref_dir ? a->ref_dir : a->model_dir, a->kl_coef != 0,
                           a->out, a->resume_from, args_json, &state);
    if (!rc && state) {
        post_state_read(state, &start, &epoch, &row);
    }
    if (!rc && a->algo == RL_PPO)
        rc = rl_critic_init(&c.critic, c.run.pol.model.cfg.dim, state ? cJSON_GetObjectItem(state, "critic") : NULL);
    cJSON_Delete(state);
    if (!rc) rc = open_trie(&c);
    // prompts in a seeded order: beams are deterministic, so without it the seed would change
    // nothing when the reasoning is not sampled, and a table written task after task would feed
    // one task only
    if (!rc) rc = prompt_source_open(&c.src, a->data, epoch, row, 1, (uint64_t)a->seed);
    progress prog;
    progress_begin(&prog, "rl", a->steps - start, "steps");
    int64_t step = start;
    while (!rc && step < a->steps) {
        step++;
        rl_rollouts r;
        rl_step_stats st;
        memset(&st, 0, sizeof st);
        rc = collect(&c, step, &r);
        if (!rc) rc = update(&c, step, &r, &st);
        if (!rc) {
            group_stats(&r, &st);
            if (step % a->log_every == 0 || step == a->steps) log_step(&c, step, &r, &st);
            progress_note(&prog, "reward %.3f pass %.2f", st.reward, st.pass);
            progress_add(&prog, 1);
            if (r.no_gt) log_warn("step %lld: %lld prompts had no SID in their ground truth (reward 0)", (long long)step, (long long)r.no_gt);
            if (st.skipped) log_warn("step %lld: every group had equal rewards; no update", (long long)step);
        }
        rollouts_free(&r);
        if (!rc && (step % a->save_every == 0 || step == a->steps)) {
            cJSON *s = state_json(&c, step);
            rc = post_run_checkpoint(&c.run, step, s);
            cJSON_Delete(s);
        }
    }
    progress_end(&prog);
    if (rc) post_run_fail(&c.run, step);
    prompt_source_close(&c.src);
    if (c.has_trie) sid_trie_free(&c.trie);
    rl_critic_free(&c.critic);
    post_run_close(&c.run);
    return rc;
}
