// Weight gradients of the backward pass (internal to src/model). Without a team they are added
// into the gradient set at once. With a team (row lanes training concurrently, one thread each) a
// lane records its weight-gradient products as jobs; at each phase the lanes meet at a barrier and
// every thread computes its own slice of output rows of every lane's jobs, lanes in order, so each
// gradient element is written by one thread in a fixed order: no private gradient sets, no
// reduction pass, and results that do not depend on thread timing.
#pragma once
#include <stddef.h>

enum { WG_MAX_LANES = 64, WG_MAX_JOBS = 8 };

typedef struct {
    int kind;              // WG_GEMM, WG_VEC, WG_EMBED
    float *dw;             // GEMM: [OC, IC] += dout[:, :OC]^T inp; VEC: [OC] += src; EMBED: rows by token
    const float *dout;     // GEMM: [N, ld_dout]; VEC: src [OC]; EMBED: rows [N, IC]
    const float *inp;      // GEMM: [N, IC]
    const int *tok;        // EMBED: [N]
    int N, IC, OC, ld_dout, row0;   // EMBED: rows with token < row0 are skipped
} wgrad_job;

typedef struct {
    int P;                                   // lanes (= threads) in the team
    int loss_chunks;                         // logits chunks every lane walks (the most any lane has)
    int njobs[WG_MAX_LANES];
    wgrad_job jobs[WG_MAX_LANES][WG_MAX_JOBS];
} wgrad_team;

// One lane's view: team NULL applies every gradient at once.
typedef struct {
    wgrad_team *team;
    int lane;
    float *slots;          // lane-private vectors for norm-weight partials (WG_SLOTS of `slot_len`)
    int slot_len;
} wgrad_ctx;

enum { WG_SLOTS = 4 };

// dw [OC, IC] += dout[:, :OC]^T inp (dout [N, ld_dout], inp [N, IC]).
void wgrad_gemm(wgrad_ctx *c, float *dw, const float *dout, int ld_dout, const float *inp, int N, int IC, int OC);
// Where a norm backward should accumulate the gradient of dw [n]: dw itself without a team,
// else a cleared lane slot (0..WG_SLOTS-1) that is added into dw at the next phase.
float *wgrad_vec(wgrad_ctx *c, float *dw, int n, int slot);
// dembed rows at tok += rows of d (tokens below row0 skipped).
void wgrad_embed(wgrad_ctx *c, float *dembed, const float *d, const int *tok, int N, int C, int row0);
// With a team: barrier, this thread's share of every lane's jobs, barrier. Every lane must call it
// the same number of times.
void wgrad_phase(wgrad_ctx *c);
