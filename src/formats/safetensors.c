// safetensors reader (mmap; the writer is safetensors_write.c). Every check on a file names the
// file and the tensor, because a bad checkpoint is usually found long after it was written.
#include "formats/safetensors.h"

#include <cjson/cJSON.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/err.h"
#include "base/file.h"
#include "base/json.h"
#include "base/mem.h"

#if !defined(__BYTE_ORDER__) || __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "safetensors.c assumes a little-endian host (the format is little-endian)"
#endif

// The reference implementation refuses headers over 100 MB; a real 8B model header is ~40 KB.
#define ST_MAX_HEADER (100u << 20)

typedef struct {
    char *path;
    const uint8_t *base;   // whole file (mmap) or caller's buffer
    size_t size;
    int mapped;
} st_file;

struct st_archive {
    char *path;            // what st_open was given (for messages)
    st_file *files;
    int nfiles;
    st_tensor *t;
    int n, cap;
    char **meta_k, **meta_v;
    int nmeta;
    int *slot;             // open-addressing hash of tensor names -> index
    int nslot;
};

static const struct {
    const char *name;
    size_t size;
} dtype_info[] = {
    [ST_F32] = {"F32", 4}, [ST_BF16] = {"BF16", 2}, [ST_F16] = {"F16", 2}, [ST_F64] = {"F64", 8},
    [ST_I64] = {"I64", 8}, [ST_I32] = {"I32", 4},   [ST_I16] = {"I16", 2}, [ST_I8] = {"I8", 1},
    [ST_U8] = {"U8", 1},   [ST_BOOL] = {"BOOL", 1},
};
#define ST_NDTYPE ((int)(sizeof dtype_info / sizeof dtype_info[0]))

const char *st_dtype_name(st_dtype t) { return (int)t >= 0 && (int)t < ST_NDTYPE ? dtype_info[t].name : "?"; }
size_t st_dtype_size(st_dtype t) { return (int)t >= 0 && (int)t < ST_NDTYPE ? dtype_info[t].size : 0; }

int st_dtype_parse(const char *s, st_dtype *t) {
    for (int i = 0; i < ST_NDTYPE; i++)
        if (s && strcmp(s, dtype_info[i].name) == 0) {
            *t = (st_dtype)i;
            return 0;
        }
    return err_set("unknown safetensors dtype \"%s\" (supported: F32 BF16 F16 F64 I64 I32 I16 I8 U8 BOOL)",
                   s ? s : "(null)");
}

// ---- scalar conversions ----------------------------------------------------------------------

static inline uint32_t f32_bits(float f) {
    uint32_t u;
    memcpy(&u, &f, 4);
    return u;
}
static inline float bits_f32(uint32_t u) {
    float f;
    memcpy(&f, &u, 4);
    return f;
}

float st_bf16_to_f32(uint16_t h) { return bits_f32((uint32_t)h << 16); }

// Round to nearest even (as torch), so finite values match torch bit for bit; every NaN becomes the
// quiet NaN 0x7FC0 (torch gives 0x7FC0 on its scalar path and 0xFFFF on its AVX2 path: both NaN).
uint16_t st_f32_to_bf16(float f) {
    uint32_t u = f32_bits(f);
    if ((u & 0x7fffffffu) > 0x7f800000u) return 0x7fc0;
    return (uint16_t)((u + 0x7fffu + ((u >> 16) & 1u)) >> 16);
}

float st_f16_to_f32(uint16_t h) {
    uint32_t sign = (uint32_t)(h & 0x8000u) << 16, exp = (h >> 10) & 0x1fu, man = h & 0x3ffu;
    if (exp == 0x1f) return bits_f32(sign | 0x7f800000u | (man << 13));   // inf / NaN (payload kept)
    if (exp == 0) {
        // subnormal: value = man * 2^-24, exact in f32
        float v = (float)man * 5.9604644775390625e-8f;
        return sign ? -v : v;
    }
    return bits_f32(sign | ((exp + 112u) << 23) | (man << 13));
}

