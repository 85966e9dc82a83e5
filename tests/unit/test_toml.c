/*
 * test_toml.c — the TOML DOM API and the parser's behaviour beyond the
 * conformance suite: typed getters, definition order, line/column of keys
 * and tables, error positions and messages, and hostile input (nesting,
 * size limits, big tables and arrays in linear time, truncation, invalid
 * UTF-8, allocation failures).
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
#include "common/mem.h"
#include "toml/toml.h"

static struct toml_value *parse_ok(const char *s)
{
    struct toml_value *root = NULL;
    struct toml_error err;
    int rc = toml_parse(s, strlen(s), &root, &err);
    if (rc != 0) printf("unexpected error %d:%d: %s\n", err.line, err.column, err.msg);
    assert_int_equal(rc, 0);
    assert_non_null(root);
    return root;
}

/* Expects a failure with rc at line:col whose message contains msg. */
static void parse_fail(const char *s, size_t len, int rc, int line, int col, const char *msg)
{
    struct toml_value *root = (struct toml_value *)1;
    struct toml_error err;
    int got = toml_parse(s, len, &root, &err);
    if (got != rc || err.line != line || err.column != col || !strstr(err.msg, msg))
        printf("input %.40s: rc %d at %d:%d: %s\n", s, got, err.line, err.column, err.msg);
    assert_int_equal(got, rc);
    assert_null(root);
    assert_int_equal(err.line, line);
    assert_int_equal(err.column, col);
    assert_non_null(strstr(err.msg, msg));
}

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts); /* the machine is shared */
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void test_values(void **state)
{
    (void)state;
    struct toml_value *root = parse_ok("s = \"h\\u00e9\\n\"\n"
                                       "lit = 'C:\\path'\n"
                                       "i = -9223372036854775808\n"
                                       "h = 0xDEAD_beef\n"
                                       "f = 6.626e-34\n"
                                       "n = -inf\n"
                                       "b = true\n"
                                       "odt = 1979-05-27 07:32:00.123456789999-07:30\n"
                                       "ldt = 1979-05-27T07:32:00\n"
                                       "ld = 1979-05-27\n"
                                       "lt = 00:32:00.5\n"
                                       "arr = [1, 'two', [3.0], {x = 1}]\n"
                                       "nul = \"a\\u0000b\"\n");
    const struct toml_table *t = toml_as_table(root);
    assert_int_equal(toml_type(root), TOML_TABLE);
    assert_int_equal(toml_table_len(t), 13);

    const char *s;
    size_t n;
    assert_int_equal(toml_get_string(toml_table_get(t, "s"), &s, &n), 0);
    assert_string_equal(s, "h\xc3\xa9\n");
    assert_int_equal(n, 4);
    assert_int_equal(toml_get_string(toml_table_get(t, "lit"), &s, NULL), 0);
    assert_string_equal(s, "C:\\path");
    assert_int_equal(toml_get_string(toml_table_get(t, "nul"), &s, &n), 0);
    assert_int_equal(n, 3);
    assert_memory_equal(s, "a\0b", 3);

    int64_t i;
    assert_int_equal(toml_get_int(toml_table_get(t, "i"), &i), 0);
    assert_true(i == INT64_MIN);
    assert_int_equal(toml_get_int(toml_table_get(t, "h"), &i), 0);
    assert_int_equal(i, 0xdeadbeef);
    double d;
    assert_int_equal(toml_get_float(toml_table_get(t, "f"), &d), 0);
    assert_true(d == 6.626e-34);
    assert_int_equal(toml_get_float(toml_table_get(t, "n"), &d), 0);
    assert_true(d < 0 && d * 0 != 0);
    /* get_number widens integers, get_float does not */
    assert_int_equal(toml_get_number(toml_table_get(t, "h"), &d), 0);
    assert_true(d == 3735928559.0);
    assert_int_equal(toml_get_float(toml_table_get(t, "h"), &d), SL_EINVAL);
    bool b = false;
    assert_int_equal(toml_get_bool(toml_table_get(t, "b"), &b), 0);
    assert_true(b);

    /* type mismatches leave the output alone */
    i = 42;
    assert_int_equal(toml_get_int(toml_table_get(t, "s"), &i), SL_EINVAL);
    assert_int_equal(i, 42);
    assert_int_equal(toml_get_string(toml_table_get(t, "missing"), &s, NULL), SL_EINVAL);
    assert_null(toml_as_table(toml_table_get(t, "s")));
    assert_null(toml_as_array(toml_table_get(t, "s")));

    struct toml_datetime dt;
    const struct toml_value *odt = toml_table_get(t, "odt");
    assert_int_equal(toml_type(odt), TOML_DATETIME);
    assert_int_equal(toml_get_datetime(odt, &dt), 0);
    assert_int_equal(dt.year, 1979);
    assert_int_equal(dt.minute, 32);
    assert_int_equal(dt.nanosecond, 123456789); /* truncated, not rounded */
    assert_int_equal(dt.offset_minutes, -450);
    char buf[64];
    assert_true(toml_format_datetime(odt, buf, sizeof(buf)) > 0);
    assert_string_equal(buf, "1979-05-27T07:32:00.123456789-07:30");
    assert_true(toml_format_datetime(toml_table_get(t, "ldt"), buf, sizeof(buf)) > 0);
    assert_string_equal(buf, "1979-05-27T07:32:00");
    assert_true(toml_format_datetime(toml_table_get(t, "ld"), buf, sizeof(buf)) > 0);
    assert_string_equal(buf, "1979-05-27");
    assert_true(toml_format_datetime(toml_table_get(t, "lt"), buf, sizeof(buf)) > 0);
    assert_string_equal(buf, "00:32:00.5");
    assert_int_equal(toml_type(toml_table_get(t, "lt")), TOML_TIME_LOCAL);
    assert_int_equal(toml_format_datetime(toml_table_get(t, "s"), buf, sizeof(buf)), SL_EINVAL);
    assert_int_equal(toml_format_datetime(odt, buf, 10), SL_ETOOBIG);

    const struct toml_array *arr = toml_table_get_array(t, "arr");
    assert_int_equal(toml_array_len(arr), 4);
    assert_false(toml_array_is_table_array(arr));
    assert_int_equal(toml_type(toml_array_at(arr, 1)), TOML_STRING);
    assert_int_equal(toml_type(toml_array_at(arr, 2)), TOML_ARRAY);
    assert_int_equal(toml_type(toml_array_at(arr, 3)), TOML_TABLE);
    assert_null(toml_array_at(arr, 4));
    assert_string_equal(toml_type_name(TOML_DATETIME_LOCAL), "datetime-local");
    assert_string_equal(toml_type_name(TOML_BOOL), "bool");
    toml_free(root);
}

