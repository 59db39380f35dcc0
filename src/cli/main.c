// onerec: one command, one subcommand per pipeline step. Each subcommand lives in its own
// cmd_*.c file. The declarations are strong on purpose: a command named here but misspelt or not
// built is a link error, never a table entry that silently does nothing.
#include <stdio.h>
#include <string.h>

#include "base/log.h"

typedef int (*cmd_fn)(int argc, char **argv);

#define DECLARE(fn) int fn(int argc, char **argv);
DECLARE(cmd_demo)
DECLARE(cmd_synth)
DECLARE(cmd_embed)
DECLARE(cmd_sid)
DECLARE(cmd_vocab)
DECLARE(cmd_tokenizer)
DECLARE(cmd_parquet)
DECLARE(cmd_data)
DECLARE(cmd_init)
DECLARE(cmd_score)
DECLARE(cmd_train)
DECLARE(cmd_convert)
DECLARE(cmd_generate)
DECLARE(cmd_test_model)
DECLARE(cmd_distill)
DECLARE(cmd_rl)
DECLARE(cmd_eval)
DECLARE(cmd_recommend)
DECLARE(cmd_baseline)
DECLARE(cmd_serve)

static const struct {
    const char *name;
    cmd_fn fn;
    const char *help;
} COMMANDS[] = {
    {"demo", cmd_demo, "run the whole pipeline on the built-in synthetic world"},
    {"synth", cmd_synth, "write a synthetic RecIF world (raw parquet, captions, embeddings)"},
    {"embed", cmd_embed, "item embeddings from captions with a Qwen3 model"},
    {"sid", cmd_sid, "semantic IDs: residual k-means train / encode"},
    {"vocab", cmd_vocab, "expand a Qwen3 model dir with itemic tokens"},
    {"tokenizer", cmd_tokenizer, "train / encode / decode with an HF tokenizer.json"},
    {"parquet", cmd_parquet, "inspect parquet files: schema, head, count, cat"},
    {"data", cmd_data, "convert RecIF raw data into task tables, shard, prepare RL/distill"},
    {"init", cmd_init, "write a randomly initialised Qwen3 HF model dir"},
    {"score", cmd_score, "log-probabilities of token-id lines (perplexity)"},
    {"train", cmd_train, "stage 1 / stage 2 / SFT training"},
    {"convert", cmd_convert, "checkpoint -> HF model dir (bf16 safetensors)"},
    {"generate", cmd_generate, "generate text from a prompt or chat"},
    {"test-model", cmd_test_model, "print generations for fixed test prompts"},
    {"distill", cmd_distill, "on-policy distillation against a teacher"},
    {"rl", cmd_rl, "reinforcement learning (GRPO, DAPO, GPG, PPO)"},
    {"eval", cmd_eval, "RecIF-Bench evaluation"},
    {"recommend", cmd_recommend, "recommend items for a history"},
    {"baseline", cmd_baseline, "popularity / item-kNN / SASRec baselines"},
    {"serve", cmd_serve, "HTTP recommendation server with batched beams"},
};

static cmd_fn lookup(const char *name) {
    for (size_t i = 0; i < sizeof COMMANDS / sizeof COMMANDS[0]; i++)
        if (!strcmp(COMMANDS[i].name, name)) return COMMANDS[i].fn;
    return NULL;
}

static void usage(FILE *out) {
    fprintf(out, "usage: onerec COMMAND [options]   (onerec COMMAND --help for its options)\n\ncommands:\n");
    for (size_t i = 0; i < sizeof COMMANDS / sizeof COMMANDS[0]; i++)
        fprintf(out, "  %-12s %s\n", COMMANDS[i].name, COMMANDS[i].help);
}

int main(int argc, char **argv) {
    if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
        usage(argc < 2 ? stderr : stdout);
        return argc < 2 ? 2 : 0;
    }
    if (!strcmp(argv[1], "--quiet") || !strcmp(argv[1], "-q")) {
        log_set_level(LOG_WARN);
        argv++;
        argc--;
        if (argc < 2) {
            usage(stderr);
            return 2;
        }
    }
    cmd_fn fn = lookup(argv[1]);
    if (!fn) {
        fprintf(stderr, "onerec: unknown command \"%s\"\n", argv[1]);
        usage(stderr);
        return 2;
    }
    return fn(argc - 1, argv + 1);
}
