/*
 * exec.c — runs one SQL statement (sql.h): rewrite, open a private SQLite
 * connection, create the virtual tables the query names, fill
 * information_schema when used, lock the connection down, prepare, bind
 * parameters, step, and encode rows.
 *
 * Locking: the catalog read lock is held for the whole statement (the scans
 * need a stable file list); schema changes wait until the query ends, and
 * a query is bounded by its timeout.
 *
 * Timestamps in results: a column is a timestamp when its declared type is
 * TIMESTAMP (a reference to a time column, also through subqueries) or when
 * the rewriter saw a timestamp expression under that name (date_bin(...) AS
 * b, now(), min(time)...). Booleans are columns declared BOOLEAN.
 */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "catalog/catalog.h"
#include "common/err.h"
#include "common/mem.h"
#include "common/timeutil.h"
#include "query/sql/sql.h"
#include "query/sql/sql_int.h"
#include "storage/engine.h"

struct progress {
    int64_t deadline;
    int timed_out;
};

static int on_progress(void *p)
{
    struct progress *pr = p;
    if (sl_mono_ns() > pr->deadline) {
        pr->timed_out = 1;
        return 1;
    }
    return 0;
}

/* The user's statement may only read. */
static int authorize(void *u, int action, const char *a, const char *b, const char *c,
                     const char *d)
{
    (void)a, (void)b, (void)c, (void)d;
    /* a table connecting on first use parses its column declaration */
    if (((const struct sql_ctx *)u)->declaring) return SQLITE_OK;
    switch (action) {
    case SQLITE_SELECT:
    case SQLITE_READ:
    case SQLITE_FUNCTION:
    case SQLITE_RECURSIVE: return SQLITE_OK;
    default: return SQLITE_DENY;
    }
}

static int exec_sql(sqlite3 *db, const char *sql, char *err, size_t errlen)
{
    char *msg = NULL;
    if (sqlite3_exec(db, sql, NULL, NULL, &msg) == SQLITE_OK) return 0;
    snprintf(err, errlen, "%s", msg ? msg : sqlite3_errmsg(db));
    sqlite3_free(msg);
    return SL_EINVAL;
}

/* Makes each catalog table the query names a (virtual) table of db. */
static int create_tables(sqlite3 *db, struct sql_ctx *ctx, struct cat_db *cdb,
                         const struct sl_buf *sql)
{
    struct sql_token *t;
    char err[200];
    int n = sql_tokenize(sql->ptr, sql->len, &t, err, sizeof(err));
    if (n < 0) return 0; /* SQLite will say what is wrong */
    struct sl_buf name = SL_BUF_INIT;
    uint8_t *made = sl_calloc(cdb->ntables ? cdb->ntables : 1, 1);
    int rc = made ? 0 : SL_ENOMEM;
    for (int i = 0; i < n && rc == 0; i++) {
        if (t[i].type != SQLT_IDENT && t[i].type != SQLT_QIDENT) continue;
        sl_buf_reset(&name);
        if (t[i].type == SQLT_QIDENT) {
            char q = t[i].p[0] == '[' ? ']' : t[i].p[0];
            for (size_t k = 1; k + 1 < t[i].n; k++) {
                if (t[i].p[k] == q && q != ']') k++;
                sl_buf_addc(&name, t[i].p[k]);
            }
        } else
            sl_buf_add(&name, t[i].p, t[i].n);
        if (!name.ptr) continue;
        size_t found = (size_t)-1;
        for (size_t k = 0; k < cdb->ntables; k++) {
            const struct cat_table *ct = cdb->tables[k];
            if (ct->deleted) continue;
            if (!strcmp(ct->name, name.ptr)) {
                found = k;
                break;
            }
            if (found == (size_t)-1 && !strcasecmp(ct->name, name.ptr)) found = k;
        }
        if (found == (size_t)-1 || made[found]) continue;
        /* SQLite names are case-insensitive: of tables whose names differ
         * only in case, the first the query names is the one it reads */
        int clash = 0;
        for (size_t k = 0; k < cdb->ntables && !clash; k++)
            clash = made[k] && !strcasecmp(cdb->tables[k]->name, cdb->tables[found]->name);
        made[found] = 1;
        if (!clash) rc = sql_vtab_register_table(db, ctx, cdb->tables[found]->name);
    }
    sl_buf_release(&name);
    sl_free(made);
    sl_free(t);
    return rc;
}

