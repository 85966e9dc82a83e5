/*
 * test_parquet_size.c — storage size of a TSBS-like table (cpu-only shape):
 * 1000 series x 1000 points at 10 s, 10 dictionary-encoded tag columns,
 * time, 10 int64 fields doing a clamped random walk (TSBS's cpu fields as
 * integers), sorted by series then time, zstd. Prints bytes per field value
 * (file size / 10M) with a per-column breakdown, and fails above the
 * project's goal of 1 byte per value. Also reads a sample back.
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
#include "parquet/parquet.h"

enum { SERIES = 1000, POINTS = 1000, NTAGS = 10, NFIELDS = 10 };

static uint64_t rng = 0x2545F4914F6CDD1Dull;

static uint64_t rnd(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

static const char *tag_names[NTAGS] = {
    "hostname", "region",          "datacenter",         "rack", "os", "arch", "team",
    "service",  "service_version", "service_environment"};
static const char *field_names[NFIELDS] = {
    "usage_user", "usage_system",  "usage_idle",  "usage_nice",  "usage_iowait",
    "usage_irq",  "usage_softirq", "usage_steal", "usage_guest", "usage_guest_nice"};

/* Writes the table; returns the file size. step = max random-walk step. */
static size_t build(enum pq_codec codec, size_t rg_rows, int step, struct sl_buf *out)
{
    struct pq_column_spec cols[1 + NTAGS + NFIELDS];
    for (int t = 0; t < NTAGS; t++)
        cols[t] = (struct pq_column_spec){tag_names[t], PQ_STRING, 0, 1};
    cols[NTAGS] = (struct pq_column_spec){"time", PQ_TIME_NS, 0, 0};
    for (int f = 0; f < NFIELDS; f++)
        cols[NTAGS + 1 + f] = (struct pq_column_spec){field_names[f], PQ_INT64, 1, 0};
    struct pq_kv kv[] = {{"sluice.sort_key", "hostname,region,datacenter,rack,os,arch,team,"
                                             "service,service_version,service_environment,time"}};
    struct pq_writer_opts o = {0};
    o.codec = codec;
    o.row_group_rows = rg_rows;
    o.kv = kv;
    o.nkv = 1;
    struct pq_writer *w;
    assert_int_equal(pq_writer_open_buf(out, cols, 1 + NTAGS + NFIELDS, &o, &w), 0);
    static char tagbuf[NTAGS][32];
    static struct pq_str tags[NTAGS][POINTS];
    static int64_t tm[POINTS], fv[NFIELDS][POINTS];
    rng = 0x2545F4914F6CDD1Dull;
    for (int s = 0; s < SERIES; s++) {
        /* TSBS-style tag values: hostname unique, the others from small sets. */
        snprintf(tagbuf[0], 32, "host_%d", s);
        snprintf(tagbuf[1], 32, "region-%d", s % 9);
        snprintf(tagbuf[2], 32, "dc-%d", s % 27);
        snprintf(tagbuf[3], 32, "%d", s % 100);
        snprintf(tagbuf[4], 32, "Ubuntu%d.04LTS", 14 + 2 * (s % 3));
        snprintf(tagbuf[5], 32, "%s", s % 2 ? "x64" : "x86");
        snprintf(tagbuf[6], 32, "%s", (const char *[]){"SF", "NYC", "LON", "CHI"}[s % 4]);
        snprintf(tagbuf[7], 32, "%d", s % 20);
        snprintf(tagbuf[8], 32, "%d", s % 2);
        snprintf(tagbuf[9], 32, "%s", (const char *[]){"production", "staging", "test"}[s % 3]);
        int64_t val[NFIELDS];
        for (int f = 0; f < NFIELDS; f++)
            val[f] = (int64_t)(rnd() % 101);
        for (int p = 0; p < POINTS; p++) {
            tm[p] = 1451606400000000000LL + (int64_t)p * 10000000000LL;
            for (int t = 0; t < NTAGS; t++)
                tags[t][p] = (struct pq_str){tagbuf[t], (uint32_t)strlen(tagbuf[t])};
            for (int f = 0; f < NFIELDS; f++) {
                val[f] += (int64_t)(rnd() % (uint64_t)(2 * step + 1)) - step;
                if (val[f] < 0) val[f] = 0;
                if (val[f] > 100) val[f] = 100;
                fv[f][p] = val[f];
            }
        }
        struct pq_column_data d[1 + NTAGS + NFIELDS];
        for (int t = 0; t < NTAGS; t++)
            d[t] = (struct pq_column_data){tags[t], NULL};
        d[NTAGS] = (struct pq_column_data){tm, NULL};
        for (int f = 0; f < NFIELDS; f++)
            d[NTAGS + 1 + f] = (struct pq_column_data){fv[f], NULL};
        assert_int_equal(pq_writer_write(w, d, POINTS), 0);
    }
    assert_int_equal(pq_writer_close(w), 0);
    return out->len;
}

