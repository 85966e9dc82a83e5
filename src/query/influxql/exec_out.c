/*
 * exec_out.c — encoders of InfluxQL results in InfluxDB 1.x's formats.
 *
 * JSON: {"statement_id":N,"series":[{"name","tags","columns","values"}]},
 * floats as Go's encoding/json writes them (shortest digits; exponent form
 * below 1e-6 and from 1e21), times as RFC 3339 with the shortest fraction
 * or, with epoch=, integers in that unit (truncated). NaN and infinities
 * (which 1.x cannot encode) are written as null.
 *
 * CSV (Accept: application/csv): per statement a header
 * "name,tags,<columns>" from its first series, then one line per row with
 * the series name, its tags as k=v pairs joined by commas, and the values;
 * times are integers (ns unless epoch=). Statements are separated by an
 * empty line. A statement error is written as "error" / message lines
 * (1.x drops it silently).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/err.h"
#include "common/timeutil.h"
#include "query/influxql/exec.h"

int iql_epoch_parse(const char *epoch, int64_t *div)
{
    *div = 0;
    if (!epoch || !*epoch) return 0;
    if (!strcmp(epoch, "ns") || !strcmp(epoch, "n"))
        *div = 1;
    else if (!strcmp(epoch, "u") || !strcmp(epoch, "us") || !strcmp(epoch, "\xc2\xb5"))
        *div = 1000;
    else if (!strcmp(epoch, "ms"))
        *div = 1000000;
    else if (!strcmp(epoch, "s"))
        *div = SL_NS_PER_S;
    else if (!strcmp(epoch, "m"))
        *div = 60 * SL_NS_PER_S;
    else if (!strcmp(epoch, "h"))
        *div = 3600 * SL_NS_PER_S;
    else {
        *div = 1; /* 1.x falls back to nanoseconds for an unknown unit */
        return SL_EINVAL;
    }
    return 0;
}

/* Shortest round-trip digits of v (> 0): digits and decimal exponent e such
 * that v = 0.d1d2... * 10^(e+1)... i.e. d1.d2... * 10^e. */
static void shortest(double v, char *digits, int *nd, int *exp10)
{
    char tmp[40];
    for (int p = 0; p < 17; p++) {
        snprintf(tmp, sizeof(tmp), "%.*e", p, v);
        if (strtod(tmp, NULL) == v) break;
    }
    /* tmp = d[.ddd]e[+-]xx */
    int k = 0;
    const char *s = tmp;
    for (; *s && *s != 'e'; s++)
        if (*s >= '0' && *s <= '9') digits[k++] = *s;
    while (k > 1 && digits[k - 1] == '0')
        k--;
    digits[k] = '\0';
    *nd = k;
    *exp10 = atoi(s + 1);
}

int iql_out_float(struct sl_buf *b, double v)
{
    if (isnan(v) || isinf(v)) return sl_buf_adds(b, "null");
    if (v == 0) return sl_buf_adds(b, signbit(v) ? "-0" : "0");
    char d[40], out[400];
    int nd, e, o = 0;
    double av = fabs(v);
    shortest(av, d, &nd, &e);
    if (v < 0) out[o++] = '-';
    if (av < 1e-6 || av >= 1e21) {
        out[o++] = d[0];
        if (nd > 1) {
            out[o++] = '.';
            for (int i = 1; i < nd; i++)
                out[o++] = d[i];
        }
        o += snprintf(out + o, sizeof(out) - (size_t)o, "e%c%d", e < 0 ? '-' : '+', abs(e));
        out[o] = '\0';
        return sl_buf_add(b, out, (size_t)o);
    }
    if (e >= 0) {
        for (int i = 0; i <= e; i++)
            out[o++] = i < nd ? d[i] : '0';
        if (nd > e + 1) {
            out[o++] = '.';
            for (int i = e + 1; i < nd; i++)
                out[o++] = d[i];
        }
    } else {
        out[o++] = '0';
        out[o++] = '.';
        for (int i = 0; i < -e - 1; i++)
            out[o++] = '0';
        for (int i = 0; i < nd; i++)
            out[o++] = d[i];
    }
    return sl_buf_add(b, out, (size_t)o);
}

