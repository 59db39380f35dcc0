// Beam search speed for bench/beam.sh: users/s of width-W, N-token beam search after a P-token
// history on a model dir, histories from a fixed formula (the PyTorch side uses the same).
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "base/log.h"
#include "model/qwen3.h"
#include "rec/generate.h"

int main(int argc, char **argv) {
    if (argc < 6) {
        fprintf(stderr, "usage: beam_bench MODEL_DIR USERS WIDTH STEPS HISTORY\n");
        return 2;
    }
    int users = atoi(argv[2]), W = atoi(argv[3]), N = atoi(argv[4]), P = atoi(argv[5]);
    qwen3_model m;
    if (qwen3_load_dir(&m, argv[1])) {
        fprintf(stderr, "%s\n", err_msg());
        return 1;
    }
    int32_t *prompt = malloc((size_t)P * sizeof(int32_t));
    beam_params bp = {W, N, NULL, NULL};
    double best = 0, total = 0;
    float checksum = 0;
    for (int u = 0; u <= users; u++) {   // user 0 warms up
        for (int i = 0; i < P; i++) prompt[i] = (int32_t)(((int64_t)i * 7919 + (int64_t)u * 104729) % m.cfg.vocab);
        qwen3_kv *kv;
        if (qwen3_kv_init(&kv, &m, gen_kv_tokens_beam(P, W, N))) return 1;
        beam_result r;
        double t0 = time_now();
        if (gen_beam(&m, kv, prompt, P, &bp, &r)) {
            fprintf(stderr, "%s\n", err_msg());
            return 1;
        }
        double dt = time_now() - t0;
        if (u) total += dt, checksum += r.scores[0];
        best = u == 1 || dt < best ? dt : best;
        beam_result_free(&r);
        qwen3_kv_free(kv);
    }
    printf("ours users_per_s=%.3f best_s=%.4f top_score_sum=%.4f\n", users / total, best, checksum);
    free(prompt);
    qwen3_model_free(&m);
    return 0;
}