static const char *arrow_type(const struct cat_column *c)
{
    if (c->kind == CAT_COL_TIME) return "Timestamp(Nanosecond, None)";
    if (c->kind == CAT_COL_TAG) return "Dictionary(Int32, Utf8)";
    switch (c->type) {
    case LP_FLOAT: return "Float64";
    case LP_INTEGER: return "Int64";
    case LP_UNSIGNED: return "UInt64";
    case LP_BOOLEAN: return "Boolean";
    case LP_STRING: return "Utf8";
    }
    return "Utf8";
}

/* information_schema.tables / .columns for the database. */
static int fill_schema(sqlite3 *db, struct cat_db *cdb, char *err, size_t errlen)
{
    int rc = exec_sql(db,
                      "ATTACH ':memory:' AS information_schema;"
                      "CREATE TABLE information_schema.tables(table_catalog TEXT, table_schema "
                      "TEXT, table_name TEXT, table_type TEXT);"
                      "CREATE TABLE information_schema.columns(table_catalog TEXT, table_schema "
                      "TEXT, table_name TEXT, column_name TEXT, ordinal_position INTEGER, "
                      "data_type TEXT, is_nullable TEXT);"
                      "INSERT INTO information_schema.tables VALUES"
                      "('public','information_schema','tables','VIEW'),"
                      "('public','information_schema','columns','VIEW');"
                      "BEGIN",
                      err, errlen);
    if (rc < 0) return rc;
    sqlite3_stmt *ts = NULL, *cs = NULL;
    if (sqlite3_prepare_v2(
            db, "INSERT INTO information_schema.tables VALUES('public','iox',?,'BASE TABLE')", -1,
            &ts, NULL) != SQLITE_OK ||
        sqlite3_prepare_v2(
            db, "INSERT INTO information_schema.columns VALUES('public','iox',?,?,?,?,?)", -1, &cs,
            NULL) != SQLITE_OK) {
        rc = SL_ENOMEM;
        goto out;
    }
    for (size_t i = 0; i < cdb->ntables && rc == 0; i++) {
        const struct cat_table *t = cdb->tables[i];
        if (t->deleted) continue;
        sqlite3_bind_text(ts, 1, t->name, -1, SQLITE_STATIC);
        if (sqlite3_step(ts) != SQLITE_DONE) rc = SL_ENOMEM;
        sqlite3_reset(ts);
        /* InfluxDB 3 lists tags, then fields, then time; we keep catalog order with time first */
        for (size_t c = 0; c < t->ncols && rc == 0; c++) {
            sqlite3_bind_text(cs, 1, t->name, -1, SQLITE_STATIC);
            sqlite3_bind_text(cs, 2, t->cols[c].name, -1, SQLITE_STATIC);
            sqlite3_bind_int64(cs, 3, (sqlite3_int64)c);
            sqlite3_bind_text(cs, 4, arrow_type(&t->cols[c]), -1, SQLITE_STATIC);
            sqlite3_bind_text(cs, 5, c == 0 ? "NO" : "YES", -1, SQLITE_STATIC);
            if (sqlite3_step(cs) != SQLITE_DONE) rc = SL_ENOMEM;
            sqlite3_reset(cs);
        }
    }
out:
    sqlite3_finalize(ts);
    sqlite3_finalize(cs);
    if (rc == 0)
        rc = exec_sql(db, "COMMIT", err, errlen);
    else
        snprintf(err, errlen, "cannot build information_schema");
    return rc;
}

