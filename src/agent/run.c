/*
 * run.c — the agent's threads: one ticker thread per gathering input and one
 * flush thread per output.
 *
 * Input schedule (Telegraf's tickers): with round_interval the ticks fall on
 * wall-clock multiples of the interval, shifted by collection_offset; each
 * gather fires at tick + random[0, collection_jitter) without drift. A
 * gather still running when its next tick comes skips that tick, with a
 * warning naming the input.
 *
 * Output flushing: every flush_interval + random[0, flush_jitter), or early
 * when the buffer holds metric_batch_size metrics, or on SIGUSR1. A batch
 * that fails with a retryable error goes back to the front of the buffer and
 * the output backs off: no request until min(30 s, flush_interval·2^(k−1))
 * after the k-th consecutive failure, or the server's Retry-After (capped at
 * 60 s) when longer. So an outage costs a bounded, logarithmic number of
 * requests, never a retry storm.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "agent/agent.h"
#include "common/err.h"
#include "common/log.h"
#include "common/mem.h"
#include "common/timeutil.h"

#define BACKOFF_CAP_NS     (30 * SL_NS_PER_S)
#define RETRY_AFTER_CAP_NS (60 * SL_NS_PER_S)

static int64_t rand_below(int64_t n)
{
    if (n <= 0) return 0;
    uint64_t r = ((uint64_t)random() << 31) ^ (uint64_t)random();
    return (int64_t)(r % (uint64_t)n);
}

/* Waits until the monotonic deadline or until the agent stops (returns 1),
 * or until *flag becomes set (when flag is not NULL; returns 2). */
static int wait_until(struct agent *a, int64_t deadline, int *flag)
{
    int res = 0;
    pthread_mutex_lock(&a->mu);
    for (;;) {
        if (a->stopping) {
            res = 1;
            break;
        }
        if (flag && *flag) {
            res = 2;
            break;
        }
        int64_t now = sl_mono_ns();
        if (now >= deadline) break;
        struct timespec ts = {deadline / SL_NS_PER_S, deadline % SL_NS_PER_S};
        pthread_cond_timedwait(&a->cv, &a->mu, &ts);
    }
    pthread_mutex_unlock(&a->mu);
    return res;
}

static void *input_thread(void *arg)
{
    struct agent_input *in = arg;
    struct agent *a = in->agent;
    int64_t interval = in->c.interval;
    char label[256];
    agent_plugin_label("inputs", in->ops->name, in->c.alias, label, sizeof(label));
    int64_t now = sl_now_ns();
    int64_t next = a->opt.round_interval ? (now / interval + 1) * interval : now + interval;
    next += in->c.collection_offset;
    for (;;) {
        int64_t fire = next + rand_below(in->c.collection_jitter);
        if (wait_until(a, sl_mono_ns() + (fire - sl_now_ns()), NULL)) break;
        in->acc.now = agent_round_time(sl_now_ns(), in->c.precision);
        int64_t t0 = sl_mono_ns();
        int rc = in->ops->gather(in->state, &in->acc);
        int64_t took = sl_mono_ns() - t0;
        atomic_fetch_add(&in->gather_time_ns, (uint64_t)took);
        if (rc < 0) sl_error("agent", "[%s] gather failed: %s", label, sl_strerror(rc));
        sl_debug("agent", "[%s] gathered in %.3f ms", label, (double)took / 1e6);
        next += interval;
        now = sl_now_ns();
        if (now >= next) {
            int64_t skipped = (now - next) / interval + 1;
            next += skipped * interval;
            atomic_fetch_add(&in->skipped, (uint64_t)skipped);
            char d[64];
            sl_duration_format(interval, d, sizeof(d));
            sl_warn("agent",
                    "[%s] collection took longer than expected; not complete after interval of "
                    "%s, skipped %lld tick(s)",
                    label, d, (long long)skipped);
        }
    }
    return NULL;
}

/* Writes buffered metrics in batches until the buffer is empty, a write
 * fails, or (respect_backoff) the output is backing off. */
