/*
 * test_wal.c — the WAL's normal operation: round trip (empty, gathered and
 * oversized records), rotation, checkpoints, no-sync records made durable by
 * close, many threads appending with sync (every acknowledged LSN replayed
 * exactly once and in order), stats and allocation failure. Ends with a
 * small throughput measurement that prints records/s, syncs/s and the mean
 * group size (printed, not asserted: timing depends on the disk).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <pthread.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "common/err.h"
#include "common/fsutil.h"
#include "common/mem.h"
#include "common/timeutil.h"
#include "wal/wal.h"

static char dir[64];

static int setup(void **state)
{
    (void)state;
    snprintf(dir, sizeof(dir), "/tmp/sluice-wal-XXXXXX");
    return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    return sl_remove_tree(dir);
}

/* ---- replay collection: keeps (lsn, len, first 8 payload bytes) ---- */

struct item {
    uint64_t lsn;
    size_t len;
    uint64_t head;
};

struct got {
    struct item *it;
    size_t n, cap;
};

static int collect(void *ctx, uint64_t lsn, const void *rec, size_t len)
{
    struct got *g = ctx;
    if (g->n == g->cap) {
        g->cap = g->cap ? g->cap * 2 : 1024;
        g->it = realloc(g->it, g->cap * sizeof(*g->it));
        if (!g->it) return -1;
    }
    uint64_t head = 0;
    memcpy(&head, rec, len < 8 ? len : 8);
    g->it[g->n++] = (struct item){lsn, len, head};
    return 0;
}

static struct wal *open_replay(size_t segment_bytes, struct got *g)
{
    struct wal_opts o = {.dir = dir, .segment_bytes = segment_bytes};
    struct wal *w = NULL;
    assert_int_equal(wal_open(&o, &w), 0);
    free(g->it);
    memset(g, 0, sizeof(*g));
    assert_int_equal(wal_replay(w, collect, g), 0);
    return w;
}

static int count_files(void)
{
    char cmd[160];
    snprintf(cmd, sizeof(cmd), "ls %s | grep -c '^wal-.*\\.log$'", dir);
    FILE *f = popen(cmd, "r");
    int n = -1;
    if (f) {
        if (fscanf(f, "%d", &n) != 1) n = -1;
        pclose(f);
    }
    return n;
}

static void test_roundtrip(void **state)
{
    (void)state;
    struct got g = {0};
    struct wal *w = open_replay(0, &g);
    assert_int_equal(g.n, 0);
    assert_int_equal(wal_last_lsn(w), 0);
    uint64_t lsn = 0;
    assert_int_equal(wal_append(w, "hello", 5, 1, &lsn), 0);
    assert_int_equal(lsn, 1);
    assert_int_equal(wal_append(w, "", 0, 1, &lsn), 0); /* empty record */
    assert_int_equal(lsn, 2);
    struct iovec iov[3] = {{"abc", 3}, {NULL, 0}, {"defgh", 5}};
    assert_int_equal(wal_appendv(w, iov, 3, 0, &lsn), 0);
    assert_int_equal(lsn, 3);
    assert_int_equal(wal_durable_lsn(w), 2);
    assert_int_equal(wal_sync(w), 0);
    assert_int_equal(wal_durable_lsn(w), 3);
    assert_int_equal(wal_last_lsn(w), 3);
    assert_int_equal(wal_replay(w, collect, &g), SL_EINVAL); /* only once */
    struct wal_stats st;
    wal_get_stats(w, &st);
    assert_int_equal(st.records, 3);
    assert_int_equal(st.bytes, 3 * 16 + 5 + 0 + 8);
    assert_int_equal(st.syncs, 3);
    uint64_t hs = 0;
    for (int i = 0; i < WAL_SYNC_HIST_BUCKETS; i++)
        hs += st.sync_hist[i];
    assert_int_equal(hs, st.syncs);
    assert_true(st.sync_ns_total > 0);
    assert_true(wal_disk_bytes(w) >= WAL_DEFAULT_SEGMENT_BYTES);
    wal_close(w);

    w = open_replay(0, &g);
    assert_int_equal(g.n, 3);
    assert_int_equal(g.it[0].lsn, 1);
    assert_int_equal(g.it[0].len, 5);
    assert_memory_equal(&g.it[0].head, "hello", 5);
    assert_int_equal(g.it[1].len, 0);
    assert_int_equal(g.it[2].len, 8);
    assert_memory_equal(&g.it[2].head, "abcdefgh", 8);
    assert_int_equal(wal_last_lsn(w), 3);
    assert_int_equal(wal_append(w, "x", 1, 1, &lsn), 0);
    assert_int_equal(lsn, 4);
    wal_close(w);
    free(g.it);
}

