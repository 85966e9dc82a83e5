/*
 * qout.c — the v3 result encoders (formats documented in qout.h). Streaming
 * formats write each row at once; pretty and parquet keep rows column-major
 * in an arena until qout_finish (parquet's writer is in qout_parquet.c).
 */
#include "query/output/qout.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/arena.h"
#include "common/err.h"
#include "common/mem.h"
#include "common/timeutil.h"
#include "query/output/qout_int.h"

static const char *const names_[] = {"json", "jsonl", "csv", "pretty", "parquet"};

int qout_format_parse(const char *s, enum qout_format *out)
{
    for (size_t i = 0; i < sizeof(names_) / sizeof(names_[0]); i++)
        if (!strcasecmp(s, names_[i])) {
            *out = (enum qout_format)i;
            return 0;
        }
    return SL_EINVAL;
}

const char *qout_format_name(enum qout_format f)
{
    return (unsigned)f < 5 ? names_[f] : "?";
}

const char *qout_content_type(enum qout_format f)
{
    switch (f) {
    case QOUT_JSON: return "application/json";
    case QOUT_JSONL: return "application/jsonl";
    case QOUT_CSV: return "text/csv; charset=utf-8";
    case QOUT_PRETTY: return "text/plain; charset=utf-8";
    case QOUT_PARQUET: return "application/vnd.apache.parquet";
    }
    return "application/octet-stream";
}

size_t qout_time_format(int64_t ns, char *out)
{
    size_t n = sl_time_format_rfc3339(ns, out);
    if (n && out[n - 1] == 'Z') out[--n] = '\0';
    return n;
}

/* Shortest representation that reads back to d, with ".0" when integral. */
static size_t fmt_float(double d, char *out, size_t cap)
{
    int n = 0;
    /* integral values below 1e15 (which %.15g prints in full, without an
     * exponent) print as integers: no search */
    if (d > -1e15 && d < 1e15 && d == (double)(int64_t)d && !(d == 0 && signbit(d)) && cap >= 24) {
        n = snprintf(out, cap, "%lld.0", (long long)(int64_t)d);
        return (size_t)n;
    }
    for (int prec = 15; prec <= 17; prec++) {
        n = snprintf(out, cap, "%.*g", prec, d);
        if (strtod(out, NULL) == d) break;
    }
    if (n > 0 && (size_t)n + 2 < cap && !strpbrk(out, ".eEn")) {
        out[n++] = '.';
        out[n++] = '0';
        out[n] = '\0';
    }
    return (size_t)n;
}

/* Plain text of a value (csv, pretty); returns 0 or an error. */
static int add_text(struct sl_buf *b, const struct qout_value *v)
{
    char tmp[64];
    switch (v->type) {
    case QOUT_NULL: return 0;
    case QOUT_INT: return sl_buf_add_i64(b, v->v.i);
    case QOUT_UINT: return sl_buf_add_u64(b, v->v.u);
    case QOUT_FLOAT:
        if (isnan(v->v.f)) return sl_buf_adds(b, "NaN");
        if (isinf(v->v.f)) return sl_buf_adds(b, v->v.f > 0 ? "inf" : "-inf");
        return sl_buf_add(b, tmp, fmt_float(v->v.f, tmp, sizeof(tmp)));
    case QOUT_BOOL: return sl_buf_adds(b, v->v.b ? "true" : "false");
    case QOUT_STRING: return sl_buf_add(b, v->v.s.ptr, v->v.s.len);
    case QOUT_TIME: return sl_buf_add(b, tmp, qout_time_format(v->v.i, tmp));
    }
    return 0;
}

static int add_json(struct sl_buf *b, const struct qout_value *v)
{
    char tmp[64];
    switch (v->type) {
    case QOUT_FLOAT:
        if (!isfinite(v->v.f)) return sl_buf_adds(b, "null");
        return sl_buf_add(b, tmp, fmt_float(v->v.f, tmp, sizeof(tmp)));
    case QOUT_STRING: return sl_buf_add_json_str(b, v->v.s.ptr, v->v.s.len);
    case QOUT_TIME: {
        size_t n = qout_time_format(v->v.i, tmp);
        return sl_buf_add_json_str(b, tmp, n);
    }
    case QOUT_NULL: return sl_buf_adds(b, "null");
    default: return add_text(b, v);
    }
}

