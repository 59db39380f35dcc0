// SASRec (self-attentive sequential recommendation, Kang & McAuley 2018), written with cblas:
// item + learned position embeddings, `layers` pre-norm blocks (causal multi-head self-attention,
// then a ReLU feed-forward of width dim), a final LayerNorm, and scores h . E^T tied to the item
// embedding. Trained on next-item prediction at every position with full-softmax cross-entropy
// (not the paper's sampled binary loss) and AdamW. Used through baseline.h.
#pragma once
#include <stdint.h>
#include <stdio.h>

#include "eval/baseline.h"

typedef struct sasrec sasrec;

int sasrec_train(sasrec **out, const sasrec_config *cfg, const seq_set *train, int32_t nitems, uint64_t seed);
// scores [nitems]: the next-item logits after this history (its last cfg->maxlen items).
int sasrec_score(const sasrec *m, const int32_t *hist, int n, float *scores);
int sasrec_write(const sasrec *m, FILE *f);
int sasrec_read(sasrec **out, const sasrec_config *cfg, int32_t nitems, FILE *f);
void sasrec_free(sasrec *m);

// For tests: mean cross-entropy of a batch of B windows of length T (ids [B, T+1], -1 = padding,
// targets ids[:, 1:]) and, when grads is non-zero, the gradient in the model's gradient buffer;
// sasrec_param / sasrec_grad expose the flat parameter and gradient arrays (length *n).
int sasrec_batch_loss(sasrec *m, const int32_t *ids, int B, int T, int grads, double *loss);
float *sasrec_params(sasrec *m, int64_t *n);
float *sasrec_grads(sasrec *m, int64_t *n);
int sasrec_create(sasrec **out, const sasrec_config *cfg, int32_t nitems, uint64_t seed);   // random init
