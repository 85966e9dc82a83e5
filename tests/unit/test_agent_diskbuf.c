/* test_agent_diskbuf.c — the disk buffer: replay after reopen, resumption
 * at the acknowledgement, torn and corrupt records, foreign files, the size
 * bound with its drop-oldest policy, and metric_buffer on top of it. */
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "agent/buffer_disk.h"
#include "agent/metric.h"
#include "common/err.h"
#include "common/fsutil.h"
#include "common/mem.h"

static char dir[256];

static int setup(void **st)
{
    (void)st;
    snprintf(dir, sizeof(dir), "/tmp/sl_diskbuf_%d", (int)getpid());
    sl_remove_tree(dir);
    return 0;
}

static int teardown(void **st)
{
    (void)st;
    sl_remove_tree(dir);
    return 0;
}

static struct metric *mk(int64_t i)
{
    struct metric *m = metric_new("m", 1000 + i);
    assert_non_null(m);
    assert_int_equal(metric_add_tag(m, "k", "v w"), 0);
    assert_int_equal(metric_add_int(m, "seq", i), 0);
    assert_int_equal(metric_add_uint(m, "u", 18446744073709551615ULL), 0);
    assert_int_equal(metric_add_float(m, "f", 0.1), 0);
    assert_int_equal(metric_add_string(m, "s", "quote \" and \\ and\nnewline"), 0);
    assert_int_equal(metric_add_bool(m, "b", 1), 0);
    return m;
}

static void add_n(struct disk_buffer *d, int64_t from, int64_t n)
{
    for (int64_t i = from; i < from + n; i++) {
        struct metric *m = mk(i);
        assert_true(disk_buffer_add(d, m) >= 0);
        metric_free(m);
    }
}

static int64_t seq_of(const struct metric *m)
{
    const struct metric_field *f = metric_get_field(m, "seq");
    assert_non_null(f);
    return f->v.i;
}

static struct disk_buffer *open_ok(uint64_t max)
{
    struct disk_buffer *d = NULL;
    char err[256] = "";
    if (disk_buffer_open(dir, max, &d, err, sizeof(err)) < 0) fail_msg("open: %s", err);
    return d;
}

/* Takes everything and checks the sequence numbers are from..to-1. */
static void expect_all(struct disk_buffer *d, int64_t from, int64_t to)
{
    struct metric *batch[64];
    int64_t next = from;
    size_t n;
    while ((n = disk_buffer_take(d, batch, 64)) > 0) {
        for (size_t i = 0; i < n; i++) {
            assert_int_equal(seq_of(batch[i]), next);
            next++;
            metric_free(batch[i]);
        }
    }
    assert_int_equal(next, to);
}

static void test_replay_and_ack(void **st)
{
    (void)st;
    struct disk_buffer *d = open_ok(0);
    add_n(d, 0, 100);
    assert_int_equal(disk_buffer_len(d), 100);
    struct metric *batch[30];
    assert_int_equal(disk_buffer_take(d, batch, 30), 30);
    /* the round trip is exact */
    struct metric *ref = mk(0);
    struct sl_buf a = SL_BUF_INIT, b = SL_BUF_INIT;
    assert_int_equal(metric_write_lp(ref, &a, NULL), 0);
    assert_int_equal(metric_write_lp(batch[0], &b, NULL), 0);
    assert_string_equal(a.ptr, b.ptr);
    sl_buf_release(&a);
    sl_buf_release(&b);
    metric_free(ref);
    assert_int_equal(disk_buffer_len(d), 70);
    assert_int_equal(disk_buffer_ack(d, 10), 0);
    disk_buffer_rewind(d); /* 20 in flight go back */
    for (int i = 0; i < 30; i++)
        metric_free(batch[i]);
    assert_int_equal(disk_buffer_len(d), 90);
    /* a second user of the same directory is refused */
    struct disk_buffer *d2 = NULL;
    char err[256] = "";
    assert_int_equal(disk_buffer_open(dir, 0, &d2, err, sizeof(err)), SL_EBUSY);
    assert_non_null(strstr(err, "in use"));
    disk_buffer_close(d);
    /* reopen: resumes after the acknowledgement */
    d = open_ok(0);
    struct disk_buffer_stats s;
    disk_buffer_stats(d, &s);
    assert_int_equal(s.replayed, 90);
    add_n(d, 100, 5);
    expect_all(d, 10, 105);
    disk_buffer_close(d);
    /* nothing acknowledged since: everything again */
    d = open_ok(0);
    assert_int_equal(disk_buffer_len(d), 95);
    struct metric *all[128];
    size_t n = disk_buffer_take(d, all, 128);
    assert_int_equal(n, 95);
    assert_int_equal(disk_buffer_ack(d, n), 0);
    for (size_t i = 0; i < n; i++)
        metric_free(all[i]);
    disk_buffer_close(d);
    d = open_ok(0);
    assert_int_equal(disk_buffer_len(d), 0);
    disk_buffer_stats(d, &s);
    assert_int_equal(s.segments, 1); /* acknowledged segments are deleted */
    disk_buffer_close(d);
}

static char *last_segment(char *out, size_t cap)
{
    char cmd[512];
    snprintf(cmd, sizeof(cmd), "ls %s/*.seg | tail -1", dir);
    FILE *p = popen(cmd, "r");
    assert_non_null(p);
    assert_non_null(fgets(out, (int)cap, p));
    pclose(p);
    out[strcspn(out, "\n")] = '\0';
    return out;
}

