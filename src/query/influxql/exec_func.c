/*
 * exec_func.c — InfluxQL functions over the points of one bucket: selectors
 * (first, last, min, max, percentile, top, bottom, sample), aggregates
 * (count, distinct, sum, mean, median, mode, spread, stddev, integral) and
 * transforms over a column (derivative, non_negative_derivative, difference,
 * non_negative_difference, moving_average, cumulative_sum, elapsed).
 *
 * Tie rules follow InfluxDB 1.x's reducers: first/last prefer the larger
 * value at equal times, min/max the earlier time at equal values, mode the
 * smallest of the most frequent values, percentile picks the point at index
 * floor(n*p/100+0.5)-1 of the value-sorted points, stddev is the sample
 * standard deviation (null for fewer than two points), distinct lists values
 * in order of first appearance.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "common/err.h"
#include "query/influxql/exec_int.h"

bool xfunc_is_selector(const char *n)
{
    return !strcmp(n, "first") || !strcmp(n, "last") || !strcmp(n, "min") || !strcmp(n, "max") ||
           !strcmp(n, "percentile") || !strcmp(n, "top") || !strcmp(n, "bottom") ||
           !strcmp(n, "sample");
}

bool xfunc_is_aggregate(const char *n)
{
    return xfunc_is_selector(n) || !strcmp(n, "count") || !strcmp(n, "distinct") ||
           !strcmp(n, "sum") || !strcmp(n, "mean") || !strcmp(n, "median") || !strcmp(n, "mode") ||
           !strcmp(n, "spread") || !strcmp(n, "stddev") || !strcmp(n, "integral");
}

bool xfunc_is_transform(const char *n)
{
    return !strcmp(n, "derivative") || !strcmp(n, "non_negative_derivative") ||
           !strcmp(n, "difference") || !strcmp(n, "non_negative_difference") ||
           !strcmp(n, "moving_average") || !strcmp(n, "cumulative_sum") || !strcmp(n, "elapsed");
}

bool xfunc_is_multirow(const char *n)
{
    return !strcmp(n, "top") || !strcmp(n, "bottom") || !strcmp(n, "distinct") ||
           !strcmp(n, "sample");
}

static bool is_numeric(const struct iql_val *v)
{
    return v->kind == IQLV_FLOAT || v->kind == IQLV_INT || v->kind == IQLV_UINT;
}

static double num(const struct iql_val *v)
{
    double d = 0;
    xval_num(v, &d);
    return d;
}

static int cmp_pt_val(const void *a, const void *b)
{
    const struct xpt *x = a, *y = b;
    int c = xval_cmp(&x->v, &y->v);
    if (c) return c;
    return (x->t > y->t) - (x->t < y->t);
}

static int cmp_pt_time(const void *a, const void *b)
{
    const struct xpt *x = a, *y = b;
    if (x->t != y->t) return (x->t > y->t) - (x->t < y->t);
    return xval_cmp(&x->v, &y->v);
}

/* The numeric argument at index i of a call (integer or number literal). */
static int num_arg(struct xeval *ev, const struct iql_expr *call, size_t i, double *out)
{
    if (call->u.call.nargs <= i)
        return xerr_set(ev->err, "invalid number of arguments for %s", call->u.call.name);
    const struct iql_expr *e = call->u.call.args[i];
    if (e->kind == IQL_EXPR_INTEGER || e->kind == IQL_EXPR_DURATION)
        *out = (double)e->u.i;
    else if (e->kind == IQL_EXPR_NUMBER)
        *out = e->u.f;
    else
        return xerr_set(ev->err, "expected number argument in %s()", call->u.call.name);
    return 0;
}

static void set_f(struct iql_val *o, double f)
{
    o->kind = IQLV_FLOAT;
    o->u.f = f;
}

