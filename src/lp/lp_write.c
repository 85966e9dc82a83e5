/*
 * lp_write.c — the line-protocol serializer: escapers, series keys and
 * lp_write_point().
 *
 * Escaping mirrors the parser (lp_parse.c) so that parse(serialize(p)) == p:
 *   measurement                 ',' and ' ' get a backslash
 *   tag key, tag value, field key ',' '=' and ' ' get a backslash
 *   string field value          '"' gets a backslash
 * A backslash itself is doubled only where the parser would otherwise read
 * it as the start of an escape: before an escapable byte (including another
 * backslash) or at the end of the element. Elsewhere it is written as is,
 * which is also how InfluxDB 1.x and Telegraf read and write it ("C:\temp").
 *
 * Points that line protocol cannot express are refused with SL_EINVAL and
 * nothing is appended: empty measurement, keys or tag values, names holding a
 * line feed, a measurement starting with '#' or a tab (a comment or skipped
 * blank), keys named "time", NaN or infinite floats, no fields.
 */
#include <math.h>
#include <string.h>

#include "common/err.h"
#include "lp/lp.h"
#include "lp/lp_int.h"

enum esc_set { E_MEAS, E_KEY, E_STR };

static inline int needs_escape(enum esc_set k, char c)
{
    switch (k) {
    case E_MEAS: return c == ',' || c == ' ';
    case E_KEY: return c == ',' || c == ' ' || c == '=';
    case E_STR: return c == '"';
    }
    return 0;
}

static int escape(struct sl_buf *out, const char *s, size_t n, enum esc_set k)
{
    size_t i = 0;
    for (; i < n; i++)
        if (s[i] == '\\' || needs_escape(k, s[i])) break;
    int rc = sl_buf_add(out, s, i);
    if (rc < 0 || i == n) return rc;
    if ((rc = sl_buf_reserve(out, 2 * (n - i))) < 0) return rc;
    char *d = out->ptr + out->len;
    for (; i < n; i++) {
        char c = s[i];
        if (c == '\\') {
            int last = i + 1 == n;
            if (last || s[i + 1] == '\\' || needs_escape(k, s[i + 1])) *d++ = '\\';
        } else if (needs_escape(k, c)) {
            *d++ = '\\';
        }
        *d++ = c;
    }
    out->len = (size_t)(d - out->ptr);
    out->ptr[out->len] = 0;
    return 0;
}

int lp_escape_measurement(struct sl_buf *out, const char *s, size_t n)
{
    return escape(out, s, n, E_MEAS);
}

int lp_escape_key(struct sl_buf *out, const char *s, size_t n)
{
    return escape(out, s, n, E_KEY);
}

int lp_escape_string(struct sl_buf *out, const char *s, size_t n)
{
    return escape(out, s, n, E_STR);
}

int lp_series_key(const struct lp_point *pt, struct sl_buf *out)
{
    size_t mark = out->len;
    int rc = lp_escape_measurement(out, pt->measurement, pt->measurement_len);
    for (size_t i = 0; rc == 0 && i < pt->ntags; i++) {
        const struct lp_tag *t = &pt->tags[i];
        if ((rc = sl_buf_addc(out, ',')) < 0) break;
        if ((rc = lp_escape_key(out, t->key, t->key_len)) < 0) break;
        if ((rc = sl_buf_addc(out, '=')) < 0) break;
        rc = lp_escape_key(out, t->val, t->val_len);
    }
    if (rc < 0 && out->ptr) {
        out->len = mark;
        out->ptr[mark] = 0;
    }
    return rc;
}

static int valid_name(const char *s, size_t n)
{
    return n > 0 && !memchr(s, '\n', n);
}

static int valid_key(const char *s, size_t n)
{
    return valid_name(s, n) && !(n == 4 && !memcmp(s, "time", 4));
}

static int check_point(const struct lp_point *pt, const struct lp_write_opts *o)
{
    if (!valid_name(pt->measurement, pt->measurement_len)) return SL_EINVAL;
    if (pt->measurement[0] == '#' || pt->measurement[0] == '\t') return SL_EINVAL;
    if (pt->nfields == 0) return SL_EINVAL;
    for (size_t i = 0; i < pt->ntags; i++)
        if (!valid_key(pt->tags[i].key, pt->tags[i].key_len) ||
            !valid_name(pt->tags[i].val, pt->tags[i].val_len))
            return SL_EINVAL;
    for (size_t i = 0; i < pt->nfields; i++) {
        const struct lp_field *f = &pt->fields[i];
        if (!valid_key(f->key, f->key_len)) return SL_EINVAL;
        if (f->type == LP_FLOAT && !isfinite(f->v.f)) return SL_EINVAL;
        if ((unsigned)f->type > LP_BOOLEAN) return SL_EINVAL;
    }
    (void)o;
    return 0;
}

static int write_field(struct sl_buf *out, const struct lp_field *f, int uint_support)
{
    char num[40];
    size_t n;
    int rc = lp_escape_key(out, f->key, f->key_len);
    if (rc < 0 || (rc = sl_buf_addc(out, '=')) < 0) return rc;
    switch (f->type) {
    case LP_FLOAT: n = lp_format_float(f->v.f, num); return sl_buf_add(out, num, n);
    case LP_INTEGER:
        n = lp_fmt_i64(f->v.i, num);
        num[n++] = 'i';
        return sl_buf_add(out, num, n);
    case LP_UNSIGNED:
        if (uint_support) {
            n = lp_fmt_u64(f->v.u, num);
            num[n++] = 'u';
        } else {
            /* 1.x servers have no unsigned type: clamp like Telegraf does */
            n = lp_fmt_i64(f->v.u > (uint64_t)INT64_MAX ? INT64_MAX : (int64_t)f->v.u, num);
            num[n++] = 'i';
        }
        return sl_buf_add(out, num, n);
    case LP_STRING:
        if ((rc = sl_buf_addc(out, '"')) < 0) return rc;
        if ((rc = lp_escape_string(out, f->v.s.ptr, f->v.s.len)) < 0) return rc;
        return sl_buf_addc(out, '"');
    case LP_BOOLEAN: return sl_buf_adds(out, f->v.b ? "true" : "false");
    }
    return SL_EINVAL;
}

int lp_write_point(struct sl_buf *out, const struct lp_point *pt, const struct lp_write_opts *o)
{
    int rc = check_point(pt, o);
    if (rc < 0) return rc;
    size_t mark = out->len;
    if ((rc = lp_series_key(pt, out)) < 0) goto out;
    for (size_t i = 0; i < pt->nfields; i++) {
        if ((rc = sl_buf_addc(out, i ? ',' : ' ')) < 0) goto out;
        if ((rc = write_field(out, &pt->fields[i], o ? o->uint_support : 0)) < 0) goto out;
    }
    if (pt->has_time) {
        int64_t t = pt->time;
        if (o && o->precision != LP_PREC_AUTO) t /= lp_precision_ns(o->precision);
        char num[24];
        num[0] = ' ';
        size_t n = 1 + lp_fmt_i64(t, num + 1);
        if ((rc = sl_buf_add(out, num, n)) < 0) goto out;
    }
    rc = sl_buf_addc(out, '\n');
out:
    if (rc < 0 && out->ptr) {
        out->len = mark;
        out->ptr[mark] = 0;
    }
    return rc;
}