uint16_t st_f32_to_f16(float f) {
    uint32_t u = f32_bits(f);
    uint16_t sign = (uint16_t)((u >> 16) & 0x8000u);
    uint32_t a = u & 0x7fffffffu;
    if (a > 0x7f800000u) return sign | 0x7e00u | (uint16_t)((a >> 13) & 0x1ffu);   // quiet NaN
    if (a >= 0x477ff000u) return sign | 0x7c00u;   // rounds to >= 65520: infinity
    if (a >= 0x38800000u) {
        // normal half: rebias the exponent, round the 13 dropped bits to nearest even
        uint32_t r = a - 0x38000000u;
        r += 0xfffu + ((r >> 13) & 1u);
        return sign | (uint16_t)(r >> 13);
    }
    if (a < 0x33000000u) return sign;   // below half the smallest subnormal: +-0
    // subnormal half: shift the full mantissa into place, rounding to nearest even
    uint32_t e = a >> 23, m = (a & 0x7fffffu) | 0x800000u;
    uint32_t shift = 126u - e;   // 14..24
    uint32_t q = m >> shift, rem = m & ((1u << shift) - 1u), half = 1u << (shift - 1);
    if (rem > half || (rem == half && (q & 1u))) q++;
    return sign | (uint16_t)q;
}

// ---- bulk conversions (written so that gcc -O3 vectorises them; F16 uses F16C when built for it)

#if defined(__F16C__) && defined(__AVX__)
#include <immintrin.h>
#define ST_HAVE_F16C 1
#endif

void st_bf16_to_f32_n(float *dst, const void *src, size_t n) {
    const uint8_t *s = src;
    uint32_t *d = (uint32_t *)dst;
    for (size_t i = 0; i < n; i++) {
        uint16_t h;
        memcpy(&h, s + 2 * i, 2);
        d[i] = (uint32_t)h << 16;
    }
}

void st_f32_to_bf16_n(void *dst, const float *src, size_t n) {
    uint8_t *d = dst;
    const uint32_t *s = (const uint32_t *)src;
    for (size_t i = 0; i < n; i++) {
        uint32_t u = s[i];
        uint16_t r = (u & 0x7fffffffu) > 0x7f800000u ? (uint16_t)0x7fc0
                                                      : (uint16_t)((u + 0x7fffu + ((u >> 16) & 1u)) >> 16);
        memcpy(d + 2 * i, &r, 2);
    }
}

void st_f16_to_f32_n(float *dst, const void *src, size_t n) {
    const uint8_t *s = src;
    size_t i = 0;
#ifdef ST_HAVE_F16C
    for (; i + 8 <= n; i += 8)
        _mm256_storeu_ps(dst + i, _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(s + 2 * i))));
#endif
    for (; i < n; i++) {
        uint16_t h;
        memcpy(&h, s + 2 * i, 2);
        dst[i] = st_f16_to_f32(h);
    }
}

void st_f32_to_f16_n(void *dst, const float *src, size_t n) {
    uint8_t *d = dst;
    size_t i = 0;
#ifdef ST_HAVE_F16C
    for (; i + 8 <= n; i += 8)
        _mm_storeu_si128((__m128i *)(d + 2 * i), _mm256_cvtps_ph(_mm256_loadu_ps(src + i), _MM_FROUND_TO_NEAREST_INT));
#endif
    for (; i < n; i++) {
        uint16_t h = st_f32_to_f16(src[i]);
        memcpy(d + 2 * i, &h, 2);
    }
}

// ---- archive bookkeeping -------------------------------------------------------------------

static uint64_t name_hash(const char *s) {
    uint64_t h = 1469598103934665603ull;
    for (; *s; s++) h = (h ^ (uint8_t)*s) * 1099511628211ull;
    return h;
}

