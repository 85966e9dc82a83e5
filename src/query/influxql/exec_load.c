/*
 * exec_load.c — loads a measurement's rows from storage into an executor
 * table (struct xtable): one xseries per tag set, rows in time order, only
 * the fields the statement references, filtered by the WHERE condition
 * (without its time terms; the time range goes to storage_scan).
 *
 * Series keys are built the way InfluxDB 1.x prints them (SHOW SERIES):
 * measurement,k1=v1,k2=v2 with keys sorted and `,`, `=` and space escaped.
 */
#include <stdlib.h>
#include <string.h>

#include "catalog/catalog.h"
#include "common/err.h"
#include "common/hash.h"
#include "common/mem.h"
#include "query/influxql/exec_int.h"
#include "storage/engine.h"
#include "storage/scan.h"

struct load_ctx {
    struct iql_exec_ctx *x;
    struct xeval *ev;
    struct xtable *tb;
    const struct iql_expr *cond;
    uint32_t *fcol; /* catalog column id of each field slot */
    uint32_t *tcol; /* catalog column id of each tag slot */
    /* series key -> series */
    struct xseries **map;
    const char **mapkeys;
    size_t mapcap, nser, sercap;
    const char *lastkey;
    struct xseries *last;
    int rc; /* error of series_for other than SL_ENOMEM */
    bool series_only;
};

struct xseries *xt_series_add(struct sl_arena *a, struct xtable *t)
{
    struct xseries *s = sl_arena_alloc(a, sizeof(*s));
    if (!s) return NULL;
    memset(s, 0, sizeof(*s));
    s->tagv = sl_arena_alloc(a, (t->nt ? t->nt : 1) * sizeof(char *));
    if (!s->tagv) return NULL;
    memset(s->tagv, 0, (t->nt ? t->nt : 1) * sizeof(char *));
    return s;
}

/* Makes room for need rows (at least doubling). */
static int xs_reserve(struct sl_arena *a, const struct xtable *t, struct xseries *s, size_t need)
{
    if (need > s->cap) {
        size_t nc = s->cap ? s->cap * 2 : 16;
        if (nc < need) nc = need;
        int64_t *nt = sl_arena_alloc(a, nc * sizeof(int64_t));
        struct iql_val *nv = sl_arena_alloc(a, nc * (t->nf ? t->nf : 1) * sizeof(struct iql_val));
        if (!nt || !nv) return SL_ENOMEM;
        if (s->n) {
            memcpy(nt, s->t, s->n * sizeof(int64_t));
            memcpy(nv, s->v, s->n * t->nf * sizeof(struct iql_val));
        }
        s->t = nt;
        s->v = nv;
        s->cap = nc;
    }
    return 0;
}

/* Appends a row (values null) to s; arrays grow in the arena. */
int xs_push(struct sl_arena *a, const struct xtable *t, struct xseries *s, int64_t time)
{
    if (xs_reserve(a, t, s, s->n + 1) < 0) return SL_ENOMEM;
    s->t[s->n] = time;
    memset(s->v + s->n * t->nf, 0, t->nf * sizeof(struct iql_val));
    s->n++;
    return 0;
}

static int add_escaped(struct sl_buf *b, const char *s)
{
    for (; *s; s++) {
        if (*s == ',' || *s == '=' || *s == ' ')
            if (sl_buf_addc(b, '\\') < 0) return SL_ENOMEM;
        if (sl_buf_addc(b, *s) < 0) return SL_ENOMEM;
    }
    return 0;
}

static int map_grow(struct load_ctx *c)
{
    size_t ncap = c->mapcap ? c->mapcap * 2 : 256;
    struct xseries **nm = sl_calloc(ncap, sizeof(*nm));
    const char **nk = sl_calloc(ncap, sizeof(*nk));
    if (!nm || !nk) {
        sl_free(nm);
        sl_free(nk);
        return SL_ENOMEM;
    }
    for (size_t i = 0; i < c->mapcap; i++) {
        if (!c->mapkeys[i]) continue;
        size_t h = sl_hash64(c->mapkeys[i], strlen(c->mapkeys[i]), 0) & (ncap - 1);
        while (nk[h])
            h = (h + 1) & (ncap - 1);
        nk[h] = c->mapkeys[i];
        nm[h] = c->map[i];
    }
    sl_free(c->map);
    sl_free(c->mapkeys);
    c->map = nm;
    c->mapkeys = nk;
    c->mapcap = ncap;
    return 0;
}

