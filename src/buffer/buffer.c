/*
 * buffer.c — in-memory columnar write buffer (see buffer.h for the model).
 *
 * Growth: a partition's arrays double together; validity bytes of new slots
 * are zeroed so a row only writes the fields it carries. Series lookup is an
 * open-addressing table over the series key hash; probe sequences are bounded
 * by keeping the load under 1/2.
 */
#include "buffer/buffer.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/err.h"
#include "common/hash.h"
#include "common/mem.h"

static size_t type_size(enum lp_type t)
{
    switch (t) {
    case LP_FLOAT: return sizeof(double);
    case LP_INTEGER: return sizeof(int64_t);
    case LP_UNSIGNED: return sizeof(uint64_t);
    case LP_BOOLEAN: return sizeof(uint8_t);
    case LP_STRING: return sizeof(struct buf_str);
    }
    return 8;
}

int buffer_init(struct buffer *b, size_t limit_bytes)
{
    memset(b, 0, sizeof(*b));
    pthread_mutex_init(&b->lock, NULL);
    atomic_init(&b->bytes, 0);
    atomic_init(&b->rows_total, 0);
    b->limit = limit_bytes;
    return 0;
}

static void col_free(struct buf_col *c, size_t nrows)
{
    if (c->present && c->type == LP_STRING && c->v.s)
        for (size_t r = 0; r < nrows; r++)
            if (c->valid[r]) sl_free(c->v.s[r].ptr);
    sl_free(c->v.f);
    sl_free(c->valid);
}

static void part_free(struct buf_part *p)
{
    if (!p) return;
    for (size_t c = 0; c < p->ncols; c++)
        col_free(&p->cols[c], p->nrows);
    sl_free(p->cols);
    sl_free(p->sid);
    sl_free(p->time);
    sl_free(p->lsn);
    sl_free(p);
}

static void table_free(struct buf_table *t)
{
    for (size_t i = 0; i < t->nparts; i++)
        part_free(t->parts[i]);
    for (size_t i = 0; i < t->nsealed; i++)
        part_free(t->sealed[i]);
    sl_free(t->sealed);
    for (size_t i = 0; i < t->nseries; i++) {
        struct buf_series *s = &t->series[i];
        for (uint32_t k = 0; k < s->ntags; k++)
            sl_free(s->tag_vals[k]);
        sl_free(s->tag_vals);
        sl_free(s->tag_cols);
        sl_free(s->key);
    }
    sl_free(t->series);
    sl_free(t->series_index);
    for (size_t i = 0; i < t->aliases_cap; i++)
        sl_free(t->aliases[i].key);
    sl_free(t->aliases);
    sl_free(t->parts);
    pthread_mutex_destroy(&t->lock);
    sl_free(t);
}

void buffer_release(struct buffer *b)
{
    for (size_t i = 0; i < b->ntables; i++)
        table_free(b->tables[i]);
    sl_free(b->tables);
    b->tables = NULL;
    b->ntables = 0;
    pthread_mutex_destroy(&b->lock);
}

int buffer_over_limit(struct buffer *b)
{
    return b->limit && atomic_load_explicit(&b->bytes, memory_order_relaxed) > b->limit;
}

int buffer_over_limit_soft(struct buffer *b)
{
    return b->limit && atomic_load_explicit(&b->bytes, memory_order_relaxed) > b->limit / 2;
}

struct buf_table *buffer_table_find(struct buffer *b, uint32_t db_id, uint32_t table_id)
{
    struct buf_table *found = NULL;
    pthread_mutex_lock(&b->lock);
    for (size_t i = 0; i < b->ntables; i++) {
        if (b->tables[i]->db_id == db_id && b->tables[i]->table_id == table_id) {
            found = b->tables[i];
            break;
        }
    }
    pthread_mutex_unlock(&b->lock);
    return found;
}

struct buf_table *buffer_table(struct buffer *b, uint32_t db_id, uint32_t table_id)
{
    struct buf_table *t = buffer_table_find(b, db_id, table_id);
    if (t) return t;
    pthread_mutex_lock(&b->lock);
    for (size_t i = 0; i < b->ntables; i++) {
        if (b->tables[i]->db_id == db_id && b->tables[i]->table_id == table_id) {
            t = b->tables[i];
            goto out;
        }
    }
    struct buf_table **ts = sl_grow(b->tables, &b->cap, b->ntables + 1, sizeof(*ts));
    if (!ts) goto out;
    b->tables = ts;
    t = sl_calloc(1, sizeof(*t));
    if (!t) goto out;
    pthread_mutex_init(&t->lock, NULL);
    t->db_id = db_id;
    t->table_id = table_id;
    b->tables[b->ntables++] = t;
out:
    pthread_mutex_unlock(&b->lock);
    return t;
}

