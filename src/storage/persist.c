/*
 * persist.c — turning buffered partitions into Parquet files, compacting a
 * partition's files, dropping expired files, and trimming the WAL.
 *
 * Persistence of one partition (crash-safe at every step):
 *   1. under the table lock, seal the partition: it leaves the active list
 *      (new rows for its window start a fresh partition) but stays readable;
 *   2. snapshot it (sorted by series key then time, deduplicated) and write
 *      dbs/<db>/<table>/<YYYY-MM-DD>/<HH-MM>-<seq>.parquet.tmp, fsync,
 *      rename to .parquet, fsync the directory (pq_writer_commit);
 *   3. under the catalog write lock, register the file and persist the
 *      catalog atomically — from here on the file is live;
 *   4. drop the sealed partition from memory;
 *   5. trim the WAL to the oldest LSN still only in memory.
 * A crash before 3 leaves an unregistered file, which start-up deletes
 * (storage_cleanup_orphans); a crash after 3 replays WAL records whose rows
 * are already in the file, and read-time deduplication makes that harmless.
 *
 * Compaction merges all files of a partition into one (newest wins per
 * field), registers the new file and unregisters the old ones in one catalog
 * update, and only then deletes the old files.
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "common/err.h"
#include "common/fsutil.h"
#include "common/log.h"
#include "common/mem.h"
#include "common/timeutil.h"
#include "parquet/parquet.h"
#include "storage/engine.h"
#include "storage/persist.h"
#include "storage/scan.h"
#include "wal/wal.h"

/* Escapes a database or table name for use as one path component. */
static void path_escape(struct sl_buf *b, const char *s)
{
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        int keep = (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
                   (*p >= '0' && *p <= '9') || *p == '_' || *p == '-' ||
                   (*p == '.' && p != (const unsigned char *)s);
        if (keep) sl_buf_addc(b, (char)*p);
        else sl_buf_addf(b, "%%%02X", *p);
    }
}

void storage_db_relpath(const char *db, struct sl_buf *out)
{
    sl_buf_adds(out, "dbs/");
    path_escape(out, db);
}

/* Relative path of a new file: dbs/<db>/<table>/<YYYY-MM-DD>/<HH-MM>-<seq>.parquet */
static int file_relpath(const struct cat_db *db, const struct cat_table *t, int64_t part_start,
                        uint32_t seq, struct sl_buf *out)
{
    time_t secs = (time_t)(part_start / SL_NS_PER_S - (part_start % SL_NS_PER_S < 0));
    struct tm tm;
    gmtime_r(&secs, &tm);
    sl_buf_adds(out, "dbs/");
    path_escape(out, db->name);
    sl_buf_addc(out, '/');
    path_escape(out, t->name);
    return sl_buf_addf(out, "/%04d-%02d-%02d/%02d-%02d-%06u.parquet", tm.tm_year + 1900,
                       tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, seq);
}

/* ---- writing a merged chunk as a Parquet file ---- */

struct write_ctx {
    struct engine *e;
    const char *path; /* absolute, final */
    uint64_t rows;
    int64_t min_time, max_time;
    int written;
};

static enum pq_ctype pq_type_of(const struct cat_column *c)
{
    if (c->kind == CAT_COL_TAG) return PQ_STRING;
    switch (c->type) {
    case LP_FLOAT: return PQ_DOUBLE;
    case LP_INTEGER: return PQ_INT64;
    case LP_UNSIGNED: return PQ_UINT64;
    case LP_BOOLEAN: return PQ_BOOL;
    case LP_STRING: return PQ_STRING;
    }
    return PQ_STRING;
}

static int name_cmp(const void *a, const void *b, void *arg)
{
    const struct cat_table *t = arg;
    return strcmp(t->cols[*(const uint32_t *)a].name, t->cols[*(const uint32_t *)b].name);
}

