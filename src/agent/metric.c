/*
 * metric.c — the agent's owning metric and Telegraf-style metric buffer.
 * See metric.h for the contracts.
 */
#include "agent/metric.h"

#include "agent/buffer_disk.h"
#include "common/log.h"

#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

#include "common/err.h"
#include "common/mem.h"

struct metric *metric_new(const char *name, int64_t time_ns)
{
    struct metric *m = sl_calloc(1, sizeof(*m));
    if (!m) return NULL;
    m->name = sl_strdup(name ? name : "");
    if (!m->name) {
        sl_free(m);
        return NULL;
    }
    m->time = time_ns;
    return m;
}

static void field_release(struct metric_field *f)
{
    sl_free(f->key);
    if (f->type == LP_STRING) sl_free(f->v.s);
}

void metric_free(struct metric *m)
{
    if (!m) return;
    for (size_t i = 0; i < m->ntags; i++) {
        sl_free(m->tags[i].key);
        sl_free(m->tags[i].val);
    }
    for (size_t i = 0; i < m->nfields; i++)
        field_release(&m->fields[i]);
    sl_free(m->tags);
    sl_free(m->fields);
    sl_free(m->name);
    sl_free(m);
}

struct metric *metric_copy(const struct metric *src)
{
    struct metric *m = metric_new(src->name, src->time);
    if (!m) return NULL;
    for (size_t i = 0; i < src->ntags; i++)
        if (metric_add_tag(m, src->tags[i].key, src->tags[i].val) < 0) goto fail;
    for (size_t i = 0; i < src->nfields; i++)
        if (metric_add_field_copy(m, src->fields[i].key, &src->fields[i]) < 0) goto fail;
    return m;
fail:
    metric_free(m);
    return NULL;
}

int metric_set_name(struct metric *m, const char *name)
{
    char *n = sl_strdup(name);
    if (!n) return SL_ENOMEM;
    sl_free(m->name);
    m->name = n;
    return 0;
}

/* Binary search: returns the index of key or the insertion point (*found 0). */
static size_t tag_find(const struct metric *m, const char *key, int *found)
{
    size_t lo = 0, hi = m->ntags;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = strcmp(m->tags[mid].key, key);
        if (c == 0) {
            *found = 1;
            return mid;
        }
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    *found = 0;
    return lo;
}

int metric_add_tag(struct metric *m, const char *key, const char *val)
{
    int found;
    size_t i = tag_find(m, key, &found);
    char *v = sl_strdup(val);
    if (!v) return SL_ENOMEM;
    if (found) {
        sl_free(m->tags[i].val);
        m->tags[i].val = v;
        return 0;
    }
    char *k = sl_strdup(key);
    struct metric_tag *nt = k ? sl_grow(m->tags, &m->tags_cap, m->ntags + 1, sizeof(*nt)) : NULL;
    if (!nt) {
        sl_free(k);
        sl_free(v);
        return SL_ENOMEM;
    }
    m->tags = nt;
    memmove(&m->tags[i + 1], &m->tags[i], (m->ntags - i) * sizeof(*nt));
    m->tags[i].key = k;
    m->tags[i].val = v;
    m->ntags++;
    return 0;
}

const char *metric_get_tag(const struct metric *m, const char *key)
{
    int found;
    size_t i = tag_find(m, key, &found);
    return found ? m->tags[i].val : NULL;
}

int metric_remove_tag(struct metric *m, const char *key)
{
    int found;
    size_t i = tag_find(m, key, &found);
    if (!found) return 0;
    sl_free(m->tags[i].key);
    sl_free(m->tags[i].val);
    memmove(&m->tags[i], &m->tags[i + 1], (m->ntags - i - 1) * sizeof(m->tags[0]));
    m->ntags--;
    return 1;
}

int metric_rename_tag(struct metric *m, const char *from, const char *to)
{
    const char *v = metric_get_tag(m, from);
    if (!v) return 0;
    if (!strcmp(from, to)) return 1;
    int rc = metric_add_tag(m, to, v);
    if (rc < 0) return rc;
    metric_remove_tag(m, from);
    return 1;
}

