/*
 * listeners.c — the HTTP service inputs over libmicrohttpd (one daemon per
 * input instance, a thread per connection, at most 256 connections;
 * read_timeout closes idle connections):
 *
 *   http_listener_v2      any of `paths` (default ["/telegraf"]; old `path`),
 *                         `methods` (default POST, PUT), body (or, with
 *                         data_source = "query", the decoded query string)
 *                         parsed with `data_format` (default influx).
 *                         Answers http_success_code (204), 404 other path,
 *                         405 other method, 413 over max_body_size (500 MiB),
 *                         400 when the body does not parse (nothing is kept),
 *                         401 when basic auth fails. http_header_tags copies
 *                         request headers to tags; path_tag adds
 *                         http_listener_v2_path.
 *   influxdb_listener     InfluxDB 1.x: POST /write?db=&rp=&precision= (line
 *                         protocol; valid lines are kept, bad ones give 400
 *                         "partial write: <first error> (and N other parse
 *                         errors)"), /query answers {"results":[]}, /ping 204
 *                         (200 + version with verbose=true). database_tag /
 *                         retention_policy_tag add the db / rp as tags.
 *   influxdb_v2_listener  InfluxDB 2.x: POST /api/v2/write?bucket=&precision=
 *                         (any bad line rejects the whole body with 400
 *                         {"code":"invalid",...}), GET /api/v2/ready, /ready,
 *                         /health, /ping; `token` requires "Authorization:
 *                         Token <token>"; bucket_tag adds the bucket.
 *
 * Content-Encoding: gzip bodies are inflated (the inflated size counts
 * against max_body_size). Metrics without a timestamp get the arrival time.
 */
#include <arpa/inet.h>
#include <microhttpd.h>
#include <netdb.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <zlib.h>

#include "agent/conf.h"
#include "agent/inputs/services.h"
#include "agent/parsers/parsers.h"
#include "common/buf.h"
#include "common/err.h"
#include "common/fsutil.h"
#include "common/log.h"
#include "common/mem.h"
#include "common/timeutil.h"
#include "lp/lp.h"

enum listener_kind { LISTEN_HTTP_V2, LISTEN_INFLUX_V1, LISTEN_INFLUX_V2 };

struct listener {
    enum listener_kind kind;
    const char *name;
    char *service_address;
    struct glob_list paths, methods;
    int64_t max_body, read_timeout, write_timeout, success_code;
    char *basic_user, *basic_pass, *token;
    char *database_tag, *rp_tag, *bucket_tag, *data_source;
    struct glob_list hdr_names, hdr_tags; /* http_header_tags */
    int path_tag;
    char *tls_cert_pem, *tls_key_pem;
    struct parser *parser; /* http_listener_v2; used under parser_mu */
    pthread_mutex_t parser_mu;
    struct MHD_Daemon *d;
    struct agent_acc *acc;
    int64_t started;
    int port; /* the bound port, for logs and tests */
};

/* The per-request state between MHD's calls. */
struct lreq {
    struct sl_buf body;
    int too_big;
    int done;
};

static void listener_free(void *state)
{
    struct listener *l = state;
    if (!l) return;
    sl_free(l->service_address);
    glob_list_release(&l->paths);
    glob_list_release(&l->methods);
    glob_list_release(&l->hdr_names);
    glob_list_release(&l->hdr_tags);
    sl_free(l->basic_user);
    sl_free(l->basic_pass);
    sl_free(l->token);
    sl_free(l->database_tag);
    sl_free(l->rp_tag);
    sl_free(l->bucket_tag);
    sl_free(l->data_source);
    sl_free(l->tls_cert_pem);
    sl_free(l->tls_key_pem);
    if (l->parser) parser_free(l->parser);
    pthread_mutex_destroy(&l->parser_mu);
    sl_free(l);
}

static int read_pem(struct plugin_conf *c, const char *key, char **out)
{
    char *path = NULL;
    int rc = conf_str(c, key, &path);
    if (rc < 0 || !path) return rc;
    size_t len = 0;
    rc = sl_file_read_all(path, 1 << 20, out, &len);
    if (rc < 0) rc = conf_fail(c, key, "cannot read '%s': %s", path, sl_strerror(rc));
    sl_free(path);
    return rc;
}

