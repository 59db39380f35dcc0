// Writes an expanded copy of a Qwen3 tokenizer.json with the itemic tokens appended as ordinary
// (non-special, normalized) added tokens, in the reference order: <s_a_0>..<s_a_{K-1}>, <s_b_*>,
// <s_c_*>, <|sid_begin|>, <|sid_end|>, ids from len(tokenizer) (151669 for Qwen3).
// usage: node tests/ref/tok_expand.js IN.json OUT.json [K=8192] [LAYERS=3]
'use strict';
const fs = require('fs');
const [inp, outp, kArg, lArg] = process.argv.slice(2);
const K = parseInt(kArg || '8192', 10), L = parseInt(lArg || '3', 10);
const j = JSON.parse(fs.readFileSync(inp, 'utf8'));
let next = 0;
for (const v of Object.values(j.model.vocab)) next = Math.max(next, v + 1);
for (const a of j.added_tokens) next = Math.max(next, a.id + 1);
const have = new Set(Object.keys(j.model.vocab).concat(j.added_tokens.map(a => a.content)));
const toks = [];
for (let l = 0; l < L; l++) for (let i = 0; i < K; i++) toks.push(`<s_${String.fromCharCode(97 + l)}_${i}>`);
toks.push('<|sid_begin|>', '<|sid_end|>');
for (const t of toks) {
  if (have.has(t)) continue;
  j.added_tokens.push({ id: next++, content: t, single_word: false, lstrip: false, rstrip: false, normalized: true, special: false });
}
fs.writeFileSync(outp, JSON.stringify(j, null, 2));
