// onerec sid train | encode: residual k-means semantic IDs from item embeddings.
// Embeddings come from Parquet (a list<float|double> column, optional int64 `pid`) or .npy
// (float32/float64 [n, d], pid = row number); codebooks are safetensors; pid2sid is Parquet
// (`pid` int64, `sid` list<int32>) or .tsv (pid, SID string). Formats: docs/sid.md.
#include <cblas.h>
#include <math.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/err.h"
#include "base/file.h"
#include "base/log.h"
#include "base/mem.h"
#include "base/outdir.h"
#include "cli/args.h"
#include "data/pidmap.h"
#include "data/pid2sid.h"
#include "formats/parquet.h"
#include "formats/safetensors.h"
#include "rec/kmeans.h"
#include "rec/sid.h"


// ---------------- embedding sources ----------------

typedef struct {
    const char *path;
    int is_npy;
    int64_t n;     // rows
    int d;         // dimension
    int64_t row;   // next row to read
    // npy
    FILE *fp;
    long data_off;
    int f64;
    // parquet
    parquet_reader *r;
    parquet_cursor *c;
    const char *column, *pid_column;
    int has_pid, col_double;
} emb_src;

static int ends_with(const char *s, const char *suf) {
    size_t a = strlen(s), b = strlen(suf);
    return a >= b && !strcmp(s + a - b, suf);
}

static int npy_open(emb_src *s) {
    s->fp = fopen(s->path, "rb");
    if (!s->fp) return err_errno("embeddings %s", s->path);
    unsigned char pre[10];
    if (fread(pre, 1, 10, s->fp) != 10 || memcmp(pre, "\x93NUMPY", 6))
        return err_set("embeddings %s: not a .npy file", s->path);
    size_t hl;
    long off;
    if (pre[6] == 1) {
        hl = pre[8] | (size_t)pre[9] << 8;
        off = 10;
    } else {
        unsigned char b[2];
        if (fread(b, 1, 2, s->fp) != 2) return err_set("embeddings %s: truncated header", s->path);
        hl = pre[8] | (size_t)pre[9] << 8 | (size_t)b[0] << 16 | (size_t)b[1] << 24;
        off = 12;
    }
    char *h = mem_alloc(hl + 1);
    if (!h) return ERR_FAIL;
    if (fread(h, 1, hl, s->fp) != hl) {
        free(h);
        return err_set("embeddings %s: truncated header", s->path);
    }
    h[hl] = 0;
    int rc = 0;
    long long n = -1, d = -1;
    const char *sh = strstr(h, "'shape'");
    if (strstr(h, "'<f4'")) s->f64 = 0;
    else if (strstr(h, "'<f8'")) s->f64 = 1;
    else rc = err_set("embeddings %s: dtype must be float32 or float64 (header %s)", s->path, h);
    if (!rc && strstr(h, "'fortran_order': True")) rc = err_set("embeddings %s: Fortran order is not supported", s->path);
    if (!rc && (!sh || sscanf(strchr(sh, '('), "(%lld, %lld)", &n, &d) != 2))
        rc = err_set("embeddings %s: the array must be 2-D [items, dim] (header %s)", s->path, h);
    free(h);
    if (rc) return rc;
    if (d <= 0) return err_set("embeddings %s: dimension is %lld: embeddings must have at least one component", s->path, d);
    s->n = n, s->d = (int)d, s->data_off = off + (long)hl;
    long long want = s->data_off + n * d * (s->f64 ? 8 : 4);
    fseek(s->fp, 0, SEEK_END);
    if (ftell(s->fp) < want) return err_set("embeddings %s: file is shorter than its %lld x %lld header says", s->path, n, d);
    fseek(s->fp, s->data_off, SEEK_SET);
    return 0;
}

static int pq_cursor_start(emb_src *s) {
    const char *cols[2] = {s->column, s->pid_column};
    if (parquet_cursor_open(&s->c, s->r, cols, s->has_pid ? 2 : 1)) return err_wrap("embeddings %s", s->path);
    s->row = 0;
    return 0;
}

