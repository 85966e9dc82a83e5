/* test_agent_proc.c — the processors (rename, enum, converter, pivot,
 * filter), their configuration errors, `order`, and the selectors that limit
 * which metrics reach a processor. Metrics go through the real pipeline
 * (agent_push) into a capture list. */
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
#include "agent/parsers/parsers.h"
#include "common/buf.h"
#include "common/err.h"
#include "common/mem.h"

/* Loads conf, pushes the line-protocol lines through the pipeline and
 * compares the rendered result (fields sorted) with expected. */
static void run(const char *conf, const char *input, const char *expected)
{
    struct agent a;
    char err[1024] = "";
    assert_int_equal(agent_init(&a), 0);
    char full[4096];
    snprintf(full, sizeof(full), "[agent]\n  omit_hostname = true\n%s", conf);
    if (agent_config_apply_text(&a, full, strlen(full), "t.conf", NULL, err, sizeof(err)) < 0)
        fail_msg("load: %s", err);
    assert_int_equal(agent_prepare(&a), 0);
    struct parser *p;
    assert_int_equal(parser_new(PARSER_INFLUX, "x", &p), 0);
    struct metric_list in = {0}, out = {0};
    assert_int_equal(parser_parse(p, input, strlen(input), 0, &in, err, sizeof(err)), 0);
    a.capture = &out;
    for (size_t i = 0; i < in.n; i++) {
        agent_push(&a, NULL, in.v[i]);
        in.v[i] = NULL;
    }
    in.n = 0;
    a.capture = NULL;
    struct sl_buf b;
    sl_buf_init(&b, 1 << 20);
    for (size_t i = 0; i < out.n; i++) {
        metric_sort_fields(out.v[i]);
        assert_int_equal(metric_write_lp(out.v[i], &b, NULL), 0);
    }
    if (strcmp(b.ptr ? b.ptr : "", expected))
        fail_msg("got:\n%s\nwant:\n%s", b.ptr ? b.ptr : "", expected);
    sl_buf_release(&b);
    metric_list_release(&in);
    metric_list_release(&out);
    parser_free(p);
    agent_release(&a);
}

static void load_error(const char *conf, const char *needle, const char *needle2)
{
    struct agent a;
    char err[1024] = "";
    assert_int_equal(agent_init(&a), 0);
    int rc = agent_config_apply_text(&a, conf, strlen(conf), "t.conf", NULL, err, sizeof(err));
    if (rc == 0) fail_msg("accepted: %s", conf);
    if (!strstr(err, needle) || (needle2 && !strstr(err, needle2)))
        fail_msg("error \"%s\" lacks \"%s\"/\"%s\"", err, needle, needle2 ? needle2 : "");
    agent_release(&a);
}

static void test_rename(void **st)
{
    (void)st;
    /* the seeds' rename blocks */
    run("[[processors.rename]]\n  [[processors.rename.replace]]\n    field = \"temp\"\n"
        "    dest = \"temperature\"\n",
        "sensor,room=a temp=21.5,hum=40 1\n", "sensor,room=a hum=40,temperature=21.5 1\n");
    run("[[processors.rename]]\n"
        "  [[processors.rename.replace]]\n    measurement = \"cpu\"\n    dest = \"processor\"\n"
        "  [[processors.rename.replace]]\n    tag = \"host\"\n    dest = \"server\"\n"
        "  [[processors.rename.replace]]\n    field = \"usage_idle\"\n    dest = \"cpu_idle\"\n"
        "  [[processors.rename.replace]]\n    field = \"a\"\n    dest = \"b\"\n",
        "cpu,host=h1 usage_idle=90,a=1i,b=2i 5\nmem,host=h2 free=3i 6\n",
        "processor,server=h1 b=1i,cpu_idle=90 5\nmem,server=h2 free=3i 6\n");
    /* renaming a tag onto itself (seed000_L0965) is a no-op */
    run("[[processors.rename]]\n  [[processors.rename.replace]]\n    tag = \"sensor_id\"\n"
        "    dest = \"sensor_id\"\n",
        "t,sensor_id=s1 v=1 1\n", "t,sensor_id=s1 v=1 1\n");
    load_error("[[processors.rename]]\n  [[processors.rename.replace]]\n    field = \"a\"\n",
               "dest", NULL);
    load_error("[[processors.rename]]\n  [[processors.rename.replace]]\n    field = \"a\"\n"
               "    tag = \"b\"\n    dest = \"c\"\n",
               "exactly one", NULL);
    load_error("[[processors.rename]]\n  [[processors.rename.replace]]\n    field = \"a\"\n"
               "    dest = \"c\"\n    dset = \"d\"\n",
               "dset", "t.conf:5");
}

