// Loading tokenizer.json into hash maps, added tokens, and writing the JSON back.
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "base/file.h"
#include "base/json.h"
#include "base/mem.h"
#include "text/tok_internal.h"

#define TOK_MAX_ID (1 << 24)

int tok_set_id(tokenizer *t, int32_t id, const char *str, size_t slen, int flags) {
    if (id < 0 || id >= TOK_MAX_ID) return err_set("token id %d out of range [0, %d)", id, TOK_MAX_ID);
    if ((size_t)id >= t->id_cap) {
        size_t ncap = t->id_cap ? t->id_cap : 1024;
        while (ncap <= (size_t)id) ncap *= 2;
        char **a = mem_realloc(t->id_str, ncap * sizeof *a);
        if (!a) return ERR_FAIL;
        t->id_str = a;
        char **b = mem_realloc(t->id_bytes, ncap * sizeof *b);
        if (!b) return ERR_FAIL;
        t->id_bytes = b;
        uint32_t *c = mem_realloc(t->id_blen, ncap * sizeof *c);
        if (!c) return ERR_FAIL;
        t->id_blen = c;
        uint8_t *d = mem_realloc(t->id_flags, ncap);
        if (!d) return ERR_FAIL;
        t->id_flags = d;
        for (size_t i = t->id_cap; i < ncap; i++) t->id_str[i] = NULL, t->id_bytes[i] = NULL, t->id_blen[i] = 0, t->id_flags[i] = 0;
        t->id_cap = ncap;
    }
    if (id >= t->nid) t->nid = id + 1;
    if (t->id_str[id]) {
        // an added token that repeats a vocab entry keeps the vocab string; flags accumulate
        t->id_flags[id] |= (uint8_t)flags;
        return 0;
    }
    char *s = mem_strndup(str, slen);
    if (!s) return ERR_FAIL;
    t->id_str[id] = s;
    t->id_flags[id] = (uint8_t)flags;
    // decoded bytes: byte-level decoding maps each char back to its byte; a token with a char outside
    // the alphabet decodes to its own UTF-8 (HF's ByteLevel decoder does the same)
    char *b = mem_alloc(slen + 1);
    if (!b) return ERR_FAIL;
    long bl = t->dec_bytelevel ? tok_bytelevel_decode(str, slen, b) : -1;
    t->id_bytelevel_ok = bl >= 0;
    if (bl < 0) memcpy(b, str, slen), bl = (long)slen;
    b[bl] = 0;
    t->id_bytes[id] = b;
    t->id_blen[id] = (uint32_t)bl;
    return 0;
}

static int merge_put(tokenizer *t, int32_t a, int32_t b, int32_t rank, int32_t id) {
    uint64_t key = ((uint64_t)(uint32_t)a << 32) | (uint32_t)b;
    size_t j = tok_hash(&key, 8) & (t->merge_cap - 1);   // == merge_slot_of in tok_encode.c
    while (t->merges[j].key != UINT64_MAX && t->merges[j].key != key) j = (j + 1) & (t->merge_cap - 1);
    // a repeated pair takes the later rank, as HF's map construction does
    t->merges[j] = (merge_slot){key, rank, id};
    return 0;
}

