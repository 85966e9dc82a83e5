#!/usr/bin/python3
"""test_agent_system.py — `sluice agent --test` agrees with the system.

Runs the agent on a seed-like configuration (cpu mem disk net system
processes, as in the course's telegraf.conf) with --test and checks every
printed metric against /proc and statvfs read by this test: totals match,
percentages lie within 0-100, and measurement, tag and field names and field
types are Telegraf's. Also checks the `> ` prefix, that usage_* appear (cpu is
gathered twice) and the error path for an unknown option.
"""
import os
import re
import subprocess
import sys
import tempfile

BIN = os.environ.get("SLUICE_BIN")
if not BIN or not os.path.exists(BIN):
    print("SLUICE_BIN not set or missing; skipping")
    sys.exit(77)
if not os.path.exists("/proc/stat"):
    sys.exit(77)

CONFIG = """
[agent]
  interval = "10s"
  round_interval = true
  metric_batch_size = 1000
  metric_buffer_limit = 10000
  collection_jitter = "0s"
  flush_interval = "10s"
  flush_jitter = "0s"
  precision = "0s"
  hostname = ""
  omit_hostname = false

[[outputs.influxdb_v2]]
  urls = ["http://127.0.0.1:9"]
  token = "my-super-secret-token"
  organization = "my-org"
  bucket = "my-bucket"
  timeout = "5s"
  user_agent = "telegraf"

[[inputs.cpu]]
  percpu = true
  totalcpu = true
  collect_cpu_time = false
  report_active = false

[[inputs.mem]]

[[inputs.disk]]
  ignore_fs = ["tmpfs", "devtmpfs", "devfs", "iso9660", "overlay", "aufs", "squashfs"]

[[inputs.net]]

[[inputs.system]]

[[inputs.processes]]
"""

failures = []


def check(cond, msg):
    if not cond:
        failures.append(msg)


def split_unescaped(s, sep):
    out, cur, i, inq = [], "", 0, False
    while i < len(s):
        c = s[i]
        if c == "\\" and i + 1 < len(s):
            cur += s[i:i + 2]
            i += 2
            continue
        if c == '"':
            inq = not inq
        if c == sep and not inq:
            out.append(cur)
            cur = ""
        else:
            cur += c
        i += 1
    out.append(cur)
    return out


def unescape(s):
    return re.sub(r"\\(.)", r"\1", s)


def parse_line(line):
    """Returns (measurement, tags, fields{name: (type, value)}, ts)."""
    parts = split_unescaped(line, " ")
    assert len(parts) == 3, line
    head, fields_s, ts = parts
    hp = split_unescaped(head, ",")
    name = unescape(hp[0])
    tags = {}
    for t in hp[1:]:
        k, v = split_unescaped(t, "=")
        tags[unescape(k)] = unescape(v)
    fields = {}
    for f in split_unescaped(fields_s, ","):
        k, v = f.split("=", 1)
        k = unescape(k)
        if v.startswith('"'):
            fields[k] = ("string", v[1:-1].replace('\\"', '"').replace("\\\\", "\\"))
        elif v.endswith("i"):
            fields[k] = ("int", int(v[:-1]))
        elif v.endswith("u"):
            fields[k] = ("uint", int(v[:-1]))
        elif v in ("true", "false"):
            fields[k] = ("bool", v == "true")
        else:
            fields[k] = ("float", float(v))
    return name, tags, fields, int(ts)


def netdev():
    res = {}
    with open("/proc/net/dev") as f:
        for line in f.readlines()[2:]:
            name, rest = line.split(":", 1)
            v = [int(x) for x in rest.split()]
            res[name.strip()] = {"bytes_recv": v[0], "packets_recv": v[1], "bytes_sent": v[8],
                                 "packets_sent": v[9]}
    return res


def meminfo():
    res = {}
    with open("/proc/meminfo") as f:
        for line in f:
            k, rest = line.split(":", 1)
            p = rest.split()
            res[k] = int(p[0]) * (1024 if len(p) > 1 and p[1] == "kB" else 1)
    return res


