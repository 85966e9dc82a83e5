/*
 * http_response.c — the http_response input (Telegraf's http_response.go):
 * one request per URL per gather, reported as measurement `http_response`
 * with tags server (the URL), method, status_code (when a response came)
 * and result, and fields
 *   result_type (string), result_code (int: 0 success, 1 response string
 *   mismatch, 2 body read error, 3 connection failed, 4 timeout, 5 dns
 *   error, 6 status code mismatch), response_time (float seconds, only when
 *   a response came), http_response_code (int), content_length (int, bytes
 *   of body read), response_string_match / response_status_code_match (int
 *   1/0, when those checks are configured), and the body under
 *   response_body_field when set.
 * response_string_match is a POSIX extended regex (Telegraf uses Go's RE2;
 * the common subset behaves the same).
 */
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

#include "agent/conf.h"
#include "agent/inputs/services.h"
#include "common/err.h"
#include "common/fsutil.h"
#include "common/mem.h"
#include "common/timeutil.h"

struct http_response_input {
    struct glob_list urls;
    char *method, *body, *match, *body_field, *username, *password, *bearer_token;
    char *tls_ca, *tls_cert, *tls_key, *http_proxy, *interface;
    int64_t timeout, body_max, status_code;
    int follow, insecure, have_re;
    regex_t re;
    char **headers; /* "Name: value", NULL-terminated */
    size_t nheaders;
};

static void hr_free(void *state)
{
    struct http_response_input *s = state;
    if (!s) return;
    glob_list_release(&s->urls);
    char *strs[] = {s->method,   s->body,     s->match,        s->body_field,
                    s->username, s->password, s->bearer_token, s->tls_ca,
                    s->tls_cert, s->tls_key,  s->http_proxy,   s->interface};
    for (size_t i = 0; i < sizeof(strs) / sizeof(strs[0]); i++)
        sl_free(strs[i]);
    for (size_t i = 0; i < s->nheaders; i++)
        sl_free(s->headers[i]);
    sl_free(s->headers);
    if (s->have_re) regfree(&s->re);
    sl_free(s);
}

static int add_header(struct http_response_input *s, const char *k, const char *v)
{
    char **nh = sl_realloc(s->headers, (s->nheaders + 2) * sizeof(*nh));
    if (!nh) return SL_ENOMEM;
    s->headers = nh;
    size_t len = strlen(k) + strlen(v) + 3;
    if (!(nh[s->nheaders] = sl_malloc(len))) return SL_ENOMEM;
    snprintf(nh[s->nheaders], len, "%s: %s", k, v);
    nh[++s->nheaders] = NULL;
    return 0;
}

