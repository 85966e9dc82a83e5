/*
 * writer.c — the batching writer of libsluice (include/sluice/writer.h).
 *
 * Design notes
 * ------------
 * Callers append lines to the current batch under one mutex. A batch is
 * sealed (moved to a FIFO queue) when it is full, when its first line is
 * flush_interval_ms old (the sender thread's timer), or on flush/close.
 * One sender thread owns the curl handle, so the connection is reused and
 * batches arrive in the order they were written; a client library that
 * needs more throughput runs several writers (the load generator does).
 *
 * The sender delivers a batch completely before taking the next: a 413
 * splits it recursively (halves at a line boundary, depth <= log2(lines)),
 * retries sleep in the sender. Memory is bounded by max_pending_bytes:
 * writers block while sealed, unsent data would exceed it, which pushes back
 * on producers instead of dropping or growing. The timer's own sealing never
 * waits (the sender cannot wait for itself), so the bound may be exceeded by
 * at most one batch.
 *
 * Counting: sealed_count and done_count number whole (unsplit) batches;
 * flush waits until done_count reaches the sealed_count it saw, which is
 * exactly "everything queued before the call has been delivered or dropped".
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "client/client_int.h"
#include "common/buf.h"
#include "common/err.h"
#include "common/mem.h"
#include "common/timeutil.h"
#include "sluice/writer.h"

struct batch {
    struct batch *next;
    char *data;
    size_t len;
    size_t lines;
};

struct sl_writer {
    /* configuration (immutable after new) */
    struct sl_writer_opts o;
    char *url, *auth, *user_agent;

    pthread_mutex_t mu;
    pthread_cond_t work;  /* sender: a batch was sealed, a timer starts, or closing */
    pthread_cond_t space; /* writers: pending bytes went down */
    pthread_cond_t done;  /* flushers: a batch finished */
    pthread_t thread;
    int thread_started, closing, joined;

    struct sl_buf cur; /* current batch */
    size_t cur_lines;
    int64_t cur_first_ns; /* monotonic time of its first line */

    struct batch *head, *tail;
    size_t pending_bytes; /* sealed and not finished, in-flight included */
    uint64_t sealed_count, done_count;
    int drop_code; /* last drop since the previous flush */
    struct sl_writer_stats st;

    /* sender-only state */
    struct client_conn conn;
    struct client_resp resp;
    struct sl_buf gz;
    uint64_t rnd;
};

static int build_url(struct sl_writer *w, const struct sl_writer_opts *opts)
{
    static const char *v1p[] = {NULL, "ns", "u", "ms", "s"};
    static const char *v2p[] = {NULL, "ns", "us", "ms", "s"};
    static const char *v3p[] = {NULL, "nanosecond", "microsecond", "millisecond", "second"};
    struct sl_buf u;
    int rc = 0;
    const char *base = opts->url;
    size_t bl = strlen(base);
    while (bl && base[bl - 1] == '/')
        bl--;
    sl_buf_init(&u, 64 * 1024);
    rc |= sl_buf_add(&u, base, bl);
    const char *prec;
    switch (w->o.api) {
    case SL_API_V1:
        rc |= sl_buf_adds(&u, "/write?db=");
        rc |= client_url_escape(&u, opts->db);
        if (opts->rp && *opts->rp) {
            rc |= sl_buf_adds(&u, "&rp=");
            rc |= client_url_escape(&u, opts->rp);
        }
        prec = v1p[w->o.precision];
        break;
    case SL_API_V2:
        rc |= sl_buf_adds(&u, "/api/v2/write?bucket=");
        rc |= client_url_escape(&u, opts->db);
        if (opts->org && *opts->org) {
            rc |= sl_buf_adds(&u, "&org=");
            rc |= client_url_escape(&u, opts->org);
        }
        prec = v2p[w->o.precision];
        break;
    default:
        rc |= sl_buf_adds(&u, "/api/v3/write_lp?db=");
        rc |= client_url_escape(&u, opts->db);
        prec = v3p[w->o.precision];
        break;
    }
    if (prec) rc |= sl_buf_addf(&u, "&precision=%s", prec);
    if (rc < 0) {
        sl_buf_release(&u);
        return SL_ENOMEM;
    }
    w->url = sl_buf_detach(&u, NULL);
    return w->url ? 0 : SL_ENOMEM;
}

