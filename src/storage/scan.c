/*
 * scan.c — merged reads of a table over Parquet files and the buffer (see
 * scan.h). The windows of files and buffer partitions are joined into
 * groups (iter_collect_groups); each source of a group (file, sealed
 * partition, active partition) is loaded into a columnar "source" keyed by
 * catalog column id; the rows of all sources of a group are then ordered by
 * (series key, time, source, row) and equal (series key, time) runs are
 * merged, later sources winning field by field. A group whose only source
 * is a big file is handed out row group by row group when the caller allows
 * it (split mode, scan_opts.split_rows): memory is one row group.
 *
 * File rows carry no series key; it is rebuilt from the tag columns in the
 * canonical form (measurement, then tags sorted by key, escaped as line
 * protocol), the same form the buffer uses, so rows from both compare equal.
 *
 * The iterator (storage_scan_iter_*) keeps the sources and arena of the
 * current group alive while its merged chunk is in use: merged string
 * values point into them. storage_scan is a loop over the iterator.
 */
#include "storage/scan.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/arena.h"
#include "common/err.h"
#include "common/log.h"
#include "common/mem.h"
#include "common/timeutil.h"
#include "parquet/parquet.h"
#include "storage/engine.h"
#include "storage/rcache.h"
#include "storage/scan_int.h"

static void source_release(struct source *s, size_t ncols)
{
    if (s->snap.sid) {
        /* buffer source: cols[] of tag columns were allocated here */
        for (size_t c = 0; c < ncols; c++)
            if (s->cols[c].present && !(c < s->snap.ncols && s->snap.cols[c].present)) {
                sl_free(s->cols[c].v.s);
                sl_free(s->cols[c].valid);
            }
        buffer_snapshot_release(&s->snap);
    } else if (s->cols) {
        for (size_t c = 0; c < ncols; c++) {
            if (!s->cols[c].present) continue;
            sl_free(s->cols[c].v.f);
            sl_free(s->cols[c].valid);
        }
        sl_free(s->time);
    }
    for (size_t i = 0; i < s->nbufs; i++)
        pq_column_buf_release(&s->bufs[i]);
    sl_free(s->bufs);
    sl_free(s->cols);
    sl_free(s->keys);
    memset(s, 0, sizeof(*s));
}

/* Whether column c must be read. Tags are all read when series keys are
 * needed (all_tags: for deduplication across sources, or for the caller);
 * otherwise only the projected ones and those a filter tests. */
int scan_col_needed(const struct scan_opts *o, const struct cat_table *t, size_t c, int all_tags)
{
    if (c == 0) return 1;
    if (t->cols[c].kind == CAT_COL_TAG) {
        if (all_tags) return 1;
        for (size_t k = 0; k < o->ntags; k++)
            if (o->tags[k].col == c) return 1;
    }
    return !o->need || c >= o->nneed || o->need[c];
}

static int load_buffer(struct buf_table *bt, const struct buf_part *p, const struct cat_table *t,
                       const struct scan_opts *o, struct source *s)
{
    size_t ncols = t->ncols;
    int64_t tmin = o->min_time, tmax = o->max_time;
    int rc = buffer_snapshot_part(bt, p, tmin, tmax, &s->snap);
    if (rc < 0) return rc;
    s->nrows = s->snap.nrows;
    s->time = s->snap.time;
    s->cols = sl_calloc(ncols ? ncols : 1, sizeof(*s->cols));
    s->keys = sl_malloc((s->nrows ? s->nrows : 1) * sizeof(*s->keys));
    if (!s->cols || !s->keys) return SL_ENOMEM;
    for (size_t c = 0; c < ncols && c < s->snap.ncols; c++)
        if (scan_col_needed(o, t, c, 1)) s->cols[c] = s->snap.cols[c];
    /* keys and tag values point into the series dictionary: series are never
     * freed while the catalog read lock keeps the table alive */
    for (size_t r = 0; r < s->nrows; r++) {
        const struct buf_series *se = &bt->series[s->snap.sid[r]];
        s->keys[r] = se->key;
        for (uint32_t i = 0; i < se->ntags; i++) {
            uint32_t c = se->tag_cols[i];
            if (c >= ncols) continue;
            struct buf_col *col = &s->cols[c];
            if (!col->present) {
                col->present = 1;
                col->type = LP_STRING;
                col->v.s = sl_calloc(s->nrows, sizeof(struct buf_str));
                col->valid = sl_calloc(s->nrows, 1);
                if (!col->v.s || !col->valid) return SL_ENOMEM;
            }
            col->v.s[r].ptr = se->tag_vals[i];
            col->v.s[r].len = (uint32_t)strlen(se->tag_vals[i]);
            col->valid[r] = 1;
        }
    }
    return 0;
}

/* Builds the series keys of a file source from its tag columns, in the
 * canonical form (catalog tag order is arbitrary: sort by name). */
