/*
 * test_query_influxql.c — InfluxQL parser and printer: every statement form,
 * the queries Grafana, the influx CLI and the client libraries send, the
 * seeds' queries, precedence, canonical printing, errors with positions and
 * hostile input (truncation, nesting, size, arena caps, random bytes).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "common/arena.h"
#include "common/buf.h"
#include "common/err.h"
#include "common/mem.h"
#include "query/influxql/iql.h"

struct rt {
    const char *in;
    const char *out; /* canonical form; NULL = same as in */
};

/* Statements that must parse and print as `out`, which must be a fixed point. */
static const struct rt roundtrips[] = {
    /* Grafana (InfluxDB data source, InfluxQL mode) */
    {"SELECT mean(\"value\") FROM \"cpu\" WHERE (\"host\" =~ /^server$/) AND time >= now() - 6h "
     "GROUP BY time(10s) fill(null)",
     "SELECT mean(value) FROM cpu WHERE host =~ /^server$/ AND time >= now() - 6h GROUP BY "
     "time(10s)"},
    {"SELECT mean(\"usage_idle\") FROM \"autogen\".\"cpu\" WHERE (\"cpu\" = 'cpu-total') AND time "
     ">= 1700000000000ms and time <= 1700003600000ms GROUP BY time(20s), \"host\" fill(none)",
     "SELECT mean(usage_idle) FROM autogen.cpu WHERE cpu = 'cpu-total' AND time >= 1700000000s "
     "AND time <= 1700003600s GROUP BY time(20s), host fill(none)"},
    {"SELECT non_negative_derivative(mean(\"bytes_recv\"), 1s) *8 FROM \"net\" WHERE time > now() "
     "- 1h GROUP BY time(1m) fill(null)",
     "SELECT non_negative_derivative(mean(bytes_recv), 1s) * 8 FROM net WHERE time > now() - 1h "
     "GROUP BY time(1m)"},
    {"SHOW MEASUREMENTS WITH MEASUREMENT =~ /cpu/ LIMIT 100", NULL},
    {"SHOW TAG KEYS FROM \"cpu\"", "SHOW TAG KEYS FROM cpu"},
    {"SHOW FIELD KEYS FROM \"cpu\"", "SHOW FIELD KEYS FROM cpu"},
    {"SHOW TAG VALUES FROM \"cpu\" WITH KEY = \"host\"",
     "SHOW TAG VALUES FROM cpu WITH KEY = host"},
    {"SHOW TAG VALUES FROM \"cpu\" WITH KEY = \"host\" WHERE \"region\" =~ /^us$/",
     "SHOW TAG VALUES FROM cpu WITH KEY = host WHERE region =~ /^us$/"},
    {"SHOW RETENTION POLICIES ON \"db\"", "SHOW RETENTION POLICIES ON db"},
    {"SHOW RETENTION POLICIES on \"db\"", "SHOW RETENTION POLICIES ON db"},
    {"SELECT \"value\" FROM \"cpu\" WHERE time >= now() - 5m",
     "SELECT value FROM cpu WHERE time >= now() - 5m"},
    {"SELECT last(\"value\") FROM \"telegraf\".\"autogen\".\"mem\" WHERE $timeFilter",
     "SELECT last(value) FROM telegraf.autogen.mem WHERE $timeFilter"},
    /* influx CLI and client libraries */
    {"SHOW DATABASES", NULL},
    {"show databases", "SHOW DATABASES"},
    {"SHOW USERS", NULL},
    {"SHOW DIAGNOSTICS", NULL},
    {"SHOW STATS", NULL},
    {"SHOW SHARDS", NULL},
    {"SHOW QUERIES", NULL},
    {"SHOW CONTINUOUS QUERIES", NULL},
    {"SHOW SERIES", NULL},
    {"SHOW MEASUREMENTS", NULL},
    {"SHOW TAG KEYS", NULL},
    {"SHOW FIELD KEYS", NULL},
    {"CREATE DATABASE \"testdb\"", "CREATE DATABASE testdb"},
    {"DROP DATABASE \"testdb\"", "DROP DATABASE testdb"},
    {"create database \"x\"", "CREATE DATABASE x"},
    {"drop measurement \"m\"", "DROP MEASUREMENT m"},
    {"CREATE RETENTION POLICY \"rp\" ON \"db\" DURATION 1d REPLICATION 1 SHARD DURATION 0s DEFAULT",
     "CREATE RETENTION POLICY rp ON db DURATION 1d REPLICATION 1 SHARD DURATION INF DEFAULT"},
    {"create retention policy \"7d\" on \"db\" duration 7d replication 1 default",
     "CREATE RETENTION POLICY \"7d\" ON db DURATION 1w REPLICATION 1 DEFAULT"},
    {"ALTER RETENTION POLICY \"rp\" ON \"db\" DURATION 4d REPLICATION 4 SHARD DURATION 2d DEFAULT",
     "ALTER RETENTION POLICY rp ON db DURATION 4d REPLICATION 4 SHARD DURATION 2d DEFAULT"},
    {"ALTER RETENTION POLICY rp ON db SHARD DURATION 1h", NULL},
    {"DROP RETENTION POLICY \"rp\" ON \"db\"", "DROP RETENTION POLICY rp ON db"},
    {"CREATE USER \"u\" WITH PASSWORD 'p' WITH ALL PRIVILEGES",
     "CREATE USER u WITH PASSWORD 'p' WITH ALL PRIVILEGES"},
    {"CREATE USER bob WITH PASSWORD 'it\\'s'", NULL},
    {"GRANT ALL PRIVILEGES TO \"u\"", "GRANT ALL PRIVILEGES TO u"},
    {"GRANT ALL TO u", "GRANT ALL PRIVILEGES TO u"},
    {"REVOKE ALL PRIVILEGES FROM \"u\"", "REVOKE ALL PRIVILEGES FROM u"},
    {"GRANT READ ON \"db\" TO \"u\"", "GRANT READ ON db TO u"},
    {"GRANT WRITE ON db TO u", NULL},
    {"GRANT ALL ON db TO u", "GRANT ALL PRIVILEGES ON db TO u"},
    {"REVOKE READ ON db FROM u", NULL},
    {"SET PASSWORD FOR \"u\" = 'p'", "SET PASSWORD FOR u = 'p'"},
    {"DROP USER \"u\"", "DROP USER u"},
    {"SHOW GRANTS FOR \"u\"", "SHOW GRANTS FOR u"},
    {"DROP SERIES FROM \"m\" WHERE \"tag\" = 'v'", "DROP SERIES FROM m WHERE \"tag\" = 'v'"},
    {"DROP SERIES WHERE a = 'b'", NULL},
    {"DELETE FROM \"m\" WHERE time < '2020-01-01'", "DELETE FROM m WHERE time < '2020-01-01'"},
    {"DELETE FROM cpu", NULL},
    {"DELETE WHERE host = 'a'", NULL},
    {"DELETE FROM /c.*/ WHERE time > now() - 1d", NULL},
    {"SHOW MEASUREMENTS WHERE \"tag\" = 'v'", "SHOW MEASUREMENTS WHERE \"tag\" = 'v'"},
    {"SHOW SERIES FROM \"m\" WHERE \"tag\" = 'v'", "SHOW SERIES FROM m WHERE \"tag\" = 'v'"},
    {"KILL QUERY 36", NULL},
    /* seeds (the .txt files in /work/shared/seeds): the InfluxQL-compatible queries */
    {"SELECT * FROM cpu LIMIT 5", NULL},
    {"SELECT * FROM metrics WHERE user_id = 'user_12345'", NULL},
    {"SELECT * FROM metrics WHERE user_segment = 'premium'", NULL},
    {"SELECT AVG(temperature) FROM sensors WHERE sensor_id = 'SENS001'",
     "SELECT avg(temperature) FROM sensors WHERE sensor_id = 'SENS001'"},
    {"SELECT * FROM metrics WHERE time >= '2024-01-01'", NULL},
    {"SELECT * FROM metrics WHERE time >= '2024-12-19T10:00:00Z' AND time < '2024-12-19T11:00:00Z'",
     NULL},
    {"SELECT * FROM metrics WHERE time >= '2024-12-19T10:00:00Z' AND host = 'server01'", NULL},
    {"SELECT temperature FROM sensors", NULL},
    {"SELECT cpu FROM metrics WHERE time >= '2024-12-19T10:00:00Z' AND time < "
     "'2024-12-19T11:00:00Z' AND host = 'server01'",
     NULL},
    {"SELECT * FROM metrics WHERE tenant_id = 'customer1'", NULL},
    {"SELECT COUNT(*) FROM \"my-bucket\"", "SELECT count(*) FROM \"my-bucket\""},
    {"SELECT COUNT(*) AS point_count, COUNT(DISTINCT host) AS unique_hosts FROM b",
     "SELECT count(*) AS point_count, count(distinct(host)) AS unique_hosts FROM b"},
    /* functions */
    {"SELECT first(v), last(v), min(v), max(v) FROM m", NULL},
    {"SELECT top(value, host, 3), bottom(value, 2) FROM cpu", NULL},
    {"SELECT percentile(value, 95), percentile(value, 99.9) FROM cpu", NULL},
    {"SELECT sample(value, 10) FROM cpu", NULL},
    {"SELECT count(value), count(distinct value) FROM cpu",
     "SELECT count(value), count(distinct(value)) FROM cpu"},
    {"SELECT DISTINCT host FROM cpu", "SELECT distinct(host) FROM cpu"},
    {"SELECT distinct(host) FROM cpu", NULL},
    {"SELECT sum(v), mean(v), median(v), mode(v), spread(v), stddev(v) FROM m", NULL},
    {"SELECT integral(v), integral(v, 1m) FROM m", NULL},
    {"SELECT derivative(v), derivative(v, 1s), non_negative_derivative(v, 10s) FROM m", NULL},
    {"SELECT difference(v), non_negative_difference(v) FROM m", NULL},
    {"SELECT moving_average(v, 3), cumulative_sum(v), elapsed(v), elapsed(v, 1ms) FROM m", NULL},
    {"SELECT mean(derivative(v, 1s)) FROM m GROUP BY time(1m)", NULL},
    {"SELECT derivative(mean(v), 1m) FROM m WHERE time > now() - 1h GROUP BY time(1m)", NULL},
    {"SELECT cumulative_sum(sum(v)) / count(v) FROM m GROUP BY time(1h)", NULL},
    {"SELECT MEAN(v) FROM m", "SELECT mean(v) FROM m"},
    {"SELECT max(/^usage_/) FROM cpu", NULL},
    {"SELECT mean(*) FROM cpu", NULL},
    /* fields, casts, aliases, arithmetic */
    {"SELECT * FROM cpu", NULL},
    {"SELECT *::field FROM cpu", NULL},
    {"SELECT *::tag, value::float, n::integer, u::unsigned, s::string, b::boolean FROM cpu", NULL},
    {"SELECT host::tag, v::field FROM cpu", NULL},
    {"SELECT v AS x, w AS \"select\", u AS \"with space\" FROM m", NULL},
    {"SELECT (a + b) * c FROM m", NULL},
    {"SELECT a + b * c FROM m", NULL},
    {"SELECT (a + b) + c FROM m", "SELECT a + b + c FROM m"},
    {"SELECT a + (b + c) FROM m", NULL},
    {"SELECT a - (b - c) FROM m", NULL},
    {"SELECT a / b / c, a / (b / c) FROM m", NULL},
    {"SELECT a % 2, a & 1, a | 2, a ^ 3 FROM m", NULL},
    {"SELECT (a | b) & c FROM m", NULL},
    {"SELECT -v, -mean(v), -(a + b), 2 * -3 FROM m", NULL},
    {"SELECT - - v FROM m", "SELECT -(-v) FROM m"},
    {"SELECT +v FROM m", "SELECT v FROM m"},
    {"SELECT v * 1.5, v * .25, v * 10.0, v * 0.000001 FROM m", "SELECT v * 1.5, v * 0.25, "
                                                               "v * 10.0, v * 0.000001 FROM m"},
    {"SELECT v FROM m WHERE v > 123456789012345678901234567890.5",
     "SELECT v FROM m WHERE v > 123456789012345680000000000000.0"},
    {"SELECT \"cpu.usage\" FROM m", NULL},
    {"SELECT cpu.usage FROM m", "SELECT \"cpu.usage\" FROM m"},
    {"SELECT \"a\\\"b\" FROM \"c\\\\d\"", NULL},
    {"SELECT \"2cool\", _ok, Abc FROM m", NULL},
    /* FROM */
    {"SELECT v FROM \"db\".\"rp\".\"m\"", "SELECT v FROM db.rp.m"},
    {"SELECT v FROM db..m", NULL},
    {"SELECT v FROM rp.m", NULL},
    {"SELECT v FROM /^cpu/, mem, db.rp./disk.*/", NULL},
    {"SELECT v FROM \"my measurement\"", NULL},
    {"SELECT max(v) FROM (SELECT mean(v) AS v FROM m GROUP BY time(1m), host) GROUP BY time(5m)",
     NULL},
    {"SELECT v FROM (SELECT v FROM (SELECT v FROM m))", NULL},
    {"SELECT v FROM m, (SELECT w FROM n)", NULL},
    {"SELECT mean(v) INTO m2 FROM m GROUP BY time(1h)", NULL},
    {"SELECT mean(v) INTO \"db\".\"rp\".:MEASUREMENT FROM /.*/ GROUP BY time(1h), *",
     "SELECT mean(v) INTO db.rp.:MEASUREMENT FROM /.*/ GROUP BY time(1h), *"},
    {"SELECT v INTO :MEASUREMENT FROM m", NULL},
    /* WHERE */
    {"SELECT v FROM m WHERE a = 1 AND b != 2 AND c <> 3 AND d < 4 AND e <= 5 AND f > 6 AND g >= 7",
     "SELECT v FROM m WHERE a = 1 AND b != 2 AND c != 3 AND d < 4 AND e <= 5 AND f > 6 AND g >= 7"},
    {"SELECT v FROM m WHERE a =~ /x/ AND b !~ /y/", NULL},
    {"SELECT v FROM m WHERE a = 1 OR b = 2 AND c = 3", NULL},
    {"SELECT v FROM m WHERE (a = 1 OR b = 2) AND c = 3", NULL},
    {"SELECT v FROM m WHERE a = 'x' OR (b = 'y' OR c = 'z')", NULL},
    {"SELECT v FROM m WHERE a = true AND b = false AND c = TRUE",
     "SELECT v FROM m WHERE a = true AND b = false AND c = true"},
    {"SELECT v FROM m WHERE s = 'line\\nbreak \\\\ back \\' quote'", NULL},
    {"SELECT v FROM m WHERE s = 'a\"b'", NULL},
    {"SELECT v FROM m WHERE p =~ /a\\/b\\.c/", NULL},
    {"SELECT v FROM m WHERE time > now() - 1h AND time < now()", NULL},
    {"SELECT v FROM m WHERE time > 1700000000000000000", NULL},
    {"SELECT v FROM m WHERE time >= '2024-01-01T00:00:00Z' AND time <= '2024-01-02T00:00:00.5Z'",
     NULL},
    {"SELECT v FROM m WHERE time > now() - 90m", "SELECT v FROM m WHERE time > now() - 90m"},
    {"SELECT v FROM m WHERE time > now() - 1h30m", "SELECT v FROM m WHERE time > now() - 90m"},
    {"SELECT v FROM m WHERE d = 100ms OR d = 5u OR d = 5µ OR d = 1ns OR d = 2w OR d = 3000s",
     "SELECT v FROM m WHERE d = 100ms OR d = 5u OR d = 5u OR d = 1ns OR d = 2w OR d = 50m"},
    {"SELECT v FROM m WHERE host = $host AND region = $\"the region\"", NULL},
    {"SELECT v FROM m WHERE v = 9223372036854775807 OR v = -9223372036854775808", NULL},
    {"SELECT v FROM m WHERE v = 18446744073709551615", NULL},
    {"SELECT v FROM m WHERE v = -0.0", NULL},
    /* GROUP BY, fill, order, limits, tz */
    {"SELECT mean(v) FROM m GROUP BY time(5m)", NULL},
    {"SELECT mean(v) FROM m GROUP BY time(1h, 15m)", NULL},
    {"SELECT mean(v) FROM m GROUP BY time(1h, -15m)", NULL},
    {"SELECT mean(v) FROM m GROUP BY time(1d, now())", NULL},
    {"SELECT mean(v) FROM m GROUP BY host, region", NULL},
    {"SELECT mean(v) FROM m GROUP BY *", NULL},
    {"SELECT mean(v) FROM m GROUP BY /^h/", NULL},
    {"SELECT mean(v) FROM m GROUP BY host::tag, time(1m)", NULL},
    {"SELECT mean(v) FROM m GROUP BY time(1m) fill(none)", NULL},
    {"SELECT mean(v) FROM m GROUP BY time(1m) fill(previous)", NULL},
    {"SELECT mean(v) FROM m GROUP BY time(1m) fill(linear)", NULL},
    {"SELECT mean(v) FROM m GROUP BY time(1m) fill(0)", NULL},
    {"SELECT mean(v) FROM m GROUP BY time(1m) fill(-1.5)", NULL},
    {"SELECT mean(v) FROM m GROUP BY time(1m) FILL(NULL)", "SELECT mean(v) FROM m GROUP BY "
                                                           "time(1m)"},
    {"SELECT v FROM m ORDER BY time DESC", NULL},
    {"SELECT v FROM m ORDER BY time ASC", "SELECT v FROM m"},
    {"SELECT v FROM m ORDER BY DESC", "SELECT v FROM m ORDER BY time DESC"},
    {"SELECT v FROM m LIMIT 10 OFFSET 20 SLIMIT 3 SOFFSET 4", NULL},
    {"SELECT v FROM m tz('America/Chicago')", NULL},
    {"select mean(value) from cpu where time > now() - 5m group by time(30s) fill(0) order by time "
     "desc limit 1 tz('UTC')",
     "SELECT mean(value) FROM cpu WHERE time > now() - 5m GROUP BY time(30s) fill(0) ORDER BY time "
     "DESC LIMIT 1 tz('UTC')"},
    /* SHOW forms */
    {"SHOW MEASUREMENTS ON db", NULL},
    {"SHOW MEASUREMENTS WITH MEASUREMENT = cpu", NULL},
    {"SHOW MEASUREMENTS WITH MEASUREMENT = \"db\".\"rp\".\"cpu\"",
     "SHOW MEASUREMENTS WITH MEASUREMENT = db.rp.cpu"},
    {"SHOW MEASUREMENTS WITH MEASUREMENT !~ /^_/", NULL},
    {"SHOW MEASUREMENTS ON db WITH MEASUREMENT =~ /c.*/ WHERE host = 'a' LIMIT 10 OFFSET 5", NULL},
    {"SHOW TAG KEYS ON db FROM cpu, mem WHERE host = 'a' LIMIT 1 OFFSET 1", NULL},
    {"SHOW TAG VALUES WITH KEY IN (\"host\", \"region\")",
     "SHOW TAG VALUES WITH KEY IN (host, region)"},
    {"SHOW TAG VALUES ON db FROM /c.*/ WITH KEY =~ /h.*/ WHERE a = 'b' LIMIT 2 OFFSET 1", NULL},
    {"SHOW TAG VALUES WITH KEY != host", NULL},
    {"SHOW TAG VALUES WITH KEY !~ /^_/", NULL},
    {"SHOW FIELD KEYS ON db FROM cpu LIMIT 4", NULL},
    {"SHOW SERIES ON db FROM cpu WHERE host = 'a' ORDER BY time DESC LIMIT 10 OFFSET 1", NULL},
    {"SHOW MEASUREMENT CARDINALITY", NULL},
    {"SHOW MEASUREMENT EXACT CARDINALITY ON db", NULL},
    {"SHOW SERIES EXACT CARDINALITY FROM cpu WHERE host = 'a' GROUP BY region LIMIT 5", NULL},
    {"SHOW TAG KEY CARDINALITY ON db", NULL},
    {"SHOW TAG VALUES CARDINALITY WITH KEY = host", NULL},
    {"SHOW TAG VALUES EXACT CARDINALITY ON db FROM cpu WITH KEY IN (a, b) WHERE c = 'd'", NULL},
    {"SHOW FIELD KEY EXACT CARDINALITY FROM cpu", NULL},
    /* CREATE DATABASE variants */
    {"CREATE DATABASE db WITH DURATION 30d", "CREATE DATABASE db WITH DURATION 30d"},
    {"CREATE DATABASE db WITH DURATION INF REPLICATION 2 SHARD DURATION 1w NAME \"rp one\"", NULL},
    {"CREATE DATABASE db WITH NAME rp", NULL},
    {"EXPLAIN SELECT mean(v) FROM m", NULL},
    {"EXPLAIN ANALYZE SELECT mean(v) FROM m GROUP BY time(1m)", NULL},
    /* comments, whitespace, multiple statements */
    {"-- leading comment\nSELECT v FROM m -- trailing", "SELECT v FROM m"},
    {"SELECT /* block\ncomment */ v FROM m", "SELECT v FROM m"},
    {"SELECT\tv\r\nFROM\n  m", "SELECT v FROM m"},
    {"SHOW DATABASES; SHOW MEASUREMENTS ON db", NULL},
    {";;SELECT v FROM m;;;SHOW USERS;", "SELECT v FROM m; SHOW USERS"},
};

