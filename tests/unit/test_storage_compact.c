/* test_storage_compact.c — the streaming merge of compaction (storage_merge_files)
 * and compaction through the engine: newest file wins per field, dedup across
 * files, bounded memory (one row group per input), retention cut, refusal of
 * unsorted or damaged inputs, bounded file count, crash leftovers. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "common/err.h"
#include "parquet/parquet.h"
#include "storage/engine.h"
#include "storage/persist.h"
#include "storage/scan.h"
#include "support/fixture.h"
#include "support/fixture_engine.h"

/* schema: time, host (tag), region (tag), usage (float), n (int), s (string) */
static struct store_col schema[] = {
    {"time", CAT_COL_TIME, LP_FLOAT},   {"host", CAT_COL_TAG, LP_STRING},
    {"region", CAT_COL_TAG, LP_STRING}, {"usage", CAT_COL_FIELD, LP_FLOAT},
    {"n", CAT_COL_FIELD, LP_INTEGER},   {"s", CAT_COL_FIELD, LP_STRING},
};
#define NCOLS 6

struct row {
    const char *host, *region; /* NULL = absent */
    int64_t time;
    int has_usage;
    double usage;
    int has_n;
    int64_t n;
    const char *s;
};

/* Writes rows (in the order given) as a data file with columns present[]. */
static void write_file(const char *path, const uint8_t *present, const struct row *rows,
                       size_t nrows, size_t rg_rows)
{
    struct file_layout L;
    assert_int_equal(storage_layout_init(&L, "db", "cpu", schema, present, NCOLS), 0);
    L.po.row_group_rows = rg_rows;
    L.po.page_rows = rg_rows;
    L.po.no_fsync = 1;
    struct pq_column_data data[NCOLS] = {{0}};
    void *vals[NCOLS] = {0};
    uint8_t *valid[NCOLS] = {0};
    for (size_t k = 0; k < L.ncols; k++) {
        uint32_t id = L.cat_id[k];
        vals[k] = calloc(nrows + 1, 16);
        valid[k] = calloc(nrows + 1, 1);
        for (size_t r = 0; r < nrows; r++) {
            const struct row *w = &rows[r];
            switch (id) {
            case 0:
                ((int64_t *)vals[k])[r] = w->time;
                valid[k][r] = 1;
                break;
            case 1:
            case 2: {
                const char *v = id == 1 ? w->host : w->region;
                ((struct pq_str *)vals[k])[r] =
                    (struct pq_str){v ? v : "", v ? (uint32_t)strlen(v) : 0};
                valid[k][r] = v != NULL;
                break;
            }
            case 3:
                ((double *)vals[k])[r] = w->usage;
                valid[k][r] = (uint8_t)w->has_usage;
                break;
            case 4:
                ((int64_t *)vals[k])[r] = w->n;
                valid[k][r] = (uint8_t)w->has_n;
                break;
            case 5:
                ((struct pq_str *)vals[k])[r] =
                    (struct pq_str){w->s ? w->s : "", w->s ? (uint32_t)strlen(w->s) : 0};
                valid[k][r] = w->s != NULL;
                break;
            }
        }
        data[k].values = vals[k];
        data[k].valid = id == 0 ? NULL : valid[k];
    }
    struct pq_writer *pw;
    assert_int_equal(pq_writer_open(path, L.spec, L.ncols, &L.po, &pw), 0);
    assert_int_equal(pq_writer_write(pw, data, nrows), 0);
    assert_int_equal(pq_writer_close(pw), 0);
    for (size_t k = 0; k < L.ncols; k++) {
        free(vals[k]);
        free(valid[k]);
    }
    storage_layout_release(&L);
}

/* Reads a merged file back as rows (strings leaked into a static pool). */
struct readback {
    size_t n;
    int64_t time[64];
    char host[64][16], region[64][16], s[64][16];
    int has_region[64], has_usage[64], has_n[64], has_s[64];
    double usage[64];
    int64_t nval[64];
};

