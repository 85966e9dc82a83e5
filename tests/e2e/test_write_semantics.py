"""test_write_semantics.py — the write APIs' contract, checked against a real
`sluice serve` and /work/shared/reference/influx-api.md:

* v1 /write, v2 /api/v2/write, v3 /api/v3/write_lp: success, partial-write
  rules and their exact status codes and JSON bodies (v1 {"error"} with
  X-Influxdb-Error, v2 {"code","message"} with X-Platform-Error-Code, v3
  {"error","data":[{error_message,line_number,original_line}]}), every error
  naming line and column, accept_partial=false, no_sync;
* precisions per endpoint (v1 n..h incl. m and h, v2 ns..s only, v3 auto and
  the long names; auto's magnitude boundaries; server time truncated to the
  precision), invalid precision → 400 naming the valid values;
* type conflicts; duplicates → last write wins with field merge, tag order
  irrelevant; Telegraf-style gzip batches (v1 gzip, v2 x-gzip);
* auth: missing/empty/wrong tokens → 401 in each API's style, Token, Bearer,
  Basic and u/p forms; scoped tokens (v3 resource tokens, v2 authorizations)
  write their databases only (403 elsewhere) and cannot create others;
  v2 /api/v2/authorizations create/list/delete; v3 /api/v3/configure/database
  create/list/delete; v1 /query CREATE/SHOW/DROP DATABASE; --no-auto-create.
"""

import json
import os
import random
import re
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness as H  # noqa: E402

S = 10**9
LINE_COL = re.compile(r"line (\d+), column (\d+)")


def names_line_col(text, line):
    m = LINE_COL.search(text)
    return m is not None and int(m.group(1)) == line and int(m.group(2)) >= 1


# ------------------------------------------------------------------ v1


