// test_influxql_npm.mjs — the npm `influx` package (1.x client) querying
// sluice's /query: getDatabaseNames, getMeasurements, getSeries, query()
// rows and groups(), placeholders, precision, and the errors a bad statement
// and a wrong token raise. Starts `sluice serve` (SLUICE_BIN) on a free port
// with a temporary data directory. Exit 77 when the package is missing.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

let Influx;
try {
  Influx = await import('influx');
} catch {
  console.log('skip - npm influx is not installed');
  process.exit(77);
}
const bin = process.env.SLUICE_BIN;
if (!bin || !fs.existsSync(bin)) {
  console.log('FAIL - SLUICE_BIN is not set or missing');
  process.exit(1);
}
const base = fs.mkdtempSync(path.join(os.tmpdir(), 'sluice-e2e-iqlnpm-'));
const dataDir = path.join(base, 'data');
const logPath = path.join(base, 'server.log');
const logFd = fs.openSync(logPath, 'a');
const child = spawn(bin, ['serve', '--data-dir', dataDir, '--http-bind', '127.0.0.1:0'], {
  stdio: ['ignore', logFd, logFd],
});
process.on('exit', () => {
  try { child.kill('SIGKILL'); } catch { /* already gone */ }
  fs.rmSync(base, { recursive: true, force: true });
});
process.on('SIGTERM', () => process.exit(143));
process.on('SIGINT', () => process.exit(130));
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
const token = fs.readFileSync(path.join(dataDir, 'operator-token'), 'utf8').trim();
const LP = `cpu,host=a,region=us usage=10.5,load=3i,state="ok" 1704067200000000000
cpu,host=a,region=us usage=20.5,load=5i,state="ok" 1704067260000000000
cpu,host=b,region=eu usage=30,load=7i,state="busy" 1704067200000000000
cpu,host=b,region=eu usage=50,load=9i 1704067320000000000
mem,host=a free=1024i 1704067200000000000
`;
const w = await fetch(`http://127.0.0.1:${port}/write?db=clients`, {
  method: 'POST', body: LP, headers: { Authorization: `Token ${token}` },
});
if (w.status !== 204) {
  console.log(`FAIL - write: ${w.status} ${await w.text()}`);
  process.exit(1);
}

let failed = 0;
function check(cond, what, detail) {
  if (cond) console.log(`ok   - node influx: ${what}`);
  else {
    failed++;
    console.log(`FAIL - node influx: ${what}${detail !== undefined ? `\n       ${JSON.stringify(detail)}` : ''}`);
  }
}

const influx = new Influx.InfluxDB({
  host: '127.0.0.1', port, username: 'x', password: token, database: 'clients',
});

const dbs = await influx.getDatabaseNames();
check(dbs.includes('clients'), 'getDatabaseNames', dbs);
const ms = await influx.getMeasurements();
check(JSON.stringify(ms) === JSON.stringify(['cpu', 'mem']), 'getMeasurements', ms);
const series = await influx.getSeries({ measurement: 'cpu' });
check(JSON.stringify(series) === JSON.stringify(['cpu,host=a,region=us', 'cpu,host=b,region=eu']),
  'getSeries', series);

const rows = await influx.query("SELECT usage, load FROM cpu WHERE host = 'a'");
check(rows.length === 2 && rows[0].usage === 10.5 && rows[1].load === 5,
  'query rows', rows);
check(rows[0].time.toNanoISOString() === '2024-01-01T00:00:00.000000000Z', 'row time as INanoDate',
  rows[0].time.toNanoISOString());

const grouped = await influx.query('SELECT max(usage) FROM cpu GROUP BY host');
const groups = grouped.groups().map((g) => [g.tags.host, g.rows[0].max]);
check(JSON.stringify(groups) === JSON.stringify([['a', 20.5], ['b', 50]]), 'groups() per host', groups);

const ph = await influx.query('SELECT usage FROM cpu WHERE host = $h AND usage > $min',
  { placeholders: { h: 'b', min: 40 } });
check(ph.length === 1 && ph[0].usage === 50, 'placeholders', ph);

const ep = await influx.query("SELECT usage FROM cpu WHERE host = 'b'", { precision: 's' });
check(ep.length === 2 && ep[1].time.getTime() === 1704067320000, 'precision s', ep);

const tv = await influx.query('SHOW TAG VALUES FROM cpu WITH KEY = "region"');
check(JSON.stringify(tv.map((r) => r.value)) === JSON.stringify(['eu', 'us']), 'SHOW TAG VALUES', tv);

const fk = await influx.query('SHOW FIELD KEYS FROM mem');
check(fk.length === 1 && fk[0].fieldKey === 'free' && fk[0].fieldType === 'integer',
  'SHOW FIELD KEYS', fk);

let err = null;
try {
  await influx.query('SELECT mean(usage), usage FROM cpu');
} catch (e) {
  err = e;
}
check(err && /mixing aggregate/.test(String(err.message)), 'a statement error rejects', String(err));

const bad = new Influx.InfluxDB({ host: '127.0.0.1', port, username: 'x', password: 'nope', database: 'clients' });
let err2 = null;
try {
  await bad.query('SELECT * FROM cpu');
} catch (e) {
  err2 = e;
}
check(err2 !== null, 'a wrong token rejects', String(err2));

console.log(`${failed} failed`);
process.exit(failed ? 1 : 0);
