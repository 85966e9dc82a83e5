/* test_agent_config.c — telegraf.conf loading (errors with lines, common options,
 * filters, env substitution), the metric pipeline and the output flush policy. */
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

static int load(struct agent *a, const char *text, char *err, size_t cap)
{
    assert_int_equal(agent_init(a), 0);
    int rc = agent_config_apply_text(a, text, strlen(text), "t.conf", NULL, err, cap);
    if (rc == 0) rc = agent_prepare(a);
    return rc;
}

static void expect_error(const char *text, const char *needle1, const char *needle2)
{
    struct agent a;
    char err[1024] = "";
    assert_true(load(&a, text, err, sizeof(err)) < 0);
    if (!strstr(err, needle1) || (needle2 && !strstr(err, needle2)))
        fail_msg("error \"%s\" lacks \"%s\" / \"%s\"", err, needle1, needle2 ? needle2 : "");
    agent_release(&a);
}

static void test_errors_name_plugin_option_and_line(void **st)
{
    (void)st;
    expect_error("[agent]\n  interval = \"10s\"\n\n[[inputs.cpux]]\n",
                 "unknown inputs plugin 'cpux'", "t.conf:4");
    expect_error("[[inputs.cpu]]\n  percpu = true\n  percpuu = false\n", "percpuu", "t.conf:3");
    expect_error("[[inputs.cpu]]\n  percpu = \"yes\"\n", "percpu", "boolean");
    expect_error("[agent]\n  intervall = \"10s\"\n", "intervall", "t.conf:2");
    expect_error("[agent]\n  interval = \"10 parsecs\"\n", "interval", "invalid duration");
    expect_error("[[outputs.nope]]\n", "unknown outputs plugin 'nope'", NULL);
    expect_error("[[inputs.cpu]]\n[inputs.cpu.tagpass]\n  cpu = 3\n", "tagpass", NULL);
    expect_error("[whatever]\n", "unknown top-level section 'whatever'", NULL);
    expect_error("[[inputs.cpu]\n", "t.conf:1", NULL); /* TOML syntax error */
    expect_error("[[outputs.file]]\n  data_format = \"xml\"\n", "data_format", "xml");
    expect_error("[[inputs.mem]]\n  metricpass = \"true\"\n", "metricpass", NULL);
    setenv("SL_AGENT_TEST_UNSET_CHECK", "", 1);
    unsetenv("SL_AGENT_TEST_UNSET_CHECK");
    expect_error("[agent]\n  hostname = \"${SL_AGENT_TEST_UNSET_CHECK:?need a host}\"\n",
                 "need a host", NULL);
}

