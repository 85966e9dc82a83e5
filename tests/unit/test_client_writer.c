/*
 * test_client_writer.c — the batching writer against a tiny HTTP/1.1 server
 * that runs in a thread of this test and answers each request as the test
 * scenario says (204, 413 above a size, 429 with Retry-After, 500, 400 with
 * an error body, a dropped connection, garbage). Every scenario checks that
 * the set of lines the server accepted (answered 2xx) equals the set written,
 * each exactly once and in order, and that drops are reported with the
 * server's message.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>

#include <cmocka.h>

#include "common/timeutil.h"
#include "sluice/point.h"
#include "sluice/writer.h"

/* ---- the test server ---- */

struct req {
    char method[8];
    char target[512];
    char auth[256];
    int gzip;
    char *body; /* decompressed, malloc'd */
    size_t body_len;
    size_t lines;
    int index; /* 0-based request number */
};

struct reply {
    int status;        /* 0: close the connection without answering */
    char headers[256]; /* extra header lines, each ending in \r\n */
    const char *body;
    int garbage; /* send a malformed status line instead */
};

struct srv;
typedef void (*respond_fn)(struct srv *s, const struct req *rq, struct reply *rp);

struct srv {
    int lfd, port;
    pthread_t th;
    volatile int stop;
    respond_fn respond;
    void *arg;
    pthread_mutex_t mu;
    int nreq;
    /* lines accepted (2xx), in arrival order */
    char **acc;
    size_t nacc, acc_cap;
    char last_target[512];
    char last_auth[256];
    int saw_gzip;
    int64_t first_ns, last_ns; /* arrival times of first and last requests */
    int conns;
};

static int read_full(int fd, char *buf, size_t n, volatile int *stop)
{
    size_t got = 0;
    while (got < n) {
        struct pollfd p = {fd, POLLIN, 0};
        int r = poll(&p, 1, 50);
        if (r == 0) {
            if (*stop) return -1;
            continue;
        }
        ssize_t k = read(fd, buf + got, n - got);
        if (k <= 0) return -1;
        got += (size_t)k;
    }
    return 0;
}

static int gunzip(const char *in, size_t n, char **out, size_t *olen)
{
    size_t cap = n * 20 + 1024;
    char *o = malloc(cap);
    z_stream zs;
    memset(&zs, 0, sizeof(zs));
    if (!o || inflateInit2(&zs, 15 + 16) != Z_OK) return -1;
    zs.next_in = (Bytef *)in;
    zs.avail_in = (uInt)n;
    zs.next_out = (Bytef *)o;
    zs.avail_out = (uInt)cap;
    int r = inflate(&zs, Z_FINISH);
    *olen = zs.total_out;
    inflateEnd(&zs);
    if (r != Z_STREAM_END) {
        free(o);
        return -1;
    }
    *out = o;
    return 0;
}

static void record_accepted(struct srv *s, const struct req *rq)
{
    const char *p = rq->body, *end = rq->body + rq->body_len;
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        size_t n = nl ? (size_t)(nl - p) : (size_t)(end - p);
        if (s->nacc == s->acc_cap) {
            s->acc_cap = s->acc_cap ? s->acc_cap * 2 : 1024;
            s->acc = realloc(s->acc, s->acc_cap * sizeof(char *));
        }
        s->acc[s->nacc++] = strndup(p, n);
        p += n + 1;
    }
}

