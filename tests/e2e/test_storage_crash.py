"""test_storage_crash.py — kill -9 during persistence and compaction.

Loop (bounded: ITERATIONS rounds, < 2 min): write a batch of points spread
over several hour partitions (synchronously: each 204 is an acknowledgement;
later batches overwrite some earlier points), start POST /api/sluice/persist
or /api/sluice/compact without waiting, kill -9 the server after a random
delay, restart it, and verify:
  * every acknowledged point is there with its newest acknowledged value
    (GET /api/sluice/debug/rows returns the merged rows);
  * no orphan or half-written file is visible: every .parquet under dbs/ is
    listed in catalog.json, no .tmp is left, and every file opens in DuckDB
    (@duckdb/node-api) with the row count the catalog records.
"""

import json
import os
import random
import re
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from harness import check, check_eq  # noqa: E402

ITERATIONS = 32
BATCH = 8000
HOSTS = 40
SPAN_S = 6 * 3600  # six hour partitions
BASE_S = 1700000000 - 1700000000 % 3600
HERE = os.path.dirname(os.path.abspath(__file__))

DUCK_CHECK = r"""
import { DuckDBInstance } from '@duckdb/node-api';
const files = JSON.parse(process.argv[1]);
const inst = await DuckDBInstance.create(':memory:');
const con = await inst.connect();
const out = {};
for (const f of files) {
  try {
    const r = (await con.runAndReadAll(`SELECT count(*) AS n FROM read_parquet('${f}')`)).getRowObjects();
    out[f] = Number(r[0].n);
  } catch (e) { out[f] = `error: ${e.message}`; }
}
console.log(JSON.stringify(out));
"""


def have_duckdb():
    return os.path.isdir(os.path.join(HERE, "node_modules", "@duckdb", "node-api"))


def duck_counts(files):
    if not files:
        return {}
    r = subprocess.run(["node", "--input-type=module", "-e", DUCK_CHECK, json.dumps(files)],
                       cwd=HERE, capture_output=True, text=True, timeout=60)
    if r.returncode != 0:
        return {"node": r.stderr[-500:]}
    return json.loads(r.stdout.strip().splitlines()[-1])


def catalog_files(data_dir):
    with open(os.path.join(data_dir, "catalog.json")) as f:
        cat = json.load(f)
    out = {}

    def walk(o):
        if isinstance(o, dict):
            if "path" in o and "rows" in o and isinstance(o["path"], str):
                out[o["path"]] = o["rows"]
            for v in o.values():
                walk(v)
        elif isinstance(o, list):
            for v in o:
                walk(v)
    walk(cat)
    return out


def disk_files(data_dir):
    res = []
    root = os.path.join(data_dir, "dbs")
    for d, _, names in os.walk(root):
        for n in names:
            res.append(os.path.relpath(os.path.join(d, n), data_dir))
    return res


def batch_lines(i, rnd):
    lines, pts = [], {}
    for j in range(BATCH):
        host = f"h{rnd.randrange(HOSTS)}"
        t = BASE_S + rnd.randrange(SPAN_S // 10) * 10
        v = i * 100000 + j
        lines.append(f"m,host={host} v={v},n={j}i {t}")
        pts[(host, t * 1000000000)] = v
    return "\n".join(lines), pts


def test_kill_during_persist_and_compact():
    rnd = random.Random(int(os.environ.get("SLUICE_SEED", "4")))
    srv = harness.Server()
    acked = {}
    kills = {"persist": 0, "compact": 0}
    for i in range(ITERATIONS):
        body, pts = batch_lines(i, rnd)
        r = srv.write_v3("crash", body, precision="second")
        if not check(r.status == 204, f"round {i}: batch acknowledged", r.status):
            break
        acked.update(pts)
        action = "compact" if i % 3 == 2 else "persist"
        url = srv.url
        token = srv.token

        def fire():
            try:
                harness.http_request(url + f"/api/sluice/{action}", "POST", b"",
                                     {"Authorization": f"Token {token}"}, timeout=10)
            except Exception:  # the server dies under it
                pass
        th = threading.Thread(target=fire, daemon=True)
        th.start()
        time.sleep(rnd.uniform(0.0, 0.25))
        srv.kill9()
        th.join(5)
        kills[action] += 1
        srv.start()
        if i % 4 == 3 or i == ITERATIONS - 1:
            rows = srv.rows("crash", "m")
            got = {(row["host"], row["time"]): row["v"] for row in rows}
            missing = [k for k in acked if k not in got]
            wrong = [k for k in acked if k in got and got[k] != acked[k]]
            extra = [k for k in got if k not in acked]
            check(not missing and not wrong and not extra and len(rows) == len(got),
                  f"round {i}: all {len(acked)} acknowledged points, newest values, no duplicates",
                  f"missing {len(missing)} wrong {len(wrong)} extra {len(extra)} rows {len(rows)}")
            listed = catalog_files(srv.data_dir)
            on_disk = disk_files(srv.data_dir)
            strays = [f for f in on_disk if f not in listed]
            check(not strays, f"round {i}: every file under dbs/ is in catalog.json", strays[:5])
            if have_duckdb():
                counts = duck_counts([os.path.join(srv.data_dir, f) for f in on_disk])
                bad = {f: n for f, n in counts.items()
                       if listed.get(os.path.relpath(f, srv.data_dir)) != n}
                check(not bad, f"round {i}: {len(counts)} files open in DuckDB with the catalog's "
                      "row counts", bad)
    hits = len(re.findall(r"removed \d+ unregistered or partial data files", srv.log()))
    print(f"kills during persist: {kills['persist']}, during compact: {kills['compact']}; "
          f"restarts that found a half-done file operation (and removed its files): {hits}")
    # a final clean compaction still sees everything
    r = srv.post("/api/sluice/persist")
    check_eq(r.status, 204, "persist after the crashes")
    r = srv.post("/api/sluice/compact")
    check_eq(r.status, 204, "compact after the crashes")
    rows = srv.rows("crash", "m")
    got = {(row["host"], row["time"]): row["v"] for row in rows}
    check(got == acked and len(rows) == len(acked), "after final compaction: exactly the acknowledged "
          "points", f"{len(rows)} rows, {len(acked)} acknowledged")
    files = [f for f in disk_files(srv.data_dir) if f.endswith(".parquet")]
    check(len(files) <= 6 * 2, f"file count bounded after compaction ({len(files)} for 6 partitions)")
    srv.close()


if __name__ == "__main__":
    harness.run([test_kill_during_persist_and_compact])
