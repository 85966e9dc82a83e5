/*
 * test_api_delete_v2.c — the request language of POST /api/v2/delete
 * (src/api/delete_pred.c): predicates that InfluxDB 2.x accepts give the
 * right tree (checked by flattening it and by evaluating it on series), the
 * ones it refuses give a 400 message naming the problem and its position
 * (501 for _field), trees stay shallow and survive the WAL encoding, and the
 * start/stop times follow Go's RFC3339Nano.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "api/delete_v2.h"
#include "common/buf.h"
#include "common/err.h"

/* "m=cpu host=a" style, leaves in order; only DEL_AND inner nodes. */
static void flatten(const struct del_node *n, struct sl_buf *b, int *depth, int d)
{
    if (d > *depth) *depth = d;
    if (n->op == DEL_AND) {
        flatten(n->l, b, depth, d + 1);
        flatten(n->r, b, depth, d + 1);
        return;
    }
    if (b->len) sl_buf_addc(b, ' ');
    if (n->op == DEL_NAME_EQ)
        sl_buf_addf(b, "m=%s", n->val);
    else if (n->op == DEL_TAG_EQ)
        sl_buf_addf(b, "%s=%s", n->key, n->val);
    else
        sl_buf_adds(b, "?");
}

/* Parses pred (a C string) and expects success with the flattened tree want. */
static void expect_ok(const char *pred, const char *want)
{
    struct del_node *root = (struct del_node *)1;
    struct delete_v2_err e;
    int rc = delete_v2_parse_predicate(pred, strlen(pred), &root, &e);
    if (rc != 0) fail_msg("%s: rc %d: %s", pred, rc, e.msg);
    struct sl_buf b;
    sl_buf_init(&b, 0);
    int depth = 0;
    if (root) flatten(root, &b, &depth, 1);
    if (strcmp(b.len ? b.ptr : "", want) != 0)
        fail_msg("%s: got [%s], want [%s]", pred, b.len ? b.ptr : "", want);
    sl_buf_release(&b);
    del_node_free(root);
}

/* Expects failure; the message must contain each of the needles (NULL-terminated). */
static void expect_err(const char *pred, int not_impl, ...)
{
    struct del_node *root = (struct del_node *)1;
    struct delete_v2_err e;
    int rc = delete_v2_parse_predicate(pred, strlen(pred), &root, &e);
    if (rc != SL_EINVAL) fail_msg("%s: rc %d, want SL_EINVAL", pred, rc);
    assert_null(root);
    if (e.not_implemented != not_impl)
        fail_msg("%s: not_implemented %d, want %d (%s)", pred, e.not_implemented, not_impl, e.msg);
    va_list ap;
    va_start(ap, not_impl);
    const char *needle;
    while ((needle = va_arg(ap, const char *)))
        if (!strstr(e.msg, needle)) fail_msg("%s: message [%s] lacks [%s]", pred, e.msg, needle);
    va_end(ap);
}

static void test_accepted(void **state)
{
    (void)state;
    expect_ok("", "");
    expect_ok("  \t\n ", "");
    expect_ok("_measurement=\"cpu\"", "m=cpu");
    expect_ok("_measurement=\"cpu\" AND host=\"a\"", "m=cpu host=a");
    expect_ok("_measurement=cpu and host=a", "m=cpu host=a");
    expect_ok("host=\"a\" aNd region=\"us-west\" AND _measurement=\"example-dash\"",
              "host=a region=us-west m=example-dash");
    /* quoted keys (keywords, special characters), escapes, spaces inside quotes */
    expect_ok("\"Name\"=predicate", "Name=predicate");
    expect_ok("\"my key\"=\"a \\\"b\\\" \\\\ c\"", "my key=a \"b\" \\ c");
    expect_ok("k=\"it\\'s\"", "k=it's");
    /* numbers are kept as written, booleans are lower-case */
    expect_ok("id=42 AND ratio=1.50 AND ok=TRUE AND bad=False",
              "id=42 ratio=1.50 ok=true bad=false");
    /* empty value: series without the tag */
    expect_ok("host=\"\"", "host=");
    /* parentheses only group */
    expect_ok("(_measurement=\"cpu\")", "m=cpu");
    expect_ok("((a=\"1\") AND (b=\"2\" AND (c=\"3\")))", "a=1 b=2 c=3");
    expect_ok(" a = \"1\"  AND\tb=2 ", "a=1 b=2");
    /* UTF-8 in bare identifiers */
    expect_ok("r\xc3\xa9gion=\xc3\xa9t\xc3\xa9", "r\xc3\xa9gion=\xc3\xa9t\xc3\xa9");
    /* measurement twice: both must hold */
    expect_ok("_measurement=a AND _measurement=b", "m=a m=b");
}

