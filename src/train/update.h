// What every training loop (train, distill, rl) shares around the model's AdamW: the checked
// optimiser update, and the output dir with its logs (stdout.log, stderr.log, args.json, events).
#pragma once
#include <cjson/cJSON.h>
#include <stdint.h>
#include <stdio.h>

#include "formats/tfevents.h"
#include "model/qwen3.h"

typedef struct {
    double lr;
    float beta1, beta2, eps, weight_decay;
    double max_grad_norm;   // <= 0: no clipping
} train_update_cfg;

// Gradient norm, finite check, clipping, AdamW step `step` (1-based). A non-finite gradient is an
// error and leaves the weights untouched. *grad_norm gets the norm before clipping.
int train_update(qwen3_model *m, const train_update_cfg *c, int64_t step, double *grad_norm);

// Creates the output dir and proves it writable before any work is done.
int train_prepare_output(const char *out);

typedef struct {
    FILE *out_log, *err_log;
    tfevents_writer tb;
    int open;
} train_logs;

// Opens {out}/stdout.log and stderr.log (appending; stderr lines are mirrored there), writes
// {out}/args.json and opens a TensorBoard event file in out.
int train_logs_open(train_logs *l, const char *out, const cJSON *args);
void train_logs_close(train_logs *l);
