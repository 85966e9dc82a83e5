/*
 * buffer_disk.h — an output's metric buffer kept in fsynced segment files,
 * used by struct metric_buffer when [agent] buffer_strategy = "disk". The
 * on-disk format, recovery and drop policy are documented in buffer_disk.c.
 *
 * Not thread-safe: metric_buffer calls these under its own mutex.
 */
#ifndef SL_AGENT_BUFFER_DISK_H
#define SL_AGENT_BUFFER_DISK_H

#include <stddef.h>
#include <stdint.h>

#include "agent/metric.h"

struct disk_buffer;

struct disk_buffer_stats {
    uint64_t pending;  /* records not yet acknowledged (includes in flight) */
    uint64_t bytes;    /* bytes of all segment files */
    uint64_t segments; /* segment files */
    uint64_t dropped;  /* records dropped by the size bound or found corrupt */
    uint64_t replayed; /* records found on disk at open */
};

/* Opens (creating) the buffer directory dir, recovers what a previous run
 * left (a torn last record is cut off; records failing their CRC are
 * skipped and counted as dropped) and resumes after the last
 * acknowledgement. max_bytes bounds the total size of the segments (0 =
 * 128 MiB). On failure returns SL_E* with a message in err. */
int disk_buffer_open(const char *dir, uint64_t max_bytes, struct disk_buffer **out, char *err,
                     size_t errcap);
/* Syncs and closes; the files stay for the next open. NULL is allowed. */
void disk_buffer_close(struct disk_buffer *d);

/* Appends m (not consumed). May drop the oldest segment to respect the size
 * bound; returns how many unacknowledged records that dropped (>= 0) or a
 * negative SL_E* when the write failed (the metric is then lost). */
long disk_buffer_add(struct disk_buffer *d, const struct metric *m);
/* Records that can still be taken (pending minus in flight). */
size_t disk_buffer_len(const struct disk_buffer *d);
/* Reads up to max records after those in flight into out[] (the caller owns
 * the metrics) and marks them in flight. */
size_t disk_buffer_take(struct disk_buffer *d, struct metric **out, size_t max);
/* The first n records in flight are done with (delivered or rejected for
 * good): the acknowledgement moves past them and is persisted; fully
 * acknowledged segments are deleted. */
int disk_buffer_ack(struct disk_buffer *d, size_t n);
/* The records still in flight will be retried: the next take starts again
 * after the acknowledgement. */
void disk_buffer_rewind(struct disk_buffer *d);
/* fdatasyncs the segment being written. */
int disk_buffer_sync(struct disk_buffer *d);
void disk_buffer_stats(const struct disk_buffer *d, struct disk_buffer_stats *st);
const char *disk_buffer_dir(const struct disk_buffer *d);

#endif