static void read_back(const char *path, struct readback *rb)
{
    memset(rb, 0, sizeof(*rb));
    struct pq_reader *r;
    char err[256];
    assert_int_equal(pq_reader_open(path, &r, err, sizeof(err)), 0);
    assert_string_equal(pq_reader_kv(r, "sluice.sort_key"), "host,region,time");
    size_t nrg = pq_reader_num_row_groups(r), base = 0;
    for (size_t rg = 0; rg < nrg; rg++) {
        size_t n = (size_t)pq_reader_row_group_rows(r, rg);
        assert_true(base + n <= 64);
        const char *names[] = {"time", "host", "region", "usage", "n", "s"};
        for (int c = 0; c < 6; c++) {
            long fc = pq_reader_find_column(r, names[c]);
            if (fc < 0) continue;
            struct pq_column_buf b = PQ_COLUMN_BUF_INIT;
            assert_int_equal(pq_reader_read_column(r, rg, (size_t)fc, &b), 0);
            for (size_t i = 0; i < n; i++) {
                int ok = !b.valid || b.valid[i];
                const struct pq_str *ps = &((const struct pq_str *)b.values)[i];
                size_t o = base + i;
                switch (c) {
                case 0: rb->time[o] = ((int64_t *)b.values)[i]; break;
                case 1: snprintf(rb->host[o], 16, "%.*s", (int)ps->len, ps->ptr); break;
                case 2:
                    rb->has_region[o] = ok;
                    if (ok) snprintf(rb->region[o], 16, "%.*s", (int)ps->len, ps->ptr);
                    break;
                case 3:
                    rb->has_usage[o] = ok;
                    rb->usage[o] = ((double *)b.values)[i];
                    break;
                case 4:
                    rb->has_n[o] = ok;
                    rb->nval[o] = ((int64_t *)b.values)[i];
                    break;
                case 5:
                    rb->has_s[o] = ok;
                    if (ok) snprintf(rb->s[o], 16, "%.*s", (int)ps->len, ps->ptr);
                    break;
                }
            }
            pq_column_buf_release(&b);
        }
        base += n;
    }
    rb->n = base;
    pq_reader_close(r);
}

static void path_of(char *out, size_t cap, const char *name)
{
    snprintf(out, cap, "%s/%s", fx_dir(), name);
}

