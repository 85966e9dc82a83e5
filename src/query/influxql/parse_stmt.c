/*
 * parse_stmt.c — InfluxQL statements other than SELECT, and the entry points
 * iql_parse / iql_parse_expr.
 *
 *   SHOW DATABASES | USERS | QUERIES | DIAGNOSTICS | STATS | SHARDS | CONTINUOUS QUERIES
 *   SHOW GRANTS FOR user
 *   SHOW RETENTION POLICIES [ON db]
 *   SHOW MEASUREMENTS [ON db] [WITH MEASUREMENT (=|!=|=~|!~) (name|/re/)]
 *        [WHERE c] [ORDER BY ..] [LIMIT n] [OFFSET n]
 *   SHOW TAG KEYS | FIELD KEYS | SERIES [ON db] [FROM src] [WHERE c] [ORDER BY ..]
 *        [LIMIT n] [OFFSET n]                          (FIELD KEYS has no WHERE)
 *   SHOW TAG VALUES [ON db] [FROM src] WITH KEY (=|!=) k | (=~|!~) /re/ | IN (k, ..)
 *        [WHERE c] [ORDER BY ..] [LIMIT n] [OFFSET n]
 *   SHOW (MEASUREMENT|SERIES|TAG KEY|TAG VALUES|FIELD KEY) [EXACT] CARDINALITY
 *        [ON db] [FROM src] [WITH KEY ..] [WHERE c] [GROUP BY ..] [LIMIT n] [OFFSET n]
 *   CREATE DATABASE db [WITH [DURATION d] [REPLICATION n] [SHARD DURATION d] [NAME rp]]
 *   CREATE RETENTION POLICY rp ON db DURATION d REPLICATION n [SHARD DURATION d] [DEFAULT]
 *   ALTER RETENTION POLICY rp ON db (DURATION d | REPLICATION n | SHARD DURATION d | DEFAULT)+
 *   DROP DATABASE db | MEASUREMENT m | RETENTION POLICY rp ON db | USER u
 *   DROP SERIES [FROM src] [WHERE c]        DELETE [FROM src] [WHERE c]  (one at least)
 *   CREATE USER u WITH PASSWORD 'p' [WITH ALL PRIVILEGES]
 *   SET PASSWORD FOR u = 'p'
 *   GRANT (READ|WRITE|ALL [PRIVILEGES]) [ON db] TO u    REVOKE ... FROM u
 *   KILL QUERY id
 *   EXPLAIN [ANALYZE] SELECT ...
 */
#include <string.h>

#include "common/err.h"
#include "query/influxql/iql_int.h"

static bool opt_on(struct iql_parser *p, const char **db)
{
    *db = NULL;
    if (!iql_p_accept(p, TK_ON)) return true;
    *db = iql_p_ident(p, "identifier");
    return *db != NULL;
}

static bool opt_from(struct iql_parser *p, struct iql_meta *m)
{
    if (!iql_p_accept(p, TK_FROM)) return true;
    return iql_p_sources(p, &m->sources, &m->nsources, false);
}

static bool limit_offset(struct iql_parser *p, struct iql_meta *m)
{
    return iql_p_opt_int(p, TK_LIMIT, &m->limit) && iql_p_opt_int(p, TK_OFFSET, &m->offset);
}

