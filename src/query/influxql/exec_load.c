/*
 * exec_load.c — loads a measurement's rows from storage into an executor
 * table (struct xtable): one xseries per tag set, rows in time order, only
 * the fields the statement references, filtered by the WHERE condition
 * (without its time terms; the time range goes to storage_scan).
 *
 * Series keys are built the way InfluxDB 1.x prints them (SHOW SERIES):
 * measurement,k1=v1,k2=v2 with keys sorted and `,`, `=` and space escaped.
 *
 * Pushdown (struct scan_opts): only the time column, the tags and the fields
 * the statement references are decoded, and the tag equality sets the
 * condition implies (xload_tag_filters) filter rows inside the scan. The
 * condition is still evaluated on every row afterwards, so those sets only
 * have to be a superset of what it keeps: they are derived from `tag = 'v'`
 * and exact literal regexes (`tag =~ /^(a|b)$/`), combined under AND
 * (intersection) and OR (union, when both sides constrain the same tag);
 * everything else (!=, !~, other regexes, fields, unknown names) constrains
 * nothing. A set that contains '' is never pushed: a row without the tag
 * compares as '' in InfluxQL, but the scan's filter drops rows without it.
 */
#include <stdlib.h>
#include <string.h>

#include "catalog/catalog.h"
#include "common/err.h"
#include "common/hash.h"
#include "common/mem.h"
#include "query/influxql/exec_int.h"
#include "storage/engine.h"
#include "storage/scan.h"

/* The series of one key: more than one ("lanes") only when not every tag
 * is loaded and rows of several stored series with those tag values overlap
 * in time; each lane stays in strictly increasing time order. */
struct lanes {
    struct xseries **v;
    size_t n, cap, next;
};

struct load_ctx {
    struct iql_exec_ctx *x;
    struct xeval *ev;
    struct xtable *tb;
    const struct iql_expr *cond;
    uint32_t *fcol;              /* catalog column id of each field slot */
    uint32_t *tcol;              /* catalog column id of each tag slot */
    const struct buf_col **tcur; /* the current chunk's tag columns present */
    size_t ntcur;
    /* series key -> its lanes (open addressing on the first lane's key) */
    struct lanes **map;
    size_t mapcap, nlanes, nser, sercap;
    struct sl_buf kb; /* the key being looked up */
    int rc;           /* error of series_for other than SL_ENOMEM */
    bool series_only;
    /* selector reduction (see struct xred): field slot and kind per pair */
    size_t nred;
    uint32_t red_slot[XRED_MAX_PAIRS];
    uint8_t red_kind[XRED_MAX_PAIRS];
};

struct xseries *xt_series_add(struct sl_arena *a, struct xtable *t)
{
    struct xseries *s = sl_arena_alloc(a, sizeof(*s));
    if (!s) return NULL;
    memset(s, 0, sizeof(*s));
    s->tagv = sl_arena_alloc(a, (t->nt ? t->nt : 1) * sizeof(char *));
    if (!s->tagv) return NULL;
    memset(s->tagv, 0, (t->nt ? t->nt : 1) * sizeof(char *));
    return s;
}

/* Makes room for need rows (at least doubling). */
static int xs_reserve(struct sl_arena *a, const struct xtable *t, struct xseries *s, size_t need)
{
    if (need > s->cap) {
        size_t nc = s->cap ? s->cap * 2 : 16;
        if (nc < need) nc = need;
        int64_t *nt = sl_arena_alloc(a, nc * sizeof(int64_t));
        struct iql_val *nv = sl_arena_alloc(a, nc * (t->nf ? t->nf : 1) * sizeof(struct iql_val));
        if (!nt || !nv) return SL_ENOMEM;
        if (s->n) {
            memcpy(nt, s->t, s->n * sizeof(int64_t));
            memcpy(nv, s->v, s->n * t->nf * sizeof(struct iql_val));
        }
        s->t = nt;
        s->v = nv;
        s->cap = nc;
    }
    return 0;
}

/* Appends a row (values null) to s; arrays grow in the arena. */
int xs_push(struct sl_arena *a, const struct xtable *t, struct xseries *s, int64_t time)
{
    if (xs_reserve(a, t, s, s->n + 1) < 0) return SL_ENOMEM;
    s->t[s->n] = time;
    memset(s->v + s->n * t->nf, 0, t->nf * sizeof(struct iql_val));
    s->n++;
    return 0;
}

