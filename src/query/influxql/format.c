/*
 * format.c — prints an InfluxQL AST back as canonical text.
 *
 * Canonical means: keywords upper-case, function names lower-case, single
 * spaces, identifiers double-quoted only when needed (keywords, characters
 * outside [A-Za-z0-9_], a leading digit), parentheses only where precedence
 * needs them, durations in their largest exact unit, floats with the
 * shortest digits that read back exactly and always with a '.' (never an
 * exponent, which the lexer does not accept), default clauses omitted.
 * Parsing the output yields the same tree: the fuzz target checks that
 * format(parse(format(parse(q)))) == format(parse(q)).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/err.h"
#include "query/influxql/iql_int.h"

const char *iql_op_str(enum iql_op op)
{
    switch (op) {
    case IQL_OP_ADD: return "+";
    case IQL_OP_SUB: return "-";
    case IQL_OP_MUL: return "*";
    case IQL_OP_DIV: return "/";
    case IQL_OP_MOD: return "%";
    case IQL_OP_BITAND: return "&";
    case IQL_OP_BITOR: return "|";
    case IQL_OP_BITXOR: return "^";
    case IQL_OP_AND: return "AND";
    case IQL_OP_OR: return "OR";
    case IQL_OP_EQ: return "=";
    case IQL_OP_NEQ: return "!=";
    case IQL_OP_EQREGEX: return "=~";
    case IQL_OP_NEQREGEX: return "!~";
    case IQL_OP_LT: return "<";
    case IQL_OP_LTE: return "<=";
    case IQL_OP_GT: return ">";
    case IQL_OP_GTE: return ">=";
    case IQL_OP_IN: return "IN";
    default: return "?";
    }
}

static int op_prec(enum iql_op op)
{
    switch (op) {
    case IQL_OP_OR: return 1;
    case IQL_OP_AND: return 2;
    case IQL_OP_EQ:
    case IQL_OP_NEQ:
    case IQL_OP_EQREGEX:
    case IQL_OP_NEQREGEX:
    case IQL_OP_LT:
    case IQL_OP_LTE:
    case IQL_OP_GT:
    case IQL_OP_GTE:
    case IQL_OP_IN: return 3;
    case IQL_OP_ADD:
    case IQL_OP_SUB:
    case IQL_OP_BITOR:
    case IQL_OP_BITXOR: return 4;
    default: return 5;
    }
}

static bool plain_ident(const char *s)
{
    if (!((s[0] >= 'a' && s[0] <= 'z') || (s[0] >= 'A' && s[0] <= 'Z') || s[0] == '_'))
        return false;
    for (const char *c = s; *c; c++) {
        if (!((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') || (*c >= '0' && *c <= '9') ||
              *c == '_'))
            return false;
    }
    return true;
}

static int add_quoted(struct sl_buf *b, const char *s, char quote)
{
    int rc = sl_buf_addc(b, quote);
    for (const char *c = s; rc == 0 && *c; c++) {
        if (*c == '\\' || *c == quote) {
            rc = sl_buf_addc(b, '\\');
            if (rc == 0) rc = sl_buf_addc(b, *c);
        } else if (*c == '\n') {
            rc = sl_buf_add(b, "\\n", 2);
        } else {
            rc = sl_buf_addc(b, *c);
        }
    }
    if (rc == 0) rc = sl_buf_addc(b, quote);
    return rc;
}

int iql_format_ident(struct sl_buf *b, const char *name)
{
    if (plain_ident(name) && !iql_is_keyword(name)) return sl_buf_adds(b, name);
    return add_quoted(b, name, '"');
}

int iql_format_string(struct sl_buf *b, const char *s)
{
    return add_quoted(b, s, '\'');
}

static int add_regex(struct sl_buf *b, const char *re)
{
    int rc = sl_buf_addc(b, '/');
    for (const char *c = re; rc == 0 && *c; c++) {
        if (*c == '\\' && c[1]) {
            /* An escape pair is copied as is (it never hides a '/'). */
            rc = sl_buf_add(b, c, 2);
            c++;
        } else if (*c == '/') {
            rc = sl_buf_add(b, "\\/", 2);
        } else {
            rc = sl_buf_addc(b, *c);
        }
    }
    if (rc == 0) rc = sl_buf_addc(b, '/');
    return rc;
}

