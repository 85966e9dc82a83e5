/*
 * rename.c — processors.rename: renames the measurement, tags and fields.
 *
 *   [[processors.rename]]
 *     [[processors.rename.replace]]
 *       measurement = "network_interface_throughput"   # or tag = / field =
 *       dest = "throughput"
 *
 * Each replace entry names exactly one of measurement, tag or field, and a
 * dest; entries apply in order to every metric. As in Telegraf, renaming a
 * tag or field onto an existing key replaces that key's value.
 */
#include <string.h>

#include "agent/conf.h"
#include "agent/processors/processors.h"
#include "common/err.h"
#include "common/mem.h"

enum rename_kind { RN_MEASUREMENT, RN_TAG, RN_FIELD };

struct rename_rule {
    enum rename_kind kind;
    char *from, *dest;
};

struct rename {
    struct rename_rule *rules;
    size_t n;
};

static void rename_free(void *state)
{
    struct rename *r = state;
    if (!r) return;
    for (size_t i = 0; i < r->n; i++) {
        sl_free(r->rules[i].from);
        sl_free(r->rules[i].dest);
    }
    sl_free(r->rules);
    sl_free(r);
}

static int rename_init(struct plugin_conf *c, void **state)
{
    struct rename *r = sl_calloc(1, sizeof(*r));
    if (!r) return SL_ENOMEM;
    int rc = 0;
    size_t n = conf_table_array_len(c, "replace");
    if (n == 0 && conf_has(c, "replace")) {
        rc = conf_fail(c, "replace", "expected [[processors.rename.replace]] tables");
        goto out;
    }
    if (n && !(r->rules = sl_calloc(n, sizeof(*r->rules)))) {
        rc = SL_ENOMEM;
        goto out;
    }
    for (size_t i = 0; i < n && rc == 0; i++) {
        struct plugin_conf *e = conf_table_array_at(c, "replace", i);
        if (!e) {
            rc = conf_fail(c, "replace", "entry %zu is not a table", i + 1);
            break;
        }
        struct rename_rule *rule = &r->rules[r->n];
        char *m = NULL, *t = NULL, *f = NULL;
        if ((rc = conf_str(e, "measurement", &m)) == 0 && (rc = conf_str(e, "tag", &t)) == 0 &&
            (rc = conf_str(e, "field", &f)) == 0)
            rc = conf_str(e, "dest", &rule->dest);
        int count = !!m + !!t + !!f;
        if (rc == 0 && count != 1)
            rc = conf_fail(e, NULL, "each replace needs exactly one of measurement, tag, field");
        else if (rc == 0 && !rule->dest)
            rc = conf_fail(e, NULL, "replace needs a dest");
        if (rc == 0) {
            rule->kind = m ? RN_MEASUREMENT : t ? RN_TAG : RN_FIELD;
            rule->from = m ? m : t ? t : f;
            m = t = f = NULL;
            r->n++;
        } else {
            sl_free(rule->dest);
            rule->dest = NULL;
        }
        sl_free(m);
        sl_free(t);
        sl_free(f);
        if (rc == 0 || rc == SL_EINVAL) {
            int crc = conf_check_child(c, e);
            if (crc < 0) rc = crc;
        }
        conf_free(e);
    }
out:
    if (rc < 0) {
        rename_free(r);
        return rc;
    }
    *state = r;
    return 0;
}

static int rename_apply(void *state, struct metric_list *l)
{
    struct rename *r = state;
    for (size_t k = 0; k < l->n; k++) {
        struct metric *m = l->v[k];
        for (size_t i = 0; i < r->n; i++) {
            const struct rename_rule *rule = &r->rules[i];
            int rc = 0;
            switch (rule->kind) {
            case RN_MEASUREMENT:
                if (!strcmp(m->name, rule->from)) rc = metric_set_name(m, rule->dest);
                break;
            case RN_TAG: rc = metric_rename_tag(m, rule->from, rule->dest); break;
            case RN_FIELD: rc = metric_rename_field(m, rule->from, rule->dest); break;
            }
            if (rc < 0) return rc;
        }
    }
    return 0;
}

const struct agent_processor_ops processor_rename = {
    .name = "rename",
    .sample = "[[processors.rename]]\n"
              "  [[processors.rename.replace]]\n"
              "    measurement = \"network_interface_throughput\"\n"
              "    dest = \"throughput\"\n"
              "  [[processors.rename.replace]]\n"
              "    tag = \"hostname\"\n"
              "    dest = \"host\"\n"
              "  [[processors.rename.replace]]\n"
              "    field = \"lower\"\n"
              "    dest = \"min\"\n",
    .init = rename_init,
    .apply = rename_apply,
    .free = rename_free,
};
