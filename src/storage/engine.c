/*
 * engine.c — the storage engine object: open (catalog, orphan cleanup, WAL
 * replay), the background persistence thread, close, database management.
 * The write path itself is in write.c; persistence in persist.c.
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
#include "storage/engine_int.h"
#include "storage/persist.h"
#include "storage/rcache.h"
#include "wal/wal.h"

#define DEFAULT_BUFFER_LIMIT ((size_t)2 << 30)

struct replay_ctx {
    struct engine *e;
    size_t records, applied, skipped;
};

static int replay_cb(void *arg, uint64_t lsn, const void *rec, size_t len)
{
    struct replay_ctx *c = arg;
    c->records++;
    int rc = engine_apply_record(c->e, lsn, rec, len, &c->applied, &c->skipped);
    if (rc == SL_ECORRUPT) {
        sl_warn("engine", "wal record %llu has an unknown layout; skipped",
                (unsigned long long)lsn);
        return 0;
    }
    return rc;
}

/* ---- in-flight writes and the background thread ---- */

int engine_inflight_add(struct engine *e, uint64_t floor)
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

void engine_inflight_remove(struct engine *e, uint64_t floor)
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

/* Idle Parquet readers kept for the next scans, and for how long. */
#define READER_CACHE_SLOTS 64
#define READER_MAX_IDLE_S  60

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
        /* no_sync writes become durable within about a second */
        if (!wal_failed(e->wal)) wal_sync(e->wal);
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
        /* readers of files compaction, retention or DELETE removed go now */
        rcache_sweep(e->readers, READER_MAX_IDLE_S * SL_NS_PER_S);
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
        snprintf(err, errlen, "cannot create data directory %s: %s", o->data_dir, strerror(errno));
        goto fail;
    }
    if ((rc = catalog_open(o->data_dir, &e->catalog, err, errlen)) < 0) goto fail;
    if ((rc = rcache_new(READER_CACHE_SLOTS, &e->readers)) < 0) goto fail;
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
    rcache_free(e->readers);
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
