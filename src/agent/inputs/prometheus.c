/*
 * prometheus.c — the prometheus input (Telegraf's prometheus.go, metric
 * version 1): GETs each of `urls`, parses the text exposition format
 * (parsers/prometheus.c: measurement = family name, labels → tags, gauge →
 * "gauge", counter → "counter", untyped → "value", summaries and histograms
 * → count/sum/quantile/bucket fields) and tags every metric with `url_tag`
 * (default "url"; "" disables) = the URL. Sample timestamps are kept unless
 * ignore_timestamp. Only the text format is requested (Accept header);
 * Kubernetes discovery and Consul are not supported (a config error).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent/conf.h"
#include "agent/inputs/services.h"
#include "agent/parsers/parsers.h"
#include "common/err.h"
#include "common/fsutil.h"
#include "common/mem.h"
#include "common/timeutil.h"

struct prometheus_input {
    struct glob_list urls;
    char *url_tag, *username, *password, *bearer_token, *bearer_token_string;
    char *tls_ca, *tls_cert, *tls_key;
    int insecure, ignore_timestamp;
    int64_t timeout, metric_version, content_length_limit;
};

static void prom_free(void *state)
{
    struct prometheus_input *s = state;
    if (!s) return;
    glob_list_release(&s->urls);
    sl_free(s->url_tag);
    sl_free(s->username);
    sl_free(s->password);
    sl_free(s->bearer_token);
    sl_free(s->bearer_token_string);
    sl_free(s->tls_ca);
    sl_free(s->tls_cert);
    sl_free(s->tls_key);
    sl_free(s);
}

static int prom_init(struct plugin_conf *c, void **state)
{
    static const char *const unsupported[] = {
        "monitor_kubernetes_pods",   "kubernetes_services",       "kube_config", "pod_scrape_scope",
        "kubernetes_label_selector", "kubernetes_field_selector", "consul",
    };
    struct prometheus_input *s = sl_calloc(1, sizeof(*s));
    if (!s) return SL_ENOMEM;
    s->timeout = 3 * SL_NS_PER_S;
    s->metric_version = 1;
    int rc = SL_ENOMEM;
    if (!(s->url_tag = sl_strdup("url"))) goto fail;
    for (size_t i = 0; i < sizeof(unsupported) / sizeof(unsupported[0]); i++)
        if (conf_has(c, unsupported[i])) {
            rc = conf_fail(c, unsupported[i], "service discovery is not supported");
            goto fail;
        }
    if ((rc = conf_strlist(c, "urls", &s->urls)) < 0) goto fail;
    if ((rc = conf_str(c, "url_tag", &s->url_tag)) < 0) goto fail;
    if ((rc = conf_int(c, "metric_version", &s->metric_version)) < 0) goto fail;
    if ((rc = conf_duration(c, "response_timeout", &s->timeout)) < 0) goto fail;
    if ((rc = conf_duration(c, "timeout", &s->timeout)) < 0) goto fail;
    if ((rc = conf_bool(c, "ignore_timestamp", &s->ignore_timestamp)) < 0) goto fail;
    if ((rc = conf_str(c, "username", &s->username)) < 0) goto fail;
    if ((rc = conf_str(c, "password", &s->password)) < 0) goto fail;
    if ((rc = conf_str(c, "bearer_token", &s->bearer_token)) < 0) goto fail;
    if ((rc = conf_str(c, "bearer_token_string", &s->bearer_token_string)) < 0) goto fail;
    if ((rc = conf_size(c, "content_length_limit", &s->content_length_limit)) < 0) goto fail;
    if ((rc = conf_str(c, "tls_ca", &s->tls_ca)) < 0) goto fail;
    if ((rc = conf_str(c, "tls_cert", &s->tls_cert)) < 0) goto fail;
    if ((rc = conf_str(c, "tls_key", &s->tls_key)) < 0) goto fail;
    if ((rc = conf_bool(c, "insecure_skip_verify", &s->insecure)) < 0) goto fail;
    if (s->metric_version != 1) {
        rc = conf_fail(c, "metric_version", "only metric_version = 1 is supported");
        goto fail;
    }
    if (s->urls.n == 0) {
        rc = conf_fail(c, "urls", "no URLs given");
        goto fail;
    }
    if (s->timeout <= 0) s->timeout = 3 * SL_NS_PER_S;
    *state = s;
    return 0;
fail:
    prom_free(s);
    return rc;
}

static int scrape(struct prometheus_input *s, const char *url, struct agent_acc *acc)
{
    char auth[8192] = "";
    const char *headers[3] = {"Accept: text/plain;version=0.0.4;q=1,*/*;q=0.1", NULL, NULL};
    if (s->bearer_token_string && *s->bearer_token_string) {
        snprintf(auth, sizeof(auth), "Authorization: Bearer %s", s->bearer_token_string);
    } else if (s->bearer_token && *s->bearer_token) {
        char *tok = NULL;
        size_t tl = 0;
        if (sl_file_read_all(s->bearer_token, 1 << 16, &tok, &tl) < 0) {
            acc_error(acc, "cannot read bearer_token file %s", s->bearer_token);
            return 0;
        }
        while (tl && (tok[tl - 1] == '\n' || tok[tl - 1] == '\r' || tok[tl - 1] == ' '))
            tl--;
        snprintf(auth, sizeof(auth), "Authorization: Bearer %.*s", (int)tl, tok);
        sl_free(tok);
    }
    if (*auth) headers[1] = auth;
    struct httpc_req req = {
        .url = url,
        .headers = headers,
        .username = s->username,
        .password = s->password,
        .timeout_ns = s->timeout,
        .insecure = s->insecure,
        .tls_ca = s->tls_ca,
        .tls_cert = s->tls_cert,
        .tls_key = s->tls_key,
        .max_body = s->content_length_limit > 0 ? (size_t)s->content_length_limit : (64u << 20),
    };
    struct httpc_resp resp;
    int rc = httpc_do(&req, &resp);
    if (rc < 0) {
        acc_error(acc, "error making HTTP request to %s: %s", url,
                  resp.body_truncated ? "body larger than the limit" : resp.error);
        httpc_resp_release(&resp);
        return 0;
    }
    if (resp.status != 200) {
        acc_error(acc, "%s returned HTTP status %ld", url, resp.status);
        httpc_resp_release(&resp);
        return 0;
    }
    struct metric_list ml = {0};
    char err[256] = "";
    int64_t now = acc_now(acc);
    rc = parser_prom_parse(resp.body.ptr ? resp.body.ptr : "", resp.body.len, now, &ml, err,
                           sizeof(err));
    httpc_resp_release(&resp);
    if (rc < 0) {
        acc_error(acc, "error reading metrics from %s: %s", url, *err ? err : sl_strerror(rc));
        metric_list_release(&ml);
        return rc == SL_ENOMEM ? rc : 0;
    }
    rc = 0;
    for (size_t i = 0; i < ml.n; i++) {
        struct metric *m = ml.v[i];
        ml.v[i] = NULL;
        if (s->ignore_timestamp) m->time = now;
        int r = 0;
        if (s->url_tag && *s->url_tag) r = metric_add_tag(m, s->url_tag, url);
        if (r < 0 || rc < 0) {
            metric_free(m);
            if (r < 0) rc = r;
            continue;
        }
        rc = acc_add(acc, m);
    }
    metric_list_release(&ml);
    return rc;
}

static int prom_gather(void *state, struct agent_acc *acc)
{
    struct prometheus_input *s = state;
    for (size_t i = 0; i < s->urls.n; i++) {
        int rc = scrape(s, s->urls.v[i], acc);
        if (rc < 0) return rc;
    }
    return 0;
}

const struct agent_input_ops input_prometheus = {
    .name = "prometheus",
    .sample = "[[inputs.prometheus]]\n"
              "  ## An array of urls to scrape metrics from.\n"
              "  urls = [\"http://localhost:9100/metrics\"]\n"
              "  ## Metric version (only 1)\n"
              "  metric_version = 1\n"
              "  # url_tag = \"url\"\n"
              "  # response_timeout = \"3s\"\n",
    .init = prom_init,
    .gather = prom_gather,
    .free = prom_free,
};