void buffer_drop(struct buffer *b, uint32_t db_id, uint32_t table_id)
{
    pthread_mutex_lock(&b->lock);
    for (size_t i = 0; i < b->ntables;) {
        struct buf_table *t = b->tables[i];
        if (t->db_id == db_id && (table_id == 0 || t->table_id == table_id)) {
            atomic_fetch_sub(&b->bytes, t->bytes);
            b->tables[i] = b->tables[--b->ntables];
            /* Writers look tables up under b->lock and then lock the table; take
             * the table lock once so no writer is still inside it. */
            pthread_mutex_lock(&t->lock);
            pthread_mutex_unlock(&t->lock);
            table_free(t);
        } else {
            i++;
        }
    }
    pthread_mutex_unlock(&b->lock);
}

/* ---- series dictionary ---- */

static int series_index_grow(struct buf_table *t)
{
    size_t cap = t->series_index_cap ? t->series_index_cap * 2 : 1024;
    uint32_t *idx = sl_calloc(cap, sizeof(*idx));
    if (!idx) return SL_ENOMEM;
    for (size_t i = 0; i < t->nseries; i++) {
        size_t h = sl_hash64(t->series[i].key, t->series[i].key_len, 0) & (cap - 1);
        while (idx[h])
            h = (h + 1) & (cap - 1);
        idx[h] = (uint32_t)i + 1;
    }
    sl_free(t->series_index);
    t->series_index = idx;
    t->series_index_cap = cap;
    return 0;
}

int buffer_series_find_locked(struct buf_table *t, const char *key, size_t len, uint32_t *sid)
{
    if (!t->series_index_cap) return SL_ENOENT;
    size_t mask = t->series_index_cap - 1;
    size_t h = sl_hash64(key, len, 0) & mask;
    for (;;) {
        uint32_t v = t->series_index[h];
        if (!v) return SL_ENOENT;
        struct buf_series *s = &t->series[v - 1];
        if (s->key_len == len && memcmp(s->key, key, len) == 0) {
            *sid = v - 1;
            return 0;
        }
        h = (h + 1) & mask;
    }
}

int buffer_series_add_locked(struct buffer *b, struct buf_table *t, const char *key, size_t len,
                             const struct lp_tag *tags, const uint32_t *tag_cols, size_t ntags,
                             uint32_t *sid)
{
    if (buffer_series_find_locked(t, key, len, sid) == 0) return 0;
    if ((t->nseries + 1) * 2 > t->series_index_cap) {
        int rc = series_index_grow(t);
        if (rc < 0) return rc;
    }
    if (t->nseries >= UINT32_MAX - 1) return SL_ETOOBIG;
    struct buf_series *ss = sl_grow(t->series, &t->series_cap, t->nseries + 1, sizeof(*ss));
    if (!ss) return SL_ENOMEM;
    t->series = ss;
    struct buf_series *s = &t->series[t->nseries];
    memset(s, 0, sizeof(*s));
    size_t bytes = len + 1 + ntags * (sizeof(uint32_t) + sizeof(char *)) + sizeof(*s);
    s->key = sl_strndup(key, len);
    s->tag_cols = sl_calloc(ntags ? ntags : 1, sizeof(uint32_t));
    s->tag_vals = sl_calloc(ntags ? ntags : 1, sizeof(char *));
    if (!s->key || !s->tag_cols || !s->tag_vals) goto nomem;
    for (size_t i = 0; i < ntags; i++) {
        s->tag_cols[i] = tag_cols[i];
        if (!(s->tag_vals[i] = sl_strndup(tags[i].val, tags[i].val_len))) goto nomem;
        s->ntags++;
        bytes += tags[i].val_len + 1;
    }
    s->key_len = len;
    size_t mask = t->series_index_cap - 1;
    size_t h = sl_hash64(key, len, 0) & mask;
    while (t->series_index[h])
        h = (h + 1) & mask;
    t->series_index[h] = (uint32_t)t->nseries + 1;
    *sid = (uint32_t)t->nseries++;
    t->bytes += bytes;
    atomic_fetch_add(&b->bytes, bytes);
    return 0;
nomem:
    for (uint32_t k = 0; k < s->ntags; k++)
        sl_free(s->tag_vals[k]);
    sl_free(s->tag_vals);
    sl_free(s->tag_cols);
    sl_free(s->key);
    return SL_ENOMEM;
}

