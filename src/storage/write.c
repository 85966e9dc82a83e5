/*
 * write.c — the write path (engine_write) and WAL replay (engine_apply_record).
 *
 * A request goes through two phases:
 *
 *   prepare  parse every line once; validate it against the catalog (growing
 *            the schema, persisted before use); check retention; produce a
 *            compact "prepared row" per accepted line in a per-request arena:
 *            table, canonical series key, time, typed values with column ids.
 *   insert   (after the WAL record is durable) take each table's lock once
 *            per run of rows and append them; a series seen for the first
 *            time has its tags recovered by re-parsing just that line.
 *
 * Replay runs the same two phases over a WAL record, with prepare in replay
 * mode (no schema changes; lines that no longer fit are skipped), so the code
 * that rebuilds the buffer after a crash is the code every write runs.
 *
 * Two shortcuts keep the common case cheap. The series key of a line whose
 * measurement and tags needed no unescaping and were already sorted is the
 * line's own prefix, used in place. And the column ids resolved for one line
 * are reused for the next while its table, tag keys and field keys and types
 * are the same (a batch from one source usually has a single shape).
 *
 * WAL record payload (little-endian), one per write request:
 *   u8  format version (1)
 *   u8  precision of the timestamps in the text (enum lp_precision)
 *   u16 reserved (0)
 *   u32 database id (records of dropped databases are skipped)
 *   i64 default time (ns) for lines without a timestamp
 *   ... line-protocol text of the accepted lines only
 * Records whose first byte is DEL_REC_KIND are deletions (delete.c).
 */
#include <stdio.h>
#include <string.h>
#include <sys/uio.h>

#include "common/arena.h"
#include "common/err.h"
#include "common/log.h"
#include "common/mem.h"
#include "common/timeutil.h"
#include "storage/delete.h"
#include "storage/engine.h"
#include "storage/engine_int.h"
#include "wal/wal.h"

#define REC_HEADER  16
#define REC_VERSION 1

static void put_u32(unsigned char *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (unsigned char)(v >> (8 * i));
}

static void put_u64(unsigned char *p, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        p[i] = (unsigned char)(v >> (8 * i));
}

static uint32_t get_u32(const unsigned char *p)
{
    uint32_t v = 0;
    for (int i = 3; i >= 0; i--)
        v = v << 8 | p[i];
    return v;
}

static uint64_t get_u64(const unsigned char *p)
{
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--)
        v = v << 8 | p[i];
    return v;
}

/* ---- per-line errors ---- */

static int add_error(struct write_result *res, enum write_err_kind kind, size_t line, size_t column,
                     const char *raw, size_t raw_len, const char *msg)
{
    res->rejected++;
    res->rejected_by_kind[kind]++;
    if (res->nerrors >= WRITE_MAX_REPORTED_ERRORS) return 0;
    if (!res->errors) {
        res->errors = sl_calloc(WRITE_MAX_REPORTED_ERRORS, sizeof(*res->errors));
        if (!res->errors) return SL_ENOMEM;
    }
    struct write_line_error *e = &res->errors[res->nerrors];
    e->kind = kind;
    e->line = line;
    e->column = column;
    e->message = sl_strdup(msg);
    e->raw = sl_strndup(raw ? raw : "", raw_len > 256 ? 256 : raw_len);
    if (!e->message || !e->raw) {
        sl_free(e->message);
        sl_free(e->raw);
        return SL_ENOMEM;
    }
    res->nerrors++;
    return 0;
}

void write_result_release(struct write_result *res)
{
    for (size_t i = 0; i < res->nerrors; i++) {
        sl_free(res->errors[i].message);
        sl_free(res->errors[i].raw);
    }
    sl_free(res->errors);
    memset(res, 0, sizeof(*res));
}

/* ---- schema checks ---- */

enum resolve { RESOLVED = 0, NEEDS_SCHEMA = 1, CONFLICT = 2 };

static int clip(size_t n)
{
    return (int)(n > 200 ? 200 : n);
}

/* 1-based column of s in the line (1 when s was unescaped into scratch). */
static size_t column_of(const struct lp_point *pt, const char *s)
{
    return s >= pt->raw && s < pt->raw + pt->raw_len ? (size_t)(s - pt->raw) + 1 : 1;
}

