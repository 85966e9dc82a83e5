/*
 * conf.c — plugin option access over the TOML DOM (see conf.h), with the
 * "which options did nobody read" bookkeeping that turns typos into errors.
 */
#include "agent/conf.h"

#include <ctype.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/err.h"
#include "common/mem.h"
#include "common/timeutil.h"
#include "toml/toml.h"

struct plugin_conf {
    const struct toml_table *t;
    char *name;
    char *file;
    unsigned char *used; /* one flag per key of t */
    size_t nkeys;
    char err[512];
};

struct plugin_conf *conf_wrap(const struct toml_table *t, const char *name, const char *file)
{
    struct plugin_conf *c = sl_calloc(1, sizeof(*c));
    if (!c) return NULL;
    c->t = t;
    c->nkeys = t ? toml_table_len(t) : 0;
    c->name = sl_strdup(name ? name : "");
    c->file = sl_strdup(file ? file : "");
    c->used = sl_calloc(c->nkeys + 1, 1);
    if (!c->name || !c->file || !c->used) {
        conf_free(c);
        return NULL;
    }
    return c;
}

void conf_free(struct plugin_conf *c)
{
    if (!c) return;
    sl_free(c->name);
    sl_free(c->file);
    sl_free(c->used);
    sl_free(c);
}

const char *conf_error(struct plugin_conf *c)
{
    return c ? c->err : "";
}

const char *conf_name(struct plugin_conf *c)
{
    return c ? c->name : "";
}

/* Looks key up and marks it used. */
static const struct toml_value *lookup(struct plugin_conf *c, const char *key)
{
    if (!c || !c->t) return NULL;
    for (size_t i = 0; i < c->nkeys; i++) {
        const char *k = toml_table_key_at(c->t, i, NULL);
        if (k && !strcmp(k, key)) {
            c->used[i] = 1;
            return toml_table_value_at(c->t, i);
        }
    }
    return NULL;
}

void conf_mark(struct plugin_conf *c, const char *key)
{
    lookup(c, key);
}

int conf_has(struct plugin_conf *c, const char *key)
{
    return c && c->t && toml_table_get(c->t, key) != NULL;
}

int conf_line(struct plugin_conf *c, const char *key)
{
    if (!c || !c->t) return 0;
    const struct toml_value *v = key ? toml_table_get(c->t, key) : toml_table_value(c->t);
    return v ? toml_line(v) : 0;
}

int conf_fail(struct plugin_conf *c, const char *key, const char *fmt, ...)
{
    if (!c) return SL_EINVAL;
    char msg[384];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    int line = conf_line(c, key);
    if (key)
        snprintf(c->err, sizeof(c->err), "%s:%d: %s: option '%s': %s", c->file, line, c->name, key,
                 msg);
    else
        snprintf(c->err, sizeof(c->err), "%s:%d: %s: %s", c->file, line, c->name, msg);
    return SL_EINVAL;
}

static int type_error(struct plugin_conf *c, const char *key, const char *want,
                      const struct toml_value *v)
{
    return conf_fail(c, key, "expected %s, got %s", want, toml_type_name(toml_type(v)));
}

int conf_bool(struct plugin_conf *c, const char *key, int *out)
{
    const struct toml_value *v = lookup(c, key);
    if (!v) return 0;
    bool b;
    if (toml_get_bool(v, &b) < 0) return type_error(c, key, "a boolean", v);
    *out = b ? 1 : 0;
    return 0;
}

int conf_int(struct plugin_conf *c, const char *key, int64_t *out)
{
    const struct toml_value *v = lookup(c, key);
    if (!v) return 0;
    if (toml_get_int(v, out) < 0) return type_error(c, key, "an integer", v);
    return 0;
}

int conf_float(struct plugin_conf *c, const char *key, double *out)
{
    const struct toml_value *v = lookup(c, key);
    if (!v) return 0;
    if (toml_get_number(v, out) < 0) return type_error(c, key, "a number", v);
    return 0;
}

