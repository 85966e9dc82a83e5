/*
 * test_query_influxql_cond.c — the InfluxQL condition helpers: time range of
 * a WHERE clause, removal of the time bounds, tag predicate extraction, and
 * InfluxQL duration parsing/printing.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "common/arena.h"
#include "common/buf.h"
#include "common/err.h"
#include "query/influxql/iql.h"

#define NOW   1700000000000000000LL /* 2023-11-14T22:13:20Z */
#define HOUR  3600000000000LL
#define MINUS INT64_MIN
#define PLUS  INT64_MAX

static struct iql_expr *expr(struct sl_arena *a, const char *q)
{
    struct iql_expr *e = NULL;
    struct iql_error err;
    if (iql_parse_expr(q, strlen(q), a, &e, &err) != 0) fail_msg("%s: %s", q, err.msg);
    return e;
}

struct tr {
    const char *cond;
    int64_t lo, hi;
};

static const struct tr ranges[] = {
    {"time >= now() - 1h", NOW - HOUR, PLUS},
    {"time > now() - 1h", NOW - HOUR + 1, PLUS},
    {"time < now()", MINUS, NOW - 1},
    {"time <= now() + 1h", MINUS, NOW + HOUR},
    {"now() - 1h <= time", NOW - HOUR, PLUS},
    {"now() > time", MINUS, NOW - 1},
    {"time = 5", 5, 5},
    {"time >= '2024-01-01T00:00:00Z' AND time < '2024-01-02T00:00:00Z'", 1704067200000000000LL,
     1704153600000000000LL - 1},
    {"time >= '2024-01-01'", 1704067200000000000LL, PLUS},
    {"time >= '2024-01-01 00:00:01'", 1704067201000000000LL, PLUS},
    {"time >= 1700000000000ms AND time <= 1700003600000ms", 1700000000000000000LL,
     1700003600000000000LL},
    {"time > 1000 AND time < 2000", 1001, 1999},
    {"time > 1000.9", 1001, PLUS},
    {"host = 'a' AND time > 10", 11, PLUS},
    {"host = 'a'", MINUS, PLUS},
    {"value > 10", MINUS, PLUS},
    {"time > 10 AND (host = 'a' OR host = 'b')", 11, PLUS},
    {"(time > 10 AND time < 20) OR (time > 100 AND time < 200)", 11, 199},
    {"time > 10 OR host = 'a'", MINUS, PLUS},
    {"time > 10 AND time > 50 AND time < 60 AND time < 100", 51, 59},
    {"time > 100 AND time < 50", 101, 49},
    {"time != 5", MINUS, PLUS},
    {"time > '2024-01-01T00:00:00Z' - 1h", 1704067200000000000LL - HOUR + 1, PLUS},
    {"time >= now() - 9223372036854775807ns - 9223372036854775807ns", MINUS, PLUS},
    {"TIME > 7", 8, PLUS},
};

static void test_time_range(void **state)
{
    (void)state;
    struct sl_arena a;
    sl_arena_init(&a, 0);
    for (size_t i = 0; i < sizeof(ranges) / sizeof(ranges[0]); i++) {
        int64_t lo, hi;
        char msg[128];
        int rc = iql_cond_time_range(expr(&a, ranges[i].cond), NOW, &lo, &hi, msg, sizeof(msg));
        if (rc) fail_msg("%s: rc %d %s", ranges[i].cond, rc, msg);
        if (lo != ranges[i].lo || hi != ranges[i].hi)
            fail_msg("%s: got [%lld, %lld] want [%lld, %lld]", ranges[i].cond, (long long)lo,
                     (long long)hi, (long long)ranges[i].lo, (long long)ranges[i].hi);
    }
    int64_t lo, hi;
    assert_int_equal(iql_cond_time_range(NULL, NOW, &lo, &hi, NULL, 0), 0);
    assert_true(lo == MINUS && hi == PLUS);

    /* errors: a time compared with something that is not a time */
    const char *bad[] = {"time > 'yesterday'", "time > host", "time > now() * 2", "time =~ /x/"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        char msg[128];
        int rc = iql_cond_time_range(expr(&a, bad[i]), NOW, &lo, &hi, msg, sizeof(msg));
        if (rc != SL_EINVAL) fail_msg("%s: rc %d", bad[i], rc);
        assert_true(msg[0] != '\0');
    }
    sl_arena_release(&a);
}

static char *fmt(struct sl_arena *a, const struct iql_expr *e)
{
    if (!e) return NULL;
    struct sl_buf b = SL_BUF_INIT;
    assert_int_equal(iql_expr_format(e, &b), 0);
    char *s = sl_arena_strndup(a, b.ptr, b.len);
    sl_buf_release(&b);
    return s;
}