static void test_merge_newest_wins(void **state)
{
    (void)state;
    char p1[128], p2[128], p3[128], out[128];
    path_of(p1, sizeof(p1), "a.parquet");
    path_of(p2, sizeof(p2), "b.parquet");
    path_of(p3, sizeof(p3), "c.parquet");
    path_of(out, sizeof(out), "out.parquet");
    const uint8_t pres_a[NCOLS] = {1, 1, 0, 1, 1, 0};
    const uint8_t pres_b[NCOLS] = {1, 1, 0, 1, 0, 1};
    const uint8_t pres_c[NCOLS] = {1, 1, 1, 1, 0, 0};
    /* sorted by canonical key: cpu,host=a < cpu,host=a,region=eu < cpu,host=b */
    const struct row a[] = {
        {"a", NULL, 10, 1, 1.0, 1, 100, NULL},
        {"a", NULL, 20, 1, 2.0, 1, 200, NULL},
        {"b", NULL, 10, 1, 3.0, 1, 300, NULL},
    };
    const struct row b[] = {
        {"a", NULL, 10, 1, 9.0, 0, 0, "new"}, /* overrides usage, keeps n */
        {"a", NULL, 15, 0, 0, 0, 0, "mid"},
        {"b", NULL, 5, 1, 4.0, 0, 0, NULL},
    };
    const struct row c[] = {
        {"a", "eu", 10, 1, 7.0, 0, 0, NULL}, /* a different series */
        {"b", NULL, 10, 0, 0, 0, 0, NULL},   /* all-NULL fields: changes nothing */
    };
    write_file(p1, pres_a, a, 3, 2);
    write_file(p2, pres_b, b, 3, 1);
    write_file(p3, pres_c, c, 2, 1);
    /* inputs in any order: seq decides */
    struct merge_input in[] = {{p3, 7}, {p1, 3}, {p2, 5}};
    struct merge_result mr;
    assert_int_equal(storage_merge_files("db", "cpu", schema, NCOLS, in, 3, INT64_MIN, out, &mr),
                     0);
    assert_int_equal(mr.rows, 6);
    assert_int_equal(mr.min_time, 5);
    assert_int_equal(mr.max_time, 20);
    struct readback rb;
    read_back(out, &rb);
    assert_int_equal(rb.n, 6);
    /* expected order: a@10, a@15, a@20, a,eu@10, b@5, b@10 */
    const char *hosts[] = {"a", "a", "a", "a", "b", "b"};
    const int64_t times[] = {10, 15, 20, 10, 5, 10};
    for (int i = 0; i < 6; i++) {
        assert_string_equal(rb.host[i], hosts[i]);
        assert_int_equal(rb.time[i], times[i]);
    }
    assert_true(rb.usage[0] == 9.0 && rb.has_n[0] && rb.nval[0] == 100);
    assert_true(rb.has_s[0] && !strcmp(rb.s[0], "new"));
    assert_true(!rb.has_usage[1] && !rb.has_n[1] && !strcmp(rb.s[1], "mid"));
    assert_true(rb.usage[2] == 2.0 && rb.nval[2] == 200 && !rb.has_s[2]);
    assert_true(rb.has_region[3] && !strcmp(rb.region[3], "eu") && rb.usage[3] == 7.0);
    assert_true(!rb.has_region[0]);
    assert_true(rb.usage[4] == 4.0 && !rb.has_n[4]);
    assert_true(rb.usage[5] == 3.0 && rb.nval[5] == 300);

    /* retention: rows older than 10 are left out */
    unlink(out);
    assert_int_equal(storage_merge_files("db", "cpu", schema, NCOLS, in, 3, 10, out, &mr), 0);
    assert_int_equal(mr.rows, 5);
    assert_int_equal(mr.min_time, 10);
    /* everything expired: no file at all */
    unlink(out);
    assert_int_equal(storage_merge_files("db", "cpu", schema, NCOLS, in, 3, 1000, out, &mr), 0);
    assert_int_equal(mr.rows, 0);
    assert_int_not_equal(access(out, F_OK), 0);
}

