/*
 * sluice/point.h — the point builder of libsluice.
 *
 * A point is one line of line protocol: a measurement, tags, at least one
 * typed field and an optional timestamp. The builder copies every string it
 * is given, so callers may reuse their buffers at once. Tags are sorted by
 * key when the point is serialized; a repeated tag or field key replaces the
 * earlier value (last one wins), as servers would do with the line anyway.
 *
 *   struct sl_point *p;
 *   if (sl_point_new(&p, "cpu") == 0) {
 *       sl_point_tag(p, "host", "a");
 *       sl_point_field_float(p, "usage", 12.5);
 *       sl_point_time(p, 1700000000000000000);
 *       sl_writer_write_point(w, p);     // or sl_point_encode()
 *       sl_point_free(p);
 *   }
 *
 * A point is not thread-safe; use one per thread (the writer copies the
 * serialized line, so a point can be reused right after a write).
 */
#ifndef SLUICE_POINT_H
#define SLUICE_POINT_H

#include <sluice/sluice.h>

#ifdef __cplusplus
extern "C" {
#endif

struct sl_point;

/* Limits that keep a hostile or buggy caller from building absurd lines. */
#define SL_POINT_MAX_NAME   65535u   /* measurement, tag and field keys, tag values */
#define SL_POINT_MAX_STRING 1048576u /* a string field value */
#define SL_POINT_MAX_TAGS   1024u
#define SL_POINT_MAX_FIELDS 1024u

/* Creates a point for `measurement` (non-empty, <= SL_POINT_MAX_NAME bytes).
 * On success *out owns the point (release with sl_point_free) and 0 is
 * returned; otherwise *out is NULL and SL_EINVAL or SL_ENOMEM is returned. */
int sl_point_new(struct sl_point **out, const char *measurement);

/* Empties the point (tags, fields, time) and gives it a new measurement,
 * keeping its memory. Returns 0, SL_EINVAL or SL_ENOMEM; on error the point
 * is unchanged. */
int sl_point_reset(struct sl_point *p, const char *measurement);

/* Adds or replaces a tag. key and val must be non-empty (servers reject
 * empty tag values; omit the tag instead) and <= SL_POINT_MAX_NAME bytes.
 * Returns 0, SL_EINVAL (empty/too long/too many tags) or SL_ENOMEM. */
int sl_point_tag(struct sl_point *p, const char *key, const char *val);

/* Adds or replaces a field. key is non-empty, <= SL_POINT_MAX_NAME bytes.
 * Floats must be finite (line protocol has no NaN or Inf): SL_EINVAL.
 * String values are arbitrary bytes up to SL_POINT_MAX_STRING (they are
 * escaped as needed); _string_n takes an explicit length.
 * Unsigned fields are written with the `u` suffix unless the writer is
 * configured for a server without unsigned support (then as integers,
 * SL_ERANGE if the value exceeds INT64_MAX).
 * Returns 0, SL_EINVAL or SL_ENOMEM. */
int sl_point_field_float(struct sl_point *p, const char *key, double v);
int sl_point_field_int(struct sl_point *p, const char *key, int64_t v);
int sl_point_field_uint(struct sl_point *p, const char *key, uint64_t v);
int sl_point_field_bool(struct sl_point *p, const char *key, int v);
int sl_point_field_string(struct sl_point *p, const char *key, const char *v);
int sl_point_field_string_n(struct sl_point *p, const char *key, const char *v, size_t len);

/* Sets the timestamp in nanoseconds since the Unix epoch. Without one the
 * server stamps the point on arrival. */
void sl_point_time(struct sl_point *p, int64_t ns);
/* Removes the timestamp. */
void sl_point_clear_time(struct sl_point *p);

/* Serializes the point as one line of line protocol ending in '\n', with the
 * time converted (truncated toward zero) to `prec` and unsigned fields
 * written as `u` when uint_support is non-zero, as integers otherwise.
 * On success *line is a NUL-terminated string owned by the caller (release
 * with sl_free) and *len its length. Returns 0; SL_EINVAL if the point has no
 * field; SL_ERANGE for an unsigned value that an integer cannot hold;
 * SL_ENOMEM. */
int sl_point_encode(const struct sl_point *p, enum sl_precision prec, int uint_support, char **line,
                    size_t *len);

/* Releases the point. NULL is allowed. */
void sl_point_free(struct sl_point *p);

#ifdef __cplusplus
}
#endif

#endif
