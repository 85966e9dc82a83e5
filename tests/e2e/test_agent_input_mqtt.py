#!/usr/bin/python3
"""test_agent_input_mqtt.py — inputs.mqtt_consumer against a real mosquitto.

Starts mosquitto (Debian's) on a free port with a password file, and runs
the three seed [[inputs.mqtt_consumer]] blocks (seed000_L0514: user/password,
json with tag_keys; seed000_L0965: json + processors.rename, its influxdb_v2
output filtered out; seed001_L0804: password from $MQTT_PASSWORD, + wildcards)
with only the broker address adapted. Messages are published with
mosquitto_pub while the agent runs; checks measurement mqtt_consumer, the
topic tag, json tag_keys/fields, wildcard matching (+ and #, non-matching
topics ignored), a bad payload dropped without harm.
Reconnect: the broker is killed and restarted on the same port while the
agent runs; messages published after the restart must arrive (Telegraf's
consumer stalls there).
"""
import os
import signal
import socket
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import Skip, check, check_eq, need_tool, run, sluice_bin, tmpdir  # noqa: E402
from test_agent_input_redis import free_port, parse_test_output  # noqa: E402

SRC = os.environ.get("SLUICE_SRC") or os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
MOSQ = "/usr/sbin/mosquitto"


class Broker:
    def __init__(self, d, port=None, anonymous=False):
        need_tool(MOSQ)
        need_tool("mosquitto_pub")
        need_tool("mosquitto_passwd")
        self.d = d
        os.chmod(d, 0o755)  # as root, mosquitto drops to its own user and reads the password file
        self.port = port or free_port()
        pw = os.path.join(d, "passwd")
        if not os.path.exists(pw):
            subprocess.run(["mosquitto_passwd", "-b", "-c", pw, "telegraf", "password"], check=True,
                           capture_output=True)
            os.chmod(pw, 0o644)
        conf = os.path.join(d, "mosquitto.conf")
        with open(conf, "w") as f:
            f.write(f"listener {self.port} 127.0.0.1\n"
                    f"allow_anonymous {'true' if anonymous else 'false'}\npassword_file {pw}\n"
                    "persistence false\n")
        self.start(conf)

    def start(self, conf):
        self.conf = conf
        self.p = subprocess.Popen([MOSQ, "-c", conf], stdout=subprocess.DEVNULL,
                                  stderr=subprocess.DEVNULL)
        for _ in range(100):
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
                return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("mosquitto did not start")

    def kill(self):
        self.p.kill()
        self.p.wait()

    def restart(self):
        self.kill()
        time.sleep(1.5)
        self.start(self.conf)

    def pub(self, topic, payload, qos=1):
        subprocess.run(["mosquitto_pub", "-h", "127.0.0.1", "-p", str(self.port), "-u", "telegraf",
                        "-P", "password", "-q", str(qos), "-t", topic, "-m", payload], check=True,
                       timeout=10)


def seed(name, port):
    with open(os.path.join(SRC, "tests/unit/data/telegraf", name)) as f:
        text = f.read()
    for host in ("tcp://localhost:1883", "tcp://mqtt.example.com:1883"):
        text = text.replace(host, f"tcp://127.0.0.1:{port}")
    return text


def run_agent(conf_text, d, publish, wait=4.0, env=None):
    """Runs `agent --test --test-wait` while publish() sends messages."""
    path = os.path.join(d, "agent.conf")
    with open(path, "w") as f:
        f.write(conf_text)
    e = dict(os.environ)
    e.update(env or {})
    p = subprocess.Popen([sluice_bin(), "agent", "--config", path, "--test", "--test-wait", str(wait),
                          "--output-filter", "file"], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         text=True, env=e)
    time.sleep(1.0)
    publish()
    out, err = p.communicate(timeout=60)
    return p.returncode, out, err


def test_seed_L0514():
    d = tmpdir()
    b = Broker(d)
    try:
        def pub():
            b.pub("sensors/room1", '{"device_id":"d1","location":"lab","temp":21.5,"hum":40}')
            b.pub("sensors/a/b/c", '[{"device_id":"d2","temp":1},{"device_id":"d3","temp":2}]')
            b.pub("other/topic", '{"device_id":"nope","temp":9}')
            b.pub("sensors/bad", '{not json')
        rc, out, err = run_agent(seed("seed000_L0514.conf", b.port), d, pub)
        check_eq(rc, 0, "agent exits 0")
        ms = parse_test_output(out)
        check_eq(len(ms), 3, "3 metrics: 1 + 2 from an array; other/ and bad payload dropped")
        by = {m[1].get("device_id"): m for m in ms}
        m = by.get("d1")
        check(m is not None, "d1 arrived", out)
        if m:
            check_eq(m[0], "mqtt_consumer", "measurement mqtt_consumer")
            check_eq(m[1].get("topic"), "sensors/room1", "topic tag")
            check_eq(m[1].get("location"), "lab", "tag_keys location")
            check_eq(m[2].get("temp"), ("float", 21.5), "json number → float")
            check_eq(m[2].get("hum"), ("float", 40.0), "hum float")
        check(by.get("d3") and by["d3"][1]["topic"] == "sensors/a/b/c", "# matches deep topics")
        check("nope" not in by, "non-matching topic ignored")
        check("sensors/bad" in err, "bad payload logged", err)
    finally:
        b.kill()