// HF's regex engine (Oniguruma) and PCRE2 10.42 disagree on two sets of code points: U+180E is
// whitespace for PCRE2 (its \h list) but not for Oniguruma (Unicode White_Space), and the Kaktovik
// numerals U+1D2C0..U+1D2D3 (Unicode 15) are \p{N} only for Oniguruma. We spell \s as the White_Space
// list and widen \p{N}; \S and \P{N} are rewritten outside character classes (inside one, only the
// positive forms can be; the negated ones are left alone there). Checked on every code point.
#define WS_LIST "\\t\\n\\x0B\\f\\r\\x20\\x{85}\\x{A0}\\x{1680}\\x{2000}-\\x{200A}\\x{2028}\\x{2029}\\x{202F}\\x{205F}\\x{3000}"
static char *hf_compatible_regex(const char *pat) {
    static const char *SP_IN = WS_LIST, *N_IN = "\\p{N}\\x{1D2C0}-\\x{1D2D3}";
    size_t n = strlen(pat);
    char *o = mem_alloc(n * 12 + 1);
    if (!o) return NULL;
    size_t k = 0;
    int in_class = 0;
    for (size_t i = 0; i < n;) {
        const char *p = pat + i;
        const char *rep = NULL;
        size_t used = 0;
        if (p[0] == '\\' && p[1]) {
            if (p[1] == 's') rep = in_class ? SP_IN : "[" WS_LIST "]", used = 2;
            else if (p[1] == 'S' && !in_class) rep = "[^" WS_LIST "]", used = 2;
            else if (!strncmp(p + 1, "p{N}", 4)) rep = in_class ? N_IN : "[\\p{N}\\x{1D2C0}-\\x{1D2D3}]", used = 5;
            else if (!strncmp(p + 1, "P{N}", 4) && !in_class) rep = "[^\\p{N}\\x{1D2C0}-\\x{1D2D3}]", used = 5;
            if (rep) {
                size_t rl = strlen(rep);
                memcpy(o + k, rep, rl);
                k += rl, i += used;
            } else {
                o[k++] = p[0], o[k++] = p[1], i += 2;   // any other escape is copied whole
            }
            continue;
        }
        if (!in_class && p[0] == '[') {
            in_class = 1;
            o[k++] = pat[i++];
            // a leading ^ and a leading ] belong to the class
            if (pat[i] == '^') o[k++] = pat[i++];
            if (pat[i] == ']') o[k++] = pat[i++];
            continue;
        }
        if (in_class && p[0] == '[' && p[1] == ':') {   // POSIX [:name:] inside a class
            const char *e = strstr(p + 2, ":]");
            size_t l = e ? (size_t)(e - p) + 2 : 1;
            memcpy(o + k, p, l);
            k += l, i += l;
            continue;
        }
        if (in_class && p[0] == ']') in_class = 0;
        o[k++] = pat[i++];
    }
    o[k] = 0;
    return o;
}

static int compile_regex(pcre2_code **re, const char *pat_in, int literal, const char *where) {
    int ec;
    PCRE2_SIZE eo;
    uint32_t opts = PCRE2_UTF | PCRE2_UCP | PCRE2_MATCH_INVALID_UTF | (literal ? PCRE2_LITERAL : 0);
    char *pat = literal ? mem_strdup(pat_in) : hf_compatible_regex(pat_in);
    if (!pat) return ERR_FAIL;
    *re = pcre2_compile((PCRE2_SPTR)pat, PCRE2_ZERO_TERMINATED, opts, &ec, &eo, NULL);
    free(pat);
    pat = (char *)pat_in;
    if (!*re) {
        PCRE2_UCHAR buf[256];
        pcre2_get_error_message(ec, buf, sizeof buf);
        return err_set("%s: regex %s does not compile at offset %zu: %s", where, pat, (size_t)eo, (char *)buf);
    }
    pcre2_jit_compile(*re, PCRE2_JIT_COMPLETE);   // interpreted matching still works if JIT is unavailable
    return 0;
}

static const char *type_of(const cJSON *o) {
    const cJSON *ty = cJSON_GetObjectItemCaseSensitive(o, "type");
    return cJSON_IsString(ty) ? ty->valuestring : NULL;
}