/* ---- aliases ---- */

int buffer_alias_find_locked(struct buf_table *t, const char *key, size_t len, uint32_t *sid)
{
    if (!t->aliases_cap) return SL_ENOENT;
    uint64_t h = sl_hash64(key, len, 7);
    size_t mask = t->aliases_cap - 1;
    for (size_t i = h & mask;; i = (i + 1) & mask) {
        const struct buf_alias *a = &t->aliases[i];
        if (!a->key) return SL_ENOENT;
        if (a->hash == h && a->len == len && memcmp(a->key, key, len) == 0) {
            *sid = a->sid;
            return 0;
        }
    }
}

static void aliases_clear(struct buffer *b, struct buf_table *t)
{
    size_t bytes = 0;
    for (size_t i = 0; i < t->aliases_cap; i++) {
        if (t->aliases[i].key) bytes += t->aliases[i].len + 1;
        sl_free(t->aliases[i].key);
    }
    sl_free(t->aliases);
    bytes += t->aliases_cap * sizeof(*t->aliases);
    t->aliases = NULL;
    t->naliases = t->aliases_cap = 0;
    t->bytes -= bytes;
    atomic_fetch_sub(&b->bytes, bytes);
}

int buffer_alias_add_locked(struct buffer *b, struct buf_table *t, const char *key, size_t len,
                            uint32_t sid)
{
    if (t->naliases >= 2 * t->nseries + 4096) aliases_clear(b, t);
    if ((t->naliases + 1) * 2 > t->aliases_cap) {
        size_t cap = t->aliases_cap ? t->aliases_cap * 2 : 1024;
        struct buf_alias *na = sl_calloc(cap, sizeof(*na));
        if (!na) return SL_ENOMEM;
        for (size_t i = 0; i < t->aliases_cap; i++) {
            struct buf_alias *a = &t->aliases[i];
            if (!a->key) continue;
            size_t k = a->hash & (cap - 1);
            while (na[k].key)
                k = (k + 1) & (cap - 1);
            na[k] = *a;
        }
        size_t add = (cap - t->aliases_cap) * sizeof(*na);
        sl_free(t->aliases);
        t->aliases = na;
        t->aliases_cap = cap;
        t->bytes += add;
        atomic_fetch_add(&b->bytes, add);
    }
    char *k = sl_strndup(key, len);
    if (!k) return SL_ENOMEM;
    uint64_t h = sl_hash64(key, len, 7);
    size_t mask = t->aliases_cap - 1;
    size_t i = h & mask;
    while (t->aliases[i].key)
        i = (i + 1) & mask;
    t->aliases[i] = (struct buf_alias){k, (uint32_t)len, sid, h};
    t->naliases++;
    t->bytes += len + 1;
    atomic_fetch_add(&b->bytes, len + 1);
    return 0;
}

/* ---- partitions ---- */

static struct buf_part *part_get(struct buf_table *t, int64_t time)
{
    int64_t start = time - (((time % BUF_PARTITION_NS) + BUF_PARTITION_NS) % BUF_PARTITION_NS);
    /* newest partitions are the usual target: search from the end */
    size_t lo = 0, hi = t->nparts;
    if (hi && t->parts[hi - 1]->start == start) return t->parts[hi - 1];
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (t->parts[mid]->start < start)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo < t->nparts && t->parts[lo]->start == start) return t->parts[lo];
    struct buf_part **ps = sl_grow(t->parts, &t->parts_cap, t->nparts + 1, sizeof(*ps));
    if (!ps) return NULL;
    t->parts = ps;
    struct buf_part *p = sl_calloc(1, sizeof(*p));
    if (!p) return NULL;
    p->start = start;
    p->min_time = INT64_MAX;
    p->max_time = INT64_MIN;
    p->min_lsn = UINT64_MAX;
    memmove(t->parts + lo + 1, t->parts + lo, (t->nparts - lo) * sizeof(*ps));
    t->parts[lo] = p;
    t->nparts++;
    return p;
}

