/*
 * engine.c — the write path and start-up recovery (see engine.h).
 *
 * WAL record payload (little-endian), one per write request:
 *   u8  format version (1)
 *   u8  precision of the timestamps in the text (enum lp_precision)
 *   u16 reserved (0)
 *   u32 database id (catalog id; records of dropped databases are skipped)
 *   i64 default time (ns) for lines without a timestamp
 *   ... line-protocol text of the accepted lines only
 * Storing accepted line protocol rather than a binary encoding keeps records
 * compact (no per-value tags), makes the WAL readable with `strings`, and lets
 * replay reuse the validated parser. Because every schema change is persisted
 * in the catalog before the record that needs it is appended, replaying a
 * record never meets an unknown or conflicting column, except for tables
 * dropped since, whose lines are skipped.
 */
#include "storage/engine.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/uio.h>
#include <time.h>

#include "common/err.h"
#include "common/fsutil.h"
#include "common/log.h"
#include "common/mem.h"
#include "common/timeutil.h"
#include "storage/persist.h"
#include "wal/wal.h"

#define REC_HEADER 16
#define REC_VERSION 1
#define DEFAULT_BUFFER_LIMIT ((size_t)2 << 30)

/* ---- helpers ---- */

static void put_u32(unsigned char *p, uint32_t v)
{
    for (int i = 0; i < 4; i++) p[i] = (unsigned char)(v >> (8 * i));
}

static void put_u64(unsigned char *p, uint64_t v)
{
    for (int i = 0; i < 8; i++) p[i] = (unsigned char)(v >> (8 * i));
}

static uint32_t get_u32(const unsigned char *p)
{
    uint32_t v = 0;
    for (int i = 3; i >= 0; i--) v = v << 8 | p[i];
    return v;
}

static uint64_t get_u64(const unsigned char *p)
{
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--) v = v << 8 | p[i];
    return v;
}

static int add_error(struct write_result *res, enum write_err_kind kind, size_t line,
                     size_t column, const char *raw, size_t raw_len, const char *fmt, ...)
    __attribute__((format(printf, 7, 8)));

static int add_error(struct write_result *res, enum write_err_kind kind, size_t line,
                     size_t column, const char *raw, size_t raw_len, const char *fmt, ...)
{
    res->rejected++;
    res->rejected_by_kind[kind]++;
    if (res->nerrors >= WRITE_MAX_REPORTED_ERRORS) return 0;
    if (!res->errors) {
        res->errors = sl_calloc(WRITE_MAX_REPORTED_ERRORS, sizeof(*res->errors));
        if (!res->errors) return SL_ENOMEM;
    }
    struct write_line_error *e = &res->errors[res->nerrors];
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
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

/* ---- schema resolution ---- */

enum resolve { RESOLVED = 0, NEEDS_SCHEMA = 1, CONFLICT = 2 };

/* Checks a point against table t (catalog lock held). Fills msg on conflict. */
static enum resolve check_point(struct cat_table *t, const struct lp_point *pt, char *msg,
                                size_t msglen, size_t *col_out)
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
                     (int)(tg->key_len > 200 ? 200 : tg->key_len), tg->key,
                     (int)(pt->measurement_len > 200 ? 200 : pt->measurement_len),
                     pt->measurement);
            *col_out = (size_t)(tg->key - pt->raw) + 1;
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
                     (int)(f->key_len > 200 ? 200 : f->key_len), f->key,
                     (int)(pt->measurement_len > 200 ? 200 : pt->measurement_len),
                     pt->measurement);
            *col_out = (size_t)(f->key - pt->raw) + 1;
            return CONFLICT;
        } else if (c->type != f->type) {
            snprintf(msg, msglen,
                     "field type conflict: input field \"%.*s\" on measurement \"%.*s\" is type "
                     "%s, already exists as type %s",
                     (int)(f->key_len > 200 ? 200 : f->key_len), f->key,
                     (int)(pt->measurement_len > 200 ? 200 : pt->measurement_len),
                     pt->measurement, lp_type_name(f->type), lp_type_name(c->type));
            *col_out = (size_t)(f->key - pt->raw) + 1;
            return CONFLICT;
        }
    }
    return r;
}

