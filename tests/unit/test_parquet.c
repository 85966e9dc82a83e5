/*
 * test_parquet.c — Parquet writer/reader round trips: every column type with
 * NULLs, every codec, empty / long / binary strings, dictionary fallback,
 * several row groups from odd batch sizes, statistics against values computed
 * here, key/value metadata, empty files, API misuse, and allocation failures
 * at every step (no crash, no leak under ASan).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "common/buf.h"
#include "common/err.h"
#include "common/mem.h"
#include "parquet/parquet.h"

static uint64_t rng_state;

static uint64_t rnd(void)
{
    uint64_t x = rng_state;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    return rng_state = x;
}

/* A column-major table built by the tests; owns everything. */
struct table {
    size_t nrows;
    int64_t *time, *i64;
    uint64_t *u64;
    double *dbl;
    uint8_t *b;
    struct pq_str *tag, *str;
    uint8_t *v_i64, *v_u64, *v_dbl, *v_b, *v_tag, *v_str;
    char **owned;
};

enum { C_TIME, C_I64, C_U64, C_DBL, C_BOOL, C_TAG, C_STR, C_N };

static const struct pq_column_spec specs[C_N] = {
    {"time", PQ_TIME_NS, 0, 0}, {"i", PQ_INT64, 1, 0}, {"u", PQ_UINT64, 1, 0},
    {"d", PQ_DOUBLE, 1, 0},     {"b", PQ_BOOL, 1, 0},  {"tag", PQ_STRING, 1, 1},
    {"s", PQ_STRING, 1, 0},
};

static char *mkstr(struct table *t, size_t row, size_t len, char fill)
{
    char *p = malloc(len + 1);
    assert_non_null(p);
    for (size_t i = 0; i < len; i++)
        p[i] = fill ? fill : (char)(rnd() & 0xff);
    p[len] = 0;
    t->owned[row] = p;
    return p;
}

static void table_make(struct table *t, size_t n, uint64_t seed)
{
    memset(t, 0, sizeof *t);
    rng_state = seed | 1;
    t->nrows = n;
    size_t m = n ? n : 1;
    t->time = calloc(m, 8);
    t->i64 = calloc(m, 8);
    t->u64 = calloc(m, 8);
    t->dbl = calloc(m, 8);
    t->b = calloc(m, 1);
    t->tag = calloc(m, sizeof *t->tag);
    t->str = calloc(m, sizeof *t->str);
    t->v_i64 = calloc(m, 1);
    t->v_u64 = calloc(m, 1);
    t->v_dbl = calloc(m, 1);
    t->v_b = calloc(m, 1);
    t->v_tag = calloc(m, 1);
    t->v_str = calloc(m, 1);
    t->owned = calloc(m, sizeof *t->owned);
    static const char *tags[] = {"alpha", "beta", "", "gamma-ünï", "delta"};
    int64_t walk = 0;
    for (size_t i = 0; i < n; i++) {
        t->time[i] = 1600000000000000000LL + (int64_t)i * 10000000000LL + (int64_t)(rnd() % 7);
        walk += (int64_t)(rnd() % 5) - 2;
        switch (rnd() % 16) {
        case 0: t->i64[i] = INT64_MIN; break;
        case 1: t->i64[i] = INT64_MAX; break;
        default: t->i64[i] = walk; break;
        }
        t->u64[i] = rnd() % 8 == 0 ? UINT64_MAX - (rnd() % 3) : rnd() % 100000;
        t->dbl[i] = rnd() % 10 == 0 ? -0.0 : ((double)(int64_t)(rnd() % 2000001) - 1e6) / 1024.0;
        t->b[i] = rnd() & 1;
        t->tag[i].ptr = tags[i / 7 % 5];
        t->tag[i].len = (uint32_t)strlen(t->tag[i].ptr);
        size_t kind = rnd() % 10, len = kind == 0   ? 0
                                        : kind == 1 ? 70000 + rnd() % 100
                                                    : rnd() % 40;
        t->str[i].ptr = mkstr(t, i, len, kind == 1 ? 'z' : 0); /* kind 2..9: binary with NULs */
        t->str[i].len = (uint32_t)len;
        t->v_i64[i] = rnd() % 4 != 0;
        t->v_u64[i] = rnd() % 3 != 0;
        t->v_dbl[i] = rnd() % 5 != 0;
        t->v_b[i] = rnd() % 6 != 0;
        t->v_tag[i] = rnd() % 9 != 0;
        t->v_str[i] = rnd() % 7 != 0;
    }
}

