/*
 * test_lp_write.c — the line-protocol serializer: escapers, float
 * formatting, series keys, lp_write_point options, refusal of points line
 * protocol cannot express, and the round trip parse(serialize(p)) == p on
 * hand-built hostile points.
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "common/buf.h"
#include "common/err.h"
#include "common/mem.h"
#include "lp/lp.h"

static void check_escape(int (*fn)(struct sl_buf *, const char *, size_t), const char *in,
                         const char *want)
{
    struct sl_buf b = SL_BUF_INIT;
    assert_int_equal(fn(&b, in, strlen(in)), 0);
    if (strcmp(b.ptr ? b.ptr : "", want))
        fprintf(stderr, "escape [%s]: got [%s] want [%s]\n", in, b.ptr, want);
    assert_string_equal(b.ptr ? b.ptr : "", want);
    sl_buf_release(&b);
}

static void test_escapers(void **state)
{
    (void)state;
    check_escape(lp_escape_measurement, "cpu", "cpu");
    check_escape(lp_escape_measurement, "a b,c=d", "a\\ b\\,c=d");
    check_escape(lp_escape_measurement, "C:\\temp", "C:\\temp");
    check_escape(lp_escape_measurement, "a\\", "a\\\\");
    check_escape(lp_escape_measurement, "a\\,", "a\\\\\\,");
    check_escape(lp_escape_measurement, "a\\\\b", "a\\\\\\b");
    check_escape(lp_escape_key, "a b,c=d", "a\\ b\\,c\\=d");
    check_escape(lp_escape_key, "x\\=", "x\\\\\\=");
    check_escape(lp_escape_key, "\"q\"", "\"q\"");
    check_escape(lp_escape_string, "say \"hi\"", "say \\\"hi\\\"");
    check_escape(lp_escape_string, "a\\b", "a\\b");
    check_escape(lp_escape_string, "a\\", "a\\\\");
    check_escape(lp_escape_string, "a\\\"", "a\\\\\\\"");
    check_escape(lp_escape_string, "line\nbreak, = ok", "line\nbreak, = ok");
    check_escape(lp_escape_string, "", "");
}

static void test_format_float(void **state)
{
    (void)state;
    struct {
        double v;
        const char *want;
    } cases[] = {
        {0.0, "0"},
        {-0.0, "-0"},
        {1.0, "1"},
        {-42.0, "-42"},
        {0.1, "0.1"},
        {23.5, "23.5"},
        {0.30000000000000004, "0.30000000000000004"},
        {1e300, "1e+300"},
        {1.7976931348623157e308, "1.7976931348623157e+308"},
        {5e-324, "4.94065645841247e-324"},
        {9007199254740992.0, "9007199254740992"},
        {123456.789, "123456.789"},
        {1.0 / 3.0, "0.3333333333333333"},
    };
    char out[40];
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        size_t n = lp_format_float(cases[i].v, out);
        assert_int_equal(n, strlen(out));
        assert_string_equal(out, cases[i].want);
    }
    /* random doubles: the output reads back to the same bits and is < 32 bytes */
    uint64_t seed = 0x9E3779B97F4A7C15ULL;
    for (int i = 0; i < 100000; i++) {
        seed ^= seed << 13, seed ^= seed >> 7, seed ^= seed << 17;
        double v;
        memcpy(&v, &seed, sizeof(v));
        if (!isfinite(v)) continue;
        size_t n = lp_format_float(v, out);
        assert_true(n < 32);
        double back = strtod(out, NULL);
        assert_memory_equal(&back, &v, sizeof(v));
    }
}

static struct lp_point make_point(struct lp_tag *tags, size_t nt, struct lp_field *fields,
                                  size_t nf)
{
    struct lp_point pt;
    memset(&pt, 0, sizeof(pt));
    pt.measurement = "cpu";
    pt.measurement_len = 3;
    pt.tags = tags;
    pt.ntags = nt;
    pt.fields = fields;
    pt.nfields = nf;
    return pt;
}

