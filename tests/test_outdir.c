// base/outdir: the output rule in one process. A replace-mode output refuses an existing path
// without force and, with it, swaps in the new one leaving its neighbours alone; a directory
// written into is locked (a second open names this pid); a failure removes only what was created;
// stale temporaries go only when their name matches exactly and their PID is dead.
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/err.h"
#include "base/file.h"
#include "base/log.h"
#include "base/mem.h"
#include "base/outdir.h"
#include "test.h"

static char g_dir[256];

static char *P(const char *rel) { return path_join(g_dir, rel); }

static void put(const char *rel, const char *text) {
    char *p = P(rel);
    CHECK_OK(file_write_atomic(p, text, strlen(text)));
    free(p);
}

static int has(const char *rel) {
    char *p = P(rel);
    int e = file_exists(p);
    free(p);
    return e;
}

// The PID of a child that has exited and been reaped: certainly not running.
static int dead_pid(void) {
    pid_t c = fork();
    if (c == 0) _exit(0);
    waitpid(c, NULL, 0);
    return (int)c;
}

// an output that is, or holds, the input is refused as a usage error; a sibling is fine
static void test_check_input(void) {
    char *m = P("ci"), *cfg = P("ci/config.json"), *other = P("ci2"), *slash = mem_printf("%s/ci/", g_dir);
    CHECK_OK(file_mkdirs(m));
    CHECK_OK(file_mkdirs(other));
    put("ci/config.json", "{}");
    CHECK_FAILS_WITH(outdir_check_input(m, cfg), "holds the input");
    CHECK(err_is_usage());
    CHECK_FAILS_WITH(outdir_check_input(slash, m), "holds the input");
    CHECK_FAILS_WITH(outdir_check_input(g_dir, cfg), "holds the input");
    CHECK_OK(outdir_check_input(other, cfg));   // "ci2" does not hold "ci" although it starts alike
    CHECK_OK(outdir_check_input(cfg, m));       // a file inside the input dir holds nothing
    char *none = P("none");
    CHECK_OK(outdir_check_input(none, cfg));    // a new output holds nothing yet
    free(m), free(cfg), free(other), free(slash), free(none);
}

static void test_replace(void) {
    char *out = P("model"), tmpname[64];
    put("model", "not a model");
    put("model.partial", "someone's");
    outdir o;
    CHECK_FAILS_WITH(outdir_open(&o, out, "t", OUTDIR_REPLACE), "already exists (use --force");
    snprintf(tmpname, sizeof tmpname, "model.tmp.%d", (int)getpid());
    CHECK(!has(tmpname) && file_size(out) == 11);
    CHECK_OK(outdir_open(&o, out, "t", OUTDIR_REPLACE | OUTDIR_FORCE));
    char *f = path_join(o.work, "config.json");
    CHECK_OK(file_write_atomic(f, "{}", 2));
    CHECK_OK(outdir_commit(&o));
    CHECK(has("model/config.json") && has("model.partial"));
    // a failure removes the temporary and the parents it made, nothing else
    char *deep = P("new/sub/m");
    CHECK_OK(outdir_open(&o, deep, "t", OUTDIR_REPLACE));
    CHECK(has("new/sub"));
    outdir_abort(&o, NULL);
    CHECK(!has("new"));
    free(out), free(f), free(deep);
}

static void test_into_and_lock(void) {
    char *out = P("run");
    outdir a, b;
    CHECK_OK(outdir_open(&a, out, "train", 0));
    char line[64];
    snprintf(line, sizeof line, "in use by pid %d (onerec train)", (int)getpid());
    CHECK_FAILS_WITH(outdir_open(&b, out, "rl", 0), line);
    put("run/latest", "step1\n");
    outdir_abort(&a, "latest");   // it created run/, but a checkpoint is worth keeping
    CHECK(has("run/latest"));
    CHECK_OK(outdir_open(&b, out, "rl", 0));   // the lock went with the first
    CHECK_OK(outdir_commit(&b));
    char *fresh = P("ev/x");
    CHECK_OK(outdir_open(&a, fresh, "eval", 0));
    outdir_abort(&a, "latest");
    CHECK(!has("ev"));
    CHECK_OK(outdir_open(&a, out, "eval", 0));   // existing: a failure leaves it
    outdir_abort(&a, NULL);
    CHECK(has("run/latest"));
    char *file = P("run/latest");
    CHECK_FAILS_WITH(outdir_open(&a, file, "eval", 0), "is not a directory");
    free(out), free(fresh), free(file);
}

static void test_stale(void) {
    int dead = dead_pid(), live = (int)getppid();
    char name[128];
    const char *kept[] = {"a.tmp.x1", "b.tmp.", "c.tmp.1234567890123", ".tmp.1"};
    char *d = P("stale");
    CHECK_OK(file_mkdirs(d));
    for (size_t i = 0; i < sizeof kept / sizeof *kept; i++) {
        snprintf(name, sizeof name, "stale/%s", kept[i]);
        put(name, "x");
    }
    snprintf(name, sizeof name, "stale/live.tmp.%d", live);
    put(name, "x");
    snprintf(name, sizeof name, "stale/dead.tmp.%d", dead);
    put(name, "x");
    snprintf(name, sizeof name, "stale/sub/deep.parquet.tmp.%d", dead);
    char *deep = P(name);
    CHECK_OK(file_mkdirs(deep));   // a temporary dir (vocab expand, init, convert) goes whole
    free(deep);
    CHECK(outdir_clean_stale(d, "other", 1) == 0);   // only BASE.tmp.PID when a base is given
    CHECK(outdir_clean_stale(d, NULL, 0) == 1);      // not below without depth
    CHECK(outdir_clean_stale(d, NULL, 1) == 1);
    snprintf(name, sizeof name, "stale/sub/deep.parquet.tmp.%d", dead);
    CHECK(!has(name) && has("stale/sub"));
    snprintf(name, sizeof name, "stale/live.tmp.%d", live);
    CHECK(has(name));
    for (size_t i = 0; i < sizeof kept / sizeof *kept; i++) {
        snprintf(name, sizeof name, "stale/%s", kept[i]);
        CHECK_MSG(has(name), "%s was removed", kept[i]);
    }
    // a directory output cleans only where onerec wrote before (its lock file is there)
    char *u = P("user");
    CHECK_OK(file_mkdirs(u));
    snprintf(name, sizeof name, "user/theirs.tmp.%d", dead);
    put(name, "x");
    outdir o;
    CHECK_OK(outdir_open(&o, u, "eval", 0));
    CHECK(has(name));
    CHECK_OK(outdir_commit(&o));
    CHECK_OK(outdir_open(&o, u, "eval", 0));
    CHECK(!has(name));
    CHECK_OK(outdir_commit(&o));
    free(d), free(u);
}

int main(void) {
    log_set_level(LOG_WARN);   // the "removed ..." lines
    snprintf(g_dir, sizeof g_dir, "/tmp/onerec_test_outdir_%d", (int)getpid());
    file_mkdirs(g_dir);
    RUN(test_replace);
    RUN(test_check_input);
    RUN(test_into_and_lock);
    RUN(test_stale);
    file_remove_tree(g_dir);
    return test_summary("test_outdir");
}