static int find_index(const st_archive *a, const char *name) {
    if (!a->nslot) return -1;
    for (uint64_t i = name_hash(name) & (uint64_t)(a->nslot - 1);; i = (i + 1) & (uint64_t)(a->nslot - 1)) {
        int k = a->slot[i];
        if (k < 0) return -1;
        if (strcmp(a->t[k].name, name) == 0) return k;
    }
}

// Adds tensor names to the hash; a name seen twice is an error naming both files.
static int index_names(st_archive *a) {
    free(a->slot);
    a->nslot = 16;
    while (a->nslot < 2 * a->n) a->nslot *= 2;
    a->slot = mem_alloc(sizeof(int) * (size_t)a->nslot);
    if (!a->slot) return ERR_FAIL;
    for (int i = 0; i < a->nslot; i++) a->slot[i] = -1;
    for (int k = 0; k < a->n; k++) {
        uint64_t i = name_hash(a->t[k].name) & (uint64_t)(a->nslot - 1);
        for (; a->slot[i] >= 0; i = (i + 1) & (uint64_t)(a->nslot - 1))
            if (strcmp(a->t[a->slot[i]].name, a->t[k].name) == 0)
                return err_set("tensor \"%s\" appears twice: in %s and in %s", a->t[k].name, a->t[a->slot[i]].file,
                               a->t[k].file);
        a->slot[i] = k;
    }
    return 0;
}

static int meta_add(st_archive *a, const char *k, const char *v) {
    for (int i = 0; i < a->nmeta; i++)
        if (strcmp(a->meta_k[i], k) == 0) return 0;   // first one wins (index before shards)
    char **nk = mem_realloc(a->meta_k, sizeof(char *) * (size_t)(a->nmeta + 1));
    if (!nk) return ERR_FAIL;
    a->meta_k = nk;
    char **nv = mem_realloc(a->meta_v, sizeof(char *) * (size_t)(a->nmeta + 1));
    if (!nv) return ERR_FAIL;
    a->meta_v = nv;
    a->meta_k[a->nmeta] = mem_strdup(k);
    a->meta_v[a->nmeta] = mem_strdup(v);
    if (!a->meta_k[a->nmeta] || !a->meta_v[a->nmeta]) {
        free(a->meta_k[a->nmeta]);
        free(a->meta_v[a->nmeta]);
        return ERR_FAIL;
    }
    a->nmeta++;
    return 0;
}

static st_tensor *tensor_add(st_archive *a) {
    if (a->n == a->cap) {
        int nc = a->cap ? 2 * a->cap : 64;
        st_tensor *nt = mem_realloc(a->t, sizeof(st_tensor) * (size_t)nc);
        if (!nt) return NULL;
        a->t = nt;
        a->cap = nc;
    }
    st_tensor *t = &a->t[a->n++];
    memset(t, 0, sizeof *t);
    return t;
}

void st_close(st_archive *a) {
    if (!a) return;
    for (int i = 0; i < a->nfiles; i++) {
        if (a->files[i].mapped) munmap((void *)a->files[i].base, a->files[i].size);
        free(a->files[i].path);
    }
    for (int i = 0; i < a->n; i++) free((char *)a->t[i].name);
    for (int i = 0; i < a->nmeta; i++) {
        free(a->meta_k[i]);
        free(a->meta_v[i]);
    }
    free(a->meta_k);
    free(a->meta_v);
    free(a->files);
    free(a->t);
    free(a->slot);
    free(a->path);
    free(a);
}

int st_count(const st_archive *a) { return a->n; }
const st_tensor *st_get(const st_archive *a, int i) { return i >= 0 && i < a->n ? &a->t[i] : NULL; }

const st_tensor *st_find(const st_archive *a, const char *name) {
    int k = find_index(a, name);
    return k >= 0 ? &a->t[k] : NULL;
}

const char *st_metadata(const st_archive *a, const char *key) {
    for (int i = 0; i < a->nmeta; i++)
        if (strcmp(a->meta_k[i], key) == 0) return a->meta_v[i];
    return NULL;
}

