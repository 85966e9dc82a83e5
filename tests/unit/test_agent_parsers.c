/* test_agent_parsers.c — the influx, json and prometheus data formats and Go
 * time layouts, including malformed, truncated and oversized input. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "agent/conf.h"
#include "agent/parsers/parsers.h"
#include "common/buf.h"
#include "common/err.h"
#include "common/mem.h"
#include "toml/toml.h"

/* Renders the list as sorted-field line protocol, one metric per line. */
static char *render(struct metric_list *l)
{
    struct sl_buf b;
    sl_buf_init(&b, 1 << 20);
    for (size_t i = 0; i < l->n; i++) {
        metric_sort_fields(l->v[i]);
        assert_int_equal(metric_write_lp(l->v[i], &b, NULL), 0);
    }
    return sl_buf_detach(&b, NULL);
}

/* Builds a parser from TOML options, parses input, compares the output. */
static void check(const char *toml, const char *input, int expect_rc, const char *expected)
{
    struct toml_value *root = NULL;
    struct toml_error te;
    assert_int_equal(toml_parse(toml, strlen(toml), &root, &te), 0);
    struct plugin_conf *c = conf_wrap(toml_as_table(root), "inputs.test", "t.conf");
    struct parser *p = NULL;
    int rc = parser_from_conf(c, "influx", "test", &p);
    if (rc < 0) fail_msg("parser_from_conf: %s", conf_error(c));
    assert_null(conf_first_unused(c));
    struct metric_list l = {0};
    char err[256];
    rc = parser_parse(p, input, strlen(input), 1000, &l, err, sizeof(err));
    if (rc != expect_rc) fail_msg("rc %d (want %d): %s", rc, expect_rc, err);
    char *out = render(&l);
    if (expected && strcmp(out, expected)) fail_msg("got:\n%s\nwant:\n%s", out, expected);
    sl_free(out);
    metric_list_release(&l);
    parser_free(p);
    conf_free(c);
    toml_free(root);
}

static void test_influx(void **st)
{
    (void)st;
    check("", "cpu,host=a usage=1.5,n=3i 1700000000000000000\nmem free=1u\n", 0,
          "cpu,host=a n=3i,usage=1.5 1700000000000000000\nmem free=1u 1000\n");
    /* a bad line is reported, the good ones kept */
    check("data_format = \"influx\"", "cpu x=1 5\nbad line here\nmem y=2 6\n", SL_EINVAL,
          "cpu x=1 5\nmem y=2 6\n");
    check("influx_timestamp_precision = \"1s\"", "cpu x=1 5\n", 0, "cpu x=1 5000000000\n");
}

static void test_json_basic(void **st)
{
    (void)st;
    const char *conf = "data_format = \"json\"\n"
                       "tag_keys = [\"my_tag_1\", \"tag*\"]\n"
                       "json_string_fields = [\"my_field\"]\n"
                       "json_name_key = \"name\"\n";
    check(conf,
          "{\"a\": 5, \"b\": {\"c\": 6, \"my_field\": \"description\"}, \"my_tag_1\": \"foo\","
          " \"name\": \"my_json\", \"s\": \"dropped\", \"ok\": true, \"n\": null,"
          " \"list\": [1, {\"x\": 2}], \"tagnum\": 2.5, \"tagb\": false}",
          0, "my_json,my_tag_1=foo,tagb=false,tagnum=2.5 a=5,b_c=6,list_0=1,list_1_x=2 1000\n");
    /* the seeds' mqtt config: tag_keys only */
    check("data_format = \"json\"\ntag_keys = [\"device_id\", \"location\"]\n",
          "[{\"device_id\": \"d1\", \"location\": \"lab\", \"temp\": 21.5, \"hum\": 40},"
          " {\"device_id\": 7, \"temp\": -1}]",
          0,
          "test,device_id=d1,location=lab hum=40,temp=21.5 1000\ntest,device_id=7 temp=-1 1000\n");
    /* bool in string fields stays a bool */
    check("data_format = \"json\"\njson_string_fields = [\"ok\"]\n", "{\"ok\": true, \"v\": 1}", 0,
          "test ok=true,v=1 1000\n");
    /* nothing numeric: no metric */
    check("data_format = \"json\"\n", "{\"s\": \"x\"}", 0, "");
    check("data_format = \"json\"\n", "   \n", 0, "");
}