static int part_ensure_cols(struct buf_part *p, size_t ncols)
{
    if (ncols <= p->ncols) return 0;
    struct buf_col *cols = sl_realloc(p->cols, ncols * sizeof(*cols));
    if (!cols) return SL_ENOMEM;
    memset(cols + p->ncols, 0, (ncols - p->ncols) * sizeof(*cols));
    p->cols = cols;
    p->ncols = ncols;
    return 0;
}

static int col_make(struct buf_part *p, struct buf_col *c, enum lp_type type, size_t *bytes)
{
    size_t cap = p->cap;
    c->type = type;
    c->v.f = sl_malloc(cap * type_size(type));
    c->valid = sl_calloc(cap, 1);
    if (!c->v.f || !c->valid) {
        sl_free(c->v.f);
        sl_free(c->valid);
        c->v.f = NULL;
        c->valid = NULL;
        return SL_ENOMEM;
    }
    c->present = 1;
    *bytes += cap * (type_size(type) + 1);
    return 0;
}

static int part_grow(struct buf_part *p, size_t *bytes)
{
    size_t ncap = p->cap ? p->cap * 2 : 256;
    int64_t *time = sl_realloc(p->time, ncap * sizeof(*time));
    if (!time) return SL_ENOMEM;
    p->time = time;
    uint32_t *sid = sl_realloc(p->sid, ncap * sizeof(*sid));
    if (!sid) return SL_ENOMEM;
    p->sid = sid;
    uint64_t *lsn = sl_realloc(p->lsn, ncap * sizeof(*lsn));
    if (!lsn) return SL_ENOMEM;
    p->lsn = lsn;
    size_t add = (ncap - p->cap) * (sizeof(*time) + sizeof(*sid) + sizeof(*lsn));
    for (size_t c = 0; c < p->ncols; c++) {
        struct buf_col *col = &p->cols[c];
        if (!col->present) continue;
        size_t ts = type_size(col->type);
        void *v = sl_realloc(col->v.f, ncap * ts);
        if (!v) return SL_ENOMEM;
        col->v.f = v;
        uint8_t *valid = sl_realloc(col->valid, ncap);
        if (!valid) return SL_ENOMEM;
        memset(valid + p->cap, 0, ncap - p->cap);
        col->valid = valid;
        add += (ncap - p->cap) * (ts + 1);
    }
    p->cap = ncap;
    *bytes += add;
    return 0;
}

int buffer_insert_locked(struct buffer *b, struct buf_table *t, const struct buf_row *row,
                         size_t ncols, uint64_t lsn)
{
    uint32_t sid;
    int rc = buffer_series_add_locked(b, t, row->series_key, row->series_key_len, row->tags,
                                      row->tag_cols, row->ntags, &sid);
    if (rc < 0) return rc;
    return buffer_append_locked(b, t, sid, row->time, row->vals, row->nvals, ncols, lsn);
}

