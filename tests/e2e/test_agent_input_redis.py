#!/usr/bin/python3
"""test_agent_input_redis.py — inputs.redis against a real redis-server.

Starts redis-server (Debian's) on a free port in a temp dir, loads the seeds'
[[inputs.redis]] block (tests/unit/data/telegraf/seed001_L0796.conf) with
only its address adapted to that port, runs `sluice agent --test` and checks
Telegraf's measurements, tags and field types against INFO as redis-cli sees
it; then a password-protected server (password in the option and in the
URL), a server that is down (an error, no crash) and a unix socket.
"""
import os
import re
import socket
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import Skip, check, check_eq, need_tool, run, sluice_bin, tmpdir  # noqa: E402

SRC = os.environ.get("SLUICE_SRC") or os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
SEED = os.path.join(SRC, "tests/unit/data/telegraf/seed001_L0796.conf")
REDIS = "/usr/bin/redis-server"


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


def lp_split(s, seps):
    """Splits s at unescaped characters of seps outside double quotes."""
    out, cur, q, i = [], "", False, 0
    while i < len(s):
        c = s[i]
        if c == "\\" and i + 1 < len(s):
            cur += s[i:i + 2]
            i += 2
            continue
        if c == '"':
            q = not q
        if c in seps and not q:
            out.append(cur)
            cur = ""
        else:
            cur += c
        i += 1
    out.append(cur)
    return out


def unesc(s):
    return re.sub(r"\\(.)", r"\1", s)


def parse_test_output(text):
    """`> ` lines of --test into [(name, tags, {field: (type, value)})]."""
    res = []
    for line in text.splitlines():
        if not line.startswith("> "):
            continue
        parts = lp_split(line[2:], " ")
        key, fields = parts[0], parts[1]
        kp = lp_split(key, ",")
        tags = dict(unesc(t).split("=", 1) for t in kp[1:])
        fd = {}
        for f in lp_split(fields, ","):
            k, v = f.split("=", 1)
            if v.startswith('"'):
                fd[unesc(k)] = ("string", v[1:-1])
            elif v.endswith("i"):
                fd[unesc(k)] = ("int", int(v[:-1]))
            elif v.endswith("u"):
                fd[unesc(k)] = ("uint", int(v[:-1]))
            elif v in ("true", "false"):
                fd[unesc(k)] = ("bool", v == "true")
            else:
                fd[unesc(k)] = ("float", float(v))
        res.append((unesc(kp[0]), tags, fd))
    return res


def agent_test(conf_text, d, timeout=30):
    path = os.path.join(d, "agent.conf")
    with open(path, "w") as f:
        f.write(conf_text)
    p = subprocess.run([sluice_bin(), "agent", "--config", path, "--test"], capture_output=True,
                       text=True, timeout=timeout)
    return p.returncode, p.stdout, p.stderr


