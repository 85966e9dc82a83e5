/*
 * nginx.c — the nginx input (Telegraf's nginx.go): GETs each of `urls`
 * (ngx_http_stub_status_module pages) and reports measurement `nginx`, tags
 * `server` (host) and `port`, int fields active, accepts, handled, requests,
 * reading, writing, waiting. The page looks like:
 *
 *   Active connections: 291
 *   server accepts handled requests
 *    16630948 16630948 31070465
 *   Reading: 6 Writing: 179 Waiting: 106
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent/conf.h"
#include "agent/inputs/services.h"
#include "common/err.h"
#include "common/mem.h"
#include "common/timeutil.h"

struct nginx_input {
    struct glob_list urls;
    int64_t timeout;
    int insecure;
    char *tls_ca, *tls_cert, *tls_key;
};

static void nginx_free(void *state)
{
    struct nginx_input *s = state;
    if (!s) return;
    glob_list_release(&s->urls);
    sl_free(s->tls_ca);
    sl_free(s->tls_cert);
    sl_free(s->tls_key);
    sl_free(s);
}

static int nginx_init(struct plugin_conf *c, void **state)
{
    struct nginx_input *s = sl_calloc(1, sizeof(*s));
    if (!s) return SL_ENOMEM;
    s->timeout = 5 * SL_NS_PER_S;
    int rc;
    if ((rc = conf_strlist(c, "urls", &s->urls)) < 0) goto fail;
    if ((rc = conf_duration(c, "response_timeout", &s->timeout)) < 0) goto fail;
    if ((rc = conf_bool(c, "insecure_skip_verify", &s->insecure)) < 0) goto fail;
    if ((rc = conf_str(c, "tls_ca", &s->tls_ca)) < 0) goto fail;
    if ((rc = conf_str(c, "tls_cert", &s->tls_cert)) < 0) goto fail;
    if ((rc = conf_str(c, "tls_key", &s->tls_key)) < 0) goto fail;
    if (s->timeout <= 0) s->timeout = 5 * SL_NS_PER_S;
    *state = s;
    return 0;
fail:
    nginx_free(s);
    return rc;
}

/* Reads the unsigned number after *pp (skipping blanks); advances *pp. */
static int next_num(const char **pp, const char *end, int64_t *v)
{
    const char *p = *pp;
    while (p < end && (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n'))
        p++;
    if (p >= end || *p < '0' || *p > '9') return SL_EINVAL;
    int64_t x = 0;
    while (p < end && *p >= '0' && *p <= '9') {
        if (x > (INT64_MAX - 9) / 10) return SL_ERANGE;
        x = x * 10 + (*p - '0');
        p++;
    }
    *pp = p;
    *v = x;
    return 0;
}

/* Finds `label` in [p, end) and reads the number after it. */
static int after(const char *p, const char *end, const char *label, const char **next, int64_t *v)
{
    size_t ll = strlen(label);
    for (const char *q = p; q + ll <= end; q++)
        if (!memcmp(q, label, ll)) {
            const char *r = q + ll;
            int rc = next_num(&r, end, v);
            if (rc == 0) *next = r;
            return rc;
        }
    return SL_EINVAL;
}

int nginx_parse_status(const char *text, size_t len, struct metric *m)
{
    const char *p = text, *end = text + len;
    int64_t active, accepts, handled, requests, reading, writing, waiting;
    int rc;
    if ((rc = after(p, end, "Active connections:", &p, &active)) < 0) return rc;
    if ((rc = after(p, end, "requests", &p, &accepts)) < 0) return rc;
    if ((rc = next_num(&p, end, &handled)) < 0) return rc;
    if ((rc = next_num(&p, end, &requests)) < 0) return rc;
    if ((rc = after(p, end, "Reading:", &p, &reading)) < 0) return rc;
    if ((rc = after(p, end, "Writing:", &p, &writing)) < 0) return rc;
    if ((rc = after(p, end, "Waiting:", &p, &waiting)) < 0) return rc;
    if ((rc = metric_add_int(m, "active", active)) < 0) return rc;
    if ((rc = metric_add_int(m, "accepts", accepts)) < 0) return rc;
    if ((rc = metric_add_int(m, "handled", handled)) < 0) return rc;
    if ((rc = metric_add_int(m, "requests", requests)) < 0) return rc;
    if ((rc = metric_add_int(m, "reading", reading)) < 0) return rc;
    if ((rc = metric_add_int(m, "writing", writing)) < 0) return rc;
    return metric_add_int(m, "waiting", waiting);
}

static int nginx_gather(void *state, struct agent_acc *acc)
{
    struct nginx_input *s = state;
    for (size_t i = 0; i < s->urls.n; i++) {
        const char *url = s->urls.v[i];
        char host[256], port[16];
        if (httpc_url_host_port(url, host, sizeof(host), port, sizeof(port)) < 0) {
            acc_error(acc, "unable to parse address '%s'", url);
            continue;
        }
        struct httpc_req req = {.url = url,
                                .timeout_ns = s->timeout,
                                .insecure = s->insecure,
                                .tls_ca = s->tls_ca,
                                .tls_cert = s->tls_cert,
                                .tls_key = s->tls_key,
                                .max_body = 1 << 16};
        struct httpc_resp resp;
        int rc = httpc_do(&req, &resp);
        if (rc < 0) {
            acc_error(acc, "error making HTTP request to %s: %s", url, resp.error);
        } else if (resp.status != 200) {
            acc_error(acc, "%s returned HTTP status %ld", url, resp.status);
        } else {
            struct metric *m = acc_new_metric(acc, "nginx");
            if (!m) {
                httpc_resp_release(&resp);
                return SL_ENOMEM;
            }
            rc = metric_add_tag(m, "server", host);
            if (rc == 0) rc = metric_add_tag(m, "port", port);
            if (rc == 0)
                rc = nginx_parse_status(resp.body.ptr ? resp.body.ptr : "", resp.body.len, m);
            if (rc == SL_ENOMEM) {
                metric_free(m);
                httpc_resp_release(&resp);
                return rc;
            }
            if (rc < 0) {
                acc_error(acc, "%s: not an nginx stub_status page", url);
                metric_free(m);
            } else if ((rc = acc_add(acc, m)) < 0) {
                httpc_resp_release(&resp);
                return rc;
            }
        }
        httpc_resp_release(&resp);
    }
    return 0;
}

const struct agent_input_ops input_nginx = {
    .name = "nginx",
    .sample = "[[inputs.nginx]]\n"
              "  ## An array of Nginx stub_status URIs to gather stats.\n"
              "  urls = [\"http://localhost/server_status\"]\n"
              "  ## HTTP response timeout (default: 5s)\n"
              "  response_timeout = \"5s\"\n",
    .init = nginx_init,
    .gather = nginx_gather,
    .free = nginx_free,
};
