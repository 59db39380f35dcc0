#include "data/prompts.h"

#include <stdlib.h>
#include <string.h>

#include "base/mem.h"

static const char *SOURCE[TASK_COUNT] = {
    "RecIF_VideoRec_Pretrain", "RecIF_UserProfile_Pretrain", "RecIF_ItemUnderstand_Pretrain",
    "RecIF_VideoRec",          "RecIF_AdRec",                "RecIF_ProductRec",
    "RecIF_InteractiveRec",    "RecIF_LabelCondRec",         "RecIF_LabelPred",
    "RecIF_ItemUnderstand",    "RecIF_RecoReason",
};
static const char *FILE_NAME[TASK_COUNT] = {
    "pretrain/video_rec", "pretrain/user_profile", "pretrain/item_understand", "sft/video_rec",
    "sft/ad_rec",         "sft/product_rec",       "sft/interactive_rec",      "sft/label_cond_rec",
    "sft/label_pred",     "sft/item_understand",   "sft/rec_reason",
};
static const char *BENCH[TASK_COUNT] = {
    NULL, NULL, NULL, "video", "ad", "product", "interactive", "label_cond", "label_pred", "item_understand",
    "rec_reason",
};

const char *task_source(task_id t) { return SOURCE[t]; }
const char *task_file(task_id t) { return FILE_NAME[t]; }
const char *task_bench_name(task_id t) { return BENCH[t]; }

#define NP 3
// [lang][task][k]; NULL ends a pool shorter than NP. Pretrain tasks use the user pool as the
// line template (Segments have no roles).
static const char *SYS[2][TASK_COUNT][NP] = {
    {
        {NULL},
        {NULL},
        {NULL},
        {"你是一个短视频推荐助手。", "你是推荐系统，根据用户的观看历史推荐视频。", "请扮演一个懂用户的视频推荐专家。"},
        {"你是一个广告推荐助手。", "你是推荐系统，负责为用户推荐可能点击的广告。", "请根据用户兴趣推荐广告。"},
        {"你是一个电商商品推荐助手。", "你是推荐系统，负责推荐用户可能购买的商品。", "请根据用户兴趣推荐商品。"},
        {"你是一个搜索推荐助手。", "你根据用户画像和搜索词推荐视频。", "请结合用户的兴趣回答搜索请求。"},
        {"你是一个短视频推荐助手。", "你是推荐系统，能按指定的互动类型推荐视频。", "请预测用户会产生指定互动的视频。"},
        {"你是一个用户行为预测助手。", "你判断用户是否会完整观看某个视频。", "请预测用户对视频的反应。"},
        {"你是一个视频内容理解助手。", "你能根据视频的语义编号描述视频内容。", "请描述给定视频的内容。"},
        {NULL},
    },
    {
        {NULL},
        {NULL},
        {NULL},
        {"You are a short-video recommender.", "You recommend videos from a user's watch history.",
         "Act as a video recommendation expert."},
        {"You are an ad recommender.", "You recommend ads the user is likely to click.",
         "Recommend ads that match the user's interests."},
        {"You are a shopping recommender.", "You recommend products the user is likely to buy.",
         "Recommend products that match the user's interests."},
        {"You are a search assistant.", "You recommend videos for a user profile and a search query.",
         "Answer the search request with the user's interests in mind."},
        {"You are a short-video recommender.", "You recommend videos for a given kind of interaction.",
         "Predict the videos the user will interact with in the given way."},
        {"You predict user behaviour.", "You judge whether a user will watch a video to the end.",
         "Predict the user's reaction to a video."},
        {"You describe videos.", "You describe a video from its semantic ID.", "Describe the given video."},
        {NULL},
    },
};

