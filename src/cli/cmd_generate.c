// onerec generate: text from a prompt or a chat, by sampling or beam search.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "base/file.h"
#include "cli/args.h"
#include "rec/lm.h"
#include "rec/sample.h"
#include "text/chat_json.h"

int cmd_generate(int argc, char **argv) {
    char *model = NULL, *prompt = NULL, *chat = NULL, *stop = NULL;
    int max_new = 128, top_k = 0, think = 0, beam = 0, beam_steps = 3;
    float temperature = 0, top_p = 1, penalty = 1;
    int64_t seed = 0;
    arg_spec specs[] = {
        {"model", ARG_STR, &model, "HF model dir (config.json, safetensors, tokenizer.json)", 1},
        {"prompt", ARG_STR, &prompt, "raw text prompt", 0},
        {"chat", ARG_STR, &chat, "chat messages: a JSON file, or inline JSON starting with '['", 0},
        {"max-new", ARG_INT, &max_new, "new tokens at most", 0},
        {"temperature", ARG_FLOAT, &temperature, "0 = greedy", 0},
        {"top-p", ARG_FLOAT, &top_p, "nucleus sampling mass", 0},
        {"top-k", ARG_INT, &top_k, "sample among the k most likely (0 = off)", 0},
        {"repetition-penalty", ARG_FLOAT, &penalty, "HF-style penalty on seen tokens (1 = off)", 0},
        {"stop", ARG_STR, &stop, "stop string (generation ends at it, <|im_end|> always stops)", 0},
        {"seed", ARG_I64, &seed, "sampling seed", 0},
        {"think", ARG_BOOL, &think, "chat: let the model think (default pre-fills an empty <think>)", 0},
        {"beam", ARG_INT, &beam, "beam search width (0 = sample); prints each beam with its log-prob", 0},
        {"beam-steps", ARG_INT, &beam_steps, "tokens per beam", 0},
        {0}};
    const char *usage = "onerec generate --model DIR (--prompt TEXT | --chat JSON) [options]";
    int r = args_parse(argc, argv, specs, usage, "Generate text with a Qwen3 model dir.", NULL, 0, NULL);
    if (r) return r > 0 ? 0 : 2;
    if (max_new < 0 || beam < 0 || beam > GEN_BEAM_MAX || beam_steps < 1) {   // flag values: a usage error
        fprintf(stderr, "error: need --max-new >= 0, --beam in 0..%d, --beam-steps >= 1\nusage: %s\n", GEN_BEAM_MAX, usage);
        return 2;
    }
    if (!prompt == !chat) {
        fprintf(stderr, "error: give exactly one of --prompt and --chat\nusage: %s\n", usage);
        return 2;
    }
    sample_params sp = {temperature, top_k, top_p, penalty};
    if (sample_params_check(&sp)) return cli_fail("generate");
    lm l;
    if (lm_open(&l, model)) return cli_fail("generate");
    tok_buf ids = {0};
    int rc = 0;
    if (prompt) {
        rc = lm_encode(&l, prompt, &ids);
    } else {
        char *json = NULL;
        if (chat[0] == '[') json = strdup(chat);
        else rc = file_read_all(chat, &json, NULL);
        chat_messages msgs;
        if (!rc) rc = chat_messages_parse(&msgs, json, chat[0] == '[' ? "--chat" : chat);
        if (!rc) {
            rc = lm_chat_prompt(&l, msgs.msgs, msgs.n, think, NULL, &ids);
            chat_messages_free(&msgs);
        }
        free(json);
    }
    const char *stops[1] = {stop};
    lm_gen_opts o = {.gen = {.max_new = max_new, .sample = sp, .seed = (uint64_t)seed},
                     .stop = stops, .n_stop = stop ? 1 : 0, .beam_width = beam, .beam_steps = beam_steps};
    char *text = NULL;
    if (!rc && ids.n == 0) rc = err_set("the prompt is empty");
    if (!rc) rc = lm_generate(&l, ids.ids, (int)ids.n, &o, &text);
    if (!rc) printf("%s%s", text, beam > 0 ? "" : "\n");
    else rc = cli_fail("generate");
    free(text);
    tok_buf_free(&ids);
    lm_close(&l);
    return rc;
}
