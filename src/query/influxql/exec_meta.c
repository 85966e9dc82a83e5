/*
 * exec_meta.c — the InfluxQL statements that are not SELECT: SHOW DATABASES,
 * MEASUREMENTS, TAG KEYS, TAG VALUES, FIELD KEYS, SERIES, RETENTION
 * POLICIES; CREATE/DROP DATABASE and DROP MEASUREMENT. Result shapes and
 * column names are InfluxDB 1.x's (SHOW SERIES has no "name"; every
 * database has one retention policy, "autogen", whose duration is the
 * database's retention). DELETE, DROP SERIES and DROP MEASUREMENT remove
 * data for good (storage/delete.c); their WHERE clause is translated into a
 * storage predicate with 1.x's rules: tags and time only (a field is an
 * error), time bounds only in the top-level AND chain, and no time at all
 * for DROP SERIES. As in 1.x, the SHOW statements list only what holds
 * points: a measurement whose every point was deleted (or expired) is not
 * shown, though the catalog keeps its field types, and SHOW TAG KEYS gives
 * the keys of the series that remain.
 */
#include <stdlib.h>
#include <string.h>

#include "catalog/catalog.h"
#include "common/err.h"
#include "common/timeutil.h"
#include "query/influxql/exec_int.h"
#include "storage/delete.h"
#include "storage/engine.h"

struct rows {
    struct sl_arena *a;
    size_t ncols, n, cap;
    struct iql_val *v;
};

static int rows_add(struct rows *r, const struct iql_val *vals)
{
    if (r->n == r->cap) {
        size_t nc = r->cap ? r->cap * 2 : 32;
        struct iql_val *nv = sl_arena_alloc(r->a, nc * r->ncols * sizeof(*nv));
        if (!nv) return SL_ENOMEM;
        if (r->n) memcpy(nv, r->v, r->n * r->ncols * sizeof(*nv));
        r->v = nv;
        r->cap = nc;
    }
    memcpy(r->v + r->n * r->ncols, vals, r->ncols * sizeof(*vals));
    r->n++;
    return 0;
}

static struct iql_val sv(const char *s)
{
    struct iql_val v = {.kind = IQLV_STR};
    v.u.s = s;
    return v;
}

static int cmp_rows_n(const struct iql_val *x, const struct iql_val *y, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        int c = xval_cmp(&x[i], &y[i]);
        if (c) return c;
    }
    return 0;
}

static int cmp_rows1(const void *a, const void *b)
{
    return cmp_rows_n(a, b, 1);
}

static int cmp_rows2(const void *a, const void *b)
{
    return cmp_rows_n(a, b, 2);
}

/* Sorts, de-duplicates, applies offset/limit. */
static void rows_finish(struct rows *r, bool sort, int64_t limit, int64_t offset)
{
    if (sort && r->n > 1 && r->ncols <= 2) {
        size_t w = r->ncols * sizeof(struct iql_val);
        qsort(r->v, r->n, w, r->ncols == 1 ? cmp_rows1 : cmp_rows2);
        size_t k = 0;
        for (size_t i = 0; i < r->n; i++)
            if (k == 0 || cmp_rows_n(r->v + (k - 1) * r->ncols, r->v + i * r->ncols, r->ncols)) {
                if (k != i) memcpy(r->v + k * r->ncols, r->v + i * r->ncols, w);
                k++;
            }
        r->n = k;
    }
    size_t off = offset > 0 ? (size_t)offset : 0;
    if (off >= r->n) {
        r->n = 0;
        return;
    }
    r->v += off * r->ncols;
    r->n -= off;
    if (limit > 0 && (size_t)limit < r->n) r->n = (size_t)limit;
}