static int add_escaped(struct sl_buf *b, const char *s)
{
    for (; *s; s++) {
        if (*s == ',' || *s == '=' || *s == ' ')
            if (sl_buf_addc(b, '\\') < 0) return SL_ENOMEM;
        if (sl_buf_addc(b, *s) < 0) return SL_ENOMEM;
    }
    return 0;
}

static int map_grow(struct load_ctx *c)
{
    size_t ncap = c->mapcap ? c->mapcap * 2 : 256;
    struct lanes **nm = sl_calloc(ncap, sizeof(*nm));
    if (!nm) return SL_ENOMEM;
    for (size_t i = 0; i < c->mapcap; i++) {
        if (!c->map[i]) continue;
        const char *k = c->map[i]->v[0]->key;
        size_t h = sl_hash64(k, strlen(k), 0) & (ncap - 1);
        while (nm[h])
            h = (h + 1) & (ncap - 1);
        nm[h] = c->map[i];
    }
    sl_free(c->map);
    c->map = nm;
    c->mapcap = ncap;
    return 0;
}

/* The value of tag column id in row r of ch (NULL, 0 when absent). */
static const struct buf_str *tag_at(const struct scan_chunk *ch, uint32_t id, size_t r)
{
    if (id >= ch->ncols || !ch->cols[id].present || !ch->cols[id].valid[r]) return NULL;
    const struct buf_str *sv = &ch->cols[id].v.s[r];
    return sv->len ? sv : NULL;
}

/* Whether rows a and b of the chunk have the same tags (the same series):
 * c->tcur holds the chunk's tag columns that are present. */
static bool same_tags(const struct load_ctx *c, size_t a, size_t b)
{
    for (size_t i = 0; i < c->ntcur; i++) {
        const struct buf_col *col = c->tcur[i];
        const struct buf_str *x = &col->v.s[a], *y = &col->v.s[b];
        bool hx = col->valid[a] && x->len, hy = col->valid[b] && y->len;
        if (hx != hy) return false;
        if (hx && (x->len != y->len || (x->ptr != y->ptr && memcmp(x->ptr, y->ptr, x->len) != 0)))
            return false;
    }
    return true;
}

/* Adds a series (lane k of its key: the key gets a suffix that sorts the
 * lanes in creation order) with the tags of row `row` of ch. */
static struct xseries *series_new(struct load_ctx *c, const struct scan_chunk *ch, size_t row,
                                  struct lanes *ln)
{
    struct sl_arena *a = c->x->arena;
    struct xtable *tb = c->tb;
    struct sl_buf *kb = &c->kb;
    if (ln->n == ln->cap) {
        size_t nc = ln->cap ? ln->cap * 2 : 1;
        struct xseries **nv = sl_arena_alloc(a, nc * sizeof(*nv));
        if (!nv) return NULL;
        if (ln->n) memcpy(nv, ln->v, ln->n * sizeof(*nv));
        ln->v = nv;
        ln->cap = nc;
    }
    struct xseries *s = xt_series_add(a, tb);
    if (!s) return NULL;
    size_t kl = kb->len;
    if (ln->n && (sl_buf_addc(kb, '\x01') < 0 || sl_buf_addf(kb, "%08zu", ln->n) < 0)) return NULL;
    s->key = sl_arena_strndup(a, kb->ptr, kb->len);
    kb->len = kl;
    kb->ptr[kl] = '\0';
    if (!s->key) return NULL;
    for (size_t i = 0; i < tb->nt; i++) {
        const struct buf_str *sv = tag_at(ch, c->tcol[i], row);
        if (sv && !(s->tagv[i] = sl_arena_strndup(a, sv->ptr, sv->len))) return NULL;
    }
    s->tagcond = xeval_tags(c->ev, c->cond, tb, s->tagv, 0);
    if (s->tagcond < 0) {
        c->rc = s->tagcond;
        return NULL;
    }
    if (c->nser == c->sercap) {
        size_t nc = c->sercap ? c->sercap * 2 : 64;
        struct xseries **ns = sl_arena_alloc(a, nc * sizeof(*ns));
        if (!ns) return NULL;
        if (c->nser) memcpy(ns, tb->ser, c->nser * sizeof(*ns));
        tb->ser = ns;
        c->sercap = nc;
    }
    tb->ser[c->nser++] = s;
    tb->nser = c->nser;
    ln->v[ln->n++] = s;
    return s;
}

