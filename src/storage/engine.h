/*
 * engine.h — the storage engine: one object that owns the catalog, the WAL
 * and the write buffer, and implements the write path:
 *
 *   body → parse + validate against the catalog (schema grows, persisted
 *   first) → WAL record of the accepted lines (group commit, fdatasync) →
 *   apply the record to the buffer → acknowledge
 *
 * WAL replay at start-up goes through the same apply function as live
 * writes, so the code that rebuilds the buffer after a crash is the code
 * every write exercises.
 */
#ifndef SL_STORAGE_ENGINE_H
#define SL_STORAGE_ENGINE_H

#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "buffer/buffer.h"
#include "catalog/catalog.h"
#include "lp/lp.h"

struct wal;

struct engine_opts {
    const char *data_dir;
    size_t buffer_limit;      /* bytes; 0 = default */
    size_t wal_segment_bytes; /* 0 = default */
    int skip_corrupt_wal;
    int no_auto_create; /* databases must be created explicitly */
};

struct engine_stats {
    atomic_ullong points_written;
    atomic_ullong lines_rejected;
    atomic_ullong bytes_accepted;
    atomic_ullong write_requests;
    atomic_ullong overload_rejections;
    atomic_ullong replayed_records;
};

struct engine {
    char *data_dir;
    struct catalog *catalog;
    struct wal *wal;
    struct buffer buffer;
    struct engine_opts opts;
    struct engine_stats stats;
    int64_t started_ns;
    /* persistence: one background thread; persist/compact/retention serialize here */
    pthread_mutex_t persist_lock;
    pthread_t bg;
    int bg_running;
    pthread_mutex_t bg_mu;
    pthread_cond_t bg_cv;
    int bg_stop, bg_kick;
    /* WAL records appended but not yet applied to the buffer: the WAL may not
     * be trimmed past them (lower bounds of their LSNs) */
    pthread_mutex_t inflight_mu;
    uint64_t *inflight;
    size_t ninflight, inflight_cap;
    struct rcache *readers; /* idle Parquet readers for scans (rcache.h) */
};

int engine_open(const struct engine_opts *o, struct engine **out, char *err, size_t errlen);
void engine_close(struct engine *e);

/* Why a line was rejected. */
enum write_err_kind {
    WRITE_ERR_PARSE = 1,
    WRITE_ERR_CONFLICT,  /* field type conflict, tag/field name clash */
    WRITE_ERR_LIMIT,     /* schema limits */
    WRITE_ERR_RETENTION, /* older than the database's retention period */
};

struct write_line_error {
    enum write_err_kind kind;
    size_t line, column;
    char *message;
    char *raw; /* the line, truncated to 256 bytes */
};

#define WRITE_MAX_REPORTED_ERRORS 100

struct write_req {
    const char *db;
    size_t db_len;
    const char *body;
    size_t len;
    enum lp_precision precision;
    int all_or_nothing; /* 1: any rejected line rejects the request; 2: any parse error does */
    int no_sync;        /* acknowledge before the WAL sync */
    int may_create_db;  /* the caller may create the database */
    int64_t now_ns;     /* default time of lines without one */
};

struct write_result {
    size_t accepted;
    size_t rejected;
    size_t rejected_by_kind[5];
    struct write_line_error *errors; /* the first WRITE_MAX_REPORTED_ERRORS */
    size_t nerrors;
    int db_created;
};

/* Writes; returns 0 when the request was handled (some lines may still have
 * been rejected: see res), or:
 *   SL_ENOENT  database does not exist and may not be created
 *   SL_EINVAL  invalid database name
 *   SL_EBUSY   buffer over its memory limit (retry later)
 *   SL_ESTATE  the WAL is in its error state (writes refused until restart)
 *   SL_EIO     the WAL write or sync of this request failed
 * res must be released with write_result_release. */
int engine_write(struct engine *e, const struct write_req *req, struct write_result *res);
void write_result_release(struct write_result *res);

/* Lowest LSN a write in flight may have (UINT64_MAX when none). */
uint64_t engine_inflight_floor(struct engine *e);
/* Wakes the background thread (persist soon). */
void engine_kick(struct engine *e);

/* Non-zero once the WAL is in its sticky error state. */
int engine_failed(struct engine *e);

/* Database management. */
int engine_db_create(struct engine *e, const char *name, size_t len, int64_t retention_ns);
int engine_db_drop(struct engine *e, const char *name, size_t len);

#endif