/* Checks a point against table t (catalog lock held). Fills msg/col on conflict. */
static enum resolve check_point(struct cat_table *t, const struct lp_point *pt, char *msg,
                                size_t msglen, size_t *col)
{
    if (!t) return NEEDS_SCHEMA;
    enum resolve r = RESOLVED;
    for (size_t i = 0; i < pt->ntags; i++) {
        const struct lp_tag *tg = &pt->tags[i];
        struct cat_column *c = cat_table_column_get(t, tg->key, tg->key_len);
        if (!c) {
            r = NEEDS_SCHEMA;
        } else if (c->kind != CAT_COL_TAG) {
            snprintf(msg, msglen, "tag \"%.*s\" on measurement \"%.*s\" already exists as a field",
                     clip(tg->key_len), tg->key, clip(pt->measurement_len), pt->measurement);
            *col = column_of(pt, tg->key);
            return CONFLICT;
        }
    }
    for (size_t i = 0; i < pt->nfields; i++) {
        const struct lp_field *f = &pt->fields[i];
        struct cat_column *c = cat_table_column_get(t, f->key, f->key_len);
        if (!c) {
            r = NEEDS_SCHEMA;
        } else if (c->kind != CAT_COL_FIELD) {
            snprintf(msg, msglen, "field \"%.*s\" on measurement \"%.*s\" already exists as a tag",
                     clip(f->key_len), f->key, clip(pt->measurement_len), pt->measurement);
            *col = column_of(pt, f->key);
            return CONFLICT;
        } else if (c->type != f->type) {
            snprintf(msg, msglen,
                     "field type conflict: input field \"%.*s\" on measurement \"%.*s\" is type "
                     "%s, already exists as type %s",
                     clip(f->key_len), f->key, clip(pt->measurement_len), pt->measurement,
                     lp_type_name(f->type), lp_type_name(c->type));
            *col = column_of(pt, f->key);
            return CONFLICT;
        }
    }
    return r;
}

/* Adds what pt needs to the schema (catalog write lock held). Returns RESOLVED,
 * CONFLICT (msg filled) or a negative error; *changed when the catalog must be
 * persisted. */
static int extend_schema(struct catalog *cat, struct cat_db *db, const struct lp_point *pt,
                         char *msg, size_t msglen, size_t *col, int *changed)
{
    struct cat_table *t = cat_db_table_get(db, pt->measurement, pt->measurement_len);
    if (!t) {
        const char *why = catalog_name_invalid(pt->measurement, pt->measurement_len);
        if (why) {
            snprintf(msg, msglen, "invalid measurement name: %s", why);
            *col = 1;
            return CONFLICT;
        }
        int rc = catalog_table_create(cat, db, pt->measurement, pt->measurement_len, &t);
        if (rc == SL_ETOOBIG) {
            snprintf(msg, msglen, "too many tables in database \"%.200s\" (limit %d)", db->name,
                     CAT_MAX_TABLES_PER_DB);
            *col = 1;
            return CONFLICT;
        }
        if (rc < 0) return rc;
        *changed = 1;
    }
    enum resolve r = check_point(t, pt, msg, msglen, col);
    if (r != NEEDS_SCHEMA) return (int)r;
    for (size_t i = 0; i < pt->ntags; i++) {
        const struct lp_tag *tg = &pt->tags[i];
        if (cat_table_column_get(t, tg->key, tg->key_len)) continue;
        int rc = cat_table_column_add(t, tg->key, tg->key_len, CAT_COL_TAG, LP_STRING, NULL);
        if (rc == SL_ETOOBIG) goto too_many;
        if (rc < 0) return rc;
        *changed = 1;
    }
    for (size_t i = 0; i < pt->nfields; i++) {
        const struct lp_field *f = &pt->fields[i];
        if (cat_table_column_get(t, f->key, f->key_len)) continue;
        int rc = cat_table_column_add(t, f->key, f->key_len, CAT_COL_FIELD, f->type, NULL);
        if (rc == SL_ETOOBIG) goto too_many;
        if (rc < 0) return rc;
        *changed = 1;
    }
    return RESOLVED;
too_many:
    snprintf(msg, msglen, "too many columns in measurement \"%.200s\" (limit %d)", t->name,
             CAT_MAX_COLUMNS_PER_TABLE);
    *col = 1;
    return CONFLICT;
}

