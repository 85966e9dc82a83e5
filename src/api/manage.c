/*
 * manage.c — management endpoints: v3 databases, tables and tokens, v2 buckets,
 * authorizations and organisations. Databases are v2 "buckets"; a bucket id
 * is the database's catalog id as 16 hex digits. Organisations are accepted
 * and ignored (as InfluxDB 3 does): there is one, and a lookup by any name
 * answers with it under that name so that clients which insist are satisfied.
 */
#include <jansson.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/api.h"
#include "common/err.h"
#include "common/log.h"
#include "common/mem.h"
#include "common/timeutil.h"
#include "storage/delete.h"

#define ORG_ID "0000000000000001"

static int require_admin(struct api_server *s, struct http_req *req, struct http_resp *resp,
                         enum api_style st)
{
    struct api_auth a;
    api_authenticate(s, req, &a);
    if (!a.ok) {
        api_unauthorized(resp, st);
        return 0;
    }
    if (!a.grant.admin) {
        if (st == API_V2)
            http_resp_error_v2(resp, 403, "forbidden", "an admin token is required");
        else
            http_resp_error(resp, 403, "an admin token is required");
        return 0;
    }
    return 1;
}

static void json_reply(struct http_resp *resp, int status, json_t *j)
{
    resp->status = status;
    resp->content_type = "application/json";
    char *text = json_dumps(j, JSON_COMPACT);
    if (text) {
        sl_buf_adds(&resp->body, text);
        sl_buf_addc(&resp->body, '\n');
        free(text);
    }
    json_decref(j);
}

static int parse_retention_text(const char *s, int64_t *ns)
{
    if (!s || !*s) {
        *ns = 0;
        return 0;
    }
    return sl_duration_parse(s, strlen(s), ns);
}

/* ---- v3 databases ---- */

void api_configure_database(struct api_server *s, struct http_req *req, struct http_resp *resp)
{
    const char *m = req->method;
    if (!require_admin(s, req, resp, API_V3)) return;
    struct catalog *cat = s->eng->catalog;
    if (!strcmp(m, "GET")) {
        json_t *arr = json_array();
        catalog_rdlock(cat);
        for (size_t i = 0; i < cat->ndbs; i++) {
            struct cat_db *d = cat->dbs[i];
            if (d->deleted) continue;
            json_t *o = json_object();
            json_object_set_new(o, "iox::database", json_string(d->name));
            char dur[64] = "";
            if (d->retention_ns) sl_duration_format(d->retention_ns, dur, sizeof(dur));
            json_object_set_new(o, "retention_period",
                                d->retention_ns ? json_string(dur) : json_null());
            json_array_append_new(arr, o);
        }
        catalog_unlock(cat);
        json_reply(resp, 200, arr);
        return;
    }
    if (!strcmp(m, "DELETE")) {
        const char *db = http_query(req, "db");
        if (!db || !*db) {
            http_resp_error(resp, 400, "missing required parameter \"db\"");
            return;
        }
        int rc = engine_db_drop(s->eng, db, strlen(db));
        if (rc == SL_ENOENT) {
            char msg[600];
            snprintf(msg, sizeof(msg), "database not found: \"%.512s\"", db);
            http_resp_error(resp, 404, msg);
        } else if (rc < 0) {
            http_resp_error(resp, 500, sl_strerror(rc));
        } else {
            resp->status = 200;
        }
        return;
    }
    if (strcmp(m, "POST") != 0 && strcmp(m, "PUT") != 0 && strcmp(m, "PATCH") != 0) {
        http_resp_error(resp, 405, "method not allowed");
        return;
    }
    json_t *j = api_json_body(req, resp, API_V3);
    if (!j) return;
    const char *name = json_string_value(json_object_get(j, "db"));
    json_t *jr = json_object_get(j, "retention_period");
    int64_t ret = 0;
    char msg[700];
    if (!name || !*name) {
        http_resp_error(resp, 400, "missing \"db\" in the request body");
        goto out;
    }
    if (jr && !json_is_null(jr) &&
        (!json_is_string(jr) || parse_retention_text(json_string_value(jr), &ret) < 0)) {
        http_resp_error(resp, 400,
                        "invalid retention_period: use a duration such as \"30d\", \"12h\" or "
                        "\"1w\"");
        goto out;
    }
    if (!strcmp(m, "POST")) {
        int rc = engine_db_create(s->eng, name, strlen(name), ret);
        if (rc == SL_EEXIST) {
            snprintf(msg, sizeof(msg), "database \"%.512s\" already exists", name);
            http_resp_error(resp, 409, msg);
        } else if (rc == SL_EINVAL) {
            snprintf(msg, sizeof(msg), "invalid database name: %s",
                     catalog_name_invalid(name, strlen(name)));
            http_resp_error(resp, 400, msg);
        } else if (rc < 0) {
            http_resp_error(resp, 500, sl_strerror(rc));
        } else {
            resp->status = 200;
        }
    } else {
        catalog_wrlock(s->eng->catalog);
        struct cat_db *d = catalog_db_get(s->eng->catalog, name, strlen(name));
        int rc = d ? catalog_db_set_retention(s->eng->catalog, d, ret) : SL_ENOENT;
        catalog_unlock(s->eng->catalog);
        if (rc == SL_ENOENT) {
            snprintf(msg, sizeof(msg), "database not found: \"%.512s\"", name);
            http_resp_error(resp, 404, msg);
        } else if (rc < 0) {
            http_resp_error(resp, 500, sl_strerror(rc));
        } else {
            resp->status = 200;
        }
    }
out:
    json_decref(j);
}

