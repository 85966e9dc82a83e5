#!/usr/bin/python3
"""test_agent_input_prometheus.py — inputs.prometheus scraping a text
exposition served by the test (an HTTP server thread on a free port).

Checks the metric_version 1 mapping (gauge/counter/untyped/summary/
histogram fields, labels as tags, the url tag, sample timestamps and
ignore_timestamp), the Accept header, basic auth and bearer tokens, a 500
answer, a malformed page and an unreachable URL (errors, no crash), and
that unsupported options are start-up errors.
"""
import base64
import os
import sys
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import check, check_eq, run, tmpdir  # noqa: E402
from test_agent_input_redis import agent_test, free_port, parse_test_output  # noqa: E402

PAGE = """# HELP go_goroutines Number of goroutines that currently exist.
# TYPE go_goroutines gauge
go_goroutines 42
# HELP http_requests_total The total number of HTTP requests.
# TYPE http_requests_total counter
http_requests_total{method="post",code="200"} 1027 1700000000000
http_requests_total{method="post",code="400"}    3 1700000000000
# TYPE some_untyped untyped
some_untyped 7.5
# HELP rpc_duration_seconds A summary of the RPC duration in seconds.
# TYPE rpc_duration_seconds summary
rpc_duration_seconds{quantile="0.5"} 4773
rpc_duration_seconds{quantile="0.99"} 76656
rpc_duration_seconds_sum 1.7560473e+07
rpc_duration_seconds_count 2693
# HELP req_latency A histogram.
# TYPE req_latency histogram
req_latency_bucket{le="0.1"} 3
req_latency_bucket{le="1"} 5
req_latency_bucket{le="+Inf"} 6
req_latency_sum 2.5
req_latency_count 6
"""

seen = {}


class H(BaseHTTPRequestHandler):
    def log_message(self, *a):
        pass

    def do_GET(self):
        seen["accept"] = self.headers.get("Accept")
        seen["auth"] = self.headers.get("Authorization")
        if self.path == "/metrics":
            body, st = PAGE, 200
        elif self.path == "/auth":
            ok = self.headers.get("Authorization") in (
                "Basic " + base64.b64encode(b"u:p").decode(), "Bearer tok123")
            body, st = (PAGE, 200) if ok else ("no", 401)
        elif self.path == "/bad":
            body, st = "this is { not prometheus\n", 200
        else:
            body, st = "boom", 500
        b = body.encode()
        self.send_response(st)
        self.send_header("Content-Type", "text/plain; version=0.0.4")
        self.send_header("Content-Length", str(len(b)))
        self.end_headers()
        self.wfile.write(b)


def serve():
    srv = HTTPServer(("127.0.0.1", 0), H)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    return srv


def test_scrape():
    srv = serve()
    d = tmpdir()
    url = f"http://127.0.0.1:{srv.server_address[1]}/metrics"
    try:
        rc, out, err = agent_test(f'[[inputs.prometheus]]\n  urls = ["{url}"]\n  metric_version = 1\n', d)
        check_eq(rc, 0, "exit 0")
        check("text/plain" in (seen.get("accept") or ""), "Accept asks for the text format")
        ms = parse_test_output(out)
        by = {}
        for m in ms:
            by.setdefault(m[0], []).append(m)
        check_eq(sorted(by), ["go_goroutines", "http_requests_total", "req_latency",
                              "rpc_duration_seconds", "some_untyped"], "one measurement per family")
        g = by["go_goroutines"][0]
        check_eq(g[2], {"gauge": ("float", 42.0)}, "gauge → field gauge")
        check_eq(g[1].get("url"), url, "url tag")
        c = {m[1]["code"]: m for m in by["http_requests_total"]}
        check_eq(c["200"][2], {"counter": ("float", 1027.0)}, "counter → field counter")
        check_eq(c["200"][1].get("method"), "post", "labels → tags")
        check_eq(by["some_untyped"][0][2], {"value": ("float", 7.5)}, "untyped → value")
        s = by["rpc_duration_seconds"][0][2]
        check(s.get("0.5") == ("float", 4773.0) and s.get("count") == ("float", 2693.0)
              and s.get("sum", ("?",))[0] == "float", "summary fields", s)
        h = by["req_latency"][0][2]
        check(h.get("0.1") == ("float", 3.0) and h.get("+Inf") == ("float", 6.0)
              and h.get("count") == ("float", 6.0), "histogram fields", h)
        lines = [x for x in out.splitlines() if x.startswith("> http_requests_total")]
        check(all(x.endswith(" 1700000000000000000") for x in lines), "sample timestamps kept (ms → ns)")
        rc, out, err = agent_test(f'[[inputs.prometheus]]\n  urls = ["{url}"]\n  ignore_timestamp = true\n'
                                  '  url_tag = ""\n', d)
        lines = [x for x in out.splitlines() if x.startswith("> http_requests_total")]
        check(lines and not any(x.endswith(" 1700000000000000000") for x in lines), "ignore_timestamp")
        check(not any("url=" in x for x in out.splitlines()), "url_tag = \"\" drops the tag")
        base = f"http://127.0.0.1:{srv.server_address[1]}"
        rc, out, err = agent_test(f'[[inputs.prometheus]]\n  urls = ["{base}/auth"]\n'
                                  '  username = "u"\n  password = "p"\n', d)
        check(parse_test_output(out), "basic auth", err)
        tokf = os.path.join(d, "token")
        with open(tokf, "w") as f:
            f.write("tok123\n")
        rc, out, err = agent_test(f'[[inputs.prometheus]]\n  urls = ["{base}/auth"]\n'
                                  f'  bearer_token = "{tokf}"\n', d)
        check(parse_test_output(out) and seen.get("auth") == "Bearer tok123", "bearer token file", err)
        rc, out, err = agent_test(f'[[inputs.prometheus]]\n  urls = ["{base}/err", "{base}/bad", '
                                  f'"http://127.0.0.1:{free_port()}/", "{url}"]\n', d)
        check(rc == 0 and "500" in err and "metrics from" in err, "500 and malformed page: errors", err)
        check(any(m[0] == "go_goroutines" for m in parse_test_output(out)), "the good URL still scraped")
        rc, out, err = agent_test(f'[[inputs.prometheus]]\n  urls = ["{url}"]\n  metric_version = 2\n', d)
        check(rc != 0 and "metric_version" in err, "metric_version 2 is a config error", err)
        rc, out, err = agent_test('[[inputs.prometheus]]\n  monitor_kubernetes_pods = true\n', d)
        check(rc != 0 and "monitor_kubernetes_pods" in err, "kubernetes discovery is a config error", err)
    finally:
        srv.shutdown()


if __name__ == "__main__":
    run([test_scrape])