int xfunc_agg(struct xeval *ev, const struct iql_expr *call, struct xpt *pts, size_t n,
              struct iql_val *out, long *sel)
{
    const char *nm = call->u.call.name;
    out->kind = IQLV_NULL;
    *sel = -1;
    if (!strcmp(nm, "count")) {
        const struct iql_expr *a0 = call->u.call.nargs ? call->u.call.args[0] : NULL;
        if (a0 && a0->kind == IQL_EXPR_CALL && !strcmp(a0->u.call.name, "distinct")) {
            qsort(pts, n, sizeof(*pts), cmp_pt_val);
            size_t d = 0;
            for (size_t i = 0; i < n; i++)
                if (i == 0 || xval_cmp(&pts[i].v, &pts[i - 1].v) != 0) d++;
            out->kind = IQLV_INT;
            out->u.i = (int64_t)d;
            return 0;
        }
        out->kind = IQLV_INT;
        out->u.i = (int64_t)n;
        return 0;
    }
    if (n == 0) return 0;
    if (!strcmp(nm, "first") || !strcmp(nm, "last")) {
        bool first = nm[0] == 'f';
        size_t best = 0;
        for (size_t i = 1; i < n; i++) {
            bool better = first ? pts[i].t < pts[best].t : pts[i].t > pts[best].t;
            if (pts[i].t == pts[best].t && xval_cmp(&pts[i].v, &pts[best].v) > 0) better = true;
            if (better) best = i;
        }
        *out = pts[best].v;
        *sel = (long)best;
        return 0;
    }
    if (!strcmp(nm, "min") || !strcmp(nm, "max")) {
        bool mx = nm[1] == 'a';
        long best = -1;
        for (size_t i = 0; i < n; i++) {
            if (!is_numeric(&pts[i].v) && pts[i].v.kind != IQLV_BOOL) continue;
            if (best < 0) {
                best = (long)i;
                continue;
            }
            int c = xval_cmp(&pts[i].v, &pts[best].v);
            if ((mx && c > 0) || (!mx && c < 0) || (c == 0 && pts[i].t < pts[best].t))
                best = (long)i;
        }
        if (best < 0) return 0;
        *out = pts[best].v;
        *sel = best;
        return 0;
    }
    if (!strcmp(nm, "mode")) {
        qsort(pts, n, sizeof(*pts), cmp_pt_val);
        size_t best = 0, bestc = 0;
        for (size_t i = 0; i < n;) {
            size_t j = i;
            while (j < n && xval_cmp(&pts[j].v, &pts[i].v) == 0)
                j++;
            if (j - i > bestc) {
                bestc = j - i;
                best = i;
            }
            i = j;
        }
        *out = pts[best].v;
        return 0;
    }
    /* the rest work on numeric values */
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        if (is_numeric(&pts[i].v)) pts[k++] = pts[i];
    n = k;
    if (n == 0) return 0;
    uint8_t kind = pts[0].v.kind;
    bool allint = true;
    for (size_t i = 0; i < n; i++)
        if (pts[i].v.kind != kind) allint = false;
    allint = allint && (kind == IQLV_INT || kind == IQLV_UINT);
    if (!strcmp(nm, "sum")) {
        if (allint) {
            uint64_t s = 0;
            for (size_t i = 0; i < n; i++)
                s += pts[i].v.u.u;
            out->kind = kind;
            out->u.u = s;
        } else {
            double s = 0;
            for (size_t i = 0; i < n; i++)
                s += num(&pts[i].v);
            set_f(out, s);
        }
        return 0;
    }
    if (!strcmp(nm, "mean")) {
        double s = 0;
        for (size_t i = 0; i < n; i++)
            s += num(&pts[i].v);
        set_f(out, s / (double)n);
        return 0;
    }
    if (!strcmp(nm, "spread")) {
        struct iql_val lo = pts[0].v, hi = pts[0].v;
        for (size_t i = 1; i < n; i++) {
            if (xval_cmp(&pts[i].v, &lo) < 0) lo = pts[i].v;
            if (xval_cmp(&pts[i].v, &hi) > 0) hi = pts[i].v;
        }
        if (allint) {
            out->kind = kind;
            out->u.u = hi.u.u - lo.u.u;
        } else
            set_f(out, num(&hi) - num(&lo));
        return 0;
    }
    if (!strcmp(nm, "stddev")) {
        if (n < 2) return 0;
        double m = 0, ss = 0;
        for (size_t i = 0; i < n; i++)
            m += num(&pts[i].v);
        m /= (double)n;
        for (size_t i = 0; i < n; i++)
            ss += (num(&pts[i].v) - m) * (num(&pts[i].v) - m);
        set_f(out, sqrt(ss / (double)(n - 1)));
        return 0;
    }
    if (!strcmp(nm, "integral")) {
        double unit = 1e9;
        if (call->u.call.nargs > 1 && num_arg(ev, call, 1, &unit) < 0) return SL_EINVAL;
        if (unit <= 0) return xerr_set(ev->err, "integral unit must be positive");
        double s = 0;
        for (size_t i = 1; i < n; i++)
            s += (num(&pts[i].v) + num(&pts[i - 1].v)) / 2.0 *
                 (((double)pts[i].t - (double)pts[i - 1].t) / unit);
        set_f(out, s);
        return 0;
    }
    if (!strcmp(nm, "median")) {
        qsort(pts, n, sizeof(*pts), cmp_pt_val);
        if (n % 2)
            set_f(out, num(&pts[n / 2].v));
        else
            set_f(out, num(&pts[n / 2 - 1].v) + (num(&pts[n / 2].v) - num(&pts[n / 2 - 1].v)) / 2);
        return 0;
    }
    if (!strcmp(nm, "percentile")) {
        double p;
        if (num_arg(ev, call, 1, &p) < 0) return SL_EINVAL;
        qsort(pts, n, sizeof(*pts), cmp_pt_val);
        double fi = floor((double)n * p / 100.0 + 0.5) - 1;
        if (fi < 0 || fi >= (double)n) return 0;
        /* selected point's index after sorting: report its time via *sel
         * on the sorted array (the caller reads pts[*sel].t) */
        *out = pts[(size_t)fi].v;
        *sel = (long)fi;
        return 0;
    }
    return xerr_set(ev->err, "undefined function %s()", nm);
}

