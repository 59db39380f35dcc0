// Item embeddings from caption text without a neural model: TF-IDF over words, then LSA (a
// truncated SVD, src/rec/svd.h) or a random projection to a few dozen dimensions, L2-normalised
// (`onerec embed --method tfidf`). Same text, same options: same vectors.
//
// Words: maximal runs of Unicode letters and digits (categories L* and N*), lowercased, so
// "Adventure|Animation" gives "adventure", "animation"; a Han, kana or other CJK ideograph is a word
// of its own (those scripts put no spaces between words). Everything else separates words.
// Weights are those of scikit-learn's TfidfVectorizer(sublinear_tf=True, smooth_idf=True): tf =
// 1 + ln(count), idf = ln((1 + n) / (1 + df)) + 1, each row scaled to unit L2 norm.
#pragma once
#include <stddef.h>
#include <stdint.h>

#include "rec/svd.h"

#define TEXT_WORD_MAX 256   // bytes; longer runs are cut there

// Calls fn once per word of s (lowercased UTF-8, NUL-terminated, valid until fn returns); stops
// and returns fn's status when it is non-zero.
int text_words(const char *s, size_t len, int (*fn)(void *ctx, const char *word, size_t n), void *ctx);

typedef struct {
    csr_mat x;        // [docs, terms] TF-IDF, rows unit-norm (an empty text: an empty row)
    char **terms;     // [n_terms], in order of first appearance
    float *idf;       // [n_terms]
    int64_t n_terms;
    int64_t empty;    // texts with no word
} tfidf_model;

// texts [n] (NULL = empty); lens [n] may be NULL for NUL-terminated texts.
int tfidf_build(tfidf_model *m, const char *const *texts, const size_t *lens, int64_t n);
void tfidf_free(tfidf_model *m);

typedef enum { TEXT_PROJ_SVD = 0, TEXT_PROJ_RANDOM = 1 } text_projection;

typedef struct {
    int dim;                      // 64
    text_projection projection;   // SVD
    svd_opts svd;                 // seed also seeds the random projection
} embed_text_opts;

void embed_text_opts_default(embed_text_opts *o);

typedef struct {
    int64_t docs, terms, nnz, empty;
    double explained;   // share of the TF-IDF matrix's squared Frobenius norm kept by the SVD
} embed_text_stats;

// out [n, dim]: the LSA vectors U S (or the projected TF-IDF rows), not yet normalised (see
// embed_rows_normalize). dim must be at most min(n, distinct words).
int embed_text_tfidf(float *out, const char *const *texts, const size_t *lens, int64_t n, const embed_text_opts *o,
                     embed_text_stats *st);

// Scales each row of x [n, d] to unit L2 norm. A row that is (numerically) zero gets a random unit
// vector drawn from (seed, pids[i]) instead, so an item without signal still gets a distinct,
// reproducible code (pids NULL: it stays zero); returns how many rows were zero.
int64_t embed_rows_normalize(float *x, int64_t n, int d, const int64_t *pids, uint64_t seed);
