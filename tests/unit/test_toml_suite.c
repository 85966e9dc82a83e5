/*
 * test_toml_suite.c — runs the toml-test conformance suite (TOML 1.0 set)
 * against our parser.
 *
 * The suite lives in $SLUICE_SHARED/testdata/toml-test (or ../shared/... from
 * the repository root). tests/files-toml-1.0.0 lists the files of the 1.0
 * set. Every valid/X.toml must parse, and our DOM, converted to toml-test's
 * tagged JSON ({"type": T, "value": "..."} leaves), must equal valid/X.json
 * semantically: same keys and array order; strings byte for byte; integers
 * by value; floats numerically (inf and nan by sign/kind, -0 vs 0 by sign);
 * datetimes after normalising separators, case, trailing fraction zeros and
 * "+00:00" vs "Z". Every invalid/X.toml must be rejected. The test fails on
 * the first mismatch count > 0 and prints every failing case and the counts.
 */
#include <ctype.h>
#include <jansson.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "toml/toml.h"

/* jansson cannot hold NUL inside object keys; both sides map NUL to U+FDD0
 * (a noncharacter that appears in no test) before building objects. */
#define NUL_STANDIN "\xef\xb7\x90"

static char *read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    size_t cap = 4096, n = 0;
    char *buf = malloc(cap);
    for (;;) {
        if (n + 4096 > cap) {
            cap *= 2;
            buf = realloc(buf, cap);
        }
        size_t r = fread(buf + n, 1, cap - n - 1, f);
        if (r == 0) break;
        n += r;
    }
    fclose(f);
    buf[n] = '\0';
    *len = n;
    return buf;
}

static json_t *to_json(const struct toml_value *v);

/* A copy of s[0..n) with NUL bytes replaced by NUL_STANDIN; *outlen set. */
static char *map_nul(const char *s, size_t n, size_t *outlen)
{
    char *d = malloc(n * 3 + 1);
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '\0') {
            memcpy(d + k, NUL_STANDIN, 3);
            k += 3;
        } else {
            d[k++] = s[i];
        }
    }
    d[k] = '\0';
    *outlen = k;
    return d;
}

static json_t *leaf(const char *type, const char *s, size_t n)
{
    size_t m;
    char *c = map_nul(s, n, &m);
    json_t *o = json_object();
    json_object_set_new(o, "type", json_string(type));
    json_object_set_new(o, "value", json_stringn(c, m));
    free(c);
    return o;
}

static json_t *to_json(const struct toml_value *v)
{
    char buf[64];
    switch (toml_type(v)) {
    case TOML_TABLE: {
        const struct toml_table *t = toml_as_table(v);
        json_t *o = json_object();
        for (size_t i = 0; i < toml_table_len(t); i++) {
            size_t kl;
            const char *k = toml_table_key_at(t, i, &kl);
            size_t n;
            char *key = map_nul(k, kl, &n);
            json_object_setn_new(o, key, n, to_json(toml_table_value_at(t, i)));
            free(key);
        }
        return o;
    }
    case TOML_ARRAY: {
        const struct toml_array *a = toml_as_array(v);
        json_t *arr = json_array();
        for (size_t i = 0; i < toml_array_len(a); i++)
            json_array_append_new(arr, to_json(toml_array_at(a, i)));
        return arr;
    }
    case TOML_STRING: {
        const char *s;
        size_t n;
        toml_get_string(v, &s, &n);
        return leaf("string", s, n);
    }
    case TOML_INTEGER: {
        int64_t i;
        toml_get_int(v, &i);
        snprintf(buf, sizeof(buf), "%lld", (long long)i);
        return leaf("integer", buf, strlen(buf));
    }
    case TOML_FLOAT: {
        double d;
        toml_get_float(v, &d);
        if (isnan(d))
            snprintf(buf, sizeof(buf), "nan");
        else if (isinf(d))
            snprintf(buf, sizeof(buf), "%sinf", d < 0 ? "-" : "");
        else
            snprintf(buf, sizeof(buf), "%.17g", d);
        return leaf("float", buf, strlen(buf));
    }
    case TOML_BOOL: {
        bool b;
        toml_get_bool(v, &b);
        return leaf("bool", b ? "true" : "false", b ? 4 : 5);
    }
    default: {
        int n = toml_format_datetime(v, buf, sizeof(buf));
        return leaf(toml_type_name(toml_type(v)), buf, n > 0 ? (size_t)n : 0);
    }
    }
}