static int listener_init(struct plugin_conf *c, void **state, enum listener_kind kind)
{
    struct listener *l = sl_calloc(1, sizeof(*l));
    if (!l) return SL_ENOMEM;
    pthread_mutex_init(&l->parser_mu, NULL);
    l->kind = kind;
    l->read_timeout = l->write_timeout = 10 * SL_NS_PER_S;
    l->success_code = 204;
    int rc = SL_ENOMEM;
    const char *def_addr = ":8080";
    l->name = "http_listener_v2";
    l->max_body = 500LL << 20;
    if (kind == LISTEN_INFLUX_V1) {
        def_addr = ":8186";
        l->name = "influxdb_listener";
        l->max_body = 32LL << 20;
    } else if (kind == LISTEN_INFLUX_V2) {
        def_addr = ":8086";
        l->name = "influxdb_v2_listener";
        l->max_body = 32LL << 20;
    }
    if (!(l->service_address = sl_strdup(def_addr))) goto fail;
    if ((rc = conf_str(c, "service_address", &l->service_address)) < 0) goto fail;
    if ((rc = conf_size(c, "max_body_size", &l->max_body)) < 0) goto fail;
    if ((rc = conf_duration(c, "read_timeout", &l->read_timeout)) < 0) goto fail;
    if ((rc = conf_duration(c, "write_timeout", &l->write_timeout)) < 0) goto fail;
    if ((rc = read_pem(c, "tls_cert", &l->tls_cert_pem)) < 0) goto fail;
    if ((rc = read_pem(c, "tls_key", &l->tls_key_pem)) < 0) goto fail;
    if (!l->tls_cert_pem != !l->tls_key_pem) {
        rc = conf_fail(c, l->tls_cert_pem ? "tls_key" : "tls_cert",
                       "tls_cert and tls_key go together");
        goto fail;
    }
    if (conf_has(c, "tls_allowed_cacerts")) {
        rc = conf_fail(c, "tls_allowed_cacerts", "client certificates are not supported");
        goto fail;
    }
    if (kind != LISTEN_INFLUX_V2) {
        if ((rc = conf_str(c, "basic_username", &l->basic_user)) < 0) goto fail;
        if ((rc = conf_str(c, "basic_password", &l->basic_pass)) < 0) goto fail;
    }
    if (kind == LISTEN_HTTP_V2) {
        char *path = NULL;
        if ((rc = conf_str(c, "path", &path)) < 0) goto fail;
        if (path) {
            rc = glob_list_add(&l->paths, path);
            sl_free(path);
            if (rc < 0) goto fail;
        }
        if ((rc = conf_strlist(c, "paths", &l->paths)) < 0) goto fail;
        if (l->paths.n == 0 && (rc = glob_list_add(&l->paths, "/telegraf")) < 0) goto fail;
        if ((rc = conf_strlist(c, "methods", &l->methods)) < 0) goto fail;
        if (l->methods.n == 0) {
            if ((rc = glob_list_add(&l->methods, "POST")) < 0) goto fail;
            if ((rc = glob_list_add(&l->methods, "PUT")) < 0) goto fail;
        }
        if ((rc = conf_str(c, "data_source", &l->data_source)) < 0) goto fail;
        if (l->data_source && strcasecmp(l->data_source, "body") != 0 &&
            strcasecmp(l->data_source, "query") != 0) {
            rc = conf_fail(c, "data_source", "must be \"body\" or \"query\"");
            goto fail;
        }
        if ((rc = conf_int(c, "http_success_code", &l->success_code)) < 0) goto fail;
        if (l->success_code < 200 || l->success_code > 299) {
            rc = conf_fail(c, "http_success_code", "must be a 2xx code");
            goto fail;
        }
        if ((rc = conf_bool(c, "path_tag", &l->path_tag)) < 0) goto fail;
        struct plugin_conf *h = conf_table(c, "http_header_tags");
        if (h) {
            const char *k;
            for (size_t i = 0; (k = conf_key_at(h, i)) && rc >= 0; i++) {
                char *v = NULL;
                rc = conf_str(h, k, &v);
                if (rc == 0 && v) rc = glob_list_add(&l->hdr_names, k);
                if (rc == 0 && v) rc = glob_list_add(&l->hdr_tags, v);
                sl_free(v);
            }
            conf_free(h);
            if (rc < 0) goto fail;
        }
        if ((rc = parser_from_conf(c, "influx", "http_listener_v2", &l->parser)) < 0) goto fail;
    } else {
        /* line protocol only; parser_type picks Telegraf's parser implementation */
        char *ptype = NULL;
        if ((rc = conf_str(c, "parser_type", &ptype)) < 0) goto fail;
        sl_free(ptype);
        int64_t max_line = 0;
        if ((rc = conf_size(c, "max_line_size", &max_line)) < 0) goto fail;
    }
    if (kind == LISTEN_INFLUX_V1) {
        if ((rc = conf_str(c, "database_tag", &l->database_tag)) < 0) goto fail;
        if ((rc = conf_str(c, "retention_policy_tag", &l->rp_tag)) < 0) goto fail;
    }
    if (kind == LISTEN_INFLUX_V2) {
        if ((rc = conf_str(c, "bucket_tag", &l->bucket_tag)) < 0) goto fail;
        if ((rc = conf_str(c, "token", &l->token)) < 0) goto fail;
    }
    if (l->max_body <= 0) l->max_body = kind == LISTEN_HTTP_V2 ? 500LL << 20 : 32LL << 20;
    *state = l;
    return 0;
fail:
    listener_free(l);
    return rc;
}