static int64_t win(int64_t t, int64_t iv, int64_t off)
{
    __int128 d = (__int128)t - off, q = d / iv;
    if (d % iv < 0) q--;
    __int128 r = q * iv + off;
    if (r < INT64_MIN) return INT64_MIN;
    return r > INT64_MAX ? INT64_MAX : (int64_t)r;
}

int xfunc_integral_windows(struct xeval *ev, const struct iql_expr *call, const struct xpt *pts,
                           size_t n, int64_t iv, int64_t off, int64_t *wstart, double *sums,
                           size_t *nw)
{
    double unit = 1e9;
    if (call->u.call.nargs > 1) {
        const struct iql_expr *u = call->u.call.args[1];
        if (u->kind != IQL_EXPR_DURATION)
            return xerr_set(ev->err, "second argument must be a duration");
        unit = (double)u->u.i;
        if (unit <= 0) return xerr_set(ev->err, "integral unit must be positive");
    }
    *nw = 0;
    if (n == 0) return 0;
    /* InfluxDB 1.x's integral reducer: one pass over the ordered points; at
     * a window boundary the area up to the window end is interpolated and
     * the rest (to the next point) is counted in the next point's window */
    int64_t ws = win(pts[0].t, iv, off), pt = pts[0].t;
    double pv = num(&pts[0].v), sum = 0;
    for (size_t i = 1; i < n; i++) {
        double v = num(&pts[i].v);
        if (pts[i].t == pt) {
            pv = v;
            continue;
        }
        int64_t we;
        if (__builtin_add_overflow(ws, iv, &we)) we = INT64_MAX;
        if (pts[i].t >= we) {
            if (pt != we) {
                double val =
                    pv + (v - pv) * (((double)we - (double)pt) / ((double)pts[i].t - (double)pt));
                sum += 0.5 * (val + pv) * (((double)we - (double)pt) / unit);
                pv = val;
                pt = we;
            }
            wstart[*nw] = ws;
            sums[(*nw)++] = sum;
            ws = win(pts[i].t, iv, off);
            sum = 0;
        }
        sum += 0.5 * (v + pv) * (((double)pts[i].t - (double)pt) / unit);
        pv = v;
        pt = pts[i].t;
    }
    wstart[*nw] = ws;
    sums[(*nw)++] = sum;
    return 0;
}

