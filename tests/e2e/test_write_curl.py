"""test_write_curl.py — every curl write example of the seed course material
(/work/shared/seeds/*.txt) run with real curl as written, against a real
`sluice serve`, asserting the rows each one stored.

The examples are extracted from the seeds' code blocks (so a new example is
picked up automatically). Filled in: the server address, the token (the
operator token, or an `Authorization: Token` header added to the example that
has none), and one database per example (bucket=/db= renamed) so that each
example's rows can be checked alone. The expected rows are computed from the
example's own --data-binary text and precision.

Also checked with curl: /ping (204 + X-Influxdb-Version), /health (the v2
JSON), the seeds' health-check script and bucket-creation example, and the
/metrics exposition (names, types, and counters that move with the writes).
"""

import glob
import os
import re
import shlex
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness as H  # noqa: E402

SEEDS = os.path.join(os.environ.get("SLUICE_SHARED", "/work/shared"), "seeds")
PREC_NS = {"ns": 1, "n": 1, "us": 1000, "u": 1000, "ms": 10**6, "s": 10**9,
           "m": 60 * 10**9, "h": 3600 * 10**9}


def code_blocks(text):
    """(first line number, block text) of each ``` fenced block."""
    out, cur, start = [], None, 0
    for i, line in enumerate(text.splitlines(), 1):
        if line.strip().startswith("```"):
            if cur is None:
                cur, start = [], i + 1
            else:
                out.append((start, "\n".join(cur)))
                cur = None
        elif cur is not None:
            cur.append(line)
    return out


def shell_complete(s):
    """Whether s ends outside quotes and not after a line continuation."""
    q = None
    i = 0
    while i < len(s):
        c = s[i]
        if q is None:
            if c == "\\":
                i += 1
            elif c in "'\"":
                q = c
        elif q == '"' and c == "\\":
            i += 1
        elif c == q:
            q = None
        i += 1
    return q is None and not s.rstrip(" ").endswith("\\")


def curl_commands(block, first_line):
    """(line number, command text) of each curl command in a code block."""
    lines = block.splitlines()
    out, i = [], 0
    while i < len(lines):
        if re.match(r"\s*curl\s", lines[i]):
            start, cmd = i, lines[i]
            while not shell_complete(cmd) and i + 1 < len(lines):
                i += 1
                cmd += "\n" + lines[i]
            out.append((first_line + start, cmd))
        i += 1
    return out


def seed_write_examples():
    ex = []
    for path in sorted(glob.glob(os.path.join(SEEDS, "*.txt"))):
        with open(path, encoding="utf-8") as f:
            text = f.read()
        for start, block in code_blocks(text):
            for line, cmd in curl_commands(block, start):
                if re.search(r"/(api/v2/)?write\?", cmd):
                    ex.append((os.path.basename(path), line, cmd))
    return ex


def parse_lp(body, prec):
    """Expected rows of simple line protocol (the seeds use no escapes):
    list of (measurement, tags, fields, time_ns or None)."""
    rows = []
    for line in body.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        assert "\\" not in line and '"' not in line, "example needs a real parser: " + line
        parts = line.split()
        head, fields = parts[0], parts[1]
        ts = int(parts[2]) * PREC_NS[prec] if len(parts) > 2 else None
        mt = head.split(",")
        tags = dict(kv.split("=", 1) for kv in mt[1:])
        fv = {}
        for kv in fields.split(","):
            k, v = kv.split("=", 1)
            if v.endswith("i"):
                fv[k] = int(v[:-1])
            elif v in ("t", "true", "T", "True", "TRUE"):
                fv[k] = True
            elif v in ("f", "false", "F", "False", "FALSE"):
                fv[k] = False
            else:
                fv[k] = float(v)
        rows.append((mt[0], tags, fv, ts))
    return rows


def expected_tables(rows):
    """{measurement: [row dicts]} after dedup (last write wins, fields merge)."""
    tables = {}
    for m, tags, fields, ts in rows:
        key = (ts, tuple(sorted(tags.items())))
        t = tables.setdefault(m, {})
        r = t.setdefault(key, {"time": ts, **tags})
        r.update(fields)
    return {m: list(t.values()) for m, t in tables.items()}


def run_curl(cmd):
    """Runs a curl command with bash; returns (status, body)."""
    out = os.path.join(H.tmpdir("curl-"), "body")
    full = re.sub(r"^(\s*)curl\s", lambda m: m.group(1) + f"curl -sS -o {out} -w '%{{http_code}}' ",
                  cmd, count=1)
    p = subprocess.run(["bash", "-c", full], capture_output=True, text=True, timeout=30)
    body = open(out).read() if os.path.exists(out) else ""
    return p.stdout.strip(), body, p.stderr


