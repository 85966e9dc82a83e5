/*
 * sluice/sluice.h — libsluice, the sluice client library: common definitions.
 *
 * libsluice builds points, serializes them as InfluxDB line protocol and
 * delivers them in batches over HTTP to sluice or any InfluxDB-compatible
 * server (1.x /write, 2.x /api/v2/write, 3.x /api/v3/write_lp), with retry,
 * 413 splitting and honest drop reporting. It also runs queries for the CLI.
 *
 *   #include <sluice/point.h>   point builder
 *   #include <sluice/writer.h>  batching writer
 *   #include <sluice/query.h>   query helper
 *
 * Return codes
 * ------------
 * Every function that can fail returns int: 0 on success, a negative SL_E*
 * code on failure (sluice/errors.h, shared with sluice's own code).
 * sl_strerror() describes a code.
 *
 * Memory
 * ------
 * Memory that a function hands to the caller (serialized lines, query bodies)
 * is released with sl_free(). Handles are released with their own *_free().
 */
#ifndef SLUICE_SLUICE_H
#define SLUICE_SLUICE_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#include "sluice/errors.h"

/* Returns a static, lower-case description of rc (never NULL). */
const char *sl_strerror(int rc);

/* Releases memory that libsluice handed to the caller. NULL is allowed. */
void sl_free(void *p);

/* Timestamp precision of line protocol on the wire. Point times are always
 * given in nanoseconds; the writer converts them to this unit. Raw lines
 * passed to the writer are sent as they are and must already be in it. */
enum sl_precision {
    SL_PREC_DEFAULT = 0, /* send no precision parameter: the server's default
                            (ns for v1/v2, auto for v3); points are written in ns */
    SL_PREC_NS,
    SL_PREC_US,
    SL_PREC_MS,
    SL_PREC_S,
};

/* Parses "ns"/"n", "us"/"u", "ms", "s" and "default"/"auto".
 * Returns 0 or SL_EINVAL (out untouched). */
int sl_precision_parse(const char *s, enum sl_precision *out);

/* Which write API the writer speaks. */
enum sl_api {
    SL_API_V1 = 1, /* POST /write?db=&rp=&precision=n|u|ms|s      (InfluxDB 1.x) */
    SL_API_V2 = 2, /* POST /api/v2/write?bucket=&org=&precision=  (InfluxDB 2.x) */
    SL_API_V3 = 3, /* POST /api/v3/write_lp?db=&precision=        (InfluxDB 3.x) */
};

#ifdef __cplusplus
}
#endif

#endif
