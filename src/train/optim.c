#include "train/optim.h"

#include <math.h>
#include <string.h>

#include "base/err.h"

int lr_kind_parse(const char *s, lr_kind *out) {
    if (!strcmp(s, "cosine")) *out = LR_COSINE;
    else if (!strcmp(s, "linear")) *out = LR_LINEAR;
    else if (!strcmp(s, "constant")) *out = LR_CONSTANT;
    else return err_usage("unknown lr_scheduler_type \"%s\" (cosine, linear or constant)", s);
    return 0;
}

double lr_at(const lr_schedule *s, int64_t step) {
    if (step < 0) step = 0;
    if (s->warmup_steps > 0 && step < s->warmup_steps) return s->lr * (double)step / (double)s->warmup_steps;
    if (s->kind == LR_CONSTANT || s->lr <= 0) return s->lr;
    int64_t span = s->total_steps - s->warmup_steps;
    double progress = span > 0 ? (double)(step - s->warmup_steps) / (double)span : 1.0;
    if (progress > 1) progress = 1;
    double r = s->min_lr / s->lr;
    double f = s->kind == LR_COSINE ? r + (1 - r) * 0.5 * (1 + cos(M_PI * progress))
                                    : r + (1 - r) * (1 - progress);
    return s->lr * f;
}

double grad_norm_l2(const float *const *bufs, const size_t *lens, int nbufs) {
    double total = 0;
    for (int b = 0; b < nbufs; b++) {
        const float *g = bufs[b];
        double s = 0;
        // one serial pass: the summation order (and so the bits) never depends on threads
        for (size_t i = 0; i < lens[b]; i++) s += (double)g[i] * g[i];
        total += s;
    }
    return sqrt(total);
}

float grad_clip_scale(double norm, double max_norm) {
    if (max_norm <= 0 || !(norm > max_norm)) return 1.0f;
    return (float)(max_norm / (norm + 1e-6));
}