static int add_series(struct iql_exec_ctx *x, struct iql_result *out, size_t *cap, const char *name,
                      const char **cols, size_t ncols, struct rows *r)
{
    if (r->n == 0) return 0;
    if (out->nseries == *cap) {
        size_t nc = *cap ? *cap * 2 : 8;
        struct iql_series *ns = sl_arena_alloc(x->arena, nc * sizeof(*ns));
        if (!ns) return SL_ENOMEM;
        if (out->nseries) memcpy(ns, out->series, out->nseries * sizeof(*ns));
        out->series = ns;
        *cap = nc;
    }
    struct iql_series *s = &out->series[out->nseries++];
    memset(s, 0, sizeof(*s));
    s->name = name;
    s->ncols = ncols;
    s->cols = cols;
    s->nrows = r->n;
    s->vals = r->v;
    return 0;
}

static int need_db(struct iql_exec_ctx *x, const char *on, const char **db, struct xerr *err)
{
    *db = on ? on : x->db;
    if (!*db || !**db) return xerr_set(err, "database name required");
    if (x->allowed && !x->allowed(x->allowed_ud, *db, 1))
        return xerr_set(err, "error authorizing query: not authorized to read database \"%s\"",
                        *db);
    return 0;
}

/* Keeps the names of the measurements that hold a row: 1.x forgets a
 * measurement with its last series (storage_table_has_rows). */
static void keep_with_rows(struct iql_exec_ctx *x, const char *db, const char **names, size_t *n)
{
    struct catalog *cat = x->eng->catalog;
    size_t k = 0;
    catalog_rdlock(cat);
    struct cat_db *d = catalog_db_get(cat, db, strlen(db));
    for (size_t i = 0; d && i < *n; i++) {
        struct cat_table *t = cat_db_table_get(d, names[i], strlen(names[i]));
        if (t && storage_table_has_rows(x->eng, d, t)) names[k++] = names[i];
    }
    catalog_unlock(cat);
    *n = k;
}

/* The measurements a SHOW statement covers (FROM, or all) that hold rows. */
static int meta_measurements(struct iql_exec_ctx *x, struct xeval *ev, const char *db,
                             const struct iql_meta *m, const char ***names, size_t *n)
{
    if (!m->nsources) {
        int rc = xload_measurements(x, ev, db, NULL, names, n);
        if (rc == 0) keep_with_rows(x, db, *names, n);
        return rc;
    }
    const char **all = sl_arena_alloc(x->arena, 4096 * sizeof(char *));
    if (!all) return SL_ENOMEM;
    size_t k = 0;
    for (size_t i = 0; i < m->nsources && k < 4096; i++) {
        const struct iql_measurement *mm = &m->sources[i].m;
        if (mm->regex) {
            const char **rn;
            size_t rnn;
            int rc = xload_measurements(x, ev, db, mm->regex, &rn, &rnn);
            if (rc < 0) return rc;
            for (size_t j = 0; j < rnn && k < 4096; j++)
                all[k++] = rn[j];
        } else if (mm->name) {
            all[k++] = mm->name;
        }
    }
    keep_with_rows(x, db, all, &k);
    *names = all;
    *n = k;
    return 0;
}

static const char *dup_s(struct iql_exec_ctx *x, const char *s)
{
    return sl_arena_strndup(x->arena, s, strlen(s));
}

static const char **cols_of(struct iql_exec_ctx *x, const char *a, const char *b)
{
    const char **c = sl_arena_alloc(x->arena, 2 * sizeof(char *));
    if (c) {
        c[0] = a;
        c[1] = b;
    }
    return c;
}

/* The tag keys of the series of measurement name that remain, added to r
 * (storage_table_tag_presence: no column data is read). */
static int tag_keys_with_rows(struct iql_exec_ctx *x, const char *db, const char *name,
                              struct rows *r)
{
    struct catalog *cat = x->eng->catalog;
    int rc = 0;
    catalog_rdlock(cat);
    struct cat_db *d = catalog_db_get(cat, db, strlen(db));
    struct cat_table *t = d ? cat_db_table_get(d, name, strlen(name)) : NULL;
    uint8_t *present = t ? sl_arena_alloc(x->arena, t->ncols) : NULL;
    if (t && !present) rc = SL_ENOMEM;
    if (t && rc == 0) {
        memset(present, 0, t->ncols);
        rc = storage_table_tag_presence(x->eng, d, t, present);
    }
    for (size_t c = 0; t && rc == 0 && c < t->ncols; c++) {
        if (!present[c]) continue;
        struct iql_val v = sv(dup_s(x, t->cols[c].name));
        rc = v.u.s ? rows_add(r, &v) : SL_ENOMEM;
    }
    catalog_unlock(cat);
    return rc;
}