/* The series for the run of rows starting at row `row` of ch (time t0), by
 * the loaded tags: a lane of that key whose rows all precede t0 (found or
 * added). */
static struct xseries *series_for(struct load_ctx *c, const struct scan_chunk *ch, size_t row,
                                  int64_t t0)
{
    struct xtable *tb = c->tb;
    struct sl_buf *kb = &c->kb;
    sl_buf_reset(kb);
    if (add_escaped(kb, tb->name) < 0) return NULL;
    for (size_t i = 0; i < tb->nt; i++) {
        const struct buf_str *sv = tag_at(ch, c->tcol[i], row);
        if (!sv) continue;
        if (sl_buf_addc(kb, ',') < 0 || add_escaped(kb, tb->tkey[i]) < 0 ||
            sl_buf_addc(kb, '=') < 0)
            return NULL;
        for (size_t k = 0; k < sv->len && sv->ptr[k]; k++)
            if (((sv->ptr[k] == ',' || sv->ptr[k] == '=' || sv->ptr[k] == ' ') &&
                 sl_buf_addc(kb, '\\') < 0) ||
                sl_buf_addc(kb, sv->ptr[k]) < 0)
                return NULL;
    }
    if (!kb->ptr) return NULL;
    if ((c->nlanes + 1) * 2 > c->mapcap && map_grow(c) < 0) return NULL;
    size_t h = sl_hash64(kb->ptr, kb->len, 0) & (c->mapcap - 1);
    while (c->map[h]) {
        struct lanes *ln = c->map[h];
        if (strcmp(ln->v[0]->key, kb->ptr) == 0) {
            /* round robin: stored series come back in the same order */
            for (size_t k = 0; k < ln->n; k++) {
                size_t i = (ln->next + k) % ln->n;
                struct xseries *s = ln->v[i];
                if (!s->n || s->t[s->n - 1] < t0) {
                    ln->next = (i + 1) % ln->n;
                    return s;
                }
            }
            ln->next = 0;
            return series_new(c, ch, row, ln);
        }
        h = (h + 1) & (c->mapcap - 1);
    }
    struct lanes *ln = sl_arena_alloc(c->x->arena, sizeof(*ln));
    if (!ln) return NULL;
    memset(ln, 0, sizeof(*ln));
    struct xseries *s = series_new(c, ch, row, ln);
    if (!s) return NULL;
    c->map[h] = ln;
    c->nlanes++;
    return s;
}

/* Appends row r of ch to s (and drops it again if the condition fails). */
static int add_row(struct load_ctx *c, const struct scan_chunk *ch, size_t r, struct xseries *s)
{
    struct xtable *tb = c->tb;
    struct sl_arena *a = c->x->arena;
    s->t[s->n++] = ch->time[r];
    struct iql_val *v = s->v + (s->n - 1) * tb->nf;
    for (size_t f = 0; f < tb->nf; f++) {
        uint32_t id = c->fcol[f];
        v[f].kind = IQLV_NULL;
        if (id >= ch->ncols) continue;
        const struct buf_col *col = &ch->cols[id];
        if (!col->present || !col->valid[r]) continue;
        switch (col->type) {
        case LP_FLOAT:
            v[f].kind = IQLV_FLOAT;
            v[f].u.f = col->v.f[r];
            break;
        case LP_INTEGER:
            v[f].kind = IQLV_INT;
            v[f].u.i = col->v.i[r];
            break;
        case LP_UNSIGNED:
            v[f].kind = IQLV_UINT;
            v[f].u.u = col->v.u[r];
            break;
        case LP_BOOLEAN:
            v[f].kind = IQLV_BOOL;
            v[f].u.b = col->v.b[r] != 0;
            break;
        case LP_STRING:
            v[f].kind = IQLV_STR;
            v[f].u.s = sl_arena_strndup(a, col->v.s[r].ptr, col->v.s[r].len);
            if (!v[f].u.s) return SL_ENOMEM;
            break;
        }
    }
    if (c->cond && s->tagcond != 1) {
        struct xrow row = {tb, s, s->n - 1};
        struct iql_val res;
        c->ev->where = true;
        int rc = xeval_row(c->ev, c->cond, &row, &res);
        c->ev->where = false;
        if (rc < 0) return rc;
        if (!xval_truthy(&res)) s->n--;
    }
    return 0;
}

