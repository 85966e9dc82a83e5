"""test_backup_restore.py — `sluice backup` / `sluice restore` with the real server.

* Backup while a writer is writing (and persistence and compaction run in a
  loop): every point acknowledged before the backup call is in the restored
  server (counted with SQL), the restored rows are a gap-free prefix of what
  was written, and the server's snapshot is gone afterwards.
* Restore into a fresh data directory and query; restore one database under
  --new-name into the original (stopped) data directory: the other
  databases are untouched; a name that exists is refused; restoring while the
  server runs is refused.
* A damaged backup (one flipped byte, a missing file, a broken manifest) is
  refused with a clear message and nothing is written.
* The snapshot API: admin only; snapshots expire after their ttl and those of
  an earlier server process are removed; an unknown --db fails with 404.
"""

import json
import os
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from harness import check, check_eq  # noqa: E402

NS = 1000000000
BASE = 1700000000 * NS


def run_cli(*args, env=None, timeout=300):
    p = subprocess.run([harness.sluice_bin()] + list(args), capture_output=True, text=True,
                       timeout=timeout, stdin=subprocess.DEVNULL, env=env)
    return p.returncode, p.stdout, p.stderr


def backup(srv, out_dir, *extra):
    return run_cli("backup", "--host", srv.url, "--token", srv.token, *extra, out_dir)


def sql_count(srv, db, q):
    r = srv.get("/api/v3/query_sql", params={"db": db, "q": q, "format": "json"})
    if r.status != 200:
        raise AssertionError(f"query failed: {r.status} {r.text}")
    return list(r.json()[0].values())[0]


def test_backup_while_writing():
    srv = harness.Server()
    acked = [0]  # points 0..acked-1 are acknowledged (the writer is sequential)
    stop = threading.Event()

    def writer():
        conn = harness.Conn(srv.port)
        i = 0
        while not stop.is_set():
            lines = "\n".join(f"m,host=h{k % 5} i={k}i {BASE + k * NS}" for k in range(i, i + 200))
            r = conn.request("POST", "/api/v3/write_lp?db=live", lines.encode(),
                             srv.auth_headers())
            if r.status != 204:
                raise AssertionError(f"write answered {r.status}: {r.text}")
            i += 200
            acked[0] = i
        conn.close()

    def churn():  # persistence and compaction racing with the snapshot
        while not stop.is_set():
            srv.post("/api/sluice/persist")
            srv.post("/api/sluice/compact")
            time.sleep(0.05)

    check_eq(srv.write_v3("other", "o,t=x v=1 1700000000000000000\no,t=y v=2 "
                          "1700000001000000000").status, 204, "seed a second database")
    threads = [threading.Thread(target=writer), threading.Thread(target=churn)]
    for t in threads:
        t.start()
    harness.wait_until(lambda: acked[0] >= 4000, timeout=30)
    before = acked[0]
    bdir = os.path.join(harness.tmpdir(), "bk")
    rc, out, err = backup(srv, bdir)
    after_call = acked[0]
    time.sleep(0.3)
    stop.set()
    for t in threads:
        t.join()
    check(rc == 0 and "backup complete" in out, "sluice backup exits 0 while writes go on",
          out + err)
    check(before > 0 and after_call > before, f"the writer kept writing during the backup "
          f"({before} -> {after_call} points)")
    man = json.load(open(os.path.join(bdir, "manifest.json")))
    check_eq(sorted(man["databases"]), ["live", "other"], "the manifest names both databases")
    check(man["tokens_included"] is False and not os.path.exists(os.path.join(bdir, "tokens.json")),
          "tokens are not in the backup")
    check_eq(srv.get("/api/sluice/backup").json(), [], "the snapshot was removed from the server")
    snaps = os.path.join(srv.data_dir, "snapshots")
    check(not os.path.exists(snaps) or os.listdir(snaps) == [], "no snapshot directory is left")

    data2 = os.path.join(harness.tmpdir(), "data")
    rc, out, err = run_cli("restore", "--data-dir", data2, bdir)
    check(rc == 0 and "restored database \"live\"" in out, "restore into a fresh data directory",
          out + err)
    srv2 = harness.Server(data_dir=data2)
    n = sql_count(srv2, "live", "select count(*) from m")
    k = sql_count(srv2, "live", f"select count(*) from m where time < {BASE + before * NS}")
    mx = sql_count(srv2, "live", "select max(i) from m")
    check_eq(k, before, f"every point acknowledged before the backup is restored ({before})")
    check(before <= n <= acked[0], f"restored {n} points: between {before} and {acked[0]}")
    check_eq(mx + 1, n, "the restored points are a gap-free prefix (max(i) + 1 == count)")
    check_eq(sql_count(srv2, "other", "select count(*) from o"), 2, "the other database too")
    srv2.close()


