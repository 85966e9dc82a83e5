#!/usr/bin/env python3
"""gen_lp.py — deterministic line-protocol generator for benchmarks.

  python3 bench/gen_lp.py --shape tsbs|iot --lines N [--hosts H] [--seed S] [--start NS]
                          [--interval-s SECONDS]

Writes N lines to stdout. The same arguments always give the same bytes.

Shapes:
  tsbs  the TSBS "cpu-only" use case: measurement cpu, 10 tags (hostname,
        region, datacenter, rack, os, arch, team, service, service_version,
        service_environment), 10 integer fields (usage_*), ns timestamps;
        about 330 bytes a line.
  iot   a sensor fleet: measurement iot, 3 tags (device, site, model), 4 float
        fields, a string status and a string firmware field, ns timestamps.

Rows go host by host within each time step (all hosts at t, then all at
t + interval), like TSBS, so --hosts is the series count.
"""
import argparse
import random
import sys

REGIONS = ["us-east-1", "us-west-1", "us-west-2", "eu-west-1", "eu-central-1",
           "ap-southeast-1", "ap-southeast-2", "ap-northeast-1", "sa-east-1"]
OSES = ["Ubuntu16.10", "Ubuntu16.04LTS", "Ubuntu15.10"]
ARCHES = ["x64", "x86"]
TEAMS = ["SF", "NYC", "LON", "CHI"]
ENVS = ["production", "staging", "test"]
FIELDS = ["usage_user", "usage_system", "usage_idle", "usage_nice", "usage_iowait",
          "usage_irq", "usage_softirq", "usage_steal", "usage_guest", "usage_guest_nice"]
STATUSES = ["ok", "ok", "ok", "ok", "degraded", "low battery", "calibrating"]


def tsbs_hosts(rng, n):
    out = []
    for i in range(n):
        region = rng.choice(REGIONS)
        out.append("cpu,hostname=host_%d,region=%s,datacenter=%s%s,rack=%d,os=%s,arch=%s,"
                   "team=%s,service=%d,service_version=%d,service_environment=%s" % (
                       i, region, region, rng.choice("abc"), rng.randrange(100),
                       rng.choice(OSES), rng.choice(ARCHES), rng.choice(TEAMS),
                       rng.randrange(20), rng.randrange(2), rng.choice(ENVS)))
    return out


def iot_hosts(rng, n):
    return ["iot,device=dev_%05d,site=plant-%d,model=th-%d00" % (
        i, rng.randrange(50), rng.randrange(1, 9)) for i in range(n)]


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--shape", choices=["tsbs", "iot"], required=True)
    ap.add_argument("--lines", type=int, required=True)
    ap.add_argument("--hosts", type=int, default=1000)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--start", type=int, default=1451606400000000000,
                    help="first timestamp in ns (default 2016-01-01, as TSBS)")
    ap.add_argument("--interval-s", type=int, default=10)
    a = ap.parse_args()
    if a.lines < 0 or a.hosts < 1:
        ap.error("--lines must be >= 0 and --hosts >= 1")
    rng = random.Random(a.seed)
    heads = (tsbs_hosts if a.shape == "tsbs" else iot_hosts)(rng, a.hosts)
    step = a.interval_s * 1000000000
    out = sys.stdout
    buf = []
    if a.shape == "tsbs":
        # random walks per host, as TSBS does, kept within 0..100
        state = [[rng.randrange(101) for _ in FIELDS] for _ in range(a.hosts)]
        fmt = " " + ",".join("%s=%%di" % f for f in FIELDS) + " %d\n"
        for n in range(a.lines):
            h = n % a.hosts
            t = a.start + (n // a.hosts) * step
            s = state[h]
            for i in range(10):
                v = s[i] + rng.randrange(-3, 4)
                s[i] = 0 if v < 0 else (100 if v > 100 else v)
            buf.append(heads[h] + fmt % (*s, t))
            if len(buf) >= 4096:
                out.write("".join(buf))
                buf.clear()
    else:
        state = [[20.0 + rng.random() * 5, 40.0 + rng.random() * 20, 1013.0, 1.0]
                 for _ in range(a.hosts)]
        for n in range(a.lines):
            h = n % a.hosts
            t = a.start + (n // a.hosts) * step
            s = state[h]
            s[0] += rng.uniform(-0.1, 0.1)
            s[1] += rng.uniform(-0.5, 0.5)
            s[2] += rng.uniform(-0.3, 0.3)
            s[3] = max(0.0, s[3] - rng.random() * 0.0005)
            status = STATUSES[rng.randrange(len(STATUSES))]
            buf.append('%s temperature=%.4f,humidity=%.2f,pressure=%.1f,battery=%.4f,'
                       'status="%s",firmware="v1.%d.%d" %d\n' % (
                           heads[h], s[0], s[1], s[2], s[3], status, h % 3, h % 7, t))
            if len(buf) >= 4096:
                out.write("".join(buf))
                buf.clear()
    out.write("".join(buf))


if __name__ == "__main__":
    main()
