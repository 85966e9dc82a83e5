/*
 * funcs.c — the SQL functions InfluxDB 3 users write, on int64-nanosecond
 * timestamps (the rewriter turns INTERVAL literals into nanoseconds):
 *
 *   now()                          the statement's start time (one value per query)
 *   date_bin(stride, t [, origin]) start of t's bin of width stride, bins aligned
 *                                  to origin (default 1970-01-01T00:00:00Z)
 *   date_trunc(unit, t)            t truncated to second, minute, hour, day, week
 *                                  (Monday), month, quarter or year (UTC)
 *   date_part(part, t)             year, month, day, hour, minute, second, dow, doy,
 *                                  epoch (seconds)
 *   to_timestamp(x)                text (RFC 3339) or seconds → ns
 *   to_timestamp_seconds/_millis/_micros/_nanos(x)
 *
 * Every function takes a timestamp as an integer (ns) or an RFC 3339 string.
 */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "common/err.h"
#include "common/timeutil.h"
#include "query/sql/sql_int.h"

#define NS_DAY (86400LL * SL_NS_PER_S)

/* Reads a timestamp argument; returns 1 (ok), 0 (NULL) or -1 (error set). */
static int arg_time(sqlite3_context *cx, sqlite3_value *v, const char *fn, int64_t *out)
{
    switch (sqlite3_value_type(v)) {
    case SQLITE_NULL: return 0;
    case SQLITE_INTEGER: *out = sqlite3_value_int64(v); return 1;
    case SQLITE_FLOAT: *out = (int64_t)sqlite3_value_double(v); return 1;
    default: {
        const char *s = (const char *)sqlite3_value_text(v);
        int n = sqlite3_value_bytes(v);
        if (s && sl_time_parse_rfc3339(s, (size_t)n, out) == 0) return 1;
        char msg[200];
        snprintf(msg, sizeof(msg), "%s: '%.80s' is not a timestamp", fn, s ? s : "");
        sqlite3_result_error(cx, msg, -1);
        return -1;
    }
    }
}

static void fn_now(sqlite3_context *cx, int argc, sqlite3_value **argv)
{
    (void)argc, (void)argv;
    sqlite3_result_int64(cx, *(int64_t *)sqlite3_user_data(cx));
}

static int64_t floor_div(int64_t a, int64_t b)
{
    int64_t q = a / b;
    if ((a % b != 0) && ((a < 0) != (b < 0))) q--;
    return q;
}

static void fn_date_bin(sqlite3_context *cx, int argc, sqlite3_value **argv)
{
    if (sqlite3_value_type(argv[0]) != SQLITE_INTEGER || sqlite3_value_int64(argv[0]) <= 0) {
        if (sqlite3_value_type(argv[0]) == SQLITE_NULL) return;
        sqlite3_result_error(cx,
                             "date_bin: the stride must be a positive INTERVAL, e.g. "
                             "INTERVAL '5 minutes'",
                             -1);
        return;
    }
    int64_t stride = sqlite3_value_int64(argv[0]), t, origin = 0;
    int r = arg_time(cx, argv[1], "date_bin", &t);
    if (r <= 0) return;
    if (argc > 2 && (r = arg_time(cx, argv[2], "date_bin", &origin)) <= 0) return;
    __int128 d = (__int128)t - origin;
    __int128 q = d / stride;
    if (d % stride != 0 && d < 0) q--;
    __int128 res = (__int128)origin + q * stride;
    if (res < INT64_MIN || res > INT64_MAX) {
        sqlite3_result_error(cx, "date_bin: result out of range", -1);
        return;
    }
    sqlite3_result_int64(cx, (int64_t)res);
}

/* Civil date from days since 1970-01-01 (Howard Hinnant's algorithm). */
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

static int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    unsigned yoe = (unsigned)(y - era * 400);
    unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
    unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (int64_t)doe - 719468;
}

static void fn_date_trunc(sqlite3_context *cx, int argc, sqlite3_value **argv)
{
    (void)argc;
    const char *u = (const char *)sqlite3_value_text(argv[0]);
    int64_t t;
    if (!u || arg_time(cx, argv[1], "date_trunc", &t) <= 0) return;
    int64_t step = 0;
    if (!strcasecmp(u, "microsecond") || !strcasecmp(u, "microseconds"))
        step = 1000;
    else if (!strcasecmp(u, "millisecond") || !strcasecmp(u, "milliseconds"))
        step = SL_NS_PER_MS;
    else if (!strcasecmp(u, "second"))
        step = SL_NS_PER_S;
    else if (!strcasecmp(u, "minute"))
        step = 60 * SL_NS_PER_S;
    else if (!strcasecmp(u, "hour"))
        step = 3600 * SL_NS_PER_S;
    else if (!strcasecmp(u, "day"))
        step = NS_DAY;
    if (step) {
        sqlite3_result_int64(cx, floor_div(t, step) * step);
        return;
    }
    int64_t days = floor_div(t, NS_DAY), y;
    unsigned m, d;
    if (!strcasecmp(u, "week")) { /* ISO weeks start on Monday; 1970-01-05 was one */
        sqlite3_result_int64(cx, (floor_div(days - 4, 7) * 7 + 4) * NS_DAY);
        return;
    }
    civil_from_days(days, &y, &m, &d);
    if (!strcasecmp(u, "month"))
        days = days_from_civil(y, m, 1);
    else if (!strcasecmp(u, "quarter"))
        days = days_from_civil(y, (m - 1) / 3 * 3 + 1, 1);
    else if (!strcasecmp(u, "year"))
        days = days_from_civil(y, 1, 1);
    else {
        char msg[160];
        snprintf(msg, sizeof(msg), "date_trunc: unknown unit '%.40s'", u);
        sqlite3_result_error(cx, msg, -1);
        return;
    }
    sqlite3_result_int64(cx, days * NS_DAY);
}