static int http_v2_init(struct plugin_conf *c, void **state)
{
    return listener_init(c, state, LISTEN_HTTP_V2);
}
static int influx_v1_init(struct plugin_conf *c, void **state)
{
    return listener_init(c, state, LISTEN_INFLUX_V1);
}
static int influx_v2_init(struct plugin_conf *c, void **state)
{
    return listener_init(c, state, LISTEN_INFLUX_V2);
}

/* ---- responses ---- */

static enum MHD_Result respond(struct MHD_Connection *conn, unsigned status, const char *ctype,
                               const char *body, const char *hname, const char *hval)
{
    size_t n = body ? strlen(body) : 0;
    struct MHD_Response *r =
        MHD_create_response_from_buffer(n, (void *)(body ? body : ""), MHD_RESPMEM_MUST_COPY);
    if (!r) return MHD_NO;
    if (ctype && n) MHD_add_response_header(r, "Content-Type", ctype);
    if (hname) MHD_add_response_header(r, hname, hval);
    enum MHD_Result ret = MHD_queue_response(conn, status, r);
    MHD_destroy_response(r);
    return ret;
}

/* A JSON object {"<k1>":"<v1>"[,"<k2>":"<v2>"]} with escaped values. */
static enum MHD_Result respond_json(struct MHD_Connection *conn, unsigned status, const char *k1,
                                    const char *v1, const char *k2, const char *v2,
                                    const char *hname, const char *hval)
{
    struct sl_buf b;
    sl_buf_init(&b, 1 << 16);
    int rc = sl_buf_addf(&b, "{\"%s\":", k1);
    if (rc == 0) rc = sl_buf_add_json_str(&b, v1, strlen(v1));
    if (rc == 0 && k2) {
        rc = sl_buf_addf(&b, ",\"%s\":", k2);
        if (rc == 0) rc = sl_buf_add_json_str(&b, v2, strlen(v2));
    }
    if (rc == 0) rc = sl_buf_adds(&b, "}");
    enum MHD_Result ret = respond(conn, status, "application/json; charset=utf-8",
                                  rc == 0 ? b.ptr : "{}", hname, hval);
    sl_buf_release(&b);
    return ret;
}

static enum MHD_Result too_large(struct listener *l, struct MHD_Connection *conn)
{
    if (l->kind == LISTEN_INFLUX_V2)
        return respond_json(conn, 413, "code", "invalid", "message", "http: request body too large",
                            NULL, NULL);
    return respond_json(conn, 413, "error", "http: request body too large", NULL, NULL, NULL, NULL);
}

/* ---- auth ---- */

static int ct_equal(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    unsigned char d = (unsigned char)(la != lb);
    for (size_t i = 0; i < la && i < lb; i++)
        d |= (unsigned char)(a[i] ^ b[i]);
    return d == 0;
}

static int authorized(struct listener *l, struct MHD_Connection *conn)
{
    if (l->kind == LISTEN_INFLUX_V2) {
        if (!l->token || !*l->token) return 1;
        const char *h = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Authorization");
        if (!h || strncmp(h, "Token ", 6) != 0) return 0;
        return ct_equal(h + 6, l->token);
    }
    if (!(l->basic_user && *l->basic_user) && !(l->basic_pass && *l->basic_pass)) return 1;
    char *pass = NULL;
    char *user = MHD_basic_auth_get_username_password(conn, &pass);
    int ok = user && pass && ct_equal(user, l->basic_user ? l->basic_user : "") &&
             ct_equal(pass, l->basic_pass ? l->basic_pass : "");
    if (user) MHD_free(user);
    if (pass) MHD_free(pass);
    return ok;
}

