#!/usr/bin/env node
// Parquet fixtures and read-back for the SID tests, through DuckDB (an independent implementation).
//   node tests/ref/km_parquet.cjs from-jsonl IN.jsonl OUT.parquet [float|double]
//        rows {"pid": int, "embedding": [..]} -> Parquet (pid BIGINT, embedding FLOAT[]/DOUBLE[])
//   node tests/ref/km_parquet.cjs sql OUT.parquet "SELECT ..."    any query's result -> Parquet
//   node tests/ref/km_parquet.cjs to-tsv IN.parquet               pid2sid -> "pid<TAB>c0,c1,c2" lines
const path = require('path');
const NM = path.join(__dirname, '..', '..', 'tools', 'npm', 'node_modules');

async function main() {
  const { DuckDBInstance } = require(path.join(NM, '@duckdb/node-api'));
  const inst = await DuckDBInstance.create(':memory:', { threads: '1' });
  const con = await inst.connect();
  const [cmd, a, b, c] = process.argv.slice(2);
  const q = (s) => s.replace(/'/g, "''");
  if (cmd === 'from-jsonl') {
    const t = c === 'double' ? 'DOUBLE' : 'FLOAT';
    await con.run(`COPY (SELECT pid::BIGINT AS pid, embedding::${t}[] AS embedding FROM read_json('${q(a)}', format='newline_delimited', columns={pid: 'BIGINT', embedding: 'DOUBLE[]'}) ORDER BY pid) TO '${q(b)}' (FORMAT PARQUET)`);
  } else if (cmd === 'sql') {
    await con.run(`COPY (${b}) TO '${q(a)}' (FORMAT PARQUET)`);
  } else if (cmd === 'to-tsv') {
    const r = await con.runAndReadAll(`SELECT pid, sid FROM read_parquet('${q(a)}')`);
    const out = [];
    for (const row of r.getRowObjectsJS()) out.push(`${row.pid}\t${row.sid.join(',')}`);
    process.stdout.write(out.join('\n') + '\n');
  } else {
    console.error('usage: km_parquet.cjs from-jsonl|sql|to-tsv ...');
    process.exit(2);
  }
}
main().catch((e) => { console.error(e.message || e); process.exit(1); });