def fill_in(srv, cmd, db):
    c = cmd.replace("http://localhost:8086", srv.url)
    c = c.replace("YOUR_API_TOKEN", srv.token).replace("YOUR_TOKEN", srv.token)
    c = re.sub(r"bucket=mybucket", f"bucket={db}", c)
    c = re.sub(r"db=mydb", f"db={db}", c)
    if "Authorization" not in c:
        # the seeds' v1 example has no credentials: add them the way v1 clients do
        c = re.sub(r"^(\s*curl\s+\S+\s+)", lambda m: m.group(1) + f'-H "Authorization: Token {srv.token}" ',
                   c, count=1)
    return c


def test_seed_curl_examples():
    H.need_tool("curl")
    examples = seed_write_examples()
    H.check(len(examples) >= 8, f"found {len(examples)} curl write examples in the seeds (>= 8)")
    srv = H.Server()
    for i, (fname, line, cmd) in enumerate(examples):
        db = f"seed{i}_{fname[:3]}_{line}"
        filled = fill_in(srv, cmd, db)
        argv = shlex.split(filled.replace("\\\n", " "))
        url = next(a for a in argv if a.startswith("http"))
        prec = re.search(r"precision=(\w+)", url)
        prec = prec.group(1) if prec else "ns"
        data = argv[argv.index("--data-binary") + 1]
        lines = parse_lp(data, prec)
        before = time.time_ns()
        status, body, err = run_curl(filled)
        after = time.time_ns()
        where = f"{fname}:{line}"
        H.check_eq(status, "204", f"{where}: curl example answered 204 ({body.strip()[:200]}{err})")
        for table, want in expected_tables(lines).items():
            got = srv.rows(db, table)
            if any(r["time"] is None for r in want):
                # no timestamp: server time, truncated to the request precision
                unit = PREC_NS[prec]
                ok = len(got) == len(want) and all(
                    before // unit * unit <= g["time"] <= after and g["time"] % unit == 0
                    for g in got)
                H.check(ok, f"{where}: {table} rows got the server time truncated to {prec}",
                        f"got {got} (window {before}..{after})")
                got = H.rows_without_time(got)
                want = H.rows_without_time(want)
            H.check_eq(sorted(got, key=str), sorted(want, key=str),
                       f"{where}: {table} holds exactly the example's {len(want)} row(s)")
    # 000:327 and 000:332 write the same point in ms and in s: one row when combined
    pair = [(f, l, c) for f, l, c in examples if "value=23.5 16094592" in c and "office" in c
            and "Content-Type" not in c]
    if H.check(len(pair) == 2, "found the seeds' ms/s precision pair"):
        for _, _, cmd in pair:
            status, body, _ = run_curl(fill_in(srv, cmd, "precision_pair"))
            H.check_eq(status, "204", "precision pair example answered 204")
        H.check_eq(srv.rows("precision_pair", "temperature"),
                   [{"time": 1609459200 * 10**9, "location": "office", "value": 23.5}],
                   "the same point in ms and in s is one row")