static int add_csv(struct sl_buf *b, const char *p, size_t n)
{
    int quote = 0;
    for (size_t i = 0; i < n && !quote; i++)
        quote = p[i] == ',' || p[i] == '"' || p[i] == '\n' || p[i] == '\r';
    if (!quote) return sl_buf_add(b, p, n);
    int rc = sl_buf_addc(b, '"');
    for (size_t i = 0; i < n && rc == 0; i++) {
        if (p[i] == '"') rc = sl_buf_addc(b, '"');
        if (rc == 0) rc = sl_buf_addc(b, p[i]);
    }
    return rc < 0 ? rc : sl_buf_addc(b, '"');
}

int qout_open(enum qout_format f, struct sl_buf *out, const char *const *names, size_t ncols,
              struct qout **qp)
{
    if ((unsigned)f > QOUT_PARQUET) return SL_EINVAL;
    struct qout *q = sl_calloc(1, sizeof(*q));
    if (!q) return SL_ENOMEM;
    q->f = f;
    q->out = out;
    q->ncols = ncols;
    sl_arena_init(&q->arena, QOUT_MAX_BUFFERED);
    q->names = sl_calloc(ncols ? ncols : 1, sizeof(*q->names));
    q->cols = sl_calloc(ncols ? ncols : 1, sizeof(*q->cols));
    int rc = q->names && q->cols ? 0 : SL_ENOMEM;
    for (size_t c = 0; c < ncols && rc == 0; c++)
        if (!(q->names[c] = sl_strdup(names[c]))) rc = SL_ENOMEM;
    if (rc == 0 && f == QOUT_JSON) rc = sl_buf_addc(out, '[');
    if (rc == 0 && f == QOUT_CSV) {
        for (size_t c = 0; c < ncols && rc == 0; c++) {
            if (c) rc = sl_buf_addc(out, ',');
            if (rc == 0) rc = add_csv(out, names[c], strlen(names[c]));
        }
        if (rc == 0) rc = sl_buf_addc(out, '\n');
    }
    if (rc < 0) {
        qout_free(q);
        return rc;
    }
    *qp = q;
    return 0;
}

static int keep_row(struct qout *q, const struct qout_value *vals)
{
    if (q->nrows == q->cap) {
        size_t cap = q->cap ? q->cap * 2 : 256;
        for (size_t c = 0; c < q->ncols; c++) {
            struct qout_value *nv = sl_realloc(q->cols[c], cap * sizeof(*nv));
            if (!nv) return SL_ENOMEM;
            q->cols[c] = nv;
        }
        q->cap = cap;
        q->kept_bytes += (cap / 2) * q->ncols * sizeof(struct qout_value);
        if (q->kept_bytes > QOUT_MAX_BUFFERED) return SL_ETOOBIG;
    }
    for (size_t c = 0; c < q->ncols; c++) {
        struct qout_value v = vals[c];
        if (v.type == QOUT_STRING) {
            char *s = sl_arena_strndup(&q->arena, v.v.s.ptr ? v.v.s.ptr : "", v.v.s.len);
            if (!s) return SL_ETOOBIG;
            v.v.s.ptr = s;
        }
        q->cols[c][q->nrows] = v;
    }
    q->nrows++;
    return 0;
}

int qout_row(struct qout *q, const struct qout_value *vals)
{
    struct sl_buf *b = q->out;
    int rc = 0;
    switch (q->f) {
    case QOUT_JSON:
    case QOUT_JSONL: {
        if (q->f == QOUT_JSON && q->nrows) rc = sl_buf_addc(b, ',');
        if (rc == 0) rc = sl_buf_addc(b, '{');
        int first = 1;
        for (size_t c = 0; c < q->ncols && rc == 0; c++) {
            if (vals[c].type == QOUT_NULL) continue;
            if (!first) rc = sl_buf_addc(b, ',');
            first = 0;
            if (rc == 0) rc = sl_buf_add_json_str(b, q->names[c], strlen(q->names[c]));
            if (rc == 0) rc = sl_buf_addc(b, ':');
            if (rc == 0) rc = add_json(b, &vals[c]);
        }
        if (rc == 0) rc = sl_buf_adds(b, q->f == QOUT_JSONL ? "}\n" : "}");
        q->nrows++;
        return rc;
    }
    case QOUT_CSV: {
        struct sl_buf tmp = SL_BUF_INIT;
        for (size_t c = 0; c < q->ncols && rc == 0; c++) {
            if (c) rc = sl_buf_addc(b, ',');
            sl_buf_reset(&tmp);
            if (rc == 0) rc = add_text(&tmp, &vals[c]);
            if (rc == 0) rc = add_csv(b, tmp.ptr ? tmp.ptr : "", tmp.len);
        }
        sl_buf_release(&tmp);
        if (rc == 0) rc = sl_buf_addc(b, '\n');
        q->nrows++;
        return rc;
    }
    case QOUT_PRETTY:
    case QOUT_PARQUET: return keep_row(q, vals);
    }
    return SL_EINVAL;
}

