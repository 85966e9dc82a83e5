/*
 * test_parquet_hostile.c — the encodings and the Thrift codec in isolation
 * (round trips at awkward sizes and widths), and the reader against damaged
 * input: every truncation and thousands of byte corruptions of a valid file,
 * absurd lengths and counts crafted by hand (a page claiming ~2 GiB, a list
 * claiming 2^30 elements, a footer longer than the file). Each must give an
 * error (with a message) or valid data, never a crash, hang or huge
 * allocation; run under ASan+UBSan in the sanitizer build.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "common/buf.h"
#include "common/err.h"
#include "parquet/pq_int.h"

static uint64_t rng = 88172645463325252ull;

static uint64_t rnd(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

static void test_hybrid(void **state)
{
    (void)state;
    size_t sizes[] = {0, 1, 7, 8, 9, 15, 16, 17, 100, 1000, 4099};
    uint32_t *v = malloc(4099 * 4), *got = malloc(4099 * 4);
    for (int bw = 1; bw <= 32; bw++) {
        for (size_t si = 0; si < sizeof sizes / sizeof *sizes; si++) {
            size_t n = sizes[si];
            uint32_t mask = bw == 32 ? 0xffffffffu : ((1u << bw) - 1);
            /* mixed runs and literals */
            for (size_t i = 0; i < n; i++)
                v[i] = (rnd() % 3 == 0 && i) ? v[i - 1] : (uint32_t)rnd() & mask;
            for (size_t i = n / 3; i < n / 2; i++)
                v[i] = v[n / 3];
            struct sl_buf b = SL_BUF_INIT;
            assert_int_equal(pq_hybrid_encode(&b, v, n, bw), 0);
            size_t used = 0;
            assert_int_equal(pq_hybrid_decode((uint8_t *)b.ptr, b.len, bw, got, n, &used), 0);
            if (n) assert_memory_equal(got, v, n * 4);
            assert_int_equal(used, b.len);
            /* Any truncation that loses values is detected. */
            if (n > 0)
                assert_int_equal(pq_hybrid_decode((uint8_t *)b.ptr, b.len / 2, bw, got, n, NULL),
                                 SL_ECORRUPT);
            sl_buf_release(&b);
        }
    }
    /* Long runs compress to a few bytes. */
    for (size_t i = 0; i < 4099; i++)
        v[i] = 1;
    struct sl_buf b = SL_BUF_INIT;
    assert_int_equal(pq_hybrid_encode(&b, v, 4099, 1), 0);
    assert_true(b.len <= 4);
    sl_buf_release(&b);
    /* An RLE value wider than the bit width is corrupt. */
    uint8_t bad[] = {0x10, 0x05}; /* run of 8, value 5, bw 2 */
    assert_int_equal(pq_hybrid_decode(bad, 2, 2, got, 8, NULL), SL_ECORRUPT);
    free(v);
    free(got);
}

static void test_delta(void **state)
{
    (void)state;
    size_t sizes[] = {0, 1, 2, 32, 33, 127, 128, 129, 130, 200, 513, 5000};
    int64_t *v = malloc(5000 * 8), *got = malloc(5000 * 8);
    for (int pat = 0; pat < 5; pat++) {
        for (size_t si = 0; si < sizeof sizes / sizeof *sizes; si++) {
            size_t n = sizes[si];
            for (size_t i = 0; i < n; i++) {
                switch (pat) {
                case 0: v[i] = 1000 + (int64_t)i * 10; break;        /* constant delta */
                case 1: v[i] = (int64_t)rnd(); break;                /* full range */
                case 2: v[i] = i % 2 ? INT64_MAX : INT64_MIN; break; /* wrapping deltas */
                case 3: v[i] = (i ? v[i - 1] : 0) + (int64_t)(rnd() % 7) - 3; break;
                default: v[i] = -(int64_t)i * 1000000007LL; break;
                }
            }
            struct sl_buf b = SL_BUF_INIT;
            assert_int_equal(pq_delta_encode(&b, v, n), 0);
            size_t used = 0;
            assert_int_equal(pq_delta_decode((uint8_t *)b.ptr, b.len, got, n, &used), 0);
            if (n) assert_memory_equal(got, v, n * 8);
            assert_int_equal(used, b.len);
            /* Wrong count and truncation are detected. */
            assert_int_equal(pq_delta_decode((uint8_t *)b.ptr, b.len, got, n + 1, NULL),
                             SL_ECORRUPT);
            for (size_t cut = 0; cut < b.len; cut += 1 + b.len / 50)
                assert_int_equal(pq_delta_decode((uint8_t *)b.ptr, cut, got, n, NULL), SL_ECORRUPT);
            if (pat == 0 && n == 5000) assert_true(b.len < 256); /* bit width 0: 5 bytes a block */
            sl_buf_release(&b);
        }
    }
    free(v);
    free(got);
}