def test_restore_into_existing():
    srv = harness.Server()
    check_eq(srv.write_v3("keep", "k v=1 1700000000000000000").status, 204, "seed keep")
    body = "\n".join(f"s,id={i % 3} v={i} {BASE + i * NS}" for i in range(300))
    check_eq(srv.write_v3("src", body).status, 204, "seed src")
    bdir = os.path.join(harness.tmpdir(), "bk")
    rc, out, err = backup(srv, bdir, "--db", "src", "--format", "json")
    j = json.loads(out) if rc == 0 else {}
    check(rc == 0 and j.get("databases") == ["src"], "backup --db src --format json", out + err)
    rc, out, err = backup(srv, bdir)
    check(rc == 1 and "not empty" in err, "backup refuses a non-empty directory", err)
    rc, out, err = backup(srv, os.path.join(harness.tmpdir(), "x"), "--db", "nope")
    check(rc == 1 and "404" in err, "backup of an unknown database: exit 1, 404", err)

    rc, out, err = run_cli("restore", "--data-dir", srv.data_dir, "--db", "src", "--new-name",
                           "copy", bdir)
    check(rc == 1 and "stop" in err, "restore into the data directory of a running server is "
          "refused", err)
    srv.stop()
    rc, out, err = run_cli("restore", "--data-dir", srv.data_dir, bdir)
    check(rc == 1 and "already exists" in err, "restoring over an existing name is refused", err)
    rc, out, err = run_cli("restore", "--data-dir", srv.data_dir, "--db", "src", "--new-name",
                           "copy", bdir)
    check(rc == 0 and "as \"copy\"" in out, "restore --db src --new-name copy", out + err)
    srv.start()
    check_eq(sql_count(srv, "copy", "select count(*) from s"), 300, "copy has the rows")
    check_eq(sql_count(srv, "copy", "select sum(v) from s"), float(sum(range(300))),
             "copy has the values")
    check_eq(sql_count(srv, "src", "select count(*) from s"), 300, "src is untouched")
    check_eq(sql_count(srv, "keep", "select count(*) from k"), 1, "keep is untouched")
    # the restored database is a normal one: writes, persistence, compaction
    check_eq(srv.write_v3("copy", f"s,id=9 v=1000 {BASE + 1000 * NS}").status, 204,
             "write to the restored database")
    check_eq(srv.post("/api/sluice/persist").status, 204, "persist")
    check_eq(srv.post("/api/sluice/compact").status, 204, "compact")
    srv.restart()
    check_eq(sql_count(srv, "copy", "select count(*) from s"), 301, "after restart: 301 rows")
    check_eq(sql_count(srv, "src", "select count(*) from s"), 300, "after restart: src intact")


