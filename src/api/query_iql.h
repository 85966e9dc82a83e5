/*
 * query_iql.h — what the two InfluxQL endpoints (v1 /query in query_v1.c,
 * v3 /api/v3/query_influxql in query_influxql.c) share: running a query
 * text with the caller's permissions, and decoding bound parameters.
 */
#ifndef SL_API_QUERY_IQL_H
#define SL_API_QUERY_IQL_H

#include "api/api.h"
#include "query/influxql/exec.h"

/* Parses and runs q; results (one per statement) live in ar. Returns 0, or
 * SL_EINVAL for a parse error (perr filled), or SL_ENOMEM. */
int api_iql_run(struct api_server *s, const struct api_auth *a, const char *q, const char *db,
                const char *rp, const struct iql_param *params, size_t nparams, struct sl_arena *ar,
                struct iql_result **res, size_t *nres, struct iql_error *perr);

/* Decodes a JSON object of bound parameters. SL_EINVAL (err filled) or SL_ENOMEM. */
int api_iql_params(const char *json, size_t len, struct sl_arena *a, struct iql_param **out,
                   size_t *n, char *err, size_t errcap);

#endif
