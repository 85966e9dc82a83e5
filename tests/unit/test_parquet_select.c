/*
 * test_parquet_select.c — the selective reads of the Parquet reader
 * (pq_reader_read_rows, pq_reader_filter_str, pq_reader_filter_i64) against
 * "read_column, then select" on random files: many small pages, several row
 * groups, NULLs, every column type, dictionary strings and dictionaries that
 * fall back to PLAIN, NaN doubles (no ColumnIndex for that chunk), files
 * with and without a page index; random, empty, full and page-edge
 * selections. Also: pages that the ColumnIndex rules out are not read
 * (damaging them does not matter), and bad selections are refused.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "common/buf.h"
#include "common/err.h"
#include "parquet/parquet.h"
#include "parquet/pq_int.h"

static uint64_t rng_state;

static uint64_t rnd(void)
{
    uint64_t x = rng_state;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    return rng_state = x;
}

enum { C_TIME, C_I64, C_U64, C_DBL, C_BOOL, C_TAG, C_TAGF, C_STR, C_N };

static const struct pq_column_spec specs[C_N] = {
    {"time", PQ_TIME_NS, 0, 0}, {"i", PQ_INT64, 1, 0},  {"u", PQ_UINT64, 0, 0},
    {"d", PQ_DOUBLE, 1, 0},     {"b", PQ_BOOL, 1, 0},   {"tag", PQ_STRING, 1, 1},
    {"tagf", PQ_STRING, 0, 1},  {"s", PQ_STRING, 1, 0},
};

#define NTAGS 7
static const char *tag_vals[NTAGS] = {"", "a", "host_1", "host_2", "host_10", "zz", "\xff\x01"};

struct table {
    size_t n;
    int64_t *time, *i64;
    uint64_t *u64;
    double *dbl;
    uint8_t *b;
    struct pq_str *tag, *tagf, *str;
    uint8_t *valid[C_N];
    char *sbytes; /* backing store of tagf / str values */
};

static void table_make(struct table *t, size_t n, int with_nan)
{
    memset(t, 0, sizeof *t);
    t->n = n;
    t->time = calloc(n, 8);
    t->i64 = calloc(n, 8);
    t->u64 = calloc(n, 8);
    t->dbl = calloc(n, 8);
    t->b = calloc(n, 1);
    t->tag = calloc(n, sizeof *t->tag);
    t->tagf = calloc(n, sizeof *t->tagf);
    t->str = calloc(n, sizeof *t->str);
    t->sbytes = calloc(n, 32);
    for (int c = 0; c < C_N; c++)
        t->valid[c] = calloc(n, 1);
    /* Runs of one tag value (as series-sorted data has), time rising within
     * a run; NULLs in runs and scattered. */
    size_t run = 0, tv = 0;
    int64_t tm = 0;
    int null_run = 0;
    for (size_t i = 0; i < n; i++) {
        if (run == 0) {
            run = 1 + rnd() % 300;
            tv = rnd() % NTAGS;
            tm = (int64_t)(rnd() % 1000) - 500;
            null_run = rnd() % 6 == 0;
        }
        run--;
        tm += (int64_t)(rnd() % 10);
        t->time[i] = tm;
        t->i64[i] = (int64_t)(rnd() % 2001) - 1000;
        t->u64[i] = rnd() % 7 == 0 ? UINT64_MAX - rnd() % 5 : rnd() % 100;
        t->dbl[i] = with_nan && rnd() % 50 == 0 ? NAN : (double)(int64_t)(rnd() % 1000) / 8.0;
        t->b[i] = (uint8_t)(rnd() & 1);
        t->tag[i].ptr = tag_vals[tv];
        t->tag[i].len = (uint32_t)strlen(tag_vals[tv]);
        char *sb = t->sbytes + i * 32;
        int len = snprintf(sb, 32, "v%llu", (unsigned long long)(rnd() % (i < n / 2 ? 5 : 100000)));
        t->tagf[i].ptr = sb;
        t->tagf[i].len = (uint32_t)len;
        t->str[i].ptr = sb;
        t->str[i].len = (uint32_t)(rnd() % 3 == 0 ? 0 : len);
        for (int c = 0; c < C_N; c++)
            t->valid[c][i] = specs[c].nullable ? rnd() % 9 != 0 : 1;
        if (null_run) t->valid[C_TAG][i] = 0;
        if (null_run && rnd() % 2) t->valid[C_I64][i] = 0;
    }
}

static void table_free(struct table *t)
{
    free(t->time);
    free(t->i64);
    free(t->u64);
    free(t->dbl);
    free(t->b);
    free(t->tag);
    free(t->tagf);
    free(t->str);
    free(t->sbytes);
    for (int c = 0; c < C_N; c++)
        free(t->valid[c]);
}

