// safetensors writer: one file, or a model dir's weights in shards with an index. Files are atomic.
#include "formats/safetensors.h"

#include <cjson/cJSON.h>
#include <dirent.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/err.h"
#include "base/file.h"
#include "base/json.h"
#include "base/mem.h"

typedef struct {
    char *s;
    size_t n, cap;
    int oom;
} sbuf;

static void sb_put(sbuf *b, const char *s, size_t n) {
    if (b->oom) return;
    if (b->n + n + 1 > b->cap) {
        size_t nc = b->cap ? b->cap : 4096;
        while (b->n + n + 1 > nc) nc *= 2;
        char *ns = mem_realloc(b->s, nc);
        if (!ns) {
            b->oom = 1;
            return;
        }
        b->s = ns;
        b->cap = nc;
    }
    memcpy(b->s + b->n, s, n);
    b->n += n;
    b->s[b->n] = 0;
}

static void sb_printf(sbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void sb_printf(sbuf *b, const char *fmt, ...) {
    char tmp[256];
    va_list ap;
    va_start(ap, fmt);
    int k = vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    sb_put(b, tmp, (size_t)k < sizeof tmp ? (size_t)k : sizeof tmp - 1);
}

static void sb_json_string(sbuf *b, const char *s) {
    sb_put(b, "\"", 1);
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\') {
            char e[2] = {'\\', (char)c};
            sb_put(b, e, 2);
        } else if (c < 0x20)
            sb_printf(b, "\\u%04x", c);
        else
            sb_put(b, s, 1);
    }
    sb_put(b, "\"", 1);
}

static size_t item_numel(const st_item *it) {
    size_t n = 1;
    for (int d = 0; d < it->ndim; d++) n *= (size_t)it->shape[d];
    return n;
}

// need_data: 0 when the data comes later (st_write_dir_from checks the plan).
static int check_items(const char *path, const st_item *items, int n, const st_write_options *opt, int need_data) {
    if (opt->dtype != ST_F32 && opt->dtype != ST_BF16 && opt->dtype != ST_F16)
        return err_set("%s: can only store F32, BF16 or F16 (asked for %s)", path, st_dtype_name(opt->dtype));
    for (int i = 0; i < n; i++) {
        const st_item *it = &items[i];
        if (!it->name || !*it->name || strcmp(it->name, "__metadata__") == 0)
            return err_set("%s: item %d has no usable name", path, i);
        if (it->ndim < 0 || it->ndim > ST_MAX_DIMS)
            return err_set("%s: tensor \"%s\" has %d dims (0..%d allowed)", path, it->name, it->ndim, ST_MAX_DIMS);
        double total = 4;
        for (int d = 0; d < it->ndim; d++) {
            if (it->shape[d] < 0) return err_set("%s: tensor \"%s\" has a negative dim", path, it->name);
            total *= (double)it->shape[d];
        }
        if (total >= ST_MAX_INT) return err_set("%s: tensor \"%s\" is absurdly large", path, it->name);
        if (need_data && !it->data && item_numel(it)) return err_set("%s: tensor \"%s\" has no data", path, it->name);
        for (int k = 0; k < i; k++)
            if (strcmp(items[k].name, it->name) == 0) return err_set("%s: tensor \"%s\" given twice", path, it->name);
    }
    for (int m = 0; m < opt->nmeta; m++)
        if (!opt->meta_keys[m] || !opt->meta_values[m]) return err_set("%s: __metadata__ entry %d is NULL", path, m);
    return 0;
}

