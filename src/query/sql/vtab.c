/*
 * vtab.c — the "sluice" SQLite virtual-table module: one table per
 * measurement, reading merged, deduplicated rows through the storage
 * iterator (storage/scan.h).
 *
 * Columns are the catalog's, in catalog order (so a vtab column index is a
 * catalog column id): time TIMESTAMP (int64 ns), tags TEXT, fields REAL /
 * INTEGER / UBIGINT / TEXT / BOOLEAN (0/1). A uint64 beyond INT64_MAX is
 * returned as REAL (SQLite has no unsigned 64-bit integer).
 *
 * Pushdown (xBestIndex → xFilter). The plan travels in idxStr, which is
 * both machine-read and shown by EXPLAIN:
 *   "<col><op> ..." constraints, one per xFilter argument, op one of
 *       = > g(>=) < l(<=) on time, = or i (IN, all values at once) on tags;
 *   "u<hex>"  colUsed (projection; bit 63 = any column from 63 on);
 *   "o+" / "o-" ORDER BY time ascending / descending is delivered.
 * Time constraints are applied exactly by the scan and omitted from
 * SQLite's re-check: an integer is ns, a real is rounded outward, a string
 * is parsed as RFC 3339 (so a bound parameter '2024-01-01T00:00:00Z' works),
 * NULL matches nothing. Tag constraints compare text exactly (BINARY
 * collation only). LIMIT needs no pushdown: partitions are loaded lazily, so
 * a scan that SQLite stops early never reads the rest.
 */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "catalog/catalog.h"
#include "common/err.h"
#include "common/mem.h"
#include "common/timeutil.h"
#include "query/sql/sql_int.h"
#include "storage/engine.h"
#include "storage/scan.h"

struct vtab {
    sqlite3_vtab base;
    struct sql_ctx *ctx;
    struct cat_table *t;
    size_t ncols;
};

struct vcursor {
    sqlite3_vtab_cursor base;
    struct scan_iter *it;
    const struct scan_chunk *ch;
    size_t row;      /* position in order[] */
    uint32_t *order; /* row permutation when ordered by time */
    size_t order_cap;
    int ordered; /* 0, 1 asc, -1 desc */
    int eof;
    int64_t rowid;
    /* pushdown state kept alive for the scan */
    uint8_t *need;
    struct scan_tag_filter *tags;
    size_t ntags;
    struct scan_str *vals;
    size_t nvals, vals_cap;
    struct sl_buf strs; /* copies of tag values */
};

static int vt_connect(sqlite3 *db, void *aux, int argc, const char *const *argv, sqlite3_vtab **out,
                      char **err)
{
    struct sql_ctx *ctx = aux;
    if (argc < 3) return SQLITE_ERROR;
    const char *name = argv[2];
    struct cat_table *t = cat_db_table_get(ctx->db, name, strlen(name));
    if (!t) {
        *err = sqlite3_mprintf("table \"%s\" not found", name);
        return SQLITE_ERROR;
    }
    struct sl_buf b = SL_BUF_INIT;
    sl_buf_adds(&b, "CREATE TABLE x(");
    for (size_t c = 0; c < t->ncols; c++) {
        const struct cat_column *col = &t->cols[c];
        const char *type = "TEXT";
        if (c == 0)
            type = "TIMESTAMP";
        else if (col->kind == CAT_COL_FIELD)
            switch (col->type) {
            case LP_FLOAT: type = "REAL"; break;
            case LP_INTEGER: type = "INTEGER"; break;
            case LP_UNSIGNED: type = "UBIGINT"; break;
            case LP_BOOLEAN: type = "BOOLEAN"; break;
            case LP_STRING: type = "TEXT"; break;
            }
        if (c) sl_buf_adds(&b, ", ");
        sl_buf_addc(&b, '"');
        for (const char *p = col->name; *p; p++) {
            if (*p == '"') sl_buf_addc(&b, '"');
            sl_buf_addc(&b, *p);
        }
        sl_buf_addf(&b, "\" %s", type);
    }
    int rc = sl_buf_adds(&b, ")");
    if (rc < 0) {
        sl_buf_release(&b);
        return SQLITE_NOMEM;
    }
    ctx->declaring = 1;
    rc = sqlite3_declare_vtab(db, b.ptr);
    ctx->declaring = 0;
    sl_buf_release(&b);
    if (rc != SQLITE_OK) {
        *err = sqlite3_mprintf("cannot declare table \"%s\"", name);
        return rc;
    }
    struct vtab *v = sqlite3_malloc(sizeof(*v));
    if (!v) return SQLITE_NOMEM;
    memset(v, 0, sizeof(*v));
    v->ctx = ctx;
    v->t = t;
    v->ncols = t->ncols;
    *out = &v->base;
    return SQLITE_OK;
}

