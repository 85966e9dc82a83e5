/*
 * delete.c — DELETE, DROP SERIES and DROP MEASUREMENT that really remove
 * data: the predicate (evaluation, WAL encoding), the buffer and file
 * passes, and the protocol that keeps deleted points deleted.
 *
 * PROTOCOL (storage_delete; all under engine->persist_lock, so no
 * persistence, compaction or retention runs meanwhile and no file appears
 * or changes behind our back)
 *
 *   1. Append a delete record to the WAL and sync it: it gets LSN D. From
 *      here on a crash replays it, in log order, after every record < D.
 *   2. Wait until no write that may have an LSN < D is still between its
 *      WAL append and its buffer insert (engine in-flight floors >= D).
 *   3. Buffer: remove the selected rows whose LSN is < D. Rows logged after
 *      D (written after the DELETE, or racing with it and logged later)
 *      stay, exactly as replay will keep them.
 *   4. Files: every file holds only rows < D (persistence is locked out
 *      since before D). A file whose rows the predicate cannot select is
 *      untouched; one it selects wholly (no tag condition, time range
 *      covering the file) is unregistered without being read; any other is
 *      rewritten without the selected rows, streaming row group by row
 *      group, into a new file that keeps the old catalog seq (so "newer
 *      file wins" on duplicates is unchanged): .tmp, fsync, rename, one
 *      catalog update swapping the entries, then unlink the old file — the
 *      crash-safety protocol of compaction (compact.c), and start-up
 *      deletes whichever file the catalog does not list.
 *
 * Why the WAL record: records < D still in the WAL are replayed after a
 * crash and would bring the deleted rows back into the buffer; replaying D
 * after them (storage_delete_replay: step 3 with LSN D) removes them again.
 * Segments are trimmed in order, so while any record < D is kept, D is too.
 * A delete interrupted by a crash before it answered may be partly applied
 * (rows gone from the buffer but not from every file); running it again
 * completes it.
 *
 * DROP MEASUREMENT (storage_drop_table) logs a delete record for the whole
 * measurement by name first, then marks the table deleted and empties its
 * file list in one catalog update, drops its buffer and unlinks its files.
 * Replay looks tables up by name, so rows of records < D land in a table
 * re-created later under the same name — and D removes them again.
 *
 * WHAT IS LEFT: a deletion never removes a table from the catalog (only
 * DROP MEASUREMENT does), so it changes no schema and races with no write;
 * InfluxDB 1.x keeps an emptied measurement's field types too. The SHOW
 * statements ask storage_table_has_rows and storage_table_tag_presence
 * instead, which look at the file list, the buffer and the files' row-group
 * null counts, so a measurement or tag key goes with its last point.
 *
 * RECORD (little-endian; the first byte tells it from a write record)
 *
 *   u8  DEL_REC_KIND (2)
 *   u8  format version (1)
 *   u16 reserved (0)
 *   u32 database id
 *   i64 tmin, i64 tmax (inclusive)
 *   ... the predicate tree in prefix order, one node as
 *       u8 op; DEL_AND/DEL_OR: two child nodes; DEL_TAG_*: u32 key length,
 *       key, u32 value length, value; DEL_NAME_*: u32 length, name/pattern;
 *       DEL_TRUE: nothing.
 *
 * Tag semantics are InfluxDB 1.x's: a series without the tag has the value
 * "" (so tag != 'x' selects it and tag = '' selects it); regexes match
 * anywhere in the value unless anchored.
 */
#include "storage/delete.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "common/err.h"
#include "common/re2ere.h"
#include "common/log.h"
#include "common/mem.h"
#include "common/timeutil.h"
#include "parquet/parquet.h"
#include "storage/engine.h"
#include "storage/persist.h"
#include "storage/rcache.h"
#include "wal/wal.h"

#define DEL_REC_VERSION 1
#define DEL_REC_HEADER  24
#define DEL_MAX_STRING  ((uint32_t)1 << 20)

/* ---- predicate ---- */

struct del_node *del_node_new(enum del_op op, const char *key, const char *val, struct del_node *l,
                              struct del_node *r)
{
    struct del_node *n = sl_calloc(1, sizeof(*n));
    if (n) {
        n->op = op;
        n->l = l;
        n->r = r;
        if ((key && !(n->key = sl_strdup(key))) || (val && !(n->val = sl_strdup(val)))) {
            del_node_free(n);
            return NULL;
        }
        return n;
    }
    del_node_free(l);
    del_node_free(r);
    return NULL;
}

void del_node_free(struct del_node *n)
{
    if (!n) return;
    del_node_free(n->l);
    del_node_free(n->r);
    if (n->re_ok) regfree(&n->re);
    sl_free(n->key);
    sl_free(n->val);
    sl_free(n);
}

void del_pred_release(struct del_pred *p)
{
    del_node_free(p->root);
    p->root = NULL;
}