// The header JSON, padded with spaces so the data starts 8-byte aligned. Metadata gets
// "format": "pt" unless given, because transformers refuses safetensors without it.
static char *header_build(const st_item *items, int n, const st_write_options *opt, size_t *len) {
    sbuf b = {0};
    size_t es = st_dtype_size(opt->dtype), off = 0;
    sb_put(&b, "{\"__metadata__\":{", 17);
    int has_format = 0;
    for (int m = 0; m < opt->nmeta; m++) {
        has_format |= strcmp(opt->meta_keys[m], "format") == 0;
        if (m) sb_put(&b, ",", 1);
        sb_json_string(&b, opt->meta_keys[m]);
        sb_put(&b, ":", 1);
        sb_json_string(&b, opt->meta_values[m]);
    }
    if (!has_format) sb_printf(&b, "%s\"format\":\"pt\"", opt->nmeta ? "," : "");
    sb_put(&b, "}", 1);
    for (int i = 0; i < n; i++) {
        size_t nb = item_numel(&items[i]) * es;
        sb_put(&b, ",", 1);
        sb_json_string(&b, items[i].name);
        sb_printf(&b, ":{\"dtype\":\"%s\",\"shape\":[", st_dtype_name(opt->dtype));
        for (int d = 0; d < items[i].ndim; d++) sb_printf(&b, d ? ",%lld" : "%lld", (long long)items[i].shape[d]);
        sb_printf(&b, "],\"data_offsets\":[%zu,%zu]}", off, off + nb);
        off += nb;
    }
    sb_put(&b, "}", 1);
    while (!b.oom && (b.n % 8) != 0) sb_put(&b, " ", 1);
    if (b.oom) {
        free(b.s);
        return NULL;
    }
    *len = b.n;
    return b.s;
}

static int write_items(FILE *fp, const st_item *items, int n, st_dtype dt, const char *path) {
    enum { CHUNK = 1 << 16 };
    uint16_t *buf = NULL;
    if (dt != ST_F32 && !(buf = mem_alloc(CHUNK * sizeof(uint16_t)))) return ERR_FAIL;
    int rc = 0;
    for (int i = 0; i < n && !rc; i++) {
        size_t cnt = item_numel(&items[i]);
        const float *src = items[i].data;
        if (dt == ST_F32) {
            if (cnt && fwrite(src, 4, cnt, fp) != cnt) rc = err_errno("writing %s (tensor \"%s\")", path, items[i].name);
            continue;
        }
        for (size_t k = 0; k < cnt && !rc; k += CHUNK) {
            size_t m = cnt - k < CHUNK ? cnt - k : CHUNK;
            if (dt == ST_BF16)
                st_f32_to_bf16_n(buf, src + k, m);
            else
                st_f32_to_f16_n(buf, src + k, m);
            if (fwrite(buf, 2, m, fp) != m) rc = err_errno("writing %s (tensor \"%s\")", path, items[i].name);
        }
    }
    free(buf);
    return rc;
}

int st_write_file(const char *path, const st_item *items, int n, const st_write_options *opt) {
    if (check_items(path, items, n, opt, 1)) return ERR_FAIL;
    size_t hlen;
    char *h = header_build(items, n, opt, &hlen);
    if (!h) return err_wrap("building the header of %s", path);
    afile af;
    if (afile_open(&af, path)) {
        free(h);
        return ERR_FAIL;
    }
    uint64_t h64 = hlen;
    int rc = 0;
    if (fwrite(&h64, 8, 1, af.fp) != 1 || fwrite(h, 1, hlen, af.fp) != hlen) rc = err_errno("writing %s", path);
    free(h);
    if (!rc) rc = write_items(af.fp, items, n, opt->dtype, path);
    if (rc) {
        afile_abort(&af);
        return ERR_FAIL;
    }
    return afile_commit(&af);
}

