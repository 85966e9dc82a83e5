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
 * Compaction (compact.c) merges files of a partition as a streaming k-way
 * merge, registers the new file and unregisters the old ones in one catalog
 * update, and only then deletes the old files.
 *
 * The file layout (storage_layout_init, shared with compaction): tag columns
 * sorted by name, time, fields; sluice.* key/value metadata; sorting_columns
 * = tags + time; zstd; STORAGE_ROW_GROUP_ROWS rows per row group. See
 * docs/storage.md.
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
        if (keep)
            sl_buf_addc(b, (char)*p);
        else
            sl_buf_addf(b, "%%%02X", *p);
    }
}

void storage_db_relpath(const char *db, struct sl_buf *out)
{
    sl_buf_adds(out, "dbs/");
    path_escape(out, db);
}

int storage_file_relpath(const char *db, const char *table, int64_t part_start, uint32_t seq,
                         struct sl_buf *out)
{
    time_t secs = (time_t)(part_start / SL_NS_PER_S - (part_start % SL_NS_PER_S < 0));
    struct tm tm;
    gmtime_r(&secs, &tm);
    sl_buf_adds(out, "dbs/");
    path_escape(out, db);
    sl_buf_addc(out, '/');
    path_escape(out, table);
    return sl_buf_addf(out, "/%04d-%02d-%02d/%02d-%02d-%06u.parquet", tm.tm_year + 1900,
                       tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, seq);
}

static int file_relpath(const struct cat_db *db, const struct cat_table *t, int64_t part_start,
                        uint32_t seq, struct sl_buf *out)
{
    return storage_file_relpath(db->name, t->name, part_start, seq, out);
}

/* ---- the data file layout ---- */

static enum pq_ctype pq_type_of(const struct store_col *c)
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
    const struct store_col *cols = arg;
    return strcmp(cols[*(const uint32_t *)a].name, cols[*(const uint32_t *)b].name);
}

void storage_layout_release(struct file_layout *L)
{
    sl_free(L->cat_id);
    sl_free(L->spec);
    sl_free(L->sort_cols);
    sl_buf_release(&L->tags);
    sl_buf_release(&L->fields);
    sl_buf_release(&L->sort);
    memset(L, 0, sizeof(*L));
}

int storage_layout_init(struct file_layout *L, const char *db, const char *table,
                        const struct store_col *cols, const uint8_t *present, size_t ncols)
{
    memset(L, 0, sizeof(*L));
    sl_buf_init(&L->tags, 0);
    sl_buf_init(&L->fields, 0);
    sl_buf_init(&L->sort, 0);
    L->cat_id = sl_malloc((ncols + 1) * sizeof(*L->cat_id));
    L->spec = sl_calloc(ncols + 1, sizeof(*L->spec));
    L->sort_cols = sl_malloc((ncols + 1) * sizeof(*L->sort_cols));
    if (!L->cat_id || !L->spec || !L->sort_cols) {
        storage_layout_release(L);
        return SL_ENOMEM;
    }
    /* tags sorted by name, then time, then fields in catalog order */
    size_t n = 0;
    for (size_t i = 1; i < ncols; i++)
        if (present[i] && cols[i].kind == CAT_COL_TAG) L->cat_id[n++] = (uint32_t)i;
    qsort_r(L->cat_id, n, sizeof(*L->cat_id), name_cmp, (void *)cols);
    L->ntags = n;
    L->cat_id[n++] = 0;
    for (size_t i = 1; i < ncols; i++)
        if (present[i] && cols[i].kind == CAT_COL_FIELD) L->cat_id[n++] = (uint32_t)i;
    L->ncols = n;
    sl_buf_addc(&L->tags, '[');
    sl_buf_addc(&L->fields, '[');
    for (size_t k = 0; k < n; k++) {
        uint32_t id = L->cat_id[k];
        const struct store_col *col = &cols[id];
        L->spec[k].name = col->name;
        if (id == 0) {
            L->spec[k].type = PQ_TIME_NS;
            continue;
        }
        L->spec[k].type = pq_type_of(col);
        L->spec[k].nullable = 1;
        L->spec[k].dictionary = col->kind == CAT_COL_TAG || col->type == LP_STRING;
        struct sl_buf *list = col->kind == CAT_COL_TAG ? &L->tags : &L->fields;
        if (list->len > 1) sl_buf_addc(list, ',');
        sl_buf_add_json_str(list, col->name, strlen(col->name));
    }
    sl_buf_addc(&L->tags, ']');
    sl_buf_addc(&L->fields, ']');
    for (size_t k = 0; k < L->ntags; k++)
        sl_buf_addf(&L->sort, "%s,", cols[L->cat_id[k]].name);
    int rc = sl_buf_adds(&L->sort, "time");
    if (rc < 0 || !L->tags.ptr || !L->fields.ptr) {
        storage_layout_release(L);
        return SL_ENOMEM;
    }
    L->kv[0] = (struct pq_kv){"sluice.table", table};
    L->kv[1] = (struct pq_kv){"sluice.database", db};
    L->kv[2] = (struct pq_kv){"sluice.tags", L->tags.ptr};
    L->kv[3] = (struct pq_kv){"sluice.fields", L->fields.ptr};
    L->kv[4] = (struct pq_kv){"sluice.sort_key", L->sort.ptr};
    L->kv[5] = (struct pq_kv){"sluice.format_version", "1"};
    for (size_t k = 0; k <= L->ntags; k++)
        L->sort_cols[k] = k;
    L->po = (struct pq_writer_opts){
        .codec = PQ_CODEC_ZSTD,
        .row_group_rows = STORAGE_ROW_GROUP_ROWS,
        .page_rows = STORAGE_PAGE_ROWS,
        .kv = L->kv,
        .nkv = sizeof(L->kv) / sizeof(L->kv[0]),
        .sort_cols = L->sort_cols,
        .nsort = L->ntags + 1,
    };
    return 0;
}

