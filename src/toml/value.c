/*
 * value.c — the TOML document model: allocation of values in the document's
 * arena, tables (insertion-ordered entries plus an open-addressing hash
 * index built once a table has TOML_INDEX_MIN keys), arrays, and the public
 * read-only accessors declared in toml.h.
 *
 * Growth: entry arrays, item arrays and indexes double in the arena; the
 * abandoned copies are freed with the arena, which bounds the waste to the
 * size of the live data. The hash seed is chosen per document, so a crafted
 * file cannot precompute colliding keys.
 */
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "common/err.h"
#include "common/hash.h"
#include "common/mem.h"
#include "toml/toml_int.h"

struct toml_value *toml__new(struct toml_parser *p, enum toml_type type, size_t at)
{
    struct toml_value *v = sl_arena_alloc(p->arena, sizeof(*v));
    if (!v) {
        toml__fail(p, at, SL_ETOOBIG, "document too large (memory limit)");
        return NULL;
    }
    memset(v, 0, sizeof(*v));
    v->type = (uint8_t)type;
    if (type == TOML_TABLE) v->u.tab.seed = p->seed;
    toml__position(p, at, &v->line, &v->column);
    return v;
}

static size_t slot_of(const struct toml_table *t, const char *key, size_t len)
{
    return (size_t)sl_hash64(key, len, t->seed) & (t->index_cap - 1);
}

static bool key_eq(const struct toml_kv *kv, const char *key, size_t len)
{
    return kv->keylen == len && memcmp(kv->key, key, len) == 0;
}

struct toml_value *toml__find(const struct toml_table *t, const char *key, size_t len)
{
    if (!t->index) {
        for (size_t i = 0; i < t->len; i++)
            if (key_eq(&t->kv[i], key, len)) return t->kv[i].val;
        return NULL;
    }
    size_t mask = t->index_cap - 1;
    for (size_t s = slot_of(t, key, len);; s = (s + 1) & mask) {
        uint32_t e = t->index[s];
        if (e == 0) return NULL;
        if (key_eq(&t->kv[e - 1], key, len)) return t->kv[e - 1].val;
    }
}

static int reindex(struct toml_parser *p, struct toml_table *t, size_t cap)
{
    uint32_t *idx = sl_arena_alloc(p->arena, cap * sizeof(*idx));
    if (!idx) return SL_ETOOBIG;
    memset(idx, 0, cap * sizeof(*idx));
    t->index = idx;
    t->index_cap = cap;
    for (size_t i = 0; i < t->len; i++) {
        size_t s = slot_of(t, t->kv[i].key, t->kv[i].keylen);
        while (idx[s])
            s = (s + 1) & (cap - 1);
        idx[s] = (uint32_t)(i + 1);
    }
    return 0;
}

int toml__insert(struct toml_parser *p, struct toml_table *t, const char *key, size_t len,
                 struct toml_value *val)
{
    if (t->len == t->cap) {
        size_t ncap = t->cap ? t->cap * 2 : 4;
        struct toml_kv *kv = sl_arena_alloc(p->arena, ncap * sizeof(*kv));
        if (!kv) return SL_ETOOBIG;
        if (t->len) memcpy(kv, t->kv, t->len * sizeof(*kv));
        t->kv = kv;
        t->cap = ncap;
    }
    t->kv[t->len].key = key;
    t->kv[t->len].keylen = len;
    t->kv[t->len].val = val;
    t->len++;
    if (t->len < TOML_INDEX_MIN) return 0;
    if (!t->index || t->len * 2 > t->index_cap) {
        size_t cap = t->index_cap ? t->index_cap * 2 : 32;
        while (cap < t->len * 2)
            cap *= 2;
        return reindex(p, t, cap);
    }
    size_t s = slot_of(t, key, len);
    while (t->index[s])
        s = (s + 1) & (t->index_cap - 1);
    t->index[s] = (uint32_t)t->len;
    return 0;
}

int toml__push(struct toml_parser *p, struct toml_array *a, struct toml_value *val)
{
    if (a->len == a->cap) {
        size_t ncap = a->cap ? a->cap * 2 : 4;
        struct toml_value **items = sl_arena_alloc(p->arena, ncap * sizeof(*items));
        if (!items) return SL_ETOOBIG;
        if (a->len) memcpy(items, a->items, a->len * sizeof(*items));
        a->items = items;
        a->cap = ncap;
    }
    a->items[a->len++] = val;
    return 0;
}

void toml__freeze(struct toml_value *v)
{
    if (v->flags & TOML_F_FROZEN) return;
    v->flags |= TOML_F_FROZEN;
    if (v->type == TOML_TABLE) {
        for (size_t i = 0; i < v->u.tab.len; i++)
            toml__freeze(v->u.tab.kv[i].val);
    } else if (v->type == TOML_ARRAY) {
        for (size_t i = 0; i < v->u.arr.len; i++)
            toml__freeze(v->u.arr.items[i]);
    }
}

void toml_free(struct toml_value *root)
{
    if (!root) return;
    struct toml_doc *d = (struct toml_doc *)((char *)root - offsetof(struct toml_doc, root));
    sl_arena_release(&d->arena);
    sl_free(d);
}

enum toml_type toml_type(const struct toml_value *v)
{
    return (enum toml_type)v->type;
}

