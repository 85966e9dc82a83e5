/*
 * outputs.h — the output plugins compiled into the agent, and the
 * serializers they share.
 */
#ifndef SL_AGENT_OUTPUTS_OUTPUTS_H
#define SL_AGENT_OUTPUTS_OUTPUTS_H

#include "agent/metric.h"
#include "agent/plugin.h"
#include "common/buf.h"

extern const struct agent_output_ops output_file;
extern const struct agent_output_ops output_influxdb;
extern const struct agent_output_ops output_influxdb_v2;

/* Telegraf's json serializer: {"fields":{..},"name":"..","tags":{..},
 * "timestamp":N} with N in units of unit_ns (default 1 s), one line each. */
int serialize_json(const struct metric *m, int64_t unit_ns, struct sl_buf *out);

#endif
