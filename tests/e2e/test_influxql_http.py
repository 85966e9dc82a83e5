#!/usr/bin/env python3
"""test_influxql_http.py — the InfluxQL endpoints over HTTP: v1 /query
(GET, POST form, missing q, parse and statement errors, epoch, pretty,
chunked with chunk_size, CSV via Accept, params, per-database read
permission, CREATE/DROP DATABASE with a retention, DROP MEASUREMENT, DELETE
refused) and v3 /api/v3/query_influxql (GET and POST JSON; json, jsonl,
csv, pretty), plus hostile input (oversized and deeply nested queries,
bad parameters, binary garbage) that must give clean 4xx answers.
"""
import json
import os
import sys
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness as H  # noqa: E402
from harness import check, check_eq, run  # noqa: E402

LP = """cpu,host=a v=1.5,i=1i 1704067200000000000
cpu,host=a v=2.5,i=2i 1704067260000000000
cpu,host=b v=4,i=3i 1704067200000000000
"""


def setup():
    srv = H.Server()
    r = srv.post("/query", params={"q": "CREATE DATABASE db1"})
    check_eq(r.status, 200, "CREATE DATABASE db1")
    check_eq(srv.write_v1("db1", LP).status, 204, "write db1")
    check_eq(srv.write_v1("db2", "x v=1 1").status, 204, "write db2")
    return srv


def q(srv, query, method="GET", **params):
    params["q"] = query
    if method == "GET":
        return srv.get("/query", params=params)
    return srv.post("/query", urllib.parse.urlencode(params).encode(),
                    headers={"Content-Type": "application/x-www-form-urlencoded"})


def test_v1_basics():
    srv = setup()
    r = srv.get("/query", params={"db": "db1"})
    check_eq((r.status, r.json()), (400, {"error": 'missing required parameter "q"'}),
             "missing q: 400 with 1.x's message")
    for m in ("GET", "POST"):
        r = q(srv, "SELECT v FROM cpu WHERE host = 'a'", m, db="db1")
        check_eq(r.json(), {"results": [{"statement_id": 0, "series": [
            {"name": "cpu", "columns": ["time", "v"],
             "values": [["2024-01-01T00:00:00Z", 1.5], ["2024-01-01T00:01:00Z", 2.5]]}]}]},
                 f"{m}: SELECT result")
    r = q(srv, "SELECT FROM cpu", db="db1")
    check(r.status == 400 and r.json()["error"].startswith("error parsing query: "),
          "a syntax error is a 400 with 'error parsing query'", r.text)
    r = q(srv, "SELECT mean(v), v FROM cpu; SELECT count(v) FROM cpu", db="db1")
    j = r.json()
    check(r.status == 200 and "error" in j["results"][0] and
          j["results"][1]["series"][0]["values"] == [["1970-01-01T00:00:00Z", 3]],
          "a statement error is per statement, HTTP 200", j)
    r = q(srv, "SELECT v FROM cpu WHERE host = 'b'", db="db1", epoch="ms")
    check_eq(r.json()["results"][0]["series"][0]["values"], [[1704067200000, 4]], "epoch=ms")
    r = q(srv, "SELECT v FROM cpu WHERE host = 'b'", db="db1", epoch="h")
    check_eq(r.json()["results"][0]["series"][0]["values"], [[473352, 4]], "epoch=h")
    r = q(srv, "SELECT v FROM cpu WHERE host = 'b'", db="db1", pretty="true")
    check(r.text.startswith('{\n    "results": [\n        {\n            "statement_id": 0,'),
          "pretty=true indents like 1.x", r.text[:200])
    check_eq(json.loads(r.text)["results"][0]["series"][0]["values"],
             [["2024-01-01T00:00:00Z", 4]], "pretty output is the same JSON")
    r = q(srv, "SELECT v FROM cpu", db="db1", chunked="true", chunk_size="2")
    lines = [json.loads(x) for x in r.text.splitlines() if x.strip()]
    check_eq(len(lines), 2, "chunked: 3 rows in chunks of 2 give 2 documents")
    check(lines[0]["results"][0]["series"][0].get("partial") is True and
          "partial" not in lines[1]["results"][0], "chunked: partial flags", lines)
    r = q(srv, "SELECT v FROM cpu WHERE v > $min AND host = $h", db="db1",
          params=json.dumps({"min": 2, "h": "a"}))
    check_eq(r.json()["results"][0]["series"][0]["values"], [["2024-01-01T00:01:00Z", 2.5]],
             "bound parameters")
    r = q(srv, "SELECT v FROM cpu WHERE v > $min", db="db1")
    check("missing parameter" in r.json()["results"][0].get("error", ""),
          "an unbound parameter is a statement error", r.text)
    r = srv.get("/query", params={"q": "SELECT v, i FROM cpu GROUP BY host", "db": "db1"},
                headers={"Accept": "application/csv"})
    check_eq(r.text, "name,tags,time,v,i\ncpu,host=a,1704067200000000000,1.5,1\n"
             "cpu,host=a,1704067260000000000,2.5,2\ncpu,host=b,1704067200000000000,4,3\n",
             "Accept: application/csv")
    check(r.header("Content-Type").startswith("text/csv"), "CSV content type")


