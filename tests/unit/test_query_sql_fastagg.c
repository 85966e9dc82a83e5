/* test_query_sql_fastagg.c — the vectorised aggregation path of the SQL engine
 * (src/query/sql/fastagg.c): a differential test against SQLite. Random
 * data (several tags, some absent; float/int/uint/bool/string fields with
 * gaps; several hourly partitions; part persisted to Parquet, part still in
 * the buffer, with duplicate points overwriting persisted ones) and many
 * generated queries of the shapes the fast path takes, each run with the
 * fast path and with it switched off (a "no_fastagg" comment), compared
 * byte for byte in every output format. The fast path's counters must show
 * that it really answered the queries it should. */
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
#include "common/mem.h"
#include "query/output/qout.h"
#include "query/sql/sql.h"
#include "query/sql/sql_int.h"
#include "storage/engine.h"
#include "storage/persist.h"
#include "support/fixture.h"
#include "support/fixture_engine.h"

struct answer {
    int rc;
    char *body; /* or the error message */
    size_t len;
};

static struct answer run(struct engine *e, const char *q, enum qout_format f)
{
    struct sl_buf out = SL_BUF_INIT;
    char err[512] = "";
    struct sql_request r = {.db = "db",
                            .q = q,
                            .qlen = strlen(q),
                            .format = f,
                            .now_ns = 1734606000000000000LL /* 2024-12-19T11:00:00Z */};
    struct answer a;
    a.rc = sql_execute(e, &r, &out, err, sizeof(err));
    if (a.rc < 0) {
        sl_buf_release(&out);
        a.body = sl_strdup(err);
        a.len = strlen(err);
    } else {
        a.len = out.len;
        a.body = sl_buf_detach(&out, NULL);
        if (!a.body) a.body = sl_strdup("");
    }
    return a;
}

struct counts {
    uint64_t taken, declined, fellback;
};

static struct counts counters(void)
{
    struct counts c;
    sql_fastagg_counters(&c.taken, &c.declined, &c.fellback);
    return c;
}

enum expect { EXP_TAKEN, EXP_TAKEN_OR_FALLBACK, EXP_FALLBACK, EXP_DECLINED };

static int nqueries;

/* Runs q with the fast path and without; the answers must be identical. */
static void check(struct engine *e, const char *q, enum qout_format f, enum expect ex)
{
    struct sl_buf slow = SL_BUF_INIT;
    sl_buf_addf(&slow, "/* no_fastagg */ %s", q);
    /* slow, fast, slow: the engine's background thread may persist the
     * buffer at any moment, which reorders rows and so changes the last
     * bits of float sums on both paths; the fast answer must equal the
     * SQLite answer just before or just after it */
    struct answer b0 = run(e, slow.ptr, f);
    struct counts c0 = counters();
    struct answer a = run(e, q, f);
    struct counts c1 = counters();
    struct answer b = run(e, slow.ptr, f);
    struct counts c2 = counters();
    int same = a.rc == b.rc && a.len == b.len && !memcmp(a.body, b.body, a.len);
    if (!same && a.rc == b0.rc && a.len == b0.len && !memcmp(a.body, b0.body, a.len)) {
        fprintf(stderr, "(the stored rows moved between two runs of: %s)\n", q);
        same = 1;
    }
    sl_free(b0.body);
    if (!same)
        fprintf(stderr, "MISMATCH (%s): %s\n fast rc %d: %.*s\n slow rc %d: %.*s\n",
                qout_format_name(f), q, a.rc, (int)(a.len > 3000 ? 3000 : a.len), a.body, b.rc,
                (int)(b.len > 3000 ? 3000 : b.len), b.body);
    assert_true(same);
    uint64_t taken = c1.taken - c0.taken, fell = c1.fellback - c0.fellback,
             decl = c1.declined - c0.declined;
    int ok = 1;
    switch (ex) {
    case EXP_TAKEN: ok = taken == 1; break;
    case EXP_TAKEN_OR_FALLBACK: ok = taken + fell == 1; break;
    case EXP_FALLBACK: ok = fell == 1; break;
    case EXP_DECLINED: ok = decl == 1; break;
    }
    if (!ok)
        fprintf(stderr, "rc %d %.200s\n%s: taken %llu fellback %llu declined %llu (expected %d)\n",
                a.rc, a.body, q, (unsigned long long)taken, (unsigned long long)fell,
                (unsigned long long)decl, (int)ex);
    assert_true(ok);
    if (getenv("FASTAGG_TRACE")) fprintf(stderr, "TRACE %d %d %s\n", (int)taken, (int)fell, q);
    /* the switched-off run never reaches the fast path's scan */
    assert_int_equal(c2.taken, c1.taken);
    assert_int_equal(c2.fellback, c1.fellback);
    nqueries++;
    sl_free(a.body);
    sl_free(b.body);
    sl_buf_release(&slow);
}

