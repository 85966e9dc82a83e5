#!/usr/bin/python3
"""test_agent_outage.py — the agent survives an outage of its output server.

Setup: a real `sluice serve` (harness.Server); the agent reaches it through a
small TCP relay on a fixed port owned by this test, so the server can be
stopped and restarted (on a new port) while the agent's URL stays the same.
The relay counts every connection the agent opens: while the server is down
each connection is one write attempt, which is the number of requests the
agent made during the outage.

The agent collects inputs.mem every 1 s (one point per second) and writes to
outputs.influxdb_v2 (flush_interval 1 s) and to outputs.file, whose file is
the ground truth of what was gathered.

1. Memory buffer: the server is stopped for OUTAGE seconds (15 s, 60 s with
   SLUICE_LONG_TESTS=1; SLUICE_OUTAGE_S overrides); halfway, SIGHUP reloads
   the agent (buffered metrics must survive). The server is restarted; the
   test waits for the agent's own backoff to deliver. Every gathered point
   must be in the server, and the number of requests during the outage must
   be bounded (printed: "requests during outage: N").
2. Disk buffer: the same outage, and the agent is kill -9'd a third of the
   way in and restarted with the same configuration, which is reloaded with
   SIGHUP two thirds of the way in. After the server is back, SIGUSR1 makes
   the agent flush at once (instead of waiting out its backoff). Every point gathered by
   either agent process must be in the server.
"""
import os
import signal
import socket
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from harness import check, check_eq  # noqa: E402

LONG = os.environ.get("SLUICE_LONG_TESTS") == "1"
OUTAGE = float(os.environ.get("SLUICE_OUTAGE_S", "60" if LONG else "15"))
BUCKET = "outage"


class Relay:
    """Forwards 127.0.0.1:port to the current upstream port; counts
    connections (total and while the upstream is unreachable)."""

    def __init__(self):
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(64)
        self.port = self.sock.getsockname()[1]
        self.upstream = None
        self.connections = 0
        self.refused = 0
        self.lock = threading.Lock()
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while True:
            try:
                c, _ = self.sock.accept()
            except OSError:
                return
            with self.lock:
                self.connections += 1
                up = self.upstream
            try:
                u = socket.create_connection(("127.0.0.1", up), timeout=2) if up else None
            except OSError:
                u = None
            if u is None:
                with self.lock:
                    self.refused += 1
                c.close()
                continue
            u.settimeout(None)
            for a, b in ((c, u), (u, c)):
                threading.Thread(target=self._pipe, args=(a, b), daemon=True).start()

    @staticmethod
    def _pipe(src, dst):
        try:
            while True:
                d = src.recv(65536)
                if not d:
                    break
                dst.sendall(d)
        except OSError:
            pass
        for s in (src, dst):
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def counts(self):
        with self.lock:
            return self.connections, self.refused


def agent_config(relay, token, out_file, disk_dir=None):
    buf = ""
    if disk_dir:
        buf = f'  buffer_strategy = "disk"\n  buffer_directory = "{disk_dir}"\n'
    return f"""
[agent]
  interval = "1s"
  round_interval = true
  flush_interval = "1s"
  flush_jitter = "0s"
  metric_batch_size = 1000
  metric_buffer_limit = 10000
  omit_hostname = true
{buf}
[[inputs.mem]]
  fieldinclude = ["total", "used"]

[[outputs.influxdb_v2]]
  urls = ["http://127.0.0.1:{relay.port}"]
  token = "{token}"
  organization = "myorg"
  bucket = "{BUCKET}"
  timeout = "2s"

[[outputs.file]]
  files = ["{out_file}"]
  data_format = "influx"
"""


class Agent:
    def __init__(self, conf_path, log_path):
        self.conf_path = conf_path
        self.log_path = log_path
        self.proc = None

    def start(self):
        logf = open(self.log_path, "ab")
        self.proc = subprocess.Popen([harness.sluice_bin(), "agent", "--config", self.conf_path],
                                     stdout=logf, stderr=subprocess.STDOUT,
                                     stdin=subprocess.DEVNULL)
        logf.close()

    def signal(self, sig):
        self.proc.send_signal(sig)

    def kill9(self):
        self.proc.kill()
        self.proc.wait()

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    def log(self):
        with open(self.log_path, "rb") as f:
            return f.read().decode("utf-8", "replace")


def gathered_times(out_file):
    """Timestamps (ns) of the mem points the agent wrote to its file."""
    ts = set()
    try:
        with open(out_file) as f:
            for line in f:
                if line.startswith("mem"):
                    ts.add(int(line.split()[-1]))
    except FileNotFoundError:
        pass
    return ts