def test_v1_admin_and_permissions():
    srv = setup()
    r = q(srv, "CREATE DATABASE rdb WITH DURATION 7d")
    check_eq(r.json(), {"results": [{"statement_id": 0}]}, "CREATE DATABASE WITH DURATION")
    r = q(srv, "SHOW RETENTION POLICIES ON rdb")
    check_eq(r.json()["results"][0]["series"][0]["values"],
             [["autogen", "168h0m0s", "24h0m0s", 1, True]], "retention shown as autogen's duration")
    r = q(srv, "DELETE FROM cpu WHERE time < now()", db="db1")
    check_eq(r.json(), {"results": [{"statement_id": 0}]}, "DELETE succeeds")
    r = q(srv, "DROP MEASUREMENT cpu", db="db1")
    check_eq(r.json(), {"results": [{"statement_id": 0}]}, "DROP MEASUREMENT")
    r = q(srv, "SHOW MEASUREMENTS", db="db1")
    check_eq(r.json(), {"results": [{"statement_id": 0}]}, "the measurement is gone")
    r = q(srv, "DROP DATABASE rdb")
    r = q(srv, "SHOW DATABASES")
    names = [v[0] for v in r.json()["results"][0]["series"][0]["values"]]
    check("rdb" not in names and "db1" in names, "DROP DATABASE", names)
    mk = srv.post("/api/v3/configure/token", json.dumps(
        {"token_name": "r2", "permissions": [
            {"resource_type": "db", "resource_names": ["db2"], "actions": ["read"]}]}),
        headers={"Content-Type": "application/json"})
    tok = mk.json().get("token", "")
    r = srv.get("/query", params={"q": "SELECT v FROM x", "db": "db2"}, token=tok)
    check_eq(r.json()["results"][0]["series"][0]["values"], [["1970-01-01T00:00:00.000000001Z", 1]],
             "a read token reads its database")
    r = srv.get("/query", params={"q": "SELECT v FROM cpu", "db": "db1"}, token=tok)
    check("not authorized" in r.json()["results"][0].get("error", ""),
          "…but not another database", r.text)
    r = srv.get("/query", params={"q": "SHOW DATABASES"}, token=tok)
    check_eq(r.json()["results"][0]["series"][0]["values"], [["db2"]],
             "SHOW DATABASES lists only readable databases")
    r = srv.get("/query", params={"q": "CREATE DATABASE nope"}, token=tok)
    check("error" in r.json()["results"][0], "a non-admin token cannot CREATE DATABASE")
    r = srv.get("/query", params={"q": "SHOW DATABASES"}, auth=False)
    check_eq(r.status, 401, "no credentials: 401")
    r = srv.get("/query", params={"q": "SHOW DATABASES", "u": "x", "p": srv.token}, auth=False)
    check_eq(r.status, 200, "u/p query parameters authenticate")


