/* test_agent_agg.c — aggregators.basicstats values, drop_original, the
 * aggregation window (grace/delay), processors running again on aggregates,
 * and configuration errors. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "agent/agent.h"
#include "agent/config.h"
#include "common/err.h"
#include "common/mem.h"
#include "common/timeutil.h"

static void load(struct agent *a, const char *conf)
{
    char err[1024] = "";
    char full[4096];
    assert_int_equal(agent_init(a), 0);
    snprintf(full, sizeof(full), "[agent]\n  omit_hostname = true\n%s", conf);
    if (agent_config_apply_text(a, full, strlen(full), "t.conf", NULL, err, sizeof(err)) < 0)
        fail_msg("load: %s", err);
    assert_int_equal(agent_prepare(a), 0);
}

static void push(struct agent *a, const char *name, const char *tag, int64_t t, double v, int64_t i)
{
    struct metric *m = metric_new(name, t);
    assert_non_null(m);
    if (tag) assert_int_equal(metric_add_tag(m, "host", tag), 0);
    assert_int_equal(metric_add_float(m, "f", v), 0);
    assert_int_equal(metric_add_int(m, "i", i), 0);
    assert_int_equal(metric_add_string(m, "s", "ignored"), 0);
    agent_push(a, NULL, m);
}

static double fval(const struct metric *m, const char *key)
{
    const struct metric_field *f = metric_get_field(m, key);
    if (!f) fail_msg("no field %s", key);
    return f->type == LP_FLOAT ? f->v.f : f->type == LP_INTEGER ? (double)f->v.i : NAN;
}

static const struct metric *find(const struct metric_list *l, const char *name, const char *host,
                                 const char *field)
{
    for (size_t i = 0; i < l->n; i++) {
        const char *h = metric_get_tag(l->v[i], "host");
        if (!strcmp(l->v[i]->name, name) && ((!h && !host) || (h && host && !strcmp(h, host))) &&
            (!field || metric_get_field(l->v[i], field)))
            return l->v[i];
    }
    return NULL;
}

static void test_basicstats_values(void **st)
{
    (void)st;
    struct agent a;
    load(&a,
         "[[aggregators.basicstats]]\n  period = \"30s\"\n"
         "  stats = [\"count\", \"min\", \"max\", \"mean\", \"s2\", \"stdev\", \"sum\", \"diff\","
         " \"non_negative_diff\", \"rate\", \"non_negative_rate\", \"interval\", \"last\","
         " \"first\", \"percent_change\"]\n");
    struct metric_list out = {0};
    a.capture = &out;
    int64_t t0 = a.aggregators[0]->period_start + SL_NS_PER_S;
    push(&a, "m", "h1", t0, 2, 10);
    push(&a, "m", "h1", t0 + 2 * SL_NS_PER_S, 4, 20);
    push(&a, "m", "h1", t0 + 4 * SL_NS_PER_S, 9, 5);
    push(&a, "m", "h2", t0, 7, 1); /* a series seen once */
    assert_int_equal(out.n, 4);    /* originals pass (drop_original = false) */
    agent_push_aggregators(&a);
    a.capture = NULL;
    assert_int_equal(out.n, 6);
    const struct metric *m = find(&out, "m", "h1", "f_count");
    assert_non_null(m);
    assert_true(fval(m, "f_count") == 3);
    assert_true(metric_get_field(m, "f_count")->type == LP_FLOAT);
    assert_true(fval(m, "f_min") == 2 && fval(m, "f_max") == 9 && fval(m, "f_sum") == 15);
    assert_true(fabs(fval(m, "f_mean") - 5) < 1e-12);
    assert_true(fabs(fval(m, "f_s2") - 13) < 1e-12); /* ((9+1+16)/2) */
    assert_true(fabs(fval(m, "f_stdev") - sqrt(13)) < 1e-12);
    assert_true(fval(m, "f_diff") == 5 && fval(m, "f_non_negative_diff") == 5);
    assert_true(fabs(fval(m, "f_rate") - 2.5) < 1e-12);
    assert_true(fval(m, "f_interval") == 2e9);
    assert_true(metric_get_field(m, "f_interval")->type == LP_INTEGER);
    assert_true(fval(m, "f_first") == 2 && fval(m, "f_last") == 9);
    assert_true(fabs(fval(m, "f_percent_change") - 125) < 1e-12);
    /* integers are aggregated as floats; a falling series has no non_negative_* */
    assert_true(fval(m, "i_diff") == -15);
    assert_null(metric_get_field(m, "i_non_negative_diff"));
    assert_null(metric_get_field(m, "i_non_negative_rate"));
    assert_null(metric_get_field(m, "s_count"));
    m = find(&out, "m", "h2", "f_count");
    assert_non_null(m);
    assert_true(fval(m, "f_count") == 1 && fval(m, "f_mean") == 7);
    assert_null(metric_get_field(m, "f_stdev")); /* needs two values */
    assert_null(metric_get_field(m, "f_diff"));
    /* after a push the state is reset */
    metric_list_release(&out);
    a.capture = &out;
    agent_push_aggregators(&a);
    assert_int_equal(out.n, 0);
    a.capture = NULL;
    agent_release(&a);
}