static void test_refused(void **state)
{
    (void)state;
    expect_err("host=\"a\" OR host=\"b\"", 0, "OR", "position 9", "only AND", NULL);
    expect_err("host=\"a\" or host=\"b\"", 0, "OR", NULL);
    expect_err("host!=\"a\"", 0, "operator != at position 4", "only =", NULL);
    expect_err("host<>\"a\"", 0, "operator <>", NULL);
    expect_err("host=~/a/", 0, "operator =~", NULL);
    expect_err("host!~/a/", 0, "operator !~", NULL);
    expect_err("host>1", 0, "operator >", NULL);
    expect_err("host='a'", 0, "single-quoted", "double quotes", "position 5", NULL);
    expect_err("'host'=\"a\"", 0, "bad tag key", "single-quoted", NULL);
    expect_err("host=", 0, "bad tag value", "end of the predicate", NULL);
    expect_err("host", 0, "expected =", NULL);
    expect_err("=\"a\"", 0, "bad tag key", "position 0", NULL);
    expect_err("\"\"=\"a\"", 0, "empty", NULL);
    expect_err("host=\"a", 0, "unterminated double-quoted", "position 5", NULL);
    expect_err("host=\"a\\tb\"", 0, "bad escape", "position 7", NULL);
    expect_err("host=\"a\" AND", 0, "AND without a right side", NULL);
    expect_err("AND host=\"a\"", 0, "bad tag key", "AND", NULL);
    expect_err("host=\"a\" AND AND b=c", 0, "bad tag key", NULL);
    expect_err("host=\"a\" b=\"c\"", 0, "expected AND", "position 9", NULL);
    expect_err("(host=\"a\"", 0, "missing )", NULL);
    expect_err("host=\"a\")", 0, "extra )", "position 8", NULL);
    expect_err("()", 0, "bad tag key", NULL);
    expect_err("host=1.", 0, "malformed number", NULL);
    expect_err("host=1.2.3", 0, "malformed number", NULL);
    expect_err("host=12ab", 0, "malformed number", NULL);
    expect_err("host=a;", 0, "unexpected character ';'", "position 6", NULL);
    expect_err("region=us-west", 0, "unexpected character '-'", "double-quote", "position 9", NULL);
    expect_err("host=\x01", 0, "unexpected byte 0x01", NULL);
    expect_err("host=/a/", 0, "regular expressions", NULL);
    expect_err("host!a", 0, "'!' must be followed", NULL);
    expect_err("_time=\"2024-01-01T00:00:00Z\"", 0, "_time", "start and stop", NULL);
    expect_err("_measurement=cpu AND _value=1", 0, "_value", "position 21", NULL);
    /* _field is valid syntax answered with 501, after syntax errors are ruled out */
    expect_err("_field=\"usage\"", 1, "delete by field is not supported", "position 0", NULL);
    expect_err("_measurement=cpu AND _field=usage", 1, "position 21", NULL);
    expect_err("_field=\"usage\" OR a=b", 0, "OR", NULL);
    /* an embedded NUL byte */
    struct del_node *root;
    struct delete_v2_err e;
    assert_int_equal(delete_v2_parse_predicate("a=\"b\0c\"", 7, &root, &e), SL_EINVAL);
    assert_non_null(strstr(e.msg, "NUL byte at position 4"));
}