/* ---- prepared rows ---- */

struct prow {
    struct cat_table *ct;
    const char *key; /* canonical series key, or the line's own prefix when alias */
    const char *raw;
    struct buf_value *vals;
    int64_t time;
    uint32_t key_len, raw_len, nvals;
    int alias; /* key is the client's prefix (tags unsorted): look it up as an alias */
};

/* The shape of the last resolved point: table, tag keys, field keys and types. */
#define SHAPE_MAX 64
struct shape {
    struct cat_table *ct;
    size_t ntags, nfields;
    const char *tag_key[SHAPE_MAX];
    size_t tag_len[SHAPE_MAX];
    const char *field_key[SHAPE_MAX];
    size_t field_len[SHAPE_MAX];
    enum lp_type field_type[SHAPE_MAX];
    uint32_t field_col[SHAPE_MAX];
    int valid;
};

struct prep {
    struct sl_arena arena;
    struct prow *rows;
    size_t n, cap;
    struct shape shape;
    struct sl_buf key; /* scratch for non-canonical series keys */
};

static void prep_init(struct prep *p, size_t arena_max)
{
    memset(p, 0, sizeof(*p));
    sl_arena_init(&p->arena, arena_max);
    sl_buf_init(&p->key, 0);
}

static void prep_release(struct prep *p)
{
    sl_arena_release(&p->arena);
    sl_free(p->rows);
    sl_buf_release(&p->key);
}

static int in_raw(const struct lp_point *pt, const char *s)
{
    return s >= pt->raw && s < pt->raw + pt->raw_len;
}

/* When the measurement and tags needed no unescaping, the line's own prefix
 * names the series: returns 1 with its length, and *sorted when the tags were
 * written in sorted order (then the prefix is the canonical key itself). */
static int raw_key(const struct lp_point *pt, size_t *len, int *sorted)
{
    if (pt->measurement != pt->raw) return 0;
    const char *end = pt->measurement + pt->measurement_len;
    const char *expect = end + 1;
    *sorted = 1;
    for (size_t i = 0; i < pt->ntags; i++) {
        const struct lp_tag *t = &pt->tags[i];
        if (!in_raw(pt, t->key) || !in_raw(pt, t->val) || t->val != t->key + t->key_len + 1)
            return 0;
        if (t->key != expect) *sorted = 0;
        expect = t->val + t->val_len + 1;
        if (t->val + t->val_len > end) end = t->val + t->val_len;
    }
    /* the prefix must be exactly measurement + tags: ",k=v" pieces add up */
    size_t want = pt->measurement_len;
    for (size_t i = 0; i < pt->ntags; i++)
        want += 2 + pt->tags[i].key_len + pt->tags[i].val_len;
    if ((size_t)(end - pt->raw) != want) return 0;
    *len = want;
    return 1;
}

static int shape_matches(const struct shape *s, const struct lp_point *pt)
{
    if (!s->valid || s->ntags != pt->ntags || s->nfields != pt->nfields) return 0;
    if (s->ct->name[pt->measurement_len] != '\0' ||
        memcmp(s->ct->name, pt->measurement, pt->measurement_len) != 0)
        return 0;
    for (size_t i = 0; i < pt->ntags; i++)
        if (s->tag_len[i] != pt->tags[i].key_len ||
            memcmp(s->tag_key[i], pt->tags[i].key, s->tag_len[i]) != 0)
            return 0;
    for (size_t i = 0; i < pt->nfields; i++)
        if (s->field_len[i] != pt->fields[i].key_len || s->field_type[i] != pt->fields[i].type ||
            memcmp(s->field_key[i], pt->fields[i].key, s->field_len[i]) != 0)
            return 0;
    return 1;
}

/* Records the shape of pt (resolved against ct, which has every column). Key
 * pointers must outlive the request: they point into the body or the arena. */