static ssize_t field_index(const struct metric *m, const char *key)
{
    for (size_t i = 0; i < m->nfields; i++)
        if (!strcmp(m->fields[i].key, key)) return (ssize_t)i;
    return -1;
}

/* Stores f (whose key and string are already owned copies) into m. */
static int field_put(struct metric *m, struct metric_field *f)
{
    ssize_t i = field_index(m, f->key);
    if (i >= 0) {
        field_release(&m->fields[i]);
        m->fields[i] = *f;
        return 0;
    }
    struct metric_field *nf = sl_grow(m->fields, &m->fields_cap, m->nfields + 1, sizeof(*nf));
    if (!nf) {
        field_release(f);
        return SL_ENOMEM;
    }
    m->fields = nf;
    m->fields[m->nfields++] = *f;
    return 0;
}

static int field_new(struct metric_field *f, const char *key, enum lp_type t)
{
    memset(f, 0, sizeof(*f));
    f->type = t;
    f->key = sl_strdup(key);
    return f->key ? 0 : SL_ENOMEM;
}

int metric_add_float(struct metric *m, const char *key, double v)
{
    struct metric_field f;
    if (field_new(&f, key, LP_FLOAT) < 0) return SL_ENOMEM;
    f.v.f = v;
    return field_put(m, &f);
}

int metric_add_int(struct metric *m, const char *key, int64_t v)
{
    struct metric_field f;
    if (field_new(&f, key, LP_INTEGER) < 0) return SL_ENOMEM;
    f.v.i = v;
    return field_put(m, &f);
}

int metric_add_uint(struct metric *m, const char *key, uint64_t v)
{
    struct metric_field f;
    if (field_new(&f, key, LP_UNSIGNED) < 0) return SL_ENOMEM;
    f.v.u = v;
    return field_put(m, &f);
}

int metric_add_bool(struct metric *m, const char *key, int v)
{
    struct metric_field f;
    if (field_new(&f, key, LP_BOOLEAN) < 0) return SL_ENOMEM;
    f.v.b = v ? 1 : 0;
    return field_put(m, &f);
}

int metric_add_stringn(struct metric *m, const char *key, const char *v, size_t n)
{
    struct metric_field f;
    if (field_new(&f, key, LP_STRING) < 0) return SL_ENOMEM;
    f.v.s = sl_strndup(v, n);
    if (!f.v.s) {
        sl_free(f.key);
        return SL_ENOMEM;
    }
    return field_put(m, &f);
}

int metric_add_string(struct metric *m, const char *key, const char *v)
{
    return metric_add_stringn(m, key, v, strlen(v));
}

int metric_add_field_copy(struct metric *m, const char *key, const struct metric_field *src)
{
    switch (src->type) {
    case LP_FLOAT: return metric_add_float(m, key, src->v.f);
    case LP_INTEGER: return metric_add_int(m, key, src->v.i);
    case LP_UNSIGNED: return metric_add_uint(m, key, src->v.u);
    case LP_BOOLEAN: return metric_add_bool(m, key, src->v.b);
    case LP_STRING: return metric_add_string(m, key, src->v.s);
    }
    return SL_EINVAL;
}

const struct metric_field *metric_get_field(const struct metric *m, const char *key)
{
    ssize_t i = field_index(m, key);
    return i >= 0 ? &m->fields[i] : NULL;
}

int metric_remove_field(struct metric *m, const char *key)
{
    ssize_t i = field_index(m, key);
    if (i < 0) return 0;
    field_release(&m->fields[i]);
    memmove(&m->fields[i], &m->fields[i + 1], (m->nfields - (size_t)i - 1) * sizeof(m->fields[0]));
    m->nfields--;
    return 1;
}

