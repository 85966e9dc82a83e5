#!/usr/bin/python3
"""test_agent_input_nginx.py — inputs.nginx and inputs.http_response against a
real nginx (Debian's), started on a free port with a temporary nginx.conf
(stub_status at /nginx_status, a text page, a redirect, a 404).

Seeds: seed001_L0780 (nginx) and seed000_L0495 (http_response, whose URLs
https://example.com and https://api.example.com/health are adapted to the
local nginx). Checks nginx's seven int fields against a stub_status page
read by the test, http_response's tags/fields/types and every result_code
this test can provoke: 0 success, 1 string mismatch, 2 body too large,
3 connection refused, 4 timeout (a socket that never answers), 5 DNS error,
6 status mismatch; follow_redirects on and off.
"""
import os
import re
import socket
import subprocess
import sys
import threading
import time
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import Skip, check, check_eq, need_tool, run, tmpdir  # noqa: E402
from test_agent_input_redis import agent_test, free_port, parse_test_output  # noqa: E402

SRC = os.environ.get("SLUICE_SRC") or os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
NGINX = "/usr/sbin/nginx"

NGINX_CONF = """
worker_processes 1;
daemon off;
pid {d}/nginx.pid;
error_log {d}/error.log;
events {{ worker_connections 64; }}
http {{
  access_log off;
  client_body_temp_path {d}/body;
  proxy_temp_path {d}/proxy;
  fastcgi_temp_path {d}/fcgi;
  uwsgi_temp_path {d}/uwsgi;
  scgi_temp_path {d}/scgi;
  server {{
    listen 127.0.0.1:{port};
    location = /nginx_status {{ stub_status; }}
    location = /health {{ return 200 "healthy: ok\\n"; }}
    location = /redirect {{ return 302 http://127.0.0.1:{port}/health; }}
    location = /missing {{ return 404 "no\\n"; }}
    location / {{ return 200 "hello world\\n"; }}
  }}
}}
"""


class Nginx:
    def __init__(self):
        need_tool(NGINX)
        self.d = tmpdir("sluice-nginx-")
        self.port = free_port()
        conf = os.path.join(self.d, "nginx.conf")
        with open(conf, "w") as f:
            f.write(NGINX_CONF.format(d=self.d, port=self.port))
        self.p = subprocess.Popen([NGINX, "-c", conf, "-p", self.d], stdout=subprocess.DEVNULL,
                                  stderr=subprocess.DEVNULL)
        for _ in range(100):
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
                return
            except OSError:
                time.sleep(0.05)
        self.stop()
        raise RuntimeError("nginx did not start")

    def stop(self):
        self.p.terminate()
        try:
            self.p.wait(5)
        except subprocess.TimeoutExpired:
            self.p.kill()
            self.p.wait()


def seed(name):
    with open(os.path.join(SRC, "tests/unit/data/telegraf", name)) as f:
        return f.read()


def test_nginx_seed():
    ng = Nginx()
    try:
        conf = seed("seed001_L0780.conf")
        check('"http://localhost/nginx_status"' in conf, "seed L0780 URL as expected")
        conf = conf.replace("http://localhost/", f"http://localhost:{ng.port}/")
        for _ in range(3):
            urllib.request.urlopen(f"http://127.0.0.1:{ng.port}/").read()
        rc, out, err = agent_test(conf, ng.d)
        check_eq(rc, 0, "agent --test exits 0")
        ms = parse_test_output(out)
        check_eq([m[0] for m in ms], ["nginx"], "one nginx metric")
        if not ms:
            return
        name, tags, f = ms[0]
        check_eq(tags.get("server"), "localhost", "tag server")
        check_eq(tags.get("port"), str(ng.port), "tag port")
        check_eq(sorted(f), sorted(["active", "accepts", "handled", "requests", "reading", "writing",
                                    "waiting"]), "the seven stub_status fields")
        check(all(v[0] == "int" for v in f.values()), "all ints")
        page = urllib.request.urlopen(f"http://127.0.0.1:{ng.port}/nginx_status").read().decode()
        reqs = int(re.search(r"\n\s*(\d+)\s+(\d+)\s+(\d+)", page).group(3))
        # the agent's request and ours came after our 3 page loads
        check(4 <= f["requests"][1] < reqs, "requests counter agrees with the page",
              (f["requests"], reqs))
        check_eq(f["accepts"][1] >= 4, True, "accepts counted our connections")
        check(f["active"][1] >= 1 and f["writing"][1] >= 1, "the agent's own request is active")
    finally:
        ng.stop()
    rc, out, err = agent_test(f'[[inputs.nginx]]\n  urls = ["http://127.0.0.1:{ng.port}/nginx_status"]\n',
                              ng.d)
    check(rc == 0 and not parse_test_output(out) and "error" in err, "nginx down: an error", err)


