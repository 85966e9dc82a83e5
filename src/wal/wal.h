/*
 * wal.h — the write-ahead log of `sluice serve`: the interface.
 *
 * Records are opaque byte strings; the WAL gives each one a log sequence
 * number (LSN, monotonic from 1, never reused for an acknowledged record) and
 * makes it durable with adaptive group commit. The on-disk format and the
 * recovery rules are documented at the top of wal.c and in docs/wal.md.
 *
 * Life cycle: wal_open → wal_replay (exactly once, before any append) →
 * wal_append* / wal_checkpoint* → wal_close. All functions return 0 or a
 * negative SL_E* code (src/common/err.h) unless stated otherwise; after an
 * error, wal_last_error() describes it (file and offset for corruption).
 */
#ifndef SL_WAL_WAL_H
#define SL_WAL_WAL_H

#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

/* Largest payload of one record (bytes); larger appends fail with SL_ETOOBIG. */
#define WAL_MAX_RECORD ((size_t)256 << 20)
/* Default segment size when wal_opts.segment_bytes is 0. */
#define WAL_DEFAULT_SEGMENT_BYTES ((size_t)64 << 20)
/* Number of buckets in wal_stats.sync_hist. */
#define WAL_SYNC_HIST_BUCKETS 16

struct wal;

struct wal_opts {
    const char *dir;      /* segment files live here (created if missing) */
    size_t segment_bytes; /* rotate after this size; 0 = 64 MiB; at least 4 KiB is used */
    int skip_corrupt;     /* replay skips mid-log damage instead of failing */
};

struct wal_stats {
    uint64_t records;       /* records appended since open */
    uint64_t bytes;         /* bytes appended since open, record headers included */
    uint64_t syncs;         /* successful group commits (write + fdatasync of one batch) */
    uint64_t sync_errors;   /* failed writes or fdatasyncs (0 or 1: the state is sticky) */
    uint64_t sync_ns_total; /* wall time spent in write + fdatasync of batches */
    /* Sync latency histogram, not cumulative: bucket k (0..14) counts group
     * commits that took [2^k, 2^(k+1)) microseconds (bucket 0 also takes
     * everything under 1 us); bucket 15 counts those of 32768 us or more.
     * In Prometheus terms, bucket k has upper bound le = 2^(k+1) us. */
    uint64_t sync_hist[WAL_SYNC_HIST_BUCKETS];
    /* Replay results (filled by wal_replay). */
    uint64_t replayed;        /* intact records handed to the callback */
    uint64_t skipped_regions; /* damaged regions skipped (skip_corrupt only) */
    uint64_t skipped_bytes;   /* bytes in those regions */
    uint64_t truncated_bytes; /* bytes of torn tail removed from the last segment */
    uint64_t segments;        /* segment files currently in the directory */
};

/* Opens (creating the directory if missing) the WAL in o->dir. Reads the
 * segment list but not the records: call wal_replay next. *out is owned by
 * the caller (wal_close). Returns 0, SL_EINVAL, SL_EIO or SL_ENOMEM. */
int wal_open(const struct wal_opts *o, struct wal **out);

/* Calls cb for every intact record in LSN order, oldest first. A torn tail (a
 * partial or zero-filled or CRC-failing LAST record of the LAST segment) is
 * truncated away cleanly and replay succeeds. Damage anywhere else returns
 * SL_ECORRUPT with a message naming file and offset (wal_last_error) unless
 * skip_corrupt, in which case the damaged part is skipped and counted. Must be
 * called (once) before the first append. cb returning < 0 aborts replay with
 * that value (the WAL then refuses appends). rec is valid only during cb. */
int wal_replay(struct wal *w, int (*cb)(void *ctx, uint64_t lsn, const void *rec, size_t len),
               void *ctx);

/* Appends one record. Thread-safe. If sync != 0 it returns only after the
 * record is durable (fdatasync), with adaptive group commit: when idle the
 * write is synced at once; while one sync runs, every record appended
 * meanwhile waits and shares the next sync. With sync == 0 the record is only
 * buffered; it becomes durable with the next sync, wal_sync or wal_close (or
 * when about 1 MiB is buffered, when the appender flushes it itself). *lsn
 * (may be NULL) gets the record's LSN. Returns 0; SL_EIO for the append whose
 * write or fdatasync failed (and for the others of its group); SL_ESTATE once
 * the WAL is in its sticky error state (an fsync is never retried: the
 * PostgreSQL lesson); SL_ETOOBIG above WAL_MAX_RECORD; SL_EINVAL before
 * wal_replay; SL_ENOMEM. */
int wal_append(struct wal *w, const void *rec, size_t len, int sync, uint64_t *lsn);
/* Same, gathering several buffers into one record (no copy by the caller). */
int wal_appendv(struct wal *w, const struct iovec *iov, int iovcnt, int sync, uint64_t *lsn);
/* Makes every record appended so far durable (no-op when nothing is pending). */
int wal_sync(struct wal *w);

/* Everything with LSN <= lsn is persisted elsewhere: deletes whole segments
 * that hold only such records. The active segment is never deleted while in
 * use: when it holds records and all of them are <= lsn, the WAL rotates
 * first so that it can go. */
int wal_checkpoint(struct wal *w, uint64_t lsn);
/* Makes pending records durable, then starts a new segment. */
int wal_rotate(struct wal *w);

/* LSN of the last record appended (0 when none ever was). */
uint64_t wal_last_lsn(struct wal *w);
/* LSN of the last record known durable. */
uint64_t wal_durable_lsn(struct wal *w);
/* Non-zero in the sticky error state. */
int wal_failed(struct wal *w);
/* Describes the last error ("" when none); the string stays valid until the
 * next call into the WAL that fails. */
const char *wal_last_error(struct wal *w);
void wal_get_stats(struct wal *w, struct wal_stats *st);
/* Bytes the segment files occupy (the active one counts at its preallocated size). */
size_t wal_disk_bytes(struct wal *w);
/* Makes pending records durable (unless in the error state), closes and frees. */
void wal_close(struct wal *w);

#endif
