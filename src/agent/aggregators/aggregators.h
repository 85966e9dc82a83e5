/*
 * aggregators.h — the aggregator plugins compiled into the agent (see
 * plugin.h for the ops contract; the agent calls add/push/reset under the
 * instance's lock).
 */
#ifndef SL_AGENT_AGGREGATORS_AGGREGATORS_H
#define SL_AGENT_AGGREGATORS_AGGREGATORS_H

#include "agent/plugin.h"

extern const struct agent_aggregator_ops aggregator_basicstats;

#endif