/* ---- v3 tables ---- */

/* DELETE /api/v3/configure/table?db=&table= drops a table (InfluxDB 3's
 * "delete table"): its rows and files go at once, and a later write under
 * the same name starts a fresh table. Admin only, as every v3 configure
 * endpoint. */
void api_configure_table(struct api_server *s, struct http_req *req, struct http_resp *resp)
{
    if (strcmp(req->method, "DELETE") != 0) {
        http_resp_header(resp, "Allow", "DELETE");
        http_resp_error(resp, 405, "method not allowed");
        return;
    }
    if (!require_admin(s, req, resp, API_V3)) return;
    const char *db = http_query(req, "db"), *table = http_query(req, "table");
    if (!db || !*db || !table || !*table) {
        http_resp_error(resp, 400, "missing required parameter \"db\" or \"table\"");
        return;
    }
    int rc = storage_drop_table(s->eng, db, strlen(db), table, strlen(table));
    if (rc == SL_ENOENT) {
        char msg[1200];
        catalog_rdlock(s->eng->catalog);
        int have_db = catalog_db_get(s->eng->catalog, db, strlen(db)) != NULL;
        catalog_unlock(s->eng->catalog);
        if (have_db)
            snprintf(msg, sizeof(msg), "table not found: \"%.512s\"", table);
        else
            snprintf(msg, sizeof(msg), "database not found: \"%.512s\"", db);
        http_resp_error(resp, 404, msg);
    } else if (rc == SL_ESTATE) {
        http_resp_error(resp, 503, sl_strerror(rc));
    } else if (rc < 0) {
        http_resp_error(resp, 500, sl_strerror(rc));
    } else {
        resp->status = 200;
    }
}

/* ---- tokens ---- */

static void token_created(struct http_resp *resp, const char *id, const char *name, const char *raw,
                          int admin, int v2, json_t *perms)
{
    char created[48];
    sl_time_format_rfc3339(sl_now_ns(), created);
    json_t *o = json_object();
    json_object_set_new(o, "id", json_string(id));
    json_object_set_new(o, v2 ? "description" : "name", json_string(name));
    json_object_set_new(o, "token", json_string(raw));
    json_object_set_new(o, "admin", json_boolean(admin));
    json_object_set_new(o, v2 ? "createdAt" : "created_at", json_string(created));
    if (v2) {
        json_object_set_new(o, "status", json_string("active"));
        json_object_set_new(o, "orgID", json_string(ORG_ID));
        json_object_set_new(o, "org", json_string("default"));
    } else {
        json_object_set_new(o, "expiry", json_null());
    }
    json_object_set_new(o, "permissions", perms ? perms : json_array());
    json_reply(resp, 201, o);
}

