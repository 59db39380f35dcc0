// onerec tokenizer train|encode|decode|chat: argument parsing and line I/O only.
#include <cjson/cJSON.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "base/file.h"
#include "base/log.h"
#include "base/outdir.h"
#include "cli/args.h"
#include "text/bpe_train.h"
#include "text/chat.h"
#include "text/chat_json.h"
#include "text/tokenizer.h"

static int do_train(int argc, char **argv) {
    char *input = NULL, *outp = NULL;
    int vocab = 0, minf = 2;
    arg_spec specs[] = {
        {"input", ARG_STR, &input, "training text file (any UTF-8 text)", 1},
        {"vocab-size", ARG_INT, &vocab, "total vocabulary: 256 bytes + merges + 5 special tokens", 1},
        {"min-frequency", ARG_INT, &minf, "never merge a pair seen fewer times", 0},
        {"out", ARG_STR, &outp, "output tokenizer.json", 1},
        {0},
    };
    int r = args_parse(argc, argv, specs, "onerec tokenizer train --input TEXT --vocab-size N --out tokenizer.json",
                       "Train a byte-level BPE (Qwen pre-tokenizer, NFC, Qwen special tokens) that HF tokenizers loads.",
                       NULL, 0, NULL);
    if (r) return r > 0 ? 0 : 2;
    char *text;
    size_t n;
    if (outdir_prepare_file(outp) || file_read_all(input, &text, &n)) return cli_fail("tokenizer train");
    bpe_train_opts o = {vocab, minf, 1};
    char *json;
    double t0 = time_now();
    int got = 0;
    if (bpe_train(text, n, &o, &json, &got)) {
        free(text);
        return cli_fail("tokenizer train");
    }
    free(text);
    if (file_write_atomic(outp, json, strlen(json))) {
        free(json);
        return cli_fail("tokenizer train");
    }
    free(json);
    log_info("trained a %d-token vocabulary on %zu bytes in %.1f s -> %s", got, n, time_now() - t0, outp);
    if (got < vocab)   // said, not hidden: the file holds fewer tokens than --vocab-size
        log_warn("%s: %d tokens, not the %d asked for: the corpus has no more pairs seen --min-frequency times",
                 outp, got, vocab);
    return 0;
}

static int hexval(const char *p, int n, uint32_t *v) {
    *v = 0;
    for (int i = 0; i < n; i++) {
        char c = p[i];
        int d = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
        if (d < 0) return -1;
        *v = *v * 16 + (uint32_t)d;
    }
    return 0;
}

static size_t put_utf8(char *o, uint32_t c) {
    if (c < 0x80) return o[0] = (char)c, 1;
    if (c < 0x800) return o[0] = (char)(0xC0 | c >> 6), o[1] = (char)(0x80 | (c & 63)), 2;
    if (c < 0x10000) return o[0] = (char)(0xE0 | c >> 12), o[1] = (char)(0x80 | ((c >> 6) & 63)), o[2] = (char)(0x80 | (c & 63)), 3;
    o[0] = (char)(0xF0 | c >> 18), o[1] = (char)(0x80 | ((c >> 12) & 63)), o[2] = (char)(0x80 | ((c >> 6) & 63));
    o[3] = (char)(0x80 | (c & 63));
    return 4;
}

// A JSON string literal -> bytes (embedded NULs kept, unlike cJSON). Returns NULL when malformed.
static char *json_unquote(const char *s, size_t *len) {
    while (*s == ' ' || *s == '\t') s++;
    if (*s++ != '"') return NULL;
    char *o = malloc(strlen(s) + 4);
    size_t k = 0;
    if (!o) return NULL;
    for (;;) {
        char c = *s++;
        if (!c) break;
        if (c == '"') {
            while (*s == ' ' || *s == '\t' || *s == '\r') s++;
            if (*s) break;
            o[k] = 0;
            *len = k;
            return o;
        }
        if (c != '\\') {
            o[k++] = c;
            continue;
        }
        uint32_t v, lo;
        switch (c = *s++) {
        case 'n': o[k++] = '\n'; break;
        case 'r': o[k++] = '\r'; break;
        case 't': o[k++] = '\t'; break;
        case 'b': o[k++] = '\b'; break;
        case 'f': o[k++] = '\f'; break;
        case '/': case '\\': case '"': o[k++] = c; break;
        case 'u':
            if (hexval(s, 4, &v)) goto bad;
            s += 4;
            // a surrogate pair is one code point; a lone surrogate becomes U+FFFD (as in JS)
            if (v >= 0xD800 && v <= 0xDBFF && s[0] == '\\' && s[1] == 'u' && !hexval(s + 2, 4, &lo) && lo >= 0xDC00 && lo <= 0xDFFF) {
                v = 0x10000 + ((v - 0xD800) << 10) + (lo - 0xDC00);
                s += 6;
            } else if (v >= 0xD800 && v <= 0xDFFF) {
                v = 0xFFFD;
            }
            k += put_utf8(o + k, v);
            break;
        default: goto bad;
        }
    }
bad:
    free(o);
    return NULL;
}

