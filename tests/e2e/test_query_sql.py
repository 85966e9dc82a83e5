#!/usr/bin/env python3
"""test_query_sql.py — /api/v3/query_sql through the real server: every
output format (parsed back, parquet read by our own expectations of its
magic and by DuckDB when present), GET and POST with params, pushdown
correctness (the same rows with and without pushable predicates), dedup
across Parquet files and the buffer, per-database read permission, and
errors (bad SQL → 400 naming the problem, unknown database → 404).
"""

import csv
import io
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness as H  # noqa: E402

T0 = 1734602400  # 2024-12-19T10:00:00Z


def load(srv, db="sensors"):
    lines = []
    for m in range(180):
        for h in range(4):
            lines.append(f"cpu,host=h{h},region={'eu' if h % 2 else 'us'} usage={m + h}.5,"
                         f"n={m}i,ok={'true' if m % 2 else 'false'},msg=\"m, \\\"{m}\\\"\" "
                         f"{T0 + m * 60}")
    r = srv.write_v3(db, "\n".join(lines) + "\n", precision="second")
    H.check_eq(r.status, 204, "data written")


def q(srv, sql, fmt=None, db="sensors", method="GET", params=None, token=None):
    if method == "GET":
        p = {"db": db, "q": sql}
        if fmt:
            p["format"] = fmt
        if params is not None:
            p["params"] = json.dumps(params)
        return srv.get("/api/v3/query_sql", params=p, token=token)
    body = {"db": db, "q": sql}
    if fmt:
        body["format"] = fmt
    if params is not None:
        body["params"] = params
    return srv.post("/api/v3/query_sql", json.dumps(body),
                    headers={"Content-Type": "application/json"}, token=token)


def test_formats():
    srv = H.Server()
    load(srv)
    sql = "SELECT time, host, usage, n, ok, msg FROM cpu WHERE host = 'h1' ORDER BY time LIMIT 3"
    r = q(srv, sql)
    H.check_eq(r.status, 200, "json: 200")
    H.check_eq(r.header("Content-Type"), "application/json", "json content type")
    rows = r.json()
    H.check_eq(rows[0], {"time": "2024-12-19T10:00:00", "host": "h1", "usage": 1.5, "n": 0,
                         "ok": False, "msg": 'm, "0"'}, "json row objects, time as text")
    r = q(srv, sql, "jsonl", method="POST")
    H.check_eq(r.header("Content-Type"), "application/jsonl", "jsonl content type")
    H.check_eq([json.loads(x) for x in r.text.splitlines()], rows, "jsonl = json rows")
    r = q(srv, sql, "csv")
    H.check(r.header("Content-Type").startswith("text/csv"), "csv content type")
    got = list(csv.DictReader(io.StringIO(r.text)))
    H.check_eq(got[1], {"time": "2024-12-19T10:01:00", "host": "h1", "usage": "2.5", "n": "1",
                        "ok": "true", "msg": 'm, "1"'}, "csv quotes commas and quotes")
    r = q(srv, sql, "pretty")
    lines = r.text.splitlines()
    H.check(r.header("Content-Type").startswith("text/plain") and lines[0].startswith("+--") and
            "| time" in lines[1] and len(lines) == 7, "pretty is an ASCII table", r.text)
    r = q(srv, sql, "parquet")
    H.check_eq(r.header("Content-Type"), "application/vnd.apache.parquet", "parquet type")
    H.check(r.body[:4] == b"PAR1" and r.body[-4:] == b"PAR1", "parquet magic at both ends")
    r = q(srv, sql, "xml")
    H.check_eq(r.status, 400, "unknown format → 400")
    r = q(srv, "SELECT * FROM cpu WHERE usage > 1e9")
    H.check_eq((r.status, r.text), (200, "[]"), "no rows → []")


