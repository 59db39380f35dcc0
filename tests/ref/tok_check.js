// Compares our token ids with the reference, line by line, and (optionally) our decoded text with
// NFC(input). usage: node tests/ref/tok_check.js NAME REF_IDS OUR_IDS [CORPUS.jsonl OUR_DECODED.jsonl [--no-nfc]]
// Prints "NAME: lines=N id_mismatches=M decode_mismatches=D" and exits 1 when anything differs.
'use strict';
const fs = require('fs');
const a = process.argv.slice(2);
const read = f => fs.readFileSync(f, 'utf8').split('\n').slice(0, -1);
const ref = read(a[1]), ours = read(a[2]);
let bad = 0, dbad = 0;
if (ref.length !== ours.length) { console.log(`${a[0]}: line counts differ: ref ${ref.length} ours ${ours.length}`); process.exit(1); }
for (let i = 0; i < ref.length; i++) if (ref[i] !== ours[i]) { if (bad++ < 5) console.log(`line ${i + 1}:\n  ref  ${ref[i]}\n  ours ${ours[i]}`); }
if (a[3]) {
  const corpus = read(a[3]), dec = read(a[4]), nfc = !a.includes('--no-nfc');
  for (let i = 0; i < corpus.length; i++) {
    const want = nfc ? JSON.parse(corpus[i]).normalize('NFC') : JSON.parse(corpus[i]);
    if (JSON.parse(dec[i]) !== want) { if (dbad++ < 5) console.log(`decode line ${i + 1}: want ${JSON.stringify(want)} got ${dec[i]}`); }
  }
}
console.log(`${a[0]}: lines=${ref.length} id_mismatches=${bad} decode_mismatches=${dbad}`);
process.exit(bad || dbad ? 1 : 0);