/* ---- bodies ---- */

static int gunzip(const char *in, size_t len, struct sl_buf *out)
{
    z_stream zs;
    memset(&zs, 0, sizeof(zs));
    if (inflateInit2(&zs, 16 + MAX_WBITS) != Z_OK) return SL_ENOMEM;
    zs.next_in = (Bytef *)in;
    zs.avail_in = (uInt)len;
    int rc = 0;
    char chunk[65536];
    for (;;) {
        zs.next_out = (Bytef *)chunk;
        zs.avail_out = sizeof(chunk);
        int z = inflate(&zs, Z_NO_FLUSH);
        size_t got = sizeof(chunk) - zs.avail_out;
        if (got && (rc = sl_buf_add(out, chunk, got)) < 0) break; /* SL_ETOOBIG */
        if (z == Z_STREAM_END) {
            if (zs.avail_in > 0) { /* concatenated members */
                inflateReset(&zs);
                continue;
            }
            break;
        }
        if (z != Z_OK || (zs.avail_in == 0 && got == 0)) {
            rc = SL_EINVAL;
            break;
        }
    }
    inflateEnd(&zs);
    return rc;
}

static int is_gzip(struct MHD_Connection *conn)
{
    const char *ce = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Content-Encoding");
    return ce && !strcasecmp(ce, "gzip");
}

struct query_collect {
    struct sl_buf *b;
    int rc;
};

static enum MHD_Result collect_arg(void *cls, enum MHD_ValueKind kind, const char *key,
                                   const char *value)
{
    (void)kind;
    struct query_collect *q = cls;
    if (q->rc == 0 && q->b->len) q->rc = sl_buf_addc(q->b, '&');
    if (q->rc == 0) q->rc = sl_buf_adds(q->b, key);
    if (q->rc == 0 && value) {
        q->rc = sl_buf_addc(q->b, '=');
        if (q->rc == 0) q->rc = sl_buf_adds(q->b, value);
    }
    return q->rc == 0 ? MHD_YES : MHD_NO;
}

/* Adds the metrics of list to the accumulator with the extra tags. */
static int emit(struct listener *l, struct MHD_Connection *conn, const char *url,
                struct metric_list *ml, const char *tag1, const char *val1)
{
    int rc = 0;
    for (size_t i = 0; i < ml->n; i++) {
        struct metric *m = ml->v[i];
        ml->v[i] = NULL;
        if (rc == 0 && tag1 && val1 && *val1) rc = metric_add_tag(m, tag1, val1);
        for (size_t h = 0; rc == 0 && h < l->hdr_names.n; h++) {
            const char *v = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, l->hdr_names.v[h]);
            if (v && *v) rc = metric_add_tag(m, l->hdr_tags.v[h], v);
        }
        if (rc == 0 && l->path_tag) rc = metric_add_tag(m, "http_listener_v2_path", url);
        if (rc < 0) {
            metric_free(m);
            continue;
        }
        rc = acc_add(l->acc, m);
    }
    ml->n = 0;
    return rc;
}

/* Parses line protocol into ml. Returns the number of bad lines; the
 * first error is described in err. */
static int parse_lp(const char *buf, size_t len, enum lp_precision prec, struct metric_list *ml,
                    char *err, size_t errcap, int *fatal)
{
    struct lp_parser p;
    struct lp_parser_opts o = {.precision = prec};
    lp_parser_init(&p, buf, len, &o);
    struct lp_point pt;
    struct lp_error e;
    int bad = 0, r;
    int64_t now = sl_now_ns();
    while ((r = lp_parser_next(&p, &pt, &e)) != LP_END) {
        if (r < 0) {
            *fatal = r;
            break;
        }
        if (r == LP_ERROR) {
            if (bad++ == 0)
                snprintf(err, errcap, "unable to parse '%.*s': %s",
                         (int)(e.raw_len > 200 ? 200 : e.raw_len), e.raw, e.message);
            continue;
        }
        struct metric *m = metric_from_lp(&pt, now);
        if (!m || metric_list_push(ml, m) < 0) {
            *fatal = SL_ENOMEM;
            break;
        }
    }
    lp_parser_release(&p);
    return bad;
}