int metric_rename_field(struct metric *m, const char *from, const char *to)
{
    ssize_t i = field_index(m, from);
    if (i < 0) return 0;
    if (!strcmp(from, to)) return 1;
    char *k = sl_strdup(to);
    if (!k) return SL_ENOMEM;
    metric_remove_field(m, to);
    i = field_index(m, from); /* may have moved */
    sl_free(m->fields[i].key);
    m->fields[i].key = k;
    return 1;
}

int metric_write_lp(const struct metric *m, struct sl_buf *out, const struct lp_write_opts *opts)
{
    struct lp_write_opts def = {.uint_support = 1, .precision = LP_PREC_NS};
    struct lp_tag stags[32];
    struct lp_field sfields[64];
    struct lp_tag *tags = stags;
    struct lp_field *fields = sfields;
    int rc = 0;
    if (m->nfields == 0) return SL_EINVAL;
    if (m->ntags > 32) tags = sl_malloc(m->ntags * sizeof(*tags));
    if (m->nfields > 64) fields = sl_malloc(m->nfields * sizeof(*fields));
    if (!tags || !fields) {
        rc = SL_ENOMEM;
        goto out;
    }
    for (size_t i = 0; i < m->ntags; i++) {
        tags[i].key = m->tags[i].key;
        tags[i].key_len = strlen(m->tags[i].key);
        tags[i].val = m->tags[i].val;
        tags[i].val_len = strlen(m->tags[i].val);
    }
    for (size_t i = 0; i < m->nfields; i++) {
        const struct metric_field *f = &m->fields[i];
        fields[i].key = f->key;
        fields[i].key_len = strlen(f->key);
        fields[i].type = f->type;
        switch (f->type) {
        case LP_FLOAT: fields[i].v.f = f->v.f; break;
        case LP_INTEGER: fields[i].v.i = f->v.i; break;
        case LP_UNSIGNED: fields[i].v.u = f->v.u; break;
        case LP_BOOLEAN: fields[i].v.b = f->v.b; break;
        case LP_STRING:
            fields[i].v.s.ptr = f->v.s;
            fields[i].v.s.len = strlen(f->v.s);
            break;
        }
    }
    struct lp_point pt = {
        .measurement = m->name,
        .measurement_len = strlen(m->name),
        .tags = tags,
        .ntags = m->ntags,
        .fields = fields,
        .nfields = m->nfields,
        .has_time = 1,
        .time = m->time,
    };
    rc = lp_write_point(out, &pt, opts ? opts : &def);
out:
    if (tags != stags) sl_free(tags);
    if (fields != sfields) sl_free(fields);
    return rc;
}

struct metric *metric_from_lp(const struct lp_point *pt, int64_t default_time)
{
    char *name = sl_strndup(pt->measurement, pt->measurement_len);
    if (!name) return NULL;
    struct metric *m = metric_new(name, pt->has_time ? pt->time : default_time);
    sl_free(name);
    if (!m) return NULL;
    for (size_t i = 0; i < pt->ntags; i++) {
        char *k = sl_strndup(pt->tags[i].key, pt->tags[i].key_len);
        char *v = sl_strndup(pt->tags[i].val, pt->tags[i].val_len);
        int rc = (k && v) ? metric_add_tag(m, k, v) : SL_ENOMEM;
        sl_free(k);
        sl_free(v);
        if (rc < 0) goto fail;
    }
    for (size_t i = 0; i < pt->nfields; i++) {
        const struct lp_field *f = &pt->fields[i];
        char *k = sl_strndup(f->key, f->key_len);
        int rc = SL_ENOMEM;
        if (k) {
            switch (f->type) {
            case LP_FLOAT: rc = metric_add_float(m, k, f->v.f); break;
            case LP_INTEGER: rc = metric_add_int(m, k, f->v.i); break;
            case LP_UNSIGNED: rc = metric_add_uint(m, k, f->v.u); break;
            case LP_BOOLEAN: rc = metric_add_bool(m, k, f->v.b); break;
            case LP_STRING: rc = metric_add_stringn(m, k, f->v.s.ptr, f->v.s.len); break;
            }
        }
        sl_free(k);
        if (rc < 0) goto fail;
    }
    return m;
fail:
    metric_free(m);
    return NULL;
}

