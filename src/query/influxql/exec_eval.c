/*
 * exec_eval.c — values and expression evaluation for the InfluxQL executor:
 * arithmetic and comparisons with InfluxDB 1.x's typing rules, and regex
 * matching.
 *
 * Typing (1.x): integer op integer stays integer for + - * % and the bitwise
 * operators, but `/` gives a float; a float on either side gives a float;
 * division by zero gives 0; null on either side gives null. Comparisons
 * between numbers of any type compare numerically, strings compare bytewise,
 * booleans only for = and !=; anything involving null, or mismatched types,
 * is false.
 *
 * Regexes: InfluxDB uses Go's RE2; sluice uses POSIX extended regexes
 * (regcomp) after translating the common RE2 escapes \d \D \w \W \s \S and a
 * leading (?i). Other RE2-only syntax (lazy quantifiers, (?P<name>...),
 * \b, Unicode classes) is not supported and gives an error for the statement.
 */
#include <math.h>
#include <regex.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "common/err.h"
#include "common/re2ere.h"
#include "common/mem.h"
#include "query/influxql/exec_int.h"

struct xre_cache {
    struct xre_cache *next;
    char *pattern;
    regex_t re;
    int ok;
};

int xerr_set(struct xerr *e, const char *fmt, ...)
{
    if (e) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
        va_end(ap);
    }
    return SL_EINVAL;
}

int xt_field_index(const struct xtable *t, const char *name)
{
    for (size_t i = 0; i < t->nf; i++)
        if (strcmp(t->fname[i], name) == 0) return (int)i;
    return -1;
}

int xt_tag_index(const struct xtable *t, const char *name)
{
    for (size_t i = 0; i < t->nt; i++)
        if (strcmp(t->tkey[i], name) == 0) return (int)i;
    return -1;
}

bool xval_truthy(const struct iql_val *v)
{
    return v->kind == IQLV_BOOL && v->u.b;
}

bool xval_num(const struct iql_val *v, double *d)
{
    switch (v->kind) {
    case IQLV_FLOAT: *d = v->u.f; return true;
    case IQLV_INT:
    case IQLV_TIME: *d = (double)v->u.i; return true;
    case IQLV_UINT: *d = (double)v->u.u; return true;
    default: return false;
    }
}

static bool is_int(const struct iql_val *v)
{
    return v->kind == IQLV_INT || v->kind == IQLV_TIME;
}

int xval_cmp(const struct iql_val *a, const struct iql_val *b)
{
    double x, y;
    if (a->kind == IQLV_NULL || b->kind == IQLV_NULL)
        return (a->kind != IQLV_NULL) - (b->kind != IQLV_NULL);
    if (is_int(a) && is_int(b)) return (a->u.i > b->u.i) - (a->u.i < b->u.i);
    if (a->kind == IQLV_UINT && b->kind == IQLV_UINT) return (a->u.u > b->u.u) - (a->u.u < b->u.u);
    if (xval_num(a, &x) && xval_num(b, &y)) return (x > y) - (x < y);
    if (a->kind == IQLV_STR && b->kind == IQLV_STR) {
        int c = strcmp(a->u.s, b->u.s);
        return (c > 0) - (c < 0);
    }
    if (a->kind == IQLV_BOOL && b->kind == IQLV_BOOL) return (a->u.b > b->u.b) - (a->u.b < b->u.b);
    return (a->kind > b->kind) - (a->kind < b->kind);
}

static void set_bool(struct iql_val *o, bool b)
{
    o->kind = IQLV_BOOL;
    o->u.b = b;
}