// After a successful write, files of an older layout would shadow or confuse the new one
// (st_open prefers an index): remove model.safetensors / the index / shards of another count.
static void remove_stale(const char *dir, int nshards) {
    DIR *d = opendir(dir);
    if (!d) return;
    struct dirent *e;
    while ((e = readdir(d))) {
        int k, of, used = 0, stale = 0;
        if (strcmp(e->d_name, "model.safetensors") == 0)
            stale = nshards > 0;
        else if (strcmp(e->d_name, "model.safetensors.index.json") == 0)
            stale = nshards == 0;
        else if (sscanf(e->d_name, "model-%5d-of-%5d.safetensors%n", &k, &of, &used) == 2 &&
                 used == (int)strlen(e->d_name))
            stale = of != nshards;
        if (stale) {
            char *p = path_join(dir, e->d_name);
            if (p) unlink(p);
            free(p);
        }
    }
    closedir(d);
}

// One weight file of items[first .. first + k), its data from src when given.
static int write_part(const char *dir, const char *name, const st_item *items, int first, int k,
                      const st_write_options *opt, const st_source *src) {
    char *p = path_join(dir, name);
    if (!p) return ERR_FAIL;
    if (!src) {
        int rc = st_write_file(p, items + first, k, opt);
        free(p);
        return rc;
    }
    st_item *part = mem_alloc(sizeof *part * (size_t)(k ? k : 1));
    int rc = part ? 0 : ERR_FAIL;
    if (!rc) {
        memcpy(part, items + first, sizeof *part * (size_t)k);
        for (int i = 0; i < k; i++) part[i].data = NULL;
        rc = src->load(src->ctx, part, first, k);
        if (!rc) rc = st_write_file(p, part, k, opt);
        if (src->release) src->release(src->ctx, part, k);
    }
    free(part);
    free(p);
    return rc;
}

int st_write_dir(const char *dir, const st_item *items, int n, const st_write_options *opt) {
    return st_write_dir_from(dir, items, n, opt, NULL, NULL);
}

int st_write_dir_from(const char *dir, const st_item *items, int n, const st_write_options *opt, const st_source *src,
                      int *n_files) {
    if (check_items(dir, items, n, opt, !src) || file_mkdirs(dir)) return ERR_FAIL;
    size_t es = st_dtype_size(opt->dtype), total = 0;
    for (int i = 0; i < n; i++) total += item_numel(&items[i]) * es;
    if (!opt->max_shard_bytes || total <= opt->max_shard_bytes) {
        int rc = write_part(dir, "model.safetensors", items, 0, n, opt, src);
        if (!rc) remove_stale(dir, 0);
        if (n_files) *n_files = 1;
        return rc;
    }
    // greedy shards in item order; a tensor bigger than the limit gets a shard of its own
    int *first = mem_alloc(sizeof(int) * (size_t)(n + 1));
    if (!first) return ERR_FAIL;
    int ns = 0;
    size_t cur = 0;
    for (int i = 0; i < n; i++) {
        size_t nb = item_numel(&items[i]) * es;
        if (i == 0 || (cur > 0 && cur + nb > opt->max_shard_bytes)) {
            first[ns++] = i;
            cur = 0;
        }
        cur += nb;
    }
    first[ns] = n;
    cJSON *idx = cJSON_CreateObject(), *md = cJSON_AddObjectToObject(idx, "metadata");
    cJSON_AddNumberToObject(md, "total_size", (double)total);
    cJSON *wm = cJSON_AddObjectToObject(idx, "weight_map");
    int rc = 0;
    for (int s = 0; s < ns && !rc; s++) {
        char name[64];
        snprintf(name, sizeof name, "model-%05d-of-%05d.safetensors", s + 1, ns);
        rc = write_part(dir, name, items, first[s], first[s + 1] - first[s], opt, src);
        for (int i = first[s]; i < first[s + 1] && !rc; i++)
            if (!cJSON_AddStringToObject(wm, items[i].name, name)) rc = err_set("out of memory building the index");
    }
    if (!rc) {
        char *p = path_join(dir, "model.safetensors.index.json");
        rc = p ? json_save_file(p, idx) : ERR_FAIL;
        free(p);
    }
    cJSON_Delete(idx);
    free(first);
    if (!rc) remove_stale(dir, ns);
    if (n_files) *n_files = ns;
    return rc;
}
