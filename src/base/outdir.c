#include "base/outdir.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/err.h"
#include "base/file.h"
#include "base/log.h"
#include "base/mem.h"

// The PID of a temporary named PREFIX.tmp.PID (prefix == base when base is given), or 0.
static long temp_pid(const char *name, const char *base) {
    const char *tail;
    if (base) {
        size_t n = strlen(base);
        if (strncmp(name, base, n) || strncmp(name + n, ".tmp.", 5)) return 0;
        tail = name + n + 5;
    } else {
        const char *t = strstr(name, ".tmp."), *next;
        if (!t || t == name) return 0;
        while ((next = strstr(t + 1, ".tmp.")))
            t = next;
        tail = t + 5;
    }
    size_t digits = strspn(tail, "0123456789");
    if (digits == 0 || digits > 9 || tail[digits]) return 0;
    return strtol(tail, NULL, 10);
}

// Only ESRCH proves a PID gone: EPERM means alive under another user, and a reused PID keeps the
// temporary (a leak, never a loss).
static int pid_dead(long pid) { return pid > 0 && pid != (long)getpid() && kill((pid_t)pid, 0) == -1 && errno == ESRCH; }

int outdir_clean_stale(const char *dir, const char *base, int depth) {
    DIR *d = opendir(dir);
    if (!d) return 0;
    int removed = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
        char *p = path_join(dir, e->d_name);
        if (!p) break;
        long pid = temp_pid(e->d_name, base);
        struct stat st;
        if (pid && pid_dead(pid)) {
            if (file_remove_tree(p) == 0) {
                log_info("removed %s (left by process %ld, which no longer runs)", p, pid);
                removed++;
            }
        } else if (depth > 0 && e->d_name[0] != '.' && lstat(p, &st) == 0 && S_ISDIR(st.st_mode)) {
            // not into hidden dirs (.git, .cache: other programs' temporaries) nor through links
            removed += outdir_clean_stale(p, base, depth - 1);
        }
        free(p);
    }
    closedir(d);
    err_clear();   // a temporary we could not remove is not this command's failure
    return removed;
}

// "a/b/" -> "a/b"; the last component and its parent ("." when none).
static char *trim_slashes(const char *path) {
    char *s = mem_strdup(path);
    size_t n = s ? strlen(s) : 0;
    while (n > 1 && s[n - 1] == '/') s[--n] = 0;
    return s;
}

static char *parent_of(const char *trimmed, const char **base) {
    const char *slash = strrchr(trimmed, '/');
    *base = slash ? slash + 1 : trimmed;
    if (!slash) return mem_strdup(".");
    return slash == trimmed ? mem_strdup("/") : mem_strndup(trimmed, (size_t)(slash - trimmed));
}

// The topmost missing ancestor of path (path itself when only it is missing), or NULL when it
// exists: what this process creates by `mkdir -p path`, and so may remove again.
static char *first_missing(const char *path) {
    struct stat st;
    if (lstat(path, &st) == 0) return NULL;
    char *cur = trim_slashes(path);
    while (cur) {
        const char *base;
        char *up = parent_of(cur, &base);
        if (!up || !strcmp(up, cur) || lstat(up, &st) == 0) {
            free(up);
            return cur;
        }
        free(cur);
        cur = up;
    }
    return NULL;
}

static int lock_take(outdir *o, const char *who) {
    char *lp = path_join(o->path, OUTDIR_LOCK_NAME);
    if (!lp) return ERR_FAIL;
    int fd = open(lp, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0) {
        err_errno("cannot open the lock file %s", lp);
        free(lp);
        return ERR_FAIL;
    }
    if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
        if (errno == EWOULDBLOCK) {
            char holder[256] = {0};
            ssize_t n = pread(fd, holder, sizeof holder - 1, 0);
            holder[n > 0 ? n : 0] = 0;
            holder[strcspn(holder, "\n")] = 0;
            err_set("%s is in use by %s (it holds %s): wait for it to finish or write elsewhere; nothing was written",
                    o->path, holder[0] ? holder : "another process", lp);
        } else {
            err_errno("cannot lock %s", lp);
        }
        close(fd);
        free(lp);
        return ERR_FAIL;
    }
    free(lp);
    char line[320];
    int n = snprintf(line, sizeof line, "pid %d (onerec %.200s)\n", (int)getpid(), who ? who : "?");
    if (ftruncate(fd, 0) != 0 || pwrite(fd, line, (size_t)n, 0) != n) log_warn("%s: cannot record the lock holder", o->path);
    o->lock_fd = fd;
    return 0;
}

