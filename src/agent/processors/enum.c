/*
 * enum.c — processors.enum: maps string (and int/uint/bool) values of
 * fields and tags to other values, as Telegraf's enum processor does.
 *
 *   [[processors.enum]]
 *     [[processors.enum.mapping]]
 *       fields = ["status"]      # globs; the old single `field` also works
 *       tags = ["env"]           # globs; the old single `tag` also works
 *       dest = "status_code"     # default: overwrite the source key
 *       default = 0              # for values without a mapping
 *       [processors.enum.mapping.value_mappings]
 *         green = 1
 *         red = 3
 *
 * Semantics (Telegraf's): a field's value is looked up by its string form
 * (bool "true", ints in decimal; float fields are never mapped); a tag's by
 * its value. A hit (or the default) is written to dest: for fields with the
 * mapped value's own type (int, float, bool or string), for tags always as
 * a tag (numbers in Go's %v form). Results are written after every mapping
 * of the processor has looked at the original metric.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "agent/conf.h"
#include "agent/filter.h"
#include "agent/parsers/parsers.h"
#include "agent/processors/processors.h"
#include "common/err.h"
#include "common/mem.h"
#include "toml/toml.h"

struct enum_value {
    enum lp_type type; /* LP_INTEGER, LP_FLOAT, LP_BOOLEAN or LP_STRING */
    int64_t i;
    double f;
    int b;
    char *s;
};

struct enum_entry {
    char *key;
    struct enum_value v;
};

struct enum_mapping {
    struct glob_list fields, tags;
    char *dest;
    int has_default;
    struct enum_value def;
    struct enum_entry *map;
    size_t nmap;
};

struct enum_proc {
    struct enum_mapping *m;
    size_t n;
};

static void mapping_release(struct enum_mapping *m)
{
    glob_list_release(&m->fields);
    glob_list_release(&m->tags);
    sl_free(m->dest);
    sl_free(m->def.s);
    for (size_t i = 0; i < m->nmap; i++) {
        sl_free(m->map[i].key);
        sl_free(m->map[i].v.s);
    }
    sl_free(m->map);
}

static void enum_free(void *state)
{
    struct enum_proc *e = state;
    if (!e) return;
    for (size_t i = 0; i < e->n; i++)
        mapping_release(&e->m[i]);
    sl_free(e->m);
    sl_free(e);
}

static int read_value(const struct toml_value *tv, struct enum_value *out)
{
    const char *s;
    int64_t i;
    double f;
    bool b;
    if (toml_get_string(tv, &s, NULL) == 0) {
        out->type = LP_STRING;
        return (out->s = sl_strdup(s)) ? 0 : SL_ENOMEM;
    }
    if (toml_get_int(tv, &i) == 0) {
        out->type = LP_INTEGER, out->i = i;
        return 0;
    }
    if (toml_get_float(tv, &f) == 0) {
        out->type = LP_FLOAT, out->f = f;
        return 0;
    }
    if (toml_get_bool(tv, &b) == 0) {
        out->type = LP_BOOLEAN, out->b = b;
        return 0;
    }
    return SL_EINVAL;
}

static int read_mapping(struct plugin_conf *e, struct enum_mapping *m)
{
    int rc;
    if ((rc = conf_strlist(e, "field", &m->fields)) < 0 ||
        (rc = conf_strlist(e, "fields", &m->fields)) < 0 ||
        (rc = conf_strlist(e, "tag", &m->tags)) < 0 ||
        (rc = conf_strlist(e, "tags", &m->tags)) < 0 || (rc = conf_str(e, "dest", &m->dest)) < 0)
        return rc;
    const struct toml_value *d = conf_value(e, "default");
    if (d) {
        if (read_value(d, &m->def) < 0)
            return conf_fail(e, "default", "expected a string, integer, float or boolean");
        m->has_default = 1;
    }
    struct plugin_conf *vm = conf_table(e, "value_mappings");
    if (!vm && conf_has(e, "value_mappings"))
        return conf_fail(e, "value_mappings", "expected a table of value = mapped value");
    for (size_t i = 0; vm && conf_key_at(vm, i); i++) {
        const char *k = conf_key_at(vm, i);
        struct enum_entry *ne = sl_realloc(m->map, (m->nmap + 1) * sizeof(*ne));
        if (!ne) {
            rc = SL_ENOMEM;
            break;
        }
        m->map = ne;
        memset(&ne[m->nmap], 0, sizeof(*ne));
        if (!(ne[m->nmap].key = sl_strdup(k))) {
            rc = SL_ENOMEM;
            break;
        }
        m->nmap++;
        if (read_value(conf_value(vm, k), &ne[m->nmap - 1].v) < 0) {
            rc = conf_fail(vm, k, "expected a string, integer, float or boolean");
            conf_check_child(e, vm);
            break;
        }
    }
    conf_free(vm);
    if (rc == 0 && m->fields.n == 0 && m->tags.n == 0)
        rc = conf_fail(e, NULL, "a mapping needs field(s) or tag(s)");
    return rc;
}

static int enum_init(struct plugin_conf *c, void **state)
{
    struct enum_proc *p = sl_calloc(1, sizeof(*p));
    if (!p) return SL_ENOMEM;
    int rc = 0;
    size_t n = conf_table_array_len(c, "mapping");
    if (n == 0 && conf_has(c, "mapping"))
        rc = conf_fail(c, "mapping", "expected [[processors.enum.mapping]] tables");
    if (rc == 0 && n && !(p->m = sl_calloc(n, sizeof(*p->m)))) rc = SL_ENOMEM;
    for (size_t i = 0; i < n && rc == 0; i++) {
        struct plugin_conf *e = conf_table_array_at(c, "mapping", i);
        if (!e) {
            rc = conf_fail(c, "mapping", "entry %zu is not a table", i + 1);
            break;
        }
        p->n++;
        rc = read_mapping(e, &p->m[i]);
        if (rc == 0 || rc == SL_EINVAL) {
            int crc = conf_check_child(c, e);
            if (crc < 0) rc = crc;
        }
        conf_free(e);
    }
    if (rc < 0) {
        enum_free(p);
        return rc;
    }
    *state = p;
    return 0;
}