static int parse_normalizer(tokenizer *t, const cJSON *n, const char *where) {
    if (!n || cJSON_IsNull(n)) return 0;
    const char *ty = type_of(n);
    if (!ty) return err_set("%s: normalizer without a \"type\"", where);
    if (!strcmp(ty, "Sequence")) {
        const cJSON *arr = cJSON_GetObjectItemCaseSensitive(n, "normalizers");
        if (!cJSON_IsArray(arr)) return err_set("%s: normalizer Sequence without \"normalizers\" array", where);
        const cJSON *c;
        cJSON_ArrayForEach(c, arr) if (parse_normalizer(t, c, where)) return ERR_FAIL;
        return 0;
    }
    int k = !strcmp(ty, "NFC") ? NORM_NFC : !strcmp(ty, "NFD") ? NORM_NFD : !strcmp(ty, "NFKC") ? NORM_NFKC
          : !strcmp(ty, "NFKD") ? NORM_NFKD : 0;
    if (!k) return err_set("%s: unsupported normalizer type \"%s\" (supported: NFC, NFD, NFKC, NFKD, Sequence)", where, ty);
    if (t->nnorm >= 8) return err_set("%s: too many normalizers (max 8)", where);
    t->norm[t->nnorm++] = k;
    return 0;
}

static int parse_pretok(tokenizer *t, const cJSON *p, const char *where) {
    if (!p || cJSON_IsNull(p)) return 0;
    const char *ty = type_of(p);
    if (!ty) return err_set("%s: pre_tokenizer without a \"type\"", where);
    if (!strcmp(ty, "Sequence")) {
        const cJSON *arr = cJSON_GetObjectItemCaseSensitive(p, "pretokenizers");
        if (!cJSON_IsArray(arr)) return err_set("%s: pre_tokenizer Sequence without \"pretokenizers\" array", where);
        const cJSON *c;
        cJSON_ArrayForEach(c, arr) if (parse_pretok(t, c, where)) return ERR_FAIL;
        return 0;
    }
    if (t->nsteps >= 8) return err_set("%s: too many pre-tokenizers (max 8)", where);
    pt_step *s = &t->steps[t->nsteps];
    memset(s, 0, sizeof *s);
    if (!strcmp(ty, "Split")) {
        const cJSON *pat = cJSON_GetObjectItemCaseSensitive(p, "pattern");
        const cJSON *rx = pat ? cJSON_GetObjectItemCaseSensitive(pat, "Regex") : NULL;
        const cJSON *st = pat ? cJSON_GetObjectItemCaseSensitive(pat, "String") : NULL;
        if (!cJSON_IsString(rx) && !cJSON_IsString(st))
            return err_set("%s: Split pre-tokenizer needs pattern {\"Regex\": ...} or {\"String\": ...}", where);
        const char *beh = json_get_string(p, "behavior", where);
        if (!beh) return ERR_FAIL;
        if (!strcmp(beh, "Isolated")) s->behavior = SPLIT_ISOLATED;
        else if (!strcmp(beh, "Removed")) s->behavior = SPLIT_REMOVED;
        else return err_set("%s: unsupported Split behavior \"%s\" (supported: Isolated, Removed)", where, beh);
        if (json_opt_bool(p, "invert", 0, &s->invert, where)) return ERR_FAIL;
        if (s->invert) return err_set("%s: Split with \"invert\": true is not supported", where);
        s->kind = PT_SPLIT;
        if (compile_regex(&s->re, cJSON_IsString(rx) ? rx->valuestring : st->valuestring, !cJSON_IsString(rx), where))
            return ERR_FAIL;
    } else if (!strcmp(ty, "ByteLevel")) {
        int use_regex = 1;
        if (json_opt_bool(p, "use_regex", 1, &use_regex, where)) return ERR_FAIL;
        if (json_opt_bool(p, "add_prefix_space", 0, &s->add_prefix_space, where)) return ERR_FAIL;
        s->kind = PT_BYTELEVEL;
        s->behavior = SPLIT_ISOLATED;
        if (use_regex && compile_regex(&s->re, TOK_GPT2_REGEX, 0, where)) return ERR_FAIL;
        t->bytelevel = 1;
    } else {
        return err_set("%s: unsupported pre_tokenizer type \"%s\" (supported: Split, ByteLevel, Sequence)", where, ty);
    }
    t->nsteps++;
    return 0;
}