with tempfile.TemporaryDirectory() as d:
    conf = os.path.join(d, "telegraf.conf")
    with open(conf, "w") as f:
        f.write(CONFIG)
    net_before = netdev()
    with open("/proc/uptime") as f:
        uptime_before = float(f.read().split()[0])
    r = subprocess.run([BIN, "agent", "--config", conf, "--test"], capture_output=True, text=True,
                       timeout=60)
    net_after = netdev()
    check(r.returncode == 0, f"exit code {r.returncode}: {r.stderr}")
    lines = [l for l in r.stdout.splitlines() if l.strip()]
    check(len(lines) > 0, "no output")
    metrics = []
    for l in lines:
        check(l.startswith("> "), f"line without '> ' prefix: {l!r}")
        metrics.append(parse_line(l[2:]))

    hostname = os.uname().nodename
    by_name = {}
    for name, tags, fields, ts in metrics:
        by_name.setdefault(name, []).append((tags, fields, ts))
        check(tags.get("host") == hostname, f"{name}: host tag {tags.get('host')!r} != {hostname!r}")
        check(ts % 1_000_000_000 == 0, f"{name}: timestamp {ts} not rounded to 1 s")
    for want in ("cpu", "mem", "disk", "net", "system", "processes"):
        check(want in by_name, f"no {want} metrics")

    # ---- cpu
    ncpu_lines = 0
    with open("/proc/stat") as f:
        for line in f:
            if re.match(r"cpu\d+ ", line):
                ncpu_lines += 1
    cpus = by_name.get("cpu", [])
    cpu_tags = sorted(t["cpu"] for t, _, _ in cpus)
    check(len(cpus) == ncpu_lines + 1, f"cpu: {len(cpus)} metrics for {ncpu_lines} cpus + total")
    check("cpu-total" in cpu_tags, "cpu: no cpu-total")
    usage = ["usage_guest", "usage_guest_nice", "usage_idle", "usage_iowait", "usage_irq",
             "usage_nice", "usage_softirq", "usage_steal", "usage_system", "usage_user"]
    for tags, fields, _ in cpus:
        check(sorted(fields) == usage, f"cpu {tags}: fields {sorted(fields)}")
        total = 0.0
        for k, (t, v) in fields.items():
            check(t == "float", f"cpu.{k} is {t}, want float")
            check(-1e-9 <= v <= 100 + 1e-9, f"cpu.{k} = {v} outside 0..100")
            total += v
        check(abs(total - 100) < 0.01, f"cpu {tags['cpu']}: usage fields sum to {total}")

    # ---- mem
    mi = meminfo()
    for tags, fields, _ in by_name.get("mem", []):
        for k, (t, v) in fields.items():
            want = "float" if k.endswith("_percent") else "int"
            check(t == want, f"mem.{k} is {t}, want {want}")
        tot = fields["total"][1]
        check(tot == mi["MemTotal"], f"mem.total {tot} != MemTotal {mi['MemTotal']}")
        avail = fields["available"][1]
        check(abs(avail - mi["MemAvailable"]) < 0.05 * tot, "mem.available far from MemAvailable")
        check(fields["used"][1] == tot - avail, "mem.used != total - available")
        check(abs(fields["used_percent"][1] - 100.0 * (tot - avail) / tot) < 1e-6,
              "mem.used_percent inconsistent")
        check(abs(fields["available_percent"][1] - 100.0 * avail / tot) < 1e-6,
              "mem.available_percent inconsistent")
        check(fields["swap_total"][1] == mi["SwapTotal"], "mem.swap_total")
        check(fields["cached"][1] >= mi["Cached"], "mem.cached must include SReclaimable")
        for k in ("active", "buffered", "free", "inactive", "slab", "swap_free", "dirty",
                  "shared", "sreclaimable", "sunreclaim", "commit_limit", "committed_as"):
            check(k in fields, f"mem: no field {k}")
        for k in ("used_percent", "available_percent"):
            check(0 <= fields[k][1] <= 100, f"mem.{k} outside 0..100")

    # ---- disk
    disks = by_name.get("disk", [])
    paths = [t["path"] for t, _, _ in disks]
    check("/" in paths, f"disk: no metric for / (got {paths})")
    disk_fields = {"free": "int", "inodes_free": "int", "inodes_total": "int",
                   "inodes_used": "int", "inodes_used_percent": "float", "total": "int",
                   "used": "int", "used_percent": "float"}
    for tags, fields, _ in disks:
        check(set(tags) >= {"path", "device", "fstype", "mode", "host"}, f"disk tags {tags}")
        check(tags["fstype"] not in ("tmpfs", "devtmpfs", "overlay", "squashfs"),
              f"disk: ignored fstype {tags['fstype']} reported")
        check(tags["mode"] in ("rw", "ro"), f"disk mode {tags['mode']}")
        check(not tags["device"].startswith("/dev/"), "disk device keeps /dev/")
        for k, want in disk_fields.items():
            check(k in fields and fields[k][0] == want, f"disk.{k} missing or not {want}")
        st = os.statvfs(tags["path"])
        check(fields["total"][1] == st.f_blocks * st.f_bsize,
              f"disk {tags['path']}: total {fields['total'][1]} != {st.f_blocks * st.f_bsize}")
        check(fields["inodes_total"][1] == st.f_files, f"disk {tags['path']}: inodes_total")
        check(abs(fields["free"][1] - st.f_bavail * st.f_bsize) < 0.01 * fields["total"][1] + 2**26,
              f"disk {tags['path']}: free far from statvfs")
        u, fr = fields["used"][1], fields["free"][1]
        if u + fr:
            check(abs(fields["used_percent"][1] - 100.0 * u / (u + fr)) < 1e-6,
                  "disk.used_percent != used/(used+free)")
        check(0 <= fields["used_percent"][1] <= 100, "disk.used_percent outside 0..100")

    # ---- net
    nets = {t["interface"]: f for t, f, _ in by_name.get("net", []) if t["interface"] != "all"}
    check("lo" not in nets, "net: loopback reported by default")
    for ifname, flags_path in ((i, f"/sys/class/net/{i}/flags") for i in net_before):
        try:
            with open(flags_path) as f:
                flags = int(f.read(), 16)
        except OSError:
            continue
        want = bool(flags & 1) and not flags & 8
        check((ifname in nets) == want, f"net: interface {ifname} reported={ifname in nets}, "
                                        f"expected={want}")
    for ifname, fields in nets.items():
        for k in ("bytes_sent", "bytes_recv", "packets_sent", "packets_recv", "err_in", "err_out",
                  "drop_in", "drop_out"):
            check(k in fields and fields[k][0] == "int", f"net.{k} missing or not int")
        for k in ("bytes_recv", "bytes_sent", "packets_recv", "packets_sent"):
            lo, hi = net_before[ifname][k], net_after[ifname][k]
            check(lo <= fields[k][1] <= hi, f"net {ifname}.{k} = {fields[k][1]} not in [{lo},{hi}]")

    # ---- system
    sysf = {}
    for _, fields, _ in by_name.get("system", []):
        sysf.update(fields)
    for k, want in (("load1", "float"), ("load5", "float"), ("load15", "float"),
                    ("n_cpus", "int"), ("n_users", "int"), ("uptime", "int"),
                    ("uptime_format", "string")):
        check(k in sysf and sysf[k][0] == want, f"system.{k} missing or not {want}")
    if "n_cpus" in sysf:
        check(sysf["n_cpus"][1] == len(os.sched_getaffinity(0)), "system.n_cpus")
    if "uptime" in sysf:
        check(abs(sysf["uptime"][1] - uptime_before) < 10, "system.uptime far from /proc/uptime")
        up = sysf["uptime"][1]
        days, hm = up // 86400, "%2d:%02d" % ((up // 3600) % 24, (up // 60) % 60)
        want = (f"{days} day{'s' if days > 1 else ''}, " if days else "") + hm
        check(sysf["uptime_format"][1] == want,
              f"system.uptime_format {sysf['uptime_format'][1]!r} != {want!r}")
    if "load1" in sysf:
        with open("/proc/loadavg") as f:
            l1 = float(f.read().split()[0])
        check(abs(sysf["load1"][1] - l1) < 2.0, "system.load1 far from /proc/loadavg")

    # ---- processes
    procs = by_name.get("processes", [])
    check(len(procs) == 1, "one processes metric")
    if procs:
        fields = procs[0][1]
        names = ["blocked", "dead", "idle", "paging", "running", "sleeping", "stopped", "total",
                 "total_threads", "unknown", "zombies"]
        check(sorted(fields) == names, f"processes fields {sorted(fields)}")
        for k, (t, v) in fields.items():
            check(t == "int" and v >= 0, f"processes.{k} = {v} ({t})")
        n = len([p for p in os.listdir("/proc") if p.isdigit()])
        check(abs(fields["total"][1] - n) <= max(10, n // 5), f"processes.total far from {n}")
        check(sum(fields[k][1] for k in names if k not in ("total", "total_threads")) ==
              fields["total"][1], "processes: states do not add up to total")
        check(fields["total_threads"][1] >= fields["total"][1], "total_threads < total")

    # ---- errors name the option and its line
    bad = os.path.join(d, "bad.conf")
    with open(bad, "w") as f:
        f.write("[[inputs.cpu]]\n  percpu = true\n  per_cpu = false\n")
    r = subprocess.run([BIN, "agent", "--config", bad, "--test"], capture_output=True, text=True,
                       timeout=30)
    check(r.returncode != 0, "unknown option accepted")
    check("per_cpu" in r.stderr and "bad.conf:3" in r.stderr,
          f"unknown-option error lacks name/line: {r.stderr!r}")

if failures:
    for f in failures:
        print("FAIL:", f)
    sys.exit(1)
print(f"ok: {len(lines)} metrics checked")
