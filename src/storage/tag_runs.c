/*
 * tag_runs.c — a process-wide cache of the runs of equal values of tag
 * columns in Parquet row groups, for tag-filtered scans (tag_runs.h).
 *
 * Data files are sorted by series key, so a tag column is a short list of
 * runs (one per series or fewer), but its values are spread over every page:
 * a filter like hostname = 'host_249' otherwise decompresses and scans the
 * dictionary indices of the whole column chunk on every query. The first
 * filter on a chunk decodes it once and keeps its runs (start row, length,
 * value); later filters walk the runs only.
 *
 * Files are immutable; an entry is keyed by the file's path, inode, size and
 * modification time, so a rewritten or re-created file never meets a stale
 * entry. Chunks with many runs (more than one per RUNS_MIN_ROWS rows) are
 * remembered as "not worth it" and filtered by the Parquet reader as before.
 * Memory is bounded by TAG_RUNS_MAX_BYTES; when an insertion would exceed it
 * the cache is emptied (simple, and the working set is rebuilt on demand).
 */
#include "storage/tag_runs.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "common/err.h"
#include "common/hash.h"
#include "common/mem.h"

#define TAG_RUNS_MAX_BYTES ((size_t)64 << 20)
#define RUNS_MIN_ROWS      8 /* a run per this many rows at most, or not cached */
#define NBUCKETS           4096

struct run {
    uint32_t start, len;
    uint32_t voff, vlen; /* value in the entry's blob; vlen UINT32_MAX = NULL */
};

struct entry {
    struct entry *next;
    char *path;
    uint64_t ino, size;
    int64_t mtime_ns;
    uint32_t rg, col;
    int useless; /* too many runs: use the reader's filter */
    struct run *runs;
    size_t nruns;
    char *blob;
    size_t bytes;
};

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static struct entry *buckets[NBUCKETS];
static size_t total_bytes;

static void entry_free(struct entry *e)
{
    sl_free(e->path);
    sl_free(e->runs);
    sl_free(e->blob);
    sl_free(e);
}

static void clear_locked(void)
{
    for (size_t b = 0; b < NBUCKETS; b++) {
        struct entry *e = buckets[b];
        while (e) {
            struct entry *n = e->next;
            entry_free(e);
            e = n;
        }
        buckets[b] = NULL;
    }
    total_bytes = 0;
}

void tag_runs_clear(void)
{
    pthread_mutex_lock(&mu);
    clear_locked();
    pthread_mutex_unlock(&mu);
}

static size_t bucket_of(const char *path, size_t rg, size_t col)
{
    uint64_t h = sl_hash64(path, strlen(path), rg * 0x9e3779b97f4a7c15ULL + col);
    return (size_t)(h % NBUCKETS);
}

static struct entry *find_locked(const char *path, const struct stat *st, size_t rg, size_t col)
{
    for (struct entry *e = buckets[bucket_of(path, rg, col)]; e; e = e->next)
        if (e->rg == rg && e->col == col && e->ino == (uint64_t)st->st_ino &&
            e->size == (uint64_t)st->st_size &&
            e->mtime_ns == (int64_t)st->st_mtim.tv_sec * 1000000000 + st->st_mtim.tv_nsec &&
            strcmp(e->path, path) == 0)
            return e;
    return NULL;
}

static int same_value(const struct pq_column_buf *b, size_t i, size_t j)
{
    int vi = !b->valid || b->valid[i], vj = !b->valid || b->valid[j];
    if (vi != vj) return 0;
    if (!vi) return 1;
    const struct pq_str *v = b->values;
    if (v[i].len != v[j].len) return 0;
    return v[i].ptr == v[j].ptr || memcmp(v[i].ptr, v[j].ptr, v[i].len) == 0;
}