static void test_defaults_drop_original_window(void **st)
{
    (void)st;
    struct agent a;
    load(&a, "[[aggregators.basicstats]]\n  drop_original = true\n  grace = \"10s\"\n"
             "  namepass = [\"cpu\"]\n"
             "[[processors.rename]]\n  [[processors.rename.replace]]\n    field = \"f_mean\"\n"
             "    dest = \"avg\"\n");
    struct agent_aggregator *g = a.aggregators[0];
    assert_true(g->c.period == 30 * SL_NS_PER_S);
    assert_true(g->c.delay == 100 * SL_NS_PER_MS);
    struct metric_list out = {0};
    a.capture = &out;
    push(&a, "cpu", NULL, g->period_start + 1, 1, 1);
    push(&a, "cpu", NULL, g->period_start - 5 * SL_NS_PER_S, 3, 1);    /* within grace */
    push(&a, "cpu", NULL, g->period_start - 15 * SL_NS_PER_S, 100, 1); /* too old */
    push(&a, "mem", NULL, g->period_start + 1, 1, 1);                  /* not selected */
    assert_int_equal(out.n, 1); /* only mem passes: cpu originals dropped */
    assert_int_equal(atomic_load(&g->outside_window), 1);
    agent_push_aggregators(&a);
    a.capture = NULL;
    assert_int_equal(out.n, 2);
    const struct metric *m = find(&out, "cpu", NULL, "f_count");
    assert_non_null(m);
    /* default stats: count, min, max, mean, s2, stdev; mean renamed by the
     * processor that runs again on aggregates */
    assert_true(fval(m, "f_count") == 2 && fval(m, "avg") == 2);
    assert_non_null(metric_get_field(m, "f_s2"));
    assert_non_null(metric_get_field(m, "f_stdev"));
    assert_null(metric_get_field(m, "f_sum"));
    metric_list_release(&out);
    agent_release(&a);
}

static void test_errors(void **st)
{
    (void)st;
    const char *bad[][2] = {
        {"[[aggregators.basicstats]]\n  stats = [\"median\"]\n", "median"},
        {"[[aggregators.basicstats]]\n  period = \"0s\"\n", "period"},
        {"[[aggregators.basicstats]]\n  perod = \"30s\"\n", "perod"},
        {"[[aggregators.minmax]]\n", "not supported"},
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        struct agent a;
        char err[1024] = "";
        assert_int_equal(agent_init(&a), 0);
        assert_true(agent_config_apply_text(&a, bad[i][0], strlen(bad[i][0]), "t.conf", NULL, err,
                                            sizeof(err)) < 0);
        if (!strstr(err, bad[i][1])) fail_msg("error \"%s\" lacks \"%s\"", err, bad[i][1]);
        agent_release(&a);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_basicstats_values),
        cmocka_unit_test(test_defaults_drop_original_window),
        cmocka_unit_test(test_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
