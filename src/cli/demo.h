// What the demos share (`onerec demo` on the synthetic world and on MovieLens): each stage runs the
// `onerec` subcommand a user would type, with its output in DIR/logs/<stage>.log; a finished stage
// leaves DIR/.done/<stage> (with its command, for the report) and is skipped when the demo runs again.
#pragma once
#include <stdint.h>

#include "base/mem.h"

typedef struct {
    int hidden, layers, heads, kv, head_dim, ffn;
} demo_model;

typedef struct {
    const char *dir;
    int64_t seed;
    char exe[4096];          // this onerec binary
    int nsteps, step;        // progress: stages in all, stages so far
    int max_len, micro;      // packed row length and rows per step of every training stage
    const struct demo_size *z;   // the synthetic demo's size (NULL on MovieLens)
} demo;

#define ARGV(...) ((char *const[]){__VA_ARGS__, NULL})
#define I(x) mem_printf("%d", (int)(x))

int demo_init(demo *d, const char *dir, int64_t seed);   // finds the executable
char *demo_path(const demo *d, const char *rel);
char *demo_seed(const demo *d);                          // the seed as a flag value
// Runs `onerec argv...` unless DIR/.done/<name> exists.
int demo_stage(demo *d, const char *name, char *const *argv);
// Creates DIR and its work folders (.done, logs and the given ones).
int demo_dirs(const demo *d, const char *const *sub, int nsub);
// A dataset config (reference section 5.4) DIR/config/<name>.json over tables / file_list.json
// files; targets in [itemic_lo, itemic_hi] count as itemic in the loss split (none when equal).
int demo_dataset(const demo *d, const char *name, const char *const *sources, int n, int think, int itemic_lo,
                 int itemic_hi, int assistant_only);
// DIR/config/model.json: a Qwen3 of the given shape and vocabulary (tied embeddings).
int demo_model_config(const demo *d, const demo_model *m, int vocab);
// `onerec train` of `model` on DIR/config/<dataset>.json into DIR/<run>, with a cosine schedule;
// extra1/extra2: more flags or NULL.
int demo_train(demo *d, const char *name, const char *model, const char *run, const char *dataset, int steps,
               const char *lr, const char *min_lr, const char *extra1, const char *extra2);
char *demo_final_step(const demo *d, const char *run, int steps);   // DIR/<run>/step<steps>
int demo_tokenizer_len(const demo *d, int32_t *n);                  // of DIR/tok/tokenizer.json

// The MovieLens demo (demo_movielens.c): size "tiny" or "smoke"; NULL-safe lookup.
const struct ml_size *demo_movielens_size(const char *name);
int demo_movielens_run(demo *d, const char *size, int only_report);
