/*
 * qout_int.h — the encoder object, shared by qout.c and qout_parquet.c.
 */
#ifndef SL_QUERY_OUTPUT_QOUT_INT_H
#define SL_QUERY_OUTPUT_QOUT_INT_H

#include "common/arena.h"
#include "query/output/qout.h"

struct qout {
    enum qout_format f;
    struct sl_buf *out;
    size_t ncols;
    char **names;
    uint64_t nrows;
    /* kept rows (pretty, parquet): column-major, strings in arena */
    struct qout_value **cols;
    size_t cap;
    size_t kept_bytes;
    struct sl_arena arena;
};

int qout_parquet_finish(struct qout *q);

#endif