// ---- parsing one file ----------------------------------------------------------------------

static int json_index(const cJSON *v, int64_t *out) {
    if (!cJSON_IsNumber(v) || v->valuedouble < 0 || v->valuedouble >= ST_MAX_INT ||
        v->valuedouble != floor(v->valuedouble))
        return ERR_FAIL;
    *out = (int64_t)v->valuedouble;
    return 0;
}

static int parse_tensor(st_tensor *t, const cJSON *e, const char *file, size_t data_size) {
    const char *name = e->string;
    if (!cJSON_IsObject(e)) return err_set("%s: tensor \"%s\": header entry is not an object", file, name);
    const cJSON *dt = cJSON_GetObjectItemCaseSensitive(e, "dtype");
    const cJSON *sh = cJSON_GetObjectItemCaseSensitive(e, "shape");
    const cJSON *of = cJSON_GetObjectItemCaseSensitive(e, "data_offsets");
    if (!cJSON_IsString(dt)) return err_set("%s: tensor \"%s\": missing or non-string \"dtype\"", file, name);
    if (st_dtype_parse(dt->valuestring, &t->dtype)) return err_wrap("%s: tensor \"%s\"", file, name);
    if (!cJSON_IsArray(sh)) return err_set("%s: tensor \"%s\": missing or non-array \"shape\"", file, name);
    int nd = cJSON_GetArraySize(sh);
    if (nd > ST_MAX_DIMS) return err_set("%s: tensor \"%s\": %d dims (at most %d supported)", file, name, nd, ST_MAX_DIMS);
    t->ndim = nd;
    // numel * dtype size must not overflow; the bound on dims keeps every partial product exact
    double total = (double)st_dtype_size(t->dtype);
    int64_t numel = 1;
    for (int d = 0; d < nd; d++) {
        if (json_index(cJSON_GetArrayItem(sh, d), &t->shape[d]))
            return err_set("%s: tensor \"%s\": shape[%d] is not a non-negative integer", file, name, d);
        total *= (double)t->shape[d];
        if (total >= ST_MAX_INT) return err_set("%s: tensor \"%s\": shape is absurdly large", file, name);
        numel *= t->shape[d];
    }
    t->numel = numel;
    t->nbytes = (size_t)numel * st_dtype_size(t->dtype);
    int64_t b, en;
    if (!cJSON_IsArray(of) || cJSON_GetArraySize(of) != 2 || json_index(cJSON_GetArrayItem(of, 0), &b) ||
        json_index(cJSON_GetArrayItem(of, 1), &en))
        return err_set("%s: tensor \"%s\": \"data_offsets\" must be [begin, end] (non-negative integers)", file, name);
    if (b > en) return err_set("%s: tensor \"%s\": data_offsets [%lld, %lld] end before they begin", file, name,
                               (long long)b, (long long)en);
    if ((uint64_t)en > data_size)
        return err_set("%s: tensor \"%s\": data_offsets [%lld, %lld] go past the end of the data (%zu bytes): "
                       "the file is truncated or its header is wrong",
                       file, name, (long long)b, (long long)en, data_size);
    if ((uint64_t)(en - b) != t->nbytes)
        return err_set("%s: tensor \"%s\": data_offsets [%lld, %lld] hold %lld bytes but shape x %s needs %zu", file,
                       name, (long long)b, (long long)en, (long long)(en - b), st_dtype_name(t->dtype), t->nbytes);
    t->data = (const void *)(uintptr_t)b;   // relative until the caller adds the data base
    return 0;
}

typedef struct {
    uintptr_t begin;
    size_t nbytes;
    int idx;
} span;

static int by_begin(const void *x, const void *y) {
    const span *a = x, *b = y;
    if (a->begin != b->begin) return a->begin < b->begin ? -1 : 1;
    return a->nbytes < b->nbytes ? -1 : a->nbytes > b->nbytes;
}

