// PPO's critic: a linear value head [C + 1] on the policy's final hidden state (not backpropagated
// into the policy), the GAE advantages it gives, and its SGD step on the clipped value loss.
#pragma once
#include <cjson/cJSON.h>

#include "model/qwen3.h"
#include "post/policy.h"

typedef struct {
    int C;             // hidden size
    float *w;          // [C + 1]: weights, then the bias
    // the batch the advantages were computed for, kept for the update
    float *feats;      // [n * T, C] final hidden states
    float *values;     // [n * T]
    float *ret;        // [n * T] GAE returns
} rl_critic;

// saved: a checkpoint's "critic" array (NULL: zeros).
int rl_critic_init(rl_critic *k, int C, const cJSON *saved);
void rl_critic_free(rl_critic *k);
void rl_critic_to_json(const rl_critic *k, cJSON *state);   // adds "critic" to state
// adv out [n * T]: GAE over the values of b, the outcome reward[s] on sequence s's last trained
// position.
int rl_critic_advantages(rl_critic *k, const qwen3_model *m, const policy_batch *b, const float *reward, float gamma,
                         float lambda, float *adv);
// One step on the batch of the last rl_critic_advantages; frees that batch's buffers.
int rl_critic_update(rl_critic *k, const policy_batch *b, float vclip, float lr);
