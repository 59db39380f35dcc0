// Generates a deterministic test corpus for the tokenizer (one JSON string per line).
// usage: node tests/ref/tok_corpus.js N SEED [--itemic] [--added FILE.json] > corpus.jsonl
// Covers: Chinese, English, code, emoji, digits, contractions in all cases, runs of spaces, tabs,
// \r\n, trailing whitespace, combining sequences that NFC changes, every added token of FILE (the
// tokenizer.json), and with --itemic random itemic-token strings (well- and ill-formed).
'use strict';
const fs = require('fs');
process.stdout.on('error', e => { if (e.code === 'EPIPE') process.exit(0); throw e; });   // `| head` is fine
const args = process.argv.slice(2);
const N = parseInt(args[0] || '20000', 10);
let seed = parseInt(args[1] || '1', 10) >>> 0;
const itemic = args.includes('--itemic');
const addedIdx = args.indexOf('--added');
let added = [];
if (addedIdx >= 0) added = JSON.parse(fs.readFileSync(args[addedIdx + 1], 'utf8')).added_tokens.map(a => a.content);

function rnd() { // mulberry32
  seed = (seed + 0x6D2B79F5) >>> 0;
  let t = seed;
  t = Math.imul(t ^ (t >>> 15), t | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
}
const ri = n => Math.floor(rnd() * n);
const pick = a => a[ri(a.length)];
const cp = c => String.fromCodePoint(c);
const range = (a, b) => cp(a + ri(b - a + 1));

const zh = '的一是不了人我在有他这中大来上个国到说们为子和你地出道也时年得就那要下以生会自着去之过家学对可她里后小么心多天而能好都然没日于起还发成事只作当想看文无开手十用主行方又如前所本见经头面公同三已老从动两长知民样现分将外但身些与高意进把法此实回二理美点月明其种声全工己话儿者向情部正名定女问力机给等几很业最间新什打便位因重被走电四第门相次东政海口使教西再平真听世气信北少关并内加化由却代军产入先山五太水万市眼体别处总才场师书比住员九笑性通目华报立马命张活难神数件安表原车白应路期叫死常提感金何更反合放做系计或司利受光王果亲界及今京务制解各任至清物台象记边共风战干接它许八特觉望直服毛林题建南度统色字请交爱让认算论百吃义科怎元社术结六功指思非流每青管夫连远资队跟带花快条院变联言权往展该领传近留红治决周保达办运武半候七必城父强步完革深区即求品士转量空甚众技轻程告江语英基派满式李息写呢识极令黄德收脸钱党倒未持音跑找';
const zhPunct = '，。！？、；：“”‘’（）《》【】…—～·';
const enWords = 'the of and to in is you that it he was for on are as with his they at be this have from or one had by word but not what all were we when your can said there use an each which she do how their if will up other about out many then them these so some her would make like him into time has look two more write go see number no way could people my than first water been call who oil its now find long down day did get come made may part hello world Tokenizer recommendation item user video ad product'.split(' ');
const contractions = ["'s", "'t", "'re", "'ve", "'m", "'ll", "'d"];
const code = ['def f(x):\n    return x + 1\n', 'for (int i = 0; i < n; i++) {\n\tsum += a[i];\n}\n', 'if x==1 and y!=2: pass', '#include <stdio.h>\r\nint main(void){return 0;}\r\n',
  'const y = arr.map((v) => v * 2);', 'SELECT * FROM t WHERE id = 42;', '    \tmixed\t  indent', 'x=>{ return `${a}` }', '/* comment */ // line', 'a&&b||!c', '<div class="x">&amp;</div>', '{"k": [1, 2.5e-3, null]}'];
const emoji = ['😀', '👍', '👍🏽', '👨‍👩‍👧‍👦', '🇨🇳', '🇺🇸', '❤️', '🤖', '🎉', '🔥', '✅', '🙏🏻', '🧑‍💻', '☕', '🌍', '1️⃣'];
// sequences NFC changes: decomposed accents, reordered marks, singletons, Hangul jamo
const nfcChanges = ['e\u0301', 'A\u030A', 'o\u0308', 'n\u0303', 'c\u0327', 'a\u0323\u0302', 'q\u0307\u0323', 's\u0323\u0307', '\u212B', '\u2126', '\u1100\u1161', '\u1100\u1161\u11A8', 'u\u0308\u0301', 'E\u0300', 'i\u0302', '\u0041\u0301\u0301', 'ﬁ', '\u00C5', '\u0958', '\u304B\u3099', 'e\u0304\u0301', '\u0301'];
const scripts = [[0x0410, 0x044F], [0x0391, 0x03C9], [0x05D0, 0x05EA], [0x0627, 0x064A], [0x0905, 0x0939], [0x0E01, 0x0E2E], [0x3041, 0x3093], [0x30A1, 0x30F6], [0xAC00, 0xD7A3], [0x00C0, 0x00FF], [0x0100, 0x017F]];
const spaces = [' ', '  ', '   ', '\t', '\t\t', ' \t ', '\n', '\n\n', '\r\n', '\r\n\r\n', ' \n', '\u00A0', '\u3000', '\u2003', '\u200B', '\u000B', '\u000C', '\u0085', '\u2028'];
const punct = '.,;:!?-_()[]{}<>/\\|@#$%^&*+=~`"\''.split('');

function randCase(s) { return s.split('').map(c => rnd() < 0.5 ? c.toUpperCase() : c.toLowerCase()).join(''); }
function word() {
  const w = pick(enWords);
  const r = rnd();
  return r < 0.15 ? w.toUpperCase() : r < 0.35 ? w[0].toUpperCase() + w.slice(1) : w;
}
function digits() { let s = ''; const n = 1 + ri(12); for (let i = 0; i < n; i++) s += ri(10); return rnd() < 0.2 ? s + '.' + ri(1000) : s; }
function zhText() { let s = ''; const n = 1 + ri(20); for (let i = 0; i < n; i++) s += rnd() < 0.12 ? zhPunct[ri(zhPunct.length)] : zh[ri(zh.length)]; return s; }
function itemicItem() {
  const r = rnd();
  if (r < 0.85) return `<|sid_begin|><s_a_${ri(8192)}><s_b_${ri(8192)}><s_c_${ri(8192)}><|sid_end|>`;
  return pick([`<s_a_${8192 + ri(100)}>`, `<s_a_${ri(8192)}`, `<<s_b_${ri(8192)}>>`, `<s_d_1>`, `s_c_${ri(9)}>`, `<|sid_begin|>`, `<|sid_end|><|sid_begin|>`, `<S_A_1>`, `< s_a_1>`]);
}
function fragment() {
  const r = ri(itemic ? 14 : 12);
  switch (r) {
    case 0: return word();
    case 1: return word() + randCase(pick(contractions));
    case 2: return zhText();
    case 3: return pick(code);
    case 4: return pick(emoji);
    case 5: return digits();
    case 6: return pick(spaces);
    case 7: return pick(nfcChanges);
    case 8: { let s = ''; const sc = pick(scripts), n = 1 + ri(8); for (let i = 0; i < n; i++) s += range(sc[0], sc[1]); return s; }
    case 9: return pick(punct) + (rnd() < 0.5 ? pick(punct) : '');
    case 10: return added.length ? pick(added) : word();
    case 11: return ' ' + word();
    default: return itemicItem();
  }
}
const out = [];
for (let i = 0; i < N; i++) {
  let s = '';
  const k = 1 + ri(i % 10 === 0 ? 40 : 12);
  for (let j = 0; j < k; j++) {
    s += fragment();
    if (rnd() < 0.5) s += ' ';
  }
  if (i % 7 === 0) s += pick(spaces);           // ends in whitespace
  if (i % 13 === 0) s = pick(spaces) + s;       // starts with whitespace
  if (i % 101 === 0) s = ' '.repeat(1 + ri(200)) + s + '\t'.repeat(ri(30));
  out.push(JSON.stringify(s));
}
// every added token alone and glued to text at least once
// (for big expansions, glued forms for a sample of 2000)
for (const a of added) out.push(JSON.stringify(a));
for (let i = 0; i < Math.min(added.length, 2000); i++) {
  const a = added.length > 2000 ? pick(added) : added[i];
  out.push(JSON.stringify('x' + a + ' y' + a + a + '\n'));
}
// fixed edge cases
for (const s of ['', ' ', '\n', '\r\n', '\t', '    ', 'a', "I'M", "it'S", "we'Re", "DON'T", "they'LL", "she'D", "i've", "'s", "''s", "x 's", '123456789', '١٢٣', '²³', 'ⅷ',
  'e\u0301e\u0301e\u0301', ' \u0301', '\u0301\u0301x', 'a  \n\n  b', 'end with space ', 'end with newline\n', 'trailing\r\n', '\u00A0\u00A0x']) out.push(JSON.stringify(s));
process.stdout.write(out.join('\n') + '\n');