// Parses the tensors of file a->files[fi] and appends them to a->t.
static int parse_file(st_archive *a, int fi) {
    const st_file *f = &a->files[fi];
    const char *file = f->path;
    if (f->size < 8)
        return err_set("%s: truncated: %zu bytes, but a safetensors file starts with an 8-byte header length", file,
                       f->size);
    uint64_t hlen;
    memcpy(&hlen, f->base, 8);
    if (hlen > ST_MAX_HEADER)
        return err_set("%s: header length %llu is absurd (over %u bytes): not a safetensors file, or corrupt", file,
                       (unsigned long long)hlen, ST_MAX_HEADER);
    if (hlen > f->size - 8)
        return err_set("%s: header length %llu runs past the end of the file (%zu bytes): truncated", file,
                       (unsigned long long)hlen, f->size);
    const char *h = (const char *)f->base + 8;
    if (hlen < 2 || h[0] != '{') return err_set("%s: the header is not a JSON object (it must start with '{')", file);
    const char *end = NULL;
    cJSON *j = cJSON_ParseWithLengthOpts(h, (size_t)hlen, &end, 0);
    if (!j || !cJSON_IsObject(j)) {
        cJSON_Delete(j);
        return err_set("%s: broken header JSON near byte %ld of %llu", file, end ? (long)(end - h) + 8 : -1L,
                       (unsigned long long)hlen);
    }
    for (const char *p = end; p < h + hlen; p++)
        if (*p != ' ' && *p != '\n' && *p != '\t' && *p != '\r') {
            cJSON_Delete(j);
            return err_set("%s: unexpected bytes after the header JSON (at byte %ld)", file, (long)(p - h) + 8);
        }
    const uint8_t *data = f->base + 8 + hlen;
    size_t data_size = f->size - 8 - (size_t)hlen;
    int first = a->n, rc = 0;
    for (const cJSON *e = j->child; e && !rc; e = e->next) {
        if (!e->string) continue;
        if (strcmp(e->string, "__metadata__") == 0) {
            if (!cJSON_IsObject(e) && !cJSON_IsNull(e)) {
                rc = err_set("%s: \"__metadata__\" must be an object of strings", file);
                break;
            }
            for (const cJSON *m = e->child; m && !rc; m = m->next) {
                if (!cJSON_IsString(m))
                    rc = err_set("%s: __metadata__ \"%s\" is not a string", file, m->string);
                else
                    rc = meta_add(a, m->string, m->valuestring);
            }
            continue;
        }
        st_tensor *t = tensor_add(a);
        if (!t) {
            rc = ERR_FAIL;
            break;
        }
        t->name = mem_strdup(e->string);
        t->file = f->path;
        if (!t->name || parse_tensor(t, e, file, data_size)) {
            rc = ERR_FAIL;
            if (!t->name) a->n--;
        }
    }
    cJSON_Delete(j);
    if (rc) return rc;
    // Overlap check on sorted ranges (empty tensors take no bytes and may share an offset).
    int cnt = a->n - first;
    span *ord = mem_alloc(sizeof(span) * (size_t)(cnt ? cnt : 1));
    if (!ord) return ERR_FAIL;
    for (int i = 0; i < cnt; i++) ord[i] = (span){(uintptr_t)a->t[first + i].data, a->t[first + i].nbytes, first + i};
    qsort(ord, (size_t)cnt, sizeof(span), by_begin);
    uintptr_t reach = 0;
    int last = -1;
    for (int i = 0; i < cnt && !rc; i++) {
        if (!ord[i].nbytes) continue;
        if (ord[i].begin < reach)
            rc = err_set("%s: tensors \"%s\" and \"%s\" overlap in the data section", file, a->t[last].name,
                         a->t[ord[i].idx].name);
        reach = ord[i].begin + ord[i].nbytes;
        last = ord[i].idx;
    }
    free(ord);
    for (int i = first; i < a->n; i++) a->t[i].data = data + (uintptr_t)a->t[i].data;
    return rc;
}