static int shape_record(struct prep *p, struct cat_table *ct, const struct lp_point *pt)
{
    struct shape *s = &p->shape;
    s->valid = 0;
    if (pt->ntags > SHAPE_MAX || pt->nfields > SHAPE_MAX) return 0;
    for (size_t i = 0; i < pt->ntags; i++) {
        const char *k = pt->tags[i].key;
        if (!in_raw(pt, k) && !(k = sl_arena_strndup(&p->arena, k, pt->tags[i].key_len)))
            return SL_ENOMEM;
        s->tag_key[i] = k;
        s->tag_len[i] = pt->tags[i].key_len;
    }
    for (size_t i = 0; i < pt->nfields; i++) {
        const struct lp_field *f = &pt->fields[i];
        struct cat_column *c = cat_table_column_get(ct, f->key, f->key_len);
        if (!c) return 0;
        const char *k = f->key;
        if (!in_raw(pt, k) && !(k = sl_arena_strndup(&p->arena, k, f->key_len))) return SL_ENOMEM;
        s->field_key[i] = k;
        s->field_len[i] = f->key_len;
        s->field_type[i] = f->type;
        s->field_col[i] = c->id;
    }
    s->ct = ct;
    s->ntags = pt->ntags;
    s->nfields = pt->nfields;
    s->valid = 1;
    return 0;
}

/* Appends a prepared row for pt (shape already matches p->shape). */
static int prep_add(struct prep *p, const struct lp_point *pt, int64_t time)
{
    struct prow *rows = sl_grow(p->rows, &p->cap, p->n + 1, sizeof(*rows));
    if (!rows) return SL_ENOMEM;
    p->rows = rows;
    struct prow *r = &p->rows[p->n];
    r->ct = p->shape.ct;
    r->time = time;
    r->raw = pt->raw;
    r->raw_len = (uint32_t)pt->raw_len;
    size_t klen;
    int sorted;
    r->alias = 0;
    if (raw_key(pt, &klen, &sorted)) {
        r->key = pt->raw;
        r->key_len = (uint32_t)klen;
        r->alias = !sorted;
    } else {
        sl_buf_reset(&p->key);
        int rc = lp_series_key(pt, &p->key);
        if (rc < 0) return rc;
        char *k = sl_arena_strndup(&p->arena, p->key.ptr, p->key.len);
        if (!k) return SL_ENOMEM;
        r->key = k;
        r->key_len = (uint32_t)p->key.len;
    }
    r->nvals = (uint32_t)pt->nfields;
    r->vals = sl_arena_alloc(&p->arena, pt->nfields * sizeof(*r->vals));
    if (!r->vals) return SL_ENOMEM;
    for (size_t i = 0; i < pt->nfields; i++) {
        const struct lp_field *f = &pt->fields[i];
        struct buf_value *v = &r->vals[i];
        v->col = p->shape.field_col[i];
        v->type = f->type;
        switch (f->type) {
        case LP_FLOAT: v->v.f = f->v.f; break;
        case LP_INTEGER: v->v.i = f->v.i; break;
        case LP_UNSIGNED: v->v.u = f->v.u; break;
        case LP_BOOLEAN: v->v.b = f->v.b; break;
        case LP_STRING:
            v->v.s.len = f->v.s.len;
            v->v.s.ptr = in_raw(pt, f->v.s.ptr)
                             ? f->v.s.ptr
                             : sl_arena_strndup(&p->arena, f->v.s.ptr, f->v.s.len);
            if (!v->v.s.ptr) return SL_ENOMEM;
            break;
        }
    }
    p->n++;
    return 0;
}

/* ---- insert ---- */