/* WITH KEY (=|!=) k | (=~|!~) /re/ | IN (k, ...) ; the WITH was consumed. */
static bool with_key(struct iql_parser *p, struct iql_meta *m)
{
    if (!iql_p_expect(p, TK_KEY, "KEY")) return false;
    enum iql_tok op = p->tok.kind;
    size_t cap = 0;
    switch (op) {
    case TK_EQ:
    case TK_NEQ: {
        m->key_op = op == TK_EQ ? IQL_OP_EQ : IQL_OP_NEQ;
        iql_p_next(p);
        if (p->tok.kind != TK_IDENT && p->tok.kind != TK_STRING) {
            iql_p_expected(p, "identifier");
            return false;
        }
        const char *k = p->tok.text;
        iql_p_next(p);
        return iql_p_push(p, (void **)&m->keys, &m->nkeys, &cap, sizeof(k), &k);
    }
    case TK_EQREGEX:
    case TK_NEQREGEX:
        m->key_op = op == TK_EQREGEX ? IQL_OP_EQREGEX : IQL_OP_NEQREGEX;
        iql_p_next(p);
        if (p->tok.kind != TK_DIV) {
            iql_p_expected(p, "regex");
            return false;
        }
        m->key_regex = iql_p_regex(p);
        return m->key_regex != NULL;
    case TK_IN:
        m->key_op = IQL_OP_IN;
        iql_p_next(p);
        if (!iql_p_expect(p, TK_LPAREN, "(")) return false;
        for (;;) {
            if (p->tok.kind != TK_IDENT && p->tok.kind != TK_STRING) {
                iql_p_expected(p, "identifier");
                return false;
            }
            const char *k = p->tok.text;
            iql_p_next(p);
            if (!iql_p_push(p, (void **)&m->keys, &m->nkeys, &cap, sizeof(k), &k)) return false;
            if (iql_p_accept(p, TK_COMMA)) continue;
            return iql_p_expect(p, TK_RPAREN, ", or )");
        }
    default: iql_p_expected(p, "=, !=, =~, !~, IN"); return false;
    }
}

/* SHOW <what> [EXACT] CARDINALITY ...; the tokens up to [EXACT] were consumed. */
static bool show_cardinality(struct iql_parser *p, struct iql_stmt *s, bool with_key_clause)
{
    struct iql_meta *m = &s->meta;
    if (iql_p_accept(p, TK_EXACT)) m->exact = true;
    if (!iql_p_expect(p, TK_CARDINALITY, "CARDINALITY")) return false;
    if (!opt_on(p, &m->database) || !opt_from(p, m)) return false;
    if (with_key_clause) {
        if (!iql_p_expect(p, TK_WITH, "WITH")) return false;
        if (!with_key(p, m)) return false;
    }
    return iql_p_where(p, &m->cond) && iql_p_dims(p, &m->dims, &m->ndims) && limit_offset(p, m);
}

