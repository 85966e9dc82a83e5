/*
 * test_query_influxql_pushdown.c — the InfluxQL loader's storage pushdown: which
 * tag filters a WHERE condition implies (xload_tag_filters), and that
 * queries give the same rows with the pushdown as without it, on data in the
 * write buffer, in Parquet files, and in both (merged), including rows
 * without the tag (which compare as '' in InfluxQL), OR across tags, !=,
 * regexes and a field compared like a tag; and that loading only the tags
 * a statement reads gives the same answers as loading them all.
 *
 * "Without the pushdown" is the same condition written as `(cond) OR false`:
 * an OR with a side that implies nothing pushes nothing, and evaluates the
 * same. The derivation cases check the pushdown is really made for the
 * conditions compared.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "catalog/catalog.h"
#include "common/err.h"
#include "query/influxql/exec.h"
#include "query/influxql/exec_int.h"
#include "storage/engine.h"
#include "storage/persist.h"
#include "storage/scan.h"
#include "support/fixture.h"
#include "support/fixture_engine.h"

struct fx {
    struct engine *e;
};

/* Rows with and without each tag, values with spaces and dots, a field. */
static const char *LP1 = "cpu,host=a,region=us v=1,f=\"a\" 1000000000\n"
                         "cpu,host=b,region=eu v=2,f=\"b\" 1000000000\n"
                         "cpu,region=us v=3,f=\"a\" 2000000000\n"
                         "cpu,host=a v=4 3000000000\n"
                         "cpu,host=a\\ b,region=us v=5 4000000000\n"
                         "cpu,host=x.y,region=eu v=6 5000000000\n"
                         "cpu,host=xzy,region=eu v=7 6000000000\n"
                         "cpu v=8,f=\"\" 7000000000\n"
                         /* series that overlap in time within a tag value */
                         "lane,host=a,dc=x v=1 1000000000\n"
                         "lane,host=a,dc=x v=2 2000000000\n"
                         "lane,host=b,dc=x v=3 1000000000\n"
                         "lane,host=b,dc=x v=4 3000000000\n"
                         "lane,host=c,dc=y v=5 2000000000\n"
                         "lane,host=d v=6 1000000000\n"
                         "lane,host=e,dc=x v=7 4000000000\n";
/* Later rows of the same partition (a second source) and an overwrite. */
static const char *LP2 = "cpu,host=b,region=us v=9 8000000000\n"
                         "cpu,region=eu v=10 9000000000\n"
                         "cpu,host=a,region=us v=11 1000000000\n";

static int setup_common(void **state, int persist1, int write2)
{
    if (fx_setup(state) != 0) return -1;
    struct fx *f = calloc(1, sizeof(*f));
    if (!f) return -1;
    f->e = fx_open_engine(fx_dir());
    fx_write_lp_at(f->e, "db", LP1, strlen(LP1), LP_PREC_NS, 5);
    if (persist1 && storage_persist(f->e, 1) < 0) return -1;
    if (write2) fx_write_lp_at(f->e, "db", LP2, strlen(LP2), LP_PREC_NS, 5);
    *state = f;
    return 0;
}

static int setup_buffer(void **state)
{
    return setup_common(state, 0, 0);
}
static int setup_files(void **state)
{
    return setup_common(state, 1, 0);
}
static int setup_mixed(void **state)
{
    return setup_common(state, 1, 1);
}

static int teardown(void **state)
{
    struct fx *f = *state;
    engine_close(f->e);
    free(f);
    return fx_teardown(state);
}

/* Runs q and returns its v1 JSON (malloc'd). */
static char *run(struct fx *f, const char *q)
{
    struct sl_arena a;
    sl_arena_init(&a, 64 << 20);
    struct iql_query *query;
    struct iql_error perr;
    char *out;
    if (iql_parse(q, strlen(q), &a, &query, &perr) != 0) {
        size_t n = strlen(perr.msg) + 8;
        out = malloc(n);
        snprintf(out, n, "PARSE: %s", perr.msg);
        sl_arena_release(&a);
        return out;
    }
    struct iql_exec_ctx x = {
        .eng = f->e, .db = "db", .now_ns = 100LL * 1000000000LL, .admin = 1, .arena = &a};
    struct sl_buf b;
    sl_buf_init(&b, 0);
    int64_t div = 0;
    iql_epoch_parse("ns", &div);
    for (size_t i = 0; i < query->nstmts; i++) {
        struct iql_result r;
        iql_exec_stmt(&x, query->stmts[i], &r);
        iql_out_json_result(&b, i, &r, div);
    }
    out = strdup(b.ptr ? b.ptr : "");
    sl_buf_release(&b);
    sl_arena_release(&a);
    return out;
}