static int compile_node(struct del_node *n, int depth, char *err, size_t errlen)
{
    if (!n) return 0;
    if (depth > DEL_MAX_DEPTH) {
        snprintf(err, errlen, "condition too deeply nested");
        return SL_EINVAL;
    }
    if ((n->op == DEL_TAG_RE || n->op == DEL_TAG_NRE || n->op == DEL_NAME_RE) && !n->re_ok) {
        int icase;
        char *tr = sl_re2_to_ere(n->val ? n->val : "", &icase);
        if (!tr) return SL_ENOMEM;
        int r = regcomp(&n->re, tr, REG_EXTENDED | REG_NOSUB | (icase ? REG_ICASE : 0));
        sl_free(tr);
        if (r != 0) {
            snprintf(err, errlen, "invalid regular expression /%s/", n->val ? n->val : "");
            return SL_EINVAL;
        }
        n->re_ok = 1;
    }
    int rc = compile_node(n->l, depth + 1, err, errlen);
    return rc < 0 ? rc : compile_node(n->r, depth + 1, err, errlen);
}

int del_pred_compile(struct del_pred *p, char *err, size_t errlen)
{
    return compile_node(p->root, 0, err, errlen);
}

static const char *tag_value(const char *key, size_t ntags, const char *const *keys,
                             const char *const *vals)
{
    for (size_t i = 0; i < ntags; i++)
        if (!strcmp(keys[i], key)) return vals[i];
    return "";
}

static int node_re_match(const struct del_node *n, const char *s)
{
    return n->re_ok && regexec(&n->re, s, 0, NULL, 0) == 0;
}

static int eval_node(const struct del_node *n, const char *m, size_t ntags, const char *const *keys,
                     const char *const *vals)
{
    int a, b;
    switch (n->op) {
    case DEL_TRUE: return 1;
    case DEL_AND:
        a = eval_node(n->l, m, ntags, keys, vals);
        if (a == 0) return 0;
        b = eval_node(n->r, m, ntags, keys, vals);
        return b == 0 ? 0 : (a == 1 && b == 1) ? 1 : DEL_MAYBE;
    case DEL_OR:
        a = eval_node(n->l, m, ntags, keys, vals);
        if (a == 1) return 1;
        b = eval_node(n->r, m, ntags, keys, vals);
        return b == 1 ? 1 : (a == 0 && b == 0) ? 0 : DEL_MAYBE;
    case DEL_NAME_EQ: return !strcmp(m, n->val);
    case DEL_NAME_RE: return node_re_match(n, m);
    default: break;
    }
    if (!keys) return DEL_MAYBE;
    const char *v = tag_value(n->key, ntags, keys, vals);
    switch (n->op) {
    case DEL_TAG_EQ: return !strcmp(v, n->val);
    case DEL_TAG_NE: return strcmp(v, n->val) != 0;
    case DEL_TAG_RE: return node_re_match(n, v);
    case DEL_TAG_NRE: return !node_re_match(n, v);
    default: return 0;
    }
}

int del_pred_eval(const struct del_pred *p, const char *measurement, size_t ntags,
                  const char *const *keys, const char *const *vals)
{
    return p->root ? eval_node(p->root, measurement, ntags, keys, vals) : 1;
}

/* ---- record encoding ---- */

static int put_u32(struct sl_buf *b, uint32_t v)
{
    unsigned char x[4];
    for (int i = 0; i < 4; i++)
        x[i] = (unsigned char)(v >> (8 * i));
    return sl_buf_add(b, x, 4);
}

static int put_u64(struct sl_buf *b, uint64_t v)
{
    unsigned char x[8];
    for (int i = 0; i < 8; i++)
        x[i] = (unsigned char)(v >> (8 * i));
    return sl_buf_add(b, x, 8);
}

static int put_str(struct sl_buf *b, const char *s)
{
    size_t n = s ? strlen(s) : 0;
    if (n > DEL_MAX_STRING) return SL_ETOOBIG;
    int rc = put_u32(b, (uint32_t)n);
    return rc < 0 ? rc : sl_buf_add(b, s ? s : "", n);
}

static int encode_node(const struct del_node *n, struct sl_buf *b, int depth)
{
    if (depth > DEL_MAX_DEPTH) return SL_EINVAL;
    int rc = sl_buf_addc(b, (char)n->op);
    if (rc < 0) return rc;
    switch (n->op) {
    case DEL_TRUE: return 0;
    case DEL_AND:
    case DEL_OR:
        if (!n->l || !n->r) return SL_EINVAL;
        if ((rc = encode_node(n->l, b, depth + 1)) < 0) return rc;
        return encode_node(n->r, b, depth + 1);
    case DEL_TAG_EQ:
    case DEL_TAG_NE:
    case DEL_TAG_RE:
    case DEL_TAG_NRE:
        if ((rc = put_str(b, n->key)) < 0) return rc;
        return put_str(b, n->val);
    case DEL_NAME_EQ:
    case DEL_NAME_RE: return put_str(b, n->val);
    }
    return SL_EINVAL;
}

int del_pred_encode(const struct del_pred *p, uint32_t db_id, struct sl_buf *out)
{
    unsigned char h[4] = {DEL_REC_KIND, DEL_REC_VERSION, 0, 0};
    int rc = sl_buf_add(out, h, 4);
    if (rc == 0) rc = put_u32(out, db_id);
    if (rc == 0) rc = put_u64(out, (uint64_t)p->tmin);
    if (rc == 0) rc = put_u64(out, (uint64_t)p->tmax);
    if (rc == 0 && p->root)
        rc = encode_node(p->root, out, 0);
    else if (rc == 0)
        rc = sl_buf_addc(out, (char)DEL_TRUE);
    return rc;
}