static int bind_params(sqlite3_stmt *st, const struct sql_request *r, char *err, size_t errlen)
{
    int n = sqlite3_bind_parameter_count(st);
    for (int i = 1; i <= n; i++) {
        const char *pn = sqlite3_bind_parameter_name(st, i);
        if (!pn) {
            snprintf(err, errlen, "positional parameters (?) are not supported: use $name");
            return SL_EINVAL;
        }
        const struct sql_param *p = NULL;
        for (size_t k = 0; k < r->nparams && !p; k++)
            if (!strcmp(r->params[k].name, pn + 1)) p = &r->params[k];
        if (!p) {
            snprintf(err, errlen, "no value given for parameter %.200s", pn);
            return SL_EINVAL;
        }
        const struct qout_value *v = &p->v;
        int rc;
        switch (v->type) {
        case QOUT_INT:
        case QOUT_TIME: rc = sqlite3_bind_int64(st, i, v->v.i); break;
        case QOUT_UINT: rc = sqlite3_bind_double(st, i, (double)v->v.u); break;
        case QOUT_FLOAT: rc = sqlite3_bind_double(st, i, v->v.f); break;
        case QOUT_BOOL: rc = sqlite3_bind_int(st, i, v->v.b ? 1 : 0); break;
        case QOUT_STRING:
            rc = sqlite3_bind_text(st, i, v->v.s.ptr, (int)v->v.s.len, SQLITE_TRANSIENT);
            break;
        default: rc = sqlite3_bind_null(st, i);
        }
        if (rc != SQLITE_OK) return SL_ENOMEM;
    }
    return 0;
}

/* EXPLAIN: the query plan as rows (plan_type, plan), DataFusion's shape. */
static int run_explain(sqlite3 *db, struct sql_ctx *ctx, const struct sql_rewrite *rw,
                       enum qout_format f, struct sl_buf *out, char *err, size_t errlen)
{
    struct sl_buf q = SL_BUF_INIT, plan = SL_BUF_INIT, fast = SL_BUF_INIT;
    sqlite3_stmt *st = NULL, *orig = NULL;
    struct qout *o = NULL;
    int rc = sl_buf_adds(&q, "EXPLAIN QUERY PLAN ");
    if (rc == 0) rc = sl_buf_add(&q, rw->sql.ptr, rw->sql.len);
    if (rc < 0) goto out;
    if (sqlite3_prepare_v2(db, q.ptr, -1, &st, NULL) != SQLITE_OK) {
        snprintf(err, errlen, "%s", sqlite3_errmsg(db));
        rc = SL_EINVAL;
        goto out;
    }
    /* rows: id, parent, notused, detail; indent by depth */
    int ids[256], nids = 0;
    int s;
    while ((s = sqlite3_step(st)) == SQLITE_ROW) {
        int id = sqlite3_column_int(st, 0), parent = sqlite3_column_int(st, 1), depth = 0;
        for (int k = 0; k < nids; k++)
            if (ids[k] == parent) depth = k + 1;
        if (depth < 256) {
            nids = depth;
            ids[nids++] = id;
        }
        for (int k = 0; k < depth; k++)
            sl_buf_adds(&plan, "  ");
        sl_buf_adds(&plan, (const char *)sqlite3_column_text(st, 3));
        rc = sl_buf_addc(&plan, '\n');
        if (rc < 0) goto out;
    }
    if (s != SQLITE_DONE) {
        snprintf(err, errlen, "%s", sqlite3_errmsg(db));
        rc = SL_EINVAL;
        goto out;
    }
    /* the statement itself, for what the fast aggregation path would do */
    if (sqlite3_prepare_v2(db, rw->sql.ptr, (int)rw->sql.len, &orig, NULL) == SQLITE_OK && orig &&
        (rc = sql_fastagg_explain(db, ctx, rw, orig, &fast)) < 0)
        goto out;
    const char *names[] = {"plan_type", "plan"};
    if ((rc = qout_open(f, out, names, 2, &o)) < 0) goto out;
    struct qout_value v[2] = {{.type = QOUT_STRING}, {.type = QOUT_STRING}};
    v[0].v.s.ptr = "physical_plan";
    v[0].v.s.len = 13;
    v[1].v.s.ptr = plan.ptr ? plan.ptr : "";
    v[1].v.s.len = plan.len;
    rc = qout_row(o, v);
    if (rc == 0 && fast.len) {
        v[0].v.s.ptr = "fast_path";
        v[0].v.s.len = 9;
        v[1].v.s.ptr = fast.ptr;
        v[1].v.s.len = fast.len;
        rc = qout_row(o, v);
    }
    if (rc == 0) rc = qout_finish(o);
out:
    qout_free(o);
    sqlite3_finalize(st);
    sqlite3_finalize(orig);
    sl_buf_release(&fast);
    sl_buf_release(&q);
    sl_buf_release(&plan);
    return rc;
}