/* Adds what pt needs to the schema (catalog write lock held). Returns
 * RESOLVED, CONFLICT (msg filled) or a negative error; *changed is set when
 * the catalog must be persisted. */
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
            snprintf(msg, msglen, "too many tables in database \"%s\" (limit %d)", db->name,
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
    snprintf(msg, msglen, "too many columns in measurement \"%s\" (limit %d)", t->name,
             CAT_MAX_COLUMNS_PER_TABLE);
    *col = 1;
    return CONFLICT;
}

/* ---- apply: record text → buffer (live writes and replay) ---- */

struct apply_scratch {
    struct buf_value *vals;
    size_t vals_cap;
    uint32_t *tag_cols;
    size_t tag_cols_cap;
    struct sl_buf key;
};

static void apply_scratch_release(struct apply_scratch *s)
{
    sl_free(s->vals);
    sl_free(s->tag_cols);
    sl_buf_release(&s->key);
}

/* Applies line-protocol text whose lines were all validated. Lines that no
 * longer fit the catalog (dropped tables) are skipped and counted. */
static int apply_text(struct engine *e, uint32_t db_id,
                      enum lp_precision prec, int64_t default_time, const char *text, size_t len,
                      uint64_t lsn, size_t *applied, size_t *skipped)
{
    struct lp_parser p;
    struct lp_parser_opts po = {.precision = prec};
    lp_parser_init(&p, text, len, &po);
    struct apply_scratch s = {0};
    sl_buf_init(&s.key, 0);
    struct lp_point pt;
    struct lp_error perr;
    int rc = 0, r;
    struct buf_table *bt = NULL;
    struct cat_table *ct = NULL;
    catalog_rdlock(e->catalog);
    struct cat_db *db = NULL;
    for (size_t i = 0; i < e->catalog->ndbs; i++)
        if (e->catalog->dbs[i]->id == db_id && !e->catalog->dbs[i]->deleted) db = e->catalog->dbs[i];
    if (!db) {
        catalog_unlock(e->catalog);
        lp_parser_release(&p);
        sl_buf_release(&s.key);
        return 0;
    }
    while ((r = lp_parser_next(&p, &pt, &perr)) != LP_END) {
        if (r < 0) {
            rc = r;
            break;
        }
        if (r == LP_ERROR) {
            (*skipped)++;
            continue;
        }
        if (!ct || strlen(ct->name) != pt.measurement_len ||
            memcmp(ct->name, pt.measurement, pt.measurement_len) != 0) {
            if (bt) pthread_mutex_unlock(&bt->lock);
            bt = NULL;
            ct = cat_db_table_get(db, pt.measurement, pt.measurement_len);
            if (!ct) {
                (*skipped)++;
                continue;
            }
            bt = buffer_table(&e->buffer, db->id, ct->id);
            if (!bt) {
                rc = SL_ENOMEM;
                break;
            }
            pthread_mutex_lock(&bt->lock);
        }
        struct buf_value *vals = sl_grow(s.vals, &s.vals_cap, pt.nfields, sizeof(*vals));
        uint32_t *tcols = sl_grow(s.tag_cols, &s.tag_cols_cap, pt.ntags + 1, sizeof(*tcols));
        if (vals) s.vals = vals;
        if (tcols) s.tag_cols = tcols;
        if (!vals || !tcols) {
            rc = SL_ENOMEM;
            break;
        }
        int ok = 1;
        for (size_t i = 0; i < pt.ntags && ok; i++) {
            struct cat_column *c = cat_table_column_get(ct, pt.tags[i].key, pt.tags[i].key_len);
            if (!c || c->kind != CAT_COL_TAG) ok = 0;
            else tcols[i] = c->id;
        }
        for (size_t i = 0; i < pt.nfields && ok; i++) {
            const struct lp_field *f = &pt.fields[i];
            struct cat_column *c = cat_table_column_get(ct, f->key, f->key_len);
            if (!c || c->kind != CAT_COL_FIELD || c->type != f->type) {
                ok = 0;
                break;
            }
            vals[i].col = c->id;
            vals[i].type = f->type;
            switch (f->type) {
            case LP_FLOAT: vals[i].v.f = f->v.f; break;
            case LP_INTEGER: vals[i].v.i = f->v.i; break;
            case LP_UNSIGNED: vals[i].v.u = f->v.u; break;
            case LP_BOOLEAN: vals[i].v.b = f->v.b; break;
            case LP_STRING:
                vals[i].v.s.ptr = f->v.s.ptr;
                vals[i].v.s.len = f->v.s.len;
                break;
            }
        }
        if (!ok) {
            (*skipped)++;
            continue;
        }
        sl_buf_reset(&s.key);
        if ((rc = lp_series_key(&pt, &s.key)) < 0) break;
        struct buf_row row = {
            .series_key = s.key.ptr,
            .series_key_len = s.key.len,
            .tags = pt.tags,
            .tag_cols = tcols,
            .ntags = pt.ntags,
            .time = pt.has_time ? pt.time : default_time,
            .vals = vals,
            .nvals = pt.nfields,
        };
        if ((rc = buffer_insert_locked(&e->buffer, bt, &row, ct->ncols, lsn)) < 0) break;
        (*applied)++;
    }
    if (bt) pthread_mutex_unlock(&bt->lock);
    catalog_unlock(e->catalog);
    lp_parser_release(&p);
    apply_scratch_release(&s);
    return rc;
}