int xfunc_multi(struct xeval *ev, const struct iql_expr *call, struct xpt *pts, size_t n,
                int64_t bucket_t, struct xpt **out, size_t *nout)
{
    const char *nm = call->u.call.name;
    *nout = 0;
    *out = NULL;
    if (n == 0) return 0;
    struct xpt *o = sl_arena_alloc(ev->a, n * sizeof(*o));
    if (!o) return SL_ENOMEM;
    if (!strcmp(nm, "distinct")) {
        /* first appearance of each value, ordered by that time then value */
        struct xpt *s = sl_arena_alloc(ev->a, n * sizeof(*s));
        if (!s) return SL_ENOMEM;
        memcpy(s, pts, n * sizeof(*s));
        qsort(s, n, sizeof(*s), cmp_pt_val);
        size_t k = 0;
        for (size_t i = 0; i < n; i++)
            if (i == 0 || xval_cmp(&s[i].v, &s[i - 1].v) != 0) o[k++] = s[i];
        qsort(o, k, sizeof(*o), cmp_pt_time);
        for (size_t i = 0; i < k; i++)
            o[i].t = bucket_t;
        *out = o;
        *nout = k;
        return 0;
    }
    double dn;
    size_t last = call->u.call.nargs ? call->u.call.nargs - 1 : 0;
    if (num_arg(ev, call, last, &dn) < 0) return SL_EINVAL;
    if (dn < 1) return xerr_set(ev->err, "%s() limit must be at least 1", nm);
    size_t lim = dn > (double)n ? n : (size_t)dn;
    memcpy(o, pts, n * sizeof(*o));
    if (!strcmp(nm, "top") || !strcmp(nm, "bottom")) {
        bool top = nm[0] == 't';
        size_t k = 0;
        for (size_t i = 0; i < n; i++)
            if (is_numeric(&o[i].v)) o[k++] = o[i];
        /* stable selection: by value (desc for top), then time */
        for (size_t i = 0; i < k && i < lim; i++) {
            size_t b = i;
            for (size_t j = i + 1; j < k; j++) {
                int c = xval_cmp(&o[j].v, &o[b].v);
                if ((top ? c > 0 : c < 0) || (c == 0 && o[j].t < o[b].t)) b = j;
            }
            struct xpt tmp = o[i];
            o[i] = o[b];
            o[b] = tmp;
        }
        if (lim > k) lim = k;
        qsort(o, lim, sizeof(*o), cmp_pt_time);
        *out = o;
        *nout = lim;
        return 0;
    }
    if (!strcmp(nm, "sample")) {
        /* reservoir sampling; output in time order */
        uint64_t st = (uint64_t)ev->now ^ 0x9e3779b97f4a7c15ULL;
        for (size_t i = lim; i < n; i++) {
            st ^= st << 13;
            st ^= st >> 7;
            st ^= st << 17;
            size_t j = (size_t)(st % (i + 1));
            if (j < lim) o[j] = pts[i];
        }
        qsort(o, lim, sizeof(*o), cmp_pt_time);
        *out = o;
        *nout = lim;
        return 0;
    }
    return xerr_set(ev->err, "undefined function %s()", nm);
}