struct reader {
    const unsigned char *p;
    size_t len, pos;
};

static int get_u32(struct reader *r, uint32_t *v)
{
    if (r->len - r->pos < 4) return SL_ECORRUPT;
    *v = 0;
    for (int i = 3; i >= 0; i--)
        *v = *v << 8 | r->p[r->pos + (size_t)i];
    r->pos += 4;
    return 0;
}

static uint64_t get_u64_at(const unsigned char *p)
{
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--)
        v = v << 8 | p[i];
    return v;
}

static int get_str(struct reader *r, char **out)
{
    uint32_t n;
    int rc = get_u32(r, &n);
    if (rc < 0) return rc;
    if (n > DEL_MAX_STRING || r->len - r->pos < n || memchr(r->p + r->pos, 0, n))
        return SL_ECORRUPT;
    if (!(*out = sl_strndup((const char *)r->p + r->pos, n))) return SL_ENOMEM;
    r->pos += n;
    return 0;
}

static int decode_node(struct reader *r, int depth, struct del_node **out)
{
    *out = NULL;
    if (depth > DEL_MAX_DEPTH || r->pos >= r->len) return SL_ECORRUPT;
    unsigned op = r->p[r->pos++];
    if (op > DEL_NAME_RE) return SL_ECORRUPT;
    struct del_node *n = sl_calloc(1, sizeof(*n));
    if (!n) return SL_ENOMEM;
    n->op = (enum del_op)op;
    int rc = 0;
    switch (n->op) {
    case DEL_TRUE: break;
    case DEL_AND:
    case DEL_OR:
        rc = decode_node(r, depth + 1, &n->l);
        if (rc == 0) rc = decode_node(r, depth + 1, &n->r);
        break;
    case DEL_TAG_EQ:
    case DEL_TAG_NE:
    case DEL_TAG_RE:
    case DEL_TAG_NRE:
        rc = get_str(r, &n->key);
        if (rc == 0) rc = get_str(r, &n->val);
        break;
    case DEL_NAME_EQ:
    case DEL_NAME_RE: rc = get_str(r, &n->val); break;
    }
    if (rc < 0) {
        del_node_free(n);
        return rc;
    }
    *out = n;
    return 0;
}

int del_pred_decode(const void *rec, size_t len, uint32_t *db_id, struct del_pred *p)
{
    const unsigned char *h = rec;
    memset(p, 0, sizeof(*p));
    if (len < DEL_REC_HEADER + 1 || h[0] != DEL_REC_KIND || h[1] != DEL_REC_VERSION)
        return SL_ECORRUPT;
    struct reader r = {h, len, 4};
    uint32_t id;
    get_u32(&r, &id);
    *db_id = id;
    p->tmin = (int64_t)get_u64_at(h + 8);
    p->tmax = (int64_t)get_u64_at(h + 16);
    r.pos = DEL_REC_HEADER;
    int rc = decode_node(&r, 0, &p->root);
    if (rc == 0 && r.pos != len) rc = SL_ECORRUPT;
    char err[128];
    if (rc == 0 && del_pred_compile(p, err, sizeof(err)) == SL_EINVAL) rc = SL_ECORRUPT;
    if (rc < 0) del_pred_release(p);
    return rc;
}

/* ---- the buffer pass ---- */

/* Removes the selected rows with LSN < before from the buffer tables of
 * database db_id. */
static int apply_buffer(struct engine *e, uint32_t db_id, const struct del_pred *p, uint64_t before,
                        uint64_t *removed)
{
    int rc = 0;
    catalog_rdlock(e->catalog);
    struct cat_db *db = NULL;
    for (size_t i = 0; i < e->catalog->ndbs; i++)
        if (e->catalog->dbs[i]->id == db_id && !e->catalog->dbs[i]->deleted)
            db = e->catalog->dbs[i];
    for (size_t k = 0; db && k < db->ntables && rc == 0; k++) {
        struct cat_table *t = db->tables[k];
        if (t->deleted || del_pred_eval(p, t->name, 0, NULL, NULL) == 0) continue;
        struct buf_table *bt = buffer_table_find(&e->buffer, db_id, t->id);
        if (!bt) continue;
        pthread_mutex_lock(&bt->lock);
        uint8_t *match = sl_malloc(bt->nseries ? bt->nseries : 1);
        const char **keys = sl_malloc((t->ncols + 1) * sizeof(*keys));
        if (!match || !keys) rc = SL_ENOMEM;
        size_t any = 0;
        for (size_t s = 0; rc == 0 && s < bt->nseries; s++) {
            const struct buf_series *se = &bt->series[s];
            size_t nt = 0;
            for (uint32_t i = 0; i < se->ntags && nt < t->ncols; i++)
                keys[nt++] = se->tag_cols[i] < t->ncols ? t->cols[se->tag_cols[i]].name : "";
            match[s] = del_pred_eval(p, t->name, nt, keys, (const char *const *)se->tag_vals) == 1;
            any += match[s];
        }
        if (rc == 0 && any)
            *removed += buffer_delete_rows_locked(&e->buffer, bt, match, bt->nseries, p->tmin,
                                                  p->tmax, before);
        pthread_mutex_unlock(&bt->lock);
        sl_free(match);
        sl_free(keys);
    }
    catalog_unlock(e->catalog);
    return rc;
}

