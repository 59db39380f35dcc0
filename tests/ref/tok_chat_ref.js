// Chat-template reference: renders generated conversations with Qwen3's Jinja chat template
// (tokenizer_config.json) through @huggingface/jinja, an independent Jinja engine.
// usage: node tests/ref/tok_chat_ref.js TOKENIZER_CONFIG.json CONVS.jsonl REF.jsonl [N=400]
// Writes the conversations (input for `onerec tokenizer chat`) and the reference texts.
'use strict';
const fs = require('fs');
const path = require('path');
const { Template } = require(path.join(__dirname, '../../tools/npm/node_modules/@huggingface/jinja/dist/index.cjs'));
const [cfgPath, convPath, refPath, nArg] = process.argv.slice(2);
const N = parseInt(nArg || '400', 10);
const tmpl = new Template(JSON.parse(fs.readFileSync(cfgPath, 'utf8')).chat_template);
let seed = 7;
function rnd() { seed = (seed + 0x6D2B79F5) >>> 0; let t = seed; t = Math.imul(t ^ (t >>> 15), t | 1); t ^= t + Math.imul(t ^ (t >>> 7), t | 61); return ((t ^ (t >>> 14)) >>> 0) / 4294967296; }
const ri = n => Math.floor(rnd() * n);
const pick = a => a[ri(a.length)];
const texts = ['Hello!', '推荐一些视频', 'What is 2+2?', '  leading spaces', 'trailing newline\n', '\nleading newline', 'multi\nline\n\ntext', '<|sid_begin|><s_a_1><s_b_2><s_c_3><|sid_end|>', '用户喜欢看美食视频。', 'e\u0301 combining', 'tabs\tand\r\nCRLF', ''];
const thinks = ['', '\n', 'Let me think.', '\nstep 1\nstep 2\n', '思考一下'];
// @huggingface/jinja 0.5 ignores the argument of strip/lstrip/rstrip (it strips all whitespace, Python
// strips only '\n' here), so assistant texts never start or end with spaces or tabs; the Python
// behaviour for those is checked in tests/test_tokenizer.c.
const atexts = texts.filter(t => !/^[ \t]|[ \t]$/.test(t));
function assistant() {
  const r = ri(6), t = pick(atexts);
  if (r === 0) return { role: 'assistant', content: t };
  if (r === 1) return { role: 'assistant', content: `<think>${pick(thinks)}</think>${pick(['', '\n', '\n\n'])}${t}` };
  if (r === 2) return { role: 'assistant', content: `<think>\n</think>\n${t}` };
  if (r === 3) return { role: 'assistant', content: t, reasoning_content: pick(thinks) };
  if (r === 4) return { role: 'assistant', content: `prefix <think>${pick(thinks)}</think>middle</think>\n${t}` };
  return { role: 'assistant', content: `${pick(['', '\n'])}<think>\n${pick(thinks)}\n</think>\n\n${t}` };
}
const convs = [], refs = [];
for (let i = 0; i < N; i++) {
  const m = [];
  if (rnd() < 0.6) m.push({ role: 'system', content: pick(['You are a recommender.', '你是一个推荐助手。', '', 'sys\nline2']) });
  const turns = 1 + ri(4);
  for (let k = 0; k < turns; k++) {
    m.push({ role: 'user', content: pick(texts) });
    if (k < turns - 1 || rnd() < 0.6) m.push(assistant());
    if (rnd() < 0.1) m.push({ role: 'system', content: 'mid-conversation system' });
  }
  if (rnd() < 0.1) m.push({ role: 'user', content: '<tool_response>\nresult\n</tool_response>' });
  const conv = { messages: m, add_generation_prompt: rnd() < 0.5 };
  const et = ri(3);
  if (et === 1) conv.enable_thinking = false;
  if (et === 2) conv.enable_thinking = true;
  convs.push(JSON.stringify(conv));
  const ctx = { messages: m, add_generation_prompt: conv.add_generation_prompt };
  if (et) ctx.enable_thinking = conv.enable_thinking;
  refs.push(JSON.stringify({ text: tmpl.render(ctx) }));
}
fs.writeFileSync(convPath, convs.join('\n') + '\n');
fs.writeFileSync(refPath, refs.join('\n') + '\n');
