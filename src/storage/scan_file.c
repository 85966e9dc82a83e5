/*
 * scan_file.c — loading the wanted rows of one Parquet file for a scan
 * (scan.h): row groups pruned by statistics, rows selected by tag filters and
 * time range with the reader's selective calls (only pages that can hold
 * wanted rows are read, decompressed and decoded), and only the selected
 * rows of the needed columns read into a columnar source.
 */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/err.h"
#include "common/log.h"
#include "common/mem.h"
#include "parquet/parquet.h"
#include "storage/engine.h"
#include "storage/rcache.h"
#include "storage/scan_int.h"
#include "storage/tag_runs.h"

static int type_matches(enum pq_ctype pt, const struct cat_column *c)
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

/* Loads a Parquet file as a source. */
/* Byte-wise comparison, as Parquet orders BYTE_ARRAY statistics. */
static int str_cmp(const char *a, size_t al, const char *b, size_t bl)
{
    int c = memcmp(a, b, al < bl ? al : bl);
    if (c) return c;
    return al < bl ? -1 : al > bl;
}

/* Whether row group rg may hold rows the options want. */
static int rg_wanted(struct pq_reader *r, size_t rg, const long *map, const struct scan_opts *o)
{
    struct pq_stats st;
    if (pq_reader_stats(r, rg, (size_t)map[0], &st) == 0 && st.has_minmax &&
        (st.max.i < o->min_time || st.min.i > o->max_time))
        return 0;
    for (size_t k = 0; k < o->ntags; k++) {
        const struct scan_tag_filter *tf = &o->tags[k];
        if (map[tf->col] < 0) return 0; /* tag absent: every row has NULL there */
        if (pq_reader_stats(r, rg, (size_t)map[tf->col], &st) < 0 || !st.has_minmax) continue;
        int any = 0;
        for (size_t v = 0; v < tf->nvals && !any; v++)
            any = str_cmp(tf->vals[v].ptr, tf->vals[v].len, st.min.s.ptr, st.min.s.len) >= 0 &&
                  str_cmp(tf->vals[v].ptr, tf->vals[v].len, st.max.s.ptr, st.max.s.len) <= 0;
        if (!any) return 0;
    }
    return 1;
}

/* Copies the compacted values of b (rows of the selection, in order) into
 * column col at rows base.. (strings point into b, which the caller then
 * keeps). */
static void copy_compacted(struct buf_col *col, const struct pq_column_buf *b, size_t base)
{
    size_t m = b->nrows;
    if (b->valid)
        memcpy(col->valid + base, b->valid, m);
    else
        memset(col->valid + base, 1, m);
    if (col->type == LP_STRING) {
        const struct pq_str *ps = b->values;
        for (size_t j = 0; j < m; j++) {
            col->v.s[base + j].ptr = (char *)ps[j].ptr;
            col->v.s[base + j].len = ps[j].len;
        }
    } else {
        size_t es = scan_ctype_size(col->type);
        memcpy((uint8_t *)col->v.f + base * es, b->values, m * es);
    }
}

/* Keeps a decoded string chunk alive with the source (its values point into
 * it); releases any other chunk. Clears *b either way. */
static int keep_or_release(struct source *s, const struct buf_col *col, struct pq_column_buf *b)
{
    if (col->type != LP_STRING) {
        pq_column_buf_release(b);
        return 0;
    }
    struct pq_column_buf *nb = sl_realloc(s->bufs, (s->nbufs + 1) * sizeof(*nb));
    if (!nb) {
        pq_column_buf_release(b);
        return SL_ENOMEM;
    }
    s->bufs = nb;
    s->bufs[s->nbufs++] = *b;
    *b = (struct pq_column_buf)PQ_COLUMN_BUF_INIT;
    return 0;
}

/* The wanted rows of one row group. */
struct rg_sel {
    size_t rg, n, m;
    uint32_t *sel; /* m row indexes within the row group */
};

static void rg_sel_release(struct rg_sel *g)
{
    sl_free(g->sel);
    memset(g, 0, sizeof(*g));
}

/* Selects the rows of row group g->rg (g->n rows) that pass the tag filters
 * and lie inside the time range: each tag filter narrows the selection of
 * the previous one (tag_runs_filter: the cached runs of the tag column,
 * built once per file and row group), then the time range (pq_reader_filter_i64; not needed when
 * the row group's statistics lie inside it). Sets g->m (0: nothing wanted) and *tag_pruned (no row
 * passes the tag filters). */