/* Queries that must fail, with InfluxDB-like messages and positions. */
struct bad {
    const char *in;
    const char *msg; /* substring of err.msg */
    int line, column;
};

static const struct bad bads[] = {
    {"SELECT", "found EOF, expected identifier, string, number, bool at line 1, char 7", 1, 7},
    {"SELECT value FROM cpu WHERE", "found EOF, expected identifier, string, number, bool", 1, 28},
    {"SELECT FROM cpu", "found FROM, expected identifier, string, number, bool", 1, 8},
    {"SELECT v", "found EOF, expected FROM at line 1, char 9", 1, 9},
    {"SELECT v FROM", "found EOF, expected identifier at line 1, char 14", 1, 14},
    {"SELEC v FROM m", "found SELEC, expected SELECT, DELETE, SHOW", 1, 1},
    {"SELECT v FROM m WHERE x = 'unterminated", "unterminated quoted string", 1, 27},
    {"SELECT v FROM m WHERE x = 'bad \\q'", "bad escape", 1, 32},
    {"SELECT v FROM m WHERE x = \"a\nb\"", "newline in quoted string", 1, 29},
    {"SELECT v FROM m WHERE x =~ /abc", "unterminated regex", 1, 28},
    {"SELECT v FROM m WHERE x = 1 garbage", "found garbage, expected ; at line 1, char 29", 1, 29},
    {"SELECT v FROM m\nWHERE\n  x = ",
     "found EOF, expected identifier, string, number, bool at "
     "line 3, char 7",
     3, 7},
    {"SELECT v FROM m GROUP BY time(1x)", "invalid duration", 1, 31},
    {"SELECT v FROM m GROUP BY time(0s)", "positive duration", 1, 31},
    {"SELECT v FROM m GROUP BY time()", "1 or 2 arguments", 1, 26},
    {"SELECT v FROM m GROUP BY mean(v)", "only time() calls allowed in dimensions", 1, 26},
    {"SELECT v FROM m GROUP BY time(1m), time(5m)", "multiple time dimensions", 1, 36},
    {"SELECT v FROM m GROUP BY time(1m, 'x')", "offset must be duration or now()", 1, 35},
    {"SELECT v FROM m GROUP BY 1", "only time() calls allowed in dimensions", 1, 26},
    {"SELECT v FROM m fill(foo)", "found foo, expected null, none, previous, linear, number", 1,
     22},
    {"SELECT v FROM m fill('x')", "expected number argument in fill()", 1, 22},
    {"SELECT v FROM m ORDER BY host", "only ORDER BY time supported at this time", 1, 26},
    {"SELECT v FROM m ORDER BY time DESC, host", "only ORDER BY time", 1, 35},
    {"SELECT v FROM m LIMIT -1", "found -, expected integer", 1, 23},
    {"SELECT v FROM m LIMIT x", "found x, expected integer", 1, 23},
    {"SELECT v FROM m LIMIT 99999999999999999999", "unable to parse integer", 1, 23},
    {"SELECT v FROM m WHERE v = 99999999999999999999", "unable to parse integer", 1, 27},
    {"SELECT v FROM m WHERE v = -18446744073709551615", "overflows int64", 1, 27},
    {"SELECT v FROM m WHERE d > 99999999999w", "overflowed duration", 1, 27},
    {"SELECT v::nope FROM m", "expected float, integer, unsigned, string, boolean, field, tag", 1,
     11},
    {"SELECT *::float FROM m", "invalid wildcard cast", 1, 8},
    {"SELECT mean(v FROM m", "found FROM, expected , or )", 1, 15},
    {"SELECT (v FROM m", "found FROM, expected )", 1, 11},
    {"SELECT v FROM m WHERE a ! b", "unexpected '!'", 1, 25},
    {"SELECT v FROM m WHERE a = #", "unexpected character", 1, 27},
    {"SELECT v FROM m /* unterminated", "unterminated comment", 1, 17},
    {"SELECT v FROM (SHOW DATABASES)", "found SHOW, expected SELECT", 1, 16},
    {"SELECT v AS FROM m", "found FROM, expected identifier", 1, 13},
    {"SELECT v FROM m WHERE time > now() - INTERVAL '1 hour'", "found 1 hour, expected ;", 1, 47},
    {"SELECT v FROM m WHERE a = $", "missing parameter name", 1, 27},
    {"SELECT v FROM m tz(UTC)", "found UTC, expected string", 1, 20},
    {"SELECT select FROM m", "found SELECT, expected identifier, string, number, bool", 1, 8},
    {"SHOW", "found EOF, expected CONTINUOUS, DATABASES", 1, 5},
    {"SHOW FOO", "found FOO, expected CONTINUOUS, DATABASES", 1, 6},
    {"SHOW TAG VALUES FROM cpu", "found EOF, expected WITH", 1, 25},
    {"SHOW TAG VALUES WITH KEY > host", "found >, expected =, !=, =~, !~, IN", 1, 26},
    {"SHOW TAG VALUES WITH KEY = /h/", "found /, expected identifier", 1, 28},
    {"SHOW TAG FOO", "found FOO, expected KEYS, KEY, VALUES", 1, 10},
    {"SHOW FIELD VALUES", "found VALUES, expected KEYS, KEY", 1, 12},
    {"SHOW MEASUREMENTS WITH MEASUREMENT =~ cpu", "found cpu, expected regex", 1, 39},
    {"SHOW MEASUREMENTS WITH MEASUREMENT = /c/", "found /, expected identifier", 1, 38},
    {"SHOW RETENTION POLICIES ON", "found EOF, expected identifier", 1, 27},
    {"SHOW SERIES CARDINALITY LIMIT", "found EOF, expected integer", 1, 30},
    {"CREATE DATABASE", "found EOF, expected identifier", 1, 16},
    {"CREATE DATABASE db WITH", "found EOF, expected DURATION, REPLICATION, SHARD, NAME", 1, 24},
    {"CREATE DATABASE db WITH DURATION 1x", "invalid duration", 1, 34},
    {"CREATE DATABASE db WITH REPLICATION 0", "expected integer >= 1", 1, 37},
    {"CREATE RETENTION POLICY rp ON db REPLICATION 1", "found REPLICATION, expected DURATION", 1,
     34},
    {"CREATE RETENTION POLICY rp db DURATION 1d", "found db, expected ON", 1, 28},
    {"CREATE CONTINUOUS QUERY cq ON db BEGIN SELECT mean(v) INTO m2 FROM m GROUP BY time(1h) END",
     "found CONTINUOUS, expected DATABASE, RETENTION, USER", 1, 8},
    {"CREATE USER bob WITH PASSWORD \"x\"", "found x, expected string", 1, 31},
    {"ALTER RETENTION POLICY rp ON db", "found EOF, expected DURATION, REPLICATION, SHARD, DEFAULT",
     1, 32},
    {"DROP", "found EOF, expected DATABASE, MEASUREMENT, RETENTION, SERIES, USER", 1, 5},
    {"DROP SERIES", "found EOF, expected FROM, WHERE", 1, 12},
    {"DELETE", "found EOF, expected FROM, WHERE", 1, 7},
    {"GRANT READ TO bob", "found TO, expected ON", 1, 12},
    {"REVOKE ALL ON db TO bob", "found TO, expected FROM", 1, 18},
    {"KILL QUERY x", "found x, expected integer", 1, 12},
    {"SET PASSWORD FOR bob 'x'", "found x, expected =", 1, 22},
    {"SHOW DATABASES SHOW USERS", "found SHOW, expected ;", 1, 16},
    {"EXPLAIN SHOW DATABASES", "found SHOW, expected SELECT", 1, 9},
    {"SELECT v FROM m WHERE time > now() - 1h ; SELECT", "found EOF, expected identifier", 1, 49},
};

