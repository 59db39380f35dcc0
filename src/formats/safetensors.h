// safetensors: read (mmap, F32/BF16/F16 converted to f32 on request) and write, single files and
// sharded model dirs (model.safetensors.index.json). Format facts: reference/environment.md.
#pragma once
#include <stddef.h>
#include <stdint.h>

typedef enum { ST_F32, ST_BF16, ST_F16, ST_F64, ST_I64, ST_I32, ST_I16, ST_I8, ST_U8, ST_BOOL } st_dtype;

#define ST_MAX_DIMS 8
// JSON numbers are doubles: offsets and dims must stay exactly representable.
#define ST_MAX_INT 9007199254740992.0

typedef struct {
    const char *name;
    st_dtype dtype;
    int ndim;
    int64_t shape[ST_MAX_DIMS];
    int64_t numel;
    size_t nbytes;
    const void *data;     // points into the mmap of its file
    const char *file;     // the file it lives in (for messages)
} st_tensor;

// A set of tensors: one .safetensors file, or a dir with model.safetensors or an index + shards.
typedef struct st_archive st_archive;

int st_open(st_archive **out, const char *path);
void st_close(st_archive *a);
int st_count(const st_archive *a);
const st_tensor *st_get(const st_archive *a, int i);
const st_tensor *st_find(const st_archive *a, const char *name);     // NULL when absent
const char *st_metadata(const st_archive *a, const char *key);       // NULL when absent
// Copy a tensor as f32 into dst (numel floats), converting from F32/BF16/F16. The shape must equal
// `shape` (ndim dims); a missing tensor, another shape or a non-float dtype is an error naming the
// file and the tensor.
int st_read_f32(const st_archive *a, const char *name, float *dst, const int64_t *shape, int ndim);

const char *st_dtype_name(st_dtype t);
int st_dtype_parse(const char *s, st_dtype *t);
size_t st_dtype_size(st_dtype t);

// Writing: tensors given as f32, stored as `dtype` (F32, BF16 with round-to-nearest-even, F16).
typedef struct {
    const char *name;
    int ndim;
    int64_t shape[ST_MAX_DIMS];
    const float *data;
} st_item;

typedef struct {
    st_dtype dtype;             // storage dtype for every item
    size_t max_shard_bytes;     // 0: one file; else shards of at most this size plus an index
    const char **meta_keys;     // __metadata__ (string -> string), may be NULL
    const char **meta_values;
    int nmeta;
} st_write_options;

// Writes `path` (a .safetensors file) atomically.
int st_write_file(const char *path, const st_item *items, int n, const st_write_options *opt);
// Writes a model dir's weights: model.safetensors, or model-0000i-of-0000N.safetensors plus
// model.safetensors.index.json when the total exceeds max_shard_bytes. Every file is atomic.
int st_write_dir(const char *dir, const st_item *items, int n, const st_write_options *opt);
// The same for weights too large to hold at once: the items' data is not read; before each shard
// is written, src->load fills the data of its items (a copy of items[first .. first + k)), and
// src->release (may be NULL) is called after it, also when loading failed. *n_files (may be NULL)
// gets the number of weight files.
typedef struct {
    int (*load)(void *ctx, st_item *items, int first, int k);
    void (*release)(void *ctx, st_item *items, int k);
    void *ctx;
} st_source;
int st_write_dir_from(const char *dir, const st_item *items, int n, const st_write_options *opt, const st_source *src,
                      int *n_files);

// bf16/f16 conversions used by the readers and writers
float st_bf16_to_f32(uint16_t h);
uint16_t st_f32_to_bf16(float f);
float st_f16_to_f32(uint16_t h);
uint16_t st_f32_to_f16(float f);

// ---- additions (implementation side; the functions above are unchanged) ----
// Parses a safetensors image held in memory (not copied: `data` must outlive the archive).
// `name` is used in messages. Used by the fuzz target and for files read some other way.
int st_open_buffer(st_archive **out, const void *data, size_t n, const char *name);
// Bulk conversions (vectorised; src/dst of the 16-bit side may be unaligned).
void st_bf16_to_f32_n(float *dst, const void *src, size_t n);
void st_f32_to_bf16_n(void *dst, const float *src, size_t n);
void st_f16_to_f32_n(float *dst, const void *src, size_t n);
void st_f32_to_f16_n(void *dst, const float *src, size_t n);
