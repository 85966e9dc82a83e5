/*
 * exec.c — entry point of the InfluxQL executor: substitutes bound
 * parameters ($name) into the statement, then hands SELECT to
 * exec_select.c and everything else to exec_meta.c.
 *
 * Parameters take the type of their JSON value: strings become string
 * literals (or durations / times where InfluxQL expects them, as 1.x does
 * when a string parses as one), integers, numbers and booleans their
 * literals.
 */
#include <string.h>

#include "common/err.h"
#include "common/timeutil.h"
#include "query/influxql/exec_int.h"

static int subst(struct iql_exec_ctx *x, struct iql_expr *e, struct xerr *err, int depth);

static int subst_select(struct iql_exec_ctx *x, struct iql_select *s, struct xerr *err, int depth)
{
    if (depth > IQL_MAX_DEPTH) return xerr_set(err, "query too deeply nested");
    int rc;
    for (size_t i = 0; i < s->nfields; i++)
        if ((rc = subst(x, s->fields[i].expr, err, 0)) < 0) return rc;
    if (s->cond && (rc = subst(x, s->cond, err, 0)) < 0) return rc;
    for (size_t i = 0; i < s->ndims; i++)
        if ((rc = subst(x, s->dims[i], err, 0)) < 0) return rc;
    for (size_t i = 0; i < s->nsources; i++)
        if (s->sources[i].subquery &&
            (rc = subst_select(x, s->sources[i].subquery, err, depth + 1)) < 0)
            return rc;
    return 0;
}

static int subst(struct iql_exec_ctx *x, struct iql_expr *e, struct xerr *err, int depth)
{
    if (!e || depth > 2000) return 0;
    switch (e->kind) {
    case IQL_EXPR_PARAM: {
        const struct iql_param *p = NULL;
        for (size_t i = 0; i < x->nparams; i++)
            if (!strcmp(x->params[i].name, e->u.s)) p = &x->params[i];
        if (!p) return xerr_set(err, "missing parameter: %s", e->u.s);
        switch (p->val.kind) {
        case IQLV_STR:
            e->kind = IQL_EXPR_STRING;
            e->u.s = p->val.u.s;
            break;
        case IQLV_INT:
            e->kind = IQL_EXPR_INTEGER;
            e->u.i = p->val.u.i;
            break;
        case IQLV_UINT:
            e->kind = IQL_EXPR_UNSIGNED;
            e->u.u = p->val.u.u;
            break;
        case IQLV_FLOAT:
            e->kind = IQL_EXPR_NUMBER;
            e->u.f = p->val.u.f;
            break;
        case IQLV_BOOL:
            e->kind = IQL_EXPR_BOOLEAN;
            e->u.b = p->val.u.b;
            break;
        default: return xerr_set(err, "unsupported value for parameter %s", p->name);
        }
        return 0;
    }
    case IQL_EXPR_CALL:
        for (size_t i = 0; i < e->u.call.nargs; i++) {
            int rc = subst(x, e->u.call.args[i], err, depth + 1);
            if (rc < 0) return rc;
        }
        return 0;
    case IQL_EXPR_BINARY: {
        int rc = subst(x, e->u.bin.lhs, err, depth + 1);
        if (rc < 0) return rc;
        return subst(x, e->u.bin.rhs, err, depth + 1);
    }
    case IQL_EXPR_NEG: return subst(x, e->u.neg, err, depth + 1);
    default: return 0;
    }
}

int iql_exec_stmt(struct iql_exec_ctx *x, const struct iql_stmt *cst, struct iql_result *out)
{
    struct xerr err;
    err.msg[0] = '\0';
    memset(out, 0, sizeof(*out));
    /* the AST lives in the caller's arena and is executed once: substitute in place */
    struct iql_stmt *st = (struct iql_stmt *)cst;
    int rc = 0;
    if (st->select) rc = subst_select(x, st->select, &err, 0);
    if (rc == 0 && st->meta.cond) rc = subst(x, st->meta.cond, &err, 0);
    if (rc == 0) {
        if (st->kind == IQL_STMT_SELECT)
            rc = xselect_run(x, st->select, INT64_MIN, INT64_MAX, out, &err);
        else
            rc = xmeta_run(x, st, out, &err);
    }
    if (rc < 0) {
        if (rc == SL_ENOMEM && !err.msg[0]) xerr_set(&err, "query exceeded its memory limit");
        if (!err.msg[0]) xerr_set(&err, "%s", sl_strerror(rc));
        out->series = NULL;
        out->nseries = 0;
        out->error = sl_arena_strndup(x->arena, err.msg, strlen(err.msg));
        if (!out->error) out->error = "query exceeded its memory limit";
        return rc == SL_ENOMEM ? SL_ENOMEM : 0;
    }
    return 0;
}