/* Serves one connection until the client closes it or a reply closes it. */
static void serve_conn(struct srv *s, int fd)
{
    char hdr[16384];
    for (;;) {
        size_t hl = 0;
        char *eoh = NULL;
        while (!eoh) {
            if (hl == sizeof(hdr) - 1) return;
            struct pollfd p = {fd, POLLIN, 0};
            int r = poll(&p, 1, 50);
            if (r == 0) {
                if (s->stop) return;
                continue;
            }
            ssize_t k = read(fd, hdr + hl, 1); /* byte by byte: never read into the body */
            if (k <= 0) return;
            hl++;
            hdr[hl] = 0;
            eoh = hl >= 4 ? strstr(hdr + hl - 4, "\r\n\r\n") : NULL;
        }
        struct req rq;
        memset(&rq, 0, sizeof(rq));
        size_t clen = 0;
        sscanf(hdr, "%7s %511s", rq.method, rq.target);
        for (char *line = strstr(hdr, "\r\n"); line && line < eoh;
             line = strstr(line + 2, "\r\n")) {
            char *h = line + 2;
            if (!strncasecmp(h, "Content-Length:", 15)) clen = strtoul(h + 15, NULL, 10);
            if (!strncasecmp(h, "Content-Encoding: gzip", 22)) rq.gzip = 1;
            if (!strncasecmp(h, "Authorization: ", 15)) {
                char *e = strstr(h, "\r\n");
                size_t n = (size_t)(e - h - 15);
                if (n >= sizeof(rq.auth)) n = sizeof(rq.auth) - 1;
                memcpy(rq.auth, h + 15, n);
            }
        }
        char *raw = malloc(clen + 1);
        if (!raw || read_full(fd, raw, clen, &s->stop) < 0) {
            free(raw);
            return;
        }
        raw[clen] = 0;
        if (rq.gzip) {
            if (gunzip(raw, clen, &rq.body, &rq.body_len) < 0) {
                free(raw);
                return;
            }
            free(raw);
        } else {
            rq.body = raw;
            rq.body_len = clen;
        }
        for (size_t i = 0; i < rq.body_len; i++)
            rq.lines += rq.body[i] == '\n';
        if (rq.body_len && rq.body[rq.body_len - 1] != '\n') rq.lines++;

        struct reply rp = {204, "", NULL, 0};
        pthread_mutex_lock(&s->mu);
        rq.index = s->nreq++;
        s->last_ns = sl_mono_ns();
        if (rq.index == 0) s->first_ns = s->last_ns;
        memcpy(s->last_target, rq.target, sizeof(rq.target));
        memcpy(s->last_auth, rq.auth, sizeof(rq.auth));
        s->saw_gzip |= rq.gzip;
        s->respond(s, &rq, &rp);
        if (rp.status >= 200 && rp.status < 300 && !rp.garbage) record_accepted(s, &rq);
        pthread_mutex_unlock(&s->mu);
        free(rq.body);

        if (rp.status == 0) return;
        char out[8192];
        const char *body = rp.body ? rp.body : "";
        int n = rp.garbage
                    ? snprintf(out, sizeof(out), "HTTQ/9 what\r\n\r\n")
                    : snprintf(out, sizeof(out), "HTTP/1.1 %d X\r\n%sContent-Length: %zu\r\n\r\n",
                               rp.status, rp.headers, strlen(body));
        if (write(fd, out, (size_t)n) != n) return;
        if (!rp.garbage && *body) {
            size_t bl = strlen(body), off = 0;
            while (off < bl) {
                ssize_t k = write(fd, body + off, bl - off);
                if (k <= 0) return;
                off += (size_t)k;
            }
        }
        if (rp.garbage) return;
    }
}

static void *srv_main(void *arg)
{
    struct srv *s = arg;
    while (!s->stop) {
        struct pollfd p = {s->lfd, POLLIN, 0};
        if (poll(&p, 1, 50) <= 0) continue;
        int fd = accept(s->lfd, NULL, NULL);
        if (fd < 0) continue;
        s->conns++;
        serve_conn(s, fd);
        close(fd);
    }
    return NULL;
}