int storage_delete_replay(struct engine *e, uint64_t lsn, const void *rec, size_t len)
{
    struct del_pred p;
    uint32_t db_id;
    int rc = del_pred_decode(rec, len, &db_id, &p);
    if (rc < 0) return rc;
    uint64_t removed = 0;
    rc = apply_buffer(e, db_id, &p, lsn, &removed);
    del_pred_release(&p);
    return rc;
}

/* ---- is anything left? ---- */

static int part_has_rows(const struct buf_part *p, int64_t cut)
{
    return p->nrows && p->max_time >= cut;
}

int storage_table_has_rows(struct engine *e, const struct cat_db *db, const struct cat_table *t)
{
    if (db->deleted || t->deleted) return 0;
    /* the cut-off of storage_scan_iter_open: expired rows are invisible */
    int64_t cut = db->retention_ns ? sl_now_ns() - db->retention_ns : INT64_MIN;
    for (size_t i = 0; i < t->nfiles; i++)
        if (t->files[i].rows && t->files[i].max_time >= cut) return 1;
    struct buf_table *bt = buffer_table_find(&e->buffer, db->id, t->id);
    if (!bt) return 0;
    int any = 0;
    pthread_mutex_lock(&bt->lock);
    for (size_t i = 0; !any && i < bt->nparts; i++)
        any = part_has_rows(bt->parts[i], cut);
    for (size_t i = 0; !any && i < bt->nsealed; i++)
        any = part_has_rows(bt->sealed[i], cut);
    pthread_mutex_unlock(&bt->lock);
    return any;
}

/* Marks in present[] the tag columns of f with a value in some row, from the
 * row groups' null counts (a chunk without one counts as having values). */
static int file_tag_presence(struct engine *e, const struct cat_table *t, const struct cat_file *f,
                             uint8_t *present, size_t *left)
{
    char path[4200], err[256];
    snprintf(path, sizeof(path), "%s/%s", e->data_dir, f->path);
    struct pq_reader *r;
    int rc = rcache_open(e->readers, path, &r, err, sizeof(err));
    if (rc < 0) {
        sl_warn("delete", "cannot read %s: %s", path, err);
        return rc;
    }
    size_t nrg = pq_reader_num_row_groups(r);
    for (size_t c = 1; c < t->ncols && *left; c++) {
        if (present[c] || t->cols[c].kind != CAT_COL_TAG) continue;
        long fc = pq_reader_find_column(r, t->cols[c].name);
        for (size_t rg = 0; fc >= 0 && rg < nrg && !present[c]; rg++) {
            struct pq_stats st;
            if (pq_reader_stats(r, rg, (size_t)fc, &st) < 0 || !st.has_null_count ||
                st.null_count < pq_reader_row_group_rows(r, rg))
                present[c] = 1;
        }
        *left -= present[c];
    }
    rcache_release(e->readers, path, r);
    return 0;
}

int storage_table_tag_presence(struct engine *e, const struct cat_db *db, const struct cat_table *t,
                               uint8_t *present)
{
    size_t left = 0;
    for (size_t c = 0; c < t->ncols; c++)
        left += t->cols[c].kind == CAT_COL_TAG;
    if (db->deleted || t->deleted || !left) return 0;
    int64_t cut = db->retention_ns ? sl_now_ns() - db->retention_ns : INT64_MIN;
    /* the buffer: the tags of the series with a row */
    struct buf_table *bt = buffer_table_find(&e->buffer, db->id, t->id);
    int rc = 0;
    if (bt) {
        pthread_mutex_lock(&bt->lock);
        uint8_t *has = sl_calloc(bt->nseries ? bt->nseries : 1, 1);
        if (!has) rc = SL_ENOMEM;
        /* stops once every tag key is seen: after a few rows, as a rule */
        for (size_t k = 0; has && left && k < bt->nparts + bt->nsealed; k++) {
            const struct buf_part *p = k < bt->nparts ? bt->parts[k] : bt->sealed[k - bt->nparts];
            if (!part_has_rows(p, cut)) continue;
            for (size_t i = 0; i < p->nrows && left; i++) {
                uint32_t sid = p->sid[i];
                if (sid >= bt->nseries || has[sid] || p->time[i] < cut) continue;
                has[sid] = 1;
                const struct buf_series *se = &bt->series[sid];
                for (uint32_t j = 0; j < se->ntags; j++) {
                    uint32_t c = se->tag_cols[j];
                    if (c < t->ncols && !present[c] && se->tag_vals[j] && se->tag_vals[j][0]) {
                        present[c] = 1;
                        left--;
                    }
                }
            }
        }
        pthread_mutex_unlock(&bt->lock);
        sl_free(has);
    }
    /* the files, newest first (a tag added lately is found sooner) */
    for (size_t i = t->nfiles; rc == 0 && left && i-- > 0;)
        if (t->files[i].rows && t->files[i].max_time >= cut)
            rc = file_tag_presence(e, t, &t->files[i], present, &left);
    return rc;
}

/* ---- rewriting one file without the selected rows ---- */