static int run_statement(sqlite3 *db, const struct sql_request *r, const struct sql_rewrite *rw,
                         struct sql_ctx *ctx, struct progress *pr, struct sl_buf *out, char *err,
                         size_t errlen)
{
    sqlite3_stmt *st = NULL;
    const char *tail = NULL;
    struct qout *o = NULL;
    const char **names = NULL;
    uint8_t *kind = NULL; /* 0 plain, 1 timestamp, 2 boolean */
    struct qout_value *vals = NULL;
    int rc = 0;
    if (sqlite3_prepare_v2(db, rw->sql.ptr, (int)rw->sql.len, &st, &tail) != SQLITE_OK) {
        snprintf(err, errlen, "%s", sqlite3_errmsg(db));
        return SL_EINVAL;
    }
    if (!st) {
        snprintf(err, errlen, "empty query");
        return SL_EINVAL;
    }
    for (; tail && *tail; tail++)
        if (*tail != ' ' && *tail != '\t' && *tail != '\n' && *tail != '\r' && *tail != ';') {
            snprintf(err, errlen, "only one statement per query is allowed");
            rc = SL_EINVAL;
            goto out;
        }
    if ((rc = bind_params(st, r, err, errlen)) < 0) goto out;
    int nc = sqlite3_column_count(st);
    names = sl_calloc((size_t)nc + 1, sizeof(*names));
    kind = sl_calloc((size_t)nc + 1, 1);
    vals = sl_calloc((size_t)nc + 1, sizeof(*vals));
    if (!names || !kind || !vals) {
        rc = SL_ENOMEM;
        goto out;
    }
    for (int c = 0; c < nc; c++) {
        names[c] = sqlite3_column_name(st, c);
        if (!names[c]) {
            rc = SL_ENOMEM;
            goto out;
        }
        const char *dt = sqlite3_column_decltype(st, c);
        if (dt && !strcasecmp(dt, "TIMESTAMP"))
            kind[c] = 1;
        else if (dt && !strcasecmp(dt, "BOOLEAN"))
            kind[c] = 2;
        for (size_t k = 0; k < rw->ntime_names; k++)
            if (!strcmp(rw->time_names[k], names[c])) kind[c] = 1;
    }
    /* aggregates by time bucket and tag: the vectorised path (fastagg.c) */
    rc = sql_fastagg_run(db, ctx, rw, st, names, kind, r->format, pr->deadline, out, err, errlen);
    if (rc != SQL_FASTAGG_DECLINED) goto out;
    if ((rc = qout_open(r->format, out, names, (size_t)nc, &o)) < 0) goto out;
    int s;
    while ((s = sqlite3_step(st)) == SQLITE_ROW) {
        for (int c = 0; c < nc; c++) {
            struct qout_value *v = &vals[c];
            switch (sqlite3_column_type(st, c)) {
            case SQLITE_INTEGER:
                v->v.i = sqlite3_column_int64(st, c);
                v->type = kind[c] == 1 ? QOUT_TIME : QOUT_INT;
                if (kind[c] == 2) {
                    v->type = QOUT_BOOL;
                    v->v.b = v->v.i != 0;
                }
                break;
            case SQLITE_FLOAT:
                v->type = QOUT_FLOAT;
                v->v.f = sqlite3_column_double(st, c);
                break;
            case SQLITE_TEXT:
            case SQLITE_BLOB:
                v->type = QOUT_STRING;
                v->v.s.ptr = (const char *)sqlite3_column_text(st, c);
                v->v.s.len = (size_t)sqlite3_column_bytes(st, c);
                if (!v->v.s.ptr) v->type = QOUT_NULL;
                break;
            default: v->type = QOUT_NULL;
            }
        }
        if ((rc = qout_row(o, vals)) < 0) {
            snprintf(err, errlen, "the result is too large: %s", sl_strerror(rc));
            goto out;
        }
    }
    if (s != SQLITE_DONE) {
        if (pr->timed_out) {
            snprintf(err, errlen, "query timed out");
            rc = SL_EBUSY;
        } else if (ctx->err[0]) {
            snprintf(err, errlen, "%s", ctx->err);
            rc = SL_EIO;
        } else {
            snprintf(err, errlen, "%s", sqlite3_errmsg(db));
            rc = SL_EINVAL;
        }
        goto out;
    }
    rc = qout_finish(o);
    if (rc < 0) snprintf(err, errlen, "cannot encode the result: %s", sl_strerror(rc));
out:
    qout_free(o);
    sl_free(names);
    sl_free(kind);
    sl_free(vals);
    sqlite3_finalize(st);
    return rc;
}

