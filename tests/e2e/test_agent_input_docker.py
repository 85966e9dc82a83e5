#!/usr/bin/python3
"""test_agent_input_docker.py — inputs.docker against Engine API responses
(tests/e2e/data/docker/, see its README) served by this test on a unix
socket: no Docker engine runs on the test machines.

Runs both seed [[inputs.docker]] blocks (seed000_L0478, seed001_L0765) with
only the socket path adapted, and checks Telegraf's measurements, tags and
field types, with values computed by hand from the responses: engine
counts, memory usage without cache and its percent, cpu usage_percent from
the stats deltas, per-cpu, per-network and per-device metrics (perdevice =
true) and the totals that total = false leaves out, status/health, labels
and tag_env as tags, the link name skipped. Then the include/exclude
filters, the state filter sent to the engine, and broken answers (500,
truncated JSON, a socket that is gone) which must give errors, not crashes.
"""
import json
import os
import socketserver
import sys
import threading
import urllib.parse
from http.server import BaseHTTPRequestHandler

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import check, check_eq, run, tmpdir  # noqa: E402
from test_agent_input_redis import agent_test, parse_test_output  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
SRC = os.environ.get("SLUICE_SRC") or os.path.join(HERE, "..", "..")
DATA = os.path.join(HERE, "data", "docker")
WEB = "e2173b9478a6ae55e237d4d74f8bbb753f0817192b5081334dc78476296b7dfb"
DB = "b9f1cd3a0e3d7f7bc1e8e4a7c95d2f1a36f0b5b6a1c2d3e4f5a6b7c8d9e0f1a2"

requests = []
mode = {"broken": None}


def load(name):
    with open(os.path.join(DATA, name)) as f:
        return f.read()


class H(BaseHTTPRequestHandler):
    def log_message(self, *a):
        pass

    def address_string(self):
        return "unix"

    def do_GET(self):
        u = urllib.parse.urlparse(self.path)
        path = u.path
        parts = path.split("/")
        if len(parts) > 1 and parts[1].startswith("v1."):
            path = "/" + "/".join(parts[2:])
        requests.append(self.path)
        st, body = 404, '{"message":"page not found"}'
        if mode["broken"] == "500":
            st, body = 500, '{"message":"server error"}'
        elif path == "/info":
            st, body = 200, load("info.json")
            if mode["broken"] == "truncated":
                body = body[:100]
        elif path == "/containers/json":
            q = urllib.parse.parse_qs(u.query)
            states = json.loads(q.get("filters", ["{}"])[0]).get("status", [])
            cs = [c for c in json.loads(load("containers.json")) if not states or c["State"] in states]
            st, body = 200, json.dumps(cs)
        elif path.startswith("/containers/") and path.endswith("/stats"):
            st, body = 200, load(f"stats_{path.split('/')[2]}.json")
        elif path.startswith("/containers/") and path.endswith("/json"):
            st, body = 200, load(f"inspect_{path.split('/')[2]}.json")
        b = body.encode()
        self.send_response(st)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(b)))
        self.send_header("Api-Version", "1.43")
        self.end_headers()
        self.wfile.write(b)


class UnixHTTP(socketserver.ThreadingMixIn, socketserver.UnixStreamServer):
    daemon_threads = True


def serve(sock):
    srv = UnixHTTP(sock, H)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    return srv


def seed(name, sock):
    with open(os.path.join(SRC, "tests/unit/data/telegraf", name)) as f:
        text = f.read()
    check('endpoint = "unix:///var/run/docker.sock"' in text, f"{name}: endpoint as expected")
    return text.replace("unix:///var/run/docker.sock", f"unix://{sock}")


def by(ms, name, **tags):
    return [m for m in ms if m[0] == name and all(m[1].get(k) == v for k, v in tags.items())]


