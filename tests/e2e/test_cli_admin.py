"""test_cli_admin.py — `sluice db` and `sluice token` against the real server.

* db: create (with and without --retention), list (pretty and json), update
  the retention (also back to forever), delete (refused without --yes when
  stdin is not a terminal), and the errors: duplicate name (409, exit 1),
  unknown database (404, exit 1), bad duration and missing arguments (exit 2),
  bad token (401, exit 1), unreachable server (exit 1).
* token: a read-only database token can query but is refused on write (403)
  and on other databases; a write token writes; create-admin --name makes a
  working admin token; list shows tokens but never a secret; delete revokes
  at once; --format json gives the secret once in the JSON answer; the secret
  never reaches the server log. --host/--token and $SLUICE_HOST/$SLUICE_TOKEN
  are both honoured.
"""

import json
import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from harness import check, check_eq  # noqa: E402


def cli(srv, *args, token="op", env_only=False, stdin=None):
    """Runs `sluice ARGS`; returns (exit code, stdout, stderr)."""
    env = {k: v for k, v in os.environ.items()
           if k not in ("SLUICE_HOST", "SLUICE_TOKEN", "INFLUX_TOKEN")}
    tok = srv.token if token == "op" else token
    argv = [harness.sluice_bin()] + list(args)
    if env_only:
        env["SLUICE_HOST"] = srv.url
        if tok:
            env["SLUICE_TOKEN"] = tok
    else:
        argv += ["--host", srv.url]
        if tok:
            argv += ["--token", tok]
    p = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=60,
                       stdin=subprocess.DEVNULL if stdin is None else stdin)
    return p.returncode, p.stdout, p.stderr


def test_db_commands():
    srv = harness.Server()
    rc, out, err = cli(srv, "db", "create", "alpha", "--retention", "30d")
    check_eq(rc, 0, "db create alpha --retention 30d exits 0")
    check("alpha" in out and "created" in out, "db create says it created the database", out)
    rc, out, err = cli(srv, "db", "create", "beta", env_only=True)
    check_eq(rc, 0, "db create works with $SLUICE_HOST/$SLUICE_TOKEN")
    rc, out, err = cli(srv, "db", "list", "--format", "json")
    check_eq(rc, 0, "db list --format json exits 0")
    dbs = {d["name"]: d["retention_period"] for d in json.loads(out)}
    check(dbs.get("alpha") is not None and dbs.get("beta", "x") is None and len(dbs) == 2,
          "db list json: alpha has a retention, beta none", dbs)
    rc, out, err = cli(srv, "db", "list")
    lines = out.splitlines()
    check(rc == 0 and lines[0].split() == ["name", "retention"] and
          any(ln.split()[:2] == ["beta", "forever"] for ln in lines),
          "db list pretty prints a table", out)

    rc, out, err = cli(srv, "db", "update", "alpha", "--retention", "12h")
    check_eq(rc, 0, "db update --retention 12h exits 0")
    r = srv.get("/api/v3/configure/database")
    check(any(d["iox::database"] == "alpha" and d["retention_period"] == "12h0m0s"
              for d in r.json()), "the server has the new retention", r.text)
    rc, out, err = cli(srv, "db", "update", "alpha", "--retention", "none")
    r = srv.get("/api/v3/configure/database")
    check(rc == 0 and any(d["iox::database"] == "alpha" and d["retention_period"] is None
                          for d in r.json()), "--retention none keeps data forever", r.text)

    # errors
    rc, out, err = cli(srv, "db", "create", "alpha")
    check(rc == 1 and "409" in err and "already exists" in err, "duplicate create: exit 1, 409",
          err)
    rc, out, err = cli(srv, "db", "update", "nope", "--retention", "1d")
    check(rc == 1 and "404" in err, "update of an unknown database: exit 1, 404", err)
    rc, out, err = cli(srv, "db", "create", "gamma", "--retention", "3 fortnights")
    check(rc == 2 and "invalid retention" in err, "bad duration: exit 2 before any request", err)
    rc, out, err = cli(srv, "db", "create")
    check_eq(rc, 2, "create without a name: exit 2")
    rc, out, err = cli(srv, "db", "frobnicate")
    check_eq(rc, 2, "unknown subcommand: exit 2")
    rc, out, err = cli(srv, "db", "list", token="apiv3_wrong")
    check(rc == 1 and "401" in err, "wrong token: exit 1, 401", err)
    rc, out, err = cli(srv, "db", "list", "--host", f"http://127.0.0.1:{harness.free_port()}",
                       env_only=True)
    check(rc == 1 and "cannot reach" in err, "unreachable server: exit 1", err)

    # delete
    rc, out, err = cli(srv, "db", "delete", "beta")
    check(rc == 2 and "--yes" in err, "delete without --yes on a non-terminal is refused", err)
    check(any(d["iox::database"] == "beta" for d in srv.get("/api/v3/configure/database").json()),
          "... and beta is still there")
    rc, out, err = cli(srv, "db", "delete", "beta", "--yes")
    check_eq(rc, 0, "db delete --yes exits 0")
    names = [d["iox::database"] for d in srv.get("/api/v3/configure/database").json()]
    check_eq(names, ["alpha"], "beta is gone")
    rc, out, err = cli(srv, "db", "delete", "beta", "--yes")
    check(rc == 1 and "404" in err, "deleting it again: exit 1, 404", err)