static int apply_record(struct engine *e, uint64_t lsn, const void *rec, size_t len,
                        size_t *applied, size_t *skipped)
{
    const unsigned char *p = rec;
    if (len < REC_HEADER || p[0] != REC_VERSION || p[1] > LP_PREC_AUTO) return SL_ECORRUPT;
    uint32_t db_id = get_u32(p + 4);
    int64_t def = (int64_t)get_u64(p + 8);
    return apply_text(e, db_id, (enum lp_precision)p[1], def, (const char *)p + REC_HEADER,
                      len - REC_HEADER, lsn, applied, skipped);
}

struct replay_ctx {
    struct engine *e;
    size_t records, applied, skipped;
};

static int replay_cb(void *arg, uint64_t lsn, const void *rec, size_t len)
{
    struct replay_ctx *c = arg;
    c->records++;
    int rc = apply_record(c->e, lsn, rec, len, &c->applied, &c->skipped);
    if (rc == SL_ECORRUPT) {
        sl_warn("engine", "wal record %llu has an unknown layout; skipped",
                (unsigned long long)lsn);
        return 0;
    }
    return rc;
}

/* ---- in-flight writes and the background thread ---- */

static int inflight_add(struct engine *e, uint64_t floor)
{
    pthread_mutex_lock(&e->inflight_mu);
    uint64_t *v = sl_grow(e->inflight, &e->inflight_cap, e->ninflight + 1, sizeof(*v));
    if (v) {
        e->inflight = v;
        e->inflight[e->ninflight++] = floor;
    }
    pthread_mutex_unlock(&e->inflight_mu);
    return v ? 0 : SL_ENOMEM;
}

static void inflight_remove(struct engine *e, uint64_t floor)
{
    pthread_mutex_lock(&e->inflight_mu);
    for (size_t i = 0; i < e->ninflight; i++) {
        if (e->inflight[i] == floor) {
            e->inflight[i] = e->inflight[--e->ninflight];
            break;
        }
    }
    pthread_mutex_unlock(&e->inflight_mu);
}

uint64_t engine_inflight_floor(struct engine *e)
{
    uint64_t m = UINT64_MAX;
    pthread_mutex_lock(&e->inflight_mu);
    for (size_t i = 0; i < e->ninflight; i++)
        if (e->inflight[i] < m) m = e->inflight[i];
    pthread_mutex_unlock(&e->inflight_mu);
    return m;
}

void engine_kick(struct engine *e)
{
    pthread_mutex_lock(&e->bg_mu);
    e->bg_kick = 1;
    pthread_cond_signal(&e->bg_cv);
    pthread_mutex_unlock(&e->bg_mu);
}

