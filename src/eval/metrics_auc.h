// AUC for RecIF-Bench's label_pred task, and the yes/no score it is computed from.
#pragma once
#include <stdint.h>

// Area under the ROC curve = P(score of a random positive > random negative) + 0.5 P(tie),
// computed from average ranks (ties share their mean rank); equals sklearn's roc_auc_score.
// labels are 0/1. Fails when either class is absent (the AUC is undefined).
int metrics_auc(const double *scores, const int *labels, int64_t n, double *auc);
// label_pred score from the first generated token: p("是") / (p("是") + p("否")), computed from the
// two logits (or log-probs) in a numerically safe way (a sigmoid of their difference).
double metrics_yes_score(double logit_yes, double logit_no);
