/*
 * cond.c — analysis of WHERE conditions for the executor: the time range a
 * condition allows, the condition with its time bounds removed, and the
 * tag predicates that can be pushed down to a series index.
 *
 * The time range is conservative: it may be wider than what the condition
 * matches (OR takes the hull, unknown terms leave it open) but never
 * narrower, so rows outside it can be skipped safely.
 */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "common/err.h"
#include "common/timeutil.h"
#include "query/influxql/iql_int.h"

static bool is_time_ref(const struct iql_expr *e)
{
    return e->kind == IQL_EXPR_VARREF && strcasecmp(e->u.ref.name, "time") == 0;
}

static bool is_cmp(enum iql_op op)
{
    return op == IQL_OP_EQ || op == IQL_OP_NEQ || op == IQL_OP_LT || op == IQL_OP_LTE ||
           op == IQL_OP_GT || op == IQL_OP_GTE || op == IQL_OP_EQREGEX || op == IQL_OP_NEQREGEX;
}

bool iql_expr_is_time_cmp(const struct iql_expr *e)
{
    return e && e->kind == IQL_EXPR_BINARY && is_cmp(e->u.bin.op) &&
           (is_time_ref(e->u.bin.lhs) || is_time_ref(e->u.bin.rhs));
}

static int64_t sat_add(int64_t a, int64_t b)
{
    int64_t r;
    if (__builtin_add_overflow(a, b, &r)) return b > 0 ? INT64_MAX : INT64_MIN;
    return r;
}

static int64_t sat_sub(int64_t a, int64_t b)
{
    int64_t r;
    if (__builtin_sub_overflow(a, b, &r)) return b < 0 ? INT64_MAX : INT64_MIN;
    return r;
}

/*
 * Evaluates a time constant: 1 = ok (*v set), 0 = not a constant,
 * SL_EINVAL = a constant that is not a valid time.
 */
static int time_value(const struct iql_expr *e, int64_t now, int64_t *v, int depth)
{
    if (depth > 64) return 0;
    switch (e->kind) {
    case IQL_EXPR_CALL:
        if (strcmp(e->u.call.name, "now") == 0 && e->u.call.nargs == 0) {
            *v = now;
            return 1;
        }
        return 0;
    case IQL_EXPR_STRING:
        return sl_time_parse_rfc3339(e->u.s, strlen(e->u.s), v) == 0 ? 1 : SL_EINVAL;
    case IQL_EXPR_INTEGER:
    case IQL_EXPR_DURATION: *v = e->u.i; return 1;
    case IQL_EXPR_NUMBER:
        if (!(e->u.f > -9.2e18 && e->u.f < 9.2e18)) return SL_EINVAL;
        *v = (int64_t)e->u.f;
        return 1;
    case IQL_EXPR_BINARY: {
        if (e->u.bin.op != IQL_OP_ADD && e->u.bin.op != IQL_OP_SUB) return 0;
        int64_t a, b;
        int r = time_value(e->u.bin.lhs, now, &a, depth + 1);
        if (r != 1) return r;
        r = time_value(e->u.bin.rhs, now, &b, depth + 1);
        if (r != 1) return r;
        *v = e->u.bin.op == IQL_OP_ADD ? sat_add(a, b) : sat_sub(a, b);
        return 1;
    }
    default: return 0;
    }
}

static enum iql_op flip(enum iql_op op)
{
    switch (op) {
    case IQL_OP_LT: return IQL_OP_GT;
    case IQL_OP_LTE: return IQL_OP_GTE;
    case IQL_OP_GT: return IQL_OP_LT;
    case IQL_OP_GTE: return IQL_OP_LTE;
    default: return op;
    }
}

static int range(const struct iql_expr *e, int64_t now, int64_t *lo, int64_t *hi, char *msg,
                 size_t msgcap, int depth)
{
    *lo = INT64_MIN;
    *hi = INT64_MAX;
    if (!e || e->kind != IQL_EXPR_BINARY || depth > 2000) return 0;
    enum iql_op op = e->u.bin.op;
    if (op == IQL_OP_AND || op == IQL_OP_OR) {
        int64_t l1, h1, l2, h2;
        int rc = range(e->u.bin.lhs, now, &l1, &h1, msg, msgcap, depth + 1);
        if (rc == 0) rc = range(e->u.bin.rhs, now, &l2, &h2, msg, msgcap, depth + 1);
        if (rc) return rc;
        if (op == IQL_OP_AND) {
            *lo = l1 > l2 ? l1 : l2;
            *hi = h1 < h2 ? h1 : h2;
        } else {
            /* An empty side contributes nothing to the union. */
            if (l1 > h1) {
                *lo = l2, *hi = h2;
            } else if (l2 > h2) {
                *lo = l1, *hi = h1;
            } else {
                *lo = l1 < l2 ? l1 : l2;
                *hi = h1 > h2 ? h1 : h2;
            }
        }
        return 0;
    }
    if (!iql_expr_is_time_cmp(e)) return 0;
    const struct iql_expr *other = e->u.bin.rhs;
    if (!is_time_ref(e->u.bin.lhs)) {
        other = e->u.bin.lhs;
        op = flip(op);
    } else if (is_time_ref(e->u.bin.rhs)) {
        return 0; /* time op time */
    }
    int64_t v;
    int r = time_value(other, now, &v, 0);
    if (r != 1) {
        if (msg && msgcap)
            snprintf(msg, msgcap,
                     r == 0 ? "invalid operation: time and %s are not compatible"
                            : "invalid time literal in comparison with time (%s)",
                     other->kind == IQL_EXPR_STRING ? other->u.s : "expression");
        return SL_EINVAL;
    }
    switch (op) {
    case IQL_OP_EQ: *lo = *hi = v; break;
    case IQL_OP_GT:
        *lo = v == INT64_MAX ? INT64_MAX : v + 1;
        if (v == INT64_MAX) *hi = INT64_MAX - 1; /* empty */
        break;
    case IQL_OP_GTE: *lo = v; break;
    case IQL_OP_LT:
        *hi = v == INT64_MIN ? INT64_MIN : v - 1;
        if (v == INT64_MIN) *lo = INT64_MIN + 1; /* empty */
        break;
    case IQL_OP_LTE: *hi = v; break;
    default: break; /* != and regex: no bound */
    }
    return 0;
}

