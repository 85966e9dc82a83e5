/* test_storage_delete_show.c — what the SHOW statements learn from storage
 * after deletions (storage/delete.c): storage_table_has_rows (a measurement
 * whose every point was deleted or expired is not listed) and
 * storage_table_tag_presence (a tag key goes with the last series that had
 * it), with the rows in the buffer, in Parquet files (rewritten without the
 * deleted rows: a column of NULLs no longer counts) and both, and after a
 * reopen (WAL replay). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "common/err.h"
#include "common/timeutil.h"
#include "storage/delete.h"
#include "storage/engine.h"
#include "storage/persist.h"
#include "support/fixture.h"
#include "support/fixture_engine.h"

/* Table m of db "db": whether it has rows, and its present tag keys joined
 * with ',' in column order into keys. */
static int probe(struct engine *e, const char *m, char *keys, size_t cap)
{
    keys[0] = '\0';
    catalog_rdlock(e->catalog);
    struct cat_db *d = catalog_db_get(e->catalog, "db", 2);
    struct cat_table *t = d ? cat_db_table_get(d, m, strlen(m)) : NULL;
    int has = t ? storage_table_has_rows(e, d, t) : -1;
    if (t) {
        uint8_t *present = calloc(t->ncols, 1);
        assert_non_null(present);
        assert_int_equal(storage_table_tag_presence(e, d, t, present), 0);
        for (size_t c = 0; c < t->ncols; c++) {
            if (!present[c]) continue;
            assert_int_equal(t->cols[c].kind, CAT_COL_TAG);
            if (keys[0]) strncat(keys, ",", cap - strlen(keys) - 1);
            strncat(keys, t->cols[c].name, cap - strlen(keys) - 1);
        }
        free(present);
    }
    catalog_unlock(e->catalog);
    return has;
}

static void expect(struct engine *e, const char *m, int has, const char *keys)
{
    char got[256];
    int h = probe(e, m, got, sizeof(got));
    if (h != has || strcmp(got, keys) != 0)
        fail_msg("%s: has_rows %d, tags \"%s\"; expected %d, \"%s\"", m, h, got, has, keys);
}

static void del(struct engine *e, const char *m, const char *host, int64_t tmin, int64_t tmax)
{
    struct del_node *n = del_node_new(DEL_NAME_EQ, NULL, m, NULL, NULL);
    if (host)
        n = del_node_new(DEL_AND, NULL, NULL, n,
                         del_node_new(DEL_TAG_EQ, "host", host, NULL, NULL));
    struct del_pred p = {tmin, tmax, n};
    assert_non_null(p.root);
    char err[128];
    assert_int_equal(del_pred_compile(&p, err, sizeof(err)), 0);
    assert_int_equal(storage_delete(e, "db", 2, &p, NULL), 0);
    del_pred_release(&p);
}

#define H0 1700006400LL /* an hour boundary (s) */
#define NS 1000000000LL

/* m: series host=a,region=e (hour 0) and host=b,dc=<x> (hours 0 and 1) */
static void load(struct engine *e, const char *m)
{
    char buf[512];
    snprintf(buf, sizeof(buf),
             "%s,host=a,region=e v=1 %lld\n%s,host=a,region=e v=2 %lld\n"
             "%s,host=b,dc=x v=3 %lld\n%s,host=b,dc=x v=4 %lld\n",
             m, H0, m, H0 + 60, m, H0 + 120, m, H0 + 3600 + 120);
    fx_write_lp(e, "db", buf, LP_PREC_S);
}