/* ---- data ---- */

static uint64_t rng = 88172645463325252ULL;
static uint64_t rnd(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}
static int rn(int n)
{
    return (int)(rnd() % (uint64_t)n);
}

#define T0 1734588000000000000LL /* 2024-12-19T06:00:00Z */
#define NS 1000000000LL

static const char *const AV[] = {"x", "y", "z", "y2"};
static const char *const BV[] = {"p", "q", "r"};
static const char *const CV[] = {"k1", "k2"};

/* One random point of series (ai, bi, ci) at time t; some fields missing. */
static void add_point(struct sl_buf *b, int ai, int bi, int ci, int64_t t)
{
    sl_buf_adds(b, "m");
    if (ai >= 0) sl_buf_addf(b, ",a=%s", AV[ai]);
    sl_buf_addf(b, ",b=%s", BV[bi]);
    if (ci >= 0) sl_buf_addf(b, ",c=%s", CV[ci]);
    int n = 0;
    const char *sep = " ";
    if (rn(5)) {
        /* halves, quarters and awkward values: float sums depend on order */
        sl_buf_addf(b, "%sf=%.17g", sep, (rn(2000) - 700) / 8.0 + (rn(3) ? 0.1 : 0.0));
        sep = ",", n++;
    }
    if (rn(4)) {
        sl_buf_addf(b, "%si=%di", sep, rn(2000) - 1000);
        sep = ",", n++;
    }
    if (rn(3)) {
        sl_buf_addf(b, "%su=%du", sep, rn(100000));
        sep = ",", n++;
    }
    if (rn(3)) {
        sl_buf_addf(b, "%sbl=%s", sep, rn(2) ? "true" : "false");
        sep = ",", n++;
    }
    if (rn(3) || n == 0) sl_buf_addf(b, "%ss=\"v%d\"", sep, rn(5));
    sl_buf_addf(b, " %lld\n", (long long)t);
}

static void load(struct engine *e)
{
    /* 24 series x ~5 h; 3 batches: persisted, persisted again, buffer */
    for (int batch = 0; batch < 3; batch++) {
        struct sl_buf b = SL_BUF_INIT;
        for (int ai = -1; ai < 4; ai++)
            for (int bi = 0; bi < 3; bi++)
                for (int ci = -1; ci < 2; ci++) {
                    if ((ai + bi + ci) % 3 == 0 && ai != -1) continue;
                    int npts = 20 + rn(40);
                    for (int k = 0; k < npts; k++) {
                        /* batch 2 rewrites times of batches 0/1 (duplicates) */
                        int64_t t = T0 + (int64_t)rn(5 * 3600) * NS;
                        if (batch == 2 && k % 3 == 0) t = T0 + (int64_t)(k * 97 % (5 * 3600)) * NS;
                        add_point(&b, ai, bi, ci, t);
                    }
                    /* a few exact duplicates across batches */
                    add_point(&b, ai, bi, ci, T0 + 3600 * NS);
                }
        fx_write_lp(e, "db", b.ptr, LP_PREC_NS);
        sl_buf_release(&b);
        if (batch < 2) assert_int_equal(storage_persist(e, 1), 0);
    }
    /* data where the fast path must hand over to SQLite */
    fx_write_lp(e, "db",
                "big,h=a n=9223372036854775807i,u=18446744073709551615u,g=1i 1734588000000000000\n"
                "big,h=a n=1i,u=1u,g=1i 1734588001000000000\n"
                "big,h=b n=5i,u=2u,g=2i 1734588002000000000\n"
                "big,h=b n=7i,u=3u 1734588003000000000\n",
                LP_PREC_NS);
    /* all-NULL fields in some groups */
    fx_write_lp(e, "db",
                "sparse,h=a v=1 1734588000000000000\n"
                "sparse,h=a w=2i 1734588001000000000\n"
                "sparse,h=b w=3i 1734588002000000000\n"
                "sparse,h=c v=4 1734588003000000000\n"
                "sparse,h=c v=6 1734588004000000000\n",
                LP_PREC_NS);
}

/* ---- query generator ---- */

static const char *const STRIDES[] = {"1 minute",   "7 minutes", "1 hour",
                                      "90 minutes", "1 day",     "10 seconds"};
static const char *const FIELDS[] = {"f", "i", "u", "bl", "time"};
static const char *const FNS[] = {"min", "max", "sum", "avg", "count", "total"};