static int source_build_keys(const struct cat_table *t, struct source *s, struct sl_arena *arena)
{
    size_t ncols = t->ncols, ntag = 0;
    int rc = 0;
    s->keys = sl_malloc((s->nrows ? s->nrows : 1) * sizeof(*s->keys));
    uint32_t *tags = sl_malloc((ncols ? ncols : 1) * sizeof(*tags));
    if (!tags || !s->keys) {
        sl_free(tags);
        return SL_ENOMEM;
    }
    for (size_t c = 0; c < ncols; c++)
        if (t->cols[c].kind == CAT_COL_TAG && s->cols[c].present) tags[ntag++] = (uint32_t)c;
    for (size_t i = 1; i < ntag; i++)
        for (size_t k = i; k > 0 && strcmp(t->cols[tags[k - 1]].name, t->cols[tags[k]].name) > 0;
             k--) {
            uint32_t x = tags[k];
            tags[k] = tags[k - 1];
            tags[k - 1] = x;
        }
    struct sl_buf kb;
    sl_buf_init(&kb, 0);
    for (size_t i = 0; i < s->nrows; i++) {
        sl_buf_reset(&kb);
        lp_escape_measurement(&kb, t->name, strlen(t->name));
        for (size_t k = 0; k < ntag; k++) {
            const struct buf_col *col = &s->cols[tags[k]];
            if (!col->valid[i]) continue;
            sl_buf_addc(&kb, ',');
            const char *name = t->cols[tags[k]].name;
            lp_escape_key(&kb, name, strlen(name));
            sl_buf_addc(&kb, '=');
            lp_escape_key(&kb, col->v.s[i].ptr, col->v.s[i].len);
        }
        char *k = sl_arena_strndup(arena, kb.ptr ? kb.ptr : "", kb.len);
        if (!k) {
            rc = SL_ENOMEM;
            break;
        }
        s->keys[i] = k;
    }
    sl_buf_release(&kb);
    sl_free(tags);
    return rc;
}

struct row_ref {
    const char *key;
    int64_t time;
    uint32_t src, row;
};

static int ref_cmp(const void *a, const void *b)
{
    const struct row_ref *x = a, *y = b;
    int c = strcmp(x->key, y->key);
    if (c) return c;
    if (x->time != y->time) return x->time < y->time ? -1 : 1;
    if (x->src != y->src) return x->src < y->src ? -1 : 1;
    return x->row < y->row ? -1 : x->row > y->row;
}

static int row_matches(const struct source *s, uint32_t r, const struct scan_opts *o)
{
    for (size_t k = 0; k < o->ntags; k++) {
        const struct scan_tag_filter *tf = &o->tags[k];
        const struct buf_col *c = &s->cols[tf->col];
        if (!c->present || !c->valid[r]) return 0;
        int any = 0;
        for (size_t v = 0; v < tf->nvals && !any; v++)
            any = tf->vals[v].len == c->v.s[r].len &&
                  memcmp(tf->vals[v].ptr, c->v.s[r].ptr, tf->vals[v].len) == 0;
        if (!any) return 0;
    }
    return 1;
}

static void chunk_release(struct scan_chunk *ch)
{
    for (size_t c = 0; ch->cols && c < ch->ncols; c++) {
        sl_free(ch->cols[c].v.f);
        sl_free(ch->cols[c].valid);
    }
    sl_free(ch->cols);
    sl_free(ch->keys);
    sl_free(ch->time);
    memset(ch, 0, sizeof(*ch));
}

/* Merges the sources of one partition into ch (which borrows their strings). */
static int merge_sources(struct cat_table *t, int64_t part_start, struct source *src, size_t nsrc,
                         const struct scan_opts *o, struct scan_chunk *ch)
{
    size_t ncols = t->ncols, total = 0;
    for (size_t i = 0; i < nsrc; i++)
        total += src[i].nrows;
    struct row_ref *refs = sl_malloc((total ? total : 1) * sizeof(*refs));
    memset(ch, 0, sizeof(*ch));
    ch->part_start = part_start;
    ch->ncols = ncols;
    int rc = SL_ENOMEM;
    ch->cols = sl_calloc(ncols ? ncols : 1, sizeof(*ch->cols));
    if (!refs || !ch->cols) goto out;
    size_t n = 0;
    for (uint32_t i = 0; i < nsrc; i++)
        for (uint32_t r = 0; r < src[i].nrows; r++)
            if (src[i].time[r] >= o->min_time && src[i].time[r] <= o->max_time &&
                (!o->ntags || row_matches(&src[i], r, o)))
                refs[n++] = (struct row_ref){src[i].keys[r], src[i].time[r], i, r};
    qsort(refs, n, sizeof(*refs), ref_cmp);
    size_t nout = 0;
    for (size_t i = 0; i < n; i++)
        if (i == 0 || refs[i].time != refs[i - 1].time || strcmp(refs[i].key, refs[i - 1].key))
            nout++;
    ch->keys = sl_malloc((nout ? nout : 1) * sizeof(*ch->keys));
    ch->time = sl_malloc((nout ? nout : 1) * sizeof(*ch->time));
    if (!ch->keys || !ch->time) goto out;
    for (size_t c = 0; c < ncols; c++) {
        int present = 0;
        enum lp_type type = LP_STRING;
        for (size_t i = 0; i < nsrc; i++)
            if (src[i].cols[c].present) {
                present = 1;
                type = src[i].cols[c].type;
            }
        if (!present || c == 0) continue;
        ch->cols[c].present = 1;
        ch->cols[c].type = type;
        ch->cols[c].v.f = sl_malloc((nout ? nout : 1) * scan_ctype_size(type));
        ch->cols[c].valid = sl_calloc(nout ? nout : 1, 1);
        if (!ch->cols[c].v.f || !ch->cols[c].valid) goto out;
    }
    size_t o_ = (size_t)-1;
    for (size_t i = 0; i < n; i++) {
        const struct row_ref *rf = &refs[i];
        if (i == 0 || rf->time != refs[i - 1].time || strcmp(rf->key, refs[i - 1].key)) {
            o_++;
            ch->keys[o_] = rf->key;
            ch->time[o_] = rf->time;
        }
        const struct source *s = &src[rf->src];
        for (size_t c = 1; c < ncols; c++) {
            const struct buf_col *sc = &s->cols[c];
            if (!sc->present || !sc->valid[rf->row] || !ch->cols[c].present ||
                sc->type != ch->cols[c].type)
                continue;
            struct buf_col *dc = &ch->cols[c];
            switch (sc->type) {
            case LP_FLOAT: dc->v.f[o_] = sc->v.f[rf->row]; break;
            case LP_INTEGER: dc->v.i[o_] = sc->v.i[rf->row]; break;
            case LP_UNSIGNED: dc->v.u[o_] = sc->v.u[rf->row]; break;
            case LP_BOOLEAN: dc->v.b[o_] = sc->v.b[rf->row]; break;
            case LP_STRING: dc->v.s[o_] = sc->v.s[rf->row]; break;
            }
            dc->valid[o_] = 1;
        }
    }
    ch->nrows = nout;
    rc = 0;
out:
    if (rc < 0) chunk_release(ch);
    sl_free(refs);
    return rc;
}

