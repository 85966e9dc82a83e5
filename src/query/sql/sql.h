/*
 * sql.h — the SQL query engine (InfluxDB 3's /api/v3/query_sql), built on
 * SQLite with one virtual table per measurement over the write buffer and
 * the Parquet files (docs/sql.md).
 *
 * Each query runs on its own in-memory SQLite connection that sees only the
 * database it names: the tables it mentions are created as virtual tables
 * over the catalog's measurements, and information_schema is filled when it
 * is used. The connection is read-only for the user's SQL (an authorizer
 * allows SELECT and functions, nothing that writes, attaches or pragmas).
 */
#ifndef SL_QUERY_SQL_SQL_H
#define SL_QUERY_SQL_SQL_H

#include <stddef.h>
#include <stdint.h>

#include "common/buf.h"
#include "query/output/qout.h"

struct engine;

/* A query parameter: $name in the SQL (also :name, @name). */
struct sql_param {
    const char *name;    /* without the sigil */
    struct qout_value v; /* QOUT_NULL, INT, FLOAT, BOOL (as integer 0/1) or STRING */
};

struct sql_request {
    const char *db; /* database name (NUL-terminated) */
    const char *q;
    size_t qlen;
    enum qout_format format;
    const struct sql_param *params;
    size_t nparams;
    int64_t now_ns;     /* value of now(); 0 = the current time */
    int64_t timeout_ms; /* 0 = SQL_DEFAULT_TIMEOUT_MS */
};

#define SQL_DEFAULT_TIMEOUT_MS (300 * 1000)

/* Runs one statement and appends the encoded result to out. Returns 0,
 * SL_ENOENT (no such database), SL_EINVAL (the query is wrong: syntax, unknown
 * table or column, bad interval, missing parameter, a function's error),
 * SL_EBUSY (timed out), SL_ETOOBIG (result over out's cap), or SL_EIO / SL_ECORRUPT
 * (a file could not be read). err gets a lower-case message in every case. */
int sql_execute(struct engine *e, const struct sql_request *r, struct sl_buf *out, char *err,
                size_t errlen);

#endif
