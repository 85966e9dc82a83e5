/*
 * plugin.h — the agent's plugin model, nginx-style: each plugin is a static
 * table of function pointers with lifecycle hooks, registered by name in
 * registry.c. The agent owns instances; a plugin owns only its `state`.
 *
 * Lifecycle of an input:   init(conf) → [start(acc)] → gather(acc)* → [stop] → free
 *   init    reads the plugin's options through conf_* (see conf.h); an option
 *           the plugin never asks for is reported by the loader as unknown.
 *   gather  called on the input's interval; adds metrics to the accumulator.
 *           An error return is logged and counted; the schedule continues.
 *   start   service inputs (listeners, consumers) start their threads here and
 *           add metrics to acc at any time (acc is thread-safe); stop ends them.
 * Processors transform a list of metrics in place. Aggregators see every
 * metric (add) and emit their aggregates on push at the end of each period.
 * Outputs write batches; write() classifies failures (see enum output_result).
 */
#ifndef SL_AGENT_PLUGIN_H
#define SL_AGENT_PLUGIN_H

#include <stddef.h>
#include <stdint.h>

#include "agent/metric.h"

struct plugin_conf; /* conf.h */
struct agent_acc;

/* Takes ownership of m: the metric is queued for processing. Thread-safe. */
int acc_add(struct agent_acc *acc, struct metric *m);
/* Builds and adds a metric: a convenience for inputs. */
struct metric *acc_new_metric(struct agent_acc *acc, const char *name);
/* The timestamp of the current gather (ns, already rounded to precision). */
int64_t acc_now(const struct agent_acc *acc);
/* Records a gather error (logged with the plugin's name, counted). */
void acc_error(struct agent_acc *acc, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

struct agent_input_ops {
    const char *name;
    const char *sample; /* sample configuration (TOML, commented) */
    int (*init)(struct plugin_conf *conf, void **state);
    int (*gather)(void *state, struct agent_acc *acc); /* NULL for pure service inputs */
    int (*start)(void *state, struct agent_acc *acc);  /* NULL unless a service input */
    void (*stop)(void *state);
    void (*free)(void *state);
};

struct agent_processor_ops {
    const char *name;
    const char *sample;
    int (*init)(struct plugin_conf *conf, void **state);
    /* Transforms the list in place: may modify, drop (free and remove) or
     * append metrics. */
    int (*apply)(void *state, struct metric_list *metrics);
    void (*free)(void *state);
};

struct agent_aggregator_ops {
    const char *name;
    const char *sample;
    int (*init)(struct plugin_conf *conf, void **state);
    void (*add)(void *state, const struct metric *m);
    /* Emits the aggregates of the period that ends at period_end. */
    void (*push)(void *state, struct agent_acc *acc);
    void (*reset)(void *state);
    void (*free)(void *state);
};

enum output_result {
    OUTPUT_OK = 0,      /* every metric of the batch is delivered */
    OUTPUT_RETRY = 1,   /* keep the batch and try again after a backoff */
    OUTPUT_REJECTED = 2 /* the server refused the batch for good: drop, count */
};

struct output_write_info {
    int64_t retry_after_ns; /* a server's Retry-After, 0 if none */
    /* On OUTPUT_RETRY: how many metrics from the start of the batch were
     * dealt with (delivered or rejected) before the failure, e.g. the first
     * half of a batch split after a 413. */
    size_t handled;
    /* Metrics among those dealt with that the server rejected for good; they
     * are the last `rejected` of the handled prefix (or of the batch on OK). */
    uint64_t rejected;
    char error[256]; /* what went wrong, for the log */
};

struct agent_output_ops {
    const char *name;
    const char *sample;
    int (*init)(struct plugin_conf *conf, void **state);
    int (*connect)(void *state); /* optional */
    enum output_result (*write)(void *state, struct metric **batch, size_t n,
                                struct output_write_info *info);
    void (*close)(void *state); /* optional */
    void (*free)(void *state);
};

/* Registry lookups; NULL when no plugin has that name. */
const struct agent_input_ops *agent_input_find(const char *name);
const struct agent_processor_ops *agent_processor_find(const char *name);
const struct agent_aggregator_ops *agent_aggregator_find(const char *name);
const struct agent_output_ops *agent_output_find(const char *name);
/* NULL-terminated arrays of every registered plugin, in name order. */
extern const struct agent_input_ops *const agent_inputs[];
extern const struct agent_processor_ops *const agent_processors[];
extern const struct agent_aggregator_ops *const agent_aggregators[];
extern const struct agent_output_ops *const agent_outputs[];

/* Roots of the host trees the system inputs read: $HOST_PROC, $HOST_SYS,
 * $HOST_ETC, $HOST_VAR, $HOST_RUN and $HOST_MOUNT_PREFIX as in Telegraf,
 * defaulting to /proc, /sys, /etc, /var, /run and "". */
const char *agent_host_path(const char *which);

#endif