static int field_cmp(const void *x, const void *y)
{
    return strcmp(((const struct metric_field *)x)->key, ((const struct metric_field *)y)->key);
}

void metric_sort_fields(struct metric *m)
{
    if (m->nfields > 1) qsort(m->fields, m->nfields, sizeof(m->fields[0]), field_cmp);
}

size_t metric_size(const struct metric *m)
{
    size_t n = sizeof(*m) + strlen(m->name) + 1;
    n += m->tags_cap * sizeof(m->tags[0]) + m->fields_cap * sizeof(m->fields[0]);
    for (size_t i = 0; i < m->ntags; i++)
        n += strlen(m->tags[i].key) + strlen(m->tags[i].val) + 2;
    for (size_t i = 0; i < m->nfields; i++) {
        n += strlen(m->fields[i].key) + 1;
        if (m->fields[i].type == LP_STRING) n += strlen(m->fields[i].v.s) + 1;
    }
    return n;
}

int metric_list_push(struct metric_list *l, struct metric *m)
{
    struct metric **nv = sl_grow(l->v, &l->cap, l->n + 1, sizeof(*nv));
    if (!nv) {
        metric_free(m);
        return SL_ENOMEM;
    }
    l->v = nv;
    l->v[l->n++] = m;
    return 0;
}

void metric_list_release(struct metric_list *l)
{
    for (size_t i = 0; i < l->n; i++)
        metric_free(l->v[i]);
    sl_free(l->v);
    l->v = NULL;
    l->n = l->cap = 0;
}

/* ---- buffer ---- */

int metric_buffer_init(struct metric_buffer *b, size_t limit)
{
    memset(b, 0, sizeof(*b));
    if (limit == 0) limit = 1;
    b->ring = sl_calloc(limit, sizeof(*b->ring));
    if (!b->ring) return SL_ENOMEM;
    b->limit = limit;
    pthread_mutex_init(&b->mu, NULL);
    return 0;
}

void metric_buffer_release(struct metric_buffer *b)
{
    if (!b->ring) return;
    for (size_t i = 0; i < b->len && !b->disk; i++)
        metric_free(b->ring[(b->head + i) % b->limit]);
    disk_buffer_close(b->disk);
    b->disk = NULL;
    sl_free(b->ring);
    b->ring = NULL;
    b->len = 0;
    pthread_mutex_destroy(&b->mu);
}

/* Appends to the disk buffer (lock held); m is freed. */
static void disk_add(struct metric_buffer *b, struct metric *m)
{
    long r = disk_buffer_add(b->disk, m);
    if (r < 0) {
        b->dropped++;
        sl_error("agent", "disk buffer %s: write failed, metric dropped: %s",
                 disk_buffer_dir(b->disk), sl_strerror((int)r));
    } else if (r > 0) {
        b->dropped += (uint64_t)r;
        sl_warn("agent", "disk buffer %s: size limit reached, %ld oldest metric(s) dropped",
                disk_buffer_dir(b->disk), r);
    }
    metric_free(m);
    b->len = disk_buffer_len(b->disk);
}

void metric_buffer_add(struct metric_buffer *b, struct metric *m)
{
    pthread_mutex_lock(&b->mu);
    b->added++;
    if (b->disk) {
        disk_add(b, m);
    } else if (b->len == b->limit) {
        metric_free(b->ring[b->head]);
        b->ring[b->head] = m;
        b->head = (b->head + 1) % b->limit;
        b->dropped++;
    } else {
        b->ring[(b->head + b->len) % b->limit] = m;
        b->len++;
    }
    pthread_mutex_unlock(&b->mu);
}

