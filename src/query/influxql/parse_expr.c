/*
 * parse_expr.c — InfluxQL parser primitives, error reporting and expressions.
 *
 * Expressions use precedence climbing with InfluxDB's levels:
 *   1 OR   2 AND   3 = != =~ !~ < <= > >=   4 + - | ^   5 * / % &
 * all left-associative. Operands: literals, bound parameters, variable
 * references (with ::type casts and dotted segments), calls, wildcards,
 * regexes (a '/' where an operand is expected starts a regex), DISTINCT x,
 * unary minus/plus and parentheses.
 *
 * Both the parser's recursion (IQL_MAX_DEPTH) and the height of the trees it
 * builds (EXPR_MAX_HEIGHT) are bounded so that hostile input cannot exhaust
 * the stack here or in the recursive walkers (printer, executor).
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "common/err.h"
#include "query/influxql/iql_int.h"

#define EXPR_MAX_HEIGHT 1000

static void locate(const char *q, size_t off, int *line, int *col)
{
    int l = 1, c = 1;
    for (size_t i = 0; i < off; i++) {
        if (q[i] == '\n') {
            l++;
            c = 1;
        } else {
            c++;
        }
    }
    *line = l;
    *col = c;
}

void *iql_p_fail_at(struct iql_parser *p, size_t off, int rc, const char *fmt, ...)
{
    if (p->rc) return NULL; /* keep the first error */
    p->rc = rc;
    if (!p->err) return NULL;
    struct iql_error *e = p->err;
    e->offset = off;
    locate(p->lx.q, off, &e->line, &e->column);
    char what[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof(what), fmt, ap);
    va_end(ap);
    snprintf(e->msg, sizeof(e->msg), "error parsing query: %s at line %d, char %d", what, e->line,
             e->column);
    return NULL;
}

static void *oom(struct iql_parser *p)
{
    return iql_p_fail_at(p, p->tok.start, SL_ENOMEM, "out of memory");
}

void *iql_p_alloc(struct iql_parser *p, size_t n)
{
    void *m = sl_arena_alloc(p->lx.a, n);
    if (!m) return oom(p);
    memset(m, 0, n);
    return m;
}

bool iql_p_push(struct iql_parser *p, void **arr, size_t *n, size_t *cap, size_t elem,
                const void *item)
{
    if (*n == *cap) {
        size_t nc = *cap ? *cap * 2 : 4;
        if (nc > ((size_t)1 << 40) / elem) {
            oom(p);
            return false;
        }
        void *na = iql_p_alloc(p, nc * elem);
        if (!na) return false;
        if (*n) memcpy(na, *arr, *n * elem);
        *arr = na;
        *cap = nc;
    }
    memcpy((char *)*arr + *n * elem, item, elem);
    (*n)++;
    return true;
}

static void token_desc(struct iql_parser *p, char *out, size_t cap)
{
    const struct iql_token *t = &p->tok;
    switch (t->kind) {
    case TK_IDENT:
    case TK_STRING: snprintf(out, cap, "%.64s", t->text ? t->text : ""); break;
    case TK_PARAM: snprintf(out, cap, "$%.64s", t->text ? t->text : ""); break;
    case TK_NUMBER:
    case TK_INTEGER:
    case TK_DURATION:
    case TK_REGEX: {
        size_t len = t->end - t->start;
        if (len > 64) len = 64;
        snprintf(out, cap, "%.*s", (int)len, p->lx.q + t->start);
        break;
    }
    default: snprintf(out, cap, "%s", iql_tok_name(t->kind)); break;
    }
}

void *iql_p_expected(struct iql_parser *p, const char *what)
{
    if (p->tok.kind == TK_ILLEGAL) {
        size_t at = p->tok.err_at ? p->tok.err_at : p->tok.start;
        return iql_p_fail_at(p, at, p->tok.i == SL_ENOMEM ? SL_ENOMEM : SL_EINVAL, "%s", p->lexmsg);
    }
    char found[96];
    token_desc(p, found, sizeof(found));
    return iql_p_fail_at(p, p->tok.start, SL_EINVAL, "found %s, expected %s", found, what);
}

void iql_p_next(struct iql_parser *p)
{
    if (p->rc) {
        p->tok.kind = TK_EOF;
        return;
    }
    iql_lex_next(&p->lx, &p->tok, p->lexmsg, sizeof(p->lexmsg));
}

bool iql_p_accept(struct iql_parser *p, enum iql_tok t)
{
    if (p->tok.kind != t) return false;
    iql_p_next(p);
    return true;
}

bool iql_p_expect(struct iql_parser *p, enum iql_tok t, const char *what)
{
    if (iql_p_accept(p, t)) return true;
    iql_p_expected(p, what ? what : iql_tok_name(t));
    return false;
}

