// Activation sets of the Qwen3 model (internal to src/model): the buffers of one forward/backward
// over B rows of T tokens, and the entry points forward.c gives lanes.c.
#pragma once
#include "model/qwen3.h"
#include "model/wgrad.h"

typedef struct {
    float *x;      // [N, C] residual input of the layer
    float *ln1;    // [N, C]
    float *r1;     // [N]
    float *qr;     // [N, nH*D] q_proj output (q_norm input)
    float *q;      // [N, nH*D] after q_norm and rope
    float *rq;     // [N*nH]
    float *kr, *k; // [N, nKV*D]
    float *rk;     // [N*nKV]
    float *v;      // [N, nKV*D]
    float *att;    // [N, nH*D] attention output (o_proj input)
    float *lse;    // [N*nH]
    float *xm;     // [N, C] residual after attention
    float *ln2;    // [N, C]
    float *r2;     // [N]
    float *g, *u, *h;   // [N, F]
} layer_acts;

struct qwen3_acts {
    int B, T, N, train;   // train: QWEN3_ACTS_*
    // [L]: all alias la[0]'s buffers when inference; with recompute every layer keeps only its
    // own input x and shares la[0]'s other buffers, refilled layer by layer during backward
    layer_acts *la;
    float *xres;        // [N, C] residual after the last layer
    float *xf;          // [N, C] final norm output
    float *rf;          // [N]
    int *pos;           // [N] default positions
    float *dxf;         // [N, C] gradient of xf from the loss pass (train only)
    // backward scratch (train only)
    float *dres, *dln, *dq, *dqr, *dk, *dkr, *dv, *datt, *dg, *du, *dh;
    float *mem;         // the one allocation behind every buffer above
    size_t mem_bytes;
    // lm_head chunk buffers, allocated on the first loss pass and kept: a fresh multi-MiB
    // allocation per step costs page faults on every step
    size_t chunk_floats;   // the logits chunk's budget
    int chunk_rows;
    int *rows;          // [N]
    float *cx, *clg, *cdx;   // [R, C], [R, V], [R, C]
    wgrad_ctx wg;       // how weight gradients are applied (a team's lane, or at once)
    // Lanes (src/model/lanes.c): with several threads and rows, the rows are split over child
    // activation sets run concurrently, one thread each; this set then only holds xf and pos.
    int nlanes;            // 0: this set computes its rows itself
    qwen3_acts **lane;     // [nlanes]
    int *lane_row0;        // [nlanes + 1] first row of each lane
    wgrad_team *team;      // the lanes' weight-gradient team
};

// One activation set over its rows, without lanes. chunk_floats bounds the logits chunk.
int acts_alloc(qwen3_acts **out, const qwen3_model *m, int B, int T, int train, size_t chunk_floats);
void acts_free_one(qwen3_acts *a);
// The stages of acts_run, in this order: the layers' forward, the chunked lm_head loss (with g,
// fused with the lm_head backward), the layers' backward into g.
enum { ACTS_BODY = 1, ACTS_LOSS = 2, ACTS_BACKWARD = 4, ACTS_ALL = 7 };
// The chosen stages of batch b over this set's rows; g NULL: no gradients.
// count_inv: the token-mean weight 1/(positions with a target in the whole batch).
int acts_run(const qwen3_model *m, qwen3_acts *a, const qwen3_batch *b, qwen3_params *g, float count_inv,
             float *loss, float *logp, int stages);
int acts_check_batch(const qwen3_model *m, const qwen3_acts *a, const qwen3_batch *b);
// When b has targets: allocates the logits chunk buffers (once; a team does it before its lanes
// start) and returns the chunks its rows with a target need. 0 without targets, < 0 on failure.
int acts_loss_chunks(const qwen3_model *m, qwen3_acts *a, const qwen3_batch *b);