static void fn_date_part(sqlite3_context *cx, int argc, sqlite3_value **argv)
{
    (void)argc;
    const char *p = (const char *)sqlite3_value_text(argv[0]);
    int64_t t;
    if (!p || arg_time(cx, argv[1], "date_part", &t) <= 0) return;
    int64_t days = floor_div(t, NS_DAY), y, in_day = t - days * NS_DAY;
    unsigned m, d;
    civil_from_days(days, &y, &m, &d);
    int64_t v;
    if (!strcasecmp(p, "year"))
        v = y;
    else if (!strcasecmp(p, "month"))
        v = m;
    else if (!strcasecmp(p, "day"))
        v = d;
    else if (!strcasecmp(p, "hour"))
        v = in_day / (3600 * SL_NS_PER_S);
    else if (!strcasecmp(p, "minute"))
        v = in_day / (60 * SL_NS_PER_S) % 60;
    else if (!strcasecmp(p, "second"))
        v = in_day / SL_NS_PER_S % 60;
    else if (!strcasecmp(p, "dow"))
        v = ((days % 7) + 11) % 7; /* 0 = Sunday */
    else if (!strcasecmp(p, "doy"))
        v = days - days_from_civil(y, 1, 1) + 1;
    else if (!strcasecmp(p, "epoch")) {
        sqlite3_result_double(cx, (double)t / 1e9);
        return;
    } else {
        char msg[160];
        snprintf(msg, sizeof(msg), "date_part: unknown part '%.40s'", p);
        sqlite3_result_error(cx, msg, -1);
        return;
    }
    sqlite3_result_int64(cx, v);
}

/* to_timestamp*: user data is the unit of numeric arguments in ns. */
static void fn_to_timestamp(sqlite3_context *cx, int argc, sqlite3_value **argv)
{
    (void)argc;
    int64_t unit = (int64_t)(intptr_t)sqlite3_user_data(cx);
    switch (sqlite3_value_type(argv[0])) {
    case SQLITE_NULL: return;
    case SQLITE_INTEGER: {
        int64_t v = sqlite3_value_int64(argv[0]);
        if (v > INT64_MAX / unit || v < INT64_MIN / unit) {
            sqlite3_result_error(cx, "to_timestamp: value out of range", -1);
            return;
        }
        sqlite3_result_int64(cx, v * unit);
        return;
    }
    case SQLITE_FLOAT: {
        double v = sqlite3_value_double(argv[0]) * (double)unit;
        if (!(v > -9.2e18 && v < 9.2e18)) {
            sqlite3_result_error(cx, "to_timestamp: value out of range", -1);
            return;
        }
        sqlite3_result_int64(cx, (int64_t)v);
        return;
    }
    default: {
        int64_t t;
        if (arg_time(cx, argv[0], "to_timestamp", &t) > 0) sqlite3_result_int64(cx, t);
    }
    }
}

int sql_functions_register(sqlite3 *db, int64_t *now_ns)
{
    const int det = SQLITE_UTF8 | SQLITE_DETERMINISTIC;
    int rc = sqlite3_create_function(db, "now", 0, SQLITE_UTF8, now_ns, fn_now, NULL, NULL);
    if (rc == SQLITE_OK)
        rc = sqlite3_create_function(db, "date_bin", 2, det, NULL, fn_date_bin, NULL, NULL);
    if (rc == SQLITE_OK)
        rc = sqlite3_create_function(db, "date_bin", 3, det, NULL, fn_date_bin, NULL, NULL);
    if (rc == SQLITE_OK)
        rc = sqlite3_create_function(db, "date_trunc", 2, det, NULL, fn_date_trunc, NULL, NULL);
    if (rc == SQLITE_OK)
        rc = sqlite3_create_function(db, "datetrunc", 2, det, NULL, fn_date_trunc, NULL, NULL);
    if (rc == SQLITE_OK)
        rc = sqlite3_create_function(db, "date_part", 2, det, NULL, fn_date_part, NULL, NULL);
    static const struct {
        const char *name;
        int64_t unit;
    } ts[] = {{"to_timestamp", SL_NS_PER_S},
              {"to_timestamp_seconds", SL_NS_PER_S},
              {"to_timestamp_millis", SL_NS_PER_MS},
              {"to_timestamp_micros", SL_NS_PER_US},
              {"to_timestamp_nanos", 1}};
    for (size_t i = 0; i < sizeof(ts) / sizeof(ts[0]) && rc == SQLITE_OK; i++)
        rc = sqlite3_create_function(db, ts[i].name, 1, det, (void *)(intptr_t)ts[i].unit,
                                     fn_to_timestamp, NULL, NULL);
    return rc == SQLITE_OK ? 0 : SL_ENOMEM;
}
