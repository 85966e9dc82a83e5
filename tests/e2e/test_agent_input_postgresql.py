#!/usr/bin/python3
"""test_agent_input_postgresql.py — inputs.postgresql against a real PostgreSQL.

initdb's a temporary cluster (as the `postgres` user when run as root), starts
it on a free port, and runs both seed [[inputs.postgresql]] blocks
(seed001_L0788: user postgres, databases ["postgres"]; seed000_L0505: user
telegraf, dbname/databases mydb) with only `port=N` added to the address.
Checks Telegraf's shape: measurement postgresql, tags server (sanitized: no
password/sslmode) and db, pg_stat_database columns as typed fields
(xact_commit int, blk_read_time float, datname string), stats_reset left
out, pg_stat_bgwriter reported with db=postgres; values agree with a psql
query; ignored_databases; a stopped server gives an error, not a crash.
"""
import os
import pwd
import shutil
import socket
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import Skip, check, check_eq, need_tool, run, sluice_bin, tmpdir  # noqa: E402
from test_agent_input_redis import agent_test, free_port, parse_test_output  # noqa: E402

SRC = os.environ.get("SLUICE_SRC") or os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
PGBIN = "/usr/lib/postgresql/15/bin"


class PG:
    def __init__(self):
        need_tool(PGBIN + "/initdb")
        need_tool(PGBIN + "/pg_ctl")
        self.d = tmpdir("sluice-pg-")
        self.port = free_port()
        self.data = os.path.join(self.d, "data")
        self.user = None
        if os.geteuid() == 0:
            try:
                pw = pwd.getpwnam("postgres")
            except KeyError:
                raise Skip("running as root without a postgres user")
            os.chown(self.d, pw.pw_uid, pw.pw_gid)
            self.user = "postgres"
        self.sh(PGBIN + "/initdb", "-D", self.data, "-U", "postgres", "--auth=trust", "-E", "UTF8",
                "--no-sync")
        self.sh(PGBIN + "/pg_ctl", "-D", self.data, "-w", "-t", "30", "-l",
                os.path.join(self.d, "log"), "-o",
                f"-p {self.port} -k {self.d} -c listen_addresses=127.0.0.1 -c fsync=off", "start")

    def sh(self, *cmd, check_rc=True):
        if self.user:
            cmd = ("runuser", "-u", self.user, "--") + cmd
        p = subprocess.run(cmd, capture_output=True, text=True, timeout=60, cwd="/")
        if check_rc and p.returncode != 0:
            raise RuntimeError(f"{cmd}: {p.stderr}")
        return p.stdout

    def psql(self, sql, db="postgres"):
        return self.sh(PGBIN + "/psql", "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres",
                       "-d", db, "-At", "-c", sql)

    def stop(self):
        self.sh(PGBIN + "/pg_ctl", "-D", self.data, "-m", "immediate", "stop", check_rc=False)


def seed(name):
    with open(os.path.join(SRC, "tests/unit/data/telegraf", name)) as f:
        return f.read()


def test_seeds():
    pg = PG()
    try:
        pg.psql("CREATE ROLE telegraf LOGIN PASSWORD 'secret'")
        pg.psql("CREATE DATABASE mydb OWNER telegraf")
        pg.psql("CREATE TABLE t (x int); INSERT INTO t VALUES (1),(2);", db="mydb")
        # seed001_L0788
        conf = seed("seed001_L0788.conf")
        check("host=localhost user=postgres password=password sslmode=disable" in conf,
              "seed L0788 address as expected")
        conf = conf.replace("sslmode=disable\"", f"sslmode=disable port={pg.port}\"")
        rc, out, err = agent_test(conf, pg.d)
        check_eq(rc, 0, "agent --test exits 0")
        ms = parse_test_output(out)
        check_eq(len(ms), 2, "one pg_stat_database row (postgres) + pg_stat_bgwriter")
        db = [m for m in ms if "datname" in m[2]]
        bg = [m for m in ms if "checkpoints_timed" in m[2]]
        check(db and bg, "database row and bgwriter row present", out)
        if db and bg:
            name, tags, f = db[0]
            check_eq(name, "postgresql", "measurement postgresql")
            check_eq(tags.get("server"), f"host=localhost user=postgres port={pg.port}",
                     "server tag sanitized (no password, no sslmode)")
            check_eq(tags.get("db"), "postgres", "db tag")
            check_eq(f["datname"], ("string", "postgres"), "datname is a string field")
            check_eq(f.get("xact_commit", ("?",))[0], "int", "xact_commit int")
            check_eq(f.get("numbackends", ("?",))[0], "int", "numbackends int")
            check_eq(f.get("blk_read_time", ("?",))[0], "float", "blk_read_time float")
            check_eq(f.get("datid", ("?",))[0], "int", "datid int")
            check("stats_reset" not in f, "stats_reset left out")
            oid = int(pg.psql("SELECT oid FROM pg_database WHERE datname='postgres'"))
            check_eq(f.get("datid"), ("int", oid), "datid agrees with pg_database")
            n = int(pg.psql("SELECT xact_commit FROM pg_stat_database WHERE datname='postgres'"))
            check(0 < f["xact_commit"][1] <= n, "xact_commit agrees with psql", (f["xact_commit"], n))
            btags, bf = bg[0][1], bg[0][2]
            check_eq(btags.get("db"), "postgres", "bgwriter row: db=postgres")
            check_eq(bf.get("buffers_alloc", ("?",))[0], "int", "buffers_alloc int")
            check("stats_reset" not in bf, "bgwriter stats_reset left out")
        # seed000_L0505
        conf = seed("seed000_L0505.conf")
        conf = conf.replace("sslmode=disable\"", f"sslmode=disable port={pg.port}\"")
        rc, out, err = agent_test(conf, pg.d)
        ms = parse_test_output(out)
        dbs = sorted(m[1]["db"] for m in ms)
        check(dbs == ["mydb", "postgres"], "seed L0505: mydb row + bgwriter", (dbs, err))
        srv = {m[1]["server"] for m in ms}
        check_eq(srv, {f"host=localhost user=telegraf dbname=mydb port={pg.port}"},
                 "seed L0505 server tag")
        # ignored_databases
        conf = (f'[[inputs.postgresql]]\n  address = "host=127.0.0.1 port={pg.port} user=postgres"\n'
                '  ignored_databases = ["template0", "template1", "postgres"]\n')
        rc, out, err = agent_test(conf, pg.d)
        dbs = sorted(m[1]["db"] for m in parse_test_output(out) if "datname" in m[2])
        check("postgres" not in dbs and "mydb" in dbs and "template0" not in dbs,
              "ignored_databases", dbs)
        # a bad quote in databases is a config error
        conf = (f'[[inputs.postgresql]]\n  address = "host=127.0.0.1 port={pg.port}"\n'
                "  databases = [\"x') OR 1=1 --\"]\n")
        rc, out, err = agent_test(conf, pg.d)
        check(rc != 0 and "quote" in err, "a quote in a database name is rejected", err)
    finally:
        pg.stop()
    conf = f'[[inputs.postgresql]]\n  address = "host=127.0.0.1 port={pg.port} user=postgres"\n'
    rc, out, err = agent_test(conf, pg.d)
    check(rc == 0 and not parse_test_output(out) and "connecting" in err,
          "server down: an error, agent exits 0", (rc, err))


if __name__ == "__main__":
    run([test_seeds])