struct gen_key {
    char expr[160];
    char alias[32];
    int selected, pos;
};

static void gen_where(struct sl_buf *q)
{
    int n = 0;
    const char *and = " WHERE ";
    int r = rn(8);
    if (r == 0) {
        sl_buf_addf(q, "%stime >= '2024-12-19T07:%02d:00Z'", and, rn(60));
        and = " AND ", n++;
    } else if (r == 1) {
        sl_buf_addf(q, "%stime BETWEEN '2024-12-19T06:30:00Z' AND '2024-12-19T09:%02d:10Z'", and,
                    rn(60));
        and = " AND ", n++;
    } else if (r == 2) {
        sl_buf_addf(q, "%stime > now() - INTERVAL '%d minutes'", and, 60 + rn(240));
        and = " AND ", n++;
    } else if (r == 3) {
        sl_buf_addf(q, "%s'2024-12-19T08:00:00Z' <= time AND time < '2024-12-19T10:%02d:00Z'", and,
                    rn(60));
        and = " AND ", n++;
    } else if (r == 4) {
        sl_buf_addf(q, "%stime <= %lld", and, (long long)(T0 + (int64_t)rn(5 * 3600) * NS));
        and = " AND ", n++;
    }
    r = rn(6);
    if (r == 0) {
        sl_buf_addf(q, "%sa = '%s'", and, AV[rn(4)]);
        and = " AND ";
    } else if (r == 1) {
        sl_buf_addf(q, "%sb IN ('%s', '%s')", and, BV[rn(3)], BV[rn(3)]);
        and = " AND ";
    } else if (r == 2) {
        sl_buf_addf(q, "%s'%s' = c", and, CV[rn(2)]);
        and = " AND ";
    }
    (void)n;
}

static void gen_query(struct sl_buf *q, enum expect *ex)
{
    struct gen_key keys[4];
    int nk = 0;
    *ex = EXP_TAKEN;
    if (rn(3)) {
        struct gen_key *k = &keys[nk++];
        memset(k, 0, sizeof(*k));
        const char *origin = rn(4) ? "" : ", '2024-12-19T00:00:05Z'";
        snprintf(k->expr, sizeof(k->expr), "date_bin(INTERVAL '%s', time%s)", STRIDES[rn(6)],
                 origin);
        if (rn(3)) snprintf(k->alias, sizeof(k->alias), "bk");
    }
    int tagmask = rn(8);
    for (int t = 0; t < 3; t++)
        if (tagmask & (1 << t)) {
            struct gen_key *k = &keys[nk++];
            memset(k, 0, sizeof(*k));
            snprintf(k->expr, sizeof(k->expr), "%c", "abc"[t]);
            if (!rn(4)) snprintf(k->alias, sizeof(k->alias), "t%c", "abc"[t]);
        }
    if (nk == 0) {
        struct gen_key *k = &keys[nk++];
        memset(k, 0, sizeof(*k));
        snprintf(k->expr, sizeof(k->expr), "b");
    }
    /* shuffle the keys */
    for (int i = nk - 1; i > 0; i--) {
        int j = rn(i + 1);
        struct gen_key t = keys[i];
        keys[i] = keys[j];
        keys[j] = t;
    }
    /* items: keys (a date_bin is always selected) and aggregates, interleaved */
    char items[12][200];
    int nitems = 0;
    int naggs = 1 + rn(4);
    int kleft = nk, aleft = naggs;
    int ki = 0;
    while (kleft || aleft) {
        if (kleft && (!aleft || rn(2))) {
            struct gen_key *k = &keys[ki++];
            kleft--;
            if (!strncmp(k->expr, "date_bin", 8) || rn(5)) {
                k->selected = 1;
                k->pos = nitems + 1;
                if (k->alias[0])
                    snprintf(items[nitems++], 200, "%s AS %s", k->expr, k->alias);
                else
                    snprintf(items[nitems++], 200, "%s", k->expr);
            }
        } else {
            aleft--;
            char agg[100];
            int fi = rn(7);
            if (fi == 5)
                snprintf(agg, sizeof(agg), "count(*)");
            else if (fi == 6)
                snprintf(agg, sizeof(agg), "count(%s)", rn(2) ? "s" : "a");
            else
                snprintf(agg, sizeof(agg), "%s(%s)", FNS[rn(6)], FIELDS[fi]);
            if (fi == 4 && !strncmp(agg, "sum", 3)) *ex = EXP_TAKEN_OR_FALLBACK; /* overflow */
            if (rn(2))
                snprintf(items[nitems], 200, "%s AS x%d", agg, nitems);
            else
                snprintf(items[nitems], 200, "%s", agg);
            nitems++;
        }
    }
    sl_buf_adds(q, "SELECT ");
    for (int i = 0; i < nitems; i++)
        sl_buf_addf(q, "%s%s", i ? ", " : "", items[i]);
    sl_buf_adds(q, " FROM m");
    gen_where(q);
    sl_buf_adds(q, " GROUP BY ");
    for (int i = 0; i < nk; i++) {
        struct gen_key *k = &keys[(i + 1) % nk]; /* another order than the select list */
        int how = rn(3);
        if (i) sl_buf_adds(q, ", ");
        if (how == 0 && k->selected)
            sl_buf_addf(q, "%d", k->pos);
        else if (how == 1 && k->selected && k->alias[0])
            sl_buf_adds(q, k->alias);
        else
            sl_buf_adds(q, k->expr);
    }
    if (rn(3)) {
        sl_buf_adds(q, " ORDER BY ");
        for (int i = 0; i < nk; i++) {
            struct gen_key *k = &keys[(i + nk - 1) % nk];
            int how = rn(3);
            if (i) sl_buf_adds(q, ", ");
            if (how == 0 && k->selected)
                sl_buf_addf(q, "%d", k->pos);
            else if (how == 1 && k->selected && k->alias[0])
                sl_buf_adds(q, k->alias);
            else
                sl_buf_adds(q, k->expr);
            int d = rn(3);
            if (d == 1) sl_buf_adds(q, " DESC");
            if (d == 2) sl_buf_adds(q, " ASC");
        }
    }
    if (!rn(4)) {
        sl_buf_addf(q, " LIMIT %d", rn(30));
        if (rn(2)) sl_buf_addf(q, " OFFSET %d", rn(10));
    }
}

