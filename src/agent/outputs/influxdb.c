/*
 * influxdb.c — outputs.influxdb (v1 /write) and outputs.influxdb_v2
 * (/api/v2/write) over libcurl, with one shared HTTP core.
 *
 * Response handling (reference/telegraf.md, improved where noted):
 *   2xx                    delivered.
 *   413                    the batch is split in half and each half sent on
 *                          its own, recursively (a single metric that is still
 *                          too large is dropped and counted).
 *   429, 502, 503, 504     kept; the agent backs off, honouring Retry-After.
 *   401, 403, other 5xx,
 *   network errors         kept and retried after the backoff.
 *   other 4xx (400, 422)   rejected: the batch is dropped and counted. For
 *                          v1, InfluxDB's partial-write answers ("partial
 *                          write", "points beyond retention policy", "unable
 *                          to parse", "hinted handoff queue not empty") mean
 *                          the rest was stored: treated as delivered, as
 *                          Telegraf does. "database not found" makes v1 create
 *                          the database (unless skip_database_creation) and
 *                          retry.
 * Several urls: each batch goes to the urls in turn, starting with the one
 * that last worked, until one accepts it.
 * Bodies are gzip-compressed unless content_encoding = "identity".
 */
#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "agent/conf.h"
#include "agent/outputs/outputs.h"
#include "common/err.h"
#include "common/log.h"
#include "common/mem.h"
#include "common/timeutil.h"

#define RESP_MAX (64 * 1024)

struct influx_output {
    int v2;
    struct glob_list urls;
    size_t cur_url;
    char *token, *org, *bucket, *bucket_tag;
    int exclude_bucket_tag;
    char *database, *database_tag, *retention_policy, *retention_policy_tag, *consistency;
    int exclude_database_tag, exclude_rp_tag, skip_database_creation, db_created;
    char *username, *password, *user_agent, *content_encoding, *http_proxy;
    char *tls_ca, *tls_cert, *tls_key;
    int insecure_skip_verify, uint_support;
    int64_t timeout;
    struct curl_slist *headers;
    CURL *curl;
};

static void influx_free(void *state)
{
    struct influx_output *s = state;
    glob_list_release(&s->urls);
    char **strs[] = {&s->token,
                     &s->org,
                     &s->bucket,
                     &s->bucket_tag,
                     &s->database,
                     &s->database_tag,
                     &s->retention_policy,
                     &s->retention_policy_tag,
                     &s->consistency,
                     &s->username,
                     &s->password,
                     &s->user_agent,
                     &s->content_encoding,
                     &s->http_proxy,
                     &s->tls_ca,
                     &s->tls_cert,
                     &s->tls_key};
    for (size_t i = 0; i < sizeof(strs) / sizeof(strs[0]); i++)
        sl_free(*strs[i]);
    curl_slist_free_all(s->headers);
    if (s->curl) curl_easy_cleanup(s->curl);
    sl_free(s);
}

