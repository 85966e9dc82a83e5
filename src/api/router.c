/*
 * router.c — dispatches requests to endpoint handlers, authenticates them,
 * answers /ping and /health, and keeps request metrics.
 *
 * Authentication schemes (InfluxDB's): `Authorization: Token T`, `Bearer T`,
 * `Basic base64(user:T)` (the password is the token), and for v1 endpoints the
 * query parameters `u`/`p` (p is the token). A request with no credentials is
 * unauthenticated; /ping and /health never need credentials.
 */
#include <jansson.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "api/api.h"
#include "common/err.h"
#include "common/log.h"
#include "common/mem.h"
#include "common/timeutil.h"

static int starts_with_ci(const char *s, const char *prefix)
{
    return strncasecmp(s, prefix, strlen(prefix)) == 0;
}

void api_authenticate(struct api_server *s, struct http_req *req, struct api_auth *a)
{
    memset(a, 0, sizeof(*a));
    if (!s->auth_enabled) {
        a->ok = 1;
        a->grant.admin = 1;
        return;
    }
    const char *h = http_header(req, "Authorization");
    char secret[4200];
    secret[0] = '\0';
    if (h) {
        a->present = 1;
        while (*h == ' ')
            h++;
        if (starts_with_ci(h, "Token "))
            snprintf(secret, sizeof(secret), "%s", h + 6);
        else if (starts_with_ci(h, "Bearer "))
            snprintf(secret, sizeof(secret), "%s", h + 7);
        else if (starts_with_ci(h, "Basic ")) {
            const char *b = h + 6;
            while (*b == ' ')
                b++;
            size_t bl = strlen(b);
            if (bl < 5600) {
                unsigned char dec[4200];
                int n = EVP_DecodeBlock(dec, (const unsigned char *)b, (int)bl);
                if (n > 0) {
                    /* EVP_DecodeBlock counts padding bytes as output */
                    while (bl && b[bl - 1] == '=' && n > 0) {
                        n--;
                        bl--;
                    }
                    dec[n] = '\0';
                    char *colon = memchr(dec, ':', (size_t)n);
                    if (colon) snprintf(secret, sizeof(secret), "%s", colon + 1);
                }
            }
        }
    } else {
        const char *p = http_query(req, "p");
        if (p) {
            a->present = 1;
            snprintf(secret, sizeof(secret), "%s", p);
        }
    }
    /* trailing spaces are not part of a token */
    size_t n = strlen(secret);
    while (n && (secret[n - 1] == ' ' || secret[n - 1] == '\t'))
        secret[--n] = '\0';
    if (a->present && token_authenticate(s->tokens, secret, n, &a->grant) == 0) a->ok = 1;
    memset(secret, 0, sizeof(secret));
    if (a->present && !a->ok) atomic_fetch_add(&s->m.auth_failures, 1);
}

int api_allowed(struct api_server *s, const struct api_auth *a, const char *db, size_t len,
                int action)
{
    if (!a->ok) return 0;
    if (!s->auth_enabled || a->grant.admin) return 1;
    return token_allows(s->tokens, &a->grant, db, len, action);
}

void api_unauthorized(struct http_resp *resp, enum api_style st)
{
    if (st == API_V2) {
        http_resp_error_v2(resp, 401, "unauthorized", "unauthorized access");
        http_resp_header(resp, "X-Platform-Error-Code", "unauthorized");
    } else {
        http_resp_error(resp, 401, "authorization failed: a valid token is required");
        if (st == API_V1)
            http_resp_header(resp, "X-Influxdb-Error",
                             "authorization failed: a valid token is required");
    }
    http_resp_header(resp, "WWW-Authenticate", "Token realm=\"sluice\"");
}

void api_forbidden(struct http_resp *resp, enum api_style st, const char *db)
{
    char msg[700];
    snprintf(msg, sizeof(msg), "token has no permission for database \"%.512s\"", db ? db : "");
    if (st == API_V2) {
        http_resp_error_v2(resp, 403, "forbidden", msg);
        http_resp_header(resp, "X-Platform-Error-Code", "forbidden");
    } else {
        http_resp_error(resp, 403, msg);
    }
}

struct json_t *api_json_body(struct http_req *req, struct http_resp *resp, enum api_style st)
{
    json_error_t e;
    json_t *j = json_loadb(req->body.ptr ? req->body.ptr : "", req->body.len, 0, &e);
    if (!j || !json_is_object(j)) {
        char msg[300];
        snprintf(msg, sizeof(msg), "invalid JSON body: %s (line %d, column %d)",
                 j ? "expected an object" : e.text, e.line, e.column);
        if (j) json_decref(j);
        if (st == API_V2)
            http_resp_error_v2(resp, 400, "invalid", msg);
        else
            http_resp_error(resp, 400, msg);
        return NULL;
    }
    return j;
}

static void ping(struct api_server *s, struct http_req *req, struct http_resp *resp)
{
    resp->status = 204;
    if (req->method[0] == 'G' && http_query(req, "verbose")) {
        resp->status = 200;
        resp->content_type = "application/json";
        sl_buf_addf(&resp->body, "{\"version\":\"%s\"}\n", s->version);
    }
}