def test_seeds():
    d = tmpdir()
    sock = os.path.join(d, "docker.sock")
    srv = serve(sock)
    try:
        for name in ("seed000_L0478.conf", "seed001_L0765.conf"):
            requests.clear()
            rc, out, err = agent_test(seed(name, sock), d)
            check_eq(rc, 0, f"{name}: exit 0")
            ms = parse_test_output(out)
            eng = by(ms, "docker")
            check_eq(len(eng), 2, "two docker engine metrics")
            allf = {}
            for m in eng:
                allf.update(m[2])
                check_eq((m[1].get("engine_host"), m[1].get("server_version")),
                         ("docker-host-1", "24.0.7"), "engine tags")
            check_eq(allf, {"n_cpus": ("int", 4), "n_used_file_descriptors": ("int", 36),
                            "n_containers": ("int", 3), "n_containers_running": ("int", 2),
                            "n_containers_stopped": ("int", 1), "n_containers_paused": ("int", 0),
                            "n_images": ("int", 14), "n_goroutines": ("int", 44),
                            "n_listener_events": ("int", 0), "memory_total": ("int", 8229244928)},
                     "engine fields")
            lst = [r for r in requests if r.startswith("/containers/json")]
            check(lst and "running" in urllib.parse.unquote(lst[0]), "state filter running sent", lst)
            st = by(ms, "docker_container_status", container_name="web-1")
            check_eq(len(st), 1, "status metric for web-1")
            if st:
                t, f = st[0][1], st[0][2]
                check_eq((t["container_image"], t["container_version"], t["container_status"]),
                         ("nginx", "1.25.3", "running"), "image/version/status tags")
                check_eq(t.get("com.docker.compose.service"), "web", "labels become tags")
                check_eq(t.get("JAVA_HOME"), "/opt/java", "tag_env JAVA_HOME")
                check("NGINX_VERSION" not in t, "other env not tagged")
                check_eq(f.get("pid"), ("int", 4321), "pid int")
                check_eq(f.get("oomkilled"), ("bool", False), "oomkilled bool")
                check_eq(f.get("container_id"), ("string", WEB), "container_id string")
                check_eq(f.get("started_at"), ("int", 1699992800000000000), "started_at ns")
                check("finished_at" not in f and f.get("uptime_ns", ("?",))[0] == "int",
                      "running: no finished_at, uptime from now")
            dbst = by(ms, "docker_container_status", container_name="db-1")
            check(dbst and dbst[0][1]["container_image"] == "registry.example.com:5000/team/postgres"
                  and dbst[0][1]["container_version"] == "unknown", "registry image with port parsed")
            check(dbst and dbst[0][2].get("uptime_ns", ("?", 0))[0] == "int"
                  and dbst[0][2]["uptime_ns"][1] > 10**9 * 3600 * 24,
                  "finished before started: uptime counted from now (Telegraf)")
            check(dbst and dbst[0][2].get("exitcode") == ("int", 137)
                  and dbst[0][2].get("oomkilled") == ("bool", True)
                  and dbst[0][1].get("HEAP_SIZE") == "2g", "db status fields, tag_env HEAP_SIZE")
            check(not any(m[1].get("container_name") == "web-1/db" for m in ms), "link name skipped")
            h = by(ms, "docker_container_health", container_name="web-1")
            check(h and h[0][2] == {"health_status": ("string", "healthy"), "failing_streak": ("int", 0)},
                  "health metric")
            mem = by(ms, "docker_container_mem", container_name="web-1")
            if check(len(mem) == 1, "mem metric"):
                f = mem[0][2]
                check_eq(f.get("usage"), ("uint", 20971520 - 4194304), "usage = usage - total_inactive_file")
                check(abs(f["usage_percent"][1] - (20971520 - 4194304) / 8229244928 * 100) < 1e-9,
                      "usage_percent")
                check_eq(f.get("limit"), ("uint", 8229244928), "limit uint")
                check_eq(f.get("total_pgfault"), ("uint", 12000), "memory stats as uint")
                check_eq(f.get("hierarchical_memory_limit"), ("uint", 9223372036854771712),
                         "large counters exact")
                check("fail_count" not in f, "fail_count only when non-zero")
            dbm = by(ms, "docker_container_mem", container_name="db-1")
            check(dbm and dbm[0][2].get("usage") == ("uint", 104857600 - 20971520),
                  "cgroup v2: usage - inactive_file")
            cpu = by(ms, "docker_container_cpu", container_name="web-1", cpu="cpu-total")
            if check(len(cpu) == 1, "cpu-total metric"):
                f = cpu[0][2]
                check(abs(f["usage_percent"][1] - 100e6 / 4000e6 * 4 * 100) < 1e-9,
                      "usage_percent = Δcpu/Δsystem × online × 100", f.get("usage_percent"))
                check_eq(f.get("usage_total"), ("uint", 2000000000), "usage_total uint")
                check_eq(f.get("throttling_periods"), ("uint", 10), "throttling_periods")
            percpu = by(ms, "docker_container_cpu", container_name="web-1")
            check_eq(sorted(m[1]["cpu"] for m in percpu), ["cpu-total", "cpu0", "cpu1", "cpu2", "cpu3"],
                     "per-cpu metrics (perdevice)")
            net = by(ms, "docker_container_net", container_name="web-1")
            check_eq(sorted(m[1]["network"] for m in net), ["eth0", "eth1"],
                     "per-network, no total (total = false)")
            e0 = by(ms, "docker_container_net", network="eth0")
            check(e0 and e0[0][2].get("rx_bytes") == ("uint", 10240), "rx_bytes uint")
            check(not by(ms, "docker_container_net", container_name="db-1"), "host network: no net metric")
            blk = by(ms, "docker_container_blkio", container_name="web-1")
            check_eq(sorted(m[1]["device"] for m in blk), ["8:0", "8:16"], "per-device blkio, no total")
            b0 = by(ms, "docker_container_blkio", device="8:0")
            check(b0 and b0[0][2].get("io_service_bytes_recursive_read") == ("uint", 4096000)
                  and b0[0][2].get("io_serviced_recursive_write") == ("uint", 2), "blkio fields")
            stats_lines = [x for x in out.splitlines() if x.startswith("> docker_container_mem")
                           and "web-1" in x]
            # read = 2023-11-14T22:13:20.5Z, rounded to the default 1 s precision
            check(stats_lines and stats_lines[0].endswith(" 1700000001000000000"),
                  "stats carry the read time", stats_lines)
    finally:
        srv.shutdown()
        srv.server_close()