static void table_free(struct table *t)
{
    for (size_t i = 0; i < t->nrows; i++)
        free(t->owned[i]);
    free(t->owned);
    free(t->time), free(t->i64), free(t->u64), free(t->dbl), free(t->b), free(t->tag);
    free(t->str), free(t->v_i64), free(t->v_u64), free(t->v_dbl), free(t->v_b), free(t->v_tag);
    free(t->v_str);
}

static void table_cols(const struct table *t, size_t off, struct pq_column_data *d)
{
    d[C_TIME] = (struct pq_column_data){t->time + off, NULL};
    d[C_I64] = (struct pq_column_data){t->i64 + off, t->v_i64 + off};
    d[C_U64] = (struct pq_column_data){t->u64 + off, t->v_u64 + off};
    d[C_DBL] = (struct pq_column_data){t->dbl + off, t->v_dbl + off};
    d[C_BOOL] = (struct pq_column_data){t->b + off, t->v_b + off};
    d[C_TAG] = (struct pq_column_data){t->tag + off, t->v_tag + off};
    d[C_STR] = (struct pq_column_data){t->str + off, t->v_str + off};
}

/* Writes t in batches of `batch` rows into a memory buffer. */
static int write_table(const struct table *t, const struct pq_writer_opts *o, size_t batch,
                       struct sl_buf *out)
{
    struct pq_writer *w;
    int rc = pq_writer_open_buf(out, specs, C_N, o, &w);
    if (rc < 0) return rc;
    for (size_t off = 0; off < t->nrows; off += batch) {
        size_t n = t->nrows - off < batch ? t->nrows - off : batch;
        struct pq_column_data d[C_N];
        table_cols(t, off, d);
        if ((rc = pq_writer_write(w, d, n)) < 0) {
            pq_writer_abort(w);
            return rc;
        }
    }
    return pq_writer_close(w);
}

static const uint8_t *valid_of(const struct table *t, int c)
{
    switch (c) {
    case C_I64: return t->v_i64;
    case C_U64: return t->v_u64;
    case C_DBL: return t->v_dbl;
    case C_BOOL: return t->v_b;
    case C_TAG: return t->v_tag;
    case C_STR: return t->v_str;
    }
    return NULL;
}

static int str_cmp(struct pq_str a, struct pq_str b)
{
    size_t n = a.len < b.len ? a.len : b.len;
    int r = n ? memcmp(a.ptr, b.ptr, n) : 0;
    return r ? r : (a.len > b.len) - (a.len < b.len);
}

/* Checks every value, validity and the chunk statistics of rows [off, off+n). */
static void check_column(const struct table *t, int c, size_t off, size_t n,
                         const struct pq_column_buf *b, const struct pq_stats *st)
{
    const uint8_t *valid = valid_of(t, c);
    assert_int_equal(b->nrows, n);
    size_t nulls = 0;
    int have = 0;
    union pq_value mn = {0}, mx = {0};
    for (size_t i = 0; i < n; i++) {
        size_t r = off + i;
        int present = !valid || valid[r];
        if (valid) {
            assert_non_null(b->valid);
            assert_int_equal(b->valid[i], present);
        } else {
            assert_null(b->valid);
        }
        if (!present) {
            nulls++;
            continue;
        }
        switch (c) {
        case C_TIME:
        case C_I64: {
            int64_t want = c == C_TIME ? t->time[r] : t->i64[r];
            int64_t got = ((const int64_t *)b->values)[i];
            assert_true(got == want);
            if (!have || want < mn.i) mn.i = want;
            if (!have || want > mx.i) mx.i = want;
            break;
        }
        case C_U64: {
            uint64_t got = ((const uint64_t *)b->values)[i];
            assert_true(got == t->u64[r]);
            if (!have || got < mn.u) mn.u = got;
            if (!have || got > mx.u) mx.u = got;
            break;
        }
        case C_DBL: {
            double got = ((const double *)b->values)[i];
            assert_memory_equal(&got, &t->dbl[r], 8); /* bit-exact, -0.0 included */
            if (!have || got < mn.d) mn.d = got;
            if (!have || got > mx.d) mx.d = got;
            break;
        }
        case C_BOOL: {
            int got = ((const uint8_t *)b->values)[i];
            assert_int_equal(got, t->b[r]);
            if (!have || got < mn.b) mn.b = got;
            if (!have || got > mx.b) mx.b = got;
            break;
        }
        case C_TAG:
        case C_STR: {
            struct pq_str want = c == C_TAG ? t->tag[r] : t->str[r];
            struct pq_str got = ((const struct pq_str *)b->values)[i];
            assert_int_equal(got.len, want.len);
            if (want.len) assert_memory_equal(got.ptr, want.ptr, want.len);
            if (!have || str_cmp(want, mn.s) < 0) mn.s = want;
            if (!have || str_cmp(want, mx.s) > 0) mx.s = want;
            break;
        }
        }
        have = 1;
    }
    assert_int_equal(b->null_count, nulls);
    assert_true(st->has_null_count);
    assert_int_equal(st->null_count, (int64_t)nulls);
    if (c == C_STR && have && (mn.s.len > 4096 || mx.s.len > 4096)) {
        assert_false(st->has_minmax); /* long strings: left out, not truncated */
        return;
    }
    assert_int_equal(st->has_minmax, have);
    if (!have) return;
    switch (c) {
    case C_TIME:
    case C_I64: assert_true(st->min.i == mn.i && st->max.i == mx.i); break;
    case C_U64: assert_true(st->min.u == mn.u && st->max.u == mx.u); break;
    case C_DBL: assert_true(st->min.d == mn.d && st->max.d == mx.d); break;
    case C_BOOL:
        assert_int_equal(st->min.b, mn.b);
        assert_int_equal(st->max.b, mx.b);
        break;
    default:
        assert_int_equal(str_cmp(st->min.s, mn.s), 0);
        assert_int_equal(str_cmp(st->max.s, mx.s), 0);
        break;
    }
}

