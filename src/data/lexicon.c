#include "data/lexicon.h"

#include <string.h>

#include "base/err.h"

static const char *TOPIC[2][LEX_TOPICS] = {
    {"美食", "旅行", "宠物", "足球", "篮球", "音乐", "舞蹈", "游戏", "科技", "汽车", "时尚", "美妆",
     "健身", "育儿", "教育", "搞笑", "电影", "动漫", "摄影", "家居", "园艺", "钓鱼", "财经", "历史"},
    {"food", "travel", "pets", "football", "basketball", "music", "dance", "gaming", "tech", "cars",
     "fashion", "beauty", "fitness", "parenting", "study", "comedy", "movies", "anime", "photo",
     "home", "garden", "fishing", "finance", "history"},
};

static const char *SUBTOPIC[2][LEX_TOPICS][LEX_SUBTOPICS] = {
    {{"火锅", "烧烤", "甜点", "面条"}, {"海边", "古镇", "雪山", "草原"}, {"猫咪", "狗狗", "兔子", "鹦鹉"},
     {"进球", "射门", "守门", "联赛"}, {"扣篮", "三分", "运球", "街球"}, {"吉他", "钢琴", "说唱", "民谣"},
     {"街舞", "芭蕾", "广场舞", "爵士"}, {"手游", "赛车", "射击", "解谜"}, {"手机", "电脑", "耳机", "相机"},
     {"越野", "跑车", "新能源", "改装"}, {"穿搭", "鞋子", "包包", "帽子"}, {"口红", "护肤", "眼影", "发型"},
     {"跑步", "瑜伽", "举铁", "拉伸"}, {"宝宝", "辅食", "早教", "亲子"}, {"数学", "英语", "物理", "书法"},
     {"段子", "模仿", "整蛊", "相声"}, {"科幻", "喜剧", "悬疑", "动作"}, {"热血", "治愈", "机甲", "校园"},
     {"风景", "人像", "夜景", "微距"}, {"装修", "收纳", "厨房", "灯具"}, {"多肉", "玫瑰", "盆栽", "蔬菜"},
     {"海钓", "路亚", "溪流", "冰钓"}, {"股票", "基金", "理财", "保险"}, {"古代", "战争", "人物", "文物"}},
    {{"hotpot", "bbq", "dessert", "noodles"}, {"beach", "old town", "snow peak", "grassland"},
     {"cat", "dog", "rabbit", "parrot"}, {"goal", "shot", "keeper", "league"},
     {"dunk", "three", "dribble", "street"}, {"guitar", "piano", "rap", "folk"},
     {"hiphop", "ballet", "square", "jazz"}, {"mobile", "racing", "shooter", "puzzle"},
     {"phone", "laptop", "headset", "camera"}, {"offroad", "sports car", "electric", "tuning"},
     {"outfit", "shoes", "bags", "hats"}, {"lipstick", "skincare", "eyeshadow", "hair"},
     {"running", "yoga", "lifting", "stretch"}, {"baby", "baby food", "early study", "family"},
     {"math", "english", "physics", "writing"}, {"jokes", "mimic", "prank", "crosstalk"},
     {"scifi", "comedy film", "mystery", "action"}, {"battle", "healing", "mecha", "school"},
     {"landscape", "portrait", "night", "macro"}, {"renovation", "storage", "kitchen", "lamps"},
     {"succulent", "rose", "bonsai", "veggie"}, {"sea", "lure", "creek", "ice"},
     {"stocks", "funds", "savings", "insurance"}, {"ancient", "war", "heroes", "relics"}},
};

static const char *STYLE[2][LEX_STYLES] = {
    {"日常", "教程", "合集", "挑战", "测评", "vlog", "现场", "入门", "技巧", "故事", "精选", "直播"},
    {"daily", "tutorial", "mix", "challenge", "review", "vlog", "live", "basics", "tips", "story",
     "best of", "stream"},
};

static const char *AD_WORD[2][LEX_AD_WORDS] = {
    {"限时优惠", "新品上市", "免费试用", "下载有礼", "会员特价", "品牌推荐"},
    {"limited deal", "new arrival", "free trial", "download gift", "member price", "brand pick"},
};

static const char *PRODUCT_WORD[2][LEX_PRODUCT_WORDS] = {
    {"套装", "礼盒", "专用款", "经典款", "升级版", "家庭装"},
    {"set", "gift box", "pro kit", "classic", "upgrade", "family pack"},
};

static const char *PLACE[2][LEX_PLACES] = {
    {"青岚国", "赤沙国", "云梦国", "铁原国", "玉川国", "风岭国", "金湾国", "白鹿国", "星河国", "石桥国",
     "银松国", "紫霞国", "南溪国", "北斗国", "雾港国", "月湖国"},
    {"Qinglan", "Chisha", "Yunmeng", "Tieyuan", "Yuchuan", "Fengling", "Jinwan", "Bailu", "Xinghe",
     "Shiqiao", "Yinsong", "Zixia", "Nanxi", "Beidou", "Wugang", "Yuehu"},
};

static const char *CAPITAL[2][LEX_PLACES] = {
    {"松城", "砂堡", "梦都", "铁城", "玉京", "风口", "金港", "鹿鸣", "星城", "桥头", "松原", "霞关",
     "溪口", "斗城", "雾都", "月城"},
    {"Songcheng", "Shabao", "Mengdu", "Tiecheng", "Yujing", "Fengkou", "Jingang", "Luming",
     "Xingcheng", "Qiaotou", "Songyuan", "Xiaguan", "Xikou", "Doucheng", "Wudu", "Yuecheng"},
};

static const char *LABEL_NAME[2][5] = {
    {"长时间观看", "点赞", "关注作者", "转发", "不感兴趣"},
    {"watch to the end", "like", "follow", "share", "dislike"},
};
static const char *LABEL_KEY[5] = {"longview", "like", "follow", "forward", "not_interested"};

static int md(int x, int n) { return ((x % n) + n) % n; }

int lex_parse_lang(const char *s, data_lang *out) {
    if (s && !strcmp(s, "zh")) *out = LANG_ZH;
    else if (s && !strcmp(s, "en")) *out = LANG_EN;
    else return err_set("language \"%s\" is not supported (use zh or en)", s ? s : "(null)");
    return 0;
}
const char *lex_topic(data_lang l, int t) { return TOPIC[l][md(t, LEX_TOPICS)]; }
const char *lex_subtopic(data_lang l, int t, int s) {
    return SUBTOPIC[l][md(t, LEX_TOPICS)][md(s, LEX_SUBTOPICS)];
}
const char *lex_style(data_lang l, int k) { return STYLE[l][md(k, LEX_STYLES)]; }
const char *lex_ad_word(data_lang l, int k) { return AD_WORD[l][md(k, LEX_AD_WORDS)]; }
const char *lex_product_word(data_lang l, int k) { return PRODUCT_WORD[l][md(k, LEX_PRODUCT_WORDS)]; }
const char *lex_place(data_lang l, int k) { return PLACE[l][md(k, LEX_PLACES)]; }
const char *lex_capital(data_lang l, int k) { return CAPITAL[l][md(k, LEX_PLACES)]; }
const char *lex_label_name(data_lang l, int label) { return LABEL_NAME[l][md(label, 5)]; }
const char *lex_label_key(int label) { return LABEL_KEY[md(label, 5)]; }
