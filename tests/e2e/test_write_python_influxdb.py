"""test_write_python_influxdb.py — Debian's python3-influxdb (the InfluxDB 1.x
client, `from influxdb import InfluxDBClient`) against a real `sluice serve`:
ping, create/list/drop database through /query, write_points with tags,
fields of every type, escaping, time_precision (n, u, ms, s, m, h; ints,
RFC 3339 strings and datetimes), shared tags, retention_policy, batch_size,
protocol='line', client.write(), gzip=True, and the errors the client raises
(401 on a wrong token, 400 partial write). Every write is checked through the
inspection path.
"""

import datetime
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness as H  # noqa: E402

S = 10**9


def client_mod():
    try:
        from influxdb import InfluxDBClient
        from influxdb.exceptions import InfluxDBClientError
    except ImportError:
        raise H.Skip("python3-influxdb (Debian) is not installed")
    return InfluxDBClient, InfluxDBClientError


def test_python_influxdb():
    InfluxDBClient, InfluxDBClientError = client_mod()
    srv = H.Server()
    c = InfluxDBClient(host="127.0.0.1", port=srv.port, username="sluice", password=srv.token,
                       database="pydb", timeout=30)
    v = c.ping()
    H.check(bool(v), f"client.ping() returns the server version ({v})")

    c.create_database("pydb")
    dbs = [d["name"] for d in c.get_list_database()]
    H.check("pydb" in dbs, "create_database + get_list_database", dbs)

    # tags, every field type, RFC 3339 time, default precision
    pts = [
        {"measurement": "cpu", "tags": {"host": "server01", "region": "us-west"},
         "time": "2024-01-01T00:00:00Z",
         "fields": {"usage": 0.64, "cores": 8, "ok": True, "note": 'said "hi" \\ bye'}},
        {"measurement": "cpu", "tags": {"host": "server02", "region": "us-west"},
         "time": "2024-01-01T00:00:01.5Z", "fields": {"usage": 1.0, "cores": 4, "ok": False,
                                                      "note": ""}},
    ]
    H.check(c.write_points(pts), "write_points (json protocol) returns True")
    t0 = 1704067200 * S
    H.check_eq(srv.rows("pydb", "cpu"), [
        {"time": t0, "host": "server01", "region": "us-west", "usage": 0.64, "cores": 8,
         "ok": True, "note": 'said "hi" \\ bye'},
        {"time": t0 + 1_500_000_000, "host": "server02", "region": "us-west", "usage": 1.0,
         "cores": 4, "ok": False, "note": ""}], "rows of write_points with all field types")

    # escaping in names and tag values
    c.write_points([{"measurement": "my meas,x", "tags": {"tag key": "a b,c=d"},
                     "time": 5, "fields": {"field key=": 1.25}}], time_precision="n")
    H.check_eq(srv.rows("pydb", "my meas,x"),
               [{"time": 5, "tag key": "a b,c=d", "field key=": 1.25}],
               "escaped measurement, tag key/value and field key round-trip")

    # time_precision with integer times
    for prec, mult in [("n", 1), ("u", 1000), ("ms", 10**6), ("s", S), ("m", 60 * S),
                       ("h", 3600 * S)]:
        tbl = f"prec_{prec}"
        c.write_points([{"measurement": tbl, "time": 473040, "fields": {"v": 1}}],
                       time_precision=prec)
        H.check_eq([r["time"] for r in srv.rows("pydb", tbl)], [473040 * mult],
                   f"time_precision='{prec}' with an int time")
    # datetime times converted by the client
    dt = datetime.datetime(2024, 5, 6, 7, 8, 9, tzinfo=datetime.timezone.utc)
    for prec in ("s", "ms", "u", "n"):
        tbl = f"dt_{prec}"
        c.write_points([{"measurement": tbl, "time": dt, "fields": {"v": 2}}],
                       time_precision=prec)
        H.check_eq([r["time"] for r in srv.rows("pydb", tbl)], [int(dt.timestamp()) * S],
                   f"datetime time with time_precision='{prec}'")

    # shared tags merged with point tags; retention_policy
    c.write_points([{"measurement": "st", "tags": {"a": "1"}, "time": 1, "fields": {"v": 1}},
                    {"measurement": "st", "tags": {"a": "2", "b": "x"}, "time": 1,
                     "fields": {"v": 2}}], tags={"b": "shared"}, time_precision="s")
    H.check_eq(srv.rows("pydb", "st"),
               [{"time": S, "a": "1", "b": "shared", "v": 1},
                {"time": S, "a": "2", "b": "x", "v": 2}], "shared tags (point tags win)")
    c.write_points([{"measurement": "rp", "time": 1, "fields": {"v": 1}}],
                   retention_policy="autogen")
    H.check_eq(len(srv.rows("pydb", "rp")), 1, "retention_policy='autogen' writes the db")

    # batch_size: 1000 points in batches of 100 = 10 requests
    before = srv.metrics().get("sluice_write_requests_total", 0)
    batch = [{"measurement": "batch", "tags": {"host": f"h{i % 10}"}, "time": i,
              "fields": {"value": i * 0.5, "n": i}} for i in range(1000)]
    H.check(c.write_points(batch, batch_size=100, time_precision="s"),
            "write_points with batch_size=100")
    after = srv.metrics().get("sluice_write_requests_total", 0)
    H.check_eq(after - before, 10, "batch_size=100 sent 10 write requests")
    rows = srv.rows("pydb", "batch")
    H.check_eq(len(rows), 1000, "all 1000 batched points stored")
    H.check(all(r["value"] == (r["time"] // S) * 0.5 and r["n"] == r["time"] // S
                and r["host"] == f"h{(r['time'] // S) % 10}" for r in rows),
            "every batched value exact")

    # protocol='line' and client.write()
    c.write_points(["lp,host=a v=1i 100", "lp,host=b v=2i 200"], protocol="line")
    c.write("lp,host=c v=3i 300", params={"db": "pydb"}, protocol="line")
    c.write(["lp,host=d v=4i 4"], params={"db": "pydb", "precision": "s"}, protocol="line")
    H.check_eq([(r["host"], r["v"], r["time"]) for r in srv.rows("pydb", "lp")],
               [("a", 1, 100), ("b", 2, 200), ("c", 3, 300), ("d", 4, 4 * S)],
               "protocol='line' and client.write() rows")

    # gzip=True: Content-Encoding gzip on writes
    cg = InfluxDBClient(host="127.0.0.1", port=srv.port, username="u", password=srv.token,
                        database="pydb", gzip=True)
    cg.write_points([{"measurement": "gz", "time": i, "fields": {"v": i}} for i in range(50)])
    H.check_eq(len(srv.rows("pydb", "gz")), 50, "gzip=True client writes stored")

    # errors the client sees
    bad = InfluxDBClient(host="127.0.0.1", port=srv.port, username="u", password="wrong",
                         database="pydb")
    try:
        bad.write_points([{"measurement": "x", "fields": {"v": 1}}])
        H.check(False, "a wrong token raises InfluxDBClientError")
    except InfluxDBClientError as e:
        H.check_eq(e.code, 401, "a wrong token raises InfluxDBClientError 401")
    try:
        c.write_points(["ok v=1 1", "broken line here"], protocol="line")
        H.check(False, "a bad line raises InfluxDBClientError")
    except InfluxDBClientError as e:
        H.check(e.code == 400 and "partial write" in str(e.content),
                "a bad line raises 400 with 'partial write'", e.content)
    H.check_eq(len(srv.rows("pydb", "ok")), 1, "the good line of the partial write stored")
    # what was written reads back through the client's query()
    rs = c.query("SELECT v FROM lp")
    H.check_eq([p["v"] for p in rs.get_points()], [1, 2, 3, 4],
               "query() returns the points written with protocol='line'")

    c.drop_database("pydb")
    H.check("pydb" not in [d["name"] for d in c.get_list_database()], "drop_database")


if __name__ == "__main__":
    H.run([test_python_influxdb])