/* SHOW FIELD KEYS: the measurement's fields from the catalog (1.x keeps
 * every field of a measurement while it has a series). SHOW TAG KEYS: the
 * tag keys of the series that hold rows and match the WHERE clause (time
 * terms are ignored, as in 1.x), so a key goes with the last series that
 * had it. */
static int show_keys(struct iql_exec_ctx *x, struct xeval *ev, const struct iql_stmt *st,
                     const char *db, struct iql_result *out)
{
    const char **names;
    size_t nn, cap = 0;
    int rc = meta_measurements(x, ev, db, &st->meta, &names, &nn);
    if (rc < 0) return rc;
    bool fields = st->kind == IQL_STMT_SHOW_FIELD_KEYS;
    struct iql_expr *cond = NULL;
    if (!fields && st->meta.cond) {
        cond = iql_cond_without_time(st->meta.cond, x->arena, &rc);
        if (rc < 0) return rc;
    }
    struct catalog *cat = x->eng->catalog;
    for (size_t i = 0; i < nn; i++) {
        struct rows r = {x->arena, fields ? 2 : 1, 0, 0, NULL};
        if (fields) {
            catalog_rdlock(cat);
            struct cat_db *d = catalog_db_get(cat, db, strlen(db));
            struct cat_table *t = d ? cat_db_table_get(d, names[i], strlen(names[i])) : NULL;
            for (size_t c = 0; t && c < t->ncols && rc == 0; c++) {
                const struct cat_column *col = &t->cols[c];
                if (col->kind != CAT_COL_FIELD) continue;
                struct iql_val v[2] = {sv(dup_s(x, col->name)), sv(lp_type_name(col->type))};
                if (!v[0].u.s)
                    rc = SL_ENOMEM;
                else
                    rc = rows_add(&r, v);
            }
            catalog_unlock(cat);
        } else if (!cond) {
            rc = tag_keys_with_rows(x, db, names[i], &r);
        } else {
            struct xtable *tb;
            rc = xload_table(x, ev, db, names[i], INT64_MIN, INT64_MAX, cond, false, NULL, 0, true,
                             &tb);
            for (size_t k = 0; rc == 0 && tb && k < tb->nt; k++) {
                bool present = false;
                for (size_t s = 0; s < tb->nser && !present; s++)
                    present = tb->ser[s]->n && tb->ser[s]->tagv[k];
                struct iql_val v = sv(tb->tkey[k]);
                if (present) rc = rows_add(&r, &v);
            }
        }
        if (rc < 0) return rc;
        rows_finish(&r, true, st->meta.limit, st->meta.offset);
        const char **cols =
            fields ? cols_of(x, "fieldKey", "fieldType") : cols_of(x, "tagKey", NULL);
        if (!cols) return SL_ENOMEM;
        rc = add_series(x, out, &cap, names[i], cols, fields ? 2 : 1, &r);
        if (rc < 0) return rc;
    }
    return 0;
}

static int key_matches(struct xeval *ev, const struct iql_meta *m, const char *key)
{
    switch (m->key_op) {
    case IQL_OP_EQ: return m->nkeys && !strcmp(m->keys[0], key);
    case IQL_OP_NEQ: return m->nkeys && strcmp(m->keys[0], key) != 0;
    case IQL_OP_IN:
        for (size_t i = 0; i < m->nkeys; i++)
            if (!strcmp(m->keys[i], key)) return 1;
        return 0;
    case IQL_OP_EQREGEX:
    case IQL_OP_NEQREGEX: {
        int r = xre_match(ev, m->key_regex, key);
        if (r < 0) return r;
        return m->key_op == IQL_OP_EQREGEX ? r : !r;
    }
    default: return 1;
    }
}

