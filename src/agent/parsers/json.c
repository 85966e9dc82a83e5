/*
 * json.c — Telegraf's v1 JSON data format (see parsers.h for the options).
 *
 * Per object, as Telegraf's parser does: flatten every value into
 * "parent_child" keys (array elements as "key_0", "key_1"; nulls skipped);
 * take the measurement from json_name_key when it names a string; take and
 * remove json_time_key; move keys matching tag_keys into tags (strings as
 * is, booleans as "true"/"false", numbers in shortest form); drop remaining
 * strings and booleans unless they match json_string_fields. Numbers are
 * always float fields. An object left without fields gives no metric.
 *
 * Documents are parsed with jansson; nesting deeper than JSON_MAX_DEPTH or a
 * flattened key longer than JSON_MAX_KEY is an error, not a crash.
 */
#include <jansson.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent/parsers/parsers_int.h"
#include "common/buf.h"
#include "common/err.h"
#include "common/mem.h"

#define JSON_MAX_DEPTH 64
#define JSON_MAX_KEY   4096

/* One flattened value, pointing into the jansson document. */
struct flat {
    char *key;
    json_t *v;
};

struct flat_list {
    struct flat *v;
    size_t n, cap;
};

static void flat_release(struct flat_list *l)
{
    for (size_t i = 0; i < l->n; i++)
        sl_free(l->v[i].key);
    sl_free(l->v);
    memset(l, 0, sizeof(*l));
}

static int flat_push(struct flat_list *l, const char *key, size_t klen, json_t *v)
{
    struct flat *nv = sl_grow(l->v, &l->cap, l->n + 1, sizeof(*l->v));
    if (!nv) return SL_ENOMEM;
    l->v = nv;
    char *k = sl_strndup(key, klen);
    if (!k) return SL_ENOMEM;
    l->v[l->n].key = k;
    l->v[l->n].v = v;
    l->n++;
    return 0;
}

static int flatten(struct flat_list *l, struct sl_buf *key, json_t *v, int depth)
{
    if (depth > JSON_MAX_DEPTH) return SL_ETOOBIG;
    size_t base = key->len;
    int rc = 0;
    if (json_is_object(v)) {
        const char *k;
        json_t *c;
        json_object_foreach(v, k, c)
        {
            key->len = base;
            if (base && (rc = sl_buf_addc(key, '_')) < 0) break;
            if ((rc = sl_buf_adds(key, k)) < 0) break;
            if ((rc = flatten(l, key, c, depth + 1)) < 0) break;
        }
    } else if (json_is_array(v)) {
        size_t i;
        json_t *c;
        json_array_foreach(v, i, c)
        {
            key->len = base;
            if (base && (rc = sl_buf_addc(key, '_')) < 0) break;
            if ((rc = sl_buf_add_u64(key, (uint64_t)i)) < 0) break;
            if ((rc = flatten(l, key, c, depth + 1)) < 0) break;
        }
    } else if (!json_is_null(v)) {
        rc = flat_push(l, key->ptr ? key->ptr : "", key->len, v);
    }
    key->len = base;
    if (key->ptr) key->ptr[base] = '\0';
    return rc;
}

static int value_time(struct parser *p, json_t *v, int64_t *ns)
{
    if (json_is_string(v))
        return parser_time_parse(p->time_format, json_string_value(v), json_string_length(v), ns);
    if (json_is_integer(v))
        return parser_time_parse_int(p->time_format, (int64_t)json_integer_value(v), ns);
    if (json_is_number(v))
        return parser_time_parse_number(p->time_format, json_number_value(v), ns);
    return SL_EINVAL;
}

