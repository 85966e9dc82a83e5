/*
 * agent.c — agent instances and the metric pipeline (see agent.h): the
 * accumulator inputs write to, Telegraf's makemetric rules, processors, and
 * the fan-out to output buffers. The threads live in run.c.
 */
#include "agent/agent.h"

#include "agent/buffer_disk.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/err.h"
#include "common/log.h"
#include "common/mem.h"
#include "common/timeutil.h"

int agent_init(struct agent *a)
{
    memset(a, 0, sizeof(*a));
    a->opt.interval = 10 * SL_NS_PER_S;
    a->opt.round_interval = 1;
    a->opt.flush_interval = 10 * SL_NS_PER_S;
    a->opt.metric_batch_size = 1000;
    a->opt.metric_buffer_limit = 10000;
    a->global_tags = metric_new("", 0);
    if (!a->global_tags) return SL_ENOMEM;
    pthread_mutex_init(&a->mu, NULL);
    pthread_mutex_init(&a->proc_mu, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&a->cv, &ca);
    pthread_condattr_destroy(&ca);
    return 0;
}

static void common_release(struct plugin_common *c)
{
    sl_free(c->alias);
    sl_free(c->name_override);
    sl_free(c->name_prefix);
    sl_free(c->name_suffix);
    metric_free(c->tags);
    metric_filter_release(&c->filter);
}

void agent_release(struct agent *a)
{
    for (size_t i = 0; i < a->ninputs; i++) {
        struct agent_input *in = a->inputs[i];
        if (in->state && in->ops->free) in->ops->free(in->state);
        common_release(&in->c);
        sl_free(in);
    }
    for (size_t i = 0; i < a->nprocessors; i++) {
        struct agent_processor *p = a->processors[i];
        if (p->state && p->ops->free) p->ops->free(p->state);
        common_release(&p->c);
        sl_free(p);
    }
    for (size_t i = 0; i < a->naggregators; i++) {
        struct agent_aggregator *g = a->aggregators[i];
        if (g->state && g->ops->free) g->ops->free(g->state);
        common_release(&g->c);
        pthread_mutex_destroy(&g->mu);
        sl_free(g);
    }
    for (size_t i = 0; i < a->noutputs; i++) {
        struct agent_output *o = a->outputs[i];
        if (o->state && o->ops->free) o->ops->free(o->state);
        common_release(&o->c);
        metric_buffer_release(&o->buf);
        sl_free(o);
    }
    sl_free(a->inputs);
    sl_free(a->processors);
    sl_free(a->outputs);
    sl_free(a->aggregators);
    sl_free(a->buffer_directory);
    metric_free(a->global_tags);
    sl_free(a->opt.hostname);
    sl_free(a->opt.logfile);
    pthread_mutex_destroy(&a->mu);
    pthread_mutex_destroy(&a->proc_mu);
    pthread_cond_destroy(&a->cv);
    memset(a, 0, sizeof(*a));
}

static int common_init(struct plugin_common *c)
{
    memset(c, 0, sizeof(*c));
    c->interval = c->precision = c->collection_jitter = c->collection_offset = -1;
    c->flush_interval = c->flush_jitter = -1;
    c->metric_batch_size = c->metric_buffer_limit = -1;
    c->period = c->delay = c->grace = -1;
    c->tags = metric_new("", 0);
    return c->tags ? 0 : SL_ENOMEM;
}

#define APPEND(arr, n, item)                                                                       \
    do {                                                                                           \
        void *np_ = sl_realloc((arr), ((n) + 1) * sizeof(*(arr)));                                 \
        if (!np_) goto fail;                                                                       \
        (arr) = np_;                                                                               \
        (arr)[(n)++] = (item);                                                                     \
    } while (0)

struct agent_input *agent_add_input(struct agent *a, const struct agent_input_ops *ops)
{
    struct agent_input *in = sl_calloc(1, sizeof(*in));
    if (!in) return NULL;
    if (common_init(&in->c) < 0) goto fail;
    in->ops = ops;
    in->agent = a;
    in->acc.agent = a;
    in->acc.input = in;
    APPEND(a->inputs, a->ninputs, in);
    return in;
fail:
    metric_free(in->c.tags);
    sl_free(in);
    return NULL;
}

