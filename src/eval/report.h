// The demo report: DIR/report.md with the stage timings and the command of each stage, the
// RecIF-Bench table per stage beside the baselines and the oracle, general skill per stage, loss
// and reward curves as PNG plots (gnuplot), and the reference's findings checked one by one.
#pragma once

// A stage's completion marker: JSON {name, seconds, finished (unix time), command}.
int report_mark_done(const char *path, const char *name, double seconds, char *const *argv);
// Reads DIR/.done/*, DIR/baselines.json, DIR/eval/*/results.json, DIR/runs/*/events.* and writes
// DIR/results.json, DIR/report.md and DIR/plots/*.png.
int report_write(const char *dir, const char *size, double seconds);
// The MovieLens demo's report (report_movielens.c): DIR/results.json as {system: {"movielens":
// {"hr@K", "ndcg@K", ...}}} for popularity, item_knn, sasrec and each model stage, the held-out
// English loss per stage (the general-skill check), findings, curves, stages.
int report_movielens_write(const char *dir, const char *size, double seconds);
