// Vocabulary expansion: a Qwen3 HF model dir -> the same model with itemic tokens
// (`onerec vocab expand`, the reference's expand_qwen3_vocab.sh).
//
// Added, in this exact order, as ordinary (non-special, normalized) added tokens from
// len(tokenizer) on: <s_a_0>..<s_a_{K-1}>, <s_b_0>.., ..., one letter per layer, then
// <|sid_begin|>, <|sid_end|>. For Qwen3 with 3 x 8192: <s_a_0> = 151669, <|sid_end|> = 176246.
// config.json vocab_size becomes max(old vocab_size, len(tokenizer)) rounded up to `align`
// (176,384 for Qwen3); we never shrink the embedding (the reference's resize would when a small
// codebook fits into Qwen3's reserved rows).
//
// Embedding rows (and untied lm_head rows), rule VOCAB_INIT_MEAN (default):
//   rows [0, old_len) (every token of the old tokenizer) are copied bit for bit;
//   rows [old_len, new_vocab) (new tokens, Qwen3's unused reserved rows, alignment padding) are
//   mean_d + noise * sd_d * N(0,1) per dimension d, with mean/sd over rows [0, old_len).
// Rule VOCAB_INIT_HF copies the reference (transformers' mean-resizing): rows [0, old_vocab) are
//   all kept (so <s_a_0>..<s_a_266> inherit Qwen3's never-trained reserved rows), rows
//   [old_vocab, new_vocab) are mean + noise with mean/sd over rows [0, old_vocab).
// The default noise, sqrt(1e-9) = 3.16e-5 of each dimension's sd, is the scale of HF's
// N(mean, 1e-9 * covariance) (we use the diagonal); in bf16 it mostly rounds away, so new rows
// are in effect the mean. Noise is seeded per row: the result does not depend on threads.
//
// A tokenizer that already holds any of the tokens is refused (expand the base model instead):
// silently re-using ids laid out for another layers/codebook would shift every SID.
// The output is built in a temporary sibling dir and renamed into place at the end, so a failure
// leaves no half-written model.
#pragma once
#include <stddef.h>
#include <stdint.h>

typedef enum { VOCAB_INIT_MEAN = 0, VOCAB_INIT_HF = 1 } vocab_init;

typedef struct {
    int layers;             // SID digits (3)
    int codebook;           // codes per layer (8192)
    int align;              // vocab_size multiple (256)
    vocab_init init;
    double noise;           // noise std as a fraction of each dimension's sd
    uint64_t seed;
    const char *dtype;      // "F32", "BF16", "F16"; NULL: the dtype of model.embed_tokens.weight
    size_t shard_bytes;     // output shards of at most this many bytes (0: one file)
    int force;              // replace an existing output dir
} vocab_expand_opts;

typedef struct {
    int64_t old_len, new_len;       // len(tokenizer) before / after
    int64_t old_vocab, new_vocab;   // config vocab_size before / after (embedding rows)
    int64_t added;                  // tokens added (layers * codebook + 2)
    int hidden;                     // embedding width
    int untied;                     // lm_head.weight was expanded too
    int shards;                     // weight files written
} vocab_expand_result;

void vocab_expand_opts_default(vocab_expand_opts *o);
int vocab_init_parse(const char *s, vocab_init *out);   // "mean", "hf"

// The itemic token names in reference order (layers * codebook + 2 strings, one allocation:
// free(*names) releases them all). Fails when layers/codebook are out of range.
int vocab_itemic_tokens(char ***names, size_t *n, int layers, int codebook);

// Checks layers/codebook: 1..SID_MAX_LAYERS layers, codebook >= 1, SIDs that fit sid2pid keys,
// and at most 2^24 new tokens.
int vocab_check_shape(int layers, int codebook);

// Fills rows [from, rows) of w [rows, C] by the mean rule from rows [0, stat_rows):
// w[r][d] = mean_d + noise * sd_d * N(0,1), the normal drawn from rng stream (seed, r).
int vocab_init_rows(float *w, int64_t rows, int C, int64_t from, int64_t stat_rows, double noise, uint64_t seed);

// Expands model_dir into out_dir (see the top of this file). res may be NULL.
int vocab_expand(const char *model_dir, const char *out_dir, const vocab_expand_opts *o, vocab_expand_result *res);
