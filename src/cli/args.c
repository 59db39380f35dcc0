#include "cli/args.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"

static const char *kind_name(arg_kind k) {
    switch (k) {
    case ARG_STR: return "TEXT";
    case ARG_INT:
    case ARG_I64: return "N";
    case ARG_FLOAT:
    case ARG_DOUBLE: return "X";
    default: return "";
    }
}

static void print_default(const arg_spec *s) {
    switch (s->kind) {
    case ARG_STR: {
        const char *v = *(char **)s->dst;
        if (v) fprintf(stdout, " (default: %s)", v);
        break;
    }
    case ARG_INT: fprintf(stdout, " (default: %d)", *(int *)s->dst); break;
    case ARG_I64: fprintf(stdout, " (default: %lld)", (long long)*(int64_t *)s->dst); break;
    case ARG_FLOAT: fprintf(stdout, " (default: %g)", *(float *)s->dst); break;
    case ARG_DOUBLE: fprintf(stdout, " (default: %g)", *(double *)s->dst); break;
    case ARG_BOOL: break;
    }
}

void args_print_help(const arg_spec *specs, const char *usage, const char *summary) {
    fprintf(stdout, "usage: %s\n", usage);
    if (summary) fprintf(stdout, "\n%s\n", summary);
    fprintf(stdout, "\noptions:\n");
    for (const arg_spec *s = specs; s && s->name; s++) {
        char left[96];
        snprintf(left, sizeof left, "--%s %s", s->name, kind_name(s->kind));
        fprintf(stdout, "  %-34s %s%s", left, s->help ? s->help : "", s->required ? " (required)" : "");
        if (!s->required) print_default(s);
        fputc('\n', stdout);
    }
    fprintf(stdout, "  %-34s %s\n", "--help", "show this help");
}

static int set_value(const arg_spec *s, const char *v) {
    char *end = NULL;
    errno = 0;
    switch (s->kind) {
    case ARG_STR: *(char **)s->dst = (char *)v; return 0;
    case ARG_INT: {
        long x = strtol(v, &end, 10);
        if (errno || *end || end == v || x < -2147483647L || x > 2147483647L) break;
        *(int *)s->dst = (int)x;
        return 0;
    }
    case ARG_I64: {
        long long x = strtoll(v, &end, 10);
        if (errno || *end || end == v) break;
        *(int64_t *)s->dst = x;
        return 0;
    }
    case ARG_FLOAT:
    case ARG_DOUBLE: {
        double x = strtod(v, &end);
        if (errno || *end || end == v) break;
        if (s->kind == ARG_FLOAT)
            *(float *)s->dst = (float)x;
        else
            *(double *)s->dst = x;
        return 0;
    }
    case ARG_BOOL: {
        if (!strcmp(v, "1") || !strcmp(v, "true")) *(int *)s->dst = 1;
        else if (!strcmp(v, "0") || !strcmp(v, "false")) *(int *)s->dst = 0;
        else break;
        return 0;
    }
    }
    return err_set("--%s: cannot read \"%s\" as %s", s->name, v, s->kind == ARG_BOOL ? "true/false" : kind_name(s->kind));
}

int args_parse(int argc, char **argv, const arg_spec *specs, const char *usage, const char *summary,
               char **pos, int max_pos, int *npos) {
    int nspec = 0;
    while (specs && specs[nspec].name) nspec++;
    char seen[256] = {0};
    if (npos) *npos = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            args_print_help(specs, usage, summary);
            return 1;
        }
        if (strncmp(a, "--", 2) != 0 || a[2] == 0) {
            if (!pos || !npos || *npos >= max_pos) {
                fprintf(stderr, "error: unexpected argument \"%s\"\nusage: %s\n", a, usage);
                return -1;
            }
            pos[(*npos)++] = argv[i];
            continue;
        }
        const char *name = a + 2, *eq = strchr(name, '=');
        size_t nlen = eq ? (size_t)(eq - name) : strlen(name);
        int k = -1;
        for (int j = 0; j < nspec; j++)
            if (strlen(specs[j].name) == nlen && !strncmp(specs[j].name, name, nlen)) k = j;
        if (k < 0) {
            fprintf(stderr, "error: unknown flag \"%.*s\" (see --help)\n", (int)(nlen + 2), a);
            return -1;
        }
        const char *val = eq ? eq + 1 : NULL;
        if (!val && specs[k].kind == ARG_BOOL) val = "1";
        if (!val) {
            if (i + 1 >= argc) {
                fprintf(stderr, "error: flag --%s needs a value\n", specs[k].name);
                return -1;
            }
            val = argv[++i];
        }
        if (set_value(&specs[k], val)) {
            fprintf(stderr, "error: %s\n", err_msg());
            return -1;
        }
        if (k < 256) seen[k] = 1;
    }
    for (int j = 0; j < nspec && j < 256; j++)
        if (specs[j].required && !seen[j]) {
            fprintf(stderr, "error: missing required flag --%s\nusage: %s\n", specs[j].name, usage);
            return -1;
        }
    return 0;
}

int cli_fail(const char *cmd) {
    fprintf(stderr, "onerec %s: error: %s\n", cmd, err_msg());
    return err_is_usage() ? 2 : 1;
}

cJSON *args_to_json(const arg_spec *specs) {
    cJSON *j = cJSON_CreateObject();
    for (const arg_spec *s = specs; s->name; s++) {
        switch (s->kind) {
        case ARG_STR: {
            const char *v = *(char **)s->dst;
            if (v) cJSON_AddStringToObject(j, s->name, v);
            else cJSON_AddNullToObject(j, s->name);
            break;
        }
        case ARG_INT: cJSON_AddNumberToObject(j, s->name, *(int *)s->dst); break;
        case ARG_I64: cJSON_AddNumberToObject(j, s->name, (double)*(int64_t *)s->dst); break;
        case ARG_FLOAT: cJSON_AddNumberToObject(j, s->name, *(float *)s->dst); break;
        case ARG_DOUBLE: cJSON_AddNumberToObject(j, s->name, *(double *)s->dst); break;
        case ARG_BOOL: cJSON_AddBoolToObject(j, s->name, *(int *)s->dst); break;
        }
    }
    return j;
}