static void test_torn_and_corrupt(void **st)
{
    (void)st;
    struct disk_buffer *d = open_ok(0);
    add_n(d, 0, 20);
    disk_buffer_close(d);
    char seg[512];
    last_segment(seg, sizeof(seg));
    /* a torn record at the end: a header promising more than is there */
    int fd = open(seg, O_WRONLY | O_APPEND);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, "\x40\x00\x00\x00\x01\x02\x03\x04m x=1", 13), 13);
    close(fd);
    d = open_ok(0);
    assert_int_equal(disk_buffer_len(d), 20);
    disk_buffer_close(d);
    /* flip a byte inside record 11: records 0..10 survive */
    struct stat sb;
    assert_int_equal(stat(seg, &sb), 0);
    fd = open(seg, O_RDWR);
    char buf[1 << 16];
    ssize_t len = pread(fd, buf, sizeof(buf), 0);
    assert_true(len > 0);
    size_t off = 8;
    for (int i = 0; i < 11; i++) {
        uint32_t n = (uint32_t)(unsigned char)buf[off] | (uint32_t)(unsigned char)buf[off + 1] << 8;
        off += 8 + n;
    }
    buf[off + 12] ^= 0x55;
    assert_int_equal(pwrite(fd, buf + off + 12, 1, (off_t)(off + 12)), 1);
    close(fd);
    d = open_ok(0);
    expect_all(d, 0, 11);
    disk_buffer_close(d);
    /* foreign files: a ".seg" that is not a segment, a garbage ack */
    char path[512];
    snprintf(path, sizeof(path), "%s/00000000000000ff.seg", dir);
    assert_int_equal(sl_file_write_atomic(path, "garbage", 7, 0600), 0);
    snprintf(path, sizeof(path), "%s/ack", dir);
    assert_int_equal(sl_file_write_atomic(path, "not an ack file at all!!!!!!", 28, 0600), 0);
    d = open_ok(0);
    expect_all(d, 0, 11);
    disk_buffer_close(d);
    snprintf(path, sizeof(path), "%s/00000000000000ff.seg", dir);
    assert_int_equal(access(path, F_OK), -1);
    sl_remove_tree(dir);
}

static void test_size_bound_drops_oldest(void **st)
{
    (void)st;
    struct disk_buffer *d = open_ok(64 * 1024);
    long dropped = 0;
    for (int64_t i = 0; i < 5000; i++) {
        struct metric *m = mk(i);
        long r = disk_buffer_add(d, m);
        assert_true(r >= 0);
        dropped += r;
        metric_free(m);
    }
    struct disk_buffer_stats s;
    disk_buffer_stats(d, &s);
    assert_true(dropped > 0);
    assert_true(s.bytes <= 64 * 1024 + 8 * 1024);
    assert_int_equal((long)s.pending + dropped, 5000);
    assert_int_equal(s.dropped, (uint64_t)dropped);
    /* what is left is the newest, in order */
    expect_all(d, 5000 - (int64_t)s.pending, 5000);
    disk_buffer_close(d);
    sl_remove_tree(dir);
}

static void test_drop_while_in_flight(void **st)
{
    (void)st;
    struct disk_buffer *d = open_ok(16 * 1024);
    add_n(d, 0, 10);
    struct metric *batch[10];
    assert_int_equal(disk_buffer_take(d, batch, 10), 10);
    add_n(d, 10, 1000); /* pushes the in-flight segment out */
    assert_int_equal(disk_buffer_ack(d, 10), 0);
    for (int i = 0; i < 10; i++)
        metric_free(batch[i]);
    struct disk_buffer_stats s;
    disk_buffer_stats(d, &s);
    assert_int_equal(disk_buffer_len(d), s.pending);
    expect_all(d, 1010 - (int64_t)s.pending, 1010);
    disk_buffer_close(d);
    sl_remove_tree(dir);
}

static void test_metric_buffer_on_disk(void **st)
{
    (void)st;
    struct metric_buffer b;
    assert_int_equal(metric_buffer_init(&b, 5), 0);
    metric_buffer_add(&b, mk(0)); /* in memory before the disk is attached */
    metric_buffer_attach_disk(&b, open_ok(0));
    for (int i = 1; i < 20; i++)
        metric_buffer_add(&b, mk(i)); /* more than the memory limit of 5 */
    assert_int_equal(metric_buffer_len(&b), 20);
    assert_int_equal(b.dropped, 0);
    struct metric *batch[8];
    assert_int_equal(metric_buffer_take(&b, batch, 8), 8);
    metric_buffer_accept(&b, batch, 3);
    metric_buffer_return(&b, batch + 3, 5);
    assert_int_equal(metric_buffer_len(&b), 17);
    assert_int_equal(metric_buffer_take(&b, batch, 8), 8);
    assert_int_equal(seq_of(batch[0]), 3);
    metric_buffer_drop(&b, batch, 8);
    assert_int_equal(metric_buffer_len(&b), 9);
    assert_int_equal(b.written, 3);
    assert_int_equal(b.dropped, 8);
    metric_buffer_release(&b);
    /* reopened: the 9 not yet dealt with */
    struct disk_buffer *d = open_ok(0);
    expect_all(d, 11, 20);
    disk_buffer_close(d);
    sl_remove_tree(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_replay_and_ack, setup, teardown),
        cmocka_unit_test_setup_teardown(test_torn_and_corrupt, setup, teardown),
        cmocka_unit_test_setup_teardown(test_size_bound_drops_oldest, setup, teardown),
        cmocka_unit_test_setup_teardown(test_drop_while_in_flight, setup, teardown),
        cmocka_unit_test_setup_teardown(test_metric_buffer_on_disk, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