/* Shortest decimal that reads back as v, without exponent, always with '.'. */
static int add_float(struct sl_buf *b, double v)
{
    char e[40];
    for (int prec = 1; prec <= 17; prec++) {
        snprintf(e, sizeof(e), "%.*e", prec - 1, v);
        if (strtod(e, NULL) == v) break;
    }
    /* e = [-]d[.ddd]e(+|-)XX */
    char digits[24];
    size_t nd = 0;
    const char *c = e;
    bool neg = *c == '-';
    if (neg) c++;
    for (; *c && *c != 'e'; c++)
        if (*c >= '0' && *c <= '9' && nd < sizeof(digits)) digits[nd++] = *c;
    int exp10 = *c == 'e' ? atoi(c + 1) : 0;
    while (nd > 1 && digits[nd - 1] == '0')
        nd--;
    int rc = neg ? sl_buf_addc(b, '-') : 0;
    if (rc) return rc;
    if (exp10 < 0) {
        rc = sl_buf_add(b, "0.", 2);
        for (int k = 0; rc == 0 && k < -exp10 - 1; k++)
            rc = sl_buf_addc(b, '0');
        if (rc == 0) rc = sl_buf_add(b, digits, nd);
        return rc;
    }
    size_t ip = (size_t)exp10 + 1; /* digits before the point */
    for (size_t k = 0; rc == 0 && k < ip; k++)
        rc = sl_buf_addc(b, k < nd ? digits[k] : '0');
    if (rc == 0) rc = sl_buf_addc(b, '.');
    if (rc == 0) rc = nd > ip ? sl_buf_add(b, digits + ip, nd - ip) : sl_buf_addc(b, '0');
    return rc;
}

static const char *type_str(enum iql_type t)
{
    switch (t) {
    case IQL_TYPE_FLOAT: return "::float";
    case IQL_TYPE_INTEGER: return "::integer";
    case IQL_TYPE_UNSIGNED: return "::unsigned";
    case IQL_TYPE_STRING: return "::string";
    case IQL_TYPE_BOOLEAN: return "::boolean";
    case IQL_TYPE_FIELD: return "::field";
    case IQL_TYPE_TAG: return "::tag";
    default: return "";
    }
}

static int fmt_expr(const struct iql_expr *e, struct sl_buf *b);

static int fmt_operand(const struct iql_expr *e, struct sl_buf *b, bool paren)
{
    int rc = 0;
    if (paren) rc = sl_buf_addc(b, '(');
    if (rc == 0) rc = fmt_expr(e, b);
    if (rc == 0 && paren) rc = sl_buf_addc(b, ')');
    return rc;
}

static int fmt_expr(const struct iql_expr *e, struct sl_buf *b)
{
    int rc = 0;
    char tmp[48];
    switch (e->kind) {
    case IQL_EXPR_VARREF:
        rc = iql_format_ident(b, e->u.ref.name);
        if (rc == 0) rc = sl_buf_adds(b, type_str(e->u.ref.type));
        return rc;
    case IQL_EXPR_WILDCARD:
        rc = sl_buf_addc(b, '*');
        if (rc == 0) rc = sl_buf_adds(b, type_str(e->u.ref.type));
        return rc;
    case IQL_EXPR_CALL:
        if (strcmp(e->u.call.name, "distinct") == 0)
            rc = sl_buf_adds(b, "distinct");
        else
            rc = iql_format_ident(b, e->u.call.name);
        if (rc == 0) rc = sl_buf_addc(b, '(');
        for (size_t i = 0; rc == 0 && i < e->u.call.nargs; i++) {
            if (i) rc = sl_buf_add(b, ", ", 2);
            if (rc == 0) rc = fmt_expr(e->u.call.args[i], b);
        }
        if (rc == 0) rc = sl_buf_addc(b, ')');
        return rc;
    case IQL_EXPR_BINARY: {
        int p = op_prec(e->u.bin.op);
        const struct iql_expr *l = e->u.bin.lhs, *r = e->u.bin.rhs;
        bool pl = l->kind == IQL_EXPR_BINARY && op_prec(l->u.bin.op) < p;
        bool pr = r->kind == IQL_EXPR_BINARY && op_prec(r->u.bin.op) <= p;
        rc = fmt_operand(l, b, pl);
        if (rc == 0) rc = sl_buf_addf(b, " %s ", iql_op_str(e->u.bin.op));
        if (rc == 0) rc = fmt_operand(r, b, pr);
        return rc;
    }
    case IQL_EXPR_NEG: {
        enum iql_expr_kind k = e->u.neg->kind;
        bool bare = k == IQL_EXPR_VARREF || k == IQL_EXPR_CALL || k == IQL_EXPR_PARAM ||
                    k == IQL_EXPR_WILDCARD || k == IQL_EXPR_REGEX || k == IQL_EXPR_STRING ||
                    k == IQL_EXPR_BOOLEAN;
        rc = sl_buf_addc(b, '-');
        if (rc == 0) rc = fmt_operand(e->u.neg, b, !bare);
        return rc;
    }
    case IQL_EXPR_INTEGER: return sl_buf_add_i64(b, e->u.i);
    case IQL_EXPR_UNSIGNED: return sl_buf_add_u64(b, e->u.u);
    case IQL_EXPR_NUMBER: return add_float(b, e->u.f);
    case IQL_EXPR_STRING: return iql_format_string(b, e->u.s);
    case IQL_EXPR_BOOLEAN: return sl_buf_adds(b, e->u.b ? "true" : "false");
    case IQL_EXPR_DURATION:
        iql_duration_format(e->u.i, tmp, sizeof(tmp));
        return sl_buf_adds(b, tmp);
    case IQL_EXPR_REGEX: return add_regex(b, e->u.s);
    case IQL_EXPR_PARAM:
        rc = sl_buf_addc(b, '$');
        if (rc) return rc;
        if (e->u.s[0] && strspn(e->u.s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                        "0123456789_") == strlen(e->u.s))
            return sl_buf_adds(b, e->u.s);
        return add_quoted(b, e->u.s, '"');
    }
    return SL_EINVAL;
}

