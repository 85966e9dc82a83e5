/* test_query_sql.c — the SQL engine: the rewriter, the time functions, the
 * virtual table with pushdown and deduplication, and the result encoders. */
#include <setjmp.h>
#include <math.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "common/err.h"
#include "common/mem.h"
#include "parquet/parquet.h"
#include "query/output/qout.h"
#include "query/sql/sql.h"
#include "query/sql/sql_int.h"
#include "storage/engine.h"
#include "storage/persist.h"
#include "support/fixture.h"
#include "support/fixture_engine.h"

/* ---- rewriter ---- */

static char *rewrite(const char *q, int expect_rc)
{
    struct sql_rewrite rw;
    char err[512] = "";
    int rc = sql_rewrite_query(q, strlen(q), &rw, err, sizeof(err));
    if (rc != expect_rc) fprintf(stderr, "rewrite(%s): rc %d: %s\n", q, rc, err);
    assert_int_equal(rc, expect_rc);
    if (rc < 0) {
        assert_true(err[0] != '\0');
        return NULL;
    }
    char *s = sl_strdup(rw.sql.ptr);
    sql_rewrite_release(&rw);
    return s;
}

static void expect_rewrite(const char *q, const char *want)
{
    char *got = rewrite(q, 0);
    if (strcmp(got, want)) fprintf(stderr, "rewrite(%s)\n  got  %s\n  want %s\n", q, got, want);
    assert_string_equal(got, want);
    sl_free(got);
}

static void test_rewrite_interval(void **state)
{
    (void)state;
    expect_rewrite("SELECT date_bin(INTERVAL '5 minutes', time) FROM cpu",
                   "SELECT date_bin((300000000000), time) FROM cpu");
    expect_rewrite("SELECT * FROM cpu WHERE time >= now() - INTERVAL '1 hour'",
                   "SELECT * FROM cpu WHERE time >= now() - (3600000000000)");
    expect_rewrite("select now() - interval '1 day' - INTERVAL '2' HOUR",
                   "select now() - (86400000000000) - (7200000000000)");
    expect_rewrite("SELECT INTERVAL '1 hour 30 minutes'", "SELECT (5400000000000)");
    expect_rewrite("SELECT INTERVAL '7 days', INTERVAL '1.5 seconds', INTERVAL '100ms'",
                   "SELECT (604800000000000), (1500000000), (100000000)");
    /* inside strings, identifiers and comments nothing changes */
    expect_rewrite("SELECT 'INTERVAL ''1 hour''' AS \"INTERVAL '1 hour'\" -- INTERVAL '1 hour'\n",
                   "SELECT 'INTERVAL ''1 hour''' AS \"INTERVAL '1 hour'\" -- INTERVAL '1 hour'\n");
    expect_rewrite("/* INTERVAL '1 day' */ SELECT 1", "/* INTERVAL '1 day' */ SELECT 1");
    assert_null(rewrite("SELECT INTERVAL '1 month'", SL_EINVAL));
    assert_null(rewrite("SELECT INTERVAL '2 fortnights'", SL_EINVAL));
    assert_null(rewrite("SELECT INTERVAL ''", SL_EINVAL));
    assert_null(rewrite("SELECT INTERVAL '99999999999999999999 days'", SL_EINVAL));
}

static void test_rewrite_time_literals(void **state)
{
    (void)state;
    expect_rewrite("SELECT * FROM m WHERE time >= '2024-12-19T10:00:00Z' AND time < "
                   "'2024-12-19T11:00:00Z'",
                   "SELECT * FROM m WHERE time >= 1734602400000000000 AND time < "
                   "1734606000000000000");
    expect_rewrite("SELECT * FROM m WHERE '2024-01-01' <= \"time\"",
                   "SELECT * FROM m WHERE 1704067200000000000 <= \"time\"");
    expect_rewrite("SELECT * FROM m WHERE m.time BETWEEN '2024-01-01' AND '2024-01-02'",
                   "SELECT * FROM m WHERE m.time BETWEEN 1704067200000000000 AND "
                   "1704153600000000000");
    expect_rewrite("SELECT * FROM m WHERE time IN ('2024-01-01T00:00:00Z')",
                   "SELECT * FROM m WHERE time IN (1704067200000000000)");
    /* a tag compared with a date-like string stays a string */
    expect_rewrite("SELECT * FROM m WHERE day = '2024-01-01'",
                   "SELECT * FROM m WHERE day = '2024-01-01'");
    expect_rewrite("SELECT '2024-01-01T00:00:00Z'::timestamp", "SELECT 1704067200000000000");
    expect_rewrite("SELECT CAST('2024-01-01T00:00:00Z' AS TIMESTAMP)",
                   "SELECT 1704067200000000000");
    assert_null(rewrite("SELECT 'yesterday'::timestamp", SL_EINVAL));
}