void api_configure_token(struct api_server *s, struct http_req *req, struct http_resp *resp)
{
    const char *p = req->path + strlen("/api/v3/configure/token");
    const char *m = req->method;
    if (!require_admin(s, req, resp, API_V3)) return;
    char id[33], msg[700];
    char *raw = NULL;
    if (!strcmp(m, "GET") && (!*p || !strcmp(p, "/"))) {
        resp->status = 200;
        resp->content_type = "application/json";
        token_list_json(s->tokens, &resp->body, 0);
        return;
    }
    if (!strcmp(m, "DELETE")) {
        const char *name = http_query(req, "token_name");
        if (!name) name = http_query(req, "id");
        if (!name || !*name) {
            http_resp_error(resp, 400, "missing required parameter \"token_name\"");
            return;
        }
        int rc = token_delete(s->tokens, name);
        if (rc == SL_ENOENT) {
            snprintf(msg, sizeof(msg), "token \"%.256s\" not found", name);
            http_resp_error(resp, 404, msg);
        } else if (rc < 0) {
            http_resp_error(resp, 500, sl_strerror(rc));
        } else {
            resp->status = 200;
        }
        return;
    }
    if (strcmp(m, "POST") != 0) {
        http_resp_error(resp, 405, "method not allowed");
        return;
    }
    json_t *j = NULL;
    if (req->body.len) {
        if (!(j = api_json_body(req, resp, API_V3))) return;
    }
    const char *name = j ? json_string_value(json_object_get(j, "token_name")) : NULL;
    json_t *jexp = j ? json_object_get(j, "expiry_secs") : NULL;
    int64_t expires = 0;
    if (json_is_integer(jexp) && json_integer_value(jexp) > 0)
        expires = sl_now_ns() + json_integer_value(jexp) * SL_NS_PER_S;
    int rc;
    if (!strcmp(p, "/admin/regenerate")) {
        rc = token_regenerate(s->tokens, "_admin", &raw, id);
        if (rc == 0) token_created(resp, id, "_admin", raw, 1, 0, NULL);
    } else if (!strcmp(p, "/admin") || !strcmp(p, "/named_admin")) {
        if (!name) name = "_admin";
        rc = token_create(s->tokens, name, 1, NULL, 0, expires, NULL, &raw, id);
        if (rc == 0) token_created(resp, id, name, raw, 1, 0, NULL);
    } else if (!*p || !strcmp(p, "/")) {
        json_t *perms = j ? json_object_get(j, "permissions") : NULL;
        if (!name || !json_is_array(perms) || json_array_size(perms) == 0 ||
            json_array_size(perms) > TOKEN_MAX_PERMS) {
            http_resp_error(resp, 400,
                            "a resource token needs \"token_name\" and \"permissions\": "
                            "[{\"resource_type\":\"db\",\"resource_names\":[...],"
                            "\"actions\":[\"read\",\"write\"]}]");
            json_decref(j);
            return;
        }
        struct token_perm tp[TOKEN_MAX_PERMS];
        size_t n = 0;
        size_t i;
        json_t *jp;
        rc = 0;
        json_array_foreach(perms, i, jp)
        {
            const char *rt = json_string_value(json_object_get(jp, "resource_type"));
            json_t *names = json_object_get(jp, "resource_names");
            json_t *acts = json_object_get(jp, "actions");
            int actions = 0;
            size_t k;
            json_t *ja;
            json_array_foreach(acts, k, ja)
            {
                const char *a = json_string_value(ja);
                if (a && !strcmp(a, "read"))
                    actions |= TOKEN_READ;
                else if (a && !strcmp(a, "write"))
                    actions |= TOKEN_WRITE;
                else
                    rc = SL_EINVAL;
            }
            if (!rt || strcmp(rt, "db") != 0 || !json_is_array(names) || !actions) rc = SL_EINVAL;
            json_array_foreach(names, k, ja)
            {
                const char *dbn = json_string_value(ja);
                if (!dbn || n >= TOKEN_MAX_PERMS) {
                    rc = SL_EINVAL;
                    break;
                }
                tp[n].db = (char *)dbn;
                tp[n].actions = actions;
                n++;
            }
        }
        if (rc < 0 || n == 0) {
            http_resp_error(resp, 400,
                            "invalid permissions: resource_type must be \"db\", resource_names a "
                            "list of database names (or \"*\"), actions \"read\" and/or \"write\"");
            json_decref(j);
            return;
        }
        rc = token_create(s->tokens, name, 0, tp, n, expires, NULL, &raw, id);
        if (rc == 0) token_created(resp, id, name, raw, 0, 0, json_incref(perms));
    } else {
        http_resp_error(resp, 404, "no such token endpoint");
        json_decref(j);
        return;
    }
    if (rc == SL_EEXIST) {
        snprintf(msg, sizeof(msg), "token \"%.256s\" already exists", name ? name : "");
        http_resp_error(resp, 409, msg);
    } else if (rc == SL_ENOENT) {
        http_resp_error(resp, 404, "token not found");
    } else if (rc == SL_EINVAL) {
        http_resp_error(resp, 400, "invalid token name");
    } else if (rc < 0) {
        http_resp_error(resp, 500, sl_strerror(rc));
    } else {
        sl_info("api", "token %s created", id);
    }
    if (raw) {
        memset(raw, 0, strlen(raw));
        sl_free(raw);
    }
    json_decref(j);
}