int iql_expr_format(const struct iql_expr *e, struct sl_buf *b)
{
    return fmt_expr(e, b);
}

static int fmt_measurement(const struct iql_measurement *m, struct sl_buf *b)
{
    int rc = 0;
    if (m->database) {
        rc = iql_format_ident(b, m->database);
        if (rc == 0) rc = sl_buf_addc(b, '.');
        if (rc == 0 && m->rp) rc = iql_format_ident(b, m->rp);
        if (rc == 0) rc = sl_buf_addc(b, '.');
    } else if (m->rp) {
        rc = iql_format_ident(b, m->rp);
        if (rc == 0) rc = sl_buf_addc(b, '.');
    }
    if (rc) return rc;
    if (m->regex) return add_regex(b, m->regex);
    if (m->backref) return sl_buf_adds(b, ":MEASUREMENT");
    return iql_format_ident(b, m->name ? m->name : "");
}

static int fmt_select(const struct iql_select *s, struct sl_buf *b);

static int fmt_sources(const struct iql_source *src, size_t n, struct sl_buf *b)
{
    int rc = sl_buf_adds(b, " FROM ");
    for (size_t i = 0; rc == 0 && i < n; i++) {
        if (i) rc = sl_buf_add(b, ", ", 2);
        if (rc) break;
        if (src[i].subquery) {
            rc = sl_buf_addc(b, '(');
            if (rc == 0) rc = fmt_select(src[i].subquery, b);
            if (rc == 0) rc = sl_buf_addc(b, ')');
        } else {
            rc = fmt_measurement(&src[i].m, b);
        }
    }
    return rc;
}

static int fmt_where(const struct iql_expr *cond, struct sl_buf *b)
{
    if (!cond) return 0;
    int rc = sl_buf_adds(b, " WHERE ");
    return rc ? rc : fmt_expr(cond, b);
}

static int fmt_dims(struct iql_expr *const *dims, size_t n, struct sl_buf *b)
{
    int rc = n ? sl_buf_adds(b, " GROUP BY ") : 0;
    for (size_t i = 0; rc == 0 && i < n; i++) {
        if (i) rc = sl_buf_add(b, ", ", 2);
        if (rc == 0) rc = fmt_expr(dims[i], b);
    }
    return rc;
}

static int fmt_opt_int(struct sl_buf *b, const char *kw, int64_t v)
{
    return v ? sl_buf_addf(b, " %s %lld", kw, (long long)v) : 0;
}