/* Many rows in small row groups: the merge holds one row group per input. */
static void test_merge_bounded_memory(void **state)
{
    (void)state;
    enum { N = 20000, RG = 500, FILES = 4 };
    const uint8_t pres[NCOLS] = {1, 1, 0, 1, 1, 0};
    struct merge_input in[FILES];
    char paths[FILES][128], out[128];
    struct row *rows = calloc(N, sizeof(*rows));
    char hosts[10][8];
    for (int h = 0; h < 10; h++)
        snprintf(hosts[h], sizeof(hosts[h]), "h%d", h);
    for (int f = 0; f < FILES; f++) {
        /* file f holds times f, f+FILES/2, ... with overlap between files 0/2 and 1/3 */
        for (int i = 0; i < N; i++) {
            int h = i / (N / 10);
            rows[i] = (struct row){
                hosts[h],        NULL, (int64_t)(i % (N / 10)) * 2 + (f % 2), 1, (double)f, 1,
                f * 1000000 + i, NULL};
        }
        snprintf(paths[f], sizeof(paths[f]), "%s/m%d.parquet", fx_dir(), f);
        write_file(paths[f], pres, rows, N, RG);
        in[f] = (struct merge_input){paths[f], (uint32_t)(f + 1)};
    }
    free(rows);
    path_of(out, sizeof(out), "merged.parquet");
    struct merge_result mr;
    assert_int_equal(
        storage_merge_files("db", "cpu", schema, NCOLS, in, FILES, INT64_MIN, out, &mr), 0);
    assert_int_equal(mr.rows, 2 * N); /* files 0 and 2 (and 1 and 3) overlap exactly */
    assert_true(mr.peak_rows_held <= FILES * RG);
    /* newest wins: every value comes from file 2 (even times) or 3 (odd times) */
    struct pq_reader *r;
    char err[256];
    assert_int_equal(pq_reader_open(out, &r, err, sizeof(err)), 0);
    assert_int_equal(pq_reader_num_rows(r), 2 * N);
    long uc = pq_reader_find_column(r, "usage"), tc = pq_reader_find_column(r, "time");
    long hc = pq_reader_find_column(r, "host");
    int64_t prev_t = INT64_MIN;
    char prev_h[16] = "";
    for (size_t rg = 0; rg < pq_reader_num_row_groups(r); rg++) {
        struct pq_column_buf u = PQ_COLUMN_BUF_INIT, t = PQ_COLUMN_BUF_INIT, h = PQ_COLUMN_BUF_INIT;
        assert_int_equal(pq_reader_read_column(r, rg, (size_t)uc, &u), 0);
        assert_int_equal(pq_reader_read_column(r, rg, (size_t)tc, &t), 0);
        assert_int_equal(pq_reader_read_column(r, rg, (size_t)hc, &h), 0);
        for (size_t i = 0; i < u.nrows; i++) {
            int64_t tv = ((int64_t *)t.values)[i];
            double want = tv % 2 ? 3.0 : 2.0;
            assert_true(((double *)u.values)[i] == want);
            const struct pq_str *hs = &((struct pq_str *)h.values)[i];
            char hb[16];
            snprintf(hb, sizeof(hb), "%.*s", (int)hs->len, hs->ptr);
            int c = strcmp(hb, prev_h);
            assert_true(c > 0 || (c == 0 && tv > prev_t)); /* sorted, no duplicates */
            snprintf(prev_h, sizeof(prev_h), "%s", hb);
            prev_t = tv;
        }
        pq_column_buf_release(&u);
        pq_column_buf_release(&t);
        pq_column_buf_release(&h);
    }
    pq_reader_close(r);
}

static void test_merge_refuses_bad_input(void **state)
{
    (void)state;
    char p1[128], p2[128], out[128], tmp[160];
    path_of(p1, sizeof(p1), "sorted.parquet");
    path_of(p2, sizeof(p2), "unsorted.parquet");
    path_of(out, sizeof(out), "bad-out.parquet");
    snprintf(tmp, sizeof(tmp), "%s.tmp", out);
    const uint8_t pres[NCOLS] = {1, 1, 0, 1, 0, 0};
    const struct row good[] = {{"a", NULL, 1, 1, 1, 0, 0, NULL}, {"b", NULL, 1, 1, 1, 0, 0, NULL}};
    const struct row bad[] = {{"b", NULL, 1, 1, 1, 0, 0, NULL}, {"a", NULL, 1, 1, 1, 0, 0, NULL}};
    write_file(p1, pres, good, 2, 10);
    write_file(p2, pres, bad, 2, 10);
    struct merge_input in[] = {{p1, 1}, {p2, 2}};
    struct merge_result mr;
    assert_int_equal(storage_merge_files("db", "cpu", schema, NCOLS, in, 2, INT64_MIN, out, &mr),
                     SL_ECORRUPT);
    assert_int_not_equal(access(out, F_OK), 0);
    assert_int_not_equal(access(tmp, F_OK), 0);

    /* truncated input */
    struct stat st;
    assert_int_equal(stat(p1, &st), 0);
    assert_int_equal(truncate(p2, st.st_size / 2), 0);
    assert_true(storage_merge_files("db", "cpu", schema, NCOLS, in, 2, INT64_MIN, out, &mr) < 0);
    assert_int_not_equal(access(out, F_OK), 0);
    /* missing input, type mismatch against the catalog */
    struct merge_input gone[] = {{p1, 1}, {"/nonexistent/x.parquet", 2}};
    assert_true(storage_merge_files("db", "cpu", schema, NCOLS, gone, 2, INT64_MIN, out, &mr) < 0);
    struct store_col wrong[NCOLS];
    memcpy(wrong, schema, sizeof(wrong));
    wrong[3].type = LP_INTEGER;
    assert_int_equal(storage_merge_files("db", "cpu", wrong, NCOLS, in, 1, INT64_MIN, out, &mr),
                     SL_ECORRUPT);
    assert_int_equal(storage_merge_files("db", "cpu", schema, NCOLS, in, 0, INT64_MIN, out, &mr),
                     SL_EINVAL);
}