static int parse_decoder(tokenizer *t, const cJSON *d, const char *where) {
    if (!d || cJSON_IsNull(d)) {
        t->dec_none = 1;
        return 0;
    }
    const char *ty = type_of(d);
    if (!ty) return err_set("%s: decoder without a \"type\"", where);
    if (!strcmp(ty, "ByteLevel")) {
        t->dec_bytelevel = 1;
        return 0;
    }
    if (!strcmp(ty, "Sequence")) {
        const cJSON *arr = cJSON_GetObjectItemCaseSensitive(d, "decoders");
        if (!cJSON_IsArray(arr)) return err_set("%s: decoder Sequence without \"decoders\" array", where);
        const cJSON *c;
        cJSON_ArrayForEach(c, arr) if (parse_decoder(t, c, where)) return ERR_FAIL;
        return 0;
    }
    return err_set("%s: unsupported decoder type \"%s\" (supported: ByteLevel, Sequence)", where, ty);
}

static int parse_model(tokenizer *t, const cJSON *m, const char *where) {
    if (!cJSON_IsObject(m)) return err_set("%s: missing \"model\" object", where);
    const char *ty = type_of(m);
    if (ty && strcmp(ty, "BPE")) return err_set("%s: unsupported model type \"%s\" (supported: BPE)", where, ty);
    const cJSON *vocab = cJSON_GetObjectItemCaseSensitive(m, "vocab");
    const cJSON *merges = cJSON_GetObjectItemCaseSensitive(m, "merges");
    if (!cJSON_IsObject(vocab)) return err_set("%s: model.vocab must be an object {token: id}", where);
    if (!cJSON_IsArray(merges)) return err_set("%s: model.merges must be an array", where);
    const cJSON *x;
    if ((x = cJSON_GetObjectItemCaseSensitive(m, "dropout")) && !cJSON_IsNull(x))
        return err_set("%s: BPE dropout is not supported (set it to null)", where);
    const char *keys[] = {"continuing_subword_prefix", "end_of_word_suffix"};
    for (int i = 0; i < 2; i++)
        if ((x = cJSON_GetObjectItemCaseSensitive(m, keys[i])) && cJSON_IsString(x) && x->valuestring[0])
            return err_set("%s: BPE %s is not supported", where, keys[i]);
    if (json_opt_bool(m, "ignore_merges", 0, &t->ignore_merges, where) ||
        json_opt_bool(m, "byte_fallback", 0, &t->byte_fallback, where) ||
        json_opt_bool(m, "fuse_unk", 0, &t->fuse_unk, where))
        return ERR_FAIL;

    const cJSON *v;
    size_t nv = 0;
    cJSON_ArrayForEach(v, vocab) nv++;
    if (strmap_reserve(&t->str2id, nv + 1024) || strmap_reserve(&t->vocab_key, nv)) return ERR_FAIL;
    cJSON_ArrayForEach(v, vocab) {
        if (!cJSON_IsNumber(v) || v->valuedouble != (double)(int64_t)v->valuedouble)
            return err_set("%s: model.vocab[\"%s\"] is not an integer id", where, v->string);
        int64_t id = (int64_t)v->valuedouble;
        if (id < 0 || id >= TOK_MAX_ID) return err_set("%s: model.vocab[\"%s\"] = %lld out of range", where, v->string, (long long)id);
        size_t sl = strlen(v->string);
        if (t->id_str && id < t->nid && t->id_str[id])
            return err_set("%s: model.vocab has id %lld twice (\"%s\" and \"%s\")", where, (long long)id, t->id_str[id], v->string);
        if (tok_set_id(t, (int32_t)id, v->string, sl, TOKF_VOCAB)) return err_wrap("%s: ", where);
        if (strmap_put(&t->str2id, t->id_str[id], sl, (int32_t)id)) return ERR_FAIL;
        if (!t->bytelevel) {
            if (strmap_put(&t->vocab_key, t->id_str[id], sl, (int32_t)id)) return ERR_FAIL;
            continue;
        }
        // model-internal key of a byte-level model: the raw bytes (tokens with a char outside the
        // byte-level alphabet can never be produced and are left out)
        if (!t->dec_bytelevel) {
            char *b = mem_alloc(sl + 1);
            if (!b) return ERR_FAIL;
            long bl = tok_bytelevel_decode(v->string, sl, b);
            if (bl < 0) {
                free(b);
                continue;
            }
            b[bl] = 0;
            free(t->id_bytes[id]);
            t->id_bytes[id] = b;
            t->id_blen[id] = (uint32_t)bl;
        } else if (!t->id_bytelevel_ok) {
            continue;
        }
        if (strmap_put(&t->vocab_key, t->id_bytes[id], t->id_blen[id], (int32_t)id)) return ERR_FAIL;
    }
    for (int b = 0; b < 256; b++) {
        char c[2];
        t->byte_id[b] = t->bytelevel ? strmap_get(&t->str2id, c, (size_t)tok_bytelevel_char((uint8_t)b, c)) : -1;
        char fb[8];
        snprintf(fb, sizeof fb, "<0x%02X>", b);
        t->fallback_id[b] = strmap_get(&t->str2id, fb, strlen(fb));
    }
    t->unk_id = -1;
    if ((x = cJSON_GetObjectItemCaseSensitive(m, "unk_token")) && cJSON_IsString(x)) {
        t->unk_id = strmap_get(&t->str2id, x->valuestring, strlen(x->valuestring));
        if (t->unk_id < 0) return err_set("%s: unk_token \"%s\" is not in model.vocab", where, x->valuestring);
    }

    int nm = cJSON_GetArraySize(merges);
    t->merge_cap = 16;
    while (t->merge_cap < (size_t)nm * 2 + 16) t->merge_cap *= 2;
    t->merges = mem_alloc(t->merge_cap * sizeof *t->merges);
    if (!t->merges) return ERR_FAIL;
    for (size_t i = 0; i < t->merge_cap; i++) t->merges[i].key = UINT64_MAX;
    int rank = 0;
    char *buf = NULL;
    size_t bcap = 0;
    cJSON_ArrayForEach(v, merges) {
        const char *a, *b;
        size_t al, bl;
        if (cJSON_IsString(v)) {
            // "a b": exactly one space separates the two parts
            const char *s = v->valuestring, *sp = strchr(s, ' ');
            if (!sp || strchr(sp + 1, ' ')) {
                free(buf);
                return err_set("%s: model.merges[%d] = \"%s\" is not of the form \"a b\"", where, rank, s);
            }
            a = s, al = (size_t)(sp - s), b = sp + 1, bl = strlen(sp + 1);
        } else if (cJSON_IsArray(v) && cJSON_GetArraySize(v) == 2 && cJSON_IsString(v->child) &&
                   cJSON_IsString(v->child->next)) {
            a = v->child->valuestring, al = strlen(a), b = v->child->next->valuestring, bl = strlen(b);
        } else {
            free(buf);
            return err_set("%s: model.merges[%d] is neither \"a b\" nor [\"a\", \"b\"]", where, rank);
        }
        int32_t ia = strmap_get(&t->str2id, a, al), ib = strmap_get(&t->str2id, b, bl);
        if (ia < 0 || ib < 0) {
            free(buf);
            return err_set("%s: model.merges[%d]: token \"%.*s\" is not in model.vocab", where, rank,
                           (int)(ia < 0 ? al : bl), ia < 0 ? a : b);
        }
        if (al + bl + 1 > bcap) {
            bcap = (al + bl + 1) * 2;
            char *nb = realloc(buf, bcap);
            if (!nb) {
                free(buf);
                return err_set("out of memory");
            }
            buf = nb;
        }
        memcpy(buf, a, al);
        memcpy(buf + al, b, bl);
        int32_t iab = strmap_get(&t->str2id, buf, al + bl);
        if (iab < 0) {
            err_set("%s: model.merges[%d]: merged token \"%.*s\" is not in model.vocab", where, rank, (int)(al + bl), buf);
            free(buf);
            return ERR_FAIL;
        }
        merge_put(t, ia, ib, rank, iab);
        rank++;
    }
    free(buf);
    return 0;
}

