/*
 * compact.c — compaction: merging the Parquet files of one time window
 * into one (rolling cold hours up into day and 30-day windows), as a
 * streaming k-way merge with bounded memory.
 *
 * Inputs are data files, each sorted by series key then time (persistence
 * writes them so, and so does this merge). A cursor per input holds one
 * decoded row group; its current row's series key is rebuilt from the tag
 * columns in the canonical form the buffer and the scan use (measurement,
 * then tags sorted by key, escaped as line protocol). A binary heap orders
 * the cursors by (series key, time, seq): popping every cursor whose row
 * equals the smallest (key, time) in seq order and applying their non-NULL
 * fields one after the other yields the merged row, the newest file winning
 * field by field. Merged rows are appended to an output batch of
 * MERGE_BATCH_ROWS rows that is handed to the Parquet writer, which encodes a
 * row group whenever STORAGE_ROW_GROUP_ROWS rows have accumulated. Memory is
 * thus one decoded row group per input plus one row group being written,
 * whatever the size of the partition.
 *
 * Windows and roll-up (bounded file count whatever the write pattern): each
 * file has a target window, its own (an hour as persisted) or, once a larger
 * tier window around it lies wholly before now minus the tier's grace
 * period, that window (a day after COMPACT_DAY_GRACE_NS, a 30-day period
 * after COMPACT_MONTH_GRACE_NS; epoch-aligned, so windows nest). Files whose
 * target windows overlap make one compaction window; an hour window is
 * compacted once it has min_files files, a rolled-up window once it has
 * two. Late writes into a rolled-up window arrive as hour files with larger
 * seqs; the next compaction folds them in. Within a window, files are taken
 * in seq order; "full" files (>= COMPACT_FULL_BYTES) are left alone; a run
 * of files adjacent in seq order, at most COMPACT_MAX_FILES long and within
 * COMPACT_MEM_BUDGET of estimated decoded row groups, is merged into one
 * file whose window is the compaction window, and steps repeat until no run
 * of two remains. Only adjacent files (in seq order among the window's
 * files; files outside it cannot overlap it in time) are merged, and the
 * merged file takes the largest seq of its inputs, so "newer file wins"
 * stays true against every file left out of the merge.
 *
 * Expired data: storage_compact first drops the files wholly older than the
 * database's retention period, and the merge leaves out expired rows.
 *
 * Crash safety: the merged file is written as .tmp, fsynced and renamed
 * (pq_writer_commit), then one catalog update registers it and unregisters
 * the inputs (catalog.json rewritten atomically), and only then are the
 * inputs unlinked. A crash before the catalog update leaves an unregistered
 * file; a crash after it leaves unregistered inputs; start-up deletes both
 * (storage_cleanup_orphans). Readers never see a half-written file: scans
 * hold the catalog read lock, and the inputs are unlinked after the catalog
 * write lock has been taken (so no scan still reads them) and released.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/arena.h"
#include "common/err.h"
#include "common/fsutil.h"
#include "common/log.h"
#include "common/mem.h"
#include "common/timeutil.h"
#include "parquet/parquet.h"
#include "storage/engine.h"
#include "storage/persist.h"

#define MERGE_BATCH_ROWS 8192

struct cursor {
    struct pq_reader *r;
    uint32_t seq;
    size_t nrg, rg;             /* row groups; next to load */
    size_t n, pos;              /* rows in the loaded row group; current row */
    long *map;                  /* catalog column -> file column, -1 = absent */
    struct pq_column_buf *bufs; /* by catalog column */
    uint32_t *tags;             /* catalog tag columns present, sorted by name */
    size_t ntags;
    struct sl_buf key; /* series key of the current row */
    int64_t time;
};

struct merger {
    const char *table;
    const struct store_col *cols;
    size_t ncols;
    struct cursor *cur;
    size_t ncur;
    size_t *heap;
    size_t nheap;
    size_t rows_held, peak_rows_held;
};