static void *sender_main(void *arg);

int sl_writer_new(struct sl_writer **out, const struct sl_writer_opts *opts)
{
    struct sl_writer *w = NULL;
    int rc = SL_EINVAL;

    *out = NULL;
    if (!opts || !opts->url || !*opts->url || !opts->db || !*opts->db) return SL_EINVAL;
    if (opts->api != 0 && opts->api != SL_API_V1 && opts->api != SL_API_V2 &&
        opts->api != SL_API_V3)
        return SL_EINVAL;
    if ((unsigned)opts->precision > SL_PREC_S) return SL_EINVAL;
    if (!(w = sl_calloc(1, sizeof(*w)))) return SL_ENOMEM;
    w->o = *opts;
    if (!w->o.api) w->o.api = SL_API_V3;
    if (!w->o.batch_lines) w->o.batch_lines = 5000;
    if (!w->o.batch_bytes) w->o.batch_bytes = (size_t)1 << 20;
    if (!w->o.flush_interval_ms) w->o.flush_interval_ms = 1000;
    if (!w->o.max_retries) w->o.max_retries = 5;
    if (w->o.max_retries < 0) w->o.max_retries = 0;
    if (w->o.retry_initial_ms <= 0) w->o.retry_initial_ms = 250;
    if (w->o.retry_max_ms <= 0) w->o.retry_max_ms = 30000;
    if (w->o.retry_after_max_ms <= 0) w->o.retry_after_max_ms = 60000;
    if (w->o.timeout_ms <= 0) w->o.timeout_ms = 30000;
    if (!w->o.max_pending_bytes) w->o.max_pending_bytes = (size_t)64 << 20;
    /* the caller's strings may go away: what is needed is copied below */
    w->o.url = w->o.db = w->o.rp = w->o.org = w->o.token = w->o.user_agent = NULL;
    rc = SL_ENOMEM;
    pthread_mutex_init(&w->mu, NULL);
    pthread_cond_init(&w->work, NULL);
    pthread_cond_init(&w->space, NULL);
    pthread_cond_init(&w->done, NULL);
    sl_buf_init(&w->cur, 0);
    sl_buf_init(&w->resp.body, CLIENT_ERRBODY_MAX);
    sl_buf_init(&w->gz, 0);
    w->joined = 1; /* nothing to join until the thread starts */
    if ((rc = build_url(w, opts)) < 0) goto fail;
    if (opts->token && *opts->token) {
        struct sl_buf a;
        sl_buf_init(&a, 64 * 1024);
        if (sl_buf_addf(&a, "%s %s", w->o.api == SL_API_V3 ? "Bearer" : "Token", opts->token) < 0) {
            sl_buf_release(&a);
            rc = SL_ENOMEM;
            goto fail;
        }
        w->auth = sl_buf_detach(&a, NULL);
    }
    w->user_agent =
        opts->user_agent ? sl_strdup(opts->user_agent) : sl_strdup("libsluice/" SLUICE_VERSION);
    rc = SL_ENOMEM;
    if (!w->user_agent || (opts->token && *opts->token && !w->auth)) goto fail;
    if ((rc = client_conn_init(&w->conn)) < 0) goto fail;
    w->rnd = (uint64_t)sl_mono_ns() ^ (uint64_t)(uintptr_t)w ^ 0x9E3779B97F4A7C15ULL;
    if (!w->rnd) w->rnd = 1;
    if (pthread_create(&w->thread, NULL, sender_main, w) != 0) {
        rc = SL_EIO;
        goto fail;
    }
    w->thread_started = 1;
    w->joined = 0;
    *out = w;
    return 0;
fail:
    sl_writer_free(w);
    return rc;
}

