/* test_storage_rollup.c — time windows longer than an hour: roll-up compaction
 * of cold hours into day and 30-day files, late hour files and buffer rows
 * inside a rolled-up window (merged by the scan, newest wins, folded in by
 * the next compaction), retention over rolled-up files, hour windows that
 * are too recent to roll up. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "common/err.h"
#include "common/mem.h"
#include "common/timeutil.h"
#include "storage/engine.h"
#include "storage/persist.h"
#include "storage/scan.h"
#include "support/fixture.h"
#include "support/fixture_engine.h"

#define HOUR (3600LL * 1000000000LL)
#define S    1000000000LL

/* Writes body (times in seconds) into "db"; a line without a time takes the
 * real clock's now. */
static void write_lp(struct engine *e, const char *body)
{
    fx_write_lp_at(e, "db", body, strlen(body), LP_PREC_S, sl_now_ns());
}

/* The rows of table m: (host, time) -> v, read through the iterator. */
struct rows {
    size_t n;
    char host[4096][8];
    int64_t time[4096];
    double v[4096];
    struct scan_stats st;
};

static void read_rows(struct engine *e, struct rows *out)
{
    memset(out, 0, sizeof(*out));
    catalog_rdlock(e->catalog);
    struct cat_db *d = catalog_db_get(e->catalog, "db", 2);
    struct cat_table *t = d ? cat_db_table_get(d, "m", 1) : NULL;
    assert_non_null(t);
    uint32_t host = cat_table_column_get(t, "host", 4)->id, v = cat_table_column_get(t, "v", 1)->id;
    struct scan_opts o;
    scan_opts_init(&o);
    struct scan_iter *it;
    assert_int_equal(storage_scan_iter_open(e, d, t, &o, &it), 0);
    const struct scan_chunk *ch;
    int rc;
    int64_t last_max = INT64_MIN;
    while ((rc = storage_scan_iter_next(it, &ch)) > 0) {
        int64_t cmin = INT64_MAX, cmax = INT64_MIN;
        for (size_t r = 0; r < ch->nrows; r++) {
            assert_true(out->n < 4096);
            assert_true(ch->cols[host].valid[r]);
            snprintf(out->host[out->n], 8, "%.*s", (int)ch->cols[host].v.s[r].len,
                     ch->cols[host].v.s[r].ptr);
            out->time[out->n] = ch->time[r];
            out->v[out->n] = ch->cols[v].valid[r] ? ch->cols[v].v.f[r] : -1;
            out->n++;
            if (ch->time[r] < cmin) cmin = ch->time[r];
            if (ch->time[r] > cmax) cmax = ch->time[r];
        }
        /* chunks of different windows come in time order and never overlap */
        assert_true(cmin > last_max);
        last_max = cmax;
    }
    assert_int_equal(rc, 0);
    storage_scan_iter_stats(it, &out->st);
    storage_scan_iter_close(it);
    catalog_unlock(e->catalog);
}

/* v of (host, time); -2 when the row is absent; fails on duplicates. */
static double value_of(const struct rows *r, const char *host, int64_t t)
{
    double v = -2;
    int seen = 0;
    for (size_t i = 0; i < r->n; i++)
        if (r->time[i] == t && !strcmp(r->host[i], host)) {
            v = r->v[i];
            seen++;
        }
    assert_true(seen <= 1);
    return v;
}

/* Copies the window of each file of m (at most 64) into ps/pl; returns nfiles. */
static size_t file_windows(struct engine *e, int64_t *ps, int64_t *pl)
{
    catalog_rdlock(e->catalog);
    struct cat_table *t = cat_db_table_get(catalog_db_get(e->catalog, "db", 2), "m", 1);
    assert_non_null(t);
    size_t n = t->nfiles;
    for (size_t i = 0; i < n && i < 64; i++) {
        ps[i] = t->files[i].part_start;
        pl[i] = t->files[i].part_len;
    }
    catalog_unlock(e->catalog);
    return n;
}