static char *canon(const char *q, struct sl_arena *a, int *rc, struct iql_error *err)
{
    struct iql_query *qr = NULL;
    *rc = iql_parse(q, strlen(q), a, &qr, err);
    if (*rc) return NULL;
    struct sl_buf b = SL_BUF_INIT;
    if (iql_query_format(qr, &b) != 0) return NULL;
    char *s = sl_arena_strndup(a, b.ptr ? b.ptr : "", b.len);
    sl_buf_release(&b);
    return s;
}

static void test_roundtrips(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(roundtrips) / sizeof(roundtrips[0]); i++) {
        struct sl_arena a;
        sl_arena_init(&a, 0);
        struct iql_error err;
        int rc;
        const char *want = roundtrips[i].out ? roundtrips[i].out : roundtrips[i].in;
        char *got = canon(roundtrips[i].in, &a, &rc, &err);
        if (rc) fail_msg("query %zu %s: %s", i, roundtrips[i].in, err.msg);
        if (strcmp(got, want) != 0) fail_msg("query %zu:\n got  %s\n want %s", i, got, want);
        char *again = canon(got, &a, &rc, &err);
        if (rc) fail_msg("reparse %zu %s: %s", i, got, err.msg);
        assert_string_equal(again, want);
        sl_arena_release(&a);
    }
}

