/*
 * wal_int.h — private to src/wal/: the on-disk constants, the handle, and the
 * helpers shared by the writer (wal.c) and recovery (wal_replay.c). The
 * format itself is documented at the top of wal.c.
 */
#ifndef SL_WAL_WAL_INT_H
#define SL_WAL_WAL_INT_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#include "common/buf.h"
#include "wal/wal.h"

#define WAL_MAGIC         "SLWAL001"
#define WAL_VERSION       1u
#define WAL_HDR_SIZE      32u /* segment header */
#define WAL_REC_HDR       16u /* record header: length word, crc, lsn */
#define WAL_LEN_MASK      0x1fffffffu
#define WAL_FLAG_BATCH    0x80000000u /* first record of one write + fdatasync */
#define WAL_FLAG_RESERVED 0x60000000u /* must be zero */
#define WAL_MAX_LSN       ((uint64_t)1 << 62)
#define WAL_MIN_SEGMENT   ((size_t)4096)
/* A non-syncing appender flushes the batch itself once this much is pending. */
#define WAL_FLUSH_BYTES ((size_t)1 << 20)
/* Appenders wait (back-pressure) while this much is pending and a sync runs. */
#define WAL_PEND_MAX ((size_t)16 << 20)

struct wal_seg {
    uint64_t first_lsn; /* from the file name (and header) */
    uint64_t bytes;     /* size on disk (preallocation included) */
};

struct wal {
    char *dir;
    size_t segment_bytes;
    int skip_corrupt;

    pthread_mutex_t mu;
    pthread_cond_t cv; /* broadcast when a batch ends or the leader role is freed */

    /* Under mu. Segments oldest first; after replay the last one is active. */
    struct wal_seg *segs;
    size_t nsegs, segs_cap;

    /* Owned by the leader (the one thread with leading == 1), or by replay
     * before the WAL is ready: the active segment. */
    int fd;
    uint64_t seg_first; /* first LSN of the active segment */
    uint64_t seg_off;   /* end of the last record written to it */
    uint64_t seg_alloc; /* preallocated size */

    /* Under mu. */
    int replayed; /* wal_replay was called */
    int ready;    /* wal_replay succeeded: appends allowed */
    int leading;  /* a thread is writing/syncing a batch */
    int failed;   /* sticky error state */
    uint64_t next_lsn;
    uint64_t durable_lsn;
    uint64_t fail_lsn;   /* last LSN of the batch that failed */
    uint64_t last_group; /* records in the last batch */
    int64_t last_end_ns; /* when it became durable (monotonic) */
    struct sl_buf pend;  /* encoded records waiting for the next batch */
    struct sl_buf spare;
    struct wal_stats st;
    char err[512];
};

/* Little-endian loads and stores (the format is little-endian everywhere). */
static inline uint32_t wal_get32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static inline uint64_t wal_get64(const uint8_t *p)
{
    return (uint64_t)wal_get32(p) | (uint64_t)wal_get32(p + 4) << 32;
}

static inline void wal_put32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
    p[2] = (uint8_t)(v >> 16);
    p[3] = (uint8_t)(v >> 24);
}

static inline void wal_put64(uint8_t *p, uint64_t v)
{
    wal_put32(p, (uint32_t)v);
    wal_put32(p + 4, (uint32_t)(v >> 32));
}

/* Sets w->err (printf-style); the caller holds mu or owns w exclusively. */
void wal_set_error(struct wal *w, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Writes "<dir>/wal-<16 hex>.log" into out (cap bytes); SL_EINVAL if too long. */
int wal_seg_path(const struct wal *w, uint64_t first_lsn, char *out, size_t cap);
/* Encodes a segment header for first_lsn into hdr[WAL_HDR_SIZE]. */
void wal_seg_header(uint8_t *hdr, uint64_t first_lsn);
/* Checks a segment header; returns its first LSN, or 0 when invalid. */
uint64_t wal_seg_header_check(const uint8_t *hdr);
/* CRC of a record: over the length word, the LSN and the payload. */
uint32_t wal_rec_crc(const uint8_t *hdr, const void *payload, size_t len);
/* Creates, preallocates and syncs a new active segment starting at first_lsn,
 * appends it to the segment list and makes it the leader's file. The caller
 * is the leader (or replay) and does not hold mu. */
int wal_seg_create(struct wal *w, uint64_t first_lsn);
/* Fills w->segs from the directory listing, sorted by first LSN. */
int wal_seg_list(struct wal *w);
/* Preallocates the active segment up to segment_bytes (best effort). */
void wal_seg_prealloc(struct wal *w);

#endif
