/*
 * fuzz_parquet.c — the Parquet reader over arbitrary bytes: open (footer,
 * schema, layout checks), statistics and key/value access, and decoding of
 * every column chunk, and the selective reads (page index, read_rows,
 * filter_str, filter_i64) with selections derived from the input. Seeds in corpus/parquet/ are
 * small valid files of each codec from `sluice parquet-gen` and damaged variants of them.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "parquet/parquet.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Selective reads of one chunk: every other row, and filters with values
 * taken from the input bytes. The selection is capped, so a footer claiming
 * huge row counts costs no memory here (the reader has its own limit). */
static void selective(struct pq_reader *r, size_t g, size_t c, const uint8_t *data, size_t size)
{
    int64_t n = pq_reader_row_group_rows(r, g);
    if (n <= 0 || n > (1 << 20)) return;
    uint32_t *sel = malloc((size_t)n * sizeof *sel), *out = malloc((size_t)n * sizeof *out);
    if (!sel || !out) goto done;
    size_t m = 0, nout = 0;
    for (int64_t i = 0; i < n; i += 2)
        sel[m++] = (uint32_t)i;
    struct pq_column_buf b = PQ_COLUMN_BUF_INIT;
    if (pq_reader_read_rows(r, g, c, sel, m, &b) == 0) {
        volatile uint64_t sum = 0;
        if (b.type == PQ_STRING) {
            const struct pq_str *s = b.values;
            for (size_t i = 0; i < b.nrows; i++)
                if (s[i].len) sum += (uint8_t)s[i].ptr[s[i].len - 1];
        }
        (void)sum;
    }
    pq_column_buf_release(&b);
    const struct pq_column_info *ci = pq_reader_column(r, c);
    if (ci->type == PQ_STRING) {
        struct pq_str v[2] = {{(const char *)data, size < 3 ? (uint32_t)size : 3}, {"", 0}};
        pq_reader_filter_str(r, g, c, v, 2, NULL, 0, out, &nout);
        pq_reader_filter_str(r, g, c, v, 1, sel, m, out, &nout);
    } else if (ci->type == PQ_INT64 || ci->type == PQ_TIME_NS) {
        int64_t lo = size > 8 ? (int64_t)data[size / 2] - 128 : 0;
        pq_reader_filter_i64(r, g, c, lo, lo + 1000, NULL, 0, out, &nout);
        pq_reader_filter_i64(r, g, c, INT64_MIN, INT64_MAX, sel, m, out, &nout);
    }
done:
    free(sel);
    free(out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct pq_reader *r;
    char err[256];
    if (pq_reader_open_mem(data, size, &r, err, sizeof err) < 0) return 0;
    pq_reader_set_mem_limit(r, (size_t)64 << 20);
    for (size_t i = 0; i < pq_reader_num_kv(r); i++) {
        const char *k, *v;
        pq_reader_kv_at(r, i, &k, &v);
        (void)pq_reader_kv(r, k);
    }
    for (size_t g = 0; g < pq_reader_num_row_groups(r); g++) {
        for (size_t c = 0; c < pq_reader_num_columns(r); c++) {
            struct pq_stats st;
            struct pq_chunk_info ci;
            struct pq_column_buf b = PQ_COLUMN_BUF_INIT;
            pq_reader_stats(r, g, c, &st);
            pq_reader_chunk_info(r, g, c, &ci);
            if (pq_reader_read_column(r, g, c, &b) == 0) {
                /* Touch every value so ASan checks the string pointers. */
                volatile uint64_t sum = 0;
                if (b.type == PQ_STRING) {
                    const struct pq_str *s = b.values;
                    for (size_t i = 0; i < b.nrows; i++)
                        if (s[i].len) sum += (uint8_t)s[i].ptr[s[i].len - 1];
                }
                (void)sum;
            }
            pq_column_buf_release(&b);
            selective(r, g, c, data, size);
        }
    }
    pq_reader_close(r);
    return 0;
}
