// Encode throughput of our tokenizer on a text file, the way tests/ref/tok_ref.js --bench measures
// HF: chunks of 64 lines joined by '\n', one encode call each, one thread.
// usage: build/bench/tokenizer_bench TOKENIZER.json TEXTFILE   -> one JSON line
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/err.h"
#include "base/file.h"
#include "base/log.h"
#include "text/tokenizer.h"

int main(int argc, char **argv) {
    if (argc != 3) {
        fprintf(stderr, "usage: %s TOKENIZER.json TEXTFILE\n", argv[0]);
        return 2;
    }
    double t0 = time_now();
    tokenizer *t;
    if (tokenizer_load(&t, argv[1])) {
        fprintf(stderr, "%s\n", err_msg());
        return 1;
    }
    double load = time_now() - t0;
    char *text;
    size_t n;
    if (file_read_all(argv[2], &text, &n)) {
        fprintf(stderr, "%s\n", err_msg());
        return 1;
    }
    tok_buf b = {0};
    size_t ntok = 0;
    struct timespec c0, c1;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &c0);
    t0 = time_now();
    for (size_t i = 0; i < n;) {
        size_t j = i;
        for (int lines = 0; j < n && lines < 64; j++)
            if (text[j] == '\n' && ++lines == 64) break;
        b.n = 0;
        if (tokenizer_encode(t, text + i, j - i, &b)) {
            fprintf(stderr, "%s\n", err_msg());
            return 1;
        }
        ntok += b.n;
        i = j + 1;
    }
    double s = time_now() - t0;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &c1);
    double cpu = (double)(c1.tv_sec - c0.tv_sec) + (c1.tv_nsec - c0.tv_nsec) * 1e-9;
    printf("{\"load_s\": %.4f, \"encode_s\": %.4f, \"mb_s\": %.3f, \"cpu_s\": %.4f, \"cpu_mb_s\": %.3f, \"tokens\": %zu}\n",
           load, s, n / 1e6 / s, cpu, n / 1e6 / cpu, ntok);
    tok_buf_free(&b);
    tokenizer_free(t);
    free(text);
    return 0;
}
