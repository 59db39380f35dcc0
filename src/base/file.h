// Files: atomic writes (temporary name, fsync, rename), directories, whole-file reads.
#pragma once
#include <stddef.h>
#include <stdio.h>

// A file being written atomically: it appears under `path` only on afile_commit.
typedef struct {
    FILE *fp;
    char *path;
    char *tmp;
} afile;

int afile_open(afile *af, const char *path);
int afile_commit(afile *af);     // flush, fsync, close, rename; on failure the tmp file is removed
void afile_abort(afile *af);     // close and remove the tmp file (safe on a zeroed afile)

int file_write_atomic(const char *path, const void *data, size_t n);
int file_read_all(const char *path, char **data, size_t *n);   // *data is NUL-terminated, free()
int file_copy(const char *src, const char *dst);                // atomic at dst
int file_mkdirs(const char *path);                              // mkdir -p
int file_exists(const char *path);
int file_is_dir(const char *path);
long long file_size(const char *path);                          // -1 when missing
int file_remove_tree(const char *path);                         // rm -rf (only for paths we created: base/outdir.h)
// Renames src to dst unless dst exists: 0, 1 when dst exists (nothing done), or ERR_FAIL.
int file_rename_new(const char *src, const char *dst);
// Replace `dst` by the complete directory `tmp_dir` (checkpoints, --force): an atomic exchange, the
// old one removed after; where the file system has none, the old one is moved aside first. Either
// way a crash leaves the old or the new one in place.
int dir_commit(const char *tmp_dir, const char *dst);
char *path_join(const char *a, const char *b);                  // malloc'd "a/b"