static void *bg_main(void *arg)
{
    struct engine *e = arg;
    int64_t last_compact = sl_mono_ns(), last_retention = 0;
    pthread_mutex_lock(&e->bg_mu);
    while (!e->bg_stop) {
        if (!e->bg_kick) {
            struct timespec ts;
            clock_gettime(CLOCK_REALTIME, &ts);
            ts.tv_sec += 1;
            pthread_cond_timedwait(&e->bg_cv, &e->bg_mu, &ts);
        }
        if (e->bg_stop) break;
        e->bg_kick = 0;
        pthread_mutex_unlock(&e->bg_mu);
        int rc = storage_persist(e, 0);
        if (rc < 0) sl_warn("persist", "persistence failed: %s", sl_strerror(rc));
        int64_t now = sl_mono_ns();
        if (now - last_compact > 10 * SL_NS_PER_S) {
            last_compact = now;
            if ((rc = storage_compact(e, COMPACT_MIN_FILES)) < 0)
                sl_warn("compact", "compaction failed: %s", sl_strerror(rc));
        }
        if (now - last_retention > 60 * SL_NS_PER_S) {
            last_retention = now;
            storage_enforce_retention(e, sl_now_ns());
        }
        pthread_mutex_lock(&e->bg_mu);
    }
    pthread_mutex_unlock(&e->bg_mu);
    return NULL;
}

/* ---- open/close ---- */

int engine_open(const struct engine_opts *o, struct engine **out, char *err, size_t errlen)
{
    struct engine *e = sl_calloc(1, sizeof(*e));
    if (!e) return SL_ENOMEM;
    e->opts = *o;
    e->started_ns = sl_now_ns();
    e->data_dir = sl_strdup(o->data_dir);
    pthread_mutex_init(&e->persist_lock, NULL);
    pthread_mutex_init(&e->bg_mu, NULL);
    pthread_cond_init(&e->bg_cv, NULL);
    pthread_mutex_init(&e->inflight_mu, NULL);
    buffer_init(&e->buffer, o->buffer_limit ? o->buffer_limit : DEFAULT_BUFFER_LIMIT);
    int rc;
    if (!e->data_dir) {
        rc = SL_ENOMEM;
        goto fail;
    }
    if ((rc = sl_mkdirs(o->data_dir, 0)) < 0) {
        snprintf(err, errlen, "cannot create data directory %s: %s", o->data_dir,
                 strerror(errno));
        goto fail;
    }
    if ((rc = catalog_open(o->data_dir, &e->catalog, err, errlen)) < 0) goto fail;
    storage_cleanup_orphans(e);
    char waldir[4096];
    snprintf(waldir, sizeof(waldir), "%s/wal", o->data_dir);
    struct wal_opts wo = {
        .dir = waldir, .segment_bytes = o->wal_segment_bytes, .skip_corrupt = o->skip_corrupt_wal};
    if ((rc = wal_open(&wo, &e->wal)) < 0) {
        snprintf(err, errlen, "cannot open the WAL in %s: %s", waldir, sl_strerror(rc));
        goto fail;
    }
    int64_t t0 = sl_mono_ns();
    struct replay_ctx rc_ctx = {.e = e};
    if ((rc = wal_replay(e->wal, replay_cb, &rc_ctx)) < 0) {
        snprintf(err, errlen, "WAL replay failed: %s%s%s", sl_strerror(rc),
                 wal_last_error(e->wal) ? ": " : "",
                 wal_last_error(e->wal) ? wal_last_error(e->wal) : "");
        goto fail;
    }
    atomic_store(&e->stats.replayed_records, rc_ctx.records);
    sl_info("engine", "replayed %zu WAL records (%zu points, %zu skipped) in %.3f s",
            rc_ctx.records, rc_ctx.applied, rc_ctx.skipped, (sl_mono_ns() - t0) / 1e9);
    if (pthread_create(&e->bg, NULL, bg_main, e) != 0) {
        snprintf(err, errlen, "cannot start the persistence thread");
        rc = SL_ENOMEM;
        goto fail;
    }
    e->bg_running = 1;
    *out = e;
    return 0;
fail:
    engine_close(e);
    return rc;
}