static struct xseries *series_for(struct load_ctx *c, const struct scan_chunk *ch, size_t row)
{
    const char *key = ch->keys[row];
    if (c->lastkey && (c->lastkey == key || strcmp(c->lastkey, key) == 0)) return c->last;
    if ((c->nser + 1) * 2 > c->mapcap && map_grow(c) < 0) return NULL;
    size_t h = sl_hash64(key, strlen(key), 0) & (c->mapcap - 1);
    while (c->mapkeys[h]) {
        if (strcmp(c->mapkeys[h], key) == 0) {
            c->lastkey = c->mapkeys[h];
            c->last = c->map[h];
            return c->last;
        }
        h = (h + 1) & (c->mapcap - 1);
    }
    struct sl_arena *a = c->x->arena;
    struct xtable *tb = c->tb;
    struct xseries *s = xt_series_add(a, tb);
    char *k = sl_arena_strndup(a, key, strlen(key));
    if (!s || !k) return NULL;
    struct sl_buf kb;
    sl_buf_init(&kb, 0);
    int bad = add_escaped(&kb, tb->name) < 0;
    for (size_t i = 0; i < tb->nt && !bad; i++) {
        uint32_t id = c->tcol[i];
        if (id >= ch->ncols || !ch->cols[id].present || !ch->cols[id].valid[row]) continue;
        const struct buf_str *sv = &ch->cols[id].v.s[row];
        if (!sv->len) continue;
        s->tagv[i] = sl_arena_strndup(a, sv->ptr, sv->len);
        if (!s->tagv[i])
            bad = 1;
        else if (sl_buf_addc(&kb, ',') < 0 || add_escaped(&kb, tb->tkey[i]) < 0 ||
                 sl_buf_addc(&kb, '=') < 0 || add_escaped(&kb, s->tagv[i]) < 0)
            bad = 1;
    }
    if (!bad) s->key = sl_arena_strndup(a, kb.ptr ? kb.ptr : "", kb.len);
    sl_buf_release(&kb);
    if (bad || !s->key) return NULL;
    s->tagcond = xeval_tags(c->ev, c->cond, tb, s->tagv, 0);
    if (s->tagcond < 0) {
        c->rc = s->tagcond;
        return NULL;
    }
    if (c->nser == c->sercap) {
        size_t nc = c->sercap ? c->sercap * 2 : 64;
        struct xseries **ns = sl_arena_alloc(a, nc * sizeof(*ns));
        if (!ns) return NULL;
        if (c->nser) memcpy(ns, tb->ser, c->nser * sizeof(*ns));
        tb->ser = ns;
        c->sercap = nc;
    }
    tb->ser[c->nser++] = s;
    tb->nser = c->nser;
    c->mapkeys[h] = k;
    c->map[h] = s;
    c->lastkey = k;
    c->last = s;
    return s;
}