static int compare(enum iql_op op, const struct iql_val *a, const struct iql_val *b,
                   struct iql_val *o)
{
    double x, y;
    int c;
    if (a->kind == IQLV_NULL || b->kind == IQLV_NULL) {
        set_bool(o, false);
        return 0;
    }
    if (is_int(a) && is_int(b))
        c = (a->u.i > b->u.i) - (a->u.i < b->u.i);
    else if (xval_num(a, &x) && xval_num(b, &y))
        c = (x > y) - (x < y);
    else if (a->kind == IQLV_STR && b->kind == IQLV_STR) {
        c = strcmp(a->u.s, b->u.s);
        c = (c > 0) - (c < 0);
    } else if (a->kind == IQLV_BOOL && b->kind == IQLV_BOOL &&
               (op == IQL_OP_EQ || op == IQL_OP_NEQ))
        c = (a->u.b != 0) != (b->u.b != 0);
    else {
        set_bool(o, false);
        return 0;
    }
    bool r = false;
    switch (op) {
    case IQL_OP_EQ: r = c == 0; break;
    case IQL_OP_NEQ: r = c != 0; break;
    case IQL_OP_LT: r = c < 0; break;
    case IQL_OP_LTE: r = c <= 0; break;
    case IQL_OP_GT: r = c > 0; break;
    case IQL_OP_GTE: r = c >= 0; break;
    default: break;
    }
    set_bool(o, r);
    return 0;
}

int xval_binop(struct xeval *ev, enum iql_op op, const struct iql_val *a, const struct iql_val *b,
               struct iql_val *o)
{
    switch (op) {
    case IQL_OP_EQ:
    case IQL_OP_NEQ:
    case IQL_OP_LT:
    case IQL_OP_LTE:
    case IQL_OP_GT:
    case IQL_OP_GTE: return compare(op, a, b, o);
    case IQL_OP_AND: set_bool(o, xval_truthy(a) && xval_truthy(b)); return 0;
    case IQL_OP_OR: set_bool(o, xval_truthy(a) || xval_truthy(b)); return 0;
    default: break;
    }
    o->kind = IQLV_NULL;
    if (a->kind == IQLV_NULL || b->kind == IQLV_NULL) return 0;
    if (a->kind == IQLV_BOOL && b->kind == IQLV_BOOL) {
        bool x = a->u.b, y = b->u.b;
        if (op == IQL_OP_BITAND)
            set_bool(o, x && y);
        else if (op == IQL_OP_BITOR)
            set_bool(o, x || y);
        else if (op == IQL_OP_BITXOR)
            set_bool(o, x != y);
        return 0;
    }
    if ((is_int(a) || a->kind == IQLV_UINT) && (is_int(b) || b->kind == IQLV_UINT) &&
        op != IQL_OP_DIV) {
        bool uns = a->kind == IQLV_UINT || b->kind == IQLV_UINT;
        uint64_t x = (uint64_t)a->u.i, y = (uint64_t)b->u.i, r = 0;
        switch (op) {
        case IQL_OP_ADD: r = x + y; break;
        case IQL_OP_SUB: r = x - y; break;
        case IQL_OP_MUL: r = x * y; break;
        case IQL_OP_MOD:
            if (y == 0)
                r = 0;
            else if (uns)
                r = x % y;
            else if ((int64_t)y == -1)
                r = 0;
            else
                r = (uint64_t)((int64_t)x % (int64_t)y);
            break;
        case IQL_OP_BITAND: r = x & y; break;
        case IQL_OP_BITOR: r = x | y; break;
        case IQL_OP_BITXOR: r = x ^ y; break;
        default: return 0;
        }
        o->kind = uns ? IQLV_UINT : IQLV_INT;
        o->u.u = r;
        return 0;
    }
    double x, y;
    if (!xval_num(a, &x) || !xval_num(b, &y)) return 0;
    double r;
    switch (op) {
    case IQL_OP_ADD: r = x + y; break;
    case IQL_OP_SUB: r = x - y; break;
    case IQL_OP_MUL: r = x * y; break;
    case IQL_OP_DIV: r = y == 0 ? 0 : x / y; break;
    case IQL_OP_MOD: r = y == 0 ? 0 : fmod(x, y); break;
    default: return xerr_set(ev->err, "invalid operator %s on float values", iql_op_str(op));
    }
    o->kind = IQLV_FLOAT;
    o->u.f = r;
    return 0;
}

int xre_match(struct xeval *ev, const char *pattern, const char *s)
{
    struct xre_cache *c;
    for (c = ev->re; c; c = c->next)
        if (strcmp(c->pattern, pattern) == 0) break;
    if (!c) {
        c = sl_calloc(1, sizeof(*c));
        if (!c) return SL_ENOMEM;
        c->pattern = sl_strdup(pattern);
        int icase;
        char *tr = sl_re2_to_ere(pattern, &icase);
        if (!c->pattern || !tr) {
            sl_free(tr);
            sl_free(c->pattern);
            sl_free(c);
            return SL_ENOMEM;
        }
        c->ok = regcomp(&c->re, tr, REG_EXTENDED | REG_NOSUB | (icase ? REG_ICASE : 0)) == 0;
        sl_free(tr);
        c->next = ev->re;
        ev->re = c;
    }
    if (!c->ok) return xerr_set(ev->err, "invalid regular expression /%s/", pattern);
    return regexec(&c->re, s, 0, NULL, 0) == 0;
}

