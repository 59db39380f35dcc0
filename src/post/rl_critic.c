// The critic reads the hidden states of its own forward pass, so PPO costs one more forward per
// sequence than GRPO; its head is linear, so the update is a dot product per trained token.
#include "post/rl_critic.h"

#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "base/mem.h"
#include "post/rl_loss.h"

int rl_critic_init(rl_critic *k, int C, const cJSON *saved) {
    memset(k, 0, sizeof *k);
    k->C = C;
    k->w = mem_calloc((size_t)C + 1, sizeof(float));
    if (!k->w) return ERR_FAIL;
    for (int j = 0; saved && j <= C && j < cJSON_GetArraySize(saved); j++)
        k->w[j] = (float)cJSON_GetArrayItem(saved, j)->valuedouble;
    return 0;
}

static void release_batch(rl_critic *k) {
    free(k->feats), free(k->values), free(k->ret);
    k->feats = k->values = k->ret = NULL;
}

void rl_critic_free(rl_critic *k) {
    release_batch(k);
    free(k->w);
    k->w = NULL;
}

void rl_critic_to_json(const rl_critic *k, cJSON *state) {
    cJSON *cr = cJSON_AddArrayToObject(state, "critic");
    for (int j = 0; j <= k->C; j++) cJSON_AddItemToArray(cr, cJSON_CreateNumber(k->w[j]));
}

// values at every position from the final hidden state
static int critic_values(rl_critic *k, const qwen3_model *m, const policy_batch *b) {
    int C = k->C, T = b->T;
    for (int r0 = 0; r0 < b->n; r0++) {
        qwen3_acts *acts;
        if (qwen3_acts_init(&acts, m, 1, T, 0)) return ERR_FAIL;
        qwen3_batch qb = {.B = 1, .T = T, .tokens = b->tokens + (size_t)r0 * T};
        int rc = qwen3_forward(m, acts, &qb, NULL, NULL);
        const float *h = qwen3_acts_hidden(acts);
        for (int t = 0; !rc && t < T; t++) {
            float *f = k->feats + ((size_t)r0 * T + t) * C;
            memcpy(f, h + (size_t)t * C, (size_t)C * sizeof(float));
            double v = k->w[C];
            for (int j = 0; j < C; j++) v += (double)k->w[j] * f[j];
            k->values[(size_t)r0 * T + t] = (float)v;
        }
        qwen3_acts_free(acts);
        if (rc) return ERR_FAIL;
    }
    return 0;
}

int rl_critic_advantages(rl_critic *k, const qwen3_model *m, const policy_batch *b, const float *reward, float gamma,
                         float lambda, float *adv) {
    int n = b->n, T = b->T;
    size_t NT = (size_t)n * T;
    release_batch(k);
    k->values = mem_alloc(NT * sizeof(float)), k->ret = mem_alloc(NT * sizeof(float));
    k->feats = mem_alloc(NT * (size_t)k->C * sizeof(float));
    float *tr = mem_calloc(NT, sizeof(float));
    int rc = k->values && k->ret && tr && k->feats ? critic_values(k, m, b) : ERR_FAIL;
    for (int s = 0; !rc && s < n; s++) {   // the outcome reward sits on the last response target
        for (int t = T - 1; t >= 0; t--)
            if (b->mask[(size_t)s * T + t] > 0) {
                tr[(size_t)s * T + t] = reward[s];
                break;
            }
    }
    if (!rc) rc = rl_gae(adv, k->ret, tr, k->values, b->mask, b->offsets, n, gamma, lambda);
    free(tr);
    if (rc) release_batch(k);
    return rc;
}

// Adam-free SGD on the clipped value loss.
int rl_critic_update(rl_critic *k, const policy_batch *b, float vclip, float lr) {
    int C = k->C;
    size_t NT = (size_t)b->n * b->T;
    if (!k->values) return err_set("critic update: no advantages were computed for this batch");
    float *g = mem_alloc(NT * sizeof(float));
    double *gw = mem_calloc((size_t)C + 1, sizeof(double));
    if (!g || !gw) {
        free(g), free(gw);
        release_batch(k);
        return err_wrap("critic update");
    }
    rl_value_loss(g, k->values, k->values, k->ret, b->mask, b->offsets, b->n, vclip, RL_AGG_TOKEN_MEAN);
    for (size_t t = 0; t < NT; t++) {
        if (g[t] == 0) continue;
        for (int j = 0; j < C; j++) gw[j] += (double)g[t] * k->feats[t * C + j];
        gw[C] += g[t];
    }
    for (int j = 0; j <= C; j++) k->w[j] -= (float)(lr * gw[j]);
    free(gw);
    free(g);
    release_batch(k);
    return 0;
}