static bool parse_show(struct iql_parser *p, struct iql_stmt *s)
{
    struct iql_meta *m = &s->meta;
    struct iql_token t0 = p->tok;
    enum iql_tok t = t0.kind;
    iql_p_next(p);
    switch (t) {
    case TK_DATABASES: s->kind = IQL_STMT_SHOW_DATABASES; return true;
    case TK_USERS: s->kind = IQL_STMT_SHOW_USERS; return true;
    case TK_QUERIES: s->kind = IQL_STMT_SHOW_QUERIES; return true;
    case TK_DIAGNOSTICS: s->kind = IQL_STMT_SHOW_DIAGNOSTICS; return true;
    case TK_STATS: s->kind = IQL_STMT_SHOW_STATS; return true;
    case TK_SHARDS: s->kind = IQL_STMT_SHOW_SHARDS; return true;
    case TK_CONTINUOUS:
        s->kind = IQL_STMT_SHOW_CONTINUOUS_QUERIES;
        return iql_p_expect(p, TK_QUERIES, "QUERIES");
    case TK_GRANTS:
        s->kind = IQL_STMT_SHOW_GRANTS;
        if (!iql_p_expect(p, TK_FOR, "FOR")) return false;
        return (s->admin.name = iql_p_ident(p, "identifier")) != NULL;
    case TK_RETENTION:
        s->kind = IQL_STMT_SHOW_RETENTION_POLICIES;
        if (!iql_p_expect(p, TK_POLICIES, "POLICIES")) return false;
        return opt_on(p, &m->database);
    case TK_MEASUREMENT:
        s->kind = IQL_STMT_SHOW_MEASUREMENT_CARDINALITY;
        return show_cardinality(p, s, false);
    case TK_MEASUREMENTS:
        s->kind = IQL_STMT_SHOW_MEASUREMENTS;
        if (!opt_on(p, &m->database)) return false;
        if (iql_p_accept(p, TK_WITH)) {
            if (!iql_p_expect(p, TK_MEASUREMENT, "MEASUREMENT")) return false;
            switch (p->tok.kind) {
            case TK_EQ: m->with_op = IQL_OP_EQ; break;
            case TK_NEQ: m->with_op = IQL_OP_NEQ; break;
            case TK_EQREGEX: m->with_op = IQL_OP_EQREGEX; break;
            case TK_NEQREGEX: m->with_op = IQL_OP_NEQREGEX; break;
            default: iql_p_expected(p, "=, !=, =~, !~"); return false;
            }
            bool is_re = m->with_op == IQL_OP_EQREGEX || m->with_op == IQL_OP_NEQREGEX;
            iql_p_next(p);
            if (is_re && p->tok.kind != TK_DIV) {
                iql_p_expected(p, "regex");
                return false;
            }
            if (!is_re && p->tok.kind == TK_DIV) {
                iql_p_expected(p, "identifier");
                return false;
            }
            if (!iql_p_measurement(p, &m->with_m, is_re)) return false;
        }
        return iql_p_where(p, &m->cond) && iql_p_order(p, &m->order_desc) && limit_offset(p, m);
    case TK_SERIES:
        if (p->tok.kind == TK_EXACT || p->tok.kind == TK_CARDINALITY) {
            s->kind = IQL_STMT_SHOW_SERIES_CARDINALITY;
            return show_cardinality(p, s, false);
        }
        s->kind = IQL_STMT_SHOW_SERIES;
        return opt_on(p, &m->database) && opt_from(p, m) && iql_p_where(p, &m->cond) &&
               iql_p_order(p, &m->order_desc) && limit_offset(p, m);
    case TK_TAG:
        if (iql_p_accept(p, TK_KEYS)) {
            s->kind = IQL_STMT_SHOW_TAG_KEYS;
            return opt_on(p, &m->database) && opt_from(p, m) && iql_p_where(p, &m->cond) &&
                   iql_p_order(p, &m->order_desc) && limit_offset(p, m);
        }
        if (iql_p_accept(p, TK_KEY)) {
            s->kind = IQL_STMT_SHOW_TAG_KEY_CARDINALITY;
            return show_cardinality(p, s, false);
        }
        if (!iql_p_expect(p, TK_VALUES, "KEYS, KEY, VALUES")) return false;
        if (p->tok.kind == TK_EXACT || p->tok.kind == TK_CARDINALITY) {
            s->kind = IQL_STMT_SHOW_TAG_VALUES_CARDINALITY;
            return show_cardinality(p, s, true);
        }
        s->kind = IQL_STMT_SHOW_TAG_VALUES;
        if (!opt_on(p, &m->database) || !opt_from(p, m)) return false;
        if (!iql_p_expect(p, TK_WITH, "WITH") || !with_key(p, m)) return false;
        return iql_p_where(p, &m->cond) && iql_p_order(p, &m->order_desc) && limit_offset(p, m);
    case TK_FIELD:
        if (iql_p_accept(p, TK_KEYS)) {
            s->kind = IQL_STMT_SHOW_FIELD_KEYS;
            return opt_on(p, &m->database) && opt_from(p, m) && iql_p_order(p, &m->order_desc) &&
                   limit_offset(p, m);
        }
        if (!iql_p_expect(p, TK_KEY, "KEYS, KEY")) return false;
        s->kind = IQL_STMT_SHOW_FIELD_KEY_CARDINALITY;
        return show_cardinality(p, s, false);
    default:
        p->tok = t0; /* report the token after SHOW */
        iql_p_expected(p, "CONTINUOUS, DATABASES, DIAGNOSTICS, FIELD, GRANTS, MEASUREMENT, "
                          "MEASUREMENTS, QUERIES, RETENTION, SERIES, SHARDS, STATS, TAG, USERS");
        return false;
    }
}

