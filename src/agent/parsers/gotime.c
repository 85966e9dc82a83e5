/*
 * gotime.c — parsing timestamps the way Telegraf configures them: the unix
 * names ("unix", "unix_ms", "unix_us", "unix_ns") and Go reference layouts
 * ("Mon Jan 2 15:04:05 MST 2006"), see parsers.h.
 *
 * A Go layout is the reference time written in the wanted format. We walk
 * the layout, recognising Go's "std chunks" in Go's own order (January
 * before Jan, 2006 before 2, ...), and consume the matching text of the
 * value; any other layout character must appear literally. As in Go, a
 * fractional second may follow the seconds even if the layout has none.
 * Zone abbreviations (MST) are accepted and treated as UTC, since their
 * offsets are ambiguous; numeric offsets are applied.
 */
#include <ctype.h>
#include <stdint.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "agent/parsers/parsers.h"
#include "common/err.h"
#include "common/timeutil.h"

static const char *const months[] = {"January",   "February", "March",    "April",
                                     "May",       "June",     "July",     "August",
                                     "September", "October",  "November", "December"};
static const char *const days[] = {"Sunday",   "Monday", "Tuesday", "Wednesday",
                                   "Thursday", "Friday", "Saturday"};

struct tm_parts {
    int64_t year, month, day, yday, hour, min, sec, nsec, offset_s;
    int pm, has_pm, hour12;
};