static int pq_open(emb_src *s) {
    if (parquet_reader_open(&s->r, s->path)) return err_wrap("embeddings");
    int ci = parquet_reader_find_column(s->r, s->column);
    if (ci < 0) {
        char names[512] = "";
        for (int i = 0; i < parquet_reader_num_columns(s->r); i++) {
            size_t len = strlen(names);
            snprintf(names + len, sizeof names - len, "%s%s", i ? ", " : "", parquet_reader_column(s->r, i)->name);
        }
        return err_set("embeddings %s: no column '%s' (columns: %s); name the embedding column with --column", s->path,
                       s->column, names);
    }
    const parquet_column_info *info = parquet_reader_column(s->r, ci);
    if (info->is_list != 1 || (info->type != PQ_FLOAT && info->type != PQ_DOUBLE))
        return err_set("embeddings %s: column '%s' is not a list of float/double", s->path, s->column);
    s->col_double = info->type == PQ_DOUBLE;
    int pi = parquet_reader_find_column(s->r, s->pid_column);
    s->has_pid = pi >= 0;
    if (s->has_pid) {
        const parquet_column_info *pinfo = parquet_reader_column(s->r, pi);
        if (pinfo->is_list || (pinfo->type != PQ_INT64 && pinfo->type != PQ_INT32))
            return err_set("embeddings %s: column '%s' must be an integer item id", s->path, s->pid_column);
    }
    s->n = parquet_reader_num_rows(s->r);
    if (pq_cursor_start(s)) return ERR_FAIL;
    // the dimension is the first row's length; every other row must match it
    int rc = parquet_cursor_next(s->c);
    if (rc < 0) return ERR_FAIL;
    if (rc == 0) return err_set("embeddings %s: no rows", s->path);
    size_t len;
    const float *vf;
    const double *vd;
    rc = s->col_double ? parquet_cursor_get_list_double(s->c, 0, &vd, &len) : parquet_cursor_get_list_float(s->c, 0, &vf, &len);
    if (rc) return ERR_FAIL;
    if (len == 0) return err_set("embeddings %s: row 0 of '%s' is empty: embeddings must have at least one component", s->path, s->column);
    s->d = (int)len;
    parquet_cursor_close(s->c);
    s->c = NULL;
    return pq_cursor_start(s);
}

static void emb_close(emb_src *s) {
    if (s->fp) fclose(s->fp);
    if (s->c) parquet_cursor_close(s->c);
    if (s->r) parquet_reader_close(s->r);
    s->fp = NULL, s->c = NULL, s->r = NULL;
}

static int emb_open(emb_src *s, const char *path, const char *column, const char *pid_column) {
    memset(s, 0, sizeof *s);
    s->path = path, s->column = column, s->pid_column = pid_column;
    s->is_npy = ends_with(path, ".npy");
    int rc = s->is_npy ? npy_open(s) : pq_open(s);
    if (rc) emb_close(s);
    return rc;
}

static int emb_rewind(emb_src *s) {
    s->row = 0;
    if (s->is_npy) return fseek(s->fp, s->data_off, SEEK_SET) ? err_errno("%s", s->path) : 0;
    parquet_cursor_close(s->c);
    s->c = NULL;
    return pq_cursor_start(s);
}

// x out [max, d], pid out [max]; *got rows read (0 at the end). Rows with another length or
// non-finite values are errors naming the row.
static int emb_read(emb_src *s, float *x, int64_t *pid, int64_t max, int64_t *got) {
    int64_t m = 0, d = s->d;
    if (s->is_npy) {
        m = s->n - s->row < max ? s->n - s->row : max;
        if (s->f64) {
            double buf[1024];
            for (int64_t i = 0; i < m * d;) {
                size_t t = (size_t)(m * d - i < 1024 ? m * d - i : 1024);
                if (fread(buf, 8, t, s->fp) != t) return err_set("embeddings %s: read failed", s->path);
                for (size_t j = 0; j < t; j++) x[i + (int64_t)j] = (float)buf[j];
                i += (int64_t)t;
            }
        } else if (fread(x, 4, (size_t)(m * d), s->fp) != (size_t)(m * d)) {
            return err_set("embeddings %s: read failed at row %lld", s->path, (long long)s->row);
        }
        for (int64_t i = 0; i < m; i++) pid[i] = s->row + i;
    } else {
        while (m < max) {
            int rc = parquet_cursor_next(s->c);
            if (rc < 0) return ERR_FAIL;
            if (rc == 0) break;
            size_t len;
            const float *vf = NULL;
            const double *vd = NULL;
            rc = s->col_double ? parquet_cursor_get_list_double(s->c, 0, &vd, &len) : parquet_cursor_get_list_float(s->c, 0, &vf, &len);
            if (rc) return ERR_FAIL;
            if ((int64_t)len != d)
                return err_set("embeddings %s: row %lld of '%s' has %zu components, row 0 has %d: all embeddings "
                               "must have one dimension", s->path, (long long)(s->row + m), s->column, len, s->d);
            float *o = x + m * d;
            for (int64_t j = 0; j < d; j++) o[j] = vf ? vf[j] : (float)vd[j];
            if (s->has_pid) {
                if (parquet_cursor_get_int64(s->c, 1, &pid[m])) return ERR_FAIL;
            } else {
                pid[m] = s->row + m;
            }
            m++;
        }
    }
    if (kmeans_check_finite(x, m, s->d, s->row)) return err_wrap("embeddings %s", s->path);
    s->row += m;
    *got = m;
    return 0;
}

