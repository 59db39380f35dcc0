// Optimiser pieces around the model's AdamW (src/model/qwen3.h): learning-rate schedules and
// global-norm gradient clipping. Reference section 6: clip 1.0, linear warmup then cosine to
// min_lr: f = r + (1-r) * 0.5 * (1 + cos(pi * progress)), r = min_lr / lr.
#pragma once
#include <stddef.h>
#include <stdint.h>

typedef enum { LR_COSINE, LR_LINEAR, LR_CONSTANT } lr_kind;

typedef struct {
    lr_kind kind;
    double lr, min_lr;
    int64_t warmup_steps, total_steps;
} lr_schedule;

int lr_kind_parse(const char *s, lr_kind *out);   // "cosine" | "linear" | "constant"
// The learning rate of optimiser step `step` (0-based, as the HF LambdaLR counts it): warmup gives
// lr * step / warmup (so step 0 has lr 0 when warmup > 0); afterwards progress = (step - warmup) /
// (total - warmup), clamped to [0, 1]; cosine and linear decay from lr to min_lr.
double lr_at(const lr_schedule *s, int64_t step);

// Global L2 norm over several buffers, accumulated in double in a fixed order (reproducible).
double grad_norm_l2(const float *const *bufs, const size_t *lens, int nbufs);
// The factor that brings `norm` down to max_norm (1 when already below, or when max_norm <= 0);
// the reference's clip_grad_norm_: max_norm / (norm + 1e-6) when norm > max_norm.
float grad_clip_scale(double norm, double max_norm);
