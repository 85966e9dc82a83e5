/* test_storage_engine.c — the write path: validation, per-line errors, WAL replay. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "common/err.h"
#include "common/fsutil.h"
#include "storage/engine.h"
#include "storage/persist.h"
#include "storage/scan.h"
#include "support/fixture.h"
#include "support/fixture_engine.h"

static void test_write_and_replay(void **state)
{
    (void)state;
    struct engine *e = fx_open_engine(fx_dir());
    struct write_result res;
    assert_int_equal(fx_write(e, "db1",
                              "cpu,host=a usage=1.5 1000\n"
                              "cpu,host=b usage=2.5 1000\n"
                              "# comment\n"
                              "mem,host=a used=10i 1000\n",
                              LP_PREC_NS, 0, &res),
                     0);
    assert_int_equal(res.accepted, 3);
    assert_int_equal(res.rejected, 0);
    assert_true(res.db_created);
    write_result_release(&res);
    /* last write wins, field merge */
    assert_int_equal(fx_write(e, "db1", "cpu,host=a usage=3.5,extra=1 1000", LP_PREC_NS, 0, &res),
                     0);
    write_result_release(&res);
    double sum;
    assert_int_equal(fx_count_rows(e, "db1", "cpu", "usage", &sum), 2);
    assert_true(sum == 6.0);
    engine_close(e);

    e = fx_open_engine(fx_dir()); /* replays the WAL */
    assert_int_equal(fx_count_rows(e, "db1", "cpu", "usage", &sum), 2);
    assert_true(sum == 6.0);
    assert_int_equal(fx_count_rows(e, "db1", "mem", "used", &sum), 1);
    assert_true(sum == 10.0);
    engine_close(e);
}

static void test_per_line_errors(void **state)
{
    (void)state;
    struct engine *e = fx_open_engine(fx_dir());
    struct write_result res;
    assert_int_equal(fx_write(e, "db", "m v=1 1\n", LP_PREC_NS, 0, &res), 0);
    write_result_release(&res);
    assert_int_equal(fx_write(e, "db",
                              "m v=2 2\n"     /* ok */
                              "m v=3i 3\n"    /* type conflict */
                              "m v= 4\n"      /* parse error */
                              "m,v=x w=1 5\n" /* tag named like an existing field */
                              "m v=6 6\n",    /* ok */
                              LP_PREC_NS, 0, &res),
                     0);
    assert_int_equal(res.accepted, 2);
    assert_int_equal(res.rejected, 3);
    assert_int_equal(res.nerrors, 3);
    assert_int_equal(res.errors[0].line, 2);
    assert_int_equal(res.errors[0].kind, WRITE_ERR_CONFLICT);
    assert_non_null(strstr(res.errors[0].message,
                           "field type conflict: input field \"v\" on measurement \"m\" is type "
                           "integer, already exists as type float"));
    assert_int_equal(res.errors[1].line, 3);
    assert_int_equal(res.errors[1].kind, WRITE_ERR_PARSE);
    assert_true(res.errors[1].column > 1);
    assert_int_equal(res.errors[2].line, 4);
    write_result_release(&res);
    double sum;
    assert_int_equal(fx_count_rows(e, "db", "m", "v", &sum), 3);
    assert_true(sum == 9.0);
    /* atomic: nothing written */
    assert_int_equal(fx_write(e, "db", "m v=7 7\nm v=oops 8\n", LP_PREC_NS, 1, &res), 0);
    assert_int_equal(res.accepted, 0);
    write_result_release(&res);
    assert_int_equal(fx_count_rows(e, "db", "m", "v", &sum), 3);
    engine_close(e);
    /* the filtered record replays to the same rows */
    e = fx_open_engine(fx_dir());
    assert_int_equal(fx_count_rows(e, "db", "m", "v", &sum), 3);
    assert_true(sum == 9.0);
    engine_close(e);
}

static void test_unsorted_and_escaped_tags_are_one_series(void **state)
{
    (void)state;
    struct engine *e = fx_open_engine(fx_dir());
    struct write_result res;
    /* the same series written with tags in three orders and with escapes */
    assert_int_equal(fx_write(e, "s",
                              "m,b=2,a=1 v=1 10\n"
                              "m,a=1,b=2 w=2 10\n"
                              "m,b=2,a=1 x=3 10\n"
                              "m,a=x\\ y,b=2 v=4 10\n"
                              "m,b=2,a=x\\ y v=5 20\n",
                              LP_PREC_NS, 0, &res),
                     0);
    assert_int_equal(res.accepted, 5);
    write_result_release(&res);
    double sum;
    assert_int_equal(fx_count_rows(e, "s", "m", "v", &sum), 3);
    assert_true(sum == 1 + 4 + 5);
    assert_int_equal(fx_count_rows(e, "s", "m", "w", &sum), 3);
    assert_true(sum == 2);
    catalog_rdlock(e->catalog);
    struct cat_db *d = catalog_db_get(e->catalog, "s", 1);
    struct cat_table *t = cat_db_table_get(d, "m", 1);
    struct buf_table *bt = buffer_table_find(&e->buffer, d->id, t->id);
    assert_int_equal(bt->nseries, 2);
    catalog_unlock(e->catalog);
    engine_close(e);
    e = fx_open_engine(fx_dir());
    assert_int_equal(fx_count_rows(e, "s", "m", "v", &sum), 3);
    assert_true(sum == 1 + 4 + 5);
    engine_close(e);
}

