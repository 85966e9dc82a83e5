/*
 * pivot.c — processors.pivot: turns a tag's value into a field key.
 *
 *   [[processors.pivot]]
 *     tag_key = "name"
 *     value_key = "value"
 *
 * cpu,name=time_idle value=42 → cpu time_idle=42. A metric without the tag
 * or the field passes unchanged (Telegraf's behaviour).
 */
#include <string.h>

#include "agent/conf.h"
#include "agent/processors/processors.h"
#include "common/err.h"
#include "common/mem.h"

struct pivot {
    char *tag_key, *value_key;
};

static void pivot_free(void *state)
{
    struct pivot *p = state;
    if (!p) return;
    sl_free(p->tag_key);
    sl_free(p->value_key);
    sl_free(p);
}

static int pivot_init(struct plugin_conf *c, void **state)
{
    struct pivot *p = sl_calloc(1, sizeof(*p));
    if (!p) return SL_ENOMEM;
    int rc = conf_str(c, "tag_key", &p->tag_key);
    if (rc == 0) rc = conf_str(c, "value_key", &p->value_key);
    if (rc == 0 && (!p->tag_key || !*p->tag_key)) rc = conf_fail(c, "tag_key", "required");
    if (rc == 0 && (!p->value_key || !*p->value_key)) rc = conf_fail(c, "value_key", "required");
    if (rc < 0) {
        pivot_free(p);
        return rc;
    }
    *state = p;
    return 0;
}

static int pivot_apply(void *state, struct metric_list *l)
{
    struct pivot *p = state;
    for (size_t k = 0; k < l->n; k++) {
        struct metric *m = l->v[k];
        const char *key = metric_get_tag(m, p->tag_key);
        const struct metric_field *f = metric_get_field(m, p->value_key);
        if (!key || !f) continue;
        char *kcopy = sl_strdup(key);
        if (!kcopy) return SL_ENOMEM;
        int rc = 0;
        if (strcmp(kcopy, p->value_key)) {
            rc = metric_add_field_copy(m, kcopy, f);
            if (rc == 0) metric_remove_field(m, p->value_key);
        }
        if (rc == 0) metric_remove_tag(m, p->tag_key);
        sl_free(kcopy);
        if (rc < 0) return rc;
    }
    return 0;
}

const struct agent_processor_ops processor_pivot = {
    .name = "pivot",
    .sample = "[[processors.pivot]]\n"
              "  ## Tag whose value becomes the field key.\n"
              "  tag_key = \"name\"\n"
              "  ## Field whose value is moved under that key.\n"
              "  value_key = \"value\"\n",
    .init = pivot_init,
    .apply = pivot_apply,
    .free = pivot_free,
};
