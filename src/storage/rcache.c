/*
 * rcache.c — the cache of idle Parquet readers (rcache.h). A fixed array
 * of slots under one mutex: lookups compare the path and the identity that
 * stat(path) reports now with the one the reader's open file descriptor
 * had when it was cached. A reader is out of the cache while a scan uses
 * it, so readers (which keep per-call state) are never shared.
 */
#include "storage/rcache.h"

#include <pthread.h>
#include <string.h>
#include <sys/stat.h>

#include "common/err.h"
#include "common/mem.h"
#include "common/timeutil.h"
#include "parquet/parquet.h"

struct slot {
    char *path; /* NULL: free */
    struct stat id;
    struct pq_reader *r;
    int64_t used; /* monotonic ns of the release */
};

struct rcache {
    pthread_mutex_t mu;
    size_t cap;
    struct slot *s;
};

static int same_file(const struct stat *a, const struct stat *b)
{
    return a->st_dev == b->st_dev && a->st_ino == b->st_ino && a->st_size == b->st_size &&
           a->st_mtim.tv_sec == b->st_mtim.tv_sec && a->st_mtim.tv_nsec == b->st_mtim.tv_nsec;
}

static void slot_clear(struct slot *sl)
{
    pq_reader_close(sl->r);
    sl_free(sl->path);
    memset(sl, 0, sizeof(*sl));
}

int rcache_new(size_t cap, struct rcache **out)
{
    struct rcache *c = sl_calloc(1, sizeof(*c));
    if (!c) return SL_ENOMEM;
    c->s = sl_calloc(cap ? cap : 1, sizeof(*c->s));
    if (!c->s) {
        sl_free(c);
        return SL_ENOMEM;
    }
    c->cap = cap;
    pthread_mutex_init(&c->mu, NULL);
    *out = c;
    return 0;
}

void rcache_free(struct rcache *c)
{
    if (!c) return;
    for (size_t i = 0; i < c->cap; i++)
        if (c->s[i].path) slot_clear(&c->s[i]);
    pthread_mutex_destroy(&c->mu);
    sl_free(c->s);
    sl_free(c);
}

int rcache_open(struct rcache *c, const char *path, struct pq_reader **out, char *err,
                size_t errlen)
{
    struct stat now;
    if (c && stat(path, &now) == 0) {
        struct pq_reader *hit = NULL;
        pthread_mutex_lock(&c->mu);
        for (size_t i = 0; i < c->cap && !hit; i++) {
            struct slot *sl = &c->s[i];
            if (!sl->path || strcmp(sl->path, path)) continue;
            if (same_file(&sl->id, &now)) {
                hit = sl->r;
                sl->r = NULL;
            }
            /* taken, or a reader of a file the path no longer names */
            slot_clear(sl);
        }
        pthread_mutex_unlock(&c->mu);
        if (hit) {
            *out = hit;
            return 0;
        }
    }
    return pq_reader_open(path, out, err, errlen);
}

void rcache_release(struct rcache *c, const char *path, struct pq_reader *r)
{
    if (!r) return;
    struct stat id;
    if (!c || pq_reader_fstat(r, &id) < 0) {
        pq_reader_close(r);
        return;
    }
    pq_reader_trim(r);
    char *p = sl_strdup(path);
    if (!p) {
        pq_reader_close(r);
        return;
    }
    struct slot old = {0};
    pthread_mutex_lock(&c->mu);
    /* the slot of the same path (one idle reader per path), else a free
     * one, else the least recently used */
    size_t pick = c->cap;
    for (size_t i = 0; i < c->cap && pick == c->cap; i++)
        if (c->s[i].path && !strcmp(c->s[i].path, path)) pick = i;
    for (size_t i = 0; i < c->cap && pick == c->cap; i++)
        if (!c->s[i].path) pick = i;
    if (pick == c->cap && c->cap) {
        pick = 0;
        for (size_t i = 1; i < c->cap; i++)
            if (c->s[i].used < c->s[pick].used) pick = i;
    }
    if (pick < c->cap) {
        old = c->s[pick];
        c->s[pick] = (struct slot){p, id, r, sl_mono_ns()};
        p = NULL;
        r = NULL;
    }
    pthread_mutex_unlock(&c->mu);
    if (old.path) slot_clear(&old);
    sl_free(p);
    pq_reader_close(r);
}

void rcache_sweep(struct rcache *c, int64_t max_idle_ns)
{
    if (!c) return;
    int64_t t = sl_mono_ns();
    pthread_mutex_lock(&c->mu);
    for (size_t i = 0; i < c->cap; i++) {
        struct slot *sl = &c->s[i];
        if (!sl->path) continue;
        struct stat now;
        if (t - sl->used > max_idle_ns || stat(sl->path, &now) != 0 || !same_file(&sl->id, &now))
            slot_clear(sl);
    }
    pthread_mutex_unlock(&c->mu);
}
