/*
 * query_v1.c — the v1 /query endpoint (GET and POST, parameters in the
 * query string or an x-www-form-urlencoded body), answered by the InfluxQL
 * parser (query/influxql/iql.h) and executor (query/influxql/exec.h).
 *
 * Parameters: q (required: 400 `missing required parameter "q"`), db, rp,
 * epoch (ns,u,µ,ms,s,m,h), pretty=true, chunked=true with chunk_size
 * (default 10000: newline-delimited JSON documents, one per chunk of rows,
 * "partial":true on series and results that continue), params (JSON object
 * of bound parameters), u/p (via api_authenticate). `Accept:
 * application/csv` (or text/csv) gives 1.x's CSV. A parse error is a 400
 * {"error":"error parsing query: ..."}; an error in one statement is HTTP
 * 200 with "error" in that statement's result. Reading needs read
 * permission on the database; CREATE/DROP DATABASE need an admin token.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "api/api.h"
#include "api/query_iql.h"
#include "common/err.h"
#include "common/mem.h"

#define QUERY_ARENA_MAX ((size_t)1 << 30)

/* Finds parameter key in an application/x-www-form-urlencoded body; the
 * value is decoded into out. */
static int form_value(const char *body, size_t len, const char *key, struct sl_buf *out)
{
    size_t kl = strlen(key);
    const char *p = body, *end = body + len;
    while (p < end) {
        const char *amp = memchr(p, '&', (size_t)(end - p));
        const char *pe = amp ? amp : end;
        if ((size_t)(pe - p) > kl && !strncmp(p, key, kl) && p[kl] == '=') {
            sl_buf_reset(out);
            if (sl_buf_add(out, p + kl + 1, (size_t)(pe - p - (ptrdiff_t)kl - 1)) < 0) return 0;
            out->len = http_url_decode(out->ptr, out->len, 1);
            out->ptr[out->len] = '\0';
            return 1;
        }
        p = pe + 1;
    }
    return 0;
}

static int truthy(const char *v)
{
    return v && (!strcasecmp(v, "true") || !strcmp(v, "1"));
}

static void write_chunked(struct sl_buf *b, const struct iql_result *r, size_t nres,
                          size_t chunk_size, int64_t div)
{
    for (size_t i = 0; i < nres; i++) {
        const struct iql_result *res = &r[i];
        if (res->error || res->nseries == 0) {
            sl_buf_adds(b, "{\"results\":[");
            iql_out_json_result(b, i, res, div);
            sl_buf_adds(b, "]}\n");
            continue;
        }
        for (size_t si = 0; si < res->nseries; si++) {
            const struct iql_series *s = &res->series[si];
            size_t r0 = 0;
            do {
                size_t r1 = s->nrows - r0 > chunk_size ? r0 + chunk_size : s->nrows;
                bool more_rows = r1 < s->nrows;
                bool more = more_rows || si + 1 < res->nseries;
                sl_buf_addf(b, "{\"results\":[{\"statement_id\":%zu,\"series\":[", i);
                iql_out_json_series(b, s, r0, r1, div, more_rows);
                sl_buf_adds(b, more ? "],\"partial\":true}]}\n" : "]}]}\n");
                r0 = r1;
            } while (r0 < s->nrows);
        }
    }
}

void api_query_v1(struct api_server *s, struct http_req *req, struct http_resp *resp)
{
    struct api_auth a;
    api_authenticate(s, req, &a);
    if (!a.ok) {
        api_unauthorized(resp, API_V1);
        return;
    }
    struct sl_buf qb, dbb, pb, epb;
    sl_buf_init(&qb, 0);
    sl_buf_init(&dbb, 0);
    sl_buf_init(&pb, 0);
    sl_buf_init(&epb, 0);
    struct sl_arena ar;
    sl_arena_init(&ar, QUERY_ARENA_MAX);
    const char *ct = http_header(req, "Content-Type");
    bool form = req->body.len && (!ct || strstr(ct, "x-www-form-urlencoded"));
    const char *q = http_query(req, "q");
    if (!q && form && form_value(req->body.ptr, req->body.len, "q", &qb)) q = qb.ptr;
    const char *db = http_query(req, "db");
    if (!db && form && form_value(req->body.ptr, req->body.len, "db", &dbb)) db = dbb.ptr;
    const char *params = http_query(req, "params");
    if (!params && form && form_value(req->body.ptr, req->body.len, "params", &pb)) params = pb.ptr;
    const char *epoch = http_query(req, "epoch");
    if (!epoch && form && form_value(req->body.ptr, req->body.len, "epoch", &epb)) epoch = epb.ptr;
    const char *rp = http_query(req, "rp");
    if (!q || !*q) {
        http_resp_error(resp, 400, "missing required parameter \"q\"");
        goto out;
    }
    int64_t div = 0;
    iql_epoch_parse(epoch, &div);
    struct iql_result *res;
    size_t nres;
    if (api_iql_execute(s, &a, q, db, rp, params, &ar, resp, &res, &nres) < 0) goto out;
    struct sl_buf *b = &resp->body;
    resp->status = 200;
    const char *accept = http_header(req, "Accept");
    if (accept && (strstr(accept, "application/csv") || strstr(accept, "text/csv"))) {
        resp->content_type = "text/csv";
        bool started = false;
        for (size_t i = 0; i < nres; i++)
            iql_out_csv_result(b, &res[i], div, &started, NULL, NULL);
        goto out;
    }
    resp->content_type = "application/json";
    if (truthy(http_query(req, "chunked"))) {
        const char *cs = http_query(req, "chunk_size");
        long chunk = cs ? atol(cs) : 0;
        if (chunk <= 0) chunk = 10000;
        write_chunked(b, res, nres, (size_t)chunk, div);
        goto out;
    }
    struct sl_buf tmp;
    sl_buf_init(&tmp, 0);
    struct sl_buf *o = truthy(http_query(req, "pretty")) ? &tmp : b;
    sl_buf_adds(o, "{\"results\":[");
    for (size_t i = 0; i < nres; i++) {
        if (i) sl_buf_addc(o, ',');
        iql_out_json_result(o, i, &res[i], div);
    }
    sl_buf_adds(o, "]}");
    if (o == &tmp)
        iql_out_json_pretty(tmp.ptr, tmp.len, b);
    else
        sl_buf_addc(b, '\n');
    sl_buf_release(&tmp);
out:
    sl_arena_release(&ar);
    sl_buf_release(&qb);
    sl_buf_release(&dbb);
    sl_buf_release(&pb);
    sl_buf_release(&epb);
}