static void cursor_release(struct cursor *c, size_t ncols)
{
    if (c->bufs)
        for (size_t i = 0; i < ncols; i++)
            pq_column_buf_release(&c->bufs[i]);
    sl_free(c->bufs);
    sl_free(c->map);
    sl_free(c->tags);
    sl_buf_release(&c->key);
    pq_reader_close(c->r);
    memset(c, 0, sizeof(*c));
}

static int type_matches(enum pq_ctype pt, const struct store_col *c)
{
    if (c->kind == CAT_COL_TAG) return pt == PQ_STRING;
    switch (c->type) {
    case LP_FLOAT: return pt == PQ_DOUBLE;
    case LP_INTEGER: return pt == PQ_INT64;
    case LP_UNSIGNED: return pt == PQ_UINT64;
    case LP_BOOLEAN: return pt == PQ_BOOL;
    case LP_STRING: return pt == PQ_STRING;
    }
    return 0;
}

static int valid_at(const struct pq_column_buf *b, size_t i)
{
    return !b->valid || b->valid[i];
}

/* Rebuilds the current row's series key. */
static int cursor_key(struct merger *m, struct cursor *c)
{
    sl_buf_reset(&c->key);
    int rc = lp_escape_measurement(&c->key, m->table, strlen(m->table));
    for (size_t k = 0; k < c->ntags && rc == 0; k++) {
        const struct pq_column_buf *b = &c->bufs[c->tags[k]];
        if (!valid_at(b, c->pos)) continue;
        const struct pq_str *v = &((const struct pq_str *)b->values)[c->pos];
        const char *name = m->cols[c->tags[k]].name;
        sl_buf_addc(&c->key, ',');
        lp_escape_key(&c->key, name, strlen(name));
        sl_buf_addc(&c->key, '=');
        rc = lp_escape_key(&c->key, v->ptr, v->len);
    }
    if (rc == 0) rc = sl_buf_addc(&c->key, '\0'); /* keys compare with strcmp */
    c->time = ((const int64_t *)c->bufs[0].values)[c->pos];
    return rc;
}

/* Loads the next non-empty row group; returns 1, 0 at the end, or an error. */
static int cursor_load(struct merger *m, struct cursor *c)
{
    for (size_t i = 0; i < m->ncols; i++)
        pq_column_buf_release(&c->bufs[i]);
    m->rows_held -= c->n;
    c->n = c->pos = 0;
    while (c->rg < c->nrg) {
        size_t rg = c->rg++;
        int64_t n = pq_reader_row_group_rows(c->r, rg);
        if (n <= 0) continue;
        for (size_t i = 0; i < m->ncols; i++) {
            if (c->map[i] < 0) continue;
            int rc = pq_reader_read_column(c->r, rg, (size_t)c->map[i], &c->bufs[i]);
            if (rc == 0 && c->bufs[i].nrows != (size_t)n) rc = SL_ECORRUPT;
            if (rc < 0) {
                sl_error("compact", "%s", pq_reader_errmsg(c->r));
                return rc;
            }
        }
        c->n = (size_t)n;
        m->rows_held += c->n;
        if (m->rows_held > m->peak_rows_held) m->peak_rows_held = m->rows_held;
        int rc = cursor_key(m, c);
        return rc < 0 ? rc : 1;
    }
    return 0;
}

/* Moves to the next row; returns 1, 0 at the end, or an error. The merge
 * needs every input sorted by (series key, time): a file that is not is
 * refused rather than merged wrongly. */
static int cursor_next(struct merger *m, struct cursor *c, const struct sl_buf *prev_key)
{
    int64_t prev_time = c->time;
    int rc;
    if (++c->pos < c->n) {
        if ((rc = cursor_key(m, c)) < 0) return rc;
    } else if ((rc = cursor_load(m, c)) <= 0) {
        return rc;
    }
    int k = strcmp(c->key.ptr, prev_key->ptr);
    if (k < 0 || (k == 0 && c->time < prev_time)) {
        sl_error("compact", "input file (seq %u) is not sorted by series key and time", c->seq);
        return SL_ECORRUPT;
    }
    return 1;
}