static void test_errors(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(bads) / sizeof(bads[0]); i++) {
        struct sl_arena a;
        sl_arena_init(&a, 0);
        struct iql_query *q = NULL;
        struct iql_error err;
        int rc = iql_parse(bads[i].in, strlen(bads[i].in), &a, &q, &err);
        if (rc != SL_EINVAL) fail_msg("query %zu %s: rc %d", i, bads[i].in, rc);
        assert_null(q);
        if (!strstr(err.msg, bads[i].msg))
            fail_msg("query %zu %s:\n got  %s\n want %s", i, bads[i].in, err.msg, bads[i].msg);
        if (strncmp(err.msg, "error parsing query: ", 21) != 0) fail_msg("prefix: %s", err.msg);
        if (err.line != bads[i].line || err.column != bads[i].column)
            fail_msg("query %zu %s: at %d:%d, want %d:%d (%s)", i, bads[i].in, err.line, err.column,
                     bads[i].line, bads[i].column, err.msg);
        char tail[64];
        snprintf(tail, sizeof(tail), "at line %d, char %d", err.line, err.column);
        assert_non_null(strstr(err.msg, tail));
        sl_arena_release(&a);
    }
}

static struct iql_stmt *parse1(struct sl_arena *a, const char *q)
{
    struct iql_query *qr = NULL;
    struct iql_error err;
    int rc = iql_parse(q, strlen(q), a, &qr, &err);
    if (rc) fail_msg("%s: %s", q, err.msg);
    assert_int_equal(qr->nstmts, 1);
    return qr->stmts[0];
}