static void test_rewrite_names_show_explain(void **state)
{
    (void)state;
    expect_rewrite("SELECT COUNT(*) FROM my-bucket", "SELECT COUNT(*) FROM \"my-bucket\"");
    expect_rewrite("SELECT * FROM metrics-hot WHERE x", "SELECT * FROM \"metrics-hot\" WHERE x");
    expect_rewrite("SELECT a - b FROM t", "SELECT a - b FROM t");
    expect_rewrite("SELECT * FROM t-1 ", "SELECT * FROM \"t-1\" ");
    char *s = rewrite("SHOW TABLES", 0);
    assert_non_null(strstr(s, "information_schema.tables"));
    sl_free(s);
    s = rewrite("show columns from \"my-table\";", 0);
    assert_non_null(strstr(s, "table_name = 'my-table'"));
    sl_free(s);
    s = rewrite("SHOW COLUMNS IN it's", SL_EINVAL); /* unterminated string */
    assert_null(rewrite("SHOW DATABASES", SL_EINVAL));
    struct sql_rewrite rw;
    char err[256];
    assert_int_equal(sql_rewrite_query("EXPLAIN ANALYZE SELECT 1", 24, &rw, err, sizeof(err)), 0);
    assert_int_equal(rw.explain, 1);
    assert_string_equal(rw.sql.ptr, "SELECT 1");
    sql_rewrite_release(&rw);
    const char *q = "SELECT date_bin(INTERVAL '5 minutes', time) AS bucket, max(time), "
                    "now() n, host FROM cpu";
    assert_int_equal(sql_rewrite_query(q, strlen(q), &rw, err, sizeof(err)), 0);
    assert_int_equal(rw.ntime_names, 3);
    assert_string_equal(rw.time_names[0], "bucket");
    assert_string_equal(rw.time_names[1], "max(time)");
    assert_string_equal(rw.time_names[2], "n");
    sql_rewrite_release(&rw);
}

static void test_rewrite_hostile(void **state)
{
    (void)state;
    assert_null(rewrite("SELECT 'abc", SL_EINVAL));
    assert_null(rewrite("SELECT \"abc", SL_EINVAL));
    assert_null(rewrite("SELECT /* abc", SL_EINVAL));
    assert_null(rewrite("", SL_EINVAL));
    assert_null(rewrite("   -- only a comment", SL_EINVAL));
    /* every prefix of a valid query tokenizes without reading past the end */
    const char *q = "SELECT date_bin(INTERVAL '5 minutes', time, '1970-01-01T00:00:00Z') AS b "
                    "FROM \"my-bucket\" WHERE time >= '2024-12-19T10:00:00Z' /* c */ -- d";
    for (size_t n = 0; n <= strlen(q); n++) {
        char *copy = sl_malloc(n + 1);
        memcpy(copy, q, n);
        struct sql_rewrite rw;
        char err[256];
        if (sql_rewrite_query(copy, n, &rw, err, sizeof(err)) == 0) sql_rewrite_release(&rw);
        sl_free(copy);
    }
    /* too long */
    size_t big = SQL_MAX_QUERY + 10;
    char *b = sl_malloc(big);
    memset(b, ' ', big);
    struct sql_rewrite rw;
    char err[256];
    assert_int_equal(sql_rewrite_query(b, big, &rw, err, sizeof(err)), SL_ETOOBIG);
    sl_free(b);
}

