/*
 * test_wal_fault.c — the WAL's sticky error state after an fdatasync failure.
 *
 * Faults are injected by defining fdatasync() in this executable: the static
 * sl_common calls fdatasync through sl_fdatasync, and the linker resolves it
 * to this definition before libc's. It counts calls and fails the next
 * `fail_syncs` of them with EIO; otherwise it makes the real system call.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cmocka.h>

#include "common/err.h"
#include "common/fsutil.h"
#include "wal/wal.h"

static atomic_int fail_syncs;
static atomic_long sync_calls;

int fdatasync(int fd)
{
    atomic_fetch_add(&sync_calls, 1);
    if (atomic_load(&fail_syncs) > 0) {
        atomic_fetch_sub(&fail_syncs, 1);
        errno = EIO;
        return -1;
    }
    return (int)syscall(SYS_fdatasync, fd);
}

static char dir[64];

static int setup(void **state)
{
    (void)state;
    snprintf(dir, sizeof(dir), "/tmp/sluice-walf-XXXXXX");
    atomic_store(&fail_syncs, 0);
    return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    atomic_store(&fail_syncs, 0);
    return sl_remove_tree(dir);
}

struct got {
    uint64_t lsn[20000];
    uint64_t tag[20000];
    size_t n;
};

static int collect(void *ctx, uint64_t lsn, const void *rec, size_t len)
{
    struct got *g = ctx;
    if (g->n >= 20000 || len < 8) return -1;
    g->lsn[g->n] = lsn;
    memcpy(&g->tag[g->n], rec, 8);
    g->n++;
    return 0;
}

static struct got got;

static struct wal *open_replay(void)
{
    struct wal_opts o = {.dir = dir, .segment_bytes = 1 << 20};
    struct wal *w = NULL;
    assert_int_equal(wal_open(&o, &w), 0);
    memset(&got, 0, sizeof(got));
    assert_int_equal(wal_replay(w, collect, &got), 0);
    return w;
}

static void test_sticky(void **state)
{
    (void)state;
    struct wal *w = open_replay();
    uint64_t lsn, v;
    for (v = 1; v <= 10; v++)
        assert_int_equal(wal_append(w, &v, 8, 1, &lsn), 0);
    atomic_store(&fail_syncs, 1);
    v = 11;
    assert_int_equal(wal_append(w, &v, 8, 1, &lsn), SL_EIO);
    assert_int_equal(atomic_load(&fail_syncs), 0);
    assert_true(wal_failed(w));
    assert_non_null(strstr(wal_last_error(w), "fdatasync"));
    long calls = atomic_load(&sync_calls);
    /* Every later call is refused, without touching the disk again. */
    v = 12;
    assert_int_equal(wal_append(w, &v, 8, 1, &lsn), SL_ESTATE);
    assert_int_equal(wal_append(w, &v, 8, 0, &lsn), SL_ESTATE);
    assert_int_equal(wal_sync(w), SL_ESTATE);
    assert_int_equal(wal_rotate(w), SL_ESTATE);
    assert_int_equal(atomic_load(&sync_calls), calls);
    struct wal_stats st;
    wal_get_stats(w, &st);
    assert_int_equal(st.sync_errors, 1);
    assert_int_equal(wal_durable_lsn(w), 10);
    wal_close(w); /* must not sync either */
    assert_int_equal(atomic_load(&sync_calls), calls);

    /* After a restart the acknowledged records are there. */
    w = open_replay();
    assert_true(got.n >= 10);
    for (size_t i = 0; i < 10; i++)
        assert_int_equal(got.tag[i], i + 1);
    assert_false(wal_failed(w));
    v = 99;
    assert_int_equal(wal_append(w, &v, 8, 1, &lsn), 0);
    wal_close(w);
}

