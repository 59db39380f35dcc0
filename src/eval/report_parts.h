// The pieces of a demo report that both demos (report.c, report_movielens.c) write.
#pragma once
#include <cjson/cJSON.h>
#include <stdio.h>

#include "base/file.h"
#include "eval/results.h"

// Stage markers of DIR/.done, oldest first; returns how many (<= max). Caller frees each.
int report_load_stages(const char *dir, cJSON **out, int max);
// One PNG per run with the series given (tfevents tags), through gnuplot; a note when absent.
int report_plot(const char *dir, const char *name, const char *run, const char *const *tags, int ntags, FILE *md);
// "- **holds** text: detail" or "- **does not hold** ...".
void report_finding(FILE *md, int holds, const char *text, const char *detail);
// Stage 1 on DIR/config/heldout.json before (models/base_itemic) and after (runs/stage1).
void report_stage1_finding(FILE *md, const char *dir);
// Loss curves of runs/{base,stage1,stage2,sft}, distillation's KL and RL's reward.
void report_curves(FILE *md, const char *dir);
// The stage table (name, seconds, command); frees the markers.
void report_stage_table(FILE *md, cJSON **st, int ns);
// A results entry or NAN.
double report_get(const results_table *r, const char *sys, const char *task, const char *metric);
// The start of a report: DIR/results.json (r), DIR/plots/, DIR/report.md opened in af with
// "# title (size S)" and the stages' time line; the stage markers into st (report_stage_table frees
// them).
int report_begin(const char *dir, const results_table *r, const char *title, const char *size, const char *rerun,
                 double seconds, afile *af, cJSON **st, int max, int *ns);
// DIR/<run>/<the run's latest checkpoint>, or NULL when the run has none.
char *report_latest_model(const char *dir, const char *run);
