/*
 * parse_select.c — the SELECT statement and the clauses other statements
 * share (FROM sources, measurement names, WHERE, GROUP BY).
 *
 *   SELECT field [AS alias] {, field [AS alias]}
 *   [INTO measurement] FROM source {, source}
 *   [WHERE expr] [GROUP BY dim {, dim}] [fill(...)]
 *   [ORDER BY time [ASC|DESC]] [LIMIT n] [OFFSET n] [SLIMIT n] [SOFFSET n]
 *   [tz('Area/City')]
 *
 *   measurement := [db '.' [rp] '.' | rp '.'] (ident | /regex/)
 *   source      := measurement | '(' select ')'
 *   dim         := * | /regex/ | ident[::tag] | time(duration [, offset])
 */
#include <string.h>
#include <strings.h>

#include "common/err.h"
#include "query/influxql/iql_int.h"

bool iql_p_measurement(struct iql_parser *p, struct iql_measurement *m, bool allow_regex)
{
    return iql_p_measurement_ex(p, m, allow_regex, false);
}

bool iql_p_measurement_ex(struct iql_parser *p, struct iql_measurement *m, bool allow_regex,
                          bool allow_backref)
{
    const char *segs[3] = {NULL, NULL, NULL};
    int nseg = 0;
    memset(m, 0, sizeof(*m));
    for (;;) {
        if (p->tok.kind == TK_IDENT) {
            segs[nseg++] = p->tok.text;
            iql_p_next(p);
        } else if (p->tok.kind == TK_DIV && allow_regex) {
            m->regex = iql_p_regex(p);
            if (!m->regex) return false;
            nseg++;
            break;
        } else if (p->tok.kind == TK_COLON && allow_backref) {
            iql_p_next(p);
            if (!iql_p_expect(p, TK_MEASUREMENT, "MEASUREMENT")) return false;
            m->backref = true;
            nseg++;
            break;
        } else if (p->tok.kind == TK_DOT && nseg > 0 && nseg < 2) {
            segs[nseg++] = NULL; /* empty segment: db..m */
        } else {
            iql_p_expected(p, "identifier");
            return false;
        }
        if (p->tok.kind != TK_DOT || nseg >= 3) break;
        iql_p_next(p);
    }
    /* The last segment is the name (or the regex/backref just taken). */
    if (!m->regex && !m->backref) {
        m->name = segs[nseg - 1];
        if (!m->name) {
            iql_p_expected(p, "identifier");
            return false;
        }
    }
    if (nseg == 2) {
        m->rp = segs[0];
    } else if (nseg == 3) {
        m->database = segs[0];
        m->rp = segs[1];
    }
    return true;
}

bool iql_p_sources(struct iql_parser *p, struct iql_source **out, size_t *n, bool allow_subquery)
{
    size_t cap = 0;
    *out = NULL;
    *n = 0;
    for (;;) {
        struct iql_source src;
        memset(&src, 0, sizeof(src));
        if (p->tok.kind == TK_LPAREN && allow_subquery) {
            size_t at = p->tok.start;
            iql_p_next(p);
            if (p->tok.kind != TK_SELECT) {
                iql_p_expected(p, "SELECT");
                return false;
            }
            if (p->depth >= IQL_MAX_DEPTH) {
                iql_p_fail_at(p, at, SL_EINVAL, "query nesting too deep");
                return false;
            }
            p->depth++;
            src.subquery = iql_p_select(p);
            p->depth--;
            if (!src.subquery) return false;
            if (!iql_p_expect(p, TK_RPAREN, ")")) return false;
        } else if (!iql_p_measurement(p, &src.m, true)) {
            return false;
        }
        if (!iql_p_push(p, (void **)out, n, &cap, sizeof(src), &src)) return false;
        if (!iql_p_accept(p, TK_COMMA)) return true;
    }
}

bool iql_p_where(struct iql_parser *p, struct iql_expr **cond)
{
    *cond = NULL;
    if (!iql_p_accept(p, TK_WHERE)) return true;
    *cond = iql_p_expr(p);
    return *cond != NULL;
}

static bool is_ident(const struct iql_token *t, const char *name)
{
    return t->kind == TK_IDENT && strcasecmp(t->text, name) == 0;
}

