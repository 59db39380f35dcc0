// The pieces of a demo report that both demos (report.c, report_movielens.c) write.
#pragma once
#include <cjson/cJSON.h>
#include <stdio.h>

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
