#!/usr/bin/env python3
"""test_lp_vs_influxd.py — sluice's line-protocol accept/reject decisions
against a real InfluxDB 1.6.

Starts `influxd` (Debian package `influxdb`) on free loopback ports with a
temporary data directory, writes each tricky line alone to /write (into its
own database, so type conflicts between cases cannot matter), and compares
204/400 with whether `sluice lint --format jsonl` accepts the line. Exits 77
(skipped) when influxd or SLUICE_BIN is missing.

Deliberate differences (sluice follows ../shared/reference/influx-api.md
where 1.x is lenient or unhelpful) are listed in DIFFERENCES with the
reason; any other disagreement fails the test.
"""
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request

CASES = [
    # (line, precision or None)
    ("temperature,location=office,sensor=sensor1 value=23.5 1609459200000000000", None),
    ("weather,city=newyork,state=ny temperature=72.5,humidity=65,pressure=1013.25", None),
    ("disk,host=server01 free=442221834240i", None),
    ('status,server=web01 message="server running"', None),
    ("system,host=server01 enabled=true", None),
    ("temperature,location=office value=23.5 1609459200", "s"),
    ("temperature,location=room1 value=23.5 1609459200000", "ms"),
    ("swap,host=host 0.85 1656472338", None),
    ("swap,host=host 0.85 1656472338", "s"),
    ("m f=1", None), ("m\\ x f=1", None), ("m\\,x f=1", None), ("m\\=x f=1", None),
    ("m=x f=1", None), ("m\\\\x f=1", None), ('"m" f=1', None), ("  m f=1", None),
    ("m\\", None), (",t=1 f=1", None), ("m", None), ("m ", None), ("time f=1", None),
    ("m,t=v f=1", None), ("m,b=2,a=1 f=1", None), ("m,t=a\\ b f=1", None),
    ("m,t=a\\,b f=1", None), ("m,t=a\\=b f=1", None), ("m,t\\ k=v f=1", None),
    ("m,t=C:\\temp f=1", None), ("m,t=a\\\\ f=1", None), ('m,t="q" f=1', None),
    ("m,t=v\\ f=1", None), ("m,t= f=1", None), ("m,=v f=1", None), ("m,t f=1", None),
    ("m, f=1", None), ("m,t=1, f=1", None), ("m,t=a=b f=1", None), ("m,t=1,t=2 f=1", None),
    ("m,time=1 f=1", None), ("m,t=1", None),
    ("m f\\ k=1", None), ("m f\\=k=1", None), ("m =1", None), ("m f", None),
    ("m f=1,g", None), ("m f=1,f=2", None), ("m time=1", None), ("m f=1,", None),
    ("m f=1, g=2", None), ("m f\\", None),
    ("m f=1.0", None), ("m f=-1.5", None), ("m f=-0", None), ("m f=.5", None),
    ("m f=5.", None), ("m f=1e3", None), ("m f=1E3", None), ("m f=1e+3", None),
    ("m f=1e-3", None), ("m f=-1.2e+78", None), ("m f=1.7976931348623157e308", None),
    ("m f=1e309", None), ("m f=NaN", None), ("m f=Inf", None), ("m f=+1", None),
    ("m f=1..2", None), ("m f=1e", None), ("m f=e5", None), ("m f=.", None), ("m f=-", None),
    ("m f=0x10", None), ("m temp=12x", None), ("m f=", None), ("m f=007", None),
    ("m f=1i", None), ("m f=-1i", None), ("m f=9223372036854775807i", None),
    ("m f=-9223372036854775808i", None), ("m f=9223372036854775808i", None),
    ("m f=-9223372036854775809i", None), ("m f=1.5i", None), ("m f=i", None),
    ("m f=+1i", None), ("m f=0001i", None),
    ("m f=1u", None), ("m f=18446744073709551615u", None), ("m f=18446744073709551616u", None),
    ("m f=-1u", None),
    ('m f=""', None), ('m f="a b,c=d"', None), ('m f="a\\"b"', None), ('m f="a\\\\b"', None),
    ('m f="a\nb"', None), ('m f="x",g=1i', None), ('m f="abc', None), ('m f="a"b', None),
    ("m f=abc", None), ("m f='x'", None),
    ("m f=t", None), ("m f=T", None), ("m f=true", None), ("m f=True", None),
    ("m f=TRUE", None), ("m f=f", None), ("m f=F", None), ("m f=false", None),
    ("m f=False", None), ("m f=FALSE", None), ("m f=tRUE", None), ("m f=yes", None),
    ("m f=1 0", None), ("m f=1 -1", None), ("m f=1 9223372036854775806", None),
    ("m f=1 -9223372036854775806", None), ("m f=1 9223372036854775807", None),
    ("m f=1 -9223372036854775808", None), ("m f=1 99999999999999999999", None),
    ("m f=1 1.5", None), ("m f=1 +5", None), ("m f=1 abc", None), ("m f=1 1 2", None),
    ("m f=1   5   ", None), ("m f=1 9223372036", "s"), ("m f=1 9223372037", "s"),
    ("m f=1 2562047", "h"), ("m f=1 2562048", "h"), ("m f=1 5", "m"), ("m f=1 5", "u"),
    ("m  f=1", None), ("m f=1 ", None), ("m f=1\r", None), ("m f=1\tx", None),
    ("m,t=a\tb f=1", None), ("m a=1,b=2i,c=3u,d=\"x\",e=true 10", None),
]