void xre_cache_free(struct xre_cache *c)
{
    while (c) {
        struct xre_cache *n = c->next;
        if (c->ok) regfree(&c->re);
        sl_free(c->pattern);
        sl_free(c);
        c = n;
    }
}

static int eval(struct xeval *ev, const struct iql_expr *e, const struct xrow *r, struct iql_val *o,
                int depth)
{
    if (depth > IQL_MAX_DEPTH * 10) return xerr_set(ev->err, "expression too deeply nested");
    o->kind = IQLV_NULL;
    switch (e->kind) {
    case IQL_EXPR_VARREF: {
        const char *nm = e->u.ref.name;
        if (!r) return 0;
        if (strcmp(nm, "time") == 0) {
            o->kind = IQLV_TIME;
            o->u.i = r->s->t[r->i];
            return 0;
        }
        if (e->u.ref.type != IQL_TYPE_TAG) {
            int fi = xt_field_index(r->tb, nm);
            if (fi >= 0) {
                *o = r->s->v[r->i * r->tb->nf + (size_t)fi];
                return 0;
            }
        }
        if (e->u.ref.type != IQL_TYPE_FIELD) {
            int ti = xt_tag_index(r->tb, nm);
            const char *v = ti >= 0 ? r->s->tagv[ti] : NULL;
            /* a missing tag compares as the empty string */
            if (ti >= 0 || ev->where) {
                o->kind = IQLV_STR;
                o->u.s = v ? v : "";
            }
        }
        return 0;
    }
    case IQL_EXPR_INTEGER:
        o->kind = IQLV_INT;
        o->u.i = e->u.i;
        return 0;
    case IQL_EXPR_DURATION:
        o->kind = IQLV_INT;
        o->u.i = e->u.i;
        return 0;
    case IQL_EXPR_UNSIGNED:
        o->kind = IQLV_UINT;
        o->u.u = e->u.u;
        return 0;
    case IQL_EXPR_NUMBER:
        o->kind = IQLV_FLOAT;
        o->u.f = e->u.f;
        return 0;
    case IQL_EXPR_STRING:
        o->kind = IQLV_STR;
        o->u.s = e->u.s;
        return 0;
    case IQL_EXPR_BOOLEAN:
        o->kind = IQLV_BOOL;
        o->u.b = e->u.b;
        return 0;
    case IQL_EXPR_REGEX:
        o->kind = IQLV_STR;
        o->u.s = e->u.s;
        return 0;
    case IQL_EXPR_PARAM: return xerr_set(ev->err, "missing parameter: %s", e->u.s);
    case IQL_EXPR_WILDCARD: return xerr_set(ev->err, "unexpected wildcard in expression");
    case IQL_EXPR_CALL:
        if (strcmp(e->u.call.name, "now") == 0 && e->u.call.nargs == 0) {
            o->kind = IQLV_TIME;
            o->u.i = ev->now;
            return 0;
        }
        if (xfunc_is_aggregate(e->u.call.name) || xfunc_is_transform(e->u.call.name))
            return xerr_set(ev->err, "invalid function call in condition: %s()", e->u.call.name);
        return xerr_set(ev->err, "undefined function %s()", e->u.call.name);
    case IQL_EXPR_NEG: {
        struct iql_val v;
        int rc = eval(ev, e->u.neg, r, &v, depth + 1);
        if (rc < 0) return rc;
        if (v.kind == IQLV_FLOAT) {
            o->kind = IQLV_FLOAT;
            o->u.f = -v.u.f;
        } else if (v.kind == IQLV_INT) {
            o->kind = IQLV_INT;
            o->u.i = (int64_t)(0 - (uint64_t)v.u.i);
        }
        return 0;
    }
    case IQL_EXPR_BINARY: {
        enum iql_op op = e->u.bin.op;
        struct iql_val a, b;
        int rc;
        if (op == IQL_OP_EQREGEX || op == IQL_OP_NEQREGEX) {
            const struct iql_expr *re = e->u.bin.rhs, *lhs = e->u.bin.lhs;
            if (re->kind != IQL_EXPR_REGEX) {
                re = e->u.bin.lhs;
                lhs = e->u.bin.rhs;
            }
            if (re->kind != IQL_EXPR_REGEX) return xerr_set(ev->err, "expected regular expression");
            rc = eval(ev, lhs, r, &a, depth + 1);
            if (rc < 0) return rc;
            if (a.kind != IQLV_STR) {
                set_bool(o, false);
                return 0;
            }
            rc = xre_match(ev, re->u.s, a.u.s);
            if (rc < 0) return rc;
            set_bool(o, op == IQL_OP_EQREGEX ? rc == 1 : rc == 0);
            return 0;
        }
        rc = eval(ev, e->u.bin.lhs, r, &a, depth + 1);
        if (rc < 0) return rc;
        if (op == IQL_OP_AND && !xval_truthy(&a)) {
            set_bool(o, false);
            return 0;
        }
        if (op == IQL_OP_OR && xval_truthy(&a)) {
            set_bool(o, true);
            return 0;
        }
        rc = eval(ev, e->u.bin.rhs, r, &b, depth + 1);
        if (rc < 0) return rc;
        return xval_binop(ev, op, &a, &b, o);
    }
    }
    return 0;
}

