#!/usr/bin/python3
"""test_agent_input_exec_tail.py — inputs.exec and inputs.tail.

exec: influx output of a command, quoting, a glob program, environment, a
non-zero exit (error naming the command, output dropped; kept with
ignore_error), the timeout (killed, the gather ends in time), json output.

tail: the seeds' block seed000_L0526 (json, tag_keys, json_string_fields,
from_beginning = false, inotify) with only its glob moved to a temp dir,
plus poll mode. The agent runs with an outputs.file; the test appends lines
and checks that old lines are skipped, new ones arrive once with the path
tag, and — offsets are persisted — lines written while the agent is
stopped arrive after a restart exactly once (no loss, no repeat), also
after a rotation and a truncation; a partial last line waits for its
newline; a malformed line is skipped with an error.
"""
import json
import os
import signal
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import check, check_eq, run, sluice_bin, tmpdir  # noqa: E402
from test_agent_input_redis import agent_test, lp_split, parse_test_output, unesc  # noqa: E402

SRC = os.environ.get("SLUICE_SRC") or os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")


def test_exec():
    d = tmpdir()
    script = os.path.join(d, "collect-1.sh")
    with open(script, "w") as f:
        f.write('#!/bin/sh\necho "scr argc=$#i,arg=\\"$1\\",env=\\"$MYVAR\\""\n')
    os.chmod(script, 0o755)
    conf = f"""
[[inputs.exec]]
  commands = ["echo 'q,t=a\\\\ b v=1.5,n=3i'", "{d}/collect-*.sh 'x y'", "sh -c 'echo oops >&2; echo e v=1; exit 2'"]
  environment = ["MYVAR=hello"]
  timeout = "5s"
[[inputs.exec]]
  commands = ["sh -c 'echo kept v=1i; exit 1'"]
  ignore_error = true
  name_override = "kept"
[[inputs.exec]]
  commands = ["echo '{{\\"a\\": 1, \\"s\\": \\"x\\"}}'"]
  data_format = "json"
"""
    rc, out, err = agent_test(conf, d)
    ms = {m[0]: m for m in parse_test_output(out)}
    check_eq(rc, 0, "exec: exit 0")
    q = ms.get("q")
    check(q and q[1].get("t") == "a b" and q[2].get("n") == ("int", 3) and q[2].get("v") == ("float", 1.5),
          "influx output parsed", out)
    s = ms.get("scr")
    check(s and s[2].get("arg") == ("string", "x y") and s[2].get("argc") == ("int", 1)
          and s[2].get("env") == ("string", "hello"),
          "glob program, quoted argument, environment", out)
    check("e" not in ms and 'exit status 2' in err and "oops" in err and "sh -c" in err,
          "non-zero exit: error with command and stderr, output dropped", err)
    check("kept" in ms, "ignore_error keeps the output")
    check(ms.get("exec") and ms["exec"][2].get("a") == ("float", 1.0), "json output named exec")
    conf = '[[inputs.exec]]\n  commands = ["sleep 30", "echo fast v=1i"]\n  timeout = "1s"\n'
    t0 = time.time()
    rc, out, err = agent_test(conf, d)
    dt = time.time() - t0
    check("timed out" in err and dt < 10, f"timeout kills the command ({dt:.1f}s)", err)
    check([m[0] for m in parse_test_output(out)] == ["fast"], "the next command still runs")
    rc, out, err = agent_test('[[inputs.exec]]\n  commands = ["echo \'unterminated"]\n', d)
    check("cannot split" in err, "unterminated quote reported", err)
    rc, out, err = agent_test('[[inputs.exec]]\n  commands = ["/nonexistent/prog"]\n', d)
    check(rc == 0 and "exit status 127" in err, "missing program: error, no crash", err)


class TailAgent:
    def __init__(self, d, conf_text):
        self.d = d
        self.out = os.path.join(d, "out.lp")
        self.path = os.path.join(d, "agent.conf")
        with open(self.path, "w") as f:
            f.write(conf_text + f'\n[agent]\n  interval = "1s"\n  flush_interval = "1s"\n'
                    f'  omit_hostname = true\n[[outputs.file]]\n  files = ["{self.out}"]\n')
        self.p = None

    def start(self):
        self.log = open(os.path.join(self.d, "agent.log"), "a")
        env = dict(os.environ, SLUICE_AGENT_STATE_DIR=os.path.join(self.d, "state"))
        self.p = subprocess.Popen([sluice_bin(), "agent", "--config", self.path], stdout=self.log,
                                  stderr=self.log, env=env)
        time.sleep(1.0)

    def stop(self):
        self.p.send_signal(signal.SIGTERM)
        try:
            self.p.wait(10)
        except subprocess.TimeoutExpired:
            self.p.kill()
        self.log.close()
        return self.p.returncode

    def lines(self):
        try:
            with open(self.out) as f:
                return f.read().splitlines()
        except FileNotFoundError:
            return []

    def wait(self, n, secs=8):
        t = time.time() + secs
        while time.time() < t and len(self.lines()) < n:
            time.sleep(0.2)
        time.sleep(0.3)
        return self.lines()


def msgs(lines):
    res = []
    for line in lines:
        parts = lp_split(line, " ")
        for f in lp_split(parts[1], ","):
            k, v = f.split("=", 1)
            if k == "message":
                res.append(unesc(v[1:-1]))
    return res


