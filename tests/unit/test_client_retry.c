/*
 * test_client_retry.c — unit tests of libsluice's delivery policy and
 * transport helpers: status classification, capped jittered backoff,
 * Retry-After parsing (hostile values included), URL escaping, gzip, and
 * precision names.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <zlib.h>

#include <cmocka.h>

#include "client/client_int.h"
#include "common/buf.h"
#include "common/err.h"
#include "sluice/sluice.h"

static void test_classify(void **state)
{
    (void)state;
    int code;
    assert_int_equal(client_classify(204, 10, 1, 5, &code), CLIENT_DONE);
    assert_int_equal(code, 0);
    assert_int_equal(client_classify(200, 10, 1, 5, &code), CLIENT_DONE);
    assert_int_equal(client_classify(413, 10, 1, 5, &code), CLIENT_SPLIT);
    assert_int_equal(code, SL_ETOOBIG);
    assert_int_equal(client_classify(413, 1, 1, 5, &code), CLIENT_DROP);
    assert_int_equal(client_classify(429, 10, 1, 5, &code), CLIENT_RETRY);
    assert_int_equal(code, SL_EBUSY);
    assert_int_equal(client_classify(408, 10, 1, 5, &code), CLIENT_RETRY);
    assert_int_equal(client_classify(401, 10, 1, 5, &code), CLIENT_RETRY);
    assert_int_equal(code, SL_EPERM);
    assert_int_equal(client_classify(403, 10, 1, 5, &code), CLIENT_RETRY);
    assert_int_equal(client_classify(500, 10, 1, 5, &code), CLIENT_RETRY);
    assert_int_equal(code, SL_EIO);
    assert_int_equal(client_classify(503, 10, 1, 5, &code), CLIENT_RETRY);
    assert_int_equal(code, SL_EBUSY);
    assert_int_equal(client_classify(0, 10, 1, 5, &code), CLIENT_RETRY);
    assert_int_equal(code, SL_EIO);
    /* the limit: attempt 6 is the 5th retry failing */
    assert_int_equal(client_classify(500, 10, 5, 5, &code), CLIENT_RETRY);
    assert_int_equal(client_classify(500, 10, 6, 5, &code), CLIENT_DROP);
    assert_int_equal(client_classify(0, 10, 1, 0, &code), CLIENT_DROP);
    /* not retryable */
    long drops[] = {400, 404, 405, 409, 422, 431, 499, 301, 100};
    for (size_t i = 0; i < sizeof(drops) / sizeof(drops[0]); i++) {
        assert_int_equal(client_classify(drops[i], 10, 1, 5, &code), CLIENT_DROP);
        assert_int_equal(code, SL_EINVAL);
    }
}

static void test_backoff(void **state)
{
    (void)state;
    uint64_t rs = 42;
    for (int retry = 1; retry <= 40; retry++) {
        int64_t d = 250;
        for (int i = 1; i < retry && d < 30000; i++)
            d *= 2;
        if (d > 30000) d = 30000;
        for (int k = 0; k < 200; k++) {
            int64_t b = client_backoff_ms(retry, 250, 30000, -1, 60000, client_rand(&rs));
            assert_true(b >= d / 2);
            assert_true(b <= d);
        }
    }
    /* jitter actually varies */
    int64_t first = client_backoff_ms(5, 250, 30000, -1, 60000, client_rand(&rs));
    int varied = 0;
    for (int k = 0; k < 50; k++)
        varied |= client_backoff_ms(5, 250, 30000, -1, 60000, client_rand(&rs)) != first;
    assert_true(varied);
    /* Retry-After replaces the computed delay, capped */
    assert_int_equal(client_backoff_ms(1, 250, 30000, 5000, 60000, 7), 5000);
    assert_int_equal(client_backoff_ms(1, 250, 30000, 0, 60000, 7), 0);
    assert_int_equal(client_backoff_ms(9, 250, 30000, 3600000, 60000, 7), 60000);
    /* degenerate settings do not divide by zero or go negative */
    assert_true(client_backoff_ms(0, 0, 0, -1, 0, 0) >= 0);
    assert_true(client_backoff_ms(1000000, 1, 1, -1, 1, UINT64_MAX) <= 1);
}

