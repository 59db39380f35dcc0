#include "post/rl_loss.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "base/mem.h"

// Per-token weights w so that loss = sum_t w_t l_t for the aggregation mode. w [T]
static int agg_weights(float *w, const float *mask, const int64_t *offsets, int nseq, rl_agg_mode agg) {
    double total = 0;
    int valid = 0;
    for (int s = 0; s < nseq; s++) {
        double m = 0;
        for (int64_t t = offsets[s]; t < offsets[s + 1]; t++) m += mask[t];
        total += m;
        valid += m > 0;
    }
    if (total <= 0) return err_set("policy loss: no response token is masked in (nothing to learn from)");
    for (int s = 0; s < nseq; s++) {
        double m = 0;
        for (int64_t t = offsets[s]; t < offsets[s + 1]; t++) m += mask[t];
        for (int64_t t = offsets[s]; t < offsets[s + 1]; t++) {
            double scale;
            switch (agg) {
            case RL_AGG_TOKEN_MEAN: scale = 1.0 / total; break;
            case RL_AGG_SEQ_MEAN_TOKEN_MEAN: scale = m > 0 ? 1.0 / (m * valid) : 0; break;
            case RL_AGG_SEQ_MEAN_TOKEN_SUM: scale = 1.0 / nseq; break;
            default: return err_set("policy loss: unknown aggregation mode %d", (int)agg);
            }
            w[t] = (float)(mask[t] * scale);
        }
    }
    return 0;
}

static int64_t total_tokens(const int64_t *offsets, int nseq) { return offsets[nseq] - offsets[0]; }

// Group statistics: for each sequence, the mean and unbiased std of its group's rewards.
static int group_stats(double *mean, double *std, int *size, const float *rewards, const int *group, int n) {
    for (int i = 0; i < n; i++) {
        double s = 0, ss = 0;
        int c = 0;
        for (int j = 0; j < n; j++)
            if (group[j] == group[i]) {
                s += rewards[j];
                c++;
            }
        double m = s / c;
        for (int j = 0; j < n; j++)
            if (group[j] == group[i]) ss += (rewards[j] - m) * (rewards[j] - m);
        mean[i] = m;
        std[i] = c > 1 ? sqrt(ss / (c - 1)) : 0;
        size[i] = c;
    }
    return 0;
}

int rl_grpo_advantages(float *adv, const float *rewards, const int *group, int n, int norm_by_std, float eps) {
    if (n <= 0) return err_set("GRPO advantages: empty batch");
    double *mean = mem_alloc((size_t)n * sizeof(double)), *std = mem_alloc((size_t)n * sizeof(double));
    int *size = mem_alloc((size_t)n * sizeof(int));
    if (!mean || !std || !size) {
        free(mean), free(std), free(size);
        return ERR_FAIL;
    }
    group_stats(mean, std, size, rewards, group, n);
    for (int i = 0; i < n; i++) {
        double m = size[i] > 1 ? mean[i] : 0, s = size[i] > 1 ? std[i] : 1;   // verl: a lone sample keeps its reward
        adv[i] = (float)(norm_by_std ? (rewards[i] - m) / (s + eps) : rewards[i] - m);
    }
    free(mean), free(std), free(size);
    return 0;
}

int rl_prefix_advantages(float *adv, const int *matched, const int *group, int n, int ncodes, float eps, int *degenerate) {
    if (n <= 0 || ncodes <= 0) return err_set("prefix advantages: empty batch");
    float *r = mem_alloc((size_t)n * sizeof(float));
    if (!r) return ERR_FAIL;
    int rc = 0;
    for (int j = 0; !rc && j < ncodes; j++) {
        for (int i = 0; i < n; i++) r[i] = matched[i] > j;
        rc = rl_grpo_advantages(adv + (size_t)j * n, r, group, n, 1, eps);
    }
    free(r);
    if (degenerate) *degenerate = 0;
    for (int i = 0; !rc && degenerate && i < n; i++) {
        int zero = 1;
        for (int j = 0; j < ncodes; j++) zero &= adv[(size_t)j * n + i] == 0;
        *degenerate += zero;
    }
    return rc;
}