/* The lastpoint shape: one min/max plus bare columns. */
static void gen_lastpoint(struct sl_buf *q, enum expect *ex)
{
    static const char *const extreme[] = {"max(time)", "min(time)", "max(f)", "min(i)", "max(u)"};
    static const char *const bare[] = {"f", "i", "u", "bl", "s", "time", "a", "c"};
    int tags = 1 + rn(7);
    sl_buf_adds(q, "SELECT ");
    const char *sep = "";
    for (int t = 0; t < 3; t++)
        if (tags & (1 << t)) {
            sl_buf_addf(q, "%s%c", sep, "abc"[t]);
            sep = ", ";
        }
    int x = rn(5);
    sl_buf_addf(q, "%s%s%s", sep, extreme[x], x == 0 && rn(2) ? " AS time" : "");
    int nb = 1 + rn(3);
    for (int i = 0; i < nb; i++)
        sl_buf_addf(q, ", %s", bare[rn(8)]);
    sl_buf_adds(q, " FROM m");
    gen_where(q);
    sl_buf_adds(q, " GROUP BY ");
    sep = "";
    for (int t = 0; t < 3; t++)
        if (tags & (1 << t)) {
            sl_buf_addf(q, "%s%c", sep, "abc"[t]);
            sep = ", ";
        }
    /* ties of the extreme (several series in a group, equal values) hand over */
    *ex = EXP_TAKEN_OR_FALLBACK;
}

static const enum qout_format FORMATS[] = {QOUT_JSON, QOUT_JSONL, QOUT_CSV, QOUT_PRETTY,
                                           QOUT_PARQUET};

