/*
 * httpc.c — one blocking HTTP request over libcurl, shared by the inputs
 * that poll HTTP endpoints (nginx, http_response, prometheus, docker over
 * its unix socket). The response body is kept in a capped buffer; a body
 * over the cap ends the transfer and is reported as truncated.
 */
#include <curl/curl.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "agent/inputs/services.h"
#include "common/err.h"
#include "common/mem.h"
#include "common/timeutil.h"

static pthread_once_t httpc_once = PTHREAD_ONCE_INIT;

static void httpc_global_init(void)
{
    curl_global_init(CURL_GLOBAL_DEFAULT);
}

static size_t on_body(char *p, size_t sz, size_t n, void *ud)
{
    struct httpc_resp *r = ud;
    size_t len = sz * n;
    size_t room = r->body.max > r->body.len ? r->body.max - r->body.len : 0;
    if (len > room) {
        /* keep what fits (so callers see max bytes), then end the transfer
         * with CURLE_WRITE_ERROR */
        if (room) (void)sl_buf_add(&r->body, p, room);
        r->body_truncated = 1;
        return 0;
    }
    if (sl_buf_add(&r->body, p, len) < 0) {
        r->body_truncated = 1;
        return 0;
    }
    return len;
}

void httpc_resp_release(struct httpc_resp *resp)
{
    sl_buf_release(&resp->body);
}

int httpc_do(const struct httpc_req *req, struct httpc_resp *resp)
{
    memset(resp, 0, sizeof(*resp));
    sl_buf_init(&resp->body, req->max_body ? req->max_body : (32u << 20));
    pthread_once(&httpc_once, httpc_global_init);
    CURL *c = curl_easy_init();
    if (!c) {
        snprintf(resp->error, sizeof(resp->error), "curl_easy_init failed");
        return SL_ENOMEM;
    }
    struct curl_slist *h = NULL;
    int rc = 0;
    for (size_t i = 0; req->headers && req->headers[i]; i++) {
        struct curl_slist *nh = curl_slist_append(h, req->headers[i]);
        if (!nh) {
            rc = SL_ENOMEM;
            goto out;
        }
        h = nh;
    }
    int64_t to = req->timeout_ns > 0 ? req->timeout_ns : 5 * SL_NS_PER_S;
    long to_ms = (long)(to / SL_NS_PER_MS);
    if (to_ms < 1) to_ms = 1;
    curl_easy_setopt(c, CURLOPT_URL, req->url);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, to_ms);
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, to_ms);
    curl_easy_setopt(c, CURLOPT_USERAGENT, "Telegraf/sluice");
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, resp);
    curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, req->follow_redirects ? 1L : 0L);
    curl_easy_setopt(c, CURLOPT_MAXREDIRS, 10L);
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(c, CURLOPT_ACCEPT_ENCODING, "");
    if (h) curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
    if (req->unix_socket) curl_easy_setopt(c, CURLOPT_UNIX_SOCKET_PATH, req->unix_socket);
    if (req->insecure) {
        curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 0L);
        curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 0L);
    }
    if (req->tls_ca) curl_easy_setopt(c, CURLOPT_CAINFO, req->tls_ca);
    if (req->tls_cert) curl_easy_setopt(c, CURLOPT_SSLCERT, req->tls_cert);
    if (req->tls_key) curl_easy_setopt(c, CURLOPT_SSLKEY, req->tls_key);
    if (req->proxy) curl_easy_setopt(c, CURLOPT_PROXY, req->proxy);
    if (req->interface) curl_easy_setopt(c, CURLOPT_INTERFACE, req->interface);
    if (req->username) {
        curl_easy_setopt(c, CURLOPT_USERNAME, req->username);
        curl_easy_setopt(c, CURLOPT_PASSWORD, req->password ? req->password : "");
    }
    const char *method = req->method ? req->method : "GET";
    if (!strcmp(method, "HEAD"))
        curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
    else if (strcmp(method, "GET") != 0)
        curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
    if (req->body) {
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, req->body);
        curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)req->body_len);
        if (!strcmp(method, "GET")) curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, "GET");
    }
    CURLcode cc = curl_easy_perform(c);
    resp->curl_code = (int)cc;
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &resp->status);
    curl_easy_getinfo(c, CURLINFO_TOTAL_TIME, &resp->seconds);
    if (cc != CURLE_OK) {
        snprintf(resp->error, sizeof(resp->error), "%s: %s", req->url, curl_easy_strerror(cc));
        rc = resp->body_truncated ? SL_ETOOBIG : SL_EIO;
    }
out:
    curl_slist_free_all(h);
    curl_easy_cleanup(c);
    return rc;
}

int httpc_url_host_port(const char *url, char *host, size_t hcap, char *port, size_t pcap)
{
    const char *p = strstr(url, "://");
    if (!p || hcap == 0 || pcap == 0) return SL_EINVAL;
    int https = (size_t)(p - url) == 5 && !strncmp(url, "https", 5);
    p += 3;
    const char *at = NULL;
    for (const char *q = p; *q && *q != '/' && *q != '?' && *q != '#'; q++)
        if (*q == '@') at = q;
    if (at) p = at + 1;
    const char *end = p;
    const char *colon = NULL;
    if (*p == '[') { /* [v6]:port */
        const char *rb = strchr(p, ']');
        if (!rb) return SL_EINVAL;
        end = rb + 1;
        if (*end == ':') colon = end;
        p++;
        if ((size_t)(rb - p) >= hcap) return SL_EINVAL;
        memcpy(host, p, (size_t)(rb - p));
        host[rb - p] = 0;
    } else {
        while (*end && *end != '/' && *end != '?' && *end != '#' && *end != ':')
            end++;
        if (*end == ':') colon = end;
        if ((size_t)(end - p) >= hcap) return SL_EINVAL;
        memcpy(host, p, (size_t)(end - p));
        host[end - p] = 0;
    }
    if (colon) {
        const char *q = colon + 1, *e = q;
        while (*e >= '0' && *e <= '9')
            e++;
        if (e == q || (size_t)(e - q) >= pcap) return SL_EINVAL;
        memcpy(port, q, (size_t)(e - q));
        port[e - q] = 0;
    } else {
        snprintf(port, pcap, "%s", https ? "443" : "80");
    }
    return 0;
}
