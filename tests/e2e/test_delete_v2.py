"""test_delete_v2.py — POST /api/v2/delete (InfluxDB 2.x's delete API) against
a real `sluice serve`.

Points of two measurements (cpu, mem), three hosts and two regions are written
through /api/v2/write into bucket "dv2" (and the same points into bucket
"other", which no deletion names), some persisted to Parquet and some only in
the buffer. Deletions with various predicates and time ranges — both ends
included, as in 2.x, checked on points that sit exactly on start and stop —
by bucket name, by bucketID and by a 1.x client's "db/autogen" name are
applied to a Python model; after each, InfluxQL SELECTs must return exactly
the model's rows. Then the server is killed with SIGKILL and restarted (WAL
replay), the data persisted and the server restarted again: still exactly the
model. Error cases: 400 (missing or malformed start/stop, bad predicates,
start after stop, no bucket), 401 (no or wrong token), 403 (a read-only
token), 404 (unknown bucket name or id), 405 and 501 (_field), each with
2.x's JSON body {"code", "message"}, and none of them changes any data.
"""

import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from harness import check, check_eq  # noqa: E402

NS = 1_000_000_000
BASE = 1_700_000_000 * NS - (1_700_000_000 * NS) % (3600 * NS)  # an hour boundary
STEP = 60 * NS
BUCKET, OTHER = "dv2", "other"
MEAS = ("cpu", "mem")


def iso(t, offset_min=0):
    """RFC 3339 with nanoseconds (what 2.x clients send), in UTC or at an offset."""
    import datetime
    s, ns = divmod(t, NS)
    tz = datetime.timezone(datetime.timedelta(minutes=offset_min))
    d = datetime.datetime.fromtimestamp(s, tz)
    zone = "Z" if offset_min == 0 else d.strftime("%z")[:3] + ":" + d.strftime("%z")[3:]
    return d.strftime("%Y-%m-%dT%H:%M:%S") + (f".{ns:09d}" if ns else "") + zone


class Model:
    """(bucket, meas, host, region, t) -> value"""

    def __init__(self):
        self.pts = {}

    def delete(self, bucket, t0, t1, pred):
        self.pts = {k: v for k, v in self.pts.items()
                    if not (k[0] == bucket and t0 <= k[4] <= t1 and pred(*k[1:4]))}

    def rows(self, bucket, meas):
        return sorted((h, r, t, v) for (b, m, h, r, t), v in self.pts.items()
                      if b == bucket and m == meas)


def write(srv, model, t0, t1, value):
    for bucket in (BUCKET, OTHER):
        lines = []
        for m in MEAS:
            for h in "abc":
                for r in ("east", "west"):
                    t = t0
                    while t < t1:
                        v = value(m, h, r, t)
                        lines.append(f"{m},host={h},region={r} v={v} {t}")
                        model.pts[(bucket, m, h, r, t)] = v
                        t += STEP
        check_eq(srv.write_v2(bucket, "\n".join(lines)).status, 204,
                 f"write {len(lines)} points to {bucket}")


def parquet_files(srv):
    return [f for root, _, fs in os.walk(os.path.join(srv.data_dir, "dbs")) for f in fs
            if f.endswith(".parquet")]


def stored(srv, bucket, meas):
    r = srv.get("/query", params={"db": bucket, "q": f'SELECT * FROM "{meas}"', "epoch": "ns"})
    if r.status != 200:
        return f"status {r.status}: {r.text[:200]}"
    res = r.json()["results"][0]
    if "error" in res:
        return res["error"]
    out = []
    for s in res.get("series", []):
        for row in s["values"]:
            d = dict(zip(s["columns"], row))
            out.append((d.get("host") or "", d.get("region") or "", d["time"], d["v"]))
    return sorted(out)