static int show_from_series(struct iql_exec_ctx *x, struct xeval *ev, const struct iql_stmt *st,
                            const char *db, struct iql_result *out)
{
    const struct iql_meta *m = &st->meta;
    const char **names;
    size_t nn, cap = 0;
    int rc = meta_measurements(x, ev, db, m, &names, &nn);
    if (rc < 0) return rc;
    int64_t tmin = INT64_MIN, tmax = INT64_MAX;
    struct iql_expr *cond = NULL;
    if (m->cond) {
        char msg[256];
        if (iql_cond_time_range(m->cond, x->now_ns, &tmin, &tmax, msg, sizeof(msg)) < 0)
            return xerr_set(ev->err, "%s", msg);
        cond = iql_cond_without_time(m->cond, x->arena, &rc);
        if (rc < 0) return rc;
    }
    struct rows all = {x->arena, 1, 0, 0, NULL};
    struct rows meas = {x->arena, 1, 0, 0, NULL};
    for (size_t i = 0; i < nn; i++) {
        if (st->kind == IQL_STMT_SHOW_MEASUREMENTS && m->with_op != IQL_OP_NONE) {
            const struct iql_measurement *w = &m->with_m;
            int ok;
            if (w->regex) {
                ok = xre_match(ev, w->regex, names[i]);
                if (ok < 0) return ok;
            } else
                ok = w->name && !strcmp(w->name, names[i]);
            if (m->with_op == IQL_OP_NEQ || m->with_op == IQL_OP_NEQREGEX) ok = !ok;
            if (!ok) continue;
        }
        if (st->kind == IQL_STMT_SHOW_MEASUREMENTS && !cond && tmin == INT64_MIN &&
            tmax == INT64_MAX) {
            struct iql_val v = sv(names[i]);
            if ((rc = rows_add(&meas, &v)) < 0) return rc;
            continue;
        }
        struct xtable *tb;
        rc = xload_table(x, ev, db, names[i], tmin, tmax, cond, false, NULL, 0, true, &tb);
        if (rc < 0) return rc;
        if (!tb) continue;
        struct rows r = {x->arena, 2, 0, 0, NULL};
        bool anyrow = false;
        for (size_t s = 0; s < tb->nser; s++) {
            const struct xseries *xs = tb->ser[s];
            if (!xs->n) continue;
            anyrow = true;
            if (st->kind == IQL_STMT_SHOW_SERIES) {
                struct iql_val v = sv(xs->key);
                if ((rc = rows_add(&all, &v)) < 0) return rc;
            } else if (st->kind == IQL_STMT_SHOW_TAG_VALUES) {
                for (size_t t = 0; t < tb->nt; t++) {
                    if (!xs->tagv[t]) continue;
                    int km = key_matches(ev, m, tb->tkey[t]);
                    if (km < 0) return km;
                    if (!km) continue;
                    struct iql_val v[2] = {sv(tb->tkey[t]), sv(xs->tagv[t])};
                    if ((rc = rows_add(&r, v)) < 0) return rc;
                }
            }
        }
        if (st->kind == IQL_STMT_SHOW_MEASUREMENTS && anyrow) {
            struct iql_val v = sv(names[i]);
            if ((rc = rows_add(&meas, &v)) < 0) return rc;
        }
        if (st->kind == IQL_STMT_SHOW_TAG_VALUES) {
            rows_finish(&r, true, m->limit, m->offset);
            const char **cols = cols_of(x, "key", "value");
            if (!cols) return SL_ENOMEM;
            if ((rc = add_series(x, out, &cap, names[i], cols, 2, &r)) < 0) return rc;
        }
    }
    if (st->kind == IQL_STMT_SHOW_SERIES) {
        rows_finish(&all, true, m->limit, m->offset);
        const char **cols = cols_of(x, "key", NULL);
        if (!cols) return SL_ENOMEM;
        return add_series(x, out, &cap, NULL, cols, 1, &all);
    }
    if (st->kind == IQL_STMT_SHOW_MEASUREMENTS) {
        rows_finish(&meas, true, m->limit, m->offset);
        const char **cols = cols_of(x, "name", NULL);
        if (!cols) return SL_ENOMEM;
        return add_series(x, out, &cap, "measurements", cols, 1, &meas);
    }
    return 0;
}