static void output_flush(struct agent_output *o, int respect_backoff)
{
    char label[256];
    agent_plugin_label("outputs", o->ops->name, o->c.alias, label, sizeof(label));
    size_t max = (size_t)o->c.metric_batch_size;
    struct metric **batch = sl_malloc(max * sizeof(*batch));
    if (!batch) return;
    for (;;) {
        if (respect_backoff && sl_mono_ns() < o->retry_at) break;
        size_t n = metric_buffer_take(&o->buf, batch, max);
        if (n == 0) break;
        struct output_write_info info;
        memset(&info, 0, sizeof(info));
        int64_t t0 = sl_mono_ns();
        enum output_result r = o->ops->write(o->state, batch, n, &info);
        int64_t took = sl_mono_ns() - t0;
        atomic_fetch_add(&o->write_time_ns, (uint64_t)took);
        size_t handled = r == OUTPUT_RETRY ? info.handled : n;
        if (handled > n) handled = n;
        if (info.rejected) {
            sl_warn("agent", "[%s] %llu metric(s) rejected and dropped: %s", label,
                    (unsigned long long)info.rejected, info.error);
        }
        if (r == OUTPUT_REJECTED) {
            sl_error("agent", "[%s] batch of %zu rejected, dropped: %s", label, n, info.error);
            metric_buffer_drop(&o->buf, batch, n);
            atomic_fetch_add(&o->errors, 1);
            o->failures = 0;
            continue;
        }
        /* delivered (or individually rejected) prefix */
        size_t rej = info.rejected < handled ? (size_t)info.rejected : handled;
        metric_buffer_accept(&o->buf, batch, handled - rej);
        if (rej) metric_buffer_drop(&o->buf, batch + (handled - rej), rej);
        if (r == OUTPUT_OK) {
            sl_debug("agent", "[%s] wrote batch of %zu metrics in %.1f ms", label, n,
                     (double)took / 1e6);
            o->failures = 0;
            o->retry_at = 0;
            continue;
        }
        metric_buffer_return(&o->buf, batch + handled, n - handled);
        atomic_fetch_add(&o->errors, 1);
        o->failures++;
        int64_t backoff = o->c.flush_interval;
        for (unsigned k = 1; k < o->failures && backoff < BACKOFF_CAP_NS; k++)
            backoff *= 2;
        if (backoff > BACKOFF_CAP_NS) backoff = BACKOFF_CAP_NS;
        int64_t ra =
            info.retry_after_ns < RETRY_AFTER_CAP_NS ? info.retry_after_ns : RETRY_AFTER_CAP_NS;
        if (ra > backoff) backoff = ra;
        o->retry_at = sl_mono_ns() + backoff;
        sl_error("agent", "[%s] write failed (%u in a row), %zu metrics kept, retry in %.1f s: %s",
                 label, o->failures, metric_buffer_len(&o->buf), (double)backoff / 1e9, info.error);
        break;
    }
    sl_free(batch);
}

static void *output_thread(void *arg)
{
    struct agent_output *o = arg;
    struct agent *a = o->agent;
    int64_t deadline = sl_mono_ns() + o->c.flush_interval + rand_below(o->c.flush_jitter);
    for (;;) {
        int r = wait_until(a, deadline, &o->flush_now);
        if (r == 1) break;
        pthread_mutex_lock(&a->mu);
        o->flush_now = 0;
        pthread_mutex_unlock(&a->mu);
        output_flush(o, 1);
        if (r == 0) deadline = sl_mono_ns() + o->c.flush_interval + rand_below(o->c.flush_jitter);
    }
    return NULL;
}

/* Pushes the aggregator's period at period_end + delay, then moves the
 * window on. Wall-clock deadlines are converted to monotonic waits. */
