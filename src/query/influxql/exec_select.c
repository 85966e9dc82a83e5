/*
 * exec_select.c — SELECT execution with InfluxDB 1.x semantics.
 *
 * Per source measurement (a name, a /regex/ or a subquery): load the rows in
 * the WHERE time range that match the rest of the condition, expand
 * wildcards, split the series into groups by the GROUP BY tags, then per
 * group either
 *   - raw mode (no aggregate): one output row per point, in time order,
 *     kept when any selected field is non-null; transforms (derivative(x),
 *     ...) run over the column;
 *   - aggregate mode: buckets of GROUP BY time(interval, offset) (one bucket
 *     for the whole range without it), each aggregate computed over the
 *     bucket's points, fill() applied, transforms over the bucket column.
 * Times: bucket start; without GROUP BY time the range's lower bound (0 when
 * unbounded), except a lone selector, which returns its point's time (and
 * the other selected fields from that point). Without an upper bound a
 * GROUP BY time query ends at now(). Columns are named after the alias, the
 * function, or the fields of an expression joined by "_", de-duplicated
 * with _1, _2 as 1.x does.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/err.h"
#include "common/mem.h"
#include "query/influxql/exec_int.h"

#define X_MAX_BUCKETS 5000000

struct xfield {
    const struct iql_expr *expr;
    const char *name;
};

/* A point of a group: time and where it lives. */
struct gp {
    int64_t t;
    uint32_t s, r;
};

struct group {
    const char **vals; /* values of the dimension tags */
    struct xseries **ser;
    size_t nser;
    struct gp *pts;
    size_t npts;
};

struct sel_state {
    struct iql_exec_ctx *x;
    struct xeval *ev;
    const struct iql_select *sel;
    struct xerr *err;
    const struct xtable *tb;
    struct xfield *f;
    size_t nf;
    const char **dims;
    size_t ndims;
    bool agg, multi;
    bool need_order; /* group points must be merged in time order */
    int ncalls;
    const struct iql_expr *single_selector;
    int64_t tmin, tmax;
    /* output */
    struct iql_series *out;
    size_t nout, capout;
};

/* ---- helpers ---- */

static void *aalloc(struct sl_arena *a, size_t n)
{
    return sl_arena_alloc(a, n ? n : 1);
}

static int count_calls(const struct iql_expr *e, int *ncalls, const struct iql_expr **last,
                       bool *has_agg, int depth)
{
    if (!e || depth > 2000) return 0;
    switch (e->kind) {
    case IQL_EXPR_CALL:
        if (xfunc_is_aggregate(e->u.call.name)) {
            (*ncalls)++;
            *last = e;
            *has_agg = true;
            return 0; /* do not count distinct() inside count() */
        }
        if (xfunc_is_transform(e->u.call.name)) {
            (*ncalls)++;
            for (size_t i = 0; i < e->u.call.nargs; i++)
                count_calls(e->u.call.args[i], ncalls, last, has_agg, depth + 1);
        }
        return 0;
    case IQL_EXPR_BINARY:
        count_calls(e->u.bin.lhs, ncalls, last, has_agg, depth + 1);
        count_calls(e->u.bin.rhs, ncalls, last, has_agg, depth + 1);
        return 0;
    case IQL_EXPR_NEG: return count_calls(e->u.neg, ncalls, last, has_agg, depth + 1);
    default: return 0;
    }
}

static int add_name_parts(struct sl_buf *b, const struct iql_expr *e, int depth)
{
    if (depth > 2000) return 0;
    switch (e->kind) {
    case IQL_EXPR_VARREF:
        if (b->len) sl_buf_addc(b, '_');
        return sl_buf_adds(b, e->u.ref.name);
    case IQL_EXPR_CALL:
        if (b->len) sl_buf_addc(b, '_');
        return sl_buf_adds(b, e->u.call.name);
    case IQL_EXPR_BINARY:
        add_name_parts(b, e->u.bin.lhs, depth + 1);
        return add_name_parts(b, e->u.bin.rhs, depth + 1);
    case IQL_EXPR_NEG: return add_name_parts(b, e->u.neg, depth + 1);
    default: return 0;
    }
}

static const char *field_name(struct sl_arena *a, const struct iql_expr *e, const char *alias)
{
    if (alias) return alias;
    if (e->kind == IQL_EXPR_VARREF) return e->u.ref.name;
    if (e->kind == IQL_EXPR_CALL) return e->u.call.name;
    struct sl_buf b;
    sl_buf_init(&b, 4096);
    add_name_parts(&b, e, 0);
    const char *r = sl_arena_strndup(a, b.ptr ? b.ptr : "", b.len);
    sl_buf_release(&b);
    return r;
}

static int collect_refs(const struct iql_expr *e, const char **out, size_t *n, size_t cap,
                        bool *wild, int depth)
{
    if (!e || depth > 2000) return 0;
    switch (e->kind) {
    case IQL_EXPR_VARREF:
        if (*n < cap) out[(*n)++] = e->u.ref.name;
        return 0;
    case IQL_EXPR_WILDCARD:
    case IQL_EXPR_REGEX: *wild = true; return 0;
    case IQL_EXPR_CALL:
        for (size_t i = 0; i < e->u.call.nargs; i++)
            collect_refs(e->u.call.args[i], out, n, cap, wild, depth + 1);
        return 0;
    case IQL_EXPR_BINARY:
        collect_refs(e->u.bin.lhs, out, n, cap, wild, depth + 1);
        return collect_refs(e->u.bin.rhs, out, n, cap, wild, depth + 1);
    case IQL_EXPR_NEG: return collect_refs(e->u.neg, out, n, cap, wild, depth + 1);
    default: return 0;
    }
}

