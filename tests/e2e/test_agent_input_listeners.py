#!/usr/bin/python3
"""test_agent_input_listeners.py — the HTTP service inputs: http_listener_v2
(the seeds' blocks seed001_L0818 and seed001_L0955, ports adapted),
influxdb_listener and influxdb_v2_listener.

One agent runs all of them on free ports and writes to an outputs.file; the
test talks HTTP to it and reads the file back. Checks status codes (204,
400, 401, 404, 405, 413), gzip bodies, partial writes (v1 keeps the good
lines, v2 rejects the whole body), /ping, /query, /health, /ready, tags added
from db/rp/bucket/headers/path, and the json data_format of the seeds.
"""
import gzip
import http.client
import json
import os
import signal
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import check, check_eq, run, sluice_bin, tmpdir  # noqa: E402
from test_agent_input_redis import free_port, lp_split, unesc  # noqa: E402

SRC = os.environ.get("SLUICE_SRC") or os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")


def seed(name):
    with open(os.path.join(SRC, "tests/unit/data/telegraf", name)) as f:
        return f.read()


def req(port, method, path, body=None, headers=None):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        c.request(method, path, body=body, headers=headers or {})
        r = c.getresponse()
        return r.status, r.read().decode(errors="replace"), dict(r.getheaders())
    finally:
        c.close()


class Agent:
    def __init__(self):
        self.d = tmpdir()
        self.p1, self.p2, self.p3, self.p4, self.p5 = (free_port() for _ in range(5))
        self.out = os.path.join(self.d, "out.lp")
        s1 = seed("seed001_L0818.conf")
        s2 = seed("seed001_L0955.conf")
        check('service_address = ":8080"' in s1 and 'service_address = ":8888"' in s2,
              "seed listener addresses as expected")
        s1 = s1.replace(":8080", f":{self.p1}")
        s2 = s2.replace(":8888", f":{self.p2}")
        conf = f"""
[agent]
  interval = "1s"
  flush_interval = "1s"
  omit_hostname = true
{s1}
{s2}
[[inputs.http_listener_v2]]
  service_address = "127.0.0.1:{self.p3}"
  paths = ["/a", "/b"]
  max_body_size = "1KiB"
  path_tag = true
  basic_username = "u"
  basic_password = "p"
  [inputs.http_listener_v2.http_header_tags]
    X-Source = "source"
[[inputs.influxdb_listener]]
  service_address = "127.0.0.1:{self.p4}"
  database_tag = "database"
  retention_policy_tag = "rp"
  max_body_size = "4KiB"
[[inputs.influxdb_v2_listener]]
  service_address = "127.0.0.1:{self.p5}"
  bucket_tag = "bucket"
  token = "tok"
[[outputs.file]]
  files = ["{self.out}"]
"""
        path = os.path.join(self.d, "agent.conf")
        with open(path, "w") as f:
            f.write(conf)
        self.log = open(os.path.join(self.d, "agent.log"), "w")
        self.a = subprocess.Popen([sluice_bin(), "agent", "--config", path], stdout=self.log,
                                  stderr=self.log)
        t = time.time() + 10
        while time.time() < t:
            try:
                req(self.p5, "GET", "/health")
                req(self.p1, "GET", "/")
                break
            except OSError:
                time.sleep(0.1)

    def metrics(self, name=None, wait_n=0, secs=5):
        t = time.time() + secs
        while True:
            res = []
            try:
                with open(self.out) as f:
                    for line in f.read().splitlines():
                        parts = lp_split(line, " ")
                        kp = lp_split(parts[0], ",")
                        tags = dict(unesc(x).split("=", 1) for x in kp[1:])
                        if name is None or unesc(kp[0]) == name:
                            res.append((unesc(kp[0]), tags, parts[1], parts[2] if len(parts) > 2 else None))
            except FileNotFoundError:
                pass
            if len(res) >= wait_n or time.time() > t:
                return res
            time.sleep(0.2)

    def stop(self):
        self.a.send_signal(signal.SIGTERM)
        try:
            self.a.wait(10)
        except subprocess.TimeoutExpired:
            self.a.kill()
        self.log.close()
        return self.a.returncode


