#!/usr/bin/env python3
"""test_query_sql_seeds.py — every SQL query of the course (seeds/*.txt) runs
through /api/v3/query_sql, adapted only in table and bucket names, and its
result equals DuckDB's answer over the same Parquet files.

The data is loaded, then POST /api/sluice/persist puts all of it into
Parquet files; DuckDB (@duckdb/node-api, run by node from tests/e2e) reads
those files with read_parquet and runs a reference query written in DuckDB's
own SQL (time_bucket for date_bin, explicit casts), so the reference shares
no code with sluice. Timestamps are whole seconds placed 29 s off every
minute boundary relative to "now", so `now() - INTERVAL ...` windows cannot
fall differently in the two engines (they evaluate now() a moment apart).
"""

import glob
import json
import math
import os
import re
import shutil
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness as H  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
DB = "course"


def make_data(now_s):
    lines = []
    add = lines.append
    base = now_s - 29  # 29 s off the minute grid relative to now
    # metrics: recent (8 days, every 10 min) and 2024-12-19 09:30..12:30 every minute
    series = [("server01", "premium", "customer1", "us-west"),
              ("server02", "basic", "customer2", "us-east"),
              ("server03", "premium", "customer3", "us-west")]
    for i, (h, seg, ten, dc) in enumerate(series):
        for k in range(8 * 144):
            t = base - k * 600
            add(f"metrics,host={h},user_segment={seg},tenant_id={ten},datacenter={dc} "
                f"cpu={(k * 7 + i * 13) % 100 + 0.25},user_id=\"user_{12340 + (k + i) % 10}\" {t}")
        t0 = 1734600600  # 2024-12-19T09:30:00Z
        for m in range(181):
            add(f"metrics,host={h},user_segment={seg},tenant_id={ten},datacenter={dc} "
                f"cpu={(m * 3 + i) % 90 + 0.5},user_id=\"user_{12345 + m % 3}\" {t0 + m * 60}")
    for s in range(1, 4):
        for k in range(120):
            add(f"sensors,sensor_id=SENS00{s} temperature={20 + (k * s) % 7 + 0.125},"
                f"humidity={40 + k % 11} {base - k * 60}")
    for s in range(1, 5):
        loc, floor = ("north", "1") if s % 2 else ("south", "2")
        for k in range(180):
            add(f"metrics-hot,sensor_id=s{s},location={loc},floor={floor} "
                f"temperature={18 + (k * s) % 9 + 0.5},humidity={35 + (k + s) % 13}.0 {base - k * 60}")
    # hourly around the 89..90-day window of the cold-tier query, sparse elsewhere
    # (every point of another hour is another partition, hence another file)
    warm = [k for k in range(91 * 24) if 87 * 24 <= k < 92 * 24 or k % 120 == 0]
    for s in range(1, 3):
        for k in warm:
            add(f"metrics-warm,sensor_id=w{s} temperature={15 + (k * s) % 10 + 0.75},"
                f"humidity={50 + k % 7}.5 {base - k * 3600}")
    for k in range(20):
        add(f"cpu,host=h{k % 4} usage_user={k * 1.5},usage_system={k % 3}i {base - k * 60}")
    for k in range(2 * 144):
        add(f"tenant-acme,host=web{k % 5} v={k} {base - k * 600}")
    for k in range(50):
        add(f"my-bucket,m=x{k % 2} v={k * 0.5} {base - k * 3600}")
    return "\n".join(lines) + "\n"


# (sluice query as in the course, DuckDB reference query, ordered?)
# In DuckDB queries, {t:name} is read_parquet over the table's files; time is
# rendered as sluice renders it.
TS = "strftime({}, '%Y-%m-%dT%H:%M:%S')"
NOWD = "TIMESTAMP '{now}'"


def ts(x):
    return TS.format(x)