static int add_time(struct sl_buf *b, int64_t t, int64_t div, bool quote)
{
    if (div > 0) return sl_buf_add_i64(b, t / div);
    char ts[48];
    size_t n = sl_time_format_rfc3339(t, ts);
    if (!quote) return sl_buf_add(b, ts, n);
    sl_buf_addc(b, '"');
    sl_buf_add(b, ts, n);
    return sl_buf_addc(b, '"');
}

int iql_out_json_val(struct sl_buf *b, const struct iql_val *v, int64_t div)
{
    switch (v->kind) {
    case IQLV_FLOAT: return iql_out_float(b, v->u.f);
    case IQLV_INT: return sl_buf_add_i64(b, v->u.i);
    case IQLV_UINT: return sl_buf_add_u64(b, v->u.u);
    case IQLV_STR: return sl_buf_add_json_str(b, v->u.s, strlen(v->u.s));
    case IQLV_BOOL: return sl_buf_adds(b, v->u.b ? "true" : "false");
    case IQLV_TIME: return add_time(b, v->u.i, div, true);
    default: return sl_buf_adds(b, "null");
    }
}

int iql_out_json_series(struct sl_buf *b, const struct iql_series *s, size_t r0, size_t r1,
                        int64_t div, bool partial)
{
    sl_buf_addc(b, '{');
    bool comma = false;
    if (s->name) {
        sl_buf_adds(b, "\"name\":");
        sl_buf_add_json_str(b, s->name, strlen(s->name));
        comma = true;
    }
    if (s->ntags) {
        sl_buf_adds(b, comma ? ",\"tags\":{" : "\"tags\":{");
        for (size_t i = 0; i < s->ntags; i++) {
            if (i) sl_buf_addc(b, ',');
            sl_buf_add_json_str(b, s->tag_keys[i], strlen(s->tag_keys[i]));
            sl_buf_addc(b, ':');
            sl_buf_add_json_str(b, s->tag_vals[i], strlen(s->tag_vals[i]));
        }
        sl_buf_addc(b, '}');
        comma = true;
    }
    sl_buf_adds(b, comma ? ",\"columns\":[" : "\"columns\":[");
    for (size_t i = 0; i < s->ncols; i++) {
        if (i) sl_buf_addc(b, ',');
        sl_buf_add_json_str(b, s->cols[i], strlen(s->cols[i]));
    }
    sl_buf_addc(b, ']');
    if (r1 > r0) {
        sl_buf_adds(b, ",\"values\":[");
        for (size_t r = r0; r < r1; r++) {
            sl_buf_adds(b, r > r0 ? ",[" : "[");
            for (size_t c = 0; c < s->ncols; c++) {
                if (c) sl_buf_addc(b, ',');
                iql_out_json_val(b, &s->vals[r * s->ncols + c], div);
            }
            sl_buf_addc(b, ']');
        }
        sl_buf_addc(b, ']');
    }
    if (partial) sl_buf_adds(b, ",\"partial\":true");
    return sl_buf_addc(b, '}');
}

int iql_out_json_result(struct sl_buf *b, size_t id, const struct iql_result *r, int64_t div)
{
    sl_buf_addf(b, "{\"statement_id\":%zu", id);
    if (r->error) {
        sl_buf_adds(b, ",\"error\":");
        sl_buf_add_json_str(b, r->error, strlen(r->error));
    } else if (r->nseries) {
        sl_buf_adds(b, ",\"series\":[");
        for (size_t i = 0; i < r->nseries; i++) {
            if (i) sl_buf_addc(b, ',');
            iql_out_json_series(b, &r->series[i], 0, r->series[i].nrows, div, false);
        }
        sl_buf_addc(b, ']');
    }
    return sl_buf_addc(b, '}');
}

static int csv_field(struct sl_buf *b, const char *s)
{
    bool q = s[0] == ' ' || s[0] == '\t' || strpbrk(s, ",\"\r\n") != NULL;
    if (!q) return sl_buf_adds(b, s);
    sl_buf_addc(b, '"');
    for (; *s; s++) {
        if (*s == '"') sl_buf_addc(b, '"');
        sl_buf_addc(b, *s);
    }
    return sl_buf_addc(b, '"');
}

