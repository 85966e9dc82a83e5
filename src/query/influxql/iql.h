/*
 * iql.h — InfluxQL (InfluxDB 1.x dialect): lexer, parser, AST, printer and
 * the condition helpers the executor needs.
 *
 * Everything the parser builds lives in one caller-owned arena
 * (common/arena.h): a query is freed by releasing the arena. The AST is
 * plain tagged structs; strings in it are NUL-terminated, decoded (quotes and
 * escapes removed) and never NULL unless documented as optional.
 *
 * Normalisations done by the parser (so the executor sees one spelling):
 *   - keywords and function names are case-insensitive; call names are
 *     stored lower-case;
 *   - `DISTINCT x` (in SELECT or in count(DISTINCT x)) becomes the call
 *     distinct(x);
 *   - unary minus on a numeric or duration literal is folded into it;
 *     unary plus is dropped; parentheses are not kept (the tree encodes them);
 *   - durations are int64 nanoseconds ("1h30m" == 5400000000000);
 *   - fill(null) is the default and is stored as IQL_FILL_NULL.
 * The printer (iql_stmt_format) emits canonical InfluxQL from which the parser
 * rebuilds the same tree.
 *
 * Semantic checks that need a schema or a function table (does the function
 * exist, are aggregates mixed with raw fields, is a regex valid RE2) are the
 * executor's job; the parser checks syntax and the structure of GROUP BY,
 * fill, ORDER BY and the statement clauses.
 */
#ifndef SL_QUERY_INFLUXQL_IQL_H
#define SL_QUERY_INFLUXQL_IQL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/arena.h"
#include "common/buf.h"

/* Nesting depth limit (parentheses, calls, subqueries) for hostile input. */
#define IQL_MAX_DEPTH 128

enum iql_op {
    IQL_OP_NONE = 0,
    IQL_OP_ADD,
    IQL_OP_SUB,
    IQL_OP_MUL,
    IQL_OP_DIV,
    IQL_OP_MOD,
    IQL_OP_BITAND,
    IQL_OP_BITOR,
    IQL_OP_BITXOR,
    IQL_OP_AND,
    IQL_OP_OR,
    IQL_OP_EQ,
    IQL_OP_NEQ,
    IQL_OP_EQREGEX,
    IQL_OP_NEQREGEX,
    IQL_OP_LT,
    IQL_OP_LTE,
    IQL_OP_GT,
    IQL_OP_GTE,
    IQL_OP_IN, /* only in SHOW TAG VALUES WITH KEY IN (...) */
};

/* Cast on a variable reference: field::float, host::tag, *::field. */
enum iql_type {
    IQL_TYPE_ANY = 0,
    IQL_TYPE_FLOAT,
    IQL_TYPE_INTEGER,
    IQL_TYPE_UNSIGNED,
    IQL_TYPE_STRING,
    IQL_TYPE_BOOLEAN,
    IQL_TYPE_FIELD,
    IQL_TYPE_TAG,
};

enum iql_expr_kind {
    IQL_EXPR_VARREF,   /* u.ref: field, tag or `time` */
    IQL_EXPR_WILDCARD, /* u.ref.type: *, *::field, *::tag */
    IQL_EXPR_CALL,     /* u.call: mean(x), now(), time(10s) */
    IQL_EXPR_BINARY,   /* u.bin */
    IQL_EXPR_NEG,      /* u.neg: -expr (non-literal operand) */
    IQL_EXPR_INTEGER,  /* u.i */
    IQL_EXPR_UNSIGNED, /* u.u: integer literal above INT64_MAX */
    IQL_EXPR_NUMBER,   /* u.f */
    IQL_EXPR_STRING,   /* u.s: 'single quoted' */
    IQL_EXPR_BOOLEAN,  /* u.b */
    IQL_EXPR_DURATION, /* u.i: nanoseconds */
    IQL_EXPR_REGEX,    /* u.s: pattern between the slashes, \/ unescaped */
    IQL_EXPR_PARAM,    /* u.s: bound parameter name ($name) */
};