int iql_cond_time_range(const struct iql_expr *cond, int64_t now_ns, int64_t *min, int64_t *max,
                        char *msg, size_t msgcap)
{
    if (msg && msgcap) msg[0] = '\0';
    return range(cond, now_ns, min, max, msg, msgcap, 0);
}

static struct iql_expr *strip(const struct iql_expr *e, struct sl_arena *a, int *rc, int depth)
{
    if (*rc) return NULL;
    if (iql_expr_is_time_cmp(e)) return NULL;
    if (e->kind != IQL_EXPR_BINARY || (e->u.bin.op != IQL_OP_AND && e->u.bin.op != IQL_OP_OR) ||
        depth > 2000)
        return (struct iql_expr *)e;
    struct iql_expr *l = strip(e->u.bin.lhs, a, rc, depth + 1);
    struct iql_expr *r = strip(e->u.bin.rhs, a, rc, depth + 1);
    if (*rc) return NULL;
    if (e->u.bin.op == IQL_OP_OR && (!l || !r)) return NULL; /* true OR x */
    if (!l) return r;
    if (!r) return l;
    if (l == e->u.bin.lhs && r == e->u.bin.rhs) return (struct iql_expr *)e;
    struct iql_expr *n = sl_arena_alloc(a, sizeof(*n));
    if (!n) {
        *rc = SL_ENOMEM;
        return NULL;
    }
    *n = *e;
    n->u.bin.lhs = l;
    n->u.bin.rhs = r;
    return n;
}

struct iql_expr *iql_cond_without_time(const struct iql_expr *cond, struct sl_arena *a, int *rc)
{
    int r = 0;
    struct iql_expr *out = cond ? strip(cond, a, &r, 0) : NULL;
    if (rc) *rc = r;
    return r ? NULL : out;
}

static int collect(const struct iql_expr *e, struct sl_arena *a, struct iql_tag_pred **arr,
                   size_t *n, size_t *cap, int depth)
{
    if (e->kind != IQL_EXPR_BINARY || depth > 2000) return 0;
    enum iql_op op = e->u.bin.op;
    if (op == IQL_OP_AND) {
        int rc = collect(e->u.bin.lhs, a, arr, n, cap, depth + 1);
        return rc ? rc : collect(e->u.bin.rhs, a, arr, n, cap, depth + 1);
    }
    const struct iql_expr *ref = e->u.bin.lhs, *val = e->u.bin.rhs;
    struct iql_tag_pred pr = {NULL, op, NULL, e};
    if (op == IQL_OP_EQ || op == IQL_OP_NEQ) {
        if (ref->kind != IQL_EXPR_VARREF) {
            ref = e->u.bin.rhs;
            val = e->u.bin.lhs;
        }
        if (ref->kind != IQL_EXPR_VARREF || val->kind != IQL_EXPR_STRING) return 0;
    } else if (op == IQL_OP_EQREGEX || op == IQL_OP_NEQREGEX) {
        if (ref->kind != IQL_EXPR_VARREF || val->kind != IQL_EXPR_REGEX) return 0;
    } else {
        return 0;
    }
    if (ref->u.ref.type != IQL_TYPE_ANY && ref->u.ref.type != IQL_TYPE_TAG) return 0;
    if (is_time_ref(ref)) return 0;
    pr.key = ref->u.ref.name;
    pr.value = val->u.s;
    if (*n == *cap) {
        size_t nc = *cap ? *cap * 2 : 8;
        struct iql_tag_pred *na = sl_arena_alloc(a, nc * sizeof(*na));
        if (!na) return SL_ENOMEM;
        if (*n) memcpy(na, *arr, *n * sizeof(*na));
        *arr = na;
        *cap = nc;
    }
    (*arr)[(*n)++] = pr;
    return 0;
}

int iql_cond_tag_preds(const struct iql_expr *cond, struct sl_arena *a, struct iql_tag_pred **out,
                       size_t *n)
{
    size_t cap = 0;
    *out = NULL;
    *n = 0;
    if (!cond) return 0;
    return collect(cond, a, out, n, &cap, 0);
}