const char *iql_p_ident(struct iql_parser *p, const char *what)
{
    if (p->tok.kind != TK_IDENT) return iql_p_expected(p, what ? what : "identifier");
    const char *s = p->tok.text;
    iql_p_next(p);
    return s;
}

const char *iql_p_regex(struct iql_parser *p)
{
    if (p->tok.kind != TK_DIV) return NULL;
    /* The lexer stands just after the '/': rescan from there as a regex. */
    p->lx.pos = p->tok.end;
    iql_lex_regex(&p->lx, &p->tok, p->lexmsg, sizeof(p->lexmsg));
    if (p->tok.kind != TK_REGEX) return iql_p_expected(p, "regex");
    const char *re = p->tok.text;
    iql_p_next(p);
    return re;
}

bool iql_p_duration(struct iql_parser *p, int64_t *v)
{
    if (p->tok.kind == TK_INF) {
        *v = 0;
        iql_p_next(p);
        return true;
    }
    if (p->tok.kind != TK_DURATION) {
        iql_p_expected(p, "duration");
        return false;
    }
    *v = p->tok.i;
    iql_p_next(p);
    return true;
}

static struct iql_expr *new_expr(struct iql_parser *p, enum iql_expr_kind k, size_t pos)
{
    struct iql_expr *e = iql_p_alloc(p, sizeof(*e));
    if (!e) return NULL;
    e->kind = k;
    e->pos = pos;
    return e;
}

static int op_prec(enum iql_tok t, enum iql_op *op)
{
    switch (t) {
    case TK_OR: *op = IQL_OP_OR; return 1;
    case TK_AND: *op = IQL_OP_AND; return 2;
    case TK_EQ: *op = IQL_OP_EQ; return 3;
    case TK_NEQ: *op = IQL_OP_NEQ; return 3;
    case TK_EQREGEX: *op = IQL_OP_EQREGEX; return 3;
    case TK_NEQREGEX: *op = IQL_OP_NEQREGEX; return 3;
    case TK_LT: *op = IQL_OP_LT; return 3;
    case TK_LTE: *op = IQL_OP_LTE; return 3;
    case TK_GT: *op = IQL_OP_GT; return 3;
    case TK_GTE: *op = IQL_OP_GTE; return 3;
    case TK_ADD: *op = IQL_OP_ADD; return 4;
    case TK_SUB: *op = IQL_OP_SUB; return 4;
    case TK_BITOR: *op = IQL_OP_BITOR; return 4;
    case TK_BITXOR: *op = IQL_OP_BITXOR; return 4;
    case TK_MUL: *op = IQL_OP_MUL; return 5;
    case TK_DIV: *op = IQL_OP_DIV; return 5;
    case TK_MOD: *op = IQL_OP_MOD; return 5;
    case TK_BITAND: *op = IQL_OP_BITAND; return 5;
    default: return 0;
    }
}

static const char operand_what[] = "identifier, string, number, bool";

static struct iql_expr *parse_unary(struct iql_parser *p, unsigned *h);
static struct iql_expr *parse_binary(struct iql_parser *p, int min, unsigned *h);

static bool check_height(struct iql_parser *p, unsigned h, size_t pos)
{
    if (h <= EXPR_MAX_HEIGHT) return true;
    iql_p_fail_at(p, pos, SL_EINVAL, "expression too deeply nested");
    return false;
}

/* Parses `name(args)`; the current token is '('. */
static struct iql_expr *parse_call(struct iql_parser *p, const char *name, size_t pos, unsigned *h)
{
    struct iql_expr *e = new_expr(p, IQL_EXPR_CALL, pos);
    if (!e) return NULL;
    size_t nl = strlen(name);
    char *lname = iql_p_alloc(p, nl + 1);
    if (!lname) return NULL;
    for (size_t i = 0; i < nl; i++)
        lname[i] = (name[i] >= 'A' && name[i] <= 'Z') ? (char)(name[i] + 32) : name[i];
    e->u.call.name = lname;
    iql_p_next(p); /* ( */
    size_t cap = 0;
    unsigned hmax = 0;
    if (!iql_p_accept(p, TK_RPAREN)) {
        for (;;) {
            unsigned ah = 0;
            struct iql_expr *arg = parse_binary(p, 1, &ah);
            if (!arg) return NULL;
            if (ah > hmax) hmax = ah;
            if (!iql_p_push(p, (void **)&e->u.call.args, &e->u.call.nargs, &cap, sizeof(arg), &arg))
                return NULL;
            if (iql_p_accept(p, TK_COMMA)) continue;
            if (!iql_p_expect(p, TK_RPAREN, ", or )")) return NULL;
            break;
        }
    }
    *h = hmax + 1;
    if (!check_height(p, *h, pos)) return NULL;
    return e;
}