int buffer_append_locked(struct buffer *b, struct buf_table *t, uint32_t sid, int64_t time,
                         const struct buf_value *vals, size_t nvals, size_t ncols, uint64_t lsn)
{
    int rc;
    struct buf_row rowv = {.time = time, .vals = vals, .nvals = nvals};
    const struct buf_row *row = &rowv;
    struct buf_part *p = part_get(t, row->time);
    if (!p) return SL_ENOMEM;
    size_t bytes = 0;
    if ((rc = part_ensure_cols(p, ncols)) < 0) return rc;
    if (p->nrows == p->cap && (rc = part_grow(p, &bytes)) < 0) goto out;
    for (size_t i = 0; i < row->nvals; i++) {
        const struct buf_value *v = &row->vals[i];
        if (v->col >= p->ncols) {
            rc = SL_EINVAL;
            goto out;
        }
        struct buf_col *c = &p->cols[v->col];
        if (!c->present && (rc = col_make(p, c, v->type, &bytes)) < 0) goto out;
        if (c->type != v->type) {
            rc = SL_ECONFLICT;
            goto out;
        }
    }
    size_t r = p->nrows;
    for (size_t i = 0; i < row->nvals; i++) {
        const struct buf_value *v = &row->vals[i];
        struct buf_col *c = &p->cols[v->col];
        switch (v->type) {
        case LP_FLOAT: c->v.f[r] = v->v.f; break;
        case LP_INTEGER: c->v.i[r] = v->v.i; break;
        case LP_UNSIGNED: c->v.u[r] = v->v.u; break;
        case LP_BOOLEAN: c->v.b[r] = (uint8_t)(v->v.b != 0); break;
        case LP_STRING: {
            char *s = sl_strndup(v->v.s.ptr, v->v.s.len);
            if (!s) {
                /* undo the strings of this row written so far */
                for (size_t k = 0; k < i; k++) {
                    const struct buf_value *w = &row->vals[k];
                    if (w->type == LP_STRING) {
                        sl_free(p->cols[w->col].v.s[r].ptr);
                        p->cols[w->col].valid[r] = 0;
                    } else {
                        p->cols[w->col].valid[r] = 0;
                    }
                }
                rc = SL_ENOMEM;
                goto out;
            }
            c->v.s[r].ptr = s;
            c->v.s[r].len = (uint32_t)v->v.s.len;
            bytes += v->v.s.len + 1;
            break;
        }
        }
        c->valid[r] = 1;
    }
    p->sid[r] = sid;
    p->time[r] = row->time;
    p->lsn[r] = lsn;
    p->nrows++;
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
    p->last_write_mono = (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
    if (row->time < p->min_time) p->min_time = row->time;
    if (row->time > p->max_time) p->max_time = row->time;
    if (lsn > p->max_lsn) p->max_lsn = lsn;
    if (lsn < p->min_lsn) p->min_lsn = lsn;
    atomic_fetch_add_explicit(&b->rows_total, 1, memory_order_relaxed);
out:
    p->bytes += bytes;
    t->bytes += bytes;
    atomic_fetch_add(&b->bytes, bytes);
    return rc;
}

/* ---- snapshots: sort by (series key, time, arrival) and merge duplicates ---- */

struct sort_ctx {
    const uint32_t *rank; /* series id -> rank of its key */
    const uint32_t *sid;
    const int64_t *time;
    const uint64_t *lsn;
};

static int row_cmp(const void *a, const void *b, void *arg)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    const struct sort_ctx *s = arg;
    uint32_t rx = s->rank[s->sid[x]], ry = s->rank[s->sid[y]];
    if (rx != ry) return rx < ry ? -1 : 1;
    if (s->time[x] != s->time[y]) return s->time[x] < s->time[y] ? -1 : 1;
    if (s->lsn[x] != s->lsn[y]) return s->lsn[x] < s->lsn[y] ? -1 : 1;
    return x < y ? -1 : x > y; /* arrival order: later rows win when merged */
}

static int sid_cmp(const void *a, const void *b, void *arg)
{
    const struct buf_series *series = arg;
    const struct buf_series *x = &series[*(const uint32_t *)a];
    const struct buf_series *y = &series[*(const uint32_t *)b];
    size_t n = x->key_len < y->key_len ? x->key_len : y->key_len;
    int c = memcmp(x->key, y->key, n);
    if (c) return c;
    return x->key_len < y->key_len ? -1 : x->key_len > y->key_len;
}

void buffer_snapshot_release(struct buf_snapshot *s)
{
    for (size_t c = 0; c < s->ncols; c++) {
        sl_free(s->cols[c].v.f);
        sl_free(s->cols[c].valid);
    }
    sl_free(s->cols);
    sl_free(s->sid);
    sl_free(s->time);
    sl_free(s->strings);
    memset(s, 0, sizeof(*s));
}

int buffer_part_snapshot(struct buf_table *t, size_t pi, int64_t min_time, int64_t max_time,
                         struct buf_snapshot *out)
{
    return buffer_snapshot_part(t, t->parts[pi], min_time, max_time, out);
}