/* Appends prepared rows to the buffer. Catalog read lock held by the caller. */
static int insert_rows(struct engine *e, uint32_t db_id, struct prep *p, enum lp_precision prec,
                       uint64_t lsn, size_t *applied)
{
    int rc = 0;
    struct buf_table *bt = NULL;
    struct cat_table *cur = NULL;
    uint32_t tag_cols[1024];
    for (size_t i = 0; i < p->n && rc == 0; i++) {
        struct prow *r = &p->rows[i];
        if (r->ct != cur) {
            if (bt) pthread_mutex_unlock(&bt->lock);
            bt = NULL;
            cur = r->ct;
            /* a table dropped while this request waited for its sync takes
             * the rows with it (storage_drop_table, delete.c) */
            if (cur->deleted) continue;
            if (!(bt = buffer_table(&e->buffer, db_id, cur->id))) {
                rc = SL_ENOMEM;
                break;
            }
            pthread_mutex_lock(&bt->lock);
        }
        if (!bt) continue;
        uint32_t sid;
        int found = r->alias ? buffer_alias_find_locked(bt, r->key, r->key_len, &sid)
                             : buffer_series_find_locked(bt, r->key, r->key_len, &sid);
        if (found < 0) {
            /* a new series or alias: recover the tags from the line */
            struct lp_parser lp;
            struct lp_parser_opts po = {.precision = prec};
            struct lp_point pt;
            struct lp_error perr;
            lp_parser_init(&lp, r->raw, r->raw_len, &po);
            int k = lp_parser_next(&lp, &pt, &perr);
            if (k != LP_POINT || pt.ntags > 1024) {
                lp_parser_release(&lp);
                rc = k < 0 ? k : SL_ECORRUPT;
                break;
            }
            for (size_t t = 0; t < pt.ntags; t++) {
                struct cat_column *c =
                    cat_table_column_get(cur, pt.tags[t].key, pt.tags[t].key_len);
                tag_cols[t] = c ? c->id : 0;
            }
            if (r->alias) {
                sl_buf_reset(&p->key);
                if ((rc = lp_series_key(&pt, &p->key)) == 0)
                    rc = buffer_series_add_locked(&e->buffer, bt, p->key.ptr, p->key.len, pt.tags,
                                                  tag_cols, pt.ntags, &sid);
                if (rc == 0) rc = buffer_alias_add_locked(&e->buffer, bt, r->key, r->key_len, sid);
            } else {
                rc = buffer_series_add_locked(&e->buffer, bt, r->key, r->key_len, pt.tags, tag_cols,
                                              pt.ntags, &sid);
            }
            lp_parser_release(&lp);
            if (rc < 0) break;
        }
        rc = buffer_append_locked(&e->buffer, bt, sid, r->time, r->vals, r->nvals, cur->ncols, lsn);
        if (rc == 0) (*applied)++;
    }
    if (bt) pthread_mutex_unlock(&bt->lock);
    return rc;
}

/* ---- replay ---- */

int engine_apply_record(struct engine *e, uint64_t lsn, const void *rec, size_t len,
                        size_t *applied, size_t *skipped)
{
    const unsigned char *h = rec;
    if (len > 0 && h[0] == DEL_REC_KIND) return storage_delete_replay(e, lsn, rec, len);
    if (len < REC_HEADER || h[0] != REC_VERSION || h[1] > LP_PREC_AUTO) return SL_ECORRUPT;
    uint32_t db_id = get_u32(h + 4);
    int64_t def = (int64_t)get_u64(h + 8);
    enum lp_precision prec = (enum lp_precision)h[1];
    const char *text = (const char *)h + REC_HEADER;
    size_t tlen = len - REC_HEADER;
    struct prep p;
    prep_init(&p, tlen * 16 + (1u << 20));
    struct lp_parser lp;
    struct lp_parser_opts po = {.precision = prec};
    lp_parser_init(&lp, text, tlen, &po);
    struct lp_point pt;
    struct lp_error perr;
    int rc = 0, r;
    char msg[512];
    size_t col;
    catalog_rdlock(e->catalog);
    struct cat_db *db = NULL;
    for (size_t i = 0; i < e->catalog->ndbs; i++)
        if (e->catalog->dbs[i]->id == db_id && !e->catalog->dbs[i]->deleted)
            db = e->catalog->dbs[i];
    while (db && (r = lp_parser_next(&lp, &pt, &perr)) != LP_END) {
        if (r < 0) {
            rc = r;
            break;
        }
        if (r == LP_ERROR) {
            (*skipped)++;
            continue;
        }
        if (!shape_matches(&p.shape, &pt)) {
            struct cat_table *ct = cat_db_table_get(db, pt.measurement, pt.measurement_len);
            if (!ct || check_point(ct, &pt, msg, sizeof(msg), &col) != RESOLVED) {
                (*skipped)++; /* a table dropped since */
                continue;
            }
            if ((rc = shape_record(&p, ct, &pt)) < 0) break;
            if (!p.shape.valid) {
                (*skipped)++;
                continue;
            }
        }
        if ((rc = prep_add(&p, &pt, pt.has_time ? pt.time : def)) < 0) break;
    }
    if (rc == 0 && db) rc = insert_rows(e, db_id, &p, prec, lsn, applied);
    catalog_unlock(e->catalog);
    lp_parser_release(&lp);
    prep_release(&p);
    return rc;
}