def test_options_and_errors():
    d = tmpdir()
    sock = os.path.join(d, "docker.sock")
    srv = serve(sock)
    try:
        base = f'[[inputs.docker]]\n  endpoint = "unix://{sock}"\n'
        rc, out, err = agent_test(base + '  container_name_exclude = ["web-*"]\n  total = true\n'
                                  '  perdevice = false\n  docker_label_exclude = ["com.docker.*"]\n'
                                  '  source_tag = true\n', d)
        ms = parse_test_output(out)
        names = {m[1].get("container_name") for m in ms if m[0].startswith("docker_container")}
        check_eq(names, {"db-1"}, "container_name_exclude")
        check(not any("com.docker.compose.project" in m[1] for m in ms), "docker_label_exclude")
        check(all(m[1].get("source") == DB[:12] for m in ms if m[0].startswith("docker_container")),
              "source_tag = first 12 chars of the id")
        tot = by(ms, "docker_container_blkio", device="total")
        check(tot and tot[0][2].get("io_service_bytes_recursive_read") == ("uint", 52428800),
              "total = true: blkio device=total")
        check(not by(ms, "docker_container_cpu", cpu="cpu0"), "perdevice = false: no per-cpu")
        requests.clear()
        rc, out, err = agent_test(base + '  container_state_include = ["exited", "paused"]\n', d)
        lst = [urllib.parse.unquote(r) for r in requests if r.startswith("/containers/json")]
        check(lst and '"exited"' in lst[0] and '"paused"' in lst[0] and "running" not in lst[0],
              "container_state_include sent to the engine", lst)
        check(not any(m[0].startswith("docker_container") for m in parse_test_output(out)),
              "no running container reported")
        for broken in ("500", "truncated"):
            mode["broken"] = broken
            rc, out, err = agent_test(base, d)
            check(rc == 0 and not parse_test_output(out) and "docker API" in err,
                  f"engine answers {broken}: an error, no crash", err)
        mode["broken"] = None
        rc, out, err = agent_test(base.replace(sock, sock + ".gone"), d)
        check(rc == 0 and "docker API" in err, "socket missing: an error", err)
        rc, out, err = agent_test(base + "  gather_services = true\n", d)
        check(rc != 0 and "gather_services" in err, "gather_services = true is a config error", err)
    finally:
        mode["broken"] = None
        srv.shutdown()
        srv.server_close()


if __name__ == "__main__":
    run([test_seeds, test_options_and_errors])