/* Go's time.ParseDuration plus Telegraf's extras: decimal fractions
 * ("1.5s"), units ns us µs ms s m h d w, concatenations ("1h30m"), and the
 * empty string or "0" as zero. */
static int parse_go_duration(const char *s, int64_t *ns)
{
    static const struct {
        const char *u;
        int64_t ns;
    } units[] = {{"ns", 1},
                 {"us", SL_NS_PER_US},
                 {"\xc2\xb5s", SL_NS_PER_US},
                 {"\xce\xbcs", SL_NS_PER_US},
                 {"ms", SL_NS_PER_MS},
                 {"s", SL_NS_PER_S},
                 {"m", 60 * SL_NS_PER_S},
                 {"h", 3600 * SL_NS_PER_S},
                 {"d", 86400 * SL_NS_PER_S},
                 {"w", 7 * 86400 * SL_NS_PER_S}};
    double total = 0;
    int neg = 0;
    if (*s == '-' || *s == '+') neg = *s++ == '-';
    if (!*s || !strcmp(s, "0")) {
        *ns = 0;
        return 0;
    }
    while (*s) {
        char *end;
        if (!isdigit((unsigned char)*s) && *s != '.') return SL_EINVAL;
        double x = strtod(s, &end);
        if (end == s) return SL_EINVAL;
        s = end;
        size_t best = 0, bi = 0;
        for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
            size_t l = strlen(units[i].u);
            if (!strncmp(s, units[i].u, l) && l > best) {
                best = l;
                bi = i;
            }
        }
        if (!best) return SL_EINVAL;
        /* "m" must not swallow the "m" of "ms" etc.: longest match above */
        total += x * (double)units[bi].ns;
        s += best;
    }
    if (total > 9.2e18) return SL_ERANGE;
    *ns = (int64_t)llround(neg ? -total : total);
    return 0;
}

int conf_duration(struct plugin_conf *c, const char *key, int64_t *ns)
{
    const struct toml_value *v = lookup(c, key);
    if (!v) return 0;
    int64_t i;
    double f;
    const char *s;
    if (toml_get_int(v, &i) == 0) {
        if (i > INT64_MAX / SL_NS_PER_S || i < -INT64_MAX / SL_NS_PER_S)
            return conf_fail(c, key, "duration out of range");
        *ns = i * SL_NS_PER_S;
        return 0;
    }
    if (toml_get_float(v, &f) == 0) {
        if (!(fabs(f) < 9.2e9)) return conf_fail(c, key, "duration out of range");
        *ns = (int64_t)llround(f * 1e9);
        return 0;
    }
    if (toml_get_string(v, &s, NULL) < 0) return type_error(c, key, "a duration string", v);
    if (parse_go_duration(s, ns) < 0)
        return conf_fail(c, key, "invalid duration \"%s\" (use e.g. \"10s\", \"1m30s\")", s);
    return 0;
}

int conf_size(struct plugin_conf *c, const char *key, int64_t *bytes)
{
    const struct toml_value *v = lookup(c, key);
    if (!v) return 0;
    const char *s;
    if (toml_get_int(v, bytes) == 0) return 0;
    if (toml_get_string(v, &s, NULL) < 0) return type_error(c, key, "a size", v);
    char *end;
    double x = strtod(s, &end);
    while (*end == ' ')
        end++;
    static const struct {
        const char *u;
        double m;
    } units[] = {{"", 1},
                 {"b", 1},
                 {"kb", 1e3},
                 {"mb", 1e6},
                 {"gb", 1e9},
                 {"tb", 1e12},
                 {"kib", 1024.0},
                 {"mib", 1048576.0},
                 {"gib", 1073741824.0},
                 {"tib", 1099511627776.0},
                 {"k", 1e3},
                 {"m", 1e6},
                 {"g", 1e9}};
    if (end == s) return conf_fail(c, key, "invalid size \"%s\"", s);
    for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++)
        if (!strcasecmp(end, units[i].u)) {
            double r = x * units[i].m;
            if (!(r >= 0 && r < 9.2e18)) return conf_fail(c, key, "size out of range");
            *bytes = (int64_t)r;
            return 0;
        }
    return conf_fail(c, key, "invalid size \"%s\" (use e.g. \"10MB\", \"1GiB\")", s);
}