/* Writes chunk c (already sorted and deduplicated) to ctx->path. */
static int write_chunk(void *arg, const struct cat_table *t, const struct scan_chunk *c)
{
    struct write_ctx *w = arg;
    size_t ncols = 0;
    uint32_t *order = sl_malloc((c->ncols + 1) * sizeof(*order));
    struct pq_column_spec *spec = sl_calloc(c->ncols + 1, sizeof(*spec));
    struct pq_column_data *data = sl_calloc(c->ncols + 1, sizeof(*data));
    struct pq_str **strs = sl_calloc(c->ncols + 1, sizeof(*strs));
    struct sl_buf tags, fields;
    sl_buf_init(&tags, 0);
    sl_buf_init(&fields, 0);
    int rc = SL_ENOMEM;
    struct pq_writer *pw = NULL;
    if (!order || !spec || !data || !strs) goto out;
    /* tags sorted by name, then time, then fields in catalog order */
    size_t ntags = 0;
    for (size_t i = 1; i < c->ncols && i < t->ncols; i++)
        if (c->cols[i].present && t->cols[i].kind == CAT_COL_TAG) order[ntags++] = (uint32_t)i;
    qsort_r(order, ntags, sizeof(*order), name_cmp, (void *)t);
    order[ntags] = 0;
    ncols = ntags + 1;
    for (size_t i = 1; i < c->ncols && i < t->ncols; i++)
        if (c->cols[i].present && t->cols[i].kind == CAT_COL_FIELD) order[ncols++] = (uint32_t)i;
    sl_buf_addc(&tags, '[');
    sl_buf_addc(&fields, '[');
    for (size_t k = 0; k < ncols; k++) {
        uint32_t id = order[k];
        const struct cat_column *col = &t->cols[id];
        spec[k].name = col->name;
        if (id == 0) {
            spec[k].type = PQ_TIME_NS;
            data[k].values = c->time;
            continue;
        }
        spec[k].type = pq_type_of(col);
        spec[k].nullable = 1;
        spec[k].dictionary = col->kind == CAT_COL_TAG;
        struct sl_buf *list = col->kind == CAT_COL_TAG ? &tags : &fields;
        if (list->len > 1) sl_buf_addc(list, ',');
        sl_buf_add_json_str(list, col->name, strlen(col->name));
        const struct buf_col *bc = &c->cols[id];
        data[k].valid = bc->valid;
        if (bc->type == LP_STRING) {
            strs[k] = sl_malloc((c->nrows ? c->nrows : 1) * sizeof(struct pq_str));
            if (!strs[k]) goto out;
            for (size_t r = 0; r < c->nrows; r++) {
                strs[k][r].ptr = bc->valid[r] ? bc->v.s[r].ptr : "";
                strs[k][r].len = bc->valid[r] ? bc->v.s[r].len : 0;
            }
            data[k].values = strs[k];
        } else {
            data[k].values = bc->v.f;
        }
    }
    sl_buf_addc(&tags, ']');
    sl_buf_addc(&fields, ']');
    char lsn[32];
    snprintf(lsn, sizeof(lsn), "%d", 1);
    struct sl_buf sort;
    sl_buf_init(&sort, 0);
    for (size_t k = 0; k < ntags; k++) sl_buf_addf(&sort, "%s,", t->cols[order[k]].name);
    sl_buf_adds(&sort, "time");
    struct pq_kv kv[] = {
        {"sluice.table", t->name},
        {"sluice.database", t->db->name},
        {"sluice.tags", tags.ptr},
        {"sluice.fields", fields.ptr},
        {"sluice.sort_key", sort.ptr},
        {"sluice.format_version", lsn},
    };
    size_t sort_cols[CAT_MAX_COLUMNS_PER_TABLE + 1];
    for (size_t k = 0; k <= ntags; k++) sort_cols[k] = k;
    struct pq_writer_opts po = {
        .codec = PQ_CODEC_ZSTD,
        .row_group_rows = 100000,
        .kv = kv,
        .nkv = sizeof(kv) / sizeof(kv[0]),
        .sort_cols = sort_cols,
        .nsort = ntags + 1,
    };
    char tmp[4200];
    snprintf(tmp, sizeof(tmp), "%s.tmp", w->path);
    rc = pq_writer_open(tmp, spec, ncols, &po, &pw);
    if (rc == 0) rc = pq_writer_write(pw, data, c->nrows);
    if (rc == 0) {
        rc = pq_writer_commit(pw, w->path);
        pw = NULL;
    }
    sl_buf_release(&sort);
    if (rc == 0) {
        w->written = 1;
        w->rows = c->nrows;
        w->min_time = INT64_MAX;
        w->max_time = INT64_MIN;
        for (size_t r = 0; r < c->nrows; r++) {
            if (c->time[r] < w->min_time) w->min_time = c->time[r];
            if (c->time[r] > w->max_time) w->max_time = c->time[r];
        }
    }
out:
    if (pw) pq_writer_abort(pw);
    for (size_t k = 0; strs && k <= c->ncols; k++) sl_free(strs[k]);
    sl_free(strs);
    sl_free(order);
    sl_free(spec);
    sl_free(data);
    sl_buf_release(&tags);
    sl_buf_release(&fields);
    return rc;
}