def test_token_commands():
    srv = harness.Server()
    check_eq(srv.write_v3("sensors", "t,s=a v=1 1700000000000000000").status, 204,
             "seed write with the operator token")
    check_eq(srv.write_v3("private", "t,s=a v=1 1700000000000000000").status, 204,
             "seed write to a second database")

    rc, out, err = cli(srv, "token", "create", "--db", "sensors", "--read", "--name", "reader")
    check_eq(rc, 0, "token create --read exits 0")
    secret = next((ln.split(": ", 1)[1] for ln in out.splitlines() if ln.startswith("Token: ")),
                  "")
    check(secret.startswith("apiv3_"), "the secret is printed once, on stdout", out)
    check(secret not in err, "the secret is not on stderr")
    check("Authorization: Bearer " + secret in out, "the HTTP header is shown")

    r = srv.get("/api/v3/query_sql", params={"db": "sensors", "q": "select count(*) as n from t",
                                             "format": "json"}, token=secret)
    check(r.status == 200 and r.json() == [{"n": 1}], "the read token queries its database", r)
    r = srv.write_v3("sensors", "t,s=b v=2 1700000000000000000", token=secret)
    check_eq(r.status, 403, "the read-only token is refused on write")
    r = srv.get("/api/v3/query_sql", params={"db": "private", "q": "select * from t"},
                token=secret)
    check_eq(r.status, 403, "the read token is refused on another database")

    rc, out, err = cli(srv, "token", "create", "--db", "sensors", "--write", "--format", "json")
    check_eq(rc, 0, "token create --write --format json exits 0")
    j = json.loads(out)
    wsecret = j.get("token", "")
    check(wsecret.startswith("apiv3_") and j["permissions"][0]["actions"] == ["write"] and
          j["name"].startswith("sensors-write-"), "json answer: secret, permissions, a name", j)
    r = srv.write_v3("sensors", "t,s=c v=3 1700000000000000000", token=wsecret)
    check_eq(r.status, 204, "the write token writes")

    rc, out, err = cli(srv, "token", "create-admin", "--name", "ops")
    asecret = next((ln.split(": ", 1)[1] for ln in out.splitlines() if ln.startswith("Token: ")),
                   "")
    check(rc == 0 and asecret.startswith("apiv3_"), "create-admin --name ops", out + err)
    rc, out, err = cli(srv, "db", "list", token=asecret)
    check_eq(rc, 0, "the new admin token manages databases")
    rc, out, err = cli(srv, "token", "create-admin")
    check(rc == 1 and "--name" in err, "create-admin without a name when _admin exists: exit 1 "
          "and a hint", err)

    rc, out, err = cli(srv, "token", "list", "--format", "json")
    toks = {t["name"]: t for t in json.loads(out)}
    check(rc == 0 and {"_admin", "reader", "ops"} <= set(toks), "token list has the tokens",
          list(toks))
    check(all(s not in out for s in (secret, wsecret, asecret)) and '"token"' not in out,
          "token list shows no secret")
    rc, out, err = cli(srv, "token", "list")
    check(rc == 0 and "sensors:read" in out and "reader" in out, "token list pretty", out)

    rc, out, err = cli(srv, "token", "delete", "reader")
    check_eq(rc, 0, "token delete reader exits 0")
    r = srv.get("/api/v3/query_sql", params={"db": "sensors", "q": "select 1"}, token=secret)
    check_eq(r.status, 401, "the deleted token stops working at once")
    rc, out, err = cli(srv, "token", "delete", "reader")
    check(rc == 1 and "404" in err, "deleting it again: exit 1, 404", err)

    # usage errors
    for args, what in ((["token", "create", "--db", "sensors"], "no --read/--write"),
                       (["token", "create", "--read"], "no --db"),
                       (["token", "create", "--db", "x", "--read", "--expiry", "soon"],
                        "bad --expiry"),
                       (["token", "delete"], "delete without an id"),
                       (["token", "list", "--format", "xml"], "bad --format")):
        rc, out, err = cli(srv, *args)
        check_eq(rc, 2, f"usage error ({what}): exit 2")
    rc, out, err = cli(srv, "token", "list", token=wsecret)
    check(rc == 1 and "403" in err, "a database token cannot list tokens: exit 1, 403", err)

    log = srv.log()
    check(all(s not in log for s in (secret, wsecret, asecret)), "no secret in the server log")


if __name__ == "__main__":
    harness.run([test_db_commands, test_token_commands])