static void test_emptied_tables(void **state)
{
    (void)state;
    struct engine *e = fx_open_engine(fx_dir());
    /* f*: persisted before the deletes; b*: buffer only; x: both */
    load(e, "f1");
    load(e, "f2");
    load(e, "f3");
    load(e, "x");
    assert_int_equal(storage_persist(e, 1), 0);
    load(e, "b1");
    load(e, "b2");
    load(e, "b3");
    fx_write_lp(e, "db", "x,host=a,region=e v=9 1700006460\nx,host=c,zone=q v=9 1700013600\n",
                LP_PREC_S);
    fx_write_lp(e, "db", "mem,host=z v=1 1700006400\n", LP_PREC_S);
    expect(e, "f1", 1, "host,region,dc");
    expect(e, "b1", 1, "host,region,dc");
    expect(e, "x", 1, "host,region,dc,zone");
    expect(e, "nosuch", -1, "");

    for (int k = 0; k < 2; k++) {
        const char *m1 = k ? "b1" : "f1", *m2 = k ? "b2" : "f2", *m3 = k ? "b3" : "f3";
        /* one series: its tag keys go, the table stays */
        del(e, m1, "a", INT64_MIN, INT64_MAX);
        expect(e, m1, 1, "host,dc");
        /* then the other: nothing left */
        del(e, m1, "b", INT64_MIN, INT64_MAX);
        expect(e, m1, 0, "");
        /* a time range covering a series; then part of the other */
        del(e, m2, NULL, INT64_MIN, (H0 + 60) * NS);
        expect(e, m2, 1, "host,dc");
        del(e, m2, NULL, (H0 + 3600) * NS, INT64_MAX);
        expect(e, m2, 1, "host,dc");
        /* everything at once */
        del(e, m3, NULL, INT64_MIN, INT64_MAX);
        expect(e, m3, 0, "");
    }
    /* x: series a in a file and the buffer; c only in the buffer */
    del(e, "x", "c", INT64_MIN, INT64_MAX);
    expect(e, "x", 1, "host,region,dc");
    del(e, "x", "a", (H0 + 30) * NS, INT64_MAX); /* the buffered row of a, not the filed ones */
    expect(e, "x", 1, "host,region,dc");
    del(e, "x", "a", INT64_MIN, INT64_MAX);
    expect(e, "x", 1, "host,dc");
    expect(e, "mem", 1, "host");

    /* persisting the leftovers and reopening change nothing */
    assert_int_equal(storage_persist(e, 1), 0);
    const char *after[][2] = {{"f1", ""},       {"f2", "host,dc"}, {"f3", ""},
                              {"b1", ""},       {"b2", "host,dc"}, {"b3", ""},
                              {"x", "host,dc"}, {"mem", "host"}};
    for (int round = 0; round < 2; round++) {
        for (size_t i = 0; i < sizeof(after) / sizeof(after[0]); i++)
            expect(e, after[i][0], after[i][1][0] != '\0', after[i][1]);
        engine_close(e);
        e = fx_open_engine(fx_dir());
    }

    /* written again: back, with the new series' tags only */
    fx_write_lp(e, "db", "b1,zone=n v=5 1700006400\n", LP_PREC_S);
    expect(e, "b1", 1, "zone");
    engine_close(e);
}

/* Rows older than the retention cut-off count as gone, as scans skip them. */
static void test_expired_rows(void **state)
{
    (void)state;
    struct engine *e = fx_open_engine(fx_dir());
    char buf[256];
    int64_t now = sl_now_ns();
    snprintf(buf, sizeof(buf), "old,host=a,region=r v=1 %lld\nold,host=b,dc=y v=1 %lld\n",
             (long long)(now - 3600 * NS), (long long)(now - 30 * 60 * NS));
    fx_write_lp(e, "db", buf, LP_PREC_NS);
    expect(e, "old", 1, "host,region,dc");
    catalog_wrlock(e->catalog);
    struct cat_db *d = catalog_db_get(e->catalog, "db", 2);
    assert_int_equal(catalog_db_set_retention(e->catalog, d, 45 * 60 * NS), 0);
    catalog_unlock(e->catalog);
    expect(e, "old", 1, "host,dc"); /* host=a expired; host=b,dc=y not */
    assert_int_equal(storage_persist(e, 1), 0);
    char keys[256];
    assert_int_equal(probe(e, "old", keys, sizeof(keys)), 1);
    catalog_wrlock(e->catalog);
    assert_int_equal(catalog_db_set_retention(e->catalog, d, 10 * 60 * NS), 0);
    catalog_unlock(e->catalog);
    expect(e, "old", 0, "");
    engine_close(e);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_emptied_tables, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_expired_rows, fx_setup, fx_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
