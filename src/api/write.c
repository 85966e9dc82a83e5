/*
 * write.c — the three write endpoints: v1 /write, v2 /api/v2/write and
 * v3 /api/v3/write_lp. They share one core (engine_write) and differ in
 * parameters, precision sets, partial-write rules and error bodies, exactly
 * as reference/influx-api.md lays out. Every error names the line number and
 * column of the failing line.
 */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "api/api.h"
#include "common/err.h"
#include "common/log.h"
#include "common/mem.h"
#include "common/timeutil.h"

struct prec_name {
    const char *name;
    enum lp_precision p;
};

static const struct prec_name v1_precisions[] = {
    {"n", LP_PREC_NS},  {"ns", LP_PREC_NS}, {"u", LP_PREC_US},
    {"us", LP_PREC_US}, {"ms", LP_PREC_MS}, {"s", LP_PREC_S},
    {"m", LP_PREC_M},   {"h", LP_PREC_H},   {NULL, 0}};
static const struct prec_name v2_precisions[] = {
    {"ns", LP_PREC_NS}, {"n", LP_PREC_NS}, {"us", LP_PREC_US}, {"u", LP_PREC_US},
    {"ms", LP_PREC_MS}, {"s", LP_PREC_S},  {NULL, 0}};
static const struct prec_name v3_precisions[] = {
    {"auto", LP_PREC_AUTO},      {"s", LP_PREC_S},
    {"second", LP_PREC_S},       {"ms", LP_PREC_MS},
    {"millisecond", LP_PREC_MS}, {"us", LP_PREC_US},
    {"u", LP_PREC_US},           {"microsecond", LP_PREC_US},
    {"ns", LP_PREC_NS},          {"n", LP_PREC_NS},
    {"nanosecond", LP_PREC_NS},  {NULL, 0}};

static int precision_lookup(const struct prec_name *set, const char *s, enum lp_precision *out,
                            char *msg, size_t msglen)
{
    for (const struct prec_name *p = set; p->name; p++) {
        if (!strcmp(p->name, s)) {
            *out = p->p;
            return 0;
        }
    }
    int n = snprintf(msg, msglen, "invalid precision \"%.64s\": valid values are", s);
    for (const struct prec_name *p = set; p->name && n > 0 && (size_t)n < msglen; p++)
        n += snprintf(msg + n, msglen - (size_t)n, "%s %s", p == set ? "" : ",", p->name);
    return SL_EINVAL;
}

static int is_true(const char *v)
{
    return v && (!strcasecmp(v, "true") || !strcmp(v, "1"));
}

/* Common checks and the engine call. Returns 1 when resp was set (error). */
static int do_write(struct api_server *s, struct http_req *req, struct http_resp *resp,
                    enum api_style st, const char *db, enum lp_precision prec, int atomic,
                    int no_sync, struct write_result *res)
{
    struct api_auth a;
    api_authenticate(s, req, &a);
    if (!a.ok) {
        api_unauthorized(resp, st);
        return 1;
    }
    size_t dblen = strlen(db);
    if (!api_allowed(s, &a, db, dblen, TOKEN_WRITE)) {
        api_forbidden(resp, st, db);
        return 1;
    }
    struct write_req wr = {
        .db = db,
        .db_len = dblen,
        .body = req->body.ptr ? req->body.ptr : "",
        .len = req->body.len,
        .precision = prec,
        .all_or_nothing = atomic,
        .no_sync = no_sync,
        .may_create_db = 1, /* write permission on the name allows creating it */
        .now_ns = sl_now_ns(),
    };
    int rc = engine_write(s->eng, &wr, res);
    if (rc == 0) return 0;
    char msg[700];
    int status = 500;
    const char *code = "internal error";
    switch (rc) {
    case SL_ENOENT:
        status = 404;
        code = "not found";
        snprintf(msg, sizeof(msg),
                 st == API_V2 ? "bucket \"%.512s\" not found" : "database not found: \"%.512s\"",
                 db);
        break;
    case SL_EINVAL:
        status = 400;
        code = "invalid";
        snprintf(msg, sizeof(msg), "invalid database name \"%.512s\": %s", db,
                 catalog_name_invalid(db, dblen));
        break;
    case SL_EBUSY:
        status = 503;
        code = "unavailable";
        snprintf(msg, sizeof(msg),
                 "server is overloaded: the write buffer is full while data is persisted; retry "
                 "after the delay in Retry-After");
        http_resp_header(resp, "Retry-After", "1");
        break;
    case SL_ESTATE:
        status = 503;
        code = "unavailable";
        snprintf(msg, sizeof(msg),
                 "writes are refused: the write-ahead log failed to sync earlier and the server "
                 "must be restarted");
        break;
    case SL_EIO:
        status = 500;
        snprintf(msg, sizeof(msg),
                 "write-ahead log sync failed: the points were not stored; writes are refused "
                 "until the server is restarted");
        break;
    case SL_ENOMEM:
        status = 503;
        code = "unavailable";
        snprintf(msg, sizeof(msg), "out of memory; retry later");
        http_resp_header(resp, "Retry-After", "1");
        break;
    default: snprintf(msg, sizeof(msg), "write failed: %s", sl_strerror(rc));
    }
    if (st == API_V2) {
        http_resp_error_v2(resp, status, code, msg);
        http_resp_header(resp, "X-Platform-Error-Code", code);
    } else {
        http_resp_error(resp, status, msg);
        if (st == API_V1) http_resp_header(resp, "X-Influxdb-Error", msg);
    }
    return 1;
}