def test_params_and_post():
    srv = H.Server()
    load(srv)
    sql = "SELECT count(*) AS c FROM cpu WHERE host = $host AND time >= $start"
    p = {"host": "h2", "start": "2024-12-19T12:00:00Z"}
    for method in ("GET", "POST"):
        r = q(srv, sql, method=method, params=p)
        H.check_eq((r.status, r.json() if r.status == 200 else r.text), (200, [{"c": 60}]),
                   f"{method} with params")
    r = q(srv, sql, params={"host": "h2"})
    H.check(r.status == 400 and "$start" in r.json()["error"], "missing param → 400 naming it",
            r.text)
    r = srv.post("/api/v3/query_sql", "{not json", headers={"Content-Type": "application/json"})
    H.check_eq(r.status, 400, "malformed JSON body → 400")
    r = q(srv, "SHOW TABLES")
    H.check(r.status == 200 and {"table_catalog": "public", "table_schema": "iox",
                                 "table_name": "cpu", "table_type": "BASE TABLE"} in r.json(),
            "SHOW TABLES", r.text)
    r = q(srv, "SHOW COLUMNS FROM cpu")
    H.check(r.status == 200 and [c["column_name"] for c in r.json()] ==
            ["time", "host", "region", "usage", "n", "ok", "msg"], "SHOW COLUMNS", r.text)
    r = q(srv, "EXPLAIN SELECT usage FROM cpu WHERE host = 'h1' AND time >= now() - "
               "INTERVAL '1 hour'")
    H.check(r.status == 200 and "pushdown host=?" in r.json()[0]["plan"], "EXPLAIN shows pushdown",
            r.text)


PAIRS = [
    ("SELECT * FROM cpu WHERE time >= '2024-12-19T10:30:00Z' AND time < '2024-12-19T12:10:00Z'",
     "SELECT * FROM cpu WHERE time + 0 >= 1734604200000000000 AND time + 0 < 1734610200000000000"),
    ("SELECT * FROM cpu WHERE host IN ('h0', 'h3') AND region = 'us'",
     "SELECT * FROM cpu WHERE host || '' IN ('h0', 'h3') AND region || '' = 'us'"),
    ("SELECT host, usage FROM cpu WHERE time = '2024-12-19T11:11:00Z'",
     "SELECT host, usage FROM cpu WHERE time + 0 = 1734606660000000000"),
    ("SELECT date_bin(INTERVAL '15 minutes', time) AS b, host, avg(usage) AS a, max(n) AS m "
     "FROM cpu WHERE time BETWEEN '2024-12-19T10:07:00Z' AND '2024-12-19T12:07:00Z' GROUP BY b, host",
     "SELECT date_bin(INTERVAL '15 minutes', time) AS b, host, avg(usage) AS a, max(n) AS m "
     "FROM cpu WHERE time + 0 BETWEEN 1734602820000000000 AND 1734610020000000000 GROUP BY b, host"),
]


def canon(rows):
    return sorted(rows, key=lambda r: json.dumps(r, sort_keys=True))


def test_pushdown_and_dedup():
    srv = H.Server()
    load(srv)

    def check_pairs(stage):
        for a, b in PAIRS:
            ra, rb = q(srv, a), q(srv, b)
            H.check(ra.status == rb.status == 200 and canon(ra.json()) == canon(rb.json()) and
                    len(ra.json()) > 0, f"{stage}: same rows with and without pushdown: {a[:60]}",
                    f"{ra.text[:200]} vs {rb.text[:200]}")
        r = q(srv, "SELECT time, usage FROM cpu WHERE host = 'h1' ORDER BY time DESC LIMIT 3")
        H.check_eq([x["time"] for x in r.json()], ["2024-12-19T12:59:00", "2024-12-19T12:58:00",
                                                   "2024-12-19T12:57:00"],
                   f"{stage}: ORDER BY time DESC LIMIT")

    check_pairs("buffer")
    r = srv.post("/api/sluice/persist", "")
    H.check_eq(r.status, 204, "persisted")
    check_pairs("files")
    # overwrite some rows (a field of each) after persisting: the buffer wins per field
    r = srv.write_v3("sensors", "cpu,host=h1,region=eu usage=1000 1734602400\n"
                                "cpu,region=eu,host=h1 n=77i 1734602460\n", precision="second")
    H.check_eq(r.status, 204, "overwrite written")
    check_pairs("files+buffer")
    r = q(srv, "SELECT time, usage, n, ok FROM cpu WHERE host = 'h1' ORDER BY time LIMIT 2")
    H.check_eq(r.json(), [{"time": "2024-12-19T10:00:00", "usage": 1000.0, "n": 0, "ok": False},
                          {"time": "2024-12-19T10:01:00", "usage": 2.5, "n": 77, "ok": True}],
               "dedup across file and buffer merges fields, newest wins")
    r = q(srv, "SELECT count(*) AS c FROM cpu")
    H.check_eq(r.json(), [{"c": 720}], "no duplicate rows after overwrite")
    srv.post("/api/sluice/persist", "")
    r = q(srv, "SELECT count(*) AS c, sum(usage) AS s FROM cpu WHERE host = 'h1'")
    H.check_eq(r.json()[0]["c"], 180, "dedup across two files")


