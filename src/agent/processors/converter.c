/*
 * converter.c — processors.converter: changes the types of fields, turns
 * tags into fields, fields into tags, either into the measurement name or
 * the timestamp (Telegraf's converter).
 *
 *   [[processors.converter]]
 *     [processors.converter.tags]
 *       measurement = []  string = []  integer = []  unsigned = []
 *       boolean = []      float = []
 *       timestamp = []    timestamp_format = "unix"
 *     [processors.converter.fields]
 *       measurement = []  tag = []     string = []   integer = []
 *       unsigned = []     boolean = [] float = []
 *       timestamp = []    timestamp_format = "unix"
 *
 * Keys are globs. Conversions follow Telegraf: strings parse as Go's
 * ParseInt(s, 0, 64) (so "0x1f" works) and fall back to ParseFloat; floats
 * become integers rounded half away from zero and clamped to the type's
 * range; unsigned clamps negatives to 0; booleans are 1/0 and parse "1",
 * "t", "T", "TRUE", "true", "True" (and the false forms); numbers become
 * strings in Go's shortest 'f' form. A value that cannot be converted is
 * removed (and logged at debug level), as in Telegraf. Tag checks run in
 * the order measurement, string, integer, unsigned, boolean, float;
 * field checks measurement, tag, float, integer, unsigned, boolean, string.
 */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent/conf.h"
#include "agent/filter.h"
#include "agent/parsers/parsers.h"
#include "agent/processors/processors.h"
#include "common/err.h"
#include "common/log.h"
#include "common/mem.h"

enum conv {
    C_MEASUREMENT,
    C_TAG,
    C_STRING,
    C_INTEGER,
    C_UNSIGNED,
    C_BOOLEAN,
    C_FLOAT,
    C_TIMESTAMP,
    C_N
};
static const char *const conv_names[C_N] = {"measurement", "tag",     "string", "integer",
                                            "unsigned",    "boolean", "float",  "timestamp"};

struct conv_set {
    struct glob_list g[C_N];
    char *ts_format;
};

struct converter {
    struct conv_set tags, fields;
};

static void set_release(struct conv_set *s)
{
    for (int i = 0; i < C_N; i++)
        glob_list_release(&s->g[i]);
    sl_free(s->ts_format);
}

static void converter_free(void *state)
{
    struct converter *c = state;
    if (!c) return;
    set_release(&c->tags);
    set_release(&c->fields);
    sl_free(c);
}

static int read_set(struct plugin_conf *c, const char *key, struct conv_set *s, int is_fields)
{
    struct plugin_conf *t = conf_table(c, key);
    if (!t) return conf_has(c, key) ? conf_fail(c, key, "expected a table") : 0;
    int rc = 0;
    for (int i = 0; i < C_N && rc == 0; i++) {
        if (i == C_TAG && !is_fields) continue;
        rc = conf_strlist(t, conv_names[i], &s->g[i]);
    }
    if (rc == 0) rc = conf_str(t, "timestamp_format", &s->ts_format);
    if (rc == 0 && s->g[C_TIMESTAMP].n && (!s->ts_format || !*s->ts_format))
        rc = conf_fail(t, "timestamp_format", "required with timestamp");
    if (is_fields && rc == 0 && conf_has(t, "base64")) {
        rc = conf_fail(t, "base64", "not supported");
    }
    if (rc == 0 || rc == SL_EINVAL) {
        int crc = conf_check_child(c, t);
        if (crc < 0) rc = crc;
    }
    conf_free(t);
    return rc;
}

static int converter_init(struct plugin_conf *c, void **state)
{
    struct converter *cv = sl_calloc(1, sizeof(*cv));
    if (!cv) return SL_ENOMEM;
    int rc = read_set(c, "tags", &cv->tags, 0);
    if (rc == 0) rc = read_set(c, "fields", &cv->fields, 1);
    if (rc < 0) {
        converter_free(cv);
        return rc;
    }
    *state = cv;
    return 0;
}

