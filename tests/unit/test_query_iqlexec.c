/*
 * test_query_iqlexec.c — the InfluxQL executor against a real engine in a
 * temporary directory: each case writes line protocol, runs a query and
 * compares the v1 JSON of the result with the exact text InfluxDB 1.x gives.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "common/err.h"
#include "query/influxql/exec.h"
#include "storage/engine.h"
#include "support/fixture.h"
#include "support/fixture_engine.h"

struct fx {
    struct engine *e;
};

static int setup(void **state)
{
    if (fx_setup(state) != 0) return -1;
    struct fx *f = calloc(1, sizeof(*f));
    if (!f) return -1;
    f->e = fx_open_engine(fx_dir());
    const char *lp = "cpu,host=a,region=us v=1,i=10i,s=\"x\" 1000000000\n"
                     "cpu,host=a,region=us v=3,i=20i,s=\"y\" 2000000000\n"
                     "cpu,host=b,region=eu v=5,i=30i 1000000000\n"
                     "cpu,host=b,region=eu v=2,i=40i 3000000000\n"
                     "cpu,host=b,region=eu v=7 65000000000\n"
                     "mem free=100i 1000000000\n"
                     "disk,path=/ used=0.5 1000000000\n";
    fx_write_lp_at(f->e, "db", lp, strlen(lp), LP_PREC_NS, 5);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fx *f = *state;
    engine_close(f->e);
    free(f);
    return fx_teardown(state);
}

/* Runs q (one statement) and returns the statement's JSON (static buffer). */
static const char *run(struct fx *f, const char *q, const char *epoch)
{
    static char out[8192];
    struct sl_arena a;
    sl_arena_init(&a, 64 << 20);
    struct iql_query *query;
    struct iql_error perr;
    if (iql_parse(q, strlen(q), &a, &query, &perr) != 0) {
        snprintf(out, sizeof(out), "PARSE: %s", perr.msg);
        sl_arena_release(&a);
        return out;
    }
    struct iql_exec_ctx x = {
        .eng = f->e, .db = "db", .now_ns = 100LL * 1000000000LL, .admin = 1, .arena = &a};
    struct sl_buf b;
    sl_buf_init(&b, 0);
    int64_t div = 0;
    iql_epoch_parse(epoch, &div);
    for (size_t i = 0; i < query->nstmts; i++) {
        struct iql_result r;
        iql_exec_stmt(&x, query->stmts[i], &r);
        iql_out_json_result(&b, i, &r, div);
    }
    snprintf(out, sizeof(out), "%s", b.ptr ? b.ptr : "");
    sl_buf_release(&b);
    sl_arena_release(&a);
    return out;
}

#define EXPECT(q, want) assert_string_equal(run(f, q, NULL), want)

static void test_raw(void **state)
{
    struct fx *f = *state;
    EXPECT("SELECT v FROM cpu WHERE host = 'a'",
           "{\"statement_id\":0,\"series\":[{\"name\":\"cpu\",\"columns\":[\"time\",\"v\"],"
           "\"values\":[[\"1970-01-01T00:00:01Z\",1],[\"1970-01-01T00:00:02Z\",3]]}]}");
    EXPECT("SELECT * FROM mem",
           "{\"statement_id\":0,\"series\":[{\"name\":\"mem\",\"columns\":[\"time\",\"free\"],"
           "\"values\":[[\"1970-01-01T00:00:01Z\",100]]}]}");
    EXPECT("SELECT v FROM cpu WHERE v > 4 GROUP BY host",
           "{\"statement_id\":0,\"series\":[{\"name\":\"cpu\",\"tags\":{\"host\":\"b\"},"
           "\"columns\":[\"time\",\"v\"],\"values\":[[\"1970-01-01T00:00:01Z\",5],"
           "[\"1970-01-01T00:01:05Z\",7]]}]}");
    EXPECT("SELECT v, s FROM cpu WHERE host =~ /^a$/ ORDER BY time DESC LIMIT 1",
           "{\"statement_id\":0,\"series\":[{\"name\":\"cpu\",\"columns\":[\"time\",\"v\",\"s\"],"
           "\"values\":[[\"1970-01-01T00:00:02Z\",3,\"y\"]]}]}");
    EXPECT("SELECT v * 2 + i FROM cpu WHERE time < 2s",
           "{\"statement_id\":0,\"series\":[{\"name\":\"cpu\",\"columns\":[\"time\",\"v_i\"],"
           "\"values\":[[\"1970-01-01T00:00:01Z\",12],[\"1970-01-01T00:00:01Z\",40]]}]}");
    assert_string_equal(run(f, "SELECT v FROM cpu WHERE host = 'a'", "s"),
                        "{\"statement_id\":0,\"series\":[{\"name\":\"cpu\",\"columns\":[\"time\","
                        "\"v\"],\"values\":[[1,1],[2,3]]}]}");
}

