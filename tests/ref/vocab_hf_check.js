// HF Rust tokenizers (npm @anush008/tokenizers 0.22.2) on an expanded tokenizer.json: prints one
// JSON object per input text with the ids and the decoded text, so the shell test compares them.
// usage: node tests/ref/vocab_hf_check.js TOKENIZER.json TEXT...
'use strict';
const path = require('path');
const { Tokenizer } = require(path.join(__dirname, '../../tools/npm/node_modules/@anush008/tokenizers'));

async function main() {
  const [file, ...texts] = process.argv.slice(2);
  const tok = Tokenizer.fromFile(file);
  for (const t of texts) {
    const e = await tok.encode(t, null, { addSpecialTokens: false });
    const ids = Array.from(e.getIds());
    const dec = await tok.decode(ids, false);
    console.log(JSON.stringify({ text: t, ids: ids.join(' '), decoded: dec, vocab: tok.getVocabSize(true) }));
  }
}
main().catch(e => { console.error(e); process.exit(1); });