CASES = [
    # 002: influx query 'SELECT * FROM cpu LIMIT 5' (checked as a subset below)
    ("SELECT * FROM cpu LIMIT 5", None, False),
    # 002: downsample_to_warm (window empty as written: >= now-1d AND < now-6d)
    ("""SELECT
          date_bin(INTERVAL '5 minutes', time) as time_bucket,
          sensor_id,
          AVG(temperature) as temperature,
          AVG(humidity) as humidity
        FROM metrics-hot
        WHERE time >= now() - INTERVAL '1 day'
          AND time < now() - INTERVAL '6 days'
        GROUP BY time_bucket, sensor_id""",
     f"""SELECT {ts("time_bucket(INTERVAL '5 minutes', time, TIMESTAMP '1970-01-01')")} AS time_bucket,
          sensor_id, avg(temperature) AS temperature, avg(humidity) AS humidity
        FROM {{t:metrics-hot}}
        WHERE time >= {NOWD} - INTERVAL '1 day' AND time < {NOWD} - INTERVAL '6 days'
        GROUP BY 1, 2""", False),
    # 002: downsample_to_cold
    ("""SELECT
          date_bin(INTERVAL '1 hour', time) as time_bucket,
          sensor_id,
          AVG(temperature) as temperature,
          AVG(humidity) as humidity
        FROM metrics-warm
        WHERE time >= now() - INTERVAL '90 days'
          AND time < now() - INTERVAL '89 days'
        GROUP BY time_bucket, sensor_id""",
     f"""SELECT {ts("time_bucket(INTERVAL '1 hour', time, TIMESTAMP '1970-01-01')")} AS time_bucket,
          sensor_id, avg(temperature) AS temperature, avg(humidity) AS humidity
        FROM {{t:metrics-warm}}
        WHERE time >= {NOWD} - INTERVAL '90 days' AND time < {NOWD} - INTERVAL '89 days'
        GROUP BY 1, 2""", False),
    # 002: downsample_temperature (interval_minutes=5, source_bucket=metrics-hot)
    ("""SELECT
          date_bin(INTERVAL '5 minutes', time) as time_bucket,
          sensor_id,
          location,
          floor,
          AVG(temperature) as avg_temp,
          MIN(temperature) as min_temp,
          MAX(temperature) as max_temp,
          AVG(humidity) as avg_humidity,
          COUNT(*) as sample_count
        FROM metrics-hot
        WHERE time >= now() - INTERVAL '1 hour'
          AND time < now() - INTERVAL '55 minutes'
        GROUP BY time_bucket, sensor_id, location, floor
        ORDER BY time_bucket""",
     f"""SELECT {ts("time_bucket(INTERVAL '5 minutes', time, TIMESTAMP '1970-01-01')")} AS time_bucket,
          sensor_id, location, floor, avg(temperature) AS avg_temp, min(temperature) AS min_temp,
          max(temperature) AS max_temp, avg(humidity) AS avg_humidity, count(*) AS sample_count
        FROM {{t:metrics-hot}}
        WHERE time >= {NOWD} - INTERVAL '1 hour' AND time < {NOWD} - INTERVAL '55 minutes'
        GROUP BY 1, 2, 3, 4 ORDER BY 1""", False),
    # 002 §6.7 rule 1
    ("SELECT * FROM metrics\nWHERE user_id = 'user_12345'  -- user_id is field",
     "SELECT * FROM {t:metrics} WHERE user_id = 'user_12345'", False),
    ("SELECT * FROM metrics\nWHERE user_segment = 'premium'  -- user_segment is tag",
     "SELECT * FROM {t:metrics} WHERE user_segment = 'premium'", False),
    # rule 2
    ("SELECT AVG(temperature) FROM sensors\nWHERE sensor_id = 'SENS001'",
     "SELECT avg(temperature) AS \"AVG(temperature)\" FROM {t:sensors} WHERE sensor_id = 'SENS001'",
     False),
    ("SELECT AVG(temperature) FROM sensors\nWHERE sensor_id = 'SENS001'\n"
     "  AND time >= now() - INTERVAL '1 hour'",
     f"SELECT avg(temperature) AS \"AVG(temperature)\" FROM {{t:sensors}} WHERE sensor_id = "
     f"'SENS001' AND time >= {NOWD} - INTERVAL '1 hour'", False),
    # rule 3
    ("SELECT * FROM metrics\nWHERE time >= '2024-01-01'  -- Scans 1 year",
     "SELECT * FROM {t:metrics} WHERE time >= TIMESTAMP '2024-01-01'", False),
    ("SELECT * FROM metrics\nWHERE time >= '2024-12-19T10:00:00Z'\n"
     "  AND time < '2024-12-19T11:00:00Z'  -- Scans 1 hour",
     "SELECT * FROM {t:metrics} WHERE time >= TIMESTAMP '2024-12-19 10:00:00' AND time < "
     "TIMESTAMP '2024-12-19 11:00:00'", False),
    # rule 4
    ("SELECT * FROM metrics\nWHERE time >= now() - INTERVAL '7 days'",
     f"SELECT * FROM {{t:metrics}} WHERE time >= {NOWD} - INTERVAL '7 days'", False),
    ("SELECT * FROM metrics\nWHERE time >= now() - INTERVAL '7 days'\nLIMIT 10000",
     f"SELECT * FROM {{t:metrics}} WHERE time >= {NOWD} - INTERVAL '7 days' LIMIT 10000", False),
    # rule 5
    ("SELECT * FROM metrics WHERE time >= now() - INTERVAL '7 days'",
     f"SELECT * FROM {{t:metrics}} WHERE time >= {NOWD} - INTERVAL '7 days'", False),
    ("""
    SELECT AVG(cpu) as avg_cpu
    FROM metrics
    WHERE time >= now() - INTERVAL '7 days'
""", f"SELECT avg(cpu) AS avg_cpu FROM {{t:metrics}} WHERE time >= {NOWD} - INTERVAL '7 days'",
     False),
    # rule 6
    ("""-- 1-second buckets for 7 days = 604,800 rows!
SELECT
  date_bin(INTERVAL '1 second', time) as bucket,
  AVG(cpu)
FROM metrics
WHERE time >= now() - INTERVAL '7 days'
GROUP BY bucket""",
     f"""SELECT {ts("time_bucket(INTERVAL '1 second', time, TIMESTAMP '1970-01-01')")} AS bucket,
        avg(cpu) AS "AVG(cpu)" FROM {{t:metrics}} WHERE time >= {NOWD} - INTERVAL '7 days'
        GROUP BY 1""", False),
    ("""-- 5-minute buckets for 7 days = 2,016 rows
SELECT
  date_bin(INTERVAL '5 minutes', time) as bucket,
  AVG(cpu)
FROM metrics
WHERE time >= now() - INTERVAL '7 days'
GROUP BY bucket""",
     f"""SELECT {ts("time_bucket(INTERVAL '5 minutes', time, TIMESTAMP '1970-01-01')")} AS bucket,
        avg(cpu) AS "AVG(cpu)" FROM {{t:metrics}} WHERE time >= {NOWD} - INTERVAL '7 days'
        GROUP BY 1""", False),
    # 003 §6.3 predicate pushdown / projection pruning / read optimisation
    ("-- Original query\nSELECT * FROM metrics\nWHERE time >= '2024-12-19T10:00:00Z'\n"
     "  AND host = 'server01'",
     "SELECT * FROM {t:metrics} WHERE time >= TIMESTAMP '2024-12-19 10:00:00' AND host = 'server01'",
     False),
    ("-- Original query\nSELECT temperature FROM sensors",
     "SELECT temperature FROM {t:sensors}", False),
    ("SELECT * FROM metrics WHERE time >= '2024-12-19T11:00:00Z'",
     "SELECT * FROM {t:metrics} WHERE time >= TIMESTAMP '2024-12-19 11:00:00'", False),
    ("-- Query\nSELECT cpu FROM metrics\nWHERE time >= '2024-12-19T10:00:00Z'\n"
     "  AND time < '2024-12-19T11:00:00Z'\n  AND host = 'server01'",
     "SELECT cpu FROM {t:metrics} WHERE time >= TIMESTAMP '2024-12-19 10:00:00' AND time < "
     "TIMESTAMP '2024-12-19 11:00:00' AND host = 'server01'", False),
    ("SELECT * FROM metrics WHERE time >= '2024-12-19T10:00:00Z'\n"
     "       AND time < '2024-12-19T12:00:00Z'",
     "SELECT * FROM {t:metrics} WHERE time >= TIMESTAMP '2024-12-19 10:00:00' AND time < "
     "TIMESTAMP '2024-12-19 12:00:00'", False),
    ("SELECT * FROM metrics WHERE datacenter = 'us-west'",
     "SELECT * FROM {t:metrics} WHERE datacenter = 'us-west'", False),
    ("SELECT * FROM metrics WHERE tenant_id = 'customer1'",
     "SELECT * FROM {t:metrics} WHERE tenant_id = 'customer1'", False),
    # 003 tenant usage (bucket_name = tenant-acme)
    ("""
        SELECT
            COUNT(*) as point_count,
            COUNT(DISTINCT host) as unique_hosts
        FROM tenant-acme
        WHERE time >= now() - INTERVAL '24 hours'
        """,
     f"SELECT count(*) AS point_count, count(DISTINCT host) AS unique_hosts FROM "
     f"{{t:tenant-acme}} WHERE time >= {NOWD} - INTERVAL '24 hours'", False),
    # 003 restore check
    ("SELECT COUNT(*) FROM my-bucket", "SELECT count(*) AS \"COUNT(*)\" FROM {t:my-bucket}", False),
    # the spelling with an explicit origin
    ("SELECT date_bin(INTERVAL '5 minutes', time, '1970-01-01T00:00:00Z') AS b, count(*) AS n "
     "FROM metrics WHERE time >= '2024-12-19T10:00:00Z' AND time < '2024-12-19T11:00:00Z' "
     "GROUP BY b ORDER BY b",
     "SELECT " + ts("time_bucket(INTERVAL '5 minutes', time, TIMESTAMP '1970-01-01')") + " AS b, "
     "count(*) AS n FROM {t:metrics} WHERE time >= TIMESTAMP '2024-12-19 10:00:00' AND time < "
     "TIMESTAMP '2024-12-19 11:00:00' GROUP BY 1 ORDER BY 1", True),
]

