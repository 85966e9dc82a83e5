/*
 * test_toml_telegraf.c — every telegraf.conf block of the course seeds
 * (/work/shared/seeds/NNN_*.txt, extracted verbatim into
 * tests/unit/data/telegraf/seedNNN_LXXXX.conf, XXXX = line of the ```toml
 * fence in the seed) goes through environment substitution and parses, and
 * has the shape Telegraf expects: top-level sections only, plugins as
 * [[arrays.of.tables]]. Spot checks pin values, nesting and line numbers.
 */
#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "common/buf.h"
#include "toml/toml.h"

static const char *env_none(const char *name, void *ctx)
{
    (void)name;
    (void)ctx;
    return NULL;
}

static const char *env_tokens(const char *name, void *ctx)
{
    (void)ctx;
    if (!strcmp(name, "INFLUX_TOKEN")) return "tok-123";
    if (!strcmp(name, "MQTT_PASSWORD")) return "pw\"q";
    return NULL;
}

static char *data_path(const char *name, char *buf, size_t cap)
{
    const char *src = getenv("SLUICE_SRC");
    snprintf(buf, cap, "%s/tests/unit/data/telegraf%s%s", src && *src ? src : ".", name ? "/" : "",
             name ? name : "");
    return buf;
}

static char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *b = malloc((size_t)n + 1);
    if (fread(b, 1, (size_t)n, f) != (size_t)n) n = 0;
    fclose(f);
    b[n] = '\0';
    *len = (size_t)n;
    return b;
}

/* Loads a seed file the way the agent will: substitute, then parse. */
static struct toml_value *load(const char *name, toml_env_lookup_fn env)
{
    char path[1024];
    size_t len = 0;
    char *text = slurp(data_path(name, path, sizeof(path)), &len);
    assert_non_null(text);
    struct sl_buf out = SL_BUF_INIT;
    char msg[256];
    assert_int_equal(toml_envsubst_with(text, len, env, NULL, &out, msg, sizeof(msg)), 0);
    struct toml_value *root = NULL;
    struct toml_error err;
    int rc = toml_parse(out.ptr, out.len, &root, &err);
    if (rc < 0) printf("%s:%d:%d: %s\n", name, err.line, err.column, err.msg);
    assert_int_equal(rc, 0);
    sl_buf_release(&out);
    free(text);
    return root;
}

static void check_shape(const char *name, const struct toml_value *root)
{
    static const char *sections[] = {"agent",      "global_tags", "inputs",
                                     "processors", "aggregators", "outputs"};
    const struct toml_table *t = toml_as_table(root);
    assert_non_null(t);
    assert_true(toml_table_len(t) > 0);
    for (size_t i = 0; i < toml_table_len(t); i++) {
        const char *k = toml_table_key_at(t, i, NULL);
        bool known = false;
        for (size_t s = 0; s < sizeof(sections) / sizeof(*sections); s++)
            known |= !strcmp(k, sections[s]);
        if (!known) printf("%s: unexpected section %s\n", name, k);
        assert_true(known);
        const struct toml_table *sec = toml_as_table(toml_table_value_at(t, i));
        assert_non_null(sec);
        if (!strcmp(k, "agent") || !strcmp(k, "global_tags")) continue;
        for (size_t j = 0; j < toml_table_len(sec); j++) {
            const struct toml_array *plugins = toml_as_array(toml_table_value_at(sec, j));
            assert_non_null(plugins);
            assert_true(toml_array_is_table_array(plugins));
            for (size_t e = 0; e < toml_array_len(plugins); e++)
                assert_non_null(toml_as_table(toml_array_at(plugins, e)));
        }
    }
}

static void test_every_seed_block_parses(void **state)
{
    (void)state;
    char dir[1024];
    DIR *d = opendir(data_path(NULL, dir, sizeof(dir)));
    assert_non_null(d);
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        size_t l = strlen(e->d_name);
        if (l < 5 || strcmp(e->d_name + l - 5, ".conf") != 0) continue;
        struct toml_value *root = load(e->d_name, env_none);
        check_shape(e->d_name, root);
        toml_free(root);
        n++;
    }
    closedir(d);
    printf("parsed %d telegraf.conf blocks from the seeds\n", n);
    assert_int_equal(n, 31);
}

