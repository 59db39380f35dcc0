// libFuzzer target over tokenizer input: text to encode (Qwen3 and a byte-level tokenizer without
// normalizer, whose decode must give back the exact bytes), chat messages and tokenizer.json text.
// Built and run by tests/fuzz/run_fuzz_tokenizer.sh.
// Speed: the two real tokenizers are loaded once (LLVMFuzzerInitialize) and most inputs are text
// for them. The BPE trainer, which compiles a regex and loads its own output on every call, was a
// quarter of the inputs here and nearly all of the time (~13k execs a minute): it has its own
// target now (fuzz_bpe_train.c).
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "text/chat.h"
#include "text/tokenizer.h"

static tokenizer *qwen, *gpt2;

int LLVMFuzzerInitialize(int *argc, char ***argv) {
    (void)argc, (void)argv;
    const char *q = getenv("FUZZ_QWEN3"), *g = getenv("FUZZ_GPT2");
    if (q && tokenizer_load(&qwen, q)) fprintf(stderr, "cannot load %s\n", q), abort();
    if (g && tokenizer_load(&gpt2, g)) fprintf(stderr, "cannot load %s\n", g), abort();
    return 0;
}

static void roundtrip(const tokenizer *t, const char *s, size_t n, int exact) {
    tok_buf b = {0};
    b.want_offs = (n & 1);
    if (tokenizer_encode(t, s, n, &b)) abort();   // encoding never fails on any bytes
    char *d;
    size_t dn;
    if (tokenizer_decode(t, b.ids, b.n, 0, &d, &dn)) abort();
    if (exact && (dn != n || memcmp(d, s, n))) abort();
    free(d);
    tok_buf_free(&b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (!size) return 0;
    const char *s = (const char *)data + 1;
    size_t n = size - 1;
    int sel = data[0] & 7;   // 0: tokenizer.json, 2: chat, else text (chat options use the high bits)
    switch (sel == 0 ? 0 : sel == 2 ? 2 : 1) {
    case 0: {   // tokenizer.json
        char *js = malloc(n + 1);
        memcpy(js, s, n);
        js[n] = 0;
        tokenizer *t;
        if (!tokenizer_load_json(&t, js, n, "<fuzz>")) {
            roundtrip(t, js, n, 0);
            const char *add[] = {"<x>", "ab"};
            if (tokenizer_add_tokens(t, add, 2, 0, 1, NULL)) abort();
            roundtrip(t, "a<x>b ab", 8, 0);
            char *out;
            if (!tokenizer_to_json(t, &out)) free(out);
            tokenizer_free(t);
        }
        free(js);
        break;
    }
    case 1:   // text
        if (qwen) roundtrip(qwen, s, n, 0);
        if (gpt2) roundtrip(gpt2, s, n, 1);
        break;
    case 2: {   // chat: NUL-separated role/content pairs
        chat_msg m[8];
        size_t k = 0, i = 0;
        static const char *roles[] = {"system", "user", "assistant"};
        char *buf = malloc(n + 1);
        memcpy(buf, s, n);
        buf[n] = 0;
        while (i < n && k < 8) {
            m[k].role = roles[(uint8_t)buf[i] % 3];
            m[k].content = buf + i + 1;
            m[k].reasoning = ((uint8_t)buf[i] & 4) ? buf + i + 1 : NULL;
            i += strlen(buf + i) + 1;
            k++;
        }
        chat_opts o = {data[0] & 8, (data[0] >> 4) % 3 - 1, data[0] & 64, (data[0] & 128) ? "/no_think" : NULL};
        chat_encoded e;
        if (qwen) {
            if (chat_encode(qwen, m, k, &o, &e)) abort();
            chat_encoded_free(&e);
        } else {
            char *text;
            size_t len, ns;
            chat_span *sp;
            if (chat_render(m, k, &o, &text, &len, &sp, &ns)) abort();
            free(text), free(sp);
        }
        free(buf);
        break;
    }
    }
    return 0;
}
