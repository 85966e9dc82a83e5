/* fixture_engine.c — the unit tests' engine set-up, writes and row counts
 * (see fixture_engine.h). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "catalog/catalog.h"
#include "storage/scan.h"
#include "support/fixture_engine.h"

struct engine *fx_open_engine(const char *dir)
{
    struct engine_opts o = {.data_dir = dir};
    struct engine *e = NULL;
    char err[512] = "";
    int rc = engine_open(&o, &e, err, sizeof(err));
    if (rc != 0) fprintf(stderr, "engine_open: %s\n", err);
    assert_int_equal(rc, 0);
    return e;
}

static int write_at(struct engine *e, const char *db, const char *body, size_t len,
                    enum lp_precision p, int64_t now_ns, int all_or_nothing,
                    struct write_result *res)
{
    struct write_req r = {.db = db,
                          .db_len = strlen(db),
                          .body = body,
                          .len = len,
                          .precision = p,
                          .all_or_nothing = all_or_nothing,
                          .may_create_db = 1,
                          .now_ns = now_ns};
    memset(res, 0, sizeof(*res));
    return engine_write(e, &r, res);
}

int fx_write(struct engine *e, const char *db, const char *body, enum lp_precision p,
             int all_or_nothing, struct write_result *res)
{
    return write_at(e, db, body, strlen(body), p, FX_NOW_NS, all_or_nothing, res);
}

void fx_write_lp_at(struct engine *e, const char *db, const char *body, size_t len,
                    enum lp_precision p, int64_t now_ns)
{
    struct write_result res;
    assert_int_equal(write_at(e, db, body, len, p, now_ns, 0, &res), 0);
    if (res.rejected && res.nerrors)
        fprintf(stderr, "line %zu rejected: %s\n", res.errors[0].line, res.errors[0].message);
    assert_int_equal(res.rejected, 0);
    write_result_release(&res);
}

void fx_write_lp(struct engine *e, const char *db, const char *body, enum lp_precision p)
{
    fx_write_lp_at(e, db, body, strlen(body), p, FX_NOW_NS);
}

struct count_ctx {
    size_t rows;
    double sum;
    uint32_t col;
};

static int count_cb(void *arg, const struct cat_table *t, const struct scan_chunk *c)
{
    (void)t;
    struct count_ctx *cc = arg;
    cc->rows += c->nrows;
    const struct buf_col *col = cc->col < c->ncols ? &c->cols[cc->col] : NULL;
    for (size_t r = 0; col && col->present && r < c->nrows; r++)
        if (col->valid[r]) cc->sum += col->type == LP_FLOAT ? col->v.f[r] : (double)col->v.i[r];
    return 0;
}

size_t fx_count_rows(struct engine *e, const char *db, const char *table, const char *field,
                     double *sum)
{
    struct count_ctx cc = {0, 0, UINT32_MAX};
    catalog_rdlock(e->catalog);
    struct cat_db *d = catalog_db_get(e->catalog, db, strlen(db));
    struct cat_table *t = d ? cat_db_table_get(d, table, strlen(table)) : NULL;
    struct cat_column *c = t ? cat_table_column_get(t, field, strlen(field)) : NULL;
    if (c) cc.col = c->id;
    if (t) assert_int_equal(storage_scan(e, d, t, INT64_MIN, INT64_MAX, count_cb, &cc), 0);
    catalog_unlock(e->catalog);
    if (sum) *sum = cc.sum;
    return cc.rows;
}