/* Moves the current batch to the queue. With may_wait, first waits until it
 * fits under max_pending_bytes (a lone batch always fits). Called locked. */
static int seal_locked(struct sl_writer *w, int may_wait)
{
    while (may_wait && w->pending_bytes > 0 &&
           w->pending_bytes + w->cur.len > w->o.max_pending_bytes && !w->joined)
        pthread_cond_wait(&w->space, &w->mu);
    if (w->cur.len == 0) return 0; /* someone else sealed it meanwhile */
    struct batch *b = sl_calloc(1, sizeof(*b));
    if (!b) return SL_ENOMEM;
    b->lines = w->cur_lines;
    b->data = sl_buf_detach(&w->cur, &b->len);
    if (!b->data) {
        sl_free(b);
        return SL_ENOMEM;
    }
    sl_buf_init(&w->cur, 0);
    w->cur_lines = 0;
    if (w->tail)
        w->tail->next = b;
    else
        w->head = b;
    w->tail = b;
    w->pending_bytes += b->len;
    w->sealed_count++;
    pthread_cond_signal(&w->work);
    return 0;
}

int sl_writer_write_lines(struct sl_writer *w, const char *buf, size_t len)
{
    int rc = 0;
    if (!buf && len) return SL_EINVAL;
    /* refuse up front rather than queue half of the input */
    for (size_t i = 0; i < len;) {
        const char *nl = memchr(buf + i, '\n', len - i);
        size_t ll = (nl ? (size_t)(nl - buf) : len) - i;
        if (ll + 1 > w->o.max_pending_bytes) return SL_ETOOBIG;
        i += ll + 1;
    }
    pthread_mutex_lock(&w->mu);
    if (w->closing) {
        rc = SL_ESTATE;
        goto out;
    }
    for (size_t i = 0; i < len;) {
        const char *line = buf + i;
        const char *nl = memchr(line, '\n', len - i);
        size_t ll = nl ? (size_t)(nl - line) : len - i;
        i += ll + 1;
        if (ll == 0) continue;
        while (w->cur_lines >= w->o.batch_lines ||
               (w->cur.len > 0 && w->cur.len + ll + 1 > w->o.batch_bytes)) {
            if ((rc = seal_locked(w, 1)) < 0) goto out;
            if (w->closing) {
                rc = SL_ESTATE;
                goto out;
            }
        }
        if ((rc = sl_buf_reserve(&w->cur, ll + 1)) < 0) goto out;
        sl_buf_add(&w->cur, line, ll);
        sl_buf_addc(&w->cur, '\n');
        if (w->cur_lines++ == 0) {
            w->cur_first_ns = sl_mono_ns();
            pthread_cond_signal(&w->work); /* arm the sender's timer */
        }
        w->st.lines_written++;
    }
    if (w->cur_lines >= w->o.batch_lines || w->cur.len >= w->o.batch_bytes) rc = seal_locked(w, 1);
out:
    pthread_mutex_unlock(&w->mu);
    return rc;
}

int sl_writer_write_point(struct sl_writer *w, const struct sl_point *p)
{
    char *line;
    size_t n;
    int rc = sl_point_encode(p, w->o.precision, !w->o.no_uint, &line, &n);
    if (rc < 0) return rc;
    rc = sl_writer_write_lines(w, line, n);
    sl_free(line);
    return rc;
}

int sl_writer_flush(struct sl_writer *w)
{
    int rc;
    pthread_mutex_lock(&w->mu);
    if (!w->joined && (rc = seal_locked(w, 1)) < 0) goto out;
    uint64_t target = w->sealed_count;
    while (w->done_count < target && !w->joined)
        pthread_cond_wait(&w->done, &w->mu);
    rc = w->drop_code;
    w->drop_code = 0;
out:
    pthread_mutex_unlock(&w->mu);
    return rc;
}