static size_t shard_group_ns(int64_t retention)
{
    const int64_t h = 3600LL * SL_NS_PER_S;
    if (retention <= 0) return (size_t)(168 * h);
    if (retention < 2 * 24 * h) return (size_t)h;
    if (retention < 180 * 24 * h) return (size_t)(24 * h);
    return (size_t)(168 * h);
}

static int show_rps(struct iql_exec_ctx *x, const char *db, struct iql_result *out,
                    struct xerr *err)
{
    struct catalog *cat = x->eng->catalog;
    catalog_rdlock(cat);
    struct cat_db *d = catalog_db_get(cat, db, strlen(db));
    int64_t ret = d ? d->retention_ns : 0;
    catalog_unlock(cat);
    if (!d) return xerr_set(err, "database not found: %s", db);
    char dur[64], sg[64];
    sl_duration_format(ret, dur, sizeof(dur));
    sl_duration_format((int64_t)shard_group_ns(ret), sg, sizeof(sg));
    struct rows r = {x->arena, 5, 0, 0, NULL};
    struct iql_val v[5] = {sv("autogen"),
                           sv(dup_s(x, dur)),
                           sv(dup_s(x, sg)),
                           {.kind = IQLV_INT, .u.i = 1},
                           {.kind = IQLV_BOOL, .u.b = 1}};
    if (!v[1].u.s || !v[2].u.s) return SL_ENOMEM;
    int rc = rows_add(&r, v);
    if (rc < 0) return rc;
    const char **cols = sl_arena_alloc(x->arena, 5 * sizeof(char *));
    if (!cols) return SL_ENOMEM;
    cols[0] = "name";
    cols[1] = "duration";
    cols[2] = "shardGroupDuration";
    cols[3] = "replicaN";
    cols[4] = "default";
    size_t cap = 0;
    return add_series(x, out, &cap, NULL, cols, 5, &r);
}

/* ---- DELETE / DROP SERIES ---- */

/* Whether a time comparison appears anywhere under an OR (its bound could
 * not be applied exactly) or at all (any_time). */
static void time_terms(const struct iql_expr *e, bool under_or, bool *bad, bool *any_time,
                       int depth)
{
    if (!e || depth > IQL_MAX_DEPTH * 4) return;
    if (iql_expr_is_time_cmp(e)) {
        *any_time = true;
        if (under_or) *bad = true;
        return;
    }
    if (e->kind == IQL_EXPR_VARREF && !strcmp(e->u.ref.name, "time")) *any_time = true;
    if (e->kind != IQL_EXPR_BINARY) return;
    bool o = under_or || e->u.bin.op == IQL_OP_OR;
    time_terms(e->u.bin.lhs, o, bad, any_time, depth + 1);
    time_terms(e->u.bin.rhs, o, bad, any_time, depth + 1);
}

/* Is name a field of a measurement the statement covers? */
static bool is_field(struct iql_exec_ctx *x, const char *db, const char **names, size_t nn,
                     const char *name)
{
    struct catalog *cat = x->eng->catalog;
    bool f = false;
    catalog_rdlock(cat);
    struct cat_db *d = catalog_db_get(cat, db, strlen(db));
    for (size_t i = 0; d && !f && i < (names ? nn : d->ntables); i++) {
        struct cat_table *t =
            names ? cat_db_table_get(d, names[i], strlen(names[i])) : d->tables[i];
        if (!t || t->deleted) continue;
        struct cat_column *c = cat_table_column_get(t, name, strlen(name));
        f = c && c->kind == CAT_COL_FIELD;
    }
    catalog_unlock(cat);
    return f;
}

