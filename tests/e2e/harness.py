"""harness.py — shared machinery for sluice's end-to-end tests.

What it gives a test:

* Server: starts `sluice serve` on a free port (port 0, the real port read
  from the server's log line) with a temporary data directory, waits for
  /health, reads the operator token from DATA_DIR/operator-token, offers HTTP
  helpers, SIGKILL/SIGTERM, restart on the same data directory, the
  inspection path (GET /api/sluice/debug/rows, JSON lines) and memory
  readings from /proc. HTTP goes through http.client (stdlib), which, unlike
  urllib, can read an answer a server sends before the whole body is up.
  Every server and temporary directory is registered and removed at exit,
  also when a test fails or is interrupted.
* Checks: a tiny runner. `check(cond, what)` records a result and goes on,
  `run(tests)` runs test functions, prints each result and a closing line
  "N passed, N failed", and exits 0, 1 (a failure) or 77 (skipped: a needed
  external tool is missing).

Environment: SLUICE_BIN is the sluice binary (ctest sets it).
"""

import atexit
import base64
import gzip
import http.client
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import traceback
import urllib.parse

SKIP = 77

# ---------------------------------------------------------------- results

_passed = 0
_failed = 0
_failures = []


class Skip(Exception):
    """Raised when an external tool the test needs is absent (exit 77)."""


def check(cond, what, detail=None):
    """Records one assertion; prints it; never raises."""
    global _passed, _failed
    if cond:
        _passed += 1
        print(f"ok   - {what}", flush=True)
    else:
        _failed += 1
        _failures.append(what)
        msg = f"FAIL - {what}"
        if detail is not None:
            msg += f"\n       {detail}"
        print(msg, flush=True)
    return bool(cond)


def check_eq(actual, expected, what):
    return check(actual == expected, what, f"expected {expected!r}\n       got      {actual!r}")


def need_tool(path_or_name):
    """Skips the test (exit 77) when an external program is not installed."""
    if os.path.sep in path_or_name:
        ok = os.path.exists(path_or_name)
    else:
        ok = shutil.which(path_or_name) is not None
    if not ok:
        raise Skip(f"{path_or_name} is not installed")


def run(tests):
    """Runs test functions in order, each in isolation, then exits."""
    global _failed
    skipped = []
    for t in tests:
        print(f"# {t.__name__}", flush=True)
        try:
            t()
        except Skip as e:
            print(f"skip - {t.__name__}: {e}", flush=True)
            skipped.append(t.__name__)
        except Exception:  # a crashed test is a failure, and the next one still runs
            _failed += 1
            _failures.append(f"{t.__name__} raised")
            print(f"FAIL - {t.__name__} raised:\n{traceback.format_exc()}", flush=True)
        finally:
            cleanup_servers()
    print(f"{_passed} passed, {_failed} failed, {len(skipped)} skipped", flush=True)
    if _failed:
        print("failures:\n  " + "\n  ".join(_failures), flush=True)
        sys.exit(1)
    if skipped and _passed == 0:
        sys.exit(SKIP)
    sys.exit(0)


# ---------------------------------------------------------------- cleanup

_servers = []
_tmpdirs = []


def cleanup_servers():
    for s in list(_servers):
        s.close()


def _cleanup_all():
    cleanup_servers()
    for d in _tmpdirs:
        shutil.rmtree(d, ignore_errors=True)


atexit.register(_cleanup_all)


def _on_signal(signum, frame):  # ctest timeout or Ctrl-C: still clean up
    raise SystemExit(128 + signum)


signal.signal(signal.SIGTERM, _on_signal)


def tmpdir(prefix="sluice-e2e-"):
    d = tempfile.mkdtemp(prefix=prefix)
    _tmpdirs.append(d)
    return d


def sluice_bin():
    """SLUICE_BIN, or else the newest build*/sluice of the repository."""
    b = os.environ.get("SLUICE_BIN")
    if not b:
        import glob
        root = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
        cands = glob.glob(os.path.join(root, "build*", "sluice"))
        if cands:
            b = os.path.abspath(max(cands, key=os.path.getmtime))
    if not b or not os.path.exists(b):
        raise RuntimeError("SLUICE_BIN is not set or does not exist: build the sluice target")
    return b


# ---------------------------------------------------------------- HTTP


class Response:
    def __init__(self, status, headers, body):
        self.status = status
        self.headers = headers  # dict, lower-case names
        self.body = body  # bytes

    @property
    def text(self):
        return self.body.decode("utf-8", "replace")

    def json(self):
        return json.loads(self.body)

    def header(self, name):
        return self.headers.get(name.lower())

    def __repr__(self):
        return f"<{self.status} {self.text[:300]!r}>"


