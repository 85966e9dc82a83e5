/* test_storage_delete.c — deletions (storage/delete.c): the predicate's
 * 1.x semantics (missing tags compare as "", regexes, three-valued answer
 * with unknown tags), the WAL record round trip and its refusal of damaged
 * bytes, the buffer pass (only rows logged before the delete go), and
 * storage_delete / storage_drop_table through the engine over files and
 * buffer, including a reopen (WAL replay) and a re-created table. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "common/err.h"
#include "storage/delete.h"
#include "storage/engine.h"
#include "storage/persist.h"
#include "storage/scan.h"
#include "support/fixture.h"
#include "support/fixture_engine.h"

/* host = 'a' OR (region =~ /^e/ AND dc != 'x') over measurement cpu */
static struct del_pred sample_pred(void)
{
    struct del_pred p = {100, 200, NULL};
    p.root = del_node_new(
        DEL_AND, NULL, NULL, del_node_new(DEL_NAME_EQ, NULL, "cpu", NULL, NULL),
        del_node_new(DEL_OR, NULL, NULL, del_node_new(DEL_TAG_EQ, "host", "a", NULL, NULL),
                     del_node_new(DEL_AND, NULL, NULL,
                                  del_node_new(DEL_TAG_RE, "region", "^e", NULL, NULL),
                                  del_node_new(DEL_TAG_NE, "dc", "x", NULL, NULL))));
    assert_non_null(p.root);
    char err[128];
    assert_int_equal(del_pred_compile(&p, err, sizeof(err)), 0);
    return p;
}

static void check_sample(const struct del_pred *p)
{
    const char *k2[] = {"host", "region"}, *k3[] = {"dc", "host", "region"};
    const char *v_a[] = {"a", "west"}, *v_b[] = {"b", "east"}, *v_bx[] = {"x", "b", "east"};
    const char *v_bw[] = {"b", "west"};
    assert_int_equal(del_pred_eval(p, "cpu", 2, k2, v_a), 1);
    assert_int_equal(del_pred_eval(p, "mem", 2, k2, v_a), 0);
    /* dc is missing: "" != 'x' holds */
    assert_int_equal(del_pred_eval(p, "cpu", 2, k2, v_b), 1);
    assert_int_equal(del_pred_eval(p, "cpu", 3, k3, v_bx), 0);
    assert_int_equal(del_pred_eval(p, "cpu", 2, k2, v_bw), 0);
    /* tags unknown */
    assert_int_equal(del_pred_eval(p, "cpu", 0, NULL, NULL), DEL_MAYBE);
    assert_int_equal(del_pred_eval(p, "mem", 0, NULL, NULL), 0);
    assert_int_equal(p->tmin, 100);
    assert_int_equal(p->tmax, 200);
}

static void test_pred_eval_and_record(void **state)
{
    (void)state;
    struct del_pred p = sample_pred();
    check_sample(&p);
    struct sl_buf b;
    sl_buf_init(&b, 0);
    assert_int_equal(del_pred_encode(&p, 77, &b), 0);
    struct del_pred q;
    uint32_t id = 0;
    assert_int_equal(del_pred_decode(b.ptr, b.len, &id, &q), 0);
    assert_int_equal(id, 77);
    check_sample(&q);
    del_pred_release(&q);
    /* every truncation and a trailing byte are refused, never read past */
    for (size_t n = 0; n < b.len; n++) {
        char *cut = malloc(n ? n : 1);
        memcpy(cut, b.ptr, n);
        assert_int_equal(del_pred_decode(cut, n, &id, &q), SL_ECORRUPT);
        free(cut);
    }
    sl_buf_addc(&b, 0);
    assert_int_equal(del_pred_decode(b.ptr, b.len, &id, &q), SL_ECORRUPT);
    /* a bad opcode */
    b.ptr[24] = 99;
    assert_int_equal(del_pred_decode(b.ptr, b.len - 1, &id, &q), SL_ECORRUPT);
    sl_buf_release(&b);
    /* a bad regex is an error at compile time, with a message */
    struct del_pred bad = {0, 1, del_node_new(DEL_TAG_RE, "h", "(", NULL, NULL)};
    char err[128] = "";
    assert_int_equal(del_pred_compile(&bad, err, sizeof(err)), SL_EINVAL);
    assert_non_null(strstr(err, "invalid regular expression"));
    del_pred_release(&bad);
    /* RE2 spellings */
    struct del_pred re = {0, 1, del_node_new(DEL_TAG_RE, "h", "(?i)^SRV\\d+$", NULL, NULL)};
    assert_int_equal(del_pred_compile(&re, err, sizeof(err)), 0);
    const char *k[] = {"h"}, *v1[] = {"srv12"}, *v2[] = {"srv1x"};
    assert_int_equal(del_pred_eval(&re, "m", 1, k, v1), 1);
    assert_int_equal(del_pred_eval(&re, "m", 1, k, v2), 0);
    del_pred_release(&re);
    del_pred_release(&p);
}

