/*
 * query_influxql.c — the v3 endpoint /api/v3/query_influxql: GET with db, q,
 * format, params in the query string, or POST JSON {"db","q","format",
 * "params"}. Runs the InfluxQL executor and returns InfluxDB 3's row shape:
 * one row object per output row with the columns "iox::measurement", "time",
 * the GROUP BY tags and the selected columns, in that order.
 *
 * Formats: json (an array of row objects; application/json), jsonl (one
 * object per line; application/jsonl), csv (header of all column names,
 * empty cells for absent values; text/csv), pretty (an ASCII table as the
 * influxdb3 CLI prints; text/plain). Times are ISO 8601 without a zone
 * ("2024-01-01T00:00:00", shortest fraction), as 3.x prints its timestamps.
 * Errors: 400 {"error":...} for a missing db/q, an unknown format, a parse
 * error or a statement error; 401/403 as elsewhere.
 */
#include <jansson.h>
#include <stdio.h>
#include <string.h>

#include "api/api.h"
#include "api/query_iql.h"
#include "common/err.h"
#include "common/mem.h"
#include "common/timeutil.h"

#define Q3_ARENA_MAX ((size_t)1 << 30)

enum q3_fmt { Q3_JSON, Q3_JSONL, Q3_CSV, Q3_PRETTY };

/* One output cell, as text (NULL = absent) plus whether it is a JSON string. */
static int cell_text(struct sl_buf *b, const struct iql_val *v, bool json)
{
    if (v->kind == IQLV_TIME) {
        char ts[48];
        size_t n = sl_time_format_rfc3339(v->u.i, ts);
        if (n && ts[n - 1] == 'Z') n--;
        if (json) sl_buf_addc(b, '"');
        sl_buf_add(b, ts, n);
        return json ? sl_buf_addc(b, '"') : 0;
    }
    if (v->kind == IQLV_STR && !json) return sl_buf_adds(b, v->u.s);
    return iql_out_json_val(b, v, 0);
}

struct colset {
    const char **names;
    size_t n, cap;
};

static int colset_add(struct sl_arena *a, struct colset *c, const char *name)
{
    for (size_t i = 0; i < c->n; i++)
        if (!strcmp(c->names[i], name)) return 0;
    if (c->n == c->cap) {
        size_t nc = c->cap ? c->cap * 2 : 16;
        const char **nn = sl_arena_alloc(a, nc * sizeof(char *));
        if (!nn) return SL_ENOMEM;
        if (c->n) memcpy(nn, c->names, c->n * sizeof(char *));
        c->names = nn;
        c->cap = nc;
    }
    c->names[c->n++] = name;
    return 0;
}

/* Value of column name in row r of series s (tags and the measurement too). */
static bool lookup(const struct iql_series *s, size_t r, const char *name, struct iql_val *out)
{
    if (!strcmp(name, "iox::measurement")) {
        if (!s->name) return false;
        out->kind = IQLV_STR;
        out->u.s = s->name;
        return true;
    }
    for (size_t c = 0; c < s->ncols; c++)
        if (!strcmp(s->cols[c], name)) {
            *out = s->vals[r * s->ncols + c];
            return out->kind != IQLV_NULL;
        }
    for (size_t t = 0; t < s->ntags; t++)
        if (!strcmp(s->tag_keys[t], name)) {
            out->kind = IQLV_STR;
            out->u.s = s->tag_vals[t];
            return true;
        }
    return false;
}

static void pretty_line(struct sl_buf *b, const size_t *w, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        sl_buf_addc(b, '+');
        for (size_t k = 0; k < w[i] + 2; k++)
            sl_buf_addc(b, '-');
    }
    sl_buf_adds(b, "+\n");
}

static void pretty_row(struct sl_buf *b, const char **cells, const size_t *w, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        sl_buf_adds(b, "| ");
        const char *c = cells[i] ? cells[i] : "";
        sl_buf_adds(b, c);
        for (size_t k = strlen(c); k < w[i] + 1; k++)
            sl_buf_addc(b, ' ');
    }
    sl_buf_adds(b, "|\n");
}

