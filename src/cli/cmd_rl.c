// onerec rl: reinforcement learning for recommendation (GRPO, DAPO, GPG, PPO).
#include <stdio.h>

#include "base/outdir.h"
#include "cli/args.h"
#include "post/rl.h"

int cmd_rl(int argc, char **argv) {
    rl_args a;
    rl_args_default(&a);
    const arg_spec specs[] = {
        {"algo", ARG_STR, &a.algo_name, "grpo (reference), dapo, gpg or ppo", 0},
        {"reward", ARG_STR, &a.reward_name, "hit (reference: 1 when the SID is in the ground truth) or prefix (codes matched from the first / 3)", 0},
        {"group", ARG_STR, &a.group_name, "beams (reference: the W best beams) or samples (W sampled SIDs, --temperature, --top-p)", 0},
        {"model", ARG_STR, &a.model_dir, "policy model dir (the SFT model, with itemic tokens)", 1},
        {"ref", ARG_STR, &a.ref_dir, "reference model for the KL term (default: --model)", 0},
        {"data", ARG_STR, &a.data, "RL prompts: a table with messages (data prepare rl: train)", 1},
        {"out", ARG_STR, &a.out, "output dir (checkpoints, logs, events)", 1},
        {"resume-from", ARG_STR, &a.resume_from, "checkpoint dir or output dir to continue exactly", 0},
        {"steps", ARG_INT, &a.steps, "optimizer steps", 0},
        {"prompts", ARG_INT, &a.prompts, "prompts (groups) per step", 0},
        {"width", ARG_INT, &a.width, "beams per prompt = group size", 0},
        {"max-think", ARG_INT, &a.max_think, "reasoning tokens sampled before </think> (0: empty think pre-filled)", 0},
        {"temperature", ARG_FLOAT, &a.temperature, "reasoning sampling temperature", 0},
        {"top-p", ARG_FLOAT, &a.top_p, "reasoning nucleus mass", 0},
        {"constrain", ARG_STR, &a.constrain_pid2sid, "pid2sid table: beams restricted to real items", 0},
        {"exclude-history", ARG_BOOL, &a.exclude_history,
         "with --constrain: no beam completes a SID the prompt shows (the user's history)", 0},
        ARG_SPECS_OPTIMIZER(a),
        {"clip-low", ARG_FLOAT, &a.clip_low, "ratio clip below 1", 0},
        {"clip-high", ARG_FLOAT, &a.clip_high, "ratio clip above 1 (clip-higher)", 0},
        {"clip-c", ARG_FLOAT, &a.clip_c, "dual clip for negative advantages (0: off)", 0},
        {"kl-coef", ARG_FLOAT, &a.kl_coef, "low_var_kl coefficient to the reference (0: no reference pass)", 0},
        {"dapo-tries", ARG_INT, &a.dapo_tries, "dapo: prompt draws per wanted group (resampling budget)", 0},
        {"overlong-max", ARG_INT, &a.overlong_max, "dapo: reasoning length of the overlong penalty (0: off)", 0},
        {"overlong-cache", ARG_INT, &a.overlong_cache, "dapo: soft penalty zone before overlong-max", 0},
        {"gamma", ARG_FLOAT, &a.gamma, "ppo: discount", 0},
        {"lambda", ARG_FLOAT, &a.lambda, "ppo: GAE lambda", 0},
        {"vclip", ARG_FLOAT, &a.vclip, "ppo: value clip", 0},
        {"critic-lr", ARG_FLOAT, &a.critic_lr, "ppo: value head learning rate", 0},
        {"micro", ARG_INT, &a.micro, "sequences per forward/backward", 0},
        {"save-every", ARG_INT, &a.save_every, "checkpoint every N steps (and at the end)", 0},
        {"log-every", ARG_INT, &a.log_every, "log scalars every N steps", 0},
        {"seed", ARG_I64, &a.seed, "rollout seed", 0},
        {0}};
    int r = args_parse(argc, argv, specs, "onerec rl --model DIR --data TABLE --out DIR [--algo grpo|dapo|gpg|ppo]",
                       "RL on recommendation prompts: two-stage rollout, beams as a group, reward = SID hit.", NULL, 0, NULL);
    if (r) return r > 0 ? 0 : 2;
    if (rl_algo_parse(a.algo_name, &a.algo) || rl_reward_parse(a.reward_name, &a.reward) ||
        rl_group_parse(a.group_name, &a.sample_sids)) return cli_fail("rl");
    outdir od;
    if (outdir_open(&od, a.out, "rl", 0)) return cli_fail("rl");
    cJSON *j = args_to_json(specs);
    int rc = outdir_close(&od, rl_run(&a, j), "latest");   // a failed run keeps its checkpoints
    cJSON_Delete(j);
    return rc ? cli_fail("rl") : 0;
}