static void test_null_safety(void **state)
{
    (void)state;
    toml_free(NULL);
    assert_null(toml_table_get(NULL, "x"));
    assert_int_equal(toml_table_len(NULL), 0);
    assert_int_equal(toml_array_len(NULL), 0);
    assert_null(toml_array_at(NULL, 0));
    assert_null(toml_as_table(NULL));
    assert_int_equal(toml_line(NULL), 0);
    struct toml_value *root = (struct toml_value *)1;
    assert_int_equal(toml_parse(NULL, 0, &root, NULL), 0); /* empty document */
    assert_int_equal(toml_table_len(toml_as_table(root)), 0);
    toml_free(root);
    assert_int_equal(toml_parse(NULL, 5, &root, NULL), SL_EINVAL);
    assert_int_equal(toml_parse("a = ", 4, &root, NULL), SL_EINVAL); /* err may be NULL */
    assert_null(root);
}

static void test_order_and_lines(void **state)
{
    (void)state;
    const char *doc = "zeta = 1\n"            /* 1 */
                      "alpha = 2\n"           /* 2 */
                      "\n"                    /* 3 */
                      "[servers.alpha]\n"     /* 4 */
                      "  ip = \"10.0.0.1\"\n" /* 5 */
                      "  dc.name = 'x'\n"     /* 6 */
                      "[[inputs.cpu]]\n"      /* 7 */
                      "  percpu = true\n"     /* 8 */
                      "[[inputs.cpu]]\n"      /* 9 */
                      "  multi = \"\"\"\n"    /* 10 */
                      "line\n"                /* 11 */
                      "\"\"\"\n"              /* 12 */
                      "  after = [\n"         /* 13 */
                      "    1,\n"              /* 14 */
                      "    2 ]\n"             /* 15 */
                      "[servers]\n"           /* 16 */
                      "\tlast = 1\n";         /* 17 */
    struct toml_value *root = parse_ok(doc);
    const struct toml_table *t = toml_as_table(root);
    const char *keys[] = {"zeta", "alpha", "servers", "inputs"};
    assert_int_equal(toml_table_len(t), 4);
    for (size_t i = 0; i < 4; i++)
        assert_string_equal(toml_table_key_at(t, i, NULL), keys[i]);
    assert_null(toml_table_key_at(t, 4, NULL));
    assert_int_equal(toml_line(toml_table_get(t, "alpha")), 2);
    assert_int_equal(toml_column(toml_table_get(t, "alpha")), 1);

    const struct toml_value *servers = toml_table_get(t, "servers");
    /* created implicitly at line 4, then defined explicitly at line 16 */
    assert_int_equal(toml_line(servers), 16);
    const struct toml_table *alpha = toml_table_get_table(toml_as_table(servers), "alpha");
    assert_int_equal(toml_line(toml_table_value(alpha)), 4);
    assert_int_equal(toml_line(toml_table_get(alpha, "ip")), 5);
    assert_int_equal(toml_column(toml_table_get(alpha, "ip")), 3);
    const struct toml_value *dc = toml_table_get(alpha, "dc");
    assert_int_equal(toml_line(dc), 6);
    assert_int_equal(toml_line(toml_table_get(toml_as_table(dc), "name")), 6);
    assert_int_equal(toml_column(toml_table_get(toml_as_table(dc), "name")), 6);
    assert_int_equal(toml_line(toml_table_get(toml_as_table(servers), "last")), 17);
    assert_int_equal(toml_column(toml_table_get(toml_as_table(servers), "last")), 2);

    const struct toml_array *cpu = toml_table_get_array(toml_table_get_table(t, "inputs"), "cpu");
    assert_true(toml_array_is_table_array(cpu));
    assert_int_equal(toml_array_len(cpu), 2);
    assert_int_equal(toml_line(toml_array_at(cpu, 0)), 7);
    assert_int_equal(toml_line(toml_array_at(cpu, 1)), 9);
    const struct toml_table *c1 = toml_as_table(toml_array_at(cpu, 1));
    assert_int_equal(toml_line(toml_table_get(c1, "after")), 13);
    const struct toml_array *after = toml_table_get_array(c1, "after");
    assert_int_equal(toml_line(toml_array_at(after, 0)), 14);
    assert_int_equal(toml_line(toml_array_at(after, 1)), 15);
    assert_int_equal(toml_column(toml_array_at(after, 1)), 5);
    toml_free(root);
}