/* The filters cond implies on cpu, as "host{a,b} region{us}" (sorted
 * values, columns in derivation order); "" for none. */
static void derive(struct fx *f, const char *cond, char *out, size_t cap)
{
    char q[1024];
    snprintf(q, sizeof(q), "SELECT v FROM cpu WHERE %s", cond);
    struct sl_arena a;
    sl_arena_init(&a, 16 << 20);
    struct iql_query *query;
    struct iql_error perr;
    assert_int_equal(iql_parse(q, strlen(q), &a, &query, &perr), 0);
    const struct iql_expr *e = query->stmts[0]->select->cond;
    struct catalog *cat = f->e->catalog;
    catalog_rdlock(cat);
    struct cat_db *d = catalog_db_get(cat, "db", 2);
    assert_non_null(d);
    struct cat_table *t = cat_db_table_get(d, "cpu", 3);
    assert_non_null(t);
    struct scan_tag_filter *tf;
    size_t n;
    assert_int_equal(xload_tag_filters(&a, t, e, &tf, &n), 0);
    size_t k = 0;
    out[0] = '\0';
    for (size_t i = 0; i < n; i++) {
        /* sort the values (insertion sort on a copy) */
        const struct scan_str *v[64];
        assert_true(tf[i].nvals <= 64);
        for (size_t j = 0; j < tf[i].nvals; j++) {
            v[j] = &tf[i].vals[j];
            for (size_t m = j; m > 0; m--) {
                const struct scan_str *x = v[m - 1], *y = v[m];
                size_t l = x->len < y->len ? x->len : y->len;
                int c = memcmp(x->ptr, y->ptr, l);
                if (c < 0 || (c == 0 && x->len <= y->len)) break;
                v[m - 1] = y;
                v[m] = x;
            }
        }
        k += (size_t)snprintf(out + k, cap - k, "%s%s{", i ? " " : "", t->cols[tf[i].col].name);
        for (size_t j = 0; j < tf[i].nvals; j++)
            k += (size_t)snprintf(out + k, cap - k, "%s%.*s", j ? "," : "", (int)v[j]->len,
                                  v[j]->ptr);
        k += (size_t)snprintf(out + k, cap - k, "}");
    }
    catalog_unlock(cat);
    sl_arena_release(&a);
}

#define DERIVES(cond, want)                                                                        \
    do {                                                                                           \
        char got_[512];                                                                            \
        derive(f, cond, got_, sizeof(got_));                                                       \
        assert_string_equal(got_, want);                                                           \
    } while (0)

static void test_derive(void **state)
{
    struct fx *f = *state;
    DERIVES("host = 'a'", "host{a}");
    DERIVES("'a' = host", "host{a}");
    DERIVES("host::tag = 'a'", "host{a}");
    DERIVES("host = 'a' OR host = 'b'", "host{a,b}");
    DERIVES("host = 'a' OR host = 'b' OR host = 'a'", "host{a,b}");
    DERIVES("host = 'a' AND region = 'us'", "host{a} region{us}");
    DERIVES("(host = 'a' AND region = 'us') OR (host = 'b' AND v > 1)", "host{a,b}");
    DERIVES("(host = 'a' OR host = 'b') AND (host = 'b' OR host = 'c')", "host{b}");
    DERIVES("host = 'a' AND host = 'b'", "host{}");
    DERIVES("v > 1 AND host = 'a' AND time > 0", "host{a}");
    DERIVES("host =~ /^a$/", "host{a}");
    DERIVES("host =~ /^(a|b|a)$/", "host{a,b}");
    DERIVES("host =~ /^x\\.y$/", "host{x.y}");
    DERIVES("host =~ /^(x\\.y|a b)$/ AND region = 'eu'", "host{a b,x.y} region{eu}");
    /* things that imply no tag set */
    DERIVES("host = 'a' OR region = 'us'", "");
    DERIVES("host != 'a'", "");
    DERIVES("host = ''", "");
    DERIVES("host = '' OR host = 'a'", "");
    DERIVES("host = 'a' OR v > 1", "");
    DERIVES("host !~ /^a$/", "");
    DERIVES("host =~ /a/", "");
    DERIVES("host =~ /^a/", "");
    DERIVES("host =~ /^a|b$/", "");
    DERIVES("host =~ /^(a|)$/", "");
    DERIVES("host =~ /^x.y$/", "");
    DERIVES("host =~ /(?i)^a$/", "");
    DERIVES("host =~ /^\\d$/", "");
    DERIVES("host =~ /^(a|b)c$/", "");
    DERIVES("host::field = 'a'", "");
    DERIVES("f = 'a'", "");
    DERIVES("nosuch = 'a'", "");
    DERIVES("host = 1", "");
    DERIVES("(host = 'a' OR host = 'b') OR false", "");
}

