/*
 * test_wal_recovery.c — WAL replay against damaged logs: a torn tail cut at
 * every byte of the last record, zero-filled and CRC-failing tails, damage
 * inside the last batch, bit flips in sealed segments (refused, or skipped
 * with skip_corrupt), bad headers, missing segments, torn rotations, and a
 * callback that aborts replay.
 *
 * Payloads are a pure function of the LSN (payload_for), so every replayed
 * record is checked byte for byte.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <fcntl.h>
#include <unistd.h>

#include <cmocka.h>

#include "common/err.h"
#include "common/fsutil.h"
#include "common/mem.h"
#include "wal/wal.h"

#define MAX_GOT 20000

static char dir[64];

struct got {
    uint64_t lsn[MAX_GOT];
    size_t n;
    int bad;
    uint64_t stop_at; /* return -42 at this LSN (0 = never) */
};

static struct got got;

static int setup(void **state)
{
    (void)state;
    snprintf(dir, sizeof(dir), "/tmp/sluice-walr-XXXXXX");
    return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    return sl_remove_tree(dir);
}

static size_t len_for(uint64_t lsn)
{
    return (size_t)((lsn * 37) % 120);
}

static void payload_for(uint64_t lsn, uint8_t *out)
{
    for (size_t i = 0; i < len_for(lsn); i++)
        out[i] = (uint8_t)(lsn * 7 + i * 13);
}

static int collect(void *ctx, uint64_t lsn, const void *rec, size_t len)
{
    struct got *g = ctx;
    uint8_t want[256];
    if (g->stop_at && lsn == g->stop_at) return -42;
    if (g->n >= MAX_GOT) return -1;
    g->lsn[g->n++] = lsn;
    payload_for(lsn, want);
    if (len != len_for(lsn) || (len && memcmp(rec, want, len) != 0)) g->bad++;
    return 0;
}

static struct wal *open_wal(size_t segment_bytes, int skip)
{
    struct wal_opts o = {.dir = dir, .segment_bytes = segment_bytes, .skip_corrupt = skip};
    struct wal *w = NULL;
    assert_int_equal(wal_open(&o, &w), 0);
    return w;
}

/* Opens and replays into got; returns replay's result (w stays open in *out). */
static int open_replay(size_t segment_bytes, int skip, struct wal **out)
{
    memset(&got, 0, sizeof(got));
    *out = open_wal(segment_bytes, skip);
    return wal_replay(*out, collect, &got);
}

static void put(struct wal *w, uint64_t want_lsn, int sync)
{
    uint8_t p[256];
    uint64_t lsn = 0;
    payload_for(want_lsn, p);
    assert_int_equal(wal_append(w, p, len_for(want_lsn), sync, &lsn), 0);
    assert_int_equal(lsn, want_lsn);
}

/* A fresh WAL with records 1..k, each synced on its own (one batch each). */
static void build(size_t segment_bytes, uint64_t k)
{
    struct wal *w;
    assert_int_equal(open_replay(segment_bytes, 0, &w), 0);
    for (uint64_t i = 1; i <= k; i++)
        put(w, i, 1);
    wal_close(w);
}

static void seg_path(uint64_t first, char *out, size_t cap)
{
    snprintf(out, cap, "%s/wal-%016llx.log", dir, (unsigned long long)first);
}

/* Offset of record lsn in a segment that starts at first. */
static size_t rec_off(uint64_t first, uint64_t lsn)
{
    size_t off = 32;
    for (uint64_t i = first; i < lsn; i++)
        off += 16 + len_for(i);
    return off;
}

static uint8_t *slurp(const char *path, size_t *n)
{
    char *p = NULL;
    assert_int_equal(sl_file_read_all(path, (size_t)64 << 20, &p, n), 0);
    return (uint8_t *)p;
}

static void spit(const char *path, const void *p, size_t n)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    assert_true(fd >= 0);
    assert_int_equal(sl_write_full(fd, p, n), 0);
    close(fd);
}

static void flip(const char *path, size_t off, uint8_t mask)
{
    size_t n;
    uint8_t *p = slurp(path, &n);
    assert_true(off < n);
    p[off] ^= mask;
    spit(path, p, n);
    sl_free(p);
}

static void assert_sequence(uint64_t from, uint64_t to)
{
    assert_int_equal(got.bad, 0);
    assert_int_equal(got.n, to - from + 1);
    for (size_t i = 0; i < got.n; i++)
        assert_int_equal(got.lsn[i], from + i);
}

