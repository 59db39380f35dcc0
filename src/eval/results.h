// Result tables: system ("model", "popularity", "item_knn", "sasrec", "oracle", ...) -> task ->
// metric -> value, saved as JSON (results.json) and rendered as one Markdown table with a row per
// (task, metric) and a column per system. Systems and tasks keep the order they were first added.
#pragma once
#include <cjson/cJSON.h>

#include "eval/metrics_rank.h"

typedef struct {
    cJSON *root;   // {system: {task: {metric: value}}}
} results_table;

int results_init(results_table *r);
void results_free(results_table *r);
// Reads an existing results.json (to add a system to it); a missing file gives an empty table.
int results_load(results_table *r, const char *path);
// Copies every numeric entry of another results.json into r (a later file wins on equal keys; a
// missing file adds nothing).
int results_merge_file(results_table *r, const char *path);
int results_set(results_table *r, const char *system, const char *task, const char *metric, double value);
// Returns 0 and *value, or ERR_FAIL when that entry is absent.
int results_get(const results_table *r, const char *system, const char *task, const char *metric, double *value);
// Adds pass@k, position1_pass@k, recall@k and ndcg@k for every cut-off k of m, plus "samples".
int results_add_rec(results_table *r, const char *system, const char *task, const rec_metrics *m);
// Before the work: the --results / --markdown paths are not directories, and dead runs'
// temporaries beside them are removed (base/outdir.h). Either may be NULL.
int results_prepare_files(const char *json_path, const char *md_path);
int results_save_json(const results_table *r, const char *path);
// malloc'd Markdown; "-" where a system has no value for a row.
char *results_markdown(const results_table *r);
int results_save_markdown(const results_table *r, const char *path);
