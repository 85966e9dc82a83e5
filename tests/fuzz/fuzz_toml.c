/*
 * fuzz_toml.c — libFuzzer target for the TOML parser and the environment
 * substitution. Each input is parsed as is; on success the whole DOM is
 * walked and checked (every key found again by lookup with its own value,
 * unique keys, lines within the input, datetimes formattable), then the
 * input goes through toml_envsubst_with() with a fixed environment and the
 * result is parsed too. Corpus: tests/fuzz/corpus/toml/ (seeded with the
 * toml-test files and the Telegraf seed configs).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/buf.h"
#include "toml/toml.h"

static int max_line;

static void check(const struct toml_value *v, int depth)
{
    if (depth > TOML_MAX_DEPTH + 2) __builtin_trap();
    if (toml_line(v) < 1 || toml_line(v) > max_line || toml_column(v) < 1) __builtin_trap();
    switch (toml_type(v)) {
    case TOML_TABLE: {
        const struct toml_table *t = toml_as_table(v);
        if (toml_table_value(t) != v) __builtin_trap();
        for (size_t i = 0; i < toml_table_len(t); i++) {
            size_t kl;
            const char *k = toml_table_key_at(t, i, &kl);
            const struct toml_value *c = toml_table_value_at(t, i);
            if (!k || !c || k[kl] != '\0') __builtin_trap();
            if (toml_table_getn(t, k, kl) != c) __builtin_trap();
            check(c, depth + 1);
        }
        if (toml_table_key_at(t, toml_table_len(t), NULL)) __builtin_trap();
        break;
    }
    case TOML_ARRAY: {
        const struct toml_array *a = toml_as_array(v);
        for (size_t i = 0; i < toml_array_len(a); i++)
            check(toml_array_at(a, i), depth + 1);
        if (toml_array_at(a, toml_array_len(a))) __builtin_trap();
        break;
    }
    case TOML_STRING: {
        const char *s;
        size_t n;
        if (toml_get_string(v, &s, &n) < 0 || s[n] != '\0') __builtin_trap();
        break;
    }
    case TOML_INTEGER:
    case TOML_FLOAT:
    case TOML_BOOL: {
        double d;
        bool b;
        if (toml_type(v) != TOML_BOOL && toml_get_number(v, &d) < 0) __builtin_trap();
        if (toml_type(v) == TOML_BOOL && toml_get_bool(v, &b) < 0) __builtin_trap();
        break;
    }
    default: {
        char buf[64];
        int n = toml_format_datetime(v, buf, sizeof(buf));
        if (n <= 0 || (size_t)n >= sizeof(buf)) __builtin_trap();
    }
    }
}

static void parse_and_check(const char *buf, size_t len)
{
    struct toml_value *root = NULL;
    struct toml_error err;
    max_line = 1;
    for (size_t i = 0; i < len; i++)
        max_line += buf[i] == '\n';
    if (toml_parse(buf, len, &root, &err) == 0) {
        if (!root || toml_type(root) != TOML_TABLE) __builtin_trap();
        check(root, 0);
        toml_free(root);
    } else {
        if (root || err.line < 1 || err.line > max_line || err.column < 1 || !err.msg[0])
            __builtin_trap();
    }
}

static const char *env(const char *name, void *ctx)
{
    (void)ctx;
    if (!strcmp(name, "A")) return "1";
    if (!strcmp(name, "E")) return "";
    if (!strcmp(name, "Q")) return "\"quoted\" #x ${A}";
    return NULL;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    parse_and_check((const char *)data, size);
    struct sl_buf out = SL_BUF_INIT;
    sl_buf_init(&out, 1 << 20);
    char msg[128];
    if (toml_envsubst_with((const char *)data, size, env, NULL, &out, msg, sizeof(msg)) == 0)
        parse_and_check(out.ptr ? out.ptr : "", out.len);
    sl_buf_release(&out);
    return 0;
}
