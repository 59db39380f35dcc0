// Post-training advantages and losses against an independent PyTorch implementation
// (tests/ref/rl_ref.py, autograd for the gradients), plus hand-computed cases.
#include <string.h>
#include <unistd.h>

#include "base/file.h"
#include "base/json.h"
#include "base/rng.h"
#include "post/rl_loss.h"
#include "test.h"

#define NSEQ 8
#define MAXT 512

typedef struct {
    int64_t off[NSEQ + 1];
    int groups[NSEQ];
    float rewards[NSEQ];
    float logp[MAXT], old[MAXT], ref[MAXT], adv[MAXT], mask[MAXT];
    float values[MAXT], old_values[MAXT], returns[MAXT], token_rewards[MAXT];
    int64_t T;
} rl_case;

static void make_case(rl_case *c, uint64_t seed) {
    rng r;
    rng_seed(&r, seed);
    c->off[0] = 0;
    for (int s = 0; s < NSEQ; s++) {
        c->off[s + 1] = c->off[s] + 3 + (int64_t)rng_below(&r, 12);
        c->groups[s] = s / 4;
        c->rewards[s] = (float)rng_below(&r, 2);
    }
    c->T = c->off[NSEQ];
    for (int64_t t = 0; t < c->T; t++) {
        c->logp[t] = (float)(-3.0 * rng_uniform(&r));
        c->old[t] = c->logp[t] + (float)(0.4 * rng_normal(&r));
        c->ref[t] = c->logp[t] + (float)(0.6 * rng_normal(&r));
        c->adv[t] = (float)rng_normal(&r);
        c->mask[t] = rng_uniform(&r) < 0.85 ? 1.0f : 0.0f;
        c->values[t] = (float)rng_normal(&r);
        c->old_values[t] = c->values[t] + (float)(0.3 * rng_normal(&r));
        c->returns[t] = (float)rng_normal(&r);
        c->token_rewards[t] = 0;
    }
    for (int s = 0; s < NSEQ; s++) c->token_rewards[c->off[s + 1] - 1] = c->rewards[s];
}

static cJSON *farr(const float *x, int64_t n) {
    cJSON *a = cJSON_CreateArray();
    for (int64_t i = 0; i < n; i++) cJSON_AddItemToArray(a, cJSON_CreateNumber(x[i]));
    return a;
}

static double max_abs_diff(const cJSON *ref, const float *ours, int64_t n) {
    double m = cJSON_GetArraySize(ref) == n ? 0 : 1e30;
    for (int64_t i = 0; i < n && m < 1e30; i++) {
        double d = fabs(cJSON_GetArrayItem(ref, (int)i)->valuedouble - ours[i]);
        m = d > m ? d : m;
    }
    return m;
}

static double num(const cJSON *o, const char *a, const char *b) {
    const cJSON *x = cJSON_GetObjectItem(o, a);
    return b ? cJSON_GetObjectItem(x, b)->valuedouble : x->valuedouble;
}