static void test_misuse(void **state)
{
    (void)state;
    struct wal *w = NULL;
    struct wal_opts o = {.dir = dir};
    assert_int_equal(wal_open(NULL, &w), SL_EINVAL);
    struct wal_opts bad = {.dir = ""};
    assert_int_equal(wal_open(&bad, &w), SL_EINVAL);
    assert_int_equal(wal_open(&o, &w), 0);
    assert_int_equal(wal_append(w, "x", 1, 1, NULL), SL_EINVAL); /* before replay */
    assert_non_null(strstr(wal_last_error(w), "replay"));
    assert_int_equal(wal_rotate(w), SL_EINVAL);
    assert_int_equal(wal_checkpoint(w, 1), SL_EINVAL);
    struct got g = {0};
    assert_int_equal(wal_replay(w, collect, &g), 0);
    /* Too big: refused before any allocation. */
    assert_int_equal(wal_append(w, "x", WAL_MAX_RECORD + 1, 1, NULL), SL_ETOOBIG);
    struct iovec iov[2] = {{"x", WAL_MAX_RECORD}, {"y", 1}};
    assert_int_equal(wal_appendv(w, iov, 2, 1, NULL), SL_ETOOBIG);
    struct iovec huge[2] = {{"x", SIZE_MAX}, {"y", SIZE_MAX}};
    assert_int_equal(wal_appendv(w, huge, 2, 1, NULL), SL_ETOOBIG);
    assert_int_equal(wal_appendv(w, iov, -1, 1, NULL), SL_EINVAL);
    assert_int_equal(wal_failed(w), 0);
    /* Allocation failure: that append fails, the WAL stays healthy. */
    static char big[100000];
    sl_mem_fail_after(0, 0);
    assert_int_equal(wal_append(w, big, sizeof(big), 1, NULL), SL_ENOMEM);
    sl_mem_fail_after(-1, 0);
    uint64_t lsn;
    assert_int_equal(wal_append(w, big, sizeof(big), 1, &lsn), 0);
    assert_int_equal(lsn, 1);
    assert_int_equal(wal_failed(w), 0);
    wal_close(w);
    free(g.it);
}

/* Records larger than a segment; rotation by size and by hand. */
static void test_rotation(void **state)
{
    (void)state;
    struct got g = {0};
    struct wal *w = open_replay(8192, &g);
    assert_int_equal(count_files(), 1);
    static uint8_t big[50000];
    for (size_t i = 0; i < sizeof(big); i++)
        big[i] = (uint8_t)(i * 31);
    uint64_t lsn;
    assert_int_equal(wal_append(w, "a", 1, 1, &lsn), 0);
    assert_int_equal(wal_append(w, big, sizeof(big), 1, &lsn), 0); /* > segment */
    assert_int_equal(wal_append(w, "b", 1, 1, &lsn), 0);
    assert_int_equal(lsn, 3);
    assert_true(count_files() >= 2);
    int before = count_files();
    assert_int_equal(wal_rotate(w), 0);
    assert_int_equal(count_files(), before + 1);
    assert_int_equal(wal_rotate(w), 0); /* empty active segment: nothing to do */
    assert_int_equal(count_files(), before + 1);
    char p[128];
    snprintf(p, sizeof(p), "%s/wal-%016x.log", dir, 4);
    assert_int_equal(access(p, F_OK), 0);
    struct wal_stats st;
    wal_get_stats(w, &st);
    assert_int_equal(st.segments, (uint64_t)count_files());
    wal_close(w);

    w = open_replay(8192, &g);
    assert_int_equal(g.n, 3);
    assert_int_equal(g.it[1].len, sizeof(big));
    assert_memory_equal(&g.it[1].head, big, 8);
    assert_int_equal(wal_append(w, "c", 1, 1, &lsn), 0);
    assert_int_equal(lsn, 4);
    wal_close(w);
    free(g.it);
}

