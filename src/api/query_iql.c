/*
 * query_iql.c — what the two InfluxQL endpoints (v1 /query in query_v1.c,
 * v3 /api/v3/query_influxql in query_influxql.c) share: decoding the bound
 * parameters (a JSON object), parsing and running the query text with the
 * caller's permissions, and the 400 answers for what fails before any
 * statement runs.
 */
#include <jansson.h>
#include <stdio.h>
#include <string.h>

#include "api/api.h"
#include "api/query_iql.h"
#include "common/err.h"
#include "common/mem.h"
#include "common/timeutil.h"

struct allow_ud {
    struct api_server *s;
    const struct api_auth *a;
};

static int allow_cb(void *ud, const char *db, int action)
{
    struct allow_ud *u = ud;
    return api_allowed(u->s, u->a, db, strlen(db), action == 2 ? TOKEN_WRITE : TOKEN_READ);
}

/* Decodes a JSON object of bound parameters. SL_EINVAL (err filled) or SL_ENOMEM. */
static int iql_params(const char *json, size_t len, struct sl_arena *a, struct iql_param **out,
                      size_t *n, char *err, size_t errcap)
{
    *out = NULL;
    *n = 0;
    json_error_t je;
    json_t *o = json_loadb(json, len, 0, &je);
    if (!o || !json_is_object(o)) {
        snprintf(err, errcap, "error parsing query parameters: %s", o ? "not an object" : je.text);
        json_decref(o);
        return SL_EINVAL;
    }
    size_t cnt = json_object_size(o), k = 0;
    struct iql_param *p = sl_arena_alloc(a, (cnt ? cnt : 1) * sizeof(*p));
    if (!p) {
        json_decref(o);
        return SL_ENOMEM;
    }
    const char *key;
    json_t *v;
    json_object_foreach(o, key, v)
    {
        p[k].name = sl_arena_strndup(a, key, strlen(key));
        memset(&p[k].val, 0, sizeof(p[k].val));
        if (json_is_string(v)) {
            p[k].val.kind = IQLV_STR;
            p[k].val.u.s = sl_arena_strndup(a, json_string_value(v), json_string_length(v));
            if (!p[k].val.u.s) p[k].name = NULL;
        } else if (json_is_integer(v)) {
            p[k].val.kind = IQLV_INT;
            p[k].val.u.i = json_integer_value(v);
        } else if (json_is_real(v)) {
            p[k].val.kind = IQLV_FLOAT;
            p[k].val.u.f = json_real_value(v);
        } else if (json_is_boolean(v)) {
            p[k].val.kind = IQLV_BOOL;
            p[k].val.u.b = json_is_true(v);
        } else {
            snprintf(err, errcap, "error parsing query parameters: unsupported type for %s", key);
            json_decref(o);
            return SL_EINVAL;
        }
        if (!p[k].name) {
            json_decref(o);
            return SL_ENOMEM;
        }
        k++;
    }
    json_decref(o);
    *out = p;
    *n = k;
    return 0;
}

/* Parses and runs q; results (one per statement) live in ar. Returns 0, or
 * SL_EINVAL for a parse error (perr filled), or SL_ENOMEM. */
static int iql_run(struct api_server *s, const struct api_auth *a, const char *q, const char *db,
                   const char *rp, const struct iql_param *params, size_t nparams,
                   struct sl_arena *ar, struct iql_result **res, size_t *nres,
                   struct iql_error *perr)
{
    struct iql_query *query;
    *res = NULL;
    *nres = 0;
    int rc = iql_parse(q, strlen(q), ar, &query, perr);
    if (rc < 0) return rc;
    struct iql_result *r = sl_arena_alloc(ar, (query->nstmts ? query->nstmts : 1) * sizeof(*r));
    if (!r) return SL_ENOMEM;
    struct allow_ud ud = {s, a};
    struct iql_exec_ctx x = {
        .eng = s->eng,
        .db = db && *db ? db : NULL,
        .rp = rp,
        .now_ns = sl_now_ns(),
        .params = params,
        .nparams = nparams,
        .allowed = allow_cb,
        .allowed_ud = &ud,
        .admin = a->grant.admin,
        .arena = ar,
    };
    for (size_t i = 0; i < query->nstmts; i++) {
        rc = iql_exec_stmt(&x, query->stmts[i], &r[i]);
        if (rc == SL_ENOMEM) {
            /* the arena is exhausted: later statements cannot run either */
            for (size_t j = i + 1; j < query->nstmts; j++) {
                memset(&r[j], 0, sizeof(r[j]));
                r[j].error = "query exceeded its memory limit";
            }
            break;
        }
    }
    *res = r;
    *nres = query->nstmts;
    return 0;
}

int api_iql_execute(struct api_server *s, const struct api_auth *a, const char *q, const char *db,
                    const char *rp, const char *params_json, struct sl_arena *ar,
                    struct http_resp *resp, struct iql_result **res, size_t *nres)
{
    struct iql_param *pv = NULL;
    size_t npv = 0;
    char perrmsg[300];
    *res = NULL;
    *nres = 0;
    if (params_json && *params_json) {
        int rc =
            iql_params(params_json, strlen(params_json), ar, &pv, &npv, perrmsg, sizeof(perrmsg));
        if (rc < 0) {
            http_resp_error(resp, 400, rc == SL_ENOMEM ? "out of memory" : perrmsg);
            return rc;
        }
    }
    struct iql_error perr;
    int rc = iql_run(s, a, q, db, rp, pv, npv, ar, res, nres, &perr);
    if (rc < 0)
        http_resp_error(resp, 400, rc == SL_EINVAL ? perr.msg : "query exceeded its memory limit");
    return rc;
}