/* Retention policy options; for CREATE DATABASE also NAME, else DEFAULT. */
static bool rp_options(struct iql_parser *p, struct iql_rp_def *rp, bool for_db)
{
    bool any = false;
    for (;;) {
        if (iql_p_accept(p, TK_DURATION_KW)) {
            if (!iql_p_duration(p, &rp->duration)) return false;
            rp->has_duration = true;
        } else if (iql_p_accept(p, TK_REPLICATION)) {
            if (p->tok.kind != TK_INTEGER || p->tok.u < 1 || p->tok.u > INT32_MAX) {
                iql_p_expected(p, "integer >= 1");
                return false;
            }
            rp->replication = (int64_t)p->tok.u;
            rp->has_replication = true;
            iql_p_next(p);
        } else if (iql_p_accept(p, TK_SHARD)) {
            if (!iql_p_expect(p, TK_DURATION_KW, "DURATION")) return false;
            if (!iql_p_duration(p, &rp->shard_duration)) return false;
            rp->has_shard_duration = true;
        } else if (for_db && iql_p_accept(p, TK_NAME)) {
            if (!(rp->name = iql_p_ident(p, "identifier"))) return false;
            rp->has_name = true;
        } else if (!for_db && iql_p_accept(p, TK_DEFAULT)) {
            rp->is_default = true;
        } else {
            break;
        }
        any = true;
    }
    if (!any) {
        iql_p_expected(p, for_db ? "DURATION, REPLICATION, SHARD, NAME"
                                 : "DURATION, REPLICATION, SHARD, DEFAULT");
        return false;
    }
    return true;
}

static bool rp_name_on(struct iql_parser *p, struct iql_stmt *s)
{
    if (!iql_p_expect(p, TK_POLICY, "POLICY")) return false;
    if (!(s->admin.name = iql_p_ident(p, "identifier"))) return false;
    if (!iql_p_expect(p, TK_ON, "ON")) return false;
    return (s->admin.database = iql_p_ident(p, "identifier")) != NULL;
}

static bool parse_create(struct iql_parser *p, struct iql_stmt *s)
{
    struct iql_admin *ad = &s->admin;
    if (iql_p_accept(p, TK_DATABASE)) {
        s->kind = IQL_STMT_CREATE_DATABASE;
        if (!(ad->name = iql_p_ident(p, "identifier"))) return false;
        if (iql_p_accept(p, TK_WITH)) {
            ad->with_rp = true;
            return rp_options(p, &ad->rp, true);
        }
        return true;
    }
    if (iql_p_accept(p, TK_RETENTION)) {
        s->kind = IQL_STMT_CREATE_RETENTION_POLICY;
        if (!rp_name_on(p, s)) return false;
        if (p->tok.kind != TK_DURATION_KW) {
            iql_p_expected(p, "DURATION");
            return false;
        }
        if (!rp_options(p, &ad->rp, false)) return false;
        if (!ad->rp.has_replication) ad->rp.replication = 1;
        ad->rp.has_replication = true;
        return true;
    }
    if (iql_p_accept(p, TK_USER)) {
        s->kind = IQL_STMT_CREATE_USER;
        if (!(ad->name = iql_p_ident(p, "identifier"))) return false;
        if (!iql_p_expect(p, TK_WITH, "WITH") || !iql_p_expect(p, TK_PASSWORD, "PASSWORD"))
            return false;
        if (p->tok.kind != TK_STRING) {
            iql_p_expected(p, "string");
            return false;
        }
        ad->password = p->tok.text;
        iql_p_next(p);
        if (iql_p_accept(p, TK_WITH)) {
            if (!iql_p_expect(p, TK_ALL, "ALL") || !iql_p_expect(p, TK_PRIVILEGES, "PRIVILEGES"))
                return false;
            ad->admin = true;
        }
        return true;
    }
    iql_p_expected(p, "DATABASE, RETENTION, USER");
    return false;
}