static void test_agent_options_and_common(void **st)
{
    (void)st;
    setenv("SL_AGENT_TEST_HOST", "box7", 1);
    unsetenv("SL_AGENT_TEST_NOPE");
    const char *text = "[global_tags]\n"
                       "  dc = \"${SL_AGENT_TEST_NOPE:-eu1}\"\n"
                       "[agent]\n"
                       "  interval = \"2s\"\n"
                       "  flush_interval = 5\n"
                       "  metric_batch_size = 10\n"
                       "  metric_buffer_limit = 100\n"
                       "  collection_jitter = \"1.5s\"\n"
                       "  precision = \"1ms\"\n"
                       "  hostname = \"$SL_AGENT_TEST_HOST\"\n"
                       "  logtarget = \"stderr\"\n"
                       "[[inputs.cpu]]\n"
                       "  interval = \"500ms\"\n"
                       "  name_prefix = \"sys_\"\n"
                       "  alias = \"c\"\n"
                       "  fieldpass = [\"usage_*\"]\n"
                       "  fielddrop = [\"usage_guest*\"]\n"
                       "  taginclude = [\"cpu\", \"host\", \"role\"]\n"
                       "  [inputs.cpu.tags]\n"
                       "    role = \"db\"\n"
                       "  [inputs.cpu.tagpass]\n"
                       "    cpu = [\"cpu-total\", \"cpu1*\"]\n"
                       "[inputs.mem]\n"
                       "[[outputs.file]]\n"
                       "  files = [\"/dev/null\"]\n"
                       "  metric_batch_size = 3\n"
                       "  namedrop = [\"sys_*\"]\n";
    struct agent a;
    char err[1024] = "";
    int rc = load(&a, text, err, sizeof(err));
    if (rc < 0) fail_msg("load: %s", err);
    assert_int_equal(a.opt.interval, 2 * SL_NS_PER_S);
    assert_int_equal(a.opt.flush_interval, 5 * SL_NS_PER_S);
    assert_int_equal(a.opt.collection_jitter, 1500 * SL_NS_PER_MS);
    assert_int_equal(a.opt.precision, SL_NS_PER_MS);
    assert_string_equal(metric_get_tag(a.global_tags, "host"), "box7");
    assert_string_equal(metric_get_tag(a.global_tags, "dc"), "eu1");
    assert_int_equal(a.ninputs, 2);
    struct agent_input *cpu = a.inputs[0];
    assert_int_equal(cpu->c.interval, 500 * SL_NS_PER_MS);
    assert_int_equal(a.inputs[1]->c.interval, 2 * SL_NS_PER_S); /* inherited */
    assert_string_equal(cpu->c.alias, "c");
    assert_int_equal(a.noutputs, 1);
    assert_int_equal(a.outputs[0]->c.metric_batch_size, 3);
    assert_int_equal(a.outputs[0]->c.metric_buffer_limit, 100);

    /* the pipeline: a metric from cpu goes through select → makemetric → modify */
    struct metric *m = metric_new("cpu", 1234567);
    metric_add_tag(m, "cpu", "cpu-total");
    metric_add_tag(m, "host", "input-set"); /* existing tags win over global ones */
    metric_add_float(m, "usage_user", 1);
    metric_add_float(m, "usage_guest", 0);
    metric_add_float(m, "time_user", 3);
    struct metric_list cap = {0};
    a.capture = &cap;
    assert_int_equal(agent_push(&a, cpu, m), 0);
    m = metric_new("cpu", 1);
    metric_add_tag(m, "cpu", "cpu0"); /* fails tagpass */
    metric_add_float(m, "usage_user", 1);
    assert_int_equal(agent_push(&a, cpu, m), 0);
    assert_int_equal(cap.n, 1);
    struct metric *got = cap.v[0];
    assert_string_equal(got->name, "sys_cpu");
    assert_string_equal(metric_get_tag(got, "host"), "input-set");
    assert_string_equal(metric_get_tag(got, "role"), "db");
    assert_null(metric_get_tag(got, "dc")); /* removed by taginclude */
    assert_int_equal(got->nfields, 1);
    assert_string_equal(got->fields[0].key, "usage_user");
    assert_int_equal(got->time, 1000000); /* rounded to 1ms */
    metric_list_release(&cap);

    /* without capture, metrics reach the output buffer through its filter */
    a.capture = NULL;
    m = metric_new("cpu", 1);
    metric_add_tag(m, "cpu", "cpu-total");
    metric_add_float(m, "usage_user", 1);
    assert_int_equal(agent_push(&a, cpu, m), 0);
    assert_int_equal(metric_buffer_len(&a.outputs[0]->buf), 0); /* namedrop sys_* */
    m = metric_new("mem", 1);
    metric_add_int(m, "total", 1);
    assert_int_equal(agent_push(&a, a.inputs[1], m), 0);
    assert_int_equal(metric_buffer_len(&a.outputs[0]->buf), 1);
    agent_flush_all(&a);
    assert_int_equal(metric_buffer_len(&a.outputs[0]->buf), 0);
    assert_int_equal(a.outputs[0]->buf.written, 1);
    agent_release(&a);
}

static void test_filters_cli(void **st)
{
    (void)st;
    const char *text = "[[inputs.cpu]]\n[[inputs.mem]]\n[[inputs.system]]\n"
                       "[[outputs.file]]\n[[outputs.influxdb]]\n  urls = [\"http://x:1\"]\n";
    struct agent a;
    char err[512];
    assert_int_equal(agent_init(&a), 0);
    struct agent_load_opts o = {.input_filter = "mem:system", .output_filter = "file"};
    assert_int_equal(agent_config_apply_text(&a, text, strlen(text), "t", &o, err, sizeof(err)), 0);
    assert_int_equal(a.ninputs, 2);
    assert_string_equal(a.inputs[0]->ops->name, "mem");
    assert_int_equal(a.noutputs, 1);
    agent_release(&a);
}

/* A scripted output: answers from a list of results. */
static enum output_result script[16];
static size_t script_pos, script_calls, script_sizes[16];
static int64_t script_retry_after;

