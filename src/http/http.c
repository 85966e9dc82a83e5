/*
 * http.c — libmicrohttpd glue: request collection with caps, gzip, responses,
 * request ids and the access log. See http.h for the model.
 */
#include "http/http.h"

#include <arpa/inet.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <pthread.h>
#include <sys/socket.h>
#include <time.h>
#include <zlib.h>

#include "common/err.h"
#include "common/log.h"
#include "common/mem.h"
#include "common/timeutil.h"

/* Connection watchdog. libmicrohttpd's own timeout only closes connections
 * that are idle; a client that trickles a header byte at a time, or a body
 * a byte at a time, is never idle. Every connection is tracked from accept:
 * one that has not delivered a complete request head within the header
 * timeout, or whose request (head and body) takes longer than the request
 * timeout, has its socket shut down, which makes libmicrohttpd close it. */
struct conn_track {
    int fd;
    int64_t phase_start; /* accept, or the end of the previous request */
    int64_t req_start;   /* first byte of the current request known; 0 = still in its head */
    struct conn_track *prev, *next;
};

struct http_server {
    struct MHD_Daemon *d;
    struct http_server_opts o;
    int port;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    struct conn_track *conns;
    pthread_t watchdog;
    int stop, watchdog_running;
};

/* The request's head is in (started = 1): its body timer starts. Or its body
 * is in too (started = 0): no timer runs while the handler works, since a
 * query may legitimately take longer than a body may take to arrive. */