def verify(srv, model, what):
    for bucket in (BUCKET, OTHER):
        for m in MEAS:
            got, want = stored(srv, bucket, m), model.rows(bucket, m)
            if isinstance(got, str):
                check(False, f"{what}: {bucket}.{m} query", got)
                continue
            gs, ws = set(got), set(want)
            check(got == want, f"{what}: {bucket}.{m} has exactly the model's {len(want)} rows",
                  f"{len(got)} rows; extra {sorted(gs - ws)[:4]}, missing {sorted(ws - gs)[:4]}")


def delete(srv, body, bucket=BUCKET, params=None, token=None, auth=True, raw=None):
    p = {"org": "myorg"}
    if bucket is not None:
        p["bucket"] = bucket
    p.update(params or {})
    data = raw if raw is not None else json.dumps(body)
    return srv.post("/api/v2/delete", data, params=p, token=token, auth=auth,
                    headers={"Content-Type": "application/json"})


def expect_error(r, status, code, needle, what):
    check_eq(r.status, status, f"{what}: status {status}")
    try:
        j = r.json()
    except ValueError:
        j = {}
    check(j.get("code") == code and needle in j.get("message", ""),
          f"{what}: body code {code!r}, message mentions {needle!r}", r.text[:300])


def test_delete_semantics():
    srv = harness.Server()
    model = Model()
    # hour 0 persisted to Parquet, hour 1 buffered only
    write(srv, model, BASE, BASE + 3600 * NS, lambda m, h, r, t: (t - BASE) // STEP)
    check_eq(srv.post("/api/sluice/persist").status, 204, "persist hour 0")
    check(len(parquet_files(srv)) >= 4, "hour 0 is in Parquet files", parquet_files(srv))
    write(srv, model, BASE + 3600 * NS, BASE + 7200 * NS, lambda m, h, r, t: 1000 + (t - BASE) // STEP)
    verify(srv, model, "loaded")

    # 1. measurement and tag, a range spanning file and buffer; both ends are points
    t0, t1 = BASE + 50 * STEP, BASE + 70 * STEP
    r = delete(srv, {"start": iso(t0), "stop": iso(t1),
                     "predicate": '_measurement="cpu" AND host="a"'})
    check_eq(r.status, 204, "delete cpu host=a over minutes 50-70")
    check_eq(r.body, b"", "204 has no body")
    model.delete(BUCKET, t0, t1, lambda m, h, r_: m == "cpu" and h == "a")
    check(("a", "east", t0, 50) not in model.rows(BUCKET, "cpu"), "model drops the start point")
    check(("a", "east", t0 - STEP, 49) in model.rows(BUCKET, "cpu"), "model keeps the one before")
    verify(srv, model, "after cpu host=a (inclusive range)")

    # 2. one tag over every measurement, unquoted value, lower-case and; offsets in the times
    t0, t1 = BASE + 10 * STEP, BASE + 100 * STEP
    r = delete(srv, {"start": iso(t0, -330), "stop": iso(t1, 120),
                     "predicate": "region=west and host=b"})
    check_eq(r.status, 204, "delete region=west host=b in every measurement (+02:00 stop)")
    model.delete(BUCKET, t0, t1, lambda m, h, r_: r_ == "west" and h == "b")
    verify(srv, model, "after region=west and host=b")

    # 3. empty predicate: every series of the bucket, a window of one nanosecond
    t0 = BASE + 5 * STEP
    r = delete(srv, {"start": iso(t0), "stop": iso(t0), "predicate": ""})
    check_eq(r.status, 204, "delete everything at one instant")
    model.delete(BUCKET, t0, t0, lambda m, h, r_: True)
    # no predicate at all, through the 1.x "db/autogen" name; a range with no point inside
    r = delete(srv, {"start": iso(BASE + 6 * STEP + 1), "stop": iso(BASE + 7 * STEP - 1)},
               bucket=BUCKET + "/autogen")
    check_eq(r.status, 204, "delete with no predicate between two points (db/autogen)")
    verify(srv, model, "after the one-instant delete")

    # 4. parentheses, a double-quoted key, bucketID
    bl = srv.get("/api/v2/buckets", params={"name": BUCKET}).json().get("buckets", [])
    bid = bl[0]["id"] if bl else "missing"
    t0, t1 = BASE + 3600 * NS, BASE + 7200 * NS - STEP
    r = delete(srv, {"start": iso(t0), "stop": iso(t1),
                     "predicate": '("_measurement"="mem") AND ("host"="c" AND region="east")'},
               bucket=None, params={"bucketID": bid, "orgID": "0000000000000001"})
    check_eq(r.status, 204, "delete mem host=c region=east over hour 1 by bucketID")
    model.delete(BUCKET, t0, t1, lambda m, h, r_: m == "mem" and h == "c" and r_ == "east")
    verify(srv, model, "after the bucketID delete")

    # 5. a tag value no series has, and a tag key no series has: nothing goes
    r = delete(srv, {"start": iso(BASE), "stop": iso(BASE + 7200 * NS),
                     "predicate": 'host="zzz" AND _measurement="cpu"'})
    check_eq(r.status, 204, "delete of an absent tag value")
    r = delete(srv, {"start": iso(BASE), "stop": iso(BASE + 7200 * NS),
                     "predicate": 'rack="r1"'})
    check_eq(r.status, 204, "delete of an absent tag key")
    verify(srv, model, "after deletes that select nothing")

    # 6. durability: kill -9 and WAL replay, then persist, then a clean restart
    srv.kill9()
    srv.start()
    verify(srv, model, "after kill -9 and restart")
    check_eq(srv.post("/api/sluice/persist").status, 204, "persist everything")
    n_files = len(parquet_files(srv))
    # a deletion of rows that now live only in Parquet files
    t0, t1 = BASE + 3600 * NS + 30 * STEP, BASE + 3600 * NS + 40 * STEP
    r = delete(srv, {"start": iso(t0), "stop": iso(t1), "predicate": '_measurement="mem"'})
    check_eq(r.status, 204, "delete mem in persisted hour 1")
    model.delete(BUCKET, t0, t1, lambda m, h, r_: m == "mem")
    verify(srv, model, "after a delete in Parquet files")
    check(len(parquet_files(srv)) >= 4 and n_files >= 4, "the data was in Parquet files",
          (n_files, parquet_files(srv)))
    # points written after a delete stay
    check_eq(srv.write_v2(BUCKET, f"mem,host=a,region=east v=-1 {t0}").status, 204,
             "rewrite a deleted point")
    model.pts[(BUCKET, "mem", "a", "east", t0)] = -1
    srv.restart()
    verify(srv, model, "after persist, delete and restart")
    srv.kill9()
    srv.start()
    verify(srv, model, "after another kill -9")
    # a whole measurement over all time (the widest range 2.x accepts)
    r = delete(srv, {"start": "1677-09-21T00:12:43.145224194Z",
                     "stop": "2262-04-11T23:47:16.854775806Z",
                     "predicate": '_measurement="cpu"'})
    check_eq(r.status, 204, "delete cpu over all time")
    model.delete(BUCKET, -2**63, 2**63, lambda m, h, r_: m == "cpu")
    srv.kill9()
    srv.start()
    verify(srv, model, "after deleting cpu entirely and kill -9")
    srv.close()


def test_errors():
    srv = harness.Server()
    model = Model()
    write(srv, model, BASE, BASE + 10 * STEP, lambda m, h, r, t: 1)
    ok = {"start": iso(BASE), "stop": iso(BASE + 3600 * NS)}

    expect_error(delete(srv, ok, auth=False), 401, "unauthorized", "unauthorized", "no token")
    expect_error(delete(srv, ok, token="not-a-token"), 401, "unauthorized", "unauthorized",
                 "wrong token")
    # read-only and write tokens for the bucket
    toks = {}
    for action in ("read", "write"):
        r = srv.post("/api/v2/authorizations", json.dumps({
            "orgID": "0000000000000001",
            "permissions": [{"action": action, "resource": {"type": "buckets", "name": BUCKET}}]}),
            headers={"Content-Type": "application/json"})
        check_eq(r.status, 201, f"create a {action} token")
        toks[action] = r.json().get("token", "") if r.status == 201 else ""
    expect_error(delete(srv, ok, token=toks["read"]), 403, "forbidden", BUCKET, "read-only token")
    expect_error(delete(srv, ok, bucket=OTHER, token=toks["write"]), 403, "forbidden", OTHER,
                 "write token of another bucket")
    expect_error(delete(srv, ok, bucket="nosuch"), 404, "not found", 'bucket "nosuch" not found',
                 "unknown bucket")
    expect_error(delete(srv, ok, bucket=None, params={"bucketID": "00000000000000ff"}), 404,
                 "not found", "not found", "unknown bucketID")
    expect_error(delete(srv, ok, bucket=None, params={"bucketID": "xyz"}), 400, "invalid",
                 "bucketID", "malformed bucketID")
    expect_error(delete(srv, ok, bucket=None), 400, "invalid", "bucket", "no bucket")
    expect_error(delete(srv, {"stop": ok["stop"]}), 400, "invalid", "start is required",
                 "missing start")
    expect_error(delete(srv, {"start": ok["start"]}), 400, "invalid", "stop is required",
                 "missing stop")
    expect_error(delete(srv, {"start": "2024-01-01", "stop": ok["stop"]}), 400, "invalid",
                 "RFC3339Nano for field start", "date-only start")
    expect_error(delete(srv, {"start": ok["start"], "stop": 1700000000}), 400, "invalid",
                 "RFC3339Nano for field stop", "numeric stop")
    expect_error(delete(srv, {"start": "2300-01-01T00:00:00Z", "stop": "2301-01-01T00:00:00Z"}),
                 400, "invalid", "must lie between", "start beyond 2262")
    expect_error(delete(srv, {"start": ok["stop"], "stop": ok["start"]}), 400, "invalid",
                 "is after stop", "start after stop")
    expect_error(delete(srv, None, raw="{not json"), 400, "invalid", "JSON", "malformed JSON")
    expect_error(delete(srv, None, raw="[]"), 400, "invalid", "object", "JSON array body")
    for pred, needle in (('host="a" OR host="b"', "OR"),
                         ('host!="a"', "operator !="),
                         ("host=~/a/", "operator =~"),
                         ("host='a'", "double quotes"),
                         ('host="a" AND', "AND without a right side"),
                         ('(host="a"', "missing )"),
                         ('_value="1"', "_value"),
                         ('_time="2024-01-01T00:00:00Z"', "start and stop")):
        expect_error(delete(srv, dict(ok, predicate=pred)), 400, "invalid", needle,
                     f"predicate {pred}")
    expect_error(delete(srv, dict(ok, predicate=5)), 400, "invalid", "string", "numeric predicate")
    expect_error(delete(srv, dict(ok, predicate='_measurement="cpu" AND _field="v"')), 501,
                 "not implemented", "delete by field is not supported", "_field predicate")
    r = srv.get("/api/v2/delete", params={"bucket": BUCKET})
    check_eq(r.status, 405, "GET /api/v2/delete → 405")
    verify(srv, model, "after the refused requests")
    # the write token may delete its bucket
    r = delete(srv, dict(ok, predicate='host="a"'), token=toks["write"])
    check_eq(r.status, 204, "write token deletes")
    model.delete(BUCKET, BASE, BASE + 3600 * NS, lambda m, h, r_: h == "a")
    verify(srv, model, "after the write token's delete")
    srv.close()


if __name__ == "__main__":
    harness.run([test_delete_semantics, test_errors])