static enum MHD_Result handle_write(struct listener *l, struct MHD_Connection *conn,
                                    const char *url, const char *body, size_t len)
{
    struct metric_list ml = {0};
    char err[512] = "";
    enum MHD_Result ret;
    if (l->kind == LISTEN_HTTP_V2) {
        pthread_mutex_lock(&l->parser_mu);
        int rc = parser_parse(l->parser, body, len, sl_now_ns(), &ml, err, sizeof(err));
        pthread_mutex_unlock(&l->parser_mu);
        if (rc < 0) {
            sl_debug("agent", "[inputs.http_listener_v2] parse error: %s", err);
            metric_list_release(&ml);
            return respond_json(conn, 400, "error", "http: bad request", NULL, NULL, NULL, NULL);
        }
        emit(l, conn, url, &ml, NULL, NULL);
        ret = respond(conn, (unsigned)l->success_code, NULL, NULL, NULL, NULL);
        metric_list_release(&ml);
        return ret;
    }
    enum lp_precision prec = LP_PREC_NS;
    const char *ps = MHD_lookup_connection_value(conn, MHD_GET_ARGUMENT_KIND, "precision");
    if (ps && *ps && (lp_precision_parse(ps, &prec) < 0 || prec == LP_PREC_AUTO)) {
        char msg[128];
        snprintf(msg, sizeof(msg), "invalid precision '%.40s'", ps);
        metric_list_release(&ml);
        if (l->kind == LISTEN_INFLUX_V2)
            return respond_json(conn, 400, "code", "invalid", "message", msg, NULL, NULL);
        return respond_json(conn, 400, "error", msg, NULL, NULL, NULL, NULL);
    }
    int fatal = 0;
    int bad = parse_lp(body, len, prec, &ml, err, sizeof(err), &fatal);
    if (fatal < 0) {
        metric_list_release(&ml);
        return respond_json(conn, 500, "error", sl_strerror(fatal), NULL, NULL, NULL, NULL);
    }
    if (l->kind == LISTEN_INFLUX_V2) {
        if (bad) {
            metric_list_release(&ml);
            return respond_json(conn, 400, "code", "invalid", "message", err, NULL, NULL);
        }
        const char *bucket = MHD_lookup_connection_value(conn, MHD_GET_ARGUMENT_KIND, "bucket");
        emit(l, conn, url, &ml, l->bucket_tag && *l->bucket_tag ? l->bucket_tag : NULL, bucket);
        metric_list_release(&ml);
        return respond(conn, 204, NULL, NULL, NULL, NULL);
    }
    const char *db = MHD_lookup_connection_value(conn, MHD_GET_ARGUMENT_KIND, "db");
    const char *rp = MHD_lookup_connection_value(conn, MHD_GET_ARGUMENT_KIND, "rp");
    for (size_t i = 0; i < ml.n; i++) {
        if (l->database_tag && *l->database_tag && db && *db)
            (void)metric_add_tag(ml.v[i], l->database_tag, db);
        if (l->rp_tag && *l->rp_tag && rp && *rp) (void)metric_add_tag(ml.v[i], l->rp_tag, rp);
    }
    emit(l, conn, url, &ml, NULL, NULL);
    metric_list_release(&ml);
    if (bad) {
        char msg[700];
        if (bad == 1)
            snprintf(msg, sizeof(msg), "partial write: %s", err);
        else if (bad == 2)
            snprintf(msg, sizeof(msg), "partial write: %s (and 1 other parse error)", err);
        else
            snprintf(msg, sizeof(msg), "partial write: %s (and %d other parse errors)", err,
                     bad - 1);
        return respond_json(conn, 400, "error", msg, NULL, NULL, "X-Influxdb-Error", msg);
    }
    return respond(conn, 204, NULL, NULL, "X-Influxdb-Version", "1.0");
}

/* Routes a request before its body: returns 1 when it takes a body (write
 * endpoints), 0 when already answered (*ret set). */
