/*
 * http.h — the HTTP server glue over libmicrohttpd.
 *
 * The server collects a request (headers and the whole body, with hard caps),
 * decompresses gzip bodies with a cap on the decompressed size, and calls one
 * handler with a struct http_req; the handler fills a struct http_resp. Each
 * connection has its own thread (libmicrohttpd's thread-per-connection mode):
 * a write handler blocks while its WAL record is synced, and group commit
 * depends on several requests waiting at once. Connection count, idle time,
 * header memory, body size and total request time are all bounded, so slow or
 * numerous clients cannot starve the others or exhaust memory.
 */
#ifndef SL_HTTP_HTTP_H
#define SL_HTTP_HTTP_H

#include <stddef.h>
#include <stdint.h>

#include "common/buf.h"

struct MHD_Connection;

struct http_req {
    struct MHD_Connection *conn;
    const char *method;
    const char *path;
    struct sl_buf body; /* decompressed body */
    size_t wire_bytes;  /* body bytes as received */
    char id[17];        /* request id (hex), echoed as Request-Id */
    int64_t start_mono_ns;
    int too_large;      /* body over the cap: 413 */
    int early_answered; /* the 413 went out before the body */
    int bad_encoding;   /* unsupported Content-Encoding: 400 */
    int gzip;
    void *user; /* for the handler */
};

#define HTTP_MAX_HEADERS 8

struct http_resp {
    int status;
    const char *content_type; /* static string */
    struct sl_buf body;
    int nheaders;
    struct {
        char name[48];
        char value[1100];
    } headers[HTTP_MAX_HEADERS];
};

typedef void (*http_handler_fn)(void *app, struct http_req *req, struct http_resp *resp);

struct http_server_opts {
    const char *bind;   /* "host:port", ":port" or "[v6]:port" */
    size_t max_body;    /* bytes on the wire and after decompression */
    unsigned max_conns; /* concurrent connections */
    unsigned max_conns_per_ip;
    unsigned idle_timeout_s;    /* close a connection idle this long */
    unsigned header_timeout_s;  /* a request head must arrive within this (0 = 10 s) */
    unsigned request_timeout_s; /* a request's body must arrive within this (0 = 120 s) */
    size_t max_header_bytes;    /* memory for the request line and headers */
    int access_log;
    http_handler_fn handler;
    void *app;
};

struct http_server;

int http_server_start(const struct http_server_opts *o, struct http_server **out, char *err,
                      size_t errlen);
void http_server_stop(struct http_server *s);
/* The port actually bound (useful with port 0). */
int http_server_port(struct http_server *s);

/* Request accessors: NULL when absent. */
const char *http_query(struct http_req *r, const char *key);
const char *http_header(struct http_req *r, const char *name);
/* The client address as text. */
void http_peer(struct http_req *r, char *out, size_t cap);

/* Response helpers. */
void http_resp_header(struct http_resp *resp, const char *name, const char *value);
/* Sets status and a JSON body {"error": msg} (v1/v3 style). */
void http_resp_error(struct http_resp *resp, int status, const char *msg);
/* Sets status and a v2-style body {"code": code, "message": msg}. */
void http_resp_error_v2(struct http_resp *resp, int status, const char *code, const char *msg);

/* Inflates a gzip stream into out (at most max bytes: SL_ETOOBIG beyond,
 * SL_EINVAL on a malformed stream). */
int http_gunzip(const void *in, size_t len, struct sl_buf *out, size_t max);
/* Percent-decodes (and '+' → space when form) in place; returns the new length. */
size_t http_url_decode(char *s, size_t len, int form);

#endif