static int vt_disconnect(sqlite3_vtab *vt)
{
    sqlite3_free(vt);
    return SQLITE_OK;
}

/* Delivering ORDER BY time sorts one whole window (a group of the scan) in
 * memory. Above this many rows in one file, and without a tag or time
 * equality that keeps only a few series' rows, SQLite sorts instead: its
 * sorter spills to temporary files and keeps only the first rows under a
 * LIMIT, so memory stays bounded (the scan then streams row groups). */
static _Atomic uint64_t ordered_max_file_rows = (uint64_t)1 << 20;

void sql_vtab_set_ordered_max_rows(uint64_t rows)
{
    ordered_max_file_rows = rows;
}

static int has_big_file(const struct cat_table *t)
{
    uint64_t max = ordered_max_file_rows;
    for (size_t i = 0; i < t->nfiles; i++)
        if (t->files[i].rows > max) return 1;
    return 0;
}

static int vt_best_index(sqlite3_vtab *vt, sqlite3_index_info *ii)
{
    struct vtab *v = (struct vtab *)vt;
    struct sl_buf plan = SL_BUF_INIT;
    int argv = 0, narrow = 0; /* narrow: a tag or time equality is pushed down */
    double cost = 1e7, rows = 1e6;
    for (int i = 0; i < ii->nConstraint; i++) {
        const struct sqlite3_index_constraint *c = &ii->aConstraint[i];
        if (!c->usable || c->iColumn < 0 || (size_t)c->iColumn >= v->ncols) continue;
        char op = 0;
        if (c->iColumn == 0) {
            switch (c->op) {
            case SQLITE_INDEX_CONSTRAINT_EQ: op = '='; break;
            case SQLITE_INDEX_CONSTRAINT_GT: op = '>'; break;
            case SQLITE_INDEX_CONSTRAINT_GE: op = 'g'; break;
            case SQLITE_INDEX_CONSTRAINT_LT: op = '<'; break;
            case SQLITE_INDEX_CONSTRAINT_LE: op = 'l'; break;
            }
            if (op) {
                cost *= op == '=' ? 0.001 : 0.2;
                rows *= op == '=' ? 0.001 : 0.2;
            }
        } else if (v->t->cols[c->iColumn].kind == CAT_COL_TAG &&
                   c->op == SQLITE_INDEX_CONSTRAINT_EQ) {
            const char *coll = sqlite3_vtab_collation(ii, i);
            if (coll && sqlite3_stricmp(coll, "BINARY")) continue;
            op = '=';
            if (sqlite3_vtab_in(ii, i, -1)) {
                sqlite3_vtab_in(ii, i, 1);
                op = 'i';
            }
            cost *= 0.05;
            rows *= 0.05;
        }
        if (!op) continue;
        narrow |= op == '=' || op == 'i';
        ii->aConstraintUsage[i].argvIndex = ++argv;
        ii->aConstraintUsage[i].omit = 1;
        sl_buf_addf(&plan, "%d%c ", c->iColumn, op);
    }
    sl_buf_addf(&plan, "u%" PRIx64, (uint64_t)ii->colUsed);
    if (ii->nOrderBy == 1 && ii->aOrderBy[0].iColumn == 0 && (narrow || !has_big_file(v->t))) {
        sl_buf_adds(&plan, ii->aOrderBy[0].desc ? " o-" : " o+");
        ii->orderByConsumed = 1;
    }
    /* a readable summary for EXPLAIN */
    sl_buf_adds(&plan, " --");
    for (int i = 0; i < ii->nConstraint; i++)
        if (ii->aConstraintUsage[i].argvIndex > 0) {
            const struct sqlite3_index_constraint *c = &ii->aConstraint[i];
            const char *ops = "=";
            switch (c->op) {
            case SQLITE_INDEX_CONSTRAINT_GT: ops = ">"; break;
            case SQLITE_INDEX_CONSTRAINT_GE: ops = ">="; break;
            case SQLITE_INDEX_CONSTRAINT_LT: ops = "<"; break;
            case SQLITE_INDEX_CONSTRAINT_LE: ops = "<="; break;
            }
            sl_buf_addf(&plan, " pushdown %s%s?", v->t->cols[c->iColumn].name, ops);
        }
    sl_buf_adds(&plan, " columns");
    for (size_t c = 0; c < v->ncols; c++)
        if (ii->colUsed & ((sqlite3_uint64)1 << (c < 63 ? c : 63)))
            sl_buf_addf(&plan, " %s", v->t->cols[c].name);
    if (!plan.ptr) return SQLITE_NOMEM;
    ii->idxStr = sqlite3_mprintf("%s", plan.ptr);
    sl_buf_release(&plan);
    if (!ii->idxStr) return SQLITE_NOMEM;
    ii->needToFreeIdxStr = 1;
    ii->estimatedCost = cost;
    ii->estimatedRows = (sqlite3_int64)rows;
    return SQLITE_OK;
}