/* The rows of one source that pass the filters, in its (key, time) order. */
static int single_source(struct cat_table *t, int64_t part_start, struct source *src,
                         const struct scan_opts *o, struct scan_chunk *ch)
{
    size_t ncols = t->ncols, n = src->nrows;
    memset(ch, 0, sizeof(*ch));
    ch->part_start = part_start;
    ch->ncols = ncols;
    uint32_t *sel = sl_malloc((n ? n : 1) * sizeof(*sel));
    ch->cols = sl_calloc(ncols ? ncols : 1, sizeof(*ch->cols));
    int rc = SL_ENOMEM;
    if (!sel || !ch->cols) goto out;
    size_t m = 0;
    if (src->filtered)
        m = n;
    else
        for (uint32_t r = 0; r < n; r++)
            if (src->time[r] >= o->min_time && src->time[r] <= o->max_time &&
                (!o->ntags || row_matches(src, r, o)))
                sel[m++] = r;
    if (m == n && n && !src->snap.sid) {
        /* a file source whose rows all pass (the loader already filtered):
         * the chunk takes its arrays over instead of copying them */
        ch->time = src->time;
        ch->keys = src->keys;
        src->time = NULL;
        src->keys = NULL;
        for (size_t c = 1; c < ncols; c++) {
            if (!src->cols[c].present) continue;
            ch->cols[c] = src->cols[c];
            src->cols[c].v.f = NULL;
            src->cols[c].valid = NULL;
        }
        ch->nrows = m;
        rc = 0;
        goto out;
    }
    ch->time = sl_malloc((m ? m : 1) * sizeof(*ch->time));
    if (src->keys) ch->keys = sl_malloc((m ? m : 1) * sizeof(*ch->keys));
    if (!ch->time || (src->keys && !ch->keys)) goto out;
    for (size_t i = 0; i < m; i++)
        ch->time[i] = src->time[sel[i]];
    if (src->keys)
        for (size_t i = 0; i < m; i++)
            ch->keys[i] = src->keys[sel[i]];
    for (size_t c = 1; c < ncols; c++) {
        const struct buf_col *sc = &src->cols[c];
        if (!sc->present) continue;
        struct buf_col *dc = &ch->cols[c];
        size_t es = scan_ctype_size(sc->type);
        dc->present = 1;
        dc->type = sc->type;
        dc->v.f = sl_malloc((m ? m : 1) * es);
        dc->valid = sl_malloc(m ? m : 1);
        if (!dc->v.f || !dc->valid) goto out;
        const char *sv = (const char *)sc->v.f;
        char *dv = (char *)dc->v.f;
        for (size_t i = 0; i < m; i++) {
            memcpy(dv + i * es, sv + (size_t)sel[i] * es, es);
            dc->valid[i] = sc->valid[sel[i]];
        }
    }
    ch->nrows = m;
    rc = 0;
out:
    if (rc < 0) chunk_release(ch);
    sl_free(sel);
    return rc;
}

/* A time window holding the sources merged together: the union of the
 * overlapping windows of files and buffer partitions, [start, end). */
struct group {
    int64_t start, end;
};

struct scan_iter {
    struct engine *e;
    struct cat_table *t;
    struct buf_table *bt;
    struct scan_opts o;
    struct group *groups;
    size_t np, pi;
    /* the current group */
    struct sl_arena arena;
    struct source *src;
    size_t nsrc;
    struct scan_chunk ch;
    struct scan_stats stats;
    /* split mode: the current group is one big file, handed out one row
     * group per chunk (scan_opts.split) */
    struct pq_reader *sr;
    char spath[4096]; /* its path */
    long *smap;       /* catalog column -> file column, -1 = not read */
    size_t srg, snrg;
    int64_t sgs;
    /* split merge: a group of one big file and other, smaller sources (late
     * files, buffer partitions). The small ones are loaded whole (small[],
     * their keys in sarena, in merge order with the big file's place at
     * small_big); each row group of the big file is merged with the rows of
     * the small sources up to its last (series key, time) (scur: the first
     * row of each not handed out yet), and a last chunk takes what remains */
    struct source *small;
    size_t nsmall, small_big;
    size_t *scur;
    struct sl_arena sarena;
    int sdone;
    const char *bkey; /* the last row group's last (key, time), in sarena */
    int64_t btime;
};

