// libFuzzer target over the BPE trainer (src/text/bpe_train.c): the first byte sets the asked
// vocabulary (261..324 tokens) and the minimum pair frequency, the rest is the corpus. A trained
// tokenizer always loads, says how many tokens it holds (no more than asked) and encodes its own
// corpus. Its own target because each call compiles the pre-tokenizer regex and loads its output
// (milliseconds under ASan): inside fuzz_tokenizer it took nearly all of that target's time.
// Built and run by tests/fuzz/run_fuzz_tokenizer.sh.
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "text/bpe_train.h"
#include "text/tokenizer.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (!size) return 0;
    const char *s = (const char *)data + 1;
    size_t n = size - 1 > 1024 ? 1024 : size - 1;
    bpe_train_opts o = {261 + (data[0] & 63), 1 + (data[0] >> 6) % 2, 0};
    char *js;
    int got = 0;
    if (bpe_train(s, n, &o, &js, &got)) return 0;
    if (got < 261 || got > o.vocab_size) abort();
    tokenizer *t;
    if (tokenizer_load_json(&t, js, strlen(js), "<trained>")) abort();   // our output always loads
    if (tokenizer_vocab_size(t) != got) abort();
    tok_buf b = {0};
    if (tokenizer_encode(t, s, n, &b)) abort();
    tok_buf_free(&b);
    tokenizer_free(t);
    free(js);
    return 0;
}
