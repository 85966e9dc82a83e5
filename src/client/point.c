/*
 * point.c — the point builder of libsluice (include/sluice/point.h).
 *
 * A point keeps its strings in one byte buffer and refers to them by offset,
 * so building a point costs a few appends and no per-string allocation, and
 * sl_point_reset() reuses the memory. Serialization goes through the shared
 * line-protocol serializer (src/lp), so escaping rules live in one place.
 *
 * Carriage returns and newlines are refused everywhere (measurement, keys,
 * tag values and string values): line protocol is split at newlines by most
 * parsers, and the writer splits batches at line boundaries. A measurement
 * may not start with '#', which would make the line a comment.
 */
#include <math.h>
#include <string.h>

#include "common/buf.h"
#include "common/err.h"
#include "common/mem.h"
#include "lp/lp.h"
#include "sluice/point.h"

/* Replacing values keeps the old bytes until reset; this caps the total. */
#define POINT_STORE_MAX ((size_t)64 << 20)

struct pt_tag {
    size_t k_off, k_len, v_off, v_len;
};

struct pt_field {
    size_t k_off, k_len;
    enum lp_type type;
    union {
        double f;
        int64_t i;
        uint64_t u;
        int b;
        struct {
            size_t off, len;
        } s;
    } v;
};

struct sl_point {
    struct sl_buf store; /* all strings, back to back */
    size_t m_off, m_len;
    struct pt_tag *tags;
    size_t ntags, tags_cap;
    struct pt_field *fields;
    size_t nfields, fields_cap;
    int has_time;
    int64_t time;
};

static int name_ok(const char *s, size_t n, size_t max)
{
    if (!s || n == 0 || n > max) return 0;
    return !memchr(s, '\n', n) && !memchr(s, '\r', n);
}

static int store(struct sl_point *p, const char *s, size_t n, size_t *off)
{
    *off = p->store.len;
    return sl_buf_add(&p->store, s, n) < 0 ? SL_ENOMEM : 0;
}

static const char *at(const struct sl_point *p, size_t off)
{
    return p->store.ptr + off;
}

int sl_point_reset(struct sl_point *p, const char *measurement)
{
    size_t n = measurement ? strlen(measurement) : 0;
    if (!name_ok(measurement, n, SL_POINT_MAX_NAME) || measurement[0] == '#') return SL_EINVAL;
    if (p->store.cap < n + 1) {
        /* allocate before touching anything, so a failure leaves p as it was */
        struct sl_buf fresh;
        sl_buf_init(&fresh, POINT_STORE_MAX);
        if (sl_buf_add(&fresh, measurement, n) < 0) return SL_ENOMEM;
        sl_buf_release(&p->store);
        p->store = fresh;
    } else {
        sl_buf_reset(&p->store);
        sl_buf_add(&p->store, measurement, n); /* fits: cannot fail */
    }
    p->m_off = 0;
    p->m_len = n;
    p->ntags = p->nfields = 0;
    p->has_time = 0;
    p->time = 0;
    return 0;
}

int sl_point_new(struct sl_point **out, const char *measurement)
{
    *out = NULL;
    size_t n = measurement ? strlen(measurement) : 0;
    if (!name_ok(measurement, n, SL_POINT_MAX_NAME) || measurement[0] == '#') return SL_EINVAL;
    struct sl_point *p = sl_calloc(1, sizeof(*p));
    if (!p) return SL_ENOMEM;
    sl_buf_init(&p->store, POINT_STORE_MAX);
    if (store(p, measurement, n, &p->m_off) < 0) {
        sl_point_free(p);
        return SL_ENOMEM;
    }
    p->m_len = n;
    *out = p;
    return 0;
}

void sl_point_free(struct sl_point *p)
{
    if (!p) return;
    sl_buf_release(&p->store);
    sl_free(p->tags);
    sl_free(p->fields);
    sl_free(p);
}