static int route(struct listener *l, struct MHD_Connection *conn, const char *url,
                 const char *method, enum MHD_Result *ret)
{
    if (l->kind == LISTEN_HTTP_V2) {
        int path_ok = 0;
        for (size_t i = 0; i < l->paths.n; i++)
            if (!strcmp(l->paths.v[i], url)) path_ok = 1;
        if (!path_ok) {
            *ret =
                respond(conn, 404, "text/plain; charset=utf-8", "404 page not found\n", NULL, NULL);
            return 0;
        }
        if (!authorized(l, conn)) {
            *ret = respond(conn, 401, "text/plain; charset=utf-8", "Unauthorized\n",
                           "WWW-Authenticate", "Basic realm=\"Restricted\"");
            return 0;
        }
        int m_ok = 0;
        for (size_t i = 0; i < l->methods.n; i++)
            if (!strcmp(l->methods.v[i], method)) m_ok = 1;
        if (!m_ok) {
            *ret = respond_json(conn, 405, "error", "http: method not allowed", NULL, NULL, NULL,
                                NULL);
            return 0;
        }
        return 1;
    }
    if (l->kind == LISTEN_INFLUX_V1) {
        if (!authorized(l, conn)) {
            *ret = respond(conn, 401, "text/plain; charset=utf-8", "Unauthorized\n",
                           "WWW-Authenticate", "Basic realm=\"Restricted\"");
            return 0;
        }
        if (!strcmp(url, "/write")) {
            if (strcmp(method, "POST") != 0) {
                *ret = respond_json(conn, 405, "error", "http: method not allowed", NULL, NULL,
                                    NULL, NULL);
                return 0;
            }
            return 1;
        }
        if (!strcmp(url, "/query")) {
            *ret = respond(conn, 200, "application/json", "{\"results\":[]}", "X-Influxdb-Version",
                           "1.0");
            return 0;
        }
        if (!strcmp(url, "/ping")) {
            const char *v = MHD_lookup_connection_value(conn, MHD_GET_ARGUMENT_KIND, "verbose");
            if (v && !strcmp(v, "true"))
                *ret = respond(conn, 200, "application/json", "{\"version\":\"1.0\"}",
                               "X-Influxdb-Version", "1.0");
            else
                *ret = respond(conn, 204, NULL, NULL, "X-Influxdb-Version", "1.0");
            return 0;
        }
        *ret = respond(conn, 404, "text/plain; charset=utf-8", "404 page not found\n", NULL, NULL);
        return 0;
    }
    /* v2 */
    if (!strcmp(url, "/api/v2/write")) {
        if (!authorized(l, conn)) {
            *ret = respond_json(conn, 401, "code", "unauthorized", "message", "unauthorized access",
                                NULL, NULL);
            return 0;
        }
        if (strcmp(method, "POST") != 0) {
            *ret = respond_json(conn, 405, "code", "method not allowed", "message", "allowed: POST",
                                NULL, NULL);
            return 0;
        }
        return 1;
    }
    if (!strcmp(url, "/api/v2/ready") || !strcmp(url, "/ready")) {
        char started[64], up[64], body[256];
        sl_time_format_rfc3339(l->started, started);
        sl_duration_format(sl_now_ns() - l->started, up, sizeof(up));
        snprintf(body, sizeof(body), "{\"started\":\"%s\",\"status\":\"ready\",\"up\":\"%s\"}",
                 started, up);
        *ret = respond(conn, 200, "application/json", body, NULL, NULL);
        return 0;
    }
    if (!strcmp(url, "/health")) {
        *ret = respond(conn, 200, "application/json",
                       "{\"name\":\"influxdb\",\"message\":\"ready for queries and writes\","
                       "\"status\":\"pass\",\"checks\":[],\"version\":\"2.0\"}",
                       NULL, NULL);
        return 0;
    }
    if (!strcmp(url, "/ping")) {
        *ret = respond(conn, 204, NULL, NULL, "X-Influxdb-Version", "2.0");
        return 0;
    }
    *ret = respond_json(conn, 404, "code", "not found", "message", "path not found", NULL, NULL);
    return 0;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
                                  const char *method, const char *version, const char *upload,
                                  size_t *upload_size, void **con_cls)
{
    (void)version;
    struct listener *l = cls;
    struct lreq *r = *con_cls;
    if (!r) {
        enum MHD_Result ret = MHD_NO;
        if (!route(l, conn, url, method, &ret)) {
            /* answered; mark so later calls of this request do nothing */
            r = sl_calloc(1, sizeof(*r));
            if (!r) return MHD_NO;
            r->done = 1;
            *con_cls = r;
            return ret;
        }
        const char *cl = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Content-Length");
        if (cl && strtoll(cl, NULL, 10) > l->max_body) {
            r = sl_calloc(1, sizeof(*r));
            if (!r) return MHD_NO;
            r->done = 1;
            *con_cls = r;
            return too_large(l, conn);
        }
        if (!(r = sl_calloc(1, sizeof(*r)))) return MHD_NO;
        sl_buf_init(&r->body, (size_t)l->max_body);
        *con_cls = r;
        return MHD_YES;
    }
    if (r->done) {
        *upload_size = 0;
        return MHD_YES;
    }
    if (*upload_size) {
        if (!r->too_big && sl_buf_add(&r->body, upload, *upload_size) < 0) {
            r->too_big = 1;
            sl_buf_release(&r->body);
        }
        *upload_size = 0;
        return MHD_YES;
    }
    r->done = 1;
    if (r->too_big) return too_large(l, conn);
    const char *body = r->body.ptr ? r->body.ptr : "";
    size_t len = r->body.len;
    struct sl_buf inflated;
    sl_buf_init(&inflated, (size_t)l->max_body);
    enum MHD_Result ret;
    if (l->kind == LISTEN_HTTP_V2 && l->data_source && !strcasecmp(l->data_source, "query")) {
        struct query_collect q = {&inflated, 0};
        MHD_get_connection_values(conn, MHD_GET_ARGUMENT_KIND, collect_arg, &q);
        if (q.rc < 0) {
            ret = too_large(l, conn);
            goto out;
        }
        body = inflated.ptr ? inflated.ptr : "";
        len = inflated.len;
    } else if (is_gzip(conn)) {
        int rc = gunzip(body, len, &inflated);
        if (rc == SL_ETOOBIG) {
            ret = too_large(l, conn);
            goto out;
        }
        if (rc < 0) {
            if (l->kind == LISTEN_INFLUX_V2)
                ret = respond_json(conn, 400, "code", "invalid", "message", "bad gzip body", NULL,
                                   NULL);
            else
                ret = respond_json(conn, 400, "error", "http: bad request", NULL, NULL, NULL, NULL);
            goto out;
        }
        body = inflated.ptr ? inflated.ptr : "";
        len = inflated.len;
    }
    ret = handle_write(l, conn, url, body, len);
out:
    sl_buf_release(&inflated);
    return ret;
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
    (void)cls;
    (void)conn;
    (void)toe;
    struct lreq *r = *con_cls;
    if (!r) return;
    sl_buf_release(&r->body);
    sl_free(r);
    *con_cls = NULL;
}

