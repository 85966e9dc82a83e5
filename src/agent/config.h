/*
 * config.h — loading telegraf.conf files into an agent.
 *
 * Files are read whole, environment-substituted (toml_envsubst: $VAR,
 * ${VAR}, ${VAR:-default}, ${VAR-default}, ${VAR:?err}), parsed as TOML 1.0
 * and applied in order: --config files as given, then the *.conf files of
 * --config-directory in lexical order. Later [agent] and [global_tags] keys
 * override earlier ones; plugins accumulate.
 *
 * Every error names the file, the line and the offending plugin or option:
 * an unknown plugin, an option no plugin reads, a value of the wrong type.
 */
#ifndef SL_AGENT_CONFIG_H
#define SL_AGENT_CONFIG_H

#include <stddef.h>

#include "agent/agent.h"

struct agent_load_opts {
    const char *const *files;
    size_t nfiles;
    const char *dir;           /* --config-directory, or NULL */
    const char *input_filter;  /* "cpu:mem" — only these inputs, or NULL */
    const char *output_filter; /* likewise for outputs */
};

/* Loads every configuration source into a (initialised with agent_init)
 * and calls agent_prepare. On failure returns SL_E* with a message in err. */
int agent_config_load(struct agent *a, const struct agent_load_opts *o, char *err, size_t errcap);
/* Applies one file's text (already read); fname is used in messages. */
int agent_config_apply_text(struct agent *a, const char *text, size_t len, const char *fname,
                            const struct agent_load_opts *o, char *err, size_t errcap);

#endif
