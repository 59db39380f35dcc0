// onerec test-model: greedy generations for a few fixed prompts (the reference's test_hf_model.sh).
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "base/json.h"
#include "cli/args.h"
#include "rec/lm.h"
#include "text/chat_json.h"

static const char *DEFAULT_CASES =
    "[{\"name\": \"text\", \"prompt\": \"The weather today is\"},"
    " {\"name\": \"text with a SID\", \"prompt\": \"Video <|sid_begin|><s_a_1><s_b_2><s_c_3><|sid_end|> shows\", \"needs_sid\": true},"
    " {\"name\": \"chat\", \"messages\": [{\"role\": \"user\", \"content\": \"Introduce yourself briefly.\"}]},"
    " {\"name\": \"chat with system\", \"messages\": [{\"role\": \"system\", \"content\": \"You are a helpful recommendation assistant.\"},"
    "  {\"role\": \"user\", \"content\": \"What should I watch next?\"}]}]";

static int run_case(lm *l, const cJSON *c, int index, const lm_gen_opts *o) {
    const cJSON *name = cJSON_GetObjectItemCaseSensitive(c, "name");
    const cJSON *prompt = cJSON_GetObjectItemCaseSensitive(c, "prompt");
    const cJSON *msgs = cJSON_GetObjectItemCaseSensitive(c, "messages");
    char label[64];
    snprintf(label, sizeof label, "case %d", index);
    const char *title = cJSON_IsString(name) ? name->valuestring : label;
    if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(c, "needs_sid")) && !l->has_sid) {
        printf("== %s: skipped (the model has no itemic tokens)\n\n", title);
        return 0;
    }
    tok_buf ids = {0};
    int rc;
    if (cJSON_IsString(prompt)) {
        printf("== %s\n-- prompt: %s\n", title, prompt->valuestring);
        rc = lm_encode(l, prompt->valuestring, &ids);
    } else if (cJSON_IsArray(msgs)) {
        char *json = cJSON_PrintUnformatted(msgs);
        chat_messages m;
        int parsed = chat_messages_parse(&m, json, title) == 0;
        rc = parsed ? 0 : ERR_FAIL;
        printf("== %s\n", title);
        for (size_t i = 0; parsed && i < m.n; i++) printf("-- %s: %s\n", m.msgs[i].role, m.msgs[i].content);
        if (parsed) {
            rc = lm_chat_prompt(l, m.msgs, m.n, 0, NULL, &ids);
            chat_messages_free(&m);
        }
        free(json);
    } else {
        return err_set("%s: a case needs \"prompt\" (text) or \"messages\" (chat)", title);
    }
    char *text = NULL;
    if (!rc) rc = lm_generate(l, ids.ids, (int)ids.n, o, &text);
    if (!rc) printf("-- generated: %s\n\n", text);
    free(text);
    tok_buf_free(&ids);
    return rc ? err_wrap("%s", title) : 0;
}

int cmd_test_model(int argc, char **argv) {
    char *model = NULL, *cases = NULL;
    int max_new = 64;
    arg_spec specs[] = {{"model", ARG_STR, &model, "HF model dir", 1},
                        {"cases", ARG_STR, &cases, "JSON list of {name, prompt} or {name, messages} (default: built-in)", 0},
                        {"max-new", ARG_INT, &max_new, "new tokens per case", 0},
                        {0}};
    int r = args_parse(argc, argv, specs, "onerec test-model --model DIR [--cases FILE]",
                       "Print greedy generations for fixed prompts: plain text, text with a SID, chat, chat with system.",
                       NULL, 0, NULL);
    if (r) return r > 0 ? 0 : 2;
    cJSON *list = cases ? json_load_file(cases) : json_parse_text(DEFAULT_CASES, "built-in cases");
    if (!list) return cli_fail("test-model");
    if (!cJSON_IsArray(list)) {
        cJSON_Delete(list);
        err_set("%s: expected a JSON list of cases", cases);
        return cli_fail("test-model");
    }
    lm l;
    if (lm_open(&l, model)) {
        cJSON_Delete(list);
        return cli_fail("test-model");
    }
    lm_gen_opts o = {.gen = {.max_new = max_new, .sample = sample_params_default()}};
    int rc = 0, i = 0;
    const cJSON *c;
    cJSON_ArrayForEach(c, list) {
        if (run_case(&l, c, i++, &o)) {
            rc = cli_fail("test-model");
            break;
        }
    }
    lm_close(&l);
    cJSON_Delete(list);
    return rc;
}