static int cursor_open(struct merger *m, struct cursor *c, const struct merge_input *in)
{
    char err[256] = "";
    sl_buf_init(&c->key, 0);
    c->seq = in->seq;
    int rc = pq_reader_open(in->path, &c->r, err, sizeof(err));
    if (rc < 0) {
        sl_error("compact", "cannot read %s: %s", in->path, err);
        return rc;
    }
    c->map = sl_malloc(m->ncols * sizeof(*c->map));
    c->bufs = sl_calloc(m->ncols, sizeof(*c->bufs));
    c->tags = sl_malloc(m->ncols * sizeof(*c->tags));
    if (!c->map || !c->bufs || !c->tags) return SL_ENOMEM;
    for (size_t i = 0; i < m->ncols; i++) {
        c->map[i] = pq_reader_find_column(c->r, m->cols[i].name);
        if (c->map[i] < 0) continue;
        const struct pq_column_info *ci = pq_reader_column(c->r, (size_t)c->map[i]);
        int ok = i == 0 ? ci->type == PQ_TIME_NS : type_matches(ci->type, &m->cols[i]);
        if (!ok) {
            sl_error("compact", "%s: column \"%s\" has type %s, the catalog says otherwise",
                     in->path, m->cols[i].name, pq_ctype_name(ci->type));
            return SL_ECORRUPT;
        }
        if (i > 0 && m->cols[i].kind == CAT_COL_TAG) {
            /* insertion by name keeps the canonical tag order */
            size_t k = c->ntags++;
            while (k > 0 && strcmp(m->cols[c->tags[k - 1]].name, m->cols[i].name) > 0) {
                c->tags[k] = c->tags[k - 1];
                k--;
            }
            c->tags[k] = (uint32_t)i;
        }
    }
    if (c->map[0] < 0) {
        sl_error("compact", "%s: no time column", in->path);
        return SL_ECORRUPT;
    }
    c->nrg = pq_reader_num_row_groups(c->r);
    return cursor_load(m, c);
}

/* Heap order: series key, time, then seq (older first, so newer applies last). */
static int cur_less(const struct merger *m, size_t a, size_t b)
{
    const struct cursor *x = &m->cur[a], *y = &m->cur[b];
    int c = strcmp(x->key.ptr, y->key.ptr);
    if (c) return c < 0;
    if (x->time != y->time) return x->time < y->time;
    return x->seq < y->seq;
}

static void heap_down(struct merger *m, size_t i)
{
    for (;;) {
        size_t l = 2 * i + 1, r = l + 1, s = i;
        if (l < m->nheap && cur_less(m, m->heap[l], m->heap[s])) s = l;
        if (r < m->nheap && cur_less(m, m->heap[r], m->heap[s])) s = r;
        if (s == i) return;
        size_t t = m->heap[i];
        m->heap[i] = m->heap[s];
        m->heap[s] = t;
        i = s;
    }
}

static void heap_up(struct merger *m, size_t i)
{
    while (i > 0) {
        size_t p = (i - 1) / 2;
        if (!cur_less(m, m->heap[i], m->heap[p])) return;
        size_t t = m->heap[i];
        m->heap[i] = m->heap[p];
        m->heap[p] = t;
        i = p;
    }
}

/* The output batch: column-major, by file column of the layout. */
struct out_batch {
    size_t n;
    void **vals;
    uint8_t **valid;
    struct pq_column_data *data;
    struct sl_arena strs;
};

static size_t esize(enum pq_ctype t)
{
    switch (t) {
    case PQ_BOOL: return 1;
    case PQ_STRING: return sizeof(struct pq_str);
    default: return 8;
    }
}