struct agent_processor *agent_add_processor(struct agent *a, const struct agent_processor_ops *ops)
{
    struct agent_processor *p = sl_calloc(1, sizeof(*p));
    if (!p) return NULL;
    if (common_init(&p->c) < 0) goto fail;
    p->c.order = 0;
    p->ops = ops;
    p->file_order = a->nprocessors;
    APPEND(a->processors, a->nprocessors, p);
    return p;
fail:
    metric_free(p->c.tags);
    sl_free(p);
    return NULL;
}

struct agent_output *agent_add_output(struct agent *a, const struct agent_output_ops *ops)
{
    struct agent_output *o = sl_calloc(1, sizeof(*o));
    if (!o) return NULL;
    if (common_init(&o->c) < 0) goto fail;
    o->ops = ops;
    o->agent = a;
    APPEND(a->outputs, a->noutputs, o);
    return o;
fail:
    metric_free(o->c.tags);
    sl_free(o);
    return NULL;
}

struct agent_aggregator *agent_add_aggregator(struct agent *a,
                                              const struct agent_aggregator_ops *ops)
{
    struct agent_aggregator *g = sl_calloc(1, sizeof(*g));
    if (!g) return NULL;
    if (common_init(&g->c) < 0) goto fail;
    g->ops = ops;
    g->agent = a;
    g->acc.agent = a;
    g->acc.aggregator = g;
    pthread_mutex_init(&g->mu, NULL);
    APPEND(a->aggregators, a->naggregators, g);
    return g;
fail:
    metric_free(g->c.tags);
    sl_free(g);
    return NULL;
}

static int proc_cmp(const void *x, const void *y)
{
    const struct agent_processor *p = *(struct agent_processor *const *)x;
    const struct agent_processor *q = *(struct agent_processor *const *)y;
    if (p->c.order != q->c.order) return p->c.order < q->c.order ? -1 : 1;
    return p->file_order < q->file_order ? -1 : p->file_order > q->file_order;
}

int agent_prepare(struct agent *a)
{
    if (a->opt.precision <= 0) a->opt.precision = SL_NS_PER_S;
    if (!a->opt.omit_hostname && !metric_get_tag(a->global_tags, "host")) {
        char host[256];
        const char *h = a->opt.hostname && *a->opt.hostname ? a->opt.hostname : NULL;
        if (!h && gethostname(host, sizeof(host)) == 0) {
            host[sizeof(host) - 1] = '\0';
            h = host;
        }
        if (h && metric_add_tag(a->global_tags, "host", h) < 0) return SL_ENOMEM;
    }
    for (size_t i = 0; i < a->ninputs; i++) {
        struct plugin_common *c = &a->inputs[i]->c;
        if (c->interval <= 0) c->interval = a->opt.interval;
        if (c->precision <= 0) c->precision = a->opt.precision;
        if (c->collection_jitter < 0) c->collection_jitter = a->opt.collection_jitter;
        if (c->collection_offset < 0) c->collection_offset = a->opt.collection_offset;
    }
    for (size_t i = 0; i < a->naggregators; i++) {
        struct agent_aggregator *g = a->aggregators[i];
        struct plugin_common *c = &g->c;
        if (c->period <= 0) c->period = 30 * SL_NS_PER_S;
        if (c->delay < 0) c->delay = 100 * SL_NS_PER_MS;
        if (c->grace < 0) c->grace = 0;
        if (c->precision <= 0) c->precision = a->opt.precision;
        int64_t now = sl_now_ns();
        g->period_start = a->opt.round_interval ? now - now % c->period : now;
        g->period_end = g->period_start + c->period;
    }
    if (a->nprocessors > 1) qsort(a->processors, a->nprocessors, sizeof(*a->processors), proc_cmp);
    for (size_t i = 0; i < a->noutputs; i++) {
        struct agent_output *o = a->outputs[i];
        struct plugin_common *c = &o->c;
        if (c->flush_interval <= 0) c->flush_interval = a->opt.flush_interval;
        if (c->flush_jitter < 0) c->flush_jitter = a->opt.flush_jitter;
        if (c->metric_batch_size <= 0) c->metric_batch_size = a->opt.metric_batch_size;
        if (c->metric_buffer_limit <= 0) c->metric_buffer_limit = a->opt.metric_buffer_limit;
        if (c->metric_batch_size <= 0) c->metric_batch_size = 1000;
        if (c->metric_buffer_limit < c->metric_batch_size)
            c->metric_buffer_limit = c->metric_batch_size;
        if (!o->buf.ring && metric_buffer_init(&o->buf, (size_t)c->metric_buffer_limit) < 0)
            return SL_ENOMEM;
    }
    return 0;
}

