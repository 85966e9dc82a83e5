/*
 * admin.c — the administration helper of libsluice (include/sluice/admin.h):
 * requests with any method over one curl easy handle, so that a sequence of
 * management calls (a backup downloads many chunks) reuses one connection.
 *
 * The shared transport (transport.c) speaks GET and POST for the writer and
 * the query helper; management also needs PUT, PATCH and DELETE, which is
 * why this file drives curl itself. Response bodies are capped like every
 * other buffer in sluice.
 */
#include <curl/curl.h>
#include <stdio.h>
#include <string.h>

#include "client/client_int.h"
#include "common/buf.h"
#include "common/err.h"
#include "common/mem.h"
#include "sluice/admin.h"

#define ADMIN_DEFAULT_MAX_BODY ((size_t)64 << 20)

struct sl_admin {
    CURL *curl;
    char *url;  /* without trailing slashes */
    char *auth; /* "Authorization: Bearer T", or NULL */
    int timeout_ms;
    char errbuf[CURL_ERROR_SIZE];
};

int sl_admin_new(const char *url, const char *token, struct sl_admin **out)
{
    *out = NULL;
    if (!url || !*url) return SL_EINVAL;
    int rc = client_global_init();
    if (rc < 0) return rc;
    struct sl_admin *a = sl_calloc(1, sizeof(*a));
    if (!a) return SL_ENOMEM;
    size_t n = strlen(url);
    while (n && url[n - 1] == '/')
        n--;
    a->url = sl_strndup(url, n);
    if (token && *token) {
        size_t an = strlen(token) + 32;
        if ((a->auth = sl_malloc(an))) snprintf(a->auth, an, "Authorization: Bearer %s", token);
    }
    a->curl = curl_easy_init();
    a->timeout_ms = 300000;
    if (!a->url || (token && *token && !a->auth) || !a->curl) {
        sl_admin_free(a);
        return SL_ENOMEM;
    }
    *out = a;
    return 0;
}

void sl_admin_free(struct sl_admin *a)
{
    if (!a) return;
    if (a->curl) curl_easy_cleanup(a->curl);
    if (a->auth) {
        memset(a->auth, 0, strlen(a->auth));
        sl_free(a->auth);
    }
    sl_free(a->url);
    sl_free(a);
}

void sl_admin_set_timeout(struct sl_admin *a, int timeout_ms)
{
    if (a) a->timeout_ms = timeout_ms > 0 ? timeout_ms : 300000;
}

struct admin_sink {
    struct sl_buf *b;
    int too_big;
};

static size_t on_body(char *p, size_t size, size_t n, void *ud)
{
    struct admin_sink *s = ud;
    if (sl_buf_add(s->b, p, size * n) < 0) {
        s->too_big = 1;
        return 0; /* aborts the transfer */
    }
    return size * n;
}

int sl_admin_request(struct sl_admin *a, const char *method, const char *path, const char *body,
                     size_t body_len, size_t max_body, long *status, char **resp_body,
                     size_t *resp_len)
{
    struct sl_buf url = SL_BUF_INIT, out = SL_BUF_INIT;
    struct curl_slist *hdrs = NULL, *t;
    int rc = SL_EINVAL;

    *status = 0;
    *resp_body = NULL;
    *resp_len = 0;
    if (!a || !method || !path || path[0] != '/') return SL_EINVAL;
    sl_buf_init(&url, 1 << 20);
    sl_buf_init(&out, max_body ? max_body : ADMIN_DEFAULT_MAX_BODY);
    if (sl_buf_adds(&url, a->url) < 0 || sl_buf_adds(&url, path) < 0) {
        rc = SL_ENOMEM;
        goto out;
    }
    rc = SL_ENOMEM;
    if (!(t = curl_slist_append(hdrs, "Expect:"))) goto out;
    hdrs = t;
    if (a->auth) {
        if (!(t = curl_slist_append(hdrs, a->auth))) goto out;
        hdrs = t;
    }
    if (body) {
        if (!(t = curl_slist_append(hdrs, "Content-Type: application/json"))) goto out;
        hdrs = t;
    }
    CURL *h = a->curl;
    struct admin_sink sink = {&out, 0};
    curl_easy_reset(h); /* keeps the live connection */
    a->errbuf[0] = 0;
    curl_easy_setopt(h, CURLOPT_URL, url.ptr);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_ERRORBUFFER, a->errbuf);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, &sink);
    curl_easy_setopt(h, CURLOPT_TCP_NODELAY, 1L);
    curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, (long)a->timeout_ms);
    curl_easy_setopt(h, CURLOPT_USERAGENT, "sluice-cli/" SLUICE_VERSION);
    if (body || strcmp(method, "GET") != 0) {
        curl_easy_setopt(h, CURLOPT_POST, 1L);
        curl_easy_setopt(h, CURLOPT_POSTFIELDS, body ? body : "");
        curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)(body ? body_len : 0));
    }
    if (strcmp(method, "GET") != 0 && strcmp(method, "POST") != 0)
        curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method);
    CURLcode cc = curl_easy_perform(h);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, NULL);
    if (sink.too_big) {
        sl_buf_reset(&out);
        sl_buf_addf(&out, "response body larger than %zu bytes", out.max);
        rc = SL_ETOOBIG;
    } else if (cc != CURLE_OK) {
        sl_buf_reset(&out);
        sl_buf_adds(&out, a->errbuf[0] ? a->errbuf : curl_easy_strerror(cc));
        rc = SL_EIO;
    } else {
        curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, status);
        if (*status >= 200 && *status < 300)
            rc = 0;
        else if (*status == 401 || *status == 403)
            rc = SL_EPERM;
        else if (*status == 404)
            rc = SL_ENOENT;
        else if (*status == 409)
            rc = SL_EEXIST;
        else if (*status >= 400 && *status < 500)
            rc = SL_EINVAL;
        else
            rc = SL_EIO;
    }
    if (!out.ptr && sl_buf_add(&out, "", 0) < 0) {
        rc = SL_ENOMEM;
        goto out;
    }
    *resp_body = sl_buf_detach(&out, resp_len);
out:
    curl_slist_free_all(hdrs);
    sl_buf_release(&url);
    sl_buf_release(&out);
    return rc;
}

char *sl_admin_escape(const char *s)
{
    struct sl_buf b = SL_BUF_INIT;
    sl_buf_init(&b, 1 << 20);
    if (client_url_escape(&b, s ? s : "") < 0 || sl_buf_add(&b, "", 0) < 0) {
        sl_buf_release(&b);
        return NULL;
    }
    return sl_buf_detach(&b, NULL);
}
