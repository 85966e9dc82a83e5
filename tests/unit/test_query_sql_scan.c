/* test_query_sql_scan.c — the pushdown the SQL engine relies on, checked at
 * the storage iterator: row-group pruning by time and tag statistics,
 * projection, tag filters, and deduplication when a file and the buffer
 * share a partition (with and without series keys). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "common/buf.h"
#include "common/err.h"
#include "storage/engine.h"
#include "storage/persist.h"
#include "storage/scan.h"
#include "support/fixture.h"
#include "support/fixture_engine.h"

#define T0       1734602400000000000LL /* an hour boundary */
#define PER_HOST 140000                /* 2 hosts: 280000 rows, two row groups */

struct result {
    size_t rows;
    double sum;
    int field_present, other_present, keys;
    struct scan_stats st;
};

/* Iterates with o and sums field "v" (column id vcol). */
static void run(struct engine *e, struct scan_opts *o, struct result *out)
{
    memset(out, 0, sizeof(*out));
    catalog_rdlock(e->catalog);
    struct cat_db *d = catalog_db_get(e->catalog, "db", 2);
    struct cat_table *t = cat_db_table_get(d, "m", 1);
    struct cat_column *v = cat_table_column_get(t, "v", 1);
    struct cat_column *w = cat_table_column_get(t, "w", 1);
    struct scan_iter *it;
    assert_int_equal(storage_scan_iter_open(e, d, t, o, &it), 0);
    const struct scan_chunk *ch;
    int rc;
    while ((rc = storage_scan_iter_next(it, &ch)) > 0) {
        out->rows += ch->nrows;
        out->keys |= ch->keys != NULL;
        const struct buf_col *c = &ch->cols[v->id];
        out->field_present |= c->present;
        out->other_present |= ch->cols[w->id].present;
        for (size_t r = 0; c->present && r < ch->nrows; r++)
            if (c->valid[r]) out->sum += c->v.f[r];
    }
    assert_int_equal(rc, 0);
    storage_scan_iter_stats(it, &out->st);
    storage_scan_iter_close(it);
    catalog_unlock(e->catalog);
}

static void test_pruning_projection_dedup(void **state)
{
    (void)state;
    struct engine *e = fx_open_engine(fx_dir());
    struct sl_buf b = SL_BUF_INIT;
    for (int h = 0; h < 2; h++)
        for (long i = 0; i < PER_HOST; i++)
            sl_buf_addf(&b, "m,host=%c v=%ld,w=1 %lld\n", 'a' + h, i % 7,
                        T0 + (long long)i * 20000000LL);
    fx_write_lp_at(e, "db", b.ptr, b.len, LP_PREC_NS, T0);
    sl_buf_release(&b);
    assert_int_equal(storage_persist(e, 1), 0);

    struct scan_opts o;
    struct result r;
    scan_opts_init(&o);
    run(e, &o, &r);
    assert_int_equal(r.rows, 2 * PER_HOST);
    assert_true(r.keys);
    assert_int_equal(r.st.row_groups, 2);
    assert_int_equal(r.st.row_groups_pruned, 0);

    /* host = 'b' cannot prune (b spans both groups); host = 'a' prunes the second */
    struct scan_str va = {"a", 1};
    struct scan_tag_filter tf = {1, &va, 1};
    uint8_t need[8] = {1, 0, 1, 0}; /* time, v (w not needed) */
    catalog_rdlock(e->catalog);
    struct cat_table *t = cat_db_table_get(catalog_db_get(e->catalog, "db", 2), "m", 1);
    tf.col = cat_table_column_get(t, "host", 4)->id;
    uint32_t vid = cat_table_column_get(t, "v", 1)->id, wid = cat_table_column_get(t, "w", 1)->id;
    catalog_unlock(e->catalog);
    memset(need, 0, sizeof(need));
    need[0] = need[vid] = 1;
    (void)wid;
    o.tags = &tf;
    o.ntags = 1;
    o.need = need;
    o.nneed = sizeof(need);
    o.no_keys = 1;
    run(e, &o, &r);
    assert_int_equal(r.rows, PER_HOST);
    assert_int_equal(r.st.row_groups_pruned, 1);
    assert_true(r.field_present);
    assert_false(r.other_present); /* projection: w not decoded */
    assert_false(r.keys);
    double sum_a = r.sum;
    /* rows are selected inside a row group: the first group's host b rows
     * are never loaded */
    assert_int_equal(r.st.rows_loaded, PER_HOST);

    /* IN over both hosts with a time range: the rows in range of each group,
     * copied from both groups (a's from the first, b's from the second) */
    struct scan_str vab[2] = {{"a", 1}, {"b", 1}};
    struct scan_tag_filter tfab = {tf.col, vab, 2};
    o.tags = &tfab;
    o.min_time = T0 + 130000LL * 20000000LL;
    run(e, &o, &r);
    double want = 0;
    for (long i = 130000; i < PER_HOST; i++)
        want += 2 * (i % 7);
    assert_int_equal(r.rows, 2 * (PER_HOST - 130000));
    assert_int_equal(r.st.rows_loaded, 2 * (PER_HOST - 130000));
    assert_true(r.sum == want);
    assert_int_equal(r.st.row_groups_pruned, 0);

    /* two filters on the same tag (host = 'a' AND host IN ('a', 'b')) */
    struct scan_tag_filter two[2] = {tf, tfab};
    o.tags = two;
    o.ntags = 2;
    o.min_time = INT64_MIN;
    run(e, &o, &r);
    assert_int_equal(r.rows, PER_HOST);
    assert_true(r.sum == sum_a);
    /* ... and with the tag projected: values come from the filter's column */
    need[tf.col] = 1;
    run(e, &o, &r);
    assert_int_equal(r.rows, PER_HOST);
    need[tf.col] = 0;
    o.min_time = INT64_MIN;

    /* a time range before the second group's rows prunes it by statistics */
    scan_opts_init(&o);
    o.max_time = T0 + 1000LL * 20000000LL;
    run(e, &o, &r);
    assert_int_equal(r.rows, 2 * 1001);
    assert_int_equal(r.st.row_groups_pruned, 1);

    /* overwrite a row of host a in the buffer: merged with the file, newest wins */
    const char *upd = "m,host=a v=1000 1734602400000000000\n"; /* was v=0 */
    fx_write_lp_at(e, "db", upd, strlen(upd), LP_PREC_NS, T0);
    scan_opts_init(&o);
    o.tags = &tf;
    o.ntags = 1;
    o.need = need;
    o.nneed = sizeof(need);
    o.no_keys = 1;
    run(e, &o, &r);
    assert_int_equal(r.rows, PER_HOST);
    assert_true(r.sum == sum_a + 1000);
    assert_int_equal(r.st.files, 1);
    /* the same with keys asked for */
    o.no_keys = 0;
    run(e, &o, &r);
    assert_int_equal(r.rows, PER_HOST);
    assert_true(r.keys);
    /* a filter value no row has */
    struct scan_str vz = {"zz", 2};
    tf.vals = &vz;
    run(e, &o, &r);
    assert_int_equal(r.rows, 0);
    assert_int_equal(r.st.row_groups_pruned, 2);
    engine_close(e);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_pruning_projection_dedup, fx_setup, fx_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