static int influx_init_common(struct plugin_conf *c, void **state, int v2)
{
    struct influx_output *s = sl_calloc(1, sizeof(*s));
    if (!s) return SL_ENOMEM;
    s->v2 = v2;
    s->timeout = 5 * SL_NS_PER_S;
    int rc, dummy = 0;
    int64_t dummy_i = 0;
    char *dummy_s = NULL;
    if ((rc = conf_strlist(c, "urls", &s->urls)) < 0) goto fail;
    if (conf_has(c, "url")) {
        char *u = NULL;
        if ((rc = conf_str(c, "url", &u)) < 0) goto fail;
        rc = glob_list_add(&s->urls, u);
        sl_free(u);
        if (rc < 0) goto fail;
    }
    if ((rc = conf_duration(c, "timeout", &s->timeout)) < 0) goto fail;
    if ((rc = conf_str(c, "user_agent", &s->user_agent)) < 0) goto fail;
    if ((rc = conf_str(c, "content_encoding", &s->content_encoding)) < 0) goto fail;
    if ((rc = conf_str(c, "http_proxy", &s->http_proxy)) < 0) goto fail;
    if ((rc = conf_str(c, "tls_ca", &s->tls_ca)) < 0) goto fail;
    if ((rc = conf_str(c, "tls_cert", &s->tls_cert)) < 0) goto fail;
    if ((rc = conf_str(c, "tls_key", &s->tls_key)) < 0) goto fail;
    if ((rc = conf_bool(c, "insecure_skip_verify", &s->insecure_skip_verify)) < 0) goto fail;
    if ((rc = conf_bool(c, "influx_uint_support", &s->uint_support)) < 0) goto fail;
    if ((rc = conf_bool(c, "influx_omit_timestamp", &dummy)) < 0) goto fail;
    if ((rc = conf_int(c, "max_idle_conns", &dummy_i)) < 0) goto fail;
    if ((rc = conf_duration(c, "ping_timeout", &dummy_i)) < 0) goto fail;
    if ((rc = conf_duration(c, "read_idle_timeout", &dummy_i)) < 0) goto fail;
    if ((rc = conf_str(c, "tls_server_name", &dummy_s)) < 0) goto fail;
    struct plugin_conf *h = conf_table(c, "http_headers");
    for (size_t i = 0; h && conf_key_at(h, i); i++) {
        const char *k = conf_key_at(h, i);
        char *v = NULL;
        if ((rc = conf_str(h, k, &v)) < 0) {
            conf_fail(c, "http_headers", "%s", conf_error(h));
            conf_free(h);
            goto fail;
        }
        size_t l = strlen(k) + strlen(v) + 3;
        char *line = sl_malloc(l);
        if (line) snprintf(line, l, "%s: %s", k, v);
        struct curl_slist *nl = line ? curl_slist_append(s->headers, line) : NULL;
        sl_free(line);
        sl_free(v);
        if (!nl) {
            conf_free(h);
            rc = SL_ENOMEM;
            goto fail;
        }
        s->headers = nl;
    }
    conf_free(h);
    if (v2) {
        if ((rc = conf_str(c, "token", &s->token)) < 0) goto fail;
        if ((rc = conf_str(c, "organization", &s->org)) < 0) goto fail;
        if ((rc = conf_str(c, "bucket", &s->bucket)) < 0) goto fail;
        if ((rc = conf_str(c, "bucket_tag", &s->bucket_tag)) < 0) goto fail;
        if ((rc = conf_bool(c, "exclude_bucket_tag", &s->exclude_bucket_tag)) < 0) goto fail;
        if (s->bucket_tag) {
            rc = conf_fail(c, "bucket_tag", "routing by tag is not supported yet");
            goto fail;
        }
        if (!s->bucket) {
            rc = conf_fail(c, "bucket", "a bucket (or bucket_tag) is required");
            goto fail;
        }
    } else {
        if ((rc = conf_str(c, "database", &s->database)) < 0) goto fail;
        if ((rc = conf_str(c, "database_tag", &s->database_tag)) < 0) goto fail;
        if ((rc = conf_bool(c, "exclude_database_tag", &s->exclude_database_tag)) < 0) goto fail;
        if ((rc = conf_str(c, "retention_policy", &s->retention_policy)) < 0) goto fail;
        if ((rc = conf_str(c, "retention_policy_tag", &s->retention_policy_tag)) < 0) goto fail;
        if ((rc = conf_bool(c, "exclude_retention_policy_tag", &s->exclude_rp_tag)) < 0) goto fail;
        if ((rc = conf_str(c, "write_consistency", &s->consistency)) < 0) goto fail;
        if ((rc = conf_str(c, "username", &s->username)) < 0) goto fail;
        if ((rc = conf_str(c, "password", &s->password)) < 0) goto fail;
        if ((rc = conf_bool(c, "skip_database_creation", &s->skip_database_creation)) < 0)
            goto fail;
        if ((rc = conf_size(c, "udp_payload", &dummy_i)) < 0) goto fail;
        if (s->database_tag || s->retention_policy_tag) {
            rc = conf_fail(c, s->database_tag ? "database_tag" : "retention_policy_tag",
                           "routing by tag is not supported yet");
            goto fail;
        }
        if (!s->database && !(s->database = sl_strdup("telegraf"))) {
            rc = SL_ENOMEM;
            goto fail;
        }
    }
    if (s->urls.n == 0 && (rc = glob_list_add(&s->urls, "http://localhost:8086")) < 0) goto fail;
    for (size_t i = 0; i < s->urls.n; i++)
        if (strncmp(s->urls.v[i], "http://", 7) && strncmp(s->urls.v[i], "https://", 8)) {
            rc = conf_fail(c, "urls", "unsupported url \"%s\" (http:// or https://)", s->urls.v[i]);
            goto fail;
        }
    if (s->content_encoding && strcmp(s->content_encoding, "gzip") &&
        strcmp(s->content_encoding, "identity") && *s->content_encoding) {
        rc = conf_fail(c, "content_encoding", "must be \"gzip\" or \"identity\"");
        goto fail;
    }
    if (!s->content_encoding && !(s->content_encoding = sl_strdup("gzip"))) {
        rc = SL_ENOMEM;
        goto fail;
    }
    if (!s->user_agent && !(s->user_agent = sl_strdup("sluice/" SLUICE_VERSION))) {
        rc = SL_ENOMEM;
        goto fail;
    }
    sl_free(dummy_s);
    *state = s;
    return 0;
fail:
    sl_free(dummy_s);
    influx_free(s);
    return rc;
}