static int add_one(tokenizer *t, const char *content, int32_t id, int special, int normalized, int sw, int ls, int rs) {
    if (!content[0]) return err_set("added token with empty content (id %d)", id);
    if (t->nadded == t->added_cap) {
        size_t nc = t->added_cap ? t->added_cap * 2 : 64;
        added_tok *na = mem_realloc(t->added, nc * sizeof *na);
        if (!na) return ERR_FAIL;
        t->added = na;
        t->added_cap = nc;
    }
    added_tok *a = &t->added[t->nadded];
    memset(a, 0, sizeof *a);
    a->content = mem_strdup(content);
    if (!a->content) return ERR_FAIL;
    a->id = id;
    a->special = (uint8_t)special, a->normalized = (uint8_t)normalized;
    a->single_word = (uint8_t)sw, a->lstrip = (uint8_t)ls, a->rstrip = (uint8_t)rs;
    if (normalized && t->nnorm) {
        size_t mn;
        if (tok_normalize(t, content, strlen(content), &a->match, &mn)) return ERR_FAIL;
    } else {
        a->match = mem_strdup(content);
        if (!a->match) return ERR_FAIL;
    }
    t->nadded++;
    if (tok_set_id(t, id, content, strlen(content), TOKF_ADDED | (special ? TOKF_SPECIAL : 0))) return ERR_FAIL;
    t->id_flags[id] |= TOKF_ADDED | (special ? TOKF_SPECIAL : 0);
    return strmap_put(&t->str2id, t->id_str[id], strlen(t->id_str[id]), id);
}