int sl_writer_close(struct sl_writer *w)
{
    int rc;
    pthread_mutex_lock(&w->mu);
    w->closing = 1;
    pthread_cond_broadcast(&w->work);
    pthread_cond_broadcast(&w->space);
    int join = w->thread_started && !w->joined;
    pthread_mutex_unlock(&w->mu);
    if (join) {
        pthread_join(w->thread, NULL);
        pthread_mutex_lock(&w->mu);
        w->joined = 1;
        pthread_cond_broadcast(&w->done);
        pthread_cond_broadcast(&w->space);
        pthread_mutex_unlock(&w->mu);
    }
    pthread_mutex_lock(&w->mu);
    rc = w->drop_code;
    w->drop_code = 0;
    pthread_mutex_unlock(&w->mu);
    return rc;
}

void sl_writer_stats(struct sl_writer *w, struct sl_writer_stats *st)
{
    pthread_mutex_lock(&w->mu);
    *st = w->st;
    pthread_mutex_unlock(&w->mu);
}

void sl_writer_free(struct sl_writer *w)
{
    if (!w) return;
    if (w->thread_started) sl_writer_close(w);
    for (struct batch *b = w->head, *n; b; b = n) {
        n = b->next;
        sl_free(b->data);
        sl_free(b);
    }
    client_conn_release(&w->conn);
    sl_buf_release(&w->cur);
    sl_buf_release(&w->resp.body);
    sl_buf_release(&w->gz);
    sl_free(w->url);
    sl_free(w->auth);
    sl_free(w->user_agent);
    pthread_mutex_destroy(&w->mu);
    pthread_cond_destroy(&w->work);
    pthread_cond_destroy(&w->space);
    pthread_cond_destroy(&w->done);
    sl_free(w);
}

/* ---- sender thread ---- */

static void report(struct sl_writer *w, int code, long status, const char *msg, size_t lines,
                   size_t bytes, int dropped, int attempt)
{
    if (!w->o.on_error) return;
    struct sl_write_error e = {code, status, msg, lines, bytes, dropped, attempt};
    w->o.on_error(w->o.on_error_ctx, &e);
}

static void sleep_ms(int64_t ms)
{
    struct timespec ts = {(time_t)(ms / 1000), (long)(ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) < 0 && errno == EINTR) {
    }
}