static int batch_flush(struct out_batch *ob, struct pq_writer *pw)
{
    if (!ob->n) return 0;
    int rc = pq_writer_write(pw, ob->data, ob->n);
    ob->n = 0;
    sl_arena_reset(&ob->strs);
    return rc;
}

/* Applies the current row of c to output row o (non-NULL fields overwrite). */
static int apply_row(const struct file_layout *L, struct out_batch *ob, size_t o,
                     const struct cursor *c)
{
    for (size_t k = 0; k < L->ncols; k++) {
        uint32_t id = L->cat_id[k];
        if (id == 0 || c->map[id] < 0) continue;
        const struct pq_column_buf *b = &c->bufs[id];
        if (!valid_at(b, c->pos)) continue;
        switch (L->spec[k].type) {
        case PQ_STRING: {
            const struct pq_str *v = &((const struct pq_str *)b->values)[c->pos];
            char *p = sl_arena_strndup(&ob->strs, v->ptr ? v->ptr : "", v->len);
            if (!p) return SL_ENOMEM;
            ((struct pq_str *)ob->vals[k])[o] = (struct pq_str){p, v->len};
            break;
        }
        case PQ_BOOL: ((uint8_t *)ob->vals[k])[o] = ((const uint8_t *)b->values)[c->pos]; break;
        default:
            memcpy((char *)ob->vals[k] + o * 8, (const char *)b->values + c->pos * 8, 8);
            break;
        }
        ob->valid[k][o] = 1;
    }
    return 0;
}