static void test_aggregates(void **state)
{
    struct fx *f = *state;
    EXPECT("SELECT mean(v) FROM cpu",
           "{\"statement_id\":0,\"series\":[{\"name\":\"cpu\",\"columns\":[\"time\",\"mean\"],"
           "\"values\":[[\"1970-01-01T00:00:00Z\",3.6]]}]}");
    EXPECT("SELECT max(v) FROM cpu WHERE time < 60s",
           "{\"statement_id\":0,\"series\":[{\"name\":\"cpu\",\"columns\":[\"time\",\"max\"],"
           "\"values\":[[\"1970-01-01T00:00:01Z\",5]]}]}");
    EXPECT("SELECT count(v), sum(i) FROM cpu GROUP BY host",
           "{\"statement_id\":0,\"series\":[{\"name\":\"cpu\",\"tags\":{\"host\":\"a\"},"
           "\"columns\":[\"time\",\"count\",\"sum\"],\"values\":[[\"1970-01-01T00:00:00Z\",2,30]]},"
           "{\"name\":\"cpu\",\"tags\":{\"host\":\"b\"},\"columns\":[\"time\",\"count\",\"sum\"],"
           "\"values\":[[\"1970-01-01T00:00:00Z\",3,70]]}]}");
    EXPECT("SELECT count(v) FROM cpu WHERE time >= 0s AND time < 4s GROUP BY time(2s)",
           "{\"statement_id\":0,\"series\":[{\"name\":\"cpu\",\"columns\":[\"time\",\"count\"],"
           "\"values\":[[\"1970-01-01T00:00:00Z\",2],[\"1970-01-01T00:00:02Z\",2]]}]}");
    EXPECT("SELECT mean(v) FROM cpu WHERE time >= 0s AND time < 8s GROUP BY time(2s) fill(none)",
           "{\"statement_id\":0,\"series\":[{\"name\":\"cpu\",\"columns\":[\"time\",\"mean\"],"
           "\"values\":[[\"1970-01-01T00:00:00Z\",3],[\"1970-01-01T00:00:02Z\",2.5]]}]}");
    EXPECT("SELECT count(v) FROM cpu WHERE time >= 0s AND time < 6s GROUP BY time(2s)",
           "{\"statement_id\":0,\"series\":[{\"name\":\"cpu\",\"columns\":[\"time\",\"count\"],"
           "\"values\":[[\"1970-01-01T00:00:00Z\",2],[\"1970-01-01T00:00:02Z\",2],"
           "[\"1970-01-01T00:00:04Z\",0]]}]}");
    EXPECT("SELECT mean(v) FROM cpu WHERE time >= 0s AND time < 6s GROUP BY time(2s) fill(9)",
           "{\"statement_id\":0,\"series\":[{\"name\":\"cpu\",\"columns\":[\"time\",\"mean\"],"
           "\"values\":[[\"1970-01-01T00:00:00Z\",3],[\"1970-01-01T00:00:02Z\",2.5],"
           "[\"1970-01-01T00:00:04Z\",9]]}]}");
    EXPECT("SELECT top(v, 2) FROM cpu",
           "{\"statement_id\":0,\"series\":[{\"name\":\"cpu\",\"columns\":[\"time\",\"top\"],"
           "\"values\":[[\"1970-01-01T00:00:01Z\",5],[\"1970-01-01T00:01:05Z\",7]]}]}");
    EXPECT("SELECT mean(v), mean(i) FROM cpu WHERE host = 'a'",
           "{\"statement_id\":0,\"series\":[{\"name\":\"cpu\",\"columns\":[\"time\",\"mean\","
           "\"mean_1\"],\"values\":[[\"1970-01-01T00:00:00Z\",2,15]]}]}");
    EXPECT(
        "SELECT derivative(v) FROM cpu WHERE host = 'a'",
        "{\"statement_id\":0,\"series\":[{\"name\":\"cpu\",\"columns\":[\"time\",\"derivative\"],"
        "\"values\":[[\"1970-01-01T00:00:02Z\",2]]}]}");
    EXPECT("SELECT mean(m) FROM (SELECT max(v) AS m FROM cpu GROUP BY host)",
           "{\"statement_id\":0,\"series\":[{\"name\":\"cpu\",\"columns\":[\"time\",\"mean\"],"
           "\"values\":[[\"1970-01-01T00:00:00Z\",5]]}]}");
}

