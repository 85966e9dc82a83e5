/*
 * transport.c — libsluice's HTTP over libcurl: one easy handle per
 * connection (curl keeps the TCP connection alive between requests made on
 * the same handle), bounded response bodies, Retry-After parsing and gzip.
 *
 * "Expect: 100-continue" is switched off: it costs a round trip per large
 * POST and every InfluxDB-compatible server answers errors after reading the
 * body anyway.
 */
#include <ctype.h>
#include <curl/curl.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <zlib.h>

#include "client/client_int.h"
#include "common/err.h"
#include "common/mem.h"
#include "common/timeutil.h"

static pthread_once_t global_once = PTHREAD_ONCE_INIT;
static int global_rc;

static void global_init_once(void)
{
    global_rc = curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK ? 0 : SL_EIO;
}

int client_global_init(void)
{
    pthread_once(&global_once, global_init_once);
    return global_rc;
}

int client_conn_init(struct client_conn *c)
{
    memset(c, 0, sizeof(*c));
    int rc = client_global_init();
    if (rc < 0) return rc;
    c->curl = curl_easy_init();
    return c->curl ? 0 : SL_ENOMEM;
}

void client_conn_release(struct client_conn *c)
{
    if (c->curl) curl_easy_cleanup(c->curl);
    c->curl = NULL;
}

struct sink {
    struct client_resp *resp;
    int truncate;
    int too_big;
};

static size_t on_body(char *p, size_t size, size_t n, void *ud)
{
    struct sink *s = ud;
    size_t len = size * n;
    struct sl_buf *b = &s->resp->body;
    if (s->truncate) {
        size_t room = b->max > b->len ? b->max - b->len : 0;
        if (sl_buf_add(b, p, len < room ? len : room) < 0) return 0;
        return len;
    }
    if (sl_buf_add(b, p, len) < 0) {
        s->too_big = 1;
        return 0; /* aborts the transfer */
    }
    return len;
}

static size_t on_header(char *p, size_t size, size_t n, void *ud)
{
    struct sink *s = ud;
    size_t len = size * n;
    static const char name[] = "retry-after:";
    if (len > sizeof(name) - 1 && !strncasecmp(p, name, sizeof(name) - 1)) {
        const char *v = p + sizeof(name) - 1;
        size_t vn = len - (sizeof(name) - 1);
        while (vn && (*v == ' ' || *v == '\t'))
            v++, vn--;
        while (vn && (v[vn - 1] == '\r' || v[vn - 1] == '\n' || v[vn - 1] == ' '))
            vn--;
        s->resp->retry_after_ms = client_parse_retry_after(v, vn, sl_now_ns() / SL_NS_PER_S);
    } else if (len >= 5 && !strncmp(p, "HTTP/", 5)) {
        /* a new response (e.g. after 100 Continue): forget earlier headers */
        s->resp->retry_after_ms = -1;
    }
    return len;
}