int xfunc_transform(struct xeval *ev, const struct iql_expr *call, int64_t group_interval,
                    const int64_t *ts, struct iql_val *vals, size_t n)
{
    const char *nm = call->u.call.name;
    bool nonneg = !strncmp(nm, "non_negative_", 13);
    struct iql_val *in = sl_arena_alloc(ev->a, (n ? n : 1) * sizeof(*in));
    if (!in) return SL_ENOMEM;
    memcpy(in, vals, n * sizeof(*in));
    for (size_t i = 0; i < n; i++)
        vals[i].kind = IQLV_NULL;
    if (!strcmp(nm, "derivative") || !strcmp(nm, "non_negative_derivative") ||
        !strcmp(nm, "elapsed")) {
        bool el = nm[0] == 'e';
        double unit = el ? 1 : (group_interval > 0 ? (double)group_interval : 1e9);
        if (call->u.call.nargs > 1) {
            const struct iql_expr *u = call->u.call.args[1];
            if (u->kind != IQL_EXPR_DURATION)
                return xerr_set(ev->err, "second argument to %s must be a duration", nm);
            unit = (double)u->u.i;
            if (unit <= 0) return xerr_set(ev->err, "duration argument must be positive");
        }
        long prev = -1;
        for (size_t i = 0; i < n; i++) {
            if (in[i].kind == IQLV_NULL) continue;
            if (prev >= 0) {
                if (el) {
                    vals[i].kind = IQLV_INT;
                    vals[i].u.i = (int64_t)(((double)ts[i] - (double)ts[prev]) / unit);
                } else if (is_numeric(&in[i]) && is_numeric(&in[prev]) && ts[i] != ts[prev]) {
                    double d = (num(&in[i]) - num(&in[prev])) /
                               (((double)ts[i] - (double)ts[prev]) / unit);
                    if (!nonneg || d >= 0) set_f(&vals[i], d);
                }
            }
            prev = (long)i;
        }
        return 0;
    }
    if (!strcmp(nm, "difference") || !strcmp(nm, "non_negative_difference")) {
        long prev = -1;
        for (size_t i = 0; i < n; i++) {
            if (in[i].kind == IQLV_NULL) continue;
            if (prev >= 0 && is_numeric(&in[i]) && is_numeric(&in[prev])) {
                if (in[i].kind == IQLV_INT && in[prev].kind == IQLV_INT) {
                    int64_t d = (int64_t)((uint64_t)in[i].u.i - (uint64_t)in[prev].u.i);
                    if (!nonneg || d >= 0) {
                        vals[i].kind = IQLV_INT;
                        vals[i].u.i = d;
                    }
                } else {
                    double d = num(&in[i]) - num(&in[prev]);
                    if (!nonneg || d >= 0) set_f(&vals[i], d);
                }
            }
            prev = (long)i;
        }
        return 0;
    }
    if (!strcmp(nm, "cumulative_sum")) {
        bool any = false, isint = true;
        int64_t si = 0;
        double sf = 0;
        for (size_t i = 0; i < n; i++) {
            if (!is_numeric(&in[i])) continue;
            if (in[i].kind != IQLV_INT) isint = false;
            si = (int64_t)((uint64_t)si + (uint64_t)(in[i].kind == IQLV_INT ? in[i].u.i : 0));
            sf += num(&in[i]);
            any = true;
            if (isint) {
                vals[i].kind = IQLV_INT;
                vals[i].u.i = si;
            } else
                set_f(&vals[i], sf);
        }
        (void)any;
        return 0;
    }
    if (!strcmp(nm, "moving_average")) {
        double w;
        if (num_arg(ev, call, 1, &w) < 0) return SL_EINVAL;
        if (w < 2)
            return xerr_set(ev->err, "moving_average window must be greater than 1, got %d",
                            (int)w);
        size_t win = (size_t)w;
        size_t *idx = sl_arena_alloc(ev->a, (n ? n : 1) * sizeof(size_t));
        if (!idx) return SL_ENOMEM;
        size_t k = 0;
        for (size_t i = 0; i < n; i++) {
            if (!is_numeric(&in[i])) continue;
            idx[k++] = i;
            if (k >= win) {
                double s = 0;
                for (size_t j = k - win; j < k; j++)
                    s += num(&in[idx[j]]);
                set_f(&vals[i], s / (double)win);
            }
        }
        return 0;
    }
    return xerr_set(ev->err, "undefined function %s()", nm);
}