static int vt_open(sqlite3_vtab *vt, sqlite3_vtab_cursor **out)
{
    (void)vt;
    struct vcursor *c = sqlite3_malloc(sizeof(*c));
    if (!c) return SQLITE_NOMEM;
    memset(c, 0, sizeof(*c));
    sl_buf_init(&c->strs, 0);
    c->eof = 1;
    *out = &c->base;
    return SQLITE_OK;
}

static void cursor_reset(struct vcursor *c)
{
    storage_scan_iter_close(c->it);
    c->it = NULL;
    c->ch = NULL;
    sl_free(c->need);
    sl_free(c->tags);
    sl_free(c->vals);
    c->need = NULL;
    c->tags = NULL;
    c->vals = NULL;
    c->ntags = c->nvals = c->vals_cap = 0;
    sl_buf_reset(&c->strs);
    c->eof = 1;
}

static int vt_close(sqlite3_vtab_cursor *cur)
{
    struct vcursor *c = (struct vcursor *)cur;
    cursor_reset(c);
    sl_free(c->order);
    sl_buf_release(&c->strs);
    sqlite3_free(c);
    return SQLITE_OK;
}

static _Thread_local struct vcursor *sort_cursor;
static int order_cmp(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    const int64_t *t = sort_cursor->ch->time;
    if (t[x] != t[y]) return (t[x] < t[y] ? -1 : 1) * sort_cursor->ordered;
    return x < y ? -1 : x > y;
}

static int order_rows(struct vcursor *c)
{
    size_t n = c->ch->nrows;
    if (n > c->order_cap) {
        uint32_t *o = sl_realloc(c->order, n * sizeof(*o));
        if (!o) return SQLITE_NOMEM;
        c->order = o;
        c->order_cap = n;
    }
    for (size_t i = 0; i < n; i++)
        c->order[i] = (uint32_t)i;
    /* qsort has no context argument: a thread-local names the cursor */
    sort_cursor = c;
    qsort(c->order, n, sizeof(*c->order), order_cmp);
    return SQLITE_OK;
}

/* Fetches chunks until one has rows; sets eof at the end. */
static int next_chunk(struct vcursor *c)
{
    struct vtab *v = (struct vtab *)c->base.pVtab;
    const struct scan_chunk *ch;
    int rc = storage_scan_iter_next(c->it, &ch);
    if (rc < 0) {
        sqlite3_free(v->base.zErrMsg);
        v->base.zErrMsg =
            sqlite3_mprintf("reading table \"%s\" failed: %s", v->t->name, sl_strerror(rc));
        snprintf(v->ctx->err, sizeof(v->ctx->err), "reading table \"%s\" failed: %s", v->t->name,
                 sl_strerror(rc));
        return SQLITE_ERROR;
    }
    if (rc == 0) {
        c->eof = 1;
        c->ch = NULL;
        return SQLITE_OK;
    }
    c->ch = ch;
    c->row = 0;
    if (c->ordered) return order_rows(c);
    return SQLITE_OK;
}

/* Interprets a time bound value; returns 0 (ok), 1 (matches nothing) or -1. */
static int bound_value(sqlite3_value *val, char op, int64_t *lo, int64_t *hi)
{
    int64_t x;
    switch (sqlite3_value_type(val)) {
    case SQLITE_NULL: return 1;
    case SQLITE_INTEGER: x = sqlite3_value_int64(val); break;
    case SQLITE_FLOAT: {
        double d = sqlite3_value_double(val);
        if (isnan(d)) return 1;
        double f = floor(d), cl = ceil(d);
        if (d >= 9.2e18) return op == '<' || op == 'l' ? 0 : 1;
        if (d <= -9.2e18) return op == '>' || op == 'g' ? 0 : 1;
        if (f != d) { /* non-integral: turn into an integer bound */
            if (op == '=') return 1;
            if (op == '>' || op == 'g') {
                x = (int64_t)cl;
                op = 'g';
            } else {
                x = (int64_t)f;
                op = 'l';
            }
        } else
            x = (int64_t)d;
        break;
    }
    default: {
        const char *s = (const char *)sqlite3_value_text(val);
        if (!s || sl_time_parse_rfc3339(s, (size_t)sqlite3_value_bytes(val), &x) < 0) return -1;
    }
    }
    switch (op) {
    case '=':
        if (x > *lo) *lo = x;
        if (x < *hi) *hi = x;
        break;
    case '>':
        if (x == INT64_MAX) return 1;
        if (x + 1 > *lo) *lo = x + 1;
        break;
    case 'g':
        if (x > *lo) *lo = x;
        break;
    case '<':
        if (x == INT64_MIN) return 1;
        if (x - 1 < *hi) *hi = x - 1;
        break;
    case 'l':
        if (x < *hi) *hi = x;
        break;
    }
    return 0;
}