static int count_segments(void)
{
    int n = 0;
    for (uint64_t l = 1; l < 5000; l++) {
        char p[128];
        seg_path(l, p, sizeof(p));
        n += access(p, F_OK) == 0;
    }
    return n;
}

/* Cut the file at every byte of the last record: replay keeps 1..k-1, cuts
 * the tail away, and the next record gets LSN k and survives a reopen. */
static void test_torn_every_offset(void **state)
{
    (void)state;
    const uint64_t k = 12; /* len_for(12) = 84 */
    build(1 << 20, k);
    char path[128];
    seg_path(1, path, sizeof(path));
    size_t n;
    uint8_t *orig = slurp(path, &n);
    size_t last = rec_off(1, k), end = rec_off(1, k + 1);
    assert_true(end <= n);
    for (size_t cut = last; cut < end; cut++) {
        spit(path, orig, cut);
        struct wal *w;
        assert_int_equal(open_replay(1 << 20, 0, &w), 0);
        assert_sequence(1, k - 1);
        struct wal_stats st;
        wal_get_stats(w, &st);
        assert_true(st.truncated_bytes <= cut - last);
        put(w, k, 1);
        wal_close(w);
        assert_int_equal(open_replay(1 << 20, 0, &w), 0);
        assert_sequence(1, k);
        wal_close(w);
    }
    sl_free(orig);
}

/* Zero-filled last record (preallocated file, header written, data lost). */
static void test_zero_tail(void **state)
{
    (void)state;
    const uint64_t k = 9;
    build(1 << 20, k);
    char path[128];
    seg_path(1, path, sizeof(path));
    size_t n;
    uint8_t *p = slurp(path, &n);
    size_t last = rec_off(1, k), end = rec_off(1, k + 1);
    /* Only the payload zeroed: CRC fails. */
    memset(p + last + 16, 0, end - last - 16);
    spit(path, p, n);
    struct wal *w;
    assert_int_equal(open_replay(1 << 20, 0, &w), 0);
    assert_sequence(1, k - 1);
    wal_close(w);
    /* The whole record zeroed (the tail now reads as preallocated space). */
    sl_free(p);
    p = slurp(path, &n);
    memset(p + last, 0, n - last);
    spit(path, p, n);
    assert_int_equal(open_replay(1 << 20, 0, &w), 0);
    assert_sequence(1, k - 1);
    put(w, k, 1);
    wal_close(w);
    assert_int_equal(open_replay(1 << 20, 0, &w), 0);
    assert_sequence(1, k);
    wal_close(w);
    sl_free(p);
}

/* A bit flip in the last record: a CRC-failing tail is cut. */
static void test_crc_tail(void **state)
{
    (void)state;
    const uint64_t k = 7;
    build(1 << 20, k);
    char path[128];
    seg_path(1, path, sizeof(path));
    flip(path, rec_off(1, k) + 20, 0x10);
    struct wal *w;
    assert_int_equal(open_replay(1 << 20, 0, &w), 0);
    assert_sequence(1, k - 1);
    wal_close(w);
}

/* Damage inside the last batch (records after it have no BATCH flag): a
 * crash can leave such a batch partly on disk in any sector order, so it
 * is a torn tail and the batch is dropped from the damage on. */
static void test_torn_last_batch(void **state)
{
    (void)state;
    struct wal *w;
    assert_int_equal(open_replay(1 << 20, 0, &w), 0);
    for (uint64_t i = 1; i <= 5; i++)
        put(w, i, 1);
    for (uint64_t i = 6; i <= 10; i++)
        put(w, i, 0);
    assert_int_equal(wal_sync(w), 0);
    wal_close(w);
    char path[128];
    seg_path(1, path, sizeof(path));
    flip(path, rec_off(1, 7) + 17, 0x01);
    assert_int_equal(open_replay(1 << 20, 0, &w), 0);
    assert_sequence(1, 6);
    wal_close(w);
}