static const char *USR[2][TASK_COUNT][NP] = {
    {
        {"{0}"},
        {"{0}"},
        {"视频{0}的内容是：{1}", "{0}展示了：{1}", "{0}：{1}"},
        {"以下是用户最近观看的视频：{0}\n请预测用户接下来会观看的视频。", "用户的观看历史：{0}\n接下来推荐哪些视频？",
         "根据观看记录{0}，推荐用户接下来想看的视频。"},
        {"用户看完的视频：{0}\n用户点击过的广告：{1}\n请推荐用户接下来会点击的广告。",
         "观看历史：{0}\n广告点击历史：{1}\n用户接下来会点击哪些广告？", "根据视频{0}和广告{1}，推荐广告。"},
        {"用户观看的视频：{0}\n用户购买过的商品：{1}\n请推荐用户接下来会购买的商品。",
         "观看历史：{0}\n购买历史：{1}\n用户接下来会买什么？", "根据视频{0}和商品{1}，推荐商品。"},
        {"{0}\n用户搜索了“{1}”，请推荐相关视频。", "{0}\n搜索词：{1}\n请给出推荐。", "{0}\n用户想看“{1}”，推荐哪些视频？"},
        {"用户的互动历史：\n{0}\n请推荐用户会{1}的视频。", "{0}\n接下来用户会{1}哪些视频？", "互动记录：\n{0}\n预测用户会{1}的视频。"},
        {"用户的互动历史：\n{0}\n用户会完整观看视频{1}吗？", "{0}\n用户会看完{1}吗？请回答是或否。", "互动记录：\n{0}\n视频{1}会被长时间观看吗？"},
        {"视频{0}的内容是什么？", "请描述视频{0}。", "{0}讲了什么？"},
        {"{0}\n历史观看：{1}\n推荐视频：{2}\n请说明推荐理由。", "{0}\n用户看过：{1}\n为什么向用户推荐“{2}”？",
         "{0}\n观看记录：{1}\n目标视频：{2}\n请给出推荐理由。"},
    },
    {
        {"{0}"},
        {"{0}"},
        {"Video {0} shows: {1}", "{0} is about: {1}", "{0}: {1}"},
        {"The user recently watched: {0}\nPredict the next videos.", "Watch history: {0}\nWhich videos next?",
         "Given the history {0}, recommend the next videos."},
        {"Videos watched to the end: {0}\nAds clicked: {1}\nRecommend the next ads.",
         "Watch history: {0}\nAd clicks: {1}\nWhich ads will the user click?", "From videos {0} and ads {1}, recommend ads."},
        {"Videos watched: {0}\nProducts bought: {1}\nRecommend the next products.",
         "Watch history: {0}\nPurchases: {1}\nWhat will the user buy next?", "From videos {0} and products {1}, recommend products."},
        {"{0}\nThe user searched for \"{1}\". Recommend videos.", "{0}\nQuery: {1}\nRecommend.",
         "{0}\nThe user wants \"{1}\". Which videos?"},
        {"Interaction history:\n{0}\nRecommend videos the user will {1}.", "{0}\nWhich videos will the user {1} next?",
         "Interactions:\n{0}\nPredict videos the user will {1}."},
        {"Interaction history:\n{0}\nWill the user watch {1} to the end?", "{0}\nWill the user finish {1}? Answer yes or no.",
         "Interactions:\n{0}\nWill video {1} be watched to the end?"},
        {"What is video {0} about?", "Describe video {0}.", "What does {0} show?"},
        {"{0}\nWatched: {1}\nRecommended: {2}\nExplain the recommendation.", "{0}\nThe user watched: {1}\nWhy recommend \"{2}\"?",
         "{0}\nHistory: {1}\nTarget video: {2}\nGive the reason."},
    },
};

int prompt_pool_size(data_lang l, task_id t, int system) {
    const char *const *p = system ? SYS[l][t] : USR[l][t];
    int n = 0;
    while (n < NP && p[n]) n++;
    return n;
}

const char *prompt_get(data_lang l, task_id t, int system, int k) {
    int n = prompt_pool_size(l, t, system);
    if (n == 0) return NULL;
    return system ? SYS[l][t][k % n] : USR[l][t][k % n];
}

char *prompt_fill(const char *tmpl, const char *const *args, int n) {
    size_t len = 0;
    for (const char *p = tmpl; *p; p++) {
        if (p[0] == '{' && p[1] >= '0' && p[1] < '0' + n && p[2] == '}') {
            len += strlen(args[p[1] - '0']);
            p += 2;
        } else len++;
    }
    char *out = mem_alloc(len + 1), *o = out;
    if (!out) return NULL;
    for (const char *p = tmpl; *p; p++) {
        if (p[0] == '{' && p[1] >= '0' && p[1] < '0' + n && p[2] == '}') {
            size_t a = strlen(args[p[1] - '0']);
            memcpy(o, args[p[1] - '0'], a);
            o += a;
            p += 2;
        } else *o++ = *p;
    }
    *o = 0;
    return out;
}

const char *prompt_yes(data_lang l) { return l == LANG_ZH ? "是" : "yes"; }
const char *prompt_no(data_lang l) { return l == LANG_ZH ? "否" : "no"; }