/* ---- v2 buckets ---- */

static json_t *bucket_json(const struct cat_db *d)
{
    char id[17], created[48];
    snprintf(id, sizeof(id), "%016x", d->id);
    sl_time_format_rfc3339(d->created_ns, created);
    json_t *o = json_object();
    json_object_set_new(o, "id", json_string(id));
    json_object_set_new(o, "orgID", json_string(ORG_ID));
    json_object_set_new(o, "type", json_string("user"));
    json_object_set_new(o, "name", json_string(d->name));
    json_t *rules = json_array();
    json_t *r = json_object();
    json_object_set_new(r, "type", json_string("expire"));
    json_object_set_new(r, "everySeconds", json_integer(d->retention_ns / SL_NS_PER_S));
    json_object_set_new(r, "shardGroupDurationSeconds", json_integer(0));
    json_array_append_new(rules, r);
    json_object_set_new(o, "retentionRules", rules);
    json_object_set_new(o, "createdAt", json_string(created));
    json_object_set_new(o, "updatedAt", json_string(created));
    json_object_set_new(o, "labels", json_array());
    return o;
}

struct cat_db *api_db_by_bucket_id(struct catalog *cat, const char *id)
{
    char *end;
    unsigned long long v = strtoull(id, &end, 16);
    if (!*id || (*end && *end != '/')) return NULL;
    for (size_t i = 0; i < cat->ndbs; i++)
        if (!cat->dbs[i]->deleted && cat->dbs[i]->id == v) return cat->dbs[i];
    return NULL;
}

static int retention_from_rules(json_t *rules, int64_t *ns)
{
    *ns = 0;
    if (!rules || json_is_null(rules)) return 0;
    if (!json_is_array(rules)) return SL_EINVAL;
    size_t i;
    json_t *r;
    json_array_foreach(rules, i, r)
    {
        json_t *ev = json_object_get(r, "everySeconds");
        if (!json_is_integer(ev) || json_integer_value(ev) < 0 ||
            json_integer_value(ev) > INT64_MAX / SL_NS_PER_S)
            return SL_EINVAL;
        *ns = json_integer_value(ev) * SL_NS_PER_S;
    }
    return 0;
}

