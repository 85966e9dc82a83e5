// test_delete_v2_npm.mjs — the official JavaScript client's DeleteAPI
// (@influxdata/influxdb-client-apis, POST /api/v2/delete) against a real
// `sluice serve`: points written with WriteApi, deleted by predicate and time
// range (both ends included) by bucket name and by bucketID, checked through
// the inspection path; the HttpError statuses the client raises for a bad
// predicate (400), an unknown bucket (404), a _field predicate (501) and a
// wrong token (401). Exit 77 when the npm packages are missing.
import fs from 'node:fs';

import { check, eq, fail, finish, startServer } from './harness.mjs';

let client, apis;
try {
  client = await import('@influxdata/influxdb-client');
  apis = await import('@influxdata/influxdb-client-apis');
} catch (e) {
  console.log(`skip - npm clients not installed: ${e.message}`);
  process.exit(77);
}

const { url, logPath, token } = await startServer('sluice-e2e-del-');
const auth = { Authorization: `Token ${token}` };

// stored rows of db.table as "host/region/time" strings, sorted
async function rows(db, table) {
  const r = await fetch(`${url}/api/sluice/debug/rows?db=${encodeURIComponent(db)}&table=${encodeURIComponent(table)}`, { headers: auth });
  if (r.status === 404) return [];
  const text = await r.text();
  if (r.status !== 200) throw new Error(`inspection path: ${r.status} ${text}`);
  return text.split('\n').filter((l) => l.trim())
    .map((l) => JSON.parse(l.replace(/^\{"time":(-?\d+)/, '{"time":"$1"')))
    .map((x) => `${x.host}/${x.region}/${x.time}`).sort();
}

const T0 = 1700000000n * 1000000000n; // ns
const S = 1000000000n;
const iso = (ns) => {
  const ms = Number(ns / 1000000n);
  const rest = String(ns % 1000000000n).padStart(9, '0');
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, `.${rest}Z`);
};

try {
  const { InfluxDB, Point, HttpError } = client;
  const { DeleteAPI, BucketsAPI } = apis;
  const influx = new InfluxDB({ url, token, timeout: 20000 });
  const del = new DeleteAPI(influx);

  // model: every (meas, host, region, t) for t = T0 .. T0+9s
  const model = new Map();
  const w = influx.getWriteApi('myorg', 'jsdel', 'ns', { flushInterval: 0, maxRetries: 0 });
  for (const m of ['cpu', 'mem']) {
    for (const h of ['a', 'b']) {
      for (const r of ['east', 'west']) {
        for (let i = 0n; i < 10n; i++) {
          const t = T0 + i * S;
          w.writePoint(new Point(m).tag('host', h).tag('region', r).floatField('v', Number(i))
            .timestamp(String(t)));
          if (!model.has(m)) model.set(m, new Set());
          model.get(m).add(`${h}/${r}/${t}`);
        }
      }
    }
  }
  await w.close();
  const drop = (m, fn) => { for (const k of [...model.get(m)]) if (fn(...k.split('/'))) model.get(m).delete(k); };
  const verify = async (what) => {
    for (const m of ['cpu', 'mem']) eq(await rows('jsdel', m), [...model.get(m)].sort(), `${what}: ${m} rows`);
  };
  await verify('written with WriteApi');

  // by bucket name: cpu host=a, t in [T0+2s, T0+4s] (inclusive both ends)
  await del.postDelete({
    org: 'myorg', bucket: 'jsdel',
    body: { start: iso(T0 + 2n * S), stop: iso(T0 + 4n * S), predicate: '_measurement="cpu" AND host="a"' },
  });
  drop('cpu', (h, r, t) => h === 'a' && BigInt(t) >= T0 + 2n * S && BigInt(t) <= T0 + 4n * S);
  await verify('DeleteAPI by bucket name');
  check(!model.get('cpu').has(`a/east/${T0 + 4n * S}`) && model.get('cpu').has(`a/east/${T0 + 5n * S}`),
    'the stop instant is deleted, the next point is kept');

  // by bucketID with orgID, no predicate: every series in [T0+8s, T0+9s]
  const buckets = await new BucketsAPI(influx).getBuckets({ name: 'jsdel' });
  const id = buckets.buckets && buckets.buckets[0] && buckets.buckets[0].id;
  check(!!id, 'BucketsAPI finds the bucket id', buckets);
  await del.postDelete({ orgID: '0000000000000001', bucketID: id, body: { start: iso(T0 + 8n * S), stop: iso(T0 + 9n * S) } });
  for (const m of ['cpu', 'mem']) drop(m, (h, r, t) => BigInt(t) >= T0 + 8n * S);
  await verify('DeleteAPI by bucketID, no predicate');

  // errors the client raises as HttpError
  const status = async (req) => {
    try { await del.postDelete(req); return 'ok'; } catch (e) { return e instanceof HttpError ? e.statusCode : String(e); }
  };
  const body = { start: iso(T0), stop: iso(T0 + 9n * S) };
  eq(await status({ org: 'o', bucket: 'jsdel', body: { ...body, predicate: 'host="a" OR host="b"' } }), 400, 'OR predicate → HttpError 400');
  eq(await status({ org: 'o', bucket: 'jsdel', body: { ...body, predicate: "host='a'" } }), 400, 'single-quoted value → HttpError 400');
  eq(await status({ org: 'o', bucket: 'jsdel', body: { ...body, predicate: '_field="v"' } }), 501, '_field predicate → HttpError 501');
  eq(await status({ org: 'o', bucket: 'nosuch', body }), 404, 'unknown bucket → HttpError 404');
  const bad = new DeleteAPI(new InfluxDB({ url, token: 'wrong', timeout: 20000 }));
  let st;
  try { await bad.postDelete({ org: 'o', bucket: 'jsdel', body }); st = 'ok'; } catch (e) { st = e.statusCode; }
  eq(st, 401, 'wrong token → HttpError 401');
  await verify('after the refused deletes');
} catch (e) {
  fail(`exception: ${e.stack || e}`);
  console.log(fs.readFileSync(logPath, 'utf8').split('\n').slice(-20).join('\n'));
}

finish();