struct iql_expr {
    enum iql_expr_kind kind;
    size_t pos; /* byte offset of the expression in the query text */
    union {
        struct {
            const char *name;
            enum iql_type type;
        } ref;
        struct {
            const char *name; /* lower-case */
            struct iql_expr **args;
            size_t nargs;
        } call;
        struct {
            enum iql_op op;
            struct iql_expr *lhs, *rhs;
        } bin;
        struct iql_expr *neg;
        int64_t i;
        uint64_t u;
        double f;
        bool b;
        const char *s;
    } u;
};

struct iql_field {
    struct iql_expr *expr;
    const char *alias; /* AS alias, NULL if none */
};

/* A measurement reference: [db.[rp.]](name | /regex/). */
struct iql_measurement {
    const char *database; /* NULL if not given */
    const char *rp;       /* NULL if not given */
    const char *name;     /* NULL when regex is set */
    const char *regex;    /* NULL for a plain name */
    bool backref;         /* INTO ...:MEASUREMENT (name and regex NULL) */
};

struct iql_select;

/* A FROM item: a measurement, or a subquery when subquery != NULL. */
struct iql_source {
    struct iql_measurement m;
    struct iql_select *subquery;
};

enum iql_fill {
    IQL_FILL_NULL = 0, /* default */
    IQL_FILL_NONE,
    IQL_FILL_PREVIOUS,
    IQL_FILL_LINEAR,
    IQL_FILL_VALUE, /* fill_value is an INTEGER or NUMBER literal */
};

struct iql_select {
    struct iql_field *fields;
    size_t nfields;
    struct iql_measurement *into; /* NULL if no INTO */
    struct iql_source *sources;
    size_t nsources;
    struct iql_expr *cond; /* WHERE, NULL if none */
    /* GROUP BY items: VARREF, WILDCARD, REGEX or CALL "time" (1 or 2 duration args) */
    struct iql_expr **dims;
    size_t ndims;
    /* From the time() dimension, for convenience: 0 when there is none. */
    int64_t group_interval;
    int64_t group_offset;
    bool group_offset_now; /* time(i, now()): offset is now modulo i */
    enum iql_fill fill;
    struct iql_expr *fill_value;
    bool order_desc;                        /* ORDER BY time DESC */
    int64_t limit, offset, slimit, soffset; /* 0 = not given */
    const char *tz;                         /* tz('...'), NULL if none */
};

/* SHOW ..., DELETE and DROP SERIES: the clauses they may carry. */
struct iql_meta {
    const char *database; /* ON db, NULL if absent */
    struct iql_source *sources;
    size_t nsources;
    struct iql_expr *cond;
    struct iql_expr **dims; /* GROUP BY of the CARDINALITY forms */
    size_t ndims;
    int64_t limit, offset;
    bool order_desc;
    bool exact; /* CARDINALITY: EXACT given */
    /* SHOW MEASUREMENTS WITH MEASUREMENT (= name | =~ /re/ ...) */
    enum iql_op with_op; /* IQL_OP_NONE if absent */
    struct iql_measurement with_m;
    /* SHOW TAG VALUES [CARDINALITY] WITH KEY (=|!=) k | (=~|!~) /re/ | IN (k, ...) */
    enum iql_op key_op;
    const char **keys; /* one key for = and !=, the list for IN */
    size_t nkeys;
    const char *key_regex;
};

enum iql_privilege {
    IQL_PRIV_NONE = 0,
    IQL_PRIV_READ,
    IQL_PRIV_WRITE,
    IQL_PRIV_ALL,
};

/* Retention policy settings of CREATE DATABASE ... WITH and the RP statements. */
struct iql_rp_def {
    bool has_duration, has_replication, has_shard_duration, has_name;
    int64_t duration; /* ns; 0 = INF */
    int64_t shard_duration;
    int64_t replication;
    const char *name; /* CREATE DATABASE ... NAME rp */
    bool is_default;  /* CREATE/ALTER RETENTION POLICY ... DEFAULT */
};

/* Database, retention-policy and user statements. */
struct iql_admin {
    const char *name;     /* database, measurement, policy or user */
    const char *database; /* ON db (policies, GRANT/REVOKE on a database) */
    const char *password; /* CREATE USER, SET PASSWORD */
    bool with_rp;         /* CREATE DATABASE ... WITH */
    bool admin;           /* CREATE USER ... WITH ALL PRIVILEGES; GRANT ALL PRIVILEGES */
    enum iql_privilege priv;
    struct iql_rp_def rp;
    uint64_t query_id; /* KILL QUERY */
};