static void test_meta(void **state)
{
    struct fx *f = *state;
    EXPECT("SHOW MEASUREMENTS",
           "{\"statement_id\":0,\"series\":[{\"name\":\"measurements\",\"columns\":[\"name\"],"
           "\"values\":[[\"cpu\"],[\"disk\"],[\"mem\"]]}]}");
    EXPECT("SHOW TAG VALUES FROM cpu WITH KEY = \"host\"",
           "{\"statement_id\":0,\"series\":[{\"name\":\"cpu\",\"columns\":[\"key\",\"value\"],"
           "\"values\":[[\"host\",\"a\"],[\"host\",\"b\"]]}]}");
    EXPECT("SHOW FIELD KEYS FROM mem",
           "{\"statement_id\":0,\"series\":[{\"name\":\"mem\",\"columns\":[\"fieldKey\","
           "\"fieldType\"],\"values\":[[\"free\",\"integer\"]]}]}");
    EXPECT("SHOW SERIES FROM cpu",
           "{\"statement_id\":0,\"series\":[{\"columns\":[\"key\"],\"values\":[[\"cpu,host=a,"
           "region=us\"],[\"cpu,host=b,region=eu\"]]}]}");
    EXPECT("SHOW RETENTION POLICIES ON db",
           "{\"statement_id\":0,\"series\":[{\"columns\":[\"name\",\"duration\","
           "\"shardGroupDuration\",\"replicaN\",\"default\"],\"values\":[[\"autogen\",\"0s\","
           "\"168h0m0s\",1,true]]}]}");
    EXPECT("DELETE FROM cpu WHERE time < 1s", "{\"statement_id\":0}");
}

static void test_errors(void **state)
{
    struct fx *f = *state;
    EXPECT("SELECT mean(v), v FROM cpu",
           "{\"statement_id\":0,\"error\":\"mixing aggregate and non-aggregate queries is not "
           "supported\"}");
    EXPECT("SELECT v FROM cpu GROUP BY time(1s)",
           "{\"statement_id\":0,\"error\":\"GROUP BY requires at least one aggregate function\"}");
    EXPECT("SELECT v FROM cpu WHERE host =~ /(/",
           "{\"statement_id\":0,\"error\":\"invalid regular expression /(/\"}");
    EXPECT("SELECT count(v) FROM cpu WHERE time >= 0 AND time < 9000000000s GROUP BY time(1ns)",
           "{\"statement_id\":0,\"error\":\"too many buckets: 9000000000000000000 (max 5000000); "
           "narrow the time range\"}");
    EXPECT("SELECT v FROM nosuch", "{\"statement_id\":0}");
    EXPECT("SELECT mean(v) FROM cpu GROUP BY time(1s) tz('Europe/Paris')",
           "{\"statement_id\":0,\"error\":\"tz('Europe/Paris') is not supported by sluice: only "
           "UTC\"}");
    EXPECT("SELECT top(v, 0) FROM cpu",
           "{\"statement_id\":0,\"error\":\"top() limit must be at least 1\"}");
    EXPECT(
        "SELECT moving_average(v, 1) FROM cpu",
        "{\"statement_id\":0,\"error\":\"moving_average window must be greater than 1, got 1\"}");
    EXPECT("SELECT percentile(v) FROM cpu",
           "{\"statement_id\":0,\"error\":\"invalid number of arguments for percentile\"}");
    EXPECT("SELECT nosuchfn(v) FROM cpu",
           "{\"statement_id\":0,\"error\":\"undefined function nosuchfn()\"}");
    EXPECT("SELECT v FROM cpu LIMIT 9223372036854775807 OFFSET 9223372036854775807",
           "{\"statement_id\":0}");
    EXPECT("SELECT v FROM cpu WHERE time > 9223372036854775806", "{\"statement_id\":0}");
    EXPECT("SELECT v FROM \"\"", "{\"statement_id\":0}");
    /* nested subqueries down to the parser's depth limit never crash */
    {
        char q[4096] = "SELECT v FROM cpu";
        for (int i = 0; i < 60; i++) {
            char t[4200];
            int n = snprintf(t, sizeof(t), "SELECT v FROM (%.4000s)", q);
            assert_true(n > 0 && (size_t)n < sizeof(q));
            memcpy(q, t, (size_t)n + 1);
        }
        const char *r = run(f, q, NULL);
        assert_non_null(strstr(r, "\"statement_id\":0"));
    }
    EXPECT("SELECT v FROM cpu WHERE v = $x",
           "{\"statement_id\":0,\"error\":\"missing parameter: x\"}");
}