static void table_write(const struct table *t, const struct pq_writer_opts *o, struct sl_buf *out)
{
    struct pq_writer *w;
    sl_buf_init(out, 0);
    assert_int_equal(pq_writer_open_buf(out, specs, C_N, o, &w), 0);
    const void *vals[C_N] = {t->time, t->i64, t->u64, t->dbl, t->b, t->tag, t->tagf, t->str};
    struct pq_column_data d[C_N];
    for (size_t off = 0; off < t->n;) {
        size_t k = 1 + rnd() % 700;
        if (k > t->n - off) k = t->n - off;
        for (int c = 0; c < C_N; c++) {
            size_t es = specs[c].type == PQ_BOOL     ? 1
                        : specs[c].type == PQ_STRING ? sizeof(struct pq_str)
                                                     : 8;
            d[c].values = (const uint8_t *)vals[c] + off * es;
            d[c].valid = specs[c].nullable ? t->valid[c] + off : NULL;
        }
        assert_int_equal(pq_writer_write(w, d, k), 0);
        off += k;
    }
    assert_int_equal(pq_writer_close(w), 0);
}

static size_t esize(enum pq_ctype t)
{
    return t == PQ_BOOL ? 1 : t == PQ_STRING ? sizeof(struct pq_str) : 8;
}

/* Value j of b equals value i of a (both present or both NULL). */
static void assert_same(const struct pq_column_buf *a, size_t i, const struct pq_column_buf *b,
                        size_t j)
{
    int va = !a->valid || a->valid[i], vb = !b->valid || b->valid[j];
    assert_int_equal(va, vb);
    if (!va) return;
    if (a->type == PQ_STRING) {
        const struct pq_str *x = &((const struct pq_str *)a->values)[i];
        const struct pq_str *y = &((const struct pq_str *)b->values)[j];
        assert_int_equal(x->len, y->len);
        if (x->len) assert_memory_equal(x->ptr, y->ptr, x->len);
    } else {
        size_t es = esize(a->type);
        assert_memory_equal((const uint8_t *)a->values + i * es,
                            (const uint8_t *)b->values + j * es, es);
    }
}

/* A random ascending selection of [0, n): one of several shapes. */
static size_t make_sel(uint32_t *sel, size_t n, size_t page)
{
    size_t m = 0;
    switch (rnd() % 7) {
    case 0: return 0;
    case 1: /* everything */
        for (size_t i = 0; i < n; i++)
            sel[m++] = (uint32_t)i;
        return m;
    case 2: /* one row */ sel[0] = (uint32_t)(rnd() % n); return 1;
    case 3: /* page edges */
        for (size_t i = 0; i < n; i++)
            if (i % page == 0 || i % page == page - 1 || i == n - 1) sel[m++] = (uint32_t)i;
        return m;
    case 4: { /* one contiguous range */
        size_t a = rnd() % n, b = a + rnd() % (n - a);
        for (size_t i = a; i <= b; i++)
            sel[m++] = (uint32_t)i;
        return m;
    }
    default: { /* random density */
        uint64_t p = 1 + rnd() % 100;
        for (size_t i = 0; i < n; i++)
            if (rnd() % 100 < p) sel[m++] = (uint32_t)i;
        return m;
    }
    }
}

static int str_is(const struct pq_column_buf *b, size_t i, const struct pq_str *vals, size_t nv)
{
    if (b->valid && !b->valid[i]) return 0;
    const struct pq_str *s = &((const struct pq_str *)b->values)[i];
    for (size_t v = 0; v < nv; v++)
        if (vals[v].len == s->len && (!s->len || memcmp(vals[v].ptr, s->ptr, s->len) == 0))
            return 1;
    return 0;
}

