// Qwen3 (dense) in fp32: parameters, forward over packed rows, backward, AdamW, KV-cache decoding
// with forkable sequences, and HF model dirs (config.json + safetensors with the real tensor names).
// Layout after llm.c: parameters, gradients and AdamW m/v each live in ONE allocation, addressed
// through a struct of pointers; activations are sized once per (batch, length).
#pragma once
#include <stddef.h>
#include <stdint.h>

#include "formats/hfconfig.h"

typedef struct {
    int dim;          // hidden_size C
    int ffn;          // intermediate_size F
    int n_layers;     // L
    int n_heads;      // query heads nH
    int n_kv;         // key/value heads nKV (nH % nKV == 0)
    int head_dim;     // D (nH * D may differ from C)
    int vocab;        // V (embedding rows)
    int tied;         // lm_head shares embed_tokens
    int max_pos;      // max_position_embeddings (informational; rope has no table limit)
    float rope_theta;
    float eps;        // rms_norm_eps
} qwen3_config;

// Copies and checks the shape fields of an HF config (`where` names the source in messages).
int qwen3_config_from_hf(qwen3_config *c, const hf_config *h, const char *where);

typedef struct {
    float *in_norm;     // [C]            input_layernorm
    float *wq;          // [nH*D, C]      q_proj
    float *wk;          // [nKV*D, C]     k_proj
    float *wv;          // [nKV*D, C]     v_proj
    float *q_norm;      // [D]
    float *k_norm;      // [D]
    float *wo;          // [C, nH*D]      o_proj
    float *post_norm;   // [C]            post_attention_layernorm
    float *w_gate;      // [F, C]
    float *w_up;        // [F, C]
    float *w_down;      // [C, F]
} qwen3_layer;

typedef struct {
    float *embed;       // [V, C]
    float *lm_head;     // [V, C]; == embed when tied
    float *norm;        // [C]   model.norm
    qwen3_layer *layers;   // [L]
} qwen3_params;

// One named tensor of the model (HF name, shape, offset into the single allocation).
typedef struct {
    char name[80];
    int ndim;
    int64_t shape[2];
    size_t offset;      // floats from the start of params / grads / m / v
    size_t numel;
} qwen3_tensor;

typedef struct {
    qwen3_config cfg;
    size_t n_params;
    float *param_mem;       // one allocation of n_params floats
    float *grad_mem;        // NULL until qwen3_alloc_grads
    float *adam_m, *adam_v; // NULL until the first adamw step
    qwen3_params w;         // pointers into param_mem
    qwen3_params g;         // pointers into grad_mem (layers array allocated with it)
    qwen3_tensor *tensors;  // HF tensors in file order (lm_head absent when tied)
    int n_tensors;
    // Training switches (stage 1 freezes the LLM): frozen layers still pass gradients to their
    // input (so the embeddings learn) but skip their weight-gradient GEMMs; embed / lm_head rows
    // below grad_row_start get no gradient (their lm_head GEMM rows are skipped as well).
    int freeze_layers;      // also freezes model.norm
    int grad_row_start;     // 0: all rows
} qwen3_model;

// Allocates the parameters (uninitialised: call qwen3_init_random or qwen3_load).
int qwen3_model_init(qwen3_model *m, const qwen3_config *c);
void qwen3_model_free(qwen3_model *m);
int qwen3_alloc_grads(qwen3_model *m);   // zeroed
void qwen3_zero_grads(qwen3_model *m);
// HF init: normal(0, std) for linear and embedding weights (std 0.02), ones for norms.
void qwen3_init_random(qwen3_model *m, uint64_t seed, float std);
// Points p at `base`, an allocation of n_params floats laid out as the parameters; p->layers must
// already hold n_layers entries.
void qwen3_params_bind(const qwen3_model *m, qwen3_params *p, float *base);
double qwen3_flops_per_token(const qwen3_config *c, int ctx);   // forward FLOPs per token

// ---- batches and activations --------------------------------------------------------------
// B rows of T tokens. A row may pack several samples: samples are contiguous runs of equal
// seg id; attention is causal within a sample only; pos restarts per sample (rope positions).
typedef struct {
    int B, T;
    const int *tokens;    // [B*T]
    const int *pos;       // [B*T]; NULL: 0..T-1 in each row
    const int *seg;       // [B*T]; NULL: one sample per row
    const int *targets;   // [B*T] next-token targets, < 0 = no loss; NULL: no loss
    // Per-position loss weights [B*T]: loss = sum_t weight[t] * -log p(target[t]). NULL: the
    // token mean, 1/(number of positions with target >= 0). Policy-gradient losses use this.
    const float *weights;
} qwen3_batch;

typedef struct qwen3_acts qwen3_acts;
enum {
    QWEN3_ACTS_INFER = 0,       // forward only: the layers share one set of buffers
    QWEN3_ACTS_TRAIN = 1,       // every layer's activations are kept for backward
    QWEN3_ACTS_RECOMPUTE = 2,   // gradient checkpointing: each layer keeps only its input [N, C];
                                // backward recomputes the layer's activations from it (one more
                                // forward of the body per step, activations ~1/L of TRAIN's)
};
// `train`: one of QWEN3_ACTS_*. With several OpenMP threads and B >= 2 rows the rows are split into
// lanes, one per thread, that run the whole model concurrently with single-threaded kernels (on a
// few cores this beats splitting every product across threads); in backward the lanes meet twice
// per layer and share out the weight-gradient products by output rows, so no extra memory is needed
// for gradients and the result does not depend on thread timing.
int qwen3_acts_init(qwen3_acts **out, const qwen3_model *m, int B, int T, int train);
// The most lanes later qwen3_acts_init calls may use (default: no limit beyond the thread count);
// 1 turns lanes off (every product is then split across the threads instead).
void qwen3_set_max_lanes(int n);
void qwen3_acts_free(qwen3_acts *a);
const float *qwen3_acts_hidden(const qwen3_acts *a);   // [B*T, C] final normed hidden state
size_t qwen3_acts_bytes(const qwen3_acts *a);          // the activation allocation