/* The row of [from, end) of ch that selector kind picks in column id, or
 * SIZE_MAX when none (no value); *ok = false when the column's type is not
 * one the reduction handles (min/max of strings and booleans). */
static size_t pick_row(const struct scan_chunk *ch, uint32_t id, uint8_t kind, size_t from,
                       size_t end, bool *ok)
{
    if (id >= ch->ncols || !ch->cols[id].present) return SIZE_MAX;
    const struct buf_col *col = &ch->cols[id];
    const uint8_t *valid = col->valid;
    switch (kind) {
    case XRED_FIRST:
        for (size_t i = from; i < end; i++)
            if (valid[i]) return i;
        return SIZE_MAX;
    case XRED_LAST:
        for (size_t i = end; i-- > from;)
            if (valid[i]) return i;
        return SIZE_MAX;
    }
    bool mx = kind == XRED_MAX;
    size_t best = SIZE_MAX;
    switch (col->type) {
    case LP_FLOAT:
        for (size_t i = from; i < end; i++)
            if (valid[i] && (best == SIZE_MAX ||
                             (mx ? col->v.f[i] > col->v.f[best] : col->v.f[i] < col->v.f[best])))
                best = i;
        return best;
    case LP_INTEGER:
        for (size_t i = from; i < end; i++)
            if (valid[i] && (best == SIZE_MAX ||
                             (mx ? col->v.i[i] > col->v.i[best] : col->v.i[i] < col->v.i[best])))
                best = i;
        return best;
    case LP_UNSIGNED:
        for (size_t i = from; i < end; i++)
            if (valid[i] && (best == SIZE_MAX ||
                             (mx ? col->v.u[i] > col->v.u[best] : col->v.u[i] < col->v.u[best])))
                best = i;
        return best;
    default: *ok = false; return SIZE_MAX;
    }
}

static int cmp_size(const void *a, const void *b)
{
    size_t x = *(const size_t *)a, y = *(const size_t *)b;
    return (x > y) - (x < y);
}

/* Selector reduction of the run [from, end) of series s: appends only the
 * rows the pairs pick, in time order. 1 when the run must be loaded whole
 * instead (a type the reduction does not handle). */
static int add_picked(struct load_ctx *c, const struct scan_chunk *ch, size_t from, size_t end,
                      struct xseries *s)
{
    size_t pick[XRED_MAX_PAIRS], np = 0;
    bool ok = true;
    for (size_t k = 0; k < c->nred; k++) {
        size_t r = pick_row(ch, c->fcol[c->red_slot[k]], c->red_kind[k], from, end, &ok);
        if (!ok) return 1;
        if (r != SIZE_MAX) pick[np++] = r;
    }
    if (np > 1) qsort(pick, np, sizeof(*pick), cmp_size);
    if (xs_reserve(c->x->arena, c->tb, s, s->n + np) < 0) return SL_ENOMEM;
    for (size_t k = 0; k < np; k++) {
        if (k && pick[k] == pick[k - 1]) continue;
        int rc = add_row(c, ch, pick[k], s);
        if (rc < 0) return rc;
    }
    return 0;
}

/* Rows of a chunk come in (stored series, time) order: each run of rows
 * with the same loaded tags and increasing times is looked up once and
 * appended to its series. */
static int on_chunk(struct load_ctx *c, const struct scan_chunk *ch)
{
    c->ntcur = 0;
    for (size_t i = 0; i < c->tb->nt; i++)
        if (c->tcol[i] < ch->ncols && ch->cols[c->tcol[i]].present)
            c->tcur[c->ntcur++] = &ch->cols[c->tcol[i]];
    for (size_t r = 0; r < ch->nrows;) {
        size_t end = r + 1;
        while (end < ch->nrows && ch->time[end] > ch->time[end - 1] && same_tags(c, r, end))
            end++;
        struct xseries *s = series_for(c, ch, r, ch->time[r]);
        if (!s) return c->rc < 0 ? c->rc : SL_ENOMEM;
        size_t from = r;
        r = end;
        if (s->tagcond == 0) continue; /* the tags alone rule the series out */
        if (c->nred && (s->tagcond == 1 || !c->cond)) {
            int rc = add_picked(c, ch, from, end, s);
            if (rc != 1) {
                if (rc < 0) return rc;
                continue;
            }
        }
        size_t want = c->series_only ? 1 : end - from;
        if (xs_reserve(c->x->arena, c->tb, s, s->n + want) < 0) return SL_ENOMEM;
        for (size_t i = from; i < end; i++) {
            /* SHOW statements only need to know that a matching row exists */
            if (c->series_only && s->n && (s->tagcond == 1 || !c->cond)) break;
            int rc = add_row(c, ch, i, s);
            if (rc < 0) return rc;
        }
    }
    return 0;
}

