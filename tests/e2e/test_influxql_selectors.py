#!/usr/bin/env python3
"""test_influxql_selectors.py — InfluxQL selectors without GROUP BY time
(first, last, min, max), which sluice's loader reduces to the rows they
pick (see struct xred in src/query/influxql/exec_int.h), give the same
results as InfluxDB 1.6, on data in the write buffer, in Parquet files, and
in both at once (merged, with overwritten points).

The data is made to catch a reduction that picks the wrong row: fields
that are NULL on some rows (first/last must skip them), integer values that
repeat within and across series (min/max keep the earliest of equal
extremes), series that share the GROUP BY tag and overlap in time (several
lanes per key), string and boolean fields (min/max of those are not
reduced; first/last are), WHERE conditions on tags only (reduced) and on
fields (not reduced). Each series' times are offset by a second from the
others so first()/last() have no ties between series (1.x breaks those
differently). The same queries then run against a sluice started with
SLUICE_IQL_NO_REDUCE=1, which must answer identically.
Uses the influxd helpers of test_influxql_diff.py; exits 77 when influxd is
absent.

Run: SLUICE_BIN=build/sluice /usr/bin/python3 tests/e2e/test_influxql_selectors.py
"""
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from harness import check, run  # noqa: E402
import test_influxql_diff as diff  # noqa: E402

T0 = 1704067200  # 2024-01-01T00:00:00Z
HOSTS = [("a", "x"), ("b", "x"), ("c", "y"), ("d", "y")]


def lines(first, last, bump=0):
    """sel rows for minute steps [first, last); bump changes the values (for
    overwrites of points already persisted)."""
    out = []
    for i in range(first, last):
        for k, (host, dc) in enumerate(HOSTS):
            t = (T0 + i * 60 + k) * 10**9
            fields = []
            if (i + k) % 3:
                fields.append(f"f={(i * 13 + k * 7 + bump) % 50 / 4}")
            fields.append(f"i={(i * 7 + k + bump) % 10}i")
            if (i + k) % 4 == 0:
                fields.append(f's="v{(i + k + bump) % 5}"')
            if i % 5 != 4:
                fields.append(f"b={'true' if (i + k) % 2 else 'false'}")
            out.append(f"sel,host={host},dc={dc} {','.join(fields)} {t}")
    return "\n".join(out) + "\n"


R = "time >= '2024-01-01T00:20:00Z' AND time < '2024-01-01T01:10:00Z'"


def queries():
    return [
        "SELECT last(f) FROM sel GROUP BY host",
        "SELECT first(f) FROM sel GROUP BY host",
        "SELECT first(f), last(f), min(i), max(i) FROM sel GROUP BY host",
        "SELECT max(i) FROM sel",
        "SELECT min(i) FROM sel",
        "SELECT min(i), max(i) FROM sel GROUP BY dc",
        "SELECT min(f), max(f) FROM sel GROUP BY dc",
        "SELECT last(f), first(i) FROM sel GROUP BY dc",
        "SELECT last(i) FROM sel GROUP BY *",
        "SELECT last(s) FROM sel GROUP BY host",
        "SELECT first(s), last(s) FROM sel",
        "SELECT first(b), last(b) FROM sel GROUP BY host",
        "SELECT max(b) FROM sel GROUP BY host",
        "SELECT max(f) FROM sel WHERE host = 'a'",
        "SELECT min(i) FROM sel WHERE host = 'a' OR host = 'c' GROUP BY host",
        "SELECT max(f) FROM sel WHERE dc =~ /^y$/ GROUP BY host",
        "SELECT max(f) FROM sel WHERE i > 3 GROUP BY host",
        "SELECT last(f) FROM sel WHERE i < 5 AND host = 'b'",
        "SELECT first(f) FROM sel WHERE host = 'a' OR f > 10 GROUP BY host",
        f"SELECT last(f), max(i) FROM sel WHERE {R} GROUP BY host",
        f"SELECT first(i) FROM sel WHERE {R} GROUP BY dc",
        "SELECT max(i) FROM sel GROUP BY host LIMIT 1",
        "SELECT last(f) FROM sel GROUP BY host SLIMIT 2 SOFFSET 1",
        "SELECT last(i) FROM sel GROUP BY host ORDER BY time DESC",
        "SELECT max(i) FROM sel GROUP BY host fill(0)",
        "SELECT last(nope) FROM sel GROUP BY host",
        "SELECT max(f) AS m FROM sel GROUP BY host",
    ]


def answers(srv):
    return [diff.query(srv.url, q, headers=srv.auth_headers()) for q in queries()]


def test_selectors_vs_influxd():
    harness.need_tool("influxd")
    ref = diff.Influxd()
    try:
        srv = harness.Server()
        refurl = f"http://127.0.0.1:{ref.port}"

        def write(body):
            diff.both_write(refurl, srv, body)

        diff.both_create(refurl, srv)
        write(lines(0, 60))
        diff.compare_queries(refurl, srv, "buffer", queries())
        check(srv.post("/api/sluice/persist").status == 204, "persist")
        diff.compare_queries(refurl, srv, "files", queries())
        # later rows, and overwrites of persisted ones with other values
        write(lines(40, 90, bump=3))
        diff.compare_queries(refurl, srv, "files+buffer", queries())
        reduced = answers(srv)
        # the same data without the reduction: identical answers
        srv.env["SLUICE_IQL_NO_REDUCE"] = "1"
        srv.restart()
        plain = answers(srv)
        for q, a, b in zip(queries(), reduced, plain):
            check(a == b, f"reduced = unreduced: {q}",
                  f"reduced {json.dumps(a)[:600]}\n       plain   {json.dumps(b)[:600]}")
    finally:
        ref.close()


if __name__ == "__main__":
    run([test_selectors_vs_influxd])