int storage_merge_files(const char *db, const char *table, const struct store_col *cols,
                        size_t ncols, const struct merge_input *in, size_t nin, int64_t drop_before,
                        const char *out_path, struct merge_result *res)
{
    struct merger m = {.table = table, .cols = cols, .ncols = ncols};
    struct out_batch ob = {0};
    struct file_layout L;
    int have_layout = 0;
    struct pq_writer *pw = NULL;
    uint8_t *present = NULL;
    struct sl_buf curkey;
    sl_buf_init(&curkey, 0);
    sl_arena_init(&ob.strs, 0);
    memset(res, 0, sizeof(*res));
    res->min_time = INT64_MAX;
    res->max_time = INT64_MIN;
    int rc = SL_ENOMEM;
    if (ncols == 0 || nin == 0) return SL_EINVAL;
    m.cur = sl_calloc(nin, sizeof(*m.cur));
    m.heap = sl_malloc(nin * sizeof(*m.heap));
    present = sl_calloc(ncols, 1);
    if (!m.cur || !m.heap || !present) goto out;
    for (size_t i = 0; i < nin; i++) {
        m.ncur = i + 1;
        rc = cursor_open(&m, &m.cur[i], &in[i]);
        if (rc < 0) goto out;
        for (size_t c = 0; c < ncols; c++)
            if (m.cur[i].map[c] >= 0) present[c] = 1;
        if (rc == 1) {
            m.heap[m.nheap++] = i;
            heap_up(&m, m.nheap - 1);
        }
    }
    present[0] = 1;
    if ((rc = storage_layout_init(&L, db, table, cols, present, ncols)) < 0) goto out;
    have_layout = 1;
    rc = SL_ENOMEM;
    ob.vals = sl_calloc(L.ncols, sizeof(*ob.vals));
    ob.valid = sl_calloc(L.ncols, sizeof(*ob.valid));
    ob.data = sl_calloc(L.ncols, sizeof(*ob.data));
    if (!ob.vals || !ob.valid || !ob.data) goto out;
    for (size_t k = 0; k < L.ncols; k++) {
        ob.vals[k] = sl_calloc(MERGE_BATCH_ROWS, esize(L.spec[k].type));
        ob.valid[k] = sl_calloc(MERGE_BATCH_ROWS, 1);
        if (!ob.vals[k] || !ob.valid[k]) goto out;
        ob.data[k].values = ob.vals[k];
        ob.data[k].valid = L.cat_id[k] == 0 ? NULL : ob.valid[k];
    }
    size_t tcol = L.ntags; /* the time column's file index */
    char tmp[4400];
    if ((size_t)snprintf(tmp, sizeof(tmp), "%s.tmp", out_path) >= sizeof(tmp)) {
        rc = SL_ERANGE;
        goto out;
    }
    rc = 0;
    while (m.nheap > 0 && rc == 0) {
        struct cursor *top = &m.cur[m.heap[0]];
        int64_t t = top->time;
        sl_buf_reset(&curkey);
        if ((rc = sl_buf_add(&curkey, top->key.ptr, top->key.len)) < 0) break;
        int keep = t >= drop_before;
        size_t o = ob.n;
        if (keep) {
            if (!pw && (rc = pq_writer_open(tmp, L.spec, L.ncols, &L.po, &pw)) < 0) break;
            for (size_t k = 0; k < L.ncols; k++) {
                ob.valid[k][o] = 0;
                memset((char *)ob.vals[k] + o * esize(L.spec[k].type), 0, esize(L.spec[k].type));
            }
            ((int64_t *)ob.vals[tcol])[o] = t;
        }
        /* every cursor positioned on (curkey, t), oldest seq first */
        while (m.nheap > 0 && rc == 0) {
            size_t ci = m.heap[0];
            struct cursor *c = &m.cur[ci];
            if (c->time != t || strcmp(c->key.ptr, curkey.ptr)) break;
            if (keep && (rc = apply_row(&L, &ob, o, c)) < 0) break;
            int more = cursor_next(&m, c, &curkey);
            if (more < 0) {
                rc = more;
                break;
            }
            if (more) {
                heap_down(&m, 0);
            } else {
                m.heap[0] = m.heap[--m.nheap];
                if (m.nheap) heap_down(&m, 0);
            }
        }
        if (rc < 0 || !keep) continue;
        ob.n++;
        res->rows++;
        if (t < res->min_time) res->min_time = t;
        if (t > res->max_time) res->max_time = t;
        if (ob.n == MERGE_BATCH_ROWS) rc = batch_flush(&ob, pw);
    }
    if (rc == 0 && pw) rc = batch_flush(&ob, pw);
    if (rc == 0 && pw) {
        rc = pq_writer_commit(pw, out_path);
        pw = NULL;
    }
out:
    if (pw) pq_writer_abort(pw);
    res->peak_rows_held = m.peak_rows_held;
    for (size_t i = 0; i < m.ncur; i++)
        cursor_release(&m.cur[i], ncols);
    for (size_t k = 0; have_layout && k < L.ncols; k++) {
        if (ob.vals) sl_free(ob.vals[k]);
        if (ob.valid) sl_free(ob.valid[k]);
    }
    if (have_layout) storage_layout_release(&L);
    sl_free(ob.vals);
    sl_free(ob.valid);
    sl_free(ob.data);
    sl_arena_release(&ob.strs);
    sl_buf_release(&curkey);
    sl_free(m.cur);
    sl_free(m.heap);
    sl_free(present);
    if (rc < 0) res->rows = 0;
    return rc;
}

/* ---- choosing and merging files of a window ---- */

static int64_t floor_to(int64_t t, int64_t len)
{
    return t - (((t % len) + len) % len);
}

static int64_t win_end(int64_t start, int64_t len)
{
    return start > INT64_MAX - len ? INT64_MAX : start + len;
}

/* The window file f belongs in at time now: its own, or the roll-up tier
 * window around it once that window lies wholly before now minus the tier's
 * grace period (a day, then a 30-day window; epoch-aligned, so they nest). */
