#include "train/dataset.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "base/file.h"
#include "base/json.h"
#include "base/mem.h"

static const char *KNOWN_KEYS[] = {
    "name", "sources", "base_model_dir", "max_length", "max_sample_length", "num_epochs",
    "num_workers", "cut_to_pad", "full_attention", "local_shuffle_buffer_size",
    "local_shuffle_random_fetch", "itemic_id_range", "add_think_pattern", "only_assistant_loss",
};
#define NKNOWN (int)(sizeof KNOWN_KEYS / sizeof KNOWN_KEYS[0])

// Defaults when a key is absent (reference values where it has one).
void train_dataset_config_default(train_dataset_config *c) {
    *c = (train_dataset_config){
        .max_length = 32768,
        .max_sample_length = 32768,
        .num_epochs = 1,
        .num_workers = 1,
        .cut_to_pad = 1,
        .local_shuffle_buffer_size = 0,
        .itemic_lo = 151669,
        .itemic_hi = 176246,
        .only_assistant_loss = 1,
    };
}

// "a/b/c.json" -> malloc'd "a/b" ("." when there is no slash)
static char *train_path_dir(const char *path) {
    const char *s = strrchr(path, '/');
    if (!s) return mem_strdup(".");
    if (s == path) return mem_strdup("/");
    return mem_strndup(path, (size_t)(s - path));
}

// A path in a dataset config: p itself when absolute or existing, else relative to the config's
// directory (base_dir/p).
static char *train_path_resolve(const char *p, const char *base_dir) {
    if (p[0] == '/' || file_exists(p) || !base_dir) return mem_strdup(p);
    return path_join(base_dir, p);
}

static int push_file(char ***files, int *n, char *path) {
    char **f = mem_realloc(*files, sizeof(char *) * (size_t)(*n + 1));
    if (!f) {
        free(path);
        return ERR_FAIL;
    }
    f[(*n)++] = path;
    *files = f;
    return 0;
}

int train_file_list_load(const char *path, char ***files, int *nfiles) {
    cJSON *j = json_load_file(path);
    if (!j) return err_wrap("file list");
    int rc = 0;
    if (!cJSON_IsArray(j)) {
        rc = err_set("file list %s: expected a JSON array of parquet paths", path);
        goto done;
    }
    char *dir = train_path_dir(path);
    int i = 0;
    const cJSON *it;
    cJSON_ArrayForEach(it, j) {
        if (!cJSON_IsString(it) || !it->valuestring[0]) {
            rc = err_set("file list %s: entry %d is not a non-empty string", path, i);
            break;
        }
        char *p = train_path_resolve(it->valuestring, dir);
        if (!p || push_file(files, nfiles, p)) {
            rc = ERR_FAIL;
            break;
        }
        i++;
    }
    free(dir);
    if (!rc && i == 0) rc = err_set("file list %s: no files listed", path);
done:
    cJSON_Delete(j);
    return rc;
}

// `sources` is a file_list.json path, a parquet path, or an array of either.
static int add_source(train_dataset_config *c, const char *s, const char *base_dir, const char *where) {
    char *p = train_path_resolve(s, base_dir);
    if (!p) return ERR_FAIL;
    size_t n = strlen(p);
    if (n >= 5 && !strcmp(p + n - 5, ".json")) {
        int rc = train_file_list_load(p, &c->files, &c->nfiles);
        free(p);
        return rc ? err_wrap("%s: key \"sources\"", where) : 0;
    }
    if (!file_exists(p)) {
        err_set("%s: key \"sources\": %s does not exist", where, p);
        free(p);
        return ERR_FAIL;
    }
    return push_file(&c->files, &c->nfiles, p);
}

static int get_int_range(const cJSON *j, const char *key, int def, int lo, int hi, int *out,
                         const char *where) {
    int64_t v;
    if (json_opt_int(j, key, def, &v, where)) return ERR_FAIL;
    if (v < lo || v > hi) return err_set("%s: key \"%s\" = %lld is out of range [%d, %d]", where, key, (long long)v, lo, hi);
    *out = (int)v;
    return 0;
}