static void check_file(const struct table *t, const void *data, size_t len, size_t rg_rows)
{
    struct pq_reader *r;
    char err[256];
    int rc = pq_reader_open_mem(data, len, &r, err, sizeof err);
    if (rc < 0) fail_msg("open: %s", err);
    assert_int_equal(pq_reader_num_columns(r), C_N);
    assert_int_equal(pq_reader_num_rows(r), (int64_t)t->nrows);
    size_t ngroups = (t->nrows + rg_rows - 1) / rg_rows;
    assert_int_equal(pq_reader_num_row_groups(r), ngroups);
    for (size_t c = 0; c < C_N; c++) {
        const struct pq_column_info *ci = pq_reader_column(r, c);
        assert_string_equal(ci->name, specs[c].name);
        assert_int_equal(ci->type, specs[c].type);
        assert_int_equal(ci->nullable, specs[c].nullable);
    }
    size_t off = 0;
    for (size_t g = 0; g < ngroups; g++) {
        size_t n = (size_t)pq_reader_row_group_rows(r, g);
        assert_int_equal(n, t->nrows - off < rg_rows ? t->nrows - off : rg_rows);
        for (int c = 0; c < C_N; c++) {
            struct pq_column_buf b = PQ_COLUMN_BUF_INIT;
            struct pq_stats st;
            rc = pq_reader_read_column(r, g, (size_t)c, &b);
            if (rc < 0) fail_msg("read rg %zu col %d: %s", g, c, pq_reader_errmsg(r));
            assert_int_equal(pq_reader_stats(r, g, (size_t)c, &st), 0);
            check_column(t, c, off, n, &b, &st);
            pq_column_buf_release(&b);
        }
        off += n;
    }
    assert_int_equal(pq_reader_read_column(r, ngroups, 0, &(struct pq_column_buf){0}), SL_ERANGE);
    pq_reader_close(r);
}

static void roundtrip(enum pq_codec codec, size_t nrows, size_t rg, size_t page, size_t batch)
{
    struct table t;
    table_make(&t, nrows, 42 + nrows + codec);
    struct pq_writer_opts o = {0};
    o.codec = codec;
    o.row_group_rows = rg;
    o.page_rows = page;
    struct sl_buf out = SL_BUF_INIT;
    assert_int_equal(write_table(&t, &o, batch, &out), 0);
    check_file(&t, out.ptr, out.len, rg);
    sl_buf_release(&out);
    table_free(&t);
}

static void test_roundtrip_zstd(void **state)
{
    (void)state;
    roundtrip(PQ_CODEC_ZSTD, 5000, 2000, 333, 777);
}