static int rg_select(const char *path, struct pq_reader *r, const long *map,
                     const struct scan_opts *o, struct rg_sel *g, int *tag_pruned)
{
    size_t n = g->n, nin = 0, nout = 0;
    int rc = 0, have = 0;
    uint32_t *tmp = sl_malloc((n ? n : 1) * sizeof(*tmp));
    struct pq_str *vals = NULL;
    size_t vals_cap = 0;
    g->sel = sl_malloc((n ? n : 1) * sizeof(*g->sel));
    g->m = 0;
    *tag_pruned = 0;
    if (!tmp || !g->sel) {
        rc = SL_ENOMEM;
        goto out;
    }
    for (size_t k = 0; k < o->ntags; k++) {
        const struct scan_tag_filter *tf = &o->tags[k];
        if (tf->nvals > vals_cap) {
            struct pq_str *nv = sl_realloc(vals, tf->nvals * sizeof(*nv));
            if (!nv) {
                rc = SL_ENOMEM;
                goto out;
            }
            vals = nv;
            vals_cap = tf->nvals;
        }
        size_t nv = 0;
        for (size_t v = 0; v < tf->nvals; v++)
            if (tf->vals[v].len <= UINT32_MAX) /* longer values match nothing */
                vals[nv++] = (struct pq_str){tf->vals[v].ptr, (uint32_t)tf->vals[v].len};
        rc = tag_runs_filter(path, r, g->rg, (size_t)map[tf->col], vals, nv, have ? g->sel : NULL,
                             nin, tmp, &nout);
        if (rc < 0) goto out;
        uint32_t *x = g->sel;
        g->sel = tmp;
        tmp = x;
        nin = nout;
        have = 1;
        if (nin == 0) {
            *tag_pruned = 1;
            goto out;
        }
    }
    struct pq_stats st;
    int inside = pq_reader_stats(r, g->rg, (size_t)map[0], &st) == 0 && st.has_minmax &&
                 st.has_null_count && st.null_count == 0 && st.min.i >= o->min_time &&
                 st.max.i <= o->max_time;
    if (!inside) {
        rc = pq_reader_filter_i64(r, g->rg, (size_t)map[0], o->min_time, o->max_time,
                                  have ? g->sel : NULL, nin, tmp, &nout);
        if (rc < 0) goto out;
        uint32_t *x = g->sel;
        g->sel = tmp;
        tmp = x;
        nin = nout;
    } else if (!have) {
        nin = n; /* every row: rg_copy reads whole columns, g->sel is not used */
    }
    g->m = nin;
out:
    sl_free(tmp);
    sl_free(vals);
    return rc;
}

/* A tag value as the scan holds it (struct buf_str) has the layout of the
 * reader's struct pq_str, so whole string columns decode in place. */
_Static_assert(sizeof(struct buf_str) == sizeof(struct pq_str) &&
                   offsetof(struct buf_str, ptr) == offsetof(struct pq_str, ptr) &&
                   offsetof(struct buf_str, len) == offsetof(struct pq_str, len),
               "struct buf_str and struct pq_str differ");

/* Reads every row of row group g straight into s at rows base... */
static int rg_copy_all(struct pq_reader *r, const long *map, const struct cat_table *t,
                       struct rg_sel *g, struct source *s, size_t base)
{
    int rc;
    struct pq_column_buf b = PQ_COLUMN_BUF_INIT;
    uint8_t *tvalid = sl_malloc(g->n ? g->n : 1);
    if (!tvalid) return SL_ENOMEM;
    rc = pq_reader_read_column_into(r, g->rg, (size_t)map[0], s->time + base, tvalid, &b);
    if (rc == 0 && (pq_reader_column(r, (size_t)map[0])->type != PQ_TIME_NS || b.null_count))
        rc = SL_ECORRUPT;
    pq_column_buf_release(&b);
    sl_free(tvalid);
    for (size_t c = 1; c < t->ncols && rc == 0; c++) {
        if (map[c] < 0) continue;
        struct buf_col *col = &s->cols[c];
        size_t es = scan_ctype_size(col->type);
        rc = pq_reader_read_column_into(r, g->rg, (size_t)map[c], (uint8_t *)col->v.f + base * es,
                                        col->valid + base, &b);
        if (rc < 0) {
            pq_column_buf_release(&b);
            break;
        }
        rc = keep_or_release(s, col, &b);
    }
    return rc;
}

/* Reads the selected rows of g (only the pages that hold them) into s at
 * rows base... */
static int rg_copy(struct pq_reader *r, const long *map, const struct cat_table *t,
                   struct rg_sel *g, struct source *s, size_t base)
{
    int rc;
    if (g->m == g->n) return rg_copy_all(r, map, t, g, s, base);
    struct pq_column_buf b = PQ_COLUMN_BUF_INIT;
    if ((rc = pq_reader_read_rows(r, g->rg, (size_t)map[0], g->sel, g->m, &b)) < 0) return rc;
    if (b.nrows != g->m || b.type != PQ_TIME_NS || (b.valid && b.null_count)) {
        pq_column_buf_release(&b);
        return SL_ECORRUPT;
    }
    memcpy(s->time + base, b.values, g->m * sizeof(*s->time));
    pq_column_buf_release(&b);
    for (size_t c = 1; c < t->ncols; c++) {
        if (map[c] < 0) continue;
        struct buf_col *col = &s->cols[c];
        if ((rc = pq_reader_read_rows(r, g->rg, (size_t)map[c], g->sel, g->m, &b)) < 0) break;
        if (b.nrows != g->m) {
            pq_column_buf_release(&b);
            rc = SL_ECORRUPT;
            break;
        }
        copy_compacted(col, &b, base);
        if ((rc = keep_or_release(s, col, &b)) < 0) break;
    }
    return rc;
}