static void conn_request_phase(struct http_server *s, struct MHD_Connection *c, int started)
{
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(c, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
    if (!ci || !ci->socket_context) return;
    struct conn_track *t = ci->socket_context;
    pthread_mutex_lock(&s->mu);
    t->req_start = started ? sl_mono_ns() : 0;
    t->phase_start = 0;
    pthread_mutex_unlock(&s->mu);
}

static void on_connection(void *cls, struct MHD_Connection *c, void **socket_context,
                          enum MHD_ConnectionNotificationCode code)
{
    struct http_server *s = cls;
    if (code == MHD_CONNECTION_NOTIFY_STARTED) {
        const union MHD_ConnectionInfo *ci =
            MHD_get_connection_info(c, MHD_CONNECTION_INFO_CONNECTION_FD);
        struct conn_track *t = sl_calloc(1, sizeof(*t));
        if (!t || !ci) {
            sl_free(t);
            return;
        }
        t->fd = ci->connect_fd;
        t->phase_start = sl_mono_ns();
        pthread_mutex_lock(&s->mu);
        t->next = s->conns;
        if (s->conns) s->conns->prev = t;
        s->conns = t;
        pthread_mutex_unlock(&s->mu);
        *socket_context = t;
    } else if (code == MHD_CONNECTION_NOTIFY_CLOSED && *socket_context) {
        struct conn_track *t = *socket_context;
        pthread_mutex_lock(&s->mu);
        if (t->prev)
            t->prev->next = t->next;
        else
            s->conns = t->next;
        if (t->next) t->next->prev = t->prev;
        pthread_mutex_unlock(&s->mu);
        sl_free(t);
        *socket_context = NULL;
    }
}

/* Called when a request line has been read: the head timer of a request on
 * a kept-alive connection starts here. Returns NULL (no request context). */
static void *uri_log(void *cls, const char *uri, struct MHD_Connection *c)
{
    (void)uri;
    struct http_server *s = cls;
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(c, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
    if (ci && ci->socket_context) {
        struct conn_track *t = ci->socket_context;
        pthread_mutex_lock(&s->mu);
        if (!t->phase_start && !t->req_start) t->phase_start = sl_mono_ns();
        pthread_mutex_unlock(&s->mu);
    }
    return NULL;
}

static void *watchdog_main(void *arg)
{
    struct http_server *s = arg;
    int64_t head_ns = (int64_t)(s->o.header_timeout_s ? s->o.header_timeout_s : 10) * SL_NS_PER_S;
    int64_t req_ns = (int64_t)(s->o.request_timeout_s ? s->o.request_timeout_s : 120) * SL_NS_PER_S;
    pthread_mutex_lock(&s->mu);
    while (!s->stop) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_nsec += 250 * 1000000L;
        if (ts.tv_nsec >= 1000000000L) {
            ts.tv_sec++;
            ts.tv_nsec -= 1000000000L;
        }
        pthread_cond_timedwait(&s->cv, &s->mu, &ts);
        int64_t now = sl_mono_ns();
        for (struct conn_track *t = s->conns; t; t = t->next) {
            int slow_head = !t->req_start && t->phase_start && now - t->phase_start > head_ns;
            int slow_req = t->req_start && now - t->req_start > req_ns;
            if ((slow_head || slow_req) && t->fd >= 0) {
                shutdown(t->fd, SHUT_RDWR);
                t->phase_start = 0; /* once */
                t->req_start = 0;
            }
        }
    }
    pthread_mutex_unlock(&s->mu);
    return NULL;
}

/* ---- gzip ---- */

int http_gunzip(const void *in, size_t len, struct sl_buf *out, size_t max)
{
    z_stream zs;
    memset(&zs, 0, sizeof(zs));
    if (inflateInit2(&zs, 16 + MAX_WBITS) != Z_OK) return SL_ENOMEM;
    zs.next_in = (Bytef *)in;
    zs.avail_in = (uInt)len;
    int rc = 0;
    for (;;) {
        if (out->len >= max) {
            rc = SL_ETOOBIG;
            break;
        }
        size_t room = max - out->len;
        size_t chunk = room < 256 * 1024 ? room : 256 * 1024;
        if ((rc = sl_buf_reserve(out, chunk)) < 0) break;
        zs.next_out = (Bytef *)out->ptr + out->len;
        zs.avail_out = (uInt)chunk;
        int z = inflate(&zs, Z_NO_FLUSH);
        out->len += chunk - zs.avail_out;
        out->ptr[out->len] = '\0';
        if (z == Z_STREAM_END) {
            /* concatenated gzip members (gzip -c a b) are one body */
            if (zs.avail_in > 0) {
                inflateReset(&zs);
                continue;
            }
            rc = 0;
            break;
        }
        if (z == Z_BUF_ERROR && zs.avail_in == 0) {
            rc = SL_EINVAL; /* truncated stream */
            break;
        }
        if (z != Z_OK) {
            rc = z == Z_MEM_ERROR ? SL_ENOMEM : SL_EINVAL;
            break;
        }
    }
    inflateEnd(&zs);
    return rc;
}

size_t http_url_decode(char *s, size_t len, int form)
{
    size_t o = 0;
    for (size_t i = 0; i < len; i++) {
        char c = s[i];
        if (c == '+' && form)
            c = ' ';
        else if (c == '%' && i + 2 < len) {
            int hi = s[i + 1], lo = s[i + 2];
            int h = hi >= '0' && hi <= '9'                 ? hi - '0'
                    : (hi | 32) >= 'a' && (hi | 32) <= 'f' ? (hi | 32) - 'a' + 10
                                                           : -1;
            int l = lo >= '0' && lo <= '9'                 ? lo - '0'
                    : (lo | 32) >= 'a' && (lo | 32) <= 'f' ? (lo | 32) - 'a' + 10
                                                           : -1;
            if (h >= 0 && l >= 0) {
                c = (char)(h * 16 + l);
                i += 2;
            }
        }
        s[o++] = c;
    }
    if (o < len) s[o] = '\0';
    return o;
}

/* ---- accessors ---- */

const char *http_query(struct http_req *r, const char *key)
{
    return MHD_lookup_connection_value(r->conn, MHD_GET_ARGUMENT_KIND, key);
}

const char *http_header(struct http_req *r, const char *name)
{
    return MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, name);
}

void http_peer(struct http_req *r, char *out, size_t cap)
{
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(r->conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    out[0] = '\0';
    if (!ci || !ci->client_addr) return;
    const struct sockaddr *sa = ci->client_addr;
    if (sa->sa_family == AF_INET)
        inet_ntop(AF_INET, &((const struct sockaddr_in *)sa)->sin_addr, out, (socklen_t)cap);
    else if (sa->sa_family == AF_INET6)
        inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)sa)->sin6_addr, out, (socklen_t)cap);
}