void api_v2_buckets(struct api_server *s, struct http_req *req, struct http_resp *resp)
{
    const char *m = req->method;
    const char *rest = req->path + strlen("/api/v2/buckets");
    if (*rest == '/') rest++;
    struct catalog *cat = s->eng->catalog;
    if (!require_admin(s, req, resp, API_V2)) return;
    char msg[700];
    if (!strcmp(m, "GET")) {
        const char *name = http_query(req, "name");
        json_t *arr = json_array();
        catalog_rdlock(cat);
        if (*rest) {
            struct cat_db *d = api_db_by_bucket_id(cat, rest);
            if (d) {
                json_t *one = bucket_json(d);
                catalog_unlock(cat);
                json_decref(arr);
                json_reply(resp, 200, one);
                return;
            }
            catalog_unlock(cat);
            json_decref(arr);
            http_resp_error_v2(resp, 404, "not found", "bucket not found");
            return;
        }
        for (size_t i = 0; i < cat->ndbs; i++) {
            struct cat_db *d = cat->dbs[i];
            if (d->deleted || (name && strcmp(name, d->name) != 0)) continue;
            json_array_append_new(arr, bucket_json(d));
        }
        catalog_unlock(cat);
        json_t *o = json_object();
        json_object_set_new(o, "buckets", arr);
        json_reply(resp, 200, o);
        return;
    }
    if (!strcmp(m, "DELETE")) {
        catalog_rdlock(cat);
        struct cat_db *d = api_db_by_bucket_id(cat, rest);
        char *name = d ? sl_strdup(d->name) : NULL;
        catalog_unlock(cat);
        if (!name) {
            http_resp_error_v2(resp, 404, "not found", "bucket not found");
            return;
        }
        int rc = engine_db_drop(s->eng, name, strlen(name));
        sl_free(name);
        if (rc < 0)
            http_resp_error_v2(resp, 500, "internal error", sl_strerror(rc));
        else
            resp->status = 204;
        return;
    }
    json_t *j = api_json_body(req, resp, API_V2);
    if (!j) return;
    int64_t ret = 0;
    if (retention_from_rules(json_object_get(j, "retentionRules"), &ret) < 0) {
        http_resp_error_v2(resp, 400, "invalid", "invalid retentionRules");
        json_decref(j);
        return;
    }
    if (!strcmp(m, "POST") && !*rest) {
        const char *name = json_string_value(json_object_get(j, "name"));
        if (!name || !*name) {
            http_resp_error_v2(resp, 400, "invalid", "bucket name is required");
        } else {
            int rc = engine_db_create(s->eng, name, strlen(name), ret);
            if (rc == SL_EEXIST) {
                snprintf(msg, sizeof(msg), "bucket with name %.512s already exists", name);
                http_resp_error_v2(resp, 422, "conflict", msg);
            } else if (rc == SL_EINVAL) {
                http_resp_error_v2(resp, 400, "invalid", "invalid bucket name");
            } else if (rc < 0) {
                http_resp_error_v2(resp, 500, "internal error", sl_strerror(rc));
            } else {
                catalog_rdlock(cat);
                struct cat_db *d = catalog_db_get(cat, name, strlen(name));
                json_t *o = d ? bucket_json(d) : json_object();
                catalog_unlock(cat);
                json_reply(resp, 201, o);
            }
        }
    } else if (!strcmp(m, "PATCH") && *rest) {
        catalog_wrlock(cat);
        struct cat_db *d = api_db_by_bucket_id(cat, rest);
        int rc = SL_ENOENT;
        if (d)
            rc = json_object_get(j, "retentionRules") ? catalog_db_set_retention(cat, d, ret) : 0;
        json_t *o = rc == 0 ? bucket_json(d) : NULL;
        catalog_unlock(cat);
        if (rc == SL_ENOENT)
            http_resp_error_v2(resp, 404, "not found", "bucket not found");
        else if (rc < 0)
            http_resp_error_v2(resp, 500, "internal error", sl_strerror(rc));
        else
            json_reply(resp, 200, o);
    } else {
        http_resp_error_v2(resp, 405, "method not allowed", "method not allowed");
    }
    json_decref(j);
}

void api_v2_orgs(struct api_server *s, struct http_req *req, struct http_resp *resp)
{
    struct api_auth a;
    api_authenticate(s, req, &a);
    if (!a.ok) {
        api_unauthorized(resp, API_V2);
        return;
    }
    const char *name = http_query(req, "org");
    if (!name) name = "default";
    json_t *org = json_object();
    json_object_set_new(org, "id", json_string(ORG_ID));
    json_object_set_new(org, "name", json_string(name));
    json_object_set_new(org, "description", json_string("sluice has one organisation"));
    json_object_set_new(org, "createdAt", json_string("2024-01-01T00:00:00Z"));
    json_object_set_new(org, "updatedAt", json_string("2024-01-01T00:00:00Z"));
    if (strlen(req->path) > strlen("/api/v2/orgs/")) {
        json_reply(resp, 200, org);
        return;
    }
    json_t *arr = json_array();
    json_array_append_new(arr, org);
    json_t *o = json_object();
    json_object_set_new(o, "orgs", arr);
    json_reply(resp, 200, o);
}

