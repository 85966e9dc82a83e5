#!/usr/bin/python3
"""test_agent_seeds.py — every telegraf.conf block of the course seeds loads.

The blocks were extracted verbatim from /work/shared/seeds/*.txt into
tests/unit/data/telegraf/seedNNN_LXXXX.conf (test_toml_telegraf checks the
extraction). For each one this test runs `sluice agent --config X --test`
(gather once, print, no outputs) and classifies the result:

  loads     exit 0: every plugin and option was accepted and the inputs ran
            (an input whose service is absent here, e.g. postgresql without
            a server, reports a gather error but the configuration loaded)
  missing   exit != 0 with "not supported" naming the plugin: a plugin that
            sluice agent does not implement (yet)
  broken    anything else: an option we reject, a crash, a hang — a failure

It prints the table and the list of configurations that load fully, and
fails on any "broken" one. A plugin missing here must be named in the error.
"""
import glob
import os
import re
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from harness import check  # noqa: E402

SRC = os.environ.get("SLUICE_SRC") or os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))
DATA = os.path.join(SRC, "tests", "unit", "data", "telegraf")
UNSUPPORTED = re.compile(r"unknown (inputs|outputs|processors|aggregators) plugin '([^']+)'.*"
                         r"not supported")


def classify(path):
    env = dict(os.environ)
    # the seeds use ${MQTT_PASSWORD} and $INFLUX_TOKEN
    env.setdefault("MQTT_PASSWORD", "secret")
    env.setdefault("INFLUX_TOKEN", "token")
    try:
        r = subprocess.run([harness.sluice_bin(), "agent", "--config", path, "--test"],
                           capture_output=True, text=True, timeout=60, env=env,
                           stdin=subprocess.DEVNULL)
    except subprocess.TimeoutExpired:
        return "broken", "timed out"
    if r.returncode == 0:
        return "loads", ""
    m = UNSUPPORTED.search(r.stderr)
    if m:
        return "missing", f"{m.group(1)}.{m.group(2)}"
    if "address already in use" in r.stderr.lower():
        return "loads", "(listener port busy on this machine)"
    return "broken", r.stderr.strip()[-400:]


def test_seed_configs_load():
    files = sorted(glob.glob(os.path.join(DATA, "seed*.conf")))
    check(len(files) >= 31, f"the seeds' telegraf.conf blocks are present ({len(files)})")
    results = {}
    for f in files:
        results[os.path.basename(f)] = classify(f)
    print("# seed config            result   detail", flush=True)
    for name, (kind, detail) in results.items():
        print(f"# {name:24} {kind:8} {detail.splitlines()[0] if detail else ''}", flush=True)
    loads = [n for n, (k, _) in results.items() if k == "loads"]
    missing = sorted({d for k, d in results.values() if k == "missing"})
    print(f"# load fully: {len(loads)} of {len(files)}: {' '.join(loads)}", flush=True)
    print(f"# plugins not supported: {', '.join(missing) or 'none'}", flush=True)
    # every plugin the course uses is implemented: each block must load and run
    for name, (kind, detail) in results.items():
        check(kind == "loads", f"{name} loads and runs unchanged", detail)
    # every processor and aggregator block of the seeds is implemented
    for name, (kind, detail) in results.items():
        if kind == "missing":
            check(detail.startswith("inputs.") or detail.startswith("outputs."),
                  f"{name}: unsupported plugin is not a processor/aggregator ({detail})")


if __name__ == "__main__":
    harness.run([test_seed_configs_load])
