// Pools of phrasings for the 11 task converters (zh and en). Each SFT sample draws its system
// prompt and its user template at random from the task's pool (seeded), so a model learns the
// task, not one sentence. Templates use {0}, {1}, {2} for their arguments.
#pragma once
#include "data/lexicon.h"

typedef enum {
    TASK_PT_VIDEO_REC = 0,
    TASK_PT_USER_PROFILE,
    TASK_PT_ITEM_UNDERSTAND,
    TASK_VIDEO_REC,
    TASK_AD_REC,
    TASK_PRODUCT_REC,
    TASK_INTERACTIVE_REC,
    TASK_LABEL_COND_REC,
    TASK_LABEL_PRED,
    TASK_ITEM_UNDERSTAND,
    TASK_REC_REASON,
    TASK_COUNT
} task_id;

const char *task_source(task_id t);     // "RecIF_VideoRec_Pretrain", ...
const char *task_file(task_id t);       // "pretrain/video_rec", "sft/ad_rec", ...
const char *task_bench_name(task_id t); // "video", "ad", ... or NULL (pretrain tasks)

int prompt_pool_size(data_lang l, task_id t, int system);   // system: 1 system pool, 0 user pool
const char *prompt_get(data_lang l, task_id t, int system, int k);
// Expands {0}..{2} in tmpl with args (n args); malloc'd result.
char *prompt_fill(const char *tmpl, const char *const *args, int n);
// "是"/"否" (zh) or "yes"/"no" (en): the label_pred answers.
const char *prompt_yes(data_lang l);
const char *prompt_no(data_lang l);
