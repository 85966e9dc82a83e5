/*
 * scan_int.h — internals shared by the scan's merge (scan.c) and its Parquet
 * file loading (scan_file.c).
 */
#ifndef SL_STORAGE_SCAN_INT_H
#define SL_STORAGE_SCAN_INT_H

#include <stddef.h>
#include <stdint.h>

#include "buffer/buffer.h"
#include "catalog/catalog.h"
#include "parquet/parquet.h"
#include "storage/scan.h"

struct engine;

/* One input of a partition's merge: a file, or a buffer partition. */
struct source {
    size_t nrows;
    int filtered; /* every row lies in the time range and passes the tag filters */
    const char **keys;
    int64_t *time;
    struct buf_col *cols;       /* ncols (catalog) entries */
    struct buf_snapshot snap;   /* buffer sources */
    struct pq_column_buf *bufs; /* file sources: decoded chunks to free */
    size_t nbufs;
};

static inline size_t scan_ctype_size(enum lp_type t)
{
    switch (t) {
    case LP_BOOLEAN: return 1;
    case LP_STRING: return sizeof(struct buf_str);
    default: return 8;
    }
}

/* Whether column c must be read. Tags are all read when series keys are
 * needed (all_tags: for deduplication across sources, or for the caller);
 * otherwise only the projected ones and those a filter tests. */
int scan_col_needed(const struct scan_opts *o, const struct cat_table *t, size_t c, int all_tags);

/* Loads the wanted rows of Parquet file f as source s (see scan_file.c). */
int scan_load_file(struct engine *e, struct cat_table *t, const struct cat_file *f,
                   const struct scan_opts *o, int all_tags, struct source *s,
                   struct scan_stats *stats);

#endif