static int matcher_build(tok_matcher *m, const tokenizer *t, int normalized) {
    strmap_free(&m->map);
    free(m->lens);
    memset(m, 0, sizeof *m);
    size_t cnt = 0;
    for (size_t i = 0; i < t->nadded; i++) cnt += (t->added[i].normalized != 0) == (normalized != 0);
    m->lens = mem_alloc((cnt + 1) * sizeof *m->lens);
    if (!m->lens) return ERR_FAIL;
    for (size_t i = 0; i < t->nadded; i++) {
        const added_tok *a = &t->added[i];
        if ((a->normalized != 0) != (normalized != 0)) continue;
        size_t l = strlen(a->match);
        if (!l) continue;
        // the first registration of a string wins, as in HF's added vocabulary
        if (strmap_get(&m->map, a->match, l) >= 0) continue;
        if (strmap_put(&m->map, a->match, l, a->id)) return ERR_FAIL;
        m->first[(uint8_t)a->match[0]] = 1;
        size_t k = 0;
        while (k < m->nlens && m->lens[k] > l) k++;
        if (k < m->nlens && m->lens[k] == l) continue;
        memmove(m->lens + k + 1, m->lens + k, (m->nlens - k) * sizeof *m->lens);
        m->lens[k] = (uint32_t)l;
        m->nlens++;
    }
    return 0;
}

int tok_matcher_rebuild(tokenizer *t) { return matcher_build(&t->m_raw, t, 0) || matcher_build(&t->m_norm, t, 1) ? ERR_FAIL : 0; }