def test_ping_health_curl():
    H.need_tool("curl")
    srv = H.Server()
    p = subprocess.run(["curl", "-sS", "-i", srv.url + "/ping"], capture_output=True, text=True)
    head = [h.rstrip("\r") for h in p.stdout.splitlines()]
    H.check(head[0].startswith("HTTP/1.1 204"), "/ping answers 204", head[0])
    hdrs = {h.split(":", 1)[0].lower(): h.split(":", 1)[1].strip() for h in head[1:] if ":" in h}
    H.check(bool(hdrs.get("x-influxdb-version")), "/ping sets X-Influxdb-Version", hdrs)
    H.check(bool(hdrs.get("x-influxdb-build")), "/ping sets X-Influxdb-Build", hdrs)
    r = srv.request("HEAD", "/ping", auth=False)
    H.check_eq(r.status, 204, "HEAD /ping answers 204 without credentials")
    r = srv.get("/health", auth=False)
    H.check_eq(r.status, 200, "/health answers 200 without credentials")
    j = r.json()
    H.check(j.get("status") == "pass" and j.get("name") == "influxdb"
            and j.get("message") == "ready for queries and writes" and "version" in j
            and j.get("checks") == [], "/health has the v2 JSON shape", j)

    # the seeds' health-check script (003), with the URL and token filled in
    script = None
    with open(os.path.join(SEEDS, "003_2c22a3ab1db56561.txt"), encoding="utf-8") as f:
        for _, block in code_blocks(f.read()):
            if "influx_health_check.sh" in block:
                script = block
    if H.check(script is not None, "found the seeds' health-check script"):
        script = script.replace("http://localhost:8086", srv.url).replace("YOUR_TOKEN", srv.token)
        p = subprocess.run(["bash", "-c", script], capture_output=True, text=True, timeout=30)
        H.check(p.returncode == 0 and p.stdout.strip() == "OK",
                "the seeds' health-check script prints OK", p.stdout + p.stderr)

    # the seeds' bucket example (002): a v2 client creating a bucket with retention
    cmd = None
    with open(os.path.join(SEEDS, "002_a4fabf4679056925.txt"), encoding="utf-8") as f:
        for start, block in code_blocks(f.read()):
            for _, c in curl_commands(block, start):
                if "/api/v2/buckets" in c:
                    cmd = c
    if H.check(cmd is not None, "found the seeds' bucket-creation curl example"):
        cmd = cmd.replace("http://localhost:8086", srv.url).replace("YOUR_TOKEN", srv.token)
        status, body, err = run_curl(cmd)
        H.check_eq(status, "201", f"bucket example answered 201 ({body.strip()[:200]}{err})")
        r = srv.get("/api/v3/configure/database")
        names = [d.get("iox::database") for d in r.json()] if r.status == 200 else []
        H.check("metrics-30d" in names, "the bucket exists as database metrics-30d", r.text)
        r = srv.get("/api/v2/buckets", params={"name": "metrics-30d"})
        b = r.json().get("buckets", [{}])[0] if r.status == 200 else {}
        H.check(b.get("retentionRules", [{}])[0].get("everySeconds") == 2592000,
                "the bucket keeps its retention of 2592000 s", r.text)


def test_metrics():
    H.need_tool("curl")
    srv = H.Server()
    r = srv.write_v2("m", "cpu,host=a v=1 1\ncpu,host=b v=2 1\n")
    H.check_eq(r.status, 204, "two points written before /metrics")
    r = srv.write_v1("m", "cpu,host=a v=1 2\nbroken line\n")
    H.check_eq(r.status, 400, "a partial write before /metrics")
    p = subprocess.run(["curl", "-sS", "-i", srv.url + "/metrics"], capture_output=True,
                       text=True)
    H.check(p.stdout.startswith("HTTP/1.1 200"), "/metrics answers 200", p.stdout[:100])
    H.check("content-type: text/plain" in p.stdout.lower(), "/metrics is text/plain")
    m = srv.metrics()
    text = p.stdout
    for name, typ in [("sluice_points_written_total", "counter"),
                      ("sluice_write_bytes_total", "counter"),
                      ("sluice_lines_rejected_total", "counter"),
                      ("sluice_overload_responses_total", "counter"),
                      ("sluice_http_request_duration_seconds", "histogram"),
                      ("sluice_wal_sync_duration_seconds", "histogram"),
                      ("sluice_buffer_bytes", "gauge")]:
        H.check(f"# TYPE {name} {typ}" in text, f"/metrics exposes {name} as a {typ}")
    H.check(m.get("sluice_points_written_total") == 3, "points written counts 3",
            m.get("sluice_points_written_total"))
    H.check(m.get("sluice_lines_rejected_total") == 1, "rejected lines counts 1",
            m.get("sluice_lines_rejected_total"))
    H.check((m.get("sluice_write_bytes_total") or 0) > 0, "bytes written moved")
    H.check((m.get("sluice_wal_sync_duration_seconds_count") or 0) >= 1,
            "WAL sync latency histogram has samples")
    H.check((m.get('sluice_http_request_duration_seconds_bucket{le="+Inf"}') or 0) >= 2,
            "request latency histogram has samples")
    H.check((m.get("sluice_buffer_bytes") or 0) > 0, "buffer size is reported")
    # histogram buckets are cumulative
    le = [(k, v) for k, v in m.items() if k.startswith("sluice_http_request_duration_seconds_bucket")]
    H.check(all(a[1] <= b[1] for a, b in zip(le, le[1:])), "latency buckets are cumulative")


if __name__ == "__main__":
    H.run([test_seed_curl_examples, test_ping_health_curl, test_metrics])