/* Go's strconv.ParseBool */
static int parse_bool(const char *s, int *out)
{
    static const char *const t[] = {"1", "t", "T", "TRUE", "true", "True"};
    static const char *const f[] = {"0", "f", "F", "FALSE", "false", "False"};
    for (int i = 0; i < 6; i++) {
        if (!strcmp(s, t[i])) return *out = 1, 0;
        if (!strcmp(s, f[i])) return *out = 0, 0;
    }
    return SL_EINVAL;
}

/* ParseInt(s, 0, 64) then ParseFloat; returns 0 int (*is_float = 0) / float. */
static int parse_number(const char *s, int64_t *i, uint64_t *u, double *f, int *kind)
{
    if (!*s) return SL_EINVAL;
    char *end;
    errno = 0;
    const char *p = s;
    int neg = *p == '-';
    if (*p == '+' || *p == '-') p++;
    int base = 10;
    if (p[0] == '0' && (p[1] == 'x' || p[1] == 'X'))
        base = 16, p += 2;
    else if (p[0] == '0' && (p[1] == 'b' || p[1] == 'B'))
        base = 2, p += 2;
    else if (p[0] == '0' && (p[1] == 'o' || p[1] == 'O'))
        base = 8, p += 2;
    else if (p[0] == '0' && p[1] >= '0' && p[1] <= '7')
        base = 8, p += 1;
    if (*p && *p != '-' && *p != '+') {
        unsigned long long v = strtoull(p, &end, base);
        if (!*end && errno == 0) {
            if (!neg && v > INT64_MAX) {
                *u = v, *kind = 2;
                return 0;
            }
            if (v <= (unsigned long long)INT64_MAX ||
                (neg && v == (unsigned long long)INT64_MAX + 1)) {
                *i = neg ? (int64_t)(0 - v) : (int64_t)v;
                *kind = 0;
                return 0;
            }
        }
    }
    errno = 0;
    double d = strtod(s, &end);
    if (*end || end == s) return SL_EINVAL;
    *f = d, *kind = 1;
    return 0;
}

static int64_t round_i64(double v)
{
    if (isnan(v)) return 0;
    if (v <= -9223372036854775808.0) return INT64_MIN;
    if (v >= 9223372036854775807.0) return INT64_MAX;
    return (int64_t)llround(v);
}

static uint64_t round_u64(double v)
{
    if (isnan(v) || v <= 0) return 0;
    if (v >= 18446744073709551615.0) return UINT64_MAX;
    return (uint64_t)llroundl((long double)v);
}

/* Converts a value (given as a field) to type `to` and stores it as field
 * `key` of m. Returns 1 when converted, 0 when not convertible, < 0 on error. */