static void test_checkpoint(void **state)
{
    (void)state;
    struct got g = {0};
    struct wal *w = open_replay(4096, &g);
    char rec[100];
    memset(rec, 'r', sizeof(rec));
    uint64_t lsn;
    for (int i = 0; i < 300; i++)
        assert_int_equal(wal_append(w, rec, sizeof(rec), 1, &lsn), 0);
    int files = count_files();
    assert_true(files >= 8);
    size_t disk = wal_disk_bytes(w);
    /* Nothing is covered by LSN 0. */
    assert_int_equal(wal_checkpoint(w, 0), 0);
    assert_int_equal(count_files(), files);
    assert_int_equal(wal_checkpoint(w, 150), 0);
    int left = count_files();
    assert_true(left < files && left > 1);
    assert_true(wal_disk_bytes(w) < disk);
    wal_close(w);
    w = open_replay(4096, &g);
    /* Replay starts at a segment boundary <= 151 and ends at 300. */
    assert_true(g.n >= 150 && g.n < 300);
    assert_true(g.it[0].lsn <= 151);
    assert_int_equal(g.it[g.n - 1].lsn, 300);
    for (size_t i = 1; i < g.n; i++)
        assert_int_equal(g.it[i].lsn, g.it[i - 1].lsn + 1);
    /* Everything covered: the active segment rotates away too. */
    assert_int_equal(wal_checkpoint(w, 300), 0);
    assert_int_equal(count_files(), 1);
    wal_close(w);
    w = open_replay(4096, &g);
    assert_int_equal(g.n, 0);
    assert_int_equal(wal_append(w, rec, sizeof(rec), 1, &lsn), 0);
    assert_int_equal(lsn, 301); /* LSNs continue across a full checkpoint */
    wal_close(w);
    free(g.it);
}

/* sync = 0 records are buffered and made durable by close. */
static void test_nosync_close(void **state)
{
    (void)state;
    struct got g = {0};
    struct wal *w = open_replay(0, &g);
    uint64_t lsn;
    for (int i = 0; i < 1000; i++) {
        uint64_t v = (uint64_t)i;
        assert_int_equal(wal_append(w, &v, sizeof(v), 0, &lsn), 0);
    }
    struct wal_stats st;
    wal_get_stats(w, &st);
    assert_int_equal(st.syncs, 0);
    assert_int_equal(wal_durable_lsn(w), 0);
    wal_close(w);
    w = open_replay(0, &g);
    assert_int_equal(g.n, 1000);
    for (size_t i = 0; i < g.n; i++) {
        assert_int_equal(g.it[i].lsn, i + 1);
        assert_int_equal(g.it[i].head, i);
    }
    wal_close(w);
    free(g.it);
}

/* ---- many threads ---- */

#define NTHREADS   8
#define PER_THREAD 400

struct worker {
    struct wal *w;
    int id;
    int sync;
    uint64_t lsn[PER_THREAD];
    int rc;
};

static void *worker_main(void *arg)
{
    struct worker *k = arg;
    uint64_t prev = 0;
    for (int i = 0; i < PER_THREAD; i++) {
        uint8_t rec[64];
        uint64_t tag = (uint64_t)k->id << 32 | (uint64_t)i;
        memcpy(rec, &tag, 8);
        memset(rec + 8, k->id, sizeof(rec) - 8);
        size_t len = 8 + (size_t)(i % 50);
        int rc = wal_append(k->w, rec, len, k->sync || i % 3 == 0, &k->lsn[i]);
        if (rc < 0 || k->lsn[i] <= prev) {
            k->rc = rc < 0 ? rc : -100;
            return NULL;
        }
        prev = k->lsn[i];
    }
    return NULL;
}