/* ---- through the engine ---- */

static size_t nfiles(struct engine *e, const char *table)
{
    catalog_rdlock(e->catalog);
    struct cat_db *d = catalog_db_get(e->catalog, "db", 2);
    struct cat_table *t = d ? cat_db_table_get(d, table, strlen(table)) : NULL;
    size_t n = t ? t->nfiles : 0;
    catalog_unlock(e->catalog);
    return n;
}

/* 3 hosts x 6 points (every 10 min) in hour hour0, v = hour0*10 + host index */
static void load(struct engine *e, const char *m, int64_t hour0)
{
    char buf[8192];
    size_t k = 0;
    for (int h = 0; h < 3; h++)
        for (int i = 0; i < 6; i++) {
            int64_t t = 1700006400 + hour0 * 3600 + i * 600;
            k += (size_t)snprintf(buf + k, sizeof(buf) - k, "%s,host=h%d v=%d %lld\n", m, h,
                                  (int)(hour0 * 10 + h), (long long)t);
        }
    fx_write_lp(e, "db", buf, LP_PREC_S);
}

static void test_engine_delete(void **state)
{
    (void)state;
    struct engine *e = fx_open_engine(fx_dir());
    load(e, "cpu", 0);
    load(e, "cpu", 1);
    load(e, "mem", 0);
    assert_int_equal(storage_persist(e, 1), 0); /* hours 0-1 in files */
    load(e, "cpu", 2);                          /* hour 2 in the buffer */
    assert_int_equal(fx_count_rows(e, "db", "cpu", "v", NULL), 54);
    size_t files_before = nfiles(e, "cpu");
    assert_true(files_before >= 2);

    /* host = 'h1' everywhere in cpu: files rewritten, buffer rows removed */
    struct del_pred p = {INT64_MIN, INT64_MAX,
                         del_node_new(DEL_AND, NULL, NULL,
                                      del_node_new(DEL_NAME_EQ, NULL, "cpu", NULL, NULL),
                                      del_node_new(DEL_TAG_EQ, "host", "h1", NULL, NULL))};
    char err[128];
    assert_int_equal(del_pred_compile(&p, err, sizeof(err)), 0);
    struct del_result res;
    assert_int_equal(storage_delete(e, "db", 2, &p, &res), 0);
    assert_int_equal(res.buffer_rows, 6);
    assert_int_equal(res.file_rows, 12);
    assert_int_equal(res.files_rewritten, files_before);
    del_pred_release(&p);
    double sum;
    assert_int_equal(fx_count_rows(e, "db", "cpu", "v", &sum), 36);
    assert_int_equal(fx_count_rows(e, "db", "mem", "v", NULL), 18); /* another table: untouched */

    /* time only, covering hour 0 wholly: its file goes without a rewrite */
    struct del_pred t = {1700006400LL * 1000000000LL, (1700006400LL + 3599) * 1000000000LL,
                         del_node_new(DEL_NAME_EQ, NULL, "cpu", NULL, NULL)};
    assert_int_equal(del_pred_compile(&t, err, sizeof(err)), 0);
    assert_int_equal(storage_delete(e, "db", 2, &t, &res), 0);
    assert_int_equal(res.files_dropped, 1);
    assert_int_equal(res.files_rewritten, 0);
    assert_int_equal(res.file_rows, 12);
    del_pred_release(&t);
    assert_int_equal(fx_count_rows(e, "db", "cpu", "v", NULL), 24);

    /* rows written after the delete survive it, even in its range */
    fx_write_lp(e, "db", "cpu,host=h1 v=99 1700006400\n", LP_PREC_S);
    assert_int_equal(fx_count_rows(e, "db", "cpu", "v", &sum), 25);

    /* drop mem, then write it again with another field type */
    assert_int_equal(storage_drop_table(e, "db", 2, "mem", 3), 0);
    assert_int_equal(storage_drop_table(e, "db", 2, "mem", 3), SL_ENOENT);
    assert_int_equal(fx_count_rows(e, "db", "mem", "v", NULL), 0);
    fx_write_lp(e, "db", "mem,host=z v=\"text\" 1700006400\n", LP_PREC_S);
    assert_int_equal(fx_count_rows(e, "db", "mem", "v", NULL), 1);
    engine_close(e);

    /* reopen: everything as it was */
    e = fx_open_engine(fx_dir());
    double sum2;
    assert_int_equal(fx_count_rows(e, "db", "cpu", "v", &sum2), 25);
    assert_true(sum2 == sum);
    assert_int_equal(fx_count_rows(e, "db", "mem", "v", NULL), 1);
    assert_int_equal(storage_delete(e, "nodb", 4, &(struct del_pred){0, 1, NULL}, NULL), SL_ENOENT);
    engine_close(e);
}