static void check_case(uint64_t seed, int agg, float clip_c, float kl_coef) {
    static rl_case c;
    make_case(&c, seed);
    cJSON *j = cJSON_CreateObject();
    float offs[NSEQ + 1], groups[NSEQ];
    for (int i = 0; i <= NSEQ; i++) offs[i] = (float)c.off[i];
    for (int i = 0; i < NSEQ; i++) groups[i] = (float)c.groups[i];
    cJSON_AddItemToObject(j, "offsets", farr(offs, NSEQ + 1));
    cJSON_AddItemToObject(j, "groups", farr(groups, NSEQ));
    cJSON_AddItemToObject(j, "rewards", farr(c.rewards, NSEQ));
    const char *names[] = {"logp", "old_logp", "ref_logp", "adv", "mask", "values", "old_values", "returns", "token_rewards"};
    const float *arrs[] = {c.logp, c.old, c.ref, c.adv, c.mask, c.values, c.old_values, c.returns, c.token_rewards};
    for (int i = 0; i < 9; i++) cJSON_AddItemToObject(j, names[i], farr(arrs[i], c.T));
    rl_loss_params p = {0.2f, 0.28f, clip_c, kl_coef, (rl_agg_mode)agg};
    cJSON_AddNumberToObject(j, "clip_low", p.clip_low);
    cJSON_AddNumberToObject(j, "clip_high", p.clip_high);
    cJSON_AddNumberToObject(j, "clip_c", p.clip_c);
    cJSON_AddNumberToObject(j, "kl_coef", p.kl_coef);
    cJSON_AddNumberToObject(j, "agg", agg);
    cJSON_AddNumberToObject(j, "vclip", 0.2);
    cJSON_AddNumberToObject(j, "gamma", 0.99);
    cJSON_AddNumberToObject(j, "lam", 0.95);
    char in[128], out[128], cmd[512];
    snprintf(in, sizeof in, "/tmp/onerec_rl_case_%d.json", (int)getpid());
    snprintf(out, sizeof out, "/tmp/onerec_rl_ref_%d.json", (int)getpid());
    CHECK_OK(json_save_file(in, j));
    cJSON_Delete(j);
    snprintf(cmd, sizeof cmd, "/usr/bin/python3 tests/ref/rl_ref.py %s %s", in, out);
    CHECK(system(cmd) == 0);
    cJSON *ref = json_load_file(out);
    CHECK(ref != NULL);
    if (!ref) return;

    float adv[NSEQ], grad[MAXT], ret[MAXT];
    CHECK_OK(rl_grpo_advantages(adv, c.rewards, c.groups, NSEQ, 1, 1e-6f));
    CHECK(max_abs_diff(cJSON_GetObjectItem(ref, "grpo"), adv, NSEQ) < 1e-4);
    CHECK_OK(rl_grpo_advantages(adv, c.rewards, c.groups, NSEQ, 0, 1e-6f));
    CHECK(max_abs_diff(cJSON_GetObjectItem(ref, "grpo_nostd"), adv, NSEQ) < 1e-6);

    rl_loss_stats st;
    CHECK_OK(rl_policy_loss(&st, grad, c.logp, c.old, c.ref, c.adv, c.mask, c.off, NSEQ, &p));
    CHECK_NEAR(st.loss, num(ref, "policy", "loss"), 1e-5);
    CHECK_NEAR(st.pg_loss, num(ref, "policy", "pg_loss"), 1e-5);
    CHECK_NEAR(st.kl, num(ref, "policy", "kl"), 1e-5);
    double gd = max_abs_diff(cJSON_GetObjectItem(cJSON_GetObjectItem(ref, "policy"), "grad"), grad, c.T);
    CHECK_MSG(gd < 1e-6, "policy grad max abs diff %g (agg %d, clip_c %g)", gd, agg, clip_c);
    CHECK(st.clip_frac > 0 && st.clip_frac < 1);   // the case exercises both branches

    CHECK_OK(rl_gpg_loss(&st, grad, c.logp, c.adv, c.mask, c.off, NSEQ, (rl_agg_mode)agg));
    CHECK_NEAR(st.loss, num(ref, "gpg", "loss"), 1e-5);
    CHECK(max_abs_diff(cJSON_GetObjectItem(cJSON_GetObjectItem(ref, "gpg"), "grad"), grad, c.T) < 1e-6);

    double vl = rl_value_loss(grad, c.values, c.old_values, c.returns, c.mask, c.off, NSEQ, 0.2f, (rl_agg_mode)agg);
    CHECK_NEAR(vl, num(ref, "value", "loss"), 1e-5);
    CHECK(max_abs_diff(cJSON_GetObjectItem(cJSON_GetObjectItem(ref, "value"), "grad"), grad, c.T) < 1e-6);

    CHECK_OK(rl_gae(c.adv, ret, c.token_rewards, c.values, c.mask, c.off, NSEQ, 0.99f, 0.95f));
    CHECK(max_abs_diff(cJSON_GetObjectItem(cJSON_GetObjectItem(ref, "gae"), "adv"), c.adv, c.T) < 1e-4);
    CHECK(max_abs_diff(cJSON_GetObjectItem(cJSON_GetObjectItem(ref, "gae"), "ret"), ret, c.T) < 1e-4);
    cJSON_Delete(ref);
    unlink(in);
    unlink(out);
}