int tokenizer_load_json(tokenizer **out, const char *json, size_t len, const char *where) {
    *out = NULL;
    tok_bytelevel_init();
    cJSON *root = json_parse_text(json, where);
    if (!root) return ERR_FAIL;
    tokenizer *t = mem_calloc(1, sizeof *t);
    if (!t) {
        cJSON_Delete(root);
        return ERR_FAIL;
    }
    int rc = ERR_FAIL;
    t->where = mem_strdup(where);
    t->json = mem_strndup(json, len);
    t->json_len = len;
    if (!t->where || !t->json) goto done;
    if (!cJSON_IsObject(root)) {
        err_set("%s: top level is not a JSON object", where);
        goto done;
    }
    if (parse_normalizer(t, cJSON_GetObjectItemCaseSensitive(root, "normalizer"), where) ||
        parse_pretok(t, cJSON_GetObjectItemCaseSensitive(root, "pre_tokenizer"), where) ||
        parse_decoder(t, cJSON_GetObjectItemCaseSensitive(root, "decoder"), where) ||
        parse_model(t, cJSON_GetObjectItemCaseSensitive(root, "model"), where))
        goto done;
    const cJSON *added = cJSON_GetObjectItemCaseSensitive(root, "added_tokens"), *a;
    if (added && !cJSON_IsNull(added) && !cJSON_IsArray(added)) {
        err_set("%s: added_tokens must be an array", where);
        goto done;
    }
    int idx = 0;
    cJSON_ArrayForEach(a, added) {
        char w[64];
        snprintf(w, sizeof w, "%s: added_tokens[%d]", where, idx++);
        int64_t id;
        int special = 0, normalized = 1, sw = 0, ls = 0, rs = 0;
        const char *content = json_get_string(a, "content", w);
        if (!content || json_get_int(a, "id", &id, w) || json_opt_bool(a, "special", 0, &special, w) ||
            json_opt_bool(a, "single_word", 0, &sw, w) || json_opt_bool(a, "lstrip", 0, &ls, w) ||
            json_opt_bool(a, "rstrip", 0, &rs, w))
            goto done;
        // HF: "normalized" defaults to the opposite of "special"
        if (json_opt_bool(a, "normalized", !special, &normalized, w)) goto done;
        if (sw || ls || rs) {
            err_set("%s (\"%s\"): single_word / lstrip / rstrip added tokens are not supported", w, content);
            goto done;
        }
        if (id < 0 || id >= TOK_MAX_ID) {
            err_set("%s: id %lld out of range", w, (long long)id);
            goto done;
        }
        if (add_one(t, content, (int32_t)id, special, normalized, sw, ls, rs)) {
            err_wrap("%s: ", w);
            goto done;
        }
    }
    if (tok_matcher_rebuild(t) || tok_cache_init(t)) goto done;
    rc = 0;
done:
    cJSON_Delete(root);
    if (rc) tokenizer_free(t);
    else *out = t;
    return rc;
}

int tokenizer_load(tokenizer **t, const char *path) {
    char *text;
    size_t n;
    *t = NULL;
    if (file_read_all(path, &text, &n)) return ERR_FAIL;
    int rc = tokenizer_load_json(t, text, n, path);
    free(text);
    return rc;
}

int tokenizer_load_dir(tokenizer **t, const char *dir) {
    *t = NULL;
    char *p = path_join(dir, "tokenizer.json");
    if (!p) return ERR_FAIL;   // out of memory, said by mem_printf; callers name the dir
    int rc = tokenizer_load(t, p);
    free(p);
    return rc;
}

void tokenizer_free(tokenizer *t) {
    if (!t) return;
    for (int32_t i = 0; i < t->nid; i++) free(t->id_str[i]), free(t->id_bytes[i]);
    free(t->id_str), free(t->id_bytes), free(t->id_blen), free(t->id_flags);
    strmap_free(&t->str2id);
    strmap_free(&t->vocab_key);
    free(t->merges);
    for (int i = 0; i < t->nsteps; i++) pcre2_code_free(t->steps[i].re);
    for (size_t i = 0; i < t->nadded; i++) free(t->added[i].content), free(t->added[i].match);
    free(t->added);
    strmap_free(&t->m_raw.map), free(t->m_raw.lens);
    strmap_free(&t->m_norm.map), free(t->m_norm.lens);
    tok_cache_free(t);
    free(t->json);
    free(t->where);
    free(t);
}

