/*
 * query.c — the query helper of libsluice (include/sluice/query.h): one GET
 * per query on a fresh connection, the body returned as the server wrote it.
 */
#include <stdio.h>
#include <string.h>

#include "client/client_int.h"
#include "common/buf.h"
#include "common/err.h"
#include "common/mem.h"
#include "sluice/query.h"

int sl_query_run(const struct sl_query_opts *o, const char *q, long *status, char **body,
                 size_t *len)
{
    struct client_conn conn;
    struct client_resp resp;
    struct sl_buf url, auth;
    int rc = SL_EINVAL;
    int have_conn = 0;

    *status = 0;
    *body = NULL;
    *len = 0;
    sl_buf_init(&url, 1 << 20);
    sl_buf_init(&auth, 64 * 1024);
    sl_buf_init(&resp.body, o && o->max_body ? o->max_body : (size_t)1 << 30);
    if (!o || !o->url || !*o->url || !o->db || !*o->db || !q || !*q) goto out;
    if (o->kind != SL_QUERY_SQL && o->kind != SL_QUERY_INFLUXQL && o->kind != SL_QUERY_V1) goto out;

    size_t bl = strlen(o->url);
    while (bl && o->url[bl - 1] == '/')
        bl--;
    rc = sl_buf_add(&url, o->url, bl);
    if (o->kind == SL_QUERY_V1) {
        rc |= sl_buf_adds(&url, "/query?db=");
        rc |= client_url_escape(&url, o->db);
        if (o->epoch && *o->epoch) {
            rc |= sl_buf_adds(&url, "&epoch=");
            rc |= client_url_escape(&url, o->epoch);
        }
    } else {
        rc |= sl_buf_adds(&url, o->kind == SL_QUERY_SQL ? "/api/v3/query_sql?db="
                                                        : "/api/v3/query_influxql?db=");
        rc |= client_url_escape(&url, o->db);
        rc |= sl_buf_adds(&url, "&format=");
        rc |= client_url_escape(&url, o->format && *o->format ? o->format : "json");
    }
    rc |= sl_buf_adds(&url, "&q=");
    rc |= client_url_escape(&url, q);
    if (o->token && *o->token)
        rc |= sl_buf_addf(&auth, "%s %s", o->kind == SL_QUERY_V1 ? "Token" : "Bearer", o->token);
    if (rc < 0) {
        rc = rc == SL_ETOOBIG ? SL_ETOOBIG : SL_ENOMEM;
        goto out;
    }
    if ((rc = client_conn_init(&conn)) < 0) goto out;
    have_conn = 1;
    struct client_req rq = {
        .method = "GET",
        .url = url.ptr,
        .auth = auth.len ? auth.ptr : NULL,
        .accept = o->kind == SL_QUERY_V1 && o->format && !strcmp(o->format, "csv")
                      ? "application/csv"
                      : NULL,
        .timeout_ms = o->timeout_ms > 0 ? o->timeout_ms : 300000,
        .user_agent = "sluice-cli/" SLUICE_VERSION,
    };
    rc = client_conn_do(&conn, &rq, &resp);
    if (rc == SL_EIO || rc == SL_ETOOBIG) {
        *body = sl_strdup(resp.err);
        if (*body) *len = strlen(*body);
        goto out;
    }
    if (rc < 0) goto out;
    *status = resp.status;
    if (!resp.body.ptr && sl_buf_add(&resp.body, "", 0) < 0) {
        rc = SL_ENOMEM;
        goto out;
    }
    *body = sl_buf_detach(&resp.body, len);
    if (resp.status >= 200 && resp.status < 300)
        rc = 0;
    else if (resp.status == 401 || resp.status == 403)
        rc = SL_EPERM;
    else if (resp.status == 404)
        rc = SL_ENOENT;
    else if (resp.status >= 400 && resp.status < 500)
        rc = SL_EINVAL;
    else
        rc = SL_EIO;
out:
    if (have_conn) client_conn_release(&conn);
    sl_buf_release(&url);
    sl_buf_release(&auth);
    sl_buf_release(&resp.body);
    return rc;
}
