"""test_storage_retention.py — database management and retention through the real server.

* v3 /api/v3/configure/database: list, create with retention_period, update
  (PUT and PATCH), delete; errors for duplicates, bad durations, unknown dbs.
* v2 /api/v2/buckets: the seeds' curl example (POST with retentionRules),
  list by name, get by id, patch, delete; /api/v2/orgs.
* Writes older than the retention period: a distinct, clearly worded outcome
  on each write API (v1 400 "points beyond retention policy", v2 422 with the
  same phrase, v3 400 naming the retention period, never "parsing failed").
* Expired rows are invisible at once (shortening the retention hides them
  without waiting), and expired files are deleted (POST /api/sluice/compact
  enforces retention first).
"""

import json
import os
import shutil
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from harness import check, check_eq  # noqa: E402

NS = 1000000000


def jpost(srv, path, obj, method="POST"):
    return srv.request(method, path, json.dumps(obj).encode(),
                       headers={"Content-Type": "application/json"})


_UNITS = {"ns": 1e-9, "us": 1e-6, "µs": 1e-6, "ms": 1e-3, "s": 1, "m": 60, "h": 3600, "d": 86400,
          "w": 7 * 86400}


def seconds(text):
    """'1h0m0s', '2d', '12h' -> seconds (None stays None)."""
    if text is None:
        return None
    total, num = 0.0, ""
    i = 0
    while i < len(text):
        if text[i].isdigit() or text[i] == ".":
            num += text[i]
            i += 1
            continue
        unit = text[i:i + 2] if text[i:i + 2] in _UNITS else text[i]
        total += float(num) * _UNITS[unit]
        num = ""
        i += len(unit)
    return total


def v3_dbs(srv):
    """{name: retention in seconds or None}"""
    r = srv.get("/api/v3/configure/database", params={"format": "json"})
    if r.status != 200:
        return None
    return {d["iox::database"]: seconds(d.get("retention_period")) for d in r.json()}


def test_v3_databases():
    srv = harness.Server()
    r = jpost(srv, "/api/v3/configure/database", {"db": "r3", "retention_period": "1h"})
    check_eq(r.status, 200, "v3 create with retention_period")
    check_eq(jpost(srv, "/api/v3/configure/database", {"db": "plain"}).status, 200,
             "v3 create without retention")
    dbs = v3_dbs(srv)
    check(dbs is not None and dbs.get("r3") == 3600 and "plain" in dbs and dbs["plain"] is None,
          "v3 list shows both databases and their retention", dbs)
    r = jpost(srv, "/api/v3/configure/database", {"db": "r3"})
    check(r.status == 409 and "already exists" in r.text, "v3 duplicate create is 409", r)
    r = jpost(srv, "/api/v3/configure/database", {"db": "bad", "retention_period": "soon"})
    check(r.status == 400 and "retention_period" in r.text, "v3 bad duration is 400", r)
    r = jpost(srv, "/api/v3/configure/database", {"retention_period": "1d"})
    check_eq(r.status, 400, "v3 create without a name is 400")
    r = srv.request("POST", "/api/v3/configure/database", b"{not json",
                    headers={"Content-Type": "application/json"})
    check_eq(r.status, 400, "v3 malformed JSON is 400")
    r = jpost(srv, "/api/v3/configure/database", {"db": "r3", "retention_period": "2d"}, "PUT")
    check_eq(r.status, 200, "v3 PUT updates the retention")
    check_eq(v3_dbs(srv).get("r3"), 2 * 86400, "v3 list shows the new retention")
    r = jpost(srv, "/api/v3/configure/database", {"db": "r3", "retention_period": "12h"}, "PATCH")
    check_eq(r.status, 200, "v3 PATCH updates the retention")
    check_eq(v3_dbs(srv).get("r3"), 12 * 3600, "v3 list shows the patched retention")
    r = jpost(srv, "/api/v3/configure/database", {"db": "nope", "retention_period": "1h"}, "PUT")
    check_eq(r.status, 404, "v3 update of an unknown database is 404")
    r = srv.request("DELETE", "/api/v3/configure/database", params={"db": "r3"})
    check_eq(r.status, 200, "v3 DELETE")
    check("r3" not in v3_dbs(srv), "v3 list no longer shows the deleted database")
    r = srv.request("DELETE", "/api/v3/configure/database", params={"db": "r3"})
    check_eq(r.status, 404, "v3 DELETE of a deleted database is 404")
    r = srv.get("/api/v3/configure/database", auth=False)
    check_eq(r.status, 401, "v3 database management needs a token")
    srv.close()