/* ---- the write path ---- */

static int64_t truncate_time(int64_t ns, enum lp_precision p)
{
    int64_t unit = lp_precision_ns(p);
    if (unit <= 1) return ns;
    return ns - ns % unit;
}

/* Finds the database, creating it when allowed. On success returns with the
 * catalog read lock held. */
static int open_db(struct engine *e, const struct write_req *req, struct cat_db **out,
                   struct write_result *res)
{
    struct catalog *cat = e->catalog;
    catalog_rdlock(cat);
    struct cat_db *db = catalog_db_get(cat, req->db, req->db_len);
    if (db) {
        *out = db;
        return 0;
    }
    catalog_unlock(cat);
    if (!req->may_create_db || e->opts.no_auto_create) return SL_ENOENT;
    catalog_wrlock(cat);
    db = catalog_db_get(cat, req->db, req->db_len);
    if (!db) {
        int rc = catalog_db_create(cat, req->db, req->db_len, 0, &db);
        if (rc < 0) {
            catalog_unlock(cat);
            return rc;
        }
        res->db_created = 1;
    }
    catalog_unlock(cat);
    catalog_rdlock(cat);
    if (!(db = catalog_db_get(cat, req->db, req->db_len))) {
        catalog_unlock(cat);
        return SL_ENOENT; /* dropped meanwhile */
    }
    *out = db;
    return 0;
}