static void check_file(const struct sl_buf *f, size_t page, int rounds)
{
    struct pq_reader *r;
    char err[256];
    assert_int_equal(pq_reader_open_mem(f->ptr, f->len, &r, err, sizeof err), 0);
    for (size_t g = 0; g < pq_reader_num_row_groups(r); g++) {
        size_t n = (size_t)pq_reader_row_group_rows(r, g);
        uint32_t *sel = malloc((n + 1) * 4), *out = malloc((n + 1) * 4), *exp = malloc((n + 1) * 4);
        struct pq_column_buf full[C_N];
        for (size_t c = 0; c < C_N; c++)
            assert_int_equal(pq_reader_read_column(r, g, c, &full[c]), 0);
        for (int round = 0; round < rounds; round++) {
            /* read_rows on every column */
            size_t m = make_sel(sel, n, page);
            for (size_t c = 0; c < C_N; c++) {
                struct pq_column_buf b = PQ_COLUMN_BUF_INIT;
                assert_int_equal(pq_reader_read_rows(r, g, c, sel, m, &b), 0);
                assert_int_equal(b.nrows, m);
                assert_int_equal(b.type, specs[c].type);
                size_t nulls = 0;
                for (size_t j = 0; j < m; j++) {
                    assert_same(&full[c], sel[j], &b, j);
                    nulls += full[c].valid && !full[c].valid[sel[j]];
                }
                assert_int_equal(b.null_count, nulls);
                pq_column_buf_release(&b);
            }
            /* filter_str on the string columns */
            for (size_t c = C_TAG; c <= C_STR; c++) {
                struct pq_str vals[3];
                size_t nv = rnd() % 4;
                for (size_t v = 0; v < nv; v++) {
                    if (rnd() % 3 == 0) {
                        const char *s = tag_vals[rnd() % NTAGS];
                        vals[v] = (struct pq_str){s, (uint32_t)strlen(s)};
                    } else if (rnd() % 4 == 0) {
                        vals[v] = (struct pq_str){"nope", 4};
                    } else {
                        vals[v] = ((const struct pq_str *)full[c].values)[rnd() % n];
                    }
                }
                int use_in = rnd() % 2;
                size_t nin = use_in ? make_sel(sel, n, page) : 0, nexp = 0, nout = 99;
                for (size_t i = 0; i < (use_in ? nin : n); i++) {
                    size_t row = use_in ? sel[i] : i;
                    if (str_is(&full[c], row, vals, nv)) exp[nexp++] = (uint32_t)row;
                }
                assert_int_equal(
                    pq_reader_filter_str(r, g, c, vals, nv, use_in ? sel : NULL, nin, out, &nout),
                    0);
                assert_int_equal(nout, nexp);
                if (nexp) assert_memory_equal(out, exp, nexp * 4);
            }
            /* filter_i64 on time and the nullable integers */
            for (size_t c = C_TIME; c <= C_I64; c++) {
                const int64_t *v = full[c].values;
                int64_t lo = v[rnd() % n] - (int64_t)(rnd() % 3), hi = v[rnd() % n];
                if (rnd() % 5 == 0) lo = INT64_MIN;
                if (rnd() % 5 == 0) hi = INT64_MAX;
                if (rnd() % 8 == 0) { /* empty range */
                    lo = hi == INT64_MIN ? INT64_MIN + 1 : hi;
                    hi = lo - 1;
                }
                int use_in = rnd() % 2;
                size_t nin = use_in ? make_sel(sel, n, page) : 0, nexp = 0, nout = 99;
                for (size_t i = 0; i < (use_in ? nin : n); i++) {
                    size_t row = use_in ? sel[i] : i;
                    if ((!full[c].valid || full[c].valid[row]) && v[row] >= lo && v[row] <= hi)
                        exp[nexp++] = (uint32_t)row;
                }
                assert_int_equal(
                    pq_reader_filter_i64(r, g, c, lo, hi, use_in ? sel : NULL, nin, out, &nout), 0);
                assert_int_equal(nout, nexp);
                if (nexp) assert_memory_equal(out, exp, nexp * 4);
            }
        }
        /* misuse */
        uint32_t bad[2] = {5, 5};
        struct pq_column_buf b = PQ_COLUMN_BUF_INIT;
        size_t nout;
        assert_int_equal(pq_reader_read_rows(r, g, C_I64, bad, 2, &b), SL_EINVAL);
        bad[0] = (uint32_t)n;
        assert_int_equal(pq_reader_read_rows(r, g, C_I64, bad, 1, &b), SL_EINVAL);
        assert_int_equal(pq_reader_filter_i64(r, g, C_DBL, 0, 1, NULL, 0, out, &nout), SL_EINVAL);
        assert_int_equal(pq_reader_filter_str(r, g, C_I64, NULL, 0, NULL, 0, out, &nout),
                         SL_EINVAL);
        assert_int_equal(pq_reader_read_rows(r, g, C_N, bad, 0, &b), SL_ERANGE);
        for (size_t c = 0; c < C_N; c++)
            pq_column_buf_release(&full[c]);
        free(sel);
        free(out);
        free(exp);
    }
    pq_reader_close(r);
}