/* 2023-10-20T00:00:00Z .. 2023-11-19: one epoch-aligned 30-day window */
#define WIN_A  1697760000LL
#define T0     1698000000LL /* 2023-10-22T18:40:00Z, inside WIN_A */
#define NHOURS 48

static void test_rollup_late_file_and_buffer(void **state)
{
    (void)state;
    struct engine *e = fx_open_engine(fx_dir());
    char buf[8192];
    size_t off = 0;
    for (int i = 0; i < NHOURS; i++)
        off += (size_t)snprintf(buf + off, sizeof(buf) - off,
                                "m,host=a v=%d %lld\nm,host=b v=%d %lld\n", i, T0 + i * 3600LL,
                                100 + i, T0 + i * 3600LL);
    write_lp(e, buf);
    assert_int_equal(storage_persist(e, 1), 0);
    int64_t ps[64], pl[64];
    assert_int_equal(file_windows(e, ps, pl), NHOURS); /* one file per hour */
    assert_int_equal(pl[0], HOUR);

    /* cold hours roll up: the whole 30-day window becomes one file */
    assert_int_equal(storage_compact(e, COMPACT_MIN_FILES), 0);
    assert_int_equal(file_windows(e, ps, pl), 1);
    assert_int_equal(ps[0], WIN_A * S);
    assert_int_equal(pl[0], COMPACT_MONTH_NS);
    struct rows *r = sl_malloc(sizeof(*r));
    assert_non_null(r);
    read_rows(e, r);
    assert_int_equal(r->n, 2 * NHOURS);
    assert_int_equal(r->st.files, 1);
    assert_true(value_of(r, "a", (T0 + 5 * 3600) * S) == 5);

    /* a late write inside the rolled-up window: an hour file overlapping
     * points of the 30-day file; the newer value wins, untouched rows stay */
    snprintf(buf, sizeof(buf), "m,host=a v=1000 %lld\nm,host=c v=7 %lld\n", T0 + 5 * 3600LL,
             T0 + 7 * 3600LL + 1);
    write_lp(e, buf);
    assert_int_equal(storage_persist(e, 1), 0);
    assert_int_equal(file_windows(e, ps, pl), 3); /* two late hour files */
    assert_int_equal((pl[0] == HOUR) + (pl[1] == HOUR) + (pl[2] == HOUR), 2);
    read_rows(e, r);
    assert_int_equal(r->n, 2 * NHOURS + 1);
    assert_int_equal(r->st.partitions, 1); /* one group: the window and the late hours */
    assert_int_equal(r->st.files, 3);
    assert_true(value_of(r, "a", (T0 + 5 * 3600) * S) == 1000);
    assert_true(value_of(r, "b", (T0 + 5 * 3600) * S) == 105);
    assert_true(value_of(r, "c", (T0 + 7 * 3600 + 1) * S) == 7);

    /* buffer rows in the rolled-up window win over both files */
    snprintf(buf, sizeof(buf), "m,host=a v=2000 %lld\nm,host=b v=3000 %lld\n", T0 + 5 * 3600LL,
             T0 + 40 * 3600LL);
    write_lp(e, buf);
    read_rows(e, r);
    assert_int_equal(r->n, 2 * NHOURS + 1);
    assert_int_equal(r->st.partitions, 1);
    assert_true(value_of(r, "a", (T0 + 5 * 3600) * S) == 2000);
    assert_true(value_of(r, "b", (T0 + 40 * 3600) * S) == 3000);
    assert_true(value_of(r, "b", (T0 + 41 * 3600) * S) == 141);

    /* the next compaction folds the late file in (the buffer stays) */
    assert_int_equal(storage_compact(e, COMPACT_MIN_FILES), 0);
    assert_int_equal(file_windows(e, ps, pl), 1);
    assert_int_equal(pl[0], COMPACT_MONTH_NS);
    read_rows(e, r);
    assert_int_equal(r->n, 2 * NHOURS + 1);
    assert_true(value_of(r, "a", (T0 + 5 * 3600) * S) == 2000);
    assert_true(value_of(r, "c", (T0 + 7 * 3600 + 1) * S) == 7);
    /* persisted, folded in, and after a restart */
    assert_int_equal(storage_persist(e, 1), 0);
    assert_int_equal(storage_compact(e, COMPACT_MIN_FILES), 0);
    assert_int_equal(file_windows(e, ps, pl), 1);
    engine_close(e);
    e = fx_open_engine(fx_dir());
    assert_int_equal(file_windows(e, ps, pl), 1);
    assert_int_equal(pl[0], COMPACT_MONTH_NS);
    read_rows(e, r);
    assert_int_equal(r->n, 2 * NHOURS + 1);
    assert_true(value_of(r, "a", (T0 + 5 * 3600) * S) == 2000);
    assert_true(value_of(r, "b", (T0 + 40 * 3600) * S) == 3000);
    assert_true(value_of(r, "b", (T0 + 5 * 3600) * S) == 105);
    assert_true(value_of(r, "c", (T0 + 7 * 3600 + 1) * S) == 7);
    assert_int_equal(r->st.files, 1);
    sl_free(r);
    engine_close(e);
}