static int add_tag_value(struct vcursor *c, sqlite3_value *val)
{
    if (sqlite3_value_type(val) == SQLITE_NULL) return 0; /* = NULL matches nothing */
    const char *s = (const char *)sqlite3_value_text(val);
    int n = sqlite3_value_bytes(val);
    if (!s) return SQLITE_NOMEM;
    if (c->nvals == c->vals_cap) {
        size_t cap = c->vals_cap ? c->vals_cap * 2 : 8;
        struct scan_str *nv = sl_realloc(c->vals, cap * sizeof(*nv));
        if (!nv) return SQLITE_NOMEM;
        c->vals = nv;
        c->vals_cap = cap;
    }
    /* store the offset now; pointers are fixed once all values are copied */
    c->vals[c->nvals].ptr = (const char *)(uintptr_t)c->strs.len;
    c->vals[c->nvals].len = (size_t)n;
    c->nvals++;
    if (sl_buf_add(&c->strs, s, (size_t)n) < 0 || sl_buf_addc(&c->strs, '\0') < 0)
        return SQLITE_NOMEM;
    return 0;
}

static int vt_filter(sqlite3_vtab_cursor *cur, int idx_num, const char *idx_str, int argc,
                     sqlite3_value **argv)
{
    (void)idx_num;
    struct vcursor *c = (struct vcursor *)cur;
    struct vtab *v = (struct vtab *)cur->pVtab;
    cursor_reset(c);
    c->rowid = 0;
    c->ordered = 0;
    struct scan_opts o;
    scan_opts_init(&o);
    int empty = 0, rc = SQLITE_OK;
    c->tags = sl_calloc((size_t)argc + 1, sizeof(*c->tags));
    c->need = sl_calloc(v->ncols ? v->ncols : 1, 1);
    size_t *first = sl_calloc((size_t)argc + 1, sizeof(*first));
    if (!c->tags || !c->need || !first) {
        sl_free(first);
        return SQLITE_NOMEM;
    }
    const char *p = idx_str ? idx_str : "";
    int ai = 0;
    while (*p && *p != 'u' && ai < argc) {
        char *end;
        long col = strtol(p, &end, 10);
        char op = *end;
        p = end + 1;
        while (*p == ' ')
            p++;
        if (col < 0 || (size_t)col >= v->ncols) {
            sl_free(first);
            return SQLITE_ERROR;
        }
        sqlite3_value *val = argv[ai++];
        if (col == 0) {
            int r = bound_value(val, op, &o.min_time, &o.max_time);
            if (r < 0) {
                sqlite3_free(v->base.zErrMsg);
                v->base.zErrMsg = sqlite3_mprintf("cannot compare time with '%s': not a timestamp",
                                                  (const char *)sqlite3_value_text(val));
                sl_free(first);
                return SQLITE_ERROR;
            }
            if (r > 0) empty = 1;
            continue;
        }
        struct scan_tag_filter *tf = &c->tags[c->ntags++];
        tf->col = (uint32_t)col;
        first[c->ntags - 1] = c->nvals;
        if (op == 'i') {
            sqlite3_value *x;
            for (rc = sqlite3_vtab_in_first(val, &x); rc == SQLITE_OK && x;
                 rc = sqlite3_vtab_in_next(val, &x))
                if (add_tag_value(c, x)) {
                    sl_free(first);
                    return SQLITE_NOMEM;
                }
            if (rc != SQLITE_DONE && rc != SQLITE_OK) {
                sl_free(first);
                return rc;
            }
            rc = SQLITE_OK;
        } else if (add_tag_value(c, val)) {
            sl_free(first);
            return SQLITE_NOMEM;
        }
        tf->nvals = c->nvals - first[c->ntags - 1];
        if (tf->nvals == 0) empty = 1;
    }
    /* fix the value pointers (the string buffer may have moved while growing) */
    for (size_t i = 0; i < c->nvals; i++)
        c->vals[i].ptr = c->strs.ptr + (uintptr_t)c->vals[i].ptr;
    for (size_t k = 0; k < c->ntags; k++)
        c->tags[k].vals = c->vals + first[k];
    sl_free(first);
    if (*p == 'u') {
        uint64_t used = strtoull(p + 1, (char **)&p, 16);
        for (size_t col = 0; col < v->ncols; col++)
            c->need[col] = (used >> (col < 63 ? col : 63)) & 1;
        while (*p == ' ')
            p++;
    } else
        memset(c->need, 1, v->ncols);
    if (p[0] == 'o') c->ordered = p[1] == '-' ? -1 : 1;
    o.need = c->need;
    o.nneed = v->ncols;
    o.tags = c->tags;
    o.ntags = c->ntags;
    o.reverse = c->ordered < 0;
    o.no_keys = 1;
    o.split_rows = c->ordered ? 0 : SCAN_SPLIT_ROWS; /* per-chunk sorting needs whole windows */
    if (empty) {
        c->eof = 1;
        return SQLITE_OK;
    }
    int r = storage_scan_iter_open(v->ctx->e, v->ctx->db, v->t, &o, &c->it);
    if (r < 0) return SQLITE_NOMEM;
    c->eof = 0;
    return next_chunk(c);
}

