/*
 * registry.c — the static table of plugins compiled into the agent. Adding a
 * plugin is one line here plus its file under inputs/, processors/,
 * aggregators/ or outputs/. Lists are kept in name order (`sluice agent
 * config` prints them in this order).
 */
#include <stdlib.h>
#include <string.h>

#include "agent/inputs/inputs.h"
#include "agent/inputs/services.h"
#include "agent/outputs/outputs.h"
#include "agent/plugin.h"
#include "agent/processors/processors.h"
#include "agent/aggregators/aggregators.h"

const struct agent_input_ops *const agent_inputs[] = {
    &input_cpu,
    &input_disk,
    &input_diskio,
    &input_docker,
    &input_exec,
    &input_http_listener_v2,
    &input_http_response,
    &input_influxdb_listener,
    &input_influxdb_v2_listener,
    &input_internal,
    &input_mem,
    &input_mqtt_consumer,
    &input_net,
    &input_nginx,
    &input_postgresql,
    &input_processes,
    &input_prometheus,
    &input_redis,
    &input_system,
    &input_tail,
    NULL,
};

const struct agent_processor_ops *const agent_processors[] = {
    &processor_converter, &processor_enum,   &processor_filter,
    &processor_pivot,     &processor_rename, NULL,
};

const struct agent_aggregator_ops *const agent_aggregators[] = {
    &aggregator_basicstats,
    NULL,
};

const struct agent_output_ops *const agent_outputs[] = {
    &output_file,
    &output_influxdb,
    &output_influxdb_v2,
    NULL,
};

const struct agent_input_ops *agent_input_find(const char *name)
{
    for (size_t i = 0; agent_inputs[i]; i++)
        if (!strcmp(agent_inputs[i]->name, name)) return agent_inputs[i];
    return NULL;
}

const struct agent_processor_ops *agent_processor_find(const char *name)
{
    for (size_t i = 0; agent_processors[i]; i++)
        if (!strcmp(agent_processors[i]->name, name)) return agent_processors[i];
    return NULL;
}

const struct agent_aggregator_ops *agent_aggregator_find(const char *name)
{
    for (size_t i = 0; agent_aggregators[i]; i++)
        if (!strcmp(agent_aggregators[i]->name, name)) return agent_aggregators[i];
    return NULL;
}

const struct agent_output_ops *agent_output_find(const char *name)
{
    for (size_t i = 0; agent_outputs[i]; i++)
        if (!strcmp(agent_outputs[i]->name, name)) return agent_outputs[i];
    return NULL;
}

const char *agent_host_path(const char *which)
{
    static const struct {
        const char *which, *env, *def;
    } paths[] = {
        {"proc", "HOST_PROC", "/proc"}, {"sys", "HOST_SYS", "/sys"},
        {"etc", "HOST_ETC", "/etc"},    {"var", "HOST_VAR", "/var"},
        {"run", "HOST_RUN", "/run"},    {"mount_prefix", "HOST_MOUNT_PREFIX", ""},
    };
    for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]); i++)
        if (!strcmp(paths[i].which, which)) {
            const char *v = getenv(paths[i].env);
            return v && *v ? v : paths[i].def;
        }
    return "";
}