static void test_select_ast(void **state)
{
    (void)state;
    struct sl_arena a;
    sl_arena_init(&a, 0);
    struct iql_stmt *s =
        parse1(&a, "SELECT mean(\"value\") AS m, host FROM \"db\"..\"cpu\", /^mem/ "
                   "WHERE host = 'a' GROUP BY time(10s, 2s), host fill(5) "
                   "ORDER BY time DESC LIMIT 3 OFFSET 4 SLIMIT 5 SOFFSET 6 "
                   "tz('Europe/Paris')");
    assert_int_equal(s->kind, IQL_STMT_SELECT);
    struct iql_select *sel = s->select;
    assert_int_equal(sel->nfields, 2);
    assert_int_equal(sel->fields[0].expr->kind, IQL_EXPR_CALL);
    assert_string_equal(sel->fields[0].expr->u.call.name, "mean");
    assert_int_equal(sel->fields[0].expr->u.call.nargs, 1);
    assert_string_equal(sel->fields[0].expr->u.call.args[0]->u.ref.name, "value");
    assert_string_equal(sel->fields[0].alias, "m");
    assert_null(sel->fields[1].alias);
    assert_int_equal(sel->nsources, 2);
    assert_string_equal(sel->sources[0].m.database, "db");
    assert_null(sel->sources[0].m.rp);
    assert_string_equal(sel->sources[0].m.name, "cpu");
    assert_string_equal(sel->sources[1].m.regex, "^mem");
    assert_null(sel->sources[1].m.name);
    assert_int_equal(sel->cond->kind, IQL_EXPR_BINARY);
    assert_int_equal(sel->cond->u.bin.op, IQL_OP_EQ);
    assert_int_equal(sel->ndims, 2);
    assert_int_equal(sel->group_interval, 10 * 1000000000LL);
    assert_int_equal(sel->group_offset, 2 * 1000000000LL);
    assert_int_equal(sel->fill, IQL_FILL_VALUE);
    assert_int_equal(sel->fill_value->u.i, 5);
    assert_true(sel->order_desc);
    assert_int_equal(sel->limit, 3);
    assert_int_equal(sel->offset, 4);
    assert_int_equal(sel->slimit, 5);
    assert_int_equal(sel->soffset, 6);
    assert_string_equal(sel->tz, "Europe/Paris");
    /* positions point into the query */
    assert_int_equal(s->pos, 0);
    assert_int_equal(sel->fields[0].expr->pos, 7);

    s = parse1(&a, "SELECT v FROM (SELECT max(v) AS v FROM m GROUP BY time(1m, now()))");
    assert_non_null(s->select->sources[0].subquery);
    assert_true(s->select->sources[0].subquery->group_offset_now);
    assert_int_equal(s->select->sources[0].subquery->group_interval, 60000000000LL);
    sl_arena_release(&a);
}