static int csv_val(struct sl_buf *b, const struct iql_val *v, int64_t div)
{
    switch (v->kind) {
    case IQLV_FLOAT:
        if (isnan(v->u.f) || isinf(v->u.f)) return sl_buf_adds(b, isnan(v->u.f) ? "NaN" : "+Inf");
        return iql_out_float(b, v->u.f);
    case IQLV_INT: return sl_buf_add_i64(b, v->u.i);
    case IQLV_UINT: return sl_buf_add_u64(b, v->u.u);
    case IQLV_STR: return csv_field(b, v->u.s);
    case IQLV_BOOL: return sl_buf_adds(b, v->u.b ? "true" : "false");
    case IQLV_TIME: return sl_buf_add_i64(b, v->u.i / (div > 0 ? div : 1));
    default: return 0;
    }
}

static int tag_escaped(struct sl_buf *b, const char *s)
{
    for (; *s; s++) {
        if (*s == ',' || *s == '=' || *s == ' ') sl_buf_addc(b, '\\');
        sl_buf_addc(b, *s);
    }
    return 0;
}

int iql_out_csv_result(struct sl_buf *b, const struct iql_result *r, int64_t div, bool *started,
                       const char **prev_cols, size_t *prev_ncols)
{
    (void)prev_cols;
    (void)prev_ncols;
    if (r->error) {
        if (*started) sl_buf_addc(b, '\n');
        *started = true;
        sl_buf_adds(b, "error\n");
        csv_field(b, r->error);
        return sl_buf_addc(b, '\n');
    }
    if (!r->nseries) return 0;
    if (*started) sl_buf_addc(b, '\n');
    *started = true;
    const struct iql_series *s0 = &r->series[0];
    sl_buf_adds(b, "name,tags");
    for (size_t c = 0; c < s0->ncols; c++) {
        sl_buf_addc(b, ',');
        csv_field(b, s0->cols[c]);
    }
    sl_buf_addc(b, '\n');
    struct sl_buf tags;
    sl_buf_init(&tags, 0);
    for (size_t i = 0; i < r->nseries; i++) {
        const struct iql_series *s = &r->series[i];
        sl_buf_reset(&tags);
        for (size_t t = 0; t < s->ntags; t++) {
            if (t) sl_buf_addc(&tags, ',');
            tag_escaped(&tags, s->tag_keys[t]);
            sl_buf_addc(&tags, '=');
            tag_escaped(&tags, s->tag_vals[t]);
        }
        for (size_t row = 0; row < s->nrows; row++) {
            csv_field(b, s->name ? s->name : "");
            sl_buf_addc(b, ',');
            csv_field(b, tags.ptr ? tags.ptr : "");
            for (size_t c = 0; c < s->ncols; c++) {
                sl_buf_addc(b, ',');
                csv_val(b, &s->vals[row * s->ncols + c], div);
            }
            sl_buf_addc(b, '\n');
        }
    }
    sl_buf_release(&tags);
    return b->len ? 0 : 0;
}

static void indent(struct sl_buf *b, int level)
{
    sl_buf_addc(b, '\n');
    for (int i = 0; i < level; i++)
        sl_buf_adds(b, "    ");
}

int iql_out_json_pretty(const char *s, size_t n, struct sl_buf *b)
{
    int level = 0;
    bool str = false;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (str) {
            sl_buf_addc(b, c);
            if (c == '\\' && i + 1 < n)
                sl_buf_addc(b, s[++i]);
            else if (c == '"')
                str = false;
            continue;
        }
        switch (c) {
        case '"':
            str = true;
            sl_buf_addc(b, c);
            break;
        case '{':
        case '[':
            if (i + 1 < n && (s[i + 1] == '}' || s[i + 1] == ']')) {
                sl_buf_addc(b, c);
                sl_buf_addc(b, s[++i]);
                break;
            }
            sl_buf_addc(b, c);
            indent(b, ++level);
            break;
        case '}':
        case ']':
            indent(b, --level);
            sl_buf_addc(b, c);
            break;
        case ',':
            sl_buf_addc(b, c);
            indent(b, level);
            break;
        case ':': sl_buf_adds(b, ": "); break;
        case '\n': break;
        default: sl_buf_addc(b, c);
        }
    }
    return sl_buf_addc(b, '\n');
}