/* Canonical datetime text: 'T' separator, 'Z' for zero offsets, fraction
 * without trailing zeros, truncated to nanoseconds. */
static void norm_datetime(const char *s, char *out, size_t cap)
{
    size_t n = 0;
    for (size_t i = 0; s[i] && n + 8 < cap; i++) {
        char c = s[i];
        if ((c == ' ' || c == 't') && i == 10) c = 'T';
        if (c == 'z') c = 'Z';
        if (c == '.') {
            size_t j = i + 1, d = 0;
            char frac[16];
            while (isdigit((unsigned char)s[j])) {
                if (d < 9) frac[d++] = s[j];
                j++;
            }
            while (d > 0 && frac[d - 1] == '0')
                d--;
            if (d) {
                out[n++] = '.';
                memcpy(out + n, frac, d);
                n += d;
            }
            i = j - 1;
            continue;
        }
        if ((c == '+' || c == '-') && i >= 19 && (!strcmp(s + i + 1, "00:00"))) {
            out[n++] = 'Z';
            break;
        }
        out[n++] = c;
    }
    out[n] = '\0';
}

static bool same_float(const char *a, const char *b)
{
    double x = strtod(a, NULL), y = strtod(b, NULL);
    if (isnan(x) || isnan(y)) return isnan(x) && isnan(y);
    return x == y && signbit(x) == signbit(y);
}

static bool is_leaf(json_t *j)
{
    return json_is_object(j) && json_is_string(json_object_get(j, "type")) &&
           json_is_string(json_object_get(j, "value")) && json_object_size(j) == 2;
}

static bool same(json_t *exp, json_t *got, char *why, size_t cap)
{
    if (is_leaf(exp)) {
        if (!is_leaf(got)) {
            snprintf(why, cap, "expected a value");
            return false;
        }
        const char *et = json_string_value(json_object_get(exp, "type"));
        const char *gt = json_string_value(json_object_get(got, "type"));
        json_t *ev = json_object_get(exp, "value"), *gv = json_object_get(got, "value");
        const char *es = json_string_value(ev), *gs = json_string_value(gv);
        if (strcmp(et, gt) != 0) {
            snprintf(why, cap, "type %s, expected %s", gt, et);
            return false;
        }
        bool ok;
        if (!strcmp(et, "string")) {
            ok = json_string_length(ev) == json_string_length(gv) &&
                 memcmp(es, gs, json_string_length(ev)) == 0;
        } else if (!strcmp(et, "integer")) {
            ok = strtoll(es, NULL, 10) == strtoll(gs, NULL, 10);
        } else if (!strcmp(et, "float")) {
            ok = same_float(es, gs);
        } else if (!strcmp(et, "bool")) {
            ok = !strcmp(es, gs);
        } else {
            char a[64], b[64];
            norm_datetime(es, a, sizeof(a));
            norm_datetime(gs, b, sizeof(b));
            ok = !strcmp(a, b);
        }
        if (!ok) snprintf(why, cap, "%s value '%.60s', expected '%.60s'", et, gs, es);
        return ok;
    }
    if (json_is_object(exp)) {
        if (!json_is_object(got) || is_leaf(got)) {
            snprintf(why, cap, "expected a table");
            return false;
        }
        if (json_object_size(exp) != json_object_size(got)) {
            snprintf(why, cap, "table has %zu keys, expected %zu", json_object_size(got),
                     json_object_size(exp));
            return false;
        }
        const char *k;
        size_t kl;
        json_t *ev;
        json_object_keylen_foreach(exp, k, kl, ev)
        {
            json_t *gv = json_object_getn(got, k, kl);
            if (!gv) {
                snprintf(why, cap, "missing key '%.*s'", (int)kl, k);
                return false;
            }
            if (!same(ev, gv, why, cap)) return false;
        }
        return true;
    }
    if (json_is_array(exp)) {
        if (!json_is_array(got) || json_array_size(exp) != json_array_size(got)) {
            snprintf(why, cap, "array length differs");
            return false;
        }
        for (size_t i = 0; i < json_array_size(exp); i++)
            if (!same(json_array_get(exp, i), json_array_get(got, i), why, cap)) return false;
        return true;
    }
    snprintf(why, cap, "unexpected JSON in expected file");
    return false;
}