// bytes -> a JSON string literal on stdout (invalid UTF-8 bytes become U+FFFD, as HF would show them)
static void json_print(const char *s, size_t n) {
    putchar('"');
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '"' || c == '\\') printf("\\%c", c);
        else if (c == '\n') fputs("\\n", stdout);
        else if (c == '\r') fputs("\\r", stdout);
        else if (c == '\t') fputs("\\t", stdout);
        else if (c < 0x20) printf("\\u%04x", c);
        else if (c < 0x80) putchar(c);
        else {
            // copy a valid UTF-8 sequence as is
            int l = (c & 0xE0) == 0xC0 ? 2 : (c & 0xF0) == 0xE0 ? 3 : (c & 0xF8) == 0xF0 ? 4 : 0;
            int ok = l && i + (size_t)l <= n;
            for (int k = 1; ok && k < l; k++) ok = ((unsigned char)s[i + k] & 0xC0) == 0x80;
            if (ok) {
                fwrite(s + i, 1, (size_t)l, stdout);
                i += (size_t)l - 1;
            } else {
                fputs("\\ufffd", stdout);
            }
        }
    }
    fputs("\"\n", stdout);
}

// A line is either raw text or, with --json-lines, a JSON string literal (so it can hold \n, \r).
static char *line_text(char *line, size_t *len, int json, const char *cmd) {
    if (!json) return line;
    char *s = json_unquote(line, len);
    if (!s) {
        err_set("input line is not a JSON string literal: %.60s", line);
        cli_fail(cmd);
    }
    return s;
}

static int do_encode(int argc, char **argv) {
    char *path = NULL;
    int with_text = 0, json = 0;
    arg_spec specs[] = {
        {"tokenizer", ARG_STR, &path, "tokenizer.json", 1},
        {"with-text", ARG_BOOL, &with_text, "after the ids, a tab and the token strings (space-separated)", 0},
        {"json-lines", ARG_BOOL, &json, "each input line is a JSON string literal (for text with newlines)", 0},
        {0},
    };
    int r = args_parse(argc, argv, specs, "onerec tokenizer encode --tokenizer FILE < lines",
                       "Each stdin line -> space-separated token ids on stdout (the newline is not encoded).", NULL,
                       0, NULL);
    if (r) return r > 0 ? 0 : 2;
    tokenizer *t;
    if (tokenizer_load(&t, path)) return cli_fail("tokenizer encode");
    char *line = NULL;
    size_t cap = 0;
    ssize_t got;
    tok_buf b = {0};
    int rc = 0;
    while ((got = getline(&line, &cap, stdin)) >= 0) {
        size_t len = (size_t)got;
        if (len && line[len - 1] == '\n') line[--len] = 0;
        char *s = line_text(line, &len, json, "tokenizer encode");
        if (!s) {
            rc = 1;
            break;
        }
        b.n = 0;
        if (tokenizer_encode(t, s, len, &b)) {
            rc = cli_fail("tokenizer encode");
            if (s != line) free(s);
            break;
        }
        if (s != line) free(s);
        for (size_t i = 0; i < b.n; i++) printf(i ? " %d" : "%d", b.ids[i]);
        if (with_text) {
            putchar('\t');
            for (size_t i = 0; i < b.n; i++) printf(i ? " %s" : "%s", tokenizer_id_to_token(t, b.ids[i]));
        }
        putchar('\n');
    }
    free(line);
    tok_buf_free(&b);
    tokenizer_free(t);
    return rc;
}

static int do_decode(int argc, char **argv) {
    char *path = NULL;
    int skip = 0, json = 0;
    arg_spec specs[] = {
        {"tokenizer", ARG_STR, &path, "tokenizer.json", 1},
        {"skip-special", ARG_BOOL, &skip, "drop special tokens (<|im_end|>, ...)", 0},
        {"json-lines", ARG_BOOL, &json, "print each result as a JSON string literal", 0},
        {0},
    };
    int r = args_parse(argc, argv, specs, "onerec tokenizer decode --tokenizer FILE < id-lines",
                       "Each stdin line of space-separated ids -> the decoded text.", NULL, 0, NULL);
    if (r) return r > 0 ? 0 : 2;
    tokenizer *t;
    if (tokenizer_load(&t, path)) return cli_fail("tokenizer decode");
    char *line = NULL;
    size_t cap = 0, n = 0, idcap = 0;
    int32_t *ids = NULL;
    int rc = 0;
    long lineno = 0;
    while (getline(&line, &cap, stdin) >= 0) {
        lineno++;
        n = 0;
        char *p = line, *end;
        for (;;) {
            while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r') p++;
            if (!*p) break;
            long v = strtol(p, &end, 10);
            if (end == p || v < 0 || v > 0x7fffffff) {
                err_set("line %ld: \"%.20s\" is not a token id", lineno, p);
                rc = cli_fail("tokenizer decode");
                goto out;
            }
            if (n == idcap) {
                idcap = idcap ? idcap * 2 : 256;
                ids = realloc(ids, idcap * sizeof *ids);
            }
            ids[n++] = (int32_t)v;
            p = end;
        }
        char *text;
        size_t len;
        if (tokenizer_decode(t, ids, n, skip, &text, &len)) {
            err_wrap("line %ld: ", lineno);
            rc = cli_fail("tokenizer decode");
            goto out;
        }
        if (json) {
            json_print(text, len);
        } else {
            fwrite(text, 1, len, stdout);
            putchar('\n');
        }
        free(text);
    }
out:
    free(line);
    free(ids);
    tokenizer_free(t);
    return rc;
}