/* Recent data: yesterday's hours roll up into a day (or, when yesterday
 * belongs to a 30-day window that ended a day ago, that window); the
 * current hour stays an hour window however often it is compacted. */
static void test_rollup_recent_day_and_hot_hour(void **state)
{
    (void)state;
    struct engine *e = fx_open_engine(fx_dir());
    int64_t now = sl_now_ns();
    int64_t day = now - now % COMPACT_DAY_NS - COMPACT_DAY_NS;
    if (now - (day + COMPACT_DAY_NS) < COMPACT_DAY_GRACE_NS) day -= COMPACT_DAY_NS;
    char buf[512];
    for (int h = 0; h < 3; h++)
        for (int k = 0; k < 2; k++) {
            snprintf(buf, sizeof(buf), "m,host=a v=%d %lld\n", h * 10 + k,
                     (long long)((day + h * 5 * HOUR) / S + k));
            write_lp(e, buf);
            assert_int_equal(storage_persist(e, 1), 0);
        }
    int64_t ps[64], pl[64];
    assert_int_equal(file_windows(e, ps, pl), 6);
    assert_int_equal(storage_compact(e, COMPACT_MIN_FILES), 0);
    assert_int_equal(file_windows(e, ps, pl), 1);
    assert_true(pl[0] == COMPACT_DAY_NS || pl[0] == COMPACT_MONTH_NS);
    assert_true(ps[0] % pl[0] == 0 && ps[0] <= day && ps[0] + pl[0] >= day + COMPACT_DAY_NS);
    struct rows *r = sl_malloc(sizeof(*r));
    assert_non_null(r);
    read_rows(e, r);
    assert_int_equal(r->n, 6);
    assert_true(value_of(r, "a", day + 10 * HOUR + S) == 21);

    /* the current hour: two files merged by a forced compaction, still an hour */
    int64_t hot = now - now % HOUR;
    for (int k = 0; k < 2; k++) {
        snprintf(buf, sizeof(buf), "m,host=b v=%d %lld\n", k, (long long)(hot / S + k));
        write_lp(e, buf);
        assert_int_equal(storage_persist(e, 1), 0);
    }
    assert_int_equal(file_windows(e, ps, pl), 3);
    assert_int_equal(storage_compact(e, 2), 0);
    assert_int_equal(file_windows(e, ps, pl), 2);
    for (int i = 0; i < 2; i++)
        if (ps[i] == hot) assert_int_equal(pl[i], HOUR);
    assert_true(ps[0] == hot || ps[1] == hot);
    read_rows(e, r);
    assert_int_equal(r->n, 8);
    assert_int_equal(r->st.partitions, 2);
    sl_free(r);
    engine_close(e);
}

/* Retention over rolled-up files: a wholly expired 30-day file is deleted,
 * a partly expired one hides its expired rows and loses them when merged. */