void metric_buffer_attach_disk(struct metric_buffer *b, struct disk_buffer *d)
{
    pthread_mutex_lock(&b->mu);
    size_t n = b->disk ? 0 : b->len;
    disk_buffer_close(b->disk);
    b->disk = d;
    for (size_t i = 0; i < n; i++) {
        struct metric *m = b->ring[b->head];
        b->ring[b->head] = NULL;
        b->head = (b->head + 1) % b->limit;
        disk_add(b, m);
    }
    b->head = 0;
    b->len = disk_buffer_len(d);
    pthread_mutex_unlock(&b->mu);
}

size_t metric_buffer_len(struct metric_buffer *b)
{
    pthread_mutex_lock(&b->mu);
    size_t n = b->len;
    pthread_mutex_unlock(&b->mu);
    return n;
}

size_t metric_buffer_take(struct metric_buffer *b, struct metric **out, size_t max)
{
    pthread_mutex_lock(&b->mu);
    if (b->disk) {
        disk_buffer_sync(b->disk);
        size_t n = disk_buffer_take(b->disk, out, max);
        b->len = disk_buffer_len(b->disk);
        pthread_mutex_unlock(&b->mu);
        return n;
    }
    size_t n = b->len < max ? b->len : max;
    for (size_t i = 0; i < n; i++) {
        out[i] = b->ring[b->head];
        b->ring[b->head] = NULL;
        b->head = (b->head + 1) % b->limit;
    }
    b->len -= n;
    pthread_mutex_unlock(&b->mu);
    return n;
}

void metric_buffer_accept(struct metric_buffer *b, struct metric **batch, size_t n)
{
    for (size_t i = 0; i < n; i++)
        metric_free(batch[i]);
    pthread_mutex_lock(&b->mu);
    b->written += n;
    if (b->disk) {
        disk_buffer_ack(b->disk, n);
        b->len = disk_buffer_len(b->disk);
    }
    pthread_mutex_unlock(&b->mu);
}

void metric_buffer_drop(struct metric_buffer *b, struct metric **batch, size_t n)
{
    for (size_t i = 0; i < n; i++)
        metric_free(batch[i]);
    pthread_mutex_lock(&b->mu);
    b->rejected += n;
    b->dropped += n;
    if (b->disk) {
        disk_buffer_ack(b->disk, n);
        b->len = disk_buffer_len(b->disk);
    }
    pthread_mutex_unlock(&b->mu);
}

void metric_buffer_return(struct metric_buffer *b, struct metric **batch, size_t n)
{
    pthread_mutex_lock(&b->mu);
    if (b->disk) {
        /* the batch is still on disk: read it again next time */
        for (size_t i = 0; i < n; i++)
            metric_free(batch[i]);
        disk_buffer_rewind(b->disk);
        b->len = disk_buffer_len(b->disk);
        pthread_mutex_unlock(&b->mu);
        return;
    }
    size_t room = b->limit - b->len;
    size_t keep = n < room ? n : room;
    /* The batch is older than everything buffered: its first n-keep are the
     * oldest overall and are the ones that no longer fit. */
    for (size_t i = 0; i < n - keep; i++)
        metric_free(batch[i]);
    b->dropped += n - keep;
    for (size_t i = n; i-- > n - keep;) {
        b->head = (b->head + b->limit - 1) % b->limit;
        b->ring[b->head] = batch[i];
        b->len++;
    }
    pthread_mutex_unlock(&b->mu);
}

void metric_buffer_move(struct metric_buffer *dst, struct metric_buffer *src)
{
    pthread_mutex_lock(&src->mu);
    struct disk_buffer *d = src->disk;
    if (d && !dst->disk) {
        disk_buffer_rewind(d);
        src->disk = NULL;
        src->len = 0;
    } else {
        d = NULL;
    }
    pthread_mutex_unlock(&src->mu);
    if (d) {
        metric_buffer_attach_disk(dst, d);
        return;
    }
    if (src->disk) return; /* both on disk: src's data stays in its directory */
    struct metric *m;
    while (metric_buffer_take(src, &m, 1) == 1)
        metric_buffer_add(dst, m);
}