/* "unable to parse '<line>': <why> (line N, column C)" */
static void describe_error(struct sl_buf *b, const struct write_line_error *e)
{
    if (e->kind == WRITE_ERR_PARSE) {
        sl_buf_addf(b, "unable to parse '%s': %s (line %zu, column %zu)", e->raw, e->message,
                    e->line, e->column);
    } else {
        sl_buf_addf(b, "%s (line %zu, column %zu)", e->message, e->line, e->column);
    }
}

void api_write_v1(struct api_server *s, struct http_req *req, struct http_resp *resp)
{
    const char *db = http_query(req, "db");
    const char *rp = http_query(req, "rp");
    const char *ps = http_query(req, "precision");
    char msg[700];
    if (!db || !*db) {
        http_resp_error(resp, 400, "database is required");
        http_resp_header(resp, "X-Influxdb-Error", "database is required");
        return;
    }
    enum lp_precision prec = LP_PREC_NS;
    if (ps && *ps && precision_lookup(v1_precisions, ps, &prec, msg, sizeof(msg)) < 0) {
        http_resp_error(resp, 400, msg);
        http_resp_header(resp, "X-Influxdb-Error", msg);
        return;
    }
    char full[1100];
    if (rp && *rp && strcmp(rp, "autogen") != 0 && strcmp(rp, "default") != 0) {
        snprintf(full, sizeof(full), "%.512s/%.512s", db, rp);
        db = full;
    }
    struct write_result res;
    if (do_write(s, req, resp, API_V1, db, prec, 0, 0, &res)) return;
    if (res.rejected == 0) {
        resp->status = 204;
        write_result_release(&res);
        return;
    }
    /* InfluxDB 1.x reports the first problem and the number dropped. Telegraf
     * and other clients look for "partial write" and "points beyond retention
     * policy", so those phrases are kept. */
    struct sl_buf b;
    sl_buf_init(&b, 0);
    sl_buf_adds(&b, "partial write: ");
    if (res.nerrors && res.errors[0].kind == WRITE_ERR_RETENTION)
        sl_buf_addf(&b, "points beyond retention policy (line %zu)", res.errors[0].line);
    else if (res.nerrors)
        describe_error(&b, &res.errors[0]);
    if (res.rejected > 1)
        sl_buf_addf(&b, "; %zu more line%s rejected", res.rejected - 1,
                    res.rejected > 2 ? "s" : "");
    sl_buf_addf(&b, " dropped=%zu", res.rejected);
    http_resp_error(resp, 400, b.ptr);
    http_resp_header(resp, "X-Influxdb-Error", b.ptr);
    sl_buf_release(&b);
    write_result_release(&res);
}