def silent_server():
    """A socket that accepts and never answers (for timeouts)."""
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    s.listen(8)
    conns = []

    def loop():
        while True:
            try:
                c, _ = s.accept()
                conns.append(c)
            except OSError:
                return
    threading.Thread(target=loop, daemon=True).start()
    return s


def test_http_response():
    ng = Nginx()
    silent = silent_server()
    try:
        base = f"http://127.0.0.1:{ng.port}"
        conf = seed("seed000_L0495.conf")
        check('"https://example.com", "https://api.example.com/health"' in conf, "seed L0495 URLs")
        conf = conf.replace("https://example.com", base + "/redirect").replace(
            "https://api.example.com/health", base + "/health")
        rc, out, err = agent_test(conf, ng.d)
        check_eq(rc, 0, "seed http_response: exit 0")
        ms = parse_test_output(out)
        check_eq(len(ms), 2, "one metric per URL")
        for name, tags, f in ms:
            check_eq(name, "http_response", "measurement")
            check_eq((tags.get("method"), tags.get("status_code"), tags.get("result")),
                     ("GET", "200", "success"), f"tags of {tags.get('server')} (redirect followed)")
            check_eq(f.get("result_code"), ("int", 0), "result_code 0")
            check_eq(f.get("result_type"), ("string", "success"), "result_type")
            check_eq(f.get("http_response_code"), ("int", 200), "http_response_code int")
            check_eq(f.get("content_length"), ("int", 12), "content_length = body bytes")
            rt = f.get("response_time", ("?", -1))
            check(rt[0] == "float" and 0 < rt[1] < 5, "response_time float seconds", rt)
        # every result code
        conf = f"""
[[inputs.http_response]]
  urls = ["{base}/health", "{base}/"]
  response_string_match = "healthy"
[[inputs.http_response]]
  urls = ["{base}/"]
  response_body_max_size = "5B"
[[inputs.http_response]]
  urls = ["http://127.0.0.1:{free_port()}/", "http://no-such-host.invalid/"]
[[inputs.http_response]]
  urls = ["http://127.0.0.1:{silent.getsockname()[1]}/"]
  response_timeout = "1s"
[[inputs.http_response]]
  urls = ["{base}/missing", "{base}/redirect"]
  response_status_code = 200
"""
        t0 = time.time()
        rc, out, err = agent_test(conf, ng.d)
        ms = {m[1]["server"]: m for m in parse_test_output(out)}
        codes = {k: v[2].get("result_code", ("?", None))[1] for k, v in ms.items()}
        check_eq(codes.get(f"{base}/health"), 0, "string match → 0")
        m = ms.get(f"{base}/health")
        check(m and m[2].get("response_string_match") == ("int", 1), "response_string_match=1")
        got = sorted(v[2]["result_code"][1] for v in parse_test_output(out)
                     if v[1]["server"] == f"{base}/")
        check_eq(got, [1, 2], "string mismatch → 1, body over max → 2")
        byres = {v[1]["result"]: v for v in parse_test_output(out)}
        bm = byres.get("response_string_mismatch")
        check(bm and bm[2].get("response_string_match") == ("int", 0), "response_string_match=0")
        bre = byres.get("body_read_error")
        check(bre and bre[2].get("content_length") == ("int", 6), "body_read_error content_length = max+1")
        cf = byres.get("connection_failed")
        check(cf and cf[2].get("result_code") == ("int", 3) and "response_time" not in cf[2]
              and "status_code" not in cf[1], "connection refused → 3, no response fields")
        dn = byres.get("dns_error")
        check(dn and dn[2].get("result_code") == ("int", 5), "dns error → 5")
        to = byres.get("timeout")
        check(to and to[2].get("result_code") == ("int", 4), "timeout → 4")
        sm = ms.get(f"{base}/missing")
        check(sm and sm[2].get("result_code") == ("int", 6) and sm[1].get("status_code") == "404"
              and sm[2].get("response_status_code_match") == ("int", 0), "status mismatch → 6")
        red = ms.get(f"{base}/redirect")
        check(red and red[1].get("status_code") == "302", "follow_redirects defaults to false")
        check(time.time() - t0 < 15, "the timeout is honoured")
        # hostile configs
        rc, out, err = agent_test('[[inputs.http_response]]\n  urls = ["http://x/"]\n'
                                  '  response_string_match = "("\n', ng.d)
        check(rc != 0 and "response_string_match" in err, "bad regex is a config error", err)
    finally:
        silent.close()
        ng.stop()


if __name__ == "__main__":
    run([test_nginx_seed, test_http_response])