static void test_without_time(void **state)
{
    (void)state;
    struct sl_arena a;
    sl_arena_init(&a, 0);
    static const struct {
        const char *in, *out;
    } cases[] = {
        {"time > now() - 1h", NULL},
        {"host = 'a' AND time > now() - 1h", "host = 'a'"},
        {"time > 1 AND host = 'a' AND time < 5 AND v > 2", "host = 'a' AND v > 2"},
        {"(host = 'a' OR host = 'b') AND time > 1", "host = 'a' OR host = 'b'"},
        {"host = 'a' OR time > 1", NULL},
        {"v > 1", "v > 1"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct iql_expr *e = expr(&a, cases[i].in);
        char *before = fmt(&a, e);
        int rc = 1;
        struct iql_expr *r = iql_cond_without_time(e, &a, &rc);
        assert_int_equal(rc, 0);
        char *got = fmt(&a, r);
        if (!cases[i].out)
            assert_null(got);
        else if (!got || strcmp(got, cases[i].out) != 0)
            fail_msg("%s: got %s want %s", cases[i].in, got ? got : "(null)", cases[i].out);
        assert_string_equal(fmt(&a, e), before); /* input untouched */
    }
    assert_true(iql_expr_is_time_cmp(expr(&a, "time > 1")));
    assert_true(iql_expr_is_time_cmp(expr(&a, "1 < time")));
    assert_false(iql_expr_is_time_cmp(expr(&a, "t > 1")));
    assert_false(iql_expr_is_time_cmp(expr(&a, "time + 1")));
    sl_arena_release(&a);
}

static void test_tag_preds(void **state)
{
    (void)state;
    struct sl_arena a;
    sl_arena_init(&a, 0);
    struct iql_tag_pred *p;
    size_t n;
    struct iql_expr *e = expr(&a, "host = 'a' AND 'us' = region AND dc =~ /^eu/ AND rack !~ /x/ "
                                  "AND zone != 'z' AND time > now() - 1h AND v > 1 "
                                  "AND (a = 'x' OR b = 'y') AND f::field = 'q' AND t::tag = 'w'");
    assert_int_equal(iql_cond_tag_preds(e, &a, &p, &n), 0);
    assert_int_equal(n, 6);
    assert_string_equal(p[0].key, "host");
    assert_int_equal(p[0].op, IQL_OP_EQ);
    assert_string_equal(p[0].value, "a");
    assert_string_equal(p[1].key, "region");
    assert_string_equal(p[1].value, "us");
    assert_string_equal(p[2].key, "dc");
    assert_int_equal(p[2].op, IQL_OP_EQREGEX);
    assert_string_equal(p[2].value, "^eu");
    assert_int_equal(p[3].op, IQL_OP_NEQREGEX);
    assert_int_equal(p[4].op, IQL_OP_NEQ);
    assert_string_equal(p[5].key, "t");
    assert_non_null(p[5].expr);

    assert_int_equal(iql_cond_tag_preds(expr(&a, "a = 'x' OR b = 'y'"), &a, &p, &n), 0);
    assert_int_equal(n, 0);
    assert_int_equal(iql_cond_tag_preds(NULL, &a, &p, &n), 0);
    assert_int_equal(n, 0);
    sl_arena_release(&a);
}

static void test_durations(void **state)
{
    (void)state;
    static const struct {
        const char *in;
        int64_t ns;
        const char *out;
    } ok[] = {
        {"1ns", 1, "1ns"},
        {"1u", 1000, "1u"},
        {"1us", 1000, "1u"},
        {"1\xc2\xb5", 1000, "1u"},
        {"1\xc2\xb5s", 1000, "1u"},
        {"100ms", 100000000, "100ms"},
        {"10s", 10000000000LL, "10s"},
        {"5m", 300000000000LL, "5m"},
        {"1h", HOUR, "1h"},
        {"1d", 24 * HOUR, "1d"},
        {"1w", 7 * 24 * HOUR, "1w"},
        {"1h30m", 90 * 60000000000LL, "90m"},
        {"7d", 7 * 24 * HOUR, "1w"},
        {"1500ms", 1500000000LL, "1500ms"},
        {"0s", 0, "0s"},
    };
    for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
        int64_t v = -1;
        if (iql_duration_parse(ok[i].in, strlen(ok[i].in), &v) != 0) fail_msg("%s", ok[i].in);
        assert_int_equal(v, ok[i].ns);
        char buf[32];
        iql_duration_format(v, buf, sizeof(buf));
        assert_string_equal(buf, ok[i].out);
    }
    char buf[32];
    iql_duration_format(-300000000000LL, buf, sizeof(buf));
    assert_string_equal(buf, "-5m");
    const char *bad[] = {"", "h", "1", "1x", "1hh", "-1h", "1.5h", "1y"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        int64_t v;
        if (iql_duration_parse(bad[i], strlen(bad[i]), &v) != SL_EINVAL) fail_msg("%s", bad[i]);
    }
    int64_t v;
    assert_int_equal(iql_duration_parse("99999999999w", 12, &v), SL_ERANGE);
    assert_int_equal(iql_duration_parse("9223372036854775808ns", 21, &v), SL_ERANGE);
    assert_int_equal(iql_duration_parse("9223372036854775807ns", 21, &v), 0);
    assert_true(v == INT64_MAX);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_time_range),
        cmocka_unit_test(test_without_time),
        cmocka_unit_test(test_tag_preds),
        cmocka_unit_test(test_durations),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