static void test_roundtrip_snappy(void **state)
{
    (void)state;
    roundtrip(PQ_CODEC_SNAPPY, 5000, 1500, 1000, 4999);
}

static void test_roundtrip_none(void **state)
{
    (void)state;
    roundtrip(PQ_CODEC_NONE, 1000, 64, 7, 1);
}

static void test_roundtrip_sizes(void **state)
{
    (void)state;
    /* Page/row-group edges around the DELTA block (128) and miniblock (32). */
    size_t sizes[] = {1, 2, 31, 32, 33, 127, 128, 129, 257, 1023};
    for (size_t i = 0; i < sizeof sizes / sizeof *sizes; i++)
        roundtrip(PQ_CODEC_ZSTD, sizes[i], 1000, 1000, 1000);
}

static void test_file_commit(void **state)
{
    (void)state;
    char dir[] = "/tmp/sluice-pq-XXXXXX";
    assert_non_null(mkdtemp(dir));
    char tmp[256], final[256];
    snprintf(tmp, sizeof tmp, "%s/x.parquet.tmp", dir);
    snprintf(final, sizeof final, "%s/x.parquet", dir);
    struct table t;
    table_make(&t, 3000, 7);
    struct pq_kv kv[] = {
        {"sluice.tags", "[\"tag\"]"}, {"sluice.sort_key", "tag,time"}, {"empty", ""}};
    size_t sort[] = {C_TAG, C_TIME};
    struct pq_writer_opts o = {0};
    o.kv = kv;
    o.nkv = 3;
    o.sort_cols = sort;
    o.nsort = 2;
    o.row_group_rows = 1000;
    struct pq_writer *w;
    assert_int_equal(pq_writer_open(tmp, specs, C_N, &o, &w), 0);
    struct pq_column_data d[C_N];
    table_cols(&t, 0, d);
    assert_int_equal(pq_writer_write(w, d, t.nrows), 0);
    assert_int_equal(pq_writer_rows(w), 3000);
    assert_int_equal(pq_writer_commit(w, final), 0);
    assert_int_equal(access(tmp, F_OK), -1);
    struct pq_reader *r;
    char err[256];
    assert_int_equal(pq_reader_open(final, &r, err, sizeof err), 0);
    assert_string_equal(pq_reader_kv(r, "sluice.tags"), "[\"tag\"]");
    assert_string_equal(pq_reader_kv(r, "sluice.sort_key"), "tag,time");
    assert_string_equal(pq_reader_kv(r, "empty"), "");
    assert_null(pq_reader_kv(r, "nope"));
    assert_int_equal(pq_reader_num_kv(r), 3);
    assert_int_equal(pq_reader_find_column(r, "s"), C_STR);
    assert_int_equal(pq_reader_find_column(r, "zz"), -1);
    struct pq_column_buf b = PQ_COLUMN_BUF_INIT;
    assert_int_equal(pq_reader_read_column(r, 2, C_STR, &b), 0);
    struct pq_stats st;
    pq_reader_stats(r, 2, C_STR, &st);
    check_column(&t, C_STR, 2000, 1000, &b, &st);
    pq_column_buf_release(&b);
    pq_reader_close(r);
    /* Abort removes the file. */
    assert_int_equal(pq_writer_open(tmp, specs, C_N, &o, &w), 0);
    assert_int_equal(pq_writer_write(w, d, 10), 0);
    pq_writer_abort(w);
    assert_int_equal(access(tmp, F_OK), -1);
    assert_int_equal(pq_reader_open(tmp, &r, err, sizeof err), SL_ENOENT);
    unlink(final);
    rmdir(dir);
    table_free(&t);
}

