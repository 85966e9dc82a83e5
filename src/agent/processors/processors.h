/*
 * processors.h — the processor plugins compiled into the agent (see
 * plugin.h for the ops contract and docs/agent.md for each one's options).
 */
#ifndef SL_AGENT_PROCESSORS_PROCESSORS_H
#define SL_AGENT_PROCESSORS_PROCESSORS_H

#include "agent/plugin.h"

extern const struct agent_processor_ops processor_converter;
extern const struct agent_processor_ops processor_enum;
extern const struct agent_processor_ops processor_filter;
extern const struct agent_processor_ops processor_pivot;
extern const struct agent_processor_ops processor_rename;

#endif