/* Translates the condition on tags (time terms removed) into a predicate. */
static int cond_to_del(struct iql_exec_ctx *x, const char *db, const char **names, size_t nn,
                       const struct iql_expr *e, int depth, struct del_node **out, struct xerr *err)
{
    *out = NULL;
    if (depth > IQL_MAX_DEPTH) return xerr_set(err, "condition too deeply nested");
    if (e->kind == IQL_EXPR_BOOLEAN && e->u.b) {
        *out = del_node_new(DEL_TRUE, NULL, NULL, NULL, NULL);
        return *out ? 0 : SL_ENOMEM;
    }
    if (e->kind != IQL_EXPR_BINARY) goto bad;
    enum iql_op op = e->u.bin.op;
    if (op == IQL_OP_AND || op == IQL_OP_OR) {
        struct del_node *l, *r;
        int rc = cond_to_del(x, db, names, nn, e->u.bin.lhs, depth + 1, &l, err);
        if (rc < 0) return rc;
        if ((rc = cond_to_del(x, db, names, nn, e->u.bin.rhs, depth + 1, &r, err)) < 0) {
            del_node_free(l);
            return rc;
        }
        *out = del_node_new(op == IQL_OP_AND ? DEL_AND : DEL_OR, NULL, NULL, l, r);
        return *out ? 0 : SL_ENOMEM;
    }
    const struct iql_expr *ref = e->u.bin.lhs, *val = e->u.bin.rhs;
    if (ref->kind != IQL_EXPR_VARREF && (op == IQL_OP_EQ || op == IQL_OP_NEQ)) {
        ref = e->u.bin.rhs;
        val = e->u.bin.lhs;
    }
    if (ref->kind != IQL_EXPR_VARREF) goto bad;
    const char *key = ref->u.ref.name;
    if (ref->u.ref.type == IQL_TYPE_FIELD || is_field(x, db, names, nn, key))
        return xerr_set(err, "fields not supported in WHERE clause during deletion");
    enum del_op dop;
    if ((op == IQL_OP_EQ || op == IQL_OP_NEQ) && val->kind == IQL_EXPR_STRING)
        dop = op == IQL_OP_EQ ? DEL_TAG_EQ : DEL_TAG_NE;
    else if ((op == IQL_OP_EQREGEX || op == IQL_OP_NEQREGEX) && val->kind == IQL_EXPR_REGEX)
        dop = op == IQL_OP_EQREGEX ? DEL_TAG_RE : DEL_TAG_NRE;
    else
        goto bad;
    *out = del_node_new(dop, key, val->u.s, NULL, NULL);
    return *out ? 0 : SL_ENOMEM;
bad:;
    struct sl_buf b;
    sl_buf_init(&b, 0);
    iql_expr_format(e, &b);
    int rc = xerr_set(err,
                      "unsupported condition in a deletion: %s (tags compare with = != =~ "
                      "!~ against a string or regex)",
                      b.ptr ? b.ptr : "?");
    sl_buf_release(&b);
    return rc;
}