/* ":8080", "localhost:8080", "[::1]:8080", "0.0.0.0:8080", "tcp://:8080". */
static int resolve(const char *addr, struct sockaddr_storage *ss, socklen_t *sl)
{
    if (!strncmp(addr, "tcp://", 6)) addr += 6;
    const char *colon = strrchr(addr, ':');
    if (!colon) return SL_EINVAL;
    char host[256];
    const char *h = addr;
    size_t hl = (size_t)(colon - addr);
    if (hl >= 2 && h[0] == '[' && h[hl - 1] == ']') h++, hl -= 2;
    if (hl >= sizeof(host)) return SL_EINVAL;
    memcpy(host, h, hl);
    host[hl] = 0;
    char *end;
    long port = strtol(colon + 1, &end, 10);
    if (*end || port < 0 || port > 65535 || end == colon + 1) return SL_EINVAL;
    memset(ss, 0, sizeof(*ss));
    if (!*host) {
        struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)ss;
        s6->sin6_family = AF_INET6;
        s6->sin6_addr = in6addr_any;
        s6->sin6_port = htons((uint16_t)port);
        *sl = sizeof(*s6);
        return 0;
    }
    struct addrinfo hints = {.ai_family = AF_UNSPEC,
                             .ai_socktype = SOCK_STREAM,
                             .ai_flags = AI_PASSIVE},
                    *res = NULL;
    if (getaddrinfo(host, NULL, &hints, &res) != 0 || !res) return SL_ENOENT;
    memcpy(ss, res->ai_addr, res->ai_addrlen);
    *sl = res->ai_addrlen;
    freeaddrinfo(res);
    if (ss->ss_family == AF_INET)
        ((struct sockaddr_in *)ss)->sin_port = htons((uint16_t)port);
    else
        ((struct sockaddr_in6 *)ss)->sin6_port = htons((uint16_t)port);
    return 0;
}

