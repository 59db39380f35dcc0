// Item embeddings without a neural model, file to file (`onerec embed --method tfidf|cooc|mix`):
// text vectors from the captions (src/rec/embed_text.h), collaborative vectors from the training
// interactions (src/data/item_cooc.h), or both side by side. Output: the embeddings table of
// `onerec synth` (pid int64, embedding list<float>), one unit-norm row per item, in the captions'
// order (cooc without captions: in order of first appearance in the interactions), written
// atomically.
#pragma once
#include <stdint.h>

#include "data/item_cooc.h"
#include "rec/embed_text.h"

typedef enum { ITEM_EMBED_TFIDF = 0, ITEM_EMBED_COOC = 1, ITEM_EMBED_MIX = 2 } item_embed_method;

// "tfidf", "cooc", "mix" -> method; ERR_FAIL naming the choices otherwise.
int item_embed_method_parse(const char *s, item_embed_method *m);

typedef struct {
    item_embed_method method;
    const char *captions;            // pid2caption table (tfidf, mix; cooc: the items to cover, optional)
    const char *id_col, *text_col;   // "pid", "dense_caption"
    const char *raw;                 // onerec_bench_release table (cooc, mix)
    embed_text_opts text;            // dim (of each part), projection, SVD options and seed
    int window;                      // co-occurrence window (0: whole user)
    double shift;                    // PPMI shift k (1: none)
    double cds;                      // context distribution smoothing exponent (1: none)
    double alpha;                    // mix: share of the text part in the squared norm
} item_embed_opts;

void item_embed_opts_default(item_embed_opts *o);

typedef struct {
    int64_t items;
    int dim;                    // of the written vectors (mix: twice --dim)
    embed_text_stats text;      // tfidf, mix
    int64_t text_fallback;      // items with no word: random unit text vector from (seed, pid)
    cooc_read_stats cooc;       // cooc, mix
    int64_t pairs, ppmi_nnz;    // distinct co-occurring pairs; positive PPMI entries (both triangles)
    double cooc_explained;      // share of the PPMI matrix's squared Frobenius norm kept by the SVD
    int64_t cold;               // items with no positive PPMI: random vector (cooc) or text only (mix)
    double seconds;
} item_embed_stats;

// The options alone (inputs the method needs, ranges): what a command reports as a usage error.
int item_embed_check_opts(const item_embed_opts *o);

int item_embed_file(const char *out_path, const item_embed_opts *o, item_embed_stats *st);