enum iql_stmt_kind {
    IQL_STMT_SELECT,
    IQL_STMT_EXPLAIN,                      /* select, analyze */
    IQL_STMT_SHOW_DATABASES,               /* no clauses */
    IQL_STMT_SHOW_MEASUREMENTS,            /* meta: database, with_*, cond, limit, offset */
    IQL_STMT_SHOW_TAG_KEYS,                /* meta: database, sources, cond, limit, offset */
    IQL_STMT_SHOW_TAG_VALUES,              /* meta: database, sources, key_*, cond, limit... */
    IQL_STMT_SHOW_FIELD_KEYS,              /* meta: database, sources, limit, offset */
    IQL_STMT_SHOW_SERIES,                  /* meta: database, sources, cond, limit, offset */
    IQL_STMT_SHOW_RETENTION_POLICIES,      /* meta: database */
    IQL_STMT_SHOW_MEASUREMENT_CARDINALITY, /* meta: exact, database, sources, cond, dims... */
    IQL_STMT_SHOW_SERIES_CARDINALITY,      /* same */
    IQL_STMT_SHOW_TAG_KEY_CARDINALITY,     /* same */
    IQL_STMT_SHOW_TAG_VALUES_CARDINALITY,  /* same plus key_* */
    IQL_STMT_SHOW_FIELD_KEY_CARDINALITY,   /* same */
    IQL_STMT_SHOW_USERS,                   /* no clauses */
    IQL_STMT_SHOW_GRANTS,                  /* admin.name: user */
    IQL_STMT_SHOW_CONTINUOUS_QUERIES,      /* no clauses */
    IQL_STMT_SHOW_QUERIES,                 /* no clauses */
    IQL_STMT_SHOW_DIAGNOSTICS,             /* no clauses */
    IQL_STMT_SHOW_STATS,                   /* no clauses */
    IQL_STMT_SHOW_SHARDS,                  /* no clauses */
    IQL_STMT_CREATE_DATABASE,              /* admin: name, with_rp, rp */
    IQL_STMT_DROP_DATABASE,                /* admin: name */
    IQL_STMT_DROP_MEASUREMENT,             /* admin: name */
    IQL_STMT_DROP_SERIES,                  /* meta: sources, cond */
    IQL_STMT_DELETE,                       /* meta: sources, cond */
    IQL_STMT_CREATE_RETENTION_POLICY,      /* admin: name, database, rp */
    IQL_STMT_ALTER_RETENTION_POLICY,       /* admin: name, database, rp (has_* set) */
    IQL_STMT_DROP_RETENTION_POLICY,        /* admin: name, database */
    IQL_STMT_CREATE_USER,                  /* admin: name, password, admin */
    IQL_STMT_DROP_USER,                    /* admin: name */
    IQL_STMT_SET_PASSWORD,                 /* admin: name, password */
    IQL_STMT_GRANT,                        /* admin: name (user), priv, database|admin */
    IQL_STMT_REVOKE,                       /* admin: name (user), priv, database|admin */
    IQL_STMT_KILL_QUERY,                   /* admin: query_id */
};

struct iql_stmt {
    enum iql_stmt_kind kind;
    size_t pos;                /* byte offset of the statement's first token */
    struct iql_select *select; /* SELECT, EXPLAIN */
    bool analyze;              /* EXPLAIN ANALYZE */
    struct iql_meta meta;      /* SHOW ..., DELETE, DROP SERIES */
    struct iql_admin admin;    /* database, policy and user statements */
};

struct iql_query {
    struct iql_stmt **stmts;
    size_t nstmts;
};

/* A parse error: where, and InfluxDB's wording. */
struct iql_error {
    size_t offset; /* byte offset of the offending token */
    int line;      /* 1-based */
    int column;    /* 1-based, in bytes */
    /* "error parsing query: found X, expected Y at line 1, char 8" */
    char msg[320];
};