static void test_interval_parse(void **state)
{
    (void)state;
    int64_t v;
    assert_int_equal(sql_interval_parse("5 minutes", 9, &v), 0);
    assert_int_equal(v, 300000000000LL);
    assert_int_equal(sql_interval_parse("1h30m", 5, &v), 0);
    assert_int_equal(v, 5400000000000LL);
    assert_int_equal(sql_interval_parse("2 weeks 1 day", 13, &v), 0);
    assert_int_equal(v, 15LL * 86400 * 1000000000LL);
    assert_int_equal(sql_interval_parse("-1 second", 9, &v), 0);
    assert_int_equal(v, -1000000000LL);
    assert_int_equal(sql_interval_parse("10", 2, &v), 0);
    assert_int_equal(v, 10000000000LL);
    assert_int_equal(sql_interval_parse("abc", 3, &v), SL_EINVAL);
    assert_int_equal(sql_interval_parse("5 parsecs", 9, &v), SL_EINVAL);
    assert_int_equal(sql_interval_parse("999999999999 weeks", 18, &v), SL_ERANGE);
}

/* ---- engine-level queries ---- */

/* Runs q and returns the body (caller frees) or NULL with *rc set. */
static char *query(struct engine *e, const char *db, const char *q, enum qout_format f, int *rcp)
{
    struct sl_buf out = SL_BUF_INIT;
    char err[512] = "";
    struct sql_request r = {.db = db,
                            .q = q,
                            .qlen = strlen(q),
                            .format = f,
                            .now_ns = 1734606000000000000LL /* 2024-12-19T11:00:00Z */};
    int rc = sql_execute(e, &r, &out, err, sizeof(err));
    if (rcp) *rcp = rc;
    if (rc < 0) {
        if (!rcp) fprintf(stderr, "query %s: %s\n", q, err);
        assert_true(err[0] != '\0');
        sl_buf_release(&out);
        return NULL;
    }
    return sl_buf_detach(&out, NULL);
}

static void expect_query(struct engine *e, const char *q, const char *want)
{
    char *got = query(e, "db", q, QOUT_JSON, NULL);
    assert_non_null(got);
    if (strcmp(got, want)) fprintf(stderr, "%s\n  got  %s\n  want %s\n", q, got, want);
    assert_string_equal(got, want);
    sl_free(got);
}

/* Two queries give the same body (pushdown must not change results). */
static void expect_same(struct engine *e, const char *a, const char *b)
{
    char *x = query(e, "db", a, QOUT_JSONL, NULL), *y = query(e, "db", b, QOUT_JSONL, NULL);
    assert_non_null(x);
    assert_non_null(y);
    if (strcmp(x, y)) fprintf(stderr, "%s\n%s\n  vs\n%s\n%s\n", a, x, b, y);
    assert_string_equal(x, y);
    sl_free(x);
    sl_free(y);
}

#define T0 1734602400000000000LL /* 2024-12-19T10:00:00Z */

static void load(struct engine *e)
{
    struct sl_buf b = SL_BUF_INIT;
    /* 3 hosts x 120 minutes, across two partitions */
    for (int m = 0; m < 120; m++)
        for (int h = 0; h < 3; h++)
            sl_buf_addf(&b, "cpu,host=h%d,region=%s usage=%d.5,n=%di,ok=%s,note=\"x%d\" %lld\n", h,
                        h == 2 ? "eu" : "us", m + h, m, m % 2 ? "true" : "false", m,
                        T0 + (long long)m * 60000000000LL);
    fx_write_lp(e, "db", b.ptr, LP_PREC_NS);
    sl_buf_release(&b);
    fx_write_lp(e, "db", "my-bucket,sensor_id=s1 temperature=20.5 1734602400000000000\n",
                LP_PREC_NS);
}

