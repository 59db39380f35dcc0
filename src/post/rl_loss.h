// Advantages and policy losses of the post-training stage (reference section 7): on-policy
// distillation, GRPO, DAPO, GPG and PPO. Everything here works on per-token arrays of one batch of
// responses (tokens of all responses concatenated, `mask` 1 on response tokens that count);
// gradients are returned with respect to the per-token log-probs (and values), which the model
// then backpropagates as a weighted cross-entropy (dL/dlogits = g * (onehot - softmax)).
#pragma once
#include <stdint.h>

typedef enum {
    RL_AGG_TOKEN_MEAN = 0,          // sum over all masked tokens / their count (verl "token-mean", DAPO)
    RL_AGG_SEQ_MEAN_TOKEN_MEAN = 1, // mean over sequences of each sequence's token mean
    RL_AGG_SEQ_MEAN_TOKEN_SUM = 2,  // mean over sequences of each sequence's token sum
} rl_agg_mode;

typedef struct {
    float clip_low;      // 0.2: ratio clipped to [1 - clip_low, 1 + clip_high]
    float clip_high;     // 0.28 (clip-higher)
    float clip_c;        // dual clip for negative advantages (verl: 3.0); 0 disables
    float kl_coef;       // coefficient of low_var_kl to the reference policy (GRPO: 0.001); 0 disables
    rl_agg_mode agg;
} rl_loss_params;

typedef struct {
    double loss;          // the total loss
    double pg_loss;       // policy-gradient part
    double kl;            // mean low_var_kl (before the coefficient)
    double clip_frac;     // fraction of masked tokens where the clipped term was chosen
    double ratio_mean;
    int64_t tokens;       // masked tokens
} rl_loss_stats;

// Per-sequence layout: sequence s covers tokens [offsets[s], offsets[s+1]).
// GRPO: A_i = (r_i - mean_g) / (std_g + eps), std unbiased (n-1) as torch.std; a group of one has
// mean 0 and std 1 (as verl). group[i] is the group id of sequence i. adv [n], rewards [n]
int rl_grpo_advantages(float *adv, const float *rewards, const int *group, int n, int norm_by_std, float eps);
// GPG: A_i = r_i - mean_g, scaled by n / (n - k) where k counts sequences in groups whose rewards
// are all equal (their advantage is 0). Returns k through *degenerate. adv [n]
int rl_gpg_advantages(float *adv, const float *rewards, const int *group, int n, int *degenerate);
// Marks groups whose rewards are all equal (DAPO's dynamic sampling drops them). keep [n]
// Prefix reward with token-level credit: code j of a response is rewarded 1 when its codes 0..j are
// a ground-truth SID's prefix (matched[i] > j; matched = codes matched from the first, 0..ncodes)
// and normalised as GRPO against code j of the group's other responses. A response whose first
// codes name a right cluster but whose last code misses is pushed away from that code only, not
// from the cluster (a sequence reward would push down all its codes). adv [ncodes][n];
// *degenerate counts responses whose every code advantage is 0.
int rl_prefix_advantages(float *adv, const int *matched, const int *group, int n, int ncodes, float eps, int *degenerate);
int rl_group_informative(int *keep, const float *rewards, const int *group, int n);
// DAPO overlong penalty added to a reward: 0 up to max_len - cache, then linearly down to -1 at max_len.
float rl_overlong_penalty(int length, int max_len, int cache_len);
// Distillation: A_t = clip(-(logp_student - logp_teacher), lo, hi), reference: [-30, 5]. [T]
void rl_distill_advantages(float *adv, const float *logp_student, const float *logp_teacher, const float *mask,
                           int64_t T, float lo, float hi);
// PPO with GAE on token-level rewards (outcome reward on the last response token), per sequence:
// delta_t = r_t + gamma V_{t+1} - V_t, A_t = delta_t + gamma lambda A_{t+1}; returns = A + V; then the
// advantages are whitened over all masked tokens (mean 0, std 1, as verl masked_whiten).
// adv, ret, rewards, values [T]
int rl_gae(float *adv, float *ret, const float *token_rewards, const float *values, const float *mask,
           const int64_t *offsets, int nseq, float gamma, float lambda);

// Clipped policy loss (PPO/GRPO/DAPO/distillation) plus optional low_var_kl to the reference:
//   ratio = exp(logp - old_logp); pg = max(-A ratio, -A clip(ratio)); dual clip for A < 0;
//   kl = exp(ref - logp) - (ref - logp) - 1 clamped to [-10, 10].
// Writes dloss/dlogp into grad [T] (0 off the mask). ref_logp may be NULL when kl_coef is 0.
// logp, old_logp, ref_logp, adv, mask, grad [T]
int rl_policy_loss(rl_loss_stats *st, float *grad, const float *logp, const float *old_logp, const float *ref_logp,
                   const float *adv, const float *mask, const int64_t *offsets, int nseq, const rl_loss_params *p);
// GPG: loss = agg(-A logp) (no ratio, no clip). grad [T]
int rl_gpg_loss(rl_loss_stats *st, float *grad, const float *logp, const float *adv, const float *mask,
                const int64_t *offsets, int nseq, rl_agg_mode agg);
// PPO critic: 0.5 agg(max((v - R)^2, (clip(v, v_old - c, v_old + c) - R)^2)). grad wrt values [T]
double rl_value_loss(float *grad, const float *values, const float *old_values, const float *returns,
                     const float *mask, const int64_t *offsets, int nseq, float clip, rl_agg_mode agg);
