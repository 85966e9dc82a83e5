/*
 * scan.h — reading a table: Parquet files plus the write buffer, merged.
 *
 * A scan visits the table's partitions in time order. For each it gathers
 * the rows of every live file of that partition (older files first), of
 * partitions being persisted, and of the active buffer partition (newest),
 * orders them by series key then time, and merges rows with the same series
 * and time field by field, the newest source winning. The callback receives
 * one merged chunk per partition with every column addressed by its catalog
 * column id; tag columns are string columns.
 *
 * The caller holds the catalog read lock for the whole scan, which keeps the
 * file list (and the files: compaction deletes only after updating the
 * catalog under the write lock) stable.
 */
#ifndef SL_STORAGE_SCAN_H
#define SL_STORAGE_SCAN_H

#include <stddef.h>
#include <stdint.h>

#include "buffer/buffer.h"
#include "catalog/catalog.h"

struct engine;

struct scan_chunk {
    int64_t part_start;
    size_t nrows;
    const char **keys; /* series key of each row */
    int64_t *time;
    struct buf_col *cols; /* by catalog column id; tags are LP_STRING */
    size_t ncols;
};

typedef int (*scan_fn)(void *ctx, const struct cat_table *t, const struct scan_chunk *c);

/* Scans rows with min_time <= time <= max_time. The callback's return value,
 * if negative, stops the scan and is returned. Returns 0 or an error (a file
 * that fails to read gives SL_ECORRUPT / SL_EIO with a logged message). */
int storage_scan(struct engine *e, struct cat_db *db, struct cat_table *t, int64_t min_time,
                 int64_t max_time, scan_fn fn, void *ctx);

/* Merges only the files of one partition (compaction's input). */
int storage_scan_partition_files(struct engine *e, struct cat_table *t, int64_t part_start,
                                 scan_fn fn, void *ctx);

#endif