static void test_error_positions(void **state)
{
    (void)state;
    const char *s;
    s = "a = 1\nb = \n";
    parse_fail(s, strlen(s), SL_EINVAL, 2, 5, "missing value");
    s = "a = 1\n  a = 2\n";
    parse_fail(s, strlen(s), SL_EINVAL, 2, 3, "duplicate key 'a' (first defined at line 1)");
    s = "[t]\nx=1\n\n[t]\n";
    parse_fail(s, strlen(s), SL_EINVAL, 4, 1, "table 't' is already defined (line 1)");
    s = "a = \"ok\"\nb = \"bad\\q\"\n";
    parse_fail(s, strlen(s), SL_EINVAL, 2, 9, "invalid escape sequence '\\q'");
    s = "x = 1 2\n";
    parse_fail(s, strlen(s), SL_EINVAL, 1, 7, "expected a new line");
    s = "x = [1 2]\n";
    parse_fail(s, strlen(s), SL_EINVAL, 1, 8, "expected ',' or ']'");
    s = "x = {a = 1,\n b = 2}\n";
    parse_fail(s, strlen(s), SL_EINVAL, 1, 12, "newline in inline table");
    s = "x = 1\ny = \"\xc3\xa9\xff\"\n";
    parse_fail(s, strlen(s), SL_EINVAL, 2, 8, "invalid UTF-8");
    s = "x = \"a\x01\"";
    parse_fail(s, strlen(s), SL_EINVAL, 1, 7, "control character 0x01");
    s = "x = 1 # bad\x7f comment";
    parse_fail(s, strlen(s), SL_EINVAL, 1, 12, "control character 0x7f in comment");
    s = "x = 1\r\ny = 2\r";
    parse_fail(s, strlen(s), SL_EINVAL, 2, 6, "expected a new line");
    s = "x = \"unterminated\n";
    parse_fail(s, strlen(s), SL_EINVAL, 1, 18, "newline in a single-line string");
    s = "x = 99999999999999999999\n";
    parse_fail(s, strlen(s), SL_ERANGE, 1, 5, "integer out of range");
    s = "x = 0x8000000000000000\n";
    parse_fail(s, strlen(s), SL_ERANGE, 1, 5, "integer out of range");
    s = "x = 1e400\n";
    parse_fail(s, strlen(s), SL_ERANGE, 1, 5, "float out of range");
    s = "x = 2023-02-29\n";
    parse_fail(s, strlen(s), SL_EINVAL, 1, 5, "date out of range");
    s = "a = {b = 1}\n[a.c]\n";
    parse_fail(s, strlen(s), SL_EINVAL, 2, 2, "cannot extend inline table 'a'");
    s = "a = [1]\n[[a]]\n";
    parse_fail(s, strlen(s), SL_EINVAL, 2, 1, "already an inline array");
    s = "[a.b]\n[a]\nb.c = 1\n";
    parse_fail(s, strlen(s), SL_EINVAL, 3, 1, "a table defined elsewhere");
    s = "a.b = 1\n[a]\n";
    parse_fail(s, strlen(s), SL_EINVAL, 2, 1, "defined by dotted keys");
    s = "\xef\xbb\xbf"
        "a = 1\n\xef\xbb\xbf";
    parse_fail(s, strlen(s), SL_EINVAL, 2, 1, "invalid character");
}