/* ---- persistence of one sealed partition ---- */

/* Merges one buffer partition into a chunk: reuse the scan machinery by
 * scanning only this partition with a filter on source. Simplest: snapshot
 * and convert here. */
static int persist_part(struct engine *e, struct cat_db *db, struct cat_table *t,
                        struct buf_table *bt, struct buf_part *p)
{
    char rel_err[64];
    (void)rel_err;
    struct sl_buf rel;
    sl_buf_init(&rel, 0);
    catalog_rdlock(e->catalog);
    uint32_t seq = t->next_seq++; /* reserved; a racing persist takes the next */
    file_relpath(db, t, p->start, seq, &rel);
    catalog_unlock(e->catalog);
    char abs[4200], dir[4200];
    snprintf(abs, sizeof(abs), "%s/%s", e->data_dir, rel.ptr);
    snprintf(dir, sizeof(dir), "%s", abs);
    char *slash = strrchr(dir, '/');
    if (slash) *slash = '\0';
    int rc = sl_mkdirs(dir, 0);
    if (rc < 0) {
        sl_error("persist", "cannot create %s: %s", dir, strerror(errno));
        sl_buf_release(&rel);
        return rc;
    }
    /* snapshot + tag expansion, as a scan of this one partition would do */
    struct buf_snapshot snap;
    catalog_rdlock(e->catalog);
    pthread_mutex_lock(&bt->lock);
    rc = buffer_snapshot_part(bt, p, INT64_MIN, INT64_MAX, &snap);
    size_t ncols = t->ncols;
    struct scan_chunk ch = {.part_start = p->start, .nrows = snap.nrows, .time = snap.time,
                            .ncols = ncols};
    ch.cols = rc == 0 ? sl_calloc(ncols ? ncols : 1, sizeof(*ch.cols)) : NULL;
    if (rc == 0 && !ch.cols) rc = SL_ENOMEM;
    for (size_t c = 0; rc == 0 && c < ncols && c < snap.ncols; c++) ch.cols[c] = snap.cols[c];
    for (size_t r = 0; rc == 0 && r < snap.nrows; r++) {
        const struct buf_series *se = &bt->series[snap.sid[r]];
        for (uint32_t i = 0; i < se->ntags; i++) {
            uint32_t c = se->tag_cols[i];
            if (c >= ncols) continue;
            struct buf_col *col = &ch.cols[c];
            if (!col->present) {
                col->present = 1;
                col->type = LP_STRING;
                col->v.s = sl_calloc(snap.nrows, sizeof(struct buf_str));
                col->valid = sl_calloc(snap.nrows, 1);
                if (!col->v.s || !col->valid) {
                    rc = SL_ENOMEM;
                    break;
                }
            }
            col->v.s[r].ptr = se->tag_vals[i]; /* series are never freed while the table lives */
            col->v.s[r].len = (uint32_t)strlen(se->tag_vals[i]);
            col->valid[r] = 1;
        }
    }
    pthread_mutex_unlock(&bt->lock);
    struct write_ctx w = {.e = e, .path = abs};
    if (rc == 0 && snap.nrows) rc = write_chunk(&w, t, &ch);
    catalog_unlock(e->catalog);
    for (size_t c = 0; ch.cols && c < ncols; c++)
        if (ch.cols[c].present && t->cols[c].kind == CAT_COL_TAG) {
            sl_free(ch.cols[c].v.s);
            sl_free(ch.cols[c].valid);
        }
    sl_free(ch.cols);
    uint64_t max_lsn = snap.max_lsn;
    buffer_snapshot_release(&snap);
    if (rc < 0) {
        sl_error("persist", "writing %s failed: %s", abs, sl_strerror(rc));
        sl_buf_release(&rel);
        return rc;
    }
    if (w.written) {
        struct stat st;
        struct cat_file f = {
            .path = rel.ptr,
            .part_start = p->start,
            .min_time = w.min_time,
            .max_time = w.max_time,
            .rows = w.rows,
            .bytes = stat(abs, &st) == 0 ? (uint64_t)st.st_size : 0,
            .max_lsn = max_lsn,
            .seq = seq,
        };
        catalog_wrlock(e->catalog);
        rc = t->deleted || db->deleted ? SL_ENOENT
                                       : catalog_table_files_update(e->catalog, t, &f, NULL, 0);
        catalog_unlock(e->catalog);
        if (rc < 0) {
            unlink(abs);
            sl_buf_release(&rel);
            return rc == SL_ENOENT ? 0 : rc;
        }
        sl_debug("persist", "wrote %s (%llu rows)", rel.ptr, (unsigned long long)w.rows);
    }
    pthread_mutex_lock(&bt->lock);
    buffer_sealed_drop_locked(&e->buffer, bt, p);
    pthread_mutex_unlock(&bt->lock);
    sl_buf_release(&rel);
    return 0;
}

