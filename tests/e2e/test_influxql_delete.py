"""test_influxql_delete.py — DELETE, DROP SERIES and DROP MEASUREMENT remove
data for good.

Against a real `sluice serve`: points spread over six hour partitions, some
persisted to Parquet files (and compacted), some only in the buffer, some
overwritten. After each statement the stored rows must equal a Python model
of InfluxDB 1.x's semantics; then the server is killed with SIGKILL and
restarted (WAL replay) and the rows must still equal the model — deleted
points must not come back from WAL records or old files, and points written
after a delete must stay. Also: v3 `DELETE /api/v3/configure/table`, the
1.x error cases, no stray files, and (when influxd from the Debian package
is installed) the same statements on InfluxDB 1.6 give the same rows, and
the SHOW statements (MEASUREMENTS, SERIES, TAG KEYS, FIELD KEYS, TAG VALUES)
give the same answers afterwards — rows in the buffer or in files, after
persisting and after a restart: an emptied series or measurement is no
longer listed, while its field types still hold.
"""

import json
import os
import sys
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from harness import check, check_eq  # noqa: E402

NS = 1_000_000_000
BASE = (1700000000 - 1700000000 % 3600) * NS
HOUR = 3600 * NS
DB = "deltest"


def point_lines(meas, hosts, regions, t0, t1, step, value, ftype="f"):
    lines, model = [], {}
    for h in hosts:
        for r in regions:
            t = t0
            while t < t1:
                v = value(h, r, t)
                lit = f"{int(v)}i" if ftype == "i" else repr(float(v))
                lines.append(f"{meas},host={h},region={r} v={lit} {t}")
                model[(meas, h, r, t)] = int(v) if ftype == "i" else float(v)
                t += step
    return "\n".join(lines).encode(), model


class Model:
    def __init__(self):
        self.pts = {}

    def add(self, m):
        self.pts.update(m)

    def delete(self, pred):
        self.pts = {k: v for k, v in self.pts.items() if not pred(*k)}

    def rows(self, meas):
        return sorted((h, r, t, v) for (m, h, r, t), v in self.pts.items() if m == meas)


def q(srv, query, db=DB, method="GET"):
    p = {"q": query, "db": db, "epoch": "ns"}
    if method == "POST":
        return srv.post("/query", urllib.parse.urlencode(p).encode(),
                        headers={"Content-Type": "application/x-www-form-urlencoded"})
    return srv.get("/query", params=p)


def stmt(srv, query):
    r = q(srv, query, method="POST")
    check_eq(r.status, 200, f"{query}: status")
    res = r.json()["results"][0]
    check("error" not in res, f"{query}: no error", res)
    return res


def stored(srv, meas):
    r = q(srv, f'SELECT * FROM "{meas}"')
    check_eq(r.status, 200, f"SELECT * FROM {meas}")
    res = r.json()["results"][0]
    check("error" not in res, f"SELECT * FROM {meas}: no error", res)
    out = []
    for s in res.get("series", []):
        cols = s["columns"]
        for row in s["values"]:
            d = dict(zip(cols, row))
            out.append((d.get("host") or "", d.get("region") or "", d["time"], d["v"]))
    return sorted(out)


def measurements(srv):
    res = stmt(srv, "SHOW MEASUREMENTS")
    return sorted(v[0] for s in res.get("series", []) for v in s["values"])


def verify(srv, model, what, metas=("cpu", "mem", "disk")):
    for m in metas:
        got, want = stored(srv, m), model.rows(m)
        gs, ws = set(got), set(want)
        check(got == want, f"{what}: {m} has exactly the model's {len(want)} rows",
              f"{len(got)} rows, {len(want)} expected; extra {sorted(gs - ws)[:5]}, "
              f"missing {sorted(ws - gs)[:5]}")
    # no file on disk that the catalog does not list
    with open(os.path.join(srv.data_dir, "catalog.json")) as f:
        cat = json.load(f)
    listed = {fl["path"] for d in cat["databases"] for t in d["tables"] for fl in t.get("files", [])
              if not t.get("deleted") and not d.get("deleted")}
    on_disk = set()
    for root, _, files in os.walk(os.path.join(srv.data_dir, "dbs")):
        for fn in files:
            on_disk.add(os.path.relpath(os.path.join(root, fn), srv.data_dir))
    check(on_disk <= listed, f"{what}: every data file is in the catalog", sorted(on_disk - listed)[:5])


def crash_and_check(srv, model, what):
    verify(srv, model, what)
    srv.kill9()
    srv.start()
    verify(srv, model, what + ", after kill -9 and WAL replay")


