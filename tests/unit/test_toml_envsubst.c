/*
 * test_toml_envsubst.c — Telegraf-style environment substitution
 * (toml_envsubst): every expansion form, the "unset stays as written" rule,
 * $$ escapes, comments left alone, nesting, invalid templates, errors and
 * the output cap.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "common/buf.h"
#include "common/err.h"
#include "toml/toml.h"

static const char *env(const char *name, void *ctx)
{
    (void)ctx;
    static const char *vars[][2] = {
        {"HOST", "db1"},     {"EMPTY", ""},     {"PORT", "8086"}, {"_u1", "x"},
        {"DOLLAR", "$HOST"}, {"QUOTE", "a\"b"}, {"B", "bee"},
    };
    for (size_t i = 0; i < sizeof(vars) / sizeof(*vars); i++)
        if (!strcmp(name, vars[i][0])) return vars[i][1];
    return NULL;
}

/* Substitutes in and compares with want (NULL: expect failure rc). */
static void check(const char *in, const char *want)
{
    struct sl_buf out = SL_BUF_INIT;
    char msg[200];
    int rc = toml_envsubst_with(in, strlen(in), env, NULL, &out, msg, sizeof(msg));
    if (rc != 0) printf("input %s: rc %d %s\n", in, rc, msg);
    assert_int_equal(rc, 0);
    if (strcmp(out.ptr ? out.ptr : "", want) != 0) printf("input %s -> %s\n", in, out.ptr);
    assert_string_equal(out.ptr ? out.ptr : "", want);
    sl_buf_release(&out);
}

static void check_error(const char *in, const char *want_msg)
{
    struct sl_buf out = SL_BUF_INIT;
    char msg[200];
    int rc = toml_envsubst_with(in, strlen(in), env, NULL, &out, msg, sizeof(msg));
    assert_int_equal(rc, SL_EINVAL);
    if (!strstr(msg, want_msg)) printf("message: %s\n", msg);
    assert_non_null(strstr(msg, want_msg));
    sl_buf_release(&out);
}

static void test_plain_and_braced(void **state)
{
    (void)state;
    check("a = \"$HOST\"", "a = \"db1\"");
    check("a = \"${HOST}:${PORT}\"", "a = \"db1:8086\"");
    check("port = ${PORT}", "port = 8086");
    check("a = \"$HOST.local\"", "a = \"db1.local\"");
    check("a = \"$HOSTNAME_X\"", "a = \"$HOSTNAME_X\""); /* longest name, unset */
    check("$_u1$_u1", "xx");
    check("x = \"$EMPTY|${EMPTY}\"", "x = \"|\"");
    /* unset variables stay as written, like Telegraf */
    check("a = \"$NOPE\" b = \"${NOPE}\"", "a = \"$NOPE\" b = \"${NOPE}\"");
    check("", "");
    check("no dollars here", "no dollars here");
}

static void test_defaults_and_alternatives(void **state)
{
    (void)state;
    check("${NOPE:-def}", "def");
    check("${EMPTY:-def}", "def");
    check("${HOST:-def}", "db1");
    check("${NOPE-def}", "def");
    check("${EMPTY-def}", "");
    check("${HOST-def}", "db1");
    check("${HOST:+alt}", "alt");
    check("${EMPTY:+alt}", "");
    check("${NOPE:+alt}", "");
    check("${EMPTY+alt}", "alt");
    check("${NOPE+alt}", "");
    check("${NOPE:-}", "");
    check("${NOPE:-a b:c-d}", "a b:c-d");
    /* the word is substituted, nested braces count */
    check("${NOPE:-$HOST}", "db1");
    check("${NOPE:-${NOPE2:-${B}}}!", "bee!");
    check("${NOPE:-x}y}", "xy}");
    check("${EMPTY?must} ${HOST?must}", " db1");
}

static void test_required(void **state)
{
    (void)state;
    check_error("a = 1\nb = \"${NOPE:?set NOPE please}\"",
                "line 2: required variable NOPE is missing a value: set NOPE please");
    check_error("${EMPTY:?empty}", "required variable EMPTY is missing a value: empty");
    check_error("${NOPE?}", "required variable NOPE is missing a value");
    check("${EMPTY?unset only}", "");
    check("${HOST:?x}", "db1");
    /* the message is substituted too */
    check_error("${NOPE:?host is $HOST}", "missing a value: host is db1");
}

static void test_escapes_and_invalid(void **state)
{
    (void)state;
    check("price = \"$$5\"", "price = \"$5\"");
    check("$$HOST", "$HOST");
    check("$$$HOST", "$db1");
    check("${1} $1 $ ${", "${1} $1 $ ${");
    check("${HOST x}", "${HOST x}");
    check("${HOST:x}", "${HOST:x}");
    check("${NOPE:-unclosed", "${NOPE:-unclosed");
    check("${NOPE:-a\n}", "${NOPE:-a\n}");
    check("end$", "end$");
    /* an unclosed outer form is kept; the closed inner one is substituted */
    check("${NOPE:-${B}", "${NOPE:-bee");
    check("${NOPE:-a # } b", "${NOPE:-a # } b");
    /* values are inserted verbatim, never substituted again */
    check("${DOLLAR} $QUOTE", "$HOST a\"b");
}