static void test_nesting_limits(void **state)
{
    (void)state;
    struct sl_buf b = SL_BUF_INIT;
    /* arrays: TOML_MAX_DEPTH levels below the root table are fine */
    for (int depth = TOML_MAX_DEPTH - 1; depth <= TOML_MAX_DEPTH + 1; depth++) {
        sl_buf_reset(&b);
        sl_buf_adds(&b, "a = ");
        for (int i = 0; i < depth; i++)
            sl_buf_addc(&b, '[');
        for (int i = 0; i < depth; i++)
            sl_buf_addc(&b, ']');
        struct toml_value *root;
        struct toml_error err;
        int rc = toml_parse(b.ptr, b.len, &root, &err);
        if (depth <= TOML_MAX_DEPTH) {
            assert_int_equal(rc, 0);
            toml_free(root);
        } else {
            assert_int_equal(rc, SL_ETOOBIG);
            assert_non_null(strstr(err.msg, "nesting deeper"));
        }
    }
    /* a million '[' fails fast without exhausting the stack */
    sl_buf_reset(&b);
    sl_buf_adds(&b, "a = ");
    for (int i = 0; i < 1000000; i++)
        sl_buf_addc(&b, '[');
    struct toml_value *root;
    assert_int_equal(toml_parse(b.ptr, b.len, &root, NULL), SL_ETOOBIG);
    sl_buf_reset(&b);
    sl_buf_adds(&b, "a = ");
    for (int i = 0; i < 100000; i++)
        sl_buf_adds(&b, "{b=");
    assert_int_equal(toml_parse(b.ptr, b.len, &root, NULL), SL_ETOOBIG);
    /* dotted keys and headers count levels too */
    sl_buf_reset(&b);
    sl_buf_adds(&b, "[a");
    for (int i = 0; i < 5000; i++)
        sl_buf_adds(&b, ".a");
    sl_buf_adds(&b, "]\n");
    assert_int_equal(toml_parse(b.ptr, b.len, &root, NULL), SL_ETOOBIG);
    sl_buf_reset(&b);
    sl_buf_adds(&b, "a");
    for (int i = 0; i < 5000; i++)
        sl_buf_adds(&b, ".a");
    sl_buf_adds(&b, " = 1\n");
    assert_int_equal(toml_parse(b.ptr, b.len, &root, NULL), SL_ETOOBIG);
    sl_buf_release(&b);
}

static void test_input_limit(void **state)
{
    (void)state;
    size_t len = TOML_MAX_INPUT + 1;
    char *big = calloc(1, len); /* untouched zero pages */
    assert_non_null(big);
    struct toml_value *root = (struct toml_value *)1;
    struct toml_error err;
    assert_int_equal(toml_parse(big, len, &root, &err), SL_ETOOBIG);
    assert_null(root);
    assert_int_equal(err.line, 1);
    assert_non_null(strstr(err.msg, "input larger than"));
    free(big);
}

