"""test_crash_kill9.py — durability of acknowledged writes across SIGKILL.

Four writer threads load a real `sluice serve` with batches of line protocol
(v1, v2 and v3 endpoints, ns precision, durable acknowledgements: no no_sync)
while the test kills the server with SIGKILL at random moments, at least 20
times, restarting it on the same data directory each time. A few of the kills
land while the server is still starting (WAL replay). Then:

* every start-up must succeed (a refusal to start is a failure);
* every point that got a 2xx must be present, after the last restart, with
  its exact field values (floats bit-exact, 63-bit integers, strings);
* every stored row must be one the writers sent (no garbage, no duplicates);
* a clean SIGTERM restart at the end gives the same rows.

Seeded by SLUICE_E2E_SEED (printed); the whole test stays well under three
minutes.
"""

import os
import random
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness as H  # noqa: E402

KILLS = int(os.environ.get("SLUICE_E2E_KILLS", "24"))
WRITERS = 4
BATCH = 50
T0 = 1_700_000_000_000_000_000
TABLES = {"v1": "crash_v1", "v2": "crash_v2", "v3": "crash_v3"}


class Writer(threading.Thread):
    def __init__(self, srv, wid, seed, stop):
        super().__init__(daemon=True)
        self.srv, self.wid, self.stop = srv, wid, stop
        self.rnd = random.Random(seed * 100 + wid)
        self.sent = {}  # (table, w, s, time) -> fields, every point ever sent
        self.acked = set()  # keys whose request got a 2xx
        self.requests = self.ok = self.errors = 0
        self.statuses = {}
        self.seq = 0

    def batch(self):
        api = self.rnd.choice(["v1", "v2", "v3"])
        table = TABLES[api]
        lines, keys = [], []
        for _ in range(BATCH):
            self.seq += 1
            t = T0 + self.wid * 10**12 + self.seq
            s = self.seq % 50
            f = self.rnd.random() * 10 ** self.rnd.randint(-5, 12)
            i = self.rnd.getrandbits(63) - (1 << 62)
            txt = f"w{self.wid}-{self.seq}"
            lines.append(f'{table},w={self.wid},s={s} f={f!r},i={i}i,txt="{txt}" {t}')
            key = (table, str(self.wid), str(s), t)
            self.sent[key] = {"f": f, "i": i, "txt": txt}
            keys.append(key)
        path = {"v1": "/write?db=crash&precision=ns",
                "v2": "/api/v2/write?bucket=crash&org=o&precision=ns",
                "v3": "/api/v3/write_lp?db=crash&precision=ns"}[api]
        return path, ("\n".join(lines) + "\n").encode(), keys

    def run(self):
        conn, port = None, None
        while not self.stop.is_set():
            path, body, keys = self.batch()
            try:
                if conn is None or port != self.srv.port:
                    if conn:
                        conn.close()
                    port = self.srv.port
                    if port is None:
                        raise OSError("server restarting")
                    conn = H.Conn(port, timeout=10)
                self.requests += 1
                r = conn.request("POST", path, body,
                                 {"Authorization": f"Token {self.srv.token}"})
                self.statuses[r.status] = self.statuses.get(r.status, 0) + 1
                if 200 <= r.status < 300:
                    self.acked.update(keys)
                    self.ok += 1
                elif r.status == 503:
                    time.sleep(0.05)
            except (OSError, Exception):  # killed mid-request: outcome unknown
                self.errors += 1
                if conn:
                    conn.close()
                conn = None
                time.sleep(0.02)
        if conn:
            conn.close()