static void run(uint64_t seed, size_t n, size_t page, size_t rg, int no_index, int with_nan,
                enum pq_codec codec)
{
    rng_state = seed;
    struct table t;
    table_make(&t, n, with_nan);
    struct pq_writer_opts o = {.codec = codec,
                               .row_group_rows = rg,
                               .page_rows = page,
                               .dict_max_bytes = 200,
                               .no_page_index = no_index};
    struct sl_buf f;
    table_write(&t, &o, &f);
    check_file(&f, page, 12);
    sl_buf_release(&f);
    table_free(&t);
}

static void test_select_with_index(void **state)
{
    (void)state;
    run(0x1234567, 5000, 97, 1800, 0, 0, PQ_CODEC_ZSTD);
    run(0x7654321, 3000, 64, 3000, 0, 1, PQ_CODEC_NONE);
    run(0x5555555, 700, 1, 300, 0, 0, PQ_CODEC_SNAPPY); /* one row per page */
}

static void test_select_without_index(void **state)
{
    (void)state;
    run(0x2345678, 5000, 97, 1800, 1, 0, PQ_CODEC_ZSTD);
    run(0x8765432, 2000, 333, 50000, 1, 1, PQ_CODEC_NONE);
}

/* Pages the ColumnIndex rules out are never read: the data pages of a
 * sorted tag column that do not hold the wanted value are damaged (found
 * through the file's own OffsetIndex), read_column now fails, and
 * filter_str still returns exactly the wanted rows. */
static void test_skipped_pages_unread(void **state)
{
    (void)state;
    rng_state = 99;
    size_t n = 4096, page = 128;
    struct table t;
    table_make(&t, n, 0);
    for (size_t i = 0; i < n; i++) {
        const char *s = tag_vals[1 + i / 1024]; /* "a", "host_1", "host_2", "host_10" */
        t.tag[i] = (struct pq_str){s, (uint32_t)strlen(s)};
        t.valid[C_TAG][i] = 1;
    }
    struct pq_writer_opts o = {.codec = PQ_CODEC_NONE, .row_group_rows = n, .page_rows = page};
    struct sl_buf f;
    table_write(&t, &o, &f);
    /* locate the tag chunk's pages */
    uint8_t *file = (uint8_t *)f.ptr;
    uint32_t flen = pq_get_le32(file + f.len - 8);
    struct pm_file meta;
    assert_int_equal(pm_file_decode(file + f.len - 8 - flen, flen, &meta), 0);
    const struct pm_column *m = &meta.rgs[0].cols[C_TAG];
    assert_true(m->oi_offset > 0 && m->ci_offset > 0);
    struct pm_page_loc *locs;
    size_t np;
    assert_int_equal(pm_offset_index_decode(file + m->oi_offset, (size_t)m->oi_length, &locs, &np),
                     0);
    assert_int_equal(np, n / page);
    size_t damaged = 0;
    for (size_t i = 0; i < np; i++) {
        if (locs[i].first_row >= 1024 && locs[i].first_row < 2048) continue;
        memset(file + locs[i].offset, 0xff, (size_t)locs[i].size);
        damaged++;
    }
    assert_int_equal(damaged, np - 1024 / page);
    free(locs);
    pm_file_release(&meta);
    struct pq_reader *r;
    char err[256];
    uint32_t *out = malloc(n * 4);
    size_t nout;
    struct pq_str want = {"host_1", 6};
    struct pq_column_buf b = PQ_COLUMN_BUF_INIT;
    assert_int_equal(pq_reader_open_mem(f.ptr, f.len, &r, err, sizeof err), 0);
    assert_int_equal(pq_reader_read_column(r, 0, C_TAG, &b), SL_ECORRUPT);
    assert_int_equal(pq_reader_filter_str(r, 0, C_TAG, &want, 1, NULL, 0, out, &nout), 0);
    assert_int_equal(nout, 1024);
    for (size_t i = 0; i < nout; i++)
        assert_int_equal(out[i], 1024 + i);
    /* and reading those rows touches only their pages */
    assert_int_equal(pq_reader_read_rows(r, 0, C_TAG, out, nout, &b), 0);
    for (size_t i = 0; i < nout; i++)
        assert_memory_equal(((const struct pq_str *)b.values)[i].ptr, "host_1", 6);
    pq_column_buf_release(&b);
    /* a value in damaged pages is reported as damage, not as no rows */
    want = (struct pq_str){"a", 1};
    assert_int_equal(pq_reader_filter_str(r, 0, C_TAG, &want, 1, NULL, 0, out, &nout), SL_ECORRUPT);
    pq_reader_close(r);
    free(out);
    sl_buf_release(&f);
    table_free(&t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_select_with_index),
        cmocka_unit_test(test_select_without_index),
        cmocka_unit_test(test_skipped_pages_unread),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