/* Conditions whose pushed-down result must equal the unpushed one. */
static const char *CONDS[] = {
    "host = 'a'",
    "host = 'b'",
    "'a' = host",
    "host = 'a b'",
    "host = 'nope'",
    "host = 'a' OR host = 'b'",
    "host = 'a' AND region = 'us'",
    "host = 'a' AND region = ''",
    "host = '' AND region = 'us'",
    "(host = 'a' AND region = 'us') OR (host = 'b' AND v > 1)",
    "(host = 'a' OR host = 'b') AND (host = 'b' OR host = 'x.y')",
    "host = 'a' AND host = 'b'",
    "host =~ /^(a|b)$/",
    "host =~ /^x\\.y$/",
    "host =~ /^(x\\.y|a b)$/ AND region = 'eu'",
    "host = 'a' AND v > 2",
    "host::tag = 'a' AND f = 'a'",
    "region = 'us' AND (host = 'a' OR host = 'a b')",
};

static void check_same(struct fx *f, const char *sel, const char *cond)
{
    char q1[1024], q2[1024];
    snprintf(q1, sizeof(q1), "%s WHERE %s", sel, cond);
    snprintf(q2, sizeof(q2), "%s WHERE (%s) OR false", sel, cond);
    char *a = run(f, q1), *b = run(f, q2);
    if (strcmp(a, b) != 0) fprintf(stderr, "%s\n  pushed:   %s\n  unpushed: %s\n", q1, a, b);
    assert_string_equal(a, b);
    free(a);
    free(b);
}

static void test_same_rows(void **state)
{
    struct fx *f = *state;
    for (size_t i = 0; i < sizeof(CONDS) / sizeof(CONDS[0]); i++) {
        char got[512];
        derive(f, CONDS[i], got, sizeof(got));
        assert_true(got[0] != '\0'); /* the comparison is with a pushdown */
        check_same(f, "SELECT v, f FROM cpu", CONDS[i]);
        check_same(f, "SELECT count(v) FROM cpu", CONDS[i]);
        check_same(f, "SELECT v FROM cpu GROUP BY *", CONDS[i]);
    }
}

#define EXPECT(q, want)                                                                            \
    do {                                                                                           \
        char *got_ = run(f, q);                                                                    \
        assert_string_equal(got_, want);                                                           \
        free(got_);                                                                                \
    } while (0)

/* Loading only the tags a statement reads gives the same answers as
 * loading them all (a GROUP BY regex loads every tag). */
static const char *PROJ[][2] = {
    {"SELECT v FROM lane", "SELECT v FROM lane GROUP BY /^$/"},
    {"SELECT v FROM lane GROUP BY dc", "SELECT v FROM lane GROUP BY /^dc$/"},
    {"SELECT count(v), sum(v) FROM lane GROUP BY dc",
     "SELECT count(v), sum(v) FROM lane GROUP BY /^dc$/"},
    {"SELECT first(v), host FROM lane GROUP BY dc",
     "SELECT first(v), host FROM lane GROUP BY /^dc$/"},
    {"SELECT last(v) FROM lane", "SELECT last(v) FROM lane GROUP BY /^$/"},
    {"SELECT max(v) FROM lane WHERE time < 10s GROUP BY time(2s), dc",
     "SELECT max(v) FROM lane WHERE time < 10s GROUP BY time(2s), /^dc$/"},
    {"SELECT difference(v) FROM lane GROUP BY dc",
     "SELECT difference(v) FROM lane GROUP BY /^dc$/"},
    {"SELECT v FROM lane WHERE host = 'a' OR dc = 'y'",
     "SELECT v FROM lane WHERE host = 'a' OR dc = 'y' GROUP BY /^$/"},
    {"SELECT v FROM cpu GROUP BY region", "SELECT v FROM cpu GROUP BY /^region$/"},
    {"SELECT count(v) FROM cpu WHERE time < 10s GROUP BY time(1s)",
     "SELECT count(v) FROM cpu WHERE time < 10s GROUP BY time(1s), /^$/"},
};

