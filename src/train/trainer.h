// One optimiser step of data-parallel training over packed rows: each step consumes a global batch
// of world * accum * micro rows from the (identical on every rank) loader; each rank trains on its
// slice, gradients are summed across ranks, and the loss is the token mean over the whole global
// batch, so N ranks compute the same step as one process with N times the accumulation.
#pragma once
#include <stdint.h>
#include <stdio.h>

#include "model/qwen3.h"
#include "train/loader.h"
#include "train/optim.h"

typedef struct {
    int row_length;           // tokens per packed row (the loader's max_length)
    int micro_batch;          // rows per forward/backward
    int grad_accum;           // micro batches per rank per step
    lr_schedule lr;
    float beta1, beta2, eps, weight_decay;
    double max_grad_norm;     // <= 0: no clipping
    int freeze_llm;           // stage 1: layers and final norm frozen
    int start_row;            // embed / lm_head rows below this stay unchanged (0: all train)
    int itemic_lo, itemic_hi; // targets in this range count as itemic tokens
    int recompute;            // gradient checkpointing: keep layer inputs only, recompute in backward
} trainer_config;

typedef struct {
    int64_t step;             // the step just taken (1-based)
    double loss, itemic_loss, text_loss;   // token means over the global batch (0 if no tokens)
    int64_t itemic_tokens, text_tokens;
    double grad_norm;         // before clipping
    double lr;
    int64_t tokens;           // real (non-padding) tokens in the global batch
    int64_t rows;
    int nsources;
    double *source_loss;      // [nsources] mean loss per source (NaN where the source had no token)
    int64_t *source_tokens;   // [nsources]
} trainer_stats;

typedef struct trainer trainer;

// The trainer borrows the model and the loader (the caller owns and frees them).
int trainer_init(trainer **t, qwen3_model *m, train_loader *l, const trainer_config *c);
void trainer_free(trainer *t);
// One step: 1 done (stats filled; stats arrays valid until the next call), 0 when the data ran out
// before a whole global batch (nothing changed), ERR_FAIL on errors, including a non-finite loss
// or gradient, which is detected BEFORE the update so the model keeps its last good weights.
int trainer_step(trainer *t, trainer_stats *st);
int64_t trainer_get_step(const trainer *t);
// Appends every global row of each step (int32 ids, labels, pos, seg, [L] each) to fp, for
// reference runs over the same packed batches (bench/trainer.sh). NULL stops.
void trainer_set_dump(trainer *t, FILE *fp);
void trainer_set_step(trainer *t, int64_t step);   // after a resume
// Mean token loss of up to max_rows rows of a (separate) loader, without gradients; all ranks
// evaluate the same rows. *ntok receives the number of loss tokens.
int trainer_eval(trainer *t, train_loader *l, int max_rows, double *loss, int64_t *ntok);

typedef struct {
    int32_t lo, hi;    // inclusive
} train_id_range;

typedef struct {
    double nll[2];     // sums of -log p over targets: [0] ids in the split range (itemic), [1] the others
    int64_t n[2];      // targets counted
    int rows;          // rows this rank scored
} train_score;
// A forward pass over up to max_rows rows of l (rows of L tokens padded with `pad`), row k scored
// on rank k % world; split NULL puts every target in [1]. The loop behind trainer_eval and the
// demo's held-out losses (eval/heldout.h).
int train_score_rows(const qwen3_model *m, train_loader *l, int L, int32_t pad, int max_rows, int rank, int world,
                     const train_id_range *split, train_score *s);
