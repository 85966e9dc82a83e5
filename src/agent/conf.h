/*
 * conf.h — how plugins read their options.
 *
 * A plugin_conf wraps one [[inputs.X]] (or processor/aggregator/output) TOML
 * table. Each conf_* call looks an option up and marks it as used; after
 * init() the loader reports every option nobody asked for as unknown, with
 * its line. An absent option leaves *out untouched (the plugin sets its
 * default first). A value of the wrong type is an error naming the option
 * and its line; the message is kept in the conf (conf_error).
 *
 * A NULL plugin_conf is valid and means "no options": every call returns 0
 * without touching *out, so inputs can be built with defaults (tests, --test).
 */
#ifndef SL_AGENT_CONF_H
#define SL_AGENT_CONF_H

#include <stddef.h>
#include <stdint.h>

#include "agent/filter.h"

struct plugin_conf;
struct toml_table;

int conf_bool(struct plugin_conf *c, const char *key, int *out);
int conf_int(struct plugin_conf *c, const char *key, int64_t *out);
int conf_float(struct plugin_conf *c, const char *key, double *out);
/* Telegraf durations: a string ("10s", "1m30s", "500ms") or an integer
 * number of seconds. */
int conf_duration(struct plugin_conf *c, const char *key, int64_t *ns);
/* Telegraf sizes: an integer of bytes or a string "10MB", "1KiB", ... */
int conf_size(struct plugin_conf *c, const char *key, int64_t *bytes);
/* Replaces *out (sl_free'd) with a copy of the string. */
int conf_str(struct plugin_conf *c, const char *key, char **out);
/* Appends every string of an array (a single string counts as one). */
int conf_strlist(struct plugin_conf *c, const char *key, struct glob_list *out);
/* A sub-table (e.g. [inputs.x.tags]) or array of tables; marks the key used.
 * Returns NULL when absent. Each element is wrapped in a child conf that
 * the caller frees with conf_free. */
struct plugin_conf *conf_table(struct plugin_conf *c, const char *key);
size_t conf_table_array_len(struct plugin_conf *c, const char *key);
struct plugin_conf *conf_table_array_at(struct plugin_conf *c, const char *key, size_t i);
/* Iterates over the keys of the table: returns the i-th key or NULL. Keys
 * visited this way are not marked; call conf_mark for those consumed. */
const char *conf_key_at(struct plugin_conf *c, size_t i);
void conf_mark(struct plugin_conf *c, const char *key);
/* The raw TOML value of key (marked used), or NULL when absent: for
 * options whose type varies (enum value_mappings). */
const struct toml_value *conf_value(struct plugin_conf *c, const char *key);
/* For sub-tables a plugin reads itself (e.g. [[processors.rename.replace]]):
 * when child holds an error (from a failed conf_* call) or has an option
 * nobody read ("unknown option", with the child's line), copies the message
 * to parent and returns SL_EINVAL; else 0. */
int conf_check_child(struct plugin_conf *parent, struct plugin_conf *child);
/* 1 when the table has the key (does not mark it used). */
int conf_has(struct plugin_conf *c, const char *key);
/* Line of key (or of the table when key is NULL); 0 if unknown. */
int conf_line(struct plugin_conf *c, const char *key);
/* Sets the error message (printf-style) and returns SL_EINVAL. */
int conf_fail(struct plugin_conf *c, const char *key, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
const char *conf_error(struct plugin_conf *c);
/* The dotted name of the table, e.g. "inputs.cpu". */
const char *conf_name(struct plugin_conf *c);

/* Wraps a TOML table (not owned) named `name`; NULL on allocation failure. */
struct plugin_conf *conf_wrap(const struct toml_table *t, const char *name, const char *file);
void conf_free(struct plugin_conf *c);
/* Finds the first option of the table nobody used; returns its key or NULL. */
const char *conf_first_unused(struct plugin_conf *c);

#endif