static void test_fastagg_differential(void **state)
{
    (void)state;
    struct engine *e = fx_open_engine(fx_dir());
    load(e);
    /* the bench's shapes */
    check(e,
          "SELECT date_bin(INTERVAL '1 minute', time) AS minute, max(f) FROM m WHERE a = 'x' "
          "AND time >= '2024-12-19T07:00:00Z' AND time < '2024-12-19T08:00:00Z' GROUP BY minute "
          "ORDER BY minute",
          QOUT_JSON, EXP_TAKEN);
    check(e,
          "SELECT date_bin(INTERVAL '1 hour', time) AS hour, max(f), max(i), max(u), max(bl) "
          "FROM m WHERE b IN ('p', 'q') AND time >= '2024-12-19T06:00:00Z' AND time < "
          "'2024-12-19T10:00:00Z' GROUP BY hour ORDER BY hour",
          QOUT_JSON, EXP_TAKEN);
    check(e,
          "SELECT date_bin(INTERVAL '1 hour', time) AS hour, a, avg(f) FROM m WHERE time >= "
          "'2024-12-19T06:00:00Z' AND time < '2024-12-19T12:00:00Z' GROUP BY hour, a ORDER BY "
          "hour, a",
          QOUT_CSV, EXP_TAKEN);
    check(e, "SELECT a, b, c, max(time) AS time, f FROM m GROUP BY a, b, c", QOUT_JSON, EXP_TAKEN);
    check(e, "SELECT a, max(time) AS time, f FROM m GROUP BY a", QOUT_JSON, EXP_TAKEN_OR_FALLBACK);
    /* spellings */
    check(e, "select B, COUNT(*), Sum(I) from M group by \"b\" order by 1 desc;", QOUT_JSON,
          EXP_TAKEN);
    check(e, "SELECT count(f) n, b FROM m GROUP BY b ORDER BY b DESC LIMIT 2", QOUT_PRETTY,
          EXP_TAKEN);
    check(e, "SELECT sum(i), b FROM m WHERE time = 1734591600000000000 GROUP BY b", QOUT_JSON,
          EXP_TAKEN);
    check(e, "SELECT sum(i), b FROM m WHERE time > 1 AND time < 0 GROUP BY b", QOUT_JSON,
          EXP_TAKEN);
    check(e, "SELECT max(f), b FROM m WHERE a IN ('nope') GROUP BY b", QOUT_CSV, EXP_TAKEN);
    /* sum overflows / uint beyond int64 / all-NULL groups: same answers through SQLite */
    check(e, "SELECT h, sum(n) FROM big GROUP BY h", QOUT_JSON, EXP_FALLBACK);
    check(e, "SELECT h, max(u) FROM big GROUP BY h", QOUT_JSON, EXP_FALLBACK);
    check(e, "SELECT h, max(g) AS g, n FROM big GROUP BY h", QOUT_JSON, EXP_FALLBACK);
    check(e, "SELECT h, avg(n), min(n), count(u) FROM big GROUP BY h", QOUT_JSON, EXP_TAKEN);
    check(e, "SELECT h, max(v), min(w), count(v), sum(v), avg(w), total(v) FROM sparse GROUP BY h",
          QOUT_JSON, EXP_TAKEN);
    check(e, "SELECT h, max(v), w FROM sparse GROUP BY h", QOUT_JSON, EXP_TAKEN);
    check(e, "SELECT h, max(w), v FROM sparse GROUP BY h", QOUT_JSON, EXP_FALLBACK);
    /* shapes left to SQLite */
    check(e, "SELECT b, max(f) FROM m GROUP BY b HAVING max(f) > 1", QOUT_JSON, EXP_DECLINED);
    check(e, "SELECT b, max(f) FROM m GROUP BY b ORDER BY max(f)", QOUT_JSON, EXP_DECLINED);
    check(e, "SELECT b, a, max(f) FROM m GROUP BY b ORDER BY a", QOUT_JSON, EXP_DECLINED);
    check(e, "SELECT b, max(f) + 1 FROM m GROUP BY b", QOUT_JSON, EXP_DECLINED);
    check(e, "SELECT b, max(f) FROM m WHERE f > 1 GROUP BY b", QOUT_JSON, EXP_DECLINED);
    check(e, "SELECT b, max(s) FROM m GROUP BY b", QOUT_JSON, EXP_DECLINED);
    check(e, "SELECT date_bin(INTERVAL '1 hour', time) AS time, max(f) FROM m GROUP BY time",
          QOUT_JSON, EXP_DECLINED);
    check(e, "SELECT b, count(DISTINCT a) FROM m GROUP BY b", QOUT_JSON, EXP_DECLINED);
    check(e, "SELECT b, max(f) FROM m WHERE a = 'x' OR a = 'y' GROUP BY b", QOUT_JSON,
          EXP_DECLINED);
    check(e, "SELECT max(f) FROM m", QOUT_JSON, EXP_DECLINED);
    /* generated */
    int n = getenv("FASTAGG_QUERIES") ? atoi(getenv("FASTAGG_QUERIES")) : 600;
    for (int i = 0; i < n; i++) {
        struct sl_buf q = SL_BUF_INIT;
        enum expect ex;
        if (rn(4) == 0)
            gen_lastpoint(&q, &ex);
        else
            gen_query(&q, &ex);
        check(e, q.ptr, FORMATS[rn(5)], ex);
        sl_buf_release(&q);
    }
    struct counts c = counters();
    fprintf(stderr, "fastagg: %d queries; taken %llu, fell back %llu, declined %llu\n", nqueries,
            (unsigned long long)c.taken, (unsigned long long)c.fellback,
            (unsigned long long)c.declined);
    engine_close(e);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_fastagg_differential, fx_setup, fx_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
