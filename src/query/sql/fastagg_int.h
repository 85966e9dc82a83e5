/*
 * fastagg_int.h — the plan of the SQL fast aggregation path, shared by its
 * recogniser (fastagg_plan.c) and its executor (fastagg.c).
 */
#ifndef SL_QUERY_SQL_FASTAGG_INT_H
#define SL_QUERY_SQL_FASTAGG_INT_H

#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "catalog/catalog.h"
#include "common/err.h"
#include "common/mem.h"
#include "common/timeutil.h"
#include "query/sql/sql_int.h"
#include "storage/engine.h"
#include "storage/scan.h"

#define FA_MAX_ITEMS 128
#define FA_MAX_KEYS  16
#define FA_MAX_TAGF  32

/* SQLite storage classes of a result value */
enum fa_cls { FC_NULL, FC_INT, FC_REAL, FC_TEXT };

enum fa_fn { FN_COUNT_STAR, FN_COUNT, FN_SUM, FN_AVG, FN_TOTAL, FN_MIN, FN_MAX };

/* how an aggregated column reads */
enum fa_ctype { CT_TIME, CT_REAL, CT_INT, CT_UINT, CT_BOOL, CT_STR };

struct fa_key {
    int bucket;   /* 1: date_bin(stride, time, origin); 0: tag column col */
    uint32_t col; /* tag column */
    int tagi;     /* index among the tag keys */
    int64_t stride, origin;
};

struct fa_agg {
    enum fa_fn fn;
    uint32_t col;
    enum fa_ctype ct;
};

enum fa_item_kind { IT_KEY, IT_AGG, IT_BARE };

struct fa_item {
    enum fa_item_kind kind;
    int idx;                       /* key or aggregate index */
    uint32_t col;                  /* bare column */
    const struct sql_token *alias; /* AS name (or a bare trailing name) */
};

struct fa_order {
    int key;
    int desc;
};

struct fa_plan {
    struct cat_table *t;
    struct fa_item items[FA_MAX_ITEMS];
    size_t nitems;
    struct fa_key keys[FA_MAX_KEYS];
    size_t nkeys;
    int bucket_key; /* index of the bucket key, -1 none */
    uint32_t tagcols[FA_MAX_KEYS];
    size_t ntk; /* tag keys */
    struct fa_agg aggs[FA_MAX_ITEMS];
    size_t naggs;
    uint32_t bare[FA_MAX_ITEMS];
    size_t nbare;
    int minmax; /* the single min/max aggregate feeding bare columns, -1 none */
    struct fa_order order[FA_MAX_KEYS];
    size_t norder;
    int64_t min_time, max_time;
    int empty;
    struct scan_tag_filter tagf[FA_MAX_TAGF];
    size_t ntagf;
    struct scan_str *vals;
    size_t nvals, vals_cap;
    size_t vfirst[FA_MAX_TAGF];
    struct sl_buf strs;
    int64_t limit, offset; /* limit -1 = none */
};

struct fa_parse {
    const struct sql_token *t;
    size_t n;
    struct fa_plan *p;
    sqlite3 *db;
};

/* Recognises the statement's shape and fills ps->p; SQL_FASTAGG_DECLINED
 * when the shape is not one the fast path takes. */
int fa_parse_plan(struct fa_parse *ps);
/* Whether token t is the keyword w (any case). */
int fa_is_kw(const struct sql_token *t, const char *w);
/* The identifier (plain or quoted) t unquoted into buf, NUL-terminated: its
 * length, or -1 when t is not an identifier or does not fit in cap bytes. */
int fa_ident_text(const struct sql_token *t, char *buf, size_t cap);

#endif
