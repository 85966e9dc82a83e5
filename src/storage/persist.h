/*
 * persist.h — persistence, compaction, retention and WAL trimming (see
 * persist.c and compact.c for the crash-safety argument, docs/storage.md for
 * the data directory layout). All of these serialize on
 * engine->persist_lock; the background thread in engine.c calls them.
 */
#ifndef SL_STORAGE_PERSIST_H
#define SL_STORAGE_PERSIST_H

#include <stddef.h>
#include <stdint.h>

struct engine;

/* A partition is persisted once it has been idle this long, or has this many
 * rows, or when the buffer is over half its limit, or when forced. */
#define PERSIST_IDLE_NS  (10LL * 1000000000LL)
#define PERSIST_MAX_ROWS 1000000
/* Background compaction merges an hour window once it has this many files. */
#define COMPACT_MIN_FILES 4
/* One compaction step merges at most this many files, whose decoded row
 * groups (estimated) fit COMPACT_MEM_BUDGET; files of COMPACT_FULL_BYTES or
 * more are left alone (a partition then holds few full files plus a tail
 * that the next steps merge). */
#define COMPACT_MAX_FILES  64
#define COMPACT_MEM_BUDGET ((size_t)256 << 20)
#define COMPACT_FULL_BYTES ((uint64_t)512 << 20)
/* Roll-up (compact.c): a day window lying wholly before now minus
 * COMPACT_DAY_GRACE_NS has all its files (hour files, an earlier day file)
 * merged into one day file; a 30-day window (epoch-aligned) lying wholly
 * before now minus COMPACT_MONTH_GRACE_NS, all of its files into one. */
#define COMPACT_DAY_NS         (86400LL * 1000000000LL)
#define COMPACT_DAY_GRACE_NS   (3600LL * 1000000000LL)
#define COMPACT_MONTH_NS       (30 * COMPACT_DAY_NS)
#define COMPACT_MONTH_GRACE_NS COMPACT_DAY_NS
/* Rows per Parquet row group of data files. */
#define STORAGE_ROW_GROUP_ROWS 262144
#define STORAGE_PAGE_ROWS      8192 /* rows per data page: the unit of selective reads */

/* Persists buffered partitions (all of them when force), then trims the WAL. */
int storage_persist(struct engine *e, int force);
/* Drops expired files (storage_enforce_retention), then merges the files of
 * every window that needs it: an hour window with at least min_files (>= 2)
 * files, a rolled-up day or 30-day window (see above) with two or more, in
 * bounded steps (compact.c: at most COMPACT_MAX_FILES files adjacent in seq
 * order per step, full files left alone) until nothing is left to merge.
 * Returns 0 or an error. */
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

/* ---- the data file layout (shared by persistence and compaction) ---- */

#include "catalog/catalog.h"
#include "common/buf.h"
#include "parquet/parquet.h"

/* A catalog column, copied (so that compaction can run without the lock). */
struct store_col {
    char *name;
    enum cat_col_kind kind;
    enum lp_type type; /* fields */
};

/* Parquet columns of a data file: tags sorted by name, time, then fields in
 * catalog order; key/value metadata sluice.* and the sort order. */
struct file_layout {
    size_t ncols, ntags;
    uint32_t *cat_id; /* catalog column id of each file column */
    struct pq_column_spec *spec;
    struct sl_buf tags, fields, sort;
    struct pq_kv kv[6];
    size_t *sort_cols;
    struct pq_writer_opts po;
};

/* Builds the layout of a file of table (db, table) holding the catalog
 * columns whose present[id] is non-zero (time is always there). cols and
 * present have ncols entries; names are borrowed and must outlive L. */
int storage_layout_init(struct file_layout *L, const char *db, const char *table,
                        const struct store_col *cols, const uint8_t *present, size_t ncols);
void storage_layout_release(struct file_layout *L);
/* Relative path of a new data file:
 * dbs/<db>/<table>/<YYYY-MM-DD>/<HH-MM>-<seq>.parquet */
int storage_file_relpath(const char *db, const char *table, int64_t part_start, uint32_t seq,
                         struct sl_buf *out);

/* ---- streaming merge (compact.c) ---- */

struct merge_input {
    const char *path; /* absolute */
    uint32_t seq;     /* larger = newer: wins per field on equal (series, time) */
};

struct merge_result {
    uint64_t rows;
    int64_t min_time, max_time;
    size_t peak_rows_held; /* decoded input rows held at once (memory bound) */
};

/* Merges Parquet data files (each sorted by series key then time) into one
 * file at out_path (written as out_path.tmp, fsynced, renamed), a k-way
 * merge row group by row group: rows with equal series key and time become
 * one, the newest input winning field by field; rows older than drop_before
 * are left out. cols (ncols entries) is the table's catalog schema. Returns
 * 0 (res->rows == 0 and no file when nothing is left), SL_ECORRUPT /
 * SL_EIO for unreadable inputs, SL_ENOMEM. */
int storage_merge_files(const char *db, const char *table, const struct store_col *cols,
                        size_t ncols, const struct merge_input *in, size_t nin, int64_t drop_before,
                        const char *out_path, struct merge_result *res);

#endif