/* The buffer pass keeps rows logged at or after the delete's LSN. */
static void test_buffer_lsn_bound(void **state)
{
    (void)state;
    struct buffer b;
    buffer_init(&b, 0);
    struct buf_table *t = buffer_table(&b, 1, 2);
    assert_non_null(t);
    struct lp_tag tag = {.key = "h", .key_len = 1, .val = "a", .val_len = 1};
    uint32_t col = 1, sid;
    pthread_mutex_lock(&t->lock);
    assert_int_equal(buffer_series_add_locked(&b, t, "m,h=a", 5, &tag, &col, 1, &sid), 0);
    struct buf_value v = {.col = 2, .type = LP_STRING, .v.s = {"xyz", 3}};
    for (uint64_t lsn = 1; lsn <= 10; lsn++)
        assert_int_equal(buffer_append_locked(&b, t, sid, (int64_t)lsn * 1000, &v, 1, 3, lsn), 0);
    size_t bytes = atomic_load(&b.bytes);
    uint8_t match = 1;
    /* times 2000..8000, LSN < 6: rows 2..5 */
    assert_int_equal(buffer_delete_rows_locked(&b, t, &match, 1, 2000, 8000, 6), 4);
    assert_int_equal(t->parts[0]->nrows, 6);
    assert_true(atomic_load(&b.bytes) == bytes - 4 * 4);
    assert_int_equal(t->parts[0]->min_lsn, 1);
    int64_t want[] = {1000, 6000, 7000, 8000, 9000, 10000};
    for (size_t i = 0; i < 6; i++) {
        assert_int_equal(t->parts[0]->time[i], want[i]);
        assert_string_equal(t->parts[0]->cols[2].v.s[i].ptr, "xyz");
    }
    match = 0;
    assert_int_equal(buffer_delete_rows_locked(&b, t, &match, 1, INT64_MIN, INT64_MAX, 100), 0);
    pthread_mutex_unlock(&t->lock);
    buffer_release(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_pred_eval_and_record),
        cmocka_unit_test_setup_teardown(test_engine_delete, fx_setup, fx_teardown),
        cmocka_unit_test(test_buffer_lsn_bound),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