# line -> why sluice's decision differs from InfluxDB 1.6 on purpose
DIFFERENCES = {
    "m f=1\r": "CRLF: a CR right before the line end is accepted (1.x rejects it)",
    "m f=1,f=2": "duplicate field keys are rejected with a clear message (1.x keeps the last)",
    "m,t=a\\\\ f=1": "'\\\\' is one backslash, as in InfluxDB 3 (1.x reads '\\\\ ' as an "
                        "escaped space, so no 1.x element can end in a backslash)",
    "m f=1u": "unsigned fields ('u') are a type, as in 2.x/3.x (1.6 lacks it)",
    "m f=18446744073709551615u": "unsigned fields ('u') are a type, as in 2.x/3.x (1.6 lacks it)",
    'm a=1,b=2i,c=3u,d="x",e=true 10': "unsigned fields ('u'), as above",
    'm f="a"b': "bytes after a closing quote are an error (1.x silently accepts the line)",
}


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def http(method, url, body=None):
    req = urllib.request.Request(url, data=body, method=method)
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            return r.status, r.read().decode("utf-8", "replace")
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode("utf-8", "replace")


def sluice_accepts(sluice, line, precision):
    args = [sluice, "lint", "--format", "jsonl"]
    if precision:
        args += ["--precision", precision]
    p = subprocess.run(args + ["-"], input=line.encode(), stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, timeout=30)
    if p.returncode not in (0, 1):
        raise SystemExit("sluice lint failed (%d): %s" % (p.returncode, p.stderr.decode()))
    return p.returncode == 0 and b'"measurement"' in p.stdout, p.stdout.decode().strip()


def lint(sluice, args, data):
    p = subprocess.run([sluice, "lint"] + args, input=data.encode(), stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, timeout=30)
    return p.returncode, p.stdout.decode(), p.stderr.decode()


def check_lint_cli(sluice):
    """The `sluice lint` command itself: formats, exit codes, warnings, usage."""
    bad = []

    def expect(cond, what):
        if not cond:
            bad.append(what)

    rc, out, _ = lint(sluice, [], "a f=1 1\n# c\n\nswap,host=host 0.85 1656472338\n")
    expect(rc == 1, "exit 1 on a bad line")
    expect(out.startswith("<stdin>:4:16: missing field key"), "text format: " + out)
    rc, out, _ = lint(sluice, ["--format", "jsonl"], 'a,t=x f=1.5,s="q",u=3u,b=t\n# c\nb f=\n')
    lines = out.strip().split("\n")
    expect(rc == 1 and len(lines) == 2, "jsonl: one object per point or error: " + out)
    expect(lines[0] == '{"line":1,"measurement":"a","tags":{"t":"x"},"fields":{"f":{"type":'
           '"float","value":1.5},"s":{"type":"string","value":"q"},"u":{"type":"unsigned",'
           '"value":3},"b":{"type":"boolean","value":true}},"time":null}', "jsonl point: " + out)
    expect(lines[1].startswith('{"line":3,"column":5,"error":"missing value for field'),
           "jsonl error: " + out)
    rc, out, _ = lint(sluice, ["--quiet"], "a f=1\nb f=2i\n")
    expect(rc == 0 and out.count("\n") == 1 and out.startswith("ok: 2 point(s), 0 error(s)"),
           "quiet summary: " + out)
    rc, out, _ = lint(sluice, ["--precision", "s"], "m f=1 1609459200\n")
    expect(rc == 0 and out == "", "precision s: %d %r" % (rc, out))
    rc, out, _ = lint(sluice, [], "m f=1 1609459200\nm f=1 1609459201\n")
    expect(rc == 0 and "warning: timestamp 1609459200" in out and "use --precision s" in out
           and "2 line(s)" in out, "second-sized timestamps warn: " + out)
    rc, out, _ = lint(sluice, ["--precision", "us"], "m f=1 1609459200000\n")
    expect("use --precision ms" in out, "ms read as us warns: " + out)
    rc, out, _ = lint(sluice, ["--precision", "s"], "m f=1 1609459200000\n")
    expect(rc == 1 and "it looks like ms" in out, "ms at precision s: " + out)
    expect(lint(sluice, ["--precision", "d"], "")[0] == 2, "bad precision is a usage error")
    expect(lint(sluice, ["--format", "xml"], "")[0] == 2, "bad format is a usage error")
    expect(lint(sluice, ["--bogus"], "")[0] == 2, "unknown option is a usage error")
    expect(lint(sluice, ["/nonexistent/file.lp"], "")[0] == 2, "unreadable file exits 2")
    rc, out, _ = lint(sluice, ["--help"], "")
    expect(rc == 0 and "usage: sluice lint" in out, "--help")
    expect(lint(sluice, [], "")[0] == 0, "empty input is valid")
    with tempfile.NamedTemporaryFile("w", suffix=".lp", delete=False) as f:
        f.write("m f=1\r\nm f=x\r\n")
    try:
        rc, out, _ = lint(sluice, [f.name, "-"], "z f=1\n")
        expect(rc == 1 and out == "%s:2:5: invalid field value \"x\" for field \"f\": expected a "
               "number, integer (12i), unsigned (12u), string (\"...\") or boolean\n" % f.name,
               "file argument with CRLF: " + out)
    finally:
        os.unlink(f.name)
    for b in bad:
        print("LINT CLI FAILURE: " + b)
    return len(bad)


