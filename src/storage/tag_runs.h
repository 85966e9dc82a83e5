/*
 * tag_runs.h — a process-wide cache of the runs of equal values of tag
 * columns in Parquet row groups, so that tag-filtered scans of series-sorted
 * files do not decode the whole tag column on every query (tag_runs.c).
 */
#ifndef SL_STORAGE_TAG_RUNS_H
#define SL_STORAGE_TAG_RUNS_H

#include <stddef.h>
#include <stdint.h>

#include "parquet/parquet.h"

/* The contract of pq_reader_filter_str (rows of the input selection in,
 * NULL = all rows, whose value equals one of vals; NULL never matches),
 * answered from the cached runs of column col of row group rg of the file at
 * path (which r reads). Builds the entry on a miss; chunks with too many runs
 * go to pq_reader_filter_str. */
int tag_runs_filter(const char *path, struct pq_reader *r, size_t rg, size_t col,
                    const struct pq_str *vals, size_t nvals, const uint32_t *in, size_t nin,
                    uint32_t *out, size_t *nout);

/* Empties the cache (tests). */
void tag_runs_clear(void);

#endif
