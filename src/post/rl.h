// `onerec rl`: reinforcement learning of a recommendation model (reference 7.2) with GRPO (the
// reference), DAPO, GPG or PPO; and `onerec distill`: on-policy distillation (reference 7.1).
// Both share the trainer's checked AdamW update, checkpoints (step{N}/, latest, exact resume of
// the prompt stream), logs (stdout.log, stderr.log, args.json, TensorBoard scalars).
#pragma once
#include <cjson/cJSON.h>
#include <stdint.h>

typedef enum { RL_GRPO = 0, RL_DAPO = 1, RL_GPG = 2, RL_PPO = 3 } rl_algo;

typedef struct {
    char *model_dir, *ref_dir, *data, *out, *resume_from, *algo_name, *constrain_pid2sid, *reward_name;
    rl_algo algo;
    int reward;                 // rollout_reward: hit (reference) or prefix
    char *group_name;           // beams (reference) or samples
    int sample_sids;
    int exclude_history;        // with --constrain: beams never complete a SID of the prompt
    int steps, prompts, width, max_think, micro, save_every, log_every, warmup;
    double lr, min_lr, max_grad_norm;
    float weight_decay, clip_low, clip_high, clip_c, kl_coef, temperature, top_p;
    int dapo_tries, overlong_max, overlong_cache;   // DAPO: resample budget, overlong penalty
    float gamma, lambda, vclip, critic_lr;          // PPO
    int64_t seed;
} rl_args;

void rl_args_default(rl_args *a);
int rl_algo_parse(const char *s, rl_algo *out);
int rl_reward_parse(const char *s, int *out);   // hit | prefix
int rl_group_parse(const char *s, int *sample_sids);   // beams | samples
int rl_run(const rl_args *a, const cJSON *args_json);

typedef struct {
    char *student_dir, *teacher_dir, *data, *out, *resume_from;
    int steps, prompts, max_new, micro, save_every, log_every, warmup, top_k;
    double lr, min_lr, max_grad_norm;
    float weight_decay, clip_low, clip_high, temperature, top_p, adv_lo, adv_hi;
    int64_t seed;
} distill_args;

void distill_args_default(distill_args *a);
int distill_run(const distill_args *a, const cJSON *args_json);