static void test_enum(void **st)
{
    (void)st;
    /* seed000_L0541: a tag mapping writes a tag (Telegraf's behaviour) */
    run("[[processors.enum]]\n  [[processors.enum.mapping]]\n    tag = \"environment\"\n"
        "    dest = \"env_code\"\n    [processors.enum.mapping.value_mappings]\n"
        "      \"production\" = 1\n      \"staging\" = 2\n",
        "m,environment=production v=1 1\nm,environment=qa v=1 2\n",
        "m,env_code=1,environment=production v=1 1\nm,environment=qa v=1 2\n");
    /* field mappings keep the mapped type; default; int and bool sources */
    run("[[processors.enum]]\n  [[processors.enum.mapping]]\n    fields = [\"status\", \"ok\", "
        "\"code\"]\n"
        "    default = -1\n    [processors.enum.mapping.value_mappings]\n"
        "      healthy = 0\n      degraded = 1.5\n      \"true\" = \"yes\"\n      \"200\" = true\n",
        "s status=\"healthy\",ok=true,code=200i,f=1.5 1\ns status=\"degraded\" 2\n"
        "s status=\"unknown\",code=404i 3\n",
        "s code=true,f=1.5,ok=\"yes\",status=0i 1\ns status=1.5 2\ns code=-1i,status=-1i 3\n");
    /* dest on a field; floats are never mapped */
    run("[[processors.enum]]\n  [[processors.enum.mapping]]\n    field = \"st\"\n"
        "    dest = \"st_code\"\n    [processors.enum.mapping.value_mappings]\n      up = 1\n",
        "s st=\"up\" 1\ns st=1.0 2\n", "s st=\"up\",st_code=1i 1\ns st=1 2\n");
    load_error("[[processors.enum]]\n  [[processors.enum.mapping]]\n    dest = \"x\"\n",
               "field(s) or tag(s)", NULL);
    load_error("[[processors.enum]]\n  [[processors.enum.mapping]]\n    field = \"x\"\n"
               "    [processors.enum.mapping.value_mappings]\n      a = [1]\n",
               "'a'", NULL);
}

static void test_converter(void **st)
{
    (void)st;
    run("[[processors.converter]]\n  [processors.converter.tags]\n    integer = [\"port\"]\n"
        "    float = [\"ratio\"]\n    boolean = [\"flag\"]\n    string = [\"s*\"]\n"
        "    measurement = [\"kind\"]\n    unsigned = [\"big\"]\n",
        "m,port=0x1F,ratio=2.5,flag=T,site=x,kind=web,big=-5,other=o v=1 1\n"
        "m,port=abc v=1 2\n",
        "web,other=o big=0u,flag=true,port=31i,ratio=2.5,site=\"x\",v=1 1\nm v=1 2\n");
    run("[[processors.converter]]\n  [processors.converter.fields]\n    integer = [\"f\", \"s\", "
        "\"b\"]\n"
        "    string = [\"i\"]\n    tag = [\"t\"]\n    unsigned = [\"neg\"]\n    boolean = [\"z\"]\n"
        "    float = [\"u\"]\n",
        "m f=2.5,s=\"42\",b=true,i=-7i,t=3i,neg=-2.4,z=0i,u=9u,keep=\"k\" 1\n"
        "m s=\"x\",f=1e300 2\n",
        "m,t=3 b=1i,f=3i,i=\"-7\",keep=\"k\",neg=0u,s=42i,u=9,z=false 1\n"
        "m f=9223372036854775807i 2\n");
    run("[[processors.converter]]\n  [processors.converter.fields]\n    string = [\"x\"]\n"
        "    measurement = [\"name\"]\n",
        "m x=0.1,y=1e21,name=\"renamed\" 1\n", "renamed x=\"0.1\",y=1e+21 1\n");
    run("[[processors.converter]]\n  [processors.converter.fields]\n    timestamp = [\"ts\"]\n"
        "    timestamp_format = \"unix_ms\"\n",
        "m ts=1700000000123i,v=1 1\n", "m v=1 1700000000123000000\n");
    load_error("[[processors.converter]]\n  [processors.converter.fields]\n    integr = [\"x\"]\n",
               "integr", NULL);
}

static void test_pivot_and_filter(void **st)
{
    (void)st;
    run("[[processors.pivot]]\n  tag_key = \"name\"\n  value_key = \"value\"\n",
        "cpu,name=time_idle,host=h value=42 1\ncpu,host=h value=1 2\ncpu,name=x other=1 3\n",
        "cpu,host=h time_idle=42 1\ncpu,host=h value=1 2\ncpu,name=x other=1 3\n");
    load_error("[[processors.pivot]]\n  tag_key = \"name\"\n", "value_key", NULL);
    /* seed000_L0563: selector only, no rules: everything passes */
    run("[[processors.filter]]\n  tagpass.environment = [\"production\", \"staging\"]\n",
        "m,environment=production v=1 1\nm,environment=dev v=1 2\n",
        "m,environment=production v=1 1\nm,environment=dev v=1 2\n");
    run("[[processors.filter]]\n  default = \"drop\"\n"
        "  [[processors.filter.rule]]\n    name = [\"cpu\"]\n    tags = {cpu = [\"cpu-total\"]}\n"
        "    action = \"pass\"\n"
        "  [[processors.filter.rule]]\n    fields = [\"keep*\"]\n    action = \"pass\"\n",
        "cpu,cpu=cpu-total u=1 1\ncpu,cpu=cpu0 u=1 2\nmem keep_me=1 3\nmem x=1 4\n",
        "cpu,cpu=cpu-total u=1 1\nmem keep_me=1 3\n");
    load_error("[[processors.filter]]\n  default = \"maybe\"\n", "default", NULL);
}

static void test_order_and_selection(void **st)
{
    (void)st;
    /* order 2 runs after order 1 regardless of file order */
    run("[[processors.rename]]\n  order = 2\n  [[processors.rename.replace]]\n    field = \"b\"\n"
        "    dest = \"c\"\n"
        "[[processors.rename]]\n  order = 1\n  [[processors.rename.replace]]\n    field = \"a\"\n"
        "    dest = \"b\"\n",
        "m a=1 1\n", "m c=1 1\n");
    /* namepass limits a processor to some metrics */
    run("[[processors.rename]]\n  namepass = [\"cpu\"]\n  [[processors.rename.replace]]\n"
        "    field = \"a\"\n    dest = \"b\"\n",
        "cpu a=1 1\nmem a=1 2\n", "cpu b=1 1\nmem a=1 2\n");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rename),
        cmocka_unit_test(test_enum),
        cmocka_unit_test(test_converter),
        cmocka_unit_test(test_pivot_and_filter),
        cmocka_unit_test(test_order_and_selection),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