/* ---- tag filter pushdown ---- */

/* More values than this make the per-row set test costlier than it saves. */
#define PUSH_MAX_VALS 64

/* Tag constraints: at most one filter per tag column (cap = table columns). */
struct tcons {
    struct scan_tag_filter *f;
    size_t n;
};

/* The tag column a condition operand reads, as the executor resolves it: a
 * name that is a tag column, not cast to ::field (catalog column names are
 * unique, so no field shares it). */
static bool tag_operand(struct cat_table *t, const struct iql_expr *e, uint32_t *col)
{
    if (e->kind != IQL_EXPR_VARREF || e->u.ref.type == IQL_TYPE_FIELD) return false;
    if (strcmp(e->u.ref.name, "time") == 0) return false;
    struct cat_column *c = cat_table_column_get(t, e->u.ref.name, strlen(e->u.ref.name));
    if (!c || c->kind != CAT_COL_TAG) return false;
    *col = c->id;
    return true;
}

static bool set_has(const struct scan_str *v, size_t n, const char *p, size_t len)
{
    for (size_t i = 0; i < n; i++)
        if (v[i].len == len && memcmp(v[i].ptr, p, len) == 0) return true;
    return false;
}

static bool re_meta(char ch)
{
    return ch && strchr(".[]{}()*+?^$|\\", ch) != NULL;
}

/*
 * The strings a regex matches when it is exactly ^lit$ or ^(lit|lit|...)$
 * with literal alternatives (metacharacters only escaped): returns 1 and the
 * set, 0 when the pattern is anything else (or matches ''), or SL_ENOMEM.
 */
static int re_literals(struct sl_arena *a, const char *p, struct scan_str **out, size_t *nout)
{
    size_t len = strlen(p);
    if (len < 2 || p[0] != '^') return 0;
    size_t i = 1;
    bool group = p[i] == '(';
    if (group) i++;
    size_t nalt = 1;
    for (size_t k = i; k < len; k++)
        nalt += p[k] == '|';
    if (nalt > PUSH_MAX_VALS) return 0;
    struct scan_str *v = sl_arena_alloc(a, nalt * sizeof(*v));
    char *buf = sl_arena_alloc(a, len + 1);
    if (!v || !buf) return SL_ENOMEM;
    size_t n = 0, bl = 0, start = 0;
    for (;;) {
        char ch = p[i];
        if (ch == '\\') {
            if (!re_meta(p[i + 1])) return 0; /* \d, \w, ... are classes */
            buf[bl++] = p[i + 1];
            i += 2;
            continue;
        }
        if (ch == '|' || (group && ch == ')') || (!group && ch == '$')) {
            if (bl == start) return 0; /* an empty alternative matches '' */
            v[n].ptr = buf + start;
            v[n].len = bl - start;
            if (!set_has(v, n, v[n].ptr, v[n].len)) n++;
            start = bl;
            i++;
            if (ch == '|') {
                if (!group) return 0; /* ^a|b$ is (^a)|(b$) */
                continue;
            }
            if (group && p[i++] != '$') return 0;
            if (i != len) return 0;
            break;
        }
        if (!ch || re_meta(ch)) return 0;
        buf[bl++] = ch;
        i++;
    }
    *out = v;
    *nout = n;
    return 1;
}

static struct scan_tag_filter *tc_find(const struct tcons *c, uint32_t col)
{
    for (size_t i = 0; i < c->n; i++)
        if (c->f[i].col == col) return &c->f[i];
    return NULL;
}

