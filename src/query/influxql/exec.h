/*
 * exec.h — the InfluxQL executor: runs parsed statements (iql.h) against the
 * storage engine and returns InfluxDB 1.x shaped results (series per tag set),
 * plus the encoders of those results (v1 JSON, CSV, v3 rows).
 *
 * Results live in the caller's arena. A statement that fails gets
 * result->error (the 1.x wording where there is one) and no series; the
 * executor never aborts a request for one bad statement.
 */
#ifndef SL_QUERY_INFLUXQL_EXEC_H
#define SL_QUERY_INFLUXQL_EXEC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/arena.h"
#include "common/buf.h"
#include "query/influxql/iql.h"

struct engine;

enum iql_vkind {
    IQLV_NULL = 0,
    IQLV_FLOAT,
    IQLV_INT,
    IQLV_UINT,
    IQLV_STR,
    IQLV_BOOL,
    IQLV_TIME, /* i: ns since the epoch; printed per epoch / RFC 3339 */
};

struct iql_val {
    uint8_t kind;
    union {
        double f;
        int64_t i;
        uint64_t u;
        const char *s;
        int b;
    } u;
};

struct iql_series {
    const char *name; /* NULL: no "name" key (SHOW SERIES) */
    size_t ntags;     /* 0: no "tags" key */
    const char **tag_keys, **tag_vals;
    size_t ncols;
    const char **cols;
    size_t nrows;
    struct iql_val *vals; /* nrows * ncols, row-major */
};

struct iql_result {
    const char *error; /* NULL on success */
    struct iql_series *series;
    size_t nseries;
};

/* A bound parameter ($name) of the request. */
struct iql_param {
    const char *name;
    struct iql_val val;
};

/* What the caller may do (TOKEN_READ = 1, TOKEN_WRITE = 2 as in catalog/tokens.h). */
typedef int (*iql_allowed_fn)(void *ud, const char *db, int action);

struct iql_exec_ctx {
    struct engine *eng;
    const char *db; /* default database (db=), NULL if none */
    const char *rp; /* rp= (only "autogen" and NULL are known) */
    int64_t now_ns;
    const struct iql_param *params;
    size_t nparams;
    iql_allowed_fn allowed; /* NULL: everything allowed */
    void *allowed_ud;
    int admin;              /* may create and drop databases */
    struct sl_arena *arena; /* results and scratch; its cap bounds the query's memory */
};

/* Runs one statement. Returns 0 (result filled, possibly with error) or
 * SL_ENOMEM when the arena cap was hit (result->error is set too). */
int iql_exec_stmt(struct iql_exec_ctx *x, const struct iql_stmt *st, struct iql_result *out);

/* ---- encoders (exec_out.c) ---- */

/* epoch: NULL or "" for RFC 3339 strings, else ns, u, µ, us, ms, s, m, h. */
int iql_epoch_parse(const char *epoch, int64_t *div);
/* Appends {"statement_id":id,"series":[...]} or {"statement_id":id,"error":...};
 * series [first, first+count) rows [r0, r1) of the last one only when partial
 * chunking is used: see iql_out_json_chunk. div = 0 for RFC 3339 times. */
int iql_out_json_result(struct sl_buf *b, size_t id, const struct iql_result *r, int64_t div);
/* One series chunk: rows [r0, r1) of s, with "partial":true when partial. */
int iql_out_json_series(struct sl_buf *b, const struct iql_series *s, size_t r0, size_t r1,
                        int64_t div, bool partial);
/* 1.x CSV (name,tags,time,...): header line per column set, times as integers. */
int iql_out_csv_result(struct sl_buf *b, const struct iql_result *r, int64_t div, bool *header_done,
                       const char **prev_cols, size_t *prev_ncols);
/* Re-indents compact JSON (4 spaces, as 1.x's pretty=true). */
int iql_out_json_pretty(const char *s, size_t n, struct sl_buf *b);
/* A value as JSON (time per div). */
int iql_out_json_val(struct sl_buf *b, const struct iql_val *v, int64_t div);
/* Go's strconv.FormatFloat(v, 'f'/'e', -1, 64) as encoding/json does. */
int iql_out_float(struct sl_buf *b, double v);

#endif
