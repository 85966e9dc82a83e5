/*
 * qout.h — result encoders of the v3 query API (/api/v3/query_sql and
 * /api/v3/query_influxql), shared by the SQL and InfluxQL engines.
 *
 * Formats (InfluxDB 3's):
 *   json    a JSON array of row objects: [{"host":"a","time":"2024-12-19T10:00:00"},...];
 *           NULL values are left out of their object, as InfluxDB 3 does
 *   jsonl   one row object per line
 *   csv     RFC 4180: a header line, then one line per row; NULL is empty
 *   pretty  an ASCII table (+---+ borders), as the influxdb3 CLI prints
 *   parquet one Parquet file (our writer); column types are inferred from
 *           the values (timestamps → TIMESTAMP(NANOS), integers → INT64,
 *           reals or mixed numbers → DOUBLE, booleans → BOOLEAN, the rest →
 *           STRING); every column is nullable
 * Timestamps (QOUT_TIME) are written as RFC 3339 without a zone suffix and
 * with the shortest exact fraction ("2024-12-19T10:00:00",
 * "2024-12-19T10:00:00.5"), which is what InfluxDB 3 returns; they are UTC.
 * Floats are written with the fewest digits that read back to the same
 * double, with a ".0" when integral; NaN and infinities become null in
 * JSON (JSON has no spelling for them) and NaN/inf/-inf in CSV and pretty.
 *
 * json, jsonl and csv stream into the output buffer as rows arrive; pretty
 * and parquet keep the rows until qout_finish (bounded by QOUT_MAX_BUFFERED).
 */
#ifndef SL_QUERY_OUTPUT_QOUT_H
#define SL_QUERY_OUTPUT_QOUT_H

#include <stddef.h>
#include <stdint.h>

#include "common/buf.h"

#define QOUT_MAX_BUFFERED ((size_t)1 << 30) /* bytes kept for pretty/parquet */

enum qout_format { QOUT_JSON, QOUT_JSONL, QOUT_CSV, QOUT_PRETTY, QOUT_PARQUET };

enum qout_type { QOUT_NULL, QOUT_INT, QOUT_UINT, QOUT_FLOAT, QOUT_BOOL, QOUT_STRING, QOUT_TIME };

struct qout_value {
    enum qout_type type;
    union {
        int64_t i; /* INT, TIME (ns since the epoch) */
        uint64_t u;
        double f;
        int b;
        struct {
            const char *ptr;
            size_t len;
        } s;
    } v;
};

/* "json", "jsonl", "csv", "pretty", "parquet" (case-insensitive). Returns 0
 * or SL_EINVAL. */
int qout_format_parse(const char *s, enum qout_format *out);
const char *qout_format_name(enum qout_format f);
/* The Content-Type of a format (static string). */
const char *qout_content_type(enum qout_format f);

struct qout;

/* Starts encoding columns names[0..ncols) (copied) into out (borrowed; it
 * must outlive the encoder). Returns 0, SL_EINVAL or SL_ENOMEM. */
int qout_open(enum qout_format f, struct sl_buf *out, const char *const *names, size_t ncols,
              struct qout **q);
/* Appends one row of ncols values (strings are copied when kept). Returns 0,
 * SL_ENOMEM or SL_ETOOBIG (output cap). */
int qout_row(struct qout *q, const struct qout_value *vals);
/* Writes what is left (closing bracket, table, Parquet footer). */
int qout_finish(struct qout *q);
void qout_free(struct qout *q);
uint64_t qout_rows(const struct qout *q);

/* Formats a timestamp the way the encoders do; returns the length (< 48). */
size_t qout_time_format(int64_t ns, char *out);

#endif