/* Delivers data[0..len) (whole lines) by the rules in writer.h. */
static void deliver(struct sl_writer *w, const char *data, size_t len, size_t lines)
{
    char msg[CLIENT_ERRBODY_MAX + 64];
    for (int attempt = 1;; attempt++) {
        const char *body = data;
        size_t blen = len;
        int rc = 0;
        if (w->o.gzip) {
            sl_buf_reset(&w->gz);
            rc = client_gzip(&w->gz, data, len);
            body = w->gz.ptr;
            blen = w->gz.len;
        }
        if (rc == 0) {
            struct client_req rq = {
                .method = "POST",
                .url = w->url,
                .auth = w->auth,
                .content_type = "text/plain; charset=utf-8",
                .gzip = w->o.gzip,
                .body = body,
                .body_len = blen,
                .timeout_ms = w->o.timeout_ms,
                .user_agent = w->user_agent,
                .truncate = 1,
            };
            rc = client_conn_do(&w->conn, &rq, &w->resp);
        } else {
            snprintf(w->resp.err, sizeof(w->resp.err), "gzip: %s", sl_strerror(rc));
        }
        long status = rc == 0 ? w->resp.status : 0;
        pthread_mutex_lock(&w->mu);
        w->st.requests++;
        if (rc == 0) w->st.bytes_sent += blen;
        pthread_mutex_unlock(&w->mu);

        int code;
        enum client_action a = client_classify(status, lines, attempt, w->o.max_retries, &code);
        if (a == CLIENT_DONE) {
            pthread_mutex_lock(&w->mu);
            w->st.lines_delivered += lines;
            w->st.batches_delivered++;
            pthread_mutex_unlock(&w->mu);
            return;
        }
        if (a == CLIENT_SPLIT) {
            size_t half = lines / 2, seen = 0, cut = 0;
            for (const char *p = data; p < data + len; p++)
                if (*p == '\n' && ++seen == half) {
                    cut = (size_t)(p - data) + 1;
                    break;
                }
            pthread_mutex_lock(&w->mu);
            w->st.splits++;
            pthread_mutex_unlock(&w->mu);
            deliver(w, data, cut, half);
            deliver(w, data + cut, len - cut, lines - half);
            return;
        }
        if (status) {
            size_t bl = w->resp.body.len;
            while (bl && (w->resp.body.ptr[bl - 1] == '\n' || w->resp.body.ptr[bl - 1] == '\r'))
                bl--;
            snprintf(msg, sizeof(msg), "HTTP %ld: %.*s", status, (int)(bl ? bl : 12),
                     bl ? w->resp.body.ptr : "(empty body)");
        } else
            snprintf(msg, sizeof(msg), "%s", w->resp.err[0] ? w->resp.err : "request failed");
        if (a == CLIENT_DROP) {
            pthread_mutex_lock(&w->mu);
            w->st.lines_dropped += lines;
            w->st.batches_dropped++;
            w->drop_code = code;
            pthread_mutex_unlock(&w->mu);
            report(w, code, status, msg, lines, len, 1, attempt);
            return;
        }
        report(w, code, status, msg, lines, len, 0, attempt);
        pthread_mutex_lock(&w->mu);
        w->st.retries++;
        pthread_mutex_unlock(&w->mu);
        sleep_ms(client_backoff_ms(attempt, w->o.retry_initial_ms, w->o.retry_max_ms,
                                   status ? w->resp.retry_after_ms : -1, w->o.retry_after_max_ms,
                                   client_rand(&w->rnd)));
    }
}

static void *sender_main(void *arg)
{
    struct sl_writer *w = arg;
    pthread_mutex_lock(&w->mu);
    for (;;) {
        struct batch *b = w->head;
        if (b) {
            w->head = b->next;
            if (!w->head) w->tail = NULL;
            pthread_mutex_unlock(&w->mu);
            deliver(w, b->data, b->len, b->lines);
            pthread_mutex_lock(&w->mu);
            w->pending_bytes -= b->len;
            w->done_count++;
            sl_free(b->data);
            sl_free(b);
            pthread_cond_broadcast(&w->done);
            pthread_cond_broadcast(&w->space);
            continue;
        }
        int64_t due = 0;
        if (w->cur.len > 0) {
            if (w->closing) {
                seal_locked(w, 0);
                continue;
            }
            if (w->o.flush_interval_ms > 0) {
                due = w->cur_first_ns + (int64_t)w->o.flush_interval_ms * SL_NS_PER_MS;
                if (sl_mono_ns() >= due) {
                    if (seal_locked(w, 0) < 0)
                        due = sl_mono_ns() + 10 * SL_NS_PER_MS;
                    else
                        continue;
                }
            }
        }
        if (w->closing && w->cur.len == 0) break;
        if (due) {
            /* condition variables wait on CLOCK_REALTIME: convert the delay */
            int64_t wait_ns = due - sl_mono_ns();
            if (wait_ns < 0) wait_ns = 0;
            int64_t abs = sl_now_ns() + wait_ns;
            struct timespec ts = {(time_t)(abs / SL_NS_PER_S), (long)(abs % SL_NS_PER_S)};
            pthread_cond_timedwait(&w->work, &w->mu, &ts);
        } else {
            pthread_cond_wait(&w->work, &w->mu);
        }
    }
    pthread_mutex_unlock(&w->mu);
    return NULL;
}
