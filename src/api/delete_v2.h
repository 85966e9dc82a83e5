/*
 * delete_v2.h — the request language of InfluxDB 2.x's delete API
 * (POST /api/v2/delete): the delete predicate and the start/stop times.
 * Pure functions (no HTTP, no engine) so that unit tests and the fuzz target
 * drive them directly; delete_v2.c is the endpoint that uses them.
 *
 * Predicate grammar (InfluxDB 2.x's, see delete_pred.c for the details):
 *
 *     predicate := empty | conj
 *     conj      := term { AND term }
 *     term      := key "=" value | "(" conj ")"
 *     key       := identifier | "double-quoted name"
 *     value     := "double-quoted string" | identifier | number | true | false
 *
 * AND and OR are case-insensitive. `_measurement` selects the measurement,
 * any other key a tag. Refused with a message: OR, != and the regex
 * operators, single-quoted strings, `_time` and `_value`; `_field` is valid
 * syntax that InfluxDB 2.x answers with 501 (delete by field is not supported).
 */
#ifndef SL_API_DELETE_V2_H
#define SL_API_DELETE_V2_H

#include <stddef.h>
#include <stdint.h>

#include "storage/delete.h"

/* Longest predicate accepted, in bytes. */
#define DELETE_V2_MAX_PREDICATE 65536
/* Most comparisons in one predicate, and deepest parenthesis nesting. */
#define DELETE_V2_MAX_TERMS  256
#define DELETE_V2_MAX_PARENS 64

struct delete_v2_err {
    int not_implemented; /* the request is valid but asks what sluice (as 2.x) cannot do: 501 */
    char msg[300];       /* lower-case, names the problem and its byte position */
};

/* Parses predicate (s, n) into *root: NULL for an empty or all-blank
 * predicate (every series), else a tree of DEL_AND over DEL_NAME_EQ and
 * DEL_TAG_EQ leaves (balanced, depth <= log2(DELETE_V2_MAX_TERMS) + 1), owned
 * by the caller (del_node_free). Returns 0; SL_EINVAL with e filled (400, or
 * 501 when e->not_implemented); SL_ENOMEM. *root is NULL on failure. */
int delete_v2_parse_predicate(const char *s, size_t n, struct del_node **root,
                              struct delete_v2_err *e);

/* Parses a start or stop time the way InfluxDB 2.x does (Go's RFC3339Nano:
 * YYYY-MM-DDTHH:MM:SS[.fraction](Z|+HH:MM|-HH:MM)) into ns since the epoch.
 * Returns 0, SL_EINVAL (not that shape, or no such date) or SL_ERANGE (outside
 * 2.x's range 1677-09-21T00:12:43.145224194Z .. 2262-04-11T23:47:16.854775806Z). */
int delete_v2_parse_time(const char *s, size_t n, int64_t *ns);

#endif