void engine_close(struct engine *e)
{
    if (!e) return;
    if (e->bg_running) {
        pthread_mutex_lock(&e->bg_mu);
        e->bg_stop = 1;
        pthread_cond_signal(&e->bg_cv);
        pthread_mutex_unlock(&e->bg_mu);
        pthread_join(e->bg, NULL);
        /* a clean shutdown persists everything, so the next start replays nothing */
        if (!wal_failed(e->wal) && storage_persist(e, 1) < 0)
            sl_warn("engine", "final persistence failed; the WAL will be replayed at start");
    }
    if (e->wal) wal_close(e->wal);
    buffer_release(&e->buffer);
    if (e->catalog) catalog_close(e->catalog);
    sl_free(e->data_dir);
    sl_free(e->inflight);
    pthread_mutex_destroy(&e->persist_lock);
    pthread_mutex_destroy(&e->bg_mu);
    pthread_cond_destroy(&e->bg_cv);
    pthread_mutex_destroy(&e->inflight_mu);
    sl_free(e);
}

/* ---- the write path ---- */

static int64_t truncate_time(int64_t ns, enum lp_precision p)
{
    int64_t unit = lp_precision_ns(p);
    if (unit <= 1) return ns;
    return ns - ns % unit;
}

int engine_write(struct engine *e, const struct write_req *req, struct write_result *res)
{
    memset(res, 0, sizeof(*res));
    atomic_fetch_add(&e->stats.write_requests, 1);
    if (wal_failed(e->wal)) return SL_ESTATE;
    if (buffer_over_limit(&e->buffer)) {
        atomic_fetch_add(&e->stats.overload_rejections, 1);
        return SL_EBUSY;
    }
    if (catalog_name_invalid(req->db, req->db_len)) return SL_EINVAL;

    struct catalog *cat = e->catalog;
    catalog_rdlock(cat);
    struct cat_db *db = catalog_db_get(cat, req->db, req->db_len);
    if (!db) {
        catalog_unlock(cat);
        if (!req->may_create_db || e->opts.no_auto_create) return SL_ENOENT;
        catalog_wrlock(cat);
        db = catalog_db_get(cat, req->db, req->db_len);
        if (!db) {
            int rc = catalog_db_create(cat, req->db, req->db_len, 0, &db);
            if (rc < 0) {
                catalog_unlock(cat);
                return rc == SL_EEXIST ? SL_EAGAIN : rc;
            }
            res->db_created = 1;
        }
        catalog_unlock(cat);
        catalog_rdlock(cat);
        db = catalog_db_get(cat, req->db, req->db_len);
        if (!db) {
            catalog_unlock(cat);
            return SL_ENOENT; /* dropped concurrently */
        }
    }
    uint32_t db_id = db->id;
    int64_t retention_cut = db->retention_ns ? req->now_ns - db->retention_ns : INT64_MIN;
    int64_t default_time = truncate_time(req->now_ns, req->precision);

    struct lp_parser p;
    struct lp_parser_opts po = {.precision = req->precision};
    lp_parser_init(&p, req->body, req->len, &po);
    struct lp_point pt;
    struct lp_error perr;
    struct sl_buf filtered = SL_BUF_INIT; /* accepted lines, once a line was rejected */
    sl_buf_init(&filtered, 0);
    int any_rejected = 0, rc = 0, r;
    struct cat_table *ct = NULL;
    char msg[512];
    while ((r = lp_parser_next(&p, &pt, &perr)) != LP_END) {
        if (r < 0) {
            rc = r;
            break;
        }
        const char *line_start = r == LP_POINT ? pt.raw : perr.raw;
        size_t line_len = r == LP_POINT ? pt.raw_len : perr.raw_len;
        enum write_err_kind kind = 0;
        size_t col = 1;
        if (r == LP_ERROR) {
            kind = WRITE_ERR_PARSE;
            col = perr.column;
            snprintf(msg, sizeof(msg), "%s", perr.message);
        } else {
            int64_t t = pt.has_time ? pt.time : default_time;
            if (t < retention_cut) {
                kind = WRITE_ERR_RETENTION;
                snprintf(msg, sizeof(msg),
                         "point is older than the retention period of database \"%s\"",
                         db->name);
            } else {
                if (!ct || strlen(ct->name) != pt.measurement_len ||
                    memcmp(ct->name, pt.measurement, pt.measurement_len) != 0)
                    ct = cat_db_table_get(db, pt.measurement, pt.measurement_len);
                enum resolve res_kind = check_point(ct, &pt, msg, sizeof(msg), &col);
                if (res_kind == NEEDS_SCHEMA) {
                    catalog_unlock(cat);
                    catalog_wrlock(cat);
                    int changed = 0;
                    int x = db->deleted ? SL_ENOENT
                                        : extend_schema(cat, db, &pt, msg, sizeof(msg), &col,
                                                        &changed);
                    if (x >= 0 && changed) {
                        int prc = catalog_persist(cat);
                        if (prc < 0) x = prc;
                    }
                    catalog_unlock(cat);
                    catalog_rdlock(cat);
                    ct = NULL;
                    if (x < 0) {
                        rc = x;
                        break;
                    }
                    res_kind = (enum resolve)x;
                }
                if (res_kind == CONFLICT)
                    kind = strstr(msg, "too many") ? WRITE_ERR_LIMIT : WRITE_ERR_CONFLICT;
            }
        }
        if (!kind) {
            res->accepted++;
            if (any_rejected) {
                if ((rc = sl_buf_add(&filtered, line_start, line_len)) < 0 ||
                    (rc = sl_buf_addc(&filtered, '\n')) < 0)
                    break;
            }
            continue;
        }
        if ((rc = add_error(res, kind, r == LP_POINT ? pt.line : perr.line, col, line_start,
                            line_len, "%s", msg)) < 0)
            break;
        if (!any_rejected) {
            any_rejected = 1;
            /* everything before this line was accepted (or blank/comment) */
            if ((rc = sl_buf_add(&filtered, req->body, (size_t)(line_start - req->body))) < 0)
                break;
            if (filtered.len && filtered.ptr[filtered.len - 1] != '\n' &&
                (rc = sl_buf_addc(&filtered, '\n')) < 0)
                break;
        }
    }
    catalog_unlock(cat);
    lp_parser_release(&p);
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
    if ((rc = inflight_add(e, floor)) < 0) goto out;
    if ((rc = wal_appendv(e->wal, iov, 2, !req->no_sync, &lsn)) < 0) {
        inflight_remove(e, floor);
        res->accepted = 0;
        goto out;
    }
    size_t applied = 0, skipped = 0;
    rc = apply_text(e, db_id, req->precision, default_time, text, text_len, lsn, &applied,
                    &skipped);
    inflight_remove(e, floor);
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
    atomic_fetch_add(&e->stats.lines_rejected, res->rejected);
    sl_buf_release(&filtered);
    return rc;
}

