// onerec recommend: items for a history, with their SIDs and scores.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "base/mem.h"
#include "cli/args.h"
#include "eval/recommend.h"

// "1,2,3" (or spaces) -> pids
static int parse_pids(const char *s, int64_t **out, int *n) {
    *n = 0;
    *out = mem_alloc((strlen(s) / 2 + 2) * sizeof(int64_t));
    if (!*out) return ERR_FAIL;
    const char *p = s;
    while (*p) {
        while (*p == ',' || *p == ' ') p++;
        if (!*p) break;
        char *end;
        long long v = strtoll(p, &end, 10);
        if (end == p) return err_set("cannot read a pid at \"%s\" (expected numbers separated by commas)", p);
        (*out)[(*n)++] = v;
        p = end;
    }
    return 0;
}

int cmd_recommend(int argc, char **argv) {
    char *model = NULL, *hist = NULL, *others = "", *domain = "video", *va = NULL, *prod = NULL, *lang = "zh";
    int k = 32, constrain = 0, exclude = 0;
    arg_spec specs[] = {
        {"model", ARG_STR, &model, "trained model dir (SFT/RL, with itemic tokens)", 1},
        {"history", ARG_STR, &hist, "watched video pids, oldest first: \"pid,pid,...\"", 1},
        {"others", ARG_STR, &others, "ad clicks (--domain ad) or purchases (--domain product), oldest first", 0},
        {"domain", ARG_STR, &domain, "video, ad or product", 0},
        {"pid2sid", ARG_STR, &va, "video/ad pid2sid table (pid, sid)", 1},
        {"product-pid2sid", ARG_STR, &prod, "product pid2sid table (needed for --domain product)", 0},
        {"k", ARG_INT, &k, "items to recommend", 0},
        {"constrain", ARG_BOOL, &constrain, "only real items (a SID trie over the domain's table)", 0},
        {"exclude-history", ARG_BOOL, &exclude, "with --constrain: never recommend an item the history shows", 0},
        {"lang", ARG_STR, &lang, "prompt language the model was trained with: zh or en", 0},
        {0}};
    int r = args_parse(argc, argv, specs, "onerec recommend --model DIR --history \"pid,pid,...\" --pid2sid FILE [--domain video] [--k 32]",
                       "Recommend items for a history: prints rank, pid (-1: the SID names no item), SID, log-prob.", NULL, 0, NULL);
    if (r) return r > 0 ? 0 : 2;
    if (!strcmp(domain, "product") && !prod) {
        err_set("--domain product needs --product-pid2sid");
        return cli_fail("recommend");
    }
    int64_t *hv = NULL, *ov = NULL;
    int nh = 0, no = 0, n = 0, unknown = 0;
    rec_item *items = mem_calloc((size_t)(k > 0 ? k : 1), sizeof(rec_item));
    lm l;
    int rc = items ? 0 : ERR_FAIL;
    if (!rc) rc = parse_pids(hist, &hv, &nh) || parse_pids(others, &ov, &no);
    if (!rc) rc = lm_open(&l, model);
    if (!rc) {
        rec_request q = {domain, hv, nh, ov, no, va, prod, k, constrain, !strcmp(lang, "en"), exclude};
        rc = recommend_items(&l, &q, items, &n, &unknown);
        lm_close(&l);
    }
    if (!rc) {
        if (unknown) fprintf(stderr, "warning: %d history pids have no SID and were left out\n", unknown);
        printf("rank\tpid\tsid\tlogprob\n");
        for (int i = 0; i < n; i++)
            printf("%d\t%lld\t<s_a_%d><s_b_%d><s_c_%d>\t%.4f\n", i + 1, (long long)items[i].pid, items[i].codes[0], items[i].codes[1],
                   items[i].codes[2], items[i].score);
    }
    free(hv), free(ov), free(items);
    return rc ? cli_fail("recommend") : 0;
}