/* Persists the partitions of one table that the policy picks (all when force). */
static int persist_table(struct engine *e, struct cat_db *db, struct cat_table *t,
                         struct buf_table *bt, int force, int64_t now_mono)
{
    struct buf_part *todo[64];
    size_t n = 0;
    pthread_mutex_lock(&bt->lock);
    for (size_t i = 0; i < bt->nparts && n < 64;) {
        struct buf_part *p = bt->parts[i];
        int pick = p->nrows > 0 &&
                   (force || p->nrows >= PERSIST_MAX_ROWS ||
                    now_mono - p->last_write_mono >= PERSIST_IDLE_NS);
        if (pick) {
            struct buf_part *s = buffer_seal_locked(bt, i);
            if (!s) break;
            todo[n++] = s;
        } else {
            i++;
        }
    }
    pthread_mutex_unlock(&bt->lock);
    int rc = 0;
    for (size_t i = 0; i < n; i++) {
        int r = persist_part(e, db, t, bt, todo[i]);
        if (r < 0 && rc == 0) rc = r;
    }
    return rc;
}

int storage_persist(struct engine *e, int force)
{
    pthread_mutex_lock(&e->persist_lock);
    int64_t now = sl_mono_ns();
    int rc = 0;
    /* collect (db, table, buffer table) triples under the catalog lock */
    catalog_rdlock(e->catalog);
    size_t n = 0, cap = 0;
    struct job {
        struct cat_db *db;
        struct cat_table *t;
    } *jobs = NULL;
    for (size_t i = 0; i < e->catalog->ndbs; i++) {
        struct cat_db *d = e->catalog->dbs[i];
        if (d->deleted) continue;
        for (size_t k = 0; k < d->ntables; k++) {
            if (d->tables[k]->deleted) continue;
            struct job *j = sl_grow(jobs, &cap, n + 1, sizeof(*jobs));
            if (!j) {
                rc = SL_ENOMEM;
                break;
            }
            jobs = j;
            jobs[n++] = (struct job){d, d->tables[k]};
        }
    }
    catalog_unlock(e->catalog);
    if (!force && buffer_over_limit_soft(&e->buffer)) force = 1;
    for (size_t i = 0; i < n && rc == 0; i++) {
        struct buf_table *bt = buffer_table_find(&e->buffer, jobs[i].db->id, jobs[i].t->id);
        if (bt) rc = persist_table(e, jobs[i].db, jobs[i].t, bt, force, now);
    }
    sl_free(jobs);
    if (rc == 0) rc = storage_trim_wal(e);
    pthread_mutex_unlock(&e->persist_lock);
    return rc;
}

