/* timeutil.c — time helpers: clocks, RFC 3339, durations. */
#include "common/timeutil.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "common/err.h"

int64_t sl_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * SL_NS_PER_S + ts.tv_nsec;
}

int64_t sl_mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * SL_NS_PER_S + ts.tv_nsec;
}

/* Days since 1970-01-01 for a proleptic Gregorian date (H. Hinnant's algorithm). */
static int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    unsigned yoe = (unsigned)(y - era * 400);
    unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (int64_t)doe - 719468;
}

static void civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d)
{
    z += 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    unsigned doe = (unsigned)(z - era * 146097);
    unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t yy = (int64_t)yoe + era * 400;
    unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    unsigned mp = (5 * doy + 2) / 153;
    *d = doy - (153 * mp + 2) / 5 + 1;
    *m = mp < 10 ? mp + 3 : mp - 9;
    *y = yy + (*m <= 2);
}

size_t sl_time_format_rfc3339(int64_t ns, char *out)
{
    int64_t secs = ns / SL_NS_PER_S;
    int64_t frac = ns % SL_NS_PER_S;
    if (frac < 0) {
        frac += SL_NS_PER_S;
        secs -= 1;
    }
    int64_t days = secs / 86400;
    int64_t rem = secs % 86400;
    if (rem < 0) {
        rem += 86400;
        days -= 1;
    }
    int64_t y;
    unsigned m, d;
    civil_from_days(days, &y, &m, &d);
    int n;
    if (y >= 0 && y <= 9999) { /* the common case, without snprintf */
        unsigned v[6] = {
            (unsigned)y,         m, d, (unsigned)(rem / 3600), (unsigned)(rem / 60 % 60),
            (unsigned)(rem % 60)};
        out[0] = (char)('0' + v[0] / 1000), out[1] = (char)('0' + v[0] / 100 % 10);
        out[2] = (char)('0' + v[0] / 10 % 10), out[3] = (char)('0' + v[0] % 10);
        static const char sep[5] = {'-', '-', 'T', ':', ':'};
        n = 4;
        for (int k = 1; k < 6; k++) {
            out[n++] = sep[k - 1];
            out[n++] = (char)('0' + v[k] / 10);
            out[n++] = (char)('0' + v[k] % 10);
        }
    } else {
        n = snprintf(out, 40, "%04lld-%02u-%02uT%02d:%02d:%02d", (long long)y, m, d,
                     (int)(rem / 3600), (int)(rem / 60 % 60), (int)(rem % 60));
    }
    if (frac) {
        char f[10];
        f[0] = '.';
        for (int k = 9; k >= 1; k--, frac /= 10)
            f[k] = (char)('0' + frac % 10);
        int len = 10;
        while (f[len - 1] == '0')
            len--;
        memcpy(out + n, f, (size_t)len);
        n += len;
    }
    out[n++] = 'Z';
    out[n] = '\0';
    return (size_t)n;
}

static int parse_digits(const char *s, size_t n, size_t *i, int count, int *out)
{
    int v = 0;
    for (int k = 0; k < count; k++) {
        if (*i >= n || !isdigit((unsigned char)s[*i])) return SL_EINVAL;
        v = v * 10 + (s[(*i)++] - '0');
    }
    *out = v;
    return 0;
}