static void test_rollup_retention(void **state)
{
    (void)state;
    struct engine *e = fx_open_engine(fx_dir());
    char buf[8192];
    size_t off = 0;
    /* window B (2023-09-20 .. 10-20): 1697000000 = 2023-10-11 */
    for (int i = 0; i < 4; i++)
        off += (size_t)snprintf(buf + off, sizeof(buf) - off, "m,host=old v=%d %lld\n", i,
                                1697000000LL + i * 3600LL);
    for (int i = 0; i < NHOURS; i++)
        off += (size_t)snprintf(buf + off, sizeof(buf) - off, "m,host=a v=%d %lld\n", i,
                                T0 + i * 3600LL);
    write_lp(e, buf);
    assert_int_equal(storage_persist(e, 1), 0);
    assert_int_equal(storage_compact(e, COMPACT_MIN_FILES), 0);
    int64_t ps[64], pl[64];
    assert_int_equal(file_windows(e, ps, pl), 2);
    assert_int_equal(pl[0], COMPACT_MONTH_NS);
    assert_int_equal(pl[1], COMPACT_MONTH_NS);

    /* keep everything from the 24th point of window A on */
    int64_t cut = (T0 + 24 * 3600) * S;
    catalog_wrlock(e->catalog);
    struct cat_db *d = catalog_db_get(e->catalog, "db", 2);
    assert_int_equal(catalog_db_set_retention(e->catalog, d, sl_now_ns() - cut + 60 * S), 0);
    catalog_unlock(e->catalog);
    struct rows *r = sl_malloc(sizeof(*r));
    assert_non_null(r);
    read_rows(e, r);
    assert_int_equal(r->n, NHOURS - 24); /* expired rows invisible at once */
    assert_true(value_of(r, "a", (T0 + 23 * 3600) * S) == -2);
    assert_true(value_of(r, "a", (T0 + 24 * 3600) * S) == 24);
    assert_int_equal(storage_compact(e, COMPACT_MIN_FILES), 0);
    assert_int_equal(file_windows(e, ps, pl), 1); /* window B is gone */
    assert_int_equal(ps[0], WIN_A * S);
    /* a late file in window A: the merge leaves the expired rows out */
    snprintf(buf, sizeof(buf), "m,host=a v=500 %lld\n", T0 + 30 * 3600LL);
    write_lp(e, buf);
    assert_int_equal(storage_persist(e, 1), 0);
    assert_int_equal(storage_compact(e, COMPACT_MIN_FILES), 0);
    assert_int_equal(file_windows(e, ps, pl), 1);
    catalog_rdlock(e->catalog);
    struct cat_table *t = cat_db_table_get(catalog_db_get(e->catalog, "db", 2), "m", 1);
    assert_int_equal(t->files[0].rows, NHOURS - 24);
    assert_true(t->files[0].min_time >= cut);
    catalog_unlock(e->catalog);
    read_rows(e, r);
    assert_int_equal(r->n, NHOURS - 24);
    assert_true(value_of(r, "a", (T0 + 30 * 3600) * S) == 500);
    sl_free(r);
    engine_close(e);
}

/* A big rolled-up window read with split_rows: one chunk per row group, rows
 * of each series in time order across chunks; without it one chunk. */