static struct srv *srv_start(respond_fn fn, void *arg)
{
    struct srv *s = calloc(1, sizeof(*s));
    assert_non_null(s);
    s->respond = fn;
    s->arg = arg;
    pthread_mutex_init(&s->mu, NULL);
    s->lfd = socket(AF_INET, SOCK_STREAM, 0);
    assert_true(s->lfd >= 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    assert_int_equal(bind(s->lfd, (struct sockaddr *)&a, sizeof(a)), 0);
    assert_int_equal(listen(s->lfd, 16), 0);
    socklen_t al = sizeof(a);
    getsockname(s->lfd, (struct sockaddr *)&a, &al);
    s->port = ntohs(a.sin_port);
    assert_int_equal(pthread_create(&s->th, NULL, srv_main, s), 0);
    return s;
}

static void srv_stop(struct srv *s)
{
    s->stop = 1;
    pthread_join(s->th, NULL);
    close(s->lfd);
    for (size_t i = 0; i < s->nacc; i++)
        free(s->acc[i]);
    free(s->acc);
    pthread_mutex_destroy(&s->mu);
    free(s);
}

/* ---- helpers ---- */

struct errlog {
    pthread_mutex_t mu;
    int drops, retries;
    size_t dropped_lines;
    long last_status;
    int last_code, last_attempt;
    char last_msg[8192];
};

static void on_error(void *ctx, const struct sl_write_error *e)
{
    struct errlog *l = ctx;
    pthread_mutex_lock(&l->mu);
    if (e->dropped) {
        l->drops++;
        l->dropped_lines += e->lines;
    } else {
        l->retries++;
    }
    l->last_status = e->http_status;
    l->last_code = e->code;
    l->last_attempt = e->attempt;
    snprintf(l->last_msg, sizeof(l->last_msg), "%s", e->message);
    pthread_mutex_unlock(&l->mu);
}

static char url[64];

static void opts_init(struct sl_writer_opts *o, struct srv *s, struct errlog *l)
{
    memset(o, 0, sizeof(*o));
    snprintf(url, sizeof(url), "http://127.0.0.1:%d/", s->port);
    o->url = url;
    o->db = "testdb";
    o->api = SL_API_V1;
    o->batch_lines = 1000;
    o->flush_interval_ms = -1;
    o->retry_initial_ms = 5;
    o->retry_max_ms = 20;
    o->retry_after_max_ms = 300;
    o->timeout_ms = 5000;
    o->on_error = on_error;
    o->on_error_ctx = l;
    memset(l, 0, sizeof(*l));
    pthread_mutex_init(&l->mu, NULL);
}

static void line_for(char *out, size_t cap, int writer, int i)
{
    snprintf(out, cap, "m,w=%d v=%di,pad=\"%0*d\" %d", writer, i, 20, i, 1000 + i);
}

static void write_n(struct sl_writer *w, int writer, int n)
{
    char line[128];
    for (int i = 0; i < n; i++) {
        line_for(line, sizeof(line), writer, i);
        assert_int_equal(sl_writer_write_lines(w, line, strlen(line)), 0);
    }
}

/* The server accepted exactly lines 0..n-1 of `writer`, in order, once. */
static void assert_accepted_exactly(struct srv *s, int nwriters, int n)
{
    char line[128];
    int *next = calloc((size_t)nwriters, sizeof(int));
    assert_int_equal(s->nacc, (size_t)nwriters * (size_t)n);
    for (size_t k = 0; k < s->nacc; k++) {
        int wi = -1;
        assert_int_equal(sscanf(s->acc[k], "m,w=%d", &wi), 1);
        assert_true(wi >= 0 && wi < nwriters);
        line_for(line, sizeof(line), wi, next[wi]++);
        assert_string_equal(s->acc[k], line);
    }
    for (int i = 0; i < nwriters; i++)
        assert_int_equal(next[i], n);
    free(next);
}

/* ---- scenarios ---- */

static void r_ok(struct srv *s, const struct req *rq, struct reply *rp)
{
    (void)s, (void)rq, (void)rp;
}

static void test_batches_and_params(void **state)
{
    (void)state;
    struct srv *s = srv_start(r_ok, NULL);
    struct sl_writer_opts o;
    struct errlog l;
    opts_init(&o, s, &l);
    o.token = "sekrit";
    o.precision = SL_PREC_S;
    o.rp = "a b";
    struct sl_writer *w;
    assert_int_equal(sl_writer_new(&w, &o), 0);
    write_n(w, 0, 10000);
    assert_int_equal(sl_writer_flush(w), 0);
    struct sl_writer_stats st;
    sl_writer_stats(w, &st);
    assert_int_equal(st.lines_written, 10000);
    assert_int_equal(st.lines_delivered, 10000);
    assert_int_equal(st.batches_delivered, 10);
    assert_int_equal(st.requests, 10);
    assert_int_equal(st.lines_dropped, 0);
    assert_int_equal(s->nreq, 10);
    assert_int_equal(s->conns, 1); /* connection reuse */
    assert_string_equal(s->last_target, "/write?db=testdb&rp=a%20b&precision=s");
    assert_string_equal(s->last_auth, "Token sekrit");
    assert_int_equal(sl_writer_close(w), 0);
    assert_int_equal(sl_writer_write_lines(w, "m v=1", 5), SL_ESTATE);
    sl_writer_free(w);
    assert_accepted_exactly(s, 1, 10000);
    srv_stop(s);
}

static void test_api_urls(void **state)
{
    (void)state;
    struct srv *s = srv_start(r_ok, NULL);
    struct sl_writer_opts o;
    struct errlog l;
    struct sl_writer *w;
    opts_init(&o, s, &l);
    o.api = SL_API_V2;
    o.org = "o";
    o.token = "t";
    o.precision = SL_PREC_MS;
    assert_int_equal(sl_writer_new(&w, &o), 0);
    write_n(w, 0, 1);
    assert_int_equal(sl_writer_flush(w), 0);
    assert_string_equal(s->last_target, "/api/v2/write?bucket=testdb&org=o&precision=ms");
    assert_string_equal(s->last_auth, "Token t");
    sl_writer_free(w);

    o.api = SL_API_V3;
    o.precision = SL_PREC_DEFAULT;
    assert_int_equal(sl_writer_new(&w, &o), 0);
    write_n(w, 0, 1);
    assert_int_equal(sl_writer_flush(w), 0);
    assert_string_equal(s->last_target, "/api/v3/write_lp?db=testdb");
    assert_string_equal(s->last_auth, "Bearer t");
    sl_writer_free(w);

    /* bad options */
    o.db = "";
    assert_int_equal(sl_writer_new(&w, &o), SL_EINVAL);
    assert_null(w);
    o.db = "x";
    o.url = NULL;
    assert_int_equal(sl_writer_new(&w, &o), SL_EINVAL);
    o.url = url;
    o.api = 7;
    assert_int_equal(sl_writer_new(&w, &o), SL_EINVAL);
    o.api = SL_API_V1;
    o.precision = 99;
    assert_int_equal(sl_writer_new(&w, &o), SL_EINVAL);
    srv_stop(s);
}

/* 413 for any body over 300 lines: 1000 -> 500 -> 250 */
static void r_413(struct srv *s, const struct req *rq, struct reply *rp)
{
    (void)s;
    if (rq->lines > 300) {
        rp->status = 413;
        rp->body = "{\"error\":\"Request Entity Too Large\"}";
    }
}

static void test_split_413(void **state)
{
    (void)state;
    struct srv *s = srv_start(r_413, NULL);
    struct sl_writer_opts o;
    struct errlog l;
    struct sl_writer *w;
    opts_init(&o, s, &l);
    o.gzip = 1;
    assert_int_equal(sl_writer_new(&w, &o), 0);
    write_n(w, 0, 3000);
    assert_int_equal(sl_writer_flush(w), 0);
    struct sl_writer_stats st;
    sl_writer_stats(w, &st);
    assert_int_equal(st.lines_delivered, 3000);
    assert_int_equal(st.splits, 3 * 3); /* per batch: 1000, 500, 500 */
    assert_int_equal(st.batches_delivered, 3 * 4);
    assert_int_equal(l.drops, 0);
    assert_true(s->saw_gzip);
    sl_writer_free(w);
    assert_accepted_exactly(s, 1, 3000);
    srv_stop(s);
}

static void r_413_always(struct srv *s, const struct req *rq, struct reply *rp)
{
    (void)s, (void)rq;
    rp->status = 413;
    rp->body = "too big";
}

static void test_split_down_to_one_line_drops(void **state)
{
    (void)state;
    struct srv *s = srv_start(r_413_always, NULL);
    struct sl_writer_opts o;
    struct errlog l;
    struct sl_writer *w;
    opts_init(&o, s, &l);
    o.batch_lines = 4;
    assert_int_equal(sl_writer_new(&w, &o), 0);
    write_n(w, 0, 4);
    assert_int_equal(sl_writer_flush(w), SL_ETOOBIG);
    struct sl_writer_stats st;
    sl_writer_stats(w, &st);
    assert_int_equal(st.lines_dropped, 4);
    assert_int_equal(st.requests, 7); /* 4, 2, 1, 1, 2, 1, 1 */
    assert_int_equal(l.drops, 4);
    assert_int_equal(l.last_status, 413);
    sl_writer_free(w);
    srv_stop(s);
}

/* 429 with Retry-After: 5 on the first request; the writer caps it at 300 ms */
static void r_429_once(struct srv *s, const struct req *rq, struct reply *rp)
{
    (void)s;
    if (rq->index == 0) {
        rp->status = 429;
        snprintf(rp->headers, sizeof(rp->headers), "Retry-After: 5\r\n");
    } else if (rq->index == 1) {
        rp->status = 503;
        snprintf(rp->headers, sizeof(rp->headers), "Retry-After: 0\r\n");
    }
}

static void test_retry_after(void **state)
{
    (void)state;
    struct srv *s = srv_start(r_429_once, NULL);
    struct sl_writer_opts o;
    struct errlog l;
    struct sl_writer *w;
    opts_init(&o, s, &l);
    assert_int_equal(sl_writer_new(&w, &o), 0);
    write_n(w, 0, 1000);
    assert_int_equal(sl_writer_flush(w), 0);
    int64_t waited = (s->last_ns - s->first_ns) / SL_NS_PER_MS;
    assert_true(waited >= 290); /* honoured, capped at 300 */
    assert_true(waited < 2500); /* not the 5 s the server asked for */
    struct sl_writer_stats st;
    sl_writer_stats(w, &st);
    assert_int_equal(st.retries, 2);
    assert_int_equal(st.requests, 3);
    assert_int_equal(l.retries, 2);
    assert_int_equal(l.last_code, SL_EBUSY);
    sl_writer_free(w);
    assert_accepted_exactly(s, 1, 1000);
    srv_stop(s);
}

/* 500, 401, a closed connection and garbage, then success */
static void r_flaky(struct srv *s, const struct req *rq, struct reply *rp)
{
    (void)s;
    switch (rq->index % 5) {
    case 0:
        rp->status = 500;
        rp->body = "{\"error\":\"internal\"}";
        break;
    case 1: rp->status = 401; break;
    case 2: rp->status = 0; break;
    case 3: rp->garbage = 1; break;
    default: break;
    }
}

static void test_retry_transient(void **state)
{
    (void)state;
    struct srv *s = srv_start(r_flaky, NULL);
    struct sl_writer_opts o;
    struct errlog l;
    struct sl_writer *w;
    opts_init(&o, s, &l);
    assert_int_equal(sl_writer_new(&w, &o), 0);
    write_n(w, 0, 2000);
    assert_int_equal(sl_writer_flush(w), 0);
    struct sl_writer_stats st;
    sl_writer_stats(w, &st);
    assert_int_equal(st.lines_delivered, 2000);
    /* per batch: 500, 401, then a closed connection that curl itself retries
     * once on a fresh connection (it was a reused one), which meets the
     * garbage answer; then 204. So 3 of our retries per batch, 5 requests
     * seen by the server. */
    assert_int_equal(st.retries, 6);
    assert_int_equal(s->nreq, 10);
    assert_int_equal(l.drops, 0);
    sl_writer_free(w);
    assert_accepted_exactly(s, 1, 2000);
    srv_stop(s);
}

static void r_500(struct srv *s, const struct req *rq, struct reply *rp)
{
    (void)s, (void)rq;
    rp->status = 500;
    rp->body = "{\"error\":\"disk on fire\"}";
}

static void test_retry_limit_drops(void **state)
{
    (void)state;
    struct srv *s = srv_start(r_500, NULL);
    struct sl_writer_opts o;
    struct errlog l;
    struct sl_writer *w;
    opts_init(&o, s, &l);
    o.max_retries = 2;
    assert_int_equal(sl_writer_new(&w, &o), 0);
    write_n(w, 0, 10);
    assert_int_equal(sl_writer_flush(w), SL_EIO);
    assert_int_equal(sl_writer_flush(w), 0); /* reported once */
    assert_int_equal(s->nreq, 3);
    assert_int_equal(l.drops, 1);
    assert_int_equal(l.retries, 2);
    assert_int_equal(l.last_attempt, 3);
    assert_int_equal(l.dropped_lines, 10);
    assert_non_null(strstr(l.last_msg, "disk on fire"));
    sl_writer_free(w);
    srv_stop(s);
}

/* 400 for batches that contain a bad line; the others go through */
static void r_400_bad(struct srv *s, const struct req *rq, struct reply *rp)
{
    (void)s;
    if (memmem(rq->body, rq->body_len, "bad", 3)) {
        rp->status = 400;
        rp->body = "{\"error\":\"unable to parse 'bad line': missing fields\"}";
    }
}

static void test_drop_4xx(void **state)
{
    (void)state;
    struct srv *s = srv_start(r_400_bad, NULL);
    struct sl_writer_opts o;
    struct errlog l;
    struct sl_writer *w;
    opts_init(&o, s, &l);
    o.batch_lines = 10;
    assert_int_equal(sl_writer_new(&w, &o), 0);
    write_n(w, 0, 10);
    assert_int_equal(sl_writer_write_lines(w, "bad line\n\n\nbad2\n", 16), 0);
    assert_int_equal(sl_writer_flush(w), SL_EINVAL);
    write_n(w, 1, 10);
    assert_int_equal(sl_writer_flush(w), 0);
    struct sl_writer_stats st;
    sl_writer_stats(w, &st);
    assert_int_equal(st.lines_written, 22); /* empty lines skipped */
    assert_int_equal(st.lines_dropped, 2);
    assert_int_equal(st.retries, 0);
    assert_int_equal(s->nreq, 3);
    assert_int_equal(l.drops, 1);
    assert_int_equal(l.last_status, 400);
    assert_non_null(strstr(l.last_msg, "missing fields"));
    sl_writer_free(w);
    assert_int_equal(s->nacc, 20);
    srv_stop(s);
}

static char huge_body[1 << 20];

static void r_huge_error(struct srv *s, const struct req *rq, struct reply *rp)
{
    (void)s, (void)rq;
    rp->status = 422;
    rp->body = huge_body;
}

static void test_huge_error_body_truncated(void **state)
{
    (void)state;
    memset(huge_body, 'x', sizeof(huge_body) - 1);
    struct srv *s = srv_start(r_huge_error, NULL);
    struct sl_writer_opts o;
    struct errlog l;
    struct sl_writer *w;
    opts_init(&o, s, &l);
    assert_int_equal(sl_writer_new(&w, &o), 0);
    write_n(w, 0, 3);
    assert_int_equal(sl_writer_flush(w), SL_EINVAL);
    assert_true(strlen(l.last_msg) <= 4096 + 64);
    assert_true(strlen(l.last_msg) > 4000);
    sl_writer_free(w);
    srv_stop(s);
}

static void test_interval_flush(void **state)
{
    (void)state;
    struct srv *s = srv_start(r_ok, NULL);
    struct sl_writer_opts o;
    struct errlog l;
    struct sl_writer *w;
    opts_init(&o, s, &l);
    o.flush_interval_ms = 50;
    assert_int_equal(sl_writer_new(&w, &o), 0);
    write_n(w, 0, 5);
    for (int i = 0; i < 200; i++) {
        pthread_mutex_lock(&s->mu);
        size_t n = s->nacc;
        pthread_mutex_unlock(&s->mu);
        if (n == 5) break;
        usleep(10000);
    }
    pthread_mutex_lock(&s->mu);
    assert_int_equal(s->nacc, 5);
    pthread_mutex_unlock(&s->mu);
    sl_writer_free(w);
    assert_accepted_exactly(s, 1, 5);
    srv_stop(s);
}

/* Several threads, a server that answers by a fixed pseudo-random script. */
static void r_chaos(struct srv *s, const struct req *rq, struct reply *rp)
{
    (void)s;
    unsigned x = (unsigned)rq->index * 2654435761u;
    switch ((x >> 16) % 8) {
    case 0: rp->status = 500; break;
    case 1: rp->status = 429; break;
    case 2:
        if (rq->lines > 1) rp->status = 413;
        break;
    case 3: rp->status = 0; break;
    default: break;
    }
}

struct wargs {
    struct sl_writer *w;
    int id, n;
};

static void *writer_thread(void *arg)
{
    struct wargs *a = arg;
    char line[128];
    for (int i = 0; i < a->n; i++) {
        line_for(line, sizeof(line), a->id, i);
        if (sl_writer_write_lines(a->w, line, strlen(line)) != 0) return (void *)1;
    }
    return NULL;
}

static void test_threads_chaos(void **state)
{
    (void)state;
    struct srv *s = srv_start(r_chaos, NULL);
    struct sl_writer_opts o;
    struct errlog l;
    struct sl_writer *w;
    opts_init(&o, s, &l);
    o.batch_lines = 97;
    o.max_retries = 50;
    o.retry_initial_ms = 1;
    o.retry_max_ms = 2;
    o.retry_after_max_ms = 1;
    o.max_pending_bytes = 20000; /* forces back-pressure */
    o.flush_interval_ms = 5;
    assert_int_equal(sl_writer_new(&w, &o), 0);
    pthread_t th[4];
    struct wargs a[4];
    for (int i = 0; i < 4; i++) {
        a[i] = (struct wargs){w, i, 3000};
        assert_int_equal(pthread_create(&th[i], NULL, writer_thread, &a[i]), 0);
    }
    for (int i = 0; i < 4; i++) {
        void *r;
        pthread_join(th[i], &r);
        assert_null(r);
    }
    assert_int_equal(sl_writer_close(w), 0);
    struct sl_writer_stats st;
    sl_writer_stats(w, &st);
    assert_int_equal(st.lines_delivered, 12000);
    assert_int_equal(st.lines_dropped, 0);
    assert_true(st.retries > 0);
    assert_true(st.splits > 0);
    sl_writer_free(w);
    /* each writer's lines arrive in its own order, exactly once */
    assert_accepted_exactly(s, 4, 3000);
    srv_stop(s);
}

static void test_points(void **state)
{
    (void)state;
    struct srv *s = srv_start(r_ok, NULL);
    struct sl_writer_opts o;
    struct errlog l;
    struct sl_writer *w;
    opts_init(&o, s, &l);
    o.precision = SL_PREC_MS;
    assert_int_equal(sl_writer_new(&w, &o), 0);
    struct sl_point *p;
    assert_int_equal(sl_point_new(&p, "m"), 0);
    assert_int_equal(sl_point_tag(p, "w", "0"), 0);
    assert_int_equal(sl_point_field_int(p, "v", 7), 0);
    sl_point_time(p, 1700000000123456789LL);
    assert_int_equal(sl_writer_write_point(w, p), 0);
    assert_int_equal(sl_point_reset(p, "m"), 0);
    assert_int_equal(sl_writer_write_point(w, p), SL_EINVAL); /* no field */
    sl_point_free(p);
    assert_int_equal(sl_writer_flush(w), 0);
    assert_int_equal(s->nacc, 1);
    assert_string_equal(s->acc[0], "m,w=0 v=7i 1700000000123");
    sl_writer_free(w);
    srv_stop(s);
}

static void test_unreachable(void **state)
{
    (void)state;
    /* a port nobody listens on: every attempt fails fast, then the drop */
    struct srv *s = srv_start(r_ok, NULL);
    struct sl_writer_opts o;
    struct errlog l;
    struct sl_writer *w;
    opts_init(&o, s, &l);
    srv_stop(s);
    o.max_retries = 1;
    assert_int_equal(sl_writer_new(&w, &o), 0);
    assert_int_equal(sl_writer_write_lines(w, "m v=1\nm v=2", 11), 0);
    assert_int_equal(sl_writer_close(w), SL_EIO);
    assert_int_equal(l.drops, 1);
    assert_int_equal(l.last_status, 0);
    assert_true(strlen(l.last_msg) > 0);
    sl_writer_free(w);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_batches_and_params),
        cmocka_unit_test(test_api_urls),
        cmocka_unit_test(test_split_413),
        cmocka_unit_test(test_split_down_to_one_line_drops),
        cmocka_unit_test(test_retry_after),
        cmocka_unit_test(test_retry_transient),
        cmocka_unit_test(test_retry_limit_drops),
        cmocka_unit_test(test_drop_4xx),
        cmocka_unit_test(test_huge_error_body_truncated),
        cmocka_unit_test(test_interval_flush),
        cmocka_unit_test(test_threads_chaos),
        cmocka_unit_test(test_points),
        cmocka_unit_test(test_unreachable),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