/*
 * Parses the statements of q[0..n) (separated by ';', empty statements
 * ignored). On success *out points into the arena and 0 is returned. On
 * failure returns SL_EINVAL (syntax; err filled) or SL_ENOMEM (arena cap or
 * allocation; err filled too). err may be NULL. An empty query parses into
 * zero statements.
 */
int iql_parse(const char *q, size_t n, struct sl_arena *a, struct iql_query **out,
              struct iql_error *err);

/* Parses one expression (a WHERE condition, say) with the same rules. */
int iql_parse_expr(const char *q, size_t n, struct sl_arena *a, struct iql_expr **out,
                   struct iql_error *err);

/*
 * Appends canonical InfluxQL for a statement / expression / query
 * (statements joined by "; "). Returns 0 or the sl_buf error.
 */
int iql_stmt_format(const struct iql_stmt *s, struct sl_buf *b);
int iql_expr_format(const struct iql_expr *e, struct sl_buf *b);
int iql_query_format(const struct iql_query *q, struct sl_buf *b);

/* Appends name as an identifier, double-quoted only when needed. */
int iql_format_ident(struct sl_buf *b, const char *name);
/* Appends s as a single-quoted string literal with escapes. */
int iql_format_string(struct sl_buf *b, const char *s);

/* Upper-case name of an operator ("AND", "=~", "+"). */
const char *iql_op_str(enum iql_op op);

/*
 * Durations in InfluxQL syntax: one or more <int><unit> with units ns, u or
 * µ (also us, µs), ms, s, m, h, d, w ("1h30m"). Returns 0, SL_EINVAL or SL_ERANGE.
 */
int iql_duration_parse(const char *s, size_t n, int64_t *ns);
/* Formats ns with the largest exact unit ("90m", "-5s", "0s"); returns length. */
size_t iql_duration_format(int64_t ns, char *out, size_t cap);

/*
 * Time range of a WHERE condition, for now = now_ns. min and max get the
 * inclusive bounds of the times the condition can match (INT64_MIN/INT64_MAX
 * when unbounded). Conservative: AND intersects, OR takes the hull, anything
 * that is not a comparison of `time` with a constant leaves the range open.
 * Constants: now(), RFC 3339 strings, integers (ns), numbers, durations
 * (ns since the epoch, as Grafana's 1700000000000ms) and + / - of these.
 * Returns 0, or SL_EINVAL for a time compared with something that is not a
 * time (msg, if non-NULL, gets a reason of at most msgcap bytes).
 * An empty range is reported as *min > *max.
 */
int iql_cond_time_range(const struct iql_expr *cond, int64_t now_ns, int64_t *min, int64_t *max,
                        char *msg, size_t msgcap);

/* True if e compares `time` (a time bound the range above accounts for). */
bool iql_expr_is_time_cmp(const struct iql_expr *e);

/*
 * The condition without its time comparisons (each replaced by true, then
 * simplified): what remains must be evaluated on rows. Returns NULL when
 * nothing remains. Never modifies cond; new nodes go into a. *rc gets
 * SL_ENOMEM on allocation failure (and NULL is returned).
 */
struct iql_expr *iql_cond_without_time(const struct iql_expr *cond, struct sl_arena *a, int *rc);

/* A tag predicate candidate: key op value, from the top-level AND chain. */
struct iql_tag_pred {
    const char *key;
    enum iql_op op;              /* EQ, NEQ, EQREGEX, NEQREGEX */
    const char *value;           /* string for EQ/NEQ, regex pattern for EQREGEX/NEQREGEX */
    const struct iql_expr *expr; /* the comparison node */
};

/*
 * Collects the predicates of the form <ident> (=|!=) 'string' or
 * <ident> (=~|!~) /regex/ (either operand order for = and !=) that are
 * top-level AND terms of cond. Keys cast ::field are skipped; the caller
 * checks the others against the tag keys of the measurement. Terms under an
 * OR are not collected (the full condition must still be applied to rows).
 * Returns 0 or SL_ENOMEM; *out is arena memory.
 */
int iql_cond_tag_preds(const struct iql_expr *cond, struct sl_arena *a, struct iql_tag_pred **out,
                       size_t *n);

#endif