/* ---- v2 authorizations ---- */

void api_v2_authorizations(struct api_server *s, struct http_req *req, struct http_resp *resp)
{
    const char *m = req->method;
    const char *rest = req->path + strlen("/api/v2/authorizations");
    if (*rest == '/') rest++;
    if (!require_admin(s, req, resp, API_V2)) return;
    if (!strcmp(m, "GET")) {
        resp->status = 200;
        resp->content_type = "application/json";
        sl_buf_adds(&resp->body, "{\"authorizations\":");
        token_list_json(s->tokens, &resp->body, 1);
        sl_buf_adds(&resp->body, "}\n");
        return;
    }
    if (!strcmp(m, "DELETE")) {
        int rc = *rest ? token_delete(s->tokens, rest) : SL_ENOENT;
        if (rc == SL_ENOENT)
            http_resp_error_v2(resp, 404, "not found", "authorization not found");
        else if (rc < 0)
            http_resp_error_v2(resp, 500, "internal error", sl_strerror(rc));
        else
            resp->status = 204;
        return;
    }
    if (strcmp(m, "POST") != 0) {
        http_resp_error_v2(resp, 405, "method not allowed", "method not allowed");
        return;
    }
    json_t *j = api_json_body(req, resp, API_V2);
    if (!j) return;
    json_t *perms = json_object_get(j, "permissions");
    const char *desc = json_string_value(json_object_get(j, "description"));
    struct token_perm tp[TOKEN_MAX_PERMS];
    char *names[TOKEN_MAX_PERMS];
    size_t n = 0;
    int bad = !json_is_array(perms) || json_array_size(perms) == 0 ||
              json_array_size(perms) > TOKEN_MAX_PERMS;
    size_t i;
    json_t *jp;
    catalog_rdlock(s->eng->catalog);
    json_array_foreach(perms, i, jp)
    {
        if (bad) break;
        const char *action = json_string_value(json_object_get(jp, "action"));
        json_t *res = json_object_get(jp, "resource");
        const char *type = json_string_value(json_object_get(res, "type"));
        const char *bname = json_string_value(json_object_get(res, "name"));
        const char *bid = json_string_value(json_object_get(res, "id"));
        if (!action || (strcmp(action, "read") && strcmp(action, "write")) || !type) {
            bad = 1;
            break;
        }
        if (strcmp(type, "buckets") != 0) continue; /* other resource types grant nothing here */
        const char *db = "*";
        if (bname)
            db = bname;
        else if (bid) {
            struct cat_db *d = api_db_by_bucket_id(s->eng->catalog, bid);
            if (!d) {
                bad = 2;
                break;
            }
            db = d->name;
        }
        names[n] = sl_strdup(db);
        tp[n].db = names[n];
        tp[n].actions = !strcmp(action, "read") ? TOKEN_READ : TOKEN_WRITE;
        if (!names[n]) {
            bad = 1;
            break;
        }
        n++;
    }
    catalog_unlock(s->eng->catalog);
    char id[33], label[64];
    char *raw = NULL;
    if (bad || n == 0) {
        http_resp_error_v2(resp, bad == 2 ? 404 : 400, bad == 2 ? "not found" : "invalid",
                           bad == 2 ? "bucket not found"
                                    : "permissions must be a list of {action: read|write, "
                                      "resource: {type: \"buckets\", name|id}}");
    } else {
        unsigned char r[4] = {0};
        RAND_bytes(r, sizeof(r));
        snprintf(label, sizeof(label), "authorization-%02x%02x%02x%02x", r[0], r[1], r[2], r[3]);
        const char *tname = desc && *desc ? desc : label;
        int rc = token_create(s->tokens, tname, 0, tp, n, 0, desc, &raw, id);
        if (rc == SL_EEXIST) rc = token_create(s->tokens, label, 0, tp, n, 0, desc, &raw, id);
        if (rc < 0) {
            http_resp_error_v2(resp, 500, "internal error", sl_strerror(rc));
        } else {
            token_created(resp, id, tname, raw, 0, 1, json_incref(perms));
            memset(raw, 0, strlen(raw));
            sl_free(raw);
        }
    }
    for (size_t k = 0; k < n; k++)
        sl_free(names[k]);
    json_decref(j);
}