static void test_sql_basic(void **state)
{
    (void)state;
    struct engine *e = fx_open_engine(fx_dir());
    load(e);
    expect_query(e, "SELECT count(*) AS n FROM cpu", "[{\"n\":360}]");
    expect_query(e,
                 "SELECT time, host, usage, n, ok, note FROM cpu WHERE host = 'h1' ORDER BY time "
                 "LIMIT 2",
                 "[{\"time\":\"2024-12-19T10:00:00\",\"host\":\"h1\",\"usage\":1.5,\"n\":0,"
                 "\"ok\":false,\"note\":\"x0\"},{\"time\":\"2024-12-19T10:01:00\",\"host\":\"h1\","
                 "\"usage\":2.5,\"n\":1,\"ok\":true,\"note\":\"x1\"}]");
    expect_query(e, "SELECT COUNT(*) AS c FROM my-bucket", "[{\"c\":1}]");
    expect_query(e, "SELECT temperature FROM \"my-bucket\"", "[{\"temperature\":20.5}]");
    expect_query(e,
                 "SELECT date_bin(INTERVAL '30 minutes', time) AS b, count(*) AS c FROM cpu "
                 "WHERE host = 'h0' GROUP BY b ORDER BY b LIMIT 2",
                 "[{\"b\":\"2024-12-19T10:00:00\",\"c\":30},{\"b\":\"2024-12-19T10:30:00\","
                 "\"c\":30}]");
    expect_query(e,
                 "SELECT date_bin(INTERVAL '1 hour', time, '1970-01-01T00:10:00Z') AS b, "
                 "count(*) AS c FROM cpu WHERE host = 'h0' GROUP BY b ORDER BY b",
                 "[{\"b\":\"2024-12-19T09:10:00\",\"c\":10},{\"b\":\"2024-12-19T10:10:00\","
                 "\"c\":60},{\"b\":\"2024-12-19T11:10:00\",\"c\":50}]");
    /* now() is 11:00 in these tests */
    expect_query(e, "SELECT count(*) AS c FROM cpu WHERE time >= now() - INTERVAL '10 minutes'",
                 "[{\"c\":210}]");
    expect_query(e, "SELECT count(*) AS c FROM cpu WHERE time >= '2024-12-19T11:50:00Z'",
                 "[{\"c\":30}]");
    expect_query(e, "SELECT count(DISTINCT host) AS h FROM cpu WHERE region IN ('us', 'xx')",
                 "[{\"h\":2}]");
    expect_query(e, "SELECT max(time) AS t FROM cpu", "[{\"t\":\"2024-12-19T11:59:00\"}]");
    expect_query(e,
                 "SELECT date_trunc('hour', time) AS h, date_part('minute', time) AS m FROM cpu "
                 "ORDER BY time DESC LIMIT 1",
                 "[{\"h\":\"2024-12-19T11:00:00\",\"m\":59}]");
    expect_query(e,
                 "SELECT table_name FROM information_schema.tables WHERE table_schema = 'iox' "
                 "ORDER BY 1",
                 "[{\"table_name\":\"cpu\"},{\"table_name\":\"my-bucket\"}]");
    expect_query(e, "SHOW COLUMNS FROM my-bucket",
                 "[{\"table_catalog\":\"public\",\"table_schema\":\"iox\",\"table_name\":\"my-"
                 "bucket\",\"column_name\":\"time\",\"data_type\":\"Timestamp(Nanosecond, None)\","
                 "\"is_nullable\":\"NO\"},{\"table_catalog\":\"public\",\"table_schema\":\"iox\","
                 "\"table_name\":\"my-bucket\",\"column_name\":\"sensor_id\",\"data_type\":"
                 "\"Dictionary(Int32, Utf8)\",\"is_nullable\":\"YES\"},{\"table_catalog\":"
                 "\"public\",\"table_schema\":\"iox\",\"table_name\":\"my-bucket\",\"column_name\":"
                 "\"temperature\",\"data_type\":\"Float64\",\"is_nullable\":\"YES\"}]");
    char *plan = query(e, "db", "EXPLAIN SELECT usage FROM cpu WHERE host = 'h1' AND time > 5",
                       QOUT_JSON, NULL);
    assert_non_null(strstr(plan, "pushdown host=?"));
    assert_non_null(strstr(plan, "pushdown time>?"));
    assert_non_null(strstr(plan, "\"fast_path\",\"plan\":\"none: SQLite runs the statement"));
    sl_free(plan);
    /* the fast path's plan: bucket, tag filter, time bounds, aggregates */
    plan = query(e, "db",
                 "EXPLAIN SELECT date_bin(INTERVAL '1 minute', time) AS m, max(usage), count(*) "
                 "FROM cpu WHERE host IN ('h1', 'h2') AND time >= 5 GROUP BY m",
                 QOUT_JSON, NULL);
    assert_non_null(plan);
    assert_non_null(strstr(plan, "vectorised aggregation over cpu; time >= "));
    assert_non_null(strstr(plan, "host IN (2 values); groups by date_bin(60000000000 ns); "
                                 "aggregates max(usage), count(*)"));
    sl_free(plan);
    plan = query(e, "db", "EXPLAIN SELECT /* no_fastagg */ max(usage) FROM cpu GROUP BY host",
                 QOUT_JSON, NULL);
    assert_non_null(strstr(plan, "switched off by a no_fastagg comment"));
    sl_free(plan);
    engine_close(e);
}