int engine_db_create(struct engine *e, const char *name, size_t len, int64_t retention_ns)
{
    catalog_wrlock(e->catalog);
    int rc = catalog_db_create(e->catalog, name, len, retention_ns, NULL);
    catalog_unlock(e->catalog);
    return rc;
}

int engine_db_drop(struct engine *e, const char *name, size_t len)
{
    /* no persistence may hold pointers into the buffer tables being dropped */
    pthread_mutex_lock(&e->persist_lock);
    catalog_wrlock(e->catalog);
    struct cat_db *db = catalog_db_get(e->catalog, name, len);
    int rc = db ? catalog_db_drop(e->catalog, db) : SL_ENOENT;
    uint32_t id = db ? db->id : 0;
    catalog_unlock(e->catalog);
    if (rc == 0) {
        buffer_drop(&e->buffer, id, 0);
        struct sl_buf rel;
        sl_buf_init(&rel, 0);
        storage_db_relpath(db->name, &rel);
        char abs[4200];
        snprintf(abs, sizeof(abs), "%s/%s", e->data_dir, rel.ptr);
        sl_remove_tree(abs);
        sl_buf_release(&rel);
    }
    pthread_mutex_unlock(&e->persist_lock);
    return rc;
}

int engine_failed(struct engine *e)
{
    return wal_failed(e->wal);
}