static void test_bss(void **state)
{
    (void)state;
    double v[37], got[37];
    for (int i = 0; i < 37; i++)
        v[i] = (double)i * 1.1 - 7;
    struct sl_buf b = SL_BUF_INIT;
    assert_int_equal(pq_bss_encode(&b, v, 37), 0);
    assert_int_equal(b.len, 37 * 8);
    assert_int_equal(pq_bss_decode((uint8_t *)b.ptr, b.len, got, 37), 0);
    assert_memory_equal(got, v, sizeof v);
    assert_int_equal(pq_bss_decode((uint8_t *)b.ptr, b.len - 1, got, 37), SL_ECORRUPT);
    sl_buf_release(&b);
}

static void test_thrift(void **state)
{
    (void)state;
    struct sl_buf b = SL_BUF_INIT;
    struct tc_out o = {&b, 0};
    int16_t last = 0;
    tc_put_i32(&o, &last, 1, -5);
    tc_put_i64(&o, &last, 40, INT64_MIN); /* long-form id */
    tc_put_bool(&o, &last, 41, 1);
    tc_put_binary(&o, &last, 3, "abc", 3); /* id going down: long form */
    tc_put_list_begin(&o, &last, 200, TC_I32, 20);
    for (int i = 0; i < 20; i++)
        tc_put_elem_i32(&o, i - 10);
    tc_put_stop(&o);
    assert_int_equal(o.err, 0);
    struct tc_in in = {(uint8_t *)b.ptr, (uint8_t *)b.ptr + b.len, 0, 0};
    int16_t l = 0, id;
    int t;
    assert_true(tc_field(&in, &l, &t, &id) && id == 1 && t == TC_I32);
    assert_int_equal(tc_i32(&in), -5);
    assert_true(tc_field(&in, &l, &t, &id) && id == 40 && t == TC_I64);
    assert_true(tc_i64(&in) == INT64_MIN);
    assert_true(tc_field(&in, &l, &t, &id) && id == 41 && t == TC_TRUE);
    assert_true(tc_field(&in, &l, &t, &id) && id == 3 && t == TC_BINARY);
    const uint8_t *p;
    uint32_t n;
    tc_binary(&in, &p, &n);
    assert_int_equal(n, 3);
    assert_memory_equal(p, "abc", 3);
    assert_true(tc_field(&in, &l, &t, &id) && id == 200 && t == TC_LIST);
    int et;
    assert_int_equal(tc_list(&in, &et), 20);
    for (int i = 0; i < 20; i++)
        assert_int_equal(tc_i32(&in), i - 10);
    assert_false(tc_field(&in, &l, &t, &id));
    assert_int_equal(in.err, 0);
    sl_buf_release(&b);
    /* A list claiming 2^30 elements in a few bytes: refused before allocating. */
    uint8_t huge[] = {0x29, 0xfc, 0x80, 0x80, 0x80, 0x80, 0x04, 0x00};
    struct pm_file f;
    assert_int_equal(pm_file_decode(huge, sizeof huge, &f), SL_ECORRUPT);
    /* Nesting deeper than TC_MAX_DEPTH. */
    uint8_t deep[64];
    for (int i = 0; i < 64; i++)
        deep[i] = 0x1c; /* field 1, struct, nested */
    assert_int_equal(pm_file_decode(deep, sizeof deep, &f), SL_ECORRUPT);
    /* Varint longer than 64 bits. */
    uint8_t vi[] = {0x16, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f, 0};
    assert_int_equal(pm_file_decode(vi, sizeof vi, &f), SL_ECORRUPT);
}

