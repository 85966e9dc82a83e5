/*
 * toml.h — a TOML 1.0 parser producing a read-only DOM, plus Telegraf's
 * environment-variable substitution. Used by `sluice agent` to read
 * telegraf.conf files unchanged.
 *
 * Conformance: full TOML 1.0.0 (https://toml.io/en/v1.0.0); the toml-test
 * suite's 1.0 set passes in full (tests/unit/test_toml_suite.c). Integers
 * are int64, floats double. Fractional seconds keep nanosecond precision
 * (digits beyond the 9th are truncated, as the spec allows).
 *
 * Document model
 * --------------
 * toml_parse() returns the root table as a struct toml_value. Every value
 * knows the line and column where it was defined: for a key/value pair the
 * position of the key; for a table the [header] that defined it explicitly
 * (or, for a table only created implicitly by `[a.b.c]` or `a.b.c = 1`, the
 * first such header or key); for an element of an array its own position
 * (for [[array.of.tables]] the header). Columns are 1-based byte offsets in
 * the line. Tables keep their keys in definition order and index them by
 * hash once they grow, so lookups are O(1) and building is linear.
 *
 * The DOM lives in one arena owned by the root: toml_free(root) releases
 * everything, and every pointer obtained from the document (values, keys,
 * strings) is valid until then. Nothing is ever modified after parsing, so a
 * document may be read from several threads at once.
 *
 * Strings and keys are UTF-8, NUL-terminated for convenience, but may also
 * contain NUL (from "\u0000"), so the accessors give their lengths too.
 *
 * Limits (hostile input): input up to TOML_MAX_INPUT bytes; tables and
 * arrays nested at most TOML_MAX_DEPTH deep (counting every table level a
 * dotted key or header creates); the whole DOM is capped at
 * TOML_MAX_MEMORY bytes. Exceeding a limit is a parse error, never a crash.
 *
 * Errors: functions return 0 or a negative SL_E* code (common/err.h).
 */
#ifndef SL_TOML_TOML_H
#define SL_TOML_TOML_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/buf.h"

#define TOML_MAX_INPUT  ((size_t)16 << 20)  /* bytes of TOML text */
#define TOML_MAX_DEPTH  128                 /* nesting of tables and arrays */
#define TOML_MAX_MEMORY ((size_t)512 << 20) /* arena cap for one document */

enum toml_type {
    TOML_TABLE = 1,
    TOML_ARRAY,
    TOML_STRING,
    TOML_INTEGER,
    TOML_FLOAT,
    TOML_BOOL,
    TOML_DATETIME,       /* offset date-time: 1979-05-27T07:32:00-07:00 */
    TOML_DATETIME_LOCAL, /* 1979-05-27T07:32:00 */
    TOML_DATE_LOCAL,     /* 1979-05-27 */
    TOML_TIME_LOCAL,     /* 07:32:00 */
};

/* The fields a datetime type does not have are zero. */
struct toml_datetime {
    int year, month, day;     /* date types */
    int hour, minute, second; /* time types */
    int nanosecond;           /* 0..999999999 */
    int offset_minutes;       /* TOML_DATETIME: offset east of UTC (Z = 0) */
};

/* Where and why parsing failed. line/column are 1-based (column in bytes);
 * msg is a lower-case phrase without a trailing full stop. */
struct toml_error {
    int line;
    int column;
    char msg[160];
};

struct toml_value; /* any value; the root is a TOML_TABLE */
struct toml_table; /* the table inside a TOML_TABLE value */
struct toml_array; /* the array inside a TOML_ARRAY value */

/*
 * Parses len bytes of TOML. On success returns 0 and sets *root to the root
 * table, which the caller frees with toml_free(). On failure returns
 * SL_EINVAL (malformed), SL_ETOOBIG (a limit was hit) or SL_ENOMEM, leaves
 * *root NULL and fills *err (when err is not NULL).
 */
int toml_parse(const char *buf, size_t len, struct toml_value **root, struct toml_error *err);
/* Frees a document returned by toml_parse (NULL is allowed). Only the root
 * may be passed. */
void toml_free(struct toml_value *root);

enum toml_type toml_type(const struct toml_value *v);
/* "table", "array", "string", "integer", "float", "bool", "datetime",
 * "datetime-local", "date-local", "time-local" (the toml-test tags). */
const char *toml_type_name(enum toml_type t);
int toml_line(const struct toml_value *v);
int toml_column(const struct toml_value *v);

/* The table/array inside v, or NULL when v is NULL or of another type. */
const struct toml_table *toml_as_table(const struct toml_value *v);
const struct toml_array *toml_as_array(const struct toml_value *v);
/* The value holding a table (to ask for its line). */
const struct toml_value *toml_table_value(const struct toml_table *t);