/* Replaces every "\u0000" escape in JSON text by the stand-in's escape. */
static void map_nul_escapes(char *s)
{
    for (char *p = s; (p = strstr(p, "\\u0000"));) {
        /* an even number of backslashes before means the \ is itself escaped */
        size_t bs = 0;
        for (char *q = p; q > s && q[-1] == '\\'; q--)
            bs++;
        if (bs % 2 == 0) memcpy(p, "\\ufdd0", 6);
        p += 6;
    }
}

static const char *suite_dir(char *buf, size_t cap)
{
    const char *shared = getenv("SLUICE_SHARED");
    snprintf(buf, cap, "%s/testdata/toml-test/tests", shared && *shared ? shared : "../shared");
    return buf;
}

static void test_suite_1_0(void **state)
{
    (void)state;
    char dir[1024], path[2048];
    suite_dir(dir, sizeof(dir));
    snprintf(path, sizeof(path), "%s/files-toml-1.0.0", dir);
    size_t listlen;
    char *list = read_file(path, &listlen);
    if (!list) fprintf(stderr, "cannot read %s\n", path);
    assert_non_null(list);

    int valid = 0, valid_ok = 0, invalid = 0, invalid_ok = 0;
    for (char *line = strtok(list, "\n"); line; line = strtok(NULL, "\n")) {
        size_t ll = strlen(line);
        if (ll < 5 || strcmp(line + ll - 5, ".toml") != 0) continue;
        bool is_valid = strncmp(line, "valid/", 6) == 0;
        snprintf(path, sizeof(path), "%s/%s", dir, line);
        size_t len;
        char *text = read_file(path, &len);
        assert_non_null(text);
        struct toml_value *root = NULL;
        struct toml_error err;
        int rc = toml_parse(text, len, &root, &err);
        if (!is_valid) {
            invalid++;
            if (rc < 0) {
                assert_null(root);
                assert_true(err.line >= 1 && err.column >= 1 && err.msg[0]);
                invalid_ok++;
            } else {
                printf("FAIL %s: accepted\n", line);
            }
            toml_free(root);
            free(text);
            continue;
        }
        valid++;
        if (rc < 0) {
            printf("FAIL %s: %d:%d: %s\n", line, err.line, err.column, err.msg);
            free(text);
            continue;
        }
        snprintf(path, sizeof(path), "%s/%.*s.json", dir, (int)(ll - 5), line);
        size_t jlen;
        char *jtext = read_file(path, &jlen);
        assert_non_null(jtext);
        map_nul_escapes(jtext);
        json_error_t jerr;
        json_t *exp = json_loads(jtext, JSON_ALLOW_NUL, &jerr);
        if (!exp) fprintf(stderr, "%s: %s\n", path, jerr.text);
        assert_non_null(exp);
        json_t *got = to_json(root);
        char why[256] = "";
        if (same(exp, got, why, sizeof(why)))
            valid_ok++;
        else
            printf("FAIL %s: %s\n", line, why);
        json_decref(exp);
        json_decref(got);
        toml_free(root);
        free(jtext);
        free(text);
    }
    free(list);
    printf("toml-test 1.0: valid %d/%d passed, invalid %d/%d rejected\n", valid_ok, valid,
           invalid_ok, invalid);
    assert_true(valid > 200);
    assert_true(invalid > 400);
    assert_int_equal(valid_ok, valid);
    assert_int_equal(invalid_ok, invalid);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_suite_1_0),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