/* a + b without overflow (window ends near the end of time) */
static int64_t end_of(int64_t start, int64_t len)
{
    return start > INT64_MAX - len ? INT64_MAX : start + len;
}

static int64_t file_end(const struct cat_file *f)
{
    return end_of(f->part_start, f->part_len > 0 ? f->part_len : CAT_DEFAULT_PART_LEN);
}

_Static_assert(BUF_PARTITION_NS == CAT_DEFAULT_PART_LEN,
               "a file without a window length is one buffer partition long");

void scan_opts_init(struct scan_opts *o)
{
    memset(o, 0, sizeof(*o));
    o->min_time = INT64_MIN;
    o->max_time = INT64_MAX;
}

static void iter_release_part(struct scan_iter *it)
{
    chunk_release(&it->ch);
    for (size_t i = 0; i < it->nsrc; i++)
        source_release(&it->src[i], it->t->ncols);
    sl_free(it->src);
    it->src = NULL;
    it->nsrc = 0;
    sl_arena_reset(&it->arena);
}

/* ---- split mode: one chunk per row group of a group's only file ---- */

static int split_type_ok(enum pq_ctype pt, const struct cat_column *c)
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

static void split_close(struct scan_iter *it)
{
    if (it->sr) rcache_release(it->e->readers, it->spath, it->sr);
    sl_free(it->smap);
    it->sr = NULL;
    it->smap = NULL;
    it->srg = it->snrg = 0;
    for (size_t i = 0; i < it->nsmall; i++)
        source_release(&it->small[i], it->t->ncols);
    sl_free(it->small);
    sl_free(it->scur);
    it->small = NULL;
    it->scur = NULL;
    it->nsmall = it->small_big = 0;
    it->sdone = 0;
    it->bkey = NULL;
    sl_arena_reset(&it->sarena);
}

/* (key, time) order of the merge. */
static int kt_cmp(const char *ka, int64_t ta, const char *kb, int64_t tb)
{
    int c = strcmp(ka, kb);
    if (c) return c;
    return (ta > tb) - (ta < tb);
}

/* Whether source s is sorted by (key, time), as files and buffer snapshots
 * are written. */
static int source_sorted(const struct source *s)
{
    for (size_t r = 1; r < s->nrows; r++)
        if (kt_cmp(s->keys[r - 1], s->time[r - 1], s->keys[r], s->time[r]) > 0) return 0;
    return 1;
}

/* The chunk of a split merge: row group source rg (NULL for the last chunk)
 * merged with the rows of every small source up to rg's last (key, time)
 * (all remaining ones for the last chunk). */
static int split_merge_chunk(struct scan_iter *it, struct source *rg)
{
    struct cat_table *t = it->t;
    size_t ncols = t->ncols, n = 0;
    struct source *all = sl_calloc(it->nsmall + 1, sizeof(*all));
    struct buf_col *views =
        sl_calloc((it->nsmall ? it->nsmall : 1) * (ncols ? ncols : 1), sizeof(*views));
    if (!all || !views) {
        sl_free(all);
        sl_free(views);
        return SL_ENOMEM;
    }
    const char *bk = rg && rg->nrows ? rg->keys[rg->nrows - 1] : NULL;
    int64_t bt = rg && rg->nrows ? rg->time[rg->nrows - 1] : 0;
    for (size_t k = 0; k <= it->nsmall; k++) {
        if (k == it->small_big && rg) all[n++] = *rg; /* borrowed, not released here */
        if (k == it->nsmall) break;
        const struct source *ss = &it->small[k];
        size_t lo = it->scur[k], hi = ss->nrows;
        if (rg) {
            /* first row after (bk, bt); none when the row group is empty */
            if (!bk) {
                hi = lo;
            } else {
                size_t a = lo, b = ss->nrows;
                while (a < b) {
                    size_t m = a + (b - a) / 2;
                    if (kt_cmp(ss->keys[m], ss->time[m], bk, bt) <= 0)
                        a = m + 1;
                    else
                        b = m;
                }
                hi = a;
            }
        }
        it->scur[k] = hi;
        if (hi == lo) continue;
        struct source *v = &all[n++];
        v->nrows = hi - lo;
        v->keys = ss->keys + lo;
        v->time = ss->time + lo;
        v->cols = views + k * ncols;
        for (size_t c = 1; c < ncols; c++) {
            const struct buf_col *sc = &ss->cols[c];
            if (!sc->present) continue;
            struct buf_col *vc = &v->cols[c];
            *vc = *sc;
            vc->v.f = (double *)((char *)sc->v.f + lo * scan_ctype_size(sc->type));
            vc->valid = sc->valid + lo;
        }
    }
    int rc;
    if (n == 1 && rg && all[0].cols == rg->cols)
        rc = single_source(t, it->sgs, rg, &it->o, &it->ch);
    else
        rc = merge_sources(t, it->sgs, all, n, &it->o, &it->ch);
    sl_free(all);
    sl_free(views);
    return rc;
}