def load(srv, model):
    """cpu, mem and disk over six hours: hours 0-3 persisted and compacted,
    then an overwrite of hour 2 and hours 4-5 in the buffer only."""
    for meas in ("cpu", "mem", "disk"):
        body, m = point_lines(meas, "abc", ("east", "west"), BASE, BASE + 4 * HOUR, 600 * NS,
                              lambda h, r, t: (t - BASE) // NS + ord(h))
        check_eq(srv.write_v1(DB, body).status, 204, f"write {meas} hours 0-3")
        model.add(m)
    check_eq(srv.post("/api/sluice/persist").status, 204, "persist")
    body, m = point_lines("cpu", "ab", ("east",), BASE + 2 * HOUR, BASE + 3 * HOUR, 600 * NS,
                          lambda h, r, t: -1)
    check_eq(srv.write_v1(DB, body).status, 204, "overwrite cpu hour 2")
    model.add(m)
    check_eq(srv.post("/api/sluice/persist").status, 204, "persist again")
    check_eq(srv.post("/api/sluice/compact").status, 204, "compact")
    for meas in ("cpu", "mem", "disk"):
        body, m = point_lines(meas, "abc", ("east", "west"), BASE + 4 * HOUR, BASE + 6 * HOUR,
                              900 * NS, lambda h, r, t: 7)
        check_eq(srv.write_v1(DB, body).status, 204, f"write {meas} hours 4-5 (buffer)")
        model.add(m)


def iso(t):
    import datetime
    return datetime.datetime.fromtimestamp(t / NS, datetime.timezone.utc).strftime(
        "%Y-%m-%dT%H:%M:%SZ")


def test_delete_statements():
    srv = harness.Server()
    model = Model()
    stmt(srv, f"CREATE DATABASE {DB}")
    load(srv, model)
    verify(srv, model, "loaded")

    # by tag, across files and buffer
    stmt(srv, "DELETE FROM cpu WHERE host = 'a'")
    model.delete(lambda m, h, r, t: m == "cpu" and h == "a")
    crash_and_check(srv, model, "DELETE FROM cpu WHERE host = 'a'")

    # by time only, one measurement
    t1 = BASE + HOUR + 1800 * NS
    stmt(srv, f"DELETE FROM cpu WHERE time < '{iso(t1)}'")
    model.delete(lambda m, h, r, t: m == "cpu" and t < t1)
    crash_and_check(srv, model, "DELETE FROM cpu WHERE time < ...")

    # tag and time window, with a regex, spanning persisted and buffered hours
    t2, t3 = BASE + 3 * HOUR, BASE + 5 * HOUR
    stmt(srv, f"DELETE FROM mem WHERE region =~ /^ea/ AND time >= {t2} AND time < {t3}")
    model.delete(lambda m, h, r, t: m == "mem" and r == "east" and t2 <= t < t3)
    crash_and_check(srv, model, "DELETE FROM mem WHERE region =~ /^ea/ AND time range")

    # every measurement, no FROM
    t4 = BASE + 1200 * NS
    stmt(srv, f"DELETE WHERE time <= {t4}")
    model.delete(lambda m, h, r, t: t <= t4)
    crash_and_check(srv, model, "DELETE WHERE time <= ...")

    # an OR of tags, then persist + compact: the deletion survives both
    stmt(srv, "DELETE FROM disk WHERE host = 'b' OR region != 'west'")
    model.delete(lambda m, h, r, t: m == "disk" and (h == "b" or r != "west"))
    check_eq(srv.post("/api/sluice/persist").status, 204, "persist after deletes")
    check_eq(srv.post("/api/sluice/compact").status, 204, "compact after deletes")
    crash_and_check(srv, model, "DELETE with OR, then persist and compact")

    # DROP SERIES
    stmt(srv, "DROP SERIES FROM mem WHERE host = 'c'")
    model.delete(lambda m, h, r, t: m == "mem" and h == "c")
    crash_and_check(srv, model, "DROP SERIES FROM mem WHERE host = 'c'")

    # points written after a DELETE are kept, also when they fall in its range
    body, m = point_lines("cpu", "a", ("east",), BASE, BASE + HOUR, 1200 * NS, lambda h, r, t: 42)
    check_eq(srv.write_v1(DB, body).status, 204, "re-write cpu host=a after the delete")
    model.add(m)
    crash_and_check(srv, model, "points written after DELETE")

    # DROP MEASUREMENT, then the same name with another field type starts fresh
    stmt(srv, "DROP MEASUREMENT disk")
    model.delete(lambda m, h, r, t: m == "disk")
    check("disk" not in measurements(srv), "SHOW MEASUREMENTS after DROP MEASUREMENT",
          measurements(srv))
    r = srv.get("/api/v3/query_sql", params={"db": DB, "q": "SELECT count(*) AS n FROM disk"})
    check(r.status >= 400, "SQL no longer sees the dropped table", r.text[:200])
    crash_and_check(srv, model, "DROP MEASUREMENT disk")
    body, m = point_lines("disk", "z", ("north",), BASE + HOUR, BASE + 2 * HOUR, 1800 * NS,
                          lambda h, r, t: 5, ftype="i")
    check_eq(srv.write_v1(DB, body).status, 204, "write disk again with an integer field")
    model.add(m)
    crash_and_check(srv, model, "disk re-created")
    check_eq(srv.post("/api/sluice/persist").status, 204, "persist the new disk")
    crash_and_check(srv, model, "disk re-created and persisted")

    # v3 table delete
    r = srv.request("DELETE", "/api/v3/configure/table", params={"db": DB, "table": "mem"})
    check_eq(r.status, 200, "DELETE /api/v3/configure/table")
    model.delete(lambda m, h, r, t: m == "mem")
    r = srv.request("DELETE", "/api/v3/configure/table", params={"db": DB, "table": "mem"})
    check_eq(r.status, 404, "deleting it again: 404")
    check("mem" not in measurements(srv), "mem is gone from SHOW MEASUREMENTS")
    crash_and_check(srv, model, "v3 table delete")

    # errors InfluxDB 1.x gives too
    for query, want in (("DELETE FROM cpu WHERE v > 1", "fields not supported"),
                        ("DROP SERIES FROM cpu WHERE time > 0", "time"),
                        ("DELETE FROM cpu WHERE host = 'a' OR time > 0", "AND")):
        r = q(srv, query, method="POST")
        res = r.json()["results"][0]
        check(want in res.get("error", ""), f"{query}: error mentioning {want!r}", res)
    r = q(srv, "DELETE FROM cpu WHERE host = 'b'", method="POST")
    check_eq(r.status, 200, "DELETE with the operator token")
    model.delete(lambda m, h, r, t: m == "cpu" and h == "b")
    # a token without write permission may not delete
    r = srv.post("/api/v3/configure/token", json.dumps(
        {"token_name": "reader", "permissions": [
            {"resource_type": "db", "resource_names": [DB], "actions": ["read"]}]}).encode(),
        headers={"Content-Type": "application/json"})
    if r.status in (200, 201):
        tok = r.json()["token"]
        r = srv.post("/query", urllib.parse.urlencode(
            {"q": "DELETE FROM cpu WHERE host = 'c'", "db": DB}).encode(), token=tok,
            headers={"Content-Type": "application/x-www-form-urlencoded"})
        body = r.text
        check(r.status in (401, 403) or "not authorized" in body,
              "DELETE with a read-only token is refused", body[:300])
    crash_and_check(srv, model, "final")
    srv.close()


def test_against_influxd():
    """The same statements on InfluxDB 1.6 leave the same rows."""
    harness.need_tool("influxd")
    import test_influxql_diff as diff
    ref = diff.Influxd()
    try:
        srv = harness.Server()
        model = Model()
        base_ref = f"http://127.0.0.1:{ref.port}"

        def both(query):
            st1, r1 = diff.http(base_ref + "/query?" + urllib.parse.urlencode(
                {"q": query, "db": DB}), method="POST")
            r2 = q(srv, query, method="POST")
            e1 = "error" in json.loads(r1)["results"][0]
            e2 = "error" in r2.json()["results"][0]
            check_eq(e2, e1, f"{query}: error on sluice iff on influxd ({r1[:200]!r})")

        both(f"CREATE DATABASE {DB}")
        for meas in ("cpu", "mem"):
            body, m = point_lines(meas, "abc", ("east", "west"), BASE, BASE + 3 * HOUR, 900 * NS,
                                  lambda h, r, t: (t - BASE) // NS + ord(h))
            st, _ = diff.http(base_ref + f"/write?db={DB}", method="POST", body=body)
            check_eq(st, 204, f"influxd write {meas}")
            check_eq(srv.write_v1(DB, body).status, 204, f"sluice write {meas}")
        check_eq(srv.post("/api/sluice/persist").status, 204, "persist")
        for query in ("DELETE FROM cpu WHERE host = 'a'",
                      f"DELETE FROM cpu WHERE time >= {BASE + HOUR} AND time < {BASE + 2 * HOUR}",
                      "DELETE FROM mem WHERE region = 'west' AND host =~ /[bc]/",
                      f"DELETE WHERE time < {BASE + 1800 * NS}",
                      "DROP SERIES FROM mem WHERE host = 'a'",
                      "DELETE FROM mem WHERE nosuchtag = ''",
                      "DELETE FROM cpu WHERE v > 1",
                      "DROP SERIES FROM cpu WHERE time > 0",
                      "DROP MEASUREMENT nosuch"):
            both(query)
            for meas in ("cpu", "mem"):
                st, body = diff.http(base_ref + "/query?" + urllib.parse.urlencode(
                    {"q": f"SELECT * FROM {meas}", "db": DB, "epoch": "ns"}))
                res = json.loads(body)["results"][0]
                want = sorted((d["host"], d["region"], d["time"], d["v"])
                              for s in res.get("series", [])
                              for d in (dict(zip(s["columns"], row)) for row in s["values"]))
                got = stored(srv, meas)
                check(got == want, f"after {query}: {meas} rows equal influxd's",
                      f"{len(got)} vs {len(want)}")
        srv.kill9()
        srv.start()
        for meas in ("cpu", "mem"):
            st, body = diff.http(base_ref + "/query?" + urllib.parse.urlencode(
                {"q": f"SELECT * FROM {meas}", "db": DB, "epoch": "ns"}))
            res = json.loads(body)["results"][0]
            want = sorted((d["host"], d["region"], d["time"], d["v"])
                          for s in res.get("series", [])
                          for d in (dict(zip(s["columns"], row)) for row in s["values"]))
            check(stored(srv, meas) == want, f"after kill -9: {meas} rows equal influxd's")
        srv.close()
    finally:
        ref.close()


# ---------------------------------------------------------------- SHOW after deletes

SHOWS = (
    "SHOW MEASUREMENTS",
    "SHOW MEASUREMENTS WITH MEASUREMENT =~ /c|m/",
    "SHOW MEASUREMENTS WHERE host = 'a'",
    "SHOW SERIES",
    "SHOW SERIES FROM cpu",
    "SHOW TAG KEYS",
    "SHOW TAG KEYS FROM cpu",
    "SHOW TAG KEYS WHERE host = 'b'",
    f"SHOW TAG KEYS FROM cpu WHERE time > {BASE + HOUR}",
    "SHOW TAG KEYS FROM cpu LIMIT 1 OFFSET 1",
    "SHOW FIELD KEYS",
    "SHOW FIELD KEYS FROM cpu",
    'SHOW TAG VALUES WITH KEY = "host"',
    'SHOW TAG VALUES FROM cpu WITH KEY IN ("host", "region")',
    "SELECT count(v) FROM cpu",
)

# cpu: series host=a,region=e (with a field w of its own) and host=b (no
# region) in two hours; mem and disk beside it
SHOW_DATA = "\n".join([
    f"cpu,host=a,region=e v=1,w=0 {BASE}", f"cpu,host=a,region=e v=2 {BASE + 10 * NS}",
    f"cpu,host=a,region=e v=3 {BASE + HOUR + 10 * NS}",
    f"cpu,host=b v=4 {BASE + 20 * NS}", f"cpu,host=b v=5 {BASE + HOUR + 20 * NS}",
    f"mem,host=a,dc=x f=1i {BASE}", f"mem,host=c,dc=y f=2i {BASE + 5 * NS}",
    f'disk,host=z s="x" {BASE + HOUR}']).encode()

# (what, statements): each runs on a fresh copy of SHOW_DATA
SHOW_CASES = (
    ("whole measurement", ["DELETE FROM cpu"]),
    ("one series by tag", ["DELETE FROM cpu WHERE host = 'a'"]),
    ("every series by tag, one at a time",
     ["DELETE FROM cpu WHERE host = 'a'", "DELETE FROM cpu WHERE host = 'b'"]),
    ("DROP SERIES of one series", ["DROP SERIES FROM cpu WHERE host = 'a'"]),
    ("DROP SERIES of the measurement", ["DROP SERIES FROM cpu"]),
    ("a time range covering the measurement",
     [f"DELETE FROM cpu WHERE time >= {BASE} AND time <= {BASE + HOUR + 20 * NS}"]),
    ("a time range covering part of each series", [f"DELETE FROM cpu WHERE time < {BASE + HOUR}"]),
    ("a time range covering one series",
     [f"DELETE FROM cpu WHERE time < {BASE + HOUR + 15 * NS} AND region = 'e'"]),
    ("everything by time", [f"DELETE WHERE time < {BASE + 2 * HOUR}"]),
    ("one host in every measurement", ["DELETE WHERE host = 'a'"]),
    ("a regex FROM", ["DELETE FROM /^c/"]),
    ("a time range selecting nothing", [f"DELETE FROM cpu WHERE time > {BASE + 3 * HOUR}"]),
    ("a tag predicate selecting nothing", ["DELETE FROM cpu WHERE host = 'nope'"]),
)


def test_show_after_delete_against_influxd():
    """After deletes, SHOW MEASUREMENTS / SERIES / TAG KEYS / FIELD KEYS /
    TAG VALUES answer as InfluxDB 1.6 does: a series whose every point is
    gone is no longer listed, a measurement without series neither (its
    field types are still enforced) — with the rows in the buffer, in
    Parquet files, after persisting and after a restart."""
    harness.need_tool("influxd")
    import test_influxql_diff as diff
    ref = diff.Influxd()
    try:
        srv = harness.Server()
        base_ref = f"http://127.0.0.1:{ref.port}"

        def ref_q(query, db):
            st, body = diff.http(base_ref + "/query?" + urllib.parse.urlencode(
                {"q": query, "db": db, "epoch": "ns"}), method="POST")
            check_eq(st, 200, f"influxd {query}")
            return json.loads(body)["results"][0]

        def ref_write(db, body):
            return diff.http(base_ref + f"/write?db={db}", method="POST", body=body)[0]

        def answer(res):
            return res.get("error") or res.get("series", [])

        def compare(dbs, want, what):
            for query in SHOWS:
                got = answer(q(srv, query, db=dbs, method="POST").json()["results"][0])
                check(got == want[query], f"{what}: {query}",
                      f"sluice {json.dumps(got)[:400]}\n  influxd {json.dumps(want[query])[:400]}")

        # sluice: one database per case and mode (rows in the buffer, or in
        # files when the statements run); influxd: one per case
        dbs = {}
        for mode in ("files", "buffer"):
            for i in range(len(SHOW_CASES)):
                db = dbs[(i, mode)] = f"s{i}_{mode}"
                stmt(srv, f"CREATE DATABASE {db}")
                check_eq(srv.write_v1(db, SHOW_DATA).status, 204, f"write {db}")
            if mode == "files":
                check_eq(srv.post("/api/sluice/persist").status, 204, "persist the files cases")
        for i in range(len(SHOW_CASES)):
            ref_q(f"CREATE DATABASE s{i}", "")
            check_eq(ref_write(f"s{i}", SHOW_DATA), 204, f"influxd write s{i}")
        for i, (what, stmts) in enumerate(SHOW_CASES):
            for s in stmts:
                res = ref_q(s, f"s{i}")
                check("error" not in res, f"influxd {s}", res)
                for mode in ("buffer", "files"):
                    res = q(srv, s, db=dbs[(i, mode)], method="POST").json()["results"][0]
                    check("error" not in res, f"{s} on {dbs[(i, mode)]}", res)
        want = {i: {query: answer(ref_q(query, f"s{i}")) for query in SHOWS}
                for i in range(len(SHOW_CASES))}
        for stage in ("right after the statements", "after persisting", "after kill -9 and restart"):
            if stage == "after persisting":
                check_eq(srv.post("/api/sluice/persist").status, 204, "persist after the statements")
            elif stage == "after kill -9 and restart":
                srv.kill9()
                srv.start()
            for i, (what, stmts) in enumerate(SHOW_CASES):
                for mode in ("buffer", "files"):
                    compare(dbs[(i, mode)], want[i], f"{what} ({mode}, {stage})")

        # the emptied measurement's field types still hold (1.6 keeps them
        # until DROP MEASUREMENT), and a write brings it back with only the
        # new series
        i = 0
        body = f'cpu,host=q v="str" {BASE}'.encode()
        st_ref = ref_write(f"s{i}", body)
        st = srv.write_v1(dbs[(i, "files")], body).status
        check_eq(st == 204, st_ref == 204, f"write of another field type after DELETE: {st} vs {st_ref}")
        body = f"cpu,host=q v=9 {BASE}".encode()
        check_eq(ref_write(f"s{i}", body), 204, "influxd write back")
        check_eq(srv.write_v1(dbs[(i, "files")], body).status, 204, "sluice write back")
        compare(dbs[(i, "files")], {query: answer(ref_q(query, f"s{i}")) for query in SHOWS},
                "written again after the delete")
        srv.close()
    finally:
        ref.close()


if __name__ == "__main__":
    harness.run([test_delete_statements, test_against_influxd,
                 test_show_after_delete_against_influxd])