static enum output_result scripted_write(void *state, struct metric **batch, size_t n,
                                         struct output_write_info *info)
{
    (void)state, (void)batch;
    script_sizes[script_calls++ % 16] = n;
    info->retry_after_ns = script_retry_after;
    snprintf(info->error, sizeof(info->error), "scripted");
    return script[script_pos++ % 16];
}

static const struct agent_output_ops scripted = {
    .name = "scripted",
    .write = scripted_write,
};

static void test_output_retry_and_backoff(void **st)
{
    (void)st;
    struct agent a;
    assert_int_equal(agent_init(&a), 0);
    a.opt.omit_hostname = 1;
    struct agent_output *o = agent_add_output(&a, &scripted);
    assert_non_null(o);
    o->c.metric_batch_size = 4;
    o->c.metric_buffer_limit = 8;
    o->c.flush_interval = SL_NS_PER_S;
    assert_int_equal(agent_prepare(&a), 0);
    for (int i = 0; i < 10; i++) {
        struct metric *m = metric_new("m", i);
        metric_add_int(m, "v", i);
        assert_int_equal(agent_push(&a, NULL, m), 0);
    }
    assert_int_equal(metric_buffer_len(&o->buf), 8);
    assert_int_equal(o->buf.dropped, 2); /* overwrote the oldest */
    script_pos = script_calls = 0;
    script[0] = OUTPUT_RETRY;
    script_retry_after = 0;
    agent_flush_all(&a);
    assert_int_equal(script_calls, 1);
    assert_int_equal(metric_buffer_len(&o->buf), 8); /* kept */
    assert_int_equal(o->failures, 1);
    assert_true(o->retry_at > sl_mono_ns());
    /* a second failure with Retry-After 20 s: backoff honours it */
    script[1] = OUTPUT_RETRY;
    script_retry_after = 20 * SL_NS_PER_S;
    agent_flush_all(&a);
    assert_true(o->retry_at - sl_mono_ns() > 19 * SL_NS_PER_S);
    assert_int_equal(o->failures, 2);
    /* then a rejection drops one batch, and success writes the rest */
    script[2] = OUTPUT_REJECTED;
    script[3] = OUTPUT_OK;
    script_retry_after = 0;
    agent_flush_all(&a);
    assert_int_equal(script_calls, 4);
    assert_int_equal(script_sizes[2], 4);
    assert_int_equal(metric_buffer_len(&o->buf), 0);
    assert_int_equal(o->buf.written, 4);
    assert_int_equal(o->buf.rejected, 4);
    assert_int_equal(o->failures, 0);
    agent_release(&a);
}

static void test_reload_keeps_buffers(void **st)
{
    (void)st;
    const char *text = "[[outputs.file]]\n  files=[\"/dev/null\"]\n"
                       "[[outputs.file]]\n  alias = \"two\"\n  files=[\"/dev/null\"]\n";
    struct agent a, b;
    char err[512];
    assert_int_equal(load(&a, text, err, sizeof(err)), 0);
    assert_int_equal(load(&b, text, err, sizeof(err)), 0);
    for (int i = 0; i < 5; i++) {
        struct metric *m = metric_new("m", i);
        metric_add_int(m, "v", i);
        agent_push(&a, NULL, m);
    }
    assert_int_equal(agent_adopt_buffers(&b, &a), 0);
    assert_int_equal(metric_buffer_len(&b.outputs[0]->buf), 5);
    assert_int_equal(metric_buffer_len(&b.outputs[1]->buf), 5);
    assert_int_equal(metric_buffer_len(&a.outputs[0]->buf), 0);
    agent_release(&a);
    agent_release(&b);
}

static void test_round_time(void **st)
{
    (void)st;
    assert_int_equal(agent_round_time(1499999999, SL_NS_PER_S), SL_NS_PER_S);
    assert_int_equal(agent_round_time(1500000000, SL_NS_PER_S), 2 * SL_NS_PER_S);
    assert_int_equal(agent_round_time(-1500000000, SL_NS_PER_S), -2 * SL_NS_PER_S);
    assert_int_equal(agent_round_time(123, 0), 123);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_errors_name_plugin_option_and_line),
        cmocka_unit_test(test_agent_options_and_common),
        cmocka_unit_test(test_filters_cli),
        cmocka_unit_test(test_output_retry_and_backoff),
        cmocka_unit_test(test_reload_keeps_buffers),
        cmocka_unit_test(test_round_time),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