static void test_limits(void **state)
{
    (void)state;
    struct sl_buf b;
    sl_buf_init(&b, 0);
    for (int i = 0; i < DELETE_V2_MAX_TERMS; i++)
        sl_buf_addf(&b, "%st%d=\"v%d\"", i ? " AND " : "", i, i);
    struct del_node *root = NULL;
    struct delete_v2_err e;
    assert_int_equal(delete_v2_parse_predicate(b.ptr, b.len, &root, &e), 0);
    struct sl_buf f;
    sl_buf_init(&f, 0);
    int depth = 0;
    flatten(root, &f, &depth, 1);
    /* balanced: 256 leaves give depth 9 */
    assert_int_equal(depth, 9);
    assert_non_null(strstr(f.ptr, "t0=v0 t1=v1 "));
    assert_non_null(strstr(f.ptr, " t255=v255"));
    /* the WAL record round trip keeps it */
    struct del_pred p = {10, 20, root}, q = {0, 0, NULL};
    struct sl_buf rec;
    sl_buf_init(&rec, 0);
    assert_int_equal(del_pred_encode(&p, 7, &rec), 0);
    uint32_t dbid = 0;
    assert_int_equal(del_pred_decode(rec.ptr, rec.len, &dbid, &q), 0);
    assert_int_equal(dbid, 7);
    assert_int_equal(q.tmin, 10);
    assert_int_equal(q.tmax, 20);
    struct sl_buf g;
    sl_buf_init(&g, 0);
    depth = 0;
    flatten(q.root, &g, &depth, 1);
    assert_string_equal(f.ptr, g.ptr);
    del_pred_release(&q);
    del_pred_release(&p);
    sl_buf_release(&rec);
    sl_buf_release(&f);
    sl_buf_release(&g);
    /* one comparison too many */
    sl_buf_adds(&b, " AND x=\"y\"");
    assert_int_equal(delete_v2_parse_predicate(b.ptr, b.len, &root, &e), SL_EINVAL);
    assert_null(root);
    assert_non_null(strstr(e.msg, "more than 256 comparisons"));
    /* nesting */
    sl_buf_reset(&b);
    for (int i = 0; i < DELETE_V2_MAX_PARENS; i++)
        sl_buf_addc(&b, '(');
    sl_buf_adds(&b, "a=b");
    for (int i = 0; i < DELETE_V2_MAX_PARENS; i++)
        sl_buf_addc(&b, ')');
    assert_int_equal(delete_v2_parse_predicate(b.ptr, b.len, &root, &e), 0);
    del_node_free(root);
    sl_buf_reset(&b);
    for (int i = 0; i <= DELETE_V2_MAX_PARENS; i++)
        sl_buf_addc(&b, '(');
    sl_buf_adds(&b, "a=b");
    assert_int_equal(delete_v2_parse_predicate(b.ptr, b.len, &root, &e), SL_EINVAL);
    assert_non_null(strstr(e.msg, "nested deeper than 64"));
    /* length */
    char *big = malloc(DELETE_V2_MAX_PREDICATE + 2);
    assert_non_null(big);
    memset(big, ' ', DELETE_V2_MAX_PREDICATE + 1);
    assert_int_equal(delete_v2_parse_predicate(big, DELETE_V2_MAX_PREDICATE, &root, &e), 0);
    assert_null(root);
    assert_int_equal(delete_v2_parse_predicate(big, DELETE_V2_MAX_PREDICATE + 1, &root, &e),
                     SL_EINVAL);
    assert_non_null(strstr(e.msg, "too long"));
    free(big);
    sl_buf_release(&b);
}

/* The tree selects exactly the series the predicate names. */
static void test_eval(void **state)
{
    (void)state;
    const char *pred = "_measurement=\"cpu\" AND (host=\"a\" AND region=\"\")";
    struct del_pred p = {0, 0, NULL};
    struct delete_v2_err e;
    assert_int_equal(delete_v2_parse_predicate(pred, strlen(pred), &p.root, &e), 0);
    const char *k1[] = {"host"}, *v1[] = {"a"};
    const char *k2[] = {"host", "region"}, *v2[] = {"a", "east"};
    const char *v3[] = {"b"};
    assert_int_equal(del_pred_eval(&p, "cpu", 1, k1, v1), 1);
    assert_int_equal(del_pred_eval(&p, "mem", 1, k1, v1), 0);
    assert_int_equal(del_pred_eval(&p, "cpu", 2, k2, v2), 0);
    assert_int_equal(del_pred_eval(&p, "cpu", 1, k1, v3), 0);
    assert_int_equal(del_pred_eval(&p, "cpu", 0, k1, v1), 0);
    del_pred_release(&p);
    /* the empty predicate selects everything */
    assert_int_equal(delete_v2_parse_predicate("", 0, &p.root, &e), 0);
    assert_null(p.root);
    assert_int_equal(del_pred_eval(&p, "anything", 0, NULL, NULL), 1);
}

static int64_t t_ok(const char *s)
{
    int64_t ns = 0;
    int rc = delete_v2_parse_time(s, strlen(s), &ns);
    if (rc != 0) fail_msg("%s: rc %d", s, rc);
    return ns;
}