static int run_delete(struct iql_exec_ctx *x, const struct iql_stmt *st, struct xerr *err)
{
    const struct iql_meta *m = &st->meta;
    bool drop_series = st->kind == IQL_STMT_DROP_SERIES;
    const char *db = x->db;
    for (size_t i = 0; i < m->nsources; i++)
        if (m->sources[i].m.database) db = m->sources[i].m.database;
    if (!db || !*db) return xerr_set(err, "database name required");
    if (x->allowed && !x->allowed(x->allowed_ud, db, 2))
        return xerr_set(err, "error authorizing query: not authorized to write database \"%s\"",
                        db);
    struct del_pred p = {INT64_MIN, INT64_MAX, NULL};
    int rc = 0;
    /* FROM: explicit names (for the field check) and the measurement predicate */
    const char **names = NULL;
    size_t nn = 0;
    struct del_node *from = NULL;
    if (m->nsources) {
        names = sl_arena_alloc(x->arena, m->nsources * sizeof(*names));
        if (!names) return SL_ENOMEM;
    }
    for (size_t i = 0; i < m->nsources && rc == 0; i++) {
        const struct iql_measurement *mm = &m->sources[i].m;
        if (m->sources[i].subquery || (!mm->name && !mm->regex)) {
            rc = xerr_set(err, "%s FROM takes measurement names or regexes",
                          drop_series ? "DROP SERIES" : "DELETE");
            break;
        }
        if (mm->name) names[nn++] = mm->name;
        struct del_node *n = del_node_new(mm->regex ? DEL_NAME_RE : DEL_NAME_EQ, NULL,
                                          mm->regex ? mm->regex : mm->name, NULL, NULL);
        from = n && from ? del_node_new(DEL_OR, NULL, NULL, from, n) : n ? n : from;
        if (!n || !from) rc = SL_ENOMEM;
    }
    /* with a regex in FROM the field check covers every measurement */
    bool any_re = false;
    for (size_t i = 0; i < m->nsources; i++)
        any_re |= m->sources[i].m.regex != NULL;
    const char **check = any_re || !m->nsources ? NULL : names;
    struct del_node *tags = NULL;
    if (rc == 0 && m->cond) {
        bool bad = false, any_time = false;
        time_terms(m->cond, false, &bad, &any_time, 0);
        char msg[256];
        if (drop_series && any_time)
            rc = xerr_set(err, "DROP SERIES doesn't support time in WHERE clause");
        else if (bad)
            rc = xerr_set(err, "time conditions of a deletion must be joined with AND");
        else if (iql_cond_time_range(m->cond, x->now_ns, &p.tmin, &p.tmax, msg, sizeof(msg)) < 0)
            rc = xerr_set(err, "%s", msg);
        struct iql_expr *rest = NULL;
        if (rc == 0) rest = iql_cond_without_time(m->cond, x->arena, &rc);
        if (rc == 0 && rest) rc = cond_to_del(x, db, check, nn, rest, 0, &tags, err);
    }
    if (rc == 0) {
        if (from && tags) {
            if (!(p.root = del_node_new(DEL_AND, NULL, NULL, from, tags))) rc = SL_ENOMEM;
        } else {
            p.root = from ? from : tags;
        }
        from = tags = NULL;
    }
    del_node_free(from);
    del_node_free(tags);
    char msg[256];
    if (rc == 0)
        rc = del_pred_compile(&p, msg, sizeof(msg)) == SL_EINVAL ? xerr_set(err, "%s", msg) : 0;
    if (rc == 0) {
        int r = storage_delete(x->eng, db, strlen(db), &p, NULL);
        if (r == SL_ENOENT)
            rc = xerr_set(err, "database not found: %s", db);
        else if (r < 0)
            rc = xerr_set(err, "cannot delete: %s", sl_strerror(r));
    }
    del_pred_release(&p);
    return rc;
}