static void test_sql_pushdown_equivalence(void **state)
{
    (void)state;
    struct engine *e = fx_open_engine(fx_dir());
    load(e);
    expect_query(e, "SELECT count(*) AS c FROM cpu WHERE time >= 1734604200000000000",
                 "[{\"c\":270}]");
    expect_query(e, "SELECT count(*) AS c FROM cpu WHERE time < 1734607200000000000",
                 "[{\"c\":240}]");
    expect_query(e,
                 "SELECT count(*) AS c FROM cpu WHERE time >= 1734604200000000000 AND time < "
                 "1734607200000000000",
                 "[{\"c\":150}]");
    expect_query(e,
                 "SELECT count(note) AS c FROM cpu WHERE time >= 1734604200000000000 AND time < "
                 "1734607200000000000",
                 "[{\"c\":150}]");
    /* `+ 0` and `|| ''` hide the column from xBestIndex: SQLite filters itself */
    expect_same(e,
                "SELECT * FROM cpu WHERE time >= '2024-12-19T10:30:00Z' AND time < "
                "'2024-12-19T11:20:00Z' ORDER BY host, time",
                "SELECT * FROM cpu WHERE time + 0 >= 1734604200000000000 AND time + 0 < "
                "1734607200000000000 ORDER BY host, time");
    expect_same(e,
                "SELECT * FROM cpu WHERE host IN ('h0','h2') AND time <= 1734603000000000000 "
                "ORDER BY host, time",
                "SELECT * FROM cpu WHERE host || '' IN ('h0','h2') AND time + 0 <= "
                "1734603000000000000 ORDER BY host, time");
    expect_same(e, "SELECT * FROM cpu WHERE time = 1734603000000000000 ORDER BY host",
                "SELECT * FROM cpu WHERE time + 0 = 1734603000000000000 ORDER BY host");
    expect_same(e, "SELECT * FROM cpu WHERE time > 1734603000000000000.5 ORDER BY host, time",
                "SELECT * FROM cpu WHERE time + 0 > 1734603000000000000 ORDER BY host, time");
    expect_same(e, "SELECT time, usage FROM cpu WHERE host = 'h1' ORDER BY time DESC LIMIT 7",
                "SELECT time, usage FROM cpu WHERE host || '' = 'h1' ORDER BY time + 0 DESC "
                "LIMIT 7");
    expect_query(e, "SELECT count(*) AS c FROM cpu WHERE host = NULL", "[{\"c\":0}]");
    expect_query(e, "SELECT count(*) AS c FROM cpu WHERE time > NULL", "[{\"c\":0}]");
    expect_query(e, "SELECT count(*) AS c FROM cpu WHERE host = 'nope'", "[{\"c\":0}]");
    /* the same after persisting to Parquet (row-group pruning, projection) */
    assert_int_equal(storage_persist(e, 1), 0);
    expect_query(e,
                 "SELECT count(*) AS c FROM cpu WHERE host = 'h1' AND time >= "
                 "'2024-12-19T11:00:00Z'",
                 "[{\"c\":60}]");
    expect_same(e,
                "SELECT * FROM cpu WHERE host IN ('h0','h2') AND time <= 1734603000000000000 "
                "ORDER BY host, time",
                "SELECT * FROM cpu WHERE host || '' IN ('h0','h2') AND time + 0 <= "
                "1734603000000000000 ORDER BY host, time");
    /* overwrite one field of a persisted row: the buffer wins, other fields stay */
    fx_write_lp(e, "db", "cpu,region=us,host=h0 usage=99 1734602400000000000\n", LP_PREC_NS);
    expect_query(e, "SELECT usage, n, note FROM cpu WHERE host = 'h0' ORDER BY time LIMIT 1",
                 "[{\"usage\":99.0,\"n\":0,\"note\":\"x0\"}]");
    expect_query(e, "SELECT count(*) AS c FROM cpu", "[{\"c\":360}]");
    /* files above the ordered-scan limit: SQLite sorts by time, unless a tag
     * equality narrows the scan; the rows are the same either way */
    char *plan = query(e, "db", "EXPLAIN SELECT * FROM cpu ORDER BY time", QOUT_JSON, NULL);
    assert_non_null(strstr(plan, " o+"));
    sl_free(plan);
    sql_vtab_set_ordered_max_rows(10);
    plan = query(e, "db", "EXPLAIN SELECT * FROM cpu ORDER BY time", QOUT_JSON, NULL);
    assert_null(strstr(plan, " o+"));
    assert_non_null(strstr(plan, "ORDER BY"));
    sl_free(plan);
    plan = query(e, "db", "EXPLAIN SELECT * FROM cpu WHERE host = 'h1' ORDER BY time DESC",
                 QOUT_JSON, NULL);
    assert_non_null(strstr(plan, " o-"));
    sl_free(plan);
    expect_same(e, "SELECT time, host, usage FROM cpu ORDER BY time, host",
                "SELECT time, host, usage FROM cpu ORDER BY time + 0, host");
    expect_same(e, "SELECT time, usage FROM cpu ORDER BY time DESC LIMIT 5",
                "SELECT time, usage FROM cpu ORDER BY time + 0 DESC LIMIT 5");
    sql_vtab_set_ordered_max_rows((uint64_t)1 << 20);
    engine_close(e);
}