static void test_json_time_and_query(void **st)
{
    (void)st;
    check("data_format = \"json\"\njson_time_key = \"ts\"\njson_time_format = \"unix_ms\"\n",
          "{\"ts\": 1700000000123, \"v\": 1}", 0, "test v=1 1700000000123000000\n");
    check("data_format = \"json\"\njson_time_key = \"ts\"\njson_time_format = \"unix\"\n",
          "{\"ts\": \"1700000000.5\", \"v\": 1}", 0, "test v=1 1700000000500000000\n");
    check("data_format = \"json\"\njson_time_key = \"ts\"\n"
          "json_time_format = \"2006-01-02T15:04:05Z07:00\"\n",
          "{\"ts\": \"2023-11-14T22:13:20+01:00\", \"v\": 1}", 0, "test v=1 1699996400000000000\n");
    check("data_format = \"json\"\njson_time_key = \"ts\"\n"
          "json_time_format = \"Jan _2 2006 3:04:05.000 PM\"\n",
          "{\"ts\": \"Nov  4 2023 1:02:03.250 PM\", \"v\": 1}", 0,
          "test v=1 1699102923250000000\n");
    /* missing or malformed time key */
    check("data_format = \"json\"\njson_time_key = \"ts\"\njson_time_format = \"unix\"\n",
          "{\"v\": 1}", SL_EINVAL, "");
    check("data_format = \"json\"\njson_time_key = \"ts\"\njson_time_format = \"2006-01-02\"\n",
          "{\"ts\": \"2023-13-45\", \"v\": 1}", SL_EINVAL, "");
    check("data_format = \"json\"\njson_query = \"data.items\"\n",
          "{\"data\": {\"items\": [{\"v\": 1}, {\"v\": 2}]}}", 0, "test v=1 1000\ntest v=2 1000\n");
    check("data_format = \"json\"\njson_query = \"data.items.1\"\n",
          "{\"data\": {\"items\": [{\"v\": 1}, {\"v\": 2}]}}", 0, "test v=2 1000\n");
    check("data_format = \"json\"\njson_query = \"nope\"\n", "{\"v\": 1}", SL_EINVAL, "");
}

static void test_json_hostile(void **st)
{
    (void)st;
    const char *conf = "data_format = \"json\"\n";
    check(conf, "{\"v\": 1", SL_EINVAL, "");
    check(conf, "[1, 2]", SL_EINVAL, "");
    check(conf, "\"str\"", SL_EINVAL, "");
    check(conf, "{\"v\": 1} trailing", SL_EINVAL, "");
    check("data_format = \"json\"\njson_strict = false\n", "[1, {\"v\": 2}]", 0, "test v=2 1000\n");
    /* deep nesting is an error, not a stack overflow */
    char *deep = sl_malloc(400 * 6 + 16);
    size_t n = 0;
    for (int i = 0; i < 400; i++)
        n += (size_t)sprintf(deep + n, "{\"a\":");
    n += (size_t)sprintf(deep + n, "1");
    for (int i = 0; i < 400; i++)
        deep[n++] = '}';
    deep[n] = '\0';
    check(conf, deep, SL_ETOOBIG, "");
    sl_free(deep);
    /* truncations of a valid document never crash */
    const char *doc = "{\"a\": {\"b\": [1, 2, {\"c\": \"x\"}]}, \"t\": true}";
    for (size_t k = 0; k < strlen(doc); k++) {
        struct parser *p;
        assert_int_equal(parser_new(PARSER_JSON, "t", &p), 0);
        struct metric_list l = {0};
        char err[128];
        int rc = parser_parse(p, doc, k, 0, &l, err, sizeof(err));
        assert_true(rc == 0 || rc == SL_EINVAL);
        metric_list_release(&l);
        parser_free(p);
    }
}