def test_v1_basics():
    srv = H.Server()
    r = srv.write_v1("v1db", "cpu,host=a usage=1.5,n=3i,ok=true,s=\"x y\" 1000\n")
    H.check_eq(r.status, 204, "v1 write answers 204")
    H.check_eq(r.body, b"", "v1 204 has no body")
    H.check_eq(srv.rows("v1db", "cpu"),
               [{"time": 1000, "host": "a", "usage": 1.5, "n": 3, "ok": True, "s": "x y"}],
               "v1 row stored with every field type")
    r = srv.post("/write", "cpu v=1 1")
    H.check_eq(r.status, 400, "v1 without db → 400")
    H.check_eq(r.json(), {"error": "database is required"}, "v1 missing db body")
    H.check_eq(r.header("X-Influxdb-Error"), "database is required", "v1 missing db header")
    r = srv.write_v1("v1db", "")
    H.check_eq(r.status, 204, "v1 empty body → 204")

    # partial write: valid lines stored, the bad one named
    body = "cpu,host=b usage=1 2000\ncpu,host=b usage=oops 3000\ncpu,host=b usage=3 4000\n"
    r = srv.write_v1("v1db", body)
    H.check_eq(r.status, 400, "v1 partial write → 400")
    err = r.json().get("error", "")
    H.check(err.startswith("partial write: unable to parse 'cpu,host=b usage=oops 3000': "),
            "v1 partial body starts with InfluxDB's phrase and the line", err)
    H.check(err.endswith(" dropped=1"), "v1 partial body ends with dropped=1", err)
    H.check(names_line_col(err, 2), "v1 partial body names line 2 and a column", err)
    H.check_eq(r.header("X-Influxdb-Error"), err[:1024], "v1 X-Influxdb-Error repeats the error")
    H.check_eq([(x["time"], x["usage"]) for x in srv.rows("v1db", "cpu") if x["host"] == "b"],
               [(2000, 1), (4000, 3)], "v1 partial write stored the valid lines")

    # several bad lines: dropped counts them all
    r = srv.write_v1("v1db", "a v=1 1\nbad\nalso bad\na v=2 2\nx,=y v=1\n")
    err = r.json().get("error", "")
    H.check(r.status == 400 and err.endswith("dropped=3"), "v1 three bad lines → dropped=3", err)
    H.check_eq(len(srv.rows("v1db", "a")), 2, "v1 stored the two good lines around them")

    # type conflict (1.x wording)
    srv.write_v1("v1db", "m v=1.5 1\n")
    r = srv.write_v1("v1db", "m v=2.5 2\nm v=1i 3\n")
    err = r.json().get("error", "")
    H.check_eq(r.status, 400, "v1 type conflict → 400")
    H.check('partial write: field type conflict: input field "v" on measurement "m" is type '
            'integer, already exists as type float' in err and err.endswith("dropped=1"),
            "v1 type conflict body uses InfluxDB's wording", err)
    H.check(names_line_col(err, 2), "v1 type conflict names line 2 and its column", err)
    H.check_eq([x["v"] for x in srv.rows("v1db", "m")], [1.5, 2.5],
               "v1 conflicting line dropped, the other stored")

    # rp: autogen/default is the database; another rp is database db/rp
    r = srv.write_v1("v1db", "rpt v=1 1", extra={"rp": "autogen"})
    H.check_eq(r.status, 204, "v1 rp=autogen accepted")
    H.check_eq(len(srv.rows("v1db", "rpt")), 1, "rp=autogen writes the database itself")
    r = srv.write_v1("v1db", "rpt v=2 1", extra={"rp": "weekly"})
    H.check_eq(r.status, 204, "v1 rp=weekly accepted")
    H.check_eq([x["v"] for x in srv.rows("v1db/weekly", "rpt")], [2],
               "rp=weekly writes database v1db/weekly")

    # gzip (Telegraf's influxdb output) and unknown encodings
    r = srv.write_v1("v1db", H.gz("gz v=1 1\ngz v=2 2\n"), headers={"Content-Encoding": "gzip"})
    H.check_eq(r.status, 204, "v1 gzip body → 204")
    H.check_eq(len(srv.rows("v1db", "gz")), 2, "v1 gzip body stored")
    r = srv.write_v1("v1db", "gz v=3 3", headers={"Content-Encoding": "br"})
    H.check_eq(r.status, 400, "Content-Encoding: br → 400")
    r = srv.write_v1("v1db", b"\x1f\x8b\x08\x00garbage", headers={"Content-Encoding": "gzip"})
    H.check_eq(r.status, 400, "a corrupt gzip body → 400")
    gzb = H.gz("gz v=9 9\n" * 50)
    r = srv.write_v1("v1db", gzb[: len(gzb) // 2], headers={"Content-Encoding": "gzip"})
    H.check_eq(r.status, 400, "a truncated gzip body → 400")
    H.check_eq(len(srv.rows("v1db", "gz")), 2, "bad gzip bodies stored nothing")


def precision_cases(srv, api, db, cases, label):
    for prec, ts, want in cases:
        tbl = "p_" + re.sub(r"\W", "_", prec)
        w = {"v1": srv.write_v1, "v2": srv.write_v2, "v3": srv.write_v3}[api]
        r = w(db, f"{tbl} v=1 {ts}", precision=prec)
        H.check_eq(r.status, 204, f"{label} precision={prec} accepted")
        got = [x["time"] for x in srv.rows(db, tbl)]
        H.check_eq(got, [want], f"{label} precision={prec}: {ts} stored as {want} ns")


def test_precisions():
    srv = H.Server()
    ts = 1_700_000_000
    precision_cases(srv, "v1", "pv1", [
        ("n", 1_700_000_000_123_456_789, 1_700_000_000_123_456_789),
        ("ns", 1_700_000_000_123_456_789, 1_700_000_000_123_456_789),
        ("u", 1_700_000_000_123_456, 1_700_000_000_123_456_000),
        ("us", 1_700_000_000_123_456, 1_700_000_000_123_456_000),
        ("ms", 1_700_000_000_123, 1_700_000_000_123_000_000),
        ("s", ts, ts * S),
        ("m", 27217080, 27217080 * 60 * S),
        ("h", 453618, 453618 * 3600 * S)], "v1")
    precision_cases(srv, "v2", "pv2", [
        ("ns", 1_700_000_000_123_456_789, 1_700_000_000_123_456_789),
        ("n", 5, 5), ("u", 7, 7000),
        ("us", 1_700_000_000_123_456, 1_700_000_000_123_456_000),
        ("ms", 1_700_000_000_123, 1_700_000_000_123_000_000),
        ("s", ts, ts * S)], "v2")
    precision_cases(srv, "v3", "pv3", [
        ("s", ts, ts * S), ("second", 2, 2 * S),
        ("ms", 3, 3_000_000), ("millisecond", 4, 4_000_000),
        ("us", 5, 5000), ("u", 6, 6000), ("microsecond", 7, 7000),
        ("ns", 8, 8), ("n", 9, 9), ("nanosecond", 10, 10)], "v3")
    # v3 auto: |ts| < 5e9 s, < 5e12 ms, < 5e15 us, else ns (default precision)
    for i, (t, want) in enumerate([(1_700_000_000, 1_700_000_000 * S),
                                   (4_999_999_999, 4_999_999_999 * S),
                                   (5_000_000_000, 5_000_000_000 * 10**6),
                                   (1_700_000_000_123, 1_700_000_000_123 * 10**6),
                                   (1_700_000_000_123_456, 1_700_000_000_123_456 * 1000),
                                   (1_700_000_000_123_456_789, 1_700_000_000_123_456_789),
                                   (-1_000, -1_000 * S)]):
        for prec in (None, "auto"):
            tbl = f"auto{i}_{prec}"
            r = srv.write_v3("pv3", f"{tbl} v=1 {t}", precision=prec)
            H.check_eq(r.status, 204, f"v3 precision={prec or 'default'} ts={t} accepted")
            H.check_eq([x["time"] for x in srv.rows("pv3", tbl)], [want],
                       f"v3 precision={prec or '(default auto)'} maps {t} to {want}")
    # v1/v2 default to ns
    srv.write_v1("pv1", "dflt v=1 1700000000")
    H.check_eq([x["time"] for x in srv.rows("pv1", "dflt")], [1700000000], "v1 default is ns")
    srv.write_v2("pv2", "dflt v=1 1700000000")
    H.check_eq([x["time"] for x in srv.rows("pv2", "dflt")], [1700000000], "v2 default is ns")

    # invalid precisions → 400 naming the valid values; never silently ns
    v1_valid = ["n", "ns", "u", "us", "ms", "s", "m", "h"]
    v2_valid = ["ns", "us", "ms", "s"]
    v3_valid = ["auto", "s", "ms", "us", "ns", "second", "millisecond", "microsecond",
                "nanosecond"]
    for api, bad, valid in [("v1", "x", v1_valid), ("v1", "auto", v1_valid),
                            ("v1", "second", v1_valid), ("v2", "h", v2_valid),
                            ("v2", "m", v2_valid), ("v2", "auto", v2_valid),
                            ("v3", "h", v3_valid), ("v3", "m", v3_valid),
                            ("v3", "minute", v3_valid), ("v1", "MS", v1_valid)]:
        w = {"v1": srv.write_v1, "v2": srv.write_v2, "v3": srv.write_v3}[api]
        r = w("pbad", "bad v=1 1", precision=bad)
        H.check_eq(r.status, 400, f"{api} precision={bad} → 400")
        msg = r.text
        H.check(f'"{bad}"' in msg.replace('\\"', '"') and
                all(re.search(rf"\b{v}\b", msg) for v in valid),
                f"{api} precision={bad}: the error names the valid values", msg)
        if api == "v2":
            H.check_eq(r.json().get("code"), "invalid", "v2 invalid precision code is 'invalid'")
    H.check_eq(srv.rows("pbad", "bad"), [], "nothing stored under an invalid precision")

    # no timestamp: server time truncated to the precision
    for api, prec, unit in [("v1", "h", 3600 * S), ("v1", "m", 60 * S), ("v2", "s", S),
                            ("v3", "ms", 10**6), ("v1", None, 1)]:
        w = {"v1": srv.write_v1, "v2": srv.write_v2, "v3": srv.write_v3}[api]
        tbl = f"nots_{api}_{prec}"
        t0 = time.time_ns()
        r = w("pnow", f"{tbl} v=1", precision=prec)
        t1 = time.time_ns()
        got = [x["time"] for x in srv.rows("pnow", tbl)]
        H.check(r.status == 204 and len(got) == 1 and got[0] % unit == 0
                and t0 // unit * unit <= got[0] <= t1,
                f"{api} precision={prec}: a line without time gets now truncated to {unit} ns",
                f"{r} {got} window {t0}..{t1}")


# ------------------------------------------------------------------ v2


def test_v2():
    srv = H.Server()
    r = srv.write_v2("b2", "cpu,host=a v=1 1\n")
    H.check_eq(r.status, 204, "v2 write → 204")
    r = srv.post("/api/v2/write", "cpu v=1 1", params={"org": "o"})
    H.check_eq(r.status, 400, "v2 without bucket → 400")
    H.check_eq(r.json().get("code"), "invalid", "v2 missing bucket code")
    # any parse error rejects the whole batch
    r = srv.write_v2("b2", "cpu,host=b v=1 1\ncpu,host=b v= 2\ncpu,host=b v=3 3\n")
    H.check_eq(r.status, 400, "v2 parse error → 400")
    j = r.json()
    H.check(set(j) == {"code", "message"} and j["code"] == "invalid",
            "v2 parse error body is {code: invalid, message}", j)
    H.check(names_line_col(j.get("message", ""), 2), "v2 parse error names line 2 and column", j)
    H.check_eq(r.header("X-Platform-Error-Code"), "invalid", "v2 sets X-Platform-Error-Code")
    H.check_eq([x for x in srv.rows("b2", "cpu") if x["host"] == "b"], [],
               "v2 parse error: nothing of the batch written")
    # type conflict: 422, the other points written
    srv.write_v2("b2", "t v=1i 1")
    r = srv.write_v2("b2", "t v=2i 2\nt v=2.5 3\nt v=4i 4\n")
    H.check_eq(r.status, 422, "v2 type conflict → 422")
    j = r.json()
    H.check_eq(j.get("code"), "unprocessable entity", "v2 type conflict code")
    H.check('field type conflict: input field "v" on measurement "t" is type float, already '
            'exists as type integer' in j.get("message", ""), "v2 conflict message wording", j)
    H.check(names_line_col(j.get("message", ""), 2), "v2 conflict names line 2 and column", j)
    H.check_eq([x["v"] for x in srv.rows("b2", "t")], [1, 2, 4],
               "v2 type conflict: the valid points were written")
    # x-gzip
    r = srv.write_v2("b2", H.gz("xg v=1 1"), headers={"Content-Encoding": "x-gzip"})
    H.check_eq(r.status, 204, "v2 Content-Encoding: x-gzip accepted")
    H.check_eq(len(srv.rows("b2", "xg")), 1, "v2 x-gzip body stored")
    # orgID instead of org
    r = srv.post("/api/v2/write", "oid v=1 1", params={"orgID": "0000000000000001",
                                                       "bucket": "b2"})
    H.check_eq(r.status, 204, "v2 with orgID accepted")
    r = srv.post("/api/v2/write", "nop v=1 1", params={"bucket": "b2"})
    H.check_eq(r.status, 204, "v2 without org accepted (one organisation)")


# ------------------------------------------------------------------ v3


def test_v3():
    srv = H.Server()
    r = srv.write_v3("d3", "cpu,host=a v=1 1700000000")
    H.check_eq(r.status, 204, "v3 write → 204")
    r = srv.post("/api/v3/write_lp", "cpu v=1 1")
    H.check_eq(r.status, 400, "v3 without db → 400")
    H.check("db" in r.json().get("error", ""), "v3 missing db error names db", r.text)

    body = ("cpu,host=b v=1 1700000001\n"
            "cpu,host=b v=tru 1700000002\n"
            "# a comment\n"
            "cpu,host=b v=3 1700000003\n"
            "cpu,host=b v=4 1700000004 extra\n")
    r = srv.write_v3("d3", body)
    H.check_eq(r.status, 400, "v3 partial write → 400")
    j = r.json()
    H.check_eq(j.get("error"), "partial write of line protocol occurred", "v3 partial error text")
    data = j.get("data", [])
    H.check_eq([d.get("line_number") for d in data], [2, 5], "v3 data names lines 2 and 5")
    H.check_eq([d.get("original_line") for d in data],
               ["cpu,host=b v=tru 1700000002", "cpu,host=b v=4 1700000004 extra"],
               "v3 data has the original lines")
    H.check(all(isinstance(d.get("error_message"), str) and d["error_message"] for d in data),
            "v3 data has error messages", data)
    H.check(all(isinstance(d.get("column"), int) and d["column"] >= 1 and
                f"column {d['column']}" in d["error_message"] for d in data),
            "v3 every error names its column", data)
    H.check(len(data) == 2 and data[1]["column"] > len("cpu,host=b v=4 1700000004"),
            "v3 trailing-content column points past the timestamp", data)
    H.check_eq([x["time"] // S for x in srv.rows("d3", "cpu") if x["host"] == "b"],
               [1700000001, 1700000003], "v3 accept_partial (default) stored the valid lines")

    r = srv.write_v3("d3", "cpu,host=c v=1 1\ncpu,host=c v=\n", extra={"accept_partial": "false"})
    H.check_eq(r.status, 400, "v3 accept_partial=false with a bad line → 400")
    j = r.json()
    H.check(j.get("data") and j["data"][0].get("line_number") == 2,
            "v3 accept_partial=false names line 2", j)
    H.check_eq([x for x in srv.rows("d3", "cpu") if x["host"] == "c"], [],
               "v3 accept_partial=false: nothing written")
    r = srv.write_v3("d3", "cpu,host=c v=1 1", extra={"accept_partial": "false"})
    H.check_eq(r.status, 204, "v3 accept_partial=false, all good → 204")
    r = srv.write_v3("d3", "cpu,host=c v=1 1", extra={"accept_partial": "maybe"})
    H.check_eq(r.status, 400, "v3 accept_partial=maybe → 400")

    # type conflict is a per-line error in data
    r = srv.write_v3("d3", 'cpu,host=d v="str" 1700000009\ncpu,host=d v=9 1700000010')
    j = r.json() if r.status == 400 else {}
    H.check(r.status == 400 and len(j.get("data", [])) == 1 and j["data"][0]["line_number"] == 1
            and "type conflict" in j["data"][0]["error_message"],
            "v3 type conflict is a per-line error", r)
    H.check_eq([x["v"] for x in srv.rows("d3", "cpu") if x["host"] == "d"], [9],
               "v3 type conflict: the other line stored")

    # no_sync: acknowledged, visible at once
    r = srv.write_v3("d3", "ns v=42 1700000000", extra={"no_sync": "true"})
    H.check_eq(r.status, 204, "v3 no_sync=true → 204")
    H.check_eq([x["v"] for x in srv.rows("d3", "ns")], [42], "v3 no_sync point visible at once")

    # /api/v3/write alias and empty body
    r = srv.write_v3("d3", "")
    H.check_eq(r.status, 204, "v3 empty body → 204 (ours)")


# ------------------------------------------------------------------ dedup


def test_duplicates():
    srv = H.Server()
    r = srv.write_v3("dup", "w,host=a x=1,y=2 100\n", precision="ns")
    r = srv.write_v3("dup", "w,host=a y=3,z=4 100\n", precision="ns")
    H.check_eq(r.status, 204, "second write of the same point accepted")
    H.check_eq(srv.rows("dup", "w"), [{"time": 100, "host": "a", "x": 1, "y": 3, "z": 4}],
               "same series+time: fields merge, last write wins")
    srv.write_v1("dup", "w,host=b x=1 5\nw,host=b x=2 5\nw,host=b x=3 5\n")
    H.check_eq([x["x"] for x in srv.rows("dup", "w") if x["host"] == "b"], [3],
               "duplicates within one batch: the last line wins")
    srv.write_v1("dup", "w,b=1,a=2 x=1 7\n")
    srv.write_v1("dup", "w,a=2,b=1 x=2 7\n")
    got = [x for x in srv.rows("dup", "w") if x.get("a") == "2"]
    H.check_eq(got, [{"time": 7, "a": "2", "b": "1", "x": 2}], "tag order does not split a series")
    srv.write_v1("dup", "w,host=c x=1 9\nw,host=d x=2 9\n")
    H.check_eq(len([x for x in srv.rows("dup", "w") if x["time"] == 9]), 2,
               "different series at the same time stay two rows")
    # deterministic across a restart (WAL replay must give the same answer)
    before = srv.rows("dup", "w")
    srv.restart()
    H.check_eq(srv.rows("dup", "w"), before, "the same rows after a restart (replay is "
                                              "deterministic)")
    srv.restart(kill=True)
    H.check_eq(srv.rows("dup", "w"), before, "the same rows after kill -9 and restart")


# ------------------------------------------------------------------ telegraf


def test_telegraf_gzip_batches():
    srv = H.Server()
    rnd = random.Random(7)
    want = {}
    hdr = {"Content-Encoding": "gzip", "User-Agent": "Telegraf/1.28.0",
           "Content-Type": "text/plain; charset=utf-8"}
    t0 = 1_700_000_000 * S
    for b in range(6):
        lines = []
        for i in range(1000):
            host = f"h{i % 50}"
            t = t0 + (b * 1000 + i) * S
            u = round(rnd.uniform(0, 100), 3)
            lines.append(f"cpu,cpu=cpu-total,host={host} usage_idle={u},usage_user={i}i {t}")
            want[(t, host)] = (u, i)
        body = H.gz("\n".join(lines) + "\n")
        if b % 2 == 0:  # Telegraf's [[outputs.influxdb]]
            r = srv.post("/write", body, params={"db": "telegraf"}, headers=hdr)
        else:  # [[outputs.influxdb_v2]]
            r = srv.post("/api/v2/write", body, params={"bucket": "telegraf", "org": "o"},
                         headers=hdr)
        H.check_eq(r.status, 204, f"telegraf gzip batch {b} ({len(body)} bytes gzipped) → 204")
    rows = srv.rows("telegraf", "cpu")
    got = {(x["time"], x["host"]): (x["usage_idle"], x["usage_user"]) for x in rows}
    H.check_eq(len(rows), 6000, "6 gzip batches of 1000 lines → 6000 rows")
    H.check(got == want, "every gzip-batched value stored exactly",
            [k for k in want if got.get(k) != want[k]][:5])


# ------------------------------------------------------------------ auth


def test_auth_forms():
    srv = H.Server()
    tok = srv.token
    # success through each credential form
    ok_cases = [
        ("v1 Token", "/write", {"db": "a"}, {"Authorization": f"Token {tok}"}),
        ("v1 Bearer", "/write", {"db": "a"}, {"Authorization": f"Bearer {tok}"}),
        ("v1 Basic", "/write", {"db": "a"}, {"Authorization": H.basic("anyuser", tok)}),
        ("v1 u/p", "/write", {"db": "a", "u": "anyuser", "p": tok}, {}),
        ("v2 Token", "/api/v2/write", {"bucket": "a", "org": "o"},
         {"Authorization": f"Token {tok}"}),
        ("v2 Bearer", "/api/v2/write", {"bucket": "a", "org": "o"},
         {"Authorization": f"Bearer {tok}"}),
        ("v3 Bearer", "/api/v3/write_lp", {"db": "a"}, {"Authorization": f"Bearer {tok}"}),
        ("v3 Token", "/api/v3/write_lp", {"db": "a"}, {"Authorization": f"Token {tok}"}),
        ("v3 Basic", "/api/v3/write_lp", {"db": "a"}, {"Authorization": H.basic("u", tok)}),
    ]
    for i, (label, path, params, headers) in enumerate(ok_cases):
        r = srv.post(path, f"ok v={i} {i + 1}", params=params, headers=headers, auth=False)
        H.check_eq(r.status, 204, f"{label} authenticates")
    H.check_eq(len(srv.rows("a", "ok")), len(ok_cases), "every authenticated write stored")

    bad_creds = [
        ("missing", {}, {}),
        ("empty Token", {"Authorization": "Token "}, {}),
        ("empty Bearer", {"Authorization": "Bearer"}, {}),
        ("blank Token", {"Authorization": "Token    "}, {}),
        ("wrong Token", {"Authorization": "Token apiv3_wrong"}, {}),
        ("truncated token", {"Authorization": f"Token {tok[:-1]}"}, {}),
        ("token plus junk", {"Authorization": f"Token {tok}x"}, {}),
        ("wrong Bearer", {"Authorization": "Bearer nope"}, {}),
        ("Basic wrong password", {"Authorization": H.basic("u", "nope")}, {}),
        ("Basic empty password", {"Authorization": H.basic("u", "")}, {}),
        ("Basic token as user", {"Authorization": H.basic(tok, "")}, {}),
        ("Basic garbage", {"Authorization": "Basic !!!notbase64"}, {}),
        ("unknown scheme", {"Authorization": f"Digest {tok}"}, {}),
        ("u/p wrong", {}, {"u": "x", "p": "wrong"}),
        ("u/p empty p", {}, {"u": "x", "p": ""}),
        ("u only", {}, {"u": "x"}),
    ]
    for label, headers, qp in bad_creds:
        for api, path, params in [("v1", "/write", {"db": "a"}),
                                  ("v2", "/api/v2/write", {"bucket": "a", "org": "o"}),
                                  ("v3", "/api/v3/write_lp", {"db": "a"})]:
            if qp and api != "v1":
                continue
            r = srv.post(path, "bad v=1 1", params={**params, **qp}, headers=headers, auth=False)
            ok = r.status == 401
            try:
                j = r.json()
            except ValueError:
                j = None
            if api == "v2":
                ok = ok and j == {"code": "unauthorized", "message": "unauthorized access"}
            else:
                ok = ok and isinstance(j, dict) and isinstance(j.get("error"), str)
            if api == "v1":
                ok = ok and bool(r.header("X-Influxdb-Error"))
            H.check(ok, f"{api} {label} → 401 in the {api} style", r)
    H.check_eq(srv.rows("a", "bad"), [], "no unauthenticated write stored")
    m = srv.metrics()
    H.check((m.get("sluice_http_auth_failures_total") or 0) >= 30,
            "auth failures are counted in /metrics", m.get("sluice_http_auth_failures_total"))
    # management and the inspection path need credentials too
    for path in ["/api/v3/configure/database", "/api/v3/configure/token",
                 "/api/v2/authorizations", "/api/v2/buckets",
                 "/api/sluice/debug/rows?db=a&table=ok"]:
        r = srv.get(path, auth=False)
        H.check_eq(r.status, 401, f"GET {path} without a token → 401")
    r = srv.get("/query", params={"q": "SHOW DATABASES"}, auth=False)
    H.check_eq(r.status, 401, "/query without a token → 401")
    # the token is not in the log
    H.check(tok not in srv.log(), "the operator token never appears in the server log")
    st = os.stat(os.path.join(srv.data_dir, "operator-token"))
    H.check_eq(st.st_mode & 0o777, 0o600, "operator-token file is mode 0600")


def test_scoped_tokens_v3():
    srv = H.Server()

    def mk(name, dbs, actions):
        r = srv.post("/api/v3/configure/token", json.dumps(
            {"token_name": name, "permissions": [
                {"resource_type": "db", "resource_names": dbs, "actions": actions}]}),
            headers={"Content-Type": "application/json"})
        H.check_eq(r.status, 201, f"resource token {name} created (201)")
        j = r.json()
        H.check(j.get("token", "").startswith("apiv3_") and j.get("id"),
                f"token {name} is shown once with an id", j)
        return j.get("token", "")

    w = mk("writer-a", ["dba"], ["write"])
    ro = mk("reader-a", ["dba"], ["read"])
    star = mk("writer-star", ["*"], ["write"])
    r = srv.write_v3("dba", "m v=1 1700000000", token=w)
    H.check_eq(r.status, 204, "a write token writes its database (creating it)")
    r = srv.write_v1("dba", "m v=2 1700000001", precision="s", token=w)
    H.check_eq(r.status, 204, "…also through v1")
    r = srv.write_v2("dba", "m v=3 1700000002", precision="s", token=w)
    H.check_eq(r.status, 204, "…also through v2")
    for api, fn in [("v1", srv.write_v1), ("v2", srv.write_v2), ("v3", srv.write_v3)]:
        r = fn("dbb", "m v=1 1", token=w)
        H.check_eq(r.status, 403, f"{api}: write token for dba cannot write dbb (403)")
        r = fn("dba", "m v=9 9", token=ro)
        H.check_eq(r.status, 403, f"{api}: read-only token cannot write (403)")
    r = srv.write_v2("dbb", "m v=1 1", token=w)
    H.check_eq(r.json().get("code"), "forbidden", "v2 403 body has code forbidden")
    dbs = [d["iox::database"] for d in srv.get("/api/v3/configure/database").json()]
    H.check("dbb" not in dbs, "the scoped token did not create dbb", dbs)
    r = srv.post("/api/v3/configure/database", json.dumps({"db": "dbc"}), token=w)
    H.check_eq(r.status, 403, "a scoped token cannot create databases via configure/database")
    r = srv.post("/query", params={"q": "CREATE DATABASE dbd"}, token=w)
    body = r.text
    H.check(r.status in (401, 403) or '"error"' in body, "a scoped token cannot CREATE DATABASE",
            r)
    dbs = [d["iox::database"] for d in srv.get("/api/v3/configure/database").json()]
    H.check("dbc" not in dbs and "dbd" not in dbs, "no database created by the scoped token", dbs)
    r = srv.get("/api/sluice/debug/rows", params={"db": "dba", "table": "m"}, token=w)
    H.check_eq(r.status, 403, "a scoped token cannot use the admin inspection path")
    r = srv.post("/api/v3/configure/token/admin", "", token=w)
    H.check_eq(r.status, 403, "a scoped token cannot create admin tokens")
    r = srv.write_v3("anydb", "m v=1 1", token=star)
    H.check_eq(r.status, 204, "a '*' write token writes (and creates) any database")
    H.check_eq([x["v"] for x in srv.rows("dba", "m")], [1, 2, 3], "scoped writes stored")
    # tokens survive a restart; a deleted token stops working
    srv.restart()
    r = srv.write_v3("dba", "m v=4 1700000003", token=w)
    H.check_eq(r.status, 204, "the resource token still works after a restart")
    r = srv.request("DELETE", "/api/v3/configure/token", params={"token_name": "writer-a"})
    H.check_eq(r.status, 200, "token deleted")
    r = srv.write_v3("dba", "m v=5 1700000004", token=w)
    H.check_eq(r.status, 401, "a deleted token → 401")
    # a named admin token
    r = srv.post("/api/v3/configure/token/named_admin", json.dumps({"token_name": "adm2"}))
    adm = r.json().get("token", "") if r.status == 201 else ""
    H.check(r.status == 201 and adm, "named admin token created", r)
    r = srv.write_v3("newdb", "m v=1 1", token=adm)
    H.check_eq(r.status, 204, "named admin token writes")
    with open(os.path.join(srv.data_dir, "tokens.json"), "rb") as f:
        stored = f.read()
    H.check(w.encode() not in stored and adm.encode() not in stored and ro.encode() not in stored,
            "raw tokens are not stored at rest")


def test_v2_authorizations():
    srv = H.Server()
    srv.write_v2("bk1", "m v=1 1")
    srv.write_v2("bk2", "m v=1 1")
    buckets = srv.get("/api/v2/buckets", params={"name": "bk1"}).json().get("buckets", [])
    bid = buckets[0]["id"] if buckets else ""
    H.check(bool(bid), "bucket bk1 listed with an id", buckets)
    r = srv.post("/api/v2/authorizations", json.dumps({
        "orgID": "0000000000000001", "description": "bk1 writer",
        "permissions": [{"action": "write", "resource": {"type": "buckets", "id": bid,
                                                         "orgID": "0000000000000001"}},
                        {"action": "read", "resource": {"type": "buckets", "name": "bk1"}}]}),
        headers={"Content-Type": "application/json"})
    H.check_eq(r.status, 201, "POST /api/v2/authorizations → 201")
    a = r.json() if r.status == 201 else {}
    tok, aid = a.get("token", ""), a.get("id", "")
    H.check(tok and aid and a.get("status") == "active", "authorization has token, id, status", a)
    r = srv.write_v2("bk1", "m v=2 2", token=tok)
    H.check_eq(r.status, 204, "authorization token writes its bucket")
    r = srv.write_v2("bk2", "m v=2 2", token=tok)
    H.check_eq(r.status, 403, "authorization token cannot write another bucket")
    r = srv.write_v2("bk3", "m v=2 2", token=tok)
    H.check_eq(r.status, 403, "authorization token cannot create a bucket by writing")
    r = srv.get("/api/v2/authorizations")
    lst = r.json().get("authorizations", []) if r.status == 200 else []
    mine = [x for x in lst if x.get("id") == aid]
    H.check(len(mine) == 1, "GET /api/v2/authorizations lists it", r)
    H.check(tok not in r.text, "the list never shows a token secret")
    r = srv.request("DELETE", f"/api/v2/authorizations/{aid}")
    H.check_eq(r.status, 204, "DELETE /api/v2/authorizations/{id} → 204")
    r = srv.write_v2("bk1", "m v=3 3", token=tok)
    H.check_eq(r.status, 401, "deleted authorization → 401")
    r = srv.request("DELETE", f"/api/v2/authorizations/{aid}")
    H.check_eq(r.status, 404, "deleting it again → 404")
    r = srv.post("/api/v2/authorizations", json.dumps({"permissions": []}))
    H.check_eq(r.status, 400, "authorization without permissions → 400")
    r = srv.post("/api/v2/authorizations", "{not json")
    H.check_eq(r.status, 400, "authorization with a broken JSON body → 400")


def test_v3_databases_and_query():
    srv = H.Server()
    url = "/api/v3/configure/database"
    r = srv.post(url, json.dumps({"db": "x1"}), headers={"Content-Type": "application/json"})
    H.check(r.status in (200, 201), "POST configure/database creates x1", r)
    r = srv.post(url, json.dumps({"db": "x1"}))
    H.check_eq(r.status, 409, "creating x1 again → 409")
    r = srv.post(url, json.dumps({"db": "x2", "retention_period": "30d"}))
    H.check(r.status in (200, 201), "create x2 with retention 30d", r)
    r = srv.post(url, json.dumps({"db": "x3", "retention_period": "soon"}))
    H.check_eq(r.status, 400, "invalid retention_period → 400")
    r = srv.post(url, json.dumps({}))
    H.check_eq(r.status, 400, "missing db → 400")
    r = srv.post(url, "nope")
    H.check_eq(r.status, 400, "broken JSON → 400")
    lst = srv.get(url).json()
    names = {d["iox::database"]: d for d in lst}
    H.check("x1" in names and "x2" in names, "GET lists x1 and x2", lst)
    H.check(names.get("x2", {}).get("retention_period") not in (None, ""),
            "x2 shows its retention", lst)
    r = srv.request("DELETE", url, params={"db": "x1"})
    H.check_eq(r.status, 200, "DELETE configure/database?db=x1 → 200")
    H.check("x1" not in [d["iox::database"] for d in srv.get(url).json()], "x1 gone")
    r = srv.request("DELETE", url, params={"db": "x1"})
    H.check_eq(r.status, 404, "deleting x1 again → 404")
    # retention: points older than the period are dropped
    r = srv.write_v3("x2", f"old v=1 {int(time.time()) - 40 * 86400}\nold v=2 {int(time.time())}",
                     precision="s")
    H.check(r.status in (204, 400), "write with a point outside retention answered", r)
    H.check_eq([x["v"] for x in srv.rows("x2", "old")], [2], "the point outside retention is "
                                                           "not stored")
    # v1 /query bootstrap statements
    r = srv.post("/query", params={"q": "CREATE DATABASE q1"})
    H.check_eq(r.status, 200, "CREATE DATABASE → 200")
    H.check_eq(r.json(), {"results": [{"statement_id": 0}]}, "CREATE DATABASE result shape")
    r = srv.get("/query", params={"q": "SHOW DATABASES"})
    j = r.json()
    try:
        s = j["results"][0]["series"][0]
        vals = [v[0] for v in s["values"]]
        ok = s["name"] == "databases" and s["columns"] == ["name"] and "q1" in vals
    except (KeyError, IndexError, TypeError):
        ok, vals = False, None
    H.check(ok, "SHOW DATABASES lists q1 in the v1 shape", j)
    H.check(vals is not None and "x1" not in vals and "x2" in vals,
            "SHOW DATABASES agrees with configure/database", vals)
    r = srv.post("/query", params={"q": "DROP DATABASE q1"})
    H.check_eq(r.status, 200, "DROP DATABASE → 200")
    r = srv.get("/query", params={"q": "SHOW DATABASES"})
    H.check('"q1"' not in r.text, "q1 dropped", r.text)
    r = srv.get("/query")
    H.check(r.status == 400 and 'missing required parameter \\"q\\"' in r.text,
            "/query without q → 400 missing required parameter", r)
    # a measurement that was never written has no series: an empty result, never made up
    r = srv.get("/query", params={"q": "SELECT * FROM cpu", "db": "x2"})
    H.check(r.status == 200 and '"series"' not in r.text, "a SELECT of nothing returns no "
                                                          "series", r.text)
    r = srv.post("/api/v2/query", "from(bucket:\"x\")")
    H.check_eq(r.status, 501, "Flux /api/v2/query → 501")


def test_no_auto_create():
    srv = H.Server(["--no-auto-create"])
    r = srv.write_v1("nodb", "m v=1 1")
    H.check_eq(r.status, 404, "v1 unknown database with --no-auto-create → 404")
    H.check_eq(r.json(), {"error": 'database not found: "nodb"'}, "v1 404 body")
    r = srv.write_v2("nodb", "m v=1 1")
    H.check_eq(r.status, 404, "v2 unknown bucket → 404")
    H.check_eq(r.json(), {"code": "not found", "message": 'bucket "nodb" not found'},
               "v2 404 body")
    r = srv.write_v3("nodb", "m v=1 1")
    H.check_eq(r.status, 404, "v3 unknown database → 404")
    r = srv.post("/query", params={"q": "CREATE DATABASE nodb"})
    H.check_eq(r.status, 200, "CREATE DATABASE nodb")
    r = srv.write_v1("nodb", "m v=1 1")
    H.check_eq(r.status, 204, "write after CREATE DATABASE → 204")


if __name__ == "__main__":
    H.run([test_v1_basics, test_precisions, test_v2, test_v3, test_duplicates,
           test_telegraf_gzip_batches, test_auth_forms, test_scoped_tokens_v3,
           test_v2_authorizations, test_v3_databases_and_query, test_no_auto_create])