static int hr_init(struct plugin_conf *c, void **state)
{
    struct http_response_input *s = sl_calloc(1, sizeof(*s));
    if (!s) return SL_ENOMEM;
    s->timeout = 5 * SL_NS_PER_S;
    s->body_max = 32 << 20;
    int rc = SL_ENOMEM;
    char *address = NULL;
    if (!(s->method = sl_strdup("GET"))) goto fail;
    if ((rc = conf_strlist(c, "urls", &s->urls)) < 0) goto fail;
    if ((rc = conf_str(c, "address", &address)) < 0) goto fail;
    if (address) {
        rc = glob_list_add(&s->urls, address);
        sl_free(address);
        if (rc < 0) goto fail;
    }
    if ((rc = conf_duration(c, "response_timeout", &s->timeout)) < 0) goto fail;
    if ((rc = conf_str(c, "method", &s->method)) < 0) goto fail;
    if ((rc = conf_bool(c, "follow_redirects", &s->follow)) < 0) goto fail;
    if ((rc = conf_str(c, "body", &s->body)) < 0) goto fail;
    if ((rc = conf_str(c, "response_string_match", &s->match)) < 0) goto fail;
    if ((rc = conf_str(c, "response_body_field", &s->body_field)) < 0) goto fail;
    if ((rc = conf_size(c, "response_body_max_size", &s->body_max)) < 0) goto fail;
    if ((rc = conf_int(c, "response_status_code", &s->status_code)) < 0) goto fail;
    if ((rc = conf_str(c, "username", &s->username)) < 0) goto fail;
    if ((rc = conf_str(c, "password", &s->password)) < 0) goto fail;
    if ((rc = conf_str(c, "bearer_token", &s->bearer_token)) < 0) goto fail;
    if ((rc = conf_str(c, "http_proxy", &s->http_proxy)) < 0) goto fail;
    if ((rc = conf_str(c, "interface", &s->interface)) < 0) goto fail;
    if ((rc = conf_str(c, "tls_ca", &s->tls_ca)) < 0) goto fail;
    if ((rc = conf_str(c, "tls_cert", &s->tls_cert)) < 0) goto fail;
    if ((rc = conf_str(c, "tls_key", &s->tls_key)) < 0) goto fail;
    if ((rc = conf_bool(c, "insecure_skip_verify", &s->insecure)) < 0) goto fail;
    struct plugin_conf *h = conf_table(c, "headers");
    if (h) {
        const char *k;
        for (size_t i = 0; (k = conf_key_at(h, i)); i++) {
            char *v = NULL;
            rc = conf_str(h, k, &v);
            if (rc == 0 && v) rc = add_header(s, k, v);
            sl_free(v);
            if (rc < 0) {
                conf_free(h);
                goto fail;
            }
        }
        conf_free(h);
    }
    if (s->bearer_token) {
        char *tok = NULL;
        size_t tl = 0;
        /* bearer_token names a file holding the token */
        if (sl_file_read_all(s->bearer_token, 1 << 16, &tok, &tl) < 0) {
            rc = conf_fail(c, "bearer_token", "cannot read '%s'", s->bearer_token);
            goto fail;
        }
        while (tl && (tok[tl - 1] == '\n' || tok[tl - 1] == '\r'))
            tok[--tl] = 0;
        char hv[8192];
        snprintf(hv, sizeof(hv), "Bearer %s", tok);
        sl_free(tok);
        if ((rc = add_header(s, "Authorization", hv)) < 0) goto fail;
    }
    if (s->match && *s->match) {
        if (regcomp(&s->re, s->match, REG_EXTENDED | REG_NOSUB) != 0) {
            rc = conf_fail(c, "response_string_match", "invalid regular expression '%s'", s->match);
            goto fail;
        }
        s->have_re = 1;
    }
    if (s->urls.n == 0) {
        rc = conf_fail(c, "urls", "no URLs given");
        goto fail;
    }
    if (s->timeout <= 0) s->timeout = 5 * SL_NS_PER_S;
    if (s->body_max <= 0) s->body_max = 32 << 20;
    *state = s;
    return 0;
fail:
    hr_free(s);
    return rc;
}

static int set_result(struct metric *m, const char *result)
{
    static const struct {
        const char *name;
        int code;
    } codes[] = {
        {"success", 0},
        {"response_string_mismatch", 1},
        {"body_read_error", 2},
        {"connection_failed", 3},
        {"timeout", 4},
        {"dns_error", 5},
        {"response_status_code_mismatch", 6},
    };
    int code = 0;
    for (size_t i = 0; i < sizeof(codes) / sizeof(codes[0]); i++)
        if (!strcmp(codes[i].name, result)) code = codes[i].code;
    int rc = metric_add_tag(m, "result", result);
    if (rc == 0) rc = metric_add_string(m, "result_type", result);
    if (rc == 0) rc = metric_add_int(m, "result_code", code);
    return rc;
}

static int utf8_valid(const unsigned char *p, size_t n)
{
    size_t i = 0;
    while (i < n) {
        unsigned c = p[i];
        size_t k;
        if (c < 0x80)
            k = 0;
        else if ((c >> 5) == 6)
            k = 1;
        else if ((c >> 4) == 14)
            k = 2;
        else if ((c >> 3) == 30)
            k = 3;
        else
            return 0;
        if (k > n - i - 1) return 0;
        for (size_t j = 1; j <= k; j++)
            if ((p[i + j] & 0xC0) != 0x80) return 0;
        i += k + 1;
    }
    return 1;
}