def test_v2_buckets_and_orgs():
    srv = harness.Server()
    # the seeds' example, sent with curl when it is there (the same request otherwise)
    body = json.dumps({"name": "metrics-30d", "orgID": "YOUR_ORG_ID",
                       "retentionRules": [{"type": "expire", "everySeconds": 2592000}]})
    if shutil.which("curl"):
        out = subprocess.run(["curl", "-s", "-w", "\n%{http_code}", "-X", "POST",
                              f"{srv.url}/api/v2/buckets",
                              "-H", f"Authorization: Token {srv.token}",
                              "-H", "Content-Type: application/json", "-d", body],
                             capture_output=True, text=True, timeout=30)
        text, _, code = out.stdout.rpartition("\n")
        status, created = int(code), json.loads(text) if text.strip().startswith("{") else {}
    else:
        r = srv.request("POST", "/api/v2/buckets", body.encode(),
                        headers={"Content-Type": "application/json"})
        status, created = r.status, r.json()
    check_eq(status, 201, "seeds' curl bucket example: 201 Created")
    bid = created.get("id")
    check(created.get("name") == "metrics-30d" and bid and
          created.get("retentionRules", [{}])[0].get("everySeconds") == 2592000,
          "created bucket carries its id, name and retention", created)
    r = srv.get("/api/v2/buckets", params={"name": "metrics-30d"})
    bl = r.json().get("buckets", []) if r.status == 200 else []
    check(len(bl) == 1 and bl[0]["id"] == bid, "list buckets by name", r)
    r = srv.get("/api/v2/buckets", params={"name": "absent"})
    check(r.status == 200 and r.json().get("buckets") == [], "list by an unknown name is empty", r)
    r = srv.get(f"/api/v2/buckets/{bid}")
    check(r.status == 200 and r.json().get("name") == "metrics-30d", "get bucket by id", r)
    r = srv.request("POST", "/api/v2/buckets", body.encode(), headers={"Content-Type": "application/json"})
    check_eq(r.status, 422, "duplicate bucket is 422")
    r = jpost(srv, "/api/v2/buckets", {"name": "x", "retentionRules": [{"everySeconds": "soon"}]})
    check_eq(r.status, 400, "invalid retentionRules is 400")
    r = jpost(srv, f"/api/v2/buckets/{bid}",
              {"retentionRules": [{"type": "expire", "everySeconds": 3600}]}, "PATCH")
    check(r.status == 200 and r.json()["retentionRules"][0]["everySeconds"] == 3600,
          "patch bucket retention", r)
    dbs = v3_dbs(srv)
    check_eq(dbs.get("metrics-30d"), 3600, "the bucket is a database with the patched retention")
    r = jpost(srv, "/api/v2/buckets/ffffffffffffffff", {"retentionRules": []}, "PATCH")
    check_eq(r.status, 404, "patch of an unknown bucket is 404")
    # writes through v2 go to the bucket
    check_eq(srv.write_v2("metrics-30d", "m v=1").status, 204, "write to the bucket")
    r = srv.request("DELETE", f"/api/v2/buckets/{bid}")
    check_eq(r.status, 204, "delete bucket")
    r = srv.get("/api/v2/buckets", params={"name": "metrics-30d"})
    check(r.status == 200 and r.json().get("buckets") == [], "deleted bucket is gone", r)
    check_eq(srv.get(f"/api/v2/buckets/{bid}").status, 404, "get of a deleted bucket is 404")
    check_eq(srv.request("DELETE", f"/api/v2/buckets/{bid}").status, 404,
             "delete of a deleted bucket is 404")
    check_eq(srv.rows("metrics-30d", "m"), [], "a deleted bucket's rows are gone")
    r = srv.get("/api/v2/orgs")
    orgs = r.json().get("orgs", []) if r.status == 200 else []
    check(len(orgs) == 1 and orgs[0].get("id"), "/api/v2/orgs lists one organisation", r)
    r = srv.get("/api/v2/orgs", params={"org": "my-org"})
    check(r.status == 200 and r.json()["orgs"][0]["name"] == "my-org",
          "/api/v2/orgs?org= answers with that name", r)
    check_eq(srv.get("/api/v2/buckets", auth=False).status, 401, "buckets need a token")
    srv.close()


