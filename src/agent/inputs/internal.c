/*
 * internal.c — the internal input: the agent's own counters, with Telegraf's
 * measurement, tag and field names (internal_agent, internal_gather per
 * input, internal_write per output). Counters are cumulative since start.
 * Go's internal_memstats has no equivalent; we report the process's RSS in
 * internal_memstats.rss_bytes instead (documented in docs/agent.md).
 */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "agent/agent.h"
#include "agent/conf.h"
#include "agent/inputs/inputs.h"
#include "common/err.h"
#include "common/mem.h"

struct internal_input {
    int collect_memstats;
};

static int internal_init(struct plugin_conf *c, void **state)
{
    struct internal_input *s = sl_calloc(1, sizeof(*s));
    if (!s) return SL_ENOMEM;
    s->collect_memstats = 1;
    int rc = conf_bool(c, "collect_memstats", &s->collect_memstats);
    int dummy = 0;
    if (rc == 0) rc = conf_bool(c, "collect_gostats", &dummy);
    if (rc < 0) {
        sl_free(s);
        return rc;
    }
    *state = s;
    return 0;
}

static void internal_free(void *state)
{
    sl_free(state);
}

static int add(struct agent_acc *acc, struct metric *m, int rc)
{
    if (rc < 0) {
        metric_free(m);
        return rc;
    }
    return acc_add(acc, m);
}

static int internal_gather(void *state, struct agent_acc *acc)
{
    struct internal_input *s = state;
    struct agent *a = acc->agent;
    struct metric *m;
    int rc = 0;
    if (!a) return 0;
    if (s->collect_memstats) {
        long page = sysconf(_SC_PAGESIZE);
        FILE *f = fopen("/proc/self/statm", "r");
        long long size = 0, rss = 0;
        if (f) {
            if (fscanf(f, "%lld %lld", &size, &rss) != 2) size = rss = 0;
            fclose(f);
        }
        if (!(m = acc_new_metric(acc, "internal_memstats"))) return SL_ENOMEM;
        rc = metric_add_int(m, "rss_bytes", rss * page);
        if (rc == 0) rc = metric_add_int(m, "vm_bytes", size * page);
        if ((rc = add(acc, m, rc)) < 0) return rc;
    }
    uint64_t written = 0, dropped = 0;
    for (size_t i = 0; i < a->noutputs; i++) {
        struct agent_output *o = a->outputs[i];
        pthread_mutex_lock(&o->buf.mu);
        uint64_t added = o->buf.added, w = o->buf.written, d = o->buf.dropped;
        size_t len = o->buf.len, limit = o->buf.limit;
        pthread_mutex_unlock(&o->buf.mu);
        written += w;
        dropped += d;
        if (!(m = acc_new_metric(acc, "internal_write"))) return SL_ENOMEM;
        rc = metric_add_tag(m, "output", o->ops->name);
        if (rc == 0 && o->c.alias) rc = metric_add_tag(m, "alias", o->c.alias);
        if (rc == 0) rc = metric_add_tag(m, "version", SLUICE_VERSION);
        if (rc == 0) rc = metric_add_int(m, "buffer_limit", (int64_t)limit);
        if (rc == 0) rc = metric_add_int(m, "buffer_size", (int64_t)len);
        if (rc == 0) rc = metric_add_int(m, "errors", (int64_t)atomic_load(&o->errors));
        if (rc == 0) rc = metric_add_int(m, "metrics_added", (int64_t)added);
        if (rc == 0) rc = metric_add_int(m, "metrics_dropped", (int64_t)d);
        if (rc == 0) rc = metric_add_int(m, "metrics_filtered", (int64_t)atomic_load(&o->filtered));
        if (rc == 0) rc = metric_add_int(m, "metrics_written", (int64_t)w);
        if (rc == 0)
            rc = metric_add_int(m, "write_time_ns", (int64_t)atomic_load(&o->write_time_ns));
        if ((rc = add(acc, m, rc)) < 0) return rc;
    }
    for (size_t i = 0; i < a->ninputs; i++) {
        struct agent_input *in = a->inputs[i];
        if (!(m = acc_new_metric(acc, "internal_gather"))) return SL_ENOMEM;
        rc = metric_add_tag(m, "input", in->ops->name);
        if (rc == 0 && in->c.alias) rc = metric_add_tag(m, "alias", in->c.alias);
        if (rc == 0) rc = metric_add_tag(m, "version", SLUICE_VERSION);
        if (rc == 0) rc = metric_add_int(m, "errors", (int64_t)atomic_load(&in->errors));
        if (rc == 0)
            rc = metric_add_int(m, "gather_time_ns", (int64_t)atomic_load(&in->gather_time_ns));
        if (rc == 0) rc = metric_add_int(m, "gather_timeouts", (int64_t)atomic_load(&in->skipped));
        if (rc == 0)
            rc = metric_add_int(m, "metrics_gathered", (int64_t)atomic_load(&in->gathered));
        if ((rc = add(acc, m, rc)) < 0) return rc;
    }
    if (!(m = acc_new_metric(acc, "internal_agent"))) return SL_ENOMEM;
    rc = metric_add_tag(m, "version", SLUICE_VERSION);
    if (rc == 0) rc = metric_add_int(m, "gather_errors", (int64_t)atomic_load(&a->gather_errors));
    if (rc == 0) rc = metric_add_int(m, "gather_timeouts", 0);
    if (rc == 0) rc = metric_add_int(m, "metrics_dropped", (int64_t)dropped);
    if (rc == 0)
        rc = metric_add_int(m, "metrics_gathered", (int64_t)atomic_load(&a->metrics_gathered));
    if (rc == 0) rc = metric_add_int(m, "metrics_written", (int64_t)written);
    return add(acc, m, rc);
}

const struct agent_input_ops input_internal = {
    .name = "internal",
    .sample = "[[inputs.internal]]\n"
              "  ## If true, collect memory statistics of the agent process.\n"
              "  # collect_memstats = true\n",
    .init = internal_init,
    .gather = internal_gather,
    .free = internal_free,
};