int sl_point_tag(struct sl_point *p, const char *key, const char *val)
{
    size_t kn = key ? strlen(key) : 0, vn = val ? strlen(val) : 0;
    if (!name_ok(key, kn, SL_POINT_MAX_NAME) || !name_ok(val, vn, SL_POINT_MAX_NAME))
        return SL_EINVAL;
    struct pt_tag *t = NULL;
    for (size_t i = 0; i < p->ntags; i++)
        if (p->tags[i].k_len == kn && !memcmp(at(p, p->tags[i].k_off), key, kn)) {
            t = &p->tags[i];
            break;
        }
    size_t voff;
    if (t) {
        if (store(p, val, vn, &voff) < 0) return SL_ENOMEM;
        t->v_off = voff;
        t->v_len = vn;
        return 0;
    }
    if (p->ntags >= SL_POINT_MAX_TAGS) return SL_EINVAL;
    struct pt_tag *nt = sl_grow(p->tags, &p->tags_cap, p->ntags + 1, sizeof(*nt));
    if (!nt) return SL_ENOMEM;
    p->tags = nt;
    size_t save = p->store.len, koff;
    if (store(p, key, kn, &koff) < 0 || store(p, val, vn, &voff) < 0) {
        p->store.len = save;
        return SL_ENOMEM;
    }
    p->tags[p->ntags++] = (struct pt_tag){koff, kn, voff, vn};
    return 0;
}

/* Finds or appends the field `key`; returns it with its type unset. */
static int field_slot(struct sl_point *p, const char *key, struct pt_field **out)
{
    size_t kn = key ? strlen(key) : 0;
    if (!name_ok(key, kn, SL_POINT_MAX_NAME)) return SL_EINVAL;
    for (size_t i = 0; i < p->nfields; i++)
        if (p->fields[i].k_len == kn && !memcmp(at(p, p->fields[i].k_off), key, kn)) {
            *out = &p->fields[i];
            return 0;
        }
    if (p->nfields >= SL_POINT_MAX_FIELDS) return SL_EINVAL;
    struct pt_field *nf = sl_grow(p->fields, &p->fields_cap, p->nfields + 1, sizeof(*nf));
    if (!nf) return SL_ENOMEM;
    p->fields = nf;
    size_t koff;
    if (store(p, key, kn, &koff) < 0) return SL_ENOMEM;
    struct pt_field *f = &p->fields[p->nfields++];
    memset(f, 0, sizeof(*f));
    f->k_off = koff;
    f->k_len = kn;
    *out = f;
    return 0;
}

int sl_point_field_float(struct sl_point *p, const char *key, double v)
{
    if (!isfinite(v)) return SL_EINVAL;
    struct pt_field *f;
    int rc = field_slot(p, key, &f);
    if (rc < 0) return rc;
    f->type = LP_FLOAT;
    f->v.f = v;
    return 0;
}

int sl_point_field_int(struct sl_point *p, const char *key, int64_t v)
{
    struct pt_field *f;
    int rc = field_slot(p, key, &f);
    if (rc < 0) return rc;
    f->type = LP_INTEGER;
    f->v.i = v;
    return 0;
}

int sl_point_field_uint(struct sl_point *p, const char *key, uint64_t v)
{
    struct pt_field *f;
    int rc = field_slot(p, key, &f);
    if (rc < 0) return rc;
    f->type = LP_UNSIGNED;
    f->v.u = v;
    return 0;
}

int sl_point_field_bool(struct sl_point *p, const char *key, int v)
{
    struct pt_field *f;
    int rc = field_slot(p, key, &f);
    if (rc < 0) return rc;
    f->type = LP_BOOLEAN;
    f->v.b = v != 0;
    return 0;
}

int sl_point_field_string_n(struct sl_point *p, const char *key, const char *v, size_t len)
{
    if ((!v && len) || len > SL_POINT_MAX_STRING) return SL_EINVAL;
    if (len && (memchr(v, '\n', len) || memchr(v, '\r', len))) return SL_EINVAL;
    size_t save_len = p->store.len, save_n = p->nfields;
    struct pt_field *f;
    int rc = field_slot(p, key, &f);
    if (rc < 0) return rc;
    size_t off;
    if (store(p, v ? v : "", len, &off) < 0) {
        /* undo a field that was appended for this call */
        p->nfields = save_n;
        p->store.len = save_len;
        return SL_ENOMEM;
    }
    f->type = LP_STRING;
    f->v.s.off = off;
    f->v.s.len = len;
    return 0;
}