def append(path, text):
    with open(path, "a") as f:
        f.write(text)


def jl(i, **kw):
    return json.dumps(dict({"message": f"m{i}", "level": "info", "service": "api", "ms": i}, **kw)) + "\n"


def tail_run(watch):
    d = tmpdir()
    logdir = os.path.join(d, "app")
    os.mkdir(logdir)
    with open(os.path.join(SRC, "tests/unit/data/telegraf/seed000_L0526.conf")) as f:
        conf = f.read()
    check('"/var/log/app/*.log"' in conf, "seed L0526 glob as expected")
    conf = conf.replace("/var/log/app/", logdir + "/")
    if watch == "poll":
        conf = conf.replace('watch_method = "inotify"', 'watch_method = "poll"')
    log = os.path.join(logdir, "app.log")
    append(log, jl(0) + jl(1))  # present before start: skipped (from_beginning = false)
    ag = TailAgent(d, conf)
    ag.start()
    try:
        append(log, jl(2) + jl(3))
        lines = ag.wait(2)
        check_eq(msgs(lines), ["m2", "m3"], f"{watch}: only lines written after start")
        line = lines[0] if lines else ""
        check(line.startswith("tail,") and f"path={log}" in line and "level=info" in line
              and "service=api" in line and "ms=2" in line, f"{watch}: seed shape (tags, fields)", line)
        append(log, jl(4)[:-10])  # partial line
        time.sleep(1.5)
        check_eq(msgs(ag.lines()), ["m2", "m3"], f"{watch}: a partial line waits")
        append(log, jl(4)[-10:] + "{not json\n" + jl(5))
        check_eq(msgs(ag.wait(4)), ["m2", "m3", "m4", "m5"], f"{watch}: completed line + bad line skipped")
        # a new file matching the glob is read from its beginning
        append(os.path.join(logdir, "other.log"), jl(6))
        check_eq(sorted(msgs(ag.wait(5))), ["m2", "m3", "m4", "m5", "m6"], f"{watch}: new file read")
    finally:
        check_eq(ag.stop(), 0, f"{watch}: agent stops cleanly")
    # while stopped: more lines; restart must read exactly those
    append(log, jl(7) + jl(8))
    ag.start()
    try:
        got = msgs(ag.wait(7))
        check_eq(sorted(got), ["m2", "m3", "m4", "m5", "m6", "m7", "m8"],
                 f"{watch}: restart resumes at the saved offset (no loss, no repeat)")
        # rotation: rename (no longer matches *.log) and a new app.log
        append(log, jl(9))
        ag.wait(8)
        os.rename(log, log + ".1")
        append(log + ".1", jl(10))  # written to the old file just after the rename
        append(log, jl(11))
        got = msgs(ag.wait(10))
        check_eq(sorted(got[-3:]), ["m10", "m11", "m9"], f"{watch}: rotation drains the old file")
        # truncation
        open(log, "w").close()
        time.sleep(1.5)  # a truncation is seen as the file shrinking below the offset
        append(log, jl(12))
        got = msgs(ag.wait(11))
        check_eq(got[-1:], ["m12"], f"{watch}: truncation re-reads from 0")
    finally:
        ag.stop()
    state = os.listdir(os.path.join(d, "state"))
    check(len(state) == 1 and state[0].startswith("tail-"), f"{watch}: one state file", state)
    with open(os.path.join(d, "state", state[0])) as f:
        st = f.read()
    check(st.startswith("sluice-tail-state 1\n") and log in st, f"{watch}: state file format", st)
    check_eq(len(msgs(ag.lines())), len(set(msgs(ag.lines()))), f"{watch}: no line twice")


def test_tail_inotify():
    tail_run("inotify")


def test_tail_poll():
    tail_run("poll")


def test_tail_doublestar():
    d = tmpdir()
    os.makedirs(os.path.join(d, "a", "b"))
    for rel, line in (("a/b/x.log", "dx v=1i\n"), ("y.log", "dy v=2i\n"), ("a/z.txt", "dz v=3i\n")):
        append(os.path.join(d, rel), line)
    conf = (f'[[inputs.tail]]\n  files = ["{d}/**.log"]\n  initial_read_offset = "beginning"\n'
            f'  state_directory = "{d}/state"\n')
    path = os.path.join(d, "agent.conf")
    with open(path, "w") as f:
        f.write(conf)
    p = subprocess.run([sluice_bin(), "agent", "--config", path, "--test", "--test-wait", "5"],
                       capture_output=True, text=True, timeout=30)
    names = sorted(m[0] for m in parse_test_output(p.stdout))
    check_eq(names, ["dx", "dy"], "** matches files in every subdirectory, not *.txt")
    check(os.path.isdir(os.path.join(d, "state")), "state_directory option used")


def test_tail_bad_config():
    d = tmpdir()
    for opt, word in (('watch_method = "fsevents"', "watch_method"),
                      ('initial_read_offset = "middle"', "initial_read_offset"),
                      ('pipe = true', "pipe")):
        rc, out, err = agent_test(f'[[inputs.tail]]\n  files = ["{d}/x"]\n  {opt}\n', d)
        check(rc != 0 and word in err, f"tail rejects {opt}", err)


if __name__ == "__main__":
    run([test_exec, test_tail_inotify, test_tail_poll, test_tail_doublestar, test_tail_bad_config])
