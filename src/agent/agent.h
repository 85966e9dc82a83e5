/*
 * agent.h — the running agent: configured plugin instances, the metric
 * pipeline and the scheduler.
 *
 * Pipeline (Telegraf's): input → select filter → name_override/prefix/suffix,
 * plugin tags, global tags (never overriding a tag the metric has) → modify
 * filter → processors in `order` → each output's filter → the output's own
 * buffer. Each input runs on its own thread with its own ticker; each output
 * flushes from its own thread. Processors run under one lock, in order.
 *
 * Lifecycle: agent_init → agent_config_load (config.c) → agent_start →
 * agent_wait_signal loop → agent_stop → agent_release. agent_gather_once is
 * the --test/--once path.
 */
#ifndef SL_AGENT_AGENT_H
#define SL_AGENT_AGENT_H

#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "agent/filter.h"
#include "agent/metric.h"
#include "agent/plugin.h"

struct agent;

/* Options every plugin instance may carry. */
struct plugin_common {
    char *alias, *name_override, *name_prefix, *name_suffix;
    struct metric *tags; /* the [*.tags] table, held as tags of an empty metric */
    struct metric_filter filter;
    int64_t interval, precision, collection_jitter, collection_offset; /* inputs */
    int64_t order;                                                     /* processors */
    int64_t flush_interval, flush_jitter;                              /* outputs */
    int64_t metric_batch_size, metric_buffer_limit;                    /* outputs */
    int64_t period, delay, grace;                                      /* aggregators */
    int drop_original;                                                 /* aggregators */
};

struct agent_acc {
    struct agent *agent;
    struct agent_input *input;           /* NULL for aggregator output */
    struct agent_aggregator *aggregator; /* set for aggregator output */
    int64_t now;                         /* gather time, rounded */
    struct metric_list *sink;            /* when set, metrics are collected here raw */
};

struct agent_input {
    const struct agent_input_ops *ops;
    void *state;
    struct plugin_common c;
    struct agent *agent;
    struct agent_acc acc;
    pthread_t thread;
    int thread_started, service_started;
    atomic_uint_fast64_t gathered, errors, gather_time_ns, skipped;
};

struct agent_processor {
    const struct agent_processor_ops *ops;
    void *state;
    struct plugin_common c;
    size_t file_order;
};

/* An aggregator instance. Metrics whose time lies in
 * [period_start − grace, period_end + delay] are added; at period_end +
 * delay the aggregates are pushed (through the processors again, then to
 * the outputs), the state is reset and the window moves on by period. */
struct agent_aggregator {
    const struct agent_aggregator_ops *ops;
    void *state;
    struct plugin_common c;
    struct agent *agent;
    struct agent_acc acc;
    pthread_mutex_t mu; /* state, window */
    int64_t period_start, period_end;
    pthread_t thread;
    int thread_started;
    atomic_uint_fast64_t added, outside_window, pushed;
};

struct agent_output {
    const struct agent_output_ops *ops;
    void *state;
    struct plugin_common c;
    struct agent *agent;
    struct metric_buffer buf;
    pthread_t thread;
    int thread_started;
    int flush_now;            /* set (under agent->mu) to wake the thread */
    unsigned failures;        /* consecutive failed writes, for the backoff */
    _Atomic int64_t retry_at; /* monotonic ns before which no write is tried */
    atomic_uint_fast64_t errors, write_time_ns, filtered;
};

struct agent_options {
    int64_t interval, collection_jitter, collection_offset, flush_interval, flush_jitter;
    int64_t precision;
    int round_interval;
    int64_t metric_batch_size, metric_buffer_limit;
    char *hostname;
    int omit_hostname, debug, quiet;
    char *logfile;
};

struct agent {
    struct agent_options opt;
    struct metric *global_tags;
    struct agent_input **inputs;
    size_t ninputs;
    struct agent_processor **processors; /* sorted by order, then file order */
    size_t nprocessors;
    struct agent_output **outputs;
    size_t noutputs;
    struct agent_aggregator **aggregators;
    size_t naggregators;
    /* [agent] buffer_strategy = "disk": outputs buffer in segment files under
     * buffer_directory/<output>-<n>/ (buffer_disk.c), bounded by
     * buffer_disk_max_size bytes per output. */
    int buffer_disk;
    char *buffer_directory;
    int64_t buffer_disk_max_size;

    pthread_mutex_t mu; /* stopping, flush_now */
    pthread_cond_t cv;  /* CLOCK_MONOTONIC */
    int stopping;
    pthread_mutex_t proc_mu;     /* serialises the processor chain */
    struct metric_list *capture; /* test mode: processed metrics end here */
    atomic_uint_fast64_t metrics_gathered, gather_errors;
};

/* Sets defaults (Telegraf's [agent] defaults); 0 or SL_ENOMEM. */
int agent_init(struct agent *a);
/* Stops nothing: call agent_stop first if started. Frees every instance. */
void agent_release(struct agent *a);

/* Instance constructors used by the config loader: the agent takes
 * ownership of the returned instance. */
struct agent_input *agent_add_input(struct agent *a, const struct agent_input_ops *ops);
struct agent_processor *agent_add_processor(struct agent *a, const struct agent_processor_ops *ops);
struct agent_output *agent_add_output(struct agent *a, const struct agent_output_ops *ops);
struct agent_aggregator *agent_add_aggregator(struct agent *a,
                                              const struct agent_aggregator_ops *ops);
/* Called once the configuration is complete: sorts processors, derives
 * per-instance defaults from [agent], sets up output buffers. */
int agent_prepare(struct agent *a);

/* The pipeline entry for one metric of input in (takes ownership). */
int agent_push(struct agent *a, struct agent_input *in, struct metric *m);

/* Gathers every gathering input once. With prime, cpu-like inputs are
 * gathered twice 0.5 s apart (the first result discarded) so that usage_*
 * appear, as Telegraf's --test and --once do. With capture non-NULL the
 * processed metrics are appended there instead of going to the outputs. */
int agent_gather_once(struct agent *a, int prime, struct metric_list *capture);

/* Pushes (and resets) every aggregator now: the end of --test/--once. */
void agent_push_aggregators(struct agent *a);
/* The pipeline entry for aggregates of agg (takes ownership of m). */
int agent_push_aggregated(struct agent *a, struct agent_aggregator *agg, struct metric *m);

/* Opens the disk buffers of outputs that have none yet (buffer_strategy =
 * "disk"), moving anything already in their memory rings to disk. Called
 * by agent_start and before --once flushes. */
int agent_open_buffers(struct agent *a);

/* Starts input and output threads and service inputs. */
int agent_start(struct agent *a);
/* Stops inputs, then outputs (each tries one last flush when final_flush). */
void agent_stop(struct agent *a, int final_flush);
/* Asks every output thread to flush now (SIGUSR1). */
void agent_flush_request(struct agent *a);
/* Flushes every output synchronously once (for --once). */
void agent_flush_all(struct agent *a);
/* Moves buffered metrics of old's outputs into the matching outputs of
 * new_a (same plugin, alias and position); returns how many were dropped
 * because their output no longer exists. */
uint64_t agent_adopt_buffers(struct agent *new_a, struct agent *old);

/* Rounds t to the nearest multiple of prec (half away from zero); prec <= 0 = no-op. */
int64_t agent_round_time(int64_t t, int64_t prec);
/* The plugin name with its alias, for logs: "inputs.cpu::alias". */
void agent_plugin_label(const char *kind, const char *name, const char *alias, char *out,
                        size_t cap);

#endif