int rl_group_informative(int *keep, const float *rewards, const int *group, int n) {
    for (int i = 0; i < n; i++) {
        keep[i] = 0;
        for (int j = 0; j < n && !keep[i]; j++) keep[i] = group[j] == group[i] && rewards[j] != rewards[i];
    }
    return 0;
}

int rl_gpg_advantages(float *adv, const float *rewards, const int *group, int n, int *degenerate) {
    if (n <= 0) return err_set("GPG advantages: empty batch");
    int *keep = mem_alloc((size_t)n * sizeof(int));
    if (!keep) return ERR_FAIL;
    if (rl_grpo_advantages(adv, rewards, group, n, 0, 0)) {
        free(keep);
        return ERR_FAIL;
    }
    rl_group_informative(keep, rewards, group, n);
    int k = 0;
    for (int i = 0; i < n; i++) k += !keep[i];
    // a batch of only degenerate groups has nothing to learn: advantages stay 0
    double scale = k < n ? (double)n / (n - k) : 1.0;
    for (int i = 0; i < n; i++) adv[i] = (float)(adv[i] * scale);
    if (degenerate) *degenerate = k;
    free(keep);
    return 0;
}

float rl_overlong_penalty(int length, int max_len, int cache_len) {
    int expected = max_len - cache_len;
    if (length <= expected || cache_len <= 0) return 0.0f;
    float p = (float)(expected - length) / (float)cache_len;
    return p < -1.0f ? -1.0f : p;
}

void rl_distill_advantages(float *adv, const float *logp_student, const float *logp_teacher, const float *mask,
                           int64_t T, float lo, float hi) {
    for (int64_t t = 0; t < T; t++) {
        float a = -(logp_student[t] - logp_teacher[t]);
        a = a < lo ? lo : a > hi ? hi : a;
        adv[t] = mask[t] > 0 ? a : 0.0f;
    }
}

int rl_gae(float *adv, float *ret, const float *token_rewards, const float *values, const float *mask,
           const int64_t *offsets, int nseq, float gamma, float lambda) {
    for (int s = 0; s < nseq; s++) {
        double next_v = 0, last = 0;
        for (int64_t t = offsets[s + 1] - 1; t >= offsets[s]; t--) {
            double delta = token_rewards[t] + gamma * next_v - values[t];
            last = delta + gamma * lambda * last;
            adv[t] = (float)last;
            ret[t] = (float)(last + values[t]);
            next_v = values[t];
        }
    }
    double n = 0, sum = 0, ss = 0;
    int64_t T0 = offsets[0], T1 = offsets[nseq];
    for (int64_t t = T0; t < T1; t++) n += mask[t], sum += mask[t] * adv[t];
    if (n < 2) return err_set("GAE: need at least two response tokens to whiten advantages");
    double mean = sum / n;
    for (int64_t t = T0; t < T1; t++) ss += mask[t] * (adv[t] - mean) * (adv[t] - mean);
    double inv = 1.0 / sqrt(ss / (n - 1) + 1e-8);   // unbiased variance, as verl's masked_whiten
    for (int64_t t = T0; t < T1; t++) adv[t] = (float)((adv[t] - mean) * inv);
    return 0;
}