int sql_execute(struct engine *e, const struct sql_request *r, struct sl_buf *out, char *err,
                size_t errlen)
{
    struct sql_rewrite rw;
    err[0] = '\0';
    int rc = sql_rewrite_query(r->q, r->qlen, &rw, err, errlen);
    if (rc < 0) return rc == SL_ENOMEM ? rc : SL_EINVAL;
    sqlite3 *db = NULL;
    int64_t now = r->now_ns ? r->now_ns : sl_now_ns();
    struct progress pr = {
        sl_mono_ns() + (r->timeout_ms ? r->timeout_ms : SQL_DEFAULT_TIMEOUT_MS) * SL_NS_PER_MS, 0};
    struct sql_ctx ctx = {.e = e};
    catalog_rdlock(e->catalog);
    ctx.db = catalog_db_get(e->catalog, r->db, strlen(r->db));
    if (!ctx.db) {
        snprintf(err, errlen, "database not found: %.400s", r->db);
        rc = SL_ENOENT;
        goto out;
    }
    if (sqlite3_open_v2(":memory:", &db,
                        SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX |
                            SQLITE_OPEN_MEMORY,
                        NULL) != SQLITE_OK) {
        snprintf(err, errlen, "cannot open an SQL connection");
        rc = SL_ENOMEM;
        goto out;
    }
    sqlite3_limit(db, SQLITE_LIMIT_SQL_LENGTH, (int)SQL_MAX_QUERY * 2);
    sqlite3_limit(db, SQLITE_LIMIT_EXPR_DEPTH, 500);
    sqlite3_limit(db, SQLITE_LIMIT_ATTACHED, 1);
    sqlite3_progress_handler(db, 10000, on_progress, &pr);
    if (sql_functions_register(db, &now) < 0 || sql_vtab_register(db, &ctx) < 0) {
        snprintf(err, errlen, "cannot set up the SQL connection");
        rc = SL_ENOMEM;
        goto out;
    }
    if ((rc = create_tables(db, &ctx, ctx.db, &rw.sql)) < 0) goto out;
    if (rw.needs_schema && (rc = fill_schema(db, ctx.db, err, errlen)) < 0) goto out;
    sqlite3_set_authorizer(db, authorize, &ctx);
    if (rw.explain)
        rc = run_explain(db, &ctx, &rw, r->format, out, err, errlen);
    else
        rc = run_statement(db, r, &rw, &ctx, &pr, out, err, errlen);
out:
    if (db) sqlite3_close_v2(db);
    catalog_unlock(e->catalog);
    sql_rewrite_release(&rw);
    if (rc < 0 && !err[0]) snprintf(err, errlen, "%s", sl_strerror(rc));
    return rc;
}
