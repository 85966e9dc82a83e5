/*
 * exec_int.h — internals shared by the executor's files: the in-memory
 * tables a SELECT works on (loaded from storage or produced by a subquery),
 * expression evaluation on rows, and the aggregate functions.
 */
#ifndef SL_QUERY_INFLUXQL_EXEC_INT_H
#define SL_QUERY_INFLUXQL_EXEC_INT_H

#include "query/influxql/exec.h"

/* One input series: its tag values and its rows in time order. */
struct xseries {
    const char **tagv; /* per table tag key; NULL = tag absent */
    const char *key;   /* measurement,tag=v,... (1.x series key) */
    int tagcond;       /* the WHERE condition on tags alone: 1 true, 0 false, 2 unknown */
    size_t n, cap;
    int64_t *t;
    struct iql_val *v; /* n * table->nf */
};

/* A measurement (or a subquery's output) as the SELECT sees it. */
struct xtable {
    const char *name;
    size_t nf;
    const char **fname;
    uint8_t *ftype; /* IQLV_* of each field */
    size_t nt;
    const char **tkey; /* sorted */
    struct xseries **ser;
    size_t nser;
};

/* A row being evaluated. */
struct xrow {
    const struct xtable *tb;
    const struct xseries *s;
    size_t i;
};

struct xerr {
    char msg[400];
};

/* Sets a formatted error message; returns SL_EINVAL. */
int xerr_set(struct xerr *e, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* ---- exec_eval.c ---- */
int xt_field_index(const struct xtable *t, const char *name);
int xt_tag_index(const struct xtable *t, const char *name);
/* Evaluates e on a row (no calls besides now()); regexes compiled on use
 * and cached in the context. */
struct xeval {
    struct sl_arena *a;
    int64_t now;
    struct xre_cache *re;
    struct xerr *err;
    bool where; /* a name that is neither field nor tag compares as '' (else null) */
};
int xeval_row(struct xeval *ev, const struct iql_expr *e, const struct xrow *r,
              struct iql_val *out);
bool xval_truthy(const struct iql_val *v);
/* Evaluates a condition knowing only a series' tags: 1 true, 0 false,
 * 2 unknown (depends on fields), or an error (bad regex). */
int xeval_tags(struct xeval *ev, const struct iql_expr *e, const struct xtable *tb,
               const char *const *tagv, int depth);
/* Arithmetic / comparison of two values (1.x rules). */
int xval_binop(struct xeval *ev, enum iql_op op, const struct iql_val *a, const struct iql_val *b,
               struct iql_val *out);
/* Regex match with the cache. Returns 1, 0 or SL_EINVAL (bad pattern). */
int xre_match(struct xeval *ev, const char *pattern, const char *s);
void xre_cache_free(struct xre_cache *c);
int xval_cmp(const struct iql_val *a, const struct iql_val *b); /* total order for sorting */
bool xval_num(const struct iql_val *v, double *d);

/* ---- exec_load.c ---- */
/* Selector reduction: when every field of a statement without GROUP BY
 * time is first/last/min/max of a field, xload_table_tags is given those
 * (field, selector) pairs and keeps, of each run of rows of a series, only
 * the rows the selectors pick (the same rows xfunc_agg would pick among
 * them: the earliest / latest non-NULL value, the earliest of equal
 * extremes), so the aggregate over the loaded rows is unchanged. Runs whose
 * rows the WHERE condition has to test one by one are loaded whole. */
enum xred_kind { XRED_FIRST = 1, XRED_LAST, XRED_MIN, XRED_MAX };
#define XRED_MAX_PAIRS 16
struct xred {
    const char *field;
    uint8_t kind;
};
/* Loads measurement name of db with rows in [tmin, tmax] that match cond
 * (without its time terms). need: field names to load (all_fields: all).
 * series_only: keep at most one matching row per series (SHOW statements). */
int xload_table(struct iql_exec_ctx *x, struct xeval *ev, const char *db, const char *name,
                int64_t tmin, int64_t tmax, const struct iql_expr *cond, bool all_fields,
                const char **need, size_t nneed, bool series_only, struct xtable **out);
/* Names of the measurements of db matching a regex (sorted). */
int xload_measurements(struct iql_exec_ctx *x, struct xeval *ev, const char *db, const char *re,
                       const char ***names, size_t *n);
/* As xload_table, loading only the tags named in tags[0..ntags) (every tag
 * when tags is NULL; the others read as absent): a series then holds rows
 * with the same values of those tags, in strictly increasing time order
 * (stored series that overlap in time stay apart). */
int xload_table_tags(struct iql_exec_ctx *x, struct xeval *ev, const char *db, const char *name,
                     int64_t tmin, int64_t tmax, const struct iql_expr *cond, bool all_fields,
                     const char **need, size_t nneed, const char *const *tags, size_t ntags,
                     bool series_only, const struct xred *red, size_t nred, struct xtable **out);
struct xseries *xt_series_add(struct sl_arena *a, struct xtable *t);
/* The tag filters (scan_opts.tags) cond implies on table t: a superset of
 * the rows cond keeps (see exec_load.c); arrays in the arena. */
struct cat_table;
struct scan_tag_filter;
int xload_tag_filters(struct sl_arena *a, struct cat_table *t, const struct iql_expr *cond,
                      struct scan_tag_filter **out, size_t *n);
int xs_push(struct sl_arena *a, const struct xtable *t, struct xseries *s, int64_t time);

/* ---- exec_func.c ---- */
/* A point of a bucket: the value and its time. */
struct xpt {
    int64_t t;
    struct iql_val v;
    size_t ref; /* caller's index of the point (selectors report it back) */
};
bool xfunc_is_selector(const char *name);
bool xfunc_is_aggregate(const char *name); /* aggregates and selectors */
bool xfunc_is_transform(const char *name);
bool xfunc_is_multirow(const char *name); /* top, bottom, distinct, sample */
/* Computes an aggregate / selector over pts (time order). *sel gets the index
 * of the selected point for selectors (-1 otherwise). */
int xfunc_agg(struct xeval *ev, const struct iql_expr *call, struct xpt *pts, size_t n,
              struct iql_val *out, long *sel);
/* integral() with GROUP BY time as 1.x computes it across windows: numeric
 * points in time order; fills window starts and sums (n entries at most). */
int xfunc_integral_windows(struct xeval *ev, const struct iql_expr *call, const struct xpt *pts,
                           size_t n, int64_t iv, int64_t off, int64_t *wstart, double *sums,
                           size_t *nw);
/* Multi-row functions: fills rows (times and values); *nout rows. */
int xfunc_multi(struct xeval *ev, const struct iql_expr *call, struct xpt *pts, size_t n,
                int64_t bucket_t, struct xpt **out, size_t *nout);
/* Applies a transform to a column in place: vals[i] at times ts[i]; nulls are
 * skipped; outputs where the transform yields nothing become null. */
int xfunc_transform(struct xeval *ev, const struct iql_expr *call, int64_t group_interval,
                    const int64_t *ts, struct iql_val *vals, size_t n);

/* ---- exec_select.c ---- */
int xselect_run(struct iql_exec_ctx *x, const struct iql_select *sel, int64_t outer_min,
                int64_t outer_max, struct iql_result *out, struct xerr *err);

/* ---- exec_meta.c ---- */
int xmeta_run(struct iql_exec_ctx *x, const struct iql_stmt *st, struct iql_result *out,
              struct xerr *err);

#endif
