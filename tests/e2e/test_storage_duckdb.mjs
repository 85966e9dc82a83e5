// test_storage_duckdb.mjs — independent readers over a real data directory.
//
// Writes points with all five field types, missing fields, tags and
// nanosecond timestamps through the v3 API, POST /api/sluice/persist, then
// DuckDB (@duckdb/node-api) reads dbs/<db>/<table>/*/*.parquet directly and
// must see exactly the rows and types sluice stored (float → DOUBLE, integer →
// BIGINT, unsigned → UBIGINT, string → VARCHAR, boolean → BOOLEAN, time →
// TIMESTAMP_NS, missing → NULL). An update is then persisted into a second
// file and /api/sluice/compact merges them: DuckDB must see the merged rows
// (newest value per field, one file). hyparquet opens every file too.
import { spawn, execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { parquetReadObjects, parquetMetadata } from 'hyparquet';
import { asyncBufferFromFile } from 'hyparquet/src/node.js';

let passed = 0;
let failed = 0;
const check = (cond, what, detail) => {
  if (cond) {
    passed++;
    console.log(`ok   - ${what}`);
  } else {
    failed++;
    console.log(`FAIL - ${what}${detail === undefined ? '' : `\n       ${JSON.stringify(detail, (k, v) => (typeof v === 'bigint' ? `${v}n` : v))}`}`);
  }
};
const canon = (v) => JSON.stringify(v, (k, x) => (typeof x === 'bigint' ? `${x}n` : x));
const eq = (a, b, what) => check(canon(a) === canon(b), what, { expected: b, got: a });

const bin = process.env.SLUICE_BIN;
if (!bin || !fs.existsSync(bin)) {
  console.log('SKIP: SLUICE_BIN is not set or missing');
  process.exit(77);
}
const base = fs.mkdtempSync(path.join(os.tmpdir(), 'sluice-e2e-duck-'));
const dataDir = path.join(base, 'data');
const logPath = path.join(base, 'server.log');
const logFd = fs.openSync(logPath, 'a');
const child = spawn(bin, ['serve', '--data-dir', dataDir, '--http-bind', '127.0.0.1:0'], {
  stdio: ['ignore', logFd, logFd],
});
process.on('exit', () => {
  try { child.kill('SIGKILL'); } catch { /* gone */ }
  fs.rmSync(base, { recursive: true, force: true });
});
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
let port;
for (let i = 0; i < 1500 && !port; i++) {
  const m = /listening on \S+ \(port (\d+)\)/.exec(fs.readFileSync(logPath, 'utf8'));
  if (m) port = Number(m[1]);
  else await sleep(20);
  if (child.exitCode !== null) break;
}
if (!port) {
  console.log(`FAIL - server did not start:\n${fs.readFileSync(logPath, 'utf8')}`);
  process.exit(1);
}
const url = `http://127.0.0.1:${port}`;
const token = fs.readFileSync(path.join(dataDir, 'operator-token'), 'utf8').trim();
const auth = { Authorization: `Token ${token}` };
const post = (p, body) => fetch(url + p, { method: 'POST', headers: auth, body });

const T0 = 1700000000123456789n;
const LINES = [
  `cpu,host=a,region=eu f=1.5,i=-3i,u=18446744073709551615u,s="hello",b=true ${T0}`,
  `cpu,host=b f=2.25 ${T0 + 1n}`,
  `cpu,host=a,region=eu s="quote \\" and ünïcødé",b=false ${T0 + 1000000001n}`,
  `cpu,host=c i=9223372036854775807i,u=0u ${T0 + 2000000000n}`,
  `cpu,host=c i=-9223372036854775808i,f=-0.0001 ${T0 - 5n}`,
];
const N = null;
// rows in (time) order: time, host, region, f, i, u, s, b
let expected = [
  [T0 - 5n, 'c', N, -0.0001, -9223372036854775808n, N, N, N],
  [T0, 'a', 'eu', 1.5, -3n, 18446744073709551615n, 'hello', true],
  [T0 + 1n, 'b', N, 2.25, N, N, N, N],
  [T0 + 1000000001n, 'a', 'eu', N, N, N, 'quote " and ünïcødé', false],
  [T0 + 2000000000n, 'c', N, N, 9223372036854775807n, 0n, N, N],
];
const COLS = ['time', 'host', 'region', 'f', 'i', 'u', 's', 'b'];

const inst = await DuckDBInstance.create(':memory:');
const con = await inst.connect();
const q = async (sql) => (await con.runAndReadAll(sql)).getRowObjects();
const tableGlob = path.join(dataDir, 'dbs', 'mydb', 'cpu', '*', '*.parquet');
const files = () => {
  const dir = path.join(dataDir, 'dbs', 'mydb', 'cpu');
  if (!fs.existsSync(dir)) return [];
  return fs.readdirSync(dir).flatMap((d) => fs.readdirSync(path.join(dir, d))
    .map((f) => path.join(dir, d, f)));
};

async function duckRows() {
  const rows = await q(`SELECT epoch_ns(time) AS time, host, region, f, i, u, s, b
                        FROM read_parquet('${tableGlob}', union_by_name = true) ORDER BY time`);
  return rows.map((r) => COLS.map((c) => (c === 'time' ? BigInt(r[c]) : r[c])));
}

const zstdDecompress = (input, outputLength) => {
  const out = execFileSync('zstd', ['-d', '-c', '-q'], { input: Buffer.from(input) });
  return new Uint8Array(out.buffer, out.byteOffset, out.length);
};
let haveZstd = true;
try { execFileSync('zstd', ['--version']); } catch { haveZstd = false; }

async function hyparquetRows() {
  const all = [];
  for (const f of files()) {
    const file = await asyncBufferFromFile(f);
    const md = parquetMetadata(await file.slice(0));
    check(md.num_rows > 0n || md.num_rows > 0, `hyparquet opens ${path.basename(f)}`);
    if (!haveZstd) continue;
    const objs = await parquetReadObjects({
      file, compressors: { ZSTD: zstdDecompress }, parsers: { timestampFromNanoseconds: (v) => v },
    });
    for (const o of objs) all.push(COLS.map((c) => (o[c] === undefined ? null : o[c])));
  }
  all.sort((x, y) => (x[0] < y[0] ? -1 : x[0] > y[0] ? 1 : 0));
  return all.map((r) => r.map((v, k) => (k === 0 || k === 4 || k === 5) && v !== null ? BigInt(v) : v));
}

try {
  let r = await post('/api/v3/write_lp?db=mydb', LINES.join('\n'));
  check(r.status === 204, 'write accepted', r.status);
  r = await post('/api/sluice/persist');
  check(r.status === 204, 'persist answers 204', r.status);
  check(files().length >= 1 && files().every((f) => f.endsWith('.parquet')),
    'files under dbs/mydb/cpu/<YYYY-MM-DD>/<HH-MM>-<seq>.parquet', files());
  check(files().every((f) => /\/\d{4}-\d\d-\d\d\/\d\d-\d\d-\d+\.parquet$/.test(f)), 'file names follow the layout');

  const types = Object.fromEntries((await q(`DESCRIBE SELECT * FROM read_parquet('${tableGlob}', union_by_name = true)`))
    .map((x) => [x.column_name, x.column_type]));
  eq(types, {
    host: 'VARCHAR', region: 'VARCHAR', time: 'TIMESTAMP_NS', f: 'DOUBLE', i: 'BIGINT',
    u: 'UBIGINT', s: 'VARCHAR', b: 'BOOLEAN',
  }, 'DuckDB column types: TIMESTAMP_NS, tags VARCHAR, DOUBLE, BIGINT, UBIGINT, VARCHAR, BOOLEAN');
  eq(await duckRows(), expected, 'DuckDB reads exactly the stored rows (NULL for missing fields)');
  const [tn] = await q(`SELECT time::VARCHAR AS t FROM read_parquet('${tableGlob}') WHERE host = 'b'`);
  eq(tn.t, '2023-11-14 22:13:20.12345679', 'nanosecond timestamp survives (TIMESTAMP_NS text)');
  const kv = Object.fromEntries((await q(`SELECT decode(key) AS k, decode(value) AS v FROM parquet_kv_metadata('${files()[0]}')`))
    .map((x) => [x.k, x.v]));
  eq([kv['sluice.database'], kv['sluice.table'], kv['sluice.tags'], kv['sluice.sort_key']],
    ['mydb', 'cpu', '["host","region"]', 'host,region,time'], 'sluice.* key/value metadata');
  const sorted = await q(`SELECT host, epoch_ns(time) AS t FROM read_parquet('${files()[0]}')`);
  const keys = sorted.map((x) => `${x.host}\u0000${String(x.t).padStart(24, '0')}`);
  check(keys.every((k, n) => n === 0 || keys[n - 1] < k), 'rows are sorted by series then time');
  eq(await hyparquetRows(), haveZstd ? expected : [], 'hyparquet reads the same rows');

  // ---- an update in a second file, then compaction ----
  r = await post('/api/v3/write_lp?db=mydb',
    `cpu,host=b i=5i,s="later" ${T0 + 1n}\ncpu,host=a,region=eu f=7.5 ${T0}\ncpu,host=d b=true ${T0 + 3n}`);
  check(r.status === 204, 'update accepted', r.status);
  r = await post('/api/sluice/persist');
  check(r.status === 204 && files().length >= 2, 'second persist writes a second file', files().length);
  expected[1][3] = 7.5;
  expected[2][4] = 5n;
  expected[2][6] = 'later';
  expected.splice(3, 0, [T0 + 3n, 'd', N, N, N, N, N, true]);
  r = await post('/api/sluice/compact');
  check(r.status === 204, 'compact answers 204', r.status);
  eq(files().length, 1, 'compaction leaves one file');
  eq(await duckRows(), expected, 'DuckDB reads the merged rows after compaction (newest field wins)');
  eq(await hyparquetRows(), haveZstd ? expected : [], 'hyparquet reads the compacted file');
  const cat = JSON.parse(fs.readFileSync(path.join(dataDir, 'catalog.json'), 'utf8'));
  const listed = JSON.stringify(cat);
  check(files().every((f) => listed.includes(path.relative(dataDir, f))), 'catalog.json lists the live file');

  // the server reads back what DuckDB sees
  const dbg = await fetch(`${url}/api/sluice/debug/rows?db=mydb&table=cpu`, { headers: auth });
  const lines = (await dbg.text()).split('\n').filter((x) => x);
  eq(lines.length, expected.length, 'server sees the same number of rows');
} catch (e) {
  failed++;
  console.log(`FAIL - exception: ${e.stack || e}`);
  console.log(fs.readFileSync(logPath, 'utf8').split('\n').slice(-20).join('\n'));
}
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
