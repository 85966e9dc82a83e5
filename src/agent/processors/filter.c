/*
 * filter.c — processors.filter: drops or passes metrics by rules
 * (Telegraf ≥ 1.29).
 *
 *   [[processors.filter]]
 *     default = "pass"            # or "drop": for metrics no rule matches
 *     [[processors.filter.rule]]
 *       name = ["cpu", "mem*"]    # globs on the measurement
 *       tags = {host = ["web*"]}  # every listed tag present and matching
 *       fields = ["usage_*"]      # some field key matches
 *       action = "drop"           # or "pass"
 *
 * The first rule whose every given criterion matches decides; a rule with
 * no criteria matches everything. Together with the common selectors
 * (namepass, tagpass, ...) only selected metrics reach the processor, so
 * `[[processors.filter]] tagpass.x = [...]` alone passes everything, as in
 * Telegraf.
 */
#include <string.h>

#include "agent/conf.h"
#include "agent/filter.h"
#include "agent/processors/processors.h"
#include "common/err.h"
#include "common/mem.h"

struct filter_rule {
    struct glob_list names, fields;
    struct tag_filter *tags;
    size_t ntags;
    int drop;
};

struct filter_proc {
    struct filter_rule *rules;
    size_t n;
    int default_drop;
};

static void filter_free(void *state)
{
    struct filter_proc *p = state;
    if (!p) return;
    for (size_t i = 0; i < p->n; i++) {
        glob_list_release(&p->rules[i].names);
        glob_list_release(&p->rules[i].fields);
        for (size_t k = 0; k < p->rules[i].ntags; k++) {
            sl_free(p->rules[i].tags[k].key);
            glob_list_release(&p->rules[i].tags[k].globs);
        }
        sl_free(p->rules[i].tags);
    }
    sl_free(p->rules);
    sl_free(p);
}

static int read_action(struct plugin_conf *c, const char *key, int *drop)
{
    char *s = NULL;
    int rc = conf_str(c, key, &s);
    if (rc == 0 && s) {
        if (!strcmp(s, "drop"))
            *drop = 1;
        else if (!strcmp(s, "pass"))
            *drop = 0;
        else
            rc = conf_fail(c, key, "expected \"pass\" or \"drop\"");
    }
    sl_free(s);
    return rc;
}

static int read_rule(struct plugin_conf *e, struct filter_rule *r)
{
    int rc;
    if ((rc = conf_strlist(e, "name", &r->names)) < 0 ||
        (rc = conf_strlist(e, "fields", &r->fields)) < 0 ||
        (rc = read_action(e, "action", &r->drop)) < 0)
        return rc;
    struct plugin_conf *t = conf_table(e, "tags");
    if (!t) return conf_has(e, "tags") ? conf_fail(e, "tags", "expected a table") : 0;
    for (size_t i = 0; rc == 0 && conf_key_at(t, i); i++) {
        struct tag_filter *nt = sl_realloc(r->tags, (r->ntags + 1) * sizeof(*nt));
        if (!nt) {
            rc = SL_ENOMEM;
            break;
        }
        r->tags = nt;
        memset(&nt[r->ntags], 0, sizeof(*nt));
        if (!(nt[r->ntags].key = sl_strdup(conf_key_at(t, i)))) {
            rc = SL_ENOMEM;
            break;
        }
        r->ntags++;
        rc = conf_strlist(t, conf_key_at(t, i), &nt[r->ntags - 1].globs);
    }
    if (rc == SL_EINVAL) conf_check_child(e, t);
    conf_free(t);
    return rc;
}

static int filter_init(struct plugin_conf *c, void **state)
{
    struct filter_proc *p = sl_calloc(1, sizeof(*p));
    if (!p) return SL_ENOMEM;
    int rc = read_action(c, "default", &p->default_drop);
    size_t n = conf_table_array_len(c, "rule");
    if (rc == 0 && n == 0 && conf_has(c, "rule"))
        rc = conf_fail(c, "rule", "expected [[processors.filter.rule]] tables");
    if (rc == 0 && n && !(p->rules = sl_calloc(n, sizeof(*p->rules)))) rc = SL_ENOMEM;
    for (size_t i = 0; i < n && rc == 0; i++) {
        struct plugin_conf *e = conf_table_array_at(c, "rule", i);
        if (!e) {
            rc = conf_fail(c, "rule", "entry %zu is not a table", i + 1);
            break;
        }
        p->n++;
        rc = read_rule(e, &p->rules[i]);
        if (rc == 0 || rc == SL_EINVAL) {
            int crc = conf_check_child(c, e);
            if (crc < 0) rc = crc;
        }
        conf_free(e);
    }
    if (rc < 0) {
        filter_free(p);
        return rc;
    }
    *state = p;
    return 0;
}

static int rule_matches(const struct filter_rule *r, const struct metric *m)
{
    if (r->names.n && !glob_list_match(&r->names, m->name)) return 0;
    for (size_t i = 0; i < r->ntags; i++) {
        const char *v = metric_get_tag(m, r->tags[i].key);
        if (!v || !glob_list_match(&r->tags[i].globs, v)) return 0;
    }
    if (r->fields.n) {
        size_t k;
        for (k = 0; k < m->nfields; k++)
            if (glob_list_match(&r->fields, m->fields[k].key)) break;
        if (k == m->nfields) return 0;
    }
    return 1;
}

static int filter_apply(void *state, struct metric_list *l)
{
    struct filter_proc *p = state;
    size_t out = 0;
    for (size_t k = 0; k < l->n; k++) {
        struct metric *m = l->v[k];
        int drop = p->default_drop;
        for (size_t i = 0; i < p->n; i++)
            if (rule_matches(&p->rules[i], m)) {
                drop = p->rules[i].drop;
                break;
            }
        if (drop)
            metric_free(m);
        else
            l->v[out++] = m;
    }
    l->n = out;
    return 0;
}

const struct agent_processor_ops processor_filter = {
    .name = "filter",
    .sample = "[[processors.filter]]\n"
              "  ## What to do with metrics no rule matches: \"pass\" or \"drop\".\n"
              "  # default = \"pass\"\n"
              "  # [[processors.filter.rule]]\n"
              "  #   name = [\"cpu\"]\n"
              "  #   tags = {cpu = [\"cpu-total\"]}\n"
              "  #   fields = [\"usage_*\"]\n"
              "  #   action = \"drop\"\n",
    .init = filter_init,
    .apply = filter_apply,
    .free = filter_free,
};