int client_conn_do(struct client_conn *c, const struct client_req *rq, struct client_resp *resp)
{
    CURL *h = c->curl;
    struct curl_slist *hdrs = NULL, *t;
    struct sl_buf hb = SL_BUF_INIT;
    struct sink sink = {resp, rq->truncate, 0};
    int rc = SL_ENOMEM;

    sl_buf_reset(&resp->body);
    resp->status = 0;
    resp->retry_after_ms = -1;
    resp->err[0] = 0;
    c->errbuf[0] = 0;

    sl_buf_init(&hb, 64 * 1024);
#define ADD_HDR(...)                                                                               \
    do {                                                                                           \
        sl_buf_reset(&hb);                                                                         \
        if (sl_buf_addf(&hb, __VA_ARGS__) < 0 || !(t = curl_slist_append(hdrs, hb.ptr))) goto out; \
        hdrs = t;                                                                                  \
    } while (0)
    ADD_HDR("Expect:");
    if (rq->auth && *rq->auth) ADD_HDR("Authorization: %s", rq->auth);
    if (rq->content_type) ADD_HDR("Content-Type: %s", rq->content_type);
    if (rq->accept) ADD_HDR("Accept: %s", rq->accept);
    if (rq->gzip) ADD_HDR("Content-Encoding: gzip");
#undef ADD_HDR

    curl_easy_reset(h); /* keeps live connections and caches */
    curl_easy_setopt(h, CURLOPT_URL, rq->url);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_ERRORBUFFER, c->errbuf);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, &sink);
    curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(h, CURLOPT_HEADERDATA, &sink);
    curl_easy_setopt(h, CURLOPT_TCP_NODELAY, 1L);
    curl_easy_setopt(h, CURLOPT_TCP_KEEPALIVE, 1L);
    curl_easy_setopt(h, CURLOPT_ACCEPT_ENCODING, ""); /* any encoding curl can decode */
    curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
    if (rq->timeout_ms > 0) curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, (long)rq->timeout_ms);
    if (rq->user_agent) curl_easy_setopt(h, CURLOPT_USERAGENT, rq->user_agent);
    if (!strcmp(rq->method, "POST")) {
        curl_easy_setopt(h, CURLOPT_POST, 1L);
        curl_easy_setopt(h, CURLOPT_POSTFIELDS, rq->body ? rq->body : "");
        curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)rq->body_len);
    } else {
        curl_easy_setopt(h, CURLOPT_HTTPGET, 1L);
    }

    CURLcode cc = curl_easy_perform(h);
    if (sink.too_big) {
        snprintf(resp->err, sizeof(resp->err), "response body larger than %zu bytes",
                 resp->body.max);
        rc = SL_ETOOBIG;
        goto out;
    }
    if (cc != CURLE_OK) {
        snprintf(resp->err, sizeof(resp->err), "%s",
                 c->errbuf[0] ? c->errbuf : curl_easy_strerror(cc));
        rc = SL_EIO;
        goto out;
    }
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &resp->status);
    rc = 0;
out:
    /* the handle must not keep pointers to the header list we free */
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, NULL);
    curl_slist_free_all(hdrs);
    sl_buf_release(&hb);
    return rc;
}

int client_url_escape(struct sl_buf *out, const char *s)
{
    static const char hex[] = "0123456789ABCDEF";
    int rc = 0;
    for (const unsigned char *p = (const unsigned char *)s; *p && rc == 0; p++) {
        if (isalnum(*p) || *p == '-' || *p == '_' || *p == '.' || *p == '~') {
            rc = sl_buf_addc(out, (char)*p);
        } else {
            char e[3] = {'%', hex[*p >> 4], hex[*p & 15]};
            rc = sl_buf_add(out, e, 3);
        }
    }
    return rc;
}

int64_t client_parse_retry_after(const char *v, size_t n, int64_t now_s)
{
    char tmp[64];
    if (n == 0 || n >= sizeof(tmp)) return -1;
    memcpy(tmp, v, n);
    tmp[n] = 0;
    size_t i = 0;
    int64_t secs = 0;
    while (i < n && tmp[i] >= '0' && tmp[i] <= '9') {
        if (secs > 100000000) return -1; /* absurd; ignore rather than overflow */
        secs = secs * 10 + (tmp[i] - '0');
        i++;
    }
    if (i == n) return secs * 1000;
    if (i > 0) return -1;
    /* IMF-fixdate: "Sun, 06 Nov 1994 08:49:37 GMT" */
    struct tm tm;
    memset(&tm, 0, sizeof(tm));
    const char *end = strptime(tmp, "%a, %d %b %Y %H:%M:%S GMT", &tm);
    if (!end || *end) return -1;
    int64_t at = (int64_t)timegm(&tm);
    return at > now_s ? (at - now_s) * 1000 : 0;
}

int client_gzip(struct sl_buf *out, const char *in, size_t n)
{
    z_stream zs;
    memset(&zs, 0, sizeof(zs));
    /* level 1: most of gzip's gain on line protocol for a fraction of the CPU */
    if (deflateInit2(&zs, 1, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK) return SL_ENOMEM;
    int rc = 0;
    uLong bound = deflateBound(&zs, (uLong)n);
    if ((rc = sl_buf_reserve(out, bound)) < 0) goto out;
    zs.next_in = (Bytef *)(uintptr_t)in;
    zs.avail_in = (uInt)n;
    zs.next_out = (Bytef *)out->ptr + out->len;
    zs.avail_out = (uInt)bound;
    if (n > UINT32_MAX || deflate(&zs, Z_FINISH) != Z_STREAM_END) {
        rc = SL_ENOMEM;
        goto out;
    }
    out->len += zs.total_out;
    out->ptr[out->len] = 0;
out:
    deflateEnd(&zs);
    return rc;
}