static int file_add(st_archive *a, const char *path) {
    st_file *nf = mem_realloc(a->files, sizeof(st_file) * (size_t)(a->nfiles + 1));
    if (!nf) return -1;
    a->files = nf;
    st_file *f = &a->files[a->nfiles];
    memset(f, 0, sizeof *f);
    if (!(f->path = mem_strdup(path))) return -1;
    a->nfiles++;
    return a->nfiles - 1;
}

static int map_file(st_archive *a, const char *path) {
    int fi = file_add(a, path);
    if (fi < 0) return ERR_FAIL;
    st_file *f = &a->files[fi];
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return err_errno("cannot open safetensors file %s", path);
    struct stat st;
    if (fstat(fd, &st) != 0) {
        close(fd);
        return err_errno("cannot stat %s", path);
    }
    if (!S_ISREG(st.st_mode)) {
        close(fd);
        return err_set("%s is not a regular file", path);
    }
    f->size = (size_t)st.st_size;
    if (f->size == 0) {
        close(fd);
        return err_set("%s: empty file (truncated safetensors)", path);
    }
    void *m = mmap(NULL, f->size, PROT_READ, MAP_PRIVATE, fd, 0);
    close(fd);
    if (m == MAP_FAILED) return err_errno("cannot mmap %s", path);
    f->base = m;
    f->mapped = 1;
    return parse_file(a, fi);
}

static st_archive *archive_new(const char *path) {
    st_archive *a = mem_calloc(1, sizeof *a);
    if (a && !(a->path = mem_strdup(path))) {
        free(a);
        a = NULL;
    }
    return a;
}

int st_open_buffer(st_archive **out, const void *data, size_t n, const char *name) {
    *out = NULL;
    st_archive *a = archive_new(name);
    if (!a) return ERR_FAIL;
    int fi = file_add(a, name);
    if (fi < 0 || (a->files[fi].base = data, a->files[fi].size = n, parse_file(a, fi)) || index_names(a)) {
        st_close(a);
        return ERR_FAIL;
    }
    *out = a;
    return 0;
}

static int open_index(st_archive *a, const char *index_path, const char *dir) {
    cJSON *j = json_load_file(index_path);
    if (!j) return ERR_FAIL;
    int rc = 0;
    const cJSON *wm = cJSON_GetObjectItemCaseSensitive(j, "weight_map");
    if (!cJSON_IsObject(wm)) rc = err_set("%s: missing or non-object \"weight_map\"", index_path);
    const cJSON *md = cJSON_GetObjectItemCaseSensitive(j, "metadata");
    for (const cJSON *m = cJSON_IsObject(md) ? md->child : NULL; m && !rc; m = m->next) {
        char num[64];
        if (cJSON_IsString(m))
            rc = meta_add(a, m->string, m->valuestring);
        else if (cJSON_IsNumber(m)) {
            snprintf(num, sizeof num, "%.17g", m->valuedouble);
            rc = meta_add(a, m->string, num);
        }
    }
    // open each distinct shard once, in order of first mention
    for (const cJSON *e = wm ? wm->child : NULL; e && !rc; e = e->next) {
        if (!cJSON_IsString(e)) {
            rc = err_set("%s: weight_map entry \"%s\" is not a file name", index_path, e->string);
            break;
        }
        const char *s = e->valuestring;
        if (!*s || strchr(s, '/') || strcmp(s, "..") == 0) {
            rc = err_set("%s: tensor \"%s\" maps to \"%s\", which is not a file name in the same directory",
                         index_path, e->string, s);
            break;
        }
        char *p = path_join(dir, s);
        if (!p) {
            rc = ERR_FAIL;
            break;
        }
        int seen = 0;
        for (int i = 0; i < a->nfiles; i++) seen |= strcmp(a->files[i].path, p) == 0;
        if (!seen && map_file(a, p)) rc = err_wrap("shard named by %s", index_path);
        free(p);
    }
    if (!rc) rc = index_names(a);
    // every entry of the map must be in the shard it names
    for (const cJSON *e = wm ? wm->child : NULL; e && !rc; e = e->next) {
        const st_tensor *t = st_find(a, e->string);
        size_t dl = strlen(t ? t->file : ""), sl = strlen(e->valuestring);
        if (!t || dl < sl || strcmp(t->file + dl - sl, e->valuestring) != 0)
            rc = err_set("%s: tensor \"%s\" is mapped to %s, but that shard does not contain it", index_path,
                         e->string, e->valuestring);
    }
    cJSON_Delete(j);
    return rc;
}

