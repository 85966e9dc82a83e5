/*
 * pqdecode.c — Parquet decode throughput of sluice's own reader: reads every
 * column chunk of a file (as sluice wrote it) --runs times and prints, per
 * column, the best time per value in nanoseconds and the values per second.
 * Used to measure changes to src/parquet (page decode, encodings) on real
 * files, e.g. the one bench/query-bench leaves in --keep DIR.
 *
 * usage: build/bench/bench_pqdecode FILE.parquet [--runs N]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "parquet/parquet.h"

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: %s FILE.parquet [--runs N]\n", argv[0]);
        return 2;
    }
    int runs = 5;
    if (argc >= 4 && strcmp(argv[2], "--runs") == 0) runs = atoi(argv[3]);
    if (runs < 1) runs = 1;
    char err[256];
    struct pq_reader *r;
    if (pq_reader_open(argv[1], &r, err, sizeof err) < 0) {
        fprintf(stderr, "pqdecode: %s\n", err);
        return 1;
    }
    size_t ncol = pq_reader_num_columns(r), nrg = pq_reader_num_row_groups(r);
    int64_t nrows = pq_reader_num_rows(r);
    printf("%s: %lld rows, %zu row groups, %zu columns, best of %d runs\n", argv[1],
           (long long)nrows, nrg, ncol, runs);
    printf("%-24s %10s %12s\n", "column", "ns/value", "Mvalues/s");
    double total = 0;
    for (size_t c = 0; c < ncol; c++) {
        double best = 1e30;
        for (int k = 0; k < runs; k++) {
            double t0 = now_s();
            for (size_t g = 0; g < nrg; g++) {
                struct pq_column_buf b = PQ_COLUMN_BUF_INIT;
                if (pq_reader_read_column(r, g, c, &b) < 0) {
                    fprintf(stderr, "pqdecode: %s\n", pq_reader_errmsg(r));
                    return 1;
                }
                pq_column_buf_release(&b);
            }
            double dt = now_s() - t0;
            if (dt < best) best = dt;
        }
        total += best;
        printf("%-24s %10.2f %12.1f\n", pq_reader_column(r, c)->name, best * 1e9 / (double)nrows,
               (double)nrows / best / 1e6);
    }
    printf("%-24s %10.2f ms for all columns\n", "total", total * 1e3);
    pq_reader_close(r);
    return 0;
}