static int fmt_select(const struct iql_select *s, struct sl_buf *b)
{
    int rc = sl_buf_adds(b, "SELECT ");
    for (size_t i = 0; rc == 0 && i < s->nfields; i++) {
        if (i) rc = sl_buf_add(b, ", ", 2);
        if (rc == 0) rc = fmt_expr(s->fields[i].expr, b);
        if (rc == 0 && s->fields[i].alias) {
            rc = sl_buf_adds(b, " AS ");
            if (rc == 0) rc = iql_format_ident(b, s->fields[i].alias);
        }
    }
    if (rc == 0 && s->into) {
        rc = sl_buf_adds(b, " INTO ");
        if (rc == 0) rc = fmt_measurement(s->into, b);
    }
    if (rc == 0) rc = fmt_sources(s->sources, s->nsources, b);
    if (rc == 0) rc = fmt_where(s->cond, b);
    if (rc == 0) rc = fmt_dims(s->dims, s->ndims, b);
    if (rc == 0) {
        switch (s->fill) {
        case IQL_FILL_NULL: break;
        case IQL_FILL_NONE: rc = sl_buf_adds(b, " fill(none)"); break;
        case IQL_FILL_PREVIOUS: rc = sl_buf_adds(b, " fill(previous)"); break;
        case IQL_FILL_LINEAR: rc = sl_buf_adds(b, " fill(linear)"); break;
        case IQL_FILL_VALUE:
            rc = sl_buf_adds(b, " fill(");
            if (rc == 0) rc = fmt_expr(s->fill_value, b);
            if (rc == 0) rc = sl_buf_addc(b, ')');
            break;
        }
    }
    if (rc == 0 && s->order_desc) rc = sl_buf_adds(b, " ORDER BY time DESC");
    if (rc == 0) rc = fmt_opt_int(b, "LIMIT", s->limit);
    if (rc == 0) rc = fmt_opt_int(b, "OFFSET", s->offset);
    if (rc == 0) rc = fmt_opt_int(b, "SLIMIT", s->slimit);
    if (rc == 0) rc = fmt_opt_int(b, "SOFFSET", s->soffset);
    if (rc == 0 && s->tz) {
        rc = sl_buf_adds(b, " tz(");
        if (rc == 0) rc = iql_format_string(b, s->tz);
        if (rc == 0) rc = sl_buf_addc(b, ')');
    }
    return rc;
}

static int fmt_on(struct sl_buf *b, const char *db)
{
    if (!db) return 0;
    int rc = sl_buf_adds(b, " ON ");
    return rc ? rc : iql_format_ident(b, db);
}

static int fmt_with_key(const struct iql_meta *m, struct sl_buf *b)
{
    int rc = sl_buf_adds(b, " WITH KEY ");
    if (rc) return rc;
    switch (m->key_op) {
    case IQL_OP_EQREGEX:
    case IQL_OP_NEQREGEX:
        rc = sl_buf_addf(b, "%s ", iql_op_str(m->key_op));
        return rc ? rc : add_regex(b, m->key_regex ? m->key_regex : "");
    case IQL_OP_IN:
        rc = sl_buf_adds(b, "IN (");
        for (size_t i = 0; rc == 0 && i < m->nkeys; i++) {
            if (i) rc = sl_buf_add(b, ", ", 2);
            if (rc == 0) rc = iql_format_ident(b, m->keys[i]);
        }
        return rc ? rc : sl_buf_addc(b, ')');
    default:
        rc = sl_buf_addf(b, "%s ", iql_op_str(m->key_op));
        return rc ? rc : iql_format_ident(b, m->nkeys ? m->keys[0] : "");
    }
}

/* The clauses of SHOW/DELETE statements in grammar order. */
static int fmt_meta(const struct iql_stmt *s, struct sl_buf *b, bool key, bool order)
{
    const struct iql_meta *m = &s->meta;
    int rc = fmt_on(b, m->database);
    if (rc == 0 && m->nsources) rc = fmt_sources(m->sources, m->nsources, b);
    if (rc == 0 && m->with_op) {
        rc = sl_buf_addf(b, " WITH MEASUREMENT %s ", iql_op_str(m->with_op));
        if (rc == 0) rc = fmt_measurement(&m->with_m, b);
    }
    if (rc == 0 && key) rc = fmt_with_key(m, b);
    if (rc == 0) rc = fmt_where(m->cond, b);
    if (rc == 0) rc = fmt_dims(m->dims, m->ndims, b);
    if (rc == 0 && order && m->order_desc) rc = sl_buf_adds(b, " ORDER BY time DESC");
    if (rc == 0) rc = fmt_opt_int(b, "LIMIT", m->limit);
    if (rc == 0) rc = fmt_opt_int(b, "OFFSET", m->offset);
    return rc;
}

static int fmt_cardinality(const struct iql_stmt *s, struct sl_buf *b, const char *what, bool key)
{
    int rc = sl_buf_addf(b, "SHOW %s %sCARDINALITY", what, s->meta.exact ? "EXACT " : "");
    return rc ? rc : fmt_meta(s, b, key, false);
}

