/*
 * delete_v2.c — POST /api/v2/delete, InfluxDB 2.x's delete API:
 *
 *     POST /api/v2/delete?org=O&bucket=B        (or orgID=, bucketID=)
 *     {"start": RFC3339, "stop": RFC3339, "predicate": "_measurement=\"cpu\" AND host=\"a\""}
 *
 * deletes, durably (storage_delete), the points of bucket B with time in
 * [start, stop] (both ends included, as in 2.x) whose series the predicate
 * selects; an empty predicate selects every series. Answers as 2.x does:
 * 204; 400 {"code":"invalid"} for a missing or malformed parameter, time or
 * predicate; 401 without a valid token; 403 when the token may not write the
 * bucket; 404 {"code":"not found","message":"bucket \"B\" not found"}; 501
 * for a predicate on _field. Buckets are databases, named as /api/v2/write
 * names them (the bucket name is the database name); a "db/autogen" or
 * "db/default" bucket of a 1.x client means database db when no database has
 * the full name, as /write?rp=autogen does. The organisation is accepted and
 * ignored (sluice has one).
 */
#include <jansson.h>
#include <stdio.h>
#include <string.h>

#include "api/api.h"
#include "api/delete_v2.h"
#include "common/err.h"
#include "common/mem.h"
#include "common/timeutil.h"

static void v2_error(struct http_resp *resp, int status, const char *code, const char *msg)
{
    http_resp_error_v2(resp, status, code, msg);
    http_resp_header(resp, "X-Platform-Error-Code", code);
}

/* Reads body field "start" or "stop" into *ns. Returns 0, or 1 with a 400 set. */
static int body_time(json_t *body, const char *field, int64_t *ns, struct http_resp *resp)
{
    json_t *v = json_object_get(body, field);
    char msg[400];
    if (!v || json_is_null(v)) {
        snprintf(msg, sizeof(msg),
                 "invalid request: %s is required, an RFC3339Nano time such as "
                 "2009-01-02T23:00:00Z",
                 field);
        v2_error(resp, 400, "invalid", msg);
        return 1;
    }
    const char *s = json_string_value(v);
    int rc = s ? delete_v2_parse_time(s, json_string_length(v), ns) : SL_EINVAL;
    if (rc == SL_ERANGE) {
        snprintf(msg, sizeof(msg),
                 "invalid %s time \"%.64s\": times must lie between "
                 "1677-09-21T00:12:43.145224194Z and 2262-04-11T23:47:16.854775806Z",
                 field, s);
        v2_error(resp, 400, "invalid", msg);
        return 1;
    }
    if (rc < 0) {
        snprintf(msg, sizeof(msg),
                 "invalid RFC3339Nano for field %s%s%.64s%s, please format your time with "
                 "RFC3339Nano format, example: 2009-01-02T23:00:00Z",
                 field, s ? " (\"" : " (not a string", s ? s : "", s ? "\")" : ")");
        v2_error(resp, 400, "invalid", msg);
        return 1;
    }
    return 0;
}

/* The database the request names, owned by the caller; NULL with a response set. */
static char *resolve_bucket(struct api_server *s, struct http_req *req, struct http_resp *resp)
{
    const char *id = http_query(req, "bucketID");
    const char *name = http_query(req, "bucket");
    struct catalog *cat = s->eng->catalog;
    char msg[700];
    char *db = NULL;
    if (id && *id) {
        size_t n = strlen(id);
        if (n > 16 || strspn(id, "0123456789abcdefABCDEF") != n) {
            snprintf(msg, sizeof(msg),
                     "invalid bucketID \"%.64s\": a bucket id is 16 hexadecimal digits", id);
            v2_error(resp, 400, "invalid", msg);
            return NULL;
        }
        catalog_rdlock(cat);
        struct cat_db *d = api_db_by_bucket_id(cat, id);
        if (d) db = sl_strdup(d->name);
        catalog_unlock(cat);
        if (!d) {
            snprintf(msg, sizeof(msg), "bucket \"%.64s\" not found", id);
            v2_error(resp, 404, "not found", msg);
            return NULL;
        }
    } else if (name && *name) {
        size_t n = strlen(name);
        catalog_rdlock(cat);
        if (!catalog_db_get(cat, name, n)) {
            /* a 1.x client's "db/rp": the default retention policy is the database itself */
            const char *slash = strrchr(name, '/');
            if (slash && slash != name &&
                (!strcmp(slash, "/") || !strcmp(slash, "/autogen") || !strcmp(slash, "/default")) &&
                catalog_db_get(cat, name, (size_t)(slash - name)))
                n = (size_t)(slash - name);
        }
        catalog_unlock(cat);
        db = sl_strndup(name, n);
    } else {
        v2_error(resp, 400, "invalid", "invalid request: bucket or bucketID is required");
        return NULL;
    }
    if (!db) v2_error(resp, 503, "unavailable", "out of memory; retry later");
    return db;
}