static void test_sql_errors(void **state)
{
    (void)state;
    struct engine *e = fx_open_engine(fx_dir());
    load(e);
    int rc;
    assert_null(query(e, "db", "SELEC 1", QOUT_JSON, &rc));
    assert_int_equal(rc, SL_EINVAL);
    assert_null(query(e, "db", "SELECT * FROM nope", QOUT_JSON, &rc));
    assert_int_equal(rc, SL_EINVAL);
    assert_null(query(e, "db", "SELECT nope FROM cpu", QOUT_JSON, &rc));
    assert_int_equal(rc, SL_EINVAL);
    assert_null(query(e, "other", "SELECT 1", QOUT_JSON, &rc));
    assert_int_equal(rc, SL_ENOENT);
    assert_null(query(e, "db", "SELECT 1; SELECT 2", QOUT_JSON, &rc));
    assert_int_equal(rc, SL_EINVAL);
    assert_null(query(e, "db", "ATTACH '/tmp/x.db' AS x", QOUT_JSON, &rc));
    assert_int_equal(rc, SL_EINVAL);
    assert_null(query(e, "db", "DROP TABLE cpu", QOUT_JSON, &rc));
    assert_int_equal(rc, SL_EINVAL);
    assert_null(query(e, "db", "PRAGMA table_info(cpu)", QOUT_JSON, &rc));
    assert_int_equal(rc, SL_EINVAL);
    assert_null(query(e, "db", "SELECT date_bin(0, time) FROM cpu", QOUT_JSON, &rc));
    assert_int_equal(rc, SL_EINVAL);
    assert_null(query(e, "db", "SELECT * FROM cpu WHERE time > $t", QOUT_JSON, &rc));
    assert_int_equal(rc, SL_EINVAL);
    assert_null(query(e, "db", "SELECT * FROM cpu WHERE time > 'garbage' || ''", QOUT_JSON, &rc));
    assert_int_equal(rc, SL_EINVAL);
    engine_close(e);
}