/* Opens file f of group gs for split reading. */
static int split_open(struct scan_iter *it, const struct cat_file *f, int64_t gs)
{
    struct cat_table *t = it->t;
    char *path = it->spath, err[256] = "";
    snprintf(path, sizeof(it->spath), "%s/%s", it->e->data_dir, f->path);
    int rc = rcache_open(it->e->readers, path, &it->sr, err, sizeof(err));
    if (rc < 0) {
        sl_error("scan", "cannot read %s: %s", path, err);
        it->sr = NULL;
        return rc;
    }
    it->stats.files++;
    it->sgs = gs;
    it->snrg = pq_reader_num_row_groups(it->sr);
    it->smap = sl_malloc((t->ncols ? t->ncols : 1) * sizeof(*it->smap));
    if (!it->smap) return SL_ENOMEM;
    for (size_t c = 0; c < t->ncols; c++) {
        it->smap[c] = scan_col_needed(&it->o, t, c, !it->o.no_keys)
                          ? pq_reader_find_column(it->sr, t->cols[c].name)
                          : -1;
        if (it->smap[c] < 0) continue;
        enum pq_ctype pt = pq_reader_column(it->sr, (size_t)it->smap[c])->type;
        if (c == 0 ? pt != PQ_TIME_NS : !split_type_ok(pt, &t->cols[c])) {
            sl_error("scan", "%s: column \"%s\" has type %s, the catalog says otherwise", path,
                     t->cols[c].name, pq_ctype_name(pt));
            return SL_ECORRUPT;
        }
    }
    if (it->smap[0] < 0) {
        sl_error("scan", "%s: no time column", path);
        return SL_ECORRUPT;
    }
    return 0;
}

/* Decodes column chunk (rg, fc) into col (n rows); strings stay in the
 * decoded buffer, which s keeps. */
static int split_column(struct scan_iter *it, size_t rg, size_t fc, size_t n, struct source *s,
                        struct buf_col *col, enum lp_type type)
{
    struct pq_column_buf b = PQ_COLUMN_BUF_INIT;
    int rc = pq_reader_read_column(it->sr, rg, fc, &b);
    if (rc == 0 && (b.nrows != n || (n && !b.values))) rc = SL_ECORRUPT;
    size_t es = scan_ctype_size(type);
    col->present = 1;
    col->type = type;
    col->v.f = sl_malloc((n ? n : 1) * es);
    col->valid = sl_malloc(n ? n : 1);
    if (rc == 0 && (!col->v.f || !col->valid)) rc = SL_ENOMEM;
    if (rc < 0) {
        pq_column_buf_release(&b);
        return rc;
    }
    for (size_t i = 0; i < n; i++)
        col->valid[i] = !b.valid || b.valid[i];
    if (type == LP_STRING) {
        const struct pq_str *ps = b.values;
        for (size_t i = 0; i < n; i++)
            col->v.s[i] = (struct buf_str){(char *)ps[i].ptr, ps[i].len};
        struct pq_column_buf *nb = sl_realloc(s->bufs, (s->nbufs + 1) * sizeof(*nb));
        if (!nb) {
            pq_column_buf_release(&b);
            return SL_ENOMEM;
        }
        s->bufs = nb;
        s->bufs[s->nbufs++] = b;
        return 0;
    }
    memcpy(col->v.f, b.values, n * es);
    pq_column_buf_release(&b);
    return 0;
}

/* Loads the next row group of the split file that may hold wanted rows into
 * it->ch: returns 1, 0 when the file is done, or an error. */
static int split_next(struct scan_iter *it)
{
    struct cat_table *t = it->t;
    const struct scan_opts *o = &it->o;
    while (it->srg < it->snrg) {
        size_t rg = it->srg++;
        int64_t n64 = pq_reader_row_group_rows(it->sr, rg);
        it->stats.row_groups++;
        struct pq_stats st;
        if (n64 <= 0 || (pq_reader_stats(it->sr, rg, (size_t)it->smap[0], &st) == 0 &&
                         st.has_minmax && (st.max.i < o->min_time || st.min.i > o->max_time))) {
            it->stats.row_groups_pruned++;
            continue;
        }
        if ((uint64_t)n64 > UINT32_MAX) return SL_ECORRUPT;
        size_t n = (size_t)n64;
        it->src = sl_calloc(1, sizeof(*it->src));
        if (!it->src) return SL_ENOMEM;
        it->nsrc = 1;
        struct source *s = it->src;
        s->cols = sl_calloc(t->ncols ? t->ncols : 1, sizeof(*s->cols));
        if (!s->cols) return SL_ENOMEM;
        struct buf_col tc = {0};
        int rc = split_column(it, rg, (size_t)it->smap[0], n, s, &tc, LP_INTEGER);
        s->time = tc.v.i;
        sl_free(tc.valid);
        for (size_t c = 1; c < t->ncols && rc == 0; c++)
            if (it->smap[c] >= 0)
                rc = split_column(it, rg, (size_t)it->smap[c], n, s, &s->cols[c],
                                  t->cols[c].kind == CAT_COL_TAG ? LP_STRING : t->cols[c].type);
        if (rc < 0) {
            sl_error("scan", "reading a row group failed: %s",
                     rc == SL_ENOMEM ? "out of memory" : pq_reader_errmsg(it->sr));
            return rc;
        }
        s->nrows = n;
        it->stats.rows_loaded += n;
        if (it->small) {
            /* split merge: row groups must follow each other in (key, time) */
            rc = source_build_keys(t, s, &it->arena);
            if (rc == 0 && n) {
                if (it->bkey && kt_cmp(s->keys[0], s->time[0], it->bkey, it->btime) <= 0) {
                    sl_error("scan", "%s is not sorted by series key and time", it->spath);
                    return SL_ECORRUPT;
                }
                it->bkey = sl_arena_strndup(&it->sarena, s->keys[n - 1], strlen(s->keys[n - 1]));
                it->btime = s->time[n - 1];
                if (!it->bkey) rc = SL_ENOMEM;
            }
            if (rc == 0) rc = split_merge_chunk(it, s);
        } else {
            if (!o->no_keys) rc = source_build_keys(t, s, &it->arena);
            if (rc == 0) rc = single_source(t, it->sgs, s, o, &it->ch);
        }
        if (rc < 0) return rc;
        it->stats.rows_out += it->ch.nrows;
        return 1;
    }
    if (it->small && !it->sdone) {
        /* the small sources' rows after the big file's last row */
        it->sdone = 1;
        int rc = split_merge_chunk(it, NULL);
        if (rc < 0) return rc;
        it->stats.rows_out += it->ch.nrows;
        return 1;
    }
    return 0;
}