static bool parse_drop(struct iql_parser *p, struct iql_stmt *s)
{
    struct iql_admin *ad = &s->admin;
    switch (p->tok.kind) {
    case TK_DATABASE: s->kind = IQL_STMT_DROP_DATABASE; break;
    case TK_MEASUREMENT: s->kind = IQL_STMT_DROP_MEASUREMENT; break;
    case TK_USER: s->kind = IQL_STMT_DROP_USER; break;
    case TK_RETENTION:
        s->kind = IQL_STMT_DROP_RETENTION_POLICY;
        iql_p_next(p);
        return rp_name_on(p, s);
    case TK_SERIES:
        s->kind = IQL_STMT_DROP_SERIES;
        iql_p_next(p);
        if (p->tok.kind != TK_FROM && p->tok.kind != TK_WHERE) {
            iql_p_expected(p, "FROM, WHERE");
            return false;
        }
        return opt_from(p, &s->meta) && iql_p_where(p, &s->meta.cond);
    default: iql_p_expected(p, "DATABASE, MEASUREMENT, RETENTION, SERIES, USER"); return false;
    }
    iql_p_next(p);
    return (ad->name = iql_p_ident(p, "identifier")) != NULL;
}

/* GRANT/REVOKE privilege [ON db] TO/FROM user */
static bool parse_grant(struct iql_parser *p, struct iql_stmt *s, bool grant)
{
    struct iql_admin *ad = &s->admin;
    s->kind = grant ? IQL_STMT_GRANT : IQL_STMT_REVOKE;
    if (iql_p_accept(p, TK_READ))
        ad->priv = IQL_PRIV_READ;
    else if (iql_p_accept(p, TK_WRITE))
        ad->priv = IQL_PRIV_WRITE;
    else if (iql_p_accept(p, TK_ALL)) {
        ad->priv = IQL_PRIV_ALL;
        iql_p_accept(p, TK_PRIVILEGES);
    } else {
        iql_p_expected(p, "READ, WRITE, ALL [PRIVILEGES]");
        return false;
    }
    if (iql_p_accept(p, TK_ON)) {
        if (!(ad->database = iql_p_ident(p, "identifier"))) return false;
    } else if (ad->priv != IQL_PRIV_ALL) {
        iql_p_expected(p, "ON");
        return false;
    } else {
        ad->admin = true;
    }
    if (!iql_p_expect(p, grant ? TK_TO : TK_FROM, grant ? "TO" : "FROM")) return false;
    return (ad->name = iql_p_ident(p, "identifier")) != NULL;
}

