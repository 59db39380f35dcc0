// Every code point from U+0080 to U+31FFF (no surrogates), each in the context "a<c>b <c>1 ",
// 50 code points per line: checks the regex and normalizer Unicode tables against HF's.
// usage: node tests/ref/tok_allcp.js > allcp.jsonl
'use strict';
const out = [];
let line = '', k = 0;
for (let c = 0x80; c < 0x32000; c++) {
  if (c >= 0xD800 && c <= 0xDFFF) continue;
  const ch = String.fromCodePoint(c);
  line += 'a' + ch + 'b ' + ch + '1 ';
  if (++k === 50) { out.push(JSON.stringify(line)); line = ''; k = 0; }
}
if (line) out.push(JSON.stringify(line));
process.stdout.write(out.join('\n') + '\n');