static int pretty_line(struct sl_buf *b, const size_t *w, size_t ncols)
{
    int rc = sl_buf_addc(b, '+');
    for (size_t c = 0; c < ncols && rc == 0; c++) {
        for (size_t i = 0; i < w[c] + 2 && rc == 0; i++)
            rc = sl_buf_addc(b, '-');
        if (rc == 0) rc = sl_buf_addc(b, '+');
    }
    return rc < 0 ? rc : sl_buf_addc(b, '\n');
}

/* Display width of UTF-8 text (code points; no wide-character tables). */
static size_t text_width(const char *p, size_t n)
{
    size_t w = 0;
    for (size_t i = 0; i < n; i++)
        if (((unsigned char)p[i] & 0xC0) != 0x80) w++;
    return w;
}

static int pretty_cell(struct sl_buf *b, const char *p, size_t n, size_t width)
{
    int rc = sl_buf_addc(b, ' ');
    /* control characters would break the table: show them as spaces */
    for (size_t i = 0; i < n && rc == 0; i++)
        rc = sl_buf_addc(b, (unsigned char)p[i] < 0x20 ? ' ' : p[i]);
    for (size_t i = text_width(p, n); i < width + 1 && rc == 0; i++)
        rc = sl_buf_addc(b, ' ');
    return rc < 0 ? rc : sl_buf_addc(b, '|');
}

static int finish_pretty(struct qout *q)
{
    struct sl_buf *b = q->out, cell = SL_BUF_INIT;
    size_t *w = sl_calloc(q->ncols ? q->ncols : 1, sizeof(*w));
    int rc = w ? 0 : SL_ENOMEM;
    for (size_t c = 0; c < q->ncols && rc == 0; c++) {
        w[c] = text_width(q->names[c], strlen(q->names[c]));
        for (size_t r = 0; r < q->nrows && rc == 0; r++) {
            sl_buf_reset(&cell);
            rc = add_text(&cell, &q->cols[c][r]);
            size_t cw = text_width(cell.ptr ? cell.ptr : "", cell.len);
            if (cw > w[c]) w[c] = cw;
        }
    }
    if (rc == 0) rc = pretty_line(b, w, q->ncols);
    if (rc == 0) rc = sl_buf_addc(b, '|');
    for (size_t c = 0; c < q->ncols && rc == 0; c++)
        rc = pretty_cell(b, q->names[c], strlen(q->names[c]), w[c]);
    if (rc == 0) rc = sl_buf_addc(b, '\n');
    if (rc == 0) rc = pretty_line(b, w, q->ncols);
    for (size_t r = 0; r < q->nrows && rc == 0; r++) {
        rc = sl_buf_addc(b, '|');
        for (size_t c = 0; c < q->ncols && rc == 0; c++) {
            sl_buf_reset(&cell);
            rc = add_text(&cell, &q->cols[c][r]);
            if (rc == 0) rc = pretty_cell(b, cell.ptr ? cell.ptr : "", cell.len, w[c]);
        }
        if (rc == 0) rc = sl_buf_addc(b, '\n');
    }
    if (rc == 0 && q->nrows) rc = pretty_line(b, w, q->ncols);
    sl_buf_release(&cell);
    sl_free(w);
    return rc;
}

int qout_finish(struct qout *q)
{
    switch (q->f) {
    case QOUT_JSON: return sl_buf_adds(q->out, "]");
    case QOUT_JSONL:
    case QOUT_CSV: return 0;
    case QOUT_PRETTY: return finish_pretty(q);
    case QOUT_PARQUET: return qout_parquet_finish(q);
    }
    return SL_EINVAL;
}

uint64_t qout_rows(const struct qout *q)
{
    return q->nrows;
}

void qout_free(struct qout *q)
{
    if (!q) return;
    for (size_t c = 0; c < q->ncols; c++) {
        if (q->names) sl_free(q->names[c]);
        if (q->cols) sl_free(q->cols[c]);
    }
    sl_free(q->names);
    sl_free(q->cols);
    sl_arena_release(&q->arena);
    sl_free(q);
}