int buffer_snapshot_part(struct buf_table *t, const struct buf_part *p, int64_t min_time,
                         int64_t max_time, struct buf_snapshot *out)
{
    memset(out, 0, sizeof(*out));
    int rc = SL_ENOMEM;
    uint32_t *order = NULL, *rank = NULL, *sids = NULL;
    out->start = p->start;
    out->max_lsn = p->max_lsn;
    out->ncols = p->ncols;
    size_t n = 0;
    order = sl_malloc((p->nrows ? p->nrows : 1) * sizeof(*order));
    rank = sl_malloc((t->nseries ? t->nseries : 1) * sizeof(*rank));
    sids = sl_malloc((t->nseries ? t->nseries : 1) * sizeof(*sids));
    if (!order || !rank || !sids) goto fail;
    for (size_t r = 0; r < p->nrows; r++)
        if (p->time[r] >= min_time && p->time[r] <= max_time) order[n++] = (uint32_t)r;
    for (size_t i = 0; i < t->nseries; i++)
        sids[i] = (uint32_t)i;
    qsort_r(sids, t->nseries, sizeof(*sids), sid_cmp, t->series);
    for (size_t i = 0; i < t->nseries; i++)
        rank[sids[i]] = (uint32_t)i;
    struct sort_ctx ctx = {rank, p->sid, p->time, p->lsn};
    qsort_r(order, n, sizeof(*order), row_cmp, &ctx);

    /* count output rows and string bytes */
    size_t nout = 0, sbytes = 0;
    for (size_t i = 0; i < n; i++) {
        if (i == 0 || p->sid[order[i]] != p->sid[order[i - 1]] ||
            p->time[order[i]] != p->time[order[i - 1]])
            nout++;
    }
    for (size_t c = 0; c < p->ncols; c++) {
        const struct buf_col *col = &p->cols[c];
        if (!col->present || col->type != LP_STRING) continue;
        for (size_t i = 0; i < n; i++)
            if (col->valid[order[i]]) sbytes += col->v.s[order[i]].len + 1;
    }
    out->nrows = nout;
    out->sid = sl_malloc((nout ? nout : 1) * sizeof(*out->sid));
    out->time = sl_malloc((nout ? nout : 1) * sizeof(*out->time));
    out->cols = sl_calloc(p->ncols ? p->ncols : 1, sizeof(*out->cols));
    out->strings = sl_malloc(sbytes ? sbytes : 1);
    if (!out->sid || !out->time || !out->cols || !out->strings) goto fail;
    for (size_t c = 0; c < p->ncols; c++) {
        const struct buf_col *col = &p->cols[c];
        if (!col->present) continue;
        struct buf_col *oc = &out->cols[c];
        oc->type = col->type;
        oc->present = 1;
        oc->v.f = sl_malloc((nout ? nout : 1) * type_size(col->type));
        oc->valid = sl_calloc(nout ? nout : 1, 1);
        if (!oc->v.f || !oc->valid) goto fail;
    }
    size_t o = (size_t)-1, soff = 0;
    for (size_t i = 0; i < n; i++) {
        uint32_t r = order[i];
        if (i == 0 || p->sid[r] != p->sid[order[i - 1]] || p->time[r] != p->time[order[i - 1]]) {
            o++;
            out->sid[o] = p->sid[r];
            out->time[o] = p->time[r];
        }
        for (size_t c = 0; c < p->ncols; c++) {
            const struct buf_col *col = &p->cols[c];
            if (!col->present || !col->valid[r]) continue;
            struct buf_col *oc = &out->cols[c];
            switch (col->type) {
            case LP_FLOAT: oc->v.f[o] = col->v.f[r]; break;
            case LP_INTEGER: oc->v.i[o] = col->v.i[r]; break;
            case LP_UNSIGNED: oc->v.u[o] = col->v.u[r]; break;
            case LP_BOOLEAN: oc->v.b[o] = col->v.b[r]; break;
            case LP_STRING: {
                uint32_t len = col->v.s[r].len;
                memcpy(out->strings + soff, col->v.s[r].ptr, len + 1);
                oc->v.s[o].ptr = out->strings + soff;
                oc->v.s[o].len = len;
                soff += len + 1;
                break;
            }
            }
            oc->valid[o] = 1;
        }
    }
    rc = 0;
fail:
    sl_free(order);
    sl_free(rank);
    sl_free(sids);
    if (rc < 0) buffer_snapshot_release(out);
    return rc;
}

struct buf_part *buffer_seal_locked(struct buf_table *t, size_t pi)
{
    struct buf_part **ss = sl_grow(t->sealed, &t->sealed_cap, t->nsealed + 1, sizeof(*ss));
    if (!ss) return NULL;
    t->sealed = ss;
    struct buf_part *p = t->parts[pi];
    memmove(t->parts + pi, t->parts + pi + 1, (t->nparts - pi - 1) * sizeof(*t->parts));
    t->nparts--;
    p->persisting = 1;
    t->sealed[t->nsealed++] = p;
    return p;
}