int64_t agent_round_time(int64_t t, int64_t prec)
{
    if (prec <= 1) return t;
    int64_t half = prec / 2;
    if (t >= 0) return ((t + half) / prec) * prec;
    return -(((-t + half) / prec) * prec);
}

void agent_plugin_label(const char *kind, const char *name, const char *alias, char *out,
                        size_t cap)
{
    if (alias && *alias)
        snprintf(out, cap, "%s.%s::%s", kind, name, alias);
    else
        snprintf(out, cap, "%s.%s", kind, name);
}

/* ---- accumulator ---- */

int64_t acc_now(const struct agent_acc *acc)
{
    return acc->now;
}

struct metric *acc_new_metric(struct agent_acc *acc, const char *name)
{
    return metric_new(name, acc->now);
}

int acc_add(struct agent_acc *acc, struct metric *m)
{
    if (acc->sink) return metric_list_push(acc->sink, m);
    if (acc->aggregator) return agent_push_aggregated(acc->agent, acc->aggregator, m);
    return agent_push(acc->agent, acc->input, m);
}

void acc_error(struct agent_acc *acc, const char *fmt, ...)
{
    char msg[512], label[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    if (acc->input) {
        atomic_fetch_add(&acc->input->errors, 1);
        agent_plugin_label("inputs", acc->input->ops->name, acc->input->c.alias, label,
                           sizeof(label));
    } else if (acc->aggregator) {
        agent_plugin_label("aggregators", acc->aggregator->ops->name, acc->aggregator->c.alias,
                           label, sizeof(label));
    } else {
        snprintf(label, sizeof(label), "agent");
    }
    if (acc->agent) atomic_fetch_add(&acc->agent->gather_errors, 1);
    sl_error("agent", "[%s] error in plugin: %s", label, msg);
}

/* ---- pipeline ---- */

/* Telegraf's makemetric: name override/prefix/suffix, plugin tags, global
 * tags; existing tags win. */
static int make_metric(struct agent *a, const struct plugin_common *c, struct metric *m)
{
    int rc;
    if (c->name_override && (rc = metric_set_name(m, c->name_override)) < 0) return rc;
    if (c->name_prefix || c->name_suffix) {
        const char *p = c->name_prefix ? c->name_prefix : "";
        const char *s = c->name_suffix ? c->name_suffix : "";
        size_t len = strlen(p) + strlen(m->name) + strlen(s) + 1;
        char *n = sl_malloc(len);
        if (!n) return SL_ENOMEM;
        snprintf(n, len, "%s%s%s", p, m->name, s);
        sl_free(m->name);
        m->name = n;
    }
    for (size_t i = 0; i < c->tags->ntags; i++)
        if (!metric_get_tag(m, c->tags->tags[i].key) &&
            (rc = metric_add_tag(m, c->tags->tags[i].key, c->tags->tags[i].val)) < 0)
            return rc;
    for (size_t i = 0; i < a->global_tags->ntags; i++)
        if (!metric_get_tag(m, a->global_tags->tags[i].key) &&
            (rc = metric_add_tag(m, a->global_tags->tags[i].key, a->global_tags->tags[i].val)) < 0)
            return rc;
    return 0;
}

/* Runs the processors over the list, in order. */
static void run_processors(struct agent *a, struct metric_list *l)
{
    if (!a->nprocessors) return;
    pthread_mutex_lock(&a->proc_mu);
    for (size_t i = 0; i < a->nprocessors; i++) {
        struct agent_processor *p = a->processors[i];
        if (!metric_filter_active(&p->c.filter)) {
            int rc = p->ops->apply(p->state, l);
            if (rc < 0) sl_error("agent", "processors.%s: %s", p->ops->name, sl_strerror(rc));
            continue;
        }
        /* only the metrics passing the processor's selection go through it */
        struct metric_list sel = {0}, rest = {0};
        for (size_t k = 0; k < l->n; k++) {
            struct metric *m = l->v[k];
            int rc = metric_filter_select(&p->c.filter, m) ? metric_list_push(&sel, m)
                                                           : metric_list_push(&rest, m);
            (void)rc; /* on failure the metric was freed: counted as lost */
        }
        l->n = 0;
        int rc = p->ops->apply(p->state, &sel);
        if (rc < 0) sl_error("agent", "processors.%s: %s", p->ops->name, sl_strerror(rc));
        for (size_t k = 0; k < sel.n; k++)
            metric_list_push(l, sel.v[k]);
        for (size_t k = 0; k < rest.n; k++)
            metric_list_push(l, rest.v[k]);
        sl_free(sel.v);
        sl_free(rest.v);
    }
    pthread_mutex_unlock(&a->proc_mu);
}

static void fan_out(struct agent *a, struct metric_list *l)
{
    for (size_t k = 0; k < l->n; k++) {
        struct metric *m = l->v[k];
        l->v[k] = NULL;
        if (a->capture) {
            metric_list_push(a->capture, m);
            continue;
        }
        for (size_t i = 0; i < a->noutputs; i++) {
            struct agent_output *o = a->outputs[i];
            int last = i + 1 == a->noutputs;
            struct metric *c = last ? m : metric_copy(m);
            if (!c) continue;
            if (!metric_filter_apply(&o->c.filter, c)) {
                atomic_fetch_add(&o->filtered, 1);
                metric_free(c);
                continue;
            }
            metric_buffer_add(&o->buf, c);
            if (metric_buffer_len(&o->buf) >= (size_t)o->c.metric_batch_size) {
                pthread_mutex_lock(&a->mu);
                o->flush_now = 1;
                pthread_cond_broadcast(&a->cv);
                pthread_mutex_unlock(&a->mu);
            }
        }
        if (!a->noutputs) metric_free(m);
    }
    l->n = 0;
}

/* Offers every metric of l to the aggregators (Telegraf's
 * RunningAggregator.Add): selected by the aggregator's filter, modified on a
 * copy, inside the window. Metrics an aggregator with drop_original took are
 * removed from l. */
static void run_aggregators(struct agent *a, struct metric_list *l)
{
    if (!a->naggregators) return;
    size_t out = 0;
    for (size_t k = 0; k < l->n; k++) {
        struct metric *m = l->v[k];
        int drop = 0;
        for (size_t i = 0; i < a->naggregators; i++) {
            struct agent_aggregator *g = a->aggregators[i];
            struct metric_filter *f = &g->c.filter;
            if (!metric_filter_select(f, m)) continue;
            struct metric *c = m;
            if (f->fieldinclude.n || f->fieldexclude.n || f->taginclude.n || f->tagexclude.n) {
                if (!(c = metric_copy(m))) continue;
                if (!metric_filter_modify(f, c)) {
                    metric_free(c);
                    continue;
                }
            }
            pthread_mutex_lock(&g->mu);
            if (m->time < g->period_start - g->c.grace || m->time > g->period_end + g->c.delay) {
                atomic_fetch_add(&g->outside_window, 1);
            } else {
                g->ops->add(g->state, c);
                atomic_fetch_add(&g->added, 1);
            }
            pthread_mutex_unlock(&g->mu);
            if (c != m) metric_free(c);
            if (g->c.drop_original) drop = 1;
        }
        if (drop)
            metric_free(m);
        else
            l->v[out++] = m;
    }
    l->n = out;
}

int agent_push_aggregated(struct agent *a, struct agent_aggregator *g, struct metric *m)
{
    int rc = make_metric(a, &g->c, m);
    if (rc < 0) {
        metric_free(m);
        return rc;
    }
    m->time = agent_round_time(m->time, g->c.precision > 0 ? g->c.precision : a->opt.precision);
    atomic_fetch_add(&g->pushed, 1);
    struct metric_list l = {0};
    if ((rc = metric_list_push(&l, m)) < 0) return rc;
    run_processors(a, &l); /* processors run again on aggregates, as in Telegraf */
    fan_out(a, &l);
    metric_list_release(&l);
    return 0;
}

void agent_push_aggregators(struct agent *a)
{
    for (size_t i = 0; i < a->naggregators; i++) {
        struct agent_aggregator *g = a->aggregators[i];
        pthread_mutex_lock(&g->mu);
        g->acc.now = agent_round_time(sl_now_ns(), g->c.precision);
        g->ops->push(g->state, &g->acc);
        if (g->ops->reset) g->ops->reset(g->state);
        g->period_start = g->period_end;
        g->period_end += g->c.period;
        pthread_mutex_unlock(&g->mu);
    }
}

int agent_push(struct agent *a, struct agent_input *in, struct metric *m)
{
    int rc = 0;
    if (in) {
        const struct plugin_common *c = &in->c;
        if (!metric_filter_select(&c->filter, m)) goto drop;
        if ((rc = make_metric(a, c, m)) < 0) goto drop;
        if (!metric_filter_modify(&c->filter, m)) goto drop;
        m->time = agent_round_time(m->time, c->precision > 0 ? c->precision : a->opt.precision);
        atomic_fetch_add(&in->gathered, 1);
    }
    atomic_fetch_add(&a->metrics_gathered, 1);
    struct metric_list l = {0};
    if ((rc = metric_list_push(&l, m)) < 0) return rc;
    run_processors(a, &l);
    run_aggregators(a, &l);
    fan_out(a, &l);
    metric_list_release(&l);
    return 0;
drop:
    metric_free(m);
    return rc;
}

static void sleep_ns(int64_t ns)
{
    struct timespec ts = {ns / SL_NS_PER_S, ns % SL_NS_PER_S};
    while (nanosleep(&ts, &ts) != 0) {
    }
}

int agent_gather_once(struct agent *a, int prime, struct metric_list *capture)
{
    a->capture = capture;
    for (size_t i = 0; i < a->ninputs; i++) {
        struct agent_input *in = a->inputs[i];
        if (!in->ops->gather) continue; /* service inputs produce nothing on demand */
        if (prime && !strcmp(in->ops->name, "cpu")) {
            /* cpu needs two samples for usage_*: the first is discarded */
            struct metric_list discard = {0};
            struct agent_acc acc = {.agent = a, .input = in, .sink = &discard};
            acc.now = agent_round_time(sl_now_ns(), in->c.precision);
            in->ops->gather(in->state, &acc);
            metric_list_release(&discard);
            sleep_ns(500 * SL_NS_PER_MS);
        }
        in->acc.now = agent_round_time(sl_now_ns(), in->c.precision);
        int64_t t0 = sl_mono_ns();
        int rc = in->ops->gather(in->state, &in->acc);
        atomic_fetch_add(&in->gather_time_ns, (uint64_t)(sl_mono_ns() - t0));
        if (rc < 0) {
            char label[256];
            agent_plugin_label("inputs", in->ops->name, in->c.alias, label, sizeof(label));
            sl_error("agent", "[%s] gather failed: %s", label, sl_strerror(rc));
        }
    }
    agent_push_aggregators(a);
    a->capture = NULL;
    return 0;
}

/* buffer_directory/<plugin>[-<alias>]-<n>, n = position among the outputs
 * with the same plugin and alias: stable across restarts and reloads. */
static void output_buffer_dir(const struct agent *a, const struct agent_output *o, char *out,
                              size_t cap)
{
    size_t rank = 0;
    const char *alias = o->c.alias ? o->c.alias : "";
    for (size_t k = 0; k < a->noutputs && a->outputs[k] != o; k++)
        if (a->outputs[k]->ops == o->ops &&
            !strcmp(a->outputs[k]->c.alias ? a->outputs[k]->c.alias : "", alias))
            rank++;
    if (*alias)
        snprintf(out, cap, "%s/%s-%s-%zu", a->buffer_directory, o->ops->name, alias, rank);
    else
        snprintf(out, cap, "%s/%s-%zu", a->buffer_directory, o->ops->name, rank);
}

int agent_open_buffers(struct agent *a)
{
    if (!a->buffer_disk) return 0;
    if (!a->buffer_directory || !*a->buffer_directory) {
        sl_error("agent", "buffer_strategy = \"disk\" needs buffer_directory in [agent]");
        return SL_EINVAL;
    }
    for (size_t i = 0; i < a->noutputs; i++) {
        struct agent_output *o = a->outputs[i];
        if (o->buf.disk) continue;
        char dir[4096], err[512] = "";
        output_buffer_dir(a, o, dir, sizeof(dir));
        struct disk_buffer *d = NULL;
        int rc = disk_buffer_open(
            dir, (uint64_t)(a->buffer_disk_max_size > 0 ? a->buffer_disk_max_size : 0), &d, err,
            sizeof(err));
        if (rc < 0) {
            sl_error("agent", "%s", *err ? err : sl_strerror(rc));
            return rc;
        }
        struct disk_buffer_stats st;
        disk_buffer_stats(d, &st);
        if (st.replayed)
            sl_info("agent", "outputs.%s: %llu buffered metric(s) found in %s, sending them",
                    o->ops->name, (unsigned long long)st.replayed, dir);
        metric_buffer_attach_disk(&o->buf, d);
    }
    return 0;
}

uint64_t agent_adopt_buffers(struct agent *new_a, struct agent *old)
{
    uint64_t dropped = 0;
    for (size_t i = 0; i < old->noutputs; i++) {
        struct agent_output *o = old->outputs[i];
        /* the position among outputs of the same plugin and alias */
        size_t rank = 0;
        for (size_t k = 0; k < i; k++)
            if (old->outputs[k]->ops == o->ops &&
                !strcmp(old->outputs[k]->c.alias ? old->outputs[k]->c.alias : "",
                        o->c.alias ? o->c.alias : ""))
                rank++;
        struct agent_output *match = NULL;
        for (size_t k = 0, r = 0; k < new_a->noutputs && !match; k++) {
            struct agent_output *n = new_a->outputs[k];
            if (n->ops != o->ops ||
                strcmp(n->c.alias ? n->c.alias : "", o->c.alias ? o->c.alias : ""))
                continue;
            if (r++ == rank) match = n;
        }
        if (match && o->buf.disk) {
            /* a disk buffer moves only to the same directory; otherwise its
             * data stays on disk (and is replayed if that output returns) */
            char want[4096] = "";
            if (new_a->buffer_disk) output_buffer_dir(new_a, match, want, sizeof(want));
            if (!new_a->buffer_disk || strcmp(want, disk_buffer_dir(o->buf.disk))) {
                sl_warn("agent", "reload: the disk buffer %s stays on disk, no longer used",
                        disk_buffer_dir(o->buf.disk));
                continue;
            }
            metric_buffer_move(&match->buf, &o->buf);
        } else if (match) {
            metric_buffer_move(&match->buf, &o->buf);
        }
        if (match) {
            /* a reload does not restart the backoff: no extra requests */
            match->failures = o->failures;
            match->retry_at = o->retry_at;
        } else {
            dropped += metric_buffer_len(&o->buf);
        }
    }
    return dropped;
}