static int t_rc(const char *s)
{
    int64_t ns;
    return delete_v2_parse_time(s, strlen(s), &ns);
}

static void test_times(void **state)
{
    (void)state;
    assert_int_equal(t_ok("1970-01-01T00:00:00Z"), 0);
    assert_int_equal(t_ok("1970-01-01T00:00:01.5Z"), 1500000000LL);
    assert_int_equal(t_ok("2009-01-02T23:00:00Z"), 1230937200000000000LL);
    assert_int_equal(t_ok("2009-01-02T23:00:00.000000001Z"), 1230937200000000001LL);
    assert_int_equal(t_ok("2009-01-03T01:00:00+02:00"), 1230937200000000000LL);
    assert_int_equal(t_ok("2009-01-02T20:30:00-02:30"), 1230937200000000000LL);
    assert_int_equal(t_ok("2000-02-29T00:00:00Z"), 951782400000000000LL);
    assert_int_equal(t_ok("1969-12-31T23:59:59Z"), -1000000000LL);
    /* 2.x's extremes, to the nanosecond */
    assert_int_equal(t_ok("1677-09-21T00:12:43.145224194Z"), INT64_MIN + 2);
    assert_int_equal(t_ok("2262-04-11T23:47:16.854775806Z"), INT64_MAX - 1);
    assert_int_equal(t_rc("1677-09-21T00:12:43.145224193Z"), SL_ERANGE);
    assert_int_equal(t_rc("2262-04-11T23:47:16.854775807Z"), SL_ERANGE);
    assert_int_equal(t_ok("2262-04-12T01:47:16.854775806+02:00"), INT64_MAX - 1);
    /* not RFC3339Nano */
    assert_int_equal(t_rc(""), SL_EINVAL);
    assert_int_equal(t_rc("2009-01-02"), SL_EINVAL);
    assert_int_equal(t_rc("2009-01-02T23:00:00"), SL_EINVAL);  /* no zone */
    assert_int_equal(t_rc("2009-01-02 23:00:00Z"), SL_EINVAL); /* no T */
    assert_int_equal(t_rc("2009-01-02t23:00:00Z"), SL_EINVAL);
    assert_int_equal(t_rc("2009-01-02T23:00Z"), SL_EINVAL);     /* no seconds */
    assert_int_equal(t_rc("2009-01-02T23:00:00.Z"), SL_EINVAL); /* empty fraction */
    assert_int_equal(t_rc("2009-01-02T23:00:00.0000000001Z"), SL_EINVAL);
    assert_int_equal(t_rc("2009-01-02T23:00:00.00000000000000000000000000000001Z"), SL_EINVAL);
    assert_int_equal(t_rc("2009-01-02T23:00:00+0200"), SL_EINVAL);
    assert_int_equal(t_rc("2009-01-02T23:00:00Zx"), SL_EINVAL);
    assert_int_equal(t_rc("2009-1-02T23:00:00Z"), SL_EINVAL);
    assert_int_equal(t_rc("1230937200"), SL_EINVAL);
    assert_int_equal(t_rc("now()"), SL_EINVAL);
    /* no such date or time */
    assert_int_equal(t_rc("2009-02-29T00:00:00Z"), SL_EINVAL);
    assert_int_equal(t_rc("1900-02-29T00:00:00Z"), SL_EINVAL);
    assert_int_equal(t_rc("2009-04-31T00:00:00Z"), SL_EINVAL);
    assert_int_equal(t_rc("2009-13-01T00:00:00Z"), SL_EINVAL);
    assert_int_equal(t_rc("2009-01-01T24:00:00Z"), SL_EINVAL);
    assert_int_equal(t_rc("2009-01-01T23:60:00Z"), SL_EINVAL);
    assert_int_equal(t_rc("2009-01-01T23:00:60Z"), SL_EINVAL);
    /* outside int64 nanoseconds */
    assert_int_equal(t_rc("1600-01-01T00:00:00Z"), SL_ERANGE);
    assert_int_equal(t_rc("2300-01-01T00:00:00Z"), SL_ERANGE);
    assert_int_equal(t_rc("9999-12-31T23:59:59Z"), SL_ERANGE);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_accepted), cmocka_unit_test(test_refused),
        cmocka_unit_test(test_limits),   cmocka_unit_test(test_eval),
        cmocka_unit_test(test_times),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