/* Damage in the active segment followed by a later batch is corruption. */
static void test_mid_damage_last_segment(void **state)
{
    (void)state;
    const uint64_t k = 10;
    build(1 << 20, k);
    char path[128];
    seg_path(1, path, sizeof(path));
    size_t off = rec_off(1, 3);
    flip(path, off + 18, 0x40);
    struct wal *w;
    assert_int_equal(open_replay(1 << 20, 0, &w), SL_ECORRUPT);
    char want[64];
    snprintf(want, sizeof(want), "offset %zu", off);
    assert_non_null(strstr(wal_last_error(w), "wal-0000000000000001.log"));
    assert_non_null(strstr(wal_last_error(w), want));
    assert_int_equal(wal_append(w, "x", 1, 1, NULL), SL_EINVAL);
    wal_close(w);

    assert_int_equal(open_replay(1 << 20, 1, &w), 0);
    assert_int_equal(got.bad, 0);
    assert_int_equal(got.n, k - 1);
    for (size_t i = 0; i < got.n; i++)
        assert_int_equal(got.lsn[i], i < 2 ? i + 1 : i + 2);
    struct wal_stats st;
    wal_get_stats(w, &st);
    assert_int_equal(st.skipped_regions, 1);
    assert_int_equal(st.skipped_bytes, 16 + len_for(3));
    put(w, k + 1, 1);
    wal_close(w);
}

/* A bit flip in a sealed middle segment: refused with file and offset, then
 * skipped with skip_corrupt; the log stays usable and replays the same way. */
static void test_bitflip_middle_segment(void **state)
{
    (void)state;
    const uint64_t k = 200;
    build(4096, k);
    int nseg = count_segments();
    assert_true(nseg >= 4);
    /* find the second segment */
    uint64_t second = 0;
    for (uint64_t l = 2; l < k && !second; l++) {
        char p[128];
        seg_path(l, p, sizeof(p));
        if (access(p, F_OK) == 0) second = l;
    }
    assert_true(second > 1);
    char path[128];
    seg_path(second, path, sizeof(path));
    size_t n;
    uint8_t *p = slurp(path, &n);
    sl_free(p);
    size_t off = rec_off(second, second + 5) + 16 + len_for(second + 5) / 2;
    assert_true(len_for(second + 5) > 0 && off < n);
    flip(path, off, 0x08);

    struct wal *w;
    assert_int_equal(open_replay(4096, 0, &w), SL_ECORRUPT);
    const char *msg = wal_last_error(w);
    assert_non_null(strstr(msg, path + strlen(dir) + 1));
    char want[64];
    snprintf(want, sizeof(want), "offset %zu", rec_off(second, second + 5));
    assert_non_null(strstr(msg, want));
    assert_non_null(strstr(msg, "checksum"));
    wal_close(w);

    for (int round = 0; round < 2; round++) {
        assert_int_equal(open_replay(4096, 1, &w), 0);
        assert_int_equal(got.bad, 0);
        assert_int_equal(got.n, k - 1 + (size_t)round);
        for (size_t i = 1; i < got.n; i++)
            assert_true(got.lsn[i] > got.lsn[i - 1]);
        for (size_t i = 0; i < got.n; i++)
            assert_true(got.lsn[i] != second + 5);
        struct wal_stats st;
        wal_get_stats(w, &st);
        assert_true(st.skipped_regions >= 1);
        if (round == 0) put(w, k + 1, 1);
        wal_close(w);
    }
}

static void test_bad_header_middle(void **state)
{
    (void)state;
    const uint64_t k = 150;
    build(4096, k);
    uint64_t second = 0;
    for (uint64_t l = 2; l < k && !second; l++) {
        char p[128];
        seg_path(l, p, sizeof(p));
        if (access(p, F_OK) == 0) second = l;
    }
    char path[128];
    seg_path(second, path, sizeof(path));
    flip(path, 2, 0xff); /* the magic */
    struct wal *w;
    assert_int_equal(open_replay(4096, 0, &w), SL_ECORRUPT);
    assert_non_null(strstr(wal_last_error(w), "bad segment header"));
    wal_close(w);
    assert_int_equal(open_replay(4096, 1, &w), 0);
    assert_int_equal(got.bad, 0);
    assert_int_equal(got.lsn[got.n - 1], k);
    assert_true(got.n < k);
    wal_close(w);
    char aside[160];
    snprintf(aside, sizeof(aside), "%s.corrupt", path);
    assert_int_equal(access(aside, F_OK), 0);
    assert_int_not_equal(access(path, F_OK), 0);
    /* Strict replay now sees the gap. */
    assert_int_equal(open_replay(4096, 0, &w), SL_ECORRUPT);
    assert_non_null(strstr(wal_last_error(w), "missing"));
    wal_close(w);
}