static void test_against_torch(void) {
    check_case(1, RL_AGG_TOKEN_MEAN, 3.0f, 0.001f);
    check_case(2, RL_AGG_SEQ_MEAN_TOKEN_MEAN, 0.0f, 0.1f);
    check_case(3, RL_AGG_SEQ_MEAN_TOKEN_SUM, 3.0f, 0.0f);
    check_case(4, RL_AGG_TOKEN_MEAN, 0.0f, 0.5f);
}

static void test_hand_cases(void) {
    // GRPO on one group {1, 0, 0, 1}: mean 0.5, unbiased std 0.57735
    float r[4] = {1, 0, 0, 1}, adv[4];
    int g[4] = {0, 0, 0, 0};
    CHECK_OK(rl_grpo_advantages(adv, r, g, 4, 1, 1e-6f));
    CHECK_NEAR(adv[0], 0.5 / 0.5773503, 1e-4);
    CHECK_NEAR(adv[1], -0.5 / 0.5773503, 1e-4);
    // all-equal rewards give zero advantage; GPG rescales the informative half by 4/2
    float r2[4] = {1, 0, 1, 1};
    int g2[4] = {0, 0, 1, 1}, k = -1, keep[4];
    CHECK_OK(rl_gpg_advantages(adv, r2, g2, 4, &k));
    CHECK(k == 2);
    CHECK_NEAR(adv[0], 0.5 * 2, 1e-6);
    CHECK_NEAR(adv[2], 0.0, 1e-6);
    rl_group_informative(keep, r2, g2, 4);
    CHECK(keep[0] && keep[1] && !keep[2] && !keep[3]);
    // distillation advantages are clipped to [-30, 5]
    float ls[3] = {-1, -50, -2}, lt[3] = {-3, -1, -100}, m[3] = {1, 1, 1}, a[3];
    rl_distill_advantages(a, ls, lt, m, 3, -30, 5);
    CHECK_NEAR(a[0], -2, 1e-6);
    CHECK_NEAR(a[1], 5, 1e-6);
    CHECK_NEAR(a[2], -30, 1e-6);
    CHECK_NEAR(rl_overlong_penalty(100, 128, 16), 0, 1e-6);
    CHECK_NEAR(rl_overlong_penalty(120, 128, 16), -0.5, 1e-6);
    CHECK_NEAR(rl_overlong_penalty(200, 128, 16), -1, 1e-6);
    // no masked token: a clear error
    float z[2] = {0, 0}, grad[2];
    int64_t off[2] = {0, 2};
    rl_loss_stats st;
    rl_loss_params p = {0.2f, 0.28f, 0, 0, RL_AGG_TOKEN_MEAN};
    CHECK_FAILS_WITH(rl_policy_loss(&st, grad, z, z, NULL, z, z, off, 1, &p), "no response token");
}

// Prefix reward: group 0 has beams matching 3, 2, 2, 0 codes; group 1 matches 1 code in both.
static void test_prefix_advantages(void) {
    int m[6] = {3, 2, 2, 0, 1, 1}, g[6] = {0, 0, 0, 0, 1, 1}, k = -1;
    float adv[18];
    CHECK_OK(rl_prefix_advantages(adv, m, g, 6, 3, 1e-6f, &k));
    // code 0: rewards {1,1,1,0} -> mean 0.75, std 0.5; code 2: {1,0,0,0} -> mean 0.25, std 0.5
    CHECK_NEAR(adv[0], 0.5, 1e-4);
    CHECK_NEAR(adv[3], -1.5, 1e-4);
    CHECK_NEAR(adv[2 * 6 + 0], 1.5, 1e-4);
    CHECK_NEAR(adv[2 * 6 + 1], -0.5, 1e-4);
    // the beams with a right cluster (codes 0 and 1) but a wrong item are pushed up at codes 0 and
    // 1 (code 1: {1,1,1,0}) and down at code 2 only
    CHECK(adv[1] > 0 && adv[6 + 1] > 0 && adv[12 + 1] < 0);
    // group 1 is degenerate: every code equal across its beams
    CHECK(k == 2);
    CHECK_NEAR(adv[4], 0, 1e-6);
    CHECK_NEAR(adv[12 + 5], 0, 1e-6);
}

int main(void) {
    RUN(test_hand_cases);
    RUN(test_prefix_advantages);
    RUN(test_against_torch);
    return test_summary("test_rl_loss");
}
