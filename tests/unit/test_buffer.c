/* test_buffer.c — the columnar write buffer: inserts, partitions, dedup with field merge. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "buffer/buffer.h"
#include "common/err.h"

static struct buf_value fv(uint32_t col, double f)
{
    struct buf_value v = {.col = col, .type = LP_FLOAT};
    v.v.f = f;
    return v;
}

static struct buf_value iv(uint32_t col, int64_t i)
{
    struct buf_value v = {.col = col, .type = LP_INTEGER};
    v.v.i = i;
    return v;
}

static struct buf_value sv(uint32_t col, const char *s)
{
    struct buf_value v = {.col = col, .type = LP_STRING};
    v.v.s.ptr = s;
    v.v.s.len = strlen(s);
    return v;
}

static void insert(struct buffer *b, struct buf_table *t, const char *host, int64_t time,
                   struct buf_value *vals, size_t n, uint64_t lsn)
{
    char key[64];
    snprintf(key, sizeof(key), "cpu,host=%s", host);
    struct lp_tag tag = {"host", 4, host, strlen(host)};
    uint32_t tag_col = 1;
    struct buf_row row = {key, strlen(key), &tag, &tag_col, 1, time, vals, n};
    assert_int_equal(buffer_insert_locked(b, t, &row, 5, lsn), 0);
}

static void test_dedup_field_merge(void **state)
{
    (void)state;
    struct buffer b;
    buffer_init(&b, 0);
    struct buf_table *t = buffer_table(&b, 1, 2);
    assert_non_null(t);
    /* columns: 0 time, 1 host (tag), 2 usage (float), 3 count (int), 4 note (string) */
    struct buf_value r1[] = {fv(2, 1.5), iv(3, 7)};
    struct buf_value r2[] = {fv(2, 2.5)};           /* same series+time: usage overwritten */
    struct buf_value r3[] = {sv(4, "hello")};       /* adds a field, keeps the others */
    struct buf_value r4[] = {fv(2, 9.0)};           /* other series */
    struct buf_value r5[] = {fv(2, 3.0), iv(3, 1)}; /* older time, same series */
    insert(&b, t, "b", 1000, r1, 2, 1);
    insert(&b, t, "b", 1000, r2, 1, 2);
    insert(&b, t, "b", 1000, r3, 1, 3);
    insert(&b, t, "a", 1000, r4, 1, 4);
    insert(&b, t, "b", 500, r5, 2, 5);
    assert_int_equal(t->nparts, 1);
    assert_int_equal(t->nseries, 2);
    struct buf_snapshot s;
    assert_int_equal(buffer_part_snapshot(t, 0, INT64_MIN, INT64_MAX, &s), 0);
    assert_int_equal(s.nrows, 3);
    /* order: series "cpu,host=a" first, then "cpu,host=b" by time */
    assert_string_equal(t->series[s.sid[0]].key, "cpu,host=a");
    assert_int_equal(s.time[0], 1000);
    assert_string_equal(t->series[s.sid[1]].key, "cpu,host=b");
    assert_int_equal(s.time[1], 500);
    assert_int_equal(s.time[2], 1000);
    assert_true(s.cols[2].v.f[2] == 2.5);
    assert_int_equal(s.cols[3].v.i[2], 7);
    assert_true(s.cols[4].valid[2]);
    assert_string_equal(s.cols[4].v.s[2].ptr, "hello");
    assert_false(s.cols[4].valid[1]);
    assert_false(s.cols[3].valid[0]);
    buffer_snapshot_release(&s);
    buffer_release(&b);
}

static void test_lsn_order_wins_over_arrival(void **state)
{
    (void)state;
    struct buffer b;
    buffer_init(&b, 0);
    struct buf_table *t = buffer_table(&b, 1, 2);
    struct buf_value newer[] = {fv(2, 2.0)};
    struct buf_value older[] = {fv(2, 1.0)};
    /* the record with the higher LSN arrives first; it must still win */
    insert(&b, t, "a", 10, newer, 1, 9);
    insert(&b, t, "a", 10, older, 1, 8);
    struct buf_snapshot s;
    assert_int_equal(buffer_part_snapshot(t, 0, INT64_MIN, INT64_MAX, &s), 0);
    assert_int_equal(s.nrows, 1);
    assert_true(s.cols[2].v.f[0] == 2.0);
    buffer_snapshot_release(&s);
    buffer_release(&b);
}

static void test_partitions_and_growth(void **state)
{
    (void)state;
    struct buffer b;
    buffer_init(&b, 0);
    struct buf_table *t = buffer_table(&b, 1, 2);
    const int64_t hour = BUF_PARTITION_NS;
    for (int i = 0; i < 5000; i++) {
        struct buf_value v[] = {iv(3, i)};
        char host[16];
        snprintf(host, sizeof(host), "h%d", i % 37);
        /* newest-first and negative times across several partitions */
        insert(&b, t, host, (int64_t)(2500 - i) * (hour / 1000), v, 1, (uint64_t)i + 1);
    }
    assert_true(t->nparts >= 4);
    for (size_t i = 1; i < t->nparts; i++)
        assert_true(t->parts[i - 1]->start < t->parts[i]->start);
    size_t total = 0;
    for (size_t pi = 0; pi < t->nparts; pi++) {
        struct buf_snapshot s;
        assert_int_equal(buffer_part_snapshot(t, pi, INT64_MIN, INT64_MAX, &s), 0);
        for (size_t r = 0; r < s.nrows; r++) {
            assert_true(s.time[r] >= t->parts[pi]->start);
            assert_true(s.time[r] < t->parts[pi]->start + hour);
        }
        total += s.nrows;
        buffer_snapshot_release(&s);
    }
    assert_int_equal(total, 5000);
    assert_true(atomic_load(&b.bytes) > 5000 * 12);
    buffer_release(&b);
}

static void test_memory_limit(void **state)
{
    (void)state;
    struct buffer b;
    buffer_init(&b, 64 * 1024);
    struct buf_table *t = buffer_table(&b, 1, 2);
    int over = 0;
    for (int i = 0; i < 100000 && !over; i++) {
        struct buf_value v[] = {fv(2, i)};
        insert(&b, t, "x", i, v, 1, 1);
        over = buffer_over_limit(&b);
    }
    assert_true(over);
    buffer_drop(&b, 1, 0);
    assert_int_equal(atomic_load(&b.bytes), 0);
    assert_false(buffer_over_limit(&b));
    buffer_release(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_dedup_field_merge),
        cmocka_unit_test(test_lsn_order_wins_over_arrival),
        cmocka_unit_test(test_partitions_and_growth),
        cmocka_unit_test(test_memory_limit),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