def main():
    influxd = shutil.which("influxd")
    sluice = os.environ.get("SLUICE_BIN")
    if not sluice or not os.path.exists(sluice):
        print("skipped: SLUICE_BIN is not set")
        return 77
    cli_failures = check_lint_cli(sluice)
    if not influxd:
        print("influxd not found (apt-get install influxdb): comparison skipped")
        if cli_failures:
            return 1
        return 77
    tmp = tempfile.mkdtemp(prefix="sluice-lp-influxd-")
    port, rpc = free_port(), free_port()
    env = dict(os.environ,
               INFLUXDB_META_DIR=os.path.join(tmp, "meta"),
               INFLUXDB_DATA_DIR=os.path.join(tmp, "data"),
               INFLUXDB_DATA_WAL_DIR=os.path.join(tmp, "wal"),
               INFLUXDB_HTTP_BIND_ADDRESS="127.0.0.1:%d" % port,
               INFLUXDB_BIND_ADDRESS="127.0.0.1:%d" % rpc,
               INFLUXDB_REPORTING_DISABLED="true",
               INFLUXDB_HTTP_LOG_ENABLED="false",
               INFLUXDB_DATA_QUERY_LOG_ENABLED="false",
               INFLUXDB_LOGGING_LEVEL="error",
               INFLUXDB_MONITOR_STORE_ENABLED="false")
    log = open(os.path.join(tmp, "influxd.log"), "w")
    proc = subprocess.Popen([influxd, "run"], env=env, stdout=log, stderr=log)
    base = "http://127.0.0.1:%d" % port
    failures, agreed, known = [], 0, 0
    try:
        for _ in range(300):
            try:
                if http("GET", base + "/ping")[0] == 204:
                    break
            except OSError:
                pass
            if proc.poll() is not None:
                print("influxd exited early; log:\n" + open(os.path.join(tmp, "influxd.log")).read())
                return 1
            time.sleep(0.1)
        else:
            print("influxd did not start")
            return 1
        for i, (line, prec) in enumerate(CASES):
            db = "c%d" % i
            st, body = http("POST", base + "/query?" + urllib.parse.urlencode(
                {"q": "CREATE DATABASE " + db}))
            if st != 200:
                print("CREATE DATABASE failed: %d %s" % (st, body))
                return 1
            q = {"db": db}
            if prec:
                q["precision"] = prec
            st, body = http("POST", base + "/write?" + urllib.parse.urlencode(q),
                            line.encode())
            if st not in (204, 400):
                failures.append("%r: influxd answered %d %s" % (line, st, body))
                continue
            influx_ok = st == 204
            ours, out = sluice_accepts(sluice, line, prec)
            if ours == influx_ok:
                agreed += 1
                if line in DIFFERENCES:
                    print("note: %r no longer differs (%s)" % (line, DIFFERENCES[line]))
                continue
            if line in DIFFERENCES:
                known += 1
                print("deliberate difference: %r influxd=%s sluice=%s: %s" % (
                    line, "accept" if influx_ok else "reject", "accept" if ours else "reject",
                    DIFFERENCES[line]))
                continue
            failures.append("%r (precision %s): influxd %s (%s), sluice %s (%s)" % (
                line, prec or "ns", "accepts" if influx_ok else "rejects", body.strip(),
                "accepts" if ours else "rejects", out))
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()
        shutil.rmtree(tmp, ignore_errors=True)
    for f in failures:
        print("MISMATCH " + f)
    print("%d passed, %d failed" % (agreed + known + 1, len(failures) + cli_failures))
    return 1 if failures or cli_failures else 0


if __name__ == "__main__":
    sys.exit(main())