// Forward. With targets, *loss receives the weighted loss (token mean by default) and, when
// logp is not NULL, logp[t] = log p(targets[t]) (0 where target < 0). Logits are computed in
// row chunks and never materialised as [B*T, V].
int qwen3_forward(const qwen3_model *m, qwen3_acts *a, const qwen3_batch *b, float *loss, float *logp);
// Next-token log-probs of n sequences packed into one row of T tokens (a: acts for B = 1 and T;
// T >= the sum of lens): lp [sum of lens], lp[t] = log p(next token | its sequence so far), 0 at
// each sequence's last token. Each sequence attends to itself only and starts at position 0.
int qwen3_score_packed(const qwen3_model *m, qwen3_acts *a, const int *const *seqs, const int *lens, int n, int T, float *lp);
// Forward + backward of the loss: gradients ACCUMULATE into m->grad_mem (zero them first).
// The lm_head backward is fused into the chunked loss pass (each logits chunk is used once).
int qwen3_forward_backward(qwen3_model *m, qwen3_acts *a, const qwen3_batch *b, float *loss, float *logp);
// Forward, then per-token weights from the log-probs, then the backward of
// sum_t weights[t] * -log p(targets[t]): for losses whose weights depend on the current log-probs
// (policy-gradient ratios), with one forward of the layers instead of two. fill(ctx, logp,
// weights) receives logp [B*T] (0 where target < 0) and writes weights [B*T]. Gradients accumulate
// as in qwen3_forward_backward; *loss gets the weighted loss, logp (may be NULL) the log-probs.
typedef void (*qwen3_weight_fn)(void *ctx, const float *logp, float *weights);
int qwen3_forward_backward_fn(qwen3_model *m, qwen3_acts *a, const qwen3_batch *b, qwen3_weight_fn fill, void *ctx,
                              float *loss, float *logp);
// Logits of n hidden rows: out [n, V], hidden [n, C] (after the final norm).
void qwen3_logits(const qwen3_model *m, float *out, const float *hidden, int n);

// ---- optimizer ------------------------------------------------------------------------------
typedef struct {
    float lr, beta1, beta2, eps, weight_decay;
} adamw_config;
// One torch.optim.AdamW step (decoupled decay, bias correction) over all parameters; `step` is
// 1-based. Allocates m/v on the first call. Rows below grad_row_start of embed/lm_head and, with
// freeze_layers, the layer and final-norm weights stay unchanged.
int adamw_step(qwen3_model *m, const adamw_config *c, int step);
// The kernel: p, g, mm, vv [n]
void adamw_update(float *p, const float *g, float *mm, float *vv, size_t n, const adamw_config *c, int step);
double qwen3_grad_norm(const qwen3_model *m);   // global L2 norm of the gradient
void qwen3_grad_scale(qwen3_model *m, float s);

// ---- KV-cache decoding ----------------------------------------------------------------------
// A paged cache shared by many sequences. Forking gives a child the parent's pages (reference
// counted); the shared partial last page is copied on the child's first write, so a beam never
// recomputes its prompt.
typedef struct qwen3_kv qwen3_kv;
int qwen3_kv_init(qwen3_kv **out, const qwen3_model *m, int max_tokens);   // total cached tokens
void qwen3_kv_free(qwen3_kv *kv);
int qwen3_kv_new_seq(qwen3_kv *kv);                 // returns a seq id >= 0, or ERR_FAIL
int qwen3_kv_fork(qwen3_kv *kv, int parent);        // a new seq id sharing the parent's tokens
void qwen3_kv_free_seq(qwen3_kv *kv, int seq);
int qwen3_kv_len(const qwen3_kv *kv, int seq);
// Appends n tokens (seq[i], tok[i]) to their sequences (several tokens of one seq in order: a
// prefill) and computes logits for the rows where want[i] != 0 (want NULL: all rows), written
// compactly: logits [count, V]. May be NULL for a prefill without logits.
int qwen3_kv_forward(const qwen3_model *m, qwen3_kv *kv, int n, const int *seq, const int *tok,
                     const uint8_t *want, float *logits);

// ---- HF model dirs --------------------------------------------------------------------------
// Loads config.json + model.safetensors (or an index + shards) from dir; every tensor is checked
// for presence, shape and dtype (F32/BF16/F16), with messages naming the file and tensor.
int qwen3_load_dir(qwen3_model *m, const char *dir);
// Writes config.json (from `hf`, or from the model config when NULL) and the weights, stored as
// dtype ("F32", "BF16"), sharded when larger than shard_bytes (0: one file). Atomic per file.
int qwen3_save_dir(const qwen3_model *m, const hf_config *hf, const char *dir, const char *dtype,
                   size_t shard_bytes);
void qwen3_config_to_hf(hf_config *h, const qwen3_config *c);
