/*
 * parsers_int.h — the parser object shared by the format implementations
 * (parsers.c, json.c, prometheus.c). Not for inputs: they use parsers.h.
 */
#ifndef SL_AGENT_PARSERS_INT_H
#define SL_AGENT_PARSERS_INT_H

#include "agent/filter.h"
#include "agent/parsers/parsers.h"

struct parser {
    enum parser_format format;
    char *metric_name;
    /* influx */
    int64_t influx_precision_ns; /* multiplier for timestamps, 1 = ns */
    /* json */
    struct glob_list tag_keys, string_fields;
    char *name_key, *time_key, *time_format, *query, *timezone;
    int strict;
};

#endif