NUM_RE = re.compile(r"^-?\d+(\.\d+)?([eE][+-]?\d+)?$")


def norm(v):
    if isinstance(v, bool):
        return v
    if isinstance(v, (int, float)):
        return float(v)
    if isinstance(v, str) and NUM_RE.match(v):
        return float(v)
    return v


def same(a, b):
    if isinstance(a, float) and isinstance(b, float):
        return a == b or math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-9)
    return a == b


def rows_equal(x, y):
    if len(x) != len(y):
        return False
    for r, s in zip(x, y):
        if set(r) != set(s):
            return False
        if not all(same(r[k], s[k]) for k in r):
            return False
    return True


def canon(rows):
    return sorted(rows, key=lambda r: json.dumps(r, sort_keys=True, default=str))


def duck_run(queries):
    script = r"""
import { DuckDBInstance } from '@duckdb/node-api';
let input = '';
for await (const c of process.stdin) input += c;
const qs = JSON.parse(input);
const inst = await DuckDBInstance.create(':memory:');
const con = await inst.connect();
const out = [];
for (const q of qs) {
  const r = await con.runAndReadAll(q);
  out.push(r.getRowObjectsJson());
}
process.stdout.write(JSON.stringify(out));
"""
    p = subprocess.run(["node", "--input-type=module", "-e", script], cwd=HERE,
                       input=json.dumps(queries), capture_output=True, text=True, timeout=300)
    if p.returncode != 0:
        raise AssertionError("duckdb failed: " + p.stderr[-2000:])
    return json.loads(p.stdout)