static int parse_object(struct parser *p, json_t *obj, int64_t now_ns, struct metric_list *out,
                        char *err, size_t errcap)
{
    struct flat_list fl = {0};
    struct sl_buf key;
    struct metric *m = NULL;
    int rc;
    sl_buf_init(&key, JSON_MAX_KEY);
    if ((rc = flatten(&fl, &key, obj, 0)) < 0) {
        snprintf(err, errcap, "%s",
                 rc == SL_ETOOBIG ? "JSON nesting or key too long" : "out of memory");
        goto out;
    }
    const char *name = p->metric_name;
    int64_t t = now_ns;
    if (p->name_key && *p->name_key) {
        for (size_t i = 0; i < fl.n; i++)
            if (!strcmp(fl.v[i].key, p->name_key) && json_is_string(fl.v[i].v)) {
                name = json_string_value(fl.v[i].v);
                break;
            }
    }
    int time_found = 0;
    if (p->time_key && *p->time_key) {
        for (size_t i = 0; i < fl.n; i++) {
            if (strcmp(fl.v[i].key, p->time_key)) continue;
            if ((rc = value_time(p, fl.v[i].v, &t)) < 0) {
                snprintf(err, errcap, "time key '%s': cannot parse with format \"%s\"", p->time_key,
                         p->time_format);
                goto out;
            }
            fl.v[i].v = NULL; /* consumed */
            time_found = 1;
            break;
        }
        if (!time_found) {
            snprintf(err, errcap, "JSON time key '%s' could not be found", p->time_key);
            rc = SL_EINVAL;
            goto out;
        }
    }
    if (!(m = metric_new(*name ? name : p->metric_name, t))) {
        rc = SL_ENOMEM;
        goto out;
    }
    for (size_t i = 0; i < fl.n; i++) {
        json_t *v = fl.v[i].v;
        const char *k = fl.v[i].key;
        if (!v) continue;
        if (glob_list_match(&p->tag_keys, k)) {
            char tmp[64];
            const char *s = NULL;
            if (json_is_string(v))
                s = json_string_value(v);
            else if (json_is_boolean(v))
                s = json_is_true(v) ? "true" : "false";
            else if (json_is_number(v)) {
                parser_go_float_f(json_number_value(v), tmp, sizeof(tmp));
                s = tmp;
            }
            if (s && (rc = metric_add_tag(m, k, s)) < 0) goto out;
            continue;
        }
        if (json_is_number(v)) {
            rc = metric_add_float(m, k, json_number_value(v));
        } else if (glob_list_match(&p->string_fields, k)) {
            if (json_is_string(v))
                rc = metric_add_stringn(m, k, json_string_value(v), json_string_length(v));
            else if (json_is_boolean(v))
                rc = metric_add_bool(m, k, json_is_true(v));
        }
        if (rc < 0) goto out;
    }
    if (m->nfields == 0) {
        metric_free(m);
    } else {
        rc = metric_list_push(out, m);
    }
    m = NULL;
out:
    metric_free(m);
    flat_release(&fl);
    sl_buf_release(&key);
    return rc;
}

/* A simple GJSON path: keys separated by '.', "\." for a literal dot,
 * numeric segments index arrays. Returns NULL when absent. */
static json_t *query(json_t *root, const char *path)
{
    json_t *cur = root;
    char seg[1024];
    const char *p = path;
    while (cur && *p) {
        size_t n = 0;
        while (*p && *p != '.') {
            if (*p == '\\' && p[1]) p++;
            if (n + 1 >= sizeof(seg)) return NULL;
            seg[n++] = *p++;
        }
        seg[n] = '\0';
        if (*p == '.') p++;
        if (json_is_object(cur)) {
            cur = json_object_get(cur, seg);
        } else if (json_is_array(cur)) {
            char *end;
            unsigned long idx = strtoul(seg, &end, 10);
            cur = (n && !*end) ? json_array_get(cur, idx) : NULL;
        } else {
            cur = NULL;
        }
    }
    return cur;
}

int parser_json_parse(struct parser *p, const char *buf, size_t len, int64_t now_ns,
                      struct metric_list *out, char *err, size_t errcap)
{
    json_error_t je;
    int rc = 0;
    /* skip leading whitespace-only input: Telegraf returns no metrics */
    size_t k = 0;
    while (k < len && (buf[k] == ' ' || buf[k] == '\n' || buf[k] == '\r' || buf[k] == '\t'))
        k++;
    if (k == len) return 0;
    json_t *root = json_loadb(buf, len, JSON_DECODE_ANY, &je);
    if (!root) {
        snprintf(err, errcap, "invalid JSON at line %d column %d: %s", je.line, je.column, je.text);
        return SL_EINVAL;
    }
    json_t *doc = root;
    if (p->query && *p->query) {
        doc = query(root, p->query);
        if (!doc) {
            snprintf(err, errcap, "json_query path \"%s\" does not exist", p->query);
            rc = SL_EINVAL;
            goto out;
        }
    }
    if (json_is_object(doc)) {
        rc = parse_object(p, doc, now_ns, out, err, errcap);
    } else if (json_is_array(doc)) {
        size_t i;
        json_t *e;
        json_array_foreach(doc, i, e)
        {
            if (!json_is_object(e)) {
                if (!p->strict) continue;
                snprintf(err, errcap, "array element %zu is not an object", i);
                rc = SL_EINVAL;
                break;
            }
            if ((rc = parse_object(p, e, now_ns, out, err, errcap)) < 0) {
                if (rc == SL_ENOMEM || p->strict) break;
                rc = 0;
            }
        }
    } else {
        snprintf(err, errcap, "JSON must be an object or an array of objects");
        rc = SL_EINVAL;
    }
out:
    json_decref(root);
    return rc;
}