static void test_threads(void **state)
{
    (void)state;
    struct got g = {0};
    struct wal *w = open_replay(16384, &g); /* small segments: rotate under load */
    static struct worker wk[NTHREADS];
    pthread_t th[NTHREADS];
    for (int i = 0; i < NTHREADS; i++) {
        wk[i] = (struct worker){.w = w, .id = i + 1, .sync = i % 2 == 0};
        assert_int_equal(pthread_create(&th[i], NULL, worker_main, &wk[i]), 0);
    }
    for (int i = 0; i < NTHREADS; i++)
        pthread_join(th[i], NULL);
    for (int i = 0; i < NTHREADS; i++)
        assert_int_equal(wk[i].rc, 0);
    struct wal_stats st;
    wal_get_stats(w, &st);
    assert_int_equal(st.records, NTHREADS * PER_THREAD);
    assert_true(st.syncs < st.records); /* records shared syncs */
    assert_true(st.segments > 2);
    wal_close(w);

    w = open_replay(16384, &g);
    assert_int_equal(g.n, NTHREADS * PER_THREAD);
    /* In order, each LSN once; each record is the one that got that LSN. */
    for (size_t i = 0; i < g.n; i++) {
        assert_int_equal(g.it[i].lsn, i + 1);
        uint64_t tag = g.it[i].head;
        int id = (int)(tag >> 32), seq = (int)(uint32_t)tag;
        assert_true(id >= 1 && id <= NTHREADS && seq >= 0 && seq < PER_THREAD);
        assert_int_equal(wk[id - 1].lsn[seq], g.it[i].lsn);
        assert_int_equal(g.it[i].len, 8 + (size_t)(seq % 50));
    }
    wal_close(w);
    free(g.it);
}

/* ---- measurement ---- */

struct bench {
    struct wal *w;
    int sync;
    int64_t until;
    uint64_t n;
};

static void *bench_main(void *arg)
{
    struct bench *b = arg;
    char rec[100];
    memset(rec, 'm', sizeof(rec));
    while (sl_mono_ns() < b->until) {
        for (int i = 0; i < 16; i++) {
            if (wal_append(b->w, rec, sizeof(rec), b->sync, NULL) < 0) return NULL;
            b->n++;
        }
    }
    return NULL;
}

static void measure(int threads, int sync, int64_t ms)
{
    struct got g = {0};
    sl_remove_tree(dir);
    struct wal *w = open_replay(0, &g);
    struct bench b[64];
    pthread_t th[64];
    int64_t t0 = sl_mono_ns();
    for (int i = 0; i < threads; i++) {
        b[i] = (struct bench){.w = w, .sync = sync, .until = t0 + ms * SL_NS_PER_MS};
        assert_int_equal(pthread_create(&th[i], NULL, bench_main, &b[i]), 0);
    }
    uint64_t n = 0;
    for (int i = 0; i < threads; i++) {
        pthread_join(th[i], NULL);
        n += b[i].n;
    }
    if (!sync) assert_int_equal(wal_sync(w), 0);
    double secs = (double)(sl_mono_ns() - t0) / 1e9;
    struct wal_stats st;
    wal_get_stats(w, &st);
    assert_int_equal(st.records, n);
    assert_false(wal_failed(w));
    printf("wal bench: %2d threads sync=%d 100-byte records: %9.0f records/s, %7.0f syncs/s, "
           "mean group %6.1f, mean sync %5.0f us\n",
           threads, sync, (double)n / secs, (double)st.syncs / secs,
           st.syncs ? (double)n / (double)st.syncs : 0.0,
           st.syncs ? (double)st.sync_ns_total / (double)st.syncs / 1e3 : 0.0);
    printf("  sync latency histogram (us):");
    for (int k = 0; k < WAL_SYNC_HIST_BUCKETS; k++)
        if (st.sync_hist[k])
            printf(" %s%d:%llu", k == WAL_SYNC_HIST_BUCKETS - 1 ? ">=" : "<",
                   k == WAL_SYNC_HIST_BUCKETS - 1 ? 1 << k : 2 << k,
                   (unsigned long long)st.sync_hist[k]);
    printf("\n");
    wal_close(w);
    free(g.it);
}

static void test_measure(void **state)
{
    (void)state;
    int64_t ms = getenv("WAL_BENCH_MS") ? atoi(getenv("WAL_BENCH_MS")) : 300;
    measure(1, 1, ms);
    measure(4, 1, ms);
    measure(16, 1, ms);
    measure(64, 1, ms);
    measure(4, 0, ms);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_roundtrip, setup, teardown),
        cmocka_unit_test_setup_teardown(test_misuse, setup, teardown),
        cmocka_unit_test_setup_teardown(test_rotation, setup, teardown),
        cmocka_unit_test_setup_teardown(test_checkpoint, setup, teardown),
        cmocka_unit_test_setup_teardown(test_nosync_close, setup, teardown),
        cmocka_unit_test_setup_teardown(test_threads, setup, teardown),
        cmocka_unit_test_setup_teardown(test_measure, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