static void test_comments_untouched(void **state)
{
    (void)state;
    check("a = 1 # ${NOPE:?boom} $HOST\nb = $PORT", "a = 1 # ${NOPE:?boom} $HOST\nb = 8086");
    check("# $HOST", "# $HOST");
    check("s = \"# $HOST\" # $HOST", "s = \"# db1\" # $HOST");
    check("s = '# $HOST' # $HOST", "s = '# db1' # $HOST");
    check("s = \"\"\"\n# $HOST\n\"\"\" # $HOST", "s = \"\"\"\n# db1\n\"\"\" # $HOST");
    check("s = '''\n# $HOST\n''' # $HOST", "s = '''\n# db1\n''' # $HOST");
    check("s = \"a\\\"# $HOST\" # $HOST", "s = \"a\\\"# db1\" # $HOST");
    /* an unterminated quote ends at the line end, as in Telegraf */
    check("s = \"abc\n# $HOST\n", "s = \"abc\n# $HOST\n");
}

static void test_output_cap_and_getenv(void **state)
{
    (void)state;
    struct sl_buf out;
    sl_buf_init(&out, 8);
    char msg[64];
    assert_int_equal(
        toml_envsubst_with("${HOST}${HOST}${HOST}", 21, env, NULL, &out, msg, sizeof(msg)),
        SL_ETOOBIG);
    sl_buf_release(&out);

    setenv("SL_TOML_TEST_VAR", "from-env", 1);
    unsetenv("SL_TOML_TEST_UNSET");
    sl_buf_init(&out, 0);
    const char *in = "a = \"$SL_TOML_TEST_VAR\" b = \"${SL_TOML_TEST_UNSET:-dflt}\"";
    assert_int_equal(toml_envsubst(in, strlen(in), &out, msg, sizeof(msg)), 0);
    assert_string_equal(out.ptr, "a = \"from-env\" b = \"dflt\"");
    sl_buf_release(&out);
}

/* A line full of unclosed "${A:-" must not make the substitution quadratic. */
static void test_unclosed_forms_are_linear(void **state)
{
    (void)state;
    struct sl_buf in = SL_BUF_INIT, out = SL_BUF_INIT;
    for (int i = 0; i < 300000; i++)
        sl_buf_adds(&in, "${NOPE:-");
    sl_buf_adds(&in, "${B}");
    struct timespec t0, t1;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t0);
    char msg[64];
    assert_int_equal(toml_envsubst_with(in.ptr, in.len, env, NULL, &out, msg, sizeof(msg)), 0);
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t1);
    double took = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
    assert_int_equal(out.len, in.len - 4 + 3);
    printf("%zu bytes of unclosed ${...:- in %.3f s CPU\n", in.len, took);
    assert_true(took < 5.0);
    sl_buf_release(&in);
    sl_buf_release(&out);
}

static void test_then_parse(void **state)
{
    (void)state;
    const char *in = "[agent]\n  interval = \"${INTERVAL:-10s}\" # ${NOPE:?unused}\n"
                     "  metric_batch_size = ${PORT}\n";
    struct sl_buf out = SL_BUF_INIT;
    char msg[64];
    assert_int_equal(toml_envsubst_with(in, strlen(in), env, NULL, &out, msg, sizeof(msg)), 0);
    struct toml_value *root;
    struct toml_error err;
    assert_int_equal(toml_parse(out.ptr, out.len, &root, &err), 0);
    const struct toml_table *agent = toml_table_get_table(toml_as_table(root), "agent");
    const char *s;
    int64_t i;
    assert_int_equal(toml_get_string(toml_table_get(agent, "interval"), &s, NULL), 0);
    assert_string_equal(s, "10s");
    assert_int_equal(toml_get_int(toml_table_get(agent, "metric_batch_size"), &i), 0);
    assert_int_equal(i, 8086);
    assert_int_equal(toml_line(toml_table_get(agent, "metric_batch_size")), 3);
    toml_free(root);
    sl_buf_release(&out);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_plain_and_braced),
        cmocka_unit_test(test_defaults_and_alternatives),
        cmocka_unit_test(test_required),
        cmocka_unit_test(test_escapes_and_invalid),
        cmocka_unit_test(test_comments_untouched),
        cmocka_unit_test(test_output_cap_and_getenv),
        cmocka_unit_test(test_unclosed_forms_are_linear),
        cmocka_unit_test(test_then_parse),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
