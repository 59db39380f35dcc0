#!/usr/bin/env node
// Independent Parquet references for the tests and the benchmark (DuckDB and hyparquet from npm).
//   node tests/ref/pq_ref.cjs gen-duckdb DIR        fixtures: every codec x page v1/v2, lists with
//                                                  nulls and empties, dict/plain strings, struct, map
//   node tests/ref/pq_ref.cjs gen-hyparquet FILE    a file written by hyparquet-writer
//   node tests/ref/pq_ref.cjs duckdb-json FILE      rows as JSON lines, read by DuckDB
//   node tests/ref/pq_ref.cjs hyparquet-json FILE   rows as JSON lines, read by hyparquet
//   node tests/ref/pq_ref.cjs compare A B           compare two JSON-lines files (see same() below)
//   node tests/ref/pq_ref.cjs batch < LINES         many checks in one process (see batch())
// Struct columns are flattened to "s.a" and maps to "m.key"/"m.value" lists, as our reader names them.
const path = require('path');
const fs = require('fs');
const NM = path.join(__dirname, '..', '..', 'tools', 'npm', 'node_modules');
const { pathToFileURL } = require('url');

async function duck() {
  const { DuckDBInstance } = require(path.join(NM, '@duckdb/node-api'));
  const inst = await DuckDBInstance.create(':memory:', { threads: '1' });
  return inst.connect();
}

function flatten(row) {
  const out = {};
  for (const [k, v] of Object.entries(row)) {
    if (v && typeof v === 'object' && !Array.isArray(v)) {
      for (const [k2, v2] of Object.entries(flatten(v))) out[k + '.' + k2] = v2;
    } else if (Array.isArray(v) && v.length && v.every(e => e && typeof e === 'object' && !Array.isArray(e) && 'key' in e && 'value' in e && Object.keys(e).length === 2)) {
      out[k + '.key'] = v.map(e => e.key);
      out[k + '.value'] = v.map(e => e.value);
    } else out[k] = v;
  }
  return out;
}

const FIXTURE_SQL = (n) => `CREATE TABLE t AS SELECT
  i::BIGINT AS id,
  (i * 7 % 1000 - 500)::INTEGER AS i32,
  CASE WHEN i % 7 = 0 THEN NULL ELSE (i * 13 % 100000)::BIGINT END AS opt_i64,
  (i / 8.0)::FLOAT AS f,
  CASE WHEN i % 11 = 0 THEN NULL ELSE (i * 1.25 - 3.5)::DOUBLE END AS d,
  i % 3 = 0 AS b,
  'user_' || (i * 2654435761 % 1000003)::VARCHAR AS s_plain,
  CASE WHEN i % 10 = 0 THEN NULL ELSE ['red','green','blue','cyan'][i % 4 + 1] END AS s_dict,
  CASE WHEN i % 5 = 0 THEN NULL WHEN i % 5 = 1 THEN []::BIGINT[]
       ELSE list_transform(range(i % 13), x -> CASE WHEN x = 3 THEN NULL ELSE (x * 1000003 + i)::BIGINT END) END AS l64,
  list_transform(range(i % 4), x -> (x + i)::INTEGER) AS l32,
  list_transform(range(i % 3), x -> (x * 0.5 + i)::FLOAT) AS lf,
  CASE WHEN i % 6 = 0 THEN NULL ELSE list_transform(range(i % 3), x -> 'tok' || (x + i % 10)::VARCHAR) END AS ls,
  CASE WHEN i % 9 = 0 THEN NULL ELSE {'a': i::INTEGER, 'b': 'v' || (i % 5)::VARCHAR} END AS st,
  MAP(['k' || (i % 3)::VARCHAR], [i::INTEGER]) AS mp
FROM range(0, ${n}) r(i)`;

async function genDuckdb(dir) {
  fs.mkdirSync(dir, { recursive: true });
  const con = await duck();
  await con.run(FIXTURE_SQL(Number(process.env.PQ_ROWS || 5000)));   // PQ_ROWS: smaller seeds for the fuzzer
  const files = [];
  for (const codec of ['uncompressed', 'snappy', 'gzip', 'zstd', 'lz4_raw']) {
    for (const ver of ['v1', 'v2']) {
      const f = path.join(dir, `duck_${codec}_${ver}.parquet`);
      await con.run(`COPY t TO '${f}' (FORMAT parquet, COMPRESSION ${codec}, ROW_GROUP_SIZE ${Number(process.env.PQ_ROWS || 5000) < 5000 ? 64 : 2048}, PARQUET_VERSION ${ver})`);
      files.push(f);
    }
  }
  // brotli: read through libbrotlidec when the machine has it (the test checks either way)
  await con.run(`COPY t TO '${path.join(dir, 'duck_brotli.parquet')}' (FORMAT parquet, COMPRESSION brotli, ROW_GROUP_SIZE 2048)`);
  // high-cardinality strings written with the v2 writer's delta encodings, and doubles/floats
  await con.run(`COPY (SELECT id, s_plain, f, d, id * 1000000007 AS big FROM t) TO '${path.join(dir, 'duck_delta_v2.parquet')}'
                 (FORMAT parquet, COMPRESSION zstd, PARQUET_VERSION v2, DICTIONARY_SIZE_LIMIT 1)`);
  files.push(path.join(dir, 'duck_delta_v2.parquet'));
  console.log(files.join('\n'));
}