int xeval_row(struct xeval *ev, const struct iql_expr *e, const struct xrow *r, struct iql_val *out)
{
    return eval(ev, e, r, out, 0);
}

static bool is_tag_ref(const struct iql_expr *e, const struct xtable *tb, int *ti)
{
    if (e->kind != IQL_EXPR_VARREF || e->u.ref.type == IQL_TYPE_FIELD) return false;
    if (e->u.ref.type != IQL_TYPE_TAG && xt_field_index(tb, e->u.ref.name) >= 0) return false;
    *ti = xt_tag_index(tb, e->u.ref.name);
    return *ti >= 0;
}

int xeval_tags(struct xeval *ev, const struct iql_expr *e, const struct xtable *tb,
               const char *const *tagv, int depth)
{
    if (!e) return 1;
    if (depth > 2000) return 2;
    if (e->kind == IQL_EXPR_BOOLEAN) return e->u.b ? 1 : 0;
    if (e->kind != IQL_EXPR_BINARY) return 2;
    enum iql_op op = e->u.bin.op;
    if (op == IQL_OP_AND || op == IQL_OP_OR) {
        int a = xeval_tags(ev, e->u.bin.lhs, tb, tagv, depth + 1);
        if (a < 0) return a;
        if (op == IQL_OP_AND && a == 0) return 0;
        if (op == IQL_OP_OR && a == 1) return 1;
        int b = xeval_tags(ev, e->u.bin.rhs, tb, tagv, depth + 1);
        if (b < 0) return b;
        if (op == IQL_OP_AND) return b == 0 ? 0 : (a == 1 && b == 1) ? 1 : 2;
        return b == 1 ? 1 : (a == 0 && b == 0) ? 0 : 2;
    }
    const struct iql_expr *l = e->u.bin.lhs, *r = e->u.bin.rhs;
    int ti;
    if (op == IQL_OP_EQREGEX || op == IQL_OP_NEQREGEX) {
        if (!is_tag_ref(l, tb, &ti) || r->kind != IQL_EXPR_REGEX) return 2;
        int m = xre_match(ev, r->u.s, tagv[ti] ? tagv[ti] : "");
        if (m < 0) return m;
        return op == IQL_OP_EQREGEX ? m : !m;
    }
    if (op != IQL_OP_EQ && op != IQL_OP_NEQ) return 2;
    if (!is_tag_ref(l, tb, &ti)) {
        const struct iql_expr *t = l;
        l = r;
        r = t;
        if (!is_tag_ref(l, tb, &ti)) return 2;
    }
    if (r->kind != IQL_EXPR_STRING) return 2;
    bool eq = strcmp(tagv[ti] ? tagv[ti] : "", r->u.s) == 0;
    return op == IQL_OP_EQ ? eq : !eq;
}
