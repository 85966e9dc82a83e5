/* test_storage_persist.c — persistence: a forced persist writes out every
 * buffered partition (also far more than one batch of them), files follow the
 * layout, the WAL is trimmed, and a restart reads the same rows. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "common/buf.h"
#include "common/err.h"
#include "parquet/parquet.h"
#include "storage/engine.h"
#include "storage/persist.h"
#include "storage/scan.h"
#include "support/fixture.h"
#include "support/fixture_engine.h"

static int count_cb(void *arg, const struct cat_table *t, const struct scan_chunk *c)
{
    (void)t;
    *(size_t *)arg += c->nrows;
    return 0;
}

static size_t rows_and_files(struct engine *e, size_t *nfiles)
{
    size_t rows = 0;
    catalog_rdlock(e->catalog);
    struct cat_db *d = catalog_db_get(e->catalog, "db", 2);
    struct cat_table *t = d ? cat_db_table_get(d, "m", 1) : NULL;
    assert_non_null(t);
    *nfiles = t->nfiles;
    assert_int_equal(storage_scan(e, d, t, INT64_MIN, INT64_MAX, count_cb, &rows), 0);
    catalog_unlock(e->catalog);
    return rows;
}

static void test_forced_persist_writes_every_partition(void **state)
{
    (void)state;
    enum { PARTS = 200 };
    struct engine *e = fx_open_engine(fx_dir());
    struct sl_buf body;
    sl_buf_init(&body, 0);
    /* newest first: one point per hour for PARTS hours, two series */
    for (int h = PARTS - 1; h >= 0; h--)
        for (int s = 0; s < 2; s++)
            sl_buf_addf(&body, "m,host=s%d v=%di %lld\n", s, h, 1700000000LL + h * 3600LL);
    struct write_result res;
    assert_int_equal(fx_write(e, "db", body.ptr, LP_PREC_S, 0, &res), 0);
    assert_int_equal(res.accepted, 2 * PARTS);
    write_result_release(&res);
    sl_buf_release(&body);
    assert_int_equal(storage_persist(e, 1), 0);
    size_t nf;
    assert_int_equal(rows_and_files(e, &nf), 2 * PARTS);
    /* 1700000000 is 22:13:20, so PARTS hours span PARTS + 0 or 1 partitions */
    assert_int_equal(nf, PARTS);
    /* nothing is left in the buffer: no partition, active or sealed */
    catalog_rdlock(e->catalog);
    struct cat_db *db = catalog_db_get(e->catalog, "db", 2);
    struct buf_table *bt = buffer_table_find(&e->buffer, db->id, cat_db_table_get(db, "m", 1)->id);
    catalog_unlock(e->catalog);
    assert_non_null(bt);
    pthread_mutex_lock(&bt->lock);
    size_t left = bt->nparts + bt->nsealed;
    pthread_mutex_unlock(&bt->lock);
    assert_int_equal(left, 0);
    /* file names follow the layout, and every file carries its metadata */
    catalog_rdlock(e->catalog);
    struct cat_table *t = cat_db_table_get(catalog_db_get(e->catalog, "db", 2), "m", 1);
    const struct cat_file *f = &t->files[0];
    assert_non_null(strstr(f->path, "dbs/db/m/2023-11-14/22-00-"));
    assert_true(strlen(f->path) > 8 && !strcmp(f->path + strlen(f->path) - 8, ".parquet"));
    char path[512], err[256];
    snprintf(path, sizeof(path), "%s/%s", fx_dir(), f->path);
    catalog_unlock(e->catalog);
    struct pq_reader *pr;
    assert_int_equal(pq_reader_open(path, &pr, err, sizeof(err)), 0);
    assert_string_equal(pq_reader_kv(pr, "sluice.database"), "db");
    assert_string_equal(pq_reader_kv(pr, "sluice.table"), "m");
    assert_string_equal(pq_reader_kv(pr, "sluice.tags"), "[\"host\"]");
    assert_string_equal(pq_reader_kv(pr, "sluice.fields"), "[\"v\"]");
    assert_string_equal(pq_reader_kv(pr, "sluice.sort_key"), "host,time");
    assert_int_equal(pq_reader_num_rows(pr), 2);
    pq_reader_close(pr);
    engine_close(e);

    e = fx_open_engine(fx_dir());
    assert_int_equal(rows_and_files(e, &nf), 2 * PARTS);
    assert_int_equal(nf, PARTS);
    /* a dropped table's files are garbage: start-up removes them */
    catalog_wrlock(e->catalog);
    t = cat_db_table_get(catalog_db_get(e->catalog, "db", 2), "m", 1);
    assert_int_equal(catalog_table_drop(e->catalog, t), 0);
    catalog_unlock(e->catalog);
    engine_close(e);
    assert_int_equal(access(path, F_OK), 0);
    e = fx_open_engine(fx_dir());
    assert_int_not_equal(access(path, F_OK), 0);
    engine_close(e);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_forced_persist_writes_every_partition, fx_setup,
                                        fx_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