static int encode(struct sl_arena *a, const struct iql_result *res, size_t nres, enum q3_fmt f,
                  struct sl_buf *b)
{
    struct colset cs = {0};
    int rc = 0;
    size_t nrows = 0;
    for (size_t i = 0; i < nres && rc == 0; i++)
        for (size_t si = 0; si < res[i].nseries && rc == 0; si++) {
            const struct iql_series *s = &res[i].series[si];
            nrows += s->nrows;
            if (s->name) rc = colset_add(a, &cs, "iox::measurement");
            for (size_t c = 0; c < s->ncols && rc == 0; c++)
                if (!strcmp(s->cols[c], "time")) rc = colset_add(a, &cs, "time");
            for (size_t t = 0; t < s->ntags && rc == 0; t++)
                rc = colset_add(a, &cs, s->tag_keys[t]);
            for (size_t c = 0; c < s->ncols && rc == 0; c++)
                rc = colset_add(a, &cs, s->cols[c]);
        }
    if (rc < 0) return rc;
    struct sl_buf cell;
    sl_buf_init(&cell, 0);
    const char **cells = NULL;
    size_t *w = NULL;
    if (f == Q3_JSON) sl_buf_addc(b, '[');
    if (f == Q3_CSV) {
        for (size_t c = 0; c < cs.n; c++) {
            if (c) sl_buf_addc(b, ',');
            sl_buf_adds(b, cs.names[c]);
        }
        sl_buf_addc(b, '\n');
    }
    if (f == Q3_PRETTY) {
        cells = sl_arena_alloc(a, (nrows + 1) * (cs.n + 1) * sizeof(char *));
        w = sl_arena_alloc(a, (cs.n + 1) * sizeof(size_t));
        if (!cells || !w) {
            sl_buf_release(&cell);
            return SL_ENOMEM;
        }
        for (size_t c = 0; c < cs.n; c++) {
            cells[c] = cs.names[c];
            w[c] = strlen(cs.names[c]);
        }
    }
    size_t row = 0;
    for (size_t i = 0; i < nres; i++)
        for (size_t si = 0; si < res[i].nseries; si++) {
            const struct iql_series *s = &res[i].series[si];
            for (size_t r = 0; r < s->nrows; r++, row++) {
                if (f == Q3_JSON && row) sl_buf_addc(b, ',');
                if (f == Q3_JSON || f == Q3_JSONL) sl_buf_addc(b, '{');
                bool first = true;
                for (size_t c = 0; c < cs.n; c++) {
                    struct iql_val v;
                    bool has = lookup(s, r, cs.names[c], &v);
                    if (f == Q3_JSON || f == Q3_JSONL) {
                        if (!has) continue;
                        if (!first) sl_buf_addc(b, ',');
                        first = false;
                        sl_buf_add_json_str(b, cs.names[c], strlen(cs.names[c]));
                        sl_buf_addc(b, ':');
                        cell_text(b, &v, true);
                    } else if (f == Q3_CSV) {
                        if (c) sl_buf_addc(b, ',');
                        if (!has) continue;
                        sl_buf_reset(&cell);
                        cell_text(&cell, &v, false);
                        const char *t = cell.ptr ? cell.ptr : "";
                        if (strpbrk(t, ",\"\n\r")) {
                            sl_buf_addc(b, '"');
                            for (const char *p = t; *p; p++) {
                                if (*p == '"') sl_buf_addc(b, '"');
                                sl_buf_addc(b, *p);
                            }
                            sl_buf_addc(b, '"');
                        } else
                            sl_buf_adds(b, t);
                    } else {
                        const char *t = NULL;
                        if (has) {
                            sl_buf_reset(&cell);
                            cell_text(&cell, &v, false);
                            t = sl_arena_strndup(a, cell.ptr ? cell.ptr : "", cell.len);
                            if (!t)
                                rc = SL_ENOMEM;
                            else if (strlen(t) > w[c])
                                w[c] = strlen(t);
                        }
                        cells[(row + 1) * cs.n + c] = t;
                    }
                }
                if (f == Q3_JSON) sl_buf_addc(b, '}');
                if (f == Q3_JSONL || f == Q3_CSV) sl_buf_adds(b, f == Q3_JSONL ? "}\n" : "\n");
            }
        }
    if (f == Q3_JSON) sl_buf_addc(b, ']');
    if (f == Q3_PRETTY && rc == 0 && cs.n) {
        pretty_line(b, w, cs.n);
        pretty_row(b, cells, w, cs.n);
        pretty_line(b, w, cs.n);
        for (size_t r = 0; r < nrows; r++)
            pretty_row(b, cells + (r + 1) * cs.n, w, cs.n);
        pretty_line(b, w, cs.n);
    }
    sl_buf_release(&cell);
    return rc;
}