/* Loads the wanted rows of a Parquet file as a source: row groups are pruned
 * by statistics, then rows by the time range and tag filters (rg_select),
 * and only the rows kept are copied (rg_copy), so the later steps (series
 * keys, merge) see only wanted rows. */
int scan_load_file(struct engine *e, struct cat_table *t, const struct cat_file *f,
                   const struct scan_opts *o, int all_tags, struct source *s,
                   struct scan_stats *stats)
{
    char path[4096], err[256] = "";
    snprintf(path, sizeof(path), "%s/%s", e->data_dir, f->path);
    struct pq_reader *r;
    int rc = rcache_open(e->readers, path, &r, err, sizeof(err));
    if (rc < 0) {
        sl_error("scan", "cannot read %s: %s", path, err);
        return rc;
    }
    size_t ncols = t->ncols;
    size_t total = (size_t)pq_reader_num_rows(r), nrg = pq_reader_num_row_groups(r);
    long *map = sl_malloc((ncols ? ncols : 1) * sizeof(*map)); /* catalog col -> file col */
    struct rg_sel *gs = sl_calloc(nrg ? nrg : 1, sizeof(*gs));
    size_t ng = 0, kept = 0, seen = 0;
    s->cols = sl_calloc(ncols ? ncols : 1, sizeof(*s->cols));
    if (!map || !gs || !s->cols) {
        rc = SL_ENOMEM;
        goto out;
    }
    for (size_t c = 0; c < ncols; c++) {
        map[c] =
            scan_col_needed(o, t, c, all_tags) ? pq_reader_find_column(r, t->cols[c].name) : -1;
        if (map[c] < 0) continue;
        const struct pq_column_info *ci = pq_reader_column(r, (size_t)map[c]);
        if (c == 0 ? ci->type != PQ_TIME_NS : !type_matches(ci->type, &t->cols[c])) {
            sl_error("scan", "%s: column \"%s\" has type %s, the catalog says otherwise", path,
                     t->cols[c].name, pq_ctype_name(ci->type));
            rc = SL_ECORRUPT;
            goto out;
        }
    }
    if (map[0] < 0) {
        sl_error("scan", "%s: no time column", path);
        rc = SL_ECORRUPT;
        goto out;
    }
    /* pass 1: which rows of which row groups */
    for (size_t rg = 0; rg < nrg; rg++) {
        size_t n = (size_t)pq_reader_row_group_rows(r, rg);
        if (seen + n > total || n > UINT32_MAX) {
            rc = SL_ECORRUPT;
            goto out;
        }
        seen += n;
        stats->row_groups++;
        if (!rg_wanted(r, rg, map, o)) {
            stats->row_groups_pruned++;
            continue;
        }
        int tag_pruned = 0;
        struct rg_sel *g = &gs[ng];
        g->rg = rg;
        g->n = n;
        if ((rc = rg_select(path, r, map, o, g, &tag_pruned)) < 0) goto rg_fail;
        if (tag_pruned) stats->row_groups_pruned++;
        if (g->m) {
            kept += g->m;
            ng++;
        } else {
            rg_sel_release(g);
        }
    }
    /* pass 2: columns sized to the rows kept */
    s->time = sl_malloc((kept ? kept : 1) * sizeof(*s->time));
    if (!s->time) {
        rc = SL_ENOMEM;
        goto out;
    }
    for (size_t c = 1; c < ncols; c++) {
        if (map[c] < 0) continue;
        struct buf_col *col = &s->cols[c];
        col->present = 1;
        col->type = t->cols[c].kind == CAT_COL_TAG ? LP_STRING : t->cols[c].type;
        col->v.f = sl_malloc((kept ? kept : 1) * scan_ctype_size(col->type));
        col->valid = sl_malloc(kept ? kept : 1);
        if (!col->v.f || !col->valid) {
            rc = SL_ENOMEM;
            goto out;
        }
    }
    size_t base = 0;
    for (size_t i = 0; i < ng; i++) {
        if ((rc = rg_copy(r, map, t, &gs[i], s, base)) < 0) goto rg_fail;
        base += gs[i].m;
        rg_sel_release(&gs[i]);
    }
    s->nrows = base;
    s->filtered = 1;
    stats->rows_loaded += base; /* only rows in range that pass the tag filters */
    goto out;
rg_fail:
    sl_error("scan", "%s: %s", path, rc == SL_ENOMEM ? "out of memory" : pq_reader_errmsg(r));
out:
    for (size_t i = 0; gs && i <= ng && i < nrg; i++)
        rg_sel_release(&gs[i]);
    sl_free(gs);
    sl_free(map);
    if (rc < 0)
        pq_reader_close(r); /* a reader that failed is not kept */
    else
        rcache_release(e->readers, path, r);
    return rc;
}