def http_request(url, method="GET", body=None, headers=None, timeout=30):
    """One request on a fresh connection (http.client); any status is returned,
    never raised. A server may answer early (413) and close while the body is
    still being sent: the answer is then read if it arrived; status 0 means
    the connection broke with no answer."""
    if isinstance(body, str):
        body = body.encode()
    u = urllib.parse.urlsplit(url)
    path = u.path + ("?" + u.query if u.query else "")
    c = http.client.HTTPConnection(u.hostname, u.port, timeout=timeout)
    try:
        h = dict(headers or {})
        if body is None and method in ("POST", "PUT", "PATCH"):
            body = b""
        try:
            c.request(method, path, body=body, headers=h)
        except (BrokenPipeError, ConnectionResetError):
            pass  # answered early: try to read the answer below
        try:
            r = c.getresponse()
            data = r.read()
        except (ConnectionResetError, http.client.RemoteDisconnected, BrokenPipeError):
            return Response(0, {}, b"")
        return Response(r.status, {k.lower(): v for k, v in r.getheaders()}, data)
    finally:
        c.close()


class Conn:
    """A keep-alive connection (http.client) for load generators."""

    def __init__(self, port, host="127.0.0.1", timeout=30):
        self.host, self.port, self.timeout = host, port, timeout
        self.c = None

    def request(self, method, path, body=None, headers=None):
        """Retries once when a reused keep-alive connection turns out closed."""
        for attempt in (0, 1):
            reused = self.c is not None
            if self.c is None:
                self.c = http.client.HTTPConnection(self.host, self.port, timeout=self.timeout)
            try:
                self.c.request(method, path, body=body, headers=headers or {})
                r = self.c.getresponse()
                data = r.read()
                hdrs = {k.lower(): v for k, v in r.getheaders()}
                if r.will_close:
                    self.close()
                return Response(r.status, hdrs, data)
            except (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError):
                self.close()
                if attempt or not reused:
                    raise
            except BaseException:
                self.close()
                raise
        raise AssertionError("unreachable")

    def close(self):
        if self.c is not None:
            self.c.close()
            self.c = None


def gz(data):
    if isinstance(data, str):
        data = data.encode()
    return gzip.compress(data)


def basic(user, password):
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


# ---------------------------------------------------------------- server

_PORT_RE = re.compile(r"listening on \S+ \(port (\d+)\)")


class StartError(Exception):
    pass