// Each stdin line: {"messages": [{"role","content"[,"reasoning_content"]}...], "add_generation_prompt":
// bool, "enable_thinking": bool, "think_pattern": bool, "soft_switch": "/no_think"} -> one JSON line
// {"text": ..., "ids": [...], "mask": [...]} (ids and mask only with --tokenizer).
static int do_chat(int argc, char **argv) {
    char *path = NULL;
    arg_spec specs[] = {{"tokenizer", ARG_STR, &path, "tokenizer.json (adds ids and the loss mask)", 0}, {0}};
    int r = args_parse(argc, argv, specs, "onerec tokenizer chat [--tokenizer FILE] < conversations.jsonl",
                       "Render Qwen3 chats (one JSON object per line) to text, ids and assistant loss mask.",
                       NULL, 0, NULL);
    if (r) return r > 0 ? 0 : 2;
    tokenizer *t = NULL;
    if (path && tokenizer_load(&t, path)) return cli_fail("tokenizer chat");
    char *line = NULL;
    size_t cap = 0;
    int rc = 0;
    long lineno = 0;
    while (getline(&line, &cap, stdin) >= 0) {
        lineno++;
        cJSON *j = cJSON_Parse(line);
        char where[32];
        snprintf(where, sizeof where, "line %ld", lineno);
        chat_messages cm;
        if (!j) err_set("%s: expected {\"messages\": [...]} (invalid JSON)", where);
        if (!j || chat_messages_from_json(&cm, cJSON_GetObjectItemCaseSensitive(j, "messages"), where, 1)) {
            cJSON_Delete(j);
            rc = cli_fail("tokenizer chat");
            break;
        }
        const chat_msg *m = cm.msgs;
        size_t nm = cm.n;
        const cJSON *agp = cJSON_GetObjectItemCaseSensitive(j, "add_generation_prompt");
        const cJSON *et = cJSON_GetObjectItemCaseSensitive(j, "enable_thinking");
        const cJSON *tp = cJSON_GetObjectItemCaseSensitive(j, "think_pattern");
        const cJSON *ss = cJSON_GetObjectItemCaseSensitive(j, "soft_switch");
        chat_opts o = {cJSON_IsTrue(agp), et && cJSON_IsBool(et) ? cJSON_IsTrue(et) : -1, cJSON_IsTrue(tp),
                       cJSON_IsString(ss) ? ss->valuestring : NULL};
        cJSON *res = cJSON_CreateObject();
        int bad;
        if (t) {
            chat_encoded e = {0};
            bad = chat_encode(t, m, nm, &o, &e);
            if (!bad) {
                cJSON_AddStringToObject(res, "text", e.text);
                cJSON *ids = cJSON_AddArrayToObject(res, "ids"), *mask = cJSON_AddArrayToObject(res, "mask");
                for (size_t i = 0; i < e.n; i++) {
                    cJSON_AddItemToArray(ids, cJSON_CreateNumber(e.ids[i]));
                    cJSON_AddItemToArray(mask, cJSON_CreateNumber(e.mask[i]));
                }
            }
            chat_encoded_free(&e);
        } else {
            char *text;
            size_t len, ns;
            chat_span *sp;
            bad = chat_render(m, nm, &o, &text, &len, &sp, &ns);
            if (!bad) {
                cJSON_AddStringToObject(res, "text", text);
                free(text);
                free(sp);
            }
        }
        chat_messages_free(&cm);
        cJSON_Delete(j);
        if (bad) {
            cJSON_Delete(res);
            err_wrap("line %ld: ", lineno);
            rc = cli_fail("tokenizer chat");
            break;
        }
        char *s = cJSON_PrintUnformatted(res);
        puts(s);
        free(s);
        cJSON_Delete(res);
    }
    free(line);
    tokenizer_free(t);
    return rc;
}

int cmd_tokenizer(int argc, char **argv) {
    const char *use = "usage: onerec tokenizer train|encode|decode|chat [options]   (--help on each)\n";
    if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
        fputs(use, argc < 2 ? stderr : stdout);
        return argc < 2 ? 2 : 0;
    }
    const char *sub = argv[1];
    if (!strcmp(sub, "train")) return do_train(argc - 1, argv + 1);
    if (!strcmp(sub, "encode")) return do_encode(argc - 1, argv + 1);
    if (!strcmp(sub, "decode")) return do_decode(argc - 1, argv + 1);
    if (!strcmp(sub, "chat")) return do_chat(argc - 1, argv + 1);
    fprintf(stderr, "onerec tokenizer: unknown subcommand \"%s\"\n%s", sub, use);
    return 2;
}