static void test_write_point(void **state)
{
    (void)state;
    struct lp_tag tags[] = {{"host", 4, "a b", 3}, {"region", 6, "eu=1", 4}};
    struct lp_field f[5];
    memset(f, 0, sizeof(f));
    f[0] = (struct lp_field){.key = "f", .key_len = 1, .type = LP_FLOAT, .v.f = 1.5};
    f[1] = (struct lp_field){.key = "i", .key_len = 1, .type = LP_INTEGER, .v.i = -3};
    f[2] = (struct lp_field){
        .key = "u", .key_len = 1, .type = LP_UNSIGNED, .v.u = 18446744073709551615ULL};
    f[3] = (struct lp_field){.key = "s", .key_len = 1, .type = LP_STRING, .v.s = {"say \"hi\"", 8}};
    f[4] = (struct lp_field){.key = "b", .key_len = 1, .type = LP_BOOLEAN, .v.b = 1};
    struct lp_point pt = make_point(tags, 2, f, 5);
    pt.has_time = 1;
    pt.time = 1609459200123456789LL;
    struct sl_buf b = SL_BUF_INIT;
    struct lp_write_opts o = {.uint_support = 1, .precision = LP_PREC_NS};
    assert_int_equal(lp_write_point(&b, &pt, &o), 0);
    assert_string_equal(b.ptr, "cpu,host=a\\ b,region=eu\\=1 f=1.5,i=-3i,u=18446744073709551615u,"
                               "s=\"say \\\"hi\\\"\",b=true 1609459200123456789\n");
    /* 1.x servers: no unsigned type; values past int64 are clamped */
    sl_buf_reset(&b);
    o.uint_support = 0;
    o.precision = LP_PREC_S;
    assert_int_equal(lp_write_point(&b, &pt, &o), 0);
    assert_non_null(strstr(b.ptr, ",u=9223372036854775807i,"));
    assert_non_null(strstr(b.ptr, " 1609459200\n"));
    sl_buf_reset(&b);
    o.precision = LP_PREC_MS;
    pt.has_time = 0;
    f[2].v.u = 7;
    assert_int_equal(lp_write_point(&b, &pt, NULL), 0);
    assert_string_equal(b.ptr, "cpu,host=a\\ b,region=eu\\=1 f=1.5,i=-3i,u=7i,"
                               "s=\"say \\\"hi\\\"\",b=true\n");
    /* series key */
    sl_buf_reset(&b);
    assert_int_equal(lp_series_key(&pt, &b), 0);
    assert_string_equal(b.ptr, "cpu,host=a\\ b,region=eu\\=1");
    sl_buf_release(&b);
}

static void test_write_refuses(void **state)
{
    (void)state;
    struct lp_tag tag = {"t", 1, "v", 1};
    struct lp_field f = {.key = "f", .key_len = 1, .type = LP_FLOAT, .v.f = 1};
    struct sl_buf b = SL_BUF_INIT;
    sl_buf_adds(&b, "keep");
    struct lp_point pt = make_point(&tag, 1, &f, 1);
    assert_int_equal(lp_write_point(&b, &pt, NULL), 0);
    size_t ok_len = b.len;

    pt.nfields = 0;
    assert_int_equal(lp_write_point(&b, &pt, NULL), SL_EINVAL);
    pt.nfields = 1;
    f.v.f = NAN;
    assert_int_equal(lp_write_point(&b, &pt, NULL), SL_EINVAL);
    f.v.f = INFINITY;
    assert_int_equal(lp_write_point(&b, &pt, NULL), SL_EINVAL);
    f.v.f = 1;
    f.key = "time", f.key_len = 4;
    assert_int_equal(lp_write_point(&b, &pt, NULL), SL_EINVAL);
    f.key = "", f.key_len = 0;
    assert_int_equal(lp_write_point(&b, &pt, NULL), SL_EINVAL);
    f.key = "f", f.key_len = 1;
    tag.val_len = 0;
    assert_int_equal(lp_write_point(&b, &pt, NULL), SL_EINVAL);
    tag.val = "a\nb", tag.val_len = 3;
    assert_int_equal(lp_write_point(&b, &pt, NULL), SL_EINVAL);
    tag.val = "v", tag.val_len = 1;
    tag.key = "time";
    tag.key_len = 4;
    assert_int_equal(lp_write_point(&b, &pt, NULL), SL_EINVAL);
    tag.key = "t", tag.key_len = 1;
    pt.measurement = "#c", pt.measurement_len = 2;
    assert_int_equal(lp_write_point(&b, &pt, NULL), SL_EINVAL);
    pt.measurement = "\tc";
    assert_int_equal(lp_write_point(&b, &pt, NULL), SL_EINVAL);
    pt.measurement = "", pt.measurement_len = 0;
    assert_int_equal(lp_write_point(&b, &pt, NULL), SL_EINVAL);
    /* nothing was appended by the refused calls */
    assert_int_equal(b.len, ok_len);

    /* a full buffer leaves the content as it was */
    struct sl_buf small;
    sl_buf_init(&small, 8);
    pt.measurement = "measurement", pt.measurement_len = 11;
    assert_true(lp_write_point(&small, &pt, NULL) < 0);
    assert_int_equal(small.len, 0);
    sl_buf_release(&small);
    sl_buf_release(&b);
}