static void target_window(const struct cat_file *f, int64_t now, int64_t *ws, int64_t *we)
{
    static const int64_t len[] = {COMPACT_DAY_NS, COMPACT_MONTH_NS};
    static const int64_t grace[] = {COMPACT_DAY_GRACE_NS, COMPACT_MONTH_GRACE_NS};
    int64_t flen = f->part_len > 0 ? f->part_len : CAT_DEFAULT_PART_LEN;
    *ws = f->part_start;
    *we = win_end(f->part_start, flen);
    for (size_t k = 0; k < 2; k++) {
        if (*we - *ws >= len[k]) continue;
        int64_t s = floor_to(f->part_start, len[k]), e = win_end(s, len[k]);
        if (e > INT64_MIN + grace[k] && e <= now - grace[k] && s <= *ws && e >= *we) {
            *ws = s;
            *we = e;
        }
    }
}

/* Estimated bytes of one decoded row group of a file. */
static size_t rg_mem(const struct cat_file *f, size_t ncols)
{
    uint64_t rows = f->rows < STORAGE_ROW_GROUP_ROWS ? f->rows : STORAGE_ROW_GROUP_ROWS;
    return (size_t)rows * (ncols * 17 + 64);
}

static int idx_seq_cmp(const void *a, const void *b, void *arg)
{
    const struct cat_table *t = arg;
    uint32_t x = t->files[*(const size_t *)a].seq, y = t->files[*(const size_t *)b].seq;
    return x < y ? -1 : x > y;
}

/* The files of window [ws, we) (those whose target window overlaps it), by
 * seq; returns their number (idx has t->nfiles entries). Catalog lock held. */
static size_t window_files(const struct cat_table *t, int64_t ws, int64_t we, int64_t now,
                           size_t *idx)
{
    size_t n = 0;
    for (size_t i = 0; i < t->nfiles; i++) {
        int64_t s, e;
        target_window(&t->files[i], now, &s, &e);
        if (s < we && e > ws) idx[n++] = i;
    }
    qsort_r(idx, n, sizeof(*idx), idx_seq_cmp, (void *)t);
    return n;
}

/* Picks the next run of files of window [ws, we) to merge: a run of files
 * adjacent in seq order among the window's files (so that the merged file,
 * taking the largest seq of the run, is still older than every file after
 * it and newer than every file before it). The run's indexes into t->files
 * go to run[], their number to *nrun. Returns 0 when there is nothing to do.
 * A rolled-up window (longer than an hour) is merged once it holds two
 * files, an hour window once it holds min_files. Catalog lock held. */
static int pick_run(const struct cat_table *t, int64_t ws, int64_t we, int64_t now,
                    size_t min_files, size_t *run, size_t *nrun)
{
    size_t *idx = sl_malloc((t->nfiles ? t->nfiles : 1) * sizeof(*idx));
    if (!idx) return 0;
    size_t cnt = window_files(t, ws, we, now, idx);
    size_t need = we - ws > CAT_DEFAULT_PART_LEN ? 2 : min_files;
    size_t best_lo = 0, best_n = 0;
    for (size_t i = 0; cnt >= need && cnt >= 2 && i < cnt;) {
        if (t->files[idx[i]].bytes >= COMPACT_FULL_BYTES) {
            i++;
            continue;
        }
        size_t j = i, mem = 0;
        while (j < cnt && j - i < COMPACT_MAX_FILES &&
               t->files[idx[j]].bytes < COMPACT_FULL_BYTES) {
            size_t add = rg_mem(&t->files[idx[j]], t->ncols);
            if (j > i + 1 && mem + add > COMPACT_MEM_BUDGET) break;
            mem += add;
            j++;
        }
        if (j - i > best_n) {
            best_n = j - i;
            best_lo = i;
        }
        i = j;
    }
    if (best_n >= 2) memcpy(run, idx + best_lo, best_n * sizeof(*run));
    sl_free(idx);
    *nrun = best_n;
    return best_n >= 2;
}

/* One merge step in window [ws, we); returns 1 when files were merged, 0
 * when there was nothing to do, or an error. The merged file's window is
 * [ws, we). */