/* ---- through the engine ---- */

struct sum_ctx {
    size_t rows;
    double sum;
};

static int sum_cb(void *arg, const struct cat_table *t, const struct scan_chunk *c)
{
    struct sum_ctx *s = arg;
    struct cat_column *col = cat_table_column_get((struct cat_table *)t, "v", 1);
    s->rows += c->nrows;
    for (size_t r = 0; col && col->id < c->ncols && r < c->nrows; r++)
        if (c->cols[col->id].present && c->cols[col->id].valid[r])
            s->sum += c->cols[col->id].v.f[r];
    return 0;
}

static size_t table_files(struct engine *e, struct sum_ctx *s)
{
    catalog_rdlock(e->catalog);
    struct cat_db *d = catalog_db_get(e->catalog, "db", 2);
    struct cat_table *t = d ? cat_db_table_get(d, "m", 1) : NULL;
    assert_non_null(t);
    size_t n = t->nfiles;
    memset(s, 0, sizeof(*s));
    assert_int_equal(storage_scan(e, d, t, INT64_MIN, INT64_MAX, sum_cb, s), 0);
    catalog_unlock(e->catalog);
    return n;
}

static void test_engine_compaction_bounds_files(void **state)
{
    (void)state;
    struct engine *e = fx_open_engine(fx_dir());
    char line[256];
    /* 40 small persists into one partition; each rewrites v of host=h0 at t=0 */
    for (int i = 0; i < 40; i++) {
        snprintf(line, sizeof(line), "m,host=h0 v=%d 1700000000\nm,host=h%d v=1 %d\n", i, i + 1,
                 1700000000 + i);
        fx_write_lp(e, "db", line, LP_PREC_S);
        assert_int_equal(storage_persist(e, 1), 0);
    }
    struct sum_ctx s;
    assert_int_equal(table_files(e, &s), 40);
    assert_int_equal(s.rows, 41);
    assert_true(s.sum == 39 + 40);
    assert_int_equal(storage_compact(e, COMPACT_MIN_FILES), 0);
    size_t nf = table_files(e, &s);
    assert_true(nf < COMPACT_MIN_FILES);
    assert_int_equal(s.rows, 41);
    assert_true(s.sum == 39 + 40); /* the newest value of h0 won */
    /* a forced compaction leaves one file */
    assert_int_equal(storage_compact(e, 2), 0);
    assert_int_equal(table_files(e, &s), 1);
    assert_int_equal(s.rows, 41);
    engine_close(e);

    /* a crash after the catalog update leaves the inputs unregistered; a crash
     * before it leaves the output unregistered: both go at start-up */
    char stray[256], tmpf[256];
    snprintf(stray, sizeof(stray), "%s/dbs/db/m/2023-11-14/22-00-999999.parquet", fx_dir());
    snprintf(tmpf, sizeof(tmpf), "%s/dbs/db/m/2023-11-14/22-00-999998.parquet.tmp", fx_dir());
    FILE *f = fopen(stray, "w");
    assert_non_null(f);
    fputs("PAR1 half", f);
    fclose(f);
    f = fopen(tmpf, "w");
    assert_non_null(f);
    fclose(f);
    e = fx_open_engine(fx_dir());
    assert_int_not_equal(access(stray, F_OK), 0);
    assert_int_not_equal(access(tmpf, F_OK), 0);
    assert_int_equal(table_files(e, &s), 1);
    assert_int_equal(s.rows, 41);
    engine_close(e);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_merge_newest_wins, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_merge_bounded_memory, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_merge_refuses_bad_input, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_engine_compaction_bounds_files, fx_setup, fx_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