static void test_precision_and_default_time(void **state)
{
    (void)state;
    struct engine *e = fx_open_engine(fx_dir());
    struct write_result res;
    assert_int_equal(fx_write(e, "p", "m v=1 1609459200\nm v=2\n", LP_PREC_S, 0, &res), 0);
    assert_int_equal(res.accepted, 2);
    write_result_release(&res);
    double sum;
    assert_int_equal(fx_count_rows(e, "p", "m", "v", &sum), 2);
    engine_close(e);
    e = fx_open_engine(fx_dir());
    assert_int_equal(fx_count_rows(e, "p", "m", "v", &sum), 2);
    engine_close(e);
}

static void test_retention_and_unknown_db(void **state)
{
    (void)state;
    struct engine *e = fx_open_engine(fx_dir());
    assert_int_equal(engine_db_create(e, "short", 5, 3600LL * 1000000000LL), 0);
    assert_int_equal(engine_db_create(e, "short", 5, 0), SL_EEXIST);
    struct write_result res;
    /* now_ns is 1.7e18; a point from 1970 is far outside a one-hour retention */
    assert_int_equal(
        fx_write(e, "short", "m v=1 5\nm v=2 1700000000000000000\n", LP_PREC_NS, 0, &res), 0);
    assert_int_equal(res.accepted, 1);
    assert_int_equal(res.rejected_by_kind[WRITE_ERR_RETENTION], 1);
    write_result_release(&res);
    struct write_req r = {
        .db = "nope", .db_len = 4, .body = "m v=1", .len = 5, .may_create_db = 0, .now_ns = 1};
    assert_int_equal(engine_write(e, &r, &res), SL_ENOENT);
    write_result_release(&res);
    assert_int_equal(engine_db_drop(e, "short", 5), 0);
    engine_close(e);
    e = fx_open_engine(fx_dir());
    double sum;
    assert_int_equal(fx_count_rows(e, "short", "m", "v", &sum), 0);
    engine_close(e);
}

static void test_persist_compact_restart(void **state)
{
    (void)state;
    struct engine *e = fx_open_engine(fx_dir());
    struct write_result res;
    char line[128];
    for (int round = 0; round < 5; round++) {
        /* each round overwrites the same points with a new value and adds one */
        struct sl_buf b;
        sl_buf_init(&b, 0);
        for (int i = 0; i < 100; i++) {
            snprintf(line, sizeof(line), "m,host=h%d v=%d,s=\"r%d\" %lld\n", i % 7, round, round,
                     1700000000000000000LL + i * 1000000000LL);
            sl_buf_adds(&b, line);
        }
        snprintf(line, sizeof(line), "m,host=extra v=%d %lld\n", round,
                 1700000000000000000LL + (200 + round) * 1000000000LL);
        sl_buf_adds(&b, line);
        assert_int_equal(fx_write(e, "pc", b.ptr, LP_PREC_NS, 0, &res), 0);
        assert_int_equal(res.accepted, 101);
        write_result_release(&res);
        sl_buf_release(&b);
        assert_int_equal(storage_persist(e, 1), 0);
    }
    double sum;
    assert_int_equal(fx_count_rows(e, "pc", "m", "v", &sum), 105);
    assert_true(sum == 100 * 4 + 0 + 1 + 2 + 3 + 4);
    catalog_rdlock(e->catalog);
    struct cat_table *t = cat_db_table_get(catalog_db_get(e->catalog, "pc", 2), "m", 1);
    size_t files_before = t->nfiles;
    catalog_unlock(e->catalog);
    assert_true(files_before >= 5);
    assert_int_equal(storage_compact(e, 2), 0);
    catalog_rdlock(e->catalog);
    size_t files_after = t->nfiles;
    catalog_unlock(e->catalog);
    assert_true(files_after < files_before);
    assert_int_equal(fx_count_rows(e, "pc", "m", "v", &sum), 105);
    assert_true(sum == 100 * 4 + 0 + 1 + 2 + 3 + 4);
    engine_close(e);
    /* an orphan file (written, never registered) disappears at start-up */
    char orphan[256];
    snprintf(orphan, sizeof(orphan), "%s/dbs/pc/m/orphan.parquet", fx_dir());
    assert_int_equal(sl_file_write_atomic(orphan, "x", 1, 0644), 0);
    e = fx_open_engine(fx_dir());
    assert_int_equal(access(orphan, F_OK), -1);
    assert_int_equal(fx_count_rows(e, "pc", "m", "v", &sum), 105);
    assert_true(sum == 100 * 4 + 0 + 1 + 2 + 3 + 4);
    engine_close(e);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_write_and_replay, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_per_line_errors, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_precision_and_default_time, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_unsorted_and_escaped_tags_are_one_series, fx_setup,
                                        fx_teardown),
        cmocka_unit_test_setup_teardown(test_retention_and_unknown_db, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_persist_compact_restart, fx_setup, fx_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
