/*
 * sluice/writer.h — the batching writer of libsluice.
 *
 * The writer collects lines of line protocol into batches and delivers them
 * over HTTP (libcurl, one kept-alive connection) from a background thread.
 *
 * Batching: a batch is sealed when it reaches batch_lines lines or
 * batch_bytes bytes, when the oldest line in it is flush_interval_ms old, or
 * on sl_writer_flush()/sl_writer_close(). Sealed batches wait in a FIFO queue
 * bounded by max_pending_bytes; a write that finds the queue full blocks until
 * the sender has made room (back-pressure instead of unbounded memory).
 * Batches are sent one at a time, in order.
 *
 * Delivery rules for one batch (the server's answer decides):
 *   2xx                      delivered.
 *   413                      split in two halves at a line boundary; each half
 *                            is delivered by these same rules (a single line
 *                            that is still too large is dropped).
 *   408, 429, 401, 403, 5xx,
 *   network error, timeout   retried, up to max_retries times, after a capped
 *                            exponential backoff with jitter: the n-th retry
 *                            waits uniformly in [d/2, d], d = min(retry_max_ms,
 *                            retry_initial_ms * 2^(n-1)). A Retry-After header
 *                            (seconds or HTTP date) replaces d/2..d by its
 *                            value, capped at retry_after_max_ms.
 *   any other 4xx            dropped at once: the data will not become valid
 *                            by resending it (e.g. 400 malformed line, 404
 *                            unknown database, 422 type conflict).
 *                            Servers with partial-write semantics (v1, v3)
 *                            may have kept the valid lines of such a batch;
 *                            the writer cannot know which, so it counts the
 *                            whole batch as dropped and passes the server's
 *                            body (which names the bad lines) to the callback.
 * Every drop (and every failed attempt that will be retried) is reported to the
 * error callback with the HTTP status and the server's error body, and counted
 * in the statistics. A batch is never both delivered and dropped, and a line
 * is sent in exactly one delivered request unless a response was lost in
 * transit after the server applied it (then a retry repeats it; sluice and
 * InfluxDB treat a repeated point as the same row, so this is idempotent).
 *
 * Thread safety: every function may be called from any thread, concurrently,
 * except sl_writer_free(), which must be the last call on the handle.
 */
#ifndef SLUICE_WRITER_H
#define SLUICE_WRITER_H

#include <sluice/point.h>
#include <sluice/sluice.h>

#ifdef __cplusplus
extern "C" {
#endif

struct sl_writer;

/* What the error callback is told. Pointers are valid during the call only. */
struct sl_write_error {
    int code;            /* SL_EINVAL (4xx), SL_EPERM (401/403), SL_ETOOBIG (413 on
                            one line), SL_EBUSY (408/429/503), SL_EIO (5xx, network) */
    long http_status;    /* 0 when no response arrived */
    const char *message; /* server's error body (truncated to 4 KiB) or the
                            transport error; never NULL */
    size_t lines;        /* lines in the batch concerned */
    size_t bytes;        /* bytes in the batch concerned (uncompressed) */
    int dropped;         /* 1: the batch is given up; 0: it will be retried */
    int attempt;         /* 1-based attempt number that failed */
};

typedef void (*sl_write_error_fn)(void *ctx, const struct sl_write_error *e);

struct sl_writer_opts {
    const char *url;   /* server base URL, e.g. "http://localhost:8086" (required) */
    enum sl_api api;   /* 0 = SL_API_V3 */
    const char *db;    /* database (v1, v3) or bucket (v2); required */
    const char *rp;    /* v1 retention policy, optional */
    const char *org;   /* v2 organisation, optional */
    const char *token; /* sent as "Authorization: Token <token>" (v1/v2) or
                          "Bearer <token>" (v3); NULL or "" = none */
    enum sl_precision precision;
    int gzip;                   /* compress request bodies (Content-Encoding: gzip) */
    int no_uint;                /* points: write unsigned fields as integers (1.x) */
    size_t batch_lines;         /* 0 = 5000 */
    size_t batch_bytes;         /* 0 = 1 MiB (uncompressed) */
    int flush_interval_ms;      /* 0 = 1000; < 0 = only by size and explicit flush */
    int max_retries;            /* retries after the first attempt; 0 = 5; < 0 = none */
    int retry_initial_ms;       /* 0 = 250 */
    int retry_max_ms;           /* 0 = 30000 */
    int retry_after_max_ms;     /* 0 = 60000 */
    int timeout_ms;             /* per request, connect included; 0 = 30000 */
    size_t max_pending_bytes;   /* cap on sealed, unsent data; 0 = 64 MiB */
    sl_write_error_fn on_error; /* optional; called from the sender thread */
    void *on_error_ctx;
    const char *user_agent; /* 0 = "libsluice/<version>" */
};

struct sl_writer_stats {
    uint64_t lines_written;   /* accepted by sl_writer_write_* */
    uint64_t lines_delivered; /* in batches answered with 2xx */
    uint64_t lines_dropped;   /* in batches given up */
    uint64_t batches_delivered;
    uint64_t batches_dropped;
    uint64_t requests;   /* HTTP requests attempted */
    uint64_t retries;    /* attempts after a retryable failure */
    uint64_t splits;     /* 413 answers that split a batch */
    uint64_t bytes_sent; /* request body bytes on the wire (after gzip) */
};

/* Creates a writer and starts its sender thread. opts is copied (strings
 * included). On success *out owns the writer (release with sl_writer_free)
 * and 0 is returned; otherwise *out is NULL and SL_EINVAL (missing url/db,
 * bad option) or SL_ENOMEM/SL_EIO (curl or thread set-up failed) is returned. */
int sl_writer_new(struct sl_writer **out, const struct sl_writer_opts *opts);

/* Queues lines of line protocol (one or more, '\n'-separated; a missing final
 * newline is added; empty lines are skipped). The text is not validated: the
 * server judges it (the CLI validates first with the lp parser). A line is
 * never split across batches. Blocks while the pending queue is full.
 * Returns 0; SL_ETOOBIG if a single line exceeds max_pending_bytes; SL_ESTATE
 * after sl_writer_close(); SL_ENOMEM. */
int sl_writer_write_lines(struct sl_writer *w, const char *buf, size_t len);

/* Serializes p (sl_point_encode with the writer's precision) and queues it.
 * Returns as sl_writer_write_lines, or the encoding error. */
int sl_writer_write_point(struct sl_writer *w, const struct sl_point *p);

/* Seals the current batch and waits until every batch queued before the call
 * was delivered or dropped. Returns 0 if nothing was dropped since the
 * previous flush, else the code of the last drop (see struct sl_write_error). */
int sl_writer_flush(struct sl_writer *w);

/* Flushes, then stops the sender thread; later writes fail with SL_ESTATE.
 * Returns what the flush returned. Idempotent. */
int sl_writer_close(struct sl_writer *w);

/* Copies the counters into *st. */
void sl_writer_stats(struct sl_writer *w, struct sl_writer_stats *st);

/* Closes the writer if needed and releases it. NULL is allowed. */
void sl_writer_free(struct sl_writer *w);

#ifdef __cplusplus
}
#endif

#endif
