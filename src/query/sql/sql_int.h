/*
 * sql_int.h — internals of the SQL engine shared by its files: the query
 * rewriter (InfluxDB 3 / DataFusion spellings → SQLite), the SQL functions,
 * and the virtual-table module.
 */
#ifndef SL_QUERY_SQL_SQL_INT_H
#define SL_QUERY_SQL_SQL_INT_H

#include <sqlite3.h>
#include <stddef.h>
#include <stdint.h>

#include "common/buf.h"
#include "query/output/qout.h"

struct engine;
struct cat_db;

/* Limits against hostile queries. */
#define SQL_MAX_QUERY      (1u << 20) /* bytes of SQL text */
#define SQL_MAX_TOKENS     200000     /* tokens in one query */
#define SQL_MAX_TIME_NAMES 64         /* result columns flagged as timestamps */

/* ---- tokenizer ---- */

enum sql_tok {
    SQLT_SPACE,  /* whitespace and comments */
    SQLT_IDENT,  /* bare identifier or keyword */
    SQLT_QIDENT, /* "quoted", `quoted` or [quoted] identifier */
    SQLT_STRING, /* 'string' (quotes included) */
    SQLT_NUMBER,
    SQLT_PARAM, /* $name, :name, @name, ?NNN */
    SQLT_OP,    /* operator or punctuation */
};

struct sql_token {
    enum sql_tok type;
    const char *p;
    size_t n;
};

/* Splits q into tokens (every byte belongs to exactly one). Returns the
 * count, or SL_EINVAL for an unterminated string, identifier or comment
 * (message in err), or SL_ETOOBIG. *out is sl_malloc'd. */
int sql_tokenize(const char *q, size_t len, struct sql_token **out, char *err, size_t errlen);

/* ---- rewriter ---- */

struct sql_rewrite {
    struct sl_buf sql; /* SQLite text */
    int explain;       /* EXPLAIN [ANALYZE|VERBOSE] was stripped */
    int needs_schema;  /* uses information_schema */
    /* names of result columns that hold timestamps (beyond those whose
     * declared type is TIMESTAMP): date_bin(...) AS b, now(), min(time)... */
    char *time_names[SQL_MAX_TIME_NAMES];
    size_t ntime_names;
};

/* Rewrites an InfluxDB 3 SQL query for SQLite:
 *   INTERVAL '5 minutes' / INTERVAL '5' MINUTE  → integer nanoseconds
 *   time >= '2024-12-19T10:00:00Z' (string literal compared with a time
 *     column, also BETWEEN/IN and the mirrored forms) → integer nanoseconds
 *   '2024-12-19T10:00:00Z'::timestamp           → integer nanoseconds
 *   FROM my-bucket (unquoted name with dashes)  → FROM "my-bucket"
 *   SHOW TABLES, SHOW COLUMNS FROM t            → information_schema queries
 *   EXPLAIN [ANALYZE|VERBOSE] q                 → q, with explain set
 * Returns 0, or SL_EINVAL with a message in err (e.g. a bad interval).
 * Release with sql_rewrite_release. */
int sql_rewrite_query(const char *q, size_t len, struct sql_rewrite *out, char *err, size_t errlen);
void sql_rewrite_release(struct sql_rewrite *rw);

/* Parses an interval body ("5 minutes", "1 hour 30 minutes", "1.5h",
 * "500ms") into ns. Months and years are refused (their length varies).
 * Returns 0, SL_EINVAL or SL_ERANGE. */
int sql_interval_parse(const char *s, size_t n, int64_t *ns);

/* ---- functions ---- */

/* Registers now(), date_bin, date_trunc, to_timestamp*, ... on db.
 * now_ns is the query's fixed "now" (one value for the whole statement). */
int sql_functions_register(sqlite3 *db, int64_t *now_ns);

/* ---- virtual tables ---- */

struct sql_ctx {
    struct engine *e;
    struct cat_db *db;
    char err[512]; /* first scan error, for the response */
    int declaring; /* a table is declaring its columns: the authorizer lets it */
};

/* Registers the "sluice" module (CREATE VIRTUAL TABLE "<measurement>"
 * USING sluice makes a table). */
int sql_vtab_register(sqlite3 *db, struct sql_ctx *ctx);
/* Files of more rows than this (default 2^20) make a table leave ORDER BY
 * time to SQLite unless a tag or time equality narrows the scan (vtab.c);
 * for tests. */
void sql_vtab_set_ordered_max_rows(uint64_t rows);
/* Makes catalog table `name` of ctx's database a table of db (by name). */
int sql_vtab_register_table(sqlite3 *db, struct sql_ctx *ctx, const char *name);

/* ---- fast aggregation path (fastagg.c, docs/sql.md) ---- */

#define SQL_FASTAGG_DECLINED 1

/* Offers a prepared statement (st, from rw->sql on db, with its result
 * names and kinds as run_statement computed them: 0 plain, 1 timestamp,
 * 2 boolean) to the vectorised aggregation path. Returns
 * SQL_FASTAGG_DECLINED when the shape is not handled (or the answer would
 * depend on SQLite's row order, or SQLite would raise an error): nothing
 * was written to out and the caller runs the statement with SQLite.
 * Otherwise the result is in out and the return is 0 or a negative SL_*
 * with a message in err (SL_EBUSY after deadline, sl_mono_ns clock). */
int sql_fastagg_run(sqlite3 *db, struct sql_ctx *ctx, const struct sql_rewrite *rw,
                    sqlite3_stmt *st, const char *const *names, const uint8_t *kind,
                    enum qout_format f, int64_t deadline, struct sl_buf *out, char *err,
                    size_t errlen);

/* What the fast path would do with a prepared statement, as one line of
 * text appended to desc (EXPLAIN's fast_path row): its plan, or why SQLite
 * runs the statement instead. 0 or SL_ENOMEM. */
int sql_fastagg_explain(sqlite3 *db, struct sql_ctx *ctx, const struct sql_rewrite *rw,
                        sqlite3_stmt *stmt, struct sl_buf *desc);

/* Statements answered by the fast path, declined (shape not recognised or
 * switched off), and recognised but handed back to SQLite during the scan. */
void sql_fastagg_counters(uint64_t *taken, uint64_t *declined, uint64_t *fellback);

#endif