void http_resp_header(struct http_resp *resp, const char *name, const char *value)
{
    if (resp->nheaders >= HTTP_MAX_HEADERS) return;
    snprintf(resp->headers[resp->nheaders].name, sizeof(resp->headers[0].name), "%s", name);
    snprintf(resp->headers[resp->nheaders].value, sizeof(resp->headers[0].value), "%s", value);
    resp->nheaders++;
}

void http_resp_error(struct http_resp *resp, int status, const char *msg)
{
    resp->status = status;
    resp->content_type = "application/json";
    sl_buf_reset(&resp->body);
    sl_buf_adds(&resp->body, "{\"error\":");
    sl_buf_add_json_str(&resp->body, msg, strlen(msg));
    sl_buf_adds(&resp->body, "}\n");
}

void http_resp_error_v2(struct http_resp *resp, int status, const char *code, const char *msg)
{
    resp->status = status;
    resp->content_type = "application/json";
    sl_buf_reset(&resp->body);
    sl_buf_adds(&resp->body, "{\"code\":");
    sl_buf_add_json_str(&resp->body, code, strlen(code));
    sl_buf_adds(&resp->body, ",\"message\":");
    sl_buf_add_json_str(&resp->body, msg, strlen(msg));
    sl_buf_adds(&resp->body, "}\n");
}

/* ---- request lifecycle ---- */

static void req_free(struct http_req *r)
{
    if (!r) return;
    sl_buf_release(&r->body);
    sl_free(r);
}