static void test_tag_projection(void **state)
{
    struct fx *f = *state;
    for (size_t i = 0; i < sizeof(PROJ) / sizeof(PROJ[0]); i++) {
        char *a = run(f, PROJ[i][0]), *b = run(f, PROJ[i][1]);
        if (strcmp(a, b) != 0)
            fprintf(stderr, "%s\n  some tags: %s\n  all tags:  %s\n", PROJ[i][0], a, b);
        assert_true(strstr(a, "\"series\"") != NULL);
        assert_string_equal(a, b);
        free(a);
        free(b);
    }
    /* the overlapping series of dc=x stay in time order, ties kept */
    EXPECT("SELECT v FROM lane WHERE dc = 'x'",
           "{\"statement_id\":0,\"series\":[{\"name\":\"lane\",\"columns\":[\"time\",\"v\"],"
           "\"values\":[[1000000000,1],[1000000000,3],[2000000000,2],[3000000000,4],"
           "[4000000000,7]]}]}");
}

/* Exact answers (InfluxDB 1.x semantics) on the data of LP1. */
static void test_exact(void **state)
{
    struct fx *f = *state;
    /* a missing tag is '' */
    EXPECT("SELECT v FROM cpu WHERE host = ''",
           "{\"statement_id\":0,\"series\":[{\"name\":\"cpu\",\"columns\":[\"time\",\"v\"],"
           "\"values\":[[2000000000,3],[7000000000,8]]}]}");
    /* != keeps rows without the tag */
    EXPECT("SELECT v FROM cpu WHERE region != 'us'",
           "{\"statement_id\":0,\"series\":[{\"name\":\"cpu\",\"columns\":[\"time\",\"v\"],"
           "\"values\":[[1000000000,2],[3000000000,4],[5000000000,6],[6000000000,7],"
           "[7000000000,8]]}]}");
    /* OR across tags */
    EXPECT("SELECT v FROM cpu WHERE host = 'b' OR region = 'us'",
           "{\"statement_id\":0,\"series\":[{\"name\":\"cpu\",\"columns\":[\"time\",\"v\"],"
           "\"values\":[[1000000000,1],[1000000000,2],[2000000000,3],[4000000000,5]]}]}");
    /* an exact regex keeps only the literal, an unescaped dot matches more */
    EXPECT("SELECT v FROM cpu WHERE host =~ /^x\\.y$/",
           "{\"statement_id\":0,\"series\":[{\"name\":\"cpu\",\"columns\":[\"time\",\"v\"],"
           "\"values\":[[5000000000,6]]}]}");
    EXPECT("SELECT v FROM cpu WHERE host =~ /^x.y$/",
           "{\"statement_id\":0,\"series\":[{\"name\":\"cpu\",\"columns\":[\"time\",\"v\"],"
           "\"values\":[[5000000000,6],[6000000000,7]]}]}");
    /* a tag set and '' together */
    EXPECT("SELECT v FROM cpu WHERE host = 'a' OR host = ''",
           "{\"statement_id\":0,\"series\":[{\"name\":\"cpu\",\"columns\":[\"time\",\"v\"],"
           "\"values\":[[1000000000,1],[2000000000,3],[3000000000,4],[7000000000,8]]}]}");
    /* the field f is not the tag */
    EXPECT("SELECT v FROM cpu WHERE f = 'a' AND host = 'a'",
           "{\"statement_id\":0,\"series\":[{\"name\":\"cpu\",\"columns\":[\"time\",\"v\"],"
           "\"values\":[[1000000000,1]]}]}");
    /* contradiction */
    EXPECT("SELECT v FROM cpu WHERE host = 'a' AND host = 'b'", "{\"statement_id\":0}");
    /* SHOW statements load through the same path */
    EXPECT("SHOW TAG VALUES FROM cpu WITH KEY = region WHERE host = 'a' OR host = 'b'",
           "{\"statement_id\":0,\"series\":[{\"name\":\"cpu\",\"columns\":[\"key\",\"value\"],"
           "\"values\":[[\"region\",\"eu\"],[\"region\",\"us\"]]}]}");
}

int main(void)
{
    const struct CMUnitTest buffer[] = {
        cmocka_unit_test(test_derive),
        cmocka_unit_test(test_same_rows),
        cmocka_unit_test(test_exact),
        cmocka_unit_test(test_tag_projection),
    };
    const struct CMUnitTest files[] = {
        cmocka_unit_test(test_same_rows),
        cmocka_unit_test(test_exact),
        cmocka_unit_test(test_tag_projection),
    };
    const struct CMUnitTest mixed[] = {
        cmocka_unit_test(test_same_rows),
        cmocka_unit_test(test_tag_projection),
    };
    int rc = cmocka_run_group_tests_name("buffer", buffer, setup_buffer, teardown);
    rc += cmocka_run_group_tests_name("files", files, setup_files, teardown);
    rc += cmocka_run_group_tests_name("files+buffer", mixed, setup_mixed, teardown);
    return rc;
}