int32_t tokenizer_vocab_size(const tokenizer *t) { return t->nid; }

int32_t tokenizer_token_to_id(const tokenizer *t, const char *token) {
    return strmap_get(&t->str2id, token, strlen(token));
}

const char *tokenizer_id_to_token(const tokenizer *t, int32_t id) {
    return id >= 0 && id < t->nid ? t->id_str[id] : NULL;
}

const char *tokenizer_id_to_bytes(const tokenizer *t, int32_t id, size_t *len) {
    if (id < 0 || id >= t->nid || !t->id_str[id]) return NULL;
    if (len) *len = t->id_blen[id];
    return t->id_bytes[id];
}

int tokenizer_is_special(const tokenizer *t, int32_t id) {
    return id >= 0 && id < t->nid && (t->id_flags[id] & TOKF_SPECIAL);
}

int tokenizer_is_added(const tokenizer *t, int32_t id) {
    return id >= 0 && id < t->nid && (t->id_flags[id] & TOKF_ADDED);
}

int tokenizer_add_tokens(tokenizer *t, const char *const *tokens, size_t n, int special, int normalized,
                         size_t *n_added) {
    size_t added = 0;
    for (size_t i = 0; i < n; i++) {
        if (!tokens[i] || !tokens[i][0]) return err_set("tokenizer_add_tokens: token %zu is empty", i);
        if (strmap_get(&t->str2id, tokens[i], strlen(tokens[i])) >= 0) continue;
        if (add_one(t, tokens[i], t->nid, special, normalized, 0, 0, 0)) return ERR_FAIL;
        added++;
    }
    if (n_added) *n_added = added;
    return tok_matcher_rebuild(t);
}

int tokenizer_to_json(const tokenizer *t, char **json) {
    *json = NULL;
    cJSON *root = json_parse_text(t->json, t->where);
    if (!root) return ERR_FAIL;
    cJSON *arr = cJSON_CreateArray();
    for (size_t i = 0; arr && i < t->nadded; i++) {
        const added_tok *a = &t->added[i];
        cJSON *o = cJSON_CreateObject();
        if (!o) break;
        cJSON_AddItemToArray(arr, o);
        cJSON_AddNumberToObject(o, "id", a->id);
        cJSON_AddStringToObject(o, "content", a->content);
        cJSON_AddBoolToObject(o, "single_word", a->single_word);
        cJSON_AddBoolToObject(o, "lstrip", a->lstrip);
        cJSON_AddBoolToObject(o, "rstrip", a->rstrip);
        cJSON_AddBoolToObject(o, "normalized", a->normalized);
        cJSON_AddBoolToObject(o, "special", a->special);
    }
    // keys are case-sensitive (cJSON_HasObjectItem is not: a key "addeD_tokens" made the replace
    // fail and the array leak)
    int have = cJSON_GetObjectItemCaseSensitive(root, "added_tokens") != NULL;
    if (!arr || (have ? !cJSON_ReplaceItemInObjectCaseSensitive(root, "added_tokens", arr)
                      : !cJSON_AddItemToObject(root, "added_tokens", arr))) {
        cJSON_Delete(arr);
        cJSON_Delete(root);
        return err_set("serialising %s: out of memory", t->where);
    }
    *json = cJSON_Print(root);
    cJSON_Delete(root);
    return *json ? 0 : err_set("serialising %s: out of memory", t->where);
}

int tokenizer_save(const tokenizer *t, const char *path) {
    char *s;
    if (tokenizer_to_json(t, &s)) return ERR_FAIL;
    int rc = file_write_atomic(path, s, strlen(s));
    free(s);
    return rc ? err_wrap("saving tokenizer: ") : 0;
}