int rl_policy_loss(rl_loss_stats *st, float *grad, const float *logp, const float *old_logp, const float *ref_logp,
                   const float *adv, const float *mask, const int64_t *offsets, int nseq, const rl_loss_params *p) {
    int64_t T = total_tokens(offsets, nseq), T0 = offsets[0];
    if (p->kl_coef != 0 && !ref_logp) return err_set("policy loss: kl_coef is set but no reference log-probs were given");
    float *w = mem_alloc((size_t)(T0 + T) * sizeof(float));   // indexed by token position
    if (!w) return ERR_FAIL;
    if (agg_weights(w, mask, offsets, nseq, p->agg)) {
        free(w);
        return ERR_FAIL;
    }
    memset(st, 0, sizeof *st);
    double ntok = 0;
    for (int64_t t = T0; t < T0 + T; t++) {
        float wt = w[t];
        grad[t] = 0;
        if (mask[t] <= 0) continue;
        double d = logp[t] - old_logp[t];
        d = d < -20 ? -20 : d > 20 ? 20 : d;
        double r = exp(d), A = adv[t];
        double rc = r < 1 - p->clip_low ? 1 - p->clip_low : r > 1 + p->clip_high ? 1 + p->clip_high : r;
        double pg1 = -A * r, pg2 = -A * rc, l = pg1 > pg2 ? pg1 : pg2;
        // the unclipped term carries the gradient when it is the max, or when clipping changed nothing
        double g = (pg1 >= pg2 || rc == r) ? -A * r : 0;
        int clipped = pg2 > pg1;
        if (p->clip_c > 0 && A < 0 && -A * p->clip_c < l) {
            l = -A * p->clip_c;
            g = 0;
        }
        st->pg_loss += wt * l;
        st->clip_frac += mask[t] * clipped;
        st->ratio_mean += mask[t] * r;
        ntok += mask[t];
        double gt = g;
        if (ref_logp) {   // KL is reported whenever a reference is given, trained on when kl_coef != 0
            double k = ref_logp[t] - logp[t];
            k = k < -20 ? -20 : k > 20 ? 20 : k;
            double e = exp(k), kld = e - k - 1, gk = 1 - e;
            if (kld > 10 || kld < -10) {
                kld = kld > 10 ? 10 : -10;
                gk = 0;
            }
            st->kl += wt * kld;
            gt += p->kl_coef * gk;
        }
        grad[t] = (float)(wt * gt);
    }
    st->tokens = (int64_t)ntok;
    st->clip_frac /= ntok;
    st->ratio_mean /= ntok;
    st->loss = st->pg_loss + p->kl_coef * st->kl;
    free(w);
    return 0;
}

int rl_gpg_loss(rl_loss_stats *st, float *grad, const float *logp, const float *adv, const float *mask,
                const int64_t *offsets, int nseq, rl_agg_mode agg) {
    int64_t T = total_tokens(offsets, nseq), T0 = offsets[0];
    float *w = mem_alloc((size_t)(T0 + T) * sizeof(float));   // indexed by token position
    if (!w) return ERR_FAIL;
    if (agg_weights(w, mask, offsets, nseq, agg)) {
        free(w);
        return ERR_FAIL;
    }
    memset(st, 0, sizeof *st);
    for (int64_t t = T0; t < T0 + T; t++) {
        float wt = w[t];
        st->pg_loss += wt * (-(double)adv[t] * logp[t]);
        grad[t] = -wt * adv[t];
        st->tokens += mask[t] > 0;
    }
    st->loss = st->pg_loss;
    st->ratio_mean = 1;
    free(w);
    return 0;
}

double rl_value_loss(float *grad, const float *values, const float *old_values, const float *returns,
                     const float *mask, const int64_t *offsets, int nseq, float clip, rl_agg_mode agg) {
    int64_t T = total_tokens(offsets, nseq), T0 = offsets[0];
    float *w = mem_alloc((size_t)(T0 + T) * sizeof(float));   // indexed by token position
    if (!w || agg_weights(w, mask, offsets, nseq, agg)) {
        free(w);
        return NAN;
    }
    double loss = 0;
    for (int64_t t = T0; t < T0 + T; t++) {
        double v = values[t], lo = old_values[t] - clip, hi = old_values[t] + clip;
        double vc = v < lo ? lo : v > hi ? hi : v, R = returns[t];
        double f1 = (v - R) * (v - R), f2 = (vc - R) * (vc - R);
        double wt = w[t];
        loss += wt * 0.5 * (f1 > f2 ? f1 : f2);
        double g = f1 >= f2 ? (v - R) : (vc == v ? (v - R) : 0);
        grad[t] = (float)(wt * g);
    }
    free(w);
    return loss;
}