int sl_point_field_string(struct sl_point *p, const char *key, const char *v)
{
    if (!v) return SL_EINVAL;
    return sl_point_field_string_n(p, key, v, strlen(v));
}

void sl_point_time(struct sl_point *p, int64_t ns)
{
    p->has_time = 1;
    p->time = ns;
}

void sl_point_clear_time(struct sl_point *p)
{
    p->has_time = 0;
}

static enum lp_precision to_lp(enum sl_precision prec)
{
    switch (prec) {
    case SL_PREC_US: return LP_PREC_US;
    case SL_PREC_MS: return LP_PREC_MS;
    case SL_PREC_S: return LP_PREC_S;
    default: return LP_PREC_NS;
    }
}

int sl_point_encode(const struct sl_point *p, enum sl_precision prec, int uint_support, char **line,
                    size_t *len)
{
    struct lp_tag *tags = NULL;
    struct lp_field *fields = NULL;
    struct sl_buf out = SL_BUF_INIT;
    int rc;

    *line = NULL;
    *len = 0;
    if (p->nfields == 0) return SL_EINVAL;
    if (p->ntags && !(tags = sl_calloc(p->ntags, sizeof(*tags)))) return SL_ENOMEM;
    if (!(fields = sl_calloc(p->nfields, sizeof(*fields)))) {
        rc = SL_ENOMEM;
        goto out;
    }
    for (size_t i = 0; i < p->ntags; i++) {
        const struct pt_tag *t = &p->tags[i];
        tags[i] = (struct lp_tag){at(p, t->k_off), t->k_len, at(p, t->v_off), t->v_len};
    }
    lp_sort_tags(tags, p->ntags);
    for (size_t i = 0; i < p->nfields; i++) {
        const struct pt_field *f = &p->fields[i];
        struct lp_field *o = &fields[i];
        o->key = at(p, f->k_off);
        o->key_len = f->k_len;
        o->type = f->type;
        switch (f->type) {
        case LP_FLOAT: o->v.f = f->v.f; break;
        case LP_INTEGER: o->v.i = f->v.i; break;
        case LP_UNSIGNED:
            if (!uint_support && f->v.u > (uint64_t)INT64_MAX) {
                rc = SL_ERANGE;
                goto out;
            }
            o->v.u = f->v.u;
            break;
        case LP_BOOLEAN: o->v.b = f->v.b; break;
        case LP_STRING:
            o->v.s.ptr = at(p, f->v.s.off);
            o->v.s.len = f->v.s.len;
            break;
        }
    }
    struct lp_point pt = {
        .measurement = at(p, p->m_off),
        .measurement_len = p->m_len,
        .tags = tags,
        .ntags = p->ntags,
        .fields = fields,
        .nfields = p->nfields,
        .has_time = p->has_time,
        .time = p->time,
    };
    struct lp_write_opts wo = {.uint_support = uint_support != 0, .precision = to_lp(prec)};
    sl_buf_init(&out, 0);
    if ((rc = lp_write_point(&out, &pt, &wo)) < 0) goto out;
    *line = sl_buf_detach(&out, len);
    if (!*line) rc = SL_ENOMEM;
out:
    sl_buf_release(&out);
    sl_free(tags);
    sl_free(fields);
    return rc;
}

int sl_precision_parse(const char *s, enum sl_precision *out)
{
    static const struct {
        const char *name;
        enum sl_precision p;
    } names[] = {
        {"ns", SL_PREC_NS},           {"n", SL_PREC_NS},
        {"us", SL_PREC_US},           {"u", SL_PREC_US},
        {"ms", SL_PREC_MS},           {"s", SL_PREC_S},
        {"default", SL_PREC_DEFAULT}, {"auto", SL_PREC_DEFAULT},
    };
    if (!s) return SL_EINVAL;
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
        if (!strcmp(s, names[i].name)) {
            *out = names[i].p;
            return 0;
        }
    return SL_EINVAL;
}