/* Decodes the chunk and builds its entry (NULL on failure: rc set). */
static struct entry *build(struct pq_reader *r, const char *path, const struct stat *st, size_t rg,
                           size_t col, int *rc)
{
    struct pq_column_buf b = PQ_COLUMN_BUF_INIT;
    struct entry *e = sl_calloc(1, sizeof(*e));
    *rc = SL_ENOMEM;
    if (!e) return NULL;
    e->path = sl_strdup(path);
    e->ino = (uint64_t)st->st_ino;
    e->size = (uint64_t)st->st_size;
    e->mtime_ns = (int64_t)st->st_mtim.tv_sec * 1000000000 + st->st_mtim.tv_nsec;
    e->rg = (uint32_t)rg;
    e->col = (uint32_t)col;
    if (!e->path) goto fail;
    if ((*rc = pq_reader_read_column(r, rg, col, &b)) < 0) goto fail;
    *rc = SL_ECORRUPT;
    if (b.type != PQ_STRING || (b.nrows && !b.values) || b.nrows > UINT32_MAX) goto fail;
    size_t n = b.nrows, nruns = 0, vbytes = 0;
    for (size_t i = 0; i < n; i++)
        if (i == 0 || !same_value(&b, i, i - 1)) {
            nruns++;
            if (!b.valid || b.valid[i]) vbytes += ((const struct pq_str *)b.values)[i].len;
        }
    if (nruns * RUNS_MIN_ROWS > n || vbytes > UINT32_MAX) {
        e->useless = 1;
    } else {
        *rc = SL_ENOMEM;
        e->runs = sl_malloc((nruns ? nruns : 1) * sizeof(*e->runs));
        e->blob = sl_malloc(vbytes ? vbytes : 1);
        if (!e->runs || !e->blob) goto fail;
        const struct pq_str *v = b.values;
        size_t k = 0, off = 0;
        for (size_t i = 0; i < n; i++) {
            if (i && same_value(&b, i, i - 1)) {
                e->runs[k - 1].len++;
                continue;
            }
            struct run *ru = &e->runs[k++];
            ru->start = (uint32_t)i;
            ru->len = 1;
            if (b.valid && !b.valid[i]) {
                ru->voff = 0;
                ru->vlen = UINT32_MAX;
            } else {
                memcpy(e->blob + off, v[i].ptr, v[i].len);
                ru->voff = (uint32_t)off;
                ru->vlen = v[i].len;
                off += v[i].len;
            }
        }
        e->nruns = nruns;
        e->bytes = nruns * sizeof(*e->runs) + vbytes;
    }
    e->bytes += sizeof(*e) + strlen(path) + 1;
    pq_column_buf_release(&b);
    *rc = 0;
    return e;
fail:
    pq_column_buf_release(&b);
    entry_free(e);
    return NULL;
}

static int run_matches(const struct entry *e, const struct run *ru, const struct pq_str *vals,
                       size_t nvals)
{
    if (ru->vlen == UINT32_MAX) return 0; /* NULL never matches */
    for (size_t v = 0; v < nvals; v++)
        if (vals[v].len == ru->vlen && memcmp(vals[v].ptr, e->blob + ru->voff, ru->vlen) == 0)
            return 1;
    return 0;
}

/* The filter over the runs (mu held). */
static void filter_runs(const struct entry *e, const struct pq_str *vals, size_t nvals,
                        const uint32_t *in, size_t nin, uint32_t *out, size_t *nout)
{
    size_t m = 0, j = 0;
    for (size_t k = 0; k < e->nruns; k++) {
        const struct run *ru = &e->runs[k];
        if (in && j >= nin) break;
        if (!run_matches(e, ru, vals, nvals)) continue;
        uint32_t lo = ru->start, hi = ru->start + ru->len;
        if (!in) {
            for (uint32_t x = lo; x < hi; x++)
                out[m++] = x;
            continue;
        }
        while (j < nin && in[j] < lo)
            j++;
        while (j < nin && in[j] < hi)
            out[m++] = in[j++];
    }
    *nout = m;
}

int tag_runs_filter(const char *path, struct pq_reader *r, size_t rg, size_t col,
                    const struct pq_str *vals, size_t nvals, const uint32_t *in, size_t nin,
                    uint32_t *out, size_t *nout)
{
    struct stat st;
    if (stat(path, &st) != 0)
        return pq_reader_filter_str(r, rg, col, vals, nvals, in, nin, out, nout);
    pthread_mutex_lock(&mu);
    struct entry *e = find_locked(path, &st, rg, col);
    if (e && !e->useless) {
        filter_runs(e, vals, nvals, in, nin, out, nout);
        pthread_mutex_unlock(&mu);
        return 0;
    }
    pthread_mutex_unlock(&mu);
    if (e) return pq_reader_filter_str(r, rg, col, vals, nvals, in, nin, out, nout);
    /* miss: decode outside the lock, then publish (a racing builder's copy
     * is dropped) */
    int rc;
    struct entry *ne = build(r, path, &st, rg, col, &rc);
    if (!ne)
        return rc == SL_ENOMEM ? pq_reader_filter_str(r, rg, col, vals, nvals, in, nin, out, nout)
                               : rc;
    pthread_mutex_lock(&mu);
    if (find_locked(path, &st, rg, col)) {
        entry_free(ne);
        ne = find_locked(path, &st, rg, col);
    } else {
        if (total_bytes + ne->bytes > TAG_RUNS_MAX_BYTES) clear_locked();
        size_t b = bucket_of(path, rg, col);
        ne->next = buckets[b];
        buckets[b] = ne;
        total_bytes += ne->bytes;
    }
    if (!ne->useless) {
        filter_runs(ne, vals, nvals, in, nin, out, nout);
        pthread_mutex_unlock(&mu);
        return 0;
    }
    pthread_mutex_unlock(&mu);
    return pq_reader_filter_str(r, rg, col, vals, nvals, in, nin, out, nout);
}
