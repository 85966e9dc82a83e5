/*
 * fuzz_parquet.c — the Parquet reader over arbitrary bytes: open (footer,
 * schema, layout checks), statistics and key/value access, and decoding of
 * every column chunk. Seeds in corpus/parquet/ are small valid files of each
 * codec from `sluice parquet-gen` and damaged variants of them.
 */
#include <stddef.h>
#include <stdint.h>

#include "parquet/parquet.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

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
        }
    }
    pq_reader_close(r);
    return 0;
}