int storage_trim_wal(struct engine *e)
{
    uint64_t last = wal_last_lsn(e->wal);
    uint64_t inflight = engine_inflight_floor(e);
    uint64_t min = buffer_min_lsn(&e->buffer);
    if (inflight < min) min = inflight;
    uint64_t upto = min == UINT64_MAX ? last : min - 1;
    if (upto == 0) return 0;
    return wal_checkpoint(e->wal, upto);
}

/* ---- compaction ---- */

struct compact_ctx {
    struct write_ctx w;
};

static int compact_chunk(void *arg, const struct cat_table *t, const struct scan_chunk *c)
{
    struct compact_ctx *cc = arg;
    return write_chunk(&cc->w, t, c);
}

/* Compacts the partition starting at part_start of table t when it has at
 * least min_files files. */
static int compact_partition(struct engine *e, struct cat_db *db, struct cat_table *t,
                             int64_t part_start, size_t min_files)
{
    catalog_rdlock(e->catalog);
    size_t nf = 0;
    uint32_t drop[512];
    char *old_paths[512];
    uint64_t max_lsn = 0;
    for (size_t i = 0; i < t->nfiles && nf < 512; i++) {
        if (t->files[i].part_start != part_start) continue;
        drop[nf] = t->files[i].seq;
        old_paths[nf] = sl_strdup(t->files[i].path);
        if (t->files[i].max_lsn > max_lsn) max_lsn = t->files[i].max_lsn;
        nf++;
    }
    if (nf < min_files) {
        catalog_unlock(e->catalog);
        for (size_t i = 0; i < nf; i++) sl_free(old_paths[i]);
        return 0;
    }
    uint32_t seq = t->next_seq++;
    struct sl_buf rel;
    sl_buf_init(&rel, 0);
    file_relpath(db, t, part_start, seq, &rel);
    char abs[4200];
    snprintf(abs, sizeof(abs), "%s/%s", e->data_dir, rel.ptr);
    struct compact_ctx cc = {.w = {.e = e, .path = abs}};
    int rc = storage_scan_partition_files(e, t, part_start, compact_chunk, &cc);
    catalog_unlock(e->catalog);
    if (rc == 0 && cc.w.written) {
        struct stat st;
        struct cat_file f = {
            .path = rel.ptr,
            .part_start = part_start,
            .min_time = cc.w.min_time,
            .max_time = cc.w.max_time,
            .rows = cc.w.rows,
            .bytes = stat(abs, &st) == 0 ? (uint64_t)st.st_size : 0,
            .max_lsn = max_lsn,
            .seq = seq,
        };
        catalog_wrlock(e->catalog);
        rc = catalog_table_files_update(e->catalog, t, &f, drop, nf);
        catalog_unlock(e->catalog);
        if (rc < 0) unlink(abs);
    }
    if (rc == 0) {
        /* the catalog no longer names them: now they may go */
        for (size_t i = 0; i < nf; i++) {
            char p[4200];
            snprintf(p, sizeof(p), "%s/%s", e->data_dir, old_paths[i]);
            unlink(p);
        }
        sl_debug("compact", "merged %zu files into %s", nf, rel.ptr);
    } else {
        sl_error("compact", "compacting into %s failed: %s", abs, sl_strerror(rc));
    }
    for (size_t i = 0; i < nf; i++) sl_free(old_paths[i]);
    sl_buf_release(&rel);
    return rc;
}

int storage_compact(struct engine *e, size_t min_files)
{
    pthread_mutex_lock(&e->persist_lock);
    int rc = 0;
    catalog_rdlock(e->catalog);
    size_t n = 0, cap = 0;
    struct cjob {
        struct cat_db *db;
        struct cat_table *t;
        int64_t part;
    } *jobs = NULL;
    for (size_t i = 0; i < e->catalog->ndbs && rc == 0; i++) {
        struct cat_db *d = e->catalog->dbs[i];
        if (d->deleted) continue;
        for (size_t k = 0; k < d->ntables && rc == 0; k++) {
            struct cat_table *t = d->tables[k];
            if (t->deleted) continue;
            for (size_t f = 0; f < t->nfiles; f++) {
                if (f > 0 && t->files[f - 1].part_start == t->files[f].part_start) continue;
                size_t cnt = 0;
                for (size_t g = f; g < t->nfiles && t->files[g].part_start == t->files[f].part_start; g++)
                    cnt++;
                if (cnt < min_files) continue;
                struct cjob *j = sl_grow(jobs, &cap, n + 1, sizeof(*jobs));
                if (!j) {
                    rc = SL_ENOMEM;
                    break;
                }
                jobs = j;
                jobs[n++] = (struct cjob){d, t, t->files[f].part_start};
            }
        }
    }
    catalog_unlock(e->catalog);
    for (size_t i = 0; i < n && rc == 0; i++)
        rc = compact_partition(e, jobs[i].db, jobs[i].t, jobs[i].part, min_files);
    sl_free(jobs);
    pthread_mutex_unlock(&e->persist_lock);
    return rc;
}