/* ---- writing a merged chunk as a Parquet file ---- */

struct write_ctx {
    struct engine *e;
    const char *path; /* absolute, final */
    uint64_t rows;
    int64_t min_time, max_time;
    int written;
};

/* Writes chunk c (already sorted and deduplicated) to ctx->path. cols (the
 * table's columns, ncols entries) borrow the catalog's name strings, which
 * live as long as the catalog: no lock is needed while writing. */
static int write_chunk(struct write_ctx *w, const char *db, const char *table,
                       const struct store_col *cols, size_t ncols, const struct scan_chunk *c)
{
    if (c->ncols < ncols) ncols = c->ncols;
    uint8_t *present = sl_calloc(ncols + 1, 1);
    struct pq_column_data *data = sl_calloc(ncols + 1, sizeof(*data));
    struct pq_str **strs = sl_calloc(ncols + 1, sizeof(*strs));
    struct file_layout L;
    int have_layout = 0;
    int rc = SL_ENOMEM;
    struct pq_writer *pw = NULL;
    if (!present || !data || !strs) goto out;
    for (size_t i = 0; i < ncols; i++)
        present[i] = i == 0 || (c->cols[i].present && cols[i].kind != CAT_COL_TIME);
    if ((rc = storage_layout_init(&L, db, table, cols, present, ncols)) < 0) goto out;
    have_layout = 1;
    rc = SL_ENOMEM;
    for (size_t k = 0; k < L.ncols; k++) {
        uint32_t id = L.cat_id[k];
        if (id == 0) {
            data[k].values = c->time;
            continue;
        }
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
    char tmp[4400];
    if ((size_t)snprintf(tmp, sizeof(tmp), "%s.tmp", w->path) >= sizeof(tmp)) {
        rc = SL_ERANGE;
        goto out;
    }
    rc = pq_writer_open(tmp, L.spec, L.ncols, &L.po, &pw);
    if (rc == 0) rc = pq_writer_write(pw, data, c->nrows);
    if (rc == 0) {
        rc = pq_writer_commit(pw, w->path);
        pw = NULL;
    }
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
    for (size_t k = 0; strs && k <= ncols; k++)
        sl_free(strs[k]);
    if (have_layout) storage_layout_release(&L);
    sl_free(strs);
    sl_free(present);
    sl_free(data);
    return rc;
}

/* ---- persistence of one sealed partition ---- */

/* Writes one sealed partition as a durable Parquet file (snapshot: sorted,
 * deduplicated, tags expanded from the series). On success *f describes the
 * file (f->path owned by the caller) with *written = 1, or *written = 0 when
 * the partition had no rows; registering it in the catalog is the caller's
 * step, done for a batch of partitions at once. */
static int persist_part(struct engine *e, struct cat_db *db, struct cat_table *t,
                        struct buf_table *bt, struct buf_part *p, struct cat_file *fout,
                        int *written)
{
    *written = 0;
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
    struct scan_chunk ch = {
        .part_start = p->start, .nrows = snap.nrows, .time = snap.time, .ncols = ncols};
    ch.cols = rc == 0 ? sl_calloc(ncols ? ncols : 1, sizeof(*ch.cols)) : NULL;
    if (rc == 0 && !ch.cols) rc = SL_ENOMEM;
    for (size_t c = 0; rc == 0 && c < ncols && c < snap.ncols; c++)
        ch.cols[c] = snap.cols[c];
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
    /* the columns as of the snapshot; names are never freed while the
     * catalog is open, and the buffer tables only by engine_db_drop, which
     * waits for persist_lock: the file is written without the catalog lock,
     * so that schema changes (new tables, columns) do not wait for it */
    struct store_col *cols = rc == 0 ? sl_calloc(ncols ? ncols : 1, sizeof(*cols)) : NULL;
    if (rc == 0 && !cols) rc = SL_ENOMEM;
    for (size_t c = 0; rc == 0 && c < ncols; c++)
        cols[c] = (struct store_col){t->cols[c].name, t->cols[c].kind, t->cols[c].type};
    const char *dbname = db->name, *tname = t->name;
    catalog_unlock(e->catalog);
    struct write_ctx w = {.e = e, .path = abs};
    if (rc == 0 && snap.nrows) rc = write_chunk(&w, dbname, tname, cols, ncols, &ch);
    for (size_t c = 0; ch.cols && c < ncols; c++) /* tag columns were allocated here */
        if (ch.cols[c].present && !(c < snap.ncols && snap.cols[c].present)) {
            sl_free(ch.cols[c].v.s);
            sl_free(ch.cols[c].valid);
        }
    sl_free(cols);
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
        *fout = (struct cat_file){
            .path = sl_buf_detach(&rel, NULL),
            .part_start = p->start,
            .min_time = w.min_time,
            .max_time = w.max_time,
            .rows = w.rows,
            .bytes = stat(abs, &st) == 0 ? (uint64_t)st.st_size : 0,
            .max_lsn = max_lsn,
            .seq = seq,
        };
        *written = 1;
    }
    sl_buf_release(&rel);
    return 0;
}