static int influx_v1_init(struct plugin_conf *c, void **state)
{
    return influx_init_common(c, state, 0);
}

static int influx_v2_init(struct plugin_conf *c, void **state)
{
    return influx_init_common(c, state, 1);
}

static int gzip_buf(const char *in, size_t n, struct sl_buf *out)
{
    z_stream zs;
    memset(&zs, 0, sizeof(zs));
    if (deflateInit2(&zs, 6, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY) != Z_OK)
        return SL_ENOMEM;
    size_t bound = deflateBound(&zs, n) + 32;
    int rc = sl_buf_reserve(out, bound);
    if (rc == 0) {
        zs.next_in = (Bytef *)in;
        zs.avail_in = (uInt)n;
        zs.next_out = (Bytef *)out->ptr;
        zs.avail_out = (uInt)bound;
        if (deflate(&zs, Z_FINISH) != Z_STREAM_END)
            rc = SL_EIO;
        else
            out->len = zs.total_out;
    }
    deflateEnd(&zs);
    return rc;
}

struct http_resp {
    long status;
    int64_t retry_after_ns;
    struct sl_buf body;
    char curl_err[CURL_ERROR_SIZE];
};

static size_t on_body(char *p, size_t sz, size_t nm, void *ud)
{
    struct http_resp *r = ud;
    size_t n = sz * nm;
    if (r->body.len < RESP_MAX) sl_buf_add(&r->body, p, n < RESP_MAX ? n : RESP_MAX);
    return n;
}

static size_t on_header(char *p, size_t sz, size_t nm, void *ud)
{
    struct http_resp *r = ud;
    size_t n = sz * nm;
    if (n > 12 && !strncasecmp(p, "Retry-After:", 12)) {
        char tmp[64];
        size_t l = n - 12 < sizeof(tmp) - 1 ? n - 12 : sizeof(tmp) - 1;
        memcpy(tmp, p + 12, l);
        tmp[l] = '\0';
        char *end;
        double secs = strtod(tmp, &end);
        if (end != tmp && secs > 0 && secs < 86400) r->retry_after_ns = (int64_t)(secs * 1e9);
    }
    return n;
}

/* Appends s URL-encoded. */
static int add_escaped(struct sl_buf *b, CURL *c, const char *s)
{
    char *e = curl_easy_escape(c, s, 0);
    if (!e) return SL_ENOMEM;
    int rc = sl_buf_adds(b, e);
    curl_free(e);
    return rc;
}