/* Tables: entries in definition order, i < toml_table_len(t). */
size_t toml_table_len(const struct toml_table *t);
/* The value of key (NUL-terminated) or NULL when absent. */
const struct toml_value *toml_table_get(const struct toml_table *t, const char *key);
const struct toml_value *toml_table_getn(const struct toml_table *t, const char *key, size_t len);
/* The i-th key (NUL-terminated; *len gets its length when len is not NULL)
 * and value; NULL when i is out of range. */
const char *toml_table_key_at(const struct toml_table *t, size_t i, size_t *len);
const struct toml_value *toml_table_value_at(const struct toml_table *t, size_t i);
/* The sub-table at key, or NULL when absent or not a table. */
const struct toml_table *toml_table_get_table(const struct toml_table *t, const char *key);
/* The array at key, or NULL when absent or not an array. */
const struct toml_array *toml_table_get_array(const struct toml_table *t, const char *key);

/* Arrays. */
size_t toml_array_len(const struct toml_array *a);
const struct toml_value *toml_array_at(const struct toml_array *a, size_t i);
/* True when the array was made by [[header]] sections (an array of tables),
 * false for an inline array `[ ... ]` (which may also hold tables). */
bool toml_array_is_table_array(const struct toml_array *a);

/*
 * Typed getters: return 0 and store the value, or SL_EINVAL (output
 * untouched) when v is NULL or of another type.
 */
/* *s stays owned by the document; it is NUL-terminated, *len (optional)
 * counts bytes without the terminator. */
int toml_get_string(const struct toml_value *v, const char **s, size_t *len);
int toml_get_int(const struct toml_value *v, int64_t *out);
/* Only TOML_FLOAT. */
int toml_get_float(const struct toml_value *v, double *out);
/* TOML_FLOAT, or TOML_INTEGER converted to double. */
int toml_get_number(const struct toml_value *v, double *out);
int toml_get_bool(const struct toml_value *v, bool *out);
/* Any of the four datetime types (see toml_type for which). */
int toml_get_datetime(const struct toml_value *v, struct toml_datetime *out);

/*
 * Formats a datetime value as RFC 3339 (the toml-test form): date
 * "1979-05-27", time "07:32:00" with ".fraction" only when non-zero (trailing
 * zeros dropped), offset "Z" for +00:00 else "+hh:mm". Returns the length
 * written (< cap), SL_EINVAL for a non-datetime, SL_ETOOBIG when cap < 40.
 */
int toml_format_datetime(const struct toml_value *v, char *out, size_t cap);

/*
 * Environment substitution, as Telegraf (>= 1.27) does it on the raw text
 * of a configuration file before parsing it. The rules (docs/toml.md):
 *
 *   $NAME, ${NAME}     the value of NAME; when NAME is unset the text stays
 *                      as written. NAME is [A-Za-z_][A-Za-z0-9_]*.
 *   ${NAME:-word}      word when NAME is unset or empty
 *   ${NAME-word}       word when NAME is unset
 *   ${NAME:+word}      word when NAME is set and non-empty, else ""
 *   ${NAME+word}       word when NAME is set, else ""
 *   ${NAME:?msg}       error "required variable NAME is missing a value:
 *                      msg" when NAME is unset or empty
 *   ${NAME?msg}        the same error only when NAME is unset
 *   $$                 a literal $
 *
 * word and msg extend to the matching `}` (a nested ${...} counts) on the
 * same line and are themselves substituted. Anything else after a $ (e.g.
 * "${1}", "$ ", "${NAME x}") is left as written. Values are inserted
 * verbatim: they are not substituted again and not escaped, so quoting is
 * the config author's business (as in Telegraf). Comments (a # outside a
 * string, to the end of its line) are copied unchanged and never
 * substituted, so a commented-out ${X:?} is not an error.
 */

/* Looks a variable up: returns its value (not owned by the caller) or NULL
 * when unset. */
typedef const char *(*toml_env_lookup_fn)(const char *name, void *ctx);

/* Substitutes with getenv(). Appends the result to out (whose cap bounds it).
 * Returns 0, SL_EINVAL with a message in errmsg (":?"/"?" forms; the message
 * names the line), SL_ETOOBIG or SL_ENOMEM. On failure out may hold a
 * partial result. errmsg may be NULL when errcap is 0. */
int toml_envsubst(const char *in, size_t len, struct sl_buf *out, char *errmsg, size_t errcap);
/* The same with a caller-supplied lookup (tests, or a fixed environment). */
int toml_envsubst_with(const char *in, size_t len, toml_env_lookup_fn lookup, void *ctx,
                       struct sl_buf *out, char *errmsg, size_t errcap);

#endif