int sl_time_parse_rfc3339(const char *s, size_t n, int64_t *ns)
{
    size_t i = 0;
    int Y, M, D, h = 0, mi = 0, sec = 0;
    int64_t frac = 0, off = 0;
    if (parse_digits(s, n, &i, 4, &Y) || i >= n || s[i++] != '-' || parse_digits(s, n, &i, 2, &M) ||
        i >= n || s[i++] != '-' || parse_digits(s, n, &i, 2, &D))
        return SL_EINVAL;
    if (M < 1 || M > 12 || D < 1 || D > 31) return SL_EINVAL;
    if (i < n && (s[i] == 'T' || s[i] == 't' || s[i] == ' ')) {
        i++;
        if (parse_digits(s, n, &i, 2, &h) || i >= n || s[i++] != ':' ||
            parse_digits(s, n, &i, 2, &mi))
            return SL_EINVAL;
        if (i < n && s[i] == ':') {
            i++;
            if (parse_digits(s, n, &i, 2, &sec)) return SL_EINVAL;
        }
        if (h > 23 || mi > 59 || sec > 60) return SL_EINVAL;
        if (i < n && s[i] == '.') {
            i++;
            int digits = 0;
            while (i < n && isdigit((unsigned char)s[i])) {
                if (digits < 9) {
                    frac = frac * 10 + (s[i] - '0');
                    digits++;
                }
                i++;
            }
            if (!digits) return SL_EINVAL;
            while (digits++ < 9)
                frac *= 10;
        }
        if (i < n && (s[i] == 'Z' || s[i] == 'z')) {
            i++;
        } else if (i < n && (s[i] == '+' || s[i] == '-')) {
            int sign = s[i++] == '-' ? -1 : 1, oh, om = 0;
            if (parse_digits(s, n, &i, 2, &oh)) return SL_EINVAL;
            if (i < n && s[i] == ':') i++;
            if (i < n && parse_digits(s, n, &i, 2, &om)) return SL_EINVAL;
            off = sign * ((int64_t)oh * 3600 + om * 60);
        }
    }
    if (i != n) return SL_EINVAL;
    int64_t days = days_from_civil(Y, (unsigned)M, (unsigned)D);
    int64_t secs = days * 86400 + h * 3600 + mi * 60 + sec - off;
    /* int64 ns covers 1677-09-21 .. 2262-04-11 */
    if (secs > INT64_MAX / SL_NS_PER_S - 1 || secs < INT64_MIN / SL_NS_PER_S + 1) return SL_ERANGE;
    *ns = secs * SL_NS_PER_S + frac;
    return 0;
}

int sl_duration_parse(const char *s, size_t n, int64_t *out)
{
    if (n == 3 && strncmp(s, "inf", 3) == 0) {
        *out = 0;
        return 0;
    }
    if (n == 0) return SL_EINVAL;
    size_t i = 0;
    __int128 total = 0;
    int any = 0;
    while (i < n) {
        if (!isdigit((unsigned char)s[i])) return SL_EINVAL;
        __int128 v = 0;
        while (i < n && isdigit((unsigned char)s[i])) {
            v = v * 10 + (s[i++] - '0');
            if (v > INT64_MAX) return SL_ERANGE;
        }
        size_t u0 = i;
        while (i < n && !isdigit((unsigned char)s[i]))
            i++;
        size_t ul = i - u0;
        const char *u = s + u0;
        int64_t mul;
        if (ul == 0) {
            if (v != 0 || any || i != n) return SL_EINVAL; /* only a bare "0" */
            mul = 0;
        } else if (ul == 2 && !memcmp(u, "ns", 2))
            mul = 1;
        else if ((ul == 1 && *u == 'u') || (ul == 2 && !memcmp(u, "us", 2)) ||
                 (ul == 3 && !memcmp(u, "\xc2\xb5s", 3)))
            mul = SL_NS_PER_US;
        else if (ul == 2 && !memcmp(u, "ms", 2))
            mul = SL_NS_PER_MS;
        else if (ul == 1 && *u == 's')
            mul = SL_NS_PER_S;
        else if (ul == 1 && *u == 'm')
            mul = 60 * SL_NS_PER_S;
        else if (ul == 1 && *u == 'h')
            mul = 3600 * SL_NS_PER_S;
        else if (ul == 1 && *u == 'd')
            mul = 86400 * SL_NS_PER_S;
        else if (ul == 1 && *u == 'w')
            mul = 7 * 86400 * SL_NS_PER_S;
        else if (ul == 1 && *u == 'y')
            mul = 365 * 86400 * SL_NS_PER_S;
        else
            return SL_EINVAL;
        total += v * mul;
        if (total > INT64_MAX) return SL_ERANGE;
        any = 1;
    }
    *out = (int64_t)total;
    return 0;
}

size_t sl_duration_format(int64_t ns, char *out, size_t cap)
{
    if (ns <= 0) return (size_t)snprintf(out, cap, "0s");
    int64_t s = ns / SL_NS_PER_S;
    int64_t rest = ns % SL_NS_PER_S;
    int n;
    if (rest == 0)
        n = snprintf(out, cap, "%lldh%lldm%llds", (long long)(s / 3600), (long long)(s / 60 % 60),
                     (long long)(s % 60));
    else
        n = snprintf(out, cap, "%lldh%lldm%lld.%09llds", (long long)(s / 3600),
                     (long long)(s / 60 % 60), (long long)(s % 60), (long long)rest);
    return n < 0 ? 0 : (size_t)n;
}
