/* test_agent_metric.c — agent metrics, the Telegraf-style buffer, globs and metric filters. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "agent/filter.h"
#include "agent/metric.h"
#include "common/err.h"
#include "common/mem.h"

static char *lp_of(const struct metric *m)
{
    struct sl_buf b;
    sl_buf_init(&b, 0);
    int rc = metric_write_lp(m, &b, NULL);
    if (rc < 0) {
        sl_buf_release(&b);
        return NULL;
    }
    return sl_buf_detach(&b, NULL);
}

static void test_metric_tags_sorted_and_replaced(void **st)
{
    (void)st;
    struct metric *m = metric_new("cpu", 42);
    assert_non_null(m);
    assert_int_equal(metric_add_tag(m, "zone", "b"), 0);
    assert_int_equal(metric_add_tag(m, "host", "a"), 0);
    assert_int_equal(metric_add_tag(m, "cpu", "cpu0"), 0);
    assert_int_equal(metric_add_tag(m, "host", "c"), 0); /* replace */
    assert_int_equal(m->ntags, 3);
    assert_string_equal(m->tags[0].key, "cpu");
    assert_string_equal(m->tags[1].key, "host");
    assert_string_equal(m->tags[2].key, "zone");
    assert_string_equal(metric_get_tag(m, "host"), "c");
    assert_null(metric_get_tag(m, "nope"));
    assert_int_equal(metric_rename_tag(m, "zone", "az"), 1);
    assert_string_equal(m->tags[0].key, "az");
    assert_int_equal(metric_rename_tag(m, "zone", "x"), 0);
    assert_int_equal(metric_remove_tag(m, "cpu"), 1);
    assert_int_equal(metric_remove_tag(m, "cpu"), 0);
    assert_int_equal(m->ntags, 2);
    metric_free(m);
}

static void test_metric_fields_and_lp(void **st)
{
    (void)st;
    struct metric *m = metric_new("we ird,name", 1700000000000000000LL);
    assert_int_equal(metric_add_tag(m, "host", "a b"), 0);
    assert_int_equal(metric_add_float(m, "f", 1.5), 0);
    assert_int_equal(metric_add_int(m, "i", -3), 0);
    assert_int_equal(metric_add_uint(m, "u", 7), 0);
    assert_int_equal(metric_add_bool(m, "b", 1), 0);
    assert_int_equal(metric_add_string(m, "s", "say \"hi\""), 0);
    assert_int_equal(metric_add_int(m, "i", 4), 0); /* replace keeps position */
    assert_int_equal(m->nfields, 5);
    assert_int_equal(metric_get_field(m, "i")->v.i, 4);
    char *line = lp_of(m);
    assert_non_null(line);
    assert_string_equal(line, "we\\ ird\\,name,host=a\\ b f=1.5,i=4i,u=7u,b=true,"
                              "s=\"say \\\"hi\\\"\" 1700000000000000000\n");
    sl_free(line);

    struct metric *c = metric_copy(m);
    assert_non_null(c);
    assert_int_equal(metric_rename_field(c, "f", "s"), 1); /* replaces s */
    assert_int_equal(c->nfields, 4);
    assert_int_equal(metric_get_field(c, "s")->type, LP_FLOAT);
    assert_int_equal(metric_remove_field(c, "u"), 1);
    assert_int_equal(metric_remove_field(c, "u"), 0);
    metric_sort_fields(c);
    assert_string_equal(c->fields[0].key, "b");
    assert_string_equal(c->fields[2].key, "s");
    /* the original is untouched */
    assert_int_equal(m->nfields, 5);
    assert_string_equal(metric_get_field(m, "s")->v.s, "say \"hi\"");
    metric_free(c);

    /* a metric without fields cannot be written */
    struct metric *e = metric_new("empty", 0);
    struct sl_buf b;
    sl_buf_init(&b, 0);
    assert_int_equal(metric_write_lp(e, &b, NULL), SL_EINVAL);
    sl_buf_release(&b);
    metric_free(e);
    metric_free(m);
}

static void test_metric_oom(void **st)
{
    (void)st;
    /* every allocation failure point gives an error, never a crash or leak */
    for (long k = 0; k < 30; k++) {
        sl_mem_fail_after(k, 0);
        struct metric *m = metric_new("m", 1);
        if (m) {
            metric_add_tag(m, "a", "b");
            metric_add_string(m, "s", "v");
            metric_add_float(m, "f", 1);
            struct metric *c = metric_copy(m);
            metric_free(c);
        }
        metric_free(m);
        sl_mem_fail_after(-1, 0);
    }
}

static struct metric *num(int64_t i)
{
    struct metric *m = metric_new("m", i);
    metric_add_int(m, "v", i);
    return m;
}

static void test_buffer_overwrites_oldest(void **st)
{
    (void)st;
    struct metric_buffer b;
    assert_int_equal(metric_buffer_init(&b, 3), 0);
    for (int i = 1; i <= 5; i++)
        metric_buffer_add(&b, num(i));
    assert_int_equal(metric_buffer_len(&b), 3);
    assert_int_equal(b.dropped, 2);
    assert_int_equal(b.added, 5);
    struct metric *batch[3];
    size_t n = metric_buffer_take(&b, batch, 2);
    assert_int_equal(n, 2);
    assert_int_equal(batch[0]->time, 3); /* 1 and 2 were overwritten */
    assert_int_equal(batch[1]->time, 4);
    /* while the batch is out, one more arrives: the buffer holds 5, 6 */
    metric_buffer_add(&b, num(6));
    /* the write failed: the batch goes back in front; only one fits, so the
     * oldest (3) is dropped */
    metric_buffer_return(&b, batch, 2);
    assert_int_equal(b.dropped, 3);
    assert_int_equal(metric_buffer_len(&b), 3);
    n = metric_buffer_take(&b, batch, 3);
    assert_int_equal(n, 3);
    assert_int_equal(batch[0]->time, 4);
    assert_int_equal(batch[1]->time, 5);
    assert_int_equal(batch[2]->time, 6);
    metric_buffer_accept(&b, batch, 3);
    assert_int_equal(b.written, 3);
    assert_int_equal(metric_buffer_len(&b), 0);
    metric_buffer_add(&b, num(8));
    n = metric_buffer_take(&b, batch, 3);
    metric_buffer_drop(&b, batch, n);
    assert_int_equal(b.rejected, 1);
    metric_buffer_release(&b);
}

