// test_write_js_clients.mjs — the official JavaScript clients from npm against a
// real `sluice serve`:
//   * @influxdata/influxdb-client (v2 API): WriteApi with batching (batchSize,
//     automatic sends, flush), gzip (writeOptions.gzipThreshold, proven with
//     /metrics: wire bytes far below decompressed bytes), precisions ns/us/ms/s,
//     every field type, escaping, defaultTags, writeRecords, and the HttpError a
//     rejected batch raises;
//   * @influxdata/influxdb3-client: client.write of Points and line protocol
//     (through /api/v2/write), precision, noSync (through /api/v3/write_lp), gzip.
// Every write is checked through the inspection path. Exit 77 when the npm
// packages are missing.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

let v2, v3;
try {
  v2 = await import('@influxdata/influxdb-client');
  v3 = await import('@influxdata/influxdb3-client');
} catch (e) {
  console.log(`skip - npm clients not installed: ${e.message}`);
  process.exit(77);
}

let passed = 0;
let failed = 0;
const failures = [];
function check(cond, what, detail) {
  if (cond) {
    passed++;
    console.log(`ok   - ${what}`);
  } else {
    failed++;
    failures.push(what);
    console.log(`FAIL - ${what}${detail !== undefined ? `\n       ${JSON.stringify(detail)}` : ''}`);
  }
  return !!cond;
}
// compares as JSON with object keys sorted (field order is not significant)
const canon = (v) => JSON.stringify(v, (k, x) => (x && typeof x === 'object' && !Array.isArray(x)
  ? Object.fromEntries(Object.entries(x).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) : x));
const eq = (a, b, what) => check(canon(a) === canon(b), what, { expected: b, got: a });

// ---- server
const bin = process.env.SLUICE_BIN;
if (!bin || !fs.existsSync(bin)) {
  console.log('FAIL - SLUICE_BIN is not set or missing');
  process.exit(1);
}
const base = fs.mkdtempSync(path.join(os.tmpdir(), 'sluice-e2e-js-'));
const dataDir = path.join(base, 'data');
const logPath = path.join(base, 'server.log');
const logFd = fs.openSync(logPath, 'a');
const child = spawn(bin, ['serve', '--data-dir', dataDir, '--http-bind', '127.0.0.1:0'], {
  stdio: ['ignore', logFd, logFd],
});
function cleanup() {
  try { child.kill('SIGKILL'); } catch { /* already gone */ }
  fs.rmSync(base, { recursive: true, force: true });
}
process.on('exit', cleanup);
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
const url = `http://127.0.0.1:${port}`;
const token = fs.readFileSync(path.join(dataDir, 'operator-token'), 'utf8').trim();
const auth = { Authorization: `Token ${token}` };