static int ends_with(const char *s, const char *suf) {
    size_t a = strlen(s), b = strlen(suf);
    return a >= b && strcmp(s + a - b, suf) == 0;
}

int st_open(st_archive **out, const char *path) {
    *out = NULL;
    st_archive *a = archive_new(path);
    if (!a) return ERR_FAIL;
    int rc;
    if (file_is_dir(path)) {
        char *idx = path_join(path, "model.safetensors.index.json");
        char *one = path_join(path, "model.safetensors");
        if (!idx || !one)
            rc = ERR_FAIL;
        else if (file_exists(idx))
            rc = open_index(a, idx, path);
        else if (file_exists(one))
            rc = map_file(a, one) || index_names(a);
        else
            rc = err_set("%s: no model.safetensors or model.safetensors.index.json in this directory", path);
        free(idx);
        free(one);
    } else if (ends_with(path, ".index.json")) {
        char *dir = mem_strdup(path);
        char *slash = dir ? strrchr(dir, '/') : NULL;
        if (dir) {
            if (slash)
                *slash = 0;
            else
                strcpy(dir, ".");
        }
        rc = dir ? open_index(a, path, dir) : ERR_FAIL;
        free(dir);
    } else {
        rc = map_file(a, path) || index_names(a);
    }
    if (rc) {
        st_close(a);
        return ERR_FAIL;
    }
    *out = a;
    return 0;
}

static void shape_str(char *buf, size_t cap, const int64_t *shape, int ndim) {
    size_t k = (size_t)snprintf(buf, cap, "[");
    for (int d = 0; d < ndim && k < cap; d++) k += (size_t)snprintf(buf + k, cap - k, d ? ", %lld" : "%lld", (long long)shape[d]);
    if (k < cap) snprintf(buf + k, cap - k, "]");
}

int st_read_f32(const st_archive *a, const char *name, float *dst, const int64_t *shape, int ndim) {
    const st_tensor *t = st_find(a, name);
    if (!t) return err_set("%s: tensor \"%s\" not found (%d tensors present)", a->path, name, a->n);
    int same = t->ndim == ndim;
    for (int d = 0; same && d < ndim; d++) same = t->shape[d] == shape[d];
    if (!same) {
        char have[160], want[160];
        shape_str(have, sizeof have, t->shape, t->ndim);
        shape_str(want, sizeof want, shape, ndim);
        return err_set("%s: tensor \"%s\" has shape %s, expected %s", t->file, name, have, want);
    }
    size_t n = (size_t)t->numel;
    switch (t->dtype) {
    case ST_F32: memcpy(dst, t->data, n * 4); break;
    case ST_BF16: st_bf16_to_f32_n(dst, t->data, n); break;
    case ST_F16: st_f16_to_f32_n(dst, t->data, n); break;
    case ST_F64:
        for (size_t i = 0; i < n; i++) {
            double v;
            memcpy(&v, (const uint8_t *)t->data + 8 * i, 8);
            dst[i] = (float)v;
        }
        break;
    default:
        return err_set("%s: tensor \"%s\" has dtype %s; expected a float tensor (F32, BF16, F16 or F64)", t->file,
                       name, st_dtype_name(t->dtype));
    }
    return 0;
}
