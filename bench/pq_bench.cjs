#!/usr/bin/env node
// DuckDB side of bench/parquet.sh (one thread):
//   node bench/pq_bench.cjs make FILE ROWS   write a RecIF-like table (uid, split, hist_video_pid
//                                              list<int64> of ~100, caption, source), ZSTD
//   node bench/pq_bench.cjs read FILE        time reading every value (sums over all columns)
//   node bench/pq_bench.cjs write FILE OUT   load FILE into memory, time COPY to OUT (ZSTD)
// Prints "rows=N seconds=S cpu=S checksum=C" (cpu: process CPU seconds).
const path = require('path');
const { DuckDBInstance } = require(path.join(__dirname, '..', 'tools', 'npm', 'node_modules', '@duckdb/node-api'));

const cpuSecs = c0 => { const d = process.cpuUsage(c0); return (d.user + d.system) / 1e6; };

(async () => {
  const [cmd, a, b] = process.argv.slice(2);
  const con = await (await DuckDBInstance.create(':memory:', { threads: '1' })).connect();
  if (cmd === 'make') {
    await con.run(`COPY (SELECT i::BIGINT AS uid, (i % 2)::INTEGER AS split,
        list_transform(range(80 + (i % 41)), x -> (hash(i * 1000 + x) % 15000000)::BIGINT) AS hist_video_pid,
        'caption of user ' || (hash(i) % 1000003)::VARCHAR AS caption,
        ['video_rec', 'ad_rec', 'product_rec', 'label_cond'][i % 4 + 1] AS source
      FROM range(0, ${Number(b)}) r(i)) TO '${a}' (FORMAT parquet, COMPRESSION zstd)`);
    return;
  }
  if (cmd === 'read') {
    const t0 = performance.now(), c0 = process.cpuUsage();
    const r = await con.runAndReadAll(`SELECT count(*)::BIGINT AS n, (sum(uid) + sum(split) + sum(list_sum(hist_video_pid))
        + sum(length(caption)) + sum(length(source)))::VARCHAR AS s FROM read_parquet('${a}')`);
    const secs = (performance.now() - t0) / 1000, cpu = cpuSecs(c0);
    const row = r.getRowObjectsJson()[0];
    console.log(`rows=${row.n} seconds=${secs.toFixed(3)} cpu=${cpu.toFixed(3)} checksum=${row.s}`);
    return;
  }
  if (cmd === 'write') {
    await con.run(`CREATE TABLE t AS SELECT * FROM read_parquet('${a}')`);
    const n = (await con.runAndReadAll('SELECT count(*)::BIGINT AS n FROM t')).getRowObjectsJson()[0].n;
    const t0 = performance.now(), c0 = process.cpuUsage();
    await con.run(`COPY t TO '${b}' (FORMAT parquet, COMPRESSION zstd)`);
    console.log(`rows=${n} seconds=${((performance.now() - t0) / 1000).toFixed(3)} cpu=${cpuSecs(c0).toFixed(3)} checksum=0`);
    return;
  }
  console.error('usage: pq_bench.cjs make FILE ROWS | read FILE | write FILE OUT');
  process.exit(2);
})().catch(e => { console.error(e.stack || String(e)); process.exit(1); });