static void test_dictionary_fallback(void **state)
{
    (void)state;
    /* Distinct 100-byte values: the dictionary passes 8 KiB after ~80 values,
     * so later pages of the chunk must fall back to PLAIN. */
    enum { N = 3000 };
    static char vals[N][101];
    struct pq_str s[N];
    for (int i = 0; i < N; i++) {
        snprintf(vals[i], sizeof vals[i], "%0100d", i % 2000);
        s[i].ptr = vals[i];
        s[i].len = 100;
    }
    struct pq_column_spec spec = {"tag", PQ_STRING, 0, 1};
    struct pq_writer_opts o = {0};
    o.dict_max_bytes = 8192;
    o.page_rows = 50;
    struct sl_buf out = SL_BUF_INIT;
    struct pq_writer *w;
    assert_int_equal(pq_writer_open_buf(&out, &spec, 1, &o, &w), 0);
    struct pq_column_data d = {s, NULL};
    assert_int_equal(pq_writer_write(w, &d, N), 0);
    assert_int_equal(pq_writer_close(w), 0);
    struct pq_reader *r;
    assert_int_equal(pq_reader_open_mem(out.ptr, out.len, &r, NULL, 0), 0);
    struct pq_chunk_info ci;
    assert_int_equal(pq_reader_chunk_info(r, 0, 0, &ci), 0);
    assert_true(ci.encodings & (1u << PQ_ENC_RLE_DICTIONARY));
    assert_true(ci.encodings & (1u << PQ_ENC_PLAIN));
    struct pq_column_buf b = PQ_COLUMN_BUF_INIT;
    assert_int_equal(pq_reader_read_column(r, 0, 0, &b), 0);
    for (int i = 0; i < N; i++) {
        struct pq_str g = ((struct pq_str *)b.values)[i];
        assert_int_equal(g.len, 100);
        assert_memory_equal(g.ptr, vals[i], 100);
    }
    pq_column_buf_release(&b);
    pq_reader_close(r);
    /* A small dictionary stays dictionary-only. */
    sl_buf_reset(&out);
    o.page_rows = 0;
    for (int i = 0; i < N; i++)
        s[i].ptr = vals[i % 10];
    assert_int_equal(pq_writer_open_buf(&out, &spec, 1, &o, &w), 0);
    assert_int_equal(pq_writer_write(w, &d, N), 0);
    assert_int_equal(pq_writer_close(w), 0);
    assert_int_equal(pq_reader_open_mem(out.ptr, out.len, &r, NULL, 0), 0);
    assert_int_equal(pq_reader_chunk_info(r, 0, 0, &ci), 0);
    assert_true(ci.encodings & (1u << PQ_ENC_RLE_DICTIONARY));
    assert_true(ci.compressed_bytes < 2000);
    pq_reader_close(r);
    sl_buf_release(&out);
}

static void test_empty_and_nulls(void **state)
{
    (void)state;
    /* No rows at all: a valid file with no row groups. */
    struct sl_buf out = SL_BUF_INIT;
    struct pq_writer *w;
    assert_int_equal(pq_writer_open_buf(&out, specs, C_N, NULL, &w), 0);
    assert_int_equal(pq_writer_close(w), 0);
    struct pq_reader *r;
    assert_int_equal(pq_reader_open_mem(out.ptr, out.len, &r, NULL, 0), 0);
    assert_int_equal(pq_reader_num_row_groups(r), 0);
    assert_int_equal(pq_reader_num_rows(r), 0);
    pq_reader_close(r);
    /* All-NULL columns: no min/max, null_count = rows. */
    struct table t;
    table_make(&t, 300, 9);
    memset(t.v_i64, 0, 300), memset(t.v_dbl, 0, 300), memset(t.v_tag, 0, 300);
    memset(t.v_str, 0, 300), memset(t.v_b, 0, 300), memset(t.v_u64, 0, 300);
    sl_buf_reset(&out);
    assert_int_equal(write_table(&t, NULL, 300, &out), 0);
    check_file(&t, out.ptr, out.len, 1u << 20);
    sl_buf_release(&out);
    table_free(&t);
}

static void test_double_stats(void **state)
{
    (void)state;
    double v[] = {0.0, -0.0, 0.0, 0.0 / 0.0, 3.5};
    struct pq_column_spec spec = {"d", PQ_DOUBLE, 0, 0};
    struct sl_buf out = SL_BUF_INIT;
    struct pq_writer *w;
    assert_int_equal(pq_writer_open_buf(&out, &spec, 1, NULL, &w), 0);
    assert_int_equal(pq_writer_write(w, &(struct pq_column_data){v, NULL}, 5), 0);
    assert_int_equal(pq_writer_close(w), 0);
    struct pq_reader *r;
    assert_int_equal(pq_reader_open_mem(out.ptr, out.len, &r, NULL, 0), 0);
    struct pq_stats st;
    pq_reader_stats(r, 0, 0, &st);
    assert_true(st.has_minmax);
    assert_true(st.min.d == 0.0 && signbit(st.min.d)); /* NaN ignored, zero min is -0.0 */
    assert_true(st.max.d == 3.5);
    struct pq_column_buf b = PQ_COLUMN_BUF_INIT;
    assert_int_equal(pq_reader_read_column(r, 0, 0, &b), 0);
    assert_memory_equal(b.values, v, sizeof v);
    pq_column_buf_release(&b);
    pq_reader_close(r);
    sl_buf_release(&out);
}