static void test_prometheus(void **st)
{
    (void)st;
    const char *conf = "data_format = \"prometheus\"\n";
    check(conf,
          "# HELP http_requests_total The total.\n"
          "# TYPE http_requests_total counter\n"
          "http_requests_total{method=\"post\",code=\"200\"} 1027 1395066363000\n"
          "http_requests_total{method=\"post\",code=\"400\"}    3 1395066363000\n"
          "# TYPE temp gauge\n"
          "temp{room=\"a \\\"b\\\"\"} 21.5\n"
          "temp NaN\n"
          "untyped_thing 7\n",
          0,
          "http_requests_total,code=200,method=post counter=1027 1395066363000000000\n"
          "http_requests_total,code=400,method=post counter=3 1395066363000000000\n"
          "temp,room=a\\ \"b\" gauge=21.5 1000\n"
          "untyped_thing value=7 1000\n");
    check(conf,
          "# TYPE rpc_duration_seconds summary\n"
          "rpc_duration_seconds{quantile=\"0.01\"} 3102\n"
          "rpc_duration_seconds{quantile=\"0.5\"} 4773\n"
          "rpc_duration_seconds{quantile=\"0.00001\"} 1\n"
          "rpc_duration_seconds_sum 1.7560473e+07\n"
          "rpc_duration_seconds_count 2693\n"
          "# TYPE req histogram\n"
          "req_bucket{le=\"0.05\",svc=\"x\"} 24054\n"
          "req_bucket{le=\"1\",svc=\"x\"} 33444\n"
          "req_bucket{le=\"+Inf\",svc=\"x\"} 144320\n"
          "req_sum{svc=\"x\"} 53423\n"
          "req_count{svc=\"x\"} 144320\n"
          "req_bucket{le=\"+Inf\",svc=\"y\"} 1\n",
          0,
          "rpc_duration_seconds 0.01=3102,0.5=4773,1e-05=1,count=2693,sum=17560473 1000\n"
          "req,svc=x +Inf=144320,0.05=24054,1=33444,count=144320,sum=53423 1000\n"
          "req,svc=y +Inf=1 1000\n");
    check(conf, "metric{a=\"unterminated} 1\n", SL_EINVAL, "");
    check(conf, "metric 1\nmetric{a=\"x\"} notanumber\n", SL_EINVAL, "metric value=1 1000\n");
    check(conf, "# TYPE m bogus\nm 1\n", SL_EINVAL, "");
    check(conf, "m 1 12x\n", SL_EINVAL, "");
    check(conf, "9bad 1\n", SL_EINVAL, "");
    check(conf, "# TYPE h histogram\nh 1\n", SL_EINVAL, "");
    check(conf, "# TYPE s summary\ns 1\n", SL_EINVAL, "");
    check(conf, "# TYPE h histogram\nh_bucket 1\n", SL_EINVAL, "");
    /* truncations never crash */
    const char *doc = "# TYPE h histogram\nh_bucket{le=\"1\",a=\"b\\\\c\"} 2 17\nh_sum 3\n";
    for (size_t k = 0; k < strlen(doc); k++) {
        struct parser *p;
        assert_int_equal(parser_new(PARSER_PROMETHEUS, "t", &p), 0);
        struct metric_list l = {0};
        char err[128];
        int rc = parser_parse(p, doc, k, 0, &l, err, sizeof(err));
        assert_true(rc == 0 || rc == SL_EINVAL);
        metric_list_release(&l);
        parser_free(p);
    }
}

static void test_unsupported_format(void **st)
{
    (void)st;
    const char *toml = "data_format = \"xpath_json\"\n";
    struct toml_value *root = NULL;
    struct toml_error te;
    assert_int_equal(toml_parse(toml, strlen(toml), &root, &te), 0);
    struct plugin_conf *c = conf_wrap(toml_as_table(root), "inputs.exec", "t.conf");
    struct parser *p = NULL;
    assert_int_equal(parser_from_conf(c, "json", "exec", &p), SL_EINVAL);
    assert_non_null(strstr(conf_error(c), "xpath_json"));
    assert_non_null(strstr(conf_error(c), "not supported"));
    conf_free(c);
    toml_free(root);
    /* oversized input */
    assert_int_equal(parser_new(PARSER_INFLUX, "t", &p), 0);
    struct metric_list l = {0};
    char err[128];
    assert_int_equal(parser_parse(p, "x", (size_t)PARSER_MAX_INPUT + 1, 0, &l, err, sizeof(err)),
                     SL_ETOOBIG);
    parser_free(p);
}