static void test_big_documents_are_linear(void **state)
{
    (void)state;
    struct sl_buf b = SL_BUF_INIT;
    const int keys = 200000;
    for (int i = 0; i < keys; i++)
        sl_buf_addf(&b, "key_%d = %d\n", i, i);
    for (int i = 0; i < 50000; i++)
        sl_buf_addf(&b, "[[aot]]\nv = %d\n", i);
    sl_buf_adds(&b, "[arr]\nbig = [");
    for (int i = 0; i < 500000; i++)
        sl_buf_adds(&b, "1,");
    sl_buf_adds(&b, "]\n");
    double t0 = now();
    struct toml_value *root = parse_ok(b.ptr);
    double took = now() - t0;
    const struct toml_table *t = toml_as_table(root);
    assert_int_equal(toml_table_len(t), keys + 2);
    int64_t v;
    for (int i = 0; i < keys; i += 997) {
        char k[32];
        snprintf(k, sizeof(k), "key_%d", i);
        assert_int_equal(toml_get_int(toml_table_get(t, k), &v), 0);
        assert_int_equal(v, i);
        assert_int_equal(toml_line(toml_table_get(t, k)), i + 1);
    }
    assert_null(toml_table_get(t, "key_x"));
    assert_int_equal(toml_array_len(toml_table_get_array(t, "aot")), 50000);
    assert_int_equal(toml_array_len(toml_table_get_array(toml_table_get_table(t, "arr"), "big")),
                     500000);
    printf("parsed %zu bytes (200k keys, 50k [[aot]], 500k-element array) in %.3f s CPU\n", b.len,
           took);
    /* quadratic behaviour would take minutes; linear takes well under a second */
    assert_true(took < 10.0);
    toml_free(root);
    sl_buf_release(&b);
}

static void test_truncation_never_crashes(void **state)
{
    (void)state;
    const char *doc = "# c\n[a.b]\nx = \"s\\u00e9\" # c\ny = '''\nml\n'''\nz = [1, 2.5e3, {q = "
                      "1979-05-27T07:32:00Z}]\n[[c]]\nd = 0x1f\n";
    size_t n = strlen(doc);
    int ok = 0;
    for (size_t len = 0; len <= n; len++) {
        char *copy = malloc(len ? len : 1);
        memcpy(copy, doc, len); /* exact length: reading past it is an ASan error */
        struct toml_value *root;
        struct toml_error err;
        int rc = toml_parse(copy, len, &root, &err);
        if (rc == 0) {
            ok++;
            toml_free(root);
        } else {
            assert_true(err.line >= 1 && err.column >= 1);
        }
        free(copy);
    }
    assert_true(ok > 3);
}

static void test_allocation_failures(void **state)
{
    (void)state;
    const char *doc = "a = 1\n[t]\nx = [1, 2, {y = 'z'}]\n[[u]]\nk = \"v\\n\"\n";
    int failures = 0;
    for (long n = 0;; n++) {
        sl_mem_fail_after(n, 1);
        struct toml_value *root = NULL;
        struct toml_error err;
        int rc = toml_parse(doc, strlen(doc), &root, &err);
        sl_mem_fail_after(-1, 0);
        if (rc == 0) {
            toml_free(root);
            break;
        }
        assert_true(rc == SL_ENOMEM || rc == SL_ETOOBIG);
        assert_null(root);
        failures++;
        assert_true(n < 1000);
    }
    assert_true(failures > 0);
}

static void test_keys_with_nul_and_quotes(void **state)
{
    (void)state;
    struct toml_value *root = parse_ok("\"a\\u0000b\" = 1\n'a.b' = 2\n\"\" = 3\na.b = 4\n");
    const struct toml_table *t = toml_as_table(root);
    int64_t v;
    assert_int_equal(toml_get_int(toml_table_getn(t, "a\0b", 3), &v), 0);
    assert_int_equal(v, 1);
    assert_int_equal(toml_get_int(toml_table_get(t, "a.b"), &v), 0);
    assert_int_equal(v, 2);
    assert_int_equal(toml_get_int(toml_table_get(t, ""), &v), 0);
    assert_int_equal(v, 3);
    assert_int_equal(toml_get_int(toml_table_get(toml_table_get_table(t, "a"), "b"), &v), 0);
    assert_int_equal(v, 4);
    size_t kl;
    assert_non_null(toml_table_key_at(t, 0, &kl));
    assert_int_equal(kl, 3);
    toml_free(root);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_values),
        cmocka_unit_test(test_null_safety),
        cmocka_unit_test(test_order_and_lines),
        cmocka_unit_test(test_error_positions),
        cmocka_unit_test(test_nesting_limits),
        cmocka_unit_test(test_input_limit),
        cmocka_unit_test(test_big_documents_are_linear),
        cmocka_unit_test(test_truncation_never_crashes),
        cmocka_unit_test(test_allocation_failures),
        cmocka_unit_test(test_keys_with_nul_and_quotes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
