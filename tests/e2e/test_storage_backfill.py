"""test_storage_backfill.py — one year of data written newest-first.

Three series, two points per day (00:00 and 00:30 UTC: both in the day's first
hour partition) for 365 days, written newest day first in 600-line requests,
with persistence forced every few requests (so partitions are written out in
pieces and out of time order). A second pass, again newest-first, rewrites one
field of every third day and adds a new field there. Then: persist, compact,
and the stored rows must be exactly the expected ones (values, newest field
wins, untouched fields kept); again after a restart. The data is cold (2024),
so compaction rolls the hour files up into day and 30-day files: a year ends
up in at most 366 files (in practice ~13), and a year-long SQL query returns
every row. The numbers (files before/after, persist and compact time, query
latency) are printed for the record.
"""

import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from harness import check, check_eq  # noqa: E402

DAYS = 365
HOSTS = ("alpha", "beta", "gamma")
END_S = 1735689600  # 2025-01-01T00:00:00Z
NS = 1000000000


def parquet_files(data_dir):
    out = []
    for d, _, names in os.walk(os.path.join(data_dir, "dbs", "bf")):
        out += [os.path.join(d, n) for n in names if n.endswith(".parquet")]
    return out


def test_backfill_year_newest_first():
    srv = harness.Server()
    expected = {}
    lines = []
    for day in range(DAYS):  # day 0 is the newest
        base = END_S - (day + 1) * 86400
        for k, off in enumerate((0, 1800)):
            for h, host in enumerate(HOSTS):
                t = base + off
                v = day * 10 + k
                lines.append(f"load,host={host} v={v}i,f={v / 4},up={'true' if h else 'false'} {t}")
                expected[(host, t * NS)] = {"v": v, "f": v / 4, "up": bool(h)}
    for i in range(0, len(lines), 600):
        r = srv.write_v3("bf", "\n".join(lines[i:i + 600]), precision="second")
        if not check_eq(r.status, 204, f"backfill request {i // 600}"):
            return
        if (i // 600) % 3 == 2:
            srv.post("/api/sluice/persist")
    # second pass, newest first: every third day gets a new v and a new field
    lines = []
    for day in range(0, DAYS, 3):
        t = END_S - (day + 1) * 86400
        for host in HOSTS:
            lines.append(f"load,host={host} v={-day}i,note=\"rewritten {day}\" {t}")
            expected[(host, t * NS)].update({"v": -day, "note": f"rewritten {day}"})
    for i in range(0, len(lines), 600):
        check_eq(srv.write_v3("bf", "\n".join(lines[i:i + 600]), precision="second").status, 204,
                 "second pass request")
    t0 = time.monotonic()
    check_eq(srv.post("/api/sluice/persist").status, 204, "persist")
    persist_s = time.monotonic() - t0
    # background compaction may already have rolled some windows up
    before = len(parquet_files(srv.data_dir))
    print(f"files before compaction: {before} (final persist {persist_s:.2f} s)")

    def verify(what):
        rows = srv.rows("bf", "load")
        got = {}
        for r in rows:
            key = (r.pop("host"), r.pop("time"))
            got[key] = r
        bad = [k for k in expected if got.get(k) != expected[k]]
        check(len(rows) == len(expected) and not bad,
              f"{what}: all {len(expected)} rows exact", f"{len(rows)} rows, {len(bad)} differ, "
              f"e.g. {bad[:1]} {[got.get(k) for k in bad[:1]]} vs {[expected[k] for k in bad[:1]]}")
    verify("before compaction")
    t0 = time.monotonic()
    check_eq(srv.post("/api/sluice/compact").status, 204, "compact")
    compact_s = time.monotonic() - t0
    after = parquet_files(srv.data_dir)
    print(f"files after compaction: {len(after)} (compact {compact_s:.2f} s)")
    check(len(after) <= DAYS + 1, f"at most {DAYS + 1} files for a year after compaction",
          f"{len(after)} files")
    # cold data rolls up into 30-day windows: about 13 files for a year
    check(len(after) <= 20, f"30-day roll-up: few files ({len(after)})")
    dirs = {os.path.basename(os.path.dirname(p)) for p in after}
    check(all(len(d) == 10 and d[4] == "-" and d[7] == "-" for d in dirs),
          "layout dbs/<db>/<table>/<YYYY-MM-DD>/ (a window's first day)", str(sorted(dirs)[:3]))
    verify("after compaction")
    # a year-long SQL query returns every row
    sql = ("SELECT count(*) AS n, count(note) AS notes FROM load WHERE time >= "
           f"{(END_S - DAYS * 86400) * NS} AND time < {END_S * NS}")
    t0 = time.monotonic()
    r = srv.get("/api/v3/query_sql", params={"db": "bf", "q": sql})
    query_s = time.monotonic() - t0
    if check_eq(r.status, 200, "year-long query_sql"):
        got = r.json()
        notes = sum(1 for v in expected.values() if "note" in v)
        check(got == [{"n": len(expected), "notes": notes}], "year-long query: every row",
              f"{got} vs {len(expected)} rows, {notes} notes")
    print(f"year-long query: {query_s * 1000:.1f} ms over {len(after)} files")
    srv.restart(kill=True)
    verify("after kill -9 and restart")
    srv.close()


if __name__ == "__main__":
    harness.run([test_backfill_year_newest_first])