def server_times(server):
    try:
        rows = server.rows(BUCKET, "mem", sort=False)
    except Exception:  # noqa: BLE001 - the server may be down
        return set()
    return {int(r["time"]) if not isinstance(r["time"], str) else r["time"] for r in rows}


def normalise(server, ts_set):
    """The inspection path may give RFC 3339 strings: map them to ns."""
    out = set()
    for t in ts_set:
        if isinstance(t, int):
            out.add(t)
        else:
            from datetime import datetime
            dt = datetime.fromisoformat(t.replace("Z", "+00:00"))
            out.add(int(dt.timestamp()) * 1_000_000_000 + dt.microsecond * 1000)
    return out


def wait_all_delivered(server, out_file, timeout):
    deadline = time.monotonic() + timeout
    missing = None
    while time.monotonic() < deadline:
        want = gathered_times(out_file)
        have = normalise(server, server_times(server))
        missing = {t for t in want if t not in have}
        # the last gathers may not be flushed yet: only older points count
        newest = max(want) if want else 0
        missing = {t for t in missing if t < newest - 3_000_000_000}
        if want and not missing:
            return want, have, missing
        time.sleep(0.5)
    return gathered_times(out_file), normalise(server, server_times(server)), missing


def outage_run(disk):
    name = "disk buffer" if disk else "memory buffer"
    work = harness.tmpdir("sluice-outage-")
    server = harness.Server()
    relay = Relay()
    relay.upstream = server.port
    out_file = os.path.join(work, "gathered.lp")
    conf = os.path.join(work, "telegraf.conf")
    disk_dir = os.path.join(work, "buffer") if disk else None
    with open(conf, "w") as f:
        f.write(agent_config(relay, server.token, out_file, disk_dir))
    agent = Agent(conf, os.path.join(work, "agent.log"))
    agent.start()
    try:
        # warm-up: points flow
        ok = harness.wait_until(lambda: len(normalise(server, server_times(server))) >= 3, 15, 0.3)
        check(ok, f"{name}: points reach the server before the outage",
              agent.log()[-2000:] if not ok else None)
        # outage
        server.stop()
        relay.upstream = None
        c0, r0 = relay.counts()
        t_out = time.monotonic()
        killed = False
        reloaded = False
        while time.monotonic() - t_out < OUTAGE:
            el = time.monotonic() - t_out
            if disk and not killed and el >= OUTAGE / 3:
                agent.kill9()
                killed = True
                time.sleep(1.0)
                agent.start()
            if disk and killed and not reloaded and el >= OUTAGE * 2 / 3:
                agent.signal(signal.SIGHUP)  # the reopened disk buffer survives a reload
                reloaded = True
            if not disk and not reloaded and el >= OUTAGE / 2:
                agent.signal(signal.SIGHUP)
                reloaded = True
            time.sleep(0.2)
        c1, r1 = relay.counts()
        during = c1 - c0
        print(f"# {name}: requests during the {OUTAGE:.0f} s outage: {during} "
              f"(all refused: {r1 - r0})", flush=True)
        # bound: exponential backoff, doubling from 1 s, capped at 30 s; a
        # reload or restart starts a fresh backoff (one extra series)
        bound = 12 if OUTAGE <= 20 else 20
        check(during <= bound, f"{name}: at most {bound} requests during the outage (got {during})")
        check(during >= 1, f"{name}: the agent did try during the outage")
        # recovery
        server.start()
        relay.upstream = server.port
        if disk:
            agent.signal(signal.SIGUSR1)
        # memory: the agent's own backoff (at most 30 s) brings the data
        want, have, missing = wait_all_delivered(server, out_file, 60 if not disk else 30)
        check(len(want) >= OUTAGE * 0.8,
              f"{name}: the agent gathered through the outage ({len(want)} points)")
        check(not missing, f"{name}: every gathered point arrived after the outage "
              f"({len(want)} gathered, {len(missing or ())} missing)",
              sorted(missing)[:10] if missing else None)
        log = agent.log()
        if disk:
            check("found in" in log, f"{name}: the restarted agent replays its disk buffer")
        check("SIGHUP" in log and "reload failed" not in log, f"{name}: SIGHUP reload logged")
    finally:
        agent.stop()
        server.close()


def test_outage_memory_buffer():
    outage_run(disk=False)


def test_outage_disk_buffer_kill9():
    outage_run(disk=True)


if __name__ == "__main__":
    harness.run([test_outage_memory_buffer, test_outage_disk_buffer_kill9])