static void test_seed_values_and_lines(void **state)
{
    (void)state;
    struct toml_value *root = load("seed000_L0423.conf", env_none);
    const struct toml_table *t = toml_as_table(root);
    const struct toml_table *agent = toml_table_get_table(t, "agent");
    const char *s;
    assert_int_equal(toml_get_string(toml_table_get(agent, "interval"), &s, NULL), 0);
    assert_string_equal(s, "10s");
    assert_int_equal(toml_line(toml_table_get(agent, "interval")), 3);
    int64_t i;
    assert_int_equal(toml_get_int(toml_table_get(agent, "metric_buffer_limit"), &i), 0);
    assert_int_equal(i, 10000);
    const struct toml_table *inputs = toml_table_get_table(t, "inputs");
    /* plugins in file order */
    const char *order[] = {"cpu", "disk", "mem", "net", "system"};
    assert_int_equal(toml_table_len(inputs), 5);
    for (size_t k = 0; k < 5; k++)
        assert_string_equal(toml_table_key_at(inputs, k, NULL), order[k]);
    const struct toml_value *cpu = toml_array_at(toml_table_get_array(inputs, "cpu"), 0);
    assert_int_equal(toml_line(cpu), 23);
    bool b;
    assert_int_equal(toml_get_bool(toml_table_get(toml_as_table(cpu), "percpu"), &b), 0);
    assert_true(b);
    const struct toml_table *mem =
        toml_as_table(toml_array_at(toml_table_get_array(inputs, "mem"), 0));
    assert_non_null(mem);
    assert_int_equal(toml_table_len(mem), 0);
    toml_free(root);

    root = load("seed001_L0850.conf", env_none);
    t = toml_as_table(root);
    const struct toml_table *enm = toml_as_table(
        toml_array_at(toml_table_get_array(toml_table_get_table(t, "processors"), "enum"), 0));
    const struct toml_value *mv = toml_array_at(toml_table_get_array(enm, "mapping"), 0);
    assert_int_equal(toml_line(mv), 9);
    const struct toml_table *vm = toml_table_get_table(toml_as_table(mv), "value_mappings");
    assert_int_equal(toml_line(toml_table_value(vm)), 12);
    assert_int_equal(toml_get_int(toml_table_get(vm, "degraded"), &i), 0);
    assert_int_equal(i, 1);
    assert_int_equal(toml_line(toml_table_get(vm, "down")), 15);
    toml_free(root);

    root = load("seed000_L0563.conf", env_none);
    const struct toml_table *filter = toml_as_table(toml_array_at(
        toml_table_get_array(toml_table_get_table(toml_as_table(root), "processors"), "filter"),
        0));
    const struct toml_array *env =
        toml_table_get_array(toml_table_get_table(filter, "tagpass"), "environment");
    assert_int_equal(toml_array_len(env), 2);
    toml_free(root);
}

static void test_seed_env_tokens(void **state)
{
    (void)state;
    /* unset: "$INFLUX_TOKEN" stays as written (Telegraf does the same) */
    struct toml_value *root = load("seed001_L0686.conf", env_none);
    const struct toml_table *out = toml_as_table(toml_array_at(
        toml_table_get_array(toml_table_get_table(toml_as_table(root), "outputs"), "influxdb_v2"),
        0));
    const char *s;
    assert_int_equal(toml_get_string(toml_table_get(out, "token"), &s, NULL), 0);
    assert_string_equal(s, "$INFLUX_TOKEN");
    toml_free(root);

    root = load("seed001_L0686.conf", env_tokens);
    out = toml_as_table(toml_array_at(
        toml_table_get_array(toml_table_get_table(toml_as_table(root), "outputs"), "influxdb_v2"),
        0));
    assert_int_equal(toml_get_string(toml_table_get(out, "token"), &s, NULL), 0);
    assert_string_equal(s, "tok-123");
    toml_free(root);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_seed_block_parses),
        cmocka_unit_test(test_seed_values_and_lines),
        cmocka_unit_test(test_seed_env_tokens),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
