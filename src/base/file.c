#include "base/file.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/err.h"
#include "base/mem.h"

int afile_open(afile *af, const char *path) {
    memset(af, 0, sizeof *af);
    af->path = mem_strdup(path);
    af->tmp = mem_printf("%s.tmp.%d", path, (int)getpid());
    if (!af->path || !af->tmp) {
        afile_abort(af);
        return ERR_FAIL;
    }
    af->fp = fopen(af->tmp, "wb");
    if (!af->fp) {
        err_errno("cannot write %s", af->tmp);
        afile_abort(af);
        return ERR_FAIL;
    }
    return 0;
}

void afile_abort(afile *af) {
    if (af->fp) fclose(af->fp);
    if (af->tmp) unlink(af->tmp);
    free(af->path);
    free(af->tmp);
    memset(af, 0, sizeof *af);
}

int afile_commit(afile *af) {
    int bad = fflush(af->fp) != 0 || ferror(af->fp);
    if (!bad) bad = fsync(fileno(af->fp)) != 0;
    if (bad) err_errno("writing %s", af->path);
    if (fclose(af->fp) != 0 && !bad) bad = err_errno("closing %s", af->path) != 0;
    af->fp = NULL;
    if (!bad && rename(af->tmp, af->path) != 0) bad = err_errno("renaming %s to %s", af->tmp, af->path) != 0;
    if (bad) {
        afile_abort(af);
        return ERR_FAIL;
    }
    free(af->path);
    free(af->tmp);
    memset(af, 0, sizeof *af);
    return 0;
}

int file_write_atomic(const char *path, const void *data, size_t n) {
    afile af;
    if (afile_open(&af, path)) return ERR_FAIL;
    if (n && fwrite(data, 1, n, af.fp) != n) {
        err_errno("writing %s", path);
        afile_abort(&af);
        return ERR_FAIL;
    }
    return afile_commit(&af);
}

int file_read_all(const char *path, char **data, size_t *n) {
    *data = NULL;
    if (n) *n = 0;
    FILE *fp = fopen(path, "rb");
    if (!fp) return err_errno("cannot open %s", path);
    if (file_is_dir(path)) {   // fopen opens a directory for reading; fread then fails
        fclose(fp);
        return err_set("%s is a directory, not a file", path);
    }
    size_t cap = 1 << 16, len = 0;
    char *buf = mem_alloc(cap);
    while (buf) {
        size_t got = fread(buf + len, 1, cap - len - 1, fp);
        len += got;
        if (len + 1 < cap) break;
        char *nb = mem_realloc(buf, cap * 2);
        if (!nb) {
            free(buf);
            buf = NULL;
            break;
        }
        buf = nb;
        cap *= 2;
    }
    int bad = ferror(fp);
    fclose(fp);
    if (!buf) return err_wrap("reading %s", path);
    if (bad) {
        free(buf);
        return err_set("read error on %s", path);
    }
    buf[len] = 0;
    *data = buf;
    if (n) *n = len;
    return 0;
}

int file_copy(const char *src, const char *dst) {
    FILE *in = fopen(src, "rb");
    if (!in) return err_errno("cannot open %s", src);
    afile af;
    if (afile_open(&af, dst)) {
        fclose(in);
        return ERR_FAIL;
    }
    char buf[1 << 16];
    size_t got;
    int bad = 0;
    while (!bad && (got = fread(buf, 1, sizeof buf, in)) > 0)
        if (fwrite(buf, 1, got, af.fp) != got) bad = err_errno("writing %s", dst) != 0;
    if (!bad && ferror(in)) bad = err_set("read error on %s", src) != 0;
    fclose(in);
    if (bad) {
        afile_abort(&af);
        return ERR_FAIL;
    }
    return afile_commit(&af);
}

int file_mkdirs(const char *path) {
    char *p = mem_strdup(path);
    if (!p) return ERR_FAIL;
    for (char *s = p + 1;; s++) {
        if (*s == '/' || *s == 0) {
            char c = *s;
            *s = 0;
            if (mkdir(p, 0777) != 0 && errno != EEXIST) {
                int r = err_errno("cannot create directory %s", p);
                free(p);
                return r;
            }
            *s = c;
            if (!c) break;
        }
    }
    free(p);
    if (!file_is_dir(path)) return err_set("%s exists and is not a directory", path);
    return 0;
}

int file_exists(const char *path) { return access(path, F_OK) == 0; }

int file_is_dir(const char *path) {
    struct stat st;
    return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

long long file_size(const char *path) {
    struct stat st;
    return stat(path, &st) == 0 ? (long long)st.st_size : -1;
}

int file_remove_tree(const char *path) {
    struct stat st;
    if (lstat(path, &st) != 0) return errno == ENOENT ? 0 : err_errno("cannot stat %s", path);
    if (!S_ISDIR(st.st_mode)) return unlink(path) == 0 ? 0 : err_errno("cannot remove %s", path);
    DIR *d = opendir(path);
    if (!d) return err_errno("cannot open directory %s", path);
    struct dirent *e;
    int rc = 0;
    while (!rc && (e = readdir(d))) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
        char *child = path_join(path, e->d_name);
        rc = child ? file_remove_tree(child) : ERR_FAIL;
        free(child);
    }
    closedir(d);
    if (!rc && rmdir(path) != 0) rc = err_errno("cannot remove directory %s", path);
    return rc;
}

int file_rename_new(const char *src, const char *dst) {
    if (renameat2(AT_FDCWD, src, AT_FDCWD, dst, RENAME_NOREPLACE) == 0) return 0;
    if (errno == EEXIST) return 1;
    if (errno != EINVAL && errno != ENOSYS) return err_errno("cannot rename %s to %s", src, dst);
    // a file system without RENAME_NOREPLACE: check, then rename (a narrow race, never a silent loss
    // of a directory: rename refuses a non-empty one)
    struct stat st;
    if (lstat(dst, &st) == 0) return 1;
    return rename(src, dst) == 0 ? 0 : err_errno("cannot rename %s to %s", src, dst);
}

int dir_commit(const char *tmp_dir, const char *dst) {
    struct stat st;
    if (lstat(dst, &st) == 0 && renameat2(AT_FDCWD, tmp_dir, AT_FDCWD, dst, RENAME_EXCHANGE) == 0)
        return file_remove_tree(tmp_dir);   // it holds the old `dst` now
    char *old = NULL;
    if (file_exists(dst)) {
        old = mem_printf("%s.old.%d", dst, (int)getpid());
        if (!old) return ERR_FAIL;
        file_remove_tree(old);
        if (rename(dst, old) != 0) {
            int r = err_errno("cannot move %s aside", dst);
            free(old);
            return r;
        }
    }
    if (rename(tmp_dir, dst) != 0) {
        int r = err_errno("cannot rename %s to %s", tmp_dir, dst);
        if (old) rename(old, dst);
        free(old);
        return r;
    }
    int rc = old ? file_remove_tree(old) : 0;
    free(old);
    return rc;
}

char *path_join(const char *a, const char *b) {
    size_t la = strlen(a);
    if (la && a[la - 1] == '/') return mem_printf("%s%s", a, b);
    return mem_printf("%s/%s", a, b);
}