// ---------------- codebook files ----------------

static int codebook_save(const char *path, const rq_codebook *cb, const char **keys, const char **vals, int nmeta) {
    st_item it = {"centroids", 3, {cb->layers, cb->k, cb->d}, cb->centroids};
    st_write_options o = {ST_F32, 0, keys, vals, nmeta};
    return st_write_file(path, &it, 1, &o);
}

static int codebook_load(rq_codebook *cb, const char *path) {
    st_archive *a;
    if (st_open(&a, path)) return err_wrap("codebook");
    const st_tensor *t = st_find(a, "centroids");
    int rc = 0;
    if (!t || t->ndim != 3) {
        rc = err_set("codebook %s: no 3-D tensor 'centroids' [layers, codebook, dim] (write one with onerec sid train)", path);
    } else if (!(rc = rq_codebook_init(cb, (int)t->shape[0], (int)t->shape[1], (int)t->shape[2]))) {
        rc = st_read_f32(a, "centroids", cb->centroids, t->shape, 3);
        if (rc) rq_codebook_free(cb);
    }
    st_close(a);
    return rc;
}

// ---------------- train ----------------

static void set_threads(int threads) {
    if (threads > 0) {
        omp_set_num_threads(threads);
        openblas_set_num_threads(threads);
    }
}

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
    set_threads(threads);
    kmeans_options ko;
    kmeans_options_default(&ko);
    ko.max_points_per_centroid = ppc;
    ko.verbose = !quiet;
    if (!strcmp(init, "sample")) ko.init = KMEANS_INIT_SAMPLE;
    else if (!strcmp(init, "kmeans++")) ko.init = KMEANS_INIT_PLUSPLUS;
    else {
        err_set("--init: unknown '%s' (use sample or kmeans++)", init);
        return cli_fail("sid train");
    }
    if (layers < 1 || layers > RQ_MAX_LAYERS || k < 1 || iters < 0 || ppc < 0) {
        err_set("--layers must be 1..%d, --codebook >= 1, --iters >= 0, --max-points-per-centroid >= 0", RQ_MAX_LAYERS);
        return cli_fail("sid train");
    }
    emb_src s;
    if (emb_open(&s, emb, column, pidcol)) return cli_fail("sid train");
    if (s.n < k) {
        err_set("embeddings %s: %lld items cannot fill a codebook of %d codes: give at least %d items or a smaller --codebook",
                emb, (long long)s.n, k, k);
        emb_close(&s);
        return cli_fail("sid train");
    }
    float *x = mem_alloc(sizeof(float) * (size_t)s.n * s.d);
    int64_t *pid = mem_alloc(sizeof(int64_t) * (size_t)s.n);
    int64_t got = 0;
    double t0 = time_now();
    if (!x || !pid || emb_read(&s, x, pid, s.n, &got)) {
        free(x), free(pid), emb_close(&s);
        return cli_fail("sid train");
    }
    int64_t n = got;
    int d = s.d;
    emb_close(&s);
    free(pid);
    log_info("sid train: %lld items x %d dims read in %.1f s; %d layers x %d codes, %d iterations, %d threads", (long long)n, d,
             time_now() - t0, layers, k, iters, omp_get_max_threads());
    rq_codebook cb;
    rq_stats st;
    t0 = time_now();
    clock_t cpu0 = clock();   // process CPU time over all threads: a figure that survives a busy machine
    if (rqkmeans_train_inplace(&cb, x, n, d, layers, k, iters, (uint64_t)seed, &ko, &st)) {
        free(x);
        return cli_fail("sid train");
    }
    double secs = time_now() - t0, cpu = (double)(clock() - cpu0) / CLOCKS_PER_SEC;
    free(x);
    char v[10][64];
    const char *keys[] = {"format", "layers", "codebook_size", "dim", "iters", "seed", "init", "max_points_per_centroid",
                          "train_items", "rel_error"};
    snprintf(v[0], 64, "onerec-rqkmeans");
    snprintf(v[1], 64, "%d", layers);
    snprintf(v[2], 64, "%d", k);
    snprintf(v[3], 64, "%d", d);
    snprintf(v[4], 64, "%d", iters);
    snprintf(v[5], 64, "%lld", (long long)seed);
    snprintf(v[6], 64, "%s", init);
    snprintf(v[7], 64, "%d", ppc);
    snprintf(v[8], 64, "%lld", (long long)n);
    snprintf(v[9], 64, "%.6g", st.rel_error);
    const char *vals[10];
    for (int i = 0; i < 10; i++) vals[i] = v[i];
    int rc = codebook_save(out, &cb, keys, vals, 10);
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