static int put_converted(struct metric *m, const char *key, const struct metric_field *in, int to)
{
    char buf[64];
    int64_t i = 0;
    uint64_t u = 0;
    double f = 0;
    int kind = 0, b = 0;
    const struct metric_field *src = in;
    struct metric_field tmp = *in;
    if (in->type == LP_STRING && to != C_STRING) {
        if (to == C_BOOLEAN) {
            if (parse_bool(in->v.s, &b) == 0) return metric_add_bool(m, key, b) < 0 ? SL_ENOMEM : 1;
            /* Telegraf: non-bool strings parse as numbers, nonzero = true */
        }
        if (parse_number(in->v.s, &i, &u, &f, &kind) < 0) return 0;
        tmp.type = kind == 0 ? LP_INTEGER : kind == 1 ? LP_FLOAT : LP_UNSIGNED;
        if (kind == 0) tmp.v.i = i;
        if (kind == 1) tmp.v.f = f;
        if (kind == 2) tmp.v.u = u;
        src = &tmp;
    }
    int rc = 0;
    switch (to) {
    case C_STRING:
        switch (src->type) {
        case LP_STRING: snprintf(buf, sizeof(buf), "%s", ""); break;
        case LP_INTEGER: snprintf(buf, sizeof(buf), "%" PRId64, src->v.i); break;
        case LP_UNSIGNED: snprintf(buf, sizeof(buf), "%" PRIu64, src->v.u); break;
        case LP_FLOAT: parser_go_float_f(src->v.f, buf, sizeof(buf)); break;
        case LP_BOOLEAN: snprintf(buf, sizeof(buf), "%s", src->v.b ? "true" : "false"); break;
        }
        rc = metric_add_string(m, key, src->type == LP_STRING ? src->v.s : buf);
        break;
    case C_INTEGER:
        switch (src->type) {
        case LP_INTEGER: i = src->v.i; break;
        case LP_UNSIGNED: i = src->v.u > INT64_MAX ? INT64_MAX : (int64_t)src->v.u; break;
        case LP_FLOAT: i = round_i64(src->v.f); break;
        case LP_BOOLEAN: i = src->v.b; break;
        default: return 0;
        }
        rc = metric_add_int(m, key, i);
        break;
    case C_UNSIGNED:
        switch (src->type) {
        case LP_INTEGER: u = src->v.i < 0 ? 0 : (uint64_t)src->v.i; break;
        case LP_UNSIGNED: u = src->v.u; break;
        case LP_FLOAT: u = round_u64(src->v.f); break;
        case LP_BOOLEAN: u = (uint64_t)src->v.b; break;
        default: return 0;
        }
        rc = metric_add_uint(m, key, u);
        break;
    case C_BOOLEAN:
        switch (src->type) {
        case LP_INTEGER: b = src->v.i != 0; break;
        case LP_UNSIGNED: b = src->v.u != 0; break;
        case LP_FLOAT: b = src->v.f != 0; break;
        case LP_BOOLEAN: b = src->v.b; break;
        default: return 0;
        }
        rc = metric_add_bool(m, key, b);
        break;
    case C_FLOAT:
        switch (src->type) {
        case LP_INTEGER: f = (double)src->v.i; break;
        case LP_UNSIGNED: f = (double)src->v.u; break;
        case LP_FLOAT: f = src->v.f; break;
        case LP_BOOLEAN: f = src->v.b; break;
        default: return 0;
        }
        rc = metric_add_float(m, key, f);
        break;
    default: return 0;
    }
    return rc < 0 ? rc : 1;
}

static void field_string(const struct metric_field *f, char *buf, size_t cap, const char **out)
{
    switch (f->type) {
    case LP_STRING: *out = f->v.s; return;
    case LP_INTEGER: snprintf(buf, cap, "%" PRId64, f->v.i); break;
    case LP_UNSIGNED: snprintf(buf, cap, "%" PRIu64, f->v.u); break;
    case LP_FLOAT: parser_go_float_f(f->v.f, buf, cap); break;
    case LP_BOOLEAN: snprintf(buf, cap, "%s", f->v.b ? "true" : "false"); break;
    }
    *out = buf;
}

static int set_time(struct metric *m, const char *fmt, const struct metric_field *f)
{
    int64_t t;
    int rc;
    if (f->type == LP_STRING)
        rc = parser_time_parse(fmt, f->v.s, strlen(f->v.s), &t);
    else if (f->type == LP_INTEGER)
        rc = parser_time_parse_int(fmt, f->v.i, &t);
    else if (f->type == LP_UNSIGNED && f->v.u <= INT64_MAX)
        rc = parser_time_parse_int(fmt, (int64_t)f->v.u, &t);
    else if (f->type == LP_FLOAT)
        rc = parser_time_parse_number(fmt, f->v.f, &t);
    else
        rc = SL_EINVAL;
    if (rc == 0) m->time = t;
    return rc;
}

static int convert_tags(struct converter *cv, struct metric *m)
{
    static const int order[] = {C_MEASUREMENT, C_STRING, C_INTEGER,  C_UNSIGNED,
                                C_BOOLEAN,     C_FLOAT,  C_TIMESTAMP};
    for (size_t t = 0; t < m->ntags;) {
        char *key = sl_strdup(m->tags[t].key), *val = sl_strdup(m->tags[t].val);
        int rc = key && val ? 0 : SL_ENOMEM, done = 0;
        for (size_t k = 0; k < sizeof(order) / sizeof(order[0]) && rc == 0 && !done; k++) {
            int to = order[k];
            if (!glob_list_match(&cv->tags.g[to], key)) continue;
            done = 1;
            metric_remove_tag(m, key);
            struct metric_field f = {.key = key, .type = LP_STRING, .v.s = val};
            if (to == C_MEASUREMENT)
                rc = metric_set_name(m, val);
            else if (to == C_TIMESTAMP) {
                if (set_time(m, cv->tags.ts_format, &f) < 0)
                    sl_debug("agent", "processors.converter: tag %s: cannot parse time \"%s\"", key,
                             val);
            } else {
                int r = put_converted(m, key, &f, to);
                if (r == 0)
                    sl_debug("agent", "processors.converter: tag %s: cannot convert \"%s\" to %s",
                             key, val, conv_names[to]);
                rc = r < 0 ? r : 0;
            }
        }
        sl_free(key);
        sl_free(val);
        if (rc < 0) return rc;
        if (!done) t++;
    }
    return 0;
}