static void test_precedence(void **state)
{
    (void)state;
    struct sl_arena a;
    sl_arena_init(&a, 0);
    struct iql_expr *e;
    struct iql_error err;
    /* a OR b AND c = d + e * f  ->  a OR (b AND (c = (d + (e * f)))) */
    const char *q = "a OR b AND c = d + e * f";
    assert_int_equal(iql_parse_expr(q, strlen(q), &a, &e, &err), 0);
    assert_int_equal(e->u.bin.op, IQL_OP_OR);
    e = e->u.bin.rhs;
    assert_int_equal(e->u.bin.op, IQL_OP_AND);
    e = e->u.bin.rhs;
    assert_int_equal(e->u.bin.op, IQL_OP_EQ);
    e = e->u.bin.rhs;
    assert_int_equal(e->u.bin.op, IQL_OP_ADD);
    e = e->u.bin.rhs;
    assert_int_equal(e->u.bin.op, IQL_OP_MUL);
    /* left associativity: a - b - c  ->  (a - b) - c */
    q = "a - b - c";
    assert_int_equal(iql_parse_expr(q, strlen(q), &a, &e, &err), 0);
    assert_int_equal(e->u.bin.op, IQL_OP_SUB);
    assert_int_equal(e->u.bin.lhs->kind, IQL_EXPR_BINARY);
    assert_string_equal(e->u.bin.rhs->u.ref.name, "c");
    /* & binds like *, | and ^ like + */
    q = "a | b & c";
    assert_int_equal(iql_parse_expr(q, strlen(q), &a, &e, &err), 0);
    assert_int_equal(e->u.bin.op, IQL_OP_BITOR);
    assert_int_equal(e->u.bin.rhs->u.bin.op, IQL_OP_BITAND);
    /* parentheses override */
    q = "(a + b) * c";
    assert_int_equal(iql_parse_expr(q, strlen(q), &a, &e, &err), 0);
    assert_int_equal(e->u.bin.op, IQL_OP_MUL);
    assert_int_equal(e->u.bin.lhs->u.bin.op, IQL_OP_ADD);
    /* literal folding */
    q = "-5";
    assert_int_equal(iql_parse_expr(q, strlen(q), &a, &e, &err), 0);
    assert_int_equal(e->kind, IQL_EXPR_INTEGER);
    assert_int_equal(e->u.i, -5);
    q = "-1h";
    assert_int_equal(iql_parse_expr(q, strlen(q), &a, &e, &err), 0);
    assert_int_equal(e->kind, IQL_EXPR_DURATION);
    assert_int_equal(e->u.i, -3600000000000LL);
    q = "-x";
    assert_int_equal(iql_parse_expr(q, strlen(q), &a, &e, &err), 0);
    assert_int_equal(e->kind, IQL_EXPR_NEG);
    q = "1.5";
    assert_int_equal(iql_parse_expr(q, strlen(q), &a, &e, &err), 0);
    assert_int_equal(e->kind, IQL_EXPR_NUMBER);
    assert_true(e->u.f == 1.5);
    q = "18446744073709551615";
    assert_int_equal(iql_parse_expr(q, strlen(q), &a, &e, &err), 0);
    assert_int_equal(e->kind, IQL_EXPR_UNSIGNED);
    assert_true(e->u.u == UINT64_MAX);
    q = "$p";
    assert_int_equal(iql_parse_expr(q, strlen(q), &a, &e, &err), 0);
    assert_int_equal(e->kind, IQL_EXPR_PARAM);
    assert_string_equal(e->u.s, "p");
    q = "x::tag";
    assert_int_equal(iql_parse_expr(q, strlen(q), &a, &e, &err), 0);
    assert_int_equal(e->u.ref.type, IQL_TYPE_TAG);
    q = "a b";
    assert_int_equal(iql_parse_expr(q, strlen(q), &a, &e, &err), SL_EINVAL);
    assert_non_null(strstr(err.msg, "found b, expected EOF"));
    sl_arena_release(&a);
}

