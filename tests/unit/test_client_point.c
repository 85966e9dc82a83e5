/*
 * test_client_point.c — the point builder: serialization (escaping, tag
 * order, types, precision), replacement of repeated keys, and refusal of
 * what line protocol cannot carry (empty names, newlines, NaN, oversize,
 * too many tags), plus allocation failures.
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

#include "common/mem.h"
#include "lp/lp.h"
#include "sluice/point.h"

static char *enc(struct sl_point *p, enum sl_precision prec, int uints)
{
    char *line = NULL;
    size_t len = 0;
    assert_int_equal(sl_point_encode(p, prec, uints, &line, &len), 0);
    assert_int_equal(strlen(line), len);
    return line;
}

static void test_basic(void **state)
{
    (void)state;
    struct sl_point *p;
    assert_int_equal(sl_point_new(&p, "cpu"), 0);
    assert_int_equal(sl_point_tag(p, "region", "eu"), 0);
    assert_int_equal(sl_point_tag(p, "host", "a"), 0);
    assert_int_equal(sl_point_field_float(p, "usage", 12.5), 0);
    assert_int_equal(sl_point_field_int(p, "n", -3), 0);
    assert_int_equal(sl_point_field_uint(p, "u", 18446744073709551615ULL), 0);
    assert_int_equal(sl_point_field_bool(p, "ok", 5), 0);
    assert_int_equal(sl_point_field_string(p, "msg", "hi"), 0);
    sl_point_time(p, 1700000000123456789LL);
    char *l = enc(p, SL_PREC_NS, 1);
    assert_string_equal(
        l, "cpu,host=a,region=eu usage=12.5,n=-3i,u=18446744073709551615u,ok=true,msg=\"hi\" "
           "1700000000123456789\n");
    sl_free(l);
    l = enc(p, SL_PREC_MS, 1);
    assert_non_null(strstr(l, "\" 1700000000123\n"));
    sl_free(l);
    l = enc(p, SL_PREC_S, 1);
    assert_non_null(strstr(l, "\" 1700000000\n"));
    sl_free(l);
    /* no unsigned support: a value above INT64_MAX cannot be sent */
    char *line;
    size_t len;
    assert_int_equal(sl_point_encode(p, SL_PREC_NS, 0, &line, &len), SL_ERANGE);
    assert_null(line);
    assert_int_equal(sl_point_field_uint(p, "u", 7), 0); /* replaces */
    l = enc(p, SL_PREC_NS, 0);
    assert_non_null(strstr(l, ",u=7i,"));
    sl_free(l);
    sl_point_clear_time(p);
    l = enc(p, SL_PREC_NS, 1);
    assert_non_null(strstr(l, "msg=\"hi\"\n"));
    sl_free(l);
    sl_point_free(p);
}

static void test_escaping_roundtrip(void **state)
{
    (void)state;
    struct sl_point *p;
    assert_int_equal(sl_point_new(&p, "we ird,m"), 0);
    assert_int_equal(sl_point_tag(p, "k =,", "v =,\\"), 0);
    assert_int_equal(sl_point_field_string(p, "f =,", "say \"hi\" \\ there"), 0);
    sl_point_time(p, 5);
    char *l = enc(p, SL_PREC_NS, 1);
    /* the shared parser reads back exactly what was built */
    struct lp_parser ps;
    struct lp_point pt;
    struct lp_error err;
    lp_parser_init(&ps, l, strlen(l), NULL);
    assert_int_equal(lp_parser_next(&ps, &pt, &err), LP_POINT);
    assert_int_equal(pt.measurement_len, 8);
    assert_memory_equal(pt.measurement, "we ird,m", 8);
    assert_int_equal(pt.ntags, 1);
    assert_memory_equal(pt.tags[0].key, "k =,", 4);
    assert_int_equal(pt.tags[0].val_len, 5);
    assert_memory_equal(pt.tags[0].val, "v =,\\", 5);
    assert_int_equal(pt.nfields, 1);
    assert_int_equal(pt.fields[0].type, LP_STRING);
    assert_int_equal(pt.fields[0].v.s.len, strlen("say \"hi\" \\ there"));
    assert_memory_equal(pt.fields[0].v.s.ptr, "say \"hi\" \\ there", pt.fields[0].v.s.len);
    assert_int_equal(pt.time, 5);
    assert_int_equal(lp_parser_next(&ps, &pt, &err), LP_END);
    lp_parser_release(&ps);
    sl_free(l);
    sl_point_free(p);
}

