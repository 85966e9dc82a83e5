/*
 * parsers.h — Telegraf's input data formats, shared by every input that has
 * a `data_format` option (mqtt_consumer, tail, exec, http_listener_v2,
 * prometheus, ...).
 *
 * Formats:
 *   influx      line protocol (src/lp); option influx_timestamp_precision
 *               (accepted; "ns" unless given as "1us"/"1ms"/"1s").
 *   json        Telegraf's v1 JSON parser: an object or an array of objects,
 *               one metric each. Nested objects/arrays are flattened with
 *               "_" ("a_b", "list_0"). Numbers become float fields; strings
 *               and booleans are ignored unless their key matches tag_keys
 *               (→ tag) or json_string_fields (→ string field). Options:
 *               tag_keys, json_string_fields (globs), json_name_key,
 *               json_time_key + json_time_format ("unix", "unix_ms",
 *               "unix_us", "unix_ns" or a Go reference layout such as
 *               "2006-01-02T15:04:05Z07:00"), json_timezone (only "UTC" /
 *               "Local"), json_query (a simple GJSON path: dot-separated
 *               keys and array indexes, e.g. "data.items" or "a.0.b"),
 *               json_strict.
 *   prometheus  text exposition format, metric_version 1 mapping: the
 *               measurement is the family name, labels become tags; gauge →
 *               field "gauge", counter → "counter", untyped → "value";
 *               summary → "count", "sum" and one field per quantile
 *               ("0.5"); histogram → "count", "sum" and one field per bucket
 *               upper bound ("0.1", "+Inf"). Sample timestamps are in ms.
 *
 * Any other data_format is a configuration error naming the format. Inputs
 * create a parser from their plugin_conf in init (which marks the parser's
 * options as used, so unknown-option checking keeps working), then call
 * parser_parse for every message/line/body. Parsing never aborts on hostile
 * input: malformed data gives SL_EINVAL with a message, oversized input
 * SL_ETOOBIG (PARSER_MAX_INPUT).
 */
#ifndef SL_AGENT_PARSERS_H
#define SL_AGENT_PARSERS_H

#include <stddef.h>
#include <stdint.h>

#include "agent/metric.h"

struct plugin_conf;
struct parser;

#define PARSER_MAX_INPUT (64u << 20) /* bytes per parser_parse call */

enum parser_format { PARSER_INFLUX, PARSER_JSON, PARSER_PROMETHEUS };

/* Reads data_format (default_format when absent, e.g. "influx" or "json")
 * and the options of that format from c (c may be NULL: defaults).
 * metric_name is the measurement for formats that have none in the data
 * (json without json_name_key): Telegraf uses the input's plugin name, e.g.
 * "mqtt_consumer". On success *out is owned by the caller (parser_free).
 * Errors: SL_EINVAL with the message in c (conf_error), SL_ENOMEM. */
int parser_from_conf(struct plugin_conf *c, const char *default_format, const char *metric_name,
                     struct parser **out);
/* A parser with default options, for tests and inputs without options. */
int parser_new(enum parser_format f, const char *metric_name, struct parser **out);
void parser_free(struct parser *p);
enum parser_format parser_format(const struct parser *p);

/* Parses buf[0..len) and appends the metrics to out (which owns them).
 * now_ns is the time of metrics that carry none. On malformed input returns
 * SL_EINVAL and writes a message to err (cap bytes); metrics parsed before
 * the error are kept in out (influx: every valid line is kept, the error
 * names the first bad line). */
int parser_parse(struct parser *p, const char *buf, size_t len, int64_t now_ns,
                 struct metric_list *out, char *err, size_t errcap);

/* Go reference-layout time parsing ("2006-01-02T15:04:05Z07:00", "Jan _2
 * 15:04:05", ...), also the names "unix", "unix_ms", "unix_us", "unix_ns"
 * (the value is a number, possibly fractional, or a numeric string) and
 * "RFC3339", "RFC3339Nano", "RFC1123", "RFC1123Z", "ANSIC". Times without a
 * zone are UTC. Returns 0 or SL_EINVAL. Used by json and by processors. */
int parser_time_parse(const char *layout, const char *s, size_t n, int64_t *ns);
int parser_time_parse_number(const char *layout, double v, int64_t *ns);
/* Exact integer form of the unix layouts (a double loses ns digits). */
int parser_time_parse_int(const char *layout, int64_t v, int64_t *ns);

/* Go's float formatting: %v (shortest, exponent form outside [1e-4, 1e21),
 * "+Inf", "NaN") and FormatFloat 'f' -1 (shortest, never an exponent). */
void parser_go_float_v(double v, char *out, size_t cap);
void parser_go_float_f(double v, char *out, size_t cap);

/* The individual formats (parsers.c dispatches to them). */
int parser_json_parse(struct parser *p, const char *buf, size_t len, int64_t now_ns,
                      struct metric_list *out, char *err, size_t errcap);
int parser_prom_parse(const char *buf, size_t len, int64_t now_ns, struct metric_list *out,
                      char *err, size_t errcap);

#endif