/* Starts a split merge of a group (see struct scan_iter): loads every
 * source but file fidx[big] whole, then opens that one for split reading.
 * Returns 1, 0 when a small source is not sorted (the caller merges the
 * whole group instead), or an error. */
static int split_merge_open(struct scan_iter *it, const size_t *fidx, size_t nf, size_t big,
                            size_t maxsrc, int64_t gs, int64_t ge)
{
    struct cat_table *t = it->t;
    struct buf_table *bt = it->bt;
    const struct scan_opts *o = &it->o;
    int rc = 0;
    it->small = sl_calloc(maxsrc, sizeof(*it->small));
    if (!it->small) return SL_ENOMEM;
    for (size_t k = 0; k < nf && rc == 0; k++) {
        if (k == big) {
            it->small_big = it->nsmall;
            continue;
        }
        it->stats.files++;
        rc = scan_load_file(it->e, t, &t->files[fidx[k]], o, 1, &it->small[it->nsmall++],
                            &it->stats);
    }
    if (rc == 0 && bt) {
        pthread_mutex_lock(&bt->lock);
        for (size_t i = 0; i < bt->nsealed && rc == 0 && it->nsmall + 1 < maxsrc; i++)
            if (bt->sealed[i]->start >= gs && bt->sealed[i]->start < ge)
                rc = load_buffer(bt, bt->sealed[i], t, o, &it->small[it->nsmall++]);
        for (size_t i = 0; i < bt->nparts && rc == 0 && it->nsmall < maxsrc; i++)
            if (bt->parts[i]->start >= gs && bt->parts[i]->start < ge)
                rc = load_buffer(bt, bt->parts[i], t, o, &it->small[it->nsmall++]);
        pthread_mutex_unlock(&bt->lock);
    }
    int sorted = 1;
    for (size_t i = 0; i < it->nsmall && rc == 0; i++) {
        if (it->small[i].snap.sid) it->stats.rows_loaded += it->small[i].nrows;
        if (!it->small[i].keys) rc = source_build_keys(t, &it->small[i], &it->sarena);
        if (rc == 0 && !source_sorted(&it->small[i])) sorted = 0;
    }
    it->scur = sl_calloc(it->nsmall ? it->nsmall : 1, sizeof(*it->scur));
    if (rc == 0 && !it->scur) rc = SL_ENOMEM;
    if (rc == 0 && !sorted) {
        sl_warn("scan",
                "table %s: a source is not sorted by series key and time; merging its "
                "window whole",
                t->name);
        rc = 0;
        split_close(it);
        return 0;
    }
    if (rc == 0) rc = split_open(it, &t->files[fidx[big]], gs);
    if (rc < 0) {
        split_close(it);
        return rc;
    }
    return 1;
}

/* Orders file indexes by seq (older first: newer sources win). */
static int seq_cmp(const void *a, const void *b, void *arg)
{
    const struct cat_table *t = arg;
    uint32_t x = t->files[*(const size_t *)a].seq, y = t->files[*(const size_t *)b].seq;
    return x < y ? -1 : x > y;
}

/* Whether file f has rows the group [gs, ge) and the options want. */
static int file_in_group(const struct cat_file *f, int64_t gs, int64_t ge,
                         const struct scan_opts *o)
{
    return f->part_start < ge && file_end(f) > gs && f->max_time >= o->min_time &&
           f->min_time <= o->max_time;
}

/* Loads and merges the sources of group [gs, ge) into it->ch: its files in
 * seq order, then its sealed buffer partitions, then its active ones. */