static int post(struct influx_output *s, const char *url, const char *body, size_t n,
                const char *ctype, int gzip, struct http_resp *r)
{
    if (!s->curl && !(s->curl = curl_easy_init())) return SL_ENOMEM;
    CURL *c = s->curl;
    curl_easy_reset(c);
    struct sl_buf z;
    sl_buf_init(&z, 0);
    if (gzip) {
        int rc = gzip_buf(body, n, &z);
        if (rc < 0) {
            sl_buf_release(&z);
            return rc;
        }
        body = z.ptr;
        n = z.len;
    }
    struct curl_slist *h = NULL, *t;
    char ct[128];
    snprintf(ct, sizeof(ct), "Content-Type: %s", ctype);
    h = curl_slist_append(h, ct);
    if (h && gzip && (t = curl_slist_append(h, "Content-Encoding: gzip"))) h = t;
    char auth[1024];
    if (h && s->token) {
        snprintf(auth, sizeof(auth), "Authorization: Token %s", s->token);
        if ((t = curl_slist_append(h, auth))) h = t;
    }
    if (h && (t = curl_slist_append(h, "Expect:"))) h = t;
    for (struct curl_slist *x = s->headers; h && x; x = x->next)
        if ((t = curl_slist_append(h, x->data))) h = t;
    r->curl_err[0] = '\0';
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_POST, 1L);
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
    curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)n);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
    curl_easy_setopt(c, CURLOPT_USERAGENT, s->user_agent);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, (long)(s->timeout / SL_NS_PER_MS));
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, (long)(s->timeout / SL_NS_PER_MS));
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, r);
    curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(c, CURLOPT_HEADERDATA, r);
    curl_easy_setopt(c, CURLOPT_ERRORBUFFER, r->curl_err);
    if (s->http_proxy) curl_easy_setopt(c, CURLOPT_PROXY, s->http_proxy);
    if (s->tls_ca) curl_easy_setopt(c, CURLOPT_CAINFO, s->tls_ca);
    if (s->tls_cert) curl_easy_setopt(c, CURLOPT_SSLCERT, s->tls_cert);
    if (s->tls_key) curl_easy_setopt(c, CURLOPT_SSLKEY, s->tls_key);
    if (s->insecure_skip_verify) {
        curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 0L);
        curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 0L);
    }
    if (s->username) {
        curl_easy_setopt(c, CURLOPT_USERNAME, s->username);
        curl_easy_setopt(c, CURLOPT_PASSWORD, s->password ? s->password : "");
    }
    CURLcode cc = curl_easy_perform(c);
    r->status = 0;
    if (cc == CURLE_OK)
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &r->status);
    else if (!r->curl_err[0])
        snprintf(r->curl_err, sizeof(r->curl_err), "%s", curl_easy_strerror(cc));
    curl_slist_free_all(h);
    sl_buf_release(&z);
    return cc == CURLE_OK ? 0 : SL_EIO;
}

static int write_url(struct influx_output *s, const char *base, struct sl_buf *u)
{
    sl_buf_reset(u);
    int rc = sl_buf_adds(u, base);
    while (rc == 0 && u->len && u->ptr[u->len - 1] == '/')
        u->ptr[--u->len] = '\0';
    if (s->v2) {
        if (rc == 0) rc = sl_buf_adds(u, "/api/v2/write?bucket=");
        if (rc == 0) rc = add_escaped(u, s->curl, s->bucket ? s->bucket : "");
        if (rc == 0 && s->org) {
            rc = sl_buf_adds(u, "&org=");
            if (rc == 0) rc = add_escaped(u, s->curl, s->org);
        }
    } else {
        if (rc == 0) rc = sl_buf_adds(u, "/write?db=");
        if (rc == 0) rc = add_escaped(u, s->curl, s->database);
        if (rc == 0 && s->retention_policy && *s->retention_policy) {
            rc = sl_buf_adds(u, "&rp=");
            if (rc == 0) rc = add_escaped(u, s->curl, s->retention_policy);
        }
        if (rc == 0 && s->consistency && *s->consistency) {
            rc = sl_buf_adds(u, "&consistency=");
            if (rc == 0) rc = add_escaped(u, s->curl, s->consistency);
        }
    }
    return rc;
}