static void health(struct api_server *s, struct http_req *req, struct http_resp *resp)
{
    (void)req;
    int failed = s->eng && engine_failed(s->eng);
    resp->status = failed ? 503 : 200;
    resp->content_type = "application/json";
    sl_buf_addf(&resp->body,
                "{\"name\":\"influxdb\",\"message\":\"%s\",\"status\":\"%s\",\"checks\":[],"
                "\"version\":\"%s\",\"commit\":\"sluice\"}\n",
                failed ? "write-ahead log failed; writes are refused until restart"
                       : "ready for queries and writes",
                failed ? "fail" : "pass", s->version);
}

static void not_found(struct http_req *req, struct http_resp *resp)
{
    char msg[600];
    snprintf(msg, sizeof(msg), "no such endpoint: %s %.400s", req->method, req->path);
    if (!strncmp(req->path, "/api/v2/", 8))
        http_resp_error_v2(resp, 404, "not found", msg);
    else
        http_resp_error(resp, 404, msg);
}

static void method_not_allowed(struct http_resp *resp, const char *allow)
{
    http_resp_error(resp, 405, "method not allowed");
    http_resp_header(resp, "Allow", allow);
}

static void flux_query(struct http_req *req, struct http_resp *resp)
{
    (void)req;
    http_resp_error_v2(resp, 501, "not implemented",
                       "Flux is not supported by sluice: query with SQL (/api/v3/query_sql) or "
                       "InfluxQL (/query, /api/v3/query_influxql)");
}

static int is(const char *method, const char *m)
{
    return strcmp(method, m) == 0;
}

static void route(struct api_server *s, struct http_req *req, struct http_resp *resp)
{
    const char *p = req->path, *m = req->method;
    int get = is(m, "GET") || is(m, "HEAD"), post = is(m, "POST");

    if (!strcmp(p, "/ping"))
        return get || post ? ping(s, req, resp) : method_not_allowed(resp, "GET, HEAD, POST");
    if (!strcmp(p, "/health") || !strcmp(p, "/ready"))
        return get ? health(s, req, resp) : method_not_allowed(resp, "GET");
    if (!strcmp(p, "/metrics"))
        return get ? api_metrics(s, req, resp) : method_not_allowed(resp, "GET");
    if (!strcmp(p, "/write"))
        return post ? api_write_v1(s, req, resp) : method_not_allowed(resp, "POST");
    if (!strcmp(p, "/api/v2/write"))
        return post ? api_write_v2(s, req, resp) : method_not_allowed(resp, "POST");
    if (!strcmp(p, "/api/v3/write_lp") || !strcmp(p, "/api/v3/write"))
        return post ? api_write_v3(s, req, resp) : method_not_allowed(resp, "POST");
    if (!strcmp(p, "/query"))
        return get || post ? api_query_v1(s, req, resp) : method_not_allowed(resp, "GET, POST");
    if (!strcmp(p, "/api/v3/query_influxql"))
        return get || post ? api_query_influxql(s, req, resp)
                           : method_not_allowed(resp, "GET, POST");
    if (!strcmp(p, "/api/v2/delete"))
        return post ? api_delete_v2(s, req, resp) : method_not_allowed(resp, "POST");
    if (!strcmp(p, "/api/v2/query")) return flux_query(req, resp);
    if (!strcmp(p, "/api/v3/query_sql"))
        return get || post ? api_query_sql(s, req, resp) : method_not_allowed(resp, "GET, POST");
    if (!strcmp(p, "/api/v3/configure/database")) return api_configure_database(s, req, resp);
    if (!strcmp(p, "/api/v3/configure/table")) return api_configure_table(s, req, resp);
    if (!strncmp(p, "/api/v3/configure/token", 23)) return api_configure_token(s, req, resp);
    if (!strncmp(p, "/api/v2/authorizations", 22)) return api_v2_authorizations(s, req, resp);
    if (!strncmp(p, "/api/v2/buckets", 15)) return api_v2_buckets(s, req, resp);
    if (!strncmp(p, "/api/v2/orgs", 12)) return api_v2_orgs(s, req, resp);
    if (!strcmp(p, "/api/sluice/persist") || !strcmp(p, "/api/sluice/compact"))
        return post ? api_storage_action(s, req, resp) : method_not_allowed(resp, "POST");
    if (!strncmp(p, "/api/sluice/backup", 18)) return api_backup(s, req, resp);
    if (!strcmp(p, "/api/sluice/debug/rows"))
        return get ? api_debug_rows(s, req, resp) : method_not_allowed(resp, "GET");
    not_found(req, resp);
}

void api_handle(void *app, struct http_req *req, struct http_resp *resp)
{
    struct api_server *s = app;
    route(s, req, resp);
    http_resp_header(resp, "X-Influxdb-Version", s->version);
    http_resp_header(resp, "X-Influxdb-Build", "sluice");
    /* metrics */
    int64_t us = (sl_mono_ns() - req->start_mono_ns) / 1000;
    atomic_fetch_add(&s->m.requests, 1);
    atomic_fetch_add(&s->m.lat_sum_us, (unsigned long long)us);
    atomic_fetch_add(&s->m.body_bytes, req->wire_bytes);
    int b = 0;
    for (int64_t lim = 500; b < API_LAT_BUCKETS && us > lim; lim *= 2)
        b++;
    atomic_fetch_add(&s->m.lat_buckets[b], 1);
    int cls = resp->status / 100;
    if (cls >= 1 && cls <= 5) atomic_fetch_add(&s->m.status[cls], 1);
}