static int iter_load(struct scan_iter *it, int64_t gs, int64_t ge)
{
    struct cat_table *t = it->t;
    struct buf_table *bt = it->bt;
    const struct scan_opts *o = &it->o;
    int rc = 0;
    size_t maxsrc = t->nfiles + 2 + (bt ? bt->nsealed + bt->nparts : 0) + 8;
    it->src = sl_calloc(maxsrc, sizeof(*it->src));
    size_t *fidx = sl_malloc((t->nfiles ? t->nfiles : 1) * sizeof(*fidx));
    if (!it->src || !fidx) {
        sl_free(fidx);
        return SL_ENOMEM;
    }
    it->stats.partitions++;
    size_t nf = 0;
    for (size_t i = 0; i < t->nfiles; i++)
        if (file_in_group(&t->files[i], gs, ge, o)) fidx[nf++] = i;
    /* the catalog lists files by (part_start, seq): a group spanning several
     * windows needs them by seq alone */
    if (nf > 1) qsort_r(fidx, nf, sizeof(*fidx), seq_cmp, t);
    /* tags are only all needed for keys: when the caller wants them or when
     * several sources must be merged */
    size_t expect = nf;
    if (bt) {
        pthread_mutex_lock(&bt->lock);
        for (size_t i = 0; i < bt->nsealed; i++)
            expect += bt->sealed[i]->start >= gs && bt->sealed[i]->start < ge;
        for (size_t i = 0; i < bt->nparts; i++)
            expect += bt->parts[i]->start >= gs && bt->parts[i]->start < ge;
        pthread_mutex_unlock(&bt->lock);
    }
    int all_tags = !o->no_keys || expect > 1;
    /* Tag-filtered scans keep only the rows of a few series, which
     * scan_load_file selects page by page; split mode is for the rest. */
    if (o->split_rows && !o->reverse && !o->ntags && expect == 1 && nf == 1 &&
        t->files[fidx[0]].rows > o->split_rows) {
        /* one big file: hand it out row group by row group (split_next) */
        rc = split_open(it, &t->files[fidx[0]], gs);
        sl_free(fidx);
        return rc < 0 ? rc : 1;
    }
    size_t big = 0;
    for (size_t k = 1; k < nf; k++)
        if (t->files[fidx[k]].rows > t->files[fidx[big]].rows) big = k;
    if (o->split_rows && !o->reverse && !o->ntags && expect > 1 && nf &&
        t->files[fidx[big]].rows > o->split_rows) {
        /* one big file and smaller sources: merge row group by row group */
        rc = split_merge_open(it, fidx, nf, big, maxsrc, gs, ge);
        sl_free(fidx);
        if (rc != 0) return rc < 0 ? rc : 1;
        /* 0: a small source is not in (key, time) order: whole-group merge */
    }
retry:
    for (size_t k = 0; k < nf && rc == 0; k++) {
        it->stats.files++;
        rc = scan_load_file(it->e, t, &t->files[fidx[k]], o, all_tags, &it->src[it->nsrc++],
                            &it->stats);
    }
    if (rc == 0 && bt) {
        pthread_mutex_lock(&bt->lock);
        /* sealed partitions are older than the active ones */
        for (size_t i = 0; i < bt->nsealed && rc == 0 && it->nsrc + 1 < maxsrc; i++)
            if (bt->sealed[i]->start >= gs && bt->sealed[i]->start < ge)
                rc = load_buffer(bt, bt->sealed[i], t, o, &it->src[it->nsrc++]);
        for (size_t i = 0; i < bt->nparts && rc == 0 && it->nsrc < maxsrc; i++)
            if (bt->parts[i]->start >= gs && bt->parts[i]->start < ge)
                rc = load_buffer(bt, bt->parts[i], t, o, &it->src[it->nsrc++]);
        pthread_mutex_unlock(&bt->lock);
    }
    if (rc == 0 && !all_tags && it->nsrc > 1) {
        /* a buffer partition appeared meanwhile: reload with every tag */
        for (size_t i = 0; i < it->nsrc; i++)
            source_release(&it->src[i], t->ncols);
        it->nsrc = 0;
        all_tags = 1;
        goto retry;
    }
    sl_free(fidx);
    if (rc == 0) {
        for (size_t i = 0; i < it->nsrc; i++)
            if (it->src[i].snap.sid) it->stats.rows_loaded += it->src[i].nrows;
        if (it->nsrc == 1) {
            /* one source is already sorted and unique: filter, no merge */
            if (!o->no_keys && !it->src[0].keys) rc = source_build_keys(t, &it->src[0], &it->arena);
            if (rc == 0) rc = single_source(t, gs, &it->src[0], o, &it->ch);
        } else {
            for (size_t i = 0; i < it->nsrc && rc == 0; i++)
                if (!it->src[i].keys) rc = source_build_keys(t, &it->src[i], &it->arena);
            if (rc == 0) rc = merge_sources(t, gs, it->src, it->nsrc, o, &it->ch);
        }
    }
    if (rc == 0) it->stats.rows_out += it->ch.nrows;
    return rc;
}

static int group_cmp(const void *a, const void *b)
{
    const struct group *x = a, *y = b;
    if (x->start != y->start) return x->start < y->start ? -1 : 1;
    return x->end < y->end ? -1 : x->end > y->end;
}

/* The groups of the scan, in time order: the windows of the files and
 * buffer partitions that hold rows in the time range, overlapping windows
 * joined (a rolled-up day file and the late hour files inside it are merged
 * together; windows are epoch-aligned hours, days, ..., so they nest). */