int train_dataset_config_from_json(train_dataset_config *c, const cJSON *j, const char *where,
                                   const char *base_dir) {
    train_dataset_config_default(c);
    if (!cJSON_IsObject(j)) return err_set("%s: the dataset config must be a JSON object", where);
    const cJSON *it;
    cJSON_ArrayForEach(it, j) {
        int k = 0;
        while (k < NKNOWN && strcmp(KNOWN_KEYS[k], it->string)) k++;
        if (k == NKNOWN) {
            char known[512] = "";
            for (k = 0; k < NKNOWN; k++) {
                strcat(known, k ? ", " : "");
                strcat(known, KNOWN_KEYS[k]);
            }
            return err_set("%s: unknown key \"%s\" (known keys: %s)", where, it->string, known);
        }
    }
    int rc = ERR_FAIL;
    const char *name = json_get_string(j, "name", where);
    if (!name) goto fail;
    if (strcmp(name, "chat_completion_parquet"))
        { err_set("%s: key \"name\" = \"%s\": only \"chat_completion_parquet\" is supported", where, name); goto fail; }
    c->name = mem_strdup(name);
    const cJSON *src = cJSON_GetObjectItemCaseSensitive(j, "sources");
    if (!src) { err_set("%s: missing key \"sources\" (a file_list.json path)", where); goto fail; }
    if (cJSON_IsString(src)) {
        if (add_source(c, src->valuestring, base_dir, where)) goto fail;
    } else if (cJSON_IsArray(src) && cJSON_GetArraySize(src) > 0) {
        const cJSON *s;
        cJSON_ArrayForEach(s, src) {
            if (!cJSON_IsString(s)) { err_set("%s: key \"sources\": entries must be strings", where); goto fail; }
            if (add_source(c, s->valuestring, base_dir, where)) goto fail;
        }
    } else {
        err_set("%s: key \"sources\" must be a path or a non-empty array of paths", where);
        goto fail;
    }
    const cJSON *bm = cJSON_GetObjectItemCaseSensitive(j, "base_model_dir");
    if (bm) {
        if (!cJSON_IsString(bm)) { err_set("%s: key \"base_model_dir\" must be a string", where); goto fail; }
        c->base_model_dir = mem_strdup(bm->valuestring);
    }
    if (get_int_range(j, "max_length", c->max_length, 2, 1 << 24, &c->max_length, where)) goto fail;
    if (get_int_range(j, "max_sample_length", c->max_length, 1, 1 << 30, &c->max_sample_length, where)) goto fail;
    if (get_int_range(j, "num_epochs", c->num_epochs, 1, 1 << 20, &c->num_epochs, where)) goto fail;
    if (get_int_range(j, "num_workers", c->num_workers, 0, 1024, &c->num_workers, where)) goto fail;
    if (get_int_range(j, "local_shuffle_buffer_size", 0, 0, 1 << 24, &c->local_shuffle_buffer_size, where)) goto fail;
    if (json_opt_bool(j, "cut_to_pad", c->cut_to_pad, &c->cut_to_pad, where)) goto fail;
    if (json_opt_bool(j, "full_attention", 0, &c->full_attention, where)) goto fail;
    if (json_opt_bool(j, "add_think_pattern", 0, &c->add_think_pattern, where)) goto fail;
    if (json_opt_bool(j, "only_assistant_loss", 1, &c->only_assistant_loss, where)) goto fail;
    if (json_opt_double(j, "local_shuffle_random_fetch", 0, &c->local_shuffle_random_fetch, where)) goto fail;
    if (!(c->local_shuffle_random_fetch >= 0 && c->local_shuffle_random_fetch <= 1))
        { err_set("%s: key \"local_shuffle_random_fetch\" must be in [0, 1]", where); goto fail; }
    const cJSON *r = cJSON_GetObjectItemCaseSensitive(j, "itemic_id_range");
    if (r) {
        if (!cJSON_IsArray(r) || cJSON_GetArraySize(r) != 2 || !cJSON_IsNumber(cJSON_GetArrayItem(r, 0)) ||
            !cJSON_IsNumber(cJSON_GetArrayItem(r, 1)))
            { err_set("%s: key \"itemic_id_range\" must be [first, last] token ids", where); goto fail; }
        double lo = cJSON_GetArrayItem(r, 0)->valuedouble, hi = cJSON_GetArrayItem(r, 1)->valuedouble;
        if (!(lo >= 0 && hi <= INT32_MAX && lo == floor(lo) && hi == floor(hi)))   // before the casts
            { err_set("%s: key \"itemic_id_range\" = [%g, %g]: token ids are integers in [0, 2^31)", where, lo, hi); goto fail; }
        c->itemic_lo = (int)lo;
        c->itemic_hi = (int)hi;
        if (c->itemic_lo < 0 || c->itemic_hi < c->itemic_lo)
            { err_set("%s: key \"itemic_id_range\" = [%d, %d] is not an increasing range", where, c->itemic_lo, c->itemic_hi); goto fail; }
    }
    return 0;
fail:
    rc = ERR_FAIL;
    train_dataset_config_free(c);
    return rc;
}

int train_dataset_config_load(train_dataset_config *c, const char *path) {
    cJSON *j = json_load_file(path);
    if (!j) {
        train_dataset_config_default(c);
        return err_wrap("dataset config");
    }
    char *dir = train_path_dir(path);
    char where[600];
    snprintf(where, sizeof where, "dataset config %s", path);
    int rc = train_dataset_config_from_json(c, j, where, dir);
    free(dir);
    cJSON_Delete(j);
    return rc;
}

void train_dataset_config_free(train_dataset_config *c) {
    free(c->name);
    free(c->base_model_dir);
    for (int i = 0; i < c->nfiles; i++) free(c->files[i]);
    free(c->files);
    memset(c, 0, sizeof *c);
}
