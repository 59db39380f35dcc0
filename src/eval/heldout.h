// Held-out losses of a model on a dataset config (reference 5.4 JSON), split into itemic and text
// targets: a fixed set scored the same way before and after a stage, so a comparison of two models
// is not the noise of which training rows each step drew.
#pragma once
#include <stdint.h>

typedef struct {
    double itemic, text;         // mean -log p of the itemic / text targets (NAN when none)
    int64_t n_itemic, n_text;    // targets counted
    int rows;                    // packed rows read
} heldout_result;

// Scores the first `max_rows` packed rows of the config's files (one epoch, no shuffling), with the
// model's own tokenizer. Targets in the config's itemic_id_range are itemic (none without one).
int heldout_loss(const char *model_dir, const char *dataset_config, int max_rows, heldout_result *out);
