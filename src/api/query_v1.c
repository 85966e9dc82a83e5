/*
 * query_v1.c — the v1 /query endpoint (GET and POST, form or query string).
 *
 * This file handles the request plumbing: parameters (q, db, epoch, pretty,
 * u/p), authentication, statement splitting and the v1 result shape
 * {"results":[{"statement_id":N,...}]}. Database management statements are
 * answered here: CREATE DATABASE [WITH DURATION d], DROP DATABASE and
 * SHOW DATABASES, so that v1 clients can bootstrap. A statement the server
 * cannot answer gets a per-statement error, never a made-up result.
 */
#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "api/api.h"
#include "common/err.h"
#include "common/mem.h"
#include "common/timeutil.h"

/* ---- a tokenizer for the management statements ---- */

struct tok {
    const char *s, *end;
};

static void skip_ws(struct tok *t)
{
    while (t->s < t->end && isspace((unsigned char)*t->s))
        t->s++;
}

static int keyword(struct tok *t, const char *kw)
{
    skip_ws(t);
    size_t n = strlen(kw);
    if ((size_t)(t->end - t->s) < n || strncasecmp(t->s, kw, n) != 0) return 0;
    if (t->s + n < t->end && (isalnum((unsigned char)t->s[n]) || t->s[n] == '_')) return 0;
    t->s += n;
    return 1;
}

/* An identifier, bare or "quoted" (with \" escapes). */
static int ident(struct tok *t, char *out, size_t cap)
{
    skip_ws(t);
    size_t o = 0;
    if (t->s < t->end && *t->s == '"') {
        t->s++;
        while (t->s < t->end && *t->s != '"') {
            if (*t->s == '\\' && t->s + 1 < t->end) t->s++;
            if (o + 1 >= cap) return 0;
            out[o++] = *t->s++;
        }
        if (t->s >= t->end) return 0;
        t->s++;
    } else {
        while (t->s < t->end &&
               (isalnum((unsigned char)*t->s) || *t->s == '_' || (unsigned char)*t->s >= 0x80)) {
            if (o + 1 >= cap) return 0;
            out[o++] = *t->s++;
        }
    }
    out[o] = '\0';
    return o > 0;
}

static int at_end(struct tok *t)
{
    skip_ws(t);
    return t->s >= t->end;
}

static void stmt_error(struct sl_buf *b, size_t id, const char *msg)
{
    sl_buf_addf(b, "{\"statement_id\":%zu,\"error\":", id);
    sl_buf_add_json_str(b, msg, strlen(msg));
    sl_buf_addc(b, '}');
}