void api_query_influxql(struct api_server *s, struct http_req *req, struct http_resp *resp)
{
    struct api_auth a;
    api_authenticate(s, req, &a);
    if (!a.ok) {
        api_unauthorized(resp, API_V3);
        return;
    }
    json_t *j = NULL;
    const char *db, *q, *fmt;
    const char *pjson = NULL;
    char *pdump = NULL;
    struct sl_arena ar;
    sl_arena_init(&ar, Q3_ARENA_MAX);
    if (req->method[0] == 'P') {
        if (!(j = api_json_body(req, resp, API_V3))) goto out;
        db = json_string_value(json_object_get(j, "db"));
        q = json_string_value(json_object_get(j, "q"));
        fmt = json_string_value(json_object_get(j, "format"));
        json_t *jp = json_object_get(j, "params");
        if (jp && !json_is_null(jp)) pjson = pdump = json_dumps(jp, JSON_COMPACT);
    } else {
        db = http_query(req, "db");
        q = http_query(req, "q");
        fmt = http_query(req, "format");
        pjson = http_query(req, "params");
    }
    if (!q || !*q) {
        http_resp_error(resp, 400, "missing required parameter \"q\"");
        goto out;
    }
    if (!db || !*db) {
        http_resp_error(resp, 400, "missing required parameter \"db\"");
        goto out;
    }
    enum q3_fmt f;
    if (!fmt || !strcmp(fmt, "json"))
        f = Q3_JSON;
    else if (!strcmp(fmt, "jsonl"))
        f = Q3_JSONL;
    else if (!strcmp(fmt, "csv"))
        f = Q3_CSV;
    else if (!strcmp(fmt, "pretty"))
        f = Q3_PRETTY;
    else {
        http_resp_error(resp, 400,
                        "unsupported format for InfluxQL: use json, jsonl, csv or pretty");
        goto out;
    }
    if (!api_allowed(s, &a, db, strlen(db), TOKEN_READ)) {
        api_forbidden(resp, API_V3, db);
        goto out;
    }
    struct iql_result *res;
    size_t nres;
    if (api_iql_execute(s, &a, q, db, NULL, pjson, &ar, resp, &res, &nres) < 0) goto out;
    for (size_t i = 0; i < nres; i++)
        if (res[i].error) {
            http_resp_error(resp, 400, res[i].error);
            goto out;
        }
    resp->status = 200;
    resp->content_type = f == Q3_JSON    ? "application/json"
                         : f == Q3_JSONL ? "application/jsonl"
                         : f == Q3_CSV   ? "text/csv"
                                         : "text/plain";
    if (encode(&ar, res, nres, f, &resp->body) < 0)
        http_resp_error(resp, 500, "query result exceeded the memory limit");
out:
    sl_arena_release(&ar);
    free(pdump);
    json_decref(j);
}