/* A failing flush triggered by a non-syncing append. */
static void test_sticky_nosync_flush(void **state)
{
    (void)state;
    struct wal *w = open_replay();
    static char big[(1 << 20) + 100];
    uint64_t lsn;
    memset(big, 1, sizeof(big));
    atomic_store(&fail_syncs, 1);
    assert_int_equal(wal_append(w, big, sizeof(big), 0, &lsn), SL_EIO);
    assert_true(wal_failed(w));
    assert_int_equal(wal_append(w, big, 8, 0, &lsn), SL_ESTATE);
    wal_close(w);
}

/* A failed rotation (the new segment's header sync) is sticky as well. */
static void test_sticky_rotation(void **state)
{
    (void)state;
    struct wal *w = open_replay();
    uint64_t v = 1, lsn;
    assert_int_equal(wal_append(w, &v, 8, 1, &lsn), 0);
    atomic_store(&fail_syncs, 1);
    assert_int_equal(wal_rotate(w), SL_EIO);
    assert_true(wal_failed(w));
    assert_int_equal(wal_append(w, &v, 8, 1, &lsn), SL_ESTATE);
    wal_close(w);
    w = open_replay();
    assert_int_equal(got.n, 1);
    wal_close(w);
}

#define NT  6
#define PER 300

struct worker {
    struct wal *w;
    int id;
    uint64_t acked[PER]; /* tags acknowledged as durable */
    int nacked;
    int after_error_ok; /* a success after this thread saw an error */
    int eio, estate, other;
};

static void *worker_main(void *arg)
{
    struct worker *k = arg;
    int seen_error = 0;
    for (int i = 0; i < PER; i++) {
        uint64_t tag = (uint64_t)k->id << 32 | (uint64_t)i, lsn;
        int rc = wal_append(k->w, &tag, 8, 1, &lsn);
        if (rc == 0) {
            k->acked[k->nacked++] = tag;
            if (seen_error) k->after_error_ok++;
        } else {
            seen_error = 1;
            if (rc == SL_EIO)
                k->eio++;
            else if (rc == SL_ESTATE)
                k->estate++;
            else
                k->other++;
        }
        if (k->id == 1 && i == PER / 3) atomic_store(&fail_syncs, 1);
    }
    return NULL;
}

/* Threads appending while one fdatasync fails: nothing acknowledged is lost,
 * nothing succeeds after the failure, and only that group sees SL_EIO. */
static void test_threads_fault(void **state)
{
    (void)state;
    struct wal *w = open_replay();
    static struct worker wk[NT];
    pthread_t th[NT];
    for (int i = 0; i < NT; i++) {
        wk[i] = (struct worker){.w = w, .id = i + 1};
        assert_int_equal(pthread_create(&th[i], NULL, worker_main, &wk[i]), 0);
    }
    for (int i = 0; i < NT; i++)
        pthread_join(th[i], NULL);
    int eio = 0, estate = 0;
    for (int i = 0; i < NT; i++) {
        assert_int_equal(wk[i].after_error_ok, 0);
        assert_int_equal(wk[i].other, 0);
        eio += wk[i].eio;
        estate += wk[i].estate;
    }
    assert_true(eio >= 1 && eio <= NT);
    assert_true(estate >= 1);
    assert_true(wal_failed(w));
    wal_close(w);

    w = open_replay();
    for (size_t i = 1; i < got.n; i++)
        assert_int_equal(got.lsn[i], got.lsn[i - 1] + 1);
    for (int t = 0; t < NT; t++) {
        for (int a = 0; a < wk[t].nacked; a++) {
            int found = 0;
            for (size_t i = 0; i < got.n; i++)
                found += got.tag[i] == wk[t].acked[a];
            assert_int_equal(found, 1);
        }
    }
    wal_close(w);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_sticky, setup, teardown),
        cmocka_unit_test_setup_teardown(test_sticky_nosync_flush, setup, teardown),
        cmocka_unit_test_setup_teardown(test_sticky_rotation, setup, teardown),
        cmocka_unit_test_setup_teardown(test_threads_fault, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