static int on_chunk(void *ctx, const struct cat_table *t, const struct scan_chunk *ch)
{
    (void)t;
    struct load_ctx *c = ctx;
    struct xtable *tb = c->tb;
    struct sl_arena *a = c->x->arena;
    for (size_t r = 0; r < ch->nrows; r++) {
        struct xseries *s = series_for(c, ch, r);
        if (!s) return c->rc < 0 ? c->rc : SL_ENOMEM;
        if (s->tagcond == 0) continue; /* the tags alone rule the series out */
        /* SHOW statements only need to know that a matching row exists */
        if (c->series_only && s->n && (s->tagcond == 1 || !c->cond)) continue;
        if (s->n == s->cap) {
            /* rows of a series are contiguous in a chunk: reserve the run */
            size_t run = 1;
            while (r + run < ch->nrows && (ch->keys[r + run] == ch->keys[r] ||
                                           strcmp(ch->keys[r + run], ch->keys[r]) == 0))
                run++;
            if (xs_reserve(a, tb, s, s->n + run) < 0) return SL_ENOMEM;
        }
        s->t[s->n++] = ch->time[r];
        struct iql_val *v = s->v + (s->n - 1) * tb->nf;
        for (size_t f = 0; f < tb->nf; f++) {
            uint32_t id = c->fcol[f];
            v[f].kind = IQLV_NULL;
            if (id >= ch->ncols) continue;
            const struct buf_col *col = &ch->cols[id];
            if (!col->present || !col->valid[r]) continue;
            switch (col->type) {
            case LP_FLOAT:
                v[f].kind = IQLV_FLOAT;
                v[f].u.f = col->v.f[r];
                break;
            case LP_INTEGER:
                v[f].kind = IQLV_INT;
                v[f].u.i = col->v.i[r];
                break;
            case LP_UNSIGNED:
                v[f].kind = IQLV_UINT;
                v[f].u.u = col->v.u[r];
                break;
            case LP_BOOLEAN:
                v[f].kind = IQLV_BOOL;
                v[f].u.b = col->v.b[r] != 0;
                break;
            case LP_STRING:
                v[f].kind = IQLV_STR;
                v[f].u.s = sl_arena_strndup(a, col->v.s[r].ptr, col->v.s[r].len);
                if (!v[f].u.s) return SL_ENOMEM;
                break;
            }
        }
        if (c->cond && s->tagcond != 1) {
            struct xrow row = {tb, s, s->n - 1};
            struct iql_val res;
            c->ev->where = true;
            int rc = xeval_row(c->ev, c->cond, &row, &res);
            c->ev->where = false;
            if (rc < 0) return rc;
            if (!xval_truthy(&res)) s->n--;
        }
    }
    return 0;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static int cmp_series(const void *a, const void *b)
{
    const struct xseries *x = *(const struct xseries *const *)a;
    const struct xseries *y = *(const struct xseries *const *)b;
    return strcmp(x->key, y->key);
}

static uint8_t kind_of(enum lp_type t)
{
    switch (t) {
    case LP_FLOAT: return IQLV_FLOAT;
    case LP_INTEGER: return IQLV_INT;
    case LP_UNSIGNED: return IQLV_UINT;
    case LP_STRING: return IQLV_STR;
    case LP_BOOLEAN: return IQLV_BOOL;
    }
    return IQLV_NULL;
}

int xload_table(struct iql_exec_ctx *x, struct xeval *ev, const char *db, const char *name,
                int64_t tmin, int64_t tmax, const struct iql_expr *cond, bool all_fields,
                const char **need, size_t nneed, bool series_only, struct xtable **out)
{
    struct catalog *cat = x->eng->catalog;
    struct sl_arena *a = x->arena;
    struct load_ctx c;
    memset(&c, 0, sizeof(c));
    int rc = 0;
    *out = NULL;
    catalog_rdlock(cat);
    struct cat_db *d = catalog_db_get(cat, db, strlen(db));
    struct cat_table *t = d ? cat_db_table_get(d, name, strlen(name)) : NULL;
    if (!t) goto out;
    struct xtable *tb = sl_arena_alloc(a, sizeof(*tb));
    if (!tb) goto nomem;
    memset(tb, 0, sizeof(*tb));
    tb->name = sl_arena_strndup(a, t->name, strlen(t->name));
    tb->fname = sl_arena_alloc(a, (t->ncols + 1) * sizeof(char *));
    tb->ftype = sl_arena_alloc(a, t->ncols + 1);
    tb->tkey = sl_arena_alloc(a, (t->ncols + 1) * sizeof(char *));
    c.fcol = sl_arena_alloc(a, (t->ncols + 1) * sizeof(uint32_t));
    c.tcol = sl_arena_alloc(a, (t->ncols + 1) * sizeof(uint32_t));
    if (!tb->name || !tb->fname || !tb->ftype || !tb->tkey || !c.fcol || !c.tcol) goto nomem;
    for (size_t i = 0; i < t->ncols; i++) {
        const struct cat_column *col = &t->cols[i];
        if (col->kind == CAT_COL_TAG) {
            tb->tkey[tb->nt++] = col->name;
        } else if (col->kind == CAT_COL_FIELD) {
            bool want = all_fields;
            for (size_t k = 0; k < nneed && !want; k++)
                want = strcmp(need[k], col->name) == 0;
            if (!want) continue;
            tb->fname[tb->nf] = col->name;
            tb->ftype[tb->nf] = kind_of(col->type);
            c.fcol[tb->nf++] = col->id;
        }
    }
    qsort(tb->tkey, tb->nt, sizeof(char *), cmp_str);
    for (size_t i = 0; i < tb->nt; i++) {
        struct cat_column *col = cat_table_column_get(t, tb->tkey[i], strlen(tb->tkey[i]));
        c.tcol[i] = col ? col->id : UINT32_MAX;
        tb->tkey[i] = sl_arena_strndup(a, tb->tkey[i], strlen(tb->tkey[i]));
        if (!tb->tkey[i]) goto nomem;
    }
    for (size_t i = 0; i < tb->nf; i++) {
        tb->fname[i] = sl_arena_strndup(a, tb->fname[i], strlen(tb->fname[i]));
        if (!tb->fname[i]) goto nomem;
    }
    c.x = x;
    c.ev = ev;
    c.tb = tb;
    c.cond = cond;
    c.series_only = series_only;
    rc = storage_scan(x->eng, d, t, tmin, tmax, on_chunk, &c);
    if (rc < 0) goto out;
    if (tb->nser > 1) qsort(tb->ser, tb->nser, sizeof(*tb->ser), cmp_series);
    *out = tb;
    goto out;
nomem:
    rc = SL_ENOMEM;
out:
    catalog_unlock(cat);
    sl_free(c.map);
    sl_free(c.mapkeys);
    return rc;
}

int xload_measurements(struct iql_exec_ctx *x, struct xeval *ev, const char *db, const char *re,
                       const char ***names, size_t *n)
{
    struct catalog *cat = x->eng->catalog;
    int rc = 0;
    *names = NULL;
    *n = 0;
    catalog_rdlock(cat);
    struct cat_db *d = catalog_db_get(cat, db, strlen(db));
    if (!d) goto out;
    const char **arr = sl_arena_alloc(x->arena, (d->ntables + 1) * sizeof(char *));
    if (!arr) {
        rc = SL_ENOMEM;
        goto out;
    }
    size_t k = 0;
    for (size_t i = 0; i < d->ntables; i++) {
        struct cat_table *t = d->tables[i];
        if (t->deleted) continue;
        if (re) {
            int m = xre_match(ev, re, t->name);
            if (m < 0) {
                rc = m;
                goto out;
            }
            if (!m) continue;
        }
        arr[k] = sl_arena_strndup(x->arena, t->name, strlen(t->name));
        if (!arr[k]) {
            rc = SL_ENOMEM;
            goto out;
        }
        k++;
    }
    qsort(arr, k, sizeof(char *), cmp_str);
    *names = arr;
    *n = k;
out:
    catalog_unlock(cat);
    return rc;
}