static int iter_collect_groups(struct scan_iter *it, struct cat_table *t, struct buf_table *bt)
{
    int64_t tmin = it->o.min_time, tmax = it->o.max_time;
    size_t cap = t->nfiles + 16, np = 0;
    struct group *g = sl_malloc(cap * sizeof(*g));
    if (!g) return SL_ENOMEM;
    for (size_t i = 0; i < t->nfiles; i++)
        if (t->files[i].max_time >= tmin && t->files[i].min_time <= tmax)
            g[np++] = (struct group){t->files[i].part_start, file_end(&t->files[i])};
    if (bt) {
        pthread_mutex_lock(&bt->lock);
        size_t need = np + bt->nparts + bt->nsealed;
        if (need > cap) {
            struct group *ng = sl_realloc(g, need * sizeof(*g));
            if (!ng) {
                pthread_mutex_unlock(&bt->lock);
                sl_free(g);
                return SL_ENOMEM;
            }
            g = ng;
        }
        for (size_t i = 0; i < bt->nparts; i++)
            if (bt->parts[i]->nrows && bt->parts[i]->max_time >= tmin &&
                bt->parts[i]->min_time <= tmax)
                g[np++] = (struct group){bt->parts[i]->start,
                                         end_of(bt->parts[i]->start, BUF_PARTITION_NS)};
        for (size_t i = 0; i < bt->nsealed; i++)
            if (bt->sealed[i]->max_time >= tmin && bt->sealed[i]->min_time <= tmax)
                g[np++] = (struct group){bt->sealed[i]->start,
                                         end_of(bt->sealed[i]->start, BUF_PARTITION_NS)};
        pthread_mutex_unlock(&bt->lock);
    }
    qsort(g, np, sizeof(*g), group_cmp);
    size_t u = 0;
    for (size_t i = 0; i < np; i++) {
        if (u > 0 && g[i].start < g[u - 1].end) {
            if (g[i].end > g[u - 1].end) g[u - 1].end = g[i].end;
        } else {
            g[u++] = g[i];
        }
    }
    it->groups = g;
    it->np = u;
    return 0;
}

int storage_scan_iter_open(struct engine *e, struct cat_db *db, struct cat_table *t,
                           const struct scan_opts *o, struct scan_iter **out)
{
    struct scan_iter *it = sl_calloc(1, sizeof(*it));
    if (!it) return SL_ENOMEM;
    it->e = e;
    it->t = t;
    it->o = *o;
    sl_arena_init(&it->arena, 0);
    sl_arena_init(&it->sarena, 0);
    it->bt = db ? buffer_table_find(&e->buffer, db->id, t->id) : NULL;
    /* expired rows are invisible at once, before their files are deleted */
    if (db && db->retention_ns) {
        int64_t cut = sl_now_ns() - db->retention_ns;
        if (cut > it->o.min_time) it->o.min_time = cut;
    }
    int rc = it->o.min_time <= it->o.max_time ? iter_collect_groups(it, t, it->bt) : 0;
    if (rc < 0) {
        storage_scan_iter_close(it);
        return rc;
    }
    *out = it;
    return 0;
}

int storage_scan_iter_next(struct scan_iter *it, const struct scan_chunk **out)
{
    for (;;) {
        if (it->sr) { /* a split group: its next row group */
            iter_release_part(it);
            int rc = split_next(it);
            if (rc < 0) return rc;
            if (rc > 0) {
                if (!it->ch.nrows) continue;
                *out = &it->ch;
                return 1;
            }
            split_close(it);
        }
        if (it->pi >= it->np) break;
        iter_release_part(it);
        size_t k = it->o.reverse ? it->np - 1 - it->pi : it->pi;
        it->pi++;
        int rc = iter_load(it, it->groups[k].start, it->groups[k].end);
        if (rc < 0) return rc;
        if (rc == 0 && it->ch.nrows) {
            *out = &it->ch;
            return 1;
        }
    }
    iter_release_part(it);
    return 0;
}

void storage_scan_iter_close(struct scan_iter *it)
{
    if (!it) return;
    iter_release_part(it);
    split_close(it);
    sl_arena_release(&it->arena);
    sl_arena_release(&it->sarena);
    sl_free(it->groups);
    sl_free(it);
}

void storage_scan_iter_stats(const struct scan_iter *it, struct scan_stats *out)
{
    *out = it->stats;
}

int storage_scan(struct engine *e, struct cat_db *db, struct cat_table *t, int64_t tmin,
                 int64_t tmax, scan_fn fn, void *ctx)
{
    struct scan_opts o;
    scan_opts_init(&o);
    o.min_time = tmin;
    o.max_time = tmax;
    o.split_rows = SCAN_SPLIT_ROWS; /* callers need per-series time order only */
    struct scan_iter *it;
    int rc = storage_scan_iter_open(e, db, t, &o, &it);
    if (rc < 0) return rc;
    const struct scan_chunk *ch;
    while ((rc = storage_scan_iter_next(it, &ch)) > 0)
        if ((rc = fn(ctx, t, ch)) < 0) break;
    storage_scan_iter_close(it);
    return rc < 0 ? rc : 0;
}

int storage_scan_partition_files(struct engine *e, struct cat_table *t, int64_t part_start,
                                 scan_fn fn, void *ctx)
{
    struct scan_opts o;
    scan_opts_init(&o);
    struct scan_iter *it;
    int rc = storage_scan_iter_open(e, NULL, t, &o, &it);
    if (rc < 0) return rc;
    rc = iter_load(it, part_start, end_of(part_start, 1));
    if (rc == 0 && it->ch.nrows) rc = fn(ctx, t, &it->ch);
    storage_scan_iter_close(it);
    return rc < 0 ? rc : 0;
}