static int fmt_rp(const struct iql_rp_def *rp, struct sl_buf *b, bool for_db)
{
    char tmp[48];
    int rc = 0;
    if (rp->has_duration) {
        if (rp->duration == 0)
            rc = sl_buf_adds(b, " DURATION INF");
        else {
            iql_duration_format(rp->duration, tmp, sizeof(tmp));
            rc = sl_buf_addf(b, " DURATION %s", tmp);
        }
    }
    if (rc == 0 && rp->has_replication)
        rc = sl_buf_addf(b, " REPLICATION %lld", (long long)rp->replication);
    if (rc == 0 && rp->has_shard_duration) {
        if (rp->shard_duration == 0)
            rc = sl_buf_adds(b, " SHARD DURATION INF");
        else {
            iql_duration_format(rp->shard_duration, tmp, sizeof(tmp));
            rc = sl_buf_addf(b, " SHARD DURATION %s", tmp);
        }
    }
    if (rc == 0 && for_db && rp->has_name) {
        rc = sl_buf_adds(b, " NAME ");
        if (rc == 0) rc = iql_format_ident(b, rp->name);
    }
    if (rc == 0 && !for_db && rp->is_default) rc = sl_buf_adds(b, " DEFAULT");
    return rc;
}

/* "<kw> name" with name an identifier. */
static int fmt_kw_ident(struct sl_buf *b, const char *kw, const char *name)
{
    int rc = sl_buf_adds(b, kw);
    return rc ? rc : iql_format_ident(b, name ? name : "");
}

static const char *priv_str(enum iql_privilege p)
{
    switch (p) {
    case IQL_PRIV_READ: return "READ";
    case IQL_PRIV_WRITE: return "WRITE";
    default: return "ALL PRIVILEGES";
    }
}

