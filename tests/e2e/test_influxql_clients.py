#!/usr/bin/env python3
"""test_influxql_clients.py — real InfluxDB 1.x clients against sluice's
InfluxQL (/query):

* the Debian `influx` CLI 1.6 (/usr/bin/influx): SHOW and SELECT with
  -execute (column and json formats), and an interactive session driven
  through a pseudo-terminal (`use db`, SHOW, SELECT, `exit`);
* python3-influxdb (Debian): query() result sets, get_list_database,
  get_list_measurements, bind_params, epoch, chunked queries, errors raised
  as InfluxDBClientError;
* (the npm `influx` package is tested by test_influxql_npm.mjs).

Each part is skipped (exit 77 if all are) when its client is missing.
"""
import os
import pty
import select
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from harness import check, check_eq, run  # noqa: E402

LP = """cpu,host=a,region=us usage=10.5,load=3i,state="ok" 1704067200000000000
cpu,host=a,region=us usage=20.5,load=5i,state="ok" 1704067260000000000
cpu,host=b,region=eu usage=30,load=7i,state="busy" 1704067200000000000
cpu,host=b,region=eu usage=50,load=9i 1704067320000000000
mem,host=a free=1024i 1704067200000000000
"""


def server_with_data():
    srv = harness.Server()
    r = srv.post("/query", params={"q": "CREATE DATABASE clients"})
    check_eq(r.status, 200, "CREATE DATABASE through /query")
    r = srv.write_v1("clients", LP)
    check_eq(r.status, 204, "write the client data set")
    return srv


def influx_cmd(srv, *args):
    return ["influx", "-host", "127.0.0.1", "-port", str(srv.port), "-username", "x",
            "-password", srv.token] + list(args)


def test_influx_cli_execute():
    harness.need_tool("/usr/bin/influx")
    srv = server_with_data()
    out = subprocess.run(influx_cmd(srv, "-execute", "SHOW DATABASES"), capture_output=True,
                         text=True, timeout=30)
    check_eq(out.returncode, 0, "influx -execute SHOW DATABASES exits 0")
    check("clients" in out.stdout.split(), "SHOW DATABASES lists the database", out.stdout)
    out = subprocess.run(influx_cmd(srv, "-database", "clients", "-precision", "rfc3339",
                                    "-execute", "SELECT usage FROM cpu WHERE host = 'b'"),
                         capture_output=True, text=True, timeout=30)
    check_eq(out.returncode, 0, "influx -execute SELECT exits 0")
    check("2024-01-01T00:00:00Z 30" in out.stdout and "2024-01-01T00:02:00Z 50" in out.stdout,
          "SELECT rows in the CLI's column output", out.stdout)
    out = subprocess.run(influx_cmd(srv, "-database", "clients", "-format", "json", "-execute",
                                    "SELECT mean(usage) FROM cpu GROUP BY host"),
                         capture_output=True, text=True, timeout=30)
    check('"tags":{"host":"a"}' in out.stdout and "15.5" in out.stdout and "40" in out.stdout,
          "influx -format json: one series per host with the means", out.stdout)
    out = subprocess.run(influx_cmd(srv, "-database", "clients", "-execute",
                                    "SHOW TAG VALUES WITH KEY = \"host\""),
                         capture_output=True, text=True, timeout=30)
    check("host a" in " ".join(out.stdout.split()) and "host b" in " ".join(out.stdout.split()),
          "SHOW TAG VALUES through the CLI", out.stdout)
    out = subprocess.run(influx_cmd(srv, "-database", "clients", "-execute", "SELECT FROM"),
                         capture_output=True, text=True, timeout=30)
    check(out.returncode != 0 and "error parsing query" in (out.stdout + out.stderr),
          "a syntax error is reported by the CLI", out.stdout + out.stderr)
    bad = subprocess.run(["influx", "-host", "127.0.0.1", "-port", str(srv.port), "-username",
                          "x", "-password", "wrong", "-execute", "SHOW DATABASES"],
                         capture_output=True, text=True, timeout=30)
    check(bad.returncode != 0, "a wrong token is refused", bad.stdout + bad.stderr)


