// Item embeddings from text with any Qwen3 model, the way Qwen3-Embedding computes them: the text
// with no instruction, `<|endoftext|>` appended (its tokenizer's post-processor does this), the
// final-norm hidden state of that last token, L2-normalised (`onerec embed`).
//
// Batching packs the texts of a batch into ONE row, each text its own segment (attention stays
// inside a segment, positions restart at 0), so there is no padding to mask and a text's
// embedding does not depend on the others in its batch.
// Truncation keeps the first max_length - 1 tokens of a text, then appends the end token (as HF
// truncation does when the post-processor adds it).
#pragma once
#include <stddef.h>
#include <stdint.h>

typedef struct {
    int batch;                 // texts per forward pass (32)
    int max_length;            // tokens per text including the appended end token (512)
    const char *end_token;     // "<|endoftext|>"; NULL or "": append nothing
    int normalize;             // L2-normalise (1)
} embed_opts;

void embed_opts_default(embed_opts *o);

typedef struct embedder embedder;

// Loads DIR/config.json + weights and DIR/tokenizer.json.
int embedder_open(embedder **e, const char *model_dir, const embed_opts *o);
void embedder_close(embedder *e);
int embedder_dim(const embedder *e);

// The token ids a text is embedded from (truncated, end token appended): *ids malloc'd.
int embedder_tokenize(const embedder *e, const char *text, size_t len, int32_t **ids, int *n);
// out [n, C]: embeddings of n texts (lens may be NULL: NUL-terminated), in batches of o->batch
int embedder_embed_texts(embedder *e, float *out, const char *const *texts, const size_t *lens, int n);

typedef struct {
    int64_t rows;       // items embedded
    int64_t tokens;     // tokens through the model
    int64_t empty;      // null or empty captions (embedded as the end token alone)
    int64_t truncated;  // captions cut to max_length
    int dim;
    double seconds;        // the whole call
    double load_seconds;   // model + tokenizer loading
    double embed_seconds;  // tokenizing + forward passes + writing
} embed_stats;

// Parquet in (id_col int64/int32, text_col string) -> Parquet out (`pid` int64, `embedding`
// list<float>), streamed in batches with a progress bar; the output appears only when complete.
int embed_file(const char *model_dir, const char *in_path, const char *out_path, const char *id_col,
               const char *text_col, const embed_opts *o, embed_stats *st);
