// HF `tokenizer.json` byte-level BPE: load, encode, decode, added tokens, serialise.
// Supported components (anything else is a load error naming the type):
//   normalizer: null, NFC, NFD, NFKC, NFKD, Sequence
//   pre_tokenizer: null, Split (Regex or String pattern; behaviors Isolated, Removed), ByteLevel
//     (add_prefix_space, use_regex with the GPT-2 regex), Sequence
//   model: BPE (merges as "a b" strings or ["a","b"] pairs; ignore_merges, byte_fallback, unk_token,
//     fuse_unk); decoder: null, ByteLevel, Sequence of those; post_processor is ignored (we never
//     add special tokens around the text).
// Added tokens are matched atomically before BPE (leftmost, longest first); the ones with
// "normalized": false on the raw text, the others on the normalized text, as HF does. Added tokens
// with single_word, lstrip or rstrip set are rejected at load (not implemented).
// Invalid UTF-8 in the input is not an error: such bytes are never normalized and never matched by
// the pre-tokenizer regex, so they become their own pieces and are encoded as raw bytes (byte-level
// models), which decode back to the same bytes.
// Thread safety: after loading, encode/decode/lookups may be called from many threads at once
// (the merge cache is lock-striped). tokenizer_add_tokens must not run concurrently with anything.
#pragma once
#include <stddef.h>
#include <stdint.h>

typedef struct tokenizer tokenizer;

// Output of an encode call. Calls APPEND to ids (and to offs when want_offs is set: the start byte
// offset of each token in the text passed to that call; inside a stretch that normalization changed
// the offsets are interpolated). Start zeroed; release with tok_buf_free.
typedef struct {
    int32_t *ids;
    uint32_t *offs;
    size_t n, cap;
    int want_offs;
} tok_buf;

void tok_buf_free(tok_buf *b);
int tok_buf_push(tok_buf *b, int32_t id, uint32_t off);

int tokenizer_load(tokenizer **t, const char *path);
// DIR/tokenizer.json (an HF model dir's tokenizer).
int tokenizer_load_dir(tokenizer **t, const char *dir);
// `where` names the source in messages (a path, "<memory>").
int tokenizer_load_json(tokenizer **t, const char *json, size_t len, const char *where);
void tokenizer_free(tokenizer *t);

int tokenizer_encode(const tokenizer *t, const char *text, size_t len, tok_buf *out);
// Bytes of the decoded text (malloc'd, NUL-terminated). skip_special drops special added tokens.
int tokenizer_decode(const tokenizer *t, const int32_t *ids, size_t n, int skip_special, char **text,
                     size_t *len);

// len(tokenizer): the largest id (vocab or added) + 1.
int32_t tokenizer_vocab_size(const tokenizer *t);
// Exact token string as written in tokenizer.json (byte-level form, e.g. "Ġthe"); -1 when unknown.
int32_t tokenizer_token_to_id(const tokenizer *t, const char *token);
const char *tokenizer_id_to_token(const tokenizer *t, int32_t id);     // NULL when unknown
// The raw bytes this token decodes to (NULL when unknown).
const char *tokenizer_id_to_bytes(const tokenizer *t, int32_t id, size_t *len);
int tokenizer_is_special(const tokenizer *t, int32_t id);
int tokenizer_is_added(const tokenizer *t, int32_t id);

// Appends added tokens (HF add_tokens semantics: a token already in the vocabulary or already added
// keeps its id and is not added again). New ids start at tokenizer_vocab_size. normalized=0 matches
// on raw text. *n_added (may be NULL) receives the number of new ids.
int tokenizer_add_tokens(tokenizer *t, const char *const *tokens, size_t n, int special, int normalized,
                         size_t *n_added);
// The tokenizer.json text (the loaded file with the current added_tokens), malloc'd.
int tokenizer_to_json(const tokenizer *t, char **json);
int tokenizer_save(const tokenizer *t, const char *path);   // atomic
