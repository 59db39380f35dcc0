// onerec score: per-token log-probabilities of token-id lines (and so perplexity).
#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "base/err.h"
#include "base/log.h"
#include "base/mem.h"
#include "cli/args.h"
#include "model/qwen3.h"

typedef struct {
    int *tok;
    int n;
} line_t;

// Parses space-separated non-negative ids; returns the count or ERR_FAIL.
static int parse_line(const char *s, int lineno, int vocab, int **out) {
    int cap = 16, n = 0;
    int *v = mem_alloc((size_t)cap * sizeof(int));
    if (!v) return ERR_FAIL;
    const char *p = s;
    while (*p) {
        while (*p && isspace((unsigned char)*p)) p++;
        if (!*p) break;
        char *end;
        long x = strtol(p, &end, 10);
        if (end == p || (*end && !isspace((unsigned char)*end)) || x < 0 || x >= vocab) {
            free(v);
            return err_set("stdin line %d: \"%.*s\" is not a token id in [0, %d)", lineno,
                           (int)strcspn(p, " \t\r\n"), p, vocab);
        }
        if (n == cap) {
            int *nv = mem_realloc(v, (size_t)(cap *= 2) * sizeof(int));
            if (!nv) {
                free(v);
                return ERR_FAIL;
            }
            v = nv;
        }
        v[n++] = (int)x;
        p = end;
    }
    *out = v;
    return n;
}

// Scores lines [0, n) packed into one row of T tokens and prints their log-probs.
static int score_pack(const qwen3_model *m, qwen3_acts **acts, int *acts_T, line_t *lines, int n, int T,
                      double *sum_lp, long *count) {
    if (*acts_T != T) {
        qwen3_acts_free(*acts);
        *acts = NULL;
        if (qwen3_acts_init(acts, m, 1, T, 0)) return ERR_FAIL;
        *acts_T = T;
    }
    const int **seqs = mem_alloc((size_t)n * sizeof *seqs);
    int *lens = mem_alloc((size_t)n * sizeof *lens);
    float *lp = mem_alloc((size_t)T * sizeof *lp);
    int rc = seqs && lens && lp ? 0 : ERR_FAIL;
    for (int i = 0; !rc && i < n; i++) seqs[i] = lines[i].tok, lens[i] = lines[i].n;
    if (!rc) rc = qwen3_score_packed(m, *acts, seqs, lens, n, T, lp);
    for (int i = 0, t = 0; !rc && i < n; i++) {
        for (int j = 0; j < lines[i].n; j++, t++) {
            if (j + 1 >= lines[i].n) continue;
            printf(j ? " %.6f" : "%.6f", lp[t]);
            *sum_lp += lp[t];
            (*count)++;
        }
        putchar('\n');
    }
    free(seqs), free(lens), free(lp);
    return rc;
}

int cmd_score(int argc, char **argv) {
    char *model = NULL;
    int max_tokens = 2048;
    arg_spec specs[] = {{"model", ARG_STR, &model, "HF model dir (config.json + safetensors)", 1},
                        {"max-tokens", ARG_INT, &max_tokens, "tokens per forward pass (lines are packed)", 0},
                        {0}};
    int r = args_parse(argc, argv, specs, "onerec score --model DIR < ids.txt",
                       "Reads lines of space-separated token ids on stdin; prints per line the log-probability "
                       "of each token given the ones before it (first token omitted). The mean negative "
                       "log-prob and perplexity go to stderr.",
                       NULL, 0, NULL);
    if (r) return r < 0 ? 2 : 0;
    if (max_tokens < 1) {
        err_set("--max-tokens must be positive");
        return cli_fail("score");
    }
    qwen3_model m;
    double t0 = time_now();
    if (qwen3_load_dir(&m, model)) return cli_fail("score");
    log_info("score: loaded %s (%.1fM parameters) in %.1fs", model, m.n_params / 1e6, time_now() - t0);
    qwen3_acts *acts = NULL;
    int acts_T = 0, rc = 0, lineno = 0, npack = 0, ntok = 0, cap = 64;
    line_t *pack = mem_alloc((size_t)cap * sizeof *pack);
    if (!pack) rc = ERR_FAIL;
    char *buf = NULL;
    size_t bcap = 0;
    double sum_lp = 0;
    long count = 0;
    t0 = time_now();
    long total_tok = 0;
    while (!rc && getline(&buf, &bcap, stdin) >= 0) {
        lineno++;
        line_t ln;
        ln.n = parse_line(buf, lineno, m.cfg.vocab, &ln.tok);
        if (ln.n < 0) {
            rc = ERR_FAIL;
            break;
        }
        total_tok += ln.n;
        // flush when this line would overflow the row (a longer line gets a row of its own length)
        if (npack && ntok + ln.n > max_tokens) {
            rc = score_pack(&m, &acts, &acts_T, pack, npack, max_tokens > ntok ? max_tokens : ntok, &sum_lp, &count);
            for (int i = 0; i < npack; i++) free(pack[i].tok);
            npack = ntok = 0;
        }
        line_t *grown = npack == cap ? mem_realloc(pack, (size_t)(cap *= 2) * sizeof *pack) : pack;
        if (!grown) {
            free(ln.tok);
            rc = ERR_FAIL;
            break;
        }
        pack = grown;
        pack[npack++] = ln;
        ntok += ln.n;
    }
    if (!rc && npack) {
        // the last pack is scored at its own length: no padding work for a single short input
        rc = score_pack(&m, &acts, &acts_T, pack, npack, ntok > 0 ? ntok : 1, &sum_lp, &count);
    }
    for (int i = 0; i < npack; i++) free(pack[i].tok);
    free(pack);
    free(buf);
    qwen3_acts_free(acts);
    qwen3_model_free(&m);
    if (rc) return cli_fail("score");
    double dt = time_now() - t0;
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    log_info("score: %d lines, %ld tokens in %.2fs (%.1f tokens/s); mean nll %.4f, perplexity %.3f; peak memory "
             "%.1f MiB",
             lineno, total_tok, dt, total_tok / (dt > 0 ? dt : 1), count ? -sum_lp / count : 0.0,
             count ? exp(-sum_lp / count) : 0.0, ru.ru_maxrss / 1024.0);
    return 0;
}