void api_write_v2(struct api_server *s, struct http_req *req, struct http_resp *resp)
{
    const char *bucket = http_query(req, "bucket");
    const char *ps = http_query(req, "precision");
    char msg[700];
    if (!bucket || !*bucket) {
        http_resp_error_v2(resp, 400, "invalid", "bucket is required");
        return;
    }
    enum lp_precision prec = LP_PREC_NS;
    if (ps && *ps && precision_lookup(v2_precisions, ps, &prec, msg, sizeof(msg)) < 0) {
        http_resp_error_v2(resp, 400, "invalid", msg);
        return;
    }
    struct write_result res;
    /* 2.x rejects the whole batch on a parse error; type conflicts are partial (422). A
     * first pass with all_or_nothing would hide conflicts, so parse errors are checked
     * by the engine as usual and the batch is rejected here if any occurred. */
    if (do_write(s, req, resp, API_V2, bucket, prec, 2, 0, &res)) return;
    if (res.rejected == 0) {
        resp->status = 204;
        write_result_release(&res);
        return;
    }
    struct sl_buf b;
    sl_buf_init(&b, 0);
    int parse = res.rejected_by_kind[WRITE_ERR_PARSE] > 0;
    const struct write_line_error *first = NULL;
    for (size_t i = 0; i < res.nerrors && !first; i++)
        if ((res.errors[i].kind == WRITE_ERR_PARSE) == parse) first = &res.errors[i];
    if (!first && res.nerrors) first = &res.errors[0];
    if (parse) {
        if (first) describe_error(&b, first);
        if (res.rejected_by_kind[WRITE_ERR_PARSE] > 1)
            sl_buf_addf(&b, "; %zu lines failed to parse, nothing was written",
                        res.rejected_by_kind[WRITE_ERR_PARSE]);
        http_resp_error_v2(resp, 400, "invalid", b.ptr);
        http_resp_header(resp, "X-Platform-Error-Code", "invalid");
    } else if (res.rejected_by_kind[WRITE_ERR_RETENTION] == res.rejected) {
        /* as InfluxDB 2.x: 422, the points outside retention are dropped */
        sl_buf_addf(&b,
                    "failure writing points to database: partial write: points beyond "
                    "retention policy dropped=%zu",
                    res.rejected);
        http_resp_error_v2(resp, 422, "unprocessable entity", b.ptr);
        http_resp_header(resp, "X-Platform-Error-Code", "unprocessable entity");
    } else {
        sl_buf_adds(&b, "failure writing points to database: partial write: ");
        if (first) describe_error(&b, first);
        sl_buf_addf(&b, " dropped=%zu", res.rejected);
        http_resp_error_v2(resp, 422, "unprocessable entity", b.ptr);
        http_resp_header(resp, "X-Platform-Error-Code", "unprocessable entity");
    }
    sl_buf_release(&b);
    write_result_release(&res);
}

void api_write_v3(struct api_server *s, struct http_req *req, struct http_resp *resp)
{
    const char *db = http_query(req, "db");
    const char *ps = http_query(req, "precision");
    const char *ap = http_query(req, "accept_partial");
    char msg[700];
    if (!db || !*db) {
        http_resp_error(resp, 400, "missing required parameter \"db\"");
        return;
    }
    enum lp_precision prec = LP_PREC_AUTO;
    if (ps && *ps && precision_lookup(v3_precisions, ps, &prec, msg, sizeof(msg)) < 0) {
        http_resp_error(resp, 400, msg);
        return;
    }
    int accept_partial = !ap || is_true(ap);
    if (ap && !accept_partial && strcasecmp(ap, "false") != 0 && strcmp(ap, "0") != 0) {
        http_resp_error(resp, 400, "invalid accept_partial: use true or false");
        return;
    }
    int no_sync = is_true(http_query(req, "no_sync"));
    struct write_result res;
    if (do_write(s, req, resp, API_V3, db, prec, accept_partial ? 0 : 1, no_sync, &res)) return;
    if (res.rejected == 0) {
        resp->status = 204;
        write_result_release(&res);
        return;
    }
    struct sl_buf b;
    sl_buf_init(&b, 0);
    sl_buf_adds(&b, "{\"error\":");
    const char *head = res.accepted ? "partial write of line protocol occurred"
                       : res.rejected_by_kind[WRITE_ERR_RETENTION] == res.rejected
                           ? "points are older than the database's retention period"
                           : "parsing failed for write_lp endpoint";
    sl_buf_add_json_str(&b, head, strlen(head));
    sl_buf_adds(&b, ",\"data\":[");
    for (size_t i = 0; i < res.nerrors; i++) {
        const struct write_line_error *e = &res.errors[i];
        char m[700];
        snprintf(m, sizeof(m), "%s (column %zu)", e->message, e->column);
        if (i) sl_buf_addc(&b, ',');
        sl_buf_adds(&b, "{\"error_message\":");
        sl_buf_add_json_str(&b, m, strlen(m));
        sl_buf_addf(&b, ",\"line_number\":%zu,\"column\":%zu,\"original_line\":", e->line,
                    e->column);
        sl_buf_add_json_str(&b, e->raw, strlen(e->raw));
        sl_buf_addc(&b, '}');
    }
    sl_buf_addf(&b, "],\"rejected\":%zu,\"accepted\":%zu}\n", res.rejected, res.accepted);
    resp->status = 400;
    resp->content_type = "application/json";
    sl_buf_release(&resp->body);
    resp->body = b;
    write_result_release(&res);
}