static void test_show_ast(void **state)
{
    (void)state;
    struct sl_arena a;
    sl_arena_init(&a, 0);
    struct iql_stmt *s =
        parse1(&a, "SHOW TAG VALUES ON \"db\" FROM cpu WITH KEY IN (\"host\", region) "
                   "WHERE a = 'b' LIMIT 7 OFFSET 8");
    assert_int_equal(s->kind, IQL_STMT_SHOW_TAG_VALUES);
    assert_string_equal(s->meta.database, "db");
    assert_int_equal(s->meta.nsources, 1);
    assert_int_equal(s->meta.key_op, IQL_OP_IN);
    assert_int_equal(s->meta.nkeys, 2);
    assert_string_equal(s->meta.keys[0], "host");
    assert_string_equal(s->meta.keys[1], "region");
    assert_non_null(s->meta.cond);
    assert_int_equal(s->meta.limit, 7);
    assert_int_equal(s->meta.offset, 8);

    s = parse1(&a, "SHOW TAG VALUES WITH KEY =~ /^h/");
    assert_int_equal(s->meta.key_op, IQL_OP_EQREGEX);
    assert_string_equal(s->meta.key_regex, "^h");

    s = parse1(&a, "SHOW MEASUREMENTS WITH MEASUREMENT =~ /cpu/ LIMIT 100");
    assert_int_equal(s->kind, IQL_STMT_SHOW_MEASUREMENTS);
    assert_int_equal(s->meta.with_op, IQL_OP_EQREGEX);
    assert_string_equal(s->meta.with_m.regex, "cpu");
    assert_int_equal(s->meta.limit, 100);

    s = parse1(&a, "SHOW SERIES EXACT CARDINALITY ON db");
    assert_int_equal(s->kind, IQL_STMT_SHOW_SERIES_CARDINALITY);
    assert_true(s->meta.exact);

    s = parse1(&a, "CREATE DATABASE d WITH DURATION 2d REPLICATION 3 SHARD DURATION 1h NAME r");
    assert_int_equal(s->kind, IQL_STMT_CREATE_DATABASE);
    assert_string_equal(s->admin.name, "d");
    assert_true(s->admin.with_rp);
    assert_true(s->admin.rp.has_duration);
    assert_int_equal(s->admin.rp.duration, 2 * 86400 * 1000000000LL);
    assert_int_equal(s->admin.rp.replication, 3);
    assert_int_equal(s->admin.rp.shard_duration, 3600 * 1000000000LL);
    assert_string_equal(s->admin.rp.name, "r");

    s = parse1(&a, "CREATE RETENTION POLICY r ON d DURATION INF REPLICATION 1 DEFAULT");
    assert_int_equal(s->kind, IQL_STMT_CREATE_RETENTION_POLICY);
    assert_string_equal(s->admin.database, "d");
    assert_int_equal(s->admin.rp.duration, 0);
    assert_true(s->admin.rp.is_default);

    s = parse1(&a, "ALTER RETENTION POLICY r ON d REPLICATION 2");
    assert_int_equal(s->kind, IQL_STMT_ALTER_RETENTION_POLICY);
    assert_false(s->admin.rp.has_duration);
    assert_true(s->admin.rp.has_replication);

    s = parse1(&a, "CREATE USER \"bob\" WITH PASSWORD 'pw' WITH ALL PRIVILEGES");
    assert_int_equal(s->kind, IQL_STMT_CREATE_USER);
    assert_string_equal(s->admin.password, "pw");
    assert_true(s->admin.admin);

    s = parse1(&a, "DELETE FROM cpu WHERE time < '2024-01-01T00:00:00Z'");
    assert_int_equal(s->kind, IQL_STMT_DELETE);
    assert_string_equal(s->meta.sources[0].m.name, "cpu");
    assert_non_null(s->meta.cond);

    s = parse1(&a, "DROP MEASUREMENT \"h2o\"");
    assert_int_equal(s->kind, IQL_STMT_DROP_MEASUREMENT);
    assert_string_equal(s->admin.name, "h2o");

    s = parse1(&a, "GRANT READ ON db TO bob");
    assert_int_equal(s->admin.priv, IQL_PRIV_READ);
    assert_string_equal(s->admin.database, "db");
    assert_string_equal(s->admin.name, "bob");

    struct iql_query *q;
    struct iql_error err;
    assert_int_equal(iql_parse("  ; -- nothing\n", 15, &a, &q, &err), 0);
    assert_int_equal(q->nstmts, 0);
    assert_int_equal(iql_parse("SHOW DATABASES;SHOW USERS", 25, &a, &q, &err), 0);
    assert_int_equal(q->nstmts, 2);
    assert_int_equal(q->stmts[1]->pos, 15);
    sl_arena_release(&a);
}

static void test_strings_and_idents(void **state)
{
    (void)state;
    struct sl_arena a;
    sl_arena_init(&a, 0);
    struct iql_stmt *s = parse1(
        &a, "SELECT \"we\\\"ird\\\\name\" FROM \"my.db\".\"rp\".\"m m\" WHERE s = 'a\\'b\\nc'");
    assert_string_equal(s->select->fields[0].expr->u.ref.name, "we\"ird\\name");
    assert_string_equal(s->select->sources[0].m.database, "my.db");
    assert_string_equal(s->select->sources[0].m.name, "m m");
    assert_string_equal(s->select->cond->u.bin.rhs->u.s, "a'b\nc");
    s = parse1(&a, "SELECT v FROM m WHERE r =~ /a\\/b\\d/");
    assert_string_equal(s->select->cond->u.bin.rhs->u.s, "a/b\\d");
    /* keywords are case-insensitive and quoted when printed as names */
    s = parse1(&a, "sElEcT \"from\" FrOm \"where\"");
    struct sl_buf b = SL_BUF_INIT;
    assert_int_equal(iql_stmt_format(s, &b), 0);
    assert_string_equal(b.ptr, "SELECT \"from\" FROM \"where\"");
    sl_buf_reset(&b);
    assert_int_equal(iql_format_ident(&b, "ok_1"), 0);
    assert_int_equal(iql_format_ident(&b, "1bad"), 0);
    assert_int_equal(iql_format_ident(&b, "limit"), 0);
    assert_int_equal(iql_format_string(&b, "it's"), 0);
    assert_string_equal(b.ptr, "ok_1\"1bad\"\"limit\"'it\\'s'");
    sl_buf_release(&b);
    sl_arena_release(&a);
}