def test_damaged_backup_refused():
    srv = harness.Server()
    body = "\n".join(f"d,id={i % 4} v={i} {BASE + i * NS}" for i in range(500))
    check_eq(srv.write_v3("db1", body).status, 204, "seed")
    bdir = os.path.join(harness.tmpdir(), "bk")
    rc, out, err = backup(srv, bdir)
    check_eq(rc, 0, "backup")
    man = json.load(open(os.path.join(bdir, "manifest.json")))
    pq = [f["path"] for f in man["files"] if f["path"].endswith(".parquet")]
    check(len(pq) >= 1, "the backup has Parquet files")

    target = os.path.join(harness.tmpdir(), "data")
    victim = os.path.join(bdir, pq[0])
    with open(victim, "r+b") as f:
        f.seek(os.path.getsize(victim) // 2)
        b = f.read(1)
        f.seek(-1, 1)
        f.write(bytes([b[0] ^ 0x01]))
    rc, out, err = run_cli("restore", "--data-dir", target, bdir)
    check(rc == 1 and "damaged" in err and pq[0] in err and "nothing was restored" in err,
          "one flipped byte: restore refuses and names the file", err)
    check(not os.path.exists(target), "nothing was written")

    with open(victim, "r+b") as f:  # repair, then remove another file
        f.seek(os.path.getsize(victim) // 2)
        f.write(b)
    os.rename(os.path.join(bdir, "catalog.json"), os.path.join(bdir, "catalog.json.x"))
    rc, out, err = run_cli("restore", "--data-dir", target, bdir)
    check(rc == 1 and "missing" in err, "a missing file: restore refuses", err)
    os.rename(os.path.join(bdir, "catalog.json.x"), os.path.join(bdir, "catalog.json"))

    mpath = os.path.join(bdir, "manifest.json")
    text = open(mpath).read()
    open(mpath, "w").write(text[: len(text) // 2])
    rc, out, err = run_cli("restore", "--data-dir", target, bdir)
    check(rc == 1 and "manifest.json" in err, "a broken manifest: restore refuses", err)
    open(mpath, "w").write(text)
    rc, out, err = run_cli("restore", "--data-dir", target, bdir)
    check_eq(rc, 0, "the repaired backup restores")
    srv2 = harness.Server(data_dir=target)
    check_eq(sql_count(srv2, "db1", "select count(*) from d"), 500, "and has every row")


def test_snapshot_api():
    srv = harness.Server()
    check_eq(srv.write_v3("a", "m v=1 1700000000000000000").status, 204, "seed")
    r = srv.post("/api/v3/configure/token", json.dumps(
        {"token_name": "w", "permissions": [{"resource_type": "db", "resource_names": ["a"],
                                             "actions": ["read", "write"]}]}),
        headers={"Content-Type": "application/json"})
    tok = r.json()["token"]
    check_eq(srv.post("/api/sluice/backup", token=tok).status, 403,
             "a database token cannot make snapshots")
    check_eq(srv.post("/api/sluice/backup", auth=False).status, 401, "nor can anonymous callers")

    r = srv.post("/api/sluice/backup", params={"ttl": "1"})
    check_eq(r.status, 201, "snapshot with ttl=1")
    sid = r.json()["id"]
    f = next(x for x in r.json()["files"] if x["path"].endswith(".parquet"))
    r2 = srv.get(f"/api/sluice/backup/{sid}/file", params={"path": f["path"], "offset": "0",
                                                           "length": "10"})
    check(r2.status == 200 and len(r2.body) == 10 and
          r2.header("x-sluice-file-size") == str(f["size"]), "a chunk of a file", r2)
    r3 = srv.get(f"/api/sluice/backup/{sid}/file", params={"path": "../catalog.json"})
    check_eq(r3.status, 400, "a path outside the snapshot is refused")
    time.sleep(2.2)
    r = srv.post("/api/sluice/backup")
    check_eq(r.status, 201, "a second snapshot")
    check_eq(srv.get(f"/api/sluice/backup/{sid}").status, 404, "the expired one was removed")
    sid2 = r.json()["id"]
    srv.restart()
    check_eq(srv.post("/api/sluice/backup").status, 201, "a snapshot after a restart")
    check_eq(srv.get(f"/api/sluice/backup/{sid2}").status, 404,
             "the earlier process's snapshot was removed")
    ids = [s["id"] for s in srv.get("/api/sluice/backup").json()]
    check_eq(len(ids), 1, "one snapshot is listed")
    check_eq(srv.request("DELETE", f"/api/sluice/backup/{ids[0]}").status, 204, "DELETE")
    check_eq(srv.request("DELETE", f"/api/sluice/backup/{ids[0]}").status, 404, "DELETE again")


if __name__ == "__main__":
    harness.run([test_backup_while_writing, test_restore_into_existing,
                 test_damaged_backup_refused, test_snapshot_api])