/* ---- retention ---- */

int storage_enforce_retention(struct engine *e, int64_t now_ns)
{
    pthread_mutex_lock(&e->persist_lock);
    int rc = 0;
    catalog_wrlock(e->catalog);
    for (size_t i = 0; i < e->catalog->ndbs && rc == 0; i++) {
        struct cat_db *d = e->catalog->dbs[i];
        if (d->deleted || !d->retention_ns) continue;
        int64_t cut = now_ns - d->retention_ns;
        for (size_t k = 0; k < d->ntables && rc == 0; k++) {
            struct cat_table *t = d->tables[k];
            uint32_t drop[256];
            char *paths[256];
            size_t nd = 0;
            for (size_t f = 0; f < t->nfiles && nd < 256; f++) {
                if (t->files[f].max_time >= cut) continue;
                drop[nd] = t->files[f].seq;
                paths[nd++] = sl_strdup(t->files[f].path);
            }
            if (!nd) continue;
            rc = catalog_table_files_update(e->catalog, t, NULL, drop, nd);
            for (size_t f = 0; f < nd; f++) {
                if (rc == 0 && paths[f]) {
                    char p[4200];
                    snprintf(p, sizeof(p), "%s/%s", e->data_dir, paths[f]);
                    unlink(p);
                }
                sl_free(paths[f]);
            }
        }
    }
    catalog_unlock(e->catalog);
    pthread_mutex_unlock(&e->persist_lock);
    return rc;
}

/* ---- start-up cleanup ---- */

static int is_live(struct catalog *c, const char *rel)
{
    for (size_t i = 0; i < c->ndbs; i++)
        for (size_t k = 0; k < c->dbs[i]->ntables; k++) {
            const struct cat_table *t = c->dbs[i]->tables[k];
            for (size_t f = 0; f < t->nfiles; f++)
                if (!strcmp(t->files[f].path, rel)) return 1;
        }
    return 0;
}

static void cleanup_dir(struct engine *e, const char *rel, size_t *removed)
{
    char abs[4200];
    snprintf(abs, sizeof(abs), "%s/%s", e->data_dir, rel);
    DIR *d = opendir(abs);
    if (!d) return;
    struct dirent *de;
    while ((de = readdir(d))) {
        if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, "..")) continue;
        char sub[4200];
        snprintf(sub, sizeof(sub), "%s/%s", rel, de->d_name);
        char subabs[8400];
        snprintf(subabs, sizeof(subabs), "%s/%s", e->data_dir, sub);
        struct stat st;
        if (lstat(subabs, &st) != 0) continue;
        if (S_ISDIR(st.st_mode)) {
            cleanup_dir(e, sub, removed);
            continue;
        }
        size_t n = strlen(de->d_name);
        int tmp = n > 4 && !strcmp(de->d_name + n - 4, ".tmp");
        int pq = n > 8 && !strcmp(de->d_name + n - 8, ".parquet");
        if (tmp || (pq && !is_live(e->catalog, sub))) {
            if (unlink(subabs) == 0) (*removed)++;
        }
    }
    closedir(d);
}

void storage_cleanup_orphans(struct engine *e)
{
    size_t removed = 0;
    catalog_rdlock(e->catalog);
    cleanup_dir(e, "dbs", &removed);
    catalog_unlock(e->catalog);
    if (removed) sl_info("storage", "removed %zu unregistered or partial data files", removed);
}