static void test_misuse(void **state)
{
    (void)state;
    struct sl_buf out = SL_BUF_INIT;
    struct pq_writer *w;
    struct pq_column_spec dup[2] = {{"a", PQ_INT64, 0, 0}, {"a", PQ_DOUBLE, 0, 0}};
    assert_int_equal(pq_writer_open_buf(&out, dup, 2, NULL, &w), SL_EINVAL);
    assert_int_equal(pq_writer_open_buf(&out, dup, 0, NULL, &w), SL_EINVAL);
    struct pq_writer_opts bad = {0};
    bad.codec = (enum pq_codec)17;
    assert_int_equal(pq_writer_open_buf(&out, dup, 1, &bad, &w), SL_EINVAL);
    assert_int_equal(pq_writer_open("/nonexistent-dir/x.parquet", dup, 1, NULL, &w), SL_ENOENT);
    /* NULL in a REQUIRED column is refused, and the writer stays usable. */
    int64_t v[2] = {1, 2};
    uint8_t valid[2] = {1, 0};
    assert_int_equal(pq_writer_open_buf(&out, dup, 1, NULL, &w), 0);
    assert_int_equal(pq_writer_write(w, &(struct pq_column_data){v, valid}, 2), SL_EINVAL);
    assert_int_equal(pq_writer_write(w, &(struct pq_column_data){v, NULL}, 2), 0);
    assert_int_equal(pq_writer_close(w), 0);
    struct pq_reader *r;
    assert_int_equal(pq_reader_open_mem(out.ptr, out.len, &r, NULL, 0), 0);
    assert_null(pq_reader_column(r, 1));
    struct pq_stats st;
    assert_int_equal(pq_reader_stats(r, 0, 5, &st), SL_ERANGE);
    /* A tiny memory limit is an error with a message, not an allocation. */
    pq_reader_set_mem_limit(r, 8);
    struct pq_column_buf b = PQ_COLUMN_BUF_INIT;
    assert_int_equal(pq_reader_read_column(r, 0, 0, &b), SL_ETOOBIG);
    assert_true(strlen(pq_reader_errmsg(r)) > 0);
    pq_reader_close(r);
    sl_buf_release(&out);
}

/* Every allocation of a write + read cycle fails in turn: each must come back
 * as an error (ASan reports any leak or bad free). */
static void test_alloc_failures(void **state)
{
    (void)state;
    struct table t;
    table_make(&t, 400, 3);
    struct pq_writer_opts o = {0};
    o.row_group_rows = 150;
    o.page_rows = 60;
    int ok_at = -1;
    for (long n = 0; n < 2000 && ok_at < 0; n++) {
        struct sl_buf out = SL_BUF_INIT;
        sl_mem_fail_after(n, 0);
        int rc = write_table(&t, &o, 100, &out);
        struct pq_reader *r = NULL;
        if (rc == 0) rc = pq_reader_open_mem(out.ptr, out.len, &r, NULL, 0);
        for (size_t g = 0; rc == 0 && g < 3; g++)
            for (size_t c = 0; rc == 0 && c < C_N; c++) {
                struct pq_column_buf b = PQ_COLUMN_BUF_INIT;
                rc = pq_reader_read_column(r, g, c, &b);
                pq_column_buf_release(&b);
            }
        pq_reader_close(r);
        sl_mem_fail_after(-1, 0);
        if (rc == 0)
            ok_at = (int)n;
        else if (rc != SL_ENOMEM)
            fail_msg("allocation failure %ld gave %s", n, sl_strerror(rc));
        sl_buf_release(&out);
    }
    assert_true(ok_at > 10); /* the cycle allocates; every earlier failure was survived */
    table_free(&t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_roundtrip_zstd),  cmocka_unit_test(test_roundtrip_snappy),
        cmocka_unit_test(test_roundtrip_none),  cmocka_unit_test(test_roundtrip_sizes),
        cmocka_unit_test(test_file_commit),     cmocka_unit_test(test_dictionary_fallback),
        cmocka_unit_test(test_empty_and_nulls), cmocka_unit_test(test_double_stats),
        cmocka_unit_test(test_misuse),          cmocka_unit_test(test_alloc_failures),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