static int vt_next(sqlite3_vtab_cursor *cur)
{
    struct vcursor *c = (struct vcursor *)cur;
    c->rowid++;
    if (++c->row < c->ch->nrows) return SQLITE_OK;
    return next_chunk(c);
}

static int vt_eof(sqlite3_vtab_cursor *cur)
{
    return ((struct vcursor *)cur)->eof;
}

static int vt_column(sqlite3_vtab_cursor *cur, sqlite3_context *cx, int col)
{
    struct vcursor *c = (struct vcursor *)cur;
    const struct scan_chunk *ch = c->ch;
    size_t r = c->ordered ? c->order[c->row] : c->row;
    if (col == 0) {
        sqlite3_result_int64(cx, ch->time[r]);
        return SQLITE_OK;
    }
    if (col < 0 || (size_t)col >= ch->ncols) return SQLITE_OK; /* NULL */
    const struct buf_col *bc = &ch->cols[col];
    if (!bc->present || !bc->valid[r]) return SQLITE_OK;
    switch (bc->type) {
    case LP_FLOAT: sqlite3_result_double(cx, bc->v.f[r]); break;
    case LP_INTEGER: sqlite3_result_int64(cx, bc->v.i[r]); break;
    case LP_UNSIGNED:
        if (bc->v.u[r] <= (uint64_t)INT64_MAX)
            sqlite3_result_int64(cx, (int64_t)bc->v.u[r]);
        else
            sqlite3_result_double(cx, (double)bc->v.u[r]);
        break;
    case LP_BOOLEAN: sqlite3_result_int(cx, bc->v.b[r] ? 1 : 0); break;
    case LP_STRING:
        sqlite3_result_text(cx, bc->v.s[r].ptr, (int)bc->v.s[r].len, SQLITE_TRANSIENT);
        break;
    }
    return SQLITE_OK;
}

static int vt_rowid(sqlite3_vtab_cursor *cur, sqlite3_int64 *out)
{
    *out = ((struct vcursor *)cur)->rowid;
    return SQLITE_OK;
}

static const sqlite3_module vt_module = {
    .iVersion = 0,
    .xCreate = vt_connect,
    .xConnect = vt_connect,
    .xBestIndex = vt_best_index,
    .xDisconnect = vt_disconnect,
    .xDestroy = vt_disconnect,
    .xOpen = vt_open,
    .xClose = vt_close,
    .xFilter = vt_filter,
    .xNext = vt_next,
    .xEof = vt_eof,
    .xColumn = vt_column,
    .xRowid = vt_rowid,
};

int sql_vtab_register(sqlite3 *db, struct sql_ctx *ctx)
{
    return sqlite3_create_module(db, "sluice", &vt_module, ctx) == SQLITE_OK ? 0 : SL_ENOMEM;
}

/* The module is eponymous (xCreate == xConnect): registered under a
 * table's own name it is that table, with no CREATE VIRTUAL TABLE, which
 * would parse a statement and rewrite the schema on every query. */
int sql_vtab_register_table(sqlite3 *db, struct sql_ctx *ctx, const char *name)
{
    return sqlite3_create_module(db, name, &vt_module, ctx) == SQLITE_OK ? 0 : SL_ENOMEM;
}