def sluice_rows(srv, q):
    r = srv.post("/api/v3/query_sql", json.dumps({"db": DB, "q": q, "format": "json"}),
                 headers={"Content-Type": "application/json"})
    if r.status != 200:
        return None, r
    c = srv.post("/api/v3/query_sql", json.dumps({"db": DB, "q": q, "format": "csv"}),
                 headers={"Content-Type": "application/json"})
    cols = c.text.split("\n", 1)[0].split(",") if c.text else []
    rows = r.json()
    return [{k: row.get(k) for k in cols} for row in rows], r


def test_seed_queries():
    if not shutil.which("node") or not os.path.isdir(os.path.join(HERE, "node_modules",
                                                                  "@duckdb")):
        raise H.Skip("node or @duckdb/node-api missing")
    srv = H.Server()
    now_s = int(time.time())
    r = srv.write_v3(DB, make_data(now_s), precision="second")
    H.check_eq(r.status, 204, "course data written")
    # persistence may work in batches:
    # repeat until the file count is stable
    files, prev = -1, -2
    for _ in range(30):
        r = srv.post("/api/sluice/persist", "", timeout=300)
        if r.status != 204:
            break
        prev, files = files, len(glob.glob(os.path.join(srv.data_dir, "dbs", "**", "*.parquet"),
                                           recursive=True))
        if files == prev:
            break
    H.check_eq(r.status, 204, f"persist answers 204 ({files} files)")
    tables = {}
    for d in glob.glob(os.path.join(srv.data_dir, "dbs", "*", "*")):
        tables[os.path.basename(d)] = d
    refs = []
    for _, ref, _ in CASES:
        if ref is None:
            refs.append("SELECT 1")
            continue

        def sub(m):
            d = tables.get(m.group(1))
            return f"read_parquet('{d}/**/*.parquet', union_by_name=true)"
        q = re.sub(r"\{t:([a-zA-Z0-9_-]+)\}", sub, ref)
        nowd = time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(time.time()))
        q = q.replace("{now}", nowd)
        # DuckDB renders a bare time column as a timestamp: make it sluice's text
        if q.lstrip().startswith("SELECT *"):
            q = q.replace("SELECT *", f"SELECT * REPLACE ({ts('time')} AS time)", 1)
        refs.append(q)
    expected = duck_run(refs)
    for (q, ref, ordered), exp in zip(CASES, expected):
        title = " ".join(q.split())[:90]
        got, resp = sluice_rows(srv, q)
        if got is None:
            H.check(False, f"runs: {title}", f"{resp.status} {resp.text}")
            continue
        if ref is None:
            full, _ = sluice_rows(srv, "SELECT * FROM cpu")
            H.check(len(got) == 5 and all(g in full for g in got),
                    f"5 rows of cpu: {title}", got)
            continue
        exp = [{k: norm(v) for k, v in row.items()} for row in exp]
        got = [{k: norm(v) for k, v in row.items()} for row in got]
        if not ordered:
            exp, got = canon(exp), canon(got)
        if "LIMIT 10000" in q:  # fewer rows than the limit: the whole set
            H.check(len(got) <= 10000, "LIMIT respected")
        H.check(rows_equal(got, exp), f"equals DuckDB ({len(exp)} rows): {title}",
                f"sluice {got[:3]}... vs duckdb {exp[:3]}...")
    H.check(any(len(e) > 0 for e in expected[4:]), "the reference results are not all empty")


if __name__ == "__main__":
    H.run([test_seed_queries])