static bool parse_cast(struct iql_parser *p, enum iql_type *type)
{
    if (!iql_p_accept(p, TK_DCOLON)) return true;
    if (p->tok.kind == TK_FIELD)
        *type = IQL_TYPE_FIELD;
    else if (p->tok.kind == TK_TAG)
        *type = IQL_TYPE_TAG;
    else if (p->tok.kind == TK_IDENT && strcmp(p->tok.text, "float") == 0)
        *type = IQL_TYPE_FLOAT;
    else if (p->tok.kind == TK_IDENT && strcmp(p->tok.text, "integer") == 0)
        *type = IQL_TYPE_INTEGER;
    else if (p->tok.kind == TK_IDENT && strcmp(p->tok.text, "unsigned") == 0)
        *type = IQL_TYPE_UNSIGNED;
    else if (p->tok.kind == TK_IDENT && strcmp(p->tok.text, "string") == 0)
        *type = IQL_TYPE_STRING;
    else if (p->tok.kind == TK_IDENT && strcmp(p->tok.text, "boolean") == 0)
        *type = IQL_TYPE_BOOLEAN;
    else {
        iql_p_expected(p, "float, integer, unsigned, string, boolean, field, tag");
        return false;
    }
    iql_p_next(p);
    return true;
}

/* ident ( '.' ident )* joined with '.', then an optional ::type. */
static struct iql_expr *parse_varref(struct iql_parser *p, const char *first, size_t pos)
{
    struct iql_expr *e = new_expr(p, IQL_EXPR_VARREF, pos);
    if (!e) return NULL;
    const char *name = first;
    while (p->tok.kind == TK_DOT) {
        iql_p_next(p);
        const char *seg = iql_p_ident(p, "identifier");
        if (!seg) return NULL;
        size_t a = strlen(name), b = strlen(seg);
        char *j = iql_p_alloc(p, a + b + 2);
        if (!j) return NULL;
        memcpy(j, name, a);
        j[a] = '.';
        memcpy(j + a + 1, seg, b + 1);
        name = j;
    }
    e->u.ref.name = name;
    if (!parse_cast(p, &e->u.ref.type)) return NULL;
    return e;
}

static struct iql_expr *fold_neg(struct iql_parser *p, struct iql_expr *x, size_t pos)
{
    switch (x->kind) {
    case IQL_EXPR_INTEGER:
    case IQL_EXPR_DURATION:
        if (x->u.i == INT64_MIN) {
            x->kind = IQL_EXPR_UNSIGNED;
            x->u.u = (uint64_t)INT64_MAX + 1;
        } else {
            x->u.i = -x->u.i;
        }
        x->pos = pos;
        return x;
    case IQL_EXPR_UNSIGNED:
        if (x->u.u == (uint64_t)INT64_MAX + 1) {
            x->kind = IQL_EXPR_INTEGER;
            x->u.i = INT64_MIN;
            x->pos = pos;
            return x;
        }
        return iql_p_fail_at(p, pos, SL_EINVAL, "constant -%llu overflows int64",
                             (unsigned long long)x->u.u);
    case IQL_EXPR_NUMBER:
        x->u.f = -x->u.f;
        x->pos = pos;
        return x;
    default: {
        struct iql_expr *e = new_expr(p, IQL_EXPR_NEG, pos);
        if (!e) return NULL;
        e->u.neg = x;
        return e;
    }
    }
}

