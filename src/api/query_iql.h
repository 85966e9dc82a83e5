/*
 * query_iql.h — what the two InfluxQL endpoints (v1 /query in query_v1.c,
 * v3 /api/v3/query_influxql in query_influxql.c) share (query_iql.c):
 * decoding bound parameters and running a query text with the caller's
 * permissions.
 */
#ifndef SL_API_QUERY_IQL_H
#define SL_API_QUERY_IQL_H

#include "api/api.h"
#include "query/influxql/exec.h"

/* Decodes the bound parameters params_json (a JSON object; NULL or "" for
 * none), then parses and runs q with a's permissions; the results (one per
 * statement, each with its own error if it failed) live in ar. Returns 0, or
 * a negative SL_* code after answering resp with a 400 (bad parameters, a
 * parse error, the memory limit). */
int api_iql_execute(struct api_server *s, const struct api_auth *a, const char *q, const char *db,
                    const char *rp, const char *params_json, struct sl_arena *ar,
                    struct http_resp *resp, struct iql_result **res, size_t *nres);

#endif