/* Checks one GROUP BY item; returns false with an error. */
static bool check_dim(struct iql_parser *p, struct iql_expr *d, struct iql_select *sel,
                      bool *have_time)
{
    switch (d->kind) {
    case IQL_EXPR_VARREF:
    case IQL_EXPR_WILDCARD:
    case IQL_EXPR_REGEX: return true;
    case IQL_EXPR_CALL: break;
    default:
        iql_p_fail_at(p, d->pos, SL_EINVAL, "only time() calls allowed in dimensions");
        return false;
    }
    if (strcmp(d->u.call.name, "time") != 0) {
        iql_p_fail_at(p, d->pos, SL_EINVAL, "only time() calls allowed in dimensions");
        return false;
    }
    if (*have_time) {
        iql_p_fail_at(p, d->pos, SL_EINVAL, "multiple time dimensions not allowed");
        return false;
    }
    *have_time = true;
    if (d->u.call.nargs < 1 || d->u.call.nargs > 2) {
        iql_p_fail_at(p, d->pos, SL_EINVAL, "time dimension expected 1 or 2 arguments");
        return false;
    }
    struct iql_expr *iv = d->u.call.args[0];
    if (iv->kind != IQL_EXPR_DURATION || iv->u.i <= 0) {
        iql_p_fail_at(p, iv->pos, SL_EINVAL,
                      "time dimension must have a positive duration argument");
        return false;
    }
    if (!sel) return true;
    sel->group_interval = iv->u.i;
    if (d->u.call.nargs == 2) {
        struct iql_expr *off = d->u.call.args[1];
        if (off->kind == IQL_EXPR_DURATION) {
            sel->group_offset = off->u.i;
        } else if (off->kind == IQL_EXPR_CALL && strcmp(off->u.call.name, "now") == 0 &&
                   off->u.call.nargs == 0) {
            sel->group_offset_now = true;
        } else {
            iql_p_fail_at(p, off->pos, SL_EINVAL,
                          "time dimension offset must be duration or now()");
            return false;
        }
    }
    return true;
}

bool iql_p_dims_ex(struct iql_parser *p, struct iql_expr ***dims, size_t *n, struct iql_select *sel)
{
    *dims = NULL;
    *n = 0;
    if (!iql_p_accept(p, TK_GROUP)) return true;
    if (!iql_p_expect(p, TK_BY, "BY")) return false;
    size_t cap = 0;
    bool have_time = false;
    for (;;) {
        struct iql_expr *d = iql_p_expr(p);
        if (!d) return false;
        if (!check_dim(p, d, sel, &have_time)) return false;
        if (!iql_p_push(p, (void **)dims, n, &cap, sizeof(d), &d)) return false;
        if (!iql_p_accept(p, TK_COMMA)) return true;
    }
}

bool iql_p_dims(struct iql_parser *p, struct iql_expr ***dims, size_t *n)
{
    return iql_p_dims_ex(p, dims, n, NULL);
}

/* fill(null|none|previous|linear|<number>) */
static bool parse_fill(struct iql_parser *p, struct iql_select *s)
{
    if (!is_ident(&p->tok, "fill")) return true;
    iql_p_next(p);
    if (!iql_p_expect(p, TK_LPAREN, "(")) return false;
    struct iql_token t = p->tok;
    if (t.kind == TK_IDENT) {
        if (strcasecmp(t.text, "null") == 0)
            s->fill = IQL_FILL_NULL;
        else if (strcasecmp(t.text, "none") == 0)
            s->fill = IQL_FILL_NONE;
        else if (strcasecmp(t.text, "previous") == 0)
            s->fill = IQL_FILL_PREVIOUS;
        else if (strcasecmp(t.text, "linear") == 0)
            s->fill = IQL_FILL_LINEAR;
        else {
            iql_p_expected(p, "null, none, previous, linear, number");
            return false;
        }
        iql_p_next(p);
    } else {
        struct iql_expr *v = iql_p_expr(p);
        if (!v) return false;
        if (v->kind != IQL_EXPR_INTEGER && v->kind != IQL_EXPR_NUMBER) {
            iql_p_fail_at(p, v->pos, SL_EINVAL, "expected number argument in fill()");
            return false;
        }
        s->fill = IQL_FILL_VALUE;
        s->fill_value = v;
    }
    return iql_p_expect(p, TK_RPAREN, ")");
}