int engine_write(struct engine *e, const struct write_req *req, struct write_result *res)
{
    memset(res, 0, sizeof(*res));
    atomic_fetch_add(&e->stats.write_requests, 1);
    if (wal_failed(e->wal)) return SL_ESTATE;
    if (buffer_over_limit(&e->buffer)) {
        atomic_fetch_add(&e->stats.overload_rejections, 1);
        engine_kick(e);
        return SL_EBUSY;
    }
    if (catalog_name_invalid(req->db, req->db_len)) return SL_EINVAL;
    struct catalog *cat = e->catalog;
    struct cat_db *db;
    int rc = open_db(e, req, &db, res);
    if (rc < 0) return rc;
    /* catalog read lock held from here */
    uint32_t db_id = db->id;
    int64_t retention_cut = db->retention_ns ? req->now_ns - db->retention_ns : INT64_MIN;
    int64_t default_time = truncate_time(req->now_ns, req->precision);

    struct prep p;
    prep_init(&p, req->len * 16 + (1u << 20));
    struct lp_parser lp;
    struct lp_parser_opts po = {.precision = req->precision};
    lp_parser_init(&lp, req->body, req->len, &po);
    struct lp_point pt;
    struct lp_error perr;
    struct sl_buf filtered; /* accepted lines, once some line was rejected */
    sl_buf_init(&filtered, 0);
    int any_rejected = 0, r;
    char msg[512];
    while ((r = lp_parser_next(&lp, &pt, &perr)) != LP_END) {
        if (r < 0) {
            rc = r;
            break;
        }
        const char *line = r == LP_POINT ? pt.raw : perr.raw;
        size_t line_len = r == LP_POINT ? pt.raw_len : perr.raw_len;
        size_t line_no = r == LP_POINT ? pt.line : perr.line;
        enum write_err_kind kind = 0;
        size_t col = 1;
        int64_t t = 0;
        if (r == LP_ERROR) {
            kind = WRITE_ERR_PARSE;
            col = perr.column;
            snprintf(msg, sizeof(msg), "%s", perr.message);
        } else if ((t = pt.has_time ? pt.time : default_time) < retention_cut) {
            kind = WRITE_ERR_RETENTION;
            snprintf(msg, sizeof(msg),
                     "point is older than the retention period of database \"%.200s\"", db->name);
        } else if (!shape_matches(&p.shape, &pt)) {
            struct cat_table *ct = cat_db_table_get(db, pt.measurement, pt.measurement_len);
            enum resolve res_kind = check_point(ct, &pt, msg, sizeof(msg), &col);
            if (res_kind == NEEDS_SCHEMA) {
                catalog_unlock(cat);
                catalog_wrlock(cat);
                int changed = 0;
                int x = db->deleted ? SL_ENOENT
                                    : extend_schema(cat, db, &pt, msg, sizeof(msg), &col, &changed);
                if (x >= 0 && changed) {
                    int prc = catalog_persist(cat);
                    if (prc < 0) x = prc;
                }
                catalog_unlock(cat);
                catalog_rdlock(cat);
                if (x < 0) {
                    rc = x;
                    break;
                }
                res_kind = (enum resolve)x;
                ct = cat_db_table_get(db, pt.measurement, pt.measurement_len);
            }
            if (res_kind == CONFLICT) {
                kind = strstr(msg, "too many") ? WRITE_ERR_LIMIT : WRITE_ERR_CONFLICT;
            } else {
                if ((rc = shape_record(&p, ct, &pt)) < 0) break;
                if (!p.shape.valid) {
                    kind = WRITE_ERR_LIMIT;
                    snprintf(msg, sizeof(msg), "more than %d tags or fields in one line",
                             SHAPE_MAX);
                }
            }
        }
        if (!kind) {
            if ((rc = prep_add(&p, &pt, t)) < 0) break;
            res->accepted++;
            if (any_rejected && ((rc = sl_buf_add(&filtered, line, line_len)) < 0 ||
                                 (rc = sl_buf_addc(&filtered, '\n')) < 0))
                break;
            continue;
        }
        if ((rc = add_error(res, kind, line_no, col, line, line_len, msg)) < 0) break;
        if (!any_rejected) {
            any_rejected = 1;
            /* everything before this line was accepted (or blank/comment) */
            if ((rc = sl_buf_add(&filtered, req->body, (size_t)(line - req->body))) < 0) break;
            if (filtered.len && filtered.ptr[filtered.len - 1] != '\n' &&
                (rc = sl_buf_addc(&filtered, '\n')) < 0)
                break;
        }
    }
    lp_parser_release(&lp);
    if (rc < 0) goto out;
    if ((req->all_or_nothing == 1 && res->rejected) ||
        (req->all_or_nothing == 2 && res->rejected_by_kind[WRITE_ERR_PARSE])) {
        res->accepted = 0;
        goto out;
    }
    if (res->accepted == 0) goto out;

    const char *text = any_rejected ? filtered.ptr : req->body;
    size_t text_len = any_rejected ? filtered.len : req->len;
    unsigned char hdr[REC_HEADER] = {REC_VERSION, (unsigned char)req->precision, 0, 0};
    put_u32(hdr + 4, db_id);
    put_u64(hdr + 8, (uint64_t)default_time);
    struct iovec iov[2] = {{hdr, sizeof(hdr)}, {(void *)text, text_len}};
    uint64_t lsn = 0;
    uint64_t floor = wal_last_lsn(e->wal) + 1;
    if ((rc = engine_inflight_add(e, floor)) < 0) goto out;
    /* The catalog lock is not held across the sync: schema changes and other
     * writers proceed while this request waits for its group commit. Tables
     * are never freed while the engine is open, so the prepared rows' table
     * pointers stay valid. */
    catalog_unlock(cat);
    rc = wal_appendv(e->wal, iov, 2, !req->no_sync, &lsn);
    catalog_rdlock(cat);
    if (rc < 0) {
        engine_inflight_remove(e, floor);
        res->accepted = 0;
        goto out;
    }
    size_t applied = 0;
    /* a database dropped while this request waited for its sync takes the
     * request's rows with it (replay skips them the same way) */
    rc = db->deleted ? 0 : insert_rows(e, db_id, &p, req->precision, lsn, &applied);
    engine_inflight_remove(e, floor);
    if (buffer_over_limit_soft(&e->buffer)) engine_kick(e);
    if (rc < 0) {
        /* The record is durable and will be applied at the next start; the
         * buffer could not take it now (out of memory). */
        sl_error("engine", "applying WAL record %llu failed: %s", (unsigned long long)lsn,
                 sl_strerror(rc));
        goto out;
    }
    atomic_fetch_add(&e->stats.points_written, applied);
    atomic_fetch_add(&e->stats.bytes_accepted, text_len);
out:
    catalog_unlock(cat);
    atomic_fetch_add(&e->stats.lines_rejected, res->rejected);
    sl_buf_release(&filtered);
    prep_release(&p);
    return rc;
}
