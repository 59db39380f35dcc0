// Turning rows of the unified format into training samples with a real tokenizer.json (the
// fixture's byte-level BPE with Qwen3 specials): Segments train on every token and end with
// <|endoftext|>; Chat trains on the assistant spans only (or on everything when
// only_assistant_loss is off); the think pattern marks the user turn and prefixes the answer.
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/file.h"
#include "test.h"
#include "train/source.h"

static tokenizer *g_tok;

static char *decode(const int32_t *ids, int n) {
    char *s = NULL;
    size_t len;
    if (tokenizer_decode(g_tok, ids, (size_t)n, 0, &s, &len)) return strdup("");
    return s;
}

// the text of the masked-on tokens, concatenated
static char *masked_text(const train_sample *s) {
    int32_t *ids = malloc(sizeof(int32_t) * (size_t)(s->n + 1));
    int k = 0;
    for (int i = 0; i < s->n; i++)
        if (s->mask[i]) ids[k++] = s->ids[i];
    char *t = decode(ids, k);
    free(ids);
    return t;
}

static const char *CHAT =
    "[{\"role\":\"system\",\"content\":[{\"type\":\"text\",\"text\":\"Be brief.\"}]},"
    "{\"role\":\"user\",\"content\":[{\"type\":\"text\",\"text\":\"Next item?\"}]},"
    "{\"role\":\"assistant\",\"content\":[{\"type\":\"text\",\"text\":\"<|sid_begin|><s_a_1><s_b_2><s_c_3><|sid_end|>\"}]}]";

static void test_segments(void) {
    train_data *d;
    char *files[1] = {"unused.jsonl"};
    train_data_config c = {files, 1, g_tok, 0, 1};
    CHECK_OK(train_data_open(&d, &c));
    train_sample s = {0};
    CHECK_OK(train_data_tokenize(d, "RecIF_ItemUnderstand_Pretrain", "",
                                 "[{\"type\":\"text\",\"text\":\"video <|sid_begin|><s_a_0>\"},{\"type\":\"text\",\"text\":\" shows cats\"}]",
                                 &s, "row 0"));
    int all = 1;
    for (int i = 0; i < s.n; i++) all &= s.mask[i] == 1;
    CHECK(all && s.n > 5);
    CHECK(s.ids[s.n - 1] == train_data_pad_id(d));
    char *t = decode(s.ids, s.n);
    CHECK_MSG(!strcmp(t, "video <|sid_begin|><s_a_0> shows cats<|endoftext|>"), "%s", t);
    free(t);
    CHECK(train_data_num_sources(d) == 1 && !strcmp(train_data_source_name(d, s.source), "RecIF_ItemUnderstand_Pretrain"));
    // no text at all: an empty sample (the loader skips it)
    CHECK_OK(train_data_tokenize(d, "x", NULL, "[]", &s, "row 1"));
    CHECK(s.n == 0 && s.source == 1);
    CHECK_FAILS_WITH(train_data_tokenize(d, "x", "[{\"content\": \"hi\"}]", NULL, &s, "part-3.jsonl row 7"), "row 7");
    CHECK_FAILS_WITH(train_data_tokenize(d, "x", "[{oops", NULL, &s, "part-3.jsonl row 8"), "row 8");
    train_sample_free(&s);
    train_data_close(d);
}

static void test_chat_masks(void) {
    train_data *d;
    char *files[1] = {"unused.jsonl"};
    train_data_config c = {files, 1, g_tok, 0, 1};
    CHECK_OK(train_data_open(&d, &c));
    train_sample s = {0};
    CHECK_OK(train_data_tokenize(d, "RecIF_VideoRec", CHAT, NULL, &s, "row 0"));
    char *full = decode(s.ids, s.n), *m = masked_text(&s);
    CHECK_MSG(strstr(full, "<|im_start|>user\nNext item?<|im_end|>\n<|im_start|>assistant\n") != NULL, "%s", full);
    CHECK_MSG(strstr(full, "<|endoftext|>") == full + strlen(full) - 13, "%s", full);
    // the loss covers the answer (its think block, if the template adds one) and <|im_end|>, nothing else
    CHECK_MSG(strstr(m, "<|sid_begin|><s_a_1><s_b_2><s_c_3><|sid_end|><|im_end|>") != NULL && !strstr(m, "Next item") &&
                  !strstr(m, "Be brief") && !strstr(m, "<|endoftext|>") && !strstr(m, "assistant"),
              "masked: %s", m);
    free(full), free(m);
    train_data_close(d);
    // only_assistant_loss off: every token
    c.only_assistant_loss = 0;
    CHECK_OK(train_data_open(&d, &c));
    CHECK_OK(train_data_tokenize(d, "RecIF_VideoRec", CHAT, NULL, &s, "row 0"));
    int all = 1;
    for (int i = 0; i < s.n; i++) all &= s.mask[i] == 1;
    CHECK(all);
    train_data_close(d);
    // think pattern: "/no_think" on the user turn, "<think>\n</think>\n" before the answer
    c.only_assistant_loss = 1;
    c.add_think_pattern = 1;
    CHECK_OK(train_data_open(&d, &c));
    CHECK_OK(train_data_tokenize(d, "RecIF_VideoRec", CHAT, NULL, &s, "row 0"));
    full = decode(s.ids, s.n);
    m = masked_text(&s);
    CHECK_MSG(strstr(full, "Next item?/no_think<|im_end|>") != NULL, "%s", full);
    // (the Qwen3 template re-renders the empty think block of the last turn as "<think>\n\n</think>\n\n")
    const char *o = strstr(m, "<think>\n"), *e = strstr(m, "</think>\n"), *a = strstr(m, "<|sid_begin|>");
    CHECK_MSG(o == m && e && a && o < e && e < a, "masked: %s", m);
    free(full), free(m);
    train_sample_free(&s);
    train_data_close(d);
}

int main(void) {
    char dir[128], cmd[300];
    snprintf(dir, sizeof dir, "/tmp/onerec_test_train_source_%d", (int)getpid());
    snprintf(cmd, sizeof cmd, "/usr/bin/python3 tests/ref/train_fixture.py %s --rows 4 >/dev/null", dir);
    if (system(cmd) != 0) {
        fprintf(stderr, "fixture failed\n");
        return test_summary("test_train_source") | 1;
    }
    char path[200];
    snprintf(path, sizeof path, "%s/model/tokenizer.json", dir);
    if (tokenizer_load(&g_tok, path)) {
        fprintf(stderr, "%s\n", err_msg());
        return 1;
    }
    RUN(test_segments);
    RUN(test_chat_masks);
    tokenizer_free(g_tok);
    file_remove_tree(dir);
    return test_summary("test_train_source");
}