/* A torn rotation: a new segment file exists but holds nothing. */
static void test_torn_rotation(void **state)
{
    (void)state;
    const uint64_t k = 5;
    static const size_t sizes[] = {0, 10, 32, 5000};
    for (size_t t = 0; t < sizeof(sizes) / sizeof(sizes[0]); t++) {
        sl_remove_tree(dir);
        build(1 << 20, k);
        uint8_t zeros[5000] = {0};
        char path[128];
        seg_path(k + 1 + t, path, sizeof(path));
        spit(path, zeros, sizes[t]);
        struct wal *w;
        assert_int_equal(open_replay(1 << 20, 0, &w), 0);
        assert_sequence(1, k);
        put(w, k + 1, 1);
        wal_close(w);
        assert_int_equal(open_replay(1 << 20, 0, &w), 0);
        assert_sequence(1, k + 1);
        wal_close(w);
    }
    /* A garbage (non-zero) header in the last segment is not a torn rotation. */
    char path[128];
    seg_path(100, path, sizeof(path));
    spit(path, "this is not a wal segment header", 32);
    struct wal *w;
    assert_int_equal(open_replay(1 << 20, 0, &w), SL_ECORRUPT);
    wal_close(w);
}

static void test_missing_segment(void **state)
{
    (void)state;
    const uint64_t k = 150;
    build(4096, k);
    uint64_t second = 0;
    for (uint64_t l = 2; l < k && !second; l++) {
        char p[128];
        seg_path(l, p, sizeof(p));
        if (access(p, F_OK) == 0) second = l;
    }
    char path[128];
    seg_path(second, path, sizeof(path));
    assert_int_equal(unlink(path), 0);
    struct wal *w;
    assert_int_equal(open_replay(4096, 0, &w), SL_ECORRUPT);
    assert_non_null(strstr(wal_last_error(w), "records are missing"));
    wal_close(w);
    assert_int_equal(open_replay(4096, 1, &w), 0);
    assert_int_equal(got.lsn[got.n - 1], k);
    wal_close(w);
}

static void test_callback_abort(void **state)
{
    (void)state;
    build(1 << 20, 10);
    struct wal *w;
    memset(&got, 0, sizeof(got));
    got.stop_at = 4;
    w = open_wal(1 << 20, 0);
    assert_int_equal(wal_replay(w, collect, &got), -42);
    assert_int_equal(got.n, 3);
    assert_int_equal(wal_append(w, "x", 1, 1, NULL), SL_EINVAL);
    assert_int_equal(wal_replay(w, collect, &got), SL_EINVAL);
    wal_close(w);
    /* Nothing was cut: a full replay still sees everything. */
    assert_int_equal(open_replay(1 << 20, 0, &w), 0);
    assert_sequence(1, 10);
    wal_close(w);
}

/* Random garbage appended after intact records in the active segment. */
static void test_garbage_tail(void **state)
{
    (void)state;
    const uint64_t k = 30;
    build(1 << 20, k);
    char path[128];
    seg_path(1, path, sizeof(path));
    size_t n;
    uint8_t *p = slurp(path, &n);
    size_t end = rec_off(1, k + 1);
    unsigned seed = 7;
    for (size_t i = end; i < end + 3000 && i < n; i++)
        p[i] = (uint8_t)(rand_r(&seed) >> 3);
    spit(path, p, n);
    sl_free(p);
    struct wal *w;
    assert_int_equal(open_replay(1 << 20, 0, &w), 0);
    assert_sequence(1, k);
    struct wal_stats st;
    wal_get_stats(w, &st);
    assert_true(st.truncated_bytes > 2900);
    put(w, k + 1, 1);
    wal_close(w);
    assert_int_equal(open_replay(1 << 20, 0, &w), 0);
    assert_sequence(1, k + 1);
    wal_close(w);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_torn_every_offset, setup, teardown),
        cmocka_unit_test_setup_teardown(test_zero_tail, setup, teardown),
        cmocka_unit_test_setup_teardown(test_crc_tail, setup, teardown),
        cmocka_unit_test_setup_teardown(test_torn_last_batch, setup, teardown),
        cmocka_unit_test_setup_teardown(test_mid_damage_last_segment, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bitflip_middle_segment, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_header_middle, setup, teardown),
        cmocka_unit_test_setup_teardown(test_torn_rotation, setup, teardown),
        cmocka_unit_test_setup_teardown(test_missing_segment, setup, teardown),
        cmocka_unit_test_setup_teardown(test_callback_abort, setup, teardown),
        cmocka_unit_test_setup_teardown(test_garbage_tail, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
