// Output locations: the one rule every command that writes follows (README, "Safety of outputs").
// A command never removes a path it did not create; with --force it replaces the one path it was
// asked to write, and nothing else. A directory written into is locked (DIR/.onerec.lock, flock)
// for the life of the process, so a second writer fails at once instead of mixing files. A run
// killed with -9 leaves NAME.tmp.PID temporaries; the next start in that location removes those
// whose PID no longer exists (never another live process's): beside a file or model-dir output
// only that output's own NAME, inside a directory output only when onerec wrote there before.
#pragma once

enum {
    OUTDIR_REPLACE = 1,   // a complete output built in PATH.tmp.PID, renamed into place by outdir_commit
    OUTDIR_FORCE = 2,     // with OUTDIR_REPLACE: an existing PATH (file or directory) may be replaced
};

#define OUTDIR_LOCK_NAME ".onerec.lock"

typedef struct {
    char *path;      // the output as given
    char *work;      // where to write: the temporary sibling (OUTDIR_REPLACE) or path itself
    char *created;   // the topmost directory this process created for the output (NULL: none)
    int lock_fd;     // -1 without a lock
    int flags;
} outdir;

// Without OUTDIR_REPLACE: PATH is a directory to write into (created when missing, with its
// parents), locked, and cleaned of dead runs' temporaries. With it: PATH must not exist unless
// OUTDIR_FORCE; the temporary sibling is created. `who` (e.g. "train") goes into the lock file so
// that a second writer can be told who holds it. Nothing is created or removed on failure.
int outdir_open(outdir *o, const char *path, const char *who, int flags);
// Success: renames the temporary into place (OUTDIR_REPLACE; an existing PATH is exchanged
// atomically and then removed), releases the lock, frees.
int outdir_commit(outdir *o);
// Failure: removes the temporary, or the directories this process created unless PATH/keep exists
// (keep: e.g. "latest", a finished checkpoint worth more than a clean slate); releases the lock,
// frees. The current error message is kept. Safe on a zeroed outdir.
void outdir_abort(outdir *o, const char *keep);
// The end of a command: outdir_commit when rc is 0, else outdir_abort(o, keep). Returns rc, or
// ERR_FAIL when the commit fails.
int outdir_close(outdir *o, int rc, const char *keep);

// Refuses (a usage error) an output that is the input or a directory holding it: replacing or
// writing into it (--force) would destroy what the command reads. 0 when out does not exist.
int outdir_check_input(const char *out, const char *input);

// A single-file output (written with afile, temp + rename): removes PATH.tmp.PID siblings of
// dead runs and refuses a directory at PATH.
int outdir_prepare_file(const char *path);
// The same cleaning for an output of any kind built in its own PATH.tmp.PID sibling.
int outdir_clean_beside(const char *path);
// Removes the temporaries of dead processes under dir: entries named BASE.tmp.PID (any BASE when
// base is NULL), descending `depth` levels into subdirectories. Returns how many were removed.
int outdir_clean_stale(const char *dir, const char *base, int depth);
