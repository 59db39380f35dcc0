// Private parts of the tokenizer shared by tok_load.c, tok_encode.c and the trainer.
#pragma once
#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include "text/tokenizer.h"

// The GPT-2 pre-tokenizer regex (ByteLevel with use_regex) and the Qwen2/3 Split regex.
#define TOK_GPT2_REGEX "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+"
#define TOK_QWEN_REGEX                                                                          \
    "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|" \
    "\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+"

// Hash of a byte string (FNV-1a 64, then mixed).
uint64_t tok_hash(const void *p, size_t n);

// byte <-> GPT-2 "bytes_to_unicode" code point.
extern uint32_t tok_byte_to_cp[256];
extern int16_t tok_cp_to_byte[512];   // -1 when the code point is not a byte-level char
void tok_bytelevel_init(void);
// UTF-8 of byte b's byte-level char into out (2 bytes max); returns its length.
int tok_bytelevel_char(uint8_t b, char *out);
// Byte-level string -> raw bytes; returns length or -1 if a char is outside the byte-level alphabet.
long tok_bytelevel_decode(const char *s, size_t n, char *out);

// Length of the valid UTF-8 sequence at s (1..4) or 0 when invalid (overlong, surrogate, > U+10FFFF).
int tok_utf8_len(const unsigned char *s, size_t n, uint32_t *cp);

// Open-addressing map: byte string -> int32. Keys point into storage owned elsewhere.
typedef struct {
    const char *k;
    uint32_t klen;
    int32_t val;
    uint64_t h;
} strmap_slot;
typedef struct {
    strmap_slot *slots;
    size_t cap, n;
} strmap;
int strmap_reserve(strmap *m, size_t n);                              // room for n keys
int strmap_put(strmap *m, const char *k, size_t klen, int32_t val);   // overwrites
int32_t strmap_get(const strmap *m, const char *k, size_t klen);      // -1 when absent
void strmap_free(strmap *m);

// Pair of ids -> (rank, merged id).
typedef struct {
    uint64_t key;   // (a << 32) | b, UINT64_MAX = empty
    int32_t rank, id;
} merge_slot;

enum { NORM_NFC = 1, NORM_NFD, NORM_NFKC, NORM_NFKD };
enum { PT_SPLIT = 1, PT_BYTELEVEL };
enum { SPLIT_ISOLATED = 1, SPLIT_REMOVED };

typedef struct {
    int kind;
    pcre2_code *re;     // NULL: ByteLevel without regex
    int behavior, invert;
    int add_prefix_space;
} pt_step;

typedef struct {
    char *content;      // as given in tokenizer.json
    char *match;        // what is matched (normalized content for normalized tokens)
    int32_t id;
    uint8_t special, normalized, single_word, lstrip, rstrip;
} added_tok;

// Leftmost-longest matcher over a set of strings.
typedef struct {
    strmap map;
    uint8_t first[256];
    uint32_t *lens;     // distinct lengths, descending
    size_t nlens;
} tok_matcher;

#define TOK_CACHE_STRIPES 64
#define TOK_CACHE_SLOTS 2048       // per stripe
#define TOK_CACHE_MAXKEY 160       // longer words are not cached
typedef struct {
    uint64_t h;
    uint16_t klen, nids;
    char *block;                   // key bytes then int32 ids
} cache_slot;
typedef struct {
    pthread_mutex_t mu;
    cache_slot *slots;             // TOK_CACHE_SLOTS, allocated on first insert
} cache_stripe;

struct tokenizer {
    char *where;
    char *json;                    // the loaded text, for serialisation
    size_t json_len;
    // ids
    int32_t nid;                   // max id + 1
    size_t id_cap;
    char **id_str;                 // token string as in tokenizer.json
    char **id_bytes;               // decoded bytes
    uint32_t *id_blen;
    uint8_t *id_flags;             // TOKF_*
    strmap str2id;                 // tokenizer.json string -> id (vocab and added)
    strmap vocab_key;              // model-internal form (raw bytes when byte-level) -> vocab id
    merge_slot *merges;
    size_t merge_cap;
    int32_t byte_id[256];          // byte-level initial symbols (-1 when missing)
    int32_t fallback_id[256];      // <0xXX> for byte_fallback (-1 when missing)
    int bytelevel, ignore_merges, byte_fallback, fuse_unk;
    int id_bytelevel_ok;           // scratch: the last tok_set_id decoded as byte-level
    int32_t unk_id;
    // pipeline
    int norm[8], nnorm;
    pt_step steps[8];
    int nsteps;
    int dec_bytelevel, dec_none;
    // added tokens
    added_tok *added;
    size_t nadded, added_cap;
    tok_matcher m_raw, m_norm;
    // word cache
    cache_stripe *cache;
};

#define TOKF_VOCAB 1
#define TOKF_ADDED 2
#define TOKF_SPECIAL 4

int tok_set_id(tokenizer *t, int32_t id, const char *str, size_t slen, int flags);
int tok_matcher_rebuild(tokenizer *t);
// Applies the normalizer to s[0..n) (valid UTF-8 runs only); *out malloc'd. Returns 0.
// 0 when the normalizer provably leaves s unchanged (a fast pre-check; 1 means "maybe").
int tok_needs_norm(const tokenizer *t, const char *s, size_t n);
int tok_normalize(const tokenizer *t, const char *s, size_t n, char **out, size_t *outn);
int tok_cache_init(tokenizer *t);
// Runs added-token splitting, normalization and pre-tokenization, handing each word to cb
// (added tokens themselves are skipped). Used by the BPE trainer.
int tok_pretokenize(const tokenizer *t, const char *text, size_t len, int (*cb)(void *, const char *, size_t),
                    void *ud);
void tok_cache_free(tokenizer *t);
