/*
 * iql_int.h — internals shared by the InfluxQL lexer, parser files and
 * printer: tokens, the scanner and the parser state. Not an interface.
 */
#ifndef SL_QUERY_INFLUXQL_IQL_INT_H
#define SL_QUERY_INFLUXQL_IQL_INT_H

#include "query/influxql/iql.h"

enum iql_tok {
    TK_EOF = 0,
    TK_ILLEGAL,
    TK_IDENT,    /* text: decoded name */
    TK_PARAM,    /* text: name without '$' */
    TK_NUMBER,   /* f */
    TK_INTEGER,  /* u (magnitude; may exceed INT64_MAX) */
    TK_DURATION, /* i (ns) */
    TK_STRING,   /* text */
    TK_REGEX,    /* text: only produced by iql_lex_regex() */
    TK_TRUE,
    TK_FALSE,
    /* operators */
    TK_ADD,
    TK_SUB,
    TK_MUL,
    TK_DIV,
    TK_MOD,
    TK_BITAND,
    TK_BITOR,
    TK_BITXOR,
    TK_EQ,
    TK_NEQ,
    TK_EQREGEX,
    TK_NEQREGEX,
    TK_LT,
    TK_LTE,
    TK_GT,
    TK_GTE,
    TK_LPAREN,
    TK_RPAREN,
    TK_COMMA,
    TK_COLON,
    TK_DCOLON,
    TK_SEMI,
    TK_DOT,
    /* keywords, in the order of iql_keyword_names */
    TK_KW_FIRST,
    TK_ALL = TK_KW_FIRST,
    TK_ALTER,
    TK_ANALYZE,
    TK_AND,
    TK_ANY,
    TK_AS,
    TK_ASC,
    TK_BEGIN,
    TK_BY,
    TK_CARDINALITY,
    TK_CONTINUOUS,
    TK_CREATE,
    TK_DATABASE,
    TK_DATABASES,
    TK_DEFAULT,
    TK_DELETE,
    TK_DESC,
    TK_DESTINATIONS,
    TK_DIAGNOSTICS,
    TK_DISTINCT,
    TK_DROP,
    TK_DURATION_KW,
    TK_END,
    TK_EVERY,
    TK_EXACT,
    TK_EXPLAIN,
    TK_FIELD,
    TK_FOR,
    TK_FROM,
    TK_GRANT,
    TK_GRANTS,
    TK_GROUP,
    TK_GROUPS,
    TK_IN,
    TK_INF,
    TK_INSERT,
    TK_INTO,
    TK_KEY,
    TK_KEYS,
    TK_KILL,
    TK_LIMIT,
    TK_MEASUREMENT,
    TK_MEASUREMENTS,
    TK_NAME,
    TK_OFFSET,
    TK_ON,
    TK_OR,
    TK_ORDER,
    TK_PASSWORD,
    TK_POLICIES,
    TK_POLICY,
    TK_PRIVILEGES,
    TK_QUERIES,
    TK_QUERY,
    TK_READ,
    TK_REPLICATION,
    TK_RESAMPLE,
    TK_RETENTION,
    TK_REVOKE,
    TK_SELECT,
    TK_SERIES,
    TK_SET,
    TK_SHARD,
    TK_SHARDS,
    TK_SHOW,
    TK_SLIMIT,
    TK_SOFFSET,
    TK_STATS,
    TK_SUBSCRIPTION,
    TK_SUBSCRIPTIONS,
    TK_TAG,
    TK_TO,
    TK_USER,
    TK_USERS,
    TK_VALUES,
    TK_WHERE,
    TK_WITH,
    TK_WRITE,
    TK_KW_END,
};

struct iql_token {
    enum iql_tok kind;
    size_t start, end; /* byte span in the query */
    const char *text;  /* decoded IDENT/STRING/PARAM/REGEX (arena), else NULL */
    uint64_t u;
    int64_t i;
    double f;
    size_t err_at; /* TK_ILLEGAL: where exactly, when not at start (0 = start) */
};

struct iql_lexer {
    const char *q;
    size_t n, pos;
    struct sl_arena *a;
};

/* Lex errors are reported as TK_ILLEGAL with err_code/err_msg set. */
struct iql_parser {
    struct iql_lexer lx;
    struct iql_token tok; /* current token (one-token lookahead) */
    struct iql_error *err;
    int rc; /* first error; once set, parsing unwinds */
    int depth;
    char lexmsg[96]; /* reason for the last TK_ILLEGAL */
};

/* Scans the next token at lx->pos (skipping blanks and comments). */
void iql_lex_next(struct iql_lexer *lx, struct iql_token *t, char *msg, size_t msgcap);
/* Scans a regex body starting at lx->pos (just after the opening '/'). */
void iql_lex_regex(struct iql_lexer *lx, struct iql_token *t, char *msg, size_t msgcap);
/* Keyword token for an unquoted identifier, or TK_IDENT. */
enum iql_tok iql_keyword_lookup(const char *s, size_t n);
/* Upper-case spelling of a keyword/operator token, or a class name. */
const char *iql_tok_name(enum iql_tok t);
bool iql_is_keyword(const char *s);

/* Parser primitives (parse_expr.c). */
void iql_p_next(struct iql_parser *p);
bool iql_p_accept(struct iql_parser *p, enum iql_tok t);
/* Records "found <tok>, expected <what>" at the current token; returns NULL. */
void *iql_p_expected(struct iql_parser *p, const char *what);
void *iql_p_fail_at(struct iql_parser *p, size_t off, int rc, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
bool iql_p_expect(struct iql_parser *p, enum iql_tok t, const char *what);
void *iql_p_alloc(struct iql_parser *p, size_t n);
/* Pushes onto an arena-backed growing array. */
bool iql_p_push(struct iql_parser *p, void **arr, size_t *n, size_t *cap, size_t elem,
                const void *item);
struct iql_expr *iql_p_expr(struct iql_parser *p);
const char *iql_p_ident(struct iql_parser *p, const char *what);
/* Parses a regex when the current token is '/', else returns NULL w/o error. */
const char *iql_p_regex(struct iql_parser *p);
bool iql_p_duration(struct iql_parser *p, int64_t *v);

/* Statements (parse_select.c, parse_stmt.c). */
struct iql_select *iql_p_select(struct iql_parser *p);
bool iql_p_sources(struct iql_parser *p, struct iql_source **out, size_t *n, bool allow_subquery);
bool iql_p_measurement(struct iql_parser *p, struct iql_measurement *m, bool allow_regex);
bool iql_p_measurement_ex(struct iql_parser *p, struct iql_measurement *m, bool allow_regex,
                          bool allow_backref);
bool iql_p_where(struct iql_parser *p, struct iql_expr **cond);
bool iql_p_dims(struct iql_parser *p, struct iql_expr ***dims, size_t *n);
/* With sel non-NULL, fills its group_interval/group_offset from time(). */
bool iql_p_dims_ex(struct iql_parser *p, struct iql_expr ***dims, size_t *n,
                   struct iql_select *sel);
bool iql_p_order(struct iql_parser *p, bool *desc);
/* [kw <non-negative integer>] */
bool iql_p_opt_int(struct iql_parser *p, enum iql_tok kw, int64_t *v);
struct iql_stmt *iql_p_stmt(struct iql_parser *p);

#endif
