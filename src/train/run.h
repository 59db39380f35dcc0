// `onerec train`: stage 1 / stage 2 / SFT training from an HF model dir and a dataset config,
// with checkpoints, exact resume, TensorBoard logs and MPI data parallelism.
#pragma once
#include <cjson/cJSON.h>
#include <stdint.h>

typedef struct {
    char *model_dir, *output_dir, *dataset_config, *resume_from, *eval_dataset_config;
    char *lr_scheduler_type;
    int max_length;                   // 0: the dataset config's
    double learning_rate, min_lr, weight_decay, beta1, beta2, max_grad_norm;
    int64_t num_warmup_steps, num_training_steps, save_checkpoint_per_step, logging_per_step;
    int64_t eval_per_step;            // 0: at checkpoints
    int eval_rows;
    int64_t seed;
    int freeze_llm, start_optimize_embedding_index, use_tie_weights, minibatch_size;
    int enable_gradient_checkpointing;
    int gradient_accumulation_steps, micro_batch_size;
    double peak_gflops;               // MFU denominator (whole machine / all ranks)
    int plot;
    char *dump_batches;               // write every step's packed rows here (benchmarks)                         // write loss.png with gnuplot at the end
} train_run_args;

void train_run_default(train_run_args *a);
// `args_json` (the flags as given) is written to {out}/args.json and kept in checkpoints.
// Returns 0, or ERR_FAIL with the message (which names the step and the last good checkpoint
// when training stopped on a non-finite loss).
// *final_step (may be NULL) receives the last step trained (less than num_training_steps when the
// data ran out).
int train_run(const train_run_args *a, const cJSON *args_json, int64_t *final_step);
