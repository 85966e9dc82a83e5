/*
 * test_storage_tagruns.c — the tag-run cache (src/storage/tag_runs.c) must
 * answer exactly as pq_reader_filter_str: random series-sorted string columns
 * with NULL runs, single rows and long runs, random value sets and input
 * selections, cached hits, chunks with too many runs (reader fallback), and
 * a file replaced under the same path (no stale entry).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "common/err.h"
#include "parquet/parquet.h"
#include "storage/tag_runs.h"

static const char *const NAMES[] = {"a", "b", "host_1", "host_10", "", "zz", "host_249", "x y"};
#define NNAMES (sizeof(NAMES) / sizeof(NAMES[0]))

/* Writes nrows rows in row groups of rg_rows: runs of mean length runlen. */
static void write_file(const char *path, size_t nrows, size_t rg_rows, size_t runlen, unsigned seed)
{
    struct pq_column_spec spec[] = {{"tag", PQ_STRING, 1, 1}};
    struct pq_writer_opts o = {.row_group_rows = rg_rows, .page_rows = 64, .no_fsync = 1};
    struct pq_writer *w;
    assert_int_equal(pq_writer_open(path, spec, 1, &o, &w), 0);
    struct pq_str *v = calloc(nrows, sizeof(*v));
    uint8_t *valid = calloc(nrows, 1);
    srand(seed);
    size_t i = 0;
    while (i < nrows) {
        size_t len = 1 + (size_t)rand() % (2 * runlen);
        int null = rand() % 7 == 0;
        const char *s = NAMES[(size_t)rand() % NNAMES];
        for (size_t k = 0; k < len && i < nrows; k++, i++) {
            valid[i] = !null;
            v[i] = (struct pq_str){s, (uint32_t)strlen(s)};
        }
    }
    struct pq_column_data d = {v, valid};
    assert_int_equal(pq_writer_write(w, &d, nrows), 0);
    assert_int_equal(pq_writer_close(w), 0);
    free(v);
    free(valid);
}

static void check_file(const char *path, unsigned seed)
{
    struct pq_reader *r;
    char err[128];
    assert_int_equal(pq_reader_open(path, &r, err, sizeof(err)), 0);
    srand(seed);
    for (int round = 0; round < 3; round++) /* the first builds, the others hit */
        for (size_t rg = 0; rg < pq_reader_num_row_groups(r); rg++) {
            size_t n = (size_t)pq_reader_row_group_rows(r, rg);
            uint32_t *in = malloc((n + 1) * sizeof(*in)), *a = malloc((n + 1) * sizeof(*a)),
                     *b = malloc((n + 1) * sizeof(*b));
            for (int q = 0; q < 20; q++) {
                struct pq_str vals[3];
                size_t nv = (size_t)rand() % 4;
                for (size_t k = 0; k < nv; k++) {
                    const char *s = rand() % 5 ? NAMES[(size_t)rand() % NNAMES] : "absent";
                    vals[k] = (struct pq_str){s, (uint32_t)strlen(s)};
                }
                size_t nin = 0;
                int use_in = rand() % 2;
                if (use_in)
                    for (uint32_t x = 0; x < n; x++)
                        if (rand() % 3 == 0) in[nin++] = x;
                size_t na = 0, nb = 0;
                assert_int_equal(
                    pq_reader_filter_str(r, rg, 0, vals, nv, use_in ? in : NULL, nin, a, &na), 0);
                assert_int_equal(
                    tag_runs_filter(path, r, rg, 0, vals, nv, use_in ? in : NULL, nin, b, &nb), 0);
                assert_int_equal(na, nb);
                if (na) assert_memory_equal(a, b, na * sizeof(*a));
            }
            free(in);
            free(a);
            free(b);
        }
    pq_reader_close(r);
}

static void test_runs_equal_reader(void **state)
{
    (void)state;
    char path[] = "/tmp/sluice-tagruns-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    close(fd);
    write_file(path, 5000, 1500, 40, 1); /* few runs: cached */
    check_file(path, 2);
    write_file(path, 3000, 3000, 1, 3); /* a run per row or two: reader fallback */
    check_file(path, 4);
    /* the same path rewritten with other contents: a fresh entry */
    write_file(path, 5000, 1500, 25, 5);
    check_file(path, 6);
    tag_runs_clear();
    check_file(path, 7);
    unlink(path);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_runs_equal_reader),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