const char *toml_type_name(enum toml_type t)
{
    switch (t) {
    case TOML_TABLE: return "table";
    case TOML_ARRAY: return "array";
    case TOML_STRING: return "string";
    case TOML_INTEGER: return "integer";
    case TOML_FLOAT: return "float";
    case TOML_BOOL: return "bool";
    case TOML_DATETIME: return "datetime";
    case TOML_DATETIME_LOCAL: return "datetime-local";
    case TOML_DATE_LOCAL: return "date-local";
    case TOML_TIME_LOCAL: return "time-local";
    }
    return "unknown";
}

int toml_line(const struct toml_value *v)
{
    return v ? (int)v->line : 0;
}

int toml_column(const struct toml_value *v)
{
    return v ? (int)v->column : 0;
}

const struct toml_table *toml_as_table(const struct toml_value *v)
{
    return v && v->type == TOML_TABLE ? &v->u.tab : NULL;
}

const struct toml_array *toml_as_array(const struct toml_value *v)
{
    return v && v->type == TOML_ARRAY ? &v->u.arr : NULL;
}

const struct toml_value *toml_table_value(const struct toml_table *t)
{
    return (const struct toml_value *)((const char *)t - offsetof(struct toml_value, u.tab));
}

size_t toml_table_len(const struct toml_table *t)
{
    return t ? t->len : 0;
}

const struct toml_value *toml_table_getn(const struct toml_table *t, const char *key, size_t len)
{
    return t ? toml__find(t, key, len) : NULL;
}

const struct toml_value *toml_table_get(const struct toml_table *t, const char *key)
{
    return toml_table_getn(t, key, strlen(key));
}

const char *toml_table_key_at(const struct toml_table *t, size_t i, size_t *len)
{
    if (!t || i >= t->len) return NULL;
    if (len) *len = t->kv[i].keylen;
    return t->kv[i].key;
}

const struct toml_value *toml_table_value_at(const struct toml_table *t, size_t i)
{
    return t && i < t->len ? t->kv[i].val : NULL;
}

const struct toml_table *toml_table_get_table(const struct toml_table *t, const char *key)
{
    return toml_as_table(toml_table_get(t, key));
}

const struct toml_array *toml_table_get_array(const struct toml_table *t, const char *key)
{
    return toml_as_array(toml_table_get(t, key));
}

size_t toml_array_len(const struct toml_array *a)
{
    return a ? a->len : 0;
}

const struct toml_value *toml_array_at(const struct toml_array *a, size_t i)
{
    return a && i < a->len ? a->items[i] : NULL;
}

bool toml_array_is_table_array(const struct toml_array *a)
{
    if (!a) return false;
    const struct toml_value *v =
        (const struct toml_value *)((const char *)a - offsetof(struct toml_value, u.arr));
    return (v->flags & TOML_F_AOT) != 0;
}

int toml_get_string(const struct toml_value *v, const char **s, size_t *len)
{
    if (!v || v->type != TOML_STRING) return SL_EINVAL;
    *s = v->u.str.ptr;
    if (len) *len = v->u.str.len;
    return 0;
}

int toml_get_int(const struct toml_value *v, int64_t *out)
{
    if (!v || v->type != TOML_INTEGER) return SL_EINVAL;
    *out = v->u.i;
    return 0;
}

int toml_get_float(const struct toml_value *v, double *out)
{
    if (!v || v->type != TOML_FLOAT) return SL_EINVAL;
    *out = v->u.f;
    return 0;
}

int toml_get_number(const struct toml_value *v, double *out)
{
    if (v && v->type == TOML_INTEGER) {
        *out = (double)v->u.i;
        return 0;
    }
    return toml_get_float(v, out);
}

int toml_get_bool(const struct toml_value *v, bool *out)
{
    if (!v || v->type != TOML_BOOL) return SL_EINVAL;
    *out = v->u.b;
    return 0;
}

int toml_get_datetime(const struct toml_value *v, struct toml_datetime *out)
{
    if (!v || v->type < TOML_DATETIME || v->type > TOML_TIME_LOCAL) return SL_EINVAL;
    *out = v->u.dt;
    return 0;
}

int toml_format_datetime(const struct toml_value *v, char *out, size_t cap)
{
    struct toml_datetime dt;
    if (toml_get_datetime(v, &dt) < 0) return SL_EINVAL;
    if (cap < 40) return SL_ETOOBIG;
    int n = 0;
    if (v->type != TOML_TIME_LOCAL) {
        n += snprintf(out + n, cap - (size_t)n, "%04d-%02d-%02d", dt.year, dt.month, dt.day);
        if (v->type != TOML_DATE_LOCAL) out[n++] = 'T';
    }
    if (v->type != TOML_DATE_LOCAL) {
        n += snprintf(out + n, cap - (size_t)n, "%02d:%02d:%02d", dt.hour, dt.minute, dt.second);
        if (dt.nanosecond) {
            char frac[16];
            snprintf(frac, sizeof(frac), "%09d", dt.nanosecond);
            int fl = 9;
            while (fl > 1 && frac[fl - 1] == '0')
                fl--;
            n += snprintf(out + n, cap - (size_t)n, ".%.*s", fl, frac);
        }
    }
    if (v->type == TOML_DATETIME) {
        int off = dt.offset_minutes;
        if (off == 0) {
            n += snprintf(out + n, cap - (size_t)n, "Z");
        } else {
            char sign = off < 0 ? '-' : '+';
            if (off < 0) off = -off;
            n += snprintf(out + n, cap - (size_t)n, "%c%02d:%02d", sign, off / 60, off % 60);
        }
    }
    return n;
}