/* Registers the files written for parts[0..n) in one catalog update, then
 * frees the sealed partitions whose rows are now in files. On failure the
 * files are deleted and the partitions stay sealed (retried next time). */
static int persist_register(struct engine *e, struct cat_db *db, struct cat_table *t,
                            struct buf_table *bt, struct buf_part **parts, struct cat_file *files,
                            int *written, size_t n)
{
    struct cat_file *reg = sl_malloc((n ? n : 1) * sizeof(*reg));
    if (!reg) return SL_ENOMEM;
    size_t nreg = 0;
    for (size_t i = 0; i < n; i++)
        if (written[i] == 1) reg[nreg++] = files[i];
    int rc = 0;
    if (nreg) {
        catalog_wrlock(e->catalog);
        rc = t->deleted || db->deleted ? SL_ENOENT
                                       : catalog_table_files_add(e->catalog, t, reg, nreg);
        catalog_unlock(e->catalog);
    }
    if (rc < 0) {
        for (size_t i = 0; i < nreg; i++) {
            char abs[4200];
            snprintf(abs, sizeof(abs), "%s/%s", e->data_dir, reg[i].path);
            unlink(abs);
        }
    }
    pthread_mutex_lock(&bt->lock);
    for (size_t i = 0; i < n; i++)
        if (written[i] >= 0 && (rc == 0 || rc == SL_ENOENT))
            buffer_sealed_drop_locked(&e->buffer, bt, parts[i]);
    pthread_mutex_unlock(&bt->lock);
    sl_free(reg);
    return rc == SL_ENOENT ? 0 : rc;
}

/* Persists the partitions of one table that the policy picks (all when
 * force), PERSIST_BATCH at a time until none is left (a bounded number of
 * rounds, so that writes arriving meanwhile cannot keep it going). Sealed
 * partitions left over by a failed persistence are retried first: under
 * persist_lock no other job owns a sealed partition. */
#define PERSIST_BATCH 64
static int persist_table(struct engine *e, struct cat_db *db, struct cat_table *t,
                         struct buf_table *bt, int force, int64_t now_mono)
{
    pthread_mutex_lock(&bt->lock);
    size_t max_rounds = (bt->nparts + bt->nsealed) / PERSIST_BATCH + 2;
    pthread_mutex_unlock(&bt->lock);
    int rc = 0;
    for (size_t round = 0; round < max_rounds; round++) {
        struct buf_part *todo[PERSIST_BATCH];
        size_t n = 0;
        pthread_mutex_lock(&bt->lock);
        for (size_t i = 0; round == 0 && i < bt->nsealed && n < PERSIST_BATCH; i++)
            todo[n++] = bt->sealed[i];
        for (size_t i = 0; i < bt->nparts && n < PERSIST_BATCH;) {
            struct buf_part *p = bt->parts[i];
            int pick = p->nrows > 0 && (force || p->nrows >= PERSIST_MAX_ROWS ||
                                        now_mono - p->last_write_mono >= PERSIST_IDLE_NS);
            if (pick) {
                struct buf_part *sp = buffer_seal_locked(bt, i);
                if (!sp) break;
                todo[n++] = sp;
            } else {
                i++;
            }
        }
        pthread_mutex_unlock(&bt->lock);
        struct cat_file files[PERSIST_BATCH];
        int written[PERSIST_BATCH];
        for (size_t i = 0; i < n; i++) {
            int r = persist_part(e, db, t, bt, todo[i], &files[i], &written[i]);
            if (r < 0) {
                written[i] = -1; /* stays sealed, retried */
                if (rc == 0) rc = r;
            }
        }
        int r = persist_register(e, db, t, bt, todo, files, written, n);
        if (r < 0 && rc == 0) rc = r;
        for (size_t i = 0; i < n; i++)
            if (written[i] == 1) sl_free(files[i].path);
        if (n < PERSIST_BATCH || rc < 0) break;
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

/* A file is live when a table that still exists lists it (the files of a
 * dropped table or database are garbage). */
static int is_live(struct catalog *c, const char *rel)
{
    for (size_t i = 0; i < c->ndbs; i++)
        for (size_t k = 0; !c->dbs[i]->deleted && k < c->dbs[i]->ntables; k++) {
            const struct cat_table *t = c->dbs[i]->tables[k];
            if (t->deleted) continue;
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