bool iql_p_order(struct iql_parser *p, bool *desc)
{
    *desc = false;
    if (!iql_p_accept(p, TK_ORDER)) return true;
    if (!iql_p_expect(p, TK_BY, "BY")) return false;
    if (p->tok.kind == TK_IDENT) {
        if (strcmp(p->tok.text, "time") != 0) {
            iql_p_fail_at(p, p->tok.start, SL_EINVAL, "only ORDER BY time supported at this time");
            return false;
        }
        iql_p_next(p);
        if (p->tok.kind == TK_ASC || p->tok.kind == TK_DESC) {
            *desc = p->tok.kind == TK_DESC;
            iql_p_next(p);
        }
    } else if (p->tok.kind == TK_ASC || p->tok.kind == TK_DESC) {
        *desc = p->tok.kind == TK_DESC;
        iql_p_next(p);
    } else {
        iql_p_expected(p, "identifier, ASC, DESC");
        return false;
    }
    if (p->tok.kind == TK_COMMA) {
        iql_p_fail_at(p, p->tok.start, SL_EINVAL, "only ORDER BY time supported at this time");
        return false;
    }
    return true;
}

bool iql_p_opt_int(struct iql_parser *p, enum iql_tok kw, int64_t *v)
{
    *v = 0;
    if (!iql_p_accept(p, kw)) return true;
    if (p->tok.kind != TK_INTEGER) {
        iql_p_expected(p, "integer");
        return false;
    }
    if (p->tok.u > (uint64_t)INT64_MAX) {
        iql_p_fail_at(p, p->tok.start, SL_EINVAL, "unable to parse integer");
        return false;
    }
    *v = (int64_t)p->tok.u;
    iql_p_next(p);
    return true;
}

struct iql_select *iql_p_select(struct iql_parser *p)
{
    struct iql_select *s = iql_p_alloc(p, sizeof(*s));
    if (!s) return NULL;
    if (!iql_p_expect(p, TK_SELECT, "SELECT")) return NULL;
    size_t cap = 0;
    for (;;) {
        struct iql_field f = {NULL, NULL};
        f.expr = iql_p_expr(p);
        if (!f.expr) return NULL;
        if (iql_p_accept(p, TK_AS)) {
            f.alias = iql_p_ident(p, "identifier");
            if (!f.alias) return NULL;
        }
        if (!iql_p_push(p, (void **)&s->fields, &s->nfields, &cap, sizeof(f), &f)) return NULL;
        if (!iql_p_accept(p, TK_COMMA)) break;
    }
    if (iql_p_accept(p, TK_INTO)) {
        s->into = iql_p_alloc(p, sizeof(*s->into));
        if (!s->into || !iql_p_measurement_ex(p, s->into, false, true)) return NULL;
    }
    if (!iql_p_expect(p, TK_FROM, "FROM")) return NULL;
    if (!iql_p_sources(p, &s->sources, &s->nsources, true)) return NULL;
    if (!iql_p_where(p, &s->cond)) return NULL;
    if (!iql_p_dims_ex(p, &s->dims, &s->ndims, s)) return NULL;
    if (!parse_fill(p, s)) return NULL;
    if (!iql_p_order(p, &s->order_desc)) return NULL;
    if (!iql_p_opt_int(p, TK_LIMIT, &s->limit) || !iql_p_opt_int(p, TK_OFFSET, &s->offset) ||
        !iql_p_opt_int(p, TK_SLIMIT, &s->slimit) || !iql_p_opt_int(p, TK_SOFFSET, &s->soffset))
        return NULL;
    if (is_ident(&p->tok, "tz")) {
        iql_p_next(p);
        if (!iql_p_expect(p, TK_LPAREN, "(")) return NULL;
        if (p->tok.kind != TK_STRING) return iql_p_expected(p, "string");
        s->tz = p->tok.text;
        iql_p_next(p);
        if (!iql_p_expect(p, TK_RPAREN, ")")) return NULL;
    }
    return s;
}