static int convert_fields(struct converter *cv, struct metric *m)
{
    static const int order[] = {C_MEASUREMENT, C_TAG,     C_FLOAT,  C_INTEGER,
                                C_UNSIGNED,    C_BOOLEAN, C_STRING, C_TIMESTAMP};
    /* iterate over a snapshot of the keys: conversions re-add fields */
    size_t n = m->nfields;
    char **keys = sl_calloc(n + 1, sizeof(*keys));
    int rc = keys ? 0 : SL_ENOMEM;
    for (size_t i = 0; i < n && rc == 0; i++)
        if (!(keys[i] = sl_strdup(m->fields[i].key))) rc = SL_ENOMEM;
    char buf[64];
    for (size_t i = 0; i < n && rc == 0; i++) {
        const struct metric_field *f = metric_get_field(m, keys[i]);
        if (!f) continue;
        for (size_t k = 0; k < sizeof(order) / sizeof(order[0]); k++) {
            int to = order[k];
            if (!glob_list_match(&cv->fields.g[to], keys[i])) continue;
            const char *s;
            struct metric_field copy = *f;
            char *sv = NULL;
            if (f->type == LP_STRING && !(sv = sl_strdup(f->v.s))) {
                rc = SL_ENOMEM;
                break;
            }
            if (sv) copy.v.s = sv;
            metric_remove_field(m, keys[i]);
            if (to == C_MEASUREMENT || to == C_TAG) {
                field_string(&copy, buf, sizeof(buf), &s);
                rc = to == C_MEASUREMENT ? metric_set_name(m, s) : metric_add_tag(m, keys[i], s);
            } else if (to == C_TIMESTAMP) {
                if (set_time(m, cv->fields.ts_format, &copy) < 0)
                    sl_debug("agent", "processors.converter: field %s: cannot parse time", keys[i]);
            } else {
                int r = put_converted(m, keys[i], &copy, to);
                if (r == 0)
                    sl_debug("agent", "processors.converter: field %s: cannot convert to %s",
                             keys[i], conv_names[to]);
                rc = r < 0 ? r : 0;
            }
            sl_free(sv);
            break;
        }
    }
    for (size_t i = 0; keys && i < n; i++)
        sl_free(keys[i]);
    sl_free(keys);
    return rc;
}

static int converter_apply(void *state, struct metric_list *l)
{
    for (size_t k = 0; k < l->n; k++) {
        int rc = convert_tags(state, l->v[k]);
        if (rc == 0) rc = convert_fields(state, l->v[k]);
        if (rc < 0) return rc;
    }
    return 0;
}

const struct agent_processor_ops processor_converter = {
    .name = "converter",
    .sample = "[[processors.converter]]\n"
              "  ## Tags to convert: <target type> = [<tag globs>]\n"
              "  [processors.converter.tags]\n"
              "    measurement = []\n"
              "    string = []\n"
              "    integer = []\n"
              "    unsigned = []\n"
              "    boolean = []\n"
              "    float = []\n"
              "  ## Fields to convert: <target type> = [<field globs>]\n"
              "  [processors.converter.fields]\n"
              "    measurement = []\n"
              "    tag = []\n"
              "    string = []\n"
              "    integer = []\n"
              "    unsigned = []\n"
              "    boolean = []\n"
              "    float = []\n",
    .init = converter_init,
    .apply = converter_apply,
    .free = converter_free,
};