def test_seed_L0965_and_L0804():
    d = tmpdir()
    b = Broker(d, anonymous=True)  # seed L0965 has no credentials
    try:
        def pub():
            b.pub("sensors/temperature/f1", '{"sensor_id":"s1","location":"x","floor":"2","value":3}')
        rc, out, err = run_agent(seed("seed000_L0965.conf", b.port), d, pub)
        ms = parse_test_output(out)
        check(len(ms) == 1 and ms[0][1].get("sensor_id") == "s1" and ms[0][1].get("floor") == "2",
              "seed L0965: json tag_keys + rename processor", (out, err))

        def pub2():
            b.pub("sensors/k1/temperature", '{"v":1}')
            b.pub("sensors/k1/humidity", '{"v":2}')
            b.pub("sensors/k1/pressure", '{"v":3}')
            b.pub("sensors/k1/x/temperature", '{"v":4}')
        rc, out, err = run_agent(seed("seed001_L0804.conf", b.port), d, pub2,
                                 env={"MQTT_PASSWORD": "password"})
        ms = parse_test_output(out)
        topics = sorted(m[1]["topic"] for m in ms)
        check_eq(topics, ["sensors/k1/humidity", "sensors/k1/temperature"],
                 "seed L0804: + matches one level; password from $MQTT_PASSWORD")
    finally:
        b.kill()


def test_reconnect():
    reconnect_run(failover=False)


def test_failover_first_server_down():
    reconnect_run(failover=True)


def reconnect_run(failover):
    d = tmpdir()
    b = Broker(d)
    out_path = os.path.join(d, "out.lp")
    servers = f'"tcp://127.0.0.1:{b.port}"'
    if failover:  # the first server refuses connections: the agent moves on to the next
        servers = f'"tcp://127.0.0.1:{free_port()}", ' + servers
    conf = f"""
[agent]
  interval = "1s"
  flush_interval = "1s"
  omit_hostname = true
[[inputs.mqtt_consumer]]
  servers = [{servers}]
  topics = ["t/#"]
  username = "telegraf"
  password = "password"
  qos = 1
  data_format = "influx"
[[outputs.file]]
  files = ["{out_path}"]
"""
    path = os.path.join(d, "agent.conf")
    with open(path, "w") as f:
        f.write(conf)
    log = open(os.path.join(d, "agent.log"), "w")
    a = subprocess.Popen([sluice_bin(), "agent", "--config", path], stdout=log, stderr=log)

    def lines():
        try:
            with open(out_path) as f:
                return f.read().splitlines()
        except FileNotFoundError:
            return []

    def wait_for(n, secs):
        t = time.time() + secs
        while time.time() < t:
            if len(lines()) >= n:
                return True
            time.sleep(0.2)
        return False
    def subscribed(tag, secs=20):
        """Publishes probes until one arrives (the agent has subscribed)."""
        t0 = time.time()
        got = len(lines())
        while time.time() - t0 < secs:
            b.pub("t/b", f"m,phase={tag} v=0i")
            if wait_for(got + 1, 1.0):
                return time.time() - t0
        return None
    try:
        dt = subscribed("probe-start")
        check(dt is not None, f"subscribed at start ({dt or 0:.1f}s)")
        n0 = len(lines())
        for i in range(5):
            b.pub("t/a", f"m,phase=before v={i}i")
        check(wait_for(n0 + 5, 10), "5 messages before the broker restart", lines())
        for round_ in range(0 if failover else 2):
            b.restart()
            dt = subscribed(f"probe{round_}")
            check(dt is not None, f"restart {round_ + 1}: agent reconnected and re-subscribed "
                  f"({dt or 0:.1f}s)")
            n0 = len(lines())
            for i in range(5):
                b.pub("t/c", f"m,phase=after{round_} v={i}i")
            check(wait_for(n0 + 5, 10), f"restart {round_ + 1}: all 5 later messages arrive")
        check(a.poll() is None, "agent still running")
        if not failover:
            after = [x for x in lines() if "phase=after1" in x]
            check_eq(len(after), 5, "no duplicates or losses after reconnect")
            check(all("topic=t/c" in x for x in after), "topic tag on every metric")
    finally:
        a.send_signal(signal.SIGTERM)
        try:
            a.wait(10)
        except subprocess.TimeoutExpired:
            a.kill()
        log.close()
        b.kill()
    check_eq(a.returncode, 0, "agent stops cleanly on SIGTERM")


def test_bad_password():
    d = tmpdir()
    b = Broker(d)
    path = os.path.join(d, "agent.conf")
    with open(path, "w") as f:
        f.write(f'[[inputs.mqtt_consumer]]\n  servers = ["tcp://127.0.0.1:{b.port}"]\n'
                '  topics = ["t"]\n  username = "telegraf"\n  password = "wrong"\n'
                '[[outputs.file]]\n  files = ["stdout"]\n')
    try:
        p = subprocess.run([sluice_bin(), "agent", "--config", path, "--test", "--test-wait", "4"],
                           capture_output=True, text=True, timeout=30)
        refused = p.stderr.count("connection refused")
        check(p.returncode == 0 and 1 <= refused <= 4,
              f"refused CONNACK: retried with backoff ({refused} attempts in 4 s), no storm",
              p.stderr[-2000:])
    finally:
        b.kill()


if __name__ == "__main__":
    run([test_seed_L0514, test_seed_L0965_and_L0804, test_reconnect, test_failover_first_server_down,
         test_bad_password])