int iql_stmt_format(const struct iql_stmt *s, struct sl_buf *b)
{
    const struct iql_admin *ad = &s->admin;
    int rc;
    switch (s->kind) {
    case IQL_STMT_SELECT: return fmt_select(s->select, b);
    case IQL_STMT_EXPLAIN:
        rc = sl_buf_adds(b, s->analyze ? "EXPLAIN ANALYZE " : "EXPLAIN ");
        return rc ? rc : fmt_select(s->select, b);
    case IQL_STMT_SHOW_DATABASES: return sl_buf_adds(b, "SHOW DATABASES");
    case IQL_STMT_SHOW_USERS: return sl_buf_adds(b, "SHOW USERS");
    case IQL_STMT_SHOW_QUERIES: return sl_buf_adds(b, "SHOW QUERIES");
    case IQL_STMT_SHOW_DIAGNOSTICS: return sl_buf_adds(b, "SHOW DIAGNOSTICS");
    case IQL_STMT_SHOW_STATS: return sl_buf_adds(b, "SHOW STATS");
    case IQL_STMT_SHOW_SHARDS: return sl_buf_adds(b, "SHOW SHARDS");
    case IQL_STMT_SHOW_CONTINUOUS_QUERIES: return sl_buf_adds(b, "SHOW CONTINUOUS QUERIES");
    case IQL_STMT_SHOW_GRANTS: return fmt_kw_ident(b, "SHOW GRANTS FOR ", ad->name);
    case IQL_STMT_SHOW_RETENTION_POLICIES:
        rc = sl_buf_adds(b, "SHOW RETENTION POLICIES");
        return rc ? rc : fmt_on(b, s->meta.database);
    case IQL_STMT_SHOW_MEASUREMENTS:
        rc = sl_buf_adds(b, "SHOW MEASUREMENTS");
        return rc ? rc : fmt_meta(s, b, false, true);
    case IQL_STMT_SHOW_TAG_KEYS:
        rc = sl_buf_adds(b, "SHOW TAG KEYS");
        return rc ? rc : fmt_meta(s, b, false, true);
    case IQL_STMT_SHOW_TAG_VALUES:
        rc = sl_buf_adds(b, "SHOW TAG VALUES");
        return rc ? rc : fmt_meta(s, b, true, true);
    case IQL_STMT_SHOW_FIELD_KEYS:
        rc = sl_buf_adds(b, "SHOW FIELD KEYS");
        return rc ? rc : fmt_meta(s, b, false, true);
    case IQL_STMT_SHOW_SERIES:
        rc = sl_buf_adds(b, "SHOW SERIES");
        return rc ? rc : fmt_meta(s, b, false, true);
    case IQL_STMT_SHOW_MEASUREMENT_CARDINALITY: return fmt_cardinality(s, b, "MEASUREMENT", false);
    case IQL_STMT_SHOW_SERIES_CARDINALITY: return fmt_cardinality(s, b, "SERIES", false);
    case IQL_STMT_SHOW_TAG_KEY_CARDINALITY: return fmt_cardinality(s, b, "TAG KEY", false);
    case IQL_STMT_SHOW_TAG_VALUES_CARDINALITY: return fmt_cardinality(s, b, "TAG VALUES", true);
    case IQL_STMT_SHOW_FIELD_KEY_CARDINALITY: return fmt_cardinality(s, b, "FIELD KEY", false);
    case IQL_STMT_CREATE_DATABASE:
        rc = fmt_kw_ident(b, "CREATE DATABASE ", ad->name);
        if (rc == 0 && ad->with_rp) {
            rc = sl_buf_adds(b, " WITH");
            if (rc == 0) rc = fmt_rp(&ad->rp, b, true);
        }
        return rc;
    case IQL_STMT_DROP_DATABASE: return fmt_kw_ident(b, "DROP DATABASE ", ad->name);
    case IQL_STMT_DROP_MEASUREMENT: return fmt_kw_ident(b, "DROP MEASUREMENT ", ad->name);
    case IQL_STMT_DROP_SERIES:
        rc = sl_buf_adds(b, "DROP SERIES");
        return rc ? rc : fmt_meta(s, b, false, false);
    case IQL_STMT_DELETE:
        rc = sl_buf_adds(b, "DELETE");
        return rc ? rc : fmt_meta(s, b, false, false);
    case IQL_STMT_CREATE_RETENTION_POLICY:
    case IQL_STMT_ALTER_RETENTION_POLICY:
    case IQL_STMT_DROP_RETENTION_POLICY:
        rc = fmt_kw_ident(b,
                          s->kind == IQL_STMT_CREATE_RETENTION_POLICY  ? "CREATE RETENTION POLICY "
                          : s->kind == IQL_STMT_ALTER_RETENTION_POLICY ? "ALTER RETENTION POLICY "
                                                                       : "DROP RETENTION POLICY ",
                          ad->name);
        if (rc == 0) rc = fmt_on(b, ad->database);
        if (rc == 0 && s->kind != IQL_STMT_DROP_RETENTION_POLICY) rc = fmt_rp(&ad->rp, b, false);
        return rc;
    case IQL_STMT_CREATE_USER:
        rc = fmt_kw_ident(b, "CREATE USER ", ad->name);
        if (rc == 0) rc = sl_buf_adds(b, " WITH PASSWORD ");
        if (rc == 0) rc = iql_format_string(b, ad->password ? ad->password : "");
        if (rc == 0 && ad->admin) rc = sl_buf_adds(b, " WITH ALL PRIVILEGES");
        return rc;
    case IQL_STMT_DROP_USER: return fmt_kw_ident(b, "DROP USER ", ad->name);
    case IQL_STMT_SET_PASSWORD:
        rc = fmt_kw_ident(b, "SET PASSWORD FOR ", ad->name);
        if (rc == 0) rc = sl_buf_adds(b, " = ");
        return rc ? rc : iql_format_string(b, ad->password ? ad->password : "");
    case IQL_STMT_GRANT:
    case IQL_STMT_REVOKE:
        rc = sl_buf_addf(b, "%s %s", s->kind == IQL_STMT_GRANT ? "GRANT" : "REVOKE",
                         priv_str(ad->priv));
        if (rc == 0 && ad->database) rc = fmt_on(b, ad->database);
        if (rc == 0) rc = fmt_kw_ident(b, s->kind == IQL_STMT_GRANT ? " TO " : " FROM ", ad->name);
        return rc;
    case IQL_STMT_KILL_QUERY:
        return sl_buf_addf(b, "KILL QUERY %llu", (unsigned long long)ad->query_id);
    }
    return SL_EINVAL;
}

int iql_query_format(const struct iql_query *q, struct sl_buf *b)
{
    int rc = 0;
    for (size_t i = 0; rc == 0 && i < q->nstmts; i++) {
        if (i) rc = sl_buf_add(b, "; ", 2);
        if (rc == 0) rc = iql_stmt_format(q->stmts[i], b);
    }
    return rc;
}