static void test_go_time(void **st)
{
    (void)st;
    int64_t t;
    const char *s = "Mon Jan  2 15:04:05 2006";
    assert_int_equal(parser_time_parse("ANSIC", s, strlen(s), &t), 0);
    assert_int_equal(t, 1136214245000000000LL);
    s = "2006-01-02T15:04:05.123456789Z";
    assert_int_equal(parser_time_parse("RFC3339Nano", s, strlen(s), &t), 0);
    assert_int_equal(t, 1136214245123456789LL);
    s = "02/01/2006 03:04:05 -0700";
    assert_int_equal(parser_time_parse("02/01/2006 03:04:05 -0700", s, strlen(s), &t), 0);
    assert_int_equal(t, 1136214245000000000LL - 12 * 3600 * 1000000000LL + 7 * 3600 * 1000000000LL);
    /* a fraction after seconds is accepted without .000 in the layout */
    s = "2006-01-02 15:04:05.5";
    assert_int_equal(parser_time_parse("2006-01-02 15:04:05", s, strlen(s), &t), 0);
    assert_int_equal(t, 1136214245500000000LL);
    s = "1700000000000000001";
    assert_int_equal(parser_time_parse("unix_ns", s, strlen(s), &t), 0);
    assert_int_equal(t, 1700000000000000001LL);
    const char *bad[] = {"2006-01-02", "2006-01-02 15:04:05x", "", "Foo Jan  2 15:04:05 2006"};
    const char *lay[] = {"2006-01-02 15:04", "2006-01-02 15:04:05", "2006", "ANSIC"};
    for (size_t i = 0; i < 4; i++)
        assert_int_equal(parser_time_parse(lay[i], bad[i], strlen(bad[i]), &t), SL_EINVAL);
    assert_int_equal(parser_time_parse("unix", "abc", 3, &t), SL_EINVAL);
}

/* Deterministic mutation smoke test (a poor man's fuzzer; run under ASan):
 * random flips, insertions, deletions and truncations of valid documents
 * must give 0, SL_EINVAL or SL_ETOOBIG, never a crash. */
static void test_mutations(void **st)
{
    (void)st;
    static const struct {
        enum parser_format f;
        const char *doc;
    } seeds[] = {
        {PARSER_JSON, "{\"a\": {\"b\": [1, 2.5e3, {\"c\": \"x\"}]}, \"t\": true, \"n\": null}"},
        {PARSER_JSON, "[{\"name\": \"m\", \"ts\": 1700000000, \"v\": -1}, {\"v\": 2}]"},
        {PARSER_PROMETHEUS,
         "# HELP h x\n# TYPE h histogram\nh_bucket{le=\"0.5\",a=\"q\\\"\"} 2 17\n"
         "h_bucket{le=\"+Inf\"} 3\nh_sum 3\nh_count 3\n# TYPE s summary\n"
         "s{quantile=\"0.9\"} NaN\ns_sum 1\ns_count 2\n# TYPE c counter\nc 1\n"},
        {PARSER_INFLUX, "cpu,host=a\\ b usage=1.5,n=3i,s=\"q\\\"\",b=t 1700000000000000000\n"
                        "mem free=1u\n"},
    };
    static const char alphabet[] = "{}[]\",:\\\n #={} 0e-";
    unsigned long long r = 0x2545F4914F6CDD1DULL;
    char buf[1024];
    for (size_t sidx = 0; sidx < sizeof(seeds) / sizeof(seeds[0]); sidx++) {
        struct parser *p;
        assert_int_equal(parser_new(seeds[sidx].f, "t", &p), 0);
        for (int iter = 0; iter < 25000; iter++) {
            size_t n = strlen(seeds[sidx].doc);
            memcpy(buf, seeds[sidx].doc, n);
            int edits = 1 + (int)(r % 4);
            for (int e = 0; e < edits; e++) {
                r ^= r << 13, r ^= r >> 7, r ^= r << 17;
                size_t pos = n ? (size_t)(r >> 8) % n : 0;
                switch (r % 4) {
                case 0: buf[pos] = (char)(r >> 24); break;
                case 1:
                    if (n + 1 < sizeof(buf)) {
                        memmove(buf + pos + 1, buf + pos, n - pos);
                        buf[pos] = alphabet[(r >> 32) % (sizeof(alphabet) - 1)];
                        n++;
                    }
                    break;
                case 2:
                    if (n) {
                        memmove(buf + pos, buf + pos + 1, n - pos - 1);
                        n--;
                    }
                    break;
                default: n = pos; break;
                }
            }
            struct metric_list l = {0};
            char err[256];
            int rc = parser_parse(p, buf, n, 0, &l, err, sizeof(err));
            if (rc != 0 && rc != SL_EINVAL && rc != SL_ETOOBIG && rc != SL_ERANGE)
                fail_msg("rc %d for format %d", rc, (int)seeds[sidx].f);
            for (size_t i = 0; i < l.n; i++)
                assert_non_null(l.v[i]->name);
            metric_list_release(&l);
        }
        parser_free(p);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_influx),
        cmocka_unit_test(test_json_basic),
        cmocka_unit_test(test_json_time_and_query),
        cmocka_unit_test(test_json_hostile),
        cmocka_unit_test(test_prometheus),
        cmocka_unit_test(test_unsupported_format),
        cmocka_unit_test(test_go_time),
        cmocka_unit_test(test_mutations),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