static void test_sql_params_formats(void **state)
{
    (void)state;
    struct engine *e = fx_open_engine(fx_dir());
    fx_write_lp(e, "db", "m,t=a\\ b v=1.25,s=\"x,\\\"y\" 1000000000\nm,t=c v=2 2000000000\n",
                LP_PREC_NS);
    struct sql_param p[2] = {{.name = "host"}, {.name = "start"}};
    p[0].v.type = QOUT_STRING;
    p[0].v.v.s.ptr = "c";
    p[0].v.v.s.len = 1;
    p[1].v.type = QOUT_STRING;
    p[1].v.v.s.ptr = "1970-01-01T00:00:01Z";
    p[1].v.v.s.len = strlen(p[1].v.v.s.ptr);
    const char *q = "SELECT time, v FROM m WHERE t = $host AND time >= $start";
    struct sql_request r = {
        .db = "db", .q = q, .qlen = strlen(q), .format = QOUT_CSV, .params = p, .nparams = 2};
    struct sl_buf out = SL_BUF_INIT;
    char err[256];
    assert_int_equal(sql_execute(e, &r, &out, err, sizeof(err)), 0);
    assert_string_equal(out.ptr, "time,v\n1970-01-01T00:00:02,2.0\n");
    sl_buf_release(&out);

    char *s = query(e, "db", "SELECT t, s, v FROM m ORDER BY time", QOUT_CSV, NULL);
    assert_string_equal(s, "t,s,v\na b,\"x,\"\"y\",1.25\nc,,2.0\n");
    sl_free(s);
    s = query(e, "db", "SELECT t, v FROM m ORDER BY time", QOUT_JSONL, NULL);
    assert_string_equal(s, "{\"t\":\"a b\",\"v\":1.25}\n{\"t\":\"c\",\"v\":2.0}\n");
    sl_free(s);
    s = query(e, "db", "SELECT t, v FROM m ORDER BY time", QOUT_PRETTY, NULL);
    assert_string_equal(s, "+-----+------+\n"
                           "| t   | v    |\n"
                           "+-----+------+\n"
                           "| a b | 1.25 |\n"
                           "| c   | 2.0  |\n"
                           "+-----+------+\n");
    sl_free(s);
    s = query(e, "db", "SELECT * FROM m WHERE v > 100", QOUT_JSON, NULL);
    assert_string_equal(s, "[]");
    sl_free(s);
    /* parquet: read it back with our reader */
    struct sl_buf pb = SL_BUF_INIT;
    q = "SELECT time, t, v, s FROM m ORDER BY time";
    r = (struct sql_request){.db = "db", .q = q, .qlen = strlen(q), .format = QOUT_PARQUET};
    assert_int_equal(sql_execute(e, &r, &pb, err, sizeof(err)), 0);
    struct pq_reader *rd;
    assert_int_equal(pq_reader_open_mem(pb.ptr, pb.len, &rd, err, sizeof(err)), 0);
    assert_int_equal(pq_reader_num_rows(rd), 2);
    assert_int_equal(pq_reader_column(rd, 0)->type, PQ_TIME_NS);
    assert_int_equal(pq_reader_column(rd, 2)->type, PQ_DOUBLE);
    struct pq_column_buf cb = PQ_COLUMN_BUF_INIT;
    assert_int_equal(pq_reader_read_column(rd, 0, 0, &cb), 0);
    assert_int_equal(((int64_t *)cb.values)[1], 2000000000LL);
    pq_column_buf_release(&cb);
    assert_int_equal(pq_reader_read_column(rd, 0, 3, &cb), 0);
    assert_int_equal(cb.valid[1], 0);
    pq_column_buf_release(&cb);
    pq_reader_close(rd);
    sl_buf_release(&pb);
    engine_close(e);
}

static void test_qout_values(void **state)
{
    (void)state;
    const char *names[] = {"a", "b"};
    struct sl_buf out = SL_BUF_INIT;
    struct qout *q;
    assert_int_equal(qout_open(QOUT_JSON, &out, names, 2, &q), 0);
    struct qout_value v[2] = {{.type = QOUT_FLOAT}, {.type = QOUT_STRING}};
    v[0].v.f = 0.1;
    v[1].v.s.ptr = "\"\n\x01";
    v[1].v.s.len = 3;
    assert_int_equal(qout_row(q, v), 0);
    v[0].v.f = 1.0 / 0.0;
    v[1].type = QOUT_NULL;
    assert_int_equal(qout_row(q, v), 0);
    assert_int_equal(qout_finish(q), 0);
    qout_free(q);
    assert_string_equal(out.ptr, "[{\"a\":0.1,\"b\":\"\\\"\\n\\u0001\"},{\"a\":null}]");
    sl_buf_release(&out);
    enum qout_format f;
    assert_int_equal(qout_format_parse("PARQUET", &f), 0);
    assert_int_equal(f, QOUT_PARQUET);
    assert_int_equal(qout_format_parse("xml", &f), SL_EINVAL);
    char t[48];
    qout_time_format(1500000000LL, t);
    assert_string_equal(t, "1970-01-01T00:00:01.5");
}