async function rows(db, table) {
  const r = await fetch(`${url}/api/sluice/debug/rows?db=${encodeURIComponent(db)}&table=${encodeURIComponent(table)}`, { headers: auth });
  if (r.status === 404) return [];
  const text = await r.text();
  if (r.status !== 200) throw new Error(`inspection path: ${r.status} ${text}`);
  // times are int64 nanoseconds: keep them exact as strings
  return text.split('\n').filter((l) => l.trim())
    .map((l) => JSON.parse(l.replace(/^\{"time":(-?\d+)/, '{"time":"$1"')))
    .sort((a, b) => (BigInt(a.time) < BigInt(b.time) ? -1 : BigInt(a.time) > BigInt(b.time) ? 1
      : JSON.stringify(a) < JSON.stringify(b) ? -1 : 1));
}
async function metrics() {
  const text = await (await fetch(`${url}/metrics`, { headers: auth })).text();
  const m = {};
  for (const line of text.split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const i = line.lastIndexOf(' ');
    m[line.slice(0, i)] = Number(line.slice(i + 1));
  }
  return m;
}

try {
  // ================= @influxdata/influxdb-client
  const { InfluxDB, Point, HttpError } = v2;
  const influx = new InfluxDB({ url, token, timeout: 20000 });

  // batching: batchSize 100, 1050 points → 10 automatic sends + 1 on flush
  {
    const m0 = await metrics();
    const w = influx.getWriteApi('myorg', 'jsdb', 'ns', { batchSize: 100, flushInterval: 0, maxRetries: 0 });
    const t0 = 1700000000000000000n;
    for (let i = 0; i < 1050; i++) {
      w.writePoint(new Point('batch').tag('host', `h${i % 7}`).floatField('value', i / 4)
        .intField('n', i).timestamp(String(t0 + BigInt(i))));
    }
    await w.flush();
    const m1 = await metrics();
    eq(m1.sluice_write_requests_total - m0.sluice_write_requests_total, 11,
      'WriteApi batchSize=100: 1050 points sent as 11 requests');
    const r = await rows('jsdb', 'batch');
    eq(r.length, 1050, 'all 1050 batched points stored');
    check(r.every((x, i) => x.time === String(t0 + BigInt(i)) && x.value === i / 4 && x.n === i
      && x.host === `h${i % 7}`), 'every batched value exact (ns times)');
    await w.close();
  }

  // gzip via gzipThreshold, precision ms, every field type, escaping, defaultTags
  {
    const m0 = await metrics();
    const w = influx.getWriteApi('myorg', 'jsdb', 'ms', {
      batchSize: 5000, flushInterval: 0, gzipThreshold: 1, maxRetries: 0,
      defaultTags: { dc: 'eu 1' },
    });
    const t0 = 1700000000000;
    for (let i = 0; i < 2000; i++) {
      w.writePoint(new Point('gz,meas').tag('tag key', 'v=1,2').floatField('f', 0.5)
        .intField('i', -i).uintField('u', i).booleanField('b', i % 2 === 0)
        .stringField('s', `say "hi" \\ ${i}`).timestamp(t0 + i));
    }
    await w.close();
    const m1 = await metrics();
    const wire = m1.sluice_http_request_body_bytes_total - m0.sluice_http_request_body_bytes_total;
    const plain = m1.sluice_write_bytes_total - m0.sluice_write_bytes_total;
    check(plain > 100000 && wire * 5 < plain,
      `gzipThreshold=1: the body went gzipped (${wire} wire bytes for ${plain} bytes of line protocol)`);
    const r = await rows('jsdb', 'gz,meas');
    eq(r.length, 2000, 'gzipped batch: 2000 rows');
    check(r.every((x, i) => x.time === String(BigInt(t0 + i) * 1000000n) && x.f === 0.5 && x.i === -i
      && x.u === i && x.b === (i % 2 === 0) && x.s === `say "hi" \\ ${i}` && x['tag key'] === 'v=1,2'
      && x.dc === 'eu 1'), 'all field types, escapes and defaultTags exact (precision ms)', r[1]);
  }

  // precisions s and us; Date timestamps
  for (const [prec, ts, want] of [['s', 1700000000, '1700000000000000000'],
    ['us', 1700000000123456, '1700000000123456000'], ['ns', '1700000000123456789', '1700000000123456789']]) {
    const w = influx.getWriteApi('myorg', 'jsprec', prec, { maxRetries: 0 });
    w.writePoint(new Point(`p_${prec}`).floatField('v', 1).timestamp(ts));
    w.writePoint(new Point(`d_${prec}`).floatField('v', 1).timestamp(new Date(Date.UTC(2024, 0, 2, 3, 4, 5))));
    await w.close();
    eq((await rows('jsprec', `p_${prec}`)).map((x) => x.time), [want], `WriteApi precision ${prec}`);
    eq((await rows('jsprec', `d_${prec}`)).map((x) => x.time), ['1704164645000000000'],
      `WriteApi precision ${prec} with a Date timestamp`);
  }

  // writeRecords (raw line protocol)
  {
    const w = influx.getWriteApi('myorg', 'jsdb', 's', { maxRetries: 0 });
    w.writeRecords(['rec,k=a v=1i 10', 'rec,k=b v=2i 20']);
    w.writeRecord('rec,k=c v=3i 30');
    await w.close();
    eq((await rows('jsdb', 'rec')).map((x) => [x.k, x.v, x.time]),
      [['a', 1, '10000000000'], ['b', 2, '20000000000'], ['c', 3, '30000000000']], 'writeRecords rows');
  }

  // a rejected batch surfaces as HttpError 400 (v2: nothing of it written)
  {
    const w = influx.getWriteApi('myorg', 'jsdb', 'ns', { maxRetries: 0 });
    w.writeRecords(['bad,k=a v=1 1', 'bad,k=b v= 2']);
    let err;
    try { await w.flush(); } catch (e) { err = e; }
    check(err instanceof HttpError && err.statusCode === 400, 'a bad line rejects the flush with HttpError 400',
      err && { status: err.statusCode, body: err.body });
    check(err && /line 2/.test(String(err.body)), 'the error body names line 2', err && err.body);
    eq(await rows('jsdb', 'bad'), [], 'the rejected v2 batch wrote nothing');
    try { await w.close(); } catch { /* already reported */ }
    const wrong = new InfluxDB({ url, token: 'wrong' }).getWriteApi('o', 'jsdb', 'ns', { maxRetries: 0 });
    wrong.writeRecord('unauth v=1 1');
    err = undefined;
    try { await wrong.flush(); } catch (e) { err = e; }
    check(err instanceof HttpError && err.statusCode === 401, 'a wrong token → HttpError 401', err && err.statusCode);
    try { await wrong.close(); } catch { /* already reported */ }
  }

  // ================= @influxdata/influxdb3-client
  {
    const { InfluxDBClient, Point: P3 } = v3;
    const c = new InfluxDBClient({ host: url, token, database: 'js3' });
    await c.write(P3.measurement('cpu').setTag('host', 'a').setFloatField('usage', 12.5)
      .setIntegerField('cores', 8).setBooleanField('up', true).setStringField('os', 'linux')
      .setTimestamp(new Date(Date.UTC(2024, 0, 1))));
    eq(await rows('js3', 'cpu'), [{ time: '1704067200000000000', host: 'a', usage: 12.5, cores: 8, up: true, os: 'linux' }],
      'influxdb3-client write of a Point (default database)');
    await c.write('lp3,host=b v=1 1700000000\nlp3,host=c v=2 1700000001', 'js3', undefined, { precision: 's' });
    eq((await rows('js3', 'lp3')).map((x) => [x.host, x.v, x.time]),
      [['b', 1, '1700000000000000000'], ['c', 2, '1700000001000000000']], 'influxdb3-client line protocol, precision s');
    await c.write(['ns3 v=5 1700000000123'], 'js3', undefined, { precision: 'ms', noSync: true });
    eq((await rows('js3', 'ns3')).map((x) => x.time), ['1700000000123000000'],
      'influxdb3-client noSync write (/api/v3/write_lp) visible at once');
    const m0 = await metrics();
    const lines = [];
    for (let i = 0; i < 3000; i++) lines.push(`big3,host=h${i % 3} v=${i}i ${1700000000000 + i}`);
    await c.write(lines, 'js3', undefined, { precision: 'ms' }); // > default gzipThreshold (1000 bytes)
    const m1 = await metrics();
    const wire = m1.sluice_http_request_body_bytes_total - m0.sluice_http_request_body_bytes_total;
    const plain = m1.sluice_write_bytes_total - m0.sluice_write_bytes_total;
    check(wire * 3 < plain, `influxdb3-client gzipped its body (${wire} wire bytes, ${plain} plain)`);
    const r = await rows('js3', 'big3');
    check(r.length === 3000 && r.every((x, i) => x.v === i && x.time === String(BigInt(1700000000000 + i) * 1000000n)),
      'influxdb3-client gzipped 3000 lines stored exactly', r.length);
    let err;
    try { await c.write('bad3 v=', 'js3'); } catch (e) { err = e; }
    check(err && err.statusCode === 400, 'influxdb3-client gets 400 for a bad line', err && err.statusCode);
    await c.close();
  }
} catch (e) {
  failed++;
  failures.push(`exception: ${e.stack || e}`);
  console.log(`FAIL - exception: ${e.stack || e}`);
  console.log(fs.readFileSync(logPath, 'utf8').split('\n').slice(-20).join('\n'));
}

console.log(`${passed} passed, ${failed} failed`);
if (failed) console.log(`failures:\n  ${failures.join('\n  ')}`);
process.exit(failed ? 1 : 0);