static void create_database(struct influx_output *s, const char *base)
{
    struct sl_buf u, q;
    sl_buf_init(&u, 0);
    sl_buf_init(&q, 0);
    struct http_resp r;
    memset(&r, 0, sizeof(r));
    sl_buf_init(&r.body, RESP_MAX + 1);
    int rc = sl_buf_adds(&u, base);
    while (rc == 0 && u.len && u.ptr[u.len - 1] == '/')
        u.ptr[--u.len] = '\0';
    if (rc == 0) rc = sl_buf_adds(&u, "/query");
    if (rc == 0) rc = sl_buf_adds(&q, "q=");
    struct sl_buf stmt;
    sl_buf_init(&stmt, 0);
    if (rc == 0) rc = sl_buf_adds(&stmt, "CREATE DATABASE \"");
    for (const char *p = s->database; rc == 0 && *p; p++) {
        if (*p == '"' || *p == '\\') rc = sl_buf_addc(&stmt, '\\');
        if (rc == 0) rc = sl_buf_addc(&stmt, *p);
    }
    if (rc == 0) rc = sl_buf_addc(&stmt, '"');
    if (rc == 0) rc = add_escaped(&q, s->curl, stmt.ptr);
    if (rc == 0 && post(s, u.ptr, q.ptr, q.len, "application/x-www-form-urlencoded", 0, &r) == 0 &&
        r.status / 100 == 2)
        s->db_created = 1;
    else
        sl_warn("agent", "outputs.influxdb: creating database \"%s\" failed (status %ld)",
                s->database, r.status);
    sl_buf_release(&stmt);
    sl_buf_release(&u);
    sl_buf_release(&q);
    sl_buf_release(&r.body);
}

static int influx_connect(void *state)
{
    struct influx_output *s = state;
    if (!s->curl && !(s->curl = curl_easy_init())) return SL_ENOMEM;
    if (!s->v2 && !s->skip_database_creation && !s->db_created) create_database(s, s->urls.v[0]);
    return 0;
}

static int v1_partial_ok(const char *body)
{
    return body &&
           (strstr(body, "partial write") || strstr(body, "points beyond retention policy") ||
            strstr(body, "unable to parse") || strstr(body, "hinted handoff queue not empty"));
}

/* Sends batch[0..n) to one url; splits on 413. */
static enum output_result send_range(struct influx_output *s, const char *base,
                                     struct metric **batch, size_t n,
                                     struct output_write_info *info, size_t *handled)
{
    struct sl_buf body, u;
    sl_buf_init(&body, 0);
    sl_buf_init(&u, 0);
    struct lp_write_opts wo = {.uint_support = s->uint_support, .precision = LP_PREC_NS};
    enum output_result res = OUTPUT_RETRY;
    struct http_resp r;
    memset(&r, 0, sizeof(r));
    sl_buf_init(&r.body, RESP_MAX + 1);
    for (size_t i = 0; i < n; i++) {
        int rc = metric_write_lp(batch[i], &body, &wo);
        if (rc < 0 && rc != SL_EINVAL) {
            snprintf(info->error, sizeof(info->error), "serializing: %s", sl_strerror(rc));
            goto out;
        }
    }
    if (!s->curl && !(s->curl = curl_easy_init())) goto out;
    if (write_url(s, base, &u) < 0) goto out;
    if (post(s, u.ptr, body.ptr ? body.ptr : "", body.len, "text/plain; charset=utf-8",
             !strcmp(s->content_encoding, "gzip"), &r) < 0) {
        snprintf(info->error, sizeof(info->error), "%.100s: %.140s", base, r.curl_err);
        goto out;
    }
    long st = r.status;
    const char *msg = r.body.ptr ? r.body.ptr : "";
    if (st / 100 == 2) {
        res = OUTPUT_OK;
    } else if (st == 413 && n > 1) {
        size_t half = n / 2, h1 = 0, h2 = 0;
        sl_info("agent", "%s: 413 request entity too large, splitting batch of %zu", base, n);
        res = send_range(s, base, batch, half, info, &h1);
        if (res == OUTPUT_RETRY) {
            *handled += h1;
            goto out;
        }
        uint64_t rej1 = res == OUTPUT_REJECTED ? half : 0;
        size_t before = (size_t)info->rejected;
        res = send_range(s, base, batch + half, n - half, info, &h2);
        if (res == OUTPUT_RETRY) {
            *handled += half + h2;
            info->rejected = before + rej1;
            goto out;
        }
        info->rejected = before + rej1 + (res == OUTPUT_REJECTED ? n - half : 0);
        res = OUTPUT_OK; /* every metric dealt with; rejected ones counted */
        goto out_handled;
    } else if (st == 413) {
        snprintf(info->error, sizeof(info->error), "%s: a single metric is too large", base);
        res = OUTPUT_REJECTED;
    } else if (!s->v2 && st / 100 == 4 && v1_partial_ok(msg)) {
        sl_warn("agent", "outputs.influxdb: %s: %.200s", base, msg);
        res = OUTPUT_OK;
    } else if (!s->v2 && st == 404 && strstr(msg, "database not found") &&
               !s->skip_database_creation) {
        create_database(s, base);
        snprintf(info->error, sizeof(info->error), "%s: database not found (creating it)", base);
        res = OUTPUT_RETRY;
    } else if (st == 429 || st == 502 || st == 503 || st == 504 || st == 401 || st == 403 ||
               st / 100 == 5) {
        info->retry_after_ns = r.retry_after_ns;
        snprintf(info->error, sizeof(info->error), "%s: HTTP %ld: %.160s", base, st, msg);
        res = OUTPUT_RETRY;
    } else if (st / 100 == 4) {
        snprintf(info->error, sizeof(info->error), "%s: HTTP %ld: %.160s", base, st, msg);
        res = OUTPUT_REJECTED;
    } else {
        snprintf(info->error, sizeof(info->error), "%s: unexpected HTTP %ld", base, st);
        res = OUTPUT_RETRY;
    }
out:
    if (res != OUTPUT_RETRY) *handled += n;
    sl_buf_release(&body);
    sl_buf_release(&u);
    sl_buf_release(&r.body);
    return res;
out_handled:
    *handled += n;
    sl_buf_release(&body);
    sl_buf_release(&u);
    sl_buf_release(&r.body);
    return res;
}

