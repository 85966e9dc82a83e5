/*
 * parsers.c — data_format dispatch, parser options and the influx format
 * (see parsers.h). The json and prometheus formats live in json.c and
 * prometheus.c.
 */
#include <stdio.h>
#include <string.h>

#include "agent/conf.h"
#include "agent/parsers/parsers_int.h"
#include "common/err.h"
#include "common/mem.h"
#include "lp/lp.h"

static const struct {
    const char *name;
    enum parser_format f;
} formats[] = {
    {"influx", PARSER_INFLUX},
    {"json", PARSER_JSON},
    {"prometheus", PARSER_PROMETHEUS},
};

int parser_new(enum parser_format f, const char *metric_name, struct parser **out)
{
    struct parser *p = sl_calloc(1, sizeof(*p));
    if (!p) return SL_ENOMEM;
    p->format = f;
    p->influx_precision_ns = 1;
    p->strict = 1;
    p->metric_name = sl_strdup(metric_name && *metric_name ? metric_name : "parser");
    if (!p->metric_name) {
        sl_free(p);
        return SL_ENOMEM;
    }
    *out = p;
    return 0;
}

void parser_free(struct parser *p)
{
    if (!p) return;
    sl_free(p->metric_name);
    glob_list_release(&p->tag_keys);
    glob_list_release(&p->string_fields);
    sl_free(p->name_key);
    sl_free(p->time_key);
    sl_free(p->time_format);
    sl_free(p->query);
    sl_free(p->timezone);
    sl_free(p);
}

enum parser_format parser_format(const struct parser *p)
{
    return p->format;
}

static int read_json_opts(struct plugin_conf *c, struct parser *p)
{
    int rc;
    if ((rc = conf_strlist(c, "tag_keys", &p->tag_keys)) < 0 ||
        (rc = conf_strlist(c, "json_string_fields", &p->string_fields)) < 0 ||
        (rc = conf_str(c, "json_name_key", &p->name_key)) < 0 ||
        (rc = conf_str(c, "json_time_key", &p->time_key)) < 0 ||
        (rc = conf_str(c, "json_time_format", &p->time_format)) < 0 ||
        (rc = conf_str(c, "json_query", &p->query)) < 0 ||
        (rc = conf_str(c, "json_timezone", &p->timezone)) < 0 ||
        (rc = conf_bool(c, "json_strict", &p->strict)) < 0)
        return rc;
    if (p->time_key && *p->time_key && (!p->time_format || !*p->time_format))
        return conf_fail(c, "json_time_format", "required when json_time_key is set");
    if (p->timezone && *p->timezone && strcmp(p->timezone, "UTC") && strcmp(p->timezone, "Local"))
        return conf_fail(c, "json_timezone",
                         "only \"UTC\" is supported (times without a zone are UTC)");
    return 0;
}

int parser_from_conf(struct plugin_conf *c, const char *default_format, const char *metric_name,
                     struct parser **out)
{
    char *fmt = NULL;
    struct parser *p = NULL;
    int rc = conf_str(c, "data_format", &fmt);
    if (rc < 0) goto out;
    const char *f = fmt && *fmt ? fmt : default_format;
    size_t i;
    for (i = 0; i < sizeof(formats) / sizeof(formats[0]); i++)
        if (!strcmp(formats[i].name, f)) break;
    if (i == sizeof(formats) / sizeof(formats[0])) {
        rc = conf_fail(c, "data_format",
                       "data format \"%s\" is not supported (influx, json, prometheus)", f);
        goto out;
    }
    if ((rc = parser_new(formats[i].f, metric_name, &p)) < 0) goto out;
    if (p->format == PARSER_JSON) {
        if ((rc = read_json_opts(c, p)) < 0) goto out;
    } else if (p->format == PARSER_INFLUX) {
        int64_t prec = 0;
        if ((rc = conf_duration(c, "influx_timestamp_precision", &prec)) < 0) goto out;
        if (prec > 0) p->influx_precision_ns = prec;
        char *pt = NULL;
        rc = conf_str(c, "influx_parser_type", &pt);
        if (rc == 0 && pt && strcmp(pt, "internal") && strcmp(pt, "upstream"))
            rc = conf_fail(c, "influx_parser_type", "expected \"internal\" or \"upstream\"");
        sl_free(pt);
        if (rc < 0) goto out;
    }
    *out = p;
    p = NULL;
out:
    parser_free(p);
    sl_free(fmt);
    return rc;
}

static int influx_parse(struct parser *p, const char *buf, size_t len, int64_t now_ns,
                        struct metric_list *out, char *err, size_t errcap)
{
    struct lp_parser lp;
    struct lp_parser_opts o = {.precision = LP_PREC_NS};
    struct lp_point pt;
    struct lp_error le;
    int rc = 0, first_err = 0;
    lp_parser_init(&lp, buf, len, &o);
    for (;;) {
        int r = lp_parser_next(&lp, &pt, &le);
        if (r == LP_END) break;
        if (r < 0) {
            rc = r;
            break;
        }
        if (r == LP_ERROR) {
            if (!first_err) {
                snprintf(err, errcap, "line %zu:%zu: %s", le.line, le.column, le.message);
                first_err = 1;
            }
            continue;
        }
        if (pt.has_time && p->influx_precision_ns > 1) pt.time *= p->influx_precision_ns;
        struct metric *m = metric_from_lp(&pt, now_ns);
        if (!m) {
            rc = SL_ENOMEM;
            break;
        }
        if ((rc = metric_list_push(out, m)) < 0) break;
    }
    lp_parser_release(&lp);
    if (rc == 0 && first_err) rc = SL_EINVAL;
    return rc;
}

int parser_parse(struct parser *p, const char *buf, size_t len, int64_t now_ns,
                 struct metric_list *out, char *err, size_t errcap)
{
    if (errcap) err[0] = '\0';
    if (len > PARSER_MAX_INPUT) {
        snprintf(err, errcap, "input of %zu bytes exceeds the parser limit of %u", len,
                 PARSER_MAX_INPUT);
        return SL_ETOOBIG;
    }
    switch (p->format) {
    case PARSER_INFLUX: return influx_parse(p, buf, len, now_ns, out, err, errcap);
    case PARSER_JSON: return parser_json_parse(p, buf, len, now_ns, out, err, errcap);
    case PARSER_PROMETHEUS: return parser_prom_parse(buf, len, now_ns, out, err, errcap);
    }
    return SL_EINVAL;
}