static int compact_step(struct engine *e, struct cat_db *db, struct cat_table *t, int64_t ws,
                        int64_t we, int64_t now, size_t min_files)
{
    catalog_rdlock(e->catalog);
    size_t run[COMPACT_MAX_FILES], nf = 0;
    if (t->deleted || db->deleted || !pick_run(t, ws, we, now, min_files, run, &nf)) {
        catalog_unlock(e->catalog);
        return 0;
    }
    size_t ncols = t->ncols;
    uint32_t drop[COMPACT_MAX_FILES];
    struct merge_input in[COMPACT_MAX_FILES];
    char *paths[COMPACT_MAX_FILES] = {0};
    struct store_col *cols = sl_calloc(ncols, sizeof(*cols));
    char *dbname = sl_strdup(db->name), *tname = sl_strdup(t->name);
    uint64_t max_lsn = 0;
    uint32_t seq = 0;
    int rc = cols && dbname && tname ? 0 : SL_ENOMEM;
    for (size_t i = 0; i < ncols && rc == 0; i++) {
        cols[i] = (struct store_col){sl_strdup(t->cols[i].name), t->cols[i].kind, t->cols[i].type};
        if (!cols[i].name) rc = SL_ENOMEM;
    }
    for (size_t i = 0; i < nf && rc == 0; i++) {
        const struct cat_file *f = &t->files[run[i]];
        drop[i] = f->seq;
        if (f->seq > seq) seq = f->seq;
        if (f->max_lsn > max_lsn) max_lsn = f->max_lsn;
        struct sl_buf p;
        sl_buf_init(&p, 0);
        if (sl_buf_addf(&p, "%s/%s", e->data_dir, f->path) < 0) rc = SL_ENOMEM;
        paths[i] = p.ptr;
        if (!paths[i]) rc = SL_ENOMEM;
        in[i] = (struct merge_input){paths[i], f->seq};
    }
    /* the file name takes a fresh number; the catalog seq is the newest input's */
    uint32_t name_seq = t->next_seq++;
    int64_t cut = db->retention_ns ? sl_now_ns() - db->retention_ns : INT64_MIN;
    catalog_unlock(e->catalog);

    struct sl_buf rel;
    sl_buf_init(&rel, 0);
    char abs[4200] = "";
    struct merge_result mr = {0};
    if (rc == 0) rc = storage_file_relpath(dbname, tname, ws, name_seq, &rel);
    if (rc == 0) {
        snprintf(abs, sizeof(abs), "%s/%s", e->data_dir, rel.ptr);
        /* a new window's directory (its first day) may not exist yet */
        char dir[4200];
        snprintf(dir, sizeof(dir), "%s", abs);
        char *slash = strrchr(dir, '/');
        if (slash) *slash = '\0';
        rc = sl_mkdirs(dir, 0);
    }
    if (rc == 0) rc = storage_merge_files(dbname, tname, cols, ncols, in, nf, cut, abs, &mr);
    if (rc == 0) {
        struct stat st;
        struct cat_file f = {
            .path = rel.ptr,
            .part_start = ws,
            .part_len = we - ws,
            .min_time = mr.min_time,
            .max_time = mr.max_time,
            .rows = mr.rows,
            .bytes = mr.rows && stat(abs, &st) == 0 ? (uint64_t)st.st_size : 0,
            .max_lsn = max_lsn,
            .seq = seq,
        };
        catalog_wrlock(e->catalog);
        rc = t->deleted || db->deleted
                 ? SL_ENOENT
                 : catalog_table_files_update(e->catalog, t, mr.rows ? &f : NULL, drop, nf);
        catalog_unlock(e->catalog);
        if (rc < 0 && mr.rows) unlink(abs);
    }
    if (rc == 0) {
        /* the catalog no longer names them: now they may go */
        for (size_t i = 0; i < nf; i++)
            unlink(paths[i]);
        sl_debug("compact", "merged %zu files into %s (%llu rows, %zu rows held at most)", nf,
                 mr.rows ? rel.ptr : "nothing", (unsigned long long)mr.rows, mr.peak_rows_held);
        rc = 1;
    } else if (rc != SL_ENOENT) {
        sl_error("compact", "compacting into %s failed: %s", abs, sl_strerror(rc));
    } else {
        rc = 0;
    }
    for (size_t i = 0; i < nf; i++)
        sl_free(paths[i]);
    for (size_t i = 0; cols && i < ncols; i++)
        sl_free(cols[i].name);
    sl_free(cols);
    sl_free(dbname);
    sl_free(tname);
    sl_buf_release(&rel);
    return rc;
}