static int derive(struct sl_arena *a, struct cat_table *t, const struct iql_expr *e,
                  struct tcons *out, int depth)
{
    out->n = 0;
    out->f = NULL;
    if (!e || e->kind != IQL_EXPR_BINARY || depth > 2000) return 0;
    enum iql_op op = e->u.bin.op;
    if (op == IQL_OP_AND || op == IQL_OP_OR) {
        struct tcons l, r;
        int rc = derive(a, t, e->u.bin.lhs, &l, depth + 1);
        if (rc == 0) rc = derive(a, t, e->u.bin.rhs, &r, depth + 1);
        if (rc < 0) return rc;
        if (op == IQL_OP_OR && (!l.n || !r.n)) return 0;
        if (op == IQL_OP_AND && !r.n) {
            *out = l;
            return 0;
        }
        if (op == IQL_OP_AND && !l.n) {
            *out = r;
            return 0;
        }
        out->f = sl_arena_alloc(a, (t->ncols ? t->ncols : 1) * sizeof(*out->f));
        if (!out->f) return SL_ENOMEM;
        if (op == IQL_OP_AND) {
            /* both hold: intersect the sets of a tag both sides constrain */
            for (size_t i = 0; i < l.n; i++) {
                const struct scan_tag_filter *rf = tc_find(&r, l.f[i].col);
                struct scan_tag_filter nf = l.f[i];
                if (rf) {
                    struct scan_str *v = sl_arena_alloc(a, (nf.nvals ? nf.nvals : 1) * sizeof(*v));
                    if (!v) return SL_ENOMEM;
                    size_t k = 0;
                    for (size_t j = 0; j < l.f[i].nvals; j++)
                        if (set_has(rf->vals, rf->nvals, l.f[i].vals[j].ptr, l.f[i].vals[j].len))
                            v[k++] = l.f[i].vals[j];
                    nf.vals = v;
                    nf.nvals = k;
                }
                out->f[out->n++] = nf;
            }
            for (size_t i = 0; i < r.n; i++)
                if (!tc_find(&l, r.f[i].col)) out->f[out->n++] = r.f[i];
            return 0;
        }
        /* one side holds: a tag both sides constrain is in the union */
        for (size_t i = 0; i < l.n; i++) {
            const struct scan_tag_filter *rf = tc_find(&r, l.f[i].col);
            if (!rf || l.f[i].nvals + rf->nvals > PUSH_MAX_VALS) continue;
            struct scan_str *v = sl_arena_alloc(a, (l.f[i].nvals + rf->nvals + 1) * sizeof(*v));
            if (!v) return SL_ENOMEM;
            size_t k = l.f[i].nvals;
            if (k) memcpy(v, l.f[i].vals, k * sizeof(*v));
            for (size_t j = 0; j < rf->nvals; j++)
                if (!set_has(v, k, rf->vals[j].ptr, rf->vals[j].len)) v[k++] = rf->vals[j];
            out->f[out->n++] = (struct scan_tag_filter){l.f[i].col, v, k};
        }
        return 0;
    }
    const struct iql_expr *l = e->u.bin.lhs, *r = e->u.bin.rhs;
    uint32_t col;
    struct scan_str *vals = NULL;
    size_t nvals = 0;
    if (op == IQL_OP_EQ) {
        if (!tag_operand(t, l, &col)) {
            const struct iql_expr *x = l;
            l = r;
            r = x;
            if (!tag_operand(t, l, &col)) return 0;
        }
        if (r->kind != IQL_EXPR_STRING || !r->u.s[0]) return 0; /* '' matches no tag */
        vals = sl_arena_alloc(a, sizeof(*vals));
        if (!vals) return SL_ENOMEM;
        vals->ptr = r->u.s;
        vals->len = strlen(r->u.s);
        nvals = 1;
    } else if (op == IQL_OP_EQREGEX) {
        if (r->kind != IQL_EXPR_REGEX) {
            const struct iql_expr *x = l;
            l = r;
            r = x;
        }
        if (r->kind != IQL_EXPR_REGEX || !tag_operand(t, l, &col)) return 0;
        int rc = re_literals(a, r->u.s, &vals, &nvals);
        if (rc <= 0) return rc;
    } else {
        return 0;
    }
    out->f = sl_arena_alloc(a, sizeof(*out->f));
    if (!out->f) return SL_ENOMEM;
    out->f[0] = (struct scan_tag_filter){col, vals, nvals};
    out->n = 1;
    return 0;
}