static void test_sort_tags(void **state)
{
    (void)state;
    struct lp_tag t[40];
    char keys[40][8];
    for (int i = 0; i < 40; i++) {
        snprintf(keys[i], sizeof(keys[i]), "k%02d", (i * 17) % 40);
        t[i] = (struct lp_tag){keys[i], strlen(keys[i]), "v", 1};
    }
    lp_sort_tags(t, 40);
    for (int i = 1; i < 40; i++)
        assert_true(strcmp(t[i - 1].key, t[i].key) < 0);
    struct lp_tag s[3] = {{"b", 1, "1", 1}, {"ab", 2, "2", 1}, {"a", 1, "3", 1}};
    lp_sort_tags(s, 3);
    assert_string_equal(s[0].val, "3");
    assert_string_equal(s[1].val, "2");
    assert_string_equal(s[2].val, "1");
    lp_sort_tags(s, 0);
}

/* Hand-built points with every awkward byte survive a round trip. */
static void test_round_trip(void **state)
{
    (void)state;
    const char *names[] = {"a",    " lead", "trail ", "x,y", "x=y",         "x\\",   "\\",
                           "\\\\", "\\,",   "\"q\"",  "#in", "caf\xc3\xa9", "t\tab", "cr\r"};
    const char *strs[] = {"", "\\", "\"", "\\\"", "a\nb", "a\\nb", "\r\n", "end\\"};
    size_t nn = sizeof(names) / sizeof(names[0]), ns = sizeof(strs) / sizeof(strs[0]);
    struct sl_buf b = SL_BUF_INIT;
    struct lp_write_opts o = {.uint_support = 1, .precision = LP_PREC_NS};
    for (size_t i = 0; i < nn; i++) {
        for (size_t j = 0; j < ns; j++) {
            struct lp_tag tag = {names[(i + 1) % nn], strlen(names[(i + 1) % nn]), names[i],
                                 strlen(names[i])};
            struct lp_field f[2] = {
                {.key = names[i],
                 .key_len = strlen(names[i]),
                 .type = LP_STRING,
                 .v.s = {strs[j], strlen(strs[j])}},
                {.key = "zz", .key_len = 2, .type = LP_FLOAT, .v.f = -1.25e-7},
            };
            struct lp_point pt = make_point(&tag, 1, f, 2);
            pt.measurement = names[i];
            pt.measurement_len = strlen(names[i]);
            if (names[i][0] == '#' || names[i][0] == '\t')
                pt.measurement = "m", pt.measurement_len = 1;
            pt.has_time = 1;
            pt.time = -5;
            sl_buf_reset(&b);
            assert_int_equal(lp_write_point(&b, &pt, &o), 0);
            struct lp_parser p;
            struct lp_point back;
            struct lp_error err;
            lp_parser_init(&p, b.ptr, b.len, NULL);
            int rc = lp_parser_next(&p, &back, &err);
            if (rc != LP_POINT) fprintf(stderr, "round trip of [%s]: %s\n", b.ptr, err.message);
            assert_int_equal(rc, LP_POINT);
            assert_int_equal(back.measurement_len, pt.measurement_len);
            assert_memory_equal(back.measurement, pt.measurement, pt.measurement_len);
            assert_int_equal(back.ntags, 1);
            assert_int_equal(back.tags[0].key_len, tag.key_len);
            assert_memory_equal(back.tags[0].key, tag.key, tag.key_len);
            assert_int_equal(back.tags[0].val_len, tag.val_len);
            assert_memory_equal(back.tags[0].val, tag.val, tag.val_len);
            assert_int_equal(back.nfields, 2);
            assert_int_equal(back.fields[0].key_len, f[0].key_len);
            assert_memory_equal(back.fields[0].key, f[0].key, f[0].key_len);
            assert_int_equal(back.fields[0].v.s.len, f[0].v.s.len);
            if (f[0].v.s.len)
                assert_memory_equal(back.fields[0].v.s.ptr, f[0].v.s.ptr, f[0].v.s.len);
            assert_true(back.fields[1].v.f == -1.25e-7);
            assert_int_equal(back.time, -5);
            assert_int_equal(lp_parser_next(&p, &back, &err), LP_END);
            lp_parser_release(&p);
        }
    }
    sl_buf_release(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_escapers),    cmocka_unit_test(test_format_float),
        cmocka_unit_test(test_write_point), cmocka_unit_test(test_write_refuses),
        cmocka_unit_test(test_sort_tags),   cmocka_unit_test(test_round_trip),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
