/*
 * qout_parquet.c — the parquet result format: the kept rows become one
 * Parquet file in the response body (src/parquet writer, zstd). Column types
 * are inferred from the values (rules in qout.h); a value that does not fit
 * the inferred type (e.g. a string in a numeric column) makes the column
 * STRING, so no value is ever lost or converted silently.
 */
#include <stdio.h>
#include <string.h>

#include "common/err.h"
#include "common/mem.h"
#include "parquet/parquet.h"
#include "query/output/qout_int.h"

static enum pq_ctype infer(const struct qout_value *v, size_t n)
{
    int seen[QOUT_TIME + 1] = {0};
    for (size_t i = 0; i < n; i++)
        seen[v[i].type] = 1;
    int kinds = 0;
    for (int t = QOUT_INT; t <= QOUT_TIME; t++)
        kinds += seen[t];
    if (kinds == 0) return PQ_STRING;
    if (seen[QOUT_STRING]) return PQ_STRING;
    if (kinds == 1) {
        if (seen[QOUT_TIME]) return PQ_TIME_NS;
        if (seen[QOUT_INT]) return PQ_INT64;
        if (seen[QOUT_UINT]) return PQ_UINT64;
        if (seen[QOUT_FLOAT]) return PQ_DOUBLE;
        return PQ_BOOL;
    }
    if (!seen[QOUT_TIME] && !seen[QOUT_BOOL]) return PQ_DOUBLE; /* mixed numbers */
    return PQ_STRING;
}

int qout_parquet_finish(struct qout *q)
{
    size_t nc = q->ncols, nr = q->nrows;
    struct pq_column_spec *spec = sl_calloc(nc ? nc : 1, sizeof(*spec));
    struct pq_column_data *data = sl_calloc(nc ? nc : 1, sizeof(*data));
    void **vals = sl_calloc(nc ? nc : 1, sizeof(*vals));
    uint8_t **valid = sl_calloc(nc ? nc : 1, sizeof(*valid));
    struct sl_buf text = SL_BUF_INIT;
    struct pq_writer *w = NULL;
    int rc = spec && data && vals && valid ? 0 : SL_ENOMEM;
    for (size_t c = 0; c < nc && rc == 0; c++) {
        enum pq_ctype t = infer(q->cols[c], nr);
        spec[c] = (struct pq_column_spec){q->names[c], t, 1, t == PQ_STRING};
        size_t es = t == PQ_STRING ? sizeof(struct pq_str) : t == PQ_BOOL ? 1 : 8;
        vals[c] = sl_calloc(nr ? nr : 1, es);
        valid[c] = sl_calloc(nr ? nr : 1, 1);
        if (!vals[c] || !valid[c]) {
            rc = SL_ENOMEM;
            break;
        }
        for (size_t r = 0; r < nr && rc == 0; r++) {
            const struct qout_value *v = &q->cols[c][r];
            if (v->type == QOUT_NULL) continue;
            valid[c][r] = 1;
            switch (t) {
            case PQ_TIME_NS:
            case PQ_INT64: ((int64_t *)vals[c])[r] = v->v.i; break;
            case PQ_UINT64: ((uint64_t *)vals[c])[r] = v->v.u; break;
            case PQ_BOOL: ((uint8_t *)vals[c])[r] = v->v.b ? 1 : 0; break;
            case PQ_DOUBLE:
                ((double *)vals[c])[r] = v->type == QOUT_FLOAT  ? v->v.f
                                         : v->type == QOUT_UINT ? (double)v->v.u
                                                                : (double)v->v.i;
                break;
            case PQ_STRING: {
                struct pq_str *s = &((struct pq_str *)vals[c])[r];
                if (v->type == QOUT_STRING) {
                    s->ptr = v->v.s.ptr;
                    s->len = (uint32_t)v->v.s.len;
                    break;
                }
                /* a non-string value in a string column: its text form */
                char tmp[64];
                int n = 0;
                if (v->type == QOUT_INT || v->type == QOUT_TIME)
                    n = snprintf(tmp, sizeof(tmp), "%lld", (long long)v->v.i);
                else if (v->type == QOUT_UINT)
                    n = snprintf(tmp, sizeof(tmp), "%llu", (unsigned long long)v->v.u);
                else if (v->type == QOUT_FLOAT)
                    n = snprintf(tmp, sizeof(tmp), "%.17g", v->v.f);
                else
                    n = snprintf(tmp, sizeof(tmp), "%s", v->v.b ? "true" : "false");
                char *p = sl_arena_strndup(&q->arena, tmp, (size_t)n);
                if (!p) rc = SL_ETOOBIG;
                s->ptr = p;
                s->len = (uint32_t)n;
                break;
            }
            }
        }
        data[c].values = vals[c];
        data[c].valid = valid[c];
    }
    struct pq_writer_opts o = {0};
    if (rc == 0) rc = pq_writer_open_buf(q->out, spec, nc, &o, &w);
    if (rc == 0 && nr) rc = pq_writer_write(w, data, nr);
    if (rc == 0) {
        rc = pq_writer_close(w);
        w = NULL;
    }
    if (w) pq_writer_abort(w);
    for (size_t c = 0; c < nc; c++) {
        if (vals) sl_free(vals[c]);
        if (valid) sl_free(valid[c]);
    }
    sl_buf_release(&text);
    sl_free(vals);
    sl_free(valid);
    sl_free(spec);
    sl_free(data);
    return rc;
}