async function genHyparquet(file) {
  const { parquetWriteFile } = await import(pathToFileURL(path.join(NM, 'hyparquet-writer/src/node.js')).href);
  const n = Number(process.env.PQ_ROWS || 1000);
  const id = [], name = [], score = [], tags = [], opt = [];
  for (let i = 0; i < n; i++) {
    id.push(BigInt(i) * 1234567n);
    name.push(i % 4 === 0 ? null : 'name' + (i % 37));
    score.push(i / 4);
    tags.push(i % 5 === 0 ? [] : Array.from({ length: i % 4 }, (_, k) => 'tag' + ((i + k) % 6)));
    opt.push(i % 3 === 0 ? null : i * 3);
  }
  await parquetWriteFile({
    filename: file,
    columnData: [
      { name: 'id', data: id },
      { name: 'name', data: name },
      { name: 'name_delta', data: name.map(x => x === null ? 'none' : x + '_suffix'), encoding: 'DELTA_BYTE_ARRAY' },
      { name: 'id_delta', data: id, encoding: 'DELTA_BINARY_PACKED' },
      { name: 'tags', data: tags },   // list<string>: typed by the explicit schema below
      { name: 'score', data: score },
      { name: 'opt', data: opt },
    ],
    rowGroupSize: Math.max(10, Math.floor(n / 3)),
    schema: [
      { name: 'root', num_children: 7 },
      { name: 'id', type: 'INT64', repetition_type: 'REQUIRED' },
      { name: 'name', type: 'BYTE_ARRAY', converted_type: 'UTF8', repetition_type: 'OPTIONAL' },
      { name: 'name_delta', type: 'BYTE_ARRAY', converted_type: 'UTF8', repetition_type: 'REQUIRED' },
      { name: 'id_delta', type: 'INT64', repetition_type: 'REQUIRED' },
      { name: 'tags', repetition_type: 'OPTIONAL', converted_type: 'LIST', num_children: 1 },
      { name: 'list', repetition_type: 'REPEATED', num_children: 1 },
      { name: 'element', type: 'BYTE_ARRAY', converted_type: 'UTF8', repetition_type: 'OPTIONAL' },
    ].concat([
      { name: 'score', type: 'DOUBLE', repetition_type: 'REQUIRED' },
      { name: 'opt', type: 'INT32', repetition_type: 'OPTIONAL' },
    ]),
  });
}

// Row-group statistics let DuckDB skip row groups: counts under filters must equal a scan that
// cannot use them (the same filter applied to every row in JS).
async function statsCheck(file) {
  const con = sharedCon || (sharedCon = await duck());
  const cols = (await con.runAndReadAll(`DESCRIBE SELECT * FROM read_parquet('${file}')`)).getRowObjectsJson();
  const all = (await con.runAndReadAll(`SELECT * FROM read_parquet('${file}')`)).getRowObjectsJS();
  let checked = 0;
  for (const c of cols) {
    const t = c.column_type;
    if (!['BIGINT', 'INTEGER', 'DOUBLE', 'FLOAT', 'VARCHAR'].includes(t)) continue;
    const vals = all.map(r => r[c.column_name]).filter(v => v !== null);
    if (!vals.length) continue;
    const sorted = vals.slice().sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    for (const q of [0.1, 0.5, 0.9]) {
      const pivot = sorted[Math.floor(q * (sorted.length - 1))];
      // floats go through a string -> DOUBLE cast: exact, unlike a decimal literal cast to FLOAT
      const lit = t === 'VARCHAR' ? `'${String(pivot).replace(/'/g, "''")}'::VARCHAR`
        : t === 'FLOAT' || t === 'DOUBLE' ? `CAST('${pivot}' AS DOUBLE)` : `${pivot}::${t}`;
      const got = (await con.runAndReadAll(`SELECT count(*)::INTEGER AS n FROM read_parquet('${file}') WHERE "${c.column_name}" >= ${lit}`)).getRowObjectsJson()[0].n;
      const want = vals.filter(v => v >= pivot).length;
      if (got !== want) return `column ${c.column_name} >= ${lit}: DuckDB counts ${got}, rows hold ${want}`;
      checked++;
    }
  }
  return checked ? null : 'no column to filter on';
}

function normalizeValue(v) {
  if (typeof v === 'bigint') return v.toString();
  if (Array.isArray(v)) return v.map(normalizeValue);
  if (v instanceof Uint8Array) return Buffer.from(v).toString('utf8');
  if (v && typeof v === 'object') { const o = {}; for (const k of Object.keys(v)) o[k] = normalizeValue(v[k]); return o; }
  return v;
}

