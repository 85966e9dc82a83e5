/*
 * client_int.h — internals of libsluice shared by its source files:
 * the HTTP transport over one libcurl easy handle, gzip, and the retry
 * policy (pure functions, so the unit tests can check them exactly).
 */
#ifndef SL_CLIENT_CLIENT_INT_H
#define SL_CLIENT_CLIENT_INT_H

#include <stddef.h>
#include <stdint.h>

#include "common/buf.h"
#include "sluice/sluice.h"

/* Largest error body kept for reports. */
#define CLIENT_ERRBODY_MAX 4096

/* ---- transport.c ---- */

/* One kept-alive connection: a curl easy handle and its header list. */
struct client_conn {
    void *curl; /* CURL * */
    char errbuf[256];
};

struct client_resp {
    long status;            /* 0: no response (transport error, see err) */
    struct sl_buf body;     /* response body, capped by the caller's max */
    int64_t retry_after_ms; /* from Retry-After; -1 when absent or unparseable */
    char err[256];          /* transport error, "" when a response arrived */
};

/* Initialises libcurl once per process (thread-safe). Returns 0 or SL_EIO. */
int client_global_init(void);
int client_conn_init(struct client_conn *c);
void client_conn_release(struct client_conn *c);

struct client_req {
    const char *method; /* "GET" or "POST" */
    const char *url;
    const char *auth;         /* full Authorization header value, or NULL */
    const char *content_type; /* POST only */
    const char *accept;       /* optional */
    int gzip;                 /* body is gzip: add Content-Encoding */
    const char *body;
    size_t body_len;
    int timeout_ms;
    const char *user_agent;
    int truncate; /* keep the first body.max bytes of the response body and
                     discard the rest, instead of failing with SL_ETOOBIG */
};

/* Performs a request. resp->body must be initialised (sl_buf_init with the
 * cap the caller wants); it is reset first. Returns 0 when a response arrived
 * (any status), SL_EIO on a transport error (resp->err says which),
 * SL_ETOOBIG when the body exceeded its cap, SL_ENOMEM. */
int client_conn_do(struct client_conn *c, const struct client_req *rq, struct client_resp *resp);

/* Appends the URL-encoded s to out. */
int client_url_escape(struct sl_buf *out, const char *s);

/* Parses a Retry-After value (delta-seconds or an IMF-fixdate HTTP date,
 * relative to now_s, seconds since the epoch) into milliseconds >= 0.
 * Returns -1 when it is neither. */
int64_t client_parse_retry_after(const char *v, size_t n, int64_t now_s);

/* gzip-compresses in[0..n) into out (appending). Returns 0 or SL_ENOMEM. */
int client_gzip(struct sl_buf *out, const char *in, size_t n);

/* ---- retry.c ---- */

enum client_action {
    CLIENT_DONE = 0,  /* delivered */
    CLIENT_RETRY = 1, /* try the same batch again after a delay */
    CLIENT_SPLIT = 2, /* 413: split in halves */
    CLIENT_DROP = 3,  /* give up on the batch */
};

/* Classifies the outcome of one attempt: status 0 means no response. Returns
 * the action; *code gets the SL_E* value to report (0 for CLIENT_DONE).
 * `lines` is the number of lines in the batch (a single line is not split),
 * `attempt` the 1-based attempt number and max_retries the limit of retries
 * (a CLIENT_RETRY becomes CLIENT_DROP once attempt > max_retries). */
enum client_action client_classify(long status, size_t lines, int attempt, int max_retries,
                                   int *code);

/* Delay before retry number `retry` (1-based): uniform in [d/2, d] with
 * d = min(max_ms, initial_ms * 2^(retry-1)), using rnd (any 64-bit random).
 * When retry_after_ms >= 0 it replaces the computed delay, capped at
 * retry_after_max_ms. */
int64_t client_backoff_ms(int retry, int initial_ms, int max_ms, int64_t retry_after_ms,
                          int retry_after_max_ms, uint64_t rnd);

/* xorshift64* step; state must be non-zero. */
uint64_t client_rand(uint64_t *state);

#endif
