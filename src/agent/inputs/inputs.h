/*
 * inputs.h — the input plugins compiled into the agent (registered in
 * registry.c), and the pieces of them that unit tests drive directly.
 */
#ifndef SL_AGENT_INPUTS_INPUTS_H
#define SL_AGENT_INPUTS_INPUTS_H

#include "agent/inputs/procfs.h"
#include "agent/metric.h"
#include "agent/plugin.h"

extern const struct agent_input_ops input_cpu;
extern const struct agent_input_ops input_mem;
extern const struct agent_input_ops input_system;
extern const struct agent_input_ops input_processes;
extern const struct agent_input_ops input_disk;
extern const struct agent_input_ops input_diskio;
extern const struct agent_input_ops input_net;
extern const struct agent_input_ops input_internal;

/* Test hooks: point an initialised cpu input (or mem/system/processes/net/
 * diskio input) at another proc root. */
int input_cpu_set_root(void *state, const char *proc_root);
int input_root_set(void *state, const char *proc_root);
/* The field computations of mem and processes, for tests on fixtures. */
int input_mem_fill(const struct meminfo *mi, struct metric *m);
int input_processes_fill(const struct proc_counts *pc, struct metric *m);

#endif
