#include "cli/demo.h"

#include <cjson/cJSON.h>
#include <fcntl.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/err.h"
#include "base/file.h"
#include "base/json.h"
#include "base/log.h"
#include "eval/report.h"
#include "formats/hfconfig.h"
#include "text/tokenizer.h"

extern char **environ;

int demo_init(demo *d, const char *dir, int64_t seed) {
    memset(d, 0, sizeof *d);
    d->dir = dir, d->seed = seed;
    ssize_t n = readlink("/proc/self/exe", d->exe, sizeof d->exe - 1);
    if (n <= 0) return err_errno("cannot find the onerec executable");
    d->exe[n] = 0;
    return 0;
}

char *demo_path(const demo *d, const char *rel) { return mem_printf("%s/%s", d->dir, rel); }
char *demo_seed(const demo *d) { return mem_printf("%lld", (long long)d->seed); }

int demo_dirs(const demo *d, const char *const *sub, int nsub) {
    int rc = file_mkdirs(d->dir);
    const char *own[2] = {".done", "logs"};
    for (int i = 0; !rc && i < 2 + nsub; i++) {
        char *p = demo_path(d, i < 2 ? own[i] : sub[i - 2]);
        rc = p ? file_mkdirs(p) : ERR_FAIL;
        free(p);
    }
    return rc;
}

int demo_stage(demo *d, const char *name, char *const *argv) {
    d->step++;
    char *done = mem_printf("%s/.done/%s", d->dir, name), *logp = mem_printf("%s/logs/%s.log", d->dir, name);
    if (!done || !logp) return ERR_FAIL;
    if (file_exists(done)) {
        log_info("[%2d/%d] %-18s already complete (skipped)", d->step, d->nsteps, name);
        free(done), free(logp);
        return 0;
    }
    log_info("[%2d/%d] %-18s ...", d->step, d->nsteps, name);
    double t0 = time_now();
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 1, logp, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    posix_spawn_file_actions_adddup2(&fa, 1, 2);
    int n = 0;
    while (argv[n]) n++;
    char **full = mem_calloc((size_t)n + 2, sizeof(char *));
    int rc = full ? 0 : ERR_FAIL, status = 0;
    pid_t pid;
    if (full) {
        full[0] = d->exe;
        for (int i = 0; i < n; i++) full[i + 1] = argv[i];
        rc = posix_spawn(&pid, d->exe, &fa, NULL, full, environ);
        if (rc == 0) waitpid(pid, &status, 0);
    }
    posix_spawn_file_actions_destroy(&fa);
    free(full);
    double dt = time_now() - t0;
    if (rc != 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        rc = err_set("stage %s failed (see %s; its last lines say why)", name, logp);
    } else {
        rc = report_mark_done(done, name, dt, argv);
        log_info("[%2d/%d] %-18s done in %.1f s", d->step, d->nsteps, name, dt);
    }
    free(done), free(logp);
    return rc;
}

int demo_dataset(const demo *d, const char *name, const char *const *sources, int n, int think, int itemic_lo,
                 int itemic_hi, int assistant_only) {
    cJSON *j = cJSON_CreateObject();
    cJSON_AddStringToObject(j, "name", "chat_completion_parquet");
    cJSON *s = cJSON_AddArrayToObject(j, "sources");
    for (int i = 0; i < n; i++) cJSON_AddItemToArray(s, cJSON_CreateString(sources[i]));
    cJSON_AddNumberToObject(j, "max_length", d->max_len);
    cJSON_AddNumberToObject(j, "max_sample_length", 4 * d->max_len);
    cJSON_AddNumberToObject(j, "num_epochs", 100);
    cJSON_AddNumberToObject(j, "cut_to_pad", 1);
    cJSON_AddNumberToObject(j, "local_shuffle_buffer_size", 1000);
    cJSON_AddBoolToObject(j, "add_think_pattern", think);
    cJSON_AddBoolToObject(j, "only_assistant_loss", assistant_only);
    if (itemic_hi > itemic_lo) {
        cJSON *r = cJSON_AddArrayToObject(j, "itemic_id_range");
        cJSON_AddItemToArray(r, cJSON_CreateNumber(itemic_lo));
        cJSON_AddItemToArray(r, cJSON_CreateNumber(itemic_hi));
    }
    char *path = mem_printf("%s/config/%s.json", d->dir, name);
    int rc = path ? json_save_file(path, j) : ERR_FAIL;
    free(path);
    cJSON_Delete(j);
    return rc;
}

int demo_model_config(const demo *d, const demo_model *m, int vocab) {
    hf_config c = {.hidden_size = m->hidden, .intermediate_size = m->ffn, .num_hidden_layers = m->layers,
                   .num_attention_heads = m->heads, .num_key_value_heads = m->kv, .head_dim = m->head_dim,
                   .vocab_size = vocab, .max_position_embeddings = 4096, .tie_word_embeddings = 1,
                   .rope_theta = 1000000.0, .rms_norm_eps = 1e-6, .bos_token_id = -1, .eos_token_id = -1};
    char *path = demo_path(d, "config/model.json");
    int rc = path ? hf_config_save(&c, path) : ERR_FAIL;
    free(path);
    return rc;
}

int demo_train(demo *d, const char *name, const char *model, const char *run, const char *dataset, int steps,
               const char *lr, const char *min_lr, const char *extra1, const char *extra2) {
    char *ckpt = I(steps > 4 ? steps / 2 : steps);
    return demo_stage(d, name, ARGV("train", "--model_dir", (char *)model, "--output_dir", demo_path(d, run), "--dataset_config",
                                    mem_printf("%s/config/%s.json", d->dir, dataset), "--learning_rate", (char *)lr, "--min_lr",
                                    (char *)min_lr, "--num_warmup_steps", I(steps / 10), "--num_training_steps", I(steps),
                                    "--save_checkpoint_per_step", ckpt, "--micro_batch_size", I(d->micro), "--seed",
                                    demo_seed(d), "--weight_decay", "0.0", "--plot",
                                    (char *)(extra1 ? extra1 : "--logging_per_step=1"),
                                    (char *)(extra2 ? extra2 : "--logging_per_step=1")));
}

char *demo_final_step(const demo *d, const char *run, int steps) { return mem_printf("%s/%s/step%d", d->dir, run, steps); }

int demo_tokenizer_len(const demo *d, int32_t *n) {
    char *p = demo_path(d, "tok/tokenizer.json");
    tokenizer *t;
    int rc = p ? tokenizer_load(&t, p) : ERR_FAIL;
    free(p);
    if (rc) return ERR_FAIL;
    *n = tokenizer_vocab_size(t);
    tokenizer_free(t);
    return 0;
}
