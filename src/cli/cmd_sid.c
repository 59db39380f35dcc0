// onerec sid train | encode: residual k-means semantic IDs from item embeddings.
// Embeddings come from Parquet (a list<float|double> column, optional int64 `pid`) or .npy
// (float32/float64 [n, d], pid = row number); codebooks are safetensors; pid2sid is Parquet
// (`pid` int64, `sid` list<int32>) or .tsv (pid, SID string). Formats: docs/sid.md.
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/err.h"
#include "base/log.h"
#include "base/outdir.h"
#include "base/threads.h"
#include "cli/args.h"
#include "data/pidmap.h"
#include "data/pid2sid.h"
#include "rec/codebook.h"
#include "rec/embsrc.h"
#include "rec/sid_encode.h"

static int sid_train(int argc, char **argv) {
    char *emb = NULL, *column = "embedding", *pidcol = "pid", *out = NULL, *init = "sample";
    int layers = 3, k = 8192, iters = 20, ppc = 256, threads = 0, quiet = 0;
    int64_t seed = 42;
    arg_spec specs[] = {
        {"embeddings", ARG_STR, &emb, "item embeddings: .parquet (list<float> column) or .npy [n, d]", 1},
        {"column", ARG_STR, &column, "embedding column (Parquet)", 0},
        {"pid-column", ARG_STR, &pidcol, "item id column (Parquet; unused for training)", 0},
        {"layers", ARG_INT, &layers, "residual layers (SID digits)", 0},
        {"codebook", ARG_INT, &k, "codes per layer", 0},
        {"iters", ARG_INT, &iters, "Lloyd iterations per layer", 0},
        {"seed", ARG_I64, &seed, "random seed (initial centres, subsample, empty-cluster repair)", 0},
        {"init", ARG_STR, &init, "initial centres: sample (k random items, like faiss) or kmeans++", 0},
        {"max-points-per-centroid", ARG_INT, &ppc, "train each layer on at most codebook*N random items (faiss: 256); 0 = all", 0},
        {"threads", ARG_INT, &threads, "threads (0 = OMP_NUM_THREADS or all cores)", 0},
        {"quiet", ARG_BOOL, &quiet, "no per-iteration log", 0},
        {"out", ARG_STR, &out, "codebook file to write (.safetensors)", 1},
        {0},
    };
    int a = args_parse(argc, argv, specs, "onerec sid train --embeddings FILE --out CODEBOOK [options]",
                       "Residual k-means: one k-means per layer on the residual of the layers before.", NULL, 0, NULL);
    if (a) return a > 0 ? 0 : 2;
    if (outdir_prepare_file(out)) return cli_fail("sid train");
    threads_set(threads);
    kmeans_options ko;
    kmeans_options_default(&ko);
    ko.max_points_per_centroid = ppc;
    ko.verbose = !quiet;
    if (kmeans_init_parse(init, &ko.init)) return cli_fail("sid train");
    if (layers < 1 || layers > RQ_MAX_LAYERS || k < 1 || iters < 0 || ppc < 0) {
        err_set("--layers must be 1..%d, --codebook >= 1, --iters >= 0, --max-points-per-centroid >= 0", RQ_MAX_LAYERS);
        return cli_fail("sid train");
    }
    embsrc s;
    if (embsrc_open(&s, emb, column, pidcol)) return cli_fail("sid train");
    if (s.n < k) {
        err_set("embeddings %s: %lld items cannot fill a codebook of %d codes: give at least %d items or a smaller --codebook",
                emb, (long long)s.n, k, k);
        embsrc_close(&s);
        return cli_fail("sid train");
    }
    float *x;
    int64_t n;
    double t0 = time_now();
    int rc = embsrc_read_all(&s, &x, &n);
    int d = s.d;
    embsrc_close(&s);
    if (rc) return cli_fail("sid train");
    log_info("sid train: %lld items x %d dims read in %.1f s; %d layers x %d codes, %d iterations, %d threads", (long long)n, d,
             time_now() - t0, layers, k, iters, omp_get_max_threads());
    rq_codebook cb;
    rq_stats st;
    t0 = time_now();
    clock_t cpu0 = clock();   // process CPU time over all threads: a figure that survives a busy machine
    rc = rqkmeans_train_inplace(&cb, x, n, d, layers, k, iters, (uint64_t)seed, &ko, &st);
    free(x);
    if (rc) return cli_fail("sid train");
    double secs = time_now() - t0, cpu = (double)(clock() - cpu0) / CLOCKS_PER_SEC;
    rq_codebook_meta meta = {.iters = iters, .seed = seed, .init = init, .max_points_per_centroid = ppc,
                             .train_items = n, .rel_error = st.rel_error};
    rc = rq_codebook_save(out, &cb, &meta);
    rq_codebook_free(&cb);
    if (rc) return cli_fail("sid train");
    printf("items=%lld dim=%d layers=%d codebook=%d iters=%d seconds=%.3f cpu_seconds=%.3f\n", (long long)n, d, layers, k,
           iters, secs, cpu);
    printf("train_mse=%.6g train_rel_error=%.6g\n", st.mse, st.rel_error);
    for (int l = 0; l < layers; l++)
        printf("layer %c: objective=%.6g train_points=%lld empty_repaired=%d seconds=%.3f\n", 'a' + l, st.layer[l].objective,
               (long long)st.layer[l].n_train, st.layer[l].empty_repaired, st.layer[l].seconds);
    printf("codebook=%s\n", out);
    return 0;
}