def test_kill9_under_load():
    seed = int(os.environ.get("SLUICE_E2E_SEED", str(int(time.time()) % 100000)))
    print(f"# seed {seed} (set SLUICE_E2E_SEED to repeat)", flush=True)
    rnd = random.Random(seed)
    t_start = time.monotonic()
    srv = H.Server()
    stop = threading.Event()
    writers = [Writer(srv, w, seed, stop) for w in range(WRITERS)]
    for w in writers:
        w.start()
    start_failures = []
    start_times = []
    kills = 0
    try:
        while kills < KILLS:
            if kills % 6 == 5:
                # kill while the server starts (during WAL replay)
                srv.kill9()
                srv.start(wait=False)
                time.sleep(rnd.uniform(0.0, 0.05))
                srv.kill9()
                kills += 1
                try:
                    t1 = time.monotonic()
                    srv.start()
                    start_times.append(time.monotonic() - t1)
                except H.StartError as e:
                    start_failures.append(str(e))
                    break
                continue
            time.sleep(rnd.uniform(0.15, 0.8))
            srv.kill9()
            kills += 1
            try:
                t1 = time.monotonic()
                srv.start()
                start_times.append(time.monotonic() - t1)
            except H.StartError as e:
                start_failures.append(str(e))
                break
            if time.monotonic() - t_start > 150:
                print("# time budget reached", flush=True)
                break
        time.sleep(0.5)  # some load on the last incarnation
    finally:
        stop.set()
        for w in writers:
            w.join(30)
    H.check(not start_failures, f"all {srv.starts} start-ups succeeded",
            (start_failures[0][:120] + " ... " + start_failures[0][-1500:]) if start_failures else None)
    H.check(kills >= 20, f"killed the server with SIGKILL {kills} times under load")
    if start_failures:
        return
    print(f"# start-up took {min(start_times):.2f}..{max(start_times):.2f} s "
          f"(mean {sum(start_times) / len(start_times):.2f} s)", flush=True)
    reqs = sum(w.requests for w in writers)
    oks = sum(w.ok for w in writers)
    errs = sum(w.errors for w in writers)
    statuses = {}
    for w in writers:
        for k, v in w.statuses.items():
            statuses[k] = statuses.get(k, 0) + v
    print(f"# {reqs} requests, {oks} acknowledged, {errs} broken by kills, statuses "
          f"{statuses}", flush=True)
    H.check(oks >= 50, f"{oks} batches acknowledged ({oks * BATCH} points)")
    bad_status = {k: v for k, v in statuses.items() if not (200 <= k < 300 or k == 503)}
    H.check(not bad_status, "no request got an error status other than 503 overload", bad_status)

    def verify(label):
        stored = {}
        for table in TABLES.values():
            for row in srv.rows("crash", table, sort=False):
                key = (table, row.get("w"), row.get("s"), row["time"])
                stored.setdefault(key, []).append(row)
        sent, acked = {}, set()
        for w in writers:
            sent.update(w.sent)
            acked |= w.acked
        missing = [k for k in acked if k not in stored]
        wrong = [k for k in acked if k in stored and
                 {f: stored[k][0].get(f) for f in ("f", "i", "txt")} != sent[k]]
        dups = [k for k, v in stored.items() if len(v) > 1]
        alien = [k for k in stored if k not in sent]
        garbled = [k for k in stored if k in sent and k not in acked and
                   {f: stored[k][0].get(f) for f in ("f", "i", "txt")} != sent[k]]
        H.check(not missing, f"{label}: all {len(acked)} acknowledged points present",
                f"{len(missing)} missing, e.g. {sorted(missing)[:3]}")
        H.check(not wrong, f"{label}: every acknowledged point has its exact values",
                [(k, stored[k][0], sent[k]) for k in wrong[:3]])
        H.check(not dups and not alien and not garbled,
                f"{label}: {len(stored)} stored rows, all sent by the writers, none duplicated "
                f"or garbled ({len(stored) - len(acked)} unacknowledged points survived)",
                {"dups": dups[:3], "alien": alien[:3], "garbled": garbled[:3]})
        return stored

    t1 = time.monotonic()
    before = verify("after the last SIGKILL restart")
    print(f"# verification took {time.monotonic() - t1:.1f} s", flush=True)
    code = srv.stop()
    H.check_eq(code, 0, "SIGTERM shuts the server down cleanly (exit 0)")
    srv.start()
    after = verify("after a clean restart")
    H.check_eq(sorted(after), sorted(before), "the clean restart kept the same rows")
    dt = time.monotonic() - t_start
    H.check(dt < 180, f"crash test took {dt:.0f} s (< 180 s)")


if __name__ == "__main__":
    H.run([test_kill9_under_load])
