/*
 * persist.h — persistence, compaction, retention and WAL trimming (see
 * persist.c for the crash-safety argument). All of these serialize on
 * engine->persist_lock; the background thread in engine.c calls them.
 */
#ifndef SL_STORAGE_PERSIST_H
#define SL_STORAGE_PERSIST_H

#include <stddef.h>
#include <stdint.h>

struct engine;

/* A partition is persisted once it has been idle this long, or has this many
 * rows, or when the buffer is over half its limit, or when forced. */
#define PERSIST_IDLE_NS (10LL * 1000000000LL)
#define PERSIST_MAX_ROWS 1000000
/* Background compaction merges a partition once it has this many files. */
#define COMPACT_MIN_FILES 4

/* Persists buffered partitions (all of them when force), then trims the WAL. */
int storage_persist(struct engine *e, int force);
/* Merges the files of every partition that has at least min_files of them. */
int storage_compact(struct engine *e, size_t min_files);
/* Unregisters and deletes files wholly older than each database's retention. */
int storage_enforce_retention(struct engine *e, int64_t now_ns);
/* Drops WAL segments whose records are all persisted. */
int storage_trim_wal(struct engine *e);
/* Deletes data files the catalog does not list (a crash between writing and
 * registering them) and temporary files. Called at start-up. */
void storage_cleanup_orphans(struct engine *e);

/* Appends "dbs/<escaped name>", the directory of a database's files. */
struct sl_buf;
void storage_db_relpath(const char *db, struct sl_buf *out);

#endif