def pty_session(cmd, lines, timeout=20):
    pid, fd = pty.fork()
    if pid == 0:
        os.execvp(cmd[0], cmd)
    out = b""

    def read_for(secs):
        nonlocal out
        end = time.time() + secs
        while time.time() < end:
            r, _, _ = select.select([fd], [], [], 0.1)
            if r:
                try:
                    data = os.read(fd, 65536)
                except OSError:
                    return False
                if not data:
                    return False
                out += data
        return True

    read_for(1.5)
    for line in lines:
        os.write(fd, line.encode() + b"\r")
        read_for(1.0)
    end = time.time() + timeout
    while time.time() < end:
        done, _ = os.waitpid(pid, os.WNOHANG)
        if done:
            break
        read_for(0.2)
    else:
        os.kill(pid, 9)
        os.waitpid(pid, 0)
    try:
        os.close(fd)
    except OSError:
        pass
    return out.decode(errors="replace")


def test_influx_cli_interactive():
    harness.need_tool("/usr/bin/influx")
    srv = server_with_data()
    out = pty_session(influx_cmd(srv, "-precision", "rfc3339"),
                      ["use clients", "SHOW MEASUREMENTS", "SELECT max(usage) FROM cpu",
                       "SELECT load FROM cpu WHERE host = 'a'", "exit"])
    check("Connected to http://127.0.0.1:%d" % srv.port in out, "interactive: connected", out)
    check('Using database clients' in out, "interactive: use clients", out)
    check("measurements" in out and "mem" in out, "interactive: SHOW MEASUREMENTS", out)
    check("2024-01-01T00:02:00Z 50" in out, "interactive: max() with the point's time", out)
    check("2024-01-01T00:01:00Z 5" in out, "interactive: raw SELECT", out)


def test_python_influxdb():
    try:
        from influxdb import InfluxDBClient
        from influxdb.exceptions import InfluxDBClientError
    except ImportError:
        raise harness.Skip("python3-influxdb is not installed")
    srv = server_with_data()
    c = InfluxDBClient("127.0.0.1", srv.port, "x", srv.token, "clients")
    check({"name": "clients"} in c.get_list_database(), "get_list_database")
    check_eq(c.get_list_measurements(), [{"name": "cpu"}, {"name": "mem"}],
             "get_list_measurements")
    rs = c.query("SELECT usage, host FROM cpu WHERE region = 'eu'")
    check_eq(list(rs.get_points()),
             [{"time": "2024-01-01T00:00:00Z", "usage": 30, "host": "b"},
              {"time": "2024-01-01T00:02:00Z", "usage": 50, "host": "b"}], "query().get_points()")
    rs = c.query("SELECT sum(load) FROM cpu GROUP BY host")
    check_eq(list(rs.get_points(tags={"host": "a"})),
             [{"time": "1970-01-01T00:00:00Z", "sum": 8}], "get_points(tags=...)")
    check_eq(sorted(k[1]["host"] for k in rs.keys()), ["a", "b"], "ResultSet keys per tag set")
    rs = c.query("SELECT usage FROM cpu WHERE host = $h", bind_params={"h": "a"}, epoch="s")
    check_eq(list(rs.get_points()), [{"time": 1704067200, "usage": 10.5},
                                     {"time": 1704067260, "usage": 20.5}],
             "bind_params and epoch=s")
    parts = list(c.query("SELECT usage FROM cpu", chunked=True, chunk_size=1))
    check_eq(sum(len(list(p.get_points())) for p in parts), 4,
             "chunked query with chunk_size=1: 4 rows")
    check(len(parts) >= 4, "chunked query with chunk_size=1: one chunk per row", len(parts))
    rs = c.query("SHOW FIELD KEYS FROM cpu")
    check_eq(list(rs.get_points()), [{"fieldKey": "load", "fieldType": "integer"},
                                     {"fieldKey": "state", "fieldType": "string"},
                                     {"fieldKey": "usage", "fieldType": "float"}],
             "SHOW FIELD KEYS")
    rs = c.query("SELECT mean(usage) FROM cpu; SELECT count(free) FROM mem")
    check_eq(len(rs), 2, "two statements give two result sets")
    try:
        c.query("SELECT mean(usage), usage FROM cpu")
        check(False, "a statement error raises")
    except InfluxDBClientError as e:
        check("mixing aggregate" in str(e), "a statement error raises InfluxDBClientError", e)
    bad = InfluxDBClient("127.0.0.1", srv.port, "x", "not-a-token", "clients")
    try:
        bad.query("SELECT * FROM cpu")
        check(False, "a wrong token is refused")
    except InfluxDBClientError as e:
        check(e.code == 401, "a wrong token gives 401", e)


if __name__ == "__main__":
    run([test_influx_cli_execute, test_influx_cli_interactive, test_python_influxdb])
