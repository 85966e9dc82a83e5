/*
 * query_sql.c — GET/POST /api/v3/query_sql: InfluxDB 3's SQL endpoint.
 *
 * GET takes db, q, format and params (a JSON object) from the query string;
 * POST takes a JSON body {"db","q","format","params"} (query-string values
 * fill what the body leaves out). format is json (default), jsonl, csv,
 * pretty or parquet (query/output/qout.h). The caller needs read permission
 * on the database. Errors are {"error": "..."}: 400 for a bad request or a
 * wrong query (the message names the problem), 401/403 for credentials,
 * 404 for an unknown database, 500 when stored data cannot be read.
 */
#include <jansson.h>
#include <stdio.h>
#include <string.h>

#include "api/api.h"
#include "common/err.h"
#include "common/mem.h"
#include "query/sql/sql.h"

#define QUERY_SQL_MAX_PARAMS 1000
#define QUERY_SQL_MAX_RESULT ((size_t)2 << 30)

/* Converts a JSON params object; returns 0 or a 400 already set. */
static int parse_params(json_t *obj, struct sql_param **out, size_t *n, struct http_resp *resp)
{
    *out = NULL;
    *n = 0;
    if (!obj || json_is_null(obj)) return 0;
    if (!json_is_object(obj)) {
        http_resp_error(resp, 400, "params must be a JSON object of name: value");
        return -1;
    }
    size_t cnt = json_object_size(obj);
    if (cnt > QUERY_SQL_MAX_PARAMS) {
        http_resp_error(resp, 400, "too many params");
        return -1;
    }
    struct sql_param *p = sl_calloc(cnt ? cnt : 1, sizeof(*p));
    if (!p) {
        http_resp_error(resp, 500, "out of memory");
        return -1;
    }
    const char *key;
    json_t *v;
    size_t i = 0;
    json_object_foreach(obj, key, v)
    {
        struct sql_param *q = &p[i++];
        q->name = key[0] == '$' ? key + 1 : key;
        if (json_is_integer(v)) {
            q->v.type = QOUT_INT;
            q->v.v.i = json_integer_value(v);
        } else if (json_is_real(v)) {
            q->v.type = QOUT_FLOAT;
            q->v.v.f = json_real_value(v);
        } else if (json_is_boolean(v)) {
            q->v.type = QOUT_BOOL;
            q->v.v.b = json_is_true(v);
        } else if (json_is_string(v)) {
            q->v.type = QOUT_STRING;
            q->v.v.s.ptr = json_string_value(v);
            q->v.v.s.len = json_string_length(v);
        } else if (json_is_null(v)) {
            q->v.type = QOUT_NULL;
        } else {
            char msg[300];
            snprintf(msg, sizeof(msg), "param \"%.200s\" must be a number, string, boolean or null",
                     key);
            http_resp_error(resp, 400, msg);
            sl_free(p);
            return -1;
        }
    }
    *out = p;
    *n = i;
    return 0;
}

static const char *body_str(json_t *body, const char *key, struct http_req *req)
{
    json_t *v = body ? json_object_get(body, key) : NULL;
    if (v && json_is_string(v)) return json_string_value(v);
    return http_query(req, key);
}

void api_query_sql(struct api_server *s, struct http_req *req, struct http_resp *resp)
{
    json_t *body = NULL, *pj = NULL;
    struct sql_param *params = NULL;
    size_t nparams = 0;
    if (!strcmp(req->method, "POST") && req->body.len) {
        if (!(body = api_json_body(req, resp, API_V3))) return;
    }
    const char *db = body_str(body, "db", req), *q = body_str(body, "q", req);
    const char *fmt = body_str(body, "format", req);
    struct api_auth a;
    api_authenticate(s, req, &a);
    if (!a.ok) {
        api_unauthorized(resp, API_V3);
        goto out;
    }
    if (!db || !*db) {
        http_resp_error(resp, 400, "missing required parameter \"db\"");
        goto out;
    }
    if (!q || !*q) {
        http_resp_error(resp, 400, "missing required parameter \"q\"");
        goto out;
    }
    if (!api_allowed(s, &a, db, strlen(db), TOKEN_READ)) {
        api_forbidden(resp, API_V3, db);
        goto out;
    }
    enum qout_format f = QOUT_JSON;
    if (fmt && *fmt && qout_format_parse(fmt, &f) < 0) {
        char msg[300];
        snprintf(msg, sizeof(msg),
                 "invalid format \"%.100s\": use json, jsonl, csv, pretty or parquet", fmt);
        http_resp_error(resp, 400, msg);
        goto out;
    }
    json_t *pv = body ? json_object_get(body, "params") : NULL;
    if (!pv) {
        const char *ps = http_query(req, "params");
        if (ps && *ps) {
            json_error_t je;
            pj = json_loads(ps, 0, &je);
            if (!pj) {
                char msg[300];
                snprintf(msg, sizeof(msg), "params is not valid JSON: %s", je.text);
                http_resp_error(resp, 400, msg);
                goto out;
            }
            pv = pj;
        }
    }
    if (parse_params(pv, &params, &nparams, resp) < 0) goto out;
    struct sql_request r = {
        .db = db, .q = q, .qlen = strlen(q), .format = f, .params = params, .nparams = nparams};
    char err[1024];
    resp->body.max = QUERY_SQL_MAX_RESULT;
    int rc = sql_execute(s->eng, &r, &resp->body, err, sizeof(err));
    if (rc < 0) {
        sl_buf_reset(&resp->body);
        int status = 500;
        switch (rc) {
        case SL_EINVAL: status = 400; break;
        case SL_ENOENT: status = 404; break;
        case SL_ETOOBIG: status = 413; break;
        case SL_EBUSY: status = 503; break;
        }
        http_resp_error(resp, status, err);
        goto out;
    }
    resp->status = 200;
    resp->content_type = qout_content_type(f);
out:
    sl_free(params);
    if (pj) json_decref(pj);
    if (body) json_decref(body);
}
