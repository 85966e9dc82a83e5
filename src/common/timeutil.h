/*
 * timeutil.h — wall-clock and monotonic time, RFC 3339 and duration parsing.
 * Timestamps are int64 nanoseconds since the Unix epoch throughout sluice.
 */
#ifndef SL_COMMON_TIMEUTIL_H
#define SL_COMMON_TIMEUTIL_H

#include <stddef.h>
#include <stdint.h>

#define SL_NS_PER_US 1000LL
#define SL_NS_PER_MS 1000000LL
#define SL_NS_PER_S  1000000000LL

int64_t sl_now_ns(void);  /* CLOCK_REALTIME */
int64_t sl_mono_ns(void); /* CLOCK_MONOTONIC */

/* Formats ns as RFC 3339 with the shortest exact fraction
 * (2024-01-02T03:04:05.5Z), as InfluxDB 1.x does. Writes at most 40 bytes,
 * returns the length. */
size_t sl_time_format_rfc3339(int64_t ns, char *out);

/* Parses RFC 3339 / ISO 8601 ("2024-12-19T10:00:00Z", with fraction and
 * offset, or date only, or "2024-12-19 10:00:00"). Returns 0 or SL_EINVAL. */
int sl_time_parse_rfc3339(const char *s, size_t n, int64_t *ns);

/* Parses a duration such as "30d", "1h30m", "500ms", "1w", "inf", "0" into
 * ns. Units: ns, u/us/µs, ms, s, m, h, d, w (and y = 365d when allow_years).
 * Returns 0, SL_EINVAL or SL_ERANGE. "inf" gives 0 (no limit). */
int sl_duration_parse(const char *s, size_t n, int64_t *ns);

/* Formats a duration the way InfluxDB 1.x does ("168h0m0s", "0s"). */
size_t sl_duration_format(int64_t ns, char *out, size_t cap);

#endif
