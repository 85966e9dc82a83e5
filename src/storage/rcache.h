/*
 * rcache.h — a small cache of open Parquet readers, so that a query does
 * not open a file and parse its footer (and page indexes) again when the
 * previous query just did. An idle reader is handed to one scan at a time;
 * it is reused only while its path still names the same file (device,
 * inode, size and modification time), so a file replaced or deleted by
 * compaction, retention or DELETE is never read through the cache.
 */
#ifndef SL_STORAGE_RCACHE_H
#define SL_STORAGE_RCACHE_H

#include <stddef.h>
#include <stdint.h>

struct pq_reader;
struct rcache;

/* At most cap idle readers are kept (the least recently used go first). */
int rcache_new(size_t cap, struct rcache **out);
/* Closes every idle reader. NULL is a no-op. */
void rcache_free(struct rcache *c);
/* A reader of the file at path: an idle cached one of that very file, or
 * a new one (pq_reader_open; its message in err on failure). c may be NULL
 * (no caching). */
int rcache_open(struct rcache *c, const char *path, struct pq_reader **out, char *err,
                size_t errlen);
/* Gives back a reader rcache_open returned for path: kept idle for the next
 * query, or closed. */
void rcache_release(struct rcache *c, const char *path, struct pq_reader *r);
/* Closes the idle readers whose path no longer names their file, and those
 * idle for longer than max_idle_ns. Called by the engine's background
 * thread every second, so a deleted file's space is not held long. */
void rcache_sweep(struct rcache *c, int64_t max_idle_ns);

#endif