struct iql_stmt *iql_p_stmt(struct iql_parser *p)
{
    struct iql_stmt *s = iql_p_alloc(p, sizeof(*s));
    if (!s) return NULL;
    s->pos = p->tok.start;
    bool ok = false;
    switch (p->tok.kind) {
    case TK_SELECT:
        s->kind = IQL_STMT_SELECT;
        s->select = iql_p_select(p);
        ok = s->select != NULL;
        break;
    case TK_EXPLAIN:
        s->kind = IQL_STMT_EXPLAIN;
        iql_p_next(p);
        s->analyze = iql_p_accept(p, TK_ANALYZE);
        s->select = iql_p_select(p);
        ok = s->select != NULL;
        break;
    case TK_SHOW:
        iql_p_next(p);
        ok = parse_show(p, s);
        break;
    case TK_CREATE:
        iql_p_next(p);
        ok = parse_create(p, s);
        break;
    case TK_DROP:
        iql_p_next(p);
        ok = parse_drop(p, s);
        break;
    case TK_DELETE:
        s->kind = IQL_STMT_DELETE;
        iql_p_next(p);
        if (p->tok.kind != TK_FROM && p->tok.kind != TK_WHERE) {
            iql_p_expected(p, "FROM, WHERE");
            break;
        }
        ok = opt_from(p, &s->meta) && iql_p_where(p, &s->meta.cond);
        break;
    case TK_ALTER:
        s->kind = IQL_STMT_ALTER_RETENTION_POLICY;
        iql_p_next(p);
        if (!iql_p_expect(p, TK_RETENTION, "RETENTION")) break;
        ok = rp_name_on(p, s) && rp_options(p, &s->admin.rp, false);
        break;
    case TK_SET:
        s->kind = IQL_STMT_SET_PASSWORD;
        iql_p_next(p);
        if (!iql_p_expect(p, TK_PASSWORD, "PASSWORD") || !iql_p_expect(p, TK_FOR, "FOR")) break;
        if (!(s->admin.name = iql_p_ident(p, "identifier"))) break;
        if (!iql_p_expect(p, TK_EQ, "=")) break;
        if (p->tok.kind != TK_STRING) {
            iql_p_expected(p, "string");
            break;
        }
        s->admin.password = p->tok.text;
        iql_p_next(p);
        ok = true;
        break;
    case TK_GRANT:
    case TK_REVOKE: {
        bool grant = p->tok.kind == TK_GRANT;
        iql_p_next(p);
        ok = parse_grant(p, s, grant);
        break;
    }
    case TK_KILL:
        s->kind = IQL_STMT_KILL_QUERY;
        iql_p_next(p);
        if (!iql_p_expect(p, TK_QUERY, "QUERY")) break;
        if (p->tok.kind != TK_INTEGER) {
            iql_p_expected(p, "integer");
            break;
        }
        s->admin.query_id = p->tok.u;
        iql_p_next(p);
        ok = true;
        break;
    default:
        iql_p_expected(p, "SELECT, DELETE, SHOW, CREATE, DROP, EXPLAIN, GRANT, REVOKE, ALTER, "
                          "SET, KILL");
        break;
    }
    return ok ? s : NULL;
}

static void parser_init(struct iql_parser *p, const char *q, size_t n, struct sl_arena *a,
                        struct iql_error *err)
{
    memset(p, 0, sizeof(*p));
    p->lx.q = q;
    p->lx.n = n;
    p->lx.a = a;
    p->err = err;
    if (err) memset(err, 0, sizeof(*err));
    iql_p_next(p);
}

int iql_parse(const char *q, size_t n, struct sl_arena *a, struct iql_query **out,
              struct iql_error *err)
{
    struct iql_parser p;
    *out = NULL;
    parser_init(&p, q, n, a, err);
    struct iql_query *qr = iql_p_alloc(&p, sizeof(*qr));
    size_t cap = 0;
    while (qr && !p.rc) {
        while (iql_p_accept(&p, TK_SEMI)) {
        }
        if (p.tok.kind == TK_EOF) break;
        struct iql_stmt *s = iql_p_stmt(&p);
        if (!s) break;
        if (!iql_p_push(&p, (void **)&qr->stmts, &qr->nstmts, &cap, sizeof(s), &s)) break;
        if (p.tok.kind != TK_SEMI && p.tok.kind != TK_EOF) {
            iql_p_expected(&p, ";");
            break;
        }
    }
    if (p.rc) return p.rc;
    if (!qr) return SL_ENOMEM;
    *out = qr;
    return 0;
}

int iql_parse_expr(const char *q, size_t n, struct sl_arena *a, struct iql_expr **out,
                   struct iql_error *err)
{
    struct iql_parser p;
    *out = NULL;
    parser_init(&p, q, n, a, err);
    struct iql_expr *e = iql_p_expr(&p);
    if (e && p.tok.kind != TK_EOF) iql_p_expected(&p, "EOF");
    if (p.rc) return p.rc;
    if (!e) return SL_EINVAL;
    *out = e;
    return 0;
}