void api_delete_v2(struct api_server *s, struct http_req *req, struct http_resp *resp)
{
    struct api_auth a;
    api_authenticate(s, req, &a);
    if (!a.ok) {
        api_unauthorized(resp, API_V2);
        return;
    }
    json_t *body = api_json_body(req, resp, API_V2);
    if (!body) {
        http_resp_header(resp, "X-Platform-Error-Code", "invalid");
        return;
    }
    struct del_pred p = {0, 0, NULL};
    char *db = NULL;
    char msg[700];
    if (body_time(body, "start", &p.tmin, resp) || body_time(body, "stop", &p.tmax, resp)) goto out;
    if (p.tmin > p.tmax) {
        char a1[48], a2[48];
        sl_time_format_rfc3339(p.tmin, a1);
        sl_time_format_rfc3339(p.tmax, a2);
        snprintf(msg, sizeof(msg), "invalid request: start %s is after stop %s", a1, a2);
        v2_error(resp, 400, "invalid", msg);
        goto out;
    }
    json_t *pv = json_object_get(body, "predicate");
    if (pv && !json_is_null(pv) && !json_is_string(pv)) {
        v2_error(resp, 400, "invalid", "invalid request: predicate must be a string");
        goto out;
    }
    struct delete_v2_err pe;
    int rc =
        pv && json_is_string(pv)
            ? delete_v2_parse_predicate(json_string_value(pv), json_string_length(pv), &p.root, &pe)
            : 0;
    if (rc == SL_ENOMEM) {
        v2_error(resp, 503, "unavailable", "out of memory; retry later");
        goto out;
    }
    if (rc < 0) {
        if (pe.not_implemented)
            v2_error(resp, 501, "not implemented", pe.msg);
        else
            v2_error(resp, 400, "invalid", pe.msg);
        goto out;
    }
    if (!(db = resolve_bucket(s, req, resp))) goto out;
    size_t dblen = strlen(db);
    if (!api_allowed(s, &a, db, dblen, TOKEN_WRITE)) {
        snprintf(msg, sizeof(msg),
                 "insufficient permissions to delete: the token may not write bucket \"%.512s\"",
                 db);
        v2_error(resp, 403, "forbidden", msg);
        goto out;
    }
    rc = storage_delete(s->eng, db, dblen, &p, NULL); /* storage_delete logs what went */
    switch (rc) {
    case 0: resp->status = 204; break;
    case SL_ENOENT:
        snprintf(msg, sizeof(msg), "bucket \"%.512s\" not found", db);
        v2_error(resp, 404, "not found", msg);
        break;
    case SL_ESTATE:
        v2_error(resp, 503, "unavailable",
                 "deletes are refused: the write-ahead log failed earlier and the server must be "
                 "restarted");
        break;
    case SL_ENOMEM:
        v2_error(resp, 503, "unavailable", "out of memory; retry later");
        http_resp_header(resp, "Retry-After", "1");
        break;
    default:
        snprintf(msg, sizeof(msg), "unable to delete: %s", sl_strerror(rc));
        v2_error(resp, 500, "internal error", msg);
    }
out:
    del_pred_release(&p);
    sl_free(db);
    json_decref(body);
}
