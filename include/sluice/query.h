/*
 * sluice/query.h — the query helper of libsluice: runs one query over HTTP
 * and returns the response body as the server produced it (the CLI prints it).
 *
 *   SL_QUERY_SQL        GET /api/v3/query_sql?db=&q=&format=
 *   SL_QUERY_INFLUXQL   GET /api/v3/query_influxql?db=&q=&format=
 *   SL_QUERY_V1         GET /query?db=&q=  (InfluxDB 1.x, InfluxQL; format
 *                       "csv" asks for CSV with Accept: application/csv,
 *                       anything else gives 1.x JSON)
 */
#ifndef SLUICE_QUERY_H
#define SLUICE_QUERY_H

#include <sluice/sluice.h>

#ifdef __cplusplus
extern "C" {
#endif

enum sl_query_kind { SL_QUERY_SQL = 0, SL_QUERY_INFLUXQL = 1, SL_QUERY_V1 = 2 };

struct sl_query_opts {
    const char *url;   /* server base URL (required) */
    const char *token; /* "Authorization: Bearer" (v3) / "Token" (v1); NULL = none */
    const char *db;    /* required */
    enum sl_query_kind kind;
    const char *format; /* v3: json, jsonl, csv, pretty, parquet; NULL = json */
    const char *epoch;  /* v1 only: ns,u,ms,s,m,h; NULL = RFC 3339 times */
    int timeout_ms;     /* 0 = 300000 */
    size_t max_body;    /* cap on the response body; 0 = 1 GiB */
};

/* Runs query q. When a response arrives, *status is its HTTP status and *body
 * (NUL-terminated, owned by the caller: sl_free) / *len hold its body, whatever
 * the status. After a transport error *status is 0 and *body holds curl's
 * message; after an argument error *body is NULL. Returns 0 for a 2xx answer; SL_EPERM
 * (401/403), SL_ENOENT (404), SL_EINVAL (other 4xx, or bad opts), SL_ETOOBIG
 * (body over max_body), SL_EIO (5xx, network), SL_ENOMEM. */
int sl_query_run(const struct sl_query_opts *o, const char *q, long *status, char **body,
                 size_t *len);

#ifdef __cplusplus
}
#endif

#endif