class Server:
    """A `sluice serve` process on a temporary (or given) data directory.

    args: extra command-line options; auth: False adds --without-auth;
    wrapper: a command prefix (e.g. ["fiu-run", "-x"]); env: extra environment.
    """

    def __init__(self, args=(), auth=True, data_dir=None, wrapper=(), env=None, start=True,
                 host="127.0.0.1"):
        self.bin = sluice_bin()
        self.args = list(args)
        self.auth = auth
        self.wrapper = list(wrapper)
        self.env = dict(env or {})
        self.host = host
        self.base_dir = tmpdir()
        self.data_dir = data_dir or os.path.join(self.base_dir, "data")
        self.log_path = os.path.join(self.base_dir, "server.log")
        self.proc = None
        self.port = None
        self.token = None
        self.starts = 0
        _servers.append(self)
        if start:
            self.start()

    # ---- process control

    def cmdline(self):
        cmd = self.wrapper + [self.bin, "serve", "--data-dir", self.data_dir,
                              "--http-bind", f"{self.host}:0"] + self.args
        if not self.auth:
            cmd.append("--without-auth")
        return cmd

    def start(self, timeout=30, expect_ok=True, wait=True):
        """Starts the server and waits until /health answers. Returns True when
        it is up; with expect_ok=False a failed start returns False instead of
        raising; wait=False returns right after the process was spawned (to
        kill it while it starts)."""
        assert self.proc is None or self.proc.poll() is not None, "already running"
        env = dict(os.environ)
        env.update(self.env)
        self.log_offset = os.path.getsize(self.log_path) if os.path.exists(self.log_path) else 0
        logf = open(self.log_path, "ab")
        self.proc = subprocess.Popen(self.cmdline(), stdout=logf, stderr=subprocess.STDOUT,
                                     stdin=subprocess.DEVNULL, env=env)
        logf.close()
        self.starts += 1
        self.port = None
        if not wait:
            return True
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                if expect_ok:
                    raise StartError(f"server exited with {self.proc.returncode} at start:\n"
                                     + self.log_tail())
                return False
            m = _PORT_RE.search(self.log_since_start())
            if m:
                self.port = int(m.group(1))
                r = self.try_get("/health")
                if r is not None and r.status in (200, 503):
                    break
            time.sleep(0.02)
        else:
            raise StartError("server did not become ready:\n" + self.log_tail())
        if self.auth and self.token is None:
            with open(os.path.join(self.data_dir, "operator-token")) as f:
                self.token = f.read().strip()
        return True

    def log_since_start(self):
        try:
            with open(self.log_path, "rb") as f:
                f.seek(self.log_offset)
                return f.read().decode("utf-8", "replace")
        except FileNotFoundError:
            return ""

    def log(self):
        try:
            with open(self.log_path, "rb") as f:
                return f.read().decode("utf-8", "replace")
        except FileNotFoundError:
            return ""

    def log_tail(self, n=40):
        return "\n".join(self.log().splitlines()[-n:])

    @property
    def pid(self):
        return self.proc.pid if self.proc else None

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def kill9(self):
        if self.alive():
            self.proc.kill()
        if self.proc:
            self.proc.wait()

    def stop(self, timeout=20):
        """SIGTERM and wait; returns the exit code (SIGKILL after timeout)."""
        if not self.alive():
            return self.proc.returncode if self.proc else None
        self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            return None

    def restart(self, kill=False, **kw):
        if kill:
            self.kill9()
        else:
            self.stop()
        return self.start(**kw)

    def close(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        if self in _servers:
            _servers.remove(self)

    # ---- memory (Linux /proc)

    def proc_status(self, key):
        with open(f"/proc/{self.pid}/status") as f:
            for line in f:
                if line.startswith(key + ":"):
                    return int(line.split()[1]) * 1024
        return None

    def rss(self):
        return self.proc_status("VmRSS")

    def hwm(self):
        return self.proc_status("VmHWM")

    def reset_hwm(self):
        """Resets VmHWM to the current RSS (Linux >= 4.0); False if not allowed."""
        try:
            with open(f"/proc/{self.pid}/clear_refs", "w") as f:
                f.write("5")
            return True
        except OSError:
            return False

    # ---- HTTP

    @property
    def url(self):
        return f"http://{self.host}:{self.port}"

    def auth_headers(self, token=None):
        t = self.token if token is None else token
        return {"Authorization": f"Token {t}"} if t else {}

    def request(self, method, path, body=None, params=None, headers=None, token=None,
                auth=True, timeout=30):
        """token=None uses the operator token; auth=False sends no credentials."""
        url = self.url + path
        if params:
            url += ("&" if "?" in path else "?") + urllib.parse.urlencode(params)
        h = {}
        if auth:
            h.update(self.auth_headers(token))
        h.update(headers or {})
        return http_request(url, method, body, h, timeout)

    def get(self, path, **kw):
        return self.request("GET", path, **kw)

    def post(self, path, body=None, **kw):
        return self.request("POST", path, body, **kw)

    def try_get(self, path):
        try:
            return http_request(self.url + path, timeout=2)
        except (OSError, http.client.HTTPException):
            return None

    def write_v1(self, db, body, precision=None, **kw):
        p = {"db": db}
        if precision:
            p["precision"] = precision
        p.update(kw.pop("extra", {}))
        return self.post("/write", body, params=p, **kw)

    def write_v2(self, bucket, body, precision=None, org="myorg", **kw):
        p = {"org": org, "bucket": bucket}
        if precision:
            p["precision"] = precision
        p.update(kw.pop("extra", {}))
        return self.post("/api/v2/write", body, params=p, **kw)

    def write_v3(self, db, body, precision=None, **kw):
        p = {"db": db}
        if precision:
            p["precision"] = precision
        p.update(kw.pop("extra", {}))
        return self.post("/api/v3/write_lp", body, params=p, **kw)

    def rows(self, db, table, sort=True):
        """The stored, deduplicated rows of db.table as dicts, sorted by
        (time, tags) unless sort=False; [] when the table does not exist."""
        r = self.get("/api/sluice/debug/rows", params={"db": db, "table": table})
        if r.status == 404:
            return []
        if r.status != 200:
            raise AssertionError(f"inspection path answered {r.status}: {r.text}")
        out = [json.loads(line) for line in r.text.splitlines() if line.strip()]
        if sort:
            out.sort(key=lambda d: (d["time"], sorted((k, str(v)) for k, v in d.items())))
        return out

    def metrics(self):
        """/metrics parsed into {name{labels}: float}."""
        r = self.get("/metrics")
        out = {}
        for line in r.text.splitlines():
            if not line or line.startswith("#"):
                continue
            k, _, v = line.rpartition(" ")
            out[k] = float(v)
        return out


def wait_until(fn, timeout=10, interval=0.05):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        v = fn()
        if v:
            return v
        time.sleep(interval)
    return fn()


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


def rows_without_time(rows):
    return [{k: v for k, v in r.items() if k != "time"} for r in rows]