static void test_retry_after(void **state)
{
    (void)state;
    int64_t now = 784111777; /* Sun, 06 Nov 1994 08:49:37 GMT */
    assert_int_equal(client_parse_retry_after("120", 3, now), 120000);
    assert_int_equal(client_parse_retry_after("0", 1, now), 0);
    assert_int_equal(client_parse_retry_after("Sun, 06 Nov 1994 08:49:47 GMT", 29, now), 10000);
    /* a date in the past means now */
    assert_int_equal(client_parse_retry_after("Sun, 06 Nov 1994 08:49:27 GMT", 29, now), 0);
    const char *bad[] = {"",
                         "-1",
                         "1.5",
                         "12abc",
                         " 5",
                         "Sun, 06 Nov 1994",
                         "tomorrow",
                         "99999999999999999999999999",
                         "Sun, 06 Nov 1994 08:49:47 GMTX"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        assert_int_equal(client_parse_retry_after(bad[i], strlen(bad[i]), now), -1);
    char huge[200];
    memset(huge, '9', sizeof(huge));
    assert_int_equal(client_parse_retry_after(huge, sizeof(huge), now), -1);
}

static void test_url_escape(void **state)
{
    (void)state;
    struct sl_buf b;
    sl_buf_init(&b, 0);
    assert_int_equal(client_url_escape(&b, "my db/rp&x=1 é"), 0);
    assert_string_equal(b.ptr, "my%20db%2Frp%26x%3D1%20%C3%A9");
    sl_buf_release(&b);
}

static void test_gzip(void **state)
{
    (void)state;
    struct sl_buf z;
    sl_buf_init(&z, 0);
    char in[10000];
    for (size_t i = 0; i < sizeof(in); i++)
        in[i] = (char)('a' + i % 7);
    assert_int_equal(client_gzip(&z, in, sizeof(in)), 0);
    assert_true(z.len > 18 && z.len < sizeof(in));
    assert_int_equal((unsigned char)z.ptr[0], 0x1f);
    assert_int_equal((unsigned char)z.ptr[1], 0x8b);
    char out[20000];
    z_stream zs;
    memset(&zs, 0, sizeof(zs));
    assert_int_equal(inflateInit2(&zs, 15 + 16), Z_OK);
    zs.next_in = (Bytef *)z.ptr;
    zs.avail_in = (uInt)z.len;
    zs.next_out = (Bytef *)out;
    zs.avail_out = sizeof(out);
    assert_int_equal(inflate(&zs, Z_FINISH), Z_STREAM_END);
    assert_int_equal(zs.total_out, sizeof(in));
    assert_memory_equal(out, in, sizeof(in));
    inflateEnd(&zs);
    /* empty input is a valid (empty) gzip stream */
    sl_buf_reset(&z);
    assert_int_equal(client_gzip(&z, "", 0), 0);
    assert_true(z.len >= 18);
    sl_buf_release(&z);
}

static void test_precision_names(void **state)
{
    (void)state;
    enum sl_precision p = SL_PREC_S;
    assert_int_equal(sl_precision_parse("ns", &p), 0);
    assert_int_equal(p, SL_PREC_NS);
    assert_int_equal(sl_precision_parse("u", &p), 0);
    assert_int_equal(p, SL_PREC_US);
    assert_int_equal(sl_precision_parse("ms", &p), 0);
    assert_int_equal(p, SL_PREC_MS);
    assert_int_equal(sl_precision_parse("s", &p), 0);
    assert_int_equal(p, SL_PREC_S);
    assert_int_equal(sl_precision_parse("auto", &p), 0);
    assert_int_equal(p, SL_PREC_DEFAULT);
    p = SL_PREC_MS;
    assert_int_equal(sl_precision_parse("h", &p), SL_EINVAL);
    assert_int_equal(sl_precision_parse("", &p), SL_EINVAL);
    assert_int_equal(sl_precision_parse(NULL, &p), SL_EINVAL);
    assert_int_equal(p, SL_PREC_MS);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_classify),    cmocka_unit_test(test_backoff),
        cmocka_unit_test(test_retry_after), cmocka_unit_test(test_url_escape),
        cmocka_unit_test(test_gzip),        cmocka_unit_test(test_precision_names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