// ---------------- encode ----------------

static void print_collisions(const char *tag, const sid_collision_stats *c, int L, int k) {
    printf("%s: collision_rate=%.6f unique_sids=%lld colliding_items=%lld collision_groups=%lld largest_group=%lld\n", tag,
           c->collision_rate, (long long)c->unique, (long long)c->colliding_items, (long long)c->groups,
           (long long)c->largest_group);
    printf("%s: codebook_use", tag);
    for (int l = 0; l < L; l++) printf(" %c=%lld/%d", 'a' + l, (long long)c->used[l], k);
    printf("\n");
}

static void print_encoding(const sid_encoding *e, const rq_codebook *cb, sid_dedup mode, const char *out) {
    int64_t n = e->n;
    int d = cb->d, k = cb->k;
    printf("items=%lld dim=%d layers=%d codebook=%d seconds=%.3f\n", (long long)n, d, cb->layers, k, e->seconds);
    printf("mse=%.6g rel_error=%.6g\n", n ? e->se / ((double)n * d) : 0.0, e->sx > 0 ? e->se / e->sx : 0.0);
    print_collisions("before_dedup", &e->before, cb->layers, k);
    if (mode != SID_DEDUP_NONE) {
        printf("dedup=%s moved=%lld sid_length=%d\n", sid_dedup_name(mode), (long long)e->moved, e->layers);
        if (mode == SID_DEDUP_BALANCE)
            printf("after_dedup: mse=%.6g rel_error=%.6g\n", n ? e->se_after / ((double)n * d) : 0.0,
                   e->sx > 0 ? e->se_after / e->sx : 0.0);
        print_collisions("after_dedup", &e->after, e->layers, k);
    }
    printf("pid2sid=%s\n", out);
}

static int sid_encode(int argc, char **argv) {
    char *cbpath = NULL, *emb = NULL, *column = "embedding", *pidcol = "pid", *out = NULL, *dedup_s = "none";
    int threads = 0;
    arg_spec specs[] = {
        {"codebook", ARG_STR, &cbpath, "codebook from onerec sid train (.safetensors)", 1},
        {"embeddings", ARG_STR, &emb, "item embeddings: .parquet or .npy", 1},
        {"column", ARG_STR, &column, "embedding column (Parquet)", 0},
        {"pid-column", ARG_STR, &pidcol, "item id column (Parquet; absent: the row number)", 0},
        {"dedup", ARG_STR, &dedup_s, "collisions: none, digit (extra 4th code) or balance (move to free last-level codes)", 0},
        {"threads", ARG_INT, &threads, "threads (0 = OMP_NUM_THREADS or all cores)", 0},
        {"out", ARG_STR, &out, "pid2sid file: .parquet (pid int64, sid list<int32>) or .tsv", 1},
        {0},
    };
    int a = args_parse(argc, argv, specs, "onerec sid encode --codebook C --embeddings FILE --out pid2sid.parquet [options]",
                       "Encode items with a residual k-means codebook, streaming; prints a quality report.", NULL, 0, NULL);
    if (a) return a > 0 ? 0 : 2;
    if (outdir_prepare_file(out)) return cli_fail("sid encode");
    threads_set(threads);
    sid_dedup mode;
    if (sid_dedup_parse(dedup_s, &mode)) return cli_fail("sid encode");
    rq_codebook cb;
    if (rq_codebook_load(&cb, cbpath)) return cli_fail("sid encode");
    embsrc s;
    if (embsrc_open(&s, emb, column, pidcol)) {
        rq_codebook_free(&cb);
        return cli_fail("sid encode");
    }
    sid_encoding e;
    int rc = s.d == cb.d ? sid_encode_stream(&e, &s, &cb, mode)
                         : err_set("embeddings %s have %d dims but codebook %s was trained on %d", emb, s.d, cbpath, cb.d);
    if (!rc) {
        rc = pid_check_unique(e.pid, e.n, emb);   // one pid with two SIDs would mislead every map after
        if (!rc) rc = pid2sid_write(out, e.pid, e.codes, e.n, e.layers);
        if (!rc) print_encoding(&e, &cb, mode, out);
        sid_encoding_free(&e);
    }
    embsrc_close(&s);
    rq_codebook_free(&cb);
    return rc ? cli_fail("sid encode") : 0;
}

int cmd_sid(int argc, char **argv) {
    if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
        printf("usage: onerec sid train|encode [options]  (see onerec sid train --help)\n"
               "  train   residual k-means codebook from item embeddings\n"
               "  encode  item embeddings -> pid2sid with a quality and collision report\n");
        return argc < 2 ? 2 : 0;
    }
    if (!strcmp(argv[1], "train")) return sid_train(argc - 1, argv + 1);
    if (!strcmp(argv[1], "encode")) return sid_encode(argc - 1, argv + 1);
    fprintf(stderr, "onerec sid: unknown subcommand '%s' (use train or encode)\n", argv[1]);
    return 2;
}