static void *aggregator_thread(void *arg)
{
    struct agent_aggregator *g = arg;
    struct agent *a = g->agent;
    for (;;) {
        pthread_mutex_lock(&g->mu);
        int64_t fire = g->period_end + g->c.delay;
        pthread_mutex_unlock(&g->mu);
        if (wait_until(a, sl_mono_ns() + (fire - sl_now_ns()), NULL)) break;
        pthread_mutex_lock(&g->mu);
        g->acc.now = agent_round_time(sl_now_ns(), g->c.precision);
        g->ops->push(g->state, &g->acc);
        if (g->ops->reset) g->ops->reset(g->state);
        g->period_start = g->period_end;
        g->period_end += g->c.period;
        /* after a long stall (suspend), jump to the current window */
        int64_t now = sl_now_ns();
        if (g->period_end + g->c.delay < now) {
            int64_t behind = (now - g->period_end) / g->c.period + 1;
            g->period_start += behind * g->c.period;
            g->period_end += behind * g->c.period;
        }
        pthread_mutex_unlock(&g->mu);
    }
    return NULL;
}

static int spawn(pthread_t *t, void *(*fn)(void *), void *arg)
{
    pthread_attr_t at;
    pthread_attr_init(&at);
    pthread_attr_setstacksize(&at, 256 * 1024);
    int rc = pthread_create(t, &at, fn, arg);
    pthread_attr_destroy(&at);
    return rc == 0 ? 0 : SL_ENOMEM;
}

int agent_start(struct agent *a)
{
    int rc = 0;
    a->stopping = 0;
    if ((rc = agent_open_buffers(a)) < 0) return rc;
    for (size_t i = 0; i < a->naggregators && rc == 0; i++) {
        struct agent_aggregator *g = a->aggregators[i];
        if ((rc = spawn(&g->thread, aggregator_thread, g)) == 0) g->thread_started = 1;
    }
    for (size_t i = 0; i < a->noutputs && rc == 0; i++) {
        struct agent_output *o = a->outputs[i];
        if (o->ops->connect && o->ops->connect(o->state) < 0)
            sl_warn("agent", "outputs.%s: could not connect, will retry on write", o->ops->name);
        if ((rc = spawn(&o->thread, output_thread, o)) == 0) o->thread_started = 1;
    }
    for (size_t i = 0; i < a->ninputs && rc == 0; i++) {
        struct agent_input *in = a->inputs[i];
        if (in->ops->start) {
            if ((rc = in->ops->start(in->state, &in->acc)) < 0) {
                sl_error("agent", "inputs.%s: start failed: %s", in->ops->name, sl_strerror(rc));
                break;
            }
            in->service_started = 1;
        }
        if (in->ops->gather) {
            if ((rc = spawn(&in->thread, input_thread, in)) == 0) in->thread_started = 1;
        }
    }
    return rc;
}

void agent_stop(struct agent *a, int final_flush)
{
    pthread_mutex_lock(&a->mu);
    a->stopping = 1;
    pthread_cond_broadcast(&a->cv);
    pthread_mutex_unlock(&a->mu);
    for (size_t i = 0; i < a->ninputs; i++) {
        struct agent_input *in = a->inputs[i];
        if (in->service_started && in->ops->stop) in->ops->stop(in->state);
        in->service_started = 0;
        if (in->thread_started) pthread_join(in->thread, NULL);
        in->thread_started = 0;
    }
    for (size_t i = 0; i < a->naggregators; i++) {
        struct agent_aggregator *g = a->aggregators[i];
        if (g->thread_started) pthread_join(g->thread, NULL);
        g->thread_started = 0;
    }
    /* what the aggregators hold goes out (or into the adopted buffers) */
    if (a->naggregators) agent_push_aggregators(a);
    for (size_t i = 0; i < a->noutputs; i++) {
        struct agent_output *o = a->outputs[i];
        if (o->thread_started) pthread_join(o->thread, NULL);
        o->thread_started = 0;
        if (final_flush) output_flush(o, 0);
        if (o->ops->close) o->ops->close(o->state);
    }
}

void agent_flush_request(struct agent *a)
{
    pthread_mutex_lock(&a->mu);
    for (size_t i = 0; i < a->noutputs; i++) {
        a->outputs[i]->flush_now = 1;
        a->outputs[i]->retry_at = 0; /* an operator's explicit flush overrides the backoff */
    }
    pthread_cond_broadcast(&a->cv);
    pthread_mutex_unlock(&a->mu);
}

void agent_flush_all(struct agent *a)
{
    for (size_t i = 0; i < a->noutputs; i++)
        output_flush(a->outputs[i], 0);
}