static void test_buffer_move(void **st)
{
    (void)st;
    struct metric_buffer a, b;
    assert_int_equal(metric_buffer_init(&a, 10), 0);
    assert_int_equal(metric_buffer_init(&b, 2), 0);
    for (int i = 1; i <= 4; i++)
        metric_buffer_add(&a, num(i));
    metric_buffer_move(&b, &a);
    assert_int_equal(metric_buffer_len(&a), 0);
    assert_int_equal(metric_buffer_len(&b), 2);
    assert_int_equal(b.dropped, 2);
    struct metric *x[2];
    metric_buffer_take(&b, x, 2);
    assert_int_equal(x[0]->time, 3);
    metric_buffer_accept(&b, x, 2);
    metric_buffer_release(&a);
    metric_buffer_release(&b);
}

static void test_glob(void **st)
{
    (void)st;
    assert_true(glob_match("eth*", "eth0"));
    assert_true(glob_match("eth*", "eth"));
    assert_false(glob_match("eth*", "en0"));
    assert_true(glob_match("*", ""));
    assert_true(glob_match("c?u", "cpu"));
    assert_false(glob_match("c?u", "cu"));
    assert_true(glob_match("sd[a-c]", "sdb"));
    assert_false(glob_match("sd[a-c]", "sdd"));
    assert_true(glob_match("sd[!a-c]", "sdd"));
    assert_true(glob_match("sd[^a-c]", "sdz"));
    assert_false(glob_match("sd[!a-c]", "sda"));
    assert_true(glob_match("{cpu,mem}", "mem"));
    assert_true(glob_match("x{a,b}y*", "xbyzzz"));
    assert_false(glob_match("{cpu,mem}", "disk"));
    assert_true(glob_match("a\\*b", "a*b"));
    assert_false(glob_match("a\\*b", "axb"));
    assert_true(glob_match("*a*b*c*", "xxaxxbxxcxx"));
    assert_false(glob_match("*a*b*c*", "xxaxxcxxbxx"));
    /* malformed patterns are literals, not crashes */
    assert_true(glob_match("[abc", "[abc"));
    assert_false(glob_match("[abc", "a"));
    assert_true(glob_match("{ab", "{ab"));
    assert_true(glob_match("a\\", "a\\"));
    assert_false(glob_match("a\\", "a"));
    /* deep star patterns terminate */
    assert_false(glob_match("*a*a*a*a*a*a*a*a*b", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"));
}

static struct metric *sample(void)
{
    struct metric *m = metric_new("cpu", 1);
    metric_add_tag(m, "cpu", "cpu0");
    metric_add_tag(m, "host", "web1");
    metric_add_float(m, "usage_idle", 90);
    metric_add_float(m, "usage_user", 5);
    metric_add_float(m, "time_user", 5);
    return m;
}

static void test_filters(void **st)
{
    (void)st;
    struct metric_filter f;
    memset(&f, 0, sizeof(f));
    struct metric *m = sample();
    assert_false(metric_filter_active(&f));
    assert_true(metric_filter_apply(&f, m));
    glob_list_add(&f.namepass, "mem");
    assert_false(metric_filter_select(&f, m));
    glob_list_add(&f.namepass, "c*");
    assert_true(metric_filter_select(&f, m));
    glob_list_add(&f.namedrop, "cp?");
    assert_false(metric_filter_select(&f, m));
    metric_filter_release(&f);

    metric_filter_add_tag(&f, 0, "cpu", "cpu-total");
    assert_false(metric_filter_select(&f, m));
    metric_filter_add_tag(&f, 0, "host", "web*");
    assert_true(metric_filter_select(&f, m)); /* any tag matching passes */
    metric_filter_add_tag(&f, 1, "cpu", "cpu[0-3]");
    assert_false(metric_filter_select(&f, m));
    metric_filter_release(&f);

    glob_list_add(&f.fieldinclude, "usage_*");
    glob_list_add(&f.fieldexclude, "*_idle");
    glob_list_add(&f.tagexclude, "cpu");
    assert_true(metric_filter_apply(&f, m));
    assert_int_equal(m->nfields, 1);
    assert_string_equal(m->fields[0].key, "usage_user");
    assert_int_equal(m->ntags, 1);
    assert_string_equal(m->tags[0].key, "host");
    metric_filter_release(&f);

    glob_list_add(&f.taginclude, "nothing");
    glob_list_add(&f.fieldinclude, "nothing");
    assert_false(metric_filter_apply(&f, m)); /* no field left: dropped */
    assert_int_equal(m->ntags, 0);
    metric_filter_release(&f);
    metric_free(m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_metric_tags_sorted_and_replaced),
        cmocka_unit_test(test_metric_fields_and_lp),
        cmocka_unit_test(test_metric_oom),
        cmocka_unit_test(test_buffer_overwrites_oldest),
        cmocka_unit_test(test_buffer_move),
        cmocka_unit_test(test_glob),
        cmocka_unit_test(test_filters),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
