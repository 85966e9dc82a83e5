/*
 * test_storage_rcache.c — the cache of idle Parquet readers (src/storage/
 * rcache.c): a released reader is reused for the same file, never for a
 * file that replaced it under the same path, readers in use are never
 * shared, the cache keeps at most its number of slots, and the sweep drops
 * readers of deleted files and idle ones.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "common/fsutil.h"
#include "common/mem.h"
#include "parquet/parquet.h"
#include "storage/rcache.h"

static char dir[256];

static int setup(void **state)
{
    (void)state;
    snprintf(dir, sizeof dir, "/tmp/sluice-rcache-XXXXXX");
    return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    sl_remove_tree(dir);
    return 0;
}

/* Writes a one-column file of n rows 0..n-1 (+ base) at path, atomically. */
static void write_file(const char *path, int64_t base, size_t n)
{
    char tmp[512];
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    int64_t *v = malloc(n * sizeof(*v));
    assert_non_null(v);
    for (size_t i = 0; i < n; i++)
        v[i] = base + (int64_t)i;
    struct pq_column_spec spec = {"v", PQ_INT64, 0, 0};
    struct pq_writer_opts o = {0};
    o.no_fsync = 1;
    struct pq_writer *w;
    assert_int_equal(pq_writer_open(tmp, &spec, 1, &o, &w), 0);
    struct pq_column_data d = {v, NULL};
    assert_int_equal(pq_writer_write(w, &d, n), 0);
    assert_int_equal(pq_writer_commit(w, path), 0);
    free(v);
}

static int64_t first_value(struct pq_reader *r)
{
    struct pq_column_buf b = PQ_COLUMN_BUF_INIT;
    assert_int_equal(pq_reader_read_column(r, 0, 0, &b), 0);
    int64_t x = ((int64_t *)b.values)[0];
    pq_column_buf_release(&b);
    return x;
}

static void test_reuse_and_replace(void **state)
{
    (void)state;
    char path[512], err[256];
    snprintf(path, sizeof path, "%s/a.parquet", dir);
    write_file(path, 100, 10);
    struct rcache *c;
    assert_int_equal(rcache_new(4, &c), 0);
    struct pq_reader *r1, *r2, *r3;
    assert_int_equal(rcache_open(c, path, &r1, err, sizeof err), 0);
    /* in use: a second scan of the same file gets its own reader */
    assert_int_equal(rcache_open(c, path, &r2, err, sizeof err), 0);
    assert_ptr_not_equal(r1, r2);
    rcache_release(c, path, r1);
    rcache_release(c, path, r2); /* one idle reader per path: one of them is closed */
    assert_int_equal(rcache_open(c, path, &r3, err, sizeof err), 0);
    assert_true(r3 == r1 || r3 == r2);
    assert_int_equal(first_value(r3), 100);
    rcache_release(c, path, r3);
    /* the path now names another file (as a DELETE rewrite or compaction
     * would publish it): the cached reader must not be used */
    write_file(path, 200, 20);
    struct pq_reader *r4;
    assert_int_equal(rcache_open(c, path, &r4, err, sizeof err), 0);
    assert_int_equal(pq_reader_num_rows(r4), 20);
    assert_int_equal(first_value(r4), 200);
    rcache_release(c, path, r4);
    /* a deleted file: the open fails like pq_reader_open, the sweep drops it */
    unlink(path);
    struct pq_reader *r5 = NULL;
    assert_true(rcache_open(c, path, &r5, err, sizeof err) < 0);
    rcache_sweep(c, INT64_MAX);
    rcache_free(c);
}

static void test_capacity_and_sweep(void **state)
{
    (void)state;
    char path[8][512], err[256];
    struct rcache *c;
    assert_int_equal(rcache_new(3, &c), 0);
    struct pq_reader *r[8];
    for (int i = 0; i < 8; i++) {
        snprintf(path[i], sizeof path[i], "%s/f%d.parquet", dir, i);
        write_file(path[i], i * 1000, 5);
        assert_int_equal(rcache_open(c, path[i], &r[i], err, sizeof err), 0);
    }
    for (int i = 0; i < 8; i++)
        rcache_release(c, path[i], r[i]); /* the oldest are closed as slots run out */
    /* the three most recently released stay: reopening them returns those readers */
    for (int i = 5; i < 8; i++) {
        struct pq_reader *x;
        assert_int_equal(rcache_open(c, path[i], &x, err, sizeof err), 0);
        assert_ptr_equal(x, r[i]);
        assert_int_equal(first_value(x), i * 1000);
        rcache_release(c, path[i], x);
    }
    /* an idle limit of 0 closes every idle reader: the next open is a new one
     * (checked by reading; the old pointer may be reused by the allocator) */
    rcache_sweep(c, -1);
    struct pq_reader *y;
    assert_int_equal(rcache_open(c, path[7], &y, err, sizeof err), 0);
    assert_int_equal(first_value(y), 7000);
    rcache_release(c, path[7], y);
    /* no cache: plain open and close */
    assert_int_equal(rcache_open(NULL, path[0], &y, err, sizeof err), 0);
    rcache_release(NULL, path[0], y);
    rcache_free(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_reuse_and_replace, setup, teardown),
        cmocka_unit_test_setup_teardown(test_capacity_and_sweep, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