void buffer_sealed_drop_locked(struct buffer *b, struct buf_table *t, struct buf_part *p)
{
    for (size_t i = 0; i < t->nsealed; i++) {
        if (t->sealed[i] != p) continue;
        memmove(t->sealed + i, t->sealed + i + 1, (t->nsealed - i - 1) * sizeof(*t->sealed));
        t->nsealed--;
        t->bytes -= p->bytes;
        atomic_fetch_sub(&b->bytes, p->bytes);
        part_free(p);
        return;
    }
}

/* Compacts partition p in place, keeping the rows not selected; returns the
 * number removed. Capacity stays (the arrays shrink when the partition is
 * freed); the bytes of freed strings are given back. */
static size_t part_delete_rows(struct buffer *b, struct buf_table *t, struct buf_part *p,
                               const uint8_t *match, size_t nmatch, int64_t tmin, int64_t tmax,
                               uint64_t before_lsn)
{
    if (!p->nrows || p->max_time < tmin || p->min_time > tmax || p->min_lsn >= before_lsn) return 0;
    size_t k = 0, freed = 0;
    int64_t mint = INT64_MAX, maxt = INT64_MIN;
    uint64_t minl = UINT64_MAX, maxl = 0;
    for (size_t r = 0; r < p->nrows; r++) {
        uint32_t s = p->sid[r];
        int del = s < nmatch && match[s] && p->time[r] >= tmin && p->time[r] <= tmax &&
                  p->lsn[r] < before_lsn;
        if (del) {
            for (size_t c = 0; c < p->ncols; c++) {
                struct buf_col *col = &p->cols[c];
                if (col->present && col->type == LP_STRING && col->valid[r]) {
                    freed += col->v.s[r].len + 1;
                    sl_free(col->v.s[r].ptr);
                }
            }
            continue;
        }
        if (k != r) {
            p->sid[k] = p->sid[r];
            p->time[k] = p->time[r];
            p->lsn[k] = p->lsn[r];
            for (size_t c = 0; c < p->ncols; c++) {
                struct buf_col *col = &p->cols[c];
                if (!col->present) continue;
                size_t ts = type_size(col->type);
                memcpy((char *)col->v.f + k * ts, (char *)col->v.f + r * ts, ts);
                col->valid[k] = col->valid[r];
            }
        }
        if (p->time[k] < mint) mint = p->time[k];
        if (p->time[k] > maxt) maxt = p->time[k];
        if (p->lsn[k] < minl) minl = p->lsn[k];
        if (p->lsn[k] > maxl) maxl = p->lsn[k];
        k++;
    }
    size_t removed = p->nrows - k;
    /* slots past the end must read as empty for the next appends */
    for (size_t c = 0; c < p->ncols; c++)
        if (p->cols[c].present) memset(p->cols[c].valid + k, 0, p->nrows - k);
    p->nrows = k;
    p->min_time = mint;
    p->max_time = maxt;
    p->min_lsn = minl;
    p->max_lsn = maxl;
    if (freed > p->bytes) freed = p->bytes;
    p->bytes -= freed;
    t->bytes -= freed;
    atomic_fetch_sub(&b->bytes, freed);
    return removed;
}

size_t buffer_delete_rows_locked(struct buffer *b, struct buf_table *t, const uint8_t *match,
                                 size_t nmatch, int64_t tmin, int64_t tmax, uint64_t before_lsn)
{
    size_t n = 0;
    for (size_t i = 0; i < t->nparts; i++)
        n += part_delete_rows(b, t, t->parts[i], match, nmatch, tmin, tmax, before_lsn);
    for (size_t i = 0; i < t->nsealed; i++)
        n += part_delete_rows(b, t, t->sealed[i], match, nmatch, tmin, tmax, before_lsn);
    return n;
}

uint64_t buffer_min_lsn(struct buffer *b)
{
    uint64_t m = UINT64_MAX;
    pthread_mutex_lock(&b->lock);
    for (size_t i = 0; i < b->ntables; i++) {
        struct buf_table *t = b->tables[i];
        pthread_mutex_lock(&t->lock);
        for (size_t k = 0; k < t->nparts; k++)
            if (t->parts[k]->nrows && t->parts[k]->min_lsn < m) m = t->parts[k]->min_lsn;
        for (size_t k = 0; k < t->nsealed; k++)
            if (t->sealed[k]->min_lsn < m) m = t->sealed[k]->min_lsn;
        pthread_mutex_unlock(&t->lock);
    }
    pthread_mutex_unlock(&b->lock);
    return m;
}