static struct iql_expr *parse_unary(struct iql_parser *p, unsigned *h)
{
    struct iql_token t = p->tok;
    struct iql_expr *e = NULL;
    *h = 1;
    switch (t.kind) {
    case TK_LPAREN: {
        if (p->depth >= IQL_MAX_DEPTH)
            return iql_p_fail_at(p, t.start, SL_EINVAL, "query nesting too deep");
        iql_p_next(p);
        p->depth++;
        e = parse_binary(p, 1, h);
        p->depth--;
        if (!e) return NULL;
        if (!iql_p_expect(p, TK_RPAREN, ")")) return NULL;
        return e;
    }
    case TK_SUB:
    case TK_ADD: {
        if (p->depth >= IQL_MAX_DEPTH)
            return iql_p_fail_at(p, t.start, SL_EINVAL, "query nesting too deep");
        iql_p_next(p);
        p->depth++;
        struct iql_expr *x = parse_unary(p, h);
        p->depth--;
        if (!x) return NULL;
        if (t.kind == TK_ADD) return x;
        e = fold_neg(p, x, t.start);
        if (e && e->kind == IQL_EXPR_NEG) {
            *h += 1;
            if (!check_height(p, *h, t.start)) return NULL;
        }
        return e;
    }
    case TK_IDENT:
        iql_p_next(p);
        if (p->tok.kind == TK_LPAREN) {
            if (p->depth >= IQL_MAX_DEPTH)
                return iql_p_fail_at(p, t.start, SL_EINVAL, "query nesting too deep");
            p->depth++;
            e = parse_call(p, t.text, t.start, h);
            p->depth--;
            return e;
        }
        return parse_varref(p, t.text, t.start);
    case TK_DISTINCT: {
        /* DISTINCT x  or  DISTINCT(x)  ->  distinct(x) */
        iql_p_next(p);
        if (p->tok.kind == TK_LPAREN) {
            if (p->depth >= IQL_MAX_DEPTH)
                return iql_p_fail_at(p, t.start, SL_EINVAL, "query nesting too deep");
            p->depth++;
            e = parse_call(p, "distinct", t.start, h);
            p->depth--;
            return e;
        }
        struct iql_token id = p->tok;
        if (!iql_p_ident(p, "identifier")) return NULL;
        struct iql_expr *arg = parse_varref(p, id.text, id.start);
        if (!arg) return NULL;
        *h = 2;
        e = new_expr(p, IQL_EXPR_CALL, t.start);
        if (!e) return NULL;
        e->u.call.name = "distinct";
        e->u.call.args = iql_p_alloc(p, sizeof(struct iql_expr *));
        if (!e->u.call.args) return NULL;
        e->u.call.args[0] = arg;
        e->u.call.nargs = 1;
        return e;
    }
    case TK_MUL:
        iql_p_next(p);
        e = new_expr(p, IQL_EXPR_WILDCARD, t.start);
        if (!e) return NULL;
        if (!parse_cast(p, &e->u.ref.type)) return NULL;
        if (e->u.ref.type != IQL_TYPE_ANY && e->u.ref.type != IQL_TYPE_FIELD &&
            e->u.ref.type != IQL_TYPE_TAG)
            return iql_p_fail_at(p, t.start, SL_EINVAL,
                                 "invalid wildcard cast, expected field or tag");
        return e;
    case TK_DIV: {
        const char *re = iql_p_regex(p);
        if (!re) return NULL;
        e = new_expr(p, IQL_EXPR_REGEX, t.start);
        if (e) e->u.s = re;
        return e;
    }
    case TK_STRING:
    case TK_PARAM:
        e = new_expr(p, t.kind == TK_STRING ? IQL_EXPR_STRING : IQL_EXPR_PARAM, t.start);
        if (!e) return NULL;
        e->u.s = t.text;
        iql_p_next(p);
        return e;
    case TK_INTEGER:
        e = new_expr(p, IQL_EXPR_INTEGER, t.start);
        if (!e) return NULL;
        if (t.u > (uint64_t)INT64_MAX) {
            e->kind = IQL_EXPR_UNSIGNED;
            e->u.u = t.u;
        } else {
            e->u.i = (int64_t)t.u;
        }
        iql_p_next(p);
        return e;
    case TK_NUMBER:
        e = new_expr(p, IQL_EXPR_NUMBER, t.start);
        if (!e) return NULL;
        e->u.f = t.f;
        iql_p_next(p);
        return e;
    case TK_DURATION:
        e = new_expr(p, IQL_EXPR_DURATION, t.start);
        if (!e) return NULL;
        e->u.i = t.i;
        iql_p_next(p);
        return e;
    case TK_TRUE:
    case TK_FALSE:
        e = new_expr(p, IQL_EXPR_BOOLEAN, t.start);
        if (!e) return NULL;
        e->u.b = t.kind == TK_TRUE;
        iql_p_next(p);
        return e;
    default: return iql_p_expected(p, operand_what);
    }
}

/* Precedence climbing: parses operands joined by operators of precedence >= min. */
static struct iql_expr *parse_binary(struct iql_parser *p, int min, unsigned *h)
{
    unsigned lh = 0;
    struct iql_expr *lhs = parse_unary(p, &lh);
    if (!lhs) return NULL;
    for (;;) {
        enum iql_op op;
        int prec = op_prec(p->tok.kind, &op);
        if (prec == 0 || prec < min) break;
        size_t pos = p->tok.start;
        iql_p_next(p);
        unsigned rh = 0;
        struct iql_expr *rhs = parse_binary(p, prec + 1, &rh);
        if (!rhs) return NULL;
        struct iql_expr *b = new_expr(p, IQL_EXPR_BINARY, pos);
        if (!b) return NULL;
        b->u.bin.op = op;
        b->u.bin.lhs = lhs;
        b->u.bin.rhs = rhs;
        lh = 1 + (lh > rh ? lh : rh);
        if (!check_height(p, lh, pos)) return NULL;
        lhs = b;
    }
    *h = lh;
    return lhs;
}

struct iql_expr *iql_p_expr(struct iql_parser *p)
{
    unsigned h = 0;
    return parse_binary(p, 1, &h);
}
