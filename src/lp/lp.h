/*
 * lp.h — the line-protocol library: a streaming parser and a serializer,
 * shared by the server, the agent, the client library and the CLI.
 *
 * Parsing contract
 * ----------------
 * lp_parser_next() walks the input one line at a time and yields either a
 * point (LP_POINT) or an error for that line (LP_ERROR); comment and blank
 * lines yield nothing. It never stops at a bad line, so callers can implement
 * each API's partial-write rules. Strings in a point (measurement, keys, tag
 * values, string field values) are unescaped: they point into the input when
 * the element had no escapes (zero copy) and into the parser's per-line
 * scratch space otherwise. Everything in a point stays valid until the next
 * call to lp_parser_next() or lp_parser_release().
 *
 * Tags are sorted by key (bytewise on the unescaped key), which gives the
 * series key; fields keep their input order. Timestamps are scaled to
 * nanoseconds by the parser's precision; a line without a timestamp has
 * has_time = 0 and the caller supplies one.
 */
#ifndef SL_LP_LP_H
#define SL_LP_LP_H

#include <stddef.h>
#include <stdint.h>

#include "common/buf.h"

enum lp_type { LP_FLOAT = 0, LP_INTEGER = 1, LP_UNSIGNED = 2, LP_STRING = 3, LP_BOOLEAN = 4 };

/* "float", "integer", "unsigned", "string", "boolean" */
const char *lp_type_name(enum lp_type t);

enum lp_precision {
    LP_PREC_NS = 0,
    LP_PREC_US,
    LP_PREC_MS,
    LP_PREC_S,
    LP_PREC_M,
    LP_PREC_H,
    LP_PREC_AUTO, /* InfluxDB 3: |ts| < 5e9 s, < 5e12 ms, < 5e15 us, else ns */
};

/* Parses a precision name: n ns u us µs ms s m h auto, and the long names
 * nanosecond microsecond millisecond second. Which names an endpoint accepts
 * is the caller's business. Returns 0 or SL_EINVAL. */
int lp_precision_parse(const char *s, enum lp_precision *out);
/* Nanoseconds per unit of p (1 for ns and auto). */
int64_t lp_precision_ns(enum lp_precision p);

#define LP_MAX_NAME_DEFAULT   (64 * 1024)   /* measurement, tag key/value, field key */
#define LP_MAX_STRING_DEFAULT (1024 * 1024) /* string field value */
/* InfluxDB 1.x range; both ends are reserved sentinels there */
#define LP_TIME_MIN (-9223372036854775806LL)
#define LP_TIME_MAX (9223372036854775806LL)

struct lp_tag {
    const char *key;
    size_t key_len;
    const char *val;
    size_t val_len;
};

struct lp_field {
    const char *key;
    size_t key_len;
    enum lp_type type;
    union {
        double f;
        int64_t i;
        uint64_t u;
        int b;
        struct {
            const char *ptr;
            size_t len;
        } s;
    } v;
};

struct lp_point {
    const char *measurement;
    size_t measurement_len;
    struct lp_tag *tags; /* sorted by key */
    size_t ntags;
    struct lp_field *fields; /* input order, keys unique */
    size_t nfields;
    int has_time;
    int64_t time;    /* ns since the epoch when has_time */
    size_t line;     /* 1-based line number in the input */
    const char *raw; /* the line as written, without its line ending */
    size_t raw_len;
};

struct lp_error {
    size_t line;     /* 1-based */
    size_t column;   /* 1-based byte column where the problem was found */
    const char *raw; /* the whole line, valid like a point's strings */
    size_t raw_len;
    char message[256]; /* what is wrong, e.g. "invalid field value: expected ..." */
};

struct lp_parser_opts {
    enum lp_precision precision;
    size_t max_name;   /* 0 = LP_MAX_NAME_DEFAULT */
    size_t max_string; /* 0 = LP_MAX_STRING_DEFAULT */
};

/* Parser state; treat the fields as private. */
struct lp_parser {
    const char *buf, *end, *cur;
    size_t line;
    struct lp_parser_opts opts;
    struct lp_tag *tags;
    size_t tags_cap;
    struct lp_field *fields;
    size_t fields_cap;
    char *scratch; /* unescaped copies for the current line */
    size_t scratch_cap, scratch_len;
    size_t *order; /* field indexes, for the duplicate-key check of wide lines */
    size_t order_cap;
};

enum { LP_END = 0, LP_POINT = 1, LP_ERROR = 2 };

/* buf need not be NUL-terminated; it must outlive the parser's points.
 * opts may be NULL (ns precision, default limits). */
void lp_parser_init(struct lp_parser *p, const char *buf, size_t len,
                    const struct lp_parser_opts *opts);
/* Returns LP_POINT, LP_ERROR, LP_END, or SL_ENOMEM (the parser is then
 * unusable). */
int lp_parser_next(struct lp_parser *p, struct lp_point *pt, struct lp_error *err);
void lp_parser_release(struct lp_parser *p);

/* Appends the canonical series key "measurement,k1=v1,k2=v2" (escaped as
 * line protocol, tags in the point's sorted order). */
int lp_series_key(const struct lp_point *pt, struct sl_buf *out);

/* Serializer. */
struct lp_write_opts {
    int uint_support;            /* 0: unsigned fields are written as integers (1.x servers) */
    enum lp_precision precision; /* the unit the timestamp is written in (never AUTO) */
};
/* Appends one line (with '\n'). Tags are written in the order given; callers
 * that build points by hand sort them with lp_sort_tags() first. */
int lp_write_point(struct sl_buf *out, const struct lp_point *pt, const struct lp_write_opts *o);
void lp_sort_tags(struct lp_tag *tags, size_t n);
/* Escapers: which characters each element must escape. */
int lp_escape_measurement(struct sl_buf *out, const char *s, size_t n);
int lp_escape_key(struct sl_buf *out, const char *s, size_t n);    /* tag key/value, field key */
int lp_escape_string(struct sl_buf *out, const char *s, size_t n); /* inside the quotes */
/* Shortest decimal that parses back to exactly v; returns length (< 32). */
size_t lp_format_float(double v, char *out);

#endif