static void test_split_big_window(void **state)
{
    (void)state;
    struct engine *e = fx_open_engine(fx_dir());
    const size_t n = 300000, nser = 3; /* > one row group (262,144 rows) */
    struct sl_buf b = SL_BUF_INIT;
    for (size_t i = 0; i < n; i++)
        sl_buf_addf(&b, "m,host=h%zu v=%zu %lld\n", i % nser, i, T0 + (long long)(i / nser));
    write_lp(e, b.ptr);
    sl_buf_release(&b);
    assert_int_equal(storage_persist(e, 1), 0);
    assert_int_equal(storage_compact(e, COMPACT_MIN_FILES), 0);
    int64_t ps[64], pl[64];
    assert_int_equal(file_windows(e, ps, pl), 1);
    assert_int_equal(pl[0], COMPACT_MONTH_NS);
    catalog_rdlock(e->catalog);
    struct cat_db *d = catalog_db_get(e->catalog, "db", 2);
    struct cat_table *t = cat_db_table_get(d, "m", 1);
    uint32_t vcol = cat_table_column_get(t, "v", 1)->id;
    for (int split = 0; split < 2; split++)
        for (int ranged = 0; ranged < 2; ranged++) {
            struct scan_opts o;
            scan_opts_init(&o);
            o.split_rows = split ? SCAN_SPLIT_ROWS : 0;
            if (ranged) { /* the middle third of the rows */
                o.min_time = (T0 + (long long)(n / nser / 3)) * S;
                o.max_time = (T0 + (long long)(2 * n / nser / 3)) * S - 1;
            }
            struct scan_iter *it;
            assert_int_equal(storage_scan_iter_open(e, d, t, &o, &it), 0);
            const struct scan_chunk *ch;
            size_t rows = 0, chunks = 0, maxrows = 0;
            int64_t last[3] = {INT64_MIN, INT64_MIN, INT64_MIN};
            int rc;
            while ((rc = storage_scan_iter_next(it, &ch)) > 0) {
                chunks++;
                if (ch->nrows > maxrows) maxrows = ch->nrows;
                for (size_t r = 0; r < ch->nrows; r++) {
                    size_t h = (size_t)(ch->cols[vcol].v.f[r]) % nser;
                    assert_true(ch->time[r] > last[h]); /* per series: time order */
                    assert_true(ch->time[r] >= o.min_time && ch->time[r] <= o.max_time);
                    last[h] = ch->time[r];
                    rows++;
                }
            }
            assert_int_equal(rc, 0);
            struct scan_stats st;
            storage_scan_iter_stats(it, &st);
            storage_scan_iter_close(it);
            assert_int_equal(rows, ranged ? (size_t)((o.max_time + 1 - o.min_time) / S) * nser : n);
            assert_int_equal(st.files, 1);
            if (split && !ranged) {
                assert_int_equal(chunks, 2);
                assert_true(maxrows <= 262144);
            } else if (!split) {
                assert_int_equal(chunks, 1);
            }
        }
    catalog_unlock(e->catalog);
    engine_close(e);
}

/* Every row of table m read with split_rows (on or off) and an optional
 * time range, checked for order (each series in time order across chunks,
 * no duplicate) and returned sorted by (host, time). */
struct srow {
    char host[8];
    int64_t time;
    double v;
};

static int srow_cmp(const void *a, const void *b)
{
    const struct srow *x = a, *y = b;
    int c = strcmp(x->host, y->host);
    if (c) return c;
    return (x->time > y->time) - (x->time < y->time);
}

static size_t scan_all(struct engine *e, int split, int64_t tmin, int64_t tmax, struct srow *out,
                       size_t cap, size_t *chunks, size_t *maxrows)
{
    catalog_rdlock(e->catalog);
    struct cat_db *d = catalog_db_get(e->catalog, "db", 2);
    struct cat_table *t = cat_db_table_get(d, "m", 1);
    uint32_t hc = cat_table_column_get(t, "host", 4)->id, vc = cat_table_column_get(t, "v", 1)->id;
    struct scan_opts o;
    scan_opts_init(&o);
    o.split_rows = split ? SCAN_SPLIT_ROWS : 0;
    o.min_time = tmin;
    o.max_time = tmax;
    struct scan_iter *it;
    assert_int_equal(storage_scan_iter_open(e, d, t, &o, &it), 0);
    const struct scan_chunk *ch;
    size_t n = 0;
    int rc;
    *chunks = *maxrows = 0;
    while ((rc = storage_scan_iter_next(it, &ch)) > 0) {
        (*chunks)++;
        if (ch->nrows > *maxrows) *maxrows = ch->nrows;
        for (size_t r = 0; r < ch->nrows; r++) {
            assert_true(n < cap);
            assert_true(ch->cols[hc].valid[r]);
            snprintf(out[n].host, sizeof(out[n].host), "%.*s", (int)ch->cols[hc].v.s[r].len,
                     ch->cols[hc].v.s[r].ptr);
            out[n].time = ch->time[r];
            out[n].v = ch->cols[vc].valid[r] ? ch->cols[vc].v.f[r] : -1;
            assert_true(ch->time[r] >= tmin && ch->time[r] <= tmax);
            /* a series' rows come in time order, also across chunks */
            for (size_t k = n; k-- > 0;)
                if (!strcmp(out[k].host, out[n].host)) {
                    assert_true(out[k].time < out[n].time);
                    break;
                }
            n++;
        }
    }
    assert_int_equal(rc, 0);
    storage_scan_iter_close(it);
    catalog_unlock(e->catalog);
    qsort(out, n, sizeof(*out), srow_cmp);
    return n;
}