def start_redis(d, port, extra=()):
    need_tool(REDIS)
    p = subprocess.Popen([REDIS, "--port", str(port), "--bind", "127.0.0.1", "--save", "",
                          "--appendonly", "no", "--dir", d, *extra],
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for _ in range(100):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return p
        except OSError:
            time.sleep(0.05)
    p.kill()
    raise RuntimeError("redis-server did not start")


def stop(p):
    p.terminate()
    try:
        p.wait(5)
    except subprocess.TimeoutExpired:
        p.kill()
        p.wait()


def redis_cli(port, *args, password=None):
    cmd = ["redis-cli", "-p", str(port)]
    if password:
        cmd += ["-a", password, "--no-auth-warning"]
    return subprocess.run(cmd + list(args), capture_output=True, text=True, timeout=10).stdout


def seed_conf(port):
    with open(SEED) as f:
        text = f.read()
    check("tcp://localhost:6379" in text, "seed config has the address the test adapts")
    return text.replace("tcp://localhost:6379", f"tcp://localhost:{port}")


def test_seed_config():
    d = tmpdir()
    port = free_port()
    p = start_redis(d, port)
    try:
        redis_cli(port, "set", "k1", "v")
        redis_cli(port, "set", "k2", "v", "EX", "1000")
        redis_cli(port, "get", "k1")
        redis_cli(port, "get", "missing")
        rc, out, err = agent_test(seed_conf(port), d)
        check_eq(rc, 0, "agent --test exits 0")
        ms = parse_test_output(out)
        names = [m[0] for m in ms]
        check("redis" in names and "redis_keyspace" in names and "redis_cmdstat" in names,
              "redis, redis_keyspace, redis_cmdstat reported", names)
        r = [m for m in ms if m[0] == "redis"][0]
        check_eq(r[1].get("server"), "localhost", "tag server")
        check_eq(r[1].get("port"), str(port), "tag port")
        check_eq(r[1].get("replication_role"), "master", "tag replication_role")
        f = r[2]
        check_eq(f.get("clients", ("?",))[0], "int", "clients is an int")
        check(f.get("clients", (0, 0))[1] >= 1, "clients >= 1")
        check_eq(f.get("uptime", ("?",))[0], "int", "uptime is an int")
        check_eq(f.get("redis_version", ("?",))[0], "string", "redis_version is a string")
        check_eq(f.get("mem_fragmentation_ratio", ("?",))[0], "float", "mem_fragmentation_ratio float")
        check_eq(f.get("used_cpu_sys", ("?",))[0], "float", "used_cpu_sys float")
        check_eq(f.get("keyspace_hitrate"), ("float", 0.5), "keyspace_hitrate = 1 hit / 2 lookups")
        check("rdb_last_save_time_elapsed" in f, "rdb_last_save_time_elapsed")
        check(not any(k.endswith("_human") for k in f), "no *_human fields")
        check("redis_git_sha1" not in f and "mem_allocator" not in f, "Server section filtered")
        info = redis_cli(port, "info", "all")
        used = int(re.search(r"^total_commands_processed:(\d+)", info, re.M).group(1))
        check(0 < f.get("total_commands_processed", (0, 0))[1] <= used,
              "total_commands_processed agrees with INFO")
        ks = [m for m in ms if m[0] == "redis_keyspace"][0]
        check_eq(ks[1].get("database"), "db0", "keyspace tag database")
        check_eq(ks[2].get("keys"), ("int", 2), "keyspace keys = 2")
        check_eq(ks[2].get("expires"), ("int", 1), "keyspace expires = 1")
        cs = {m[1]["command"]: m[2] for m in ms if m[0] == "redis_cmdstat"}
        check_eq(cs.get("get", {}).get("calls"), ("int", 2), "cmdstat get calls = 2")
        check_eq(cs.get("get", {}).get("usec_per_call", ("?",))[0], "float", "usec_per_call float")
    finally:
        stop(p)


def test_password_and_down():
    d = tmpdir()
    port = free_port()
    p = start_redis(d, port, ("--requirepass", "s3cret"))
    try:
        conf = f'[[inputs.redis]]\n  servers = ["tcp://localhost:{port}"]\n  password = "s3cret"\n'
        rc, out, err = agent_test(conf, d)
        check(any(m[0] == "redis" for m in parse_test_output(out)), "password option authenticates", err)
        conf = f'[[inputs.redis]]\n  servers = ["tcp://:s3cret@localhost:{port}"]\n'
        rc, out, err = agent_test(conf, d)
        check(any(m[0] == "redis" for m in parse_test_output(out)), "password in the URL", err)
        conf = f'[[inputs.redis]]\n  servers = ["tcp://localhost:{port}"]\n  password = "wrong"\n'
        rc, out, err = agent_test(conf, d)
        check(not parse_test_output(out) and "AUTH" in err, "wrong password: an error, no metric", err)
    finally:
        stop(p)
    conf = f'[[inputs.redis]]\n  servers = ["tcp://127.0.0.1:{port}"]\n'
    rc, out, err = agent_test(conf, d)
    check(rc == 0 and not parse_test_output(out) and "connecting" in err,
          "server down: logged error, agent still exits 0", (rc, err))


def test_unix_socket():
    d = tmpdir()
    port = free_port()
    sock = os.path.join(d, "redis.sock")
    p = start_redis(d, port, ("--unixsocket", sock))
    try:
        for _ in range(50):
            if os.path.exists(sock):
                break
            time.sleep(0.05)
        rc, out, err = agent_test(f'[[inputs.redis]]\n  servers = ["unix://{sock}"]\n', d)
        ms = [m for m in parse_test_output(out) if m[0] == "redis"]
        check(ms and ms[0][1].get("socket") == sock, "unix socket: tag socket", (out, err))
    finally:
        stop(p)


def test_commands():
    d = tmpdir()
    port = free_port()
    p = start_redis(d, port)
    try:
        redis_cli(port, "set", "sample-key", "hello")
        redis_cli(port, "set", "n", "42")
        redis_cli(port, "rpush", "q", "a", "b", "c")
        conf = f"""[[inputs.redis]]
  servers = ["tcp://127.0.0.1:{port}"]
  [[inputs.redis.commands]]
    command = ["get", "sample-key"]
    field = "sample_value"
    type = "string"
  [[inputs.redis.commands]]
    command = ["llen", "q"]
    field = "queue_len"
    type = "integer"
  [[inputs.redis.commands]]
    command = ["get", "n"]
    field = "n"
"""
        rc, out, err = agent_test(conf, d)
        ms = [m for m in parse_test_output(out) if m[0] == "redis_commands"]
        check(ms and ms[0][2] == {"sample_value": ("string", "hello"), "queue_len": ("int", 3),
                                  "n": ("float", 42.0)}, "redis_commands fields typed", (out, err))
        check(ms and ms[0][1].get("server") == "127.0.0.1" and ms[0][1].get("port") == str(port),
              "redis_commands tags")
        rc, out, err = agent_test(f'[[inputs.redis]]\n  servers = ["tcp://127.0.0.1:{port}"]\n'
                                  '  [[inputs.redis.commands]]\n    command = ["get", "x"]\n'
                                  '    field = "x"\n    type = "blob"\n', d)
        check(rc != 0 and "type" in err, "bad command type is a config error", err)
    finally:
        stop(p)


if __name__ == "__main__":
    run([test_seed_config, test_password_and_down, test_unix_socket, test_commands])
