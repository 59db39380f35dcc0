// The answers the scheduler builds: recommended items as JSON, and the requests that run on their
// own between batched steps (/v1/score: log-probs of given items; /v1/generate: text completion).
#pragma once
#include "eval/recommend.h"
#include "serve/request.h"

// {"items": [{"pid", "sid": [a, b, c], "score"}...], "model", "took_ms"} (malloc'd; NULL: no memory)
char *serve_json_items(const rec_item *items, int n, const char *model, double took_ms);
// Log-probs of the SIDs of items [n] after the job's prompt: out [n].
int serve_score_items(lm *l, const rec_job *j, const int64_t *items, int n, float *out);
// Runs a score (rj prepared) or generate request: *status and *body (malloc'd JSON).
void serve_run_side(lm *l, const rec_job *rj, const sreq *r, const char *model, double t0,
                    int *status, char **body);