/* The snprintf-based formatting the fast paths of fmt_float and
 * sl_time_format_rfc3339 must reproduce. */
static void ref_float(double d, char *out, size_t cap)
{
    int n = 0;
    for (int prec = 15; prec <= 17; prec++) {
        n = snprintf(out, cap, "%.*g", prec, d);
        if (strtod(out, NULL) == d) break;
    }
    if (n > 0 && !strpbrk(out, ".eEn")) snprintf(out + n, cap - (size_t)n, ".0");
}

static void ref_time(int64_t ns, char *out, size_t cap)
{
    int64_t secs = ns / 1000000000, frac = ns % 1000000000;
    if (frac < 0) frac += 1000000000, secs -= 1;
    time_t tt = (time_t)secs;
    struct tm tm;
    gmtime_r(&tt, &tm);
    int n = snprintf(out, cap, "%04d-%02d-%02dT%02d:%02d:%02d", tm.tm_year + 1900, tm.tm_mon + 1,
                     tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
    if (frac) {
        n += snprintf(out + n, cap - (size_t)n, ".%09lld", (long long)frac);
        while (out[n - 1] == '0')
            out[--n] = '\0';
    }
}

static void test_qout_formatting(void **state)
{
    (void)state;
    const char *names[] = {"a"};
    uint64_t seed = 42;
    for (int i = 0; i < 20000; i++) {
        seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
        double d;
        switch (i % 5) {
        case 0: d = (double)(int64_t)(seed >> 20) - (double)(1LL << 43); break;
        case 1: d = (double)(int64_t)(seed >> 11) * ((seed & 1) ? -1 : 1); break;
        case 2: d = (double)(seed >> 40) / 1024.0; break;
        case 3: d = i == 3 ? -0.0 : i == 8 ? 1e15 : i == 13 ? 999999999999999.0 : 1e15 - 1; break;
        default: memcpy(&d, &seed, sizeof d); break;
        }
        if (!isfinite(d)) continue;
        char want[64];
        ref_float(d, want, sizeof want);
        struct sl_buf out = SL_BUF_INIT;
        struct qout *q;
        assert_int_equal(qout_open(QOUT_CSV, &out, names, 1, &q), 0);
        struct qout_value v = {.type = QOUT_FLOAT};
        v.v.f = d;
        assert_int_equal(qout_row(q, &v), 0);
        assert_int_equal(qout_finish(q), 0);
        qout_free(q);
        char got[80];
        snprintf(got, sizeof got, "a\n%s\n", want);
        if (strcmp(out.ptr, got)) fprintf(stderr, "%.17g: got %s want %s\n", d, out.ptr, got);
        assert_string_equal(out.ptr, got);
        sl_buf_release(&out);
        /* times from year 1 to 9999, also before 1970 */
        int64_t ns = (int64_t)(seed % 315537897600ULL - 62135596800LL) * 1000000000LL;
        ns += (int64_t)((seed >> 7) % 1000000000ULL) * ((i & 3) == 0 ? 0 : 1);
        if ((i & 7) == 1) ns -= ns % 1000000;
        char t[48], rt[48];
        qout_time_format(ns, t);
        ref_time(ns, rt, sizeof rt);
        if (strcmp(t, rt)) fprintf(stderr, "%lld: got %s want %s\n", (long long)ns, t, rt);
        assert_string_equal(t, rt);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_qout_formatting),
        cmocka_unit_test(test_rewrite_interval),
        cmocka_unit_test(test_rewrite_time_literals),
        cmocka_unit_test(test_rewrite_names_show_explain),
        cmocka_unit_test(test_rewrite_hostile),
        cmocka_unit_test(test_interval_parse),
        cmocka_unit_test(test_qout_values),
        cmocka_unit_test_setup_teardown(test_sql_basic, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_sql_pushdown_equivalence, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_sql_errors, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_sql_params_formats, fx_setup, fx_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