/* Days from 1970-01-01 to y-m-d (proleptic Gregorian). */
static int64_t days_from_civil(int64_t y, int64_t m, int64_t d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

/* Reads between min and max digits; returns digits consumed or 0. */
static size_t num(const char *s, size_t n, size_t min, size_t max, int64_t *out)
{
    size_t i = 0;
    int64_t v = 0;
    while (i < n && i < max && isdigit((unsigned char)s[i]))
        v = v * 10 + (s[i++] - '0');
    if (i < min) return 0;
    *out = v;
    return i;
}

static size_t name_match(const char *s, size_t n, const char *const *names, size_t count,
                         size_t prefix, int64_t *idx)
{
    for (size_t k = 0; k < count; k++) {
        size_t l = prefix ? prefix : strlen(names[k]);
        if (l <= n && !strncasecmp(s, names[k], l)) {
            *idx = (int64_t)k;
            return l;
        }
    }
    return 0;
}

static int starts(const char *l, const char *tok)
{
    return !strncmp(l, tok, strlen(tok));
}

/* Parses a numeric zone offset: style 'Z' allows a literal Z (UTC). colon
 * and secs describe the layout's form. Returns bytes consumed or 0. */
static size_t zone(const char *s, size_t n, int allow_z, int colon, int has_min, int has_sec,
                   int64_t *off)
{
    if (allow_z && n >= 1 && s[0] == 'Z') {
        *off = 0;
        return 1;
    }
    if (n < 3 || (s[0] != '+' && s[0] != '-')) return 0;
    int64_t h = 0, m = 0, sec = 0;
    size_t i = 1;
    if (num(s + i, n - i, 2, 2, &h) != 2) return 0;
    i += 2;
    if (has_min) {
        if (colon) {
            if (i >= n || s[i] != ':') return 0;
            i++;
        }
        if (num(s + i, n - i, 2, 2, &m) != 2) return 0;
        i += 2;
    }
    if (has_sec) {
        if (colon) {
            if (i >= n || s[i] != ':') return 0;
            i++;
        }
        if (num(s + i, n - i, 2, 2, &sec) != 2) return 0;
        i += 2;
    }
    *off = (h * 3600 + m * 60 + sec) * (s[0] == '-' ? -1 : 1);
    return i;
}

static size_t frac(const char *s, size_t n, int64_t *nsec)
{
    if (n < 2 || (s[0] != '.' && s[0] != ',') || !isdigit((unsigned char)s[1])) return 0;
    size_t i = 1;
    int64_t v = 0, digits = 0;
    while (i < n && isdigit((unsigned char)s[i])) {
        if (digits < 9) {
            v = v * 10 + (s[i] - '0');
            digits++;
        }
        i++;
    }
    while (digits++ < 9)
        v *= 10;
    *nsec = v;
    return i;
}

/* 1 when the layout continues with a fractional-second chunk (.000/.999). */
static int frac_next(const char *l)
{
    if ((l[0] != '.' && l[0] != ',') || (l[1] != '0' && l[1] != '9')) return 0;
    size_t m = 1;
    while (l[m] == l[1])
        m++;
    return !isdigit((unsigned char)l[m]);
}

static int go_layout_parse(const char *l, const char *s, size_t n, int64_t *ns)
{
    struct tm_parts t = {.year = 1970, .month = 1, .day = 1, .yday = -1};
    size_t i = 0; /* position in s */
    int64_t v;
    size_t k;
    while (*l) {
        const char *rest = s + i;
        size_t rn = n - i;
        k = 0;
        if (starts(l, "January")) {
            if (!(k = name_match(rest, rn, months, 12, 0, &v))) return SL_EINVAL;
            t.month = v + 1, l += 7;
        } else if (starts(l, "Jan")) {
            if (!(k = name_match(rest, rn, months, 12, 3, &v))) return SL_EINVAL;
            t.month = v + 1, l += 3;
        } else if (starts(l, "Monday")) {
            if (!(k = name_match(rest, rn, days, 7, 0, &v))) return SL_EINVAL;
            l += 6;
        } else if (starts(l, "Mon")) {
            if (!(k = name_match(rest, rn, days, 7, 3, &v))) return SL_EINVAL;
            l += 3;
        } else if (starts(l, "MST")) {
            while (k < rn && k < 5 && isalpha((unsigned char)rest[k]))
                k++;
            if (k < 3) return SL_EINVAL;
            l += 3;
        } else if (starts(l, "2006")) {
            if (!(k = num(rest, rn, 4, 4, &t.year))) return SL_EINVAL;
            l += 4;
        } else if (starts(l, "002")) {
            if (!(k = num(rest, rn, 3, 3, &t.yday))) return SL_EINVAL;
            l += 3;
        } else if (starts(l, "01")) {
            if (!(k = num(rest, rn, 2, 2, &t.month))) return SL_EINVAL;
            l += 2;
        } else if (starts(l, "02")) {
            if (!(k = num(rest, rn, 2, 2, &t.day))) return SL_EINVAL;
            l += 2;
        } else if (starts(l, "03")) {
            if (!(k = num(rest, rn, 2, 2, &t.hour))) return SL_EINVAL;
            t.hour12 = 1, l += 2;
        } else if (starts(l, "04")) {
            if (!(k = num(rest, rn, 2, 2, &t.min))) return SL_EINVAL;
            l += 2;
        } else if (starts(l, "05")) {
            if (!(k = num(rest, rn, 2, 2, &t.sec))) return SL_EINVAL;
            l += 2;
            if (!frac_next(l)) k += frac(rest + k, rn - k, &t.nsec);
        } else if (starts(l, "06")) {
            if (!(k = num(rest, rn, 2, 2, &t.year))) return SL_EINVAL;
            t.year += t.year >= 69 ? 1900 : 2000;
            l += 2;
        } else if (starts(l, "15")) {
            if (!(k = num(rest, rn, 1, 2, &t.hour))) return SL_EINVAL;
            l += 2;
        } else if (starts(l, "__2")) {
            while (k < rn && k < 2 && rest[k] == ' ')
                k++;
            size_t d = num(rest + k, rn - k, 1, 3, &t.yday);
            if (!d) return SL_EINVAL;
            k += d, l += 3;
        } else if (starts(l, "_2")) {
            if (rn && rest[0] == ' ') k = 1;
            size_t d = num(rest + k, rn - k, 1, 2, &t.day);
            if (!d) return SL_EINVAL;
            k += d, l += 2;
        } else if (*l == '1') {
            if (!(k = num(rest, rn, 1, 2, &t.month))) return SL_EINVAL;
            l += 1;
        } else if (*l == '2') {
            if (!(k = num(rest, rn, 1, 2, &t.day))) return SL_EINVAL;
            l += 1;
        } else if (*l == '3') {
            if (!(k = num(rest, rn, 1, 2, &t.hour))) return SL_EINVAL;
            t.hour12 = 1, l += 1;
        } else if (*l == '4') {
            if (!(k = num(rest, rn, 1, 2, &t.min))) return SL_EINVAL;
            l += 1;
        } else if (*l == '5') {
            if (!(k = num(rest, rn, 1, 2, &t.sec))) return SL_EINVAL;
            l += 1;
            if (!frac_next(l)) k += frac(rest + k, rn - k, &t.nsec);
        } else if (starts(l, "PM") || starts(l, "pm")) {
            if (rn < 2) return SL_EINVAL;
            if (!strncasecmp(rest, "PM", 2))
                t.pm = 1;
            else if (strncasecmp(rest, "AM", 2))
                return SL_EINVAL;
            t.has_pm = 1, k = 2, l += 2;
        } else if (*l == '-' || *l == 'Z') {
            int allow_z = *l == 'Z';
            const char *z = l + 1;
            int colon = 0, hm = 0, hs = 0;
            size_t ll = 0;
            if (starts(z, "07:00:00"))
                colon = hm = hs = 1, ll = 8;
            else if (starts(z, "070000"))
                hm = hs = 1, ll = 6;
            else if (starts(z, "07:00"))
                colon = hm = 1, ll = 5;
            else if (starts(z, "0700"))
                hm = 1, ll = 4;
            else if (starts(z, "07"))
                ll = 2;
            if (ll) {
                if (!(k = zone(rest, rn, allow_z, colon, hm, hs, &t.offset_s))) return SL_EINVAL;
                l += 1 + ll;
            } else {
                if (!rn || rest[0] != *l) return SL_EINVAL;
                k = 1, l += 1;
            }
        } else if ((*l == '.' || *l == ',') && (l[1] == '0' || l[1] == '9')) {
            char c = l[1];
            size_t m = 1;
            while (l[m] == c)
                m++;
            if (isdigit((unsigned char)l[m])) {
                if (!rn || rest[0] != *l) return SL_EINVAL; /* literal */
                k = 1, l += 1;
            } else {
                k = frac(rest, rn, &t.nsec);
                if (!k && c == '0') return SL_EINVAL; /* .000 requires digits */
                l += m;
            }
        } else {
            if (!rn || rest[0] != *l) return SL_EINVAL;
            k = 1, l += 1;
        }
        i += k;
    }
    if (i != n) return SL_EINVAL;
    if (t.hour12 || t.has_pm) {
        if (t.hour < 1 || t.hour > 12) return SL_EINVAL;
        if (t.hour == 12) t.hour = 0;
        if (t.pm) t.hour += 12;
    }
    if (t.yday >= 1) {
        if (t.yday > 366) return SL_EINVAL;
        int64_t base = days_from_civil(t.year, 1, 1) + t.yday - 1;
        *ns =
            (((base * 24 + t.hour) * 60 + t.min) * 60 + t.sec - t.offset_s) * SL_NS_PER_S + t.nsec;
        return 0;
    }
    if (t.month < 1 || t.month > 12 || t.day < 1 || t.day > 31 || t.hour > 23 || t.min > 59 ||
        t.sec > 60)
        return SL_EINVAL;
    if (t.year < 1 || t.year > 2262) return SL_ERANGE;
    int64_t d = days_from_civil(t.year, t.month, t.day);
    *ns = (((d * 24 + t.hour) * 60 + t.min) * 60 + t.sec - t.offset_s) * SL_NS_PER_S + t.nsec;
    return 0;
}

static int64_t unix_unit(const char *layout)
{
    if (!strcmp(layout, "unix")) return SL_NS_PER_S;
    if (!strcmp(layout, "unix_ms")) return SL_NS_PER_MS;
    if (!strcmp(layout, "unix_us")) return SL_NS_PER_US;
    if (!strcmp(layout, "unix_ns")) return 1;
    return 0;
}

int parser_time_parse_int(const char *layout, int64_t v, int64_t *ns)
{
    int64_t unit = unix_unit(layout);
    if (!unit) return SL_EINVAL;
    if (v > INT64_MAX / unit || v < INT64_MIN / unit) return SL_ERANGE;
    *ns = v * unit;
    return 0;
}

int parser_time_parse_number(const char *layout, double v, int64_t *ns)
{
    int64_t unit = unix_unit(layout);
    if (!unit || !isfinite(v)) return SL_EINVAL;
    double r = v * (double)unit;
    if (r > 9.2e18 || r < -9.2e18) return SL_ERANGE;
    *ns = (int64_t)llround(r);
    return 0;
}

int parser_time_parse(const char *layout, const char *s, size_t n, int64_t *ns)
{
    if (!layout || !*layout) return SL_EINVAL;
    if (unix_unit(layout)) {
        char tmp[64];
        if (n == 0 || n >= sizeof(tmp)) return SL_EINVAL;
        memcpy(tmp, s, n);
        tmp[n] = '\0';
        char *end;
        if (unix_unit(layout) == 1 && !strchr(tmp, '.') && !strchr(tmp, 'e')) {
            long long x = strtoll(tmp, &end, 10);
            if (*end) return SL_EINVAL;
            *ns = x;
            return 0;
        }
        double d = strtod(tmp, &end);
        if (*end || end == tmp) return SL_EINVAL;
        return parser_time_parse_number(layout, d, ns);
    }
    static const struct {
        const char *name, *layout;
    } named[] = {
        {"RFC3339", "2006-01-02T15:04:05Z07:00"},
        {"RFC3339Nano", "2006-01-02T15:04:05.999999999Z07:00"},
        {"RFC1123", "Mon, 02 Jan 2006 15:04:05 MST"},
        {"RFC1123Z", "Mon, 02 Jan 2006 15:04:05 -0700"},
        {"RFC822", "02 Jan 06 15:04 MST"},
        {"RFC822Z", "02 Jan 06 15:04 -0700"},
        {"ANSIC", "Mon Jan _2 15:04:05 2006"},
        {"UnixDate", "Mon Jan _2 15:04:05 MST 2006"},
        {"Stamp", "Jan _2 15:04:05"},
        {"DateTime", "2006-01-02 15:04:05"},
    };
    for (size_t i = 0; i < sizeof(named) / sizeof(named[0]); i++)
        if (!strcmp(layout, named[i].name)) return go_layout_parse(named[i].layout, s, n, ns);
    return go_layout_parse(layout, s, n, ns);
}
