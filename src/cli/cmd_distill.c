// onerec distill: on-policy distillation of the student towards the original model.
#include <stdio.h>

#include "base/outdir.h"
#include "cli/args.h"
#include "post/rl.h"

int cmd_distill(int argc, char **argv) {
    distill_args a;
    distill_args_default(&a);
    const arg_spec specs[] = {
        {"student", ARG_STR, &a.student_dir, "student model dir (the SFT model, with itemic tokens)", 1},
        {"teacher", ARG_STR, &a.teacher_dir, "teacher model dir (the original model, no itemic tokens)", 1},
        {"data", ARG_STR, &a.data, "general prompts: a table with messages (data prepare distill)", 1},
        {"out", ARG_STR, &a.out, "output dir (checkpoints, logs, events)", 1},
        {"resume-from", ARG_STR, &a.resume_from, "checkpoint dir or output dir to continue exactly", 0},
        {"steps", ARG_INT, &a.steps, "optimizer steps", 0},
        {"prompts", ARG_INT, &a.prompts, "prompts per step", 0},
        {"max-new", ARG_INT, &a.max_new, "response tokens at most", 0},
        {"temperature", ARG_FLOAT, &a.temperature, "sampling temperature", 0},
        {"top-p", ARG_FLOAT, &a.top_p, "nucleus mass", 0},
        {"top-k", ARG_INT, &a.top_k, "top-k (0: off)", 0},
        ARG_SPECS_OPTIMIZER(a),
        {"clip-low", ARG_FLOAT, &a.clip_low, "ratio clip below 1", 0},
        {"clip-high", ARG_FLOAT, &a.clip_high, "ratio clip above 1", 0},
        {"adv-min", ARG_FLOAT, &a.adv_lo, "advantage clip low (reference -30)", 0},
        {"adv-max", ARG_FLOAT, &a.adv_hi, "advantage clip high (reference 5)", 0},
        {"micro", ARG_INT, &a.micro, "sequences per forward/backward", 0},
        {"save-every", ARG_INT, &a.save_every, "checkpoint every N steps (and at the end)", 0},
        {"log-every", ARG_INT, &a.log_every, "log scalars every N steps", 0},
        {"seed", ARG_I64, &a.seed, "sampling seed", 0},
        {0}};
    int r = args_parse(argc, argv, specs, "onerec distill --student DIR --teacher DIR --data TABLE --out DIR",
                       "On-policy distillation: student rollouts scored by the teacher; advantage -(log p_s - log p_t).",
                       NULL, 0, NULL);
    if (r) return r > 0 ? 0 : 2;
    outdir od;
    if (outdir_open(&od, a.out, "distill", 0)) return cli_fail("distill");
    cJSON *j = args_to_json(specs);
    int rc = outdir_close(&od, distill_run(&a, j), "latest");   // a failed run keeps its checkpoints
    cJSON_Delete(j);
    return rc ? cli_fail("distill") : 0;
}