static enum output_result influx_write(void *state, struct metric **batch, size_t n,
                                       struct output_write_info *info)
{
    struct influx_output *s = state;
    enum output_result res = OUTPUT_RETRY;
    for (size_t k = 0; k < s->urls.n; k++) {
        size_t idx = (s->cur_url + k) % s->urls.n;
        size_t handled = 0;
        info->rejected = 0;
        res = send_range(s, s->urls.v[idx], batch, n, info, &handled);
        if (res != OUTPUT_RETRY) {
            s->cur_url = idx;
            if (res == OUTPUT_REJECTED) return res;
            return OUTPUT_OK;
        }
        if (handled) { /* part of a split batch went to this url: stay with it */
            info->handled = handled;
            s->cur_url = idx;
            return OUTPUT_RETRY;
        }
    }
    info->handled = 0;
    return res;
}

static void influx_close(void *state)
{
    struct influx_output *s = state;
    if (s->curl) curl_easy_cleanup(s->curl);
    s->curl = NULL;
}

const struct agent_output_ops output_influxdb = {
    .name = "influxdb",
    .sample = "[[outputs.influxdb]]\n"
              "  ## The full HTTP endpoint URL for your InfluxDB instance.\n"
              "  urls = [\"http://127.0.0.1:8086\"]\n"
              "  ## The target database for metrics; will be created as needed.\n"
              "  database = \"telegraf\"\n"
              "  ## If true, no CREATE DATABASE queries will be sent.\n"
              "  # skip_database_creation = false\n"
              "  ## Timeout for HTTP messages.\n"
              "  # timeout = \"5s\"\n"
              "  # username = \"telegraf\"\n"
              "  # password = \"metricsmetricsmetricsmetrics\"\n"
              "  ## HTTP Content-Encoding for write request body: \"gzip\" or \"identity\".\n"
              "  # content_encoding = \"gzip\"\n",
    .init = influx_v1_init,
    .connect = influx_connect,
    .write = influx_write,
    .close = influx_close,
    .free = influx_free,
};

const struct agent_output_ops output_influxdb_v2 = {
    .name = "influxdb_v2",
    .sample = "[[outputs.influxdb_v2]]\n"
              "  ## The URLs of the InfluxDB cluster nodes.\n"
              "  urls = [\"http://127.0.0.1:8086\"]\n"
              "  ## Token for authentication.\n"
              "  token = \"\"\n"
              "  ## Organization is the name of the organization you wish to write to.\n"
              "  organization = \"\"\n"
              "  ## Destination bucket to write into.\n"
              "  bucket = \"\"\n"
              "  ## Timeout for HTTP messages.\n"
              "  # timeout = \"5s\"\n"
              "  ## Content-Encoding for write request body: \"gzip\" or \"identity\".\n"
              "  # content_encoding = \"gzip\"\n",
    .init = influx_v2_init,
    .connect = influx_connect,
    .write = influx_write,
    .close = influx_close,
    .free = influx_free,
};