int conf_str(struct plugin_conf *c, const char *key, char **out)
{
    const struct toml_value *v = lookup(c, key);
    if (!v) return 0;
    const char *s;
    if (toml_get_string(v, &s, NULL) < 0) return type_error(c, key, "a string", v);
    char *d = sl_strdup(s);
    if (!d) return SL_ENOMEM;
    sl_free(*out);
    *out = d;
    return 0;
}

int conf_strlist(struct plugin_conf *c, const char *key, struct glob_list *out)
{
    const struct toml_value *v = lookup(c, key);
    if (!v) return 0;
    const char *s;
    if (toml_get_string(v, &s, NULL) == 0) return glob_list_add(out, s);
    const struct toml_array *a = toml_as_array(v);
    if (!a) return type_error(c, key, "an array of strings", v);
    for (size_t i = 0; i < toml_array_len(a); i++) {
        if (toml_get_string(toml_array_at(a, i), &s, NULL) < 0)
            return conf_fail(c, key, "element %zu is not a string", i + 1);
        int rc = glob_list_add(out, s);
        if (rc < 0) return rc;
    }
    return 0;
}

static char *child_name(struct plugin_conf *c, const char *key, long idx)
{
    size_t n = strlen(c->name) + strlen(key) + 32;
    char *s = sl_malloc(n);
    if (!s) return NULL;
    if (idx >= 0)
        snprintf(s, n, "%s.%s[%ld]", c->name, key, idx);
    else
        snprintf(s, n, "%s.%s", c->name, key);
    return s;
}

struct plugin_conf *conf_table(struct plugin_conf *c, const char *key)
{
    const struct toml_value *v = lookup(c, key);
    const struct toml_table *t = toml_as_table(v);
    if (!t) return NULL;
    char *n = child_name(c, key, -1);
    if (!n) return NULL;
    struct plugin_conf *r = conf_wrap(t, n, c->file);
    sl_free(n);
    return r;
}

size_t conf_table_array_len(struct plugin_conf *c, const char *key)
{
    const struct toml_value *v = lookup(c, key);
    const struct toml_array *a = toml_as_array(v);
    return a ? toml_array_len(a) : 0;
}

struct plugin_conf *conf_table_array_at(struct plugin_conf *c, const char *key, size_t i)
{
    const struct toml_value *v = lookup(c, key);
    const struct toml_array *a = toml_as_array(v);
    const struct toml_table *t = a ? toml_as_table(toml_array_at(a, i)) : NULL;
    if (!t) return NULL;
    char *n = child_name(c, key, (long)i);
    if (!n) return NULL;
    struct plugin_conf *r = conf_wrap(t, n, c->file);
    sl_free(n);
    return r;
}

const char *conf_key_at(struct plugin_conf *c, size_t i)
{
    if (!c || !c->t || i >= c->nkeys) return NULL;
    return toml_table_key_at(c->t, i, NULL);
}

const char *conf_first_unused(struct plugin_conf *c)
{
    if (!c || !c->t) return NULL;
    for (size_t i = 0; i < c->nkeys; i++)
        if (!c->used[i]) return toml_table_key_at(c->t, i, NULL);
    return NULL;
}

const struct toml_value *conf_value(struct plugin_conf *c, const char *key)
{
    return lookup(c, key);
}

int conf_check_child(struct plugin_conf *parent, struct plugin_conf *child)
{
    const char *k = conf_first_unused(child);
    if (!k && child->err[0] == '\0') return 0;
    if (child->err[0] == '\0') conf_fail(child, k, "unknown option (not supported by this plugin)");
    snprintf(parent->err, sizeof(parent->err), "%s", child->err);
    return SL_EINVAL;
}