static void on_completed(void *cls, struct MHD_Connection *c, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
    (void)toe;
    struct http_server *s = cls;
    req_free(*con_cls);
    *con_cls = NULL;
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(c, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
    if (ci && ci->socket_context) {
        struct conn_track *t = ci->socket_context;
        pthread_mutex_lock(&s->mu);
        /* between requests the connection is idle, which libmicrohttpd's own
         * timeout handles; the next head's timer starts with its request line
         * (uri_log) */
        t->req_start = 0;
        t->phase_start = 0;
        pthread_mutex_unlock(&s->mu);
    }
}

static enum MHD_Result send_resp(struct http_server *s, struct http_req *r, struct http_resp *resp)
{
    size_t len = resp->body.len;
    char *body = sl_buf_detach(&resp->body, NULL);
    struct MHD_Response *mr = MHD_create_response_from_buffer_with_free_callback(len, body, free);
    if (!mr) {
        free(body);
        return MHD_NO;
    }
    if (resp->content_type && len) MHD_add_response_header(mr, "Content-Type", resp->content_type);
    MHD_add_response_header(mr, "Request-Id", r->id);
    MHD_add_response_header(mr, "X-Request-Id", r->id);
    for (int i = 0; i < resp->nheaders; i++)
        MHD_add_response_header(mr, resp->headers[i].name, resp->headers[i].value);
    enum MHD_Result ret = MHD_queue_response(r->conn, (unsigned)resp->status, mr);
    MHD_destroy_response(mr);
    if (s->o.access_log) {
        char peer[64];
        http_peer(r, peer, sizeof(peer));
        sl_info("access", "%s %s %s %d %zu %zu %.3fms id=%s", peer, r->method, r->path,
                resp->status, r->wire_bytes, len, (sl_mono_ns() - r->start_mono_ns) / 1e6, r->id);
    }
    return ret;
}

static enum MHD_Result quick_error(struct http_server *s, struct http_req *r, int status,
                                   const char *msg)
{
    struct http_resp resp;
    memset(&resp, 0, sizeof(resp));
    sl_buf_init(&resp.body, 0);
    if (!strncmp(r->path, "/api/v2/", 8)) {
        const char *code = status == 413   ? "request too large"
                           : status == 408 ? "request timeout"
                                           : "invalid";
        http_resp_error_v2(&resp, status, code, msg);
        http_resp_header(&resp, "X-Platform-Error-Code", code);
    } else {
        http_resp_error(&resp, status, msg);
        if (!strcmp(r->path, "/write")) http_resp_header(&resp, "X-Influxdb-Error", msg);
    }
    return send_resp(s, r, &resp);
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
                                  const char *method, const char *version, const char *upload_data,
                                  size_t *upload_data_size, void **con_cls)
{
    (void)version;
    struct http_server *s = cls;
    struct http_req *r = *con_cls;
    if (!r) {
        r = sl_calloc(1, sizeof(*r));
        if (!r) return MHD_NO;
        r->conn = conn;
        r->method = method;
        r->path = url;
        r->start_mono_ns = sl_mono_ns();
        sl_buf_init(&r->body, s->o.max_body);
        unsigned char rnd[8];
        RAND_bytes(rnd, sizeof(rnd));
        for (int i = 0; i < 8; i++)
            snprintf(r->id + 2 * i, 3, "%02x", rnd[i]);
        const char *ce = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Content-Encoding");
        if (ce && *ce) {
            if (!strcasecmp(ce, "gzip") || !strcasecmp(ce, "x-gzip"))
                r->gzip = 1;
            else if (strcasecmp(ce, "identity") != 0)
                r->bad_encoding = 1;
        }
        const char *cl = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Content-Length");
        unsigned long long clen = cl ? strtoull(cl, NULL, 10) : 0;
        if (clen > s->o.max_body) r->too_large = 1;
        /* one allocation for the whole body instead of doubling as it arrives */
        else if (clen && sl_buf_reserve(&r->body, (size_t)clen) < 0)
            r->too_large = 1;
        *con_cls = r;
        conn_request_phase(s, conn, 1);
        if (r->too_large) {
            /* Answer before reading the body: clients that send Expect:
             * 100-continue never upload it. */
            r->early_answered = 1;
            return quick_error(s, r, 413, "request entity too large: body exceeds the limit");
        }
        return MHD_YES;
    }
    if (*upload_data_size) {
        /* libmicrohttpd cannot send a response in the middle of an upload:
         * an oversized body is discarded and answered when it ends (a body
         * that never ends is cut off by the watchdog's request timeout). */
        size_t n = *upload_data_size;
        *upload_data_size = 0;
        r->wire_bytes += n;
        if (r->too_large) return MHD_YES;
        if (sl_buf_add(&r->body, upload_data, n) < 0) {
            r->too_large = 1;
            sl_buf_release(&r->body);
        }
        return MHD_YES;
    }
    if (r->early_answered) return MHD_YES;
    conn_request_phase(s, conn, 0);
    if (r->too_large)
        return quick_error(s, r, 413, "request entity too large: body exceeds the limit");
    if (r->bad_encoding)
        return quick_error(s, r, 400, "unsupported Content-Encoding: use gzip or identity");
    if (r->gzip && r->body.len) {
        struct sl_buf plain;
        sl_buf_init(&plain, s->o.max_body);
        int rc = http_gunzip(r->body.ptr, r->body.len, &plain, s->o.max_body);
        if (rc < 0) {
            sl_buf_release(&plain);
            if (rc == SL_ETOOBIG)
                return quick_error(s, r, 413,
                                   "request entity too large: decompressed body exceeds the limit");
            return quick_error(s, r, 400, "invalid gzip body");
        }
        sl_buf_release(&r->body);
        r->body = plain;
    }
    struct http_resp resp;
    memset(&resp, 0, sizeof(resp));
    sl_buf_init(&resp.body, 0);
    resp.status = 500;
    s->o.handler(s->o.app, r, &resp);
    return send_resp(s, r, &resp);
}

static int parse_bind(const char *bind, struct sockaddr_storage *ss, socklen_t *len)
{
    char host[256] = "";
    const char *colon = strrchr(bind, ':');
    if (!colon) return SL_EINVAL;
    char *end;
    long port = strtol(colon + 1, &end, 10);
    if (*end || port < 0 || port > 65535 || end == colon + 1) return SL_EINVAL;
    size_t hl = (size_t)(colon - bind);
    if (hl >= sizeof(host)) return SL_EINVAL;
    memcpy(host, bind, hl);
    host[hl] = '\0';
    memset(ss, 0, sizeof(*ss));
    if (host[0] == '[') {
        size_t n = strlen(host);
        if (n < 2 || host[n - 1] != ']') return SL_EINVAL;
        host[n - 1] = '\0';
        struct sockaddr_in6 *a = (struct sockaddr_in6 *)ss;
        a->sin6_family = AF_INET6;
        a->sin6_port = htons((uint16_t)port);
        if (inet_pton(AF_INET6, host + 1, &a->sin6_addr) != 1) return SL_EINVAL;
        *len = sizeof(*a);
        return 0;
    }
    struct sockaddr_in *a = (struct sockaddr_in *)ss;
    a->sin_family = AF_INET;
    a->sin_port = htons((uint16_t)port);
    if (!host[0] || !strcmp(host, "0.0.0.0"))
        a->sin_addr.s_addr = htonl(INADDR_ANY);
    else if (!strcmp(host, "localhost"))
        a->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    else if (inet_pton(AF_INET, host, &a->sin_addr) != 1)
        return SL_EINVAL;
    *len = sizeof(*a);
    return 0;
}

int http_server_start(const struct http_server_opts *o, struct http_server **out, char *err,
                      size_t errlen)
{
    struct sockaddr_storage ss;
    socklen_t sl;
    if (parse_bind(o->bind, &ss, &sl) < 0) {
        snprintf(err, errlen, "invalid bind address \"%s\" (want HOST:PORT)", o->bind);
        return SL_EINVAL;
    }
    struct http_server *s = sl_calloc(1, sizeof(*s));
    if (!s) return SL_ENOMEM;
    s->o = *o;
    pthread_mutex_init(&s->mu, NULL);
    pthread_cond_init(&s->cv, NULL);
    unsigned flags = MHD_USE_THREAD_PER_CONNECTION | MHD_USE_INTERNAL_POLLING_THREAD |
                     MHD_USE_AUTO | MHD_USE_ERROR_LOG;
    if (ss.ss_family == AF_INET6) flags |= MHD_USE_IPv6;
    s->d = MHD_start_daemon(
        flags, 0, NULL, NULL, on_request, s, MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&ss,
        MHD_OPTION_CONNECTION_LIMIT, o->max_conns ? o->max_conns : 512,
        MHD_OPTION_PER_IP_CONNECTION_LIMIT, o->max_conns_per_ip, MHD_OPTION_CONNECTION_TIMEOUT,
        o->idle_timeout_s ? o->idle_timeout_s : 60, MHD_OPTION_CONNECTION_MEMORY_LIMIT,
        (size_t)(o->max_header_bytes ? o->max_header_bytes : 64 * 1024),
        MHD_OPTION_THREAD_STACK_SIZE, (size_t)(512 * 1024), MHD_OPTION_NOTIFY_CONNECTION,
        on_connection, s, MHD_OPTION_URI_LOG_CALLBACK, uri_log, s, MHD_OPTION_NOTIFY_COMPLETED,
        on_completed, s, MHD_OPTION_LISTENING_ADDRESS_REUSE, (unsigned)1, MHD_OPTION_END);
    if (!s->d) {
        snprintf(err, errlen, "cannot listen on %s (address in use or not permitted)", o->bind);
        sl_free(s);
        return SL_EIO;
    }
    const union MHD_DaemonInfo *di = MHD_get_daemon_info(s->d, MHD_DAEMON_INFO_BIND_PORT);
    s->port = di ? di->port : 0;
    if (pthread_create(&s->watchdog, NULL, watchdog_main, s) == 0) s->watchdog_running = 1;
    *out = s;
    return 0;
}

void http_server_stop(struct http_server *s)
{
    if (!s) return;
    if (s->watchdog_running) {
        pthread_mutex_lock(&s->mu);
        s->stop = 1;
        pthread_cond_signal(&s->cv);
        pthread_mutex_unlock(&s->mu);
        pthread_join(s->watchdog, NULL);
    }
    MHD_stop_daemon(s->d);
    pthread_mutex_destroy(&s->mu);
    pthread_cond_destroy(&s->cv);
    sl_free(s);
}

int http_server_port(struct http_server *s)
{
    return s->port;
}