def test_v3_influxql():
    srv = setup()
    base = {"db": "db1", "q": "SELECT mean(v) FROM cpu GROUP BY host"}
    r = srv.get("/api/v3/query_influxql", params=base)
    check_eq(r.json(), [{"iox::measurement": "cpu", "time": "1970-01-01T00:00:00", "host": "a",
                         "mean": 2}, {"iox::measurement": "cpu", "time": "1970-01-01T00:00:00",
                                      "host": "b", "mean": 4}], "v3 json")
    r = srv.post("/api/v3/query_influxql", json.dumps(dict(base, format="jsonl")),
                 headers={"Content-Type": "application/json"})
    check_eq([json.loads(x)["mean"] for x in r.text.splitlines()], [2, 4], "v3 POST jsonl")
    r = srv.get("/api/v3/query_influxql", params=dict(base, format="csv"))
    check_eq(r.text, "iox::measurement,time,host,mean\ncpu,1970-01-01T00:00:00,a,2\n"
             "cpu,1970-01-01T00:00:00,b,4\n", "v3 csv")
    r = srv.get("/api/v3/query_influxql", params=dict(base, format="pretty"))
    check("| iox::measurement | time                | host | mean |" in r.text, "v3 pretty", r.text)
    r = srv.get("/api/v3/query_influxql", params=dict(base, format="parquet"))
    check_eq(r.status, 400, "v3: unsupported format is a 400")
    r = srv.get("/api/v3/query_influxql", params={"q": "SELECT * FROM cpu"})
    check_eq(r.status, 400, "v3: missing db is a 400")
    r = srv.get("/api/v3/query_influxql", params={"db": "db1", "q": "SELECT mean(v), v FROM cpu"})
    check(r.status == 400 and "mixing" in r.json()["error"], "v3: a statement error is a 400")


def test_hostile():
    srv = setup()
    big = "SELECT v FROM cpu WHERE " + " OR ".join(["v = 1"] * 20000)
    r = q(srv, big, "POST", db="db1")
    check(r.status in (200, 400), "a huge condition is answered", r.status)
    deep = "SELECT " + "(" * 5000 + "v" + ")" * 5000 + " FROM cpu"
    r = q(srv, deep, "POST", db="db1")
    check_eq(r.status, 400, "deep nesting: 400")
    r = q(srv, "SELECT v FROM cpu", db="db1", params="{not json")
    check_eq(r.status, 400, "bad params JSON: 400")
    r = q(srv, "SELECT v FROM cpu", db="db1", params='{"a": [1]}')
    check_eq(r.status, 400, "unsupported parameter type: 400")
    r = srv.post("/query?db=db1", b"q=\xff\xfe\x00SELECT", headers={
        "Content-Type": "application/x-www-form-urlencoded"})
    check(r.status in (200, 400), "binary garbage in q", r.status)
    r = q(srv, "SELECT count(v) FROM cpu WHERE time >= 0 AND time < now() GROUP BY time(1ns)",
          db="db1")
    check("too many buckets" in r.json()["results"][0].get("error", ""),
          "a bucket explosion is refused", r.text[:200])
    r = q(srv, "SELECT v FROM cpu WHERE host =~ /(/", db="db1")
    check("error" in r.json()["results"][0], "an invalid regex is a statement error")
    r = q(srv, "SELECT top(v, 100000000000) FROM cpu", db="db1")
    check_eq(r.status, 200, "top with a huge N")
    check(srv.alive(), "the server survived")


if __name__ == "__main__":
    run([test_v1_basics, test_v1_admin_and_permissions, test_v3_influxql, test_hostile])