static int listener_start(void *state, struct agent_acc *acc)
{
    struct listener *l = state;
    struct sockaddr_storage ss;
    socklen_t sl = 0;
    int rc = resolve(l->service_address, &ss, &sl);
    if (rc < 0) {
        sl_error("agent", "[inputs.%s] invalid service_address '%s'", l->name, l->service_address);
        return rc;
    }
    l->acc = acc;
    l->started = sl_now_ns();
    /* a thread per connection: a slow client cannot hold up the others */
    unsigned flags =
        MHD_USE_THREAD_PER_CONNECTION | MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ERROR_LOG;
    if (ss.ss_family == AF_INET6) flags |= MHD_USE_DUAL_STACK;
    if (l->tls_cert_pem) flags |= MHD_USE_TLS;
    unsigned timeout_s = (unsigned)((l->read_timeout + SL_NS_PER_S - 1) / SL_NS_PER_S);
    if (timeout_s == 0) timeout_s = 10;
    if (l->tls_cert_pem)
        l->d = MHD_start_daemon(
            flags, 0, NULL, NULL, on_request, l, MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&ss,
            MHD_OPTION_CONNECTION_TIMEOUT, timeout_s, MHD_OPTION_CONNECTION_LIMIT, (unsigned)256,
            MHD_OPTION_THREAD_STACK_SIZE, (size_t)(1024 * 1024), MHD_OPTION_NOTIFY_COMPLETED,
            on_completed, l, MHD_OPTION_HTTPS_MEM_CERT, l->tls_cert_pem, MHD_OPTION_HTTPS_MEM_KEY,
            l->tls_key_pem, MHD_OPTION_END);
    else
        l->d = MHD_start_daemon(flags, 0, NULL, NULL, on_request, l, MHD_OPTION_SOCK_ADDR,
                                (struct sockaddr *)&ss, MHD_OPTION_CONNECTION_TIMEOUT, timeout_s,
                                MHD_OPTION_CONNECTION_LIMIT, (unsigned)256,
                                MHD_OPTION_THREAD_STACK_SIZE, (size_t)(1024 * 1024),
                                MHD_OPTION_NOTIFY_COMPLETED, on_completed, l, MHD_OPTION_END);
    if (!l->d) {
        sl_error("agent", "[inputs.%s] cannot listen on %s", l->name, l->service_address);
        return SL_EIO;
    }
    const union MHD_DaemonInfo *di = MHD_get_daemon_info(l->d, MHD_DAEMON_INFO_BIND_PORT);
    l->port = di ? di->port : 0;
    sl_info("agent", "[inputs.%s] listening on %s (port %d)", l->name, l->service_address, l->port);
    return 0;
}

static void listener_stop(void *state)
{
    struct listener *l = state;
    if (l->d) MHD_stop_daemon(l->d);
    l->d = NULL;
}

const struct agent_input_ops input_http_listener_v2 = {
    .name = "http_listener_v2",
    .sample = "[[inputs.http_listener_v2]]\n"
              "  ## Address and port to host HTTP listener on\n"
              "  service_address = \":8080\"\n"
              "  ## Paths to listen to.\n"
              "  # paths = [\"/telegraf\"]\n"
              "  ## HTTP methods to accept.\n"
              "  # methods = [\"POST\", \"PUT\"]\n"
              "  # max_body_size = \"500MB\"\n"
              "  data_format = \"influx\"\n",
    .init = http_v2_init,
    .start = listener_start,
    .stop = listener_stop,
    .free = listener_free,
};

const struct agent_input_ops input_influxdb_listener = {
    .name = "influxdb_listener",
    .sample = "[[inputs.influxdb_listener]]\n"
              "  ## Address and port to host InfluxDB listener on\n"
              "  service_address = \":8186\"\n"
              "  # max_body_size = \"32MiB\"\n"
              "  # database_tag = \"\"\n"
              "  # retention_policy_tag = \"\"\n",
    .init = influx_v1_init,
    .start = listener_start,
    .stop = listener_stop,
    .free = listener_free,
};

const struct agent_input_ops input_influxdb_v2_listener = {
    .name = "influxdb_v2_listener",
    .sample = "[[inputs.influxdb_v2_listener]]\n"
              "  ## Address and port to host InfluxDB listener on\n"
              "  service_address = \":8086\"\n"
              "  # max_body_size = \"32MiB\"\n"
              "  # bucket_tag = \"\"\n"
              "  # token = \"\"\n",
    .init = influx_v2_init,
    .start = listener_start,
    .stop = listener_stop,
    .free = listener_free,
};
