/*
 * scan.h — reading a table: Parquet files plus the write buffer, merged.
 *
 * Every file has a time window (cat_file.part_start / part_len: an hour as
 * persisted, a day or 30 days once rolled up by compaction); buffer
 * partitions are one hour. A scan joins overlapping windows into groups
 * (a rolled-up day file with the late hour files and buffer partitions
 * inside it) and visits the groups in time order. For each it gathers the
 * rows of every file of the group (in seq order, older first), of partitions
 * being persisted, and of the active buffer partitions (newest), orders them
 * by series key then time, and merges rows with the same series and time
 * field by field, the newest source winning. The callback receives one
 * merged chunk per group (or, with split_rows, one per row group of a
 * group's only file) with every column addressed by its catalog column id;
 * tag columns are string columns. Chunks of different groups never overlap
 * in time.
 *
 * The caller holds the catalog read lock for the whole scan, which keeps the
 * file list (and the files: compaction deletes only after updating the
 * catalog under the write lock) stable.
 *
 * Pushdown (struct scan_opts, used by the SQL engine): a time range skips
 * whole groups, files and Parquet row groups (by the time column's
 * min/max statistics); tag filters (tag = one of a set of values) skip row
 * groups whose tag statistics exclude every value and drop rows before the
 * merge (in a file, rows outside the time range or failing a tag filter are
 * dropped right after decoding the time and filtered tag columns, and only
 * the rows kept are copied and given series keys); a column mask skips
 * decoding the field columns nobody reads (tag
 * columns are always read: they make the series key that deduplication
 * needs). The iterator hands out chunks lazily, so a consumer that stops
 * early (LIMIT) never loads the later groups.
 */
#ifndef SL_STORAGE_SCAN_H
#define SL_STORAGE_SCAN_H

#include <stddef.h>
#include <stdint.h>

#include "buffer/buffer.h"
#include "catalog/catalog.h"

struct engine;

struct scan_chunk {
    int64_t part_start; /* start of the chunk's group */
    size_t nrows;
    const char **keys; /* series key of each row */
    int64_t *time;
    struct buf_col *cols; /* by catalog column id; tags are LP_STRING */
    size_t ncols;
};

typedef int (*scan_fn)(void *ctx, const struct cat_table *t, const struct scan_chunk *c);

/* A tag filter: the row's value of tag column col is one of vals. */
struct scan_str {
    const char *ptr;
    size_t len;
};

struct scan_tag_filter {
    uint32_t col;
    const struct scan_str *vals;
    size_t nvals;
};

struct scan_opts {
    int64_t min_time, max_time; /* inclusive */
    const uint8_t *need;        /* per catalog column: 1 = read; NULL = all */
    size_t nneed;               /* entries in need (columns beyond it are read) */
    const struct scan_tag_filter *tags;
    size_t ntags;
    int reverse; /* visit windows newest first */
    int no_keys; /* the caller does not read scan_chunk.keys (may be NULL) */
    /* Bounded memory for big windows: a window whose only source is a file
     * of more than split_rows rows is handed out one Parquet row group per
     * chunk (0 = never; ignored with reverse). Rows then come in (series,
     * time) order across the window's chunks, not in time order: a caller
     * that sorts each chunk by time to deliver time order must leave it 0. */
    uint64_t split_rows;
};

/* The split_rows storage_scan uses: files of more than one row group. */
#define SCAN_SPLIT_ROWS 262144

/* Sets *o to "everything" (whole time range, all columns, no filters). */
void scan_opts_init(struct scan_opts *o);

struct scan_iter;

/* Starts an iteration (o is copied, but the arrays it points to are borrowed
 * and must outlive the iterator). The catalog read lock must be held until
 * storage_scan_iter_close. Returns 0 or SL_ENOMEM. */
int storage_scan_iter_open(struct engine *e, struct cat_db *db, struct cat_table *t,
                           const struct scan_opts *o, struct scan_iter **out);
/* Loads the next non-empty chunk: returns 1 and *out (valid until the
 * next call or close), 0 at the end, or a negative error. Columns not asked
 * for in need[] are not present in the chunk. */
int storage_scan_iter_next(struct scan_iter *it, const struct scan_chunk **out);
void storage_scan_iter_close(struct scan_iter *it);
/* Statistics of an iteration so far (for EXPLAIN and tests); partitions
 * counts groups (merged windows). */
struct scan_stats {
    uint64_t partitions, files, row_groups, row_groups_pruned, rows_loaded, rows_out;
};
void storage_scan_iter_stats(const struct scan_iter *it, struct scan_stats *out);

/* Scans rows with min_time <= time <= max_time. The callback's return value,
 * if negative, stops the scan and is returned. Returns 0 or an error (a file
 * that fails to read gives SL_ECORRUPT / SL_EIO with a logged message). */
int storage_scan(struct engine *e, struct cat_db *db, struct cat_table *t, int64_t min_time,
                 int64_t max_time, scan_fn fn, void *ctx);

/* Merges only the files whose window contains part_start. */
int storage_scan_partition_files(struct engine *e, struct cat_table *t, int64_t part_start,
                                 scan_fn fn, void *ctx);

#endif