static int cmp_cstr(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static struct iql_expr *mk_ref(struct sl_arena *a, const char *name)
{
    struct iql_expr *e = aalloc(a, sizeof(*e));
    if (!e) return NULL;
    memset(e, 0, sizeof(*e));
    e->kind = IQL_EXPR_VARREF;
    e->u.ref.name = name;
    return e;
}

/* Expands wildcards against the table: *, *::field, *::tag, /re/ and
 * f(*) (one call per numeric/any field, named f_field). */
static int expand_fields(struct sel_state *st)
{
    struct sl_arena *a = st->x->arena;
    const struct iql_select *sel = st->sel;
    const struct xtable *tb = st->tb;
    size_t cap = sel->nfields * (tb->nf + tb->nt + 1) + 1;
    struct xfield *f = aalloc(a, cap * sizeof(*f));
    if (!f) return SL_ENOMEM;
    size_t n = 0;
    for (size_t i = 0; i < sel->nfields; i++) {
        const struct iql_expr *e = sel->fields[i].expr;
        if (e->kind == IQL_EXPR_WILDCARD || e->kind == IQL_EXPR_REGEX) {
            /* fields and tags, sorted by name (tags only in raw queries) */
            const char **names = aalloc(a, (tb->nf + tb->nt) * sizeof(char *));
            if (!names) return SL_ENOMEM;
            size_t k = 0;
            enum iql_type ty = e->kind == IQL_EXPR_WILDCARD ? e->u.ref.type : IQL_TYPE_ANY;
            for (size_t j = 0; j < tb->nf; j++)
                if (ty != IQL_TYPE_TAG) names[k++] = tb->fname[j];
            if (!st->agg)
                for (size_t j = 0; j < tb->nt; j++)
                    if (ty != IQL_TYPE_FIELD) names[k++] = tb->tkey[j];
            qsort(names, k, sizeof(char *), cmp_cstr);
            for (size_t j = 0; j < k; j++) {
                if (e->kind == IQL_EXPR_REGEX) {
                    int m = xre_match(st->ev, e->u.s, names[j]);
                    if (m < 0) return m;
                    if (!m) continue;
                }
                f[n].expr = mk_ref(a, names[j]);
                if (!f[n].expr) return SL_ENOMEM;
                f[n++].name = names[j];
            }
            continue;
        }
        if (e->kind == IQL_EXPR_CALL && e->u.call.nargs >= 1 &&
            (e->u.call.args[0]->kind == IQL_EXPR_WILDCARD ||
             e->u.call.args[0]->kind == IQL_EXPR_REGEX)) {
            const struct iql_expr *w = e->u.call.args[0];
            size_t *ord = aalloc(a, tb->nf * sizeof(size_t));
            if (!ord) return SL_ENOMEM;
            for (size_t j = 0; j < tb->nf; j++)
                ord[j] = j;
            for (size_t j = 1; j < tb->nf; j++) /* by name, as 1.x expands */
                for (size_t k = j; k > 0 && strcmp(tb->fname[ord[k - 1]], tb->fname[ord[k]]) > 0;
                     k--) {
                    size_t t = ord[k];
                    ord[k] = ord[k - 1];
                    ord[k - 1] = t;
                }
            for (size_t jj = 0; jj < tb->nf; jj++) {
                size_t j = ord[jj];
                if (w->kind == IQL_EXPR_REGEX) {
                    int m = xre_match(st->ev, w->u.s, tb->fname[j]);
                    if (m < 0) return m;
                    if (!m) continue;
                }
                bool numeric = tb->ftype[j] == IQLV_FLOAT || tb->ftype[j] == IQLV_INT ||
                               tb->ftype[j] == IQLV_UINT;
                const char *fn = e->u.call.name;
                if (!numeric && strcmp(fn, "count") && strcmp(fn, "first") && strcmp(fn, "last") &&
                    strcmp(fn, "distinct") && strcmp(fn, "mode"))
                    continue;
                struct iql_expr *c = aalloc(a, sizeof(*c));
                struct iql_expr **args = aalloc(a, e->u.call.nargs * sizeof(*args));
                if (!c || !args) return SL_ENOMEM;
                *c = *e;
                memcpy(args, e->u.call.args, e->u.call.nargs * sizeof(*args));
                args[0] = mk_ref(a, tb->fname[j]);
                if (!args[0]) return SL_ENOMEM;
                c->u.call.args = args;
                size_t nl = strlen(fn) + strlen(tb->fname[j]) + 2;
                char *nm = aalloc(a, nl);
                if (!nm) return SL_ENOMEM;
                snprintf(nm, nl, "%s_%s", fn, tb->fname[j]);
                f[n].expr = c;
                f[n++].name = nm;
            }
            continue;
        }
        if (e->kind == IQL_EXPR_VARREF && strcmp(e->u.ref.name, "time") == 0) continue;
        f[n].expr = e;
        f[n].name = field_name(a, e, sel->fields[i].alias);
        if (!f[n++].name) return SL_ENOMEM;
        /* top(x, tag..., N) / bottom(...): the tags become columns after it */
        if (e->kind == IQL_EXPR_CALL &&
            (!strcmp(e->u.call.name, "top") || !strcmp(e->u.call.name, "bottom")))
            for (size_t k = 1; k + 1 < e->u.call.nargs && n < cap; k++)
                if (e->u.call.args[k]->kind == IQL_EXPR_VARREF) {
                    f[n].expr = e->u.call.args[k];
                    f[n++].name = e->u.call.args[k]->u.ref.name;
                }
    }
    /* de-duplicate names: x, x_1, x_2 */
    for (size_t i = 0; i < n; i++) {
        for (int suffix = 1;; suffix++) {
            bool dup = false;
            for (size_t j = 0; j < i && !dup; j++)
                dup = strcmp(f[j].name, f[i].name) == 0;
            if (!dup) break;
            const char *base = f[i].name;
            size_t bl = strlen(base);
            /* strip an earlier suffix we added */
            if (suffix > 1) {
                const char *us = strrchr(base, '_');
                if (us) bl = (size_t)(us - base);
            }
            char *nm = aalloc(a, bl + 24);
            if (!nm) return SL_ENOMEM;
            snprintf(nm, bl + 24, "%.*s_%d", (int)bl, base, suffix);
            f[i].name = nm;
        }
    }
    st->f = f;
    st->nf = n;
    return 0;
}

/* ---- grouping ---- */

static int cmp_gp(const void *a, const void *b)
{
    const struct gp *x = a, *y = b;
    if (x->t != y->t) return (x->t > y->t) - (x->t < y->t);
    return (x->s > y->s) - (x->s < y->s);
}

struct sref {
    struct xseries *s;
    const char **vals;
    size_t ndims;
};

static int cmp_sref(const void *a, const void *b)
{
    const struct sref *x = a, *y = b;
    for (size_t i = 0; i < x->ndims; i++) {
        int c = strcmp(x->vals[i], y->vals[i]);
        if (c) return c;
    }
    return strcmp(x->s->key, y->s->key);
}

static int build_groups(struct sel_state *st, struct group **out, size_t *nout)
{
    struct sl_arena *a = st->x->arena;
    const struct xtable *tb = st->tb;
    struct sref *sr = aalloc(a, tb->nser * sizeof(*sr));
    if (!sr) return SL_ENOMEM;
    for (size_t i = 0; i < tb->nser; i++) {
        sr[i].s = tb->ser[i];
        sr[i].ndims = st->ndims;
        sr[i].vals = aalloc(a, st->ndims * sizeof(char *));
        if (!sr[i].vals) return SL_ENOMEM;
        for (size_t d = 0; d < st->ndims; d++) {
            int ti = xt_tag_index(tb, st->dims[d]);
            const char *v = ti >= 0 ? tb->ser[i]->tagv[ti] : NULL;
            sr[i].vals[d] = v ? v : "";
        }
    }
    qsort(sr, tb->nser, sizeof(*sr), cmp_sref);
    struct group *g = aalloc(a, (tb->nser + 1) * sizeof(*g));
    if (!g) return SL_ENOMEM;
    size_t ng = 0;
    for (size_t i = 0; i < tb->nser;) {
        size_t j = i + 1;
        while (j < tb->nser) {
            bool same = true;
            for (size_t d = 0; d < st->ndims && same; d++)
                same = strcmp(sr[j].vals[d], sr[i].vals[d]) == 0;
            if (!same) break;
            j++;
        }
        struct group *gr = &g[ng];
        gr->vals = sr[i].vals;
        gr->nser = j - i;
        gr->ser = aalloc(a, gr->nser * sizeof(*gr->ser));
        if (!gr->ser) return SL_ENOMEM;
        size_t np = 0;
        for (size_t k = i; k < j; k++) {
            gr->ser[k - i] = sr[k].s;
            np += sr[k].s->n;
        }
        gr->pts = aalloc(a, np * sizeof(*gr->pts));
        if (!gr->pts) return SL_ENOMEM;
        gr->npts = 0;
        for (size_t k = 0; k < gr->nser; k++)
            for (size_t r = 0; r < gr->ser[k]->n; r++)
                gr->pts[gr->npts++] = (struct gp){gr->ser[k]->t[r], (uint32_t)k, (uint32_t)r};
        /* one series is already in time order; aggregates over one bucket
         * do not depend on the order (selectors compare times themselves) */
        if (gr->nser > 1 && st->need_order) qsort(gr->pts, gr->npts, sizeof(*gr->pts), cmp_gp);
        if (gr->npts) ng++;
        i = j;
    }
    *out = g;
    *nout = ng;
    return 0;
}

/* ---- output ---- */

static int emit_series(struct sel_state *st, const struct group *g, int64_t *times,
                       struct iql_val *vals, size_t nrows, bool *keep)
{
    struct sl_arena *a = st->x->arena;
    size_t nc = st->nf + 1;
    size_t kept = 0;
    for (size_t r = 0; r < nrows; r++)
        kept += keep[r];
    if (!kept) return 0;
    size_t *idx = aalloc(a, kept * sizeof(size_t));
    if (!idx) return SL_ENOMEM;
    size_t k = 0;
    for (size_t r = 0; r < nrows; r++)
        if (keep[r]) idx[k++] = r;
    if (st->sel->order_desc)
        for (size_t i = 0; i < k / 2; i++) {
            size_t t = idx[i];
            idx[i] = idx[k - 1 - i];
            idx[k - 1 - i] = t;
        }
    size_t off = st->sel->offset > 0 ? (size_t)st->sel->offset : 0;
    if (off >= k) return 0;
    size_t cnt = k - off;
    if (st->sel->limit > 0 && (size_t)st->sel->limit < cnt) cnt = (size_t)st->sel->limit;
    if (st->nout == st->capout) {
        size_t ncap = st->capout ? st->capout * 2 : 16;
        struct iql_series *ns = aalloc(a, ncap * sizeof(*ns));
        if (!ns) return SL_ENOMEM;
        if (st->nout) memcpy(ns, st->out, st->nout * sizeof(*ns));
        st->out = ns;
        st->capout = ncap;
    }
    struct iql_series *s = &st->out[st->nout];
    memset(s, 0, sizeof(*s));
    s->name = st->tb->name;
    if (st->ndims) {
        s->ntags = st->ndims;
        s->tag_keys = st->dims;
        s->tag_vals = g->vals;
    }
    s->ncols = nc;
    s->cols = aalloc(a, nc * sizeof(char *));
    s->vals = aalloc(a, cnt * nc * sizeof(struct iql_val));
    if (!s->cols || !s->vals) return SL_ENOMEM;
    s->cols[0] = "time";
    for (size_t i = 0; i < st->nf; i++)
        s->cols[i + 1] = st->f[i].name;
    for (size_t i = 0; i < cnt; i++) {
        size_t r = idx[off + i];
        struct iql_val *row = s->vals + i * nc;
        row[0].kind = IQLV_TIME;
        row[0].u.i = times[r];
        memcpy(row + 1, vals + r * st->nf, st->nf * sizeof(struct iql_val));
    }
    s->nrows = cnt;
    st->nout++;
    return 0;
}

/* ---- raw mode ---- */

static int run_raw(struct sel_state *st, const struct group *g)
{
    struct sl_arena *a = st->x->arena;
    size_t n = g->npts, nf = st->nf;
    int64_t *times = aalloc(a, n * sizeof(int64_t));
    struct iql_val *vals = aalloc(a, n * nf * sizeof(struct iql_val));
    struct iql_val *col = aalloc(a, n * sizeof(struct iql_val));
    bool *keep = aalloc(a, n);
    if (!times || !vals || !col || !keep) return SL_ENOMEM;
    memset(keep, 0, n);
    for (size_t i = 0; i < n; i++)
        times[i] = g->pts[i].t;
    for (size_t f = 0; f < nf; f++) {
        const struct iql_expr *e = st->f[f].expr;
        const struct iql_expr *tr = NULL;
        if (e->kind == IQL_EXPR_CALL && xfunc_is_transform(e->u.call.name)) {
            tr = e;
            if (e->u.call.nargs < 1)
                return xerr_set(st->err, "invalid number of arguments for %s", e->u.call.name);
            e = e->u.call.args[0];
        }
        bool is_tag = false;
        if (e->kind == IQL_EXPR_VARREF && e->u.ref.type != IQL_TYPE_FIELD &&
            (e->u.ref.type == IQL_TYPE_TAG || xt_field_index(st->tb, e->u.ref.name) < 0) &&
            xt_tag_index(st->tb, e->u.ref.name) >= 0)
            is_tag = true;
        for (size_t i = 0; i < n; i++) {
            const struct gp *p = &g->pts[i];
            struct xrow row = {st->tb, g->ser[p->s], p->r};
            if (is_tag) {
                int ti = xt_tag_index(st->tb, e->u.ref.name);
                const char *v = g->ser[p->s]->tagv[ti];
                col[i].kind = v ? IQLV_STR : IQLV_NULL;
                col[i].u.s = v;
            } else {
                int rc = xeval_row(st->ev, e, &row, &col[i]);
                if (rc < 0) return rc;
                if (col[i].kind == IQLV_BOOL && e->kind != IQL_EXPR_VARREF) {
                    /* comparisons in the select list are not values */
                    col[i].kind = IQLV_NULL;
                }
            }
        }
        if (tr) {
            int rc = xfunc_transform(st->ev, tr, 0, times, col, n);
            if (rc < 0) return rc;
        }
        for (size_t i = 0; i < n; i++) {
            vals[i * nf + f] = col[i];
            if (!is_tag && col[i].kind != IQLV_NULL) keep[i] = true;
        }
    }
    return emit_series(st, g, times, vals, n, keep);
}

/* ---- aggregate mode ---- */

struct bctx {
    struct sel_state *st;
    const struct group *g;
    size_t lo, hi; /* points of the bucket */
    int64_t bt;    /* bucket time */
    struct xpt *scratch;
    bool any;
    long sel_ref;
};

static int gather(struct bctx *b, const struct iql_expr *arg, size_t *n)
{
    const struct xtable *tb = b->st->tb;
    *n = 0;
    if (arg->kind == IQL_EXPR_CALL && !strcmp(arg->u.call.name, "distinct") && arg->u.call.nargs)
        arg = arg->u.call.args[0];
    if (arg->kind != IQL_EXPR_VARREF)
        return xerr_set(b->st->err, "expected field argument in aggregate function");
    int fi = arg->u.ref.type == IQL_TYPE_TAG ? -1 : xt_field_index(tb, arg->u.ref.name);
    if (fi < 0) return 0;
    for (size_t i = b->lo; i < b->hi; i++) {
        const struct gp *p = &b->g->pts[i];
        const struct iql_val *v = &b->g->ser[p->s]->v[(size_t)p->r * tb->nf + (size_t)fi];
        if (v->kind == IQLV_NULL) continue;
        b->scratch[*n] = (struct xpt){p->t, *v, i};
        (*n)++;
    }
    return 0;
}

static int agg_eval(struct bctx *b, const struct iql_expr *e, struct iql_val *o, int depth)
{
    o->kind = IQLV_NULL;
    if (depth > 2000) return xerr_set(b->st->err, "expression too deeply nested");
    switch (e->kind) {
    case IQL_EXPR_CALL: {
        if (!xfunc_is_aggregate(e->u.call.name))
            return xerr_set(b->st->err, "undefined function %s()", e->u.call.name);
        if (e->u.call.nargs < 1)
            return xerr_set(b->st->err,
                            "invalid number of arguments for %s, expected at least 1, got 0",
                            e->u.call.name);
        const char *fn = e->u.call.name;
        const struct iql_expr *arg = e->u.call.args[0];
        if (arg->kind == IQL_EXPR_VARREF &&
            (!strcmp(fn, "sum") || !strcmp(fn, "mean") || !strcmp(fn, "median") ||
             !strcmp(fn, "spread") || !strcmp(fn, "stddev") || !strcmp(fn, "integral") ||
             !strcmp(fn, "percentile"))) {
            int fi = xt_field_index(b->st->tb, arg->u.ref.name);
            uint8_t ty = fi >= 0 ? b->st->tb->ftype[fi] : IQLV_NULL;
            if (ty == IQLV_STR || ty == IQLV_BOOL)
                return xerr_set(b->st->err,
                                "unsupported %s iterator type: *query.%sInterruptIterator", fn,
                                ty == IQLV_STR ? "string" : "boolean");
        }
        size_t n;
        int rc = gather(b, arg, &n);
        if (rc < 0) return rc;
        if (n) b->any = true;
        long sel;
        rc = xfunc_agg(b->st->ev, e, b->scratch, n, o, &sel);
        if (rc < 0) return rc;
        if (sel >= 0) b->sel_ref = (long)b->scratch[sel].ref;
        return 0;
    }
    case IQL_EXPR_BINARY: {
        struct iql_val x, y;
        int rc = agg_eval(b, e->u.bin.lhs, &x, depth + 1);
        if (rc < 0) return rc;
        rc = agg_eval(b, e->u.bin.rhs, &y, depth + 1);
        if (rc < 0) return rc;
        return xval_binop(b->st->ev, e->u.bin.op, &x, &y, o);
    }
    case IQL_EXPR_NEG: {
        struct iql_val x, zero = {.kind = IQLV_INT};
        int rc = agg_eval(b, e->u.neg, &x, depth + 1);
        if (rc < 0) return rc;
        return xval_binop(b->st->ev, IQL_OP_SUB, &zero, &x, o);
    }
    case IQL_EXPR_VARREF:
        if (b->sel_ref >= 0) {
            const struct gp *p = &b->g->pts[b->sel_ref];
            const struct xseries *s = b->g->ser[p->s];
            int fi = e->u.ref.type == IQL_TYPE_TAG ? -1 : xt_field_index(b->st->tb, e->u.ref.name);
            if (fi >= 0) {
                *o = s->v[(size_t)p->r * b->st->tb->nf + (size_t)fi];
            } else {
                int ti = xt_tag_index(b->st->tb, e->u.ref.name);
                if (ti >= 0 && s->tagv[ti]) {
                    o->kind = IQLV_STR;
                    o->u.s = s->tagv[ti];
                }
            }
        }
        return 0;
    default: return xeval_row(b->st->ev, e, NULL, o);
    }
}

struct tagpt {
    const char *key;
    struct xpt p;
};

static int cmp_tagpt_top(const void *a, const void *b)
{
    const struct tagpt *x = a, *y = b;
    int c = strcmp(x->key, y->key);
    if (c) return c;
    c = xval_cmp(&y->p.v, &x->p.v);
    if (c) return c;
    return (x->p.t > y->p.t) - (x->p.t < y->p.t);
}

static int cmp_tagpt_bottom(const void *a, const void *b)
{
    const struct tagpt *x = a, *y = b;
    int c = strcmp(x->key, y->key);
    if (c) return c;
    c = xval_cmp(&x->p.v, &y->p.v);
    if (c) return c;
    return (x->p.t > y->p.t) - (x->p.t < y->p.t);
}

/* top(x, tag..., N): keeps the best point of each distinct tag combination. */
static int best_per_tags(struct sel_state *st, const struct group *g, const struct iql_expr *call,
                         struct xpt *pts, size_t *n)
{
    const char *fn = call->u.call.name;
    if ((strcmp(fn, "top") && strcmp(fn, "bottom")) || call->u.call.nargs < 3 || *n == 0) return 0;
    struct sl_arena *a = st->x->arena;
    struct tagpt *tp = aalloc(a, *n * sizeof(*tp));
    if (!tp) return SL_ENOMEM;
    struct sl_buf kb;
    sl_buf_init(&kb, 0);
    for (size_t i = 0; i < *n; i++) {
        const struct xseries *s = g->ser[g->pts[pts[i].ref].s];
        sl_buf_reset(&kb);
        for (size_t k = 1; k + 1 < call->u.call.nargs; k++) {
            const struct iql_expr *ta = call->u.call.args[k];
            int ti = ta->kind == IQL_EXPR_VARREF ? xt_tag_index(st->tb, ta->u.ref.name) : -1;
            const char *v = ti >= 0 && s->tagv[ti] ? s->tagv[ti] : "";
            sl_buf_adds(&kb, v);
            sl_buf_addc(&kb, '\x01');
        }
        tp[i].key = sl_arena_strndup(a, kb.ptr ? kb.ptr : "", kb.len);
        tp[i].p = pts[i];
        if (!tp[i].key) {
            sl_buf_release(&kb);
            return SL_ENOMEM;
        }
    }
    sl_buf_release(&kb);
    qsort(tp, *n, sizeof(*tp), strcmp(fn, "top") == 0 ? cmp_tagpt_top : cmp_tagpt_bottom);
    size_t k = 0;
    for (size_t i = 0; i < *n; i++)
        if (i == 0 || strcmp(tp[i].key, tp[i - 1].key)) pts[k++] = tp[i].p;
    *n = k;
    return 0;
}

static int64_t sadd(int64_t a, int64_t b)
{
    int64_t r;
    return __builtin_add_overflow(a, b, &r) ? INT64_MAX : r;
}

static int64_t window_start(int64_t t, int64_t iv, int64_t off)
{
    __int128 d = (__int128)t - off;
    __int128 q = d / iv;
    if (d % iv < 0) q--;
    __int128 r = q * iv + off;
    if (r < INT64_MIN) return INT64_MIN;
    return r > INT64_MAX ? INT64_MAX : (int64_t)r;
}

static bool top_is_count(const struct iql_expr *e)
{
    return e->kind == IQL_EXPR_CALL && !strcmp(e->u.call.name, "count");
}

static int run_agg(struct sel_state *st, const struct group *g, int64_t first_t)
{
    struct sl_arena *a = st->x->arena;
    const struct iql_select *sel = st->sel;
    int64_t iv = sel->group_interval, off = 0;
    size_t nb = 1;
    int64_t b0 = st->tmin == INT64_MIN ? 0 : st->tmin;
    if (iv > 0) {
        off = sel->group_offset_now ? st->x->now_ns % iv : sel->group_offset % iv;
        int64_t lo = st->tmin == INT64_MIN ? first_t : st->tmin;
        b0 = window_start(lo, iv, off);
        int64_t last = window_start(st->tmax, iv, off);
        if (last < b0) return 0;
        uint64_t cnt = ((uint64_t)last - (uint64_t)b0) / (uint64_t)iv + 1;
        if (cnt > X_MAX_BUCKETS)
            return xerr_set(st->err, "too many buckets: %llu (max %d); narrow the time range",
                            (unsigned long long)cnt, X_MAX_BUCKETS);
        nb = (size_t)cnt;
    }
    size_t nf = st->nf;
    size_t maxrows = nb;
    struct xpt *scratch = aalloc(a, g->npts * sizeof(struct xpt));
    if (!scratch) return SL_ENOMEM;
    if (st->multi) {
        /* one multi-row function: rows per bucket */
        size_t cap = 64, nr = 0;
        int64_t *times = aalloc(a, cap * sizeof(int64_t));
        struct iql_val *vals = aalloc(a, cap * nf * sizeof(struct iql_val));
        if (!times || !vals) return SL_ENOMEM;
        size_t pi = 0;
        for (size_t bi = 0; bi < nb; bi++) {
            int64_t bs = iv > 0 ? b0 + (int64_t)bi * iv : b0;
            size_t lo = pi;
            if (iv > 0)
                while (pi < g->npts && g->pts[pi].t < sadd(bs, iv))
                    pi++;
            else
                pi = g->npts;
            if (iv > 0)
                while (lo < pi && g->pts[lo].t < bs)
                    lo++;
            struct bctx b = {st, g, lo, pi, bs, scratch, false, -1};
            const struct iql_expr *call = st->single_selector;
            size_t n;
            int rc = gather(&b, call->u.call.args[0], &n);
            if (rc < 0) return rc;
            struct xpt *res;
            size_t nres;
            rc = best_per_tags(st, g, call, scratch, &n);
            if (rc < 0) return rc;
            rc = xfunc_multi(st->ev, call, scratch, n, bs, &res, &nres);
            if (rc < 0) return rc;
            for (size_t k = 0; k < nres; k++) {
                if (nr == cap) {
                    size_t nc = cap * 2;
                    int64_t *nt = aalloc(a, nc * sizeof(int64_t));
                    struct iql_val *nv = aalloc(a, nc * nf * sizeof(struct iql_val));
                    if (!nt || !nv) return SL_ENOMEM;
                    memcpy(nt, times, nr * sizeof(int64_t));
                    memcpy(nv, vals, nr * nf * sizeof(struct iql_val));
                    times = nt;
                    vals = nv;
                    cap = nc;
                }
                times[nr] = res[k].t;
                for (size_t f = 0; f < nf; f++) {
                    b.sel_ref = (long)res[k].ref;
                    if (st->f[f].expr == call)
                        vals[nr * nf + f] = res[k].v;
                    else {
                        rc = agg_eval(&b, st->f[f].expr, &vals[nr * nf + f], 0);
                        if (rc < 0) return rc;
                    }
                }
                nr++;
            }
        }
        bool *keep = aalloc(a, nr);
        if (!keep) return SL_ENOMEM;
        memset(keep, 1, nr);
        return emit_series(st, g, times, vals, nr, keep);
    }
    int64_t *times = aalloc(a, maxrows * sizeof(int64_t));
    struct iql_val *vals = aalloc(a, maxrows * nf * sizeof(struct iql_val));
    bool *empty = aalloc(a, maxrows * nf);
    bool *keep = aalloc(a, maxrows);
    if (!times || !vals || !empty || !keep) return SL_ENOMEM;
    /* integral() with GROUP BY time spans windows (1.x): computed in one pass */
    int64_t **iw_start = aalloc(a, nf * sizeof(int64_t *));
    double **iw_sum = aalloc(a, nf * sizeof(double *));
    size_t *iw_n = aalloc(a, nf * sizeof(size_t)), *iw_cur = aalloc(a, nf * sizeof(size_t));
    if (!iw_start || !iw_sum || !iw_n || !iw_cur) return SL_ENOMEM;
    for (size_t f = 0; f < nf; f++) {
        const struct iql_expr *e = st->f[f].expr;
        iw_n[f] = iw_cur[f] = 0;
        iw_start[f] = NULL;
        if (iv <= 0 || e->kind != IQL_EXPR_CALL || strcmp(e->u.call.name, "integral") ||
            e->u.call.nargs < 1)
            continue;
        struct bctx b = {st, g, 0, g->npts, 0, scratch, false, -1};
        size_t n;
        int rc = gather(&b, e->u.call.args[0], &n);
        if (rc < 0) return rc;
        size_t k = 0;
        for (size_t i = 0; i < n; i++)
            if (scratch[i].v.kind == IQLV_FLOAT || scratch[i].v.kind == IQLV_INT ||
                scratch[i].v.kind == IQLV_UINT)
                scratch[k++] = scratch[i];
        iw_start[f] = aalloc(a, (k + 1) * sizeof(int64_t));
        iw_sum[f] = aalloc(a, (k + 1) * sizeof(double));
        if (!iw_start[f] || !iw_sum[f]) return SL_ENOMEM;
        rc = xfunc_integral_windows(st->ev, e, scratch, k, iv, off, iw_start[f], iw_sum[f],
                                    &iw_n[f]);
        if (rc < 0) return rc;
    }
    size_t pi = 0;
    bool lone_selector = iv == 0 && st->ncalls == 1 && st->single_selector &&
                         xfunc_is_selector(st->single_selector->u.call.name);
    for (size_t bi = 0; bi < nb; bi++) {
        int64_t bs = iv > 0 ? b0 + (int64_t)bi * iv : b0;
        size_t lo = pi;
        if (iv > 0) {
            while (lo < g->npts && g->pts[lo].t < bs)
                lo++;
            pi = lo;
            while (pi < g->npts && g->pts[pi].t < sadd(bs, iv))
                pi++;
        } else
            pi = g->npts;
        times[bi] = bs;
        bool anyf = false;
        long sel_ref = -1;
        /* pass 1: everything but bare references; pass 2: references (aux of a selector) */
        for (int pass = 0; pass < 2; pass++) {
            for (size_t f = 0; f < nf; f++) {
                const struct iql_expr *e = st->f[f].expr;
                bool bare = e->kind == IQL_EXPR_VARREF;
                if ((pass == 0) == bare) continue;
                if (iw_start[f]) {
                    while (iw_cur[f] < iw_n[f] && iw_start[f][iw_cur[f]] < bs)
                        iw_cur[f]++;
                    bool hit = iw_cur[f] < iw_n[f] && iw_start[f][iw_cur[f]] == bs;
                    struct iql_val *v = &vals[bi * nf + f];
                    v->kind = hit ? IQLV_FLOAT : IQLV_NULL;
                    if (hit) v->u.f = iw_sum[f][iw_cur[f]];
                    empty[bi * nf + f] = !hit;
                    if (hit) anyf = true;
                    continue;
                }
                if (e->kind == IQL_EXPR_CALL && xfunc_is_transform(e->u.call.name)) {
                    if (e->u.call.nargs < 1)
                        return xerr_set(st->err, "invalid number of arguments for %s",
                                        e->u.call.name);
                    e = e->u.call.args[0];
                }
                struct bctx b = {st, g, lo, pi, bs, scratch, false, pass ? sel_ref : -1};
                int rc = agg_eval(&b, e, &vals[bi * nf + f], 0);
                if (rc < 0) return rc;
                if (pass == 0 && b.sel_ref >= 0) sel_ref = b.sel_ref;
                empty[bi * nf + f] = !b.any && !bare;
                if (b.any) anyf = true;
            }
        }
        if (lone_selector && sel_ref >= 0) times[bi] = g->pts[sel_ref].t;
        keep[bi] = anyf;
    }
    /* fill */
    enum iql_fill fill = sel->fill;
    if (iv > 0 && fill != IQL_FILL_NONE) {
        for (size_t bi = 0; bi < nb; bi++)
            keep[bi] = true;
        for (size_t f = 0; f < nf; f++) {
            const struct iql_expr *e = st->f[f].expr;
            for (size_t bi = 0; bi < nb; bi++) {
                if (!empty[bi * nf + f]) continue;
                struct iql_val *v = &vals[bi * nf + f];
                switch (fill) {
                case IQL_FILL_NULL:
                    if (top_is_count(e)) {
                        v->kind = IQLV_INT;
                        v->u.i = 0;
                    }
                    break;
                case IQL_FILL_VALUE: {
                    const struct iql_expr *fv = sel->fill_value;
                    if (fv && fv->kind == IQL_EXPR_INTEGER) {
                        v->kind = IQLV_INT;
                        v->u.i = fv->u.i;
                    } else if (fv && fv->kind == IQL_EXPR_NUMBER) {
                        v->kind = IQLV_FLOAT;
                        v->u.f = fv->u.f;
                    }
                    break;
                }
                case IQL_FILL_PREVIOUS:
                    if (bi > 0) *v = vals[(bi - 1) * nf + f];
                    break;
                case IQL_FILL_LINEAR: {
                    long p = (long)bi - 1, q = (long)bi + 1;
                    while (p >= 0 && empty[(size_t)p * nf + f])
                        p--;
                    while ((size_t)q < nb && empty[(size_t)q * nf + f])
                        q++;
                    if (p < 0 || (size_t)q >= nb) break;
                    const struct iql_val *pv = &vals[(size_t)p * nf + f],
                                         *qv = &vals[(size_t)q * nf + f];
                    double x, y;
                    if (!xval_num(pv, &x) || !xval_num(qv, &y)) break;
                    if (pv->kind == IQLV_INT && qv->kind == IQLV_INT) {
                        v->kind = IQLV_INT;
                        __int128 li = (__int128)pv->u.i +
                                      ((__int128)qv->u.i - pv->u.i) / (q - p) * ((long)bi - p);
                        v->u.i = (int64_t)(uint64_t)li;
                    } else {
                        v->kind = IQLV_FLOAT;
                        v->u.f = x + (y - x) / (double)(q - p) * (double)((long)bi - p);
                    }
                    break;
                }
                default: break;
                }
            }
        }
    }
    /* transforms over the bucket column */
    bool has_tr = false;
    for (size_t f = 0; f < nf; f++) {
        const struct iql_expr *e = st->f[f].expr;
        if (e->kind != IQL_EXPR_CALL || !xfunc_is_transform(e->u.call.name)) continue;
        has_tr = true;
        struct iql_val *col = aalloc(a, nb * sizeof(*col));
        if (!col) return SL_ENOMEM;
        for (size_t bi = 0; bi < nb; bi++)
            col[bi] = keep[bi] ? vals[bi * nf + f] : (struct iql_val){0};
        int rc = xfunc_transform(st->ev, e, iv, times, col, nb);
        if (rc < 0) return rc;
        for (size_t bi = 0; bi < nb; bi++)
            vals[bi * nf + f] = col[bi];
    }
    if (has_tr)
        for (size_t bi = 0; bi < nb; bi++) {
            bool anyv = false;
            for (size_t f = 0; f < nf; f++) {
                const struct iql_expr *e = st->f[f].expr;
                if (e->kind == IQL_EXPR_CALL && xfunc_is_transform(e->u.call.name) &&
                    vals[bi * nf + f].kind != IQLV_NULL)
                    anyv = true;
            }
            keep[bi] = keep[bi] && anyv;
        }
    return emit_series(st, g, times, vals, nb, keep);
}

/* ---- sources ---- */

static int table_from_result(struct sel_state *st, const struct iql_result *r, const char *name,
                             const struct iql_expr *cond, struct xtable **out)
{
    struct sl_arena *a = st->x->arena;
    struct xtable *tb = aalloc(a, sizeof(*tb));
    if (!tb) return SL_ENOMEM;
    memset(tb, 0, sizeof(*tb));
    tb->name = name;
    size_t capf = 0, capt = 0;
    for (size_t i = 0; i < r->nseries; i++)
        if (!strcmp(r->series[i].name ? r->series[i].name : "", name)) {
            capf += r->series[i].ncols;
            capt += r->series[i].ntags;
        }
    tb->fname = aalloc(a, capf * sizeof(char *));
    tb->ftype = aalloc(a, capf);
    tb->tkey = aalloc(a, capt * sizeof(char *));
    tb->ser = aalloc(a, r->nseries * sizeof(*tb->ser));
    if (!tb->fname || !tb->ftype || !tb->tkey || !tb->ser) return SL_ENOMEM;
    for (size_t i = 0; i < r->nseries; i++) {
        const struct iql_series *s = &r->series[i];
        if (strcmp(s->name ? s->name : "", name)) continue;
        for (size_t c = 1; c < s->ncols; c++) {
            bool seen = false;
            for (size_t k = 0; k < tb->nf && !seen; k++)
                seen = !strcmp(tb->fname[k], s->cols[c]);
            if (!seen) {
                tb->ftype[tb->nf] = IQLV_NULL;
                tb->fname[tb->nf++] = s->cols[c];
            }
        }
        for (size_t t = 0; t < s->ntags; t++) {
            bool seen = false;
            for (size_t k = 0; k < tb->nt && !seen; k++)
                seen = !strcmp(tb->tkey[k], s->tag_keys[t]);
            if (!seen) tb->tkey[tb->nt++] = s->tag_keys[t];
        }
    }
    qsort(tb->tkey, tb->nt, sizeof(char *), cmp_cstr);
    for (size_t i = 0; i < r->nseries; i++) {
        const struct iql_series *s = &r->series[i];
        if (strcmp(s->name ? s->name : "", name)) continue;
        struct xseries *xs = xt_series_add(a, tb);
        if (!xs) return SL_ENOMEM;
        struct sl_buf kb;
        sl_buf_init(&kb, 0);
        sl_buf_adds(&kb, name);
        for (size_t t = 0; t < tb->nt; t++)
            for (size_t k = 0; k < s->ntags; k++)
                if (!strcmp(s->tag_keys[k], tb->tkey[t]) && s->tag_vals[k][0]) {
                    xs->tagv[t] = s->tag_vals[k];
                    sl_buf_addf(&kb, ",%s=%s", tb->tkey[t], s->tag_vals[k]);
                }
        xs->key = sl_arena_strndup(a, kb.ptr ? kb.ptr : "", kb.len);
        sl_buf_release(&kb);
        if (!xs->key) return SL_ENOMEM;
        int *map = aalloc(a, s->ncols * sizeof(int));
        if (!map) return SL_ENOMEM;
        for (size_t c = 1; c < s->ncols; c++)
            map[c] = xt_field_index(tb, s->cols[c]);
        for (size_t row = 0; row < s->nrows; row++) {
            const struct iql_val *rv = s->vals + row * s->ncols;
            if (xs_push(a, tb, xs, rv[0].u.i) < 0) return SL_ENOMEM;
            struct iql_val *dst = xs->v + (xs->n - 1) * tb->nf;
            for (size_t c = 1; c < s->ncols; c++) {
                dst[map[c]] = rv[c];
                if (tb->ftype[map[c]] == IQLV_NULL) tb->ftype[map[c]] = rv[c].kind;
            }
            if (cond) {
                struct xrow xr = {tb, xs, xs->n - 1};
                struct iql_val res;
                st->ev->where = true;
                int rc = xeval_row(st->ev, cond, &xr, &res);
                st->ev->where = false;
                if (rc < 0) return rc;
                if (!xval_truthy(&res)) xs->n--;
            }
        }
        /* keep rows in time order (an inner ORDER BY DESC) */
        for (size_t k = 1; k < xs->n; k++)
            if (xs->t[k] < xs->t[k - 1]) {
                for (size_t p = 0; p < xs->n / 2; p++) {
                    int64_t tt = xs->t[p];
                    xs->t[p] = xs->t[xs->n - 1 - p];
                    xs->t[xs->n - 1 - p] = tt;
                    for (size_t f = 0; f < tb->nf; f++) {
                        struct iql_val tv = xs->v[p * tb->nf + f];
                        xs->v[p * tb->nf + f] = xs->v[(xs->n - 1 - p) * tb->nf + f];
                        xs->v[(xs->n - 1 - p) * tb->nf + f] = tv;
                    }
                }
                break;
            }
        tb->ser[tb->nser++] = xs;
    }
    *out = tb;
    return 0;
}

/* Whether a function in e depends on the order of the points. */
static bool expr_needs_order(const struct iql_expr *e, int depth)
{
    if (!e || depth > 2000) return true;
    switch (e->kind) {
    case IQL_EXPR_CALL:
        if (xfunc_is_transform(e->u.call.name) || !strcmp(e->u.call.name, "integral") ||
            !strcmp(e->u.call.name, "sample"))
            return true;
        for (size_t i = 0; i < e->u.call.nargs; i++)
            if (expr_needs_order(e->u.call.args[i], depth + 1)) return true;
        return false;
    case IQL_EXPR_BINARY:
        return expr_needs_order(e->u.bin.lhs, depth + 1) ||
               expr_needs_order(e->u.bin.rhs, depth + 1);
    case IQL_EXPR_NEG: return expr_needs_order(e->u.neg, depth + 1);
    default: return false;
    }
}

static int run_table(struct sel_state *st)
{
    const struct iql_select *sel = st->sel;
    struct sl_arena *a = st->x->arena;
    int rc = expand_fields(st);
    if (rc < 0) return rc;
    if (st->nf == 0) return 0;
    st->ncalls = 0;
    st->single_selector = NULL;
    bool has_agg = false, has_raw = false;
    for (size_t f = 0; f < st->nf; f++) {
        int before = st->ncalls;
        count_calls(st->f[f].expr, &st->ncalls, &st->single_selector, &has_agg, 0);
        if (st->ncalls == before) has_raw = true;
    }
    bool only_transform_raw = !has_agg;
    st->agg = has_agg;
    if (has_agg && has_raw) {
        /* bare field references are allowed next to a lone selector */
        bool ok = st->ncalls == 1 && st->single_selector &&
                  xfunc_is_selector(st->single_selector->u.call.name);
        for (size_t f = 0; f < st->nf && ok; f++) {
            const struct iql_expr *e = st->f[f].expr;
            if (e->kind != IQL_EXPR_VARREF && e->kind != IQL_EXPR_CALL &&
                e->kind != IQL_EXPR_BINARY)
                ok = false;
        }
        if (!ok)
            return xerr_set(st->err, "mixing aggregate and non-aggregate queries is not supported");
    }
    if (!has_agg && sel->group_interval > 0)
        return xerr_set(st->err, "GROUP BY requires at least one aggregate function");
    st->multi = false;
    for (size_t f = 0; f < st->nf; f++) {
        const struct iql_expr *e = st->f[f].expr;
        if (e->kind == IQL_EXPR_CALL && xfunc_is_multirow(e->u.call.name)) {
            if (st->ncalls > 1)
                return xerr_set(st->err, "%s() cannot be combined with other functions",
                                e->u.call.name);
            st->multi = true;
            st->single_selector = e;
        }
    }
    (void)only_transform_raw;
    st->need_order = !st->agg || sel->group_interval > 0;
    for (size_t f = 0; f < st->nf && !st->need_order; f++)
        st->need_order = expr_needs_order(st->f[f].expr, 0);
    struct group *groups;
    size_t ng;
    rc = build_groups(st, &groups, &ng);
    if (rc < 0) return rc;
    int64_t first_t = INT64_MAX;
    for (size_t i = 0; i < ng; i++)
        if (groups[i].npts && groups[i].pts[0].t < first_t) first_t = groups[i].pts[0].t;
    size_t start = st->nout;
    for (size_t i = 0; i < ng; i++) {
        rc = st->agg ? run_agg(st, &groups[i], first_t) : run_raw(st, &groups[i]);
        if (rc < 0) return rc;
    }
    (void)start;
    (void)a;
    return 0;
}

static int dims_for(struct sel_state *st)
{
    struct sl_arena *a = st->x->arena;
    const struct iql_select *sel = st->sel;
    const struct xtable *tb = st->tb;
    const char **d = aalloc(a, (sel->ndims + 1) * (tb->nt + 1) * sizeof(char *));
    if (!d) return SL_ENOMEM;
    size_t n = 0;
    for (size_t i = 0; i < sel->ndims; i++) {
        const struct iql_expr *e = sel->dims[i];
        if (e->kind == IQL_EXPR_VARREF)
            d[n++] = e->u.ref.name;
        else if (e->kind == IQL_EXPR_WILDCARD)
            for (size_t t = 0; t < tb->nt; t++)
                d[n++] = tb->tkey[t];
        else if (e->kind == IQL_EXPR_REGEX)
            for (size_t t = 0; t < tb->nt; t++) {
                int m = xre_match(st->ev, e->u.s, tb->tkey[t]);
                if (m < 0) return m;
                if (m) d[n++] = tb->tkey[t];
            }
    }
    qsort(d, n, sizeof(char *), cmp_cstr);
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        if (k == 0 || strcmp(d[k - 1], d[i])) d[k++] = d[i];
    st->dims = d;
    st->ndims = k;
    return 0;
}

int xselect_run(struct iql_exec_ctx *x, const struct iql_select *sel, int64_t outer_min,
                int64_t outer_max, struct iql_result *out, struct xerr *err)
{
    struct sl_arena *a = x->arena;
    struct xeval ev = {.a = a, .now = x->now_ns, .err = err};
    struct sel_state st;
    memset(&st, 0, sizeof(st));
    st.x = x;
    st.ev = &ev;
    st.sel = sel;
    st.err = err;
    int rc = 0;
    memset(out, 0, sizeof(*out));
    if (sel->into) {
        rc = xerr_set(err, "SELECT INTO is not supported by sluice");
        goto done;
    }
    if (sel->tz && strcmp(sel->tz, "UTC") && strcmp(sel->tz, "Etc/UTC")) {
        rc = xerr_set(err, "tz('%s') is not supported by sluice: only UTC", sel->tz);
        goto done;
    }
    if (x->rp && *x->rp && strcmp(x->rp, "autogen")) {
        rc = xerr_set(err, "retention policy not found: %s", x->rp);
        goto done;
    }
    int64_t tmin, tmax;
    char msg[256];
    if (iql_cond_time_range(sel->cond, x->now_ns, &tmin, &tmax, msg, sizeof(msg)) < 0) {
        rc = xerr_set(err, "%s", msg);
        goto done;
    }
    if (outer_min > tmin) tmin = outer_min;
    if (outer_max < tmax) tmax = outer_max;
    if (sel->group_interval > 0 && tmax == INT64_MAX) tmax = x->now_ns;
    st.tmin = tmin;
    st.tmax = tmax;
    if (tmin > tmax) goto done;
    struct iql_expr *rowcond = iql_cond_without_time(sel->cond, a, &rc);
    if (rc < 0) goto done;
    /* the fields the statement references */
    const char **need = aalloc(a, 512 * sizeof(char *));
    size_t nneed = 0;
    bool wild = false;
    if (!need) {
        rc = SL_ENOMEM;
        goto done;
    }
    for (size_t i = 0; i < sel->nfields; i++)
        collect_refs(sel->fields[i].expr, need, &nneed, 512, &wild, 0);
    collect_refs(rowcond, need, &nneed, 512, &wild, 0);
    if (nneed >= 512) wild = true;
    /* the tags read (refs and GROUP BY names), or NULL: all (wildcards) */
    const char **tneed = NULL;
    size_t ntneed = 0;
    bool all_tags = wild;
    for (size_t i = 0; i < sel->ndims; i++)
        all_tags |= sel->dims[i]->kind == IQL_EXPR_WILDCARD || sel->dims[i]->kind == IQL_EXPR_REGEX;
    if (!all_tags) {
        tneed = aalloc(a, (nneed + sel->ndims + 1) * sizeof(char *));
        if (!tneed) {
            rc = SL_ENOMEM;
            goto done;
        }
        memcpy(tneed, need, nneed * sizeof(char *));
        ntneed = nneed;
        for (size_t i = 0; i < sel->ndims; i++)
            if (sel->dims[i]->kind == IQL_EXPR_VARREF) tneed[ntneed++] = sel->dims[i]->u.ref.name;
    }
    /* selector reduction: every field first/last/min/max(field), no GROUP BY time */
    struct xred red[XRED_MAX_PAIRS];
    size_t nred = 0;
    bool reduce =
        sel->group_interval <= 0 && sel->nfields > 0 && sel->nfields <= XRED_MAX_PAIRS && !wild;
    for (size_t i = 0; i < sel->nfields && reduce; i++) {
        const struct iql_expr *e = sel->fields[i].expr;
        reduce = e->kind == IQL_EXPR_CALL && e->u.call.nargs == 1 &&
                 e->u.call.args[0]->kind == IQL_EXPR_VARREF &&
                 e->u.call.args[0]->u.ref.type != IQL_TYPE_TAG;
        if (!reduce) break;
        const char *fn = e->u.call.name;
        uint8_t k = !strcmp(fn, "first")  ? XRED_FIRST
                    : !strcmp(fn, "last") ? XRED_LAST
                    : !strcmp(fn, "min")  ? XRED_MIN
                    : !strcmp(fn, "max")  ? XRED_MAX
                                          : 0;
        reduce = k != 0;
        red[nred++] = (struct xred){e->u.call.args[0]->u.ref.name, k};
    }
    if (!reduce || getenv("SLUICE_IQL_NO_REDUCE")) nred = 0;
    for (size_t si = 0; si < sel->nsources; si++) {
        const struct iql_source *src = &sel->sources[si];
        if (src->subquery) {
            struct iql_result inner;
            rc = xselect_run(x, src->subquery, tmin, tmax, &inner, err);
            if (rc < 0) goto done;
            if (inner.error) {
                out->error = inner.error;
                goto done;
            }
            for (size_t i = 0; i < inner.nseries; i++) {
                const char *nm = inner.series[i].name ? inner.series[i].name : "";
                bool seen = false;
                for (size_t j = 0; j < i && !seen; j++)
                    seen = !strcmp(inner.series[j].name ? inner.series[j].name : "", nm);
                if (seen) continue;
                struct xtable *tb;
                rc = table_from_result(&st, &inner, nm, rowcond, &tb);
                if (rc < 0) goto done;
                st.tb = tb;
                if ((rc = dims_for(&st)) < 0 || (rc = run_table(&st)) < 0) goto done;
            }
            continue;
        }
        const char *db = src->m.database ? src->m.database : x->db;
        if (!db || !*db) {
            rc = xerr_set(err, "database name required");
            goto done;
        }
        if (src->m.rp && strcmp(src->m.rp, "autogen") != 0) {
            rc = xerr_set(err, "retention policy not found: %s", src->m.rp);
            goto done;
        }
        if (x->allowed && !x->allowed(x->allowed_ud, db, 1)) {
            rc = xerr_set(err, "error authorizing query: not authorized to read database \"%s\"",
                          db);
            goto done;
        }
        const char **names = NULL;
        size_t nnames = 0;
        const char *one = src->m.name;
        if (src->m.regex) {
            rc = xload_measurements(x, &ev, db, src->m.regex, &names, &nnames);
            if (rc < 0) goto done;
        } else if (one) {
            names = &one;
            nnames = 1;
        }
        for (size_t ni = 0; ni < nnames; ni++) {
            struct xtable *tb;
            rc = xload_table_tags(x, &ev, db, names[ni], tmin, tmax, rowcond, wild, need, nneed,
                                  tneed, ntneed, false, red, nred, &tb);
            if (rc < 0) goto done;
            if (!tb) continue;
            st.tb = tb;
            if ((rc = dims_for(&st)) < 0 || (rc = run_table(&st)) < 0) goto done;
        }
    }
    /* ORDER BY time DESC also reverses the series order (1.x) */
    if (sel->order_desc)
        for (size_t i = 0; i < st.nout / 2; i++) {
            struct iql_series t = st.out[i];
            st.out[i] = st.out[st.nout - 1 - i];
            st.out[st.nout - 1 - i] = t;
        }
    /* SLIMIT / SOFFSET */
    {
        size_t so = sel->soffset > 0 ? (size_t)sel->soffset : 0;
        if (so >= st.nout)
            st.nout = 0;
        else {
            st.out += so;
            st.nout -= so;
        }
        if (sel->slimit > 0 && (size_t)sel->slimit < st.nout) st.nout = (size_t)sel->slimit;
    }
    out->series = st.out;
    out->nseries = st.nout;
done:
    xre_cache_free(ev.re);
    if (rc == SL_ENOMEM) {
        xerr_set(err, "query exceeded its memory limit");
        out->error = sl_arena_strndup(a, err->msg, strlen(err->msg));
        return SL_ENOMEM;
    }
    if (rc < 0) {
        if (!err->msg[0]) xerr_set(err, "%s", sl_strerror(rc));
        out->error = sl_arena_strndup(a, err->msg, strlen(err->msg));
        if (!out->error) out->error = "query failed";
        out->series = NULL;
        out->nseries = 0;
    }
    return 0;
}