static const struct enum_value *lookup(const struct enum_mapping *m, const char *s)
{
    for (size_t i = 0; i < m->nmap; i++)
        if (!strcmp(m->map[i].key, s)) return &m->map[i].v;
    return m->has_default ? &m->def : NULL;
}

/* A pending write: tags and fields are collected first, written after. */
struct pending {
    char *key;
    int is_tag;
    const struct enum_value *v;
};

static void value_string(const struct enum_value *v, char *buf, size_t cap)
{
    switch (v->type) {
    case LP_INTEGER: snprintf(buf, cap, "%" PRId64, v->i); break;
    case LP_FLOAT: parser_go_float_v(v->f, buf, cap); break;
    case LP_BOOLEAN: snprintf(buf, cap, "%s", v->b ? "true" : "false"); break;
    default: snprintf(buf, cap, "%s", v->s); break;
    }
}

static int apply_one(struct enum_proc *p, struct metric *m)
{
    struct pending *pend = NULL;
    size_t np = 0;
    int rc = 0;
    char num[64];
    for (size_t i = 0; i < p->n && rc == 0; i++) {
        const struct enum_mapping *mp = &p->m[i];
        for (size_t f = 0; f < m->nfields && mp->fields.n && rc == 0; f++) {
            const struct metric_field *fl = &m->fields[f];
            if (!glob_list_match(&mp->fields, fl->key)) continue;
            const char *s = NULL;
            switch (fl->type) {
            case LP_STRING: s = fl->v.s; break;
            case LP_BOOLEAN: s = fl->v.b ? "true" : "false"; break;
            case LP_INTEGER: snprintf(num, sizeof(num), "%" PRId64, fl->v.i), s = num; break;
            case LP_UNSIGNED: snprintf(num, sizeof(num), "%" PRIu64, fl->v.u), s = num; break;
            case LP_FLOAT: break;
            }
            const struct enum_value *v = s ? lookup(mp, s) : NULL;
            if (!v) continue;
            struct pending *npd = sl_realloc(pend, (np + 1) * sizeof(*npd));
            if (!npd) {
                rc = SL_ENOMEM;
                break;
            }
            pend = npd;
            pend[np].key = sl_strdup(mp->dest && *mp->dest ? mp->dest : fl->key);
            pend[np].is_tag = 0;
            pend[np].v = v;
            if (!pend[np++].key) rc = SL_ENOMEM;
        }
        for (size_t t = 0; t < m->ntags && mp->tags.n && rc == 0; t++) {
            if (!glob_list_match(&mp->tags, m->tags[t].key)) continue;
            const struct enum_value *v = lookup(mp, m->tags[t].val);
            if (!v) continue;
            struct pending *npd = sl_realloc(pend, (np + 1) * sizeof(*npd));
            if (!npd) {
                rc = SL_ENOMEM;
                break;
            }
            pend = npd;
            pend[np].key = sl_strdup(mp->dest && *mp->dest ? mp->dest : m->tags[t].key);
            pend[np].is_tag = 1;
            pend[np].v = v;
            if (!pend[np++].key) rc = SL_ENOMEM;
        }
    }
    /* fields first, then tags, as Telegraf */
    for (int pass = 0; pass < 2; pass++)
        for (size_t i = 0; i < np && rc == 0; i++) {
            if (pend[i].is_tag != pass) continue;
            const struct enum_value *v = pend[i].v;
            if (pass == 1) {
                value_string(v, num, sizeof(num));
                rc = metric_add_tag(m, pend[i].key, v->type == LP_STRING ? v->s : num);
                continue;
            }
            metric_remove_field(m, pend[i].key);
            switch (v->type) {
            case LP_INTEGER: rc = metric_add_int(m, pend[i].key, v->i); break;
            case LP_FLOAT: rc = metric_add_float(m, pend[i].key, v->f); break;
            case LP_BOOLEAN: rc = metric_add_bool(m, pend[i].key, v->b); break;
            default: rc = metric_add_string(m, pend[i].key, v->s); break;
            }
        }
    for (size_t i = 0; i < np; i++)
        sl_free(pend[i].key);
    sl_free(pend);
    return rc;
}

static int enum_apply(void *state, struct metric_list *l)
{
    for (size_t k = 0; k < l->n; k++) {
        int rc = apply_one(state, l->v[k]);
        if (rc < 0) return rc;
    }
    return 0;
}

const struct agent_processor_ops processor_enum = {
    .name = "enum",
    .sample = "[[processors.enum]]\n"
              "  [[processors.enum.mapping]]\n"
              "    ## Fields and/or tags to map (globs).\n"
              "    fields = [\"status\"]\n"
              "    # tags = []\n"
              "    ## Destination key; default: overwrite the source.\n"
              "    # dest = \"status_code\"\n"
              "    ## Value for unmapped values; default: leave them alone.\n"
              "    # default = 0\n"
              "    [processors.enum.mapping.value_mappings]\n"
              "      green = 1\n"
              "      amber = 2\n"
              "      red = 3\n",
    .init = enum_init,
    .apply = enum_apply,
    .free = enum_free,
};