static void report(const char *label, const struct sl_buf *f)
{
    struct pq_reader *r;
    assert_int_equal(pq_reader_open_mem(f->ptr, f->len, &r, NULL, 0), 0);
    int64_t tag_bytes = 0, time_bytes = 0, field_bytes = 0;
    for (size_t g = 0; g < pq_reader_num_row_groups(r); g++)
        for (size_t c = 0; c < pq_reader_num_columns(r); c++) {
            struct pq_chunk_info ci;
            pq_reader_chunk_info(r, g, c, &ci);
            if (c < NTAGS)
                tag_bytes += ci.compressed_bytes;
            else if (c == NTAGS)
                time_bytes += ci.compressed_bytes;
            else
                field_bytes += ci.compressed_bytes;
        }
    double values = (double)SERIES * POINTS * NFIELDS;
    printf("%-34s %9zu bytes  %.4f bytes/value  (tags %lld, time %lld, fields %lld, "
           "footer+rest %lld; %zu row groups)\n",
           label, f->len, (double)f->len / values, (long long)tag_bytes, (long long)time_bytes,
           (long long)field_bytes,
           (long long)((int64_t)f->len - tag_bytes - time_bytes - field_bytes),
           pq_reader_num_row_groups(r));
    /* Spot-check a column read back. */
    struct pq_column_buf b = PQ_COLUMN_BUF_INIT;
    assert_int_equal(pq_reader_read_column(r, 0, 0, &b), 0);
    assert_int_equal(((struct pq_str *)b.values)[0].len, 6);
    assert_memory_equal(((struct pq_str *)b.values)[0].ptr, "host_0", 6);
    pq_column_buf_release(&b);
    pq_reader_close(r);
}

static void test_tsbs_size(void **state)
{
    (void)state;
    struct sl_buf f = SL_BUF_INIT;
    size_t zstd_default = build(PQ_CODEC_ZSTD, 0, 1, &f);
    report("zstd, 1M-row groups, step 1", &f);
    sl_buf_reset(&f);
    build(PQ_CODEC_ZSTD, 131072, 1, &f);
    report("zstd, 128K-row groups, step 1", &f);
    sl_buf_reset(&f);
    build(PQ_CODEC_ZSTD, 0, 5, &f);
    report("zstd, 1M-row groups, step 5", &f);
    sl_buf_reset(&f);
    build(PQ_CODEC_SNAPPY, 0, 1, &f);
    report("snappy, 1M-row groups, step 1", &f);
    sl_buf_reset(&f);
    build(PQ_CODEC_NONE, 0, 1, &f);
    report("uncompressed, 1M-row groups, step 1", &f);
    sl_buf_release(&f);
    /* The project's goal: at most 1 byte per field value on disk. */
    assert_true((double)zstd_default / (SERIES * POINTS * NFIELDS) <= 1.0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_tsbs_size)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