/* A big rolled-up window plus a late hour file and buffer rows in it (new
 * series sorting before, between and after the file's, and overwrites):
 * with split_rows the big file streams row group by row group, each merged
 * with the other sources' rows up to its last (series, time), and a last
 * chunk takes the rest. The rows must equal those of the whole-window merge
 * and the expected values (newest wins), with and without a time range. */
static void test_split_merge_window(void **state)
{
    (void)state;
    struct engine *e = fx_open_engine(fx_dir());
    const size_t n = 300000, nser = 3; /* > one row group */
    struct sl_buf b = SL_BUF_INIT;
    for (size_t i = 0; i < n; i++)
        sl_buf_addf(&b, "m,host=h%zu v=%zu %lld\n", i % nser, i, T0 + (long long)(i / nser));
    write_lp(e, b.ptr);
    assert_int_equal(storage_persist(e, 1), 0);
    assert_int_equal(storage_compact(e, COMPACT_MIN_FILES), 0);
    int64_t ps[64], pl[64];
    assert_int_equal(file_windows(e, ps, pl), 1);
    /* late rows: a persisted hour file, then buffer rows */
    const char *late_hosts[] = {"a0", "h1x", "z9", "h0", "h2"};
    for (int round = 0; round < 2; round++) {
        sl_buf_reset(&b);
        for (size_t k = 0; k < 5; k++)
            for (long long j = 0; j < 50; j++) {
                /* overwrites of existing rows (h0, h2) and new series */
                long long sec = T0 + (long long)(k * 7919 % (n / nser)) + j * 3 + round;
                sl_buf_addf(&b, "m,host=%s v=%lld %lld\n", late_hosts[k],
                            1000000 + round * 1000 + (long long)k * 100 + j, sec);
            }
        write_lp(e, b.ptr);
        if (round == 0) assert_int_equal(storage_persist(e, 1), 0);
    }
    sl_buf_release(&b);
    assert_true(file_windows(e, ps, pl) >= 2);
    size_t cap = n + 1000;
    struct srow *x = sl_malloc(cap * sizeof(*x)), *y = sl_malloc(cap * sizeof(*y));
    assert_non_null(x);
    assert_non_null(y);
    int64_t ranges[2][2] = {{INT64_MIN, INT64_MAX}, {(T0 + 20000) * S, (T0 + 70000) * S - 1}};
    for (int ri = 0; ri < 2; ri++) {
        size_t c1, m1, c2, m2;
        size_t nx = scan_all(e, 1, ranges[ri][0], ranges[ri][1], x, cap, &c1, &m1);
        size_t ny = scan_all(e, 0, ranges[ri][0], ranges[ri][1], y, cap, &c2, &m2);
        assert_int_equal(nx, ny);
        for (size_t i = 0; i < nx; i++) {
            assert_string_equal(x[i].host, y[i].host);
            assert_int_equal(x[i].time, y[i].time);
            assert_true(x[i].v == y[i].v);
        }
        assert_int_equal(c2, 1); /* whole window */
        if (ri == 0) {
            assert_true(c1 >= 3); /* two row groups and the rest */
            assert_true(m1 < n);
            /* the newest value wins: round 1 (buffer) over round 0 (file) over the window */
            size_t late = 0;
            for (size_t i = 0; i < nx; i++)
                late += x[i].v >= 1000000;
            assert_int_equal(late, 2 * 5 * 50 - 0);
        }
    }
    sl_free(x);
    sl_free(y);
    engine_close(e);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_rollup_late_file_and_buffer, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_rollup_recent_day_and_hot_hour, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_rollup_retention, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_split_big_window, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_split_merge_window, fx_setup, fx_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