def test_retention_writes_and_expiry():
    srv = harness.Server()
    now = time.time_ns()
    jpost(srv, "/api/v3/configure/database", {"db": "short", "retention_period": "1h"})
    old = f"m,host=a v=1 {now - 2 * 3600 * NS}"
    fresh = f"m,host=a v=2 {now - 60 * NS}"
    # v1
    r = srv.write_v1("short", old + "\n" + fresh)
    check(r.status == 400 and "points beyond retention policy" in r.text and "dropped=1" in r.text,
          "v1: partial write, points beyond retention policy dropped=1", r)
    # v2: InfluxDB 2.x answers 422 with the same phrase
    r = srv.write_v2("short", old)
    check(r.status == 422 and "beyond retention policy" in r.text,
          "v2: 422 points beyond retention policy", r)
    # v3: a line error that names the retention period, not a parse failure
    r = srv.write_v3("short", old + "\n" + fresh)
    check(r.status == 400 and "retention period" in r.text and "parsing failed" not in r.text,
          "v3: rejected line names the retention period (partial write)", r)
    r = srv.write_v3("short", old)
    check(r.status == 400 and "retention period" in r.text and "parsing failed" not in r.text,
          "v3: all lines too old is not reported as a parse error", r)
    check_eq(len(srv.rows("short", "m")), 1, "only the fresh point was stored")

    # expired rows are invisible at once, expired files are deleted
    jpost(srv, "/api/v3/configure/database", {"db": "exp"})
    lines = [f"m,host=h{i} v={i} {now - 3 * 3600 * NS + i * NS}" for i in range(5)]
    lines += [f"m,host=h{i} v={10 + i} {now - 30 * 60 * NS + i * NS}" for i in range(5)]
    lines += [f"m,host=h{i} v={20 + i} {now - 60 * NS + i * NS}" for i in range(5)]
    check_eq(srv.write_v3("exp", "\n".join(lines)).status, 204, "write 15 points over 3 hours")
    check_eq(srv.post("/api/sluice/persist").status, 204, "persist")

    def files():
        out = []
        for d, _, names in os.walk(os.path.join(srv.data_dir, "dbs")):
            out += [os.path.join(d, n) for n in names if n.endswith(".parquet")]
        return out
    n_before = len(files())
    check(n_before >= 2, f"files in several partitions ({n_before})")
    check_eq(len(srv.rows("exp", "m")), 15, "all rows visible without retention")
    r = jpost(srv, "/api/v3/configure/database", {"db": "exp", "retention_period": "1h"}, "PUT")
    check_eq(r.status, 200, "shorten the retention to 1h")
    got = srv.rows("exp", "m")
    check(len(got) == 10 and all(x["v"] >= 10 for x in got),
          "rows older than 1h are invisible at once", len(got))
    r = jpost(srv, "/api/v3/configure/database", {"db": "exp", "retention_period": "10m"}, "PUT")
    got = srv.rows("exp", "m")
    check(len(got) == 5 and all(x["v"] >= 20 for x in got), "shorter again: 5 rows left", len(got))
    check_eq(srv.post("/api/sluice/compact").status, 204, "compact (enforces retention)")
    n_after = len(files())
    check(n_after < n_before, f"expired files deleted ({n_before} -> {n_after})")
    with open(os.path.join(srv.data_dir, "catalog.json")) as f:
        cat = f.read()
    check(all(os.path.relpath(p, srv.data_dir) in cat for p in files()),
          "every remaining file is in the catalog")
    srv.restart()
    got = srv.rows("exp", "m")
    check(len(got) == 5 and all(x["v"] >= 20 for x in got), "after restart: still 5 rows", len(got))
    srv.close()


if __name__ == "__main__":
    harness.run([test_v3_databases, test_v2_buckets_and_orgs, test_retention_writes_and_expiry])