/* Fills m for one URL; returns < 0 only on allocation failure. */
static int check_url(struct http_response_input *s, const char *url, struct metric *m)
{
    int rc = metric_add_tag(m, "server", url);
    if (rc == 0) rc = metric_add_tag(m, "method", s->method);
    if (rc < 0) return rc;
    struct httpc_req req = {
        .url = url,
        .method = s->method,
        .body = s->body,
        .body_len = s->body ? strlen(s->body) : 0,
        .headers = (const char *const *)s->headers,
        .username = s->username,
        .password = s->password,
        .timeout_ns = s->timeout,
        .follow_redirects = s->follow,
        .insecure = s->insecure,
        .tls_ca = s->tls_ca,
        .tls_cert = s->tls_cert,
        .tls_key = s->tls_key,
        .proxy = s->http_proxy,
        .interface = s->interface,
        .max_body = (size_t)s->body_max + 1,
    };
    struct httpc_resp resp;
    int hrc = httpc_do(&req, &resp);
    if (hrc < 0 && !resp.body_truncated) {
        const char *result = "connection_failed";
        if (resp.curl_code == CURLE_OPERATION_TIMEDOUT)
            result = "timeout";
        else if (resp.curl_code == CURLE_COULDNT_RESOLVE_HOST ||
                 resp.curl_code == CURLE_COULDNT_RESOLVE_PROXY)
            result = "dns_error";
        rc = set_result(m, result);
        goto out;
    }
    rc = metric_add_float(m, "response_time", resp.seconds);
    char code[16];
    snprintf(code, sizeof(code), "%ld", resp.status);
    if (rc == 0) rc = metric_add_tag(m, "status_code", code);
    if (rc == 0) rc = metric_add_int(m, "http_response_code", resp.status);
    if (rc < 0) goto out;
    if (resp.body_truncated || resp.body.len > (size_t)s->body_max) {
        rc = set_result(m, "body_read_error");
        if (rc == 0) rc = metric_add_int(m, "content_length", (int64_t)resp.body.len);
        if (rc == 0 && s->have_re) rc = metric_add_int(m, "response_string_match", 0);
        goto out;
    }
    const char *body = resp.body.ptr ? resp.body.ptr : "";
    if (s->body_field) {
        if (!utf8_valid((const unsigned char *)body, resp.body.len)) {
            rc = set_result(m, "body_read_error");
            if (rc == 0) rc = metric_add_int(m, "content_length", (int64_t)resp.body.len);
            if (rc == 0 && s->have_re) rc = metric_add_int(m, "response_string_match", 0);
            goto out;
        }
        if ((rc = metric_add_stringn(m, s->body_field, body, resp.body.len)) < 0) goto out;
    }
    if ((rc = metric_add_int(m, "content_length", (int64_t)resp.body.len)) < 0) goto out;
    int success = 1;
    if (s->have_re) {
        /* regexec stops at NUL: a body with NUL bytes is matched up to it */
        if (regexec(&s->re, body, 0, NULL, 0) == 0) {
            rc = metric_add_int(m, "response_string_match", 1);
        } else {
            success = 0;
            rc = set_result(m, "response_string_mismatch");
            if (rc == 0) rc = metric_add_int(m, "response_string_match", 0);
        }
        if (rc < 0) goto out;
    }
    if (s->status_code > 0) {
        if (resp.status == s->status_code) {
            rc = metric_add_int(m, "response_status_code_match", 1);
        } else {
            success = 0;
            rc = set_result(m, "response_status_code_mismatch");
            if (rc == 0) rc = metric_add_int(m, "response_status_code_match", 0);
        }
        if (rc < 0) goto out;
    }
    if (success) rc = set_result(m, "success");
out:
    httpc_resp_release(&resp);
    return rc;
}

static int hr_gather(void *state, struct agent_acc *acc)
{
    struct http_response_input *s = state;
    for (size_t i = 0; i < s->urls.n; i++) {
        struct metric *m = acc_new_metric(acc, "http_response");
        if (!m) return SL_ENOMEM;
        int rc = check_url(s, s->urls.v[i], m);
        if (rc < 0) {
            metric_free(m);
            return rc;
        }
        if ((rc = acc_add(acc, m)) < 0) return rc;
    }
    return 0;
}

const struct agent_input_ops input_http_response = {
    .name = "http_response",
    .sample = "[[inputs.http_response]]\n"
              "  ## List of urls to query.\n"
              "  urls = [\"http://localhost\"]\n"
              "  # response_timeout = \"5s\"\n"
              "  # method = \"GET\"\n"
              "  # follow_redirects = false\n"
              "  # response_string_match = \"ok\"\n"
              "  # response_status_code = 200\n",
    .init = hr_init,
    .gather = hr_gather,
    .free = hr_free,
};