static void run_statement(struct api_server *s, const struct api_auth *a, const char *q, size_t len,
                          size_t id, struct sl_buf *b)
{
    struct tok t = {q, q + len};
    char name[600], msg[800];
    if (keyword(&t, "SHOW") && keyword(&t, "DATABASES") && at_end(&t)) {
        sl_buf_addf(b,
                    "{\"statement_id\":%zu,\"series\":[{\"name\":\"databases\",\"columns\":"
                    "[\"name\"],\"values\":[",
                    id);
        struct catalog *cat = s->eng->catalog;
        catalog_rdlock(cat);
        int first = 1;
        for (size_t i = 0; i < cat->ndbs; i++) {
            struct cat_db *d = cat->dbs[i];
            if (d->deleted || !api_allowed(s, a, d->name, strlen(d->name), TOKEN_READ)) continue;
            sl_buf_adds(b, first ? "[" : ",[");
            sl_buf_add_json_str(b, d->name, strlen(d->name));
            sl_buf_addc(b, ']');
            first = 0;
        }
        catalog_unlock(cat);
        sl_buf_adds(b, "]}]}");
        return;
    }
    t.s = q;
    if (keyword(&t, "CREATE") && keyword(&t, "DATABASE")) {
        if (!ident(&t, name, sizeof(name))) {
            stmt_error(b, id,
                       "error parsing query: expected a database name after CREATE DATABASE");
            return;
        }
        int64_t ret = 0;
        if (keyword(&t, "WITH")) {
            while (!at_end(&t)) {
                if (keyword(&t, "DURATION")) {
                    skip_ws(&t);
                    const char *d0 = t.s;
                    while (t.s < t.end && !isspace((unsigned char)*t.s))
                        t.s++;
                    if (sl_duration_parse(d0, (size_t)(t.s - d0), &ret) < 0) {
                        stmt_error(b, id, "error parsing query: invalid duration");
                        return;
                    }
                } else if (keyword(&t, "REPLICATION") || keyword(&t, "SHARD") ||
                           keyword(&t, "NAME")) {
                    keyword(&t, "DURATION");
                    skip_ws(&t);
                    while (t.s < t.end && !isspace((unsigned char)*t.s))
                        t.s++;
                } else {
                    stmt_error(b, id, "error parsing query: unexpected text after WITH");
                    return;
                }
            }
        }
        if (!at_end(&t)) {
            stmt_error(b, id, "error parsing query: unexpected text after the database name");
            return;
        }
        if (!a->grant.admin) {
            stmt_error(b, id, "error authorizing query: CREATE DATABASE needs an admin token");
            return;
        }
        int rc = engine_db_create(s->eng, name, strlen(name), ret);
        if (rc < 0 && rc != SL_EEXIST) { /* 1.x: creating an existing database is not an error */
            snprintf(msg, sizeof(msg), "cannot create database \"%s\": %s", name, sl_strerror(rc));
            stmt_error(b, id, msg);
            return;
        }
        sl_buf_addf(b, "{\"statement_id\":%zu}", id);
        return;
    }
    t.s = q;
    if (keyword(&t, "DROP") && keyword(&t, "DATABASE")) {
        if (!ident(&t, name, sizeof(name)) || !at_end(&t)) {
            stmt_error(b, id, "error parsing query: expected a database name after DROP DATABASE");
            return;
        }
        if (!a->grant.admin) {
            stmt_error(b, id, "error authorizing query: DROP DATABASE needs an admin token");
            return;
        }
        int rc = engine_db_drop(s->eng, name, strlen(name));
        if (rc < 0 && rc != SL_ENOENT) {
            snprintf(msg, sizeof(msg), "cannot drop database \"%s\": %s", name, sl_strerror(rc));
            stmt_error(b, id, msg);
            return;
        }
        sl_buf_addf(b, "{\"statement_id\":%zu}", id);
        return;
    }
    snprintf(msg, sizeof(msg),
             "statement not supported by this server version: %.200s (supported: SHOW "
             "DATABASES, CREATE DATABASE, DROP DATABASE)",
             q);
    stmt_error(b, id, msg);
}

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

void api_query_v1(struct api_server *s, struct http_req *req, struct http_resp *resp)
{
    struct api_auth a;
    api_authenticate(s, req, &a);
    if (!a.ok) {
        api_unauthorized(resp, API_V1);
        return;
    }
    struct sl_buf qb;
    sl_buf_init(&qb, 0);
    const char *q = http_query(req, "q");
    const char *ct = http_header(req, "Content-Type");
    if (!q && req->body.len && (!ct || strstr(ct, "x-www-form-urlencoded")) &&
        form_value(req->body.ptr, req->body.len, "q", &qb))
        q = qb.ptr;
    if (!q || !*q) {
        http_resp_error(resp, 400, "missing required parameter \"q\"");
        sl_buf_release(&qb);
        return;
    }
    struct sl_buf *b = &resp->body;
    resp->status = 200;
    resp->content_type = "application/json";
    sl_buf_adds(b, "{\"results\":[");
    /* split on ';' outside quotes */
    size_t id = 0;
    const char *p = q, *start = q;
    char quote = 0;
    for (;; p++) {
        char c = *p;
        if (quote) {
            if (c == '\\' && p[1])
                p++;
            else if (c == quote)
                quote = 0;
            else if (!c)
                break;
            continue;
        }
        if (c == '"' || c == '\'') {
            quote = c;
            continue;
        }
        if (c == ';' || !c) {
            const char *e = p;
            while (start < e && isspace((unsigned char)*start))
                start++;
            if (start < e) {
                if (id) sl_buf_addc(b, ',');
                run_statement(s, &a, start, (size_t)(e - start), id++, b);
            }
            if (!c) break;
            start = p + 1;
        }
    }
    sl_buf_adds(b, "]}\n");
    sl_buf_release(&qb);
}
