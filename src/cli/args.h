// Command-line flags for the cmd_*.c files: "--name value", "--name=value", booleans as "--name".
// Unknown flags, missing values and malformed numbers are errors naming the flag.
#pragma once
#include <cjson/cJSON.h>
#include <stdint.h>

typedef enum { ARG_STR, ARG_INT, ARG_I64, ARG_FLOAT, ARG_DOUBLE, ARG_BOOL } arg_kind;

typedef struct {
    const char *name;     // without the leading "--"
    arg_kind kind;
    void *dst;            // char**, int*, int64_t*, float*, double*, int* (bool)
    const char *help;     // one line; the default is shown from *dst
    int required;
} arg_spec;

// Positional arguments are collected into pos[] (up to max_pos). Returns 0 to go on, 1 when
// --help was printed (exit 0), -1 after printing an error (exit 2).
int args_parse(int argc, char **argv, const arg_spec *specs, const char *usage, const char *summary,
               char **pos, int max_pos, int *npos);
void args_print_help(const arg_spec *specs, const char *usage, const char *summary);
// The flags' values after parsing, as a JSON object (the args.json of training runs).
cJSON *args_to_json(const arg_spec *specs);
// Print "onerec <cmd>: error: <err_msg()>" and return the exit code: 2 for a usage error
// (err_usage: a flag's value out of range), 1 for anything else.
int cli_fail(const char *cmd);

// The optimizer flags of the post-training commands (rl, distill), for an args struct `a` with the
// fields lr, min_lr, warmup, weight_decay and max_grad_norm. (train keeps the reference's names.)
#define ARG_SPECS_OPTIMIZER(a)                                                        \
    {"lr", ARG_DOUBLE, &(a).lr, "learning rate", 0},                                  \
    {"min-lr", ARG_DOUBLE, &(a).min_lr, "final learning rate (cosine)", 0},           \
    {"warmup", ARG_INT, &(a).warmup, "warmup steps", 0},                              \
    {"weight-decay", ARG_FLOAT, &(a).weight_decay, "AdamW weight decay", 0},          \
    {"max-grad-norm", ARG_DOUBLE, &(a).max_grad_norm, "gradient clipping", 0}