#define ENC_CHUNK 16384

static void print_collisions(const char *tag, const sid_collision_stats *c, int L, int k) {
    printf("%s: collision_rate=%.6f unique_sids=%lld colliding_items=%lld collision_groups=%lld largest_group=%lld\n", tag,
           c->collision_rate, (long long)c->unique, (long long)c->colliding_items, (long long)c->groups,
           (long long)c->largest_group);
    printf("%s: codebook_use", tag);
    for (int l = 0; l < L; l++) printf(" %c=%lld/%d", 'a' + l, (long long)c->used[l], k);
    printf("\n");
}

// Balance needs the last-layer residual of colliding items only: a second pass over the file
// gathers just those rows, so memory stays bounded by the colliders.
static int balance_pass(emb_src *s, const rq_codebook *cb, int32_t *codes, int64_t n, double *se_delta, int64_t *moved) {
    int L = cb->layers, d = cb->d;
    int64_t *idx, cnt;
    if (sid_colliders(&idx, &cnt, codes, n, L, cb->k)) return ERR_FAIL;
    float *rs = mem_alloc(sizeof(float) * (size_t)(cnt ? cnt : 1) * d);
    float *x = mem_alloc(sizeof(float) * (size_t)ENC_CHUNK * d);
    float *rp = mem_alloc(sizeof(float) * (size_t)ENC_CHUNK * d);
    float *err = mem_alloc(sizeof(float) * ENC_CHUNK);
    int64_t *pid = mem_alloc(sizeof(int64_t) * ENC_CHUNK);
    int32_t *cc = mem_alloc(sizeof(int32_t) * (size_t)ENC_CHUNK * L);
    int32_t *before = mem_alloc(sizeof(int32_t) * (size_t)(cnt ? cnt : 1));
    int rc = (!rs || !x || !rp || !err || !pid || !cc || !before) ? ERR_FAIL : emb_rewind(s);
    int64_t p = 0, row0 = 0, got = 0;
    while (!rc && p < cnt) {
        if ((rc = emb_read(s, x, pid, ENC_CHUNK, &got))) break;
        if (!got) break;
        if (idx[p] < row0 + got) {
            if ((rc = rqkmeans_encode(cc, err, rp, cb, x, got))) break;
            for (; p < cnt && idx[p] < row0 + got; p++) memcpy(rs + p * d, rp + (idx[p] - row0) * d, sizeof(float) * d);
        }
        row0 += got;
    }
    if (!rc && p < cnt) rc = err_set("embeddings %s: file changed between passes", s->path);
    for (int64_t q = 0; !rc && q < cnt; q++) before[q] = codes[idx[q] * L + L - 1];
    if (!rc) rc = sid_dedup_balance_sparse(codes, n, cb, idx, rs, cnt, moved);
    // reconstruction error change of the moved items: ||r - c_new||^2 - ||r - c_old||^2
    double delta = 0;
    const float *last = cb->centroids + (size_t)(L - 1) * cb->k * d;
    for (int64_t q = 0; !rc && q < cnt; q++) {
        int32_t now = codes[idx[q] * L + L - 1];
        if (now == before[q]) continue;
        const float *r = rs + q * d, *a = last + (size_t)now * d, *b = last + (size_t)before[q] * d;
        double sa = 0, sb = 0;
        for (int j = 0; j < d; j++) {
            sa += (double)(r[j] - a[j]) * (r[j] - a[j]);
            sb += (double)(r[j] - b[j]) * (r[j] - b[j]);
        }
        delta += sa - sb;
    }
    *se_delta = delta;
    free(idx), free(rs), free(x), free(rp), free(err), free(pid), free(cc), free(before);
    return rc;
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
    set_threads(threads);
    sid_dedup mode;
    if (sid_dedup_parse(dedup_s, &mode)) return cli_fail("sid encode");
    rq_codebook cb;
    if (codebook_load(&cb, cbpath)) return cli_fail("sid encode");
    int L = cb.layers, k = cb.k, d = cb.d;
    emb_src s;
    if (emb_open(&s, emb, column, pidcol)) {
        rq_codebook_free(&cb);
        return cli_fail("sid encode");
    }
    int rc = 0;
    if (s.d != d) rc = err_set("embeddings %s have %d dims but codebook %s was trained on %d", emb, s.d, cbpath, d);
    int64_t n = s.n;
    int64_t *pid = mem_alloc(sizeof(int64_t) * (size_t)(n ? n : 1));
    int32_t *codes = mem_alloc(sizeof(int32_t) * (size_t)(n ? n : 1) * L);
    float *x = mem_alloc(sizeof(float) * (size_t)ENC_CHUNK * d);
    float *err = mem_alloc(sizeof(float) * ENC_CHUNK);
    if (!pid || !codes || !x || !err) rc = ERR_FAIL;
    double se = 0, sx = 0, t0 = time_now();
    int64_t done = 0, got = 0;
    progress pr;
    progress_begin(&pr, "encode", n, "items");
    while (!rc) {
        if ((rc = emb_read(&s, x, pid + done, done + ENC_CHUNK <= n ? ENC_CHUNK : n - done, &got)) || !got) break;
        if ((rc = rqkmeans_encode(codes + done * L, err, NULL, &cb, x, got))) break;
        for (int64_t i = 0; i < got; i++) {
            se += err[i];
            const float *xi = x + i * d;
            double t = 0;
            for (int j = 0; j < d; j++) t += (double)xi[j] * xi[j];
            sx += t;
        }
        done += got;
        progress_add(&pr, got);
    }
    progress_end(&pr);
    if (!rc) rc = pid_check_unique(pid, done, emb);   // one pid with two SIDs would mislead every map after
    double secs = time_now() - t0;
    sid_collision_stats c0, c1;
    if (!rc) rc = sid_collisions(&c0, codes, done, L, k);
    int32_t *final = codes;
    int Lout = L;
    int64_t moved = 0;
    double se_after = se;
    if (!rc && mode == SID_DEDUP_DIGIT) {
        final = mem_alloc(sizeof(int32_t) * (size_t)(done ? done : 1) * (L + 1));
        Lout = L + 1;
        rc = final ? sid_dedup_digit(final, codes, done, L, k) : ERR_FAIL;
        for (int64_t i = 0; !rc && i < done; i++) moved += final[i * (L + 1) + L] > 0;   // items given a nonzero digit
    } else if (!rc && mode == SID_DEDUP_BALANCE) {
        double delta = 0;
        rc = balance_pass(&s, &cb, codes, done, &delta, &moved);
        se_after = se + delta;
    }
    if (!rc) rc = sid_collisions(&c1, final, done, Lout, k);
    if (!rc) rc = pid2sid_write(out, pid, final, done, Lout);
    if (!rc) {
        printf("items=%lld dim=%d layers=%d codebook=%d seconds=%.3f\n", (long long)done, d, L, k, secs);
        printf("mse=%.6g rel_error=%.6g\n", done ? se / ((double)done * d) : 0.0, sx > 0 ? se / sx : 0.0);
        print_collisions("before_dedup", &c0, L, k);
        if (mode != SID_DEDUP_NONE) {
            printf("dedup=%s moved=%lld sid_length=%d\n", sid_dedup_name(mode), (long long)moved, Lout);
            if (mode == SID_DEDUP_BALANCE)
                printf("after_dedup: mse=%.6g rel_error=%.6g\n", done ? se_after / ((double)done * d) : 0.0, sx > 0 ? se_after / sx : 0.0);
            print_collisions("after_dedup", &c1, Lout, k);
        }
        printf("pid2sid=%s\n", out);
    }
    if (final != codes) free(final);
    free(pid), free(codes), free(x), free(err);
    emb_close(&s);
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
