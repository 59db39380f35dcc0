// onerec train: flags as the reference's pretrain/SFT scripts (see docs/train.md).
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdint.h>

#include "base/err.h"
#include "base/log.h"
#include "base/outdir.h"
#include "cli/args.h"
#include "train/dist.h"
#include "train/run.h"

int cmd_train(int argc, char **argv) {
    train_run_args a;
    train_run_default(&a);
    const arg_spec specs[] = {
        {"model_dir", ARG_STR, &a.model_dir, "HF Qwen3 model dir to start from (its tokenizer is used)", 1},
        {"output_dir", ARG_STR, &a.output_dir, "checkpoints step{N}/, latest, logs, events, loss.png", 1},
        {"dataset_config", ARG_STR, &a.dataset_config, "dataset config JSON (docs/train.md)", 1},
        {"max_length", ARG_INT, &a.max_length, "tokens per packed row (0: the dataset config's)", 0},
        {"learning_rate", ARG_DOUBLE, &a.learning_rate, "peak learning rate", 0},
        {"min_lr", ARG_DOUBLE, &a.min_lr, "learning rate at the end of the decay", 0},
        {"weight_decay", ARG_DOUBLE, &a.weight_decay, "AdamW decoupled weight decay", 0},
        {"beta1", ARG_DOUBLE, &a.beta1, "AdamW beta1", 0},
        {"beta2", ARG_DOUBLE, &a.beta2, "AdamW beta2", 0},
        {"max_grad_norm", ARG_DOUBLE, &a.max_grad_norm, "clip the global gradient L2 norm (0: off)", 0},
        {"lr_scheduler_type", ARG_STR, &a.lr_scheduler_type, "cosine, linear or constant (after linear warmup)", 0},
        {"num_warmup_steps", ARG_I64, &a.num_warmup_steps, "linear warmup steps", 0},
        {"num_training_steps", ARG_I64, &a.num_training_steps, "optimizer steps in total (also the decay length)", 0},
        {"save_checkpoint_per_step", ARG_I64, &a.save_checkpoint_per_step, "checkpoint every N steps (and at the end)", 0},
        {"logging_per_step", ARG_I64, &a.logging_per_step, "log scalars every N steps", 0},
        {"seed", ARG_I64, &a.seed, "file order and shuffle buffer seed", 0},
        {"freeze_llm", ARG_BOOL, &a.freeze_llm, "stage 1: freeze the transformer (only embedding rows train)", 0},
        {"start_optimize_embedding_index", ARG_INT, &a.start_optimize_embedding_index,
         "embedding / lm_head rows below this stay unchanged (stage 1: 151669)", 0},
        {"use_tie_weights", ARG_BOOL, &a.use_tie_weights, "expect tied embeddings (the model config decides)", 0},
        {"minibatch_size", ARG_INT, &a.minibatch_size, "lm_head loss chunk (the model chunks logits itself)", 0},
        {"enable_gradient_checkpointing", ARG_BOOL, &a.enable_gradient_checkpointing, "keep only each layer's input; recompute its activations in backward (less memory, one more forward)", 0},
        {"gradient_accumulation_steps", ARG_INT, &a.gradient_accumulation_steps, "micro batches per rank per step", 0},
        {"micro_batch_size", ARG_INT, &a.micro_batch_size, "packed rows per forward/backward", 0},
        {"resume_from", ARG_STR, &a.resume_from, "checkpoint dir or output dir (its latest) to continue exactly", 0},
        {"eval_dataset_config", ARG_STR, &a.eval_dataset_config, "held-out data (dataset config JSON) for eval/loss", 0},
        {"eval_per_step", ARG_I64, &a.eval_per_step, "held-out loss every N steps (0: at checkpoints)", 0},
        {"eval_rows", ARG_INT, &a.eval_rows, "packed held-out rows per evaluation", 0},
        {"peak_gflops", ARG_DOUBLE, &a.peak_gflops, "machine peak GFLOP/s, the MFU denominator", 0},
        {"plot", ARG_BOOL, &a.plot, "write loss.png with gnuplot at the end", 0},
        {"dump_batches", ARG_STR, &a.dump_batches, "write each step's packed rows (int32 ids, labels, pos, seg) to a file", 0},
        {0},
    };
    int rc = args_parse(argc, argv, specs, "onerec train --model_dir DIR --output_dir DIR --dataset_config JSON [options]",
                        "Stage 1 / stage 2 / SFT training on packed rows (mpirun -np N for data parallelism).",
                        NULL, 0, NULL);
    if (rc) return rc > 0 ? 0 : 2;
    if (dist_init(&argc, &argv)) return cli_fail("train");
    outdir od = {0};   // rank 0 writes the output dir, so only it locks it
    cJSON *j = args_to_json(specs);
    cJSON_AddNumberToObject(j, "world_size", dist_size());
    int64_t last = 0;
    rc = dist_rank() == 0 ? outdir_open(&od, a.output_dir, "train", 0) : 0;
    if (!rc) rc = train_run(&a, j, &last);
    if (dist_rank() == 0) rc = outdir_close(&od, rc, "latest");   // a failed run keeps its checkpoints
    cJSON_Delete(j);
    if (rc) {
        // any rank may be the one that failed; the others may be waiting in a collective
        if (dist_size() > 1) {
            fprintf(stderr, "onerec train: error on rank %d: %s\n", dist_rank(), err_msg());
            dist_abort(1);
        }
        return cli_fail("train");
    }
    if (dist_rank() == 0) printf("trained %s to step %lld, checkpoint %s/step%lld\n", a.output_dir, (long long)last,
                                 a.output_dir, (long long)last);
    dist_finalize();
    return 0;
}