def test_permissions_and_errors():
    srv = H.Server()
    load(srv, "dba")
    load(srv, "dbb")

    def mk(name, dbs, actions):
        r = srv.post("/api/v3/configure/token", json.dumps(
            {"token_name": name, "permissions": [
                {"resource_type": "db", "resource_names": dbs, "actions": actions}]}),
            headers={"Content-Type": "application/json"})
        return r.json().get("token", "")

    ra = mk("read-a", ["dba"], ["read"])
    wa = mk("write-a", ["dba"], ["write"])
    r = q(srv, "SELECT count(*) AS c FROM cpu", db="dba", token=ra)
    H.check_eq((r.status, r.json()), (200, [{"c": 720}]), "read token reads its database")
    r = q(srv, "SELECT count(*) AS c FROM cpu", db="dbb", token=ra)
    H.check_eq(r.status, 403, "read token for dba cannot query dbb")
    r = q(srv, "SELECT count(*) AS c FROM cpu", db="dbb", token=ra, method="POST")
    H.check_eq(r.status, 403, "... nor by POST")
    r = q(srv, "SELECT count(*) AS c FROM cpu", db="dba", token=wa)
    H.check_eq(r.status, 403, "write-only token cannot query")
    r = srv.get("/api/v3/query_sql", params={"db": "dba", "q": "SELECT 1"}, auth=False)
    H.check_eq(r.status, 401, "no token → 401")
    r = q(srv, "SELECT count(*) AS c FROM cpu", db="nope")
    H.check_eq(r.status, 404, "unknown database → 404")
    for sql, word in [("SELEC * FROM cpu", "syntax error"), ("SELECT * FROM nope", "nope"),
                      ("SELECT nope FROM cpu", "nope"),
                      ("SELECT * FROM cpu WHERE time > now() - INTERVAL '1 month'", "month"),
                      ("SELECT 'unterminated", "unterminated"),
                      ("DELETE FROM cpu", "may not be modified"),
                      ("SELECT 1; SELECT 2", "one statement")]:
        r = q(srv, sql, db="dba")
        H.check(r.status == 400 and word in r.json().get("error", ""),
                f"bad SQL → 400 naming the problem: {sql}", r.text)
    r = srv.get("/api/v3/query_sql", params={"db": "dba"})
    H.check_eq(r.status, 400, "missing q → 400")
    # hostile input: huge, deeply nested, binary, many IN values
    r = q(srv, "SELECT " + "1+" * 600000 + "1", db="dba", method="POST")
    H.check_eq(r.status, 400, "a query over 1 MiB → 400")
    r = q(srv, "SELECT " + "(" * 5000 + "1" + ")" * 5000, db="dba", method="POST")
    H.check_eq(r.status, 400, "5000 nested parentheses → 400")
    r = q(srv, "SELECT \x00\xff\xfe garbage", db="dba", method="POST")
    H.check_eq(r.status, 400, "control bytes → 400")
    r = srv.post("/api/v3/query_sql", b'{"db":"dba","q":"SELECT \xff\xfe"}',
                 headers={"Content-Type": "application/json"})
    H.check_eq(r.status, 400, "invalid UTF-8 in the JSON body → 400")
    vals = ",".join(f"'h{i}'" for i in range(20000))
    r = q(srv, f"SELECT count(*) AS c FROM cpu WHERE host IN ({vals})", db="dba", method="POST")
    H.check_eq((r.status, r.json() if r.status == 200 else r.text), (200, [{"c": 720}]),
               "20000 IN values")
    r = q(srv, "SELECT count(*) AS c FROM cpu a JOIN cpu b ON a.time = b.time AND a.host = b.host "
               "WHERE a.host = 'h1'", db="dba")
    H.check_eq((r.status, r.json() if r.status == 200 else r.text), (200, [{"c": 180}]),
               "self-join on time and tag")
    r = srv.request("PUT", "/api/v3/query_sql", "")
    H.check_eq(r.status, 405, "PUT → 405")


if __name__ == "__main__":
    H.run([test_formats, test_params_and_post, test_pushdown_and_dedup,
           test_permissions_and_errors])