/* A small valid file with every column type, three row groups. */
static void make_file(struct sl_buf *out, enum pq_codec codec)
{
    struct pq_column_spec cols[] = {
        {"time", PQ_TIME_NS, 0, 0}, {"tag", PQ_STRING, 1, 1}, {"i", PQ_INT64, 1, 0},
        {"u", PQ_UINT64, 0, 0},     {"d", PQ_DOUBLE, 1, 0},   {"b", PQ_BOOL, 1, 0},
        {"s", PQ_STRING, 1, 0},
    };
    enum { N = 90 };
    int64_t tm[N], iv[N];
    uint64_t uv[N];
    double dv[N];
    uint8_t bv[N], valid[N];
    struct pq_str tags[N], strs[N];
    static const char *names[] = {"a", "bb", "ccc"};
    for (int i = 0; i < N; i++) {
        tm[i] = 1000 + i * 10;
        iv[i] = i * i - 50;
        uv[i] = (uint64_t)i * 3;
        dv[i] = i / 4.0;
        bv[i] = i % 3 == 0;
        valid[i] = i % 5 != 0;
        tags[i] = (struct pq_str){names[i % 3], (uint32_t)strlen(names[i % 3])};
        strs[i] = (struct pq_str){"hello world", (uint32_t)(i % 12)};
    }
    struct pq_column_data d[] = {{tm, NULL},  {tags, valid}, {iv, valid},  {uv, NULL},
                                 {dv, valid}, {bv, valid},   {strs, valid}};
    struct pq_writer_opts o = {0};
    o.codec = codec;
    o.row_group_rows = 40;
    o.page_rows = 16;
    struct pq_kv kv = {"k", "v"};
    o.kv = &kv;
    o.nkv = 1;
    struct pq_writer *w;
    assert_int_equal(pq_writer_open_buf(out, cols, 7, &o, &w), 0);
    assert_int_equal(pq_writer_write(w, d, N), 0);
    assert_int_equal(pq_writer_close(w), 0);
}

/* Opens and fully reads bytes; returns 0 if everything decoded. */
static int read_all(const uint8_t *p, size_t n)
{
    struct pq_reader *r;
    char err[256] = "";
    int rc = pq_reader_open_mem(p, n, &r, err, sizeof err);
    if (rc < 0) {
        assert_true(err[0] != 0); /* every refusal says why */
        return rc;
    }
    pq_reader_set_mem_limit(r, (size_t)64 << 20);
    for (size_t g = 0; g < pq_reader_num_row_groups(r); g++)
        for (size_t c = 0; c < pq_reader_num_columns(r); c++) {
            struct pq_column_buf b = PQ_COLUMN_BUF_INIT;
            struct pq_stats st;
            pq_reader_stats(r, g, c, &st);
            int x = pq_reader_read_column(r, g, c, &b);
            if (x < 0) {
                assert_true(pq_reader_errmsg(r)[0] != 0);
                rc = x;
            }
            pq_column_buf_release(&b);
        }
    pq_reader_close(r);
    return rc;
}

static void test_truncation(void **state)
{
    (void)state;
    struct sl_buf f = SL_BUF_INIT;
    make_file(&f, PQ_CODEC_NONE);
    assert_int_equal(read_all((uint8_t *)f.ptr, f.len), 0);
    for (size_t n = 0; n < f.len; n++) {
        uint8_t *copy = malloc(n ? n : 1);
        memcpy(copy, f.ptr, n);
        assert_true(read_all(copy, n) < 0); /* exact-size buffer: ASan sees overreads */
        free(copy);
    }
    sl_buf_release(&f);
}

static void corrupt_all(enum pq_codec codec)
{
    struct sl_buf f = SL_BUF_INIT;
    make_file(&f, codec);
    uint8_t *copy = malloc(f.len);
    size_t failures = 0, runs = 0;
    static const uint8_t pats[] = {0xff, 0x01, 0x80, 0x7f, 0x10};
    for (size_t i = 0; i < f.len; i++) {
        for (size_t k = 0; k < sizeof pats; k++) {
            memcpy(copy, f.ptr, f.len);
            copy[i] ^= pats[k];
            failures += read_all(copy, f.len) < 0;
            runs++;
        }
    }
    /* Random multi-byte damage too. */
    for (int it = 0; it < 3000; it++) {
        memcpy(copy, f.ptr, f.len);
        for (int j = 0; j < 4; j++)
            copy[rnd() % f.len] = (uint8_t)rnd();
        failures += read_all(copy, f.len) < 0;
        runs++;
    }
    assert_true(failures > runs / 4); /* damage is mostly detected */
    free(copy);
    sl_buf_release(&f);
}