int xload_tag_filters(struct sl_arena *a, struct cat_table *t, const struct iql_expr *cond,
                      struct scan_tag_filter **out, size_t *n)
{
    struct tcons c;
    int rc = derive(a, t, cond, &c, 0);
    *out = rc < 0 ? NULL : c.f;
    *n = rc < 0 ? 0 : c.n;
    return rc < 0 ? rc : 0;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static int cmp_series(const void *a, const void *b)
{
    const struct xseries *x = *(const struct xseries *const *)a;
    const struct xseries *y = *(const struct xseries *const *)b;
    return strcmp(x->key, y->key);
}

static uint8_t kind_of(enum lp_type t)
{
    switch (t) {
    case LP_FLOAT: return IQLV_FLOAT;
    case LP_INTEGER: return IQLV_INT;
    case LP_UNSIGNED: return IQLV_UINT;
    case LP_STRING: return IQLV_STR;
    case LP_BOOLEAN: return IQLV_BOOL;
    }
    return IQLV_NULL;
}

int xload_table(struct iql_exec_ctx *x, struct xeval *ev, const char *db, const char *name,
                int64_t tmin, int64_t tmax, const struct iql_expr *cond, bool all_fields,
                const char **need, size_t nneed, bool series_only, struct xtable **out)
{
    return xload_table_tags(x, ev, db, name, tmin, tmax, cond, all_fields, need, nneed, NULL, 0,
                            series_only, NULL, 0, out);
}

int xload_table_tags(struct iql_exec_ctx *x, struct xeval *ev, const char *db, const char *name,
                     int64_t tmin, int64_t tmax, const struct iql_expr *cond, bool all_fields,
                     const char **need, size_t nneed, const char *const *tags, size_t ntags,
                     bool series_only, const struct xred *red, size_t nred, struct xtable **out)
{
    struct catalog *cat = x->eng->catalog;
    struct sl_arena *a = x->arena;
    struct load_ctx c;
    memset(&c, 0, sizeof(c));
    sl_buf_init(&c.kb, 0);
    int rc = 0;
    *out = NULL;
    catalog_rdlock(cat);
    struct cat_db *d = catalog_db_get(cat, db, strlen(db));
    struct cat_table *t = d ? cat_db_table_get(d, name, strlen(name)) : NULL;
    if (!t) goto out;
    struct xtable *tb = sl_arena_alloc(a, sizeof(*tb));
    if (!tb) goto nomem;
    memset(tb, 0, sizeof(*tb));
    tb->name = sl_arena_strndup(a, t->name, strlen(t->name));
    tb->fname = sl_arena_alloc(a, (t->ncols + 1) * sizeof(char *));
    tb->ftype = sl_arena_alloc(a, t->ncols + 1);
    tb->tkey = sl_arena_alloc(a, (t->ncols + 1) * sizeof(char *));
    c.fcol = sl_arena_alloc(a, (t->ncols + 1) * sizeof(uint32_t));
    c.tcol = sl_arena_alloc(a, (t->ncols + 1) * sizeof(uint32_t));
    c.tcur = sl_arena_alloc(a, (t->ncols + 1) * sizeof(*c.tcur));
    if (!tb->name || !tb->fname || !tb->ftype || !tb->tkey || !c.fcol || !c.tcol || !c.tcur)
        goto nomem;
    for (size_t i = 0; i < t->ncols; i++) {
        const struct cat_column *col = &t->cols[i];
        if (col->kind == CAT_COL_TAG) {
            tb->tkey[tb->nt++] = col->name;
        } else if (col->kind == CAT_COL_FIELD) {
            bool want = all_fields;
            for (size_t k = 0; k < nneed && !want; k++)
                want = strcmp(need[k], col->name) == 0;
            if (!want) continue;
            tb->fname[tb->nf] = col->name;
            tb->ftype[tb->nf] = kind_of(col->type);
            c.fcol[tb->nf++] = col->id;
        }
    }
    qsort(tb->tkey, tb->nt, sizeof(char *), cmp_str);
    for (size_t i = 0; i < tb->nt; i++) {
        struct cat_column *col = cat_table_column_get(t, tb->tkey[i], strlen(tb->tkey[i]));
        bool want = !tags;
        for (size_t k = 0; k < ntags && !want; k++)
            want = strcmp(tags[k], tb->tkey[i]) == 0;
        c.tcol[i] = col && want ? col->id : UINT32_MAX; /* UINT32_MAX: not loaded */
        tb->tkey[i] = sl_arena_strndup(a, tb->tkey[i], strlen(tb->tkey[i]));
        if (!tb->tkey[i]) goto nomem;
    }
    for (size_t i = 0; i < tb->nf; i++) {
        tb->fname[i] = sl_arena_strndup(a, tb->fname[i], strlen(tb->fname[i]));
        if (!tb->fname[i]) goto nomem;
    }
    c.x = x;
    c.ev = ev;
    c.tb = tb;
    c.cond = cond;
    c.series_only = series_only;
    if (red && nred <= XRED_MAX_PAIRS && !series_only) {
        for (size_t k = 0; k < nred; k++)
            for (size_t f = 0; f < tb->nf; f++)
                if (!strcmp(tb->fname[f], red[k].field)) {
                    c.red_slot[c.nred] = (uint32_t)f;
                    c.red_kind[c.nred++] = red[k].kind;
                    break;
                }
        /* a pair whose field the table lacks picks nothing: drop them all */
        if (c.nred != nred) c.nred = 0;
    }
    /* projection: time, the tags and the fields loaded */
    uint8_t *mask = sl_arena_alloc(a, t->ncols ? t->ncols : 1);
    if (!mask) goto nomem;
    memset(mask, 0, t->ncols ? t->ncols : 1);
    mask[0] = 1;
    for (size_t i = 0; i < tb->nt; i++)
        if (c.tcol[i] != UINT32_MAX) mask[c.tcol[i]] = 1;
    for (size_t i = 0; i < tb->nf; i++)
        mask[c.fcol[i]] = 1;
    struct scan_opts o;
    scan_opts_init(&o);
    o.min_time = tmin;
    o.max_time = tmax;
    o.need = mask;
    o.nneed = t->ncols;
    o.no_keys = 1; /* series are told apart by their tag values */
    /* big windows one row group at a time: each series stays in time order
     * across chunks, which is all the lanes need */
    o.split_rows = SCAN_SPLIT_ROWS;
    struct scan_tag_filter *tf;
    if ((rc = xload_tag_filters(a, t, cond, &tf, &o.ntags)) < 0) goto out;
    o.tags = tf;
    struct scan_iter *it;
    if ((rc = storage_scan_iter_open(x->eng, d, t, &o, &it)) < 0) goto out;
    const struct scan_chunk *ch;
    while ((rc = storage_scan_iter_next(it, &ch)) > 0)
        if ((rc = on_chunk(&c, ch)) < 0) break;
    storage_scan_iter_close(it);
    if (rc < 0) goto out;
    if (tb->nser > 1) qsort(tb->ser, tb->nser, sizeof(*tb->ser), cmp_series);
    *out = tb;
    goto out;
nomem:
    rc = SL_ENOMEM;
out:
    catalog_unlock(cat);
    sl_free(c.map);
    sl_buf_release(&c.kb);
    return rc;
}

int xload_measurements(struct iql_exec_ctx *x, struct xeval *ev, const char *db, const char *re,
                       const char ***names, size_t *n)
{
    struct catalog *cat = x->eng->catalog;
    int rc = 0;
    *names = NULL;
    *n = 0;
    catalog_rdlock(cat);
    struct cat_db *d = catalog_db_get(cat, db, strlen(db));
    if (!d) goto out;
    const char **arr = sl_arena_alloc(x->arena, (d->ntables + 1) * sizeof(char *));
    if (!arr) {
        rc = SL_ENOMEM;
        goto out;
    }
    size_t k = 0;
    for (size_t i = 0; i < d->ntables; i++) {
        struct cat_table *t = d->tables[i];
        if (t->deleted) continue;
        if (re) {
            int m = xre_match(ev, re, t->name);
            if (m < 0) {
                rc = m;
                goto out;
            }
            if (!m) continue;
        }
        arr[k] = sl_arena_strndup(x->arena, t->name, strlen(t->name));
        if (!arr[k]) {
            rc = SL_ENOMEM;
            goto out;
        }
        k++;
    }
    qsort(arr, k, sizeof(char *), cmp_str);
    *names = arr;
    *n = k;
out:
    catalog_unlock(cat);
    return rc;
}
