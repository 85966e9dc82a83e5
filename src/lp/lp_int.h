/*
 * lp_int.h — private helpers shared by the files of the line-protocol
 * library (parser, number codecs, serializer). Not for use outside src/lp/.
 */
#ifndef SL_LP_LP_INT_H
#define SL_LP_LP_INT_H

#include <stddef.h>
#include <stdint.h>

/* Number parsing results. */
enum lp_num_rc {
    LP_NUM_OK = 0,
    LP_NUM_SYNTAX = 1, /* not a number of the expected form */
    LP_NUM_RANGE = 2,  /* well formed but out of range */
    LP_NUM_NOMEM = 3,  /* the slow path could not allocate a copy */
};

/* Parses s[0..n) as a line-protocol float: -?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?
 * (no sign '+', no NaN/Inf, no hex). Exact: uses the Clinger fast path when
 * the value is exactly representable, strtod otherwise. */
enum lp_num_rc lp_parse_float(const char *s, size_t n, double *out);
/* -?\d+ within int64 (s excludes the 'i' suffix). */
enum lp_num_rc lp_parse_int(const char *s, size_t n, int64_t *out);
/* \d+ within uint64 (s excludes the 'u' suffix). */
enum lp_num_rc lp_parse_uint(const char *s, size_t n, uint64_t *out);

/* Decimal writers; return the number of bytes written (at most 20). */
size_t lp_fmt_i64(int64_t v, char *out);
size_t lp_fmt_u64(uint64_t v, char *out);

#endif