static void test_corruption_none(void **state)
{
    (void)state;
    corrupt_all(PQ_CODEC_NONE);
}

static void test_corruption_zstd(void **state)
{
    (void)state;
    corrupt_all(PQ_CODEC_ZSTD);
}

static void test_corruption_snappy(void **state)
{
    (void)state;
    corrupt_all(PQ_CODEC_SNAPPY);
}

static void test_crafted(void **state)
{
    (void)state;
    char err[256];
    struct pq_reader *r;
    /* Footer length beyond the file. */
    uint8_t f1[] = {'P', 'A', 'R', '1', 0, 0, 0, 0, 0xff, 0xff, 0xff, 0x7f, 'P', 'A', 'R', '1'};
    assert_int_equal(pq_reader_open_mem(f1, sizeof f1, &r, err, sizeof err), SL_ECORRUPT);
    assert_non_null(strstr(err, "footer length"));
    /* Not parquet at all. */
    assert_int_equal(pq_reader_open_mem("hello world, this is text", 25, &r, err, sizeof err),
                     SL_ECORRUPT);
    /* A page claiming ~2 GiB uncompressed is refused before allocating. */
    struct sl_buf chunk = SL_BUF_INIT;
    struct pm_page_header h = {0};
    h.type = PAGE_DATA;
    h.uncompressed_size = INT32_MAX;
    h.compressed_size = 4;
    h.has_data = 1;
    h.num_values = 1;
    assert_int_equal(pm_page_header_encode(&h, &chunk), 0);
    sl_buf_add(&chunk, "abcd", 4);
    struct pq_column_buf b;
    struct pq_chunk_ctx x = {"c", PQ_INT64,   0,    PQ_CODEC_NONE, 1, (size_t)1 << 30,
                             err, sizeof err, NULL, NULL};
    assert_int_equal(pq_decode_chunk(&x, (uint8_t *)chunk.ptr, chunk.len, &b), SL_ECORRUPT);
    assert_non_null(strstr(err, "page sizes"));
    pq_column_buf_release(&b);
    /* A row group claiming 2^40 rows: refused by the memory limit, no allocation. */
    x.nrows = (size_t)1 << 40;
    assert_int_equal(pq_decode_chunk(&x, (uint8_t *)chunk.ptr, chunk.len, &b), SL_ETOOBIG);
    pq_column_buf_release(&b);
    /* A page whose value count exceeds the row group. */
    sl_buf_reset(&chunk);
    h.uncompressed_size = 4;
    h.num_values = 5;
    assert_int_equal(pm_page_header_encode(&h, &chunk), 0);
    sl_buf_add(&chunk, "abcd", 4);
    x.nrows = 1;
    assert_int_equal(pq_decode_chunk(&x, (uint8_t *)chunk.ptr, chunk.len, &b), SL_ECORRUPT);
    pq_column_buf_release(&b);
    /* A dictionary page claiming more entries than its bytes can hold. */
    sl_buf_reset(&chunk);
    struct pm_page_header dh = {0};
    dh.type = PAGE_DICTIONARY;
    dh.uncompressed_size = 8;
    dh.compressed_size = 8;
    dh.has_dict = 1;
    dh.num_values = 1000000;
    assert_int_equal(pm_page_header_encode(&dh, &chunk), 0);
    sl_buf_add(&chunk, "\1\0\0\0a\1\0\0", 8);
    x.type = PQ_STRING;
    assert_int_equal(pq_decode_chunk(&x, (uint8_t *)chunk.ptr, chunk.len, &b), SL_ECORRUPT);
    pq_column_buf_release(&b);
    sl_buf_release(&chunk);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_hybrid),
        cmocka_unit_test(test_delta),
        cmocka_unit_test(test_bss),
        cmocka_unit_test(test_thrift),
        cmocka_unit_test(test_truncation),
        cmocka_unit_test(test_corruption_none),
        cmocka_unit_test(test_corruption_zstd),
        cmocka_unit_test(test_corruption_snappy),
        cmocka_unit_test(test_crafted),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