static int col_type_ok(enum pq_ctype pt, const struct store_col *c, int is_time)
{
    if (is_time) return pt == PQ_TIME_NS;
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

static size_t elem_size(enum pq_ctype t)
{
    return t == PQ_BOOL ? 1 : t == PQ_STRING ? sizeof(struct pq_str) : 8;
}

struct rewrite_result {
    uint64_t kept, removed;
    int64_t min_time, max_time;
};

struct rewriter {
    const struct del_pred *p;
    const char *table;
    const struct store_col *cols;
    size_t ncols;
    struct pq_reader *r;
    long *map;                  /* catalog column -> file column, -1 = absent */
    struct pq_column_buf *bufs; /* by catalog column */
    uint32_t *tags;             /* catalog tag columns present */
    size_t ntags;
    const char **keys;
    char **vals;    /* NUL-terminated copies of the current series' tag values */
    size_t *vcap;   /* capacity of each vals[] */
    int have_prev;  /* vals hold the previous row's tags */
    int prev_match; /* and this was its answer */
};

static int valid_at(const struct pq_column_buf *b, size_t i)
{
    return !b->valid || b->valid[i];
}

/* Whether row i (time in range) belongs to a selected series. */
static int row_selected(struct rewriter *w, size_t i, int *out)
{
    int same = w->have_prev;
    for (size_t k = 0; k < w->ntags; k++) {
        const struct pq_column_buf *b = &w->bufs[w->tags[k]];
        const struct pq_str *s = &((const struct pq_str *)b->values)[i];
        const char *v = valid_at(b, i) && s->ptr ? s->ptr : "";
        size_t n = valid_at(b, i) ? s->len : 0;
        if (same && (strlen(w->vals[k]) != n || memcmp(w->vals[k], v, n) != 0)) same = 0;
        if (same) continue;
        /* copy from here on (the earlier ones are equal) */
        if (n + 1 > w->vcap[k]) {
            char *nv = sl_realloc(w->vals[k], n + 1);
            if (!nv) return SL_ENOMEM;
            w->vals[k] = nv;
            w->vcap[k] = n + 1;
        }
        memcpy(w->vals[k], v, n);
        w->vals[k][n] = '\0';
    }
    if (!same) {
        /* tags without a value are missing, which compares as "" anyway */
        w->prev_match =
            del_pred_eval(w->p, w->table, w->ntags, w->keys, (const char *const *)w->vals) == 1;
        w->have_prev = 1;
    }
    *out = w->prev_match;
    return 0;
}

static void rewriter_release(struct rewriter *w)
{
    if (w->bufs)
        for (size_t i = 0; i < w->ncols; i++)
            pq_column_buf_release(&w->bufs[i]);
    for (size_t k = 0; w->vals && k < w->ntags; k++)
        sl_free(w->vals[k]);
    sl_free(w->vals);
    sl_free(w->vcap);
    sl_free(w->keys);
    sl_free(w->bufs);
    sl_free(w->map);
    sl_free(w->tags);
    pq_reader_close(w->r);
}

/* Copies in_path without the rows p selects to out_path (via .tmp, fsync,
 * rename) — only when some row is removed and some is kept; otherwise no
 * file is left behind. Streams one row group at a time. */
static int rewrite_file(const char *db, const char *table, const struct store_col *cols,
                        size_t ncols, const struct del_pred *p, const char *in_path,
                        const char *out_path, struct rewrite_result *res)
{
    struct rewriter w = {.p = p, .table = table, .cols = cols, .ncols = ncols};
    struct file_layout L;
    int have_layout = 0;
    struct pq_writer *pw = NULL;
    struct pq_column_data *data = NULL;
    void **outv = NULL;
    uint8_t **outvalid = NULL;
    uint8_t *present = NULL;
    uint32_t *keep = NULL;
    char err[256] = "", tmp[4400];
    memset(res, 0, sizeof(*res));
    res->min_time = INT64_MAX;
    res->max_time = INT64_MIN;
    int rc = pq_reader_open(in_path, &w.r, err, sizeof(err));
    if (rc < 0) {
        sl_error("delete", "cannot read %s: %s", in_path, err);
        return rc;
    }
    rc = SL_ENOMEM;
    w.map = sl_malloc(ncols * sizeof(*w.map));
    w.bufs = sl_calloc(ncols, sizeof(*w.bufs));
    w.tags = sl_malloc(ncols * sizeof(*w.tags));
    w.keys = sl_calloc(ncols, sizeof(*w.keys));
    w.vals = sl_calloc(ncols, sizeof(*w.vals));
    w.vcap = sl_calloc(ncols, sizeof(*w.vcap));
    present = sl_calloc(ncols, 1);
    if (!w.map || !w.bufs || !w.tags || !w.keys || !w.vals || !w.vcap || !present) goto out;
    for (size_t i = 0; i < ncols; i++) {
        w.map[i] = pq_reader_find_column(w.r, cols[i].name);
        if (w.map[i] < 0) continue;
        const struct pq_column_info *ci = pq_reader_column(w.r, (size_t)w.map[i]);
        if (!col_type_ok(ci->type, &cols[i], i == 0)) {
            sl_error("delete", "%s: column \"%s\" has type %s, the catalog says otherwise", in_path,
                     cols[i].name, pq_ctype_name(ci->type));
            rc = SL_ECORRUPT;
            goto out;
        }
        present[i] = 1;
        if (i > 0 && cols[i].kind == CAT_COL_TAG) {
            w.keys[w.ntags] = cols[i].name;
            w.tags[w.ntags++] = (uint32_t)i;
        }
    }
    if (w.map[0] < 0) {
        sl_error("delete", "%s: no time column", in_path);
        rc = SL_ECORRUPT;
        goto out;
    }
    if ((rc = storage_layout_init(&L, db, table, cols, present, ncols)) < 0) goto out;
    have_layout = 1;
    rc = SL_ENOMEM;
    data = sl_calloc(L.ncols, sizeof(*data));
    outv = sl_calloc(L.ncols, sizeof(*outv));
    outvalid = sl_calloc(L.ncols, sizeof(*outvalid));
    if (!data || !outv || !outvalid) goto out;
    if ((size_t)snprintf(tmp, sizeof(tmp), "%s.tmp", out_path) >= sizeof(tmp)) {
        rc = SL_ERANGE;
        goto out;
    }
    rc = 0;
    size_t nrg = pq_reader_num_row_groups(w.r), cap = 0;
    for (size_t rg = 0; rg < nrg && rc == 0; rg++) {
        int64_t nr = pq_reader_row_group_rows(w.r, rg);
        if (nr <= 0) continue;
        size_t n = (size_t)nr;
        for (size_t i = 0; i < ncols && rc == 0; i++) {
            if (w.map[i] < 0) continue;
            pq_column_buf_release(&w.bufs[i]);
            rc = pq_reader_read_column(w.r, rg, (size_t)w.map[i], &w.bufs[i]);
            if (rc == 0 && w.bufs[i].nrows != n) rc = SL_ECORRUPT;
            if (rc < 0) sl_error("delete", "%s: %s", in_path, pq_reader_errmsg(w.r));
        }
        if (rc < 0) break;
        if (n > cap) {
            uint32_t *nk = sl_realloc(keep, n * sizeof(*keep));
            if (!nk) {
                rc = SL_ENOMEM;
                break;
            }
            keep = nk;
            for (size_t k = 0; k < L.ncols && rc == 0; k++) {
                void *v = sl_realloc(outv[k], n * elem_size(L.spec[k].type));
                uint8_t *va = v ? sl_realloc(outvalid[k], n) : NULL;
                if (v) outv[k] = v;
                if (va) outvalid[k] = va;
                if (!v || !va) rc = SL_ENOMEM;
            }
            if (rc < 0) break;
            cap = n;
        }
        const int64_t *tv = w.bufs[0].values;
        size_t nk = 0;
        for (size_t i = 0; i < n && rc == 0; i++) {
            int sel = 0;
            if (tv[i] >= p->tmin && tv[i] <= p->tmax) rc = row_selected(&w, i, &sel);
            if (sel) {
                res->removed++;
                continue;
            }
            keep[nk++] = (uint32_t)i;
            if (tv[i] < res->min_time) res->min_time = tv[i];
            if (tv[i] > res->max_time) res->max_time = tv[i];
        }
        if (rc < 0 || nk == 0) continue;
        res->kept += nk;
        for (size_t k = 0; k < L.ncols; k++) {
            const struct pq_column_buf *b = &w.bufs[L.cat_id[k]];
            size_t es = elem_size(L.spec[k].type);
            for (size_t j = 0; j < nk; j++) {
                memcpy((char *)outv[k] + j * es, (const char *)b->values + keep[j] * es, es);
                outvalid[k][j] = (uint8_t)valid_at(b, keep[j]);
            }
            data[k].values = outv[k];
            data[k].valid = L.cat_id[k] == 0 ? NULL : outvalid[k];
        }
        if (!pw && (rc = pq_writer_open(tmp, L.spec, L.ncols, &L.po, &pw)) < 0) break;
        rc = pq_writer_write(pw, data, nk);
    }
    if (rc == 0 && pw && res->removed > 0) {
        rc = pq_writer_commit(pw, out_path);
        pw = NULL;
    }
out:
    if (pw) pq_writer_abort(pw); /* nothing removed, or a failure: no new file */
    for (size_t k = 0; have_layout && k < L.ncols; k++) {
        if (outv) sl_free(outv[k]);
        if (outvalid) sl_free(outvalid[k]);
    }
    if (have_layout) storage_layout_release(&L);
    sl_free(outv);
    sl_free(outvalid);
    sl_free(data);
    sl_free(keep);
    sl_free(present);
    rewriter_release(&w);
    return rc;
}

/* ---- the file pass ---- */

static void unlink_data_file(struct engine *e, const char *rel)
{
    char abs[4200];
    snprintf(abs, sizeof(abs), "%s/%s", e->data_dir, rel);
    if (unlink(abs) < 0 && errno != ENOENT)
        sl_warn("delete", "cannot remove %s: %s", abs, strerror(errno));
    /* empty partition and table directories go too (rmdir fails otherwise) */
    for (int up = 0; up < 2; up++) {
        char *slash = strrchr(abs, '/');
        if (!slash) break;
        *slash = '\0';
        if (rmdir(abs) < 0) break;
    }
}

struct fjob {
    char *rel;
    struct cat_file f; /* the catalog entry, copied (path not owned) */
    int whole;         /* every row selected: unregister without reading */
};

/* Deletes the selected rows from the files of table t. */
static int apply_table_files(struct engine *e, struct cat_db *db, struct cat_table *t,
                             const struct del_pred *p, struct del_result *res)
{
    catalog_rdlock(e->catalog);
    int name_match = del_pred_eval(p, t->name, 0, NULL, NULL);
    size_t n = 0, ncols = t->ncols;
    struct fjob *jobs = sl_calloc(t->nfiles ? t->nfiles : 1, sizeof(*jobs));
    struct store_col *cols = sl_calloc(ncols ? ncols : 1, sizeof(*cols));
    int rc = jobs && cols ? 0 : SL_ENOMEM;
    for (size_t i = 0; rc == 0 && i < ncols; i++) /* names live as long as the catalog */
        cols[i] = (struct store_col){t->cols[i].name, t->cols[i].kind, t->cols[i].type};
    for (size_t i = 0; rc == 0 && !t->deleted && name_match && i < t->nfiles; i++) {
        const struct cat_file *f = &t->files[i];
        if (f->max_time < p->tmin || f->min_time > p->tmax) continue;
        jobs[n] =
            (struct fjob){sl_strdup(f->path), *f,
                          name_match == 1 && f->min_time >= p->tmin && f->max_time <= p->tmax};
        jobs[n].f.path = NULL;
        if (!jobs[n++].rel) rc = SL_ENOMEM;
    }
    const char *dbname = db->name, *tname = t->name;
    catalog_unlock(e->catalog);

    /* files wholly inside: one catalog update for all of them */
    size_t nwhole = 0;
    uint32_t *drop = sl_malloc((n ? n : 1) * sizeof(*drop));
    if (!drop) rc = SL_ENOMEM;
    for (size_t i = 0; rc == 0 && i < n; i++)
        if (jobs[i].whole) drop[nwhole++] = jobs[i].f.seq;
    if (rc == 0 && nwhole) {
        uint64_t rows = 0;
        catalog_wrlock(e->catalog);
        for (size_t i = 0; i < t->nfiles; i++)
            for (size_t k = 0; k < nwhole; k++)
                if (t->files[i].seq == drop[k]) rows += t->files[i].rows;
        rc = t->deleted ? 0 : catalog_table_files_update(e->catalog, t, NULL, drop, nwhole);
        catalog_unlock(e->catalog);
        for (size_t i = 0; rc == 0 && i < n; i++)
            if (jobs[i].whole) unlink_data_file(e, jobs[i].rel);
        if (rc == 0) {
            res->files_dropped += nwhole;
            res->file_rows += rows;
        }
    }

    /* the others: rewrite, then swap in one catalog update each */
    for (size_t i = 0; rc == 0 && i < n; i++) {
        if (jobs[i].whole) continue;
        catalog_rdlock(e->catalog);
        uint32_t name_seq = t->next_seq++; /* persistence is locked out: no race */
        catalog_unlock(e->catalog);
        struct sl_buf rel;
        sl_buf_init(&rel, 0);
        char in[4200], out[4200];
        snprintf(in, sizeof(in), "%s/%s", e->data_dir, jobs[i].rel);
        struct rewrite_result rr;
        rc = storage_file_relpath(dbname, tname, jobs[i].f.part_start, name_seq, &rel);
        if (rc == 0) {
            snprintf(out, sizeof(out), "%s/%s", e->data_dir, rel.ptr);
            rc = rewrite_file(dbname, tname, cols, ncols, p, in, out, &rr);
        }
        if (rc == 0 && rr.removed > 0) {
            struct stat st;
            /* the same entry (window, seq: its place in the "newer wins"
             * order, newest LSN) with the new file's name and contents */
            struct cat_file nf = jobs[i].f;
            nf.path = rel.ptr;
            nf.min_time = rr.min_time;
            nf.max_time = rr.max_time;
            nf.rows = rr.kept;
            nf.bytes = rr.kept && stat(out, &st) == 0 ? (uint64_t)st.st_size : 0;
            catalog_wrlock(e->catalog);
            rc = t->deleted ? SL_ENOENT
                            : catalog_table_files_update(e->catalog, t, rr.kept ? &nf : NULL,
                                                         &jobs[i].f.seq, 1);
            catalog_unlock(e->catalog);
            if (rc < 0 && rr.kept) unlink(out);
            if (rc == 0) {
                unlink_data_file(e, jobs[i].rel);
                res->file_rows += rr.removed;
                if (rr.kept)
                    res->files_rewritten++;
                else
                    res->files_dropped++;
            }
            if (rc == SL_ENOENT) rc = 0;
        }
        sl_buf_release(&rel);
    }
    for (size_t i = 0; i < n; i++)
        sl_free(jobs[i].rel);
    sl_free(jobs);
    sl_free(drop);
    sl_free(cols);
    return rc;
}

/* ---- the protocol ---- */

/* Step 2: every write that may hold an LSN below lsn has reached the buffer. */
static void wait_inflight_below(struct engine *e, uint64_t lsn)
{
    while (engine_inflight_floor(e) < lsn) {
        struct timespec ts = {0, 100000};
        nanosleep(&ts, NULL);
    }
}

/* Logs the deletion (step 1); returns its LSN in *lsn. */
static int log_delete(struct engine *e, uint32_t db_id, const struct del_pred *p, uint64_t *lsn)
{
    struct sl_buf rec;
    sl_buf_init(&rec, 0);
    int rc = del_pred_encode(p, db_id, &rec);
    if (rc == 0) rc = wal_append(e->wal, rec.ptr, rec.len, 1, lsn);
    sl_buf_release(&rec);
    return rc;
}

int storage_delete(struct engine *e, const char *db, size_t dblen, const struct del_pred *p,
                   struct del_result *res)
{
    struct del_result dummy;
    if (!res) res = &dummy;
    memset(res, 0, sizeof(*res));
    if (wal_failed(e->wal)) return SL_ESTATE;
    pthread_mutex_lock(&e->persist_lock);
    catalog_rdlock(e->catalog);
    struct cat_db *d = catalog_db_get(e->catalog, db, dblen);
    uint32_t db_id = d ? d->id : 0;
    catalog_unlock(e->catalog);
    uint64_t lsn = 0;
    int rc = d ? 0 : SL_ENOENT;
    if (rc == 0 && p->tmin <= p->tmax) rc = log_delete(e, db_id, p, &lsn);
    if (rc == 0 && lsn) {
        wait_inflight_below(e, lsn);
        rc = apply_buffer(e, db_id, p, lsn, &res->buffer_rows);
        /* tables are never freed while the catalog is open: walk a copy of the list */
        catalog_rdlock(e->catalog);
        size_t nt = d->deleted ? 0 : d->ntables;
        struct cat_table **ts = sl_malloc((nt ? nt : 1) * sizeof(*ts));
        if (!ts)
            rc = SL_ENOMEM;
        else if (nt)
            memcpy(ts, d->tables, nt * sizeof(*ts));
        catalog_unlock(e->catalog);
        for (size_t i = 0; rc == 0 && ts && i < nt; i++)
            if (!ts[i]->deleted) rc = apply_table_files(e, d, ts[i], p, res);
        sl_free(ts);
    }
    pthread_mutex_unlock(&e->persist_lock);
    if (rc == 0)
        sl_info("delete",
                "deleted %llu buffered and %llu persisted rows (%zu files rewritten, "
                "%zu dropped)",
                (unsigned long long)res->buffer_rows, (unsigned long long)res->file_rows,
                res->files_rewritten, res->files_dropped);
    return rc;
}

int storage_drop_table(struct engine *e, const char *db, size_t dblen, const char *table,
                       size_t tlen)
{
    if (wal_failed(e->wal)) return SL_ESTATE;
    char *name = sl_strndup(table, tlen);
    if (!name) return SL_ENOMEM;
    struct del_pred p = {INT64_MIN, INT64_MAX, del_node_new(DEL_NAME_EQ, NULL, name, NULL, NULL)};
    sl_free(name);
    if (!p.root) return SL_ENOMEM;
    pthread_mutex_lock(&e->persist_lock);
    catalog_rdlock(e->catalog);
    struct cat_db *d = catalog_db_get(e->catalog, db, dblen);
    struct cat_table *t = d ? cat_db_table_get(d, table, tlen) : NULL;
    uint32_t db_id = d ? d->id : 0;
    catalog_unlock(e->catalog);
    int rc = t ? 0 : SL_ENOENT;
    uint64_t lsn = 0;
    if (rc == 0) rc = log_delete(e, db_id, &p, &lsn);
    if (rc == 0) wait_inflight_below(e, lsn);
    char **paths = NULL;
    size_t n = 0;
    if (rc == 0) {
        catalog_wrlock(e->catalog);
        uint32_t *seqs = sl_malloc((t->nfiles ? t->nfiles : 1) * sizeof(*seqs));
        paths = sl_calloc(t->nfiles ? t->nfiles : 1, sizeof(*paths));
        if (!seqs || !paths) rc = SL_ENOMEM;
        for (size_t i = 0; rc == 0 && i < t->nfiles; i++) {
            seqs[n] = t->files[i].seq;
            if (!(paths[n++] = sl_strdup(t->files[i].path))) rc = SL_ENOMEM;
        }
        if (rc == 0 && t->deleted) rc = SL_ENOENT;
        if (rc == 0) {
            /* one catalog update: the table is gone and lists no file */
            t->deleted = 1;
            rc = catalog_table_files_update(e->catalog, t, NULL, seqs, n);
            if (rc < 0) t->deleted = 0;
        }
        catalog_unlock(e->catalog);
        sl_free(seqs);
    }
    if (rc == 0) {
        /* writes that prepared against the table and were logged after the
         * record skip it now (write.c checks deleted under the catalog lock) */
        buffer_drop(&e->buffer, db_id, t->id);
        for (size_t i = 0; i < n; i++)
            unlink_data_file(e, paths[i]);
    }
    for (size_t i = 0; paths && i < n; i++)
        sl_free(paths[i]);
    sl_free(paths);
    pthread_mutex_unlock(&e->persist_lock);
    del_pred_release(&p);
    return rc;
}