let sharedCon = null;
async function duckdbJson(file) {
  const con = sharedCon || (sharedCon = await duck());
  const r = await con.runAndReadAll(`SELECT * FROM read_parquet('${file}')`);
  const out = [];
  for (const row of r.getRowObjectsJson()) out.push(JSON.stringify(flatten(row)));
  return out;
}

async function hyparquetJson(file) {
  const { parquetReadObjects } = await import(pathToFileURL(path.join(NM, 'hyparquet/src/index.js')).href);
  const { compressors } = await import(pathToFileURL(path.join(NM, 'hyparquet-compressors/src/index.js')).href);
  const buf = fs.readFileSync(file);
  const ab = buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength);
  const rows = await parquetReadObjects({ file: ab, compressors });
  return rows.map(r => JSON.stringify(flatten(normalizeValue(r))));
}

// Our integers may exceed 2^53: quote long integer tokens before JSON.parse so they compare as text.
function parseLine(line) {
  return JSON.parse(line.replace(/([\[:,]\s*)(-?\d{16,})(?=\s*[,\]}])/g, '$1"$2"'));
}

function numLike(v) { return typeof v === 'number' || (typeof v === 'string' && /^-?\d+$/.test(v)); }

// DuckDB gives a null struct as one null; our reader gives each of its leaves as null.
function expandNullStructs(a, b) {
  for (const k of Object.keys(a)) {
    if (k in b) continue;
    const dot = k.lastIndexOf('.');
    const p = dot > 0 ? k.slice(0, dot) : null;
    if (p && p in b && b[p] === null) b[k] = null;
  }
  for (const k of Object.keys(b)) if (b[k] === null && !(k in a) && Object.keys(a).some(x => x.startsWith(k + '.'))) delete b[k];
}

function same(a, b) {
  if (a === b) return true;
  if (a === null || b === null) return false;
  if (Array.isArray(a) && Array.isArray(b)) return a.length === b.length && a.every((x, i) => same(x, b[i]));
  if (numLike(a) && numLike(b)) {
    if (typeof a === 'string' && typeof b === 'string') return BigInt(a) === BigInt(b);
    const x = Number(a), y = Number(b);
    return x === y || Math.fround(x) === Math.fround(y);
  }
  if (typeof a === 'object' && typeof b === 'object') {
    const ka = Object.keys(a).sort(), kb = Object.keys(b).sort();
    return same(ka, kb) && ka.every(k => same(a[k], b[k]));
  }
  return false;
}

const readLines = f => fs.readFileSync(f, 'utf8').split('\n').filter(Boolean);

// null when equal, else a message naming the first differing row
function compareLines(la, lb) {
  if (la.length !== lb.length) return `row count differs: ${la.length} vs ${lb.length}`;
  for (let i = 0; i < la.length; i++) {
    const a = parseLine(la[i]), b = parseLine(lb[i]);
    expandNullStructs(a, b);
    expandNullStructs(b, a);
    if (!same(a, b)) return `row ${i} differs:\n  ${la[i]}\n  ${lb[i]}`;
  }
  return null;
}

// Batch mode (one process, one DuckDB): lines "duckdb|hyparquet FILE EXPECTED_JSONL" (read FILE
// with that reader), "lines A.jsonl B.jsonl" or "stats FILE"; prints "ok LINE" or "FAIL LINE: why" for each.
async function batch() {
  const lines = fs.readFileSync(0, 'utf8').split('\n').filter(Boolean);
  for (const line of lines) {
    const [kind, file, expected] = line.split(' ');
    let why = null;
    try {
      if (kind === 'stats') why = await statsCheck(file);
      else if (kind === 'lines') why = compareLines(readLines(file), readLines(expected));
      else if (kind !== 'duckdb' && kind !== 'hyparquet') why = 'unknown check ' + kind;
      else {
        const got = kind === 'duckdb' ? await duckdbJson(file) : await hyparquetJson(file);
        why = compareLines(got, readLines(expected));
      }
    } catch (e) { why = String(e.message || e).split('\n')[0]; }
    console.log(why ? `FAIL ${line}: ${why}` : `ok ${line}`);
  }
}

(async () => {
  const [cmd, arg, arg2] = process.argv.slice(2);
  if (cmd === 'gen-duckdb') await genDuckdb(arg);
  else if (cmd === 'gen-hyparquet') await genHyparquet(arg);
  else if (cmd === 'duckdb-json' || cmd === 'hyparquet-json') {
    const out = cmd === 'duckdb-json' ? await duckdbJson(arg) : await hyparquetJson(arg);
    process.stdout.write(out.join('\n') + (out.length ? '\n' : ''));
  } else if (cmd === 'compare') {
    const why = compareLines(readLines(arg), readLines(arg2));
    console.log(why || 'identical');
    if (why) process.exit(1);
  } else if (cmd === 'batch') await batch();
  else { console.error('usage: pq_ref.cjs gen-duckdb DIR | gen-hyparquet FILE | duckdb-json FILE | hyparquet-json FILE | compare A B | batch'); process.exit(2); }
})().catch(e => { console.error(e.stack || String(e)); process.exit(1); });
