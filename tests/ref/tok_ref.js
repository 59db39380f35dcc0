// Reference encoder: HF Rust tokenizers (npm @anush008/tokenizers) on each JSON-string line.
// usage: node tests/ref/tok_ref.js TOKENIZER.json IN.jsonl > ids.txt    (one line of ids per input)
//        node tests/ref/tok_ref.js --bench TOKENIZER.json TEXTFILE          (prints MB/s, one thread)
'use strict';
const path = require('path');
const fs = require('fs');
const { Tokenizer } = require(path.join(__dirname, '../../tools/npm/node_modules/@anush008/tokenizers'));

async function main() {
  const a = process.argv.slice(2);
  if (a[0] === '--bench') {
    let t0 = process.hrtime.bigint();
    const tok = Tokenizer.fromFile(a[1]);
    const loadS = Number(process.hrtime.bigint() - t0) / 1e9;
    const lines = fs.readFileSync(a[2], 'utf8').split('\n');
    const bytes = fs.statSync(a[2]).size;
    // chunks of lines, one encode call each, awaited in turn: a single encoding thread
    const chunk = 64;
    t0 = process.hrtime.bigint();
    const c0 = process.cpuUsage();
    let ntok = 0;
    for (let i = 0; i < lines.length; i += chunk) {
      const e = await tok.encode(lines.slice(i, i + chunk).join('\n'), null, { addSpecialTokens: false });
      ntok += e.getLength();
    }
    const s = Number(process.hrtime.bigint() - t0) / 1e9;
    const c = process.cpuUsage(c0), cpu = (c.user + c.system) / 1e6;   // all threads of the process
    console.log(JSON.stringify({ load_s: loadS, encode_s: s, mb_s: bytes / 1e6 / s, cpu_s: cpu, cpu_mb_s: bytes / 1e6 / cpu, tokens: ntok }));
    return;
  }
  const tok = Tokenizer.fromFile(a[0]);
  const lines = fs.readFileSync(a[1], 'utf8').split('\n').filter(l => l.length);
  const out = [];
  for (let i = 0; i < lines.length; i += 256) {
    const batch = lines.slice(i, i + 256).map(l => JSON.parse(l));
    const enc = await tok.encodeBatch(batch, { addSpecialTokens: false });
    for (const e of enc) out.push(Array.from(e.getIds()).join(' '));
  }
  process.stdout.write(out.join('\n') + '\n');
}
main().catch(e => { console.error(e); process.exit(1); });