/* Compacts one window until no mergeable run is left. */
static int compact_window(struct engine *e, struct cat_db *db, struct cat_table *t, int64_t ws,
                          int64_t we, int64_t now, size_t min_files)
{
    for (int steps = 0; steps < 1000; steps++) {
        int rc = compact_step(e, db, t, ws, we, now, min_files);
        if (rc <= 0) return rc;
    }
    return 0;
}

struct cjob {
    struct cat_db *db;
    struct cat_table *t;
    int64_t ws, we;
};

static int win_cmp(const void *a, const void *b)
{
    const int64_t *x = a, *y = b;
    if (x[0] != y[0]) return x[0] < y[0] ? -1 : 1;
    return x[1] < y[1] ? -1 : x[1] > y[1];
}

/* Adds the windows of table t that have work to *jobs: the target windows
 * of its files, overlapping ones joined. Catalog lock held. */
static int table_jobs(struct cat_db *d, struct cat_table *t, int64_t now, size_t min_files,
                      struct cjob **jobs, size_t *n, size_t *cap)
{
    if (t->nfiles < 2) return 0;
    int64_t(*w)[2] = sl_malloc(t->nfiles * sizeof(*w));
    if (!w) return SL_ENOMEM;
    int rc = 0;
    size_t nw = t->nfiles;
    for (size_t i = 0; i < nw; i++)
        target_window(&t->files[i], now, &w[i][0], &w[i][1]);
    qsort(w, nw, sizeof(*w), win_cmp);
    for (size_t i = 0; rc == 0 && i < nw;) {
        int64_t ws = w[i][0], we = w[i][1];
        size_t j = i + 1;
        for (; j < nw && w[j][0] < we; j++)
            if (w[j][1] > we) we = w[j][1];
        size_t need = we - ws > CAT_DEFAULT_PART_LEN ? 2 : min_files;
        if (j - i >= need) {
            struct cjob *g = sl_grow(*jobs, cap, *n + 1, sizeof(**jobs));
            if (!g) {
                rc = SL_ENOMEM;
                break;
            }
            *jobs = g;
            (*jobs)[(*n)++] = (struct cjob){d, t, ws, we};
        }
        i = j;
    }
    sl_free(w);
    return rc;
}

int storage_compact(struct engine *e, size_t min_files)
{
    if (min_files < 2) min_files = 2;
    /* expired files go first: no point merging them */
    int rc = storage_enforce_retention(e, sl_now_ns());
    if (rc < 0) return rc;
    pthread_mutex_lock(&e->persist_lock);
    int64_t now = sl_now_ns(); /* one "now" for the whole pass: windows stay put */
    catalog_rdlock(e->catalog);
    size_t n = 0, cap = 0;
    struct cjob *jobs = NULL;
    for (size_t i = 0; i < e->catalog->ndbs && rc == 0; i++) {
        struct cat_db *d = e->catalog->dbs[i];
        if (d->deleted) continue;
        for (size_t k = 0; k < d->ntables && rc == 0; k++)
            if (!d->tables[k]->deleted)
                rc = table_jobs(d, d->tables[k], now, min_files, &jobs, &n, &cap);
    }
    catalog_unlock(e->catalog);
    for (size_t i = 0; i < n && rc == 0; i++)
        rc = compact_window(e, jobs[i].db, jobs[i].t, jobs[i].ws, jobs[i].we, now, min_files);
    sl_free(jobs);
    pthread_mutex_unlock(&e->persist_lock);
    return rc;
}
