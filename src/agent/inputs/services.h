/*
 * services.h — the inputs that talk to other programs (round 2 of issue 6):
 * tail, exec, the HTTP listeners, mqtt_consumer, http_response, prometheus,
 * postgresql, redis, nginx and docker; registered in registry.c. Also the
 * small shared pieces (an HTTP GET helper over libcurl) and the pure parsing
 * functions that unit tests drive on recorded text.
 */
#ifndef SL_AGENT_INPUTS_SERVICES_H
#define SL_AGENT_INPUTS_SERVICES_H

#include <stddef.h>
#include <stdint.h>

#include "agent/metric.h"
#include "agent/plugin.h"
#include "common/buf.h"

extern const struct agent_input_ops input_tail;
extern const struct agent_input_ops input_exec;
extern const struct agent_input_ops input_http_listener_v2;
extern const struct agent_input_ops input_influxdb_listener;
extern const struct agent_input_ops input_influxdb_v2_listener;
extern const struct agent_input_ops input_mqtt_consumer;
extern const struct agent_input_ops input_http_response;
extern const struct agent_input_ops input_prometheus;
extern const struct agent_input_ops input_postgresql;
extern const struct agent_input_ops input_redis;
extern const struct agent_input_ops input_nginx;
extern const struct agent_input_ops input_docker;

/* ---- httpc.c: one HTTP request over libcurl ---- */

struct httpc_req {
    const char *url;
    const char *method; /* NULL = GET */
    const char *body;   /* request body or NULL */
    size_t body_len;
    const char *const *headers; /* "Name: value" strings, NULL-terminated, or NULL */
    const char *unix_socket;    /* connect through this unix socket (docker) */
    const char *username, *password;
    int64_t timeout_ns; /* whole request; <= 0 = 5 s */
    int follow_redirects;
    int insecure;                            /* skip TLS verification */
    const char *tls_ca, *tls_cert, *tls_key; /* PEM files or NULL */
    const char *proxy, *interface;           /* or NULL */
    size_t max_body;                         /* cap on the response body; 0 = 32 MiB */
};

struct httpc_resp {
    long status;        /* 0 when no response arrived */
    struct sl_buf body; /* the response body (owned; httpc_resp_release) */
    double seconds;     /* total time of the request */
    int curl_code;      /* CURLcode of the transfer (0 = ok) */
    int body_truncated; /* the body was larger than max_body */
    char error[256];
};

/* Performs the request. Returns 0 when an HTTP response arrived (any
 * status), otherwise a negative SL_E* with resp->error and resp->curl_code
 * set. The response must be released in both cases. */
int httpc_do(const struct httpc_req *req, struct httpc_resp *resp);
void httpc_resp_release(struct httpc_resp *resp);
/* Host name and port of a URL ("http://h:81/x" → "h", "81"; the scheme's
 * default port when absent). Returns 0 or SL_EINVAL. */
int httpc_url_host_port(const char *url, char *host, size_t hcap, char *port, size_t pcap);

/* ---- pure parsers, for tests ---- */

/* nginx stub_status text → fields of m (active, accepts, handled, requests,
 * reading, writing, waiting). SL_EINVAL on malformed text. */
int nginx_parse_status(const char *text, size_t len, struct metric *m);
/* Redis INFO text → metrics (redis, redis_keyspace, redis_cmdstat,
 * redis_errorstat, redis_latency_percentiles_usec, redis_replication), each
 * tagged with server/port (and replication_role once known); now_s is the
 * current time for rdb_last_save_time_elapsed. */
int redis_parse_info(const char *text, size_t len, const char *server, const char *port,
                     int64_t now_ns, struct metric_list *out);
/* exec: splits a command line into words like a POSIX shell without
 * expansion ('…', "…", backslash); *argv is NULL-terminated, every string
 * and the array sl_free'd by the caller. SL_EINVAL on unterminated quotes
 * or no words. */
int exec_split_words(const char *cmd, char ***argv, size_t *argc);
/* docker: Telegraf's ParseImage ("quay.io/x/y:1.2" → "quay.io/x/y", "1.2";
 * no tag → "unknown"). */
void docker_parse_image(const char *image, char *name, size_t ncap, char *version, size_t vcap);
/* The postgresql server tag: the address without password/sslcert/sslkey/
 * sslmode/sslrootcert (Telegraf's SanitizedAddress). */
int postgresql_sanitize_address(const char *addr, char *out, size_t cap);

#endif