/* Every prefix of every valid query parses or fails cleanly with an in-range position. */
static void test_truncation(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(roundtrips) / sizeof(roundtrips[0]); i++) {
        const char *q = roundtrips[i].in;
        size_t n = strlen(q);
        for (size_t k = 0; k <= n; k++) {
            struct sl_arena a;
            sl_arena_init(&a, 0);
            char *copy = malloc(k ? k : 1); /* exact size so ASan sees overreads */
            memcpy(copy, q, k);
            struct iql_query *qr;
            struct iql_error err;
            int rc = iql_parse(copy, k, &a, &qr, &err);
            if (rc) {
                assert_int_equal(rc, SL_EINVAL);
                assert_true(err.offset <= k);
                assert_true(err.msg[0] != '\0');
            }
            free(copy);
            sl_arena_release(&a);
        }
    }
}

static void test_hostile(void **state)
{
    (void)state;
    struct sl_arena a;
    sl_arena_init(&a, 0);
    struct iql_query *q;
    struct iql_error err;
    size_t n = 200000;
    char *big = malloc(n + 64);

    /* deep parentheses */
    strcpy(big, "SELECT ");
    size_t k = strlen(big);
    for (int i = 0; i < 5000; i++)
        big[k++] = '(';
    big[k++] = 'v';
    for (int i = 0; i < 5000; i++)
        big[k++] = ')';
    strcpy(big + k, " FROM m");
    assert_int_equal(iql_parse(big, strlen(big), &a, &q, &err), SL_EINVAL);
    assert_non_null(strstr(err.msg, "too deep"));

    /* long flat chains are bounded by the tree height limit, not the stack */
    strcpy(big, "SELECT v FROM m WHERE a = 1");
    k = strlen(big);
    while (k < n) {
        memcpy(big + k, " OR a = 1", 9);
        k += 9;
    }
    assert_int_equal(iql_parse(big, k, &a, &q, &err), SL_EINVAL);
    assert_non_null(strstr(err.msg, "too deeply nested"));

    /* a moderately long chain is fine */
    strcpy(big, "SELECT v FROM m WHERE a = 1");
    k = strlen(big);
    for (int i = 0; i < 300; i++) {
        memcpy(big + k, " OR a = 1", 9);
        k += 9;
    }
    assert_int_equal(iql_parse(big, k, &a, &q, &err), 0);

    /* deep subqueries */
    k = 0;
    for (int i = 0; i < 1000; i++) {
        memcpy(big + k, "SELECT v FROM (", 15);
        k += 15;
    }
    assert_int_equal(iql_parse(big, k, &a, &q, &err), SL_EINVAL);
    assert_non_null(strstr(err.msg, "too deep"));

    /* unary minus chain */
    strcpy(big, "SELECT ");
    k = strlen(big);
    for (int i = 0; i < 3000; i++) {
        memcpy(big + k, "- ", 2);
        k += 2;
    }
    big[k++] = 'v';
    assert_int_equal(iql_parse(big, k, &a, &q, &err), SL_EINVAL);

    /* NUL bytes */
    const char nul[] = "SELECT v FROM m WHERE a = 'x\0y'";
    assert_int_equal(iql_parse(nul, sizeof(nul) - 1, &a, &q, &err), SL_EINVAL);
    const char nul2[] = "SELECT v\0 FROM m";
    assert_int_equal(iql_parse(nul2, sizeof(nul2) - 1, &a, &q, &err), SL_EINVAL);
    assert_int_equal(err.offset, 8);

    /* a very long identifier and string */
    memcpy(big, "SELECT ", 7);
    memset(big + 7, 'x', 100000);
    strcpy(big + 100007, " FROM m");
    assert_int_equal(iql_parse(big, strlen(big), &a, &q, &err), 0);
    assert_int_equal(strlen(q->stmts[0]->select->fields[0].expr->u.ref.name), 100000);

    /* random bytes never crash */
    srand(12345);
    for (int it = 0; it < 3000; it++) {
        size_t len = (size_t)(rand() % 80);
        for (size_t i = 0; i < len; i++) {
            static const char alpha[] = "SELECT FROM WHERE GROUP BY time()'\"/\\*-+=~!<>,;.:$01 "
                                        "5mhsuµfill tz ORDER DESC SHOW TAG KEY VALUES\n";
            big[i] = (rand() % 8) ? alpha[rand() % (sizeof(alpha) - 1)] : (char)(rand() % 256);
        }
        int rc = iql_parse(big, len, &a, &q, &err);
        assert_true(rc == 0 || rc == SL_EINVAL);
        if (rc == 0) {
            struct sl_buf b = SL_BUF_INIT;
            assert_int_equal(iql_query_format(q, &b), 0);
            struct iql_query *q2;
            if (iql_parse(b.ptr ? b.ptr : "", b.len, &a, &q2, &err) != 0)
                fail_msg("reparse of %s failed: %s", b.ptr, err.msg);
            sl_buf_release(&b);
        }
        sl_arena_reset(&a);
    }
    free(big);
    sl_arena_release(&a);
}

/* The arena cap and allocation failures give SL_ENOMEM, never a crash. */
static void test_oom(void **state)
{
    (void)state;
    const char *q = "SELECT mean(v) FROM (SELECT max(v) AS v FROM m GROUP BY time(1m), host) "
                    "WHERE time > now() - 1h AND host =~ /a/ GROUP BY time(5m) fill(linear)";
    for (long fail = 0; fail < 40; fail++) {
        struct sl_arena a;
        sl_arena_init(&a, 0);
        struct iql_query *qr;
        struct iql_error err;
        sl_mem_fail_after(fail, 1);
        int rc = iql_parse(q, strlen(q), &a, &qr, &err);
        sl_mem_fail_after(-1, 0);
        assert_true(rc == 0 || rc == SL_ENOMEM);
        sl_arena_release(&a);
    }
    /* a tiny arena cap */
    char *big = malloc(300000);
    strcpy(big, "SELECT v FROM m WHERE a = '");
    size_t k = strlen(big);
    memset(big + k, 'x', 200000);
    strcpy(big + k + 200000, "'");
    struct sl_arena a;
    sl_arena_init(&a, 65536);
    struct iql_query *qr;
    struct iql_error err;
    assert_int_equal(iql_parse(big, strlen(big), &a, &qr, &err), SL_ENOMEM);
    assert_non_null(strstr(err.msg, "out of memory"));
    sl_arena_release(&a);
    free(big);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_roundtrips), cmocka_unit_test(test_errors),
        cmocka_unit_test(test_select_ast), cmocka_unit_test(test_precedence),
        cmocka_unit_test(test_show_ast),   cmocka_unit_test(test_strings_and_idents),
        cmocka_unit_test(test_truncation), cmocka_unit_test(test_hostile),
        cmocka_unit_test(test_oom),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