/* Extreme timestamps: no overflow in windows, derivatives or integrals. */
static void test_extremes(void **state)
{
    struct fx *f = *state;
    const char *lp = "edge v=1i -9000000000000000000\n"
                     "edge v=5i 9000000000000000000\n"
                     "edge v=9i 9223372036854775806\n";
    struct write_req wr = {.db = "db", .db_len = 2, .body = lp, .len = strlen(lp), .now_ns = 5};
    struct write_result res;
    memset(&res, 0, sizeof(res));
    assert_int_equal(engine_write(f->e, &wr, &res), 0);
    assert_int_equal(res.rejected, 0);
    write_result_release(&res);
    const char *qs[] = {
        "SELECT derivative(v), elapsed(v), difference(v) FROM edge",
        "SELECT integral(v) FROM edge",
        "SELECT count(v) FROM edge WHERE time >= 9000000000000000000 AND time <= "
        "9223372036854775806 GROUP BY time(1000d) fill(linear)",
        "SELECT integral(v) FROM edge WHERE time >= 8000000000000000000 AND time <= "
        "9223372036854775806 GROUP BY time(1000d, 7h)",
        "SELECT mean(v) FROM edge WHERE time <= -8000000000000000000 GROUP BY time(1000d) "
        "fill(none)",
        "SELECT cumulative_sum(v), moving_average(v, 2) FROM edge",
    };
    for (size_t i = 0; i < sizeof(qs) / sizeof(qs[0]); i++) {
        const char *r = run(f, qs[i], NULL);
        assert_non_null(strstr(r, "\"statement_id\":0"));
        assert_null(strstr(r, "\"error\""));
    }
    EXPECT("SELECT elapsed(v, 1s) FROM edge WHERE time > 0",
           "{\"statement_id\":0,\"series\":[{\"name\":\"edge\",\"columns\":[\"time\","
           "\"elapsed\"],\"values\":[[\"2262-04-11T23:47:16.854775806Z\",223372036]]}]}");
}

static void test_float_format(void **state)
{
    (void)state;
    struct {
        double v;
        const char *s;
    } cases[] = {{0.1, "0.1"},
                 {1e21, "1e+21"},
                 {1e20, "100000000000000000000"},
                 {1e-7, "1e-7"},
                 {1.5e-6, "0.0000015"},
                 {-2.5, "-2.5"},
                 {3.0, "3"},
                 {123456.789, "123456.789"},
                 {1.2345678901234567, "1.2345678901234567"}};
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct sl_buf b;
        sl_buf_init(&b, 0);
        iql_out_float(&b, cases[i].v);
        assert_string_equal(b.ptr, cases[i].s);
        sl_buf_release(&b);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_raw),      cmocka_unit_test(test_aggregates),
        cmocka_unit_test(test_meta),     cmocka_unit_test(test_errors),
        cmocka_unit_test(test_extremes), cmocka_unit_test(test_float_format),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