int xmeta_run(struct iql_exec_ctx *x, const struct iql_stmt *st, struct iql_result *out,
              struct xerr *err)
{
    struct xeval ev = {.a = x->arena, .now = x->now_ns, .err = err};
    const char *db = NULL;
    int rc = 0;
    switch (st->kind) {
    case IQL_STMT_SHOW_DATABASES: {
        struct catalog *cat = x->eng->catalog;
        struct rows r = {x->arena, 1, 0, 0, NULL};
        catalog_rdlock(cat);
        for (size_t i = 0; i < cat->ndbs && rc == 0; i++) {
            struct cat_db *d = cat->dbs[i];
            if (d->deleted || (x->allowed && !x->allowed(x->allowed_ud, d->name, 1))) continue;
            struct iql_val v = sv(dup_s(x, d->name));
            rc = v.u.s ? rows_add(&r, &v) : SL_ENOMEM;
        }
        catalog_unlock(cat);
        if (rc < 0) break;
        const char **cols = cols_of(x, "name", NULL);
        if (!cols) return SL_ENOMEM;
        size_t cap = 0;
        /* 1.x lists databases in creation order and always returns the series */
        const char *nm = "databases";
        if (r.n == 0) {
            out->series = sl_arena_alloc(x->arena, sizeof(*out->series));
            if (!out->series) return SL_ENOMEM;
            memset(out->series, 0, sizeof(*out->series));
            out->series->name = nm;
            out->series->ncols = 1;
            out->series->cols = cols;
            out->nseries = 1;
            break;
        }
        rc = add_series(x, out, &cap, nm, cols, 1, &r);
        break;
    }
    case IQL_STMT_SHOW_MEASUREMENTS:
    case IQL_STMT_SHOW_TAG_VALUES:
    case IQL_STMT_SHOW_SERIES:
        if ((rc = need_db(x, st->meta.database, &db, err)) < 0) break;
        rc = show_from_series(x, &ev, st, db, out);
        break;
    case IQL_STMT_SHOW_TAG_KEYS:
    case IQL_STMT_SHOW_FIELD_KEYS:
        if ((rc = need_db(x, st->meta.database, &db, err)) < 0) break;
        rc = show_keys(x, &ev, st, db, out);
        break;
    case IQL_STMT_SHOW_RETENTION_POLICIES:
        if ((rc = need_db(x, st->meta.database, &db, err)) < 0) break;
        rc = show_rps(x, db, out, err);
        break;
    case IQL_STMT_CREATE_DATABASE: {
        if (!x->admin) {
            rc = xerr_set(err, "error authorizing query: CREATE DATABASE requires admin privilege");
            break;
        }
        const char *bad = catalog_name_invalid(st->admin.name, strlen(st->admin.name));
        if (bad) {
            rc = xerr_set(err, "%s", bad);
            break;
        }
        int64_t ret = st->admin.with_rp && st->admin.rp.has_duration ? st->admin.rp.duration : 0;
        if (ret != 0 && ret < 3600LL * SL_NS_PER_S) {
            rc = xerr_set(err, "retention policy duration must be at least 1h0m0s");
            break;
        }
        int r = engine_db_create(x->eng, st->admin.name, strlen(st->admin.name), ret);
        if (r < 0 && r != SL_EEXIST)
            rc = xerr_set(err, "cannot create database \"%s\": %s", st->admin.name, sl_strerror(r));
        break;
    }
    case IQL_STMT_DROP_DATABASE: {
        if (!x->admin) {
            rc = xerr_set(err, "error authorizing query: DROP DATABASE requires admin privilege");
            break;
        }
        int r = engine_db_drop(x->eng, st->admin.name, strlen(st->admin.name));
        if (r < 0 && r != SL_ENOENT)
            rc = xerr_set(err, "cannot drop database \"%s\": %s", st->admin.name, sl_strerror(r));
        break;
    }
    case IQL_STMT_DROP_MEASUREMENT: {
        db = x->db;
        if (!db || !*db) {
            rc = xerr_set(err, "database name required");
            break;
        }
        if (x->allowed && !x->allowed(x->allowed_ud, db, 2)) {
            rc = xerr_set(err, "error authorizing query: not authorized to write database \"%s\"",
                          db);
            break;
        }
        int r = storage_drop_table(x->eng, db, strlen(db), st->admin.name, strlen(st->admin.name));
        /* 1.6 answers success for a measurement that does not exist */
        if (r < 0 && r != SL_ENOENT)
            rc = xerr_set(err, "cannot drop measurement: %s", sl_strerror(r));
        break;
    }
    case IQL_STMT_DELETE:
    case IQL_STMT_DROP_SERIES: rc = run_delete(x, st, err); break;
    case IQL_STMT_EXPLAIN:
        rc = xerr_set(err, "EXPLAIN is not supported by sluice's InfluxQL");
        break;
    default: rc = xerr_set(err, "statement not supported by sluice"); break;
    }
    xre_cache_free(ev.re);
    return rc;
}