def test_listeners():
    ag = Agent()
    try:
        # --- seed L0818: POST /telegraf, json
        st, body, _ = req(ag.p1, "POST", "/telegraf", json.dumps({"temp": 20.5, "name": "x"}))
        check_eq(st, 204, "seed L0818: POST json → 204")
        st, _, _ = req(ag.p1, "PUT", "/telegraf", "{}")
        check_eq(st, 405, "PUT not in methods → 405")
        st, _, _ = req(ag.p1, "POST", "/other", "{}")
        check_eq(st, 404, "other path → 404")
        st, body, _ = req(ag.p1, "POST", "/telegraf", "{bad json")
        check_eq(st, 400, "malformed body → 400")
        gz = gzip.compress(json.dumps([{"temp": 1}, {"temp": 2}]).encode())
        st, _, _ = req(ag.p1, "POST", "/telegraf", gz, {"Content-Encoding": "gzip"})
        check_eq(st, 204, "gzip body → 204")
        st, _, _ = req(ag.p1, "POST", "/telegraf", b"\x1f\x8b garbage", {"Content-Encoding": "gzip"})
        check_eq(st, 400, "corrupt gzip → 400")
        ms = ag.metrics("http_listener_v2", wait_n=3)
        temps = sorted(m[2] for m in ms)
        check_eq(temps, ["temp=1", "temp=2", "temp=20.5"], "seed L0818 metrics (json numbers only)")
        # --- seed L0955: GET /health, json
        st, _, _ = req(ag.p2, "GET", "/health")
        check_eq(st, 204, "seed L0955: GET /health → 204")
        st, _, _ = req(ag.p2, "POST", "/health", "{}")
        check_eq(st, 405, "seed L0955: POST → 405")
        # --- custom http_listener_v2: auth, 413, tags
        auth = {"Authorization": "Basic dTpw"}  # u:p
        st, _, _ = req(ag.p3, "POST", "/a", "m v=1", {})
        check_eq(st, 401, "missing basic auth → 401")
        st, _, _ = req(ag.p3, "POST", "/a", "m v=1", {"Authorization": "Basic dTp4"})
        check_eq(st, 401, "wrong password → 401")
        st, _, _ = req(ag.p3, "POST", "/b", "lm,t=1 v=1i 1700000000000000000",
                       dict(auth, **{"X-Source": "unit"}))
        check_eq(st, 204, "influx body → 204")
        st, body, _ = req(ag.p3, "POST", "/a", "m v=1\n" * 400, auth)
        check_eq(st, 413, "over max_body_size (Content-Length) → 413")
        big = gzip.compress(b"m v=1\n" * 1000)
        st, body, _ = req(ag.p3, "POST", "/a", big, dict(auth, **{"Content-Encoding": "gzip"}))
        check(st == 413 and len(big) < 1024, "gzip inflating past max_body_size → 413", (st, len(big)))
        st, body, _ = req(ag.p3, "POST", "/a", "m v=", auth)
        check_eq(st, 400, "bad line protocol → 400")
        lm = ag.metrics("lm", wait_n=1)
        check(lm and lm[0][1] == {"t": "1", "source": "unit", "http_listener_v2_path": "/b"}
              and lm[0][3] == "1700000000000000000", "header tag + path tag + timestamp kept", lm)
        # --- a slow client holding a connection does not block others
        import socket
        slow = socket.create_connection(("127.0.0.1", ag.p4))
        slow.sendall(b"POST /write?db=x HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\nslow f=1i")
        t0 = time.time()
        st, _, _ = req(ag.p4, "POST", "/write?db=mydb", "fast f=1i\n")
        check(st == 204 and time.time() - t0 < 5, "a stalled upload does not block other writers")
        slow.close()
        # --- influxdb_listener (v1)
        st, _, h = req(ag.p4, "GET", "/ping")
        check_eq(st, 204, "v1 /ping → 204")
        st, body, _ = req(ag.p4, "GET", "/ping?verbose=true")
        check(st == 200 and "version" in body, "v1 /ping?verbose=true → 200 + version")
        st, body, _ = req(ag.p4, "POST", "/query?q=SHOW+DATABASES")
        check_eq((st, body), (200, '{"results":[]}'), "v1 /query stub")
        st, body, _ = req(ag.p4, "POST", "/write?db=mydb&rp=autogen&precision=s",
                          "v1m,a=1 f=1i 1700000000\nv1m,a=2 f=2i 1700000001\n")
        check_eq(st, 204, "v1 write → 204")
        st, body, h = req(ag.p4, "POST", "/write?db=mydb", "v1p f=1i\nbad line here\nv1p f=2i\nx y\n")
        check(st == 400 and "partial write" in body and "1 other parse error" in body,
              "v1 partial write → 400 naming the errors", (st, body))
        st, body, h = req(ag.p4, "POST", "/write?db=mydb",
                          gzip.compress(b"v1g f=1i\n"), {"Content-Encoding": "gzip"})
        check_eq(st, 204, "v1 gzip write")
        st, body, _ = req(ag.p4, "POST", "/write", "x f=1i\n" * 1000)
        check_eq(st, 413, "v1 over max_body_size → 413")
        st, _, _ = req(ag.p4, "GET", "/nothing")
        check_eq(st, 404, "v1 unknown path → 404")
        v1 = ag.metrics("v1m", wait_n=2)
        check(len(v1) == 2 and v1[0][1] == {"a": "1", "database": "mydb", "rp": "autogen"}
              and v1[0][3] == "1700000000000000000", "v1: precision=s, database/rp tags", v1)
        v1p = ag.metrics("v1p", wait_n=2)
        check_eq(len(v1p), 2, "v1 partial write kept the 2 good lines")
        check_eq(len(ag.metrics("v1g", wait_n=1)), 1, "v1 gzip metric arrived")
        # --- influxdb_v2_listener
        st, body, _ = req(ag.p5, "GET", "/health")
        check(st == 200 and json.loads(body).get("status") == "pass", "v2 /health")
        st, body, _ = req(ag.p5, "GET", "/api/v2/ready")
        check(st == 200 and json.loads(body).get("status") == "ready", "v2 /api/v2/ready")
        tok = {"Authorization": "Token tok"}
        st, body, _ = req(ag.p5, "POST", "/api/v2/write?bucket=b1", "v2m f=1i")
        check_eq(st, 401, "v2 without token → 401")
        st, body, _ = req(ag.p5, "POST", "/api/v2/write?bucket=b1&precision=ms",
                          "v2m f=1i 1700000000000", tok)
        check_eq(st, 204, "v2 write → 204")
        st, body, _ = req(ag.p5, "POST", "/api/v2/write?bucket=b1", "v2x f=1i\nbroken", tok)
        check(st == 400 and json.loads(body).get("code") == "invalid", "v2 bad line → 400 invalid")
        st, body, _ = req(ag.p5, "POST", "/api/v2/write?bucket=b1&precision=xx", "v2x f=1i", tok)
        check_eq(st, 400, "v2 bad precision → 400")
        v2 = ag.metrics("v2m", wait_n=1)
        check(v2 and v2[0][1] == {"bucket": "b1"} and v2[0][3] == "1700000000000000000",
              "v2: bucket tag, precision=ms", v2)
        time.sleep(1.5)
        check_eq(len(ag.metrics("v2x")), 0, "v2 rejected body: nothing kept")
    finally:
        rc = ag.stop()
    check_eq(rc, 0, "agent stops cleanly")


def test_port_in_use():
    d = tmpdir()
    import socket
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    s.listen(1)
    port = s.getsockname()[1]
    path = os.path.join(d, "a.conf")
    with open(path, "w") as f:
        f.write(f'[[inputs.influxdb_listener]]\n  service_address = "127.0.0.1:{port}"\n'
                '[[outputs.file]]\n  files = ["stdout"]\n')
    p = subprocess.run([sluice_bin(), "agent", "--config", path, "--test"], capture_output=True,
                       text=True, timeout=30)
    s.close()
    check("cannot listen" in p.stderr, "a port in use is reported", p.stderr)


if __name__ == "__main__":
    run([test_listeners, test_port_in_use])