static int open_into(outdir *o, const char *who) {
    struct stat st;
    if (stat(o->path, &st) == 0 && !S_ISDIR(st.st_mode))
        return err_set("%s exists and is not a directory: give a directory (nothing was written)", o->path);
    o->created = first_missing(o->path);
    if (file_mkdirs(o->path)) {
        free(o->created);
        o->created = NULL;
        return err_wrap("output dir %s is not usable", o->path);
    }
    o->work = mem_strdup(o->path);
    char *lp = o->work ? path_join(o->path, OUTDIR_LOCK_NAME) : NULL;
    int written_before = lp && file_exists(lp);
    free(lp);
    if (!o->work || lock_take(o, who)) return ERR_FAIL;
    // only where onerec wrote before (it left its lock file): a user's dir given as --out for the
    // first time may hold other programs' NAME.tmp.N. Depth: the demo's runs/NAME/stepN/FILE.tmp.PID
    if (written_before) outdir_clean_stale(o->path, NULL, 6);
    return 0;
}

static int open_replace(outdir *o) {
    char *trimmed = trim_slashes(o->path), *parent = NULL;
    const char *base = NULL;
    int rc = trimmed && (parent = parent_of(trimmed, &base)) ? 0 : ERR_FAIL;
    struct stat st;
    if (!rc && (!base[0] || !strcmp(base, ".") || !strcmp(base, "..")))
        rc = err_set("%s: give the name of the directory to write", o->path);
    if (!rc && lstat(o->path, &st) == 0 && !(o->flags & OUTDIR_FORCE))
        rc = err_set("%s already exists (use --force to replace it; nothing was written)", o->path);
    if (!rc) {
        outdir_clean_stale(parent, base, 0);
        o->work = mem_printf("%s.tmp.%d", trimmed, (int)getpid());
        rc = o->work ? 0 : ERR_FAIL;
    }
    // a same-named leftover can only be a dead process's that had our PID
    if (!rc) rc = file_remove_tree(o->work);
    if (!rc) o->created = first_missing(o->work);
    if (!rc) rc = file_mkdirs(o->work);
    free(trimmed), free(parent);
    return rc;
}

static void outdir_release(outdir *o) {
    if (o->path && o->lock_fd >= 0) close(o->lock_fd);   // a zeroed outdir holds no fd 0
    free(o->path), free(o->work), free(o->created);
    memset(o, 0, sizeof *o);
    o->lock_fd = -1;
}

int outdir_open(outdir *o, const char *path, const char *who, int flags) {
    memset(o, 0, sizeof *o);
    o->lock_fd = -1;
    o->flags = flags;
    if (!path || !path[0]) return err_set("no output path given");
    o->path = mem_strdup(path);
    int rc = o->path ? (flags & OUTDIR_REPLACE ? open_replace(o) : open_into(o, who)) : ERR_FAIL;
    if (rc) outdir_abort(o, NULL);
    return rc;
}

int outdir_commit(outdir *o) {
    if (o->flags & OUTDIR_REPLACE) {
        int rc = file_rename_new(o->work, o->path);
        if (rc == 1 && (o->flags & OUTDIR_FORCE)) rc = dir_commit(o->work, o->path);
        else if (rc == 1)
            rc = err_set("%s appeared while this command ran and was left as it is (use --force to replace it)", o->path);
        if (rc) {
            outdir_abort(o, NULL);
            return ERR_FAIL;
        }
    }
    outdir_release(o);
    return 0;
}

void outdir_abort(outdir *o, const char *keep) {
    err_saved saved;
    err_save(&saved);
    if (o->flags & OUTDIR_REPLACE) {
        if (o->work) file_remove_tree(o->created ? o->created : o->work);
    } else if (o->created) {
        char *k = keep && o->path ? path_join(o->path, keep) : NULL;
        if (!k || !file_exists(k)) file_remove_tree(o->created);
        free(k);
    }
    err_restore(&saved);
    outdir_release(o);
}

int outdir_close(outdir *o, int rc, const char *keep) {
    if (rc) {
        outdir_abort(o, keep);
        return rc;
    }
    return outdir_commit(o);
}

int outdir_check_input(const char *out, const char *input) {
    if (!out || !input) return 0;
    char *ro = realpath(out, NULL), *ri = realpath(input, NULL);
    size_t n = ro ? strlen(ro) : 0;
    int holds = ro && ri && !strncmp(ro, ri, n) && (ri[n] == 0 || ri[n] == '/' || !strcmp(ro, "/"));
    free(ro), free(ri);
    if (holds) return err_usage("--out %s holds the input %s: writing there would destroy what is read; give another --out", out, input);
    return 0;
}

int outdir_clean_beside(const char *path) {
    char *trimmed = trim_slashes(path), *parent = NULL;
    const char *base = NULL;
    if (trimmed && (parent = parent_of(trimmed, &base))) outdir_clean_stale(parent, base, 0);
    free(trimmed), free(parent);
    return 0;
}

int outdir_prepare_file(const char *path) {
    if (file_is_dir(path)) return err_set("%s is a directory: give a file name (nothing was written)", path);
    return outdir_clean_beside(path);
}