static void test_replace_and_reset(void **state)
{
    (void)state;
    struct sl_point *p;
    assert_int_equal(sl_point_new(&p, "m"), 0);
    assert_int_equal(sl_point_tag(p, "t", "1"), 0);
    assert_int_equal(sl_point_tag(p, "t", "2"), 0);
    assert_int_equal(sl_point_field_int(p, "v", 1), 0);
    assert_int_equal(sl_point_field_string(p, "v", "s"), 0); /* type changes too */
    char *l = enc(p, SL_PREC_NS, 1);
    assert_string_equal(l, "m,t=2 v=\"s\"\n");
    sl_free(l);
    assert_int_equal(sl_point_reset(p, "n"), 0);
    char *line;
    size_t len;
    assert_int_equal(sl_point_encode(p, SL_PREC_NS, 1, &line, &len), SL_EINVAL); /* no field */
    assert_int_equal(sl_point_field_bool(p, "b", 0), 0);
    l = enc(p, SL_PREC_NS, 1);
    assert_string_equal(l, "n b=false\n");
    sl_free(l);
    /* a long measurement forces the reset to reallocate */
    char big[5000];
    memset(big, 'x', sizeof(big) - 1);
    big[sizeof(big) - 1] = 0;
    assert_int_equal(sl_point_reset(p, big), 0);
    assert_int_equal(sl_point_field_bool(p, "b", 1), 0);
    l = enc(p, SL_PREC_NS, 1);
    assert_int_equal(strlen(l), 4999 + strlen(" b=true\n"));
    sl_free(l);
    sl_point_free(p);
}

static void test_hostile(void **state)
{
    (void)state;
    struct sl_point *p = (struct sl_point *)1;
    assert_int_equal(sl_point_new(&p, ""), SL_EINVAL);
    assert_null(p);
    assert_int_equal(sl_point_new(&p, NULL), SL_EINVAL);
    assert_int_equal(sl_point_new(&p, "a\nb"), SL_EINVAL);
    assert_int_equal(sl_point_new(&p, "#comment"), SL_EINVAL);
    char *huge = malloc(SL_POINT_MAX_STRING + 2);
    memset(huge, 'a', SL_POINT_MAX_STRING + 1);
    huge[SL_POINT_MAX_STRING + 1] = 0;
    assert_int_equal(sl_point_new(&p, huge), SL_EINVAL); /* > SL_POINT_MAX_NAME */
    assert_int_equal(sl_point_new(&p, "m"), 0);
    assert_int_equal(sl_point_reset(p, ""), SL_EINVAL);
    assert_int_equal(sl_point_tag(p, "", "v"), SL_EINVAL);
    assert_int_equal(sl_point_tag(p, "k", ""), SL_EINVAL);
    assert_int_equal(sl_point_tag(p, "k", NULL), SL_EINVAL);
    assert_int_equal(sl_point_tag(p, "k", "a\rb"), SL_EINVAL);
    assert_int_equal(sl_point_field_float(p, "f", NAN), SL_EINVAL);
    assert_int_equal(sl_point_field_float(p, "f", INFINITY), SL_EINVAL);
    assert_int_equal(sl_point_field_float(p, "", 1.0), SL_EINVAL);
    assert_int_equal(sl_point_field_string(p, "s", NULL), SL_EINVAL);
    assert_int_equal(sl_point_field_string(p, "s", "line\nbreak"), SL_EINVAL);
    assert_int_equal(sl_point_field_string_n(p, "s", NULL, 3), SL_EINVAL);
    assert_int_equal(sl_point_field_string_n(p, "s", huge, SL_POINT_MAX_STRING + 1), SL_EINVAL);
    assert_int_equal(sl_point_field_string_n(p, "s", huge, SL_POINT_MAX_STRING), 0);
    /* failed calls left nothing behind */
    char *l = enc(p, SL_PREC_NS, 1);
    assert_int_equal(strlen(l), strlen("m s=\"\"\n") + SL_POINT_MAX_STRING);
    sl_free(l);
    free(huge);
    char key[16];
    for (unsigned i = 0; i < SL_POINT_MAX_TAGS; i++) {
        snprintf(key, sizeof(key), "t%u", i);
        assert_int_equal(sl_point_tag(p, key, "v"), 0);
    }
    assert_int_equal(sl_point_tag(p, "one-too-many", "v"), SL_EINVAL);
    assert_int_equal(sl_point_tag(p, "t0", "replaced"), 0); /* replacing is fine */
    for (unsigned i = 1; i < SL_POINT_MAX_FIELDS; i++) {
        snprintf(key, sizeof(key), "f%u", i);
        assert_int_equal(sl_point_field_int(p, key, i), 0);
    }
    assert_int_equal(sl_point_field_int(p, "one-too-many", 1), SL_EINVAL);
    sl_point_free(p);
    sl_point_free(NULL);
}

static void test_alloc_failures(void **state)
{
    (void)state;
    /* every allocation in turn fails; nothing leaks or crashes, and the
     * calls report SL_ENOMEM */
    for (long k = 0; k < 40; k++) {
        struct sl_point *p = NULL;
        sl_mem_fail_after(k, 0);
        int rc = sl_point_new(&p, "m");
        if (rc == 0) {
            rc |= sl_point_tag(p, "a", "b");
            rc |= sl_point_field_string(p, "s", "x");
            rc |= sl_point_field_float(p, "f", 1);
            char *line = NULL;
            size_t len;
            int e = sl_point_encode(p, SL_PREC_NS, 1, &line, &len);
            assert_true(e == 0 || e == SL_ENOMEM);
            sl_free(line);
            sl_point_free(p);
        } else {
            assert_int_equal(rc, SL_ENOMEM);
            assert_null(p);
        }
        sl_mem_fail_after(-1, 0);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_basic),
        cmocka_unit_test(test_escaping_roundtrip),
        cmocka_unit_test(test_replace_and_reset),
        cmocka_unit_test(test_hostile),
        cmocka_unit_test(test_alloc_failures),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
