#include "rec/sample.h"

#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"

int sample_params_check(const sample_params *p) {
    // written as !(x >= 0) so that NaN is refused too
    if (!(p->temperature >= 0)) return err_usage("--temperature %g: must be >= 0 (0: greedy)", p->temperature);
    if (p->top_k < 0) return err_usage("--top-k %d: must be >= 0 (0: off)", p->top_k);
    if (!(p->top_p > 0)) return err_usage("--top-p %g: must be in (0, 1] (1: off)", p->top_p);
    if (!(p->repetition_penalty > 0))
        return err_usage("--repetition-penalty %g: must be positive (1: off)", p->repetition_penalty);
    return 0;
}

sample_params sample_params_default(void) {
    sample_params p = {0.0f, 0, 1.0f, 1.0f};
    return p;
}

void sample_apply_penalty(float *logits, int vocab, const int32_t *seen, int n, float penalty) {
    if (penalty == 1.0f) return;
    for (int i = 0; i < n; i++) {
        int id = seen[i];
        if (id < 0 || id >= vocab) continue;
        int dup = 0;   // penalise each id once however often it was seen
        for (int j = 0; j < i && !dup; j++) dup = seen[j] == id;
        if (dup) continue;
        logits[id] = logits[id] > 0 ? logits[id] / penalty : logits[id] * penalty;
    }
}

void sample_log_softmax(float *out, const float *logits, int vocab) {
    float mx = -FLT_MAX;
    for (int i = 0; i < vocab; i++) mx = logits[i] > mx ? logits[i] : mx;
    double sum = 0;
    for (int i = 0; i < vocab; i++) sum += exp((double)(logits[i] - mx));
    float lse = mx + (float)log(sum);
    for (int i = 0; i < vocab; i++) out[i] = logits[i] - lse;
}

static int argmax(const float *x, int n) {
    int best = 0;
    for (int i = 1; i < n; i++)
        if (x[i] > x[best]) best = i;
    return best;
}

// qsort has no context argument; a thread-local key array keeps sampling thread-safe
static _Thread_local const float *t_keys;
static int by_key_desc(const void *a, const void *b) {
    float x = t_keys[*(const int *)a], y = t_keys[*(const int *)b];
    if (x != y) return x < y ? 1 : -1;
    return *(const int *)a - *(const int *)b;   // ties by id: deterministic
}

int sample_pick(const float *logits, int vocab, const sample_params *p, rng *r, float *work, float *logprob) {
    if (p->temperature <= 0) {
        int id = argmax(logits, vocab);
        if (logprob) {
            sample_log_softmax(work, logits, vocab);
            *logprob = work[id];
        }
        return id;
    }
    float *scaled = work;
    int *order = (int *)(work + vocab);
    for (int i = 0; i < vocab; i++) scaled[i] = logits[i] / p->temperature;
    sample_log_softmax(scaled, scaled, vocab);   // scaled now holds log-probs
    int n = vocab;
    for (int i = 0; i < vocab; i++) order[i] = i;
    int need_sort = (p->top_k > 0 && p->top_k < vocab) || p->top_p < 1.0f;
    if (need_sort) {
        t_keys = scaled;
        qsort(order, (size_t)vocab, sizeof(int), by_key_desc);
        if (p->top_k > 0 && p->top_k < n) n = p->top_k;
        if (p->top_p < 1.0f) {
            double cum = 0;
            int keep = 0;
            while (keep < n) {   // smallest prefix whose mass reaches top_p (at least one token)
                cum += exp((double)scaled[order[keep]]);
                keep++;
                if (cum >= p->top_p) break;
            }
            n = keep;
        }
    }
    double total = 0;
    for (int i = 0; i < n; i++) total += exp((double)scaled[order[i]]);
    double u = rng_uniform(r) * total, acc = 0;
    int pick = order[n - 1];
    for (int i = 0; i < n; i++) {
        acc += exp((double)scaled[order[i]]);
        if (u < acc) {
            pick = order[i];
            break;
        }
    }
    if (logprob) *logprob = scaled[pick] - (float)log(total);
    return pick;
}
