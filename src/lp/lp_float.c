/*
 * lp_float.c — number codecs of the line-protocol library: exact float, int64
 * and uint64 parsers, and the shortest round-trip float formatter.
 *
 * Float parsing takes the Clinger fast path when it is exact: the decimal
 * significand has at most 19 digits with no non-zero digit dropped, fits in
 * 53 bits, and the decimal exponent is within +-22, so one IEEE multiply or
 * divide by an exactly representable power of ten gives the correctly
 * rounded result. Everything else goes through strtod on a NUL-terminated
 * copy (correctly rounded by glibc). The grammar is checked here, before
 * strtod, so strtod's extras (hex, inf, nan, leading '+', spaces) never get
 * through.
 *
 * Float formatting tries %.15g, %.16g and %.17g and keeps the first that
 * reads back to the same bits; integral values below 2^53 are written as
 * plain digits.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/mem.h"
#include "lp/lp.h"
#include "lp/lp_int.h"

static const double k_pow10[23] = {1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,
                                   1e8,  1e9,  1e10, 1e11, 1e12, 1e13, 1e14, 1e15,
                                   1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};

static inline int is_digit(char c)
{
    return (unsigned char)(c - '0') < 10;
}

static enum lp_num_rc float_slow(const char *s, size_t n, double *out)
{
    char stack[128];
    char *copy = stack;
    if (n >= sizeof(stack)) {
        copy = sl_malloc(n + 1);
        if (!copy) return LP_NUM_NOMEM;
    }
    memcpy(copy, s, n);
    copy[n] = 0;
    char *end = NULL;
    double v = strtod(copy, &end);
    size_t used = (size_t)(end - copy);
    if (copy != stack) sl_free(copy);
    if (used != n) return LP_NUM_SYNTAX;
    if (isinf(v) || isnan(v)) return LP_NUM_RANGE;
    *out = v;
    return LP_NUM_OK;
}

enum lp_num_rc lp_parse_float(const char *s, size_t n, double *out)
{
    const char *p = s, *e = s + n;
    int neg = 0;
    if (p < e && *p == '-') neg = 1, p++;
    uint64_t mant = 0;
    int sig = 0, ndig = 0, truncated = 0;
    long exp10 = 0;
    for (; p < e && is_digit(*p); p++, ndig++) {
        unsigned d = (unsigned)(*p - '0');
        if (mant == 0 && d == 0) continue;
        if (sig < 19) {
            mant = mant * 10 + d;
            sig++;
        } else {
            exp10++;
            truncated |= d != 0;
        }
    }
    if (p < e && *p == '.') {
        p++;
        for (; p < e && is_digit(*p); p++, ndig++) {
            unsigned d = (unsigned)(*p - '0');
            if (mant == 0 && d == 0) {
                exp10--;
                continue;
            }
            if (sig < 19) {
                mant = mant * 10 + d;
                sig++;
                exp10--;
            } else {
                truncated |= d != 0;
            }
        }
    }
    if (ndig == 0) return LP_NUM_SYNTAX;
    if (p < e && (*p == 'e' || *p == 'E')) {
        p++;
        int eneg = 0;
        if (p < e && (*p == '+' || *p == '-')) eneg = *p == '-', p++;
        if (p == e || !is_digit(*p)) return LP_NUM_SYNTAX;
        long x = 0;
        for (; p < e && is_digit(*p); p++)
            if (x < 100000) x = x * 10 + (*p - '0');
        exp10 += eneg ? -x : x;
    }
    if (p != e) return LP_NUM_SYNTAX;
    if (mant == 0) {
        *out = neg ? -0.0 : 0.0;
        return LP_NUM_OK;
    }
    if (!truncated && mant <= ((uint64_t)1 << 53) && exp10 >= -22 && exp10 <= 22) {
        double v = (double)mant;
        if (exp10 < 0)
            v /= k_pow10[-exp10];
        else
            v *= k_pow10[exp10];
        *out = neg ? -v : v;
        return LP_NUM_OK;
    }
    return float_slow(s, n, out);
}

/* Parses \d+ into a uint64 with overflow detection. */
static enum lp_num_rc parse_digits(const char *p, const char *e, uint64_t *out)
{
    if (p == e) return LP_NUM_SYNTAX;
    uint64_t v = 0;
    for (; p < e; p++) {
        unsigned d = (unsigned)(*p - '0');
        if (d > 9) return LP_NUM_SYNTAX;
        if (v > (UINT64_MAX - d) / 10) {
            /* keep checking the syntax so "99999999999999999999x" is a syntax error */
            for (p++; p < e; p++)
                if (!is_digit(*p)) return LP_NUM_SYNTAX;
            return LP_NUM_RANGE;
        }
        v = v * 10 + d;
    }
    *out = v;
    return LP_NUM_OK;
}

enum lp_num_rc lp_parse_int(const char *s, size_t n, int64_t *out)
{
    const char *p = s, *e = s + n;
    int neg = 0;
    if (p < e && *p == '-') neg = 1, p++;
    uint64_t v;
    enum lp_num_rc rc = parse_digits(p, e, &v);
    if (rc != LP_NUM_OK) return rc;
    if (neg) {
        if (v > (uint64_t)INT64_MAX + 1) return LP_NUM_RANGE;
        *out = v == (uint64_t)INT64_MAX + 1 ? INT64_MIN : -(int64_t)v;
    } else {
        if (v > (uint64_t)INT64_MAX) return LP_NUM_RANGE;
        *out = (int64_t)v;
    }
    return LP_NUM_OK;
}

enum lp_num_rc lp_parse_uint(const char *s, size_t n, uint64_t *out)
{
    return parse_digits(s, s + n, out);
}

size_t lp_fmt_u64(uint64_t v, char *out)
{
    char tmp[20];
    size_t n = 0;
    do {
        tmp[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    for (size_t i = 0; i < n; i++)
        out[i] = tmp[n - 1 - i];
    return n;
}

size_t lp_fmt_i64(int64_t v, char *out)
{
    if (v < 0) {
        out[0] = '-';
        return 1 + lp_fmt_u64((uint64_t)0 - (uint64_t)v, out + 1);
    }
    return lp_fmt_u64((uint64_t)v, out);
}

size_t lp_format_float(double v, char *out)
{
    if (v == 0) {
        if (signbit(v)) {
            memcpy(out, "-0", 3);
            return 2;
        }
        memcpy(out, "0", 2);
        return 1;
    }
    if (!isfinite(v)) {
        /* not representable in line protocol; callers must not pass these */
        int n = snprintf(out, 32, "%s", isnan(v) ? "nan" : (v < 0 ? "-inf" : "inf"));
        return (size_t)n;
    }
    if (v == trunc(v) && fabs(v) < 9007199254740992.0) {
        size_t n = lp_fmt_i64((int64_t)v, out);
        out[n] = 0;
        return n;
    }
    int n = 0;
    for (int prec = 15; prec <= 17; prec++) {
        n = snprintf(out, 32, "%.*g", prec, v);
        if (prec == 17 || strtod(out, NULL) == v) break;
    }
    return (size_t)n;
}
