/*
 * fastagg_plan.c — the recogniser of the SQL fast aggregation path: turns the
 * tokens of a statement into a plan (group keys, aggregates, time range, tag
 * filters, order, limit) or declines it (see fastagg.c).
 */
#include "query/sql/fastagg_int.h"

/* ---- parsing ---- */

int fa_is_kw(const struct sql_token *t, const char *w)
{
    size_t n = strlen(w);
    if (t->type == SQLT_OP) return t->n == n && !memcmp(t->p, w, n);
    return t->type == SQLT_IDENT && t->n == n && !strncasecmp(t->p, w, n);
}

static int at_kw(const struct fa_parse *ps, size_t k, const char *w)
{
    return k < ps->n && fa_is_kw(&ps->t[k], w);
}

/* Identifier text (unquoted) into buf; returns its length or -1. */
int fa_ident_text(const struct sql_token *t, char *buf, size_t cap)
{
    size_t o = 0;
    if (t->type == SQLT_IDENT) {
        if (t->n >= cap) return -1;
        memcpy(buf, t->p, t->n);
        o = t->n;
    } else if (t->type == SQLT_QIDENT) {
        char q = t->p[0] == '[' ? ']' : t->p[0];
        for (size_t i = 1; i + 1 < t->n; i++) {
            if (t->p[i] == q && q != ']') i++;
            if (o + 1 >= cap) return -1;
            buf[o++] = t->p[i];
        }
    } else
        return -1;
    buf[o] = '\0';
    return (int)o;
}

/* The column a token names (case-insensitively, as SQLite resolves), or -1
 * (not a column, or ambiguous). */
static long column_of(const struct cat_table *tb, const struct sql_token *t)
{
    char name[256];
    if (fa_ident_text(t, name, sizeof(name)) < 0) return -1;
    long found = -1;
    for (size_t c = 0; c < tb->ncols; c++)
        if (!strcasecmp(tb->cols[c].name, name)) {
            if (found >= 0) return -1;
            found = (long)c;
        }
    return found;
}

/* Whether an unsigned integer literal; sets *v. */
static int int_literal(const struct sql_token *t, int64_t *v)
{
    if (t->type != SQLT_NUMBER || t->n == 0 || t->n > 19) return 0;
    int64_t x = 0;
    for (size_t i = 0; i < t->n; i++) {
        if (t->p[i] < '0' || t->p[i] > '9') return 0;
        if (__builtin_mul_overflow(x, 10, &x) || __builtin_add_overflow(x, t->p[i] - '0', &x))
            return 0;
    }
    *v = x;
    return 1;
}

/* [-](N) or [-]N at k; returns the tokens used (0: none). */
static size_t paren_int(const struct fa_parse *ps, size_t k, int64_t *v)
{
    int neg = 0;
    size_t s = k;
    if (at_kw(ps, k, "-")) {
        neg = 1;
        k++;
    }
    if (k < ps->n && int_literal(&ps->t[k], v)) {
        if (neg) *v = -*v;
        return k + 1 - s;
    }
    if (at_kw(ps, k, "(") && k + 2 < ps->n && int_literal(&ps->t[k + 1], v) &&
        fa_is_kw(&ps->t[k + 2], ")")) {
        if (neg) *v = -*v;
        return k + 3 - s;
    }
    return 0;
}

/* date_bin(stride, time[, origin]) at k: returns the tokens used or 0. */
static size_t parse_date_bin(const struct fa_parse *ps, size_t k, struct fa_key *key)
{
    size_t s = k;
    if (!at_kw(ps, k, "date_bin") || !at_kw(ps, k + 1, "(")) return 0;
    k += 2;
    size_t u = paren_int(ps, k, &key->stride);
    if (!u || key->stride <= 0) return 0;
    k += u;
    if (!at_kw(ps, k, ",") || k + 1 >= ps->n || column_of(ps->p->t, &ps->t[k + 1]) != 0) return 0;
    k += 2;
    key->origin = 0;
    if (at_kw(ps, k, ",")) {
        k++;
        if (k < ps->n && ps->t[k].type == SQLT_STRING) {
            struct sl_buf b = SL_BUF_INIT;
            const struct sql_token *st = &ps->t[k];
            for (size_t i = 1; i + 1 < st->n; i++) {
                if (st->p[i] == '\'') i++;
                sl_buf_addc(&b, st->p[i]);
            }
            int ok = b.ptr && sl_time_parse_rfc3339(b.ptr, b.len, &key->origin) == 0;
            sl_buf_release(&b);
            if (!ok) return 0;
            k++;
        } else {
            u = paren_int(ps, k, &key->origin);
            if (!u) return 0;
            k += u;
        }
    }
    if (!at_kw(ps, k, ")")) return 0;
    key->bucket = 1;
    return k + 1 - s;
}

static int add_key(struct fa_plan *p, const struct fa_key *k)
{
    for (size_t i = 0; i < p->nkeys; i++) {
        const struct fa_key *o = &p->keys[i];
        if (o->bucket != k->bucket) continue;
        if (k->bucket ? (o->stride == k->stride && o->origin == k->origin) : o->col == k->col)
            return -1; /* listed twice */
    }
    if (p->nkeys >= FA_MAX_KEYS) return -1;
    if (k->bucket) {
        if (p->bucket_key >= 0) return -1; /* one bucket only */
        p->bucket_key = (int)p->nkeys;
    }
    p->keys[p->nkeys] = *k;
    if (!k->bucket) {
        p->keys[p->nkeys].tagi = (int)p->ntk;
        p->tagcols[p->ntk++] = k->col;
    }
    return (int)p->nkeys++;
}

/* Evaluates a constant time expression t[b..e) (integers, + - * ( ), now())
 * with SQLite; returns 0 and *v, or -1. */
static int eval_const(const struct fa_parse *ps, size_t b, size_t e, int64_t *v)
{
    if (b >= e) return -1;
    for (size_t k = b; k < e; k++) {
        const struct sql_token *t = &ps->t[k];
        int64_t x;
        if (int_literal(t, &x) || fa_is_kw(t, "+") || fa_is_kw(t, "-") || fa_is_kw(t, "*") ||
            fa_is_kw(t, "(") || fa_is_kw(t, ")"))
            continue;
        if (fa_is_kw(t, "now") && k + 2 < e && fa_is_kw(&ps->t[k + 1], "(") &&
            fa_is_kw(&ps->t[k + 2], ")")) {
            k += 2;
            continue;
        }
        return -1;
    }
    struct sl_buf q = SL_BUF_INIT;
    sl_buf_adds(&q, "SELECT ");
    if (sl_buf_add(&q, ps->t[b].p, (size_t)(ps->t[e - 1].p + ps->t[e - 1].n - ps->t[b].p)) < 0) {
        sl_buf_release(&q);
        return -1;
    }
    sqlite3_stmt *st = NULL;
    int rc = -1;
    if (sqlite3_prepare_v2(ps->db, q.ptr, (int)q.len, &st, NULL) == SQLITE_OK && st &&
        sqlite3_step(st) == SQLITE_ROW && sqlite3_column_type(st, 0) == SQLITE_INTEGER) {
        *v = sqlite3_column_int64(st, 0);
        rc = 0;
    }
    sqlite3_finalize(st);
    sl_buf_release(&q);
    return rc;
}

/* Applies time OP x (the operator with time on the left). */
static int apply_bound(struct fa_plan *p, const char *op, int64_t x)
{
    if (!strcmp(op, "=") || !strcmp(op, "==")) {
        if (x > p->min_time) p->min_time = x;
        if (x < p->max_time) p->max_time = x;
    } else if (!strcmp(op, ">")) {
        if (x == INT64_MAX)
            p->empty = 1;
        else if (x + 1 > p->min_time)
            p->min_time = x + 1;
    } else if (!strcmp(op, ">=")) {
        if (x > p->min_time) p->min_time = x;
    } else if (!strcmp(op, "<")) {
        if (x == INT64_MIN)
            p->empty = 1;
        else if (x - 1 < p->max_time)
            p->max_time = x - 1;
    } else if (!strcmp(op, "<=")) {
        if (x < p->max_time) p->max_time = x;
    } else
        return -1;
    return 0;
}

static const char *cmp_op(const struct sql_token *t)
{
    static const char *const ops[] = {"=", "==", "<", "<=", ">", ">="};
    for (size_t i = 0; i < sizeof(ops) / sizeof(ops[0]); i++)
        if (fa_is_kw(t, ops[i])) return ops[i];
    return NULL;
}

static const char *mirror(const char *op)
{
    if (!strcmp(op, "<")) return ">";
    if (!strcmp(op, "<=")) return ">=";
    if (!strcmp(op, ">")) return "<";
    if (!strcmp(op, ">=")) return "<=";
    return op;
}

static int add_tag_value(struct fa_plan *p, const struct sql_token *t)
{
    if (t->type != SQLT_STRING) return -1;
    if (p->nvals == p->vals_cap) {
        size_t cap = p->vals_cap ? p->vals_cap * 2 : 16;
        struct scan_str *nv = sl_realloc(p->vals, cap * sizeof(*nv));
        if (!nv) return -1;
        p->vals = nv;
        p->vals_cap = cap;
    }
    size_t off = p->strs.len, len = 0;
    for (size_t i = 1; i + 1 < t->n; i++) {
        if (t->p[i] == '\'') i++;
        if (sl_buf_addc(&p->strs, t->p[i]) < 0) return -1;
        len++;
    }
    if (sl_buf_addc(&p->strs, '\0') < 0) return -1;
    p->vals[p->nvals].ptr = (const char *)(uintptr_t)off; /* fixed up later */
    p->vals[p->nvals].len = len;
    p->nvals++;
    return 0;
}

/* One WHERE term at k, ending before a top-level AND or stop; returns the
 * index after it, or 0. */
static size_t parse_pred(struct fa_parse *ps, size_t k, size_t stop)
{
    struct fa_plan *p = ps->p;
    /* the end of the term: next top-level AND (BETWEEN's AND handled below) */
    long col = k < stop ? column_of(p->t, &ps->t[k]) : -1;
    if (col == 0) {
        if (k + 1 >= stop) return 0;
        const char *op = cmp_op(&ps->t[k + 1]);
        if (op || fa_is_kw(&ps->t[k + 1], "BETWEEN")) {
            size_t b = k + 2, e = b;
            int depth = 0;
            while (e < stop && !(depth == 0 && fa_is_kw(&ps->t[e], "AND"))) {
                if (fa_is_kw(&ps->t[e], "(")) depth++;
                if (fa_is_kw(&ps->t[e], ")")) depth--;
                e++;
            }
            int64_t x, y;
            if (eval_const(ps, b, e, &x) < 0) return 0;
            if (op) return apply_bound(p, op, x) < 0 ? 0 : e;
            if (e >= stop) return 0; /* BETWEEN x AND y */
            size_t b2 = e + 1, e2 = b2;
            depth = 0;
            while (e2 < stop && !(depth == 0 && fa_is_kw(&ps->t[e2], "AND"))) {
                if (fa_is_kw(&ps->t[e2], "(")) depth++;
                if (fa_is_kw(&ps->t[e2], ")")) depth--;
                e2++;
            }
            if (eval_const(ps, b2, e2, &y) < 0) return 0;
            apply_bound(p, ">=", x);
            apply_bound(p, "<=", y);
            return e2;
        }
        return 0;
    }
    if (col > 0) {
        if (p->t->cols[col].kind != CAT_COL_TAG || p->ntagf >= FA_MAX_TAGF) return 0;
        struct scan_tag_filter *tf = &p->tagf[p->ntagf];
        tf->col = (uint32_t)col;
        p->vfirst[p->ntagf] = p->nvals;
        if (at_kw(ps, k + 1, "=") || at_kw(ps, k + 1, "==")) {
            if (k + 2 >= stop || add_tag_value(p, &ps->t[k + 2]) < 0) return 0;
            k += 3;
        } else if (at_kw(ps, k + 1, "IN") && at_kw(ps, k + 2, "(")) {
            k += 3;
            for (;;) {
                if (k >= stop || add_tag_value(p, &ps->t[k]) < 0) return 0;
                k++;
                if (at_kw(ps, k, ")")) break;
                if (!at_kw(ps, k, ",")) return 0;
                k++;
            }
            k++;
        } else
            return 0;
        tf->nvals = p->nvals - p->vfirst[p->ntagf];
        p->ntagf++;
        return k <= stop ? k : 0;
    }
    /* 'v' = tag, or <constant> OP time */
    size_t e = k;
    int depth = 0;
    while (e < stop && !(depth == 0 && fa_is_kw(&ps->t[e], "AND"))) {
        if (fa_is_kw(&ps->t[e], "(")) depth++;
        if (fa_is_kw(&ps->t[e], ")")) depth--;
        e++;
    }
    if (e - k == 3 && ps->t[k].type == SQLT_STRING &&
        (fa_is_kw(&ps->t[k + 1], "=") || fa_is_kw(&ps->t[k + 1], "=="))) {
        long tc = column_of(p->t, &ps->t[k + 2]);
        if (tc <= 0 || p->t->cols[tc].kind != CAT_COL_TAG || p->ntagf >= FA_MAX_TAGF) return 0;
        struct scan_tag_filter *tf = &p->tagf[p->ntagf];
        tf->col = (uint32_t)tc;
        p->vfirst[p->ntagf] = p->nvals;
        if (add_tag_value(p, &ps->t[k]) < 0) return 0;
        tf->nvals = 1;
        p->ntagf++;
        return e;
    }
    if (e - k >= 3 && column_of(p->t, &ps->t[e - 1]) == 0) {
        const char *op = cmp_op(&ps->t[e - 2]);
        int64_t x;
        if (!op || eval_const(ps, k, e - 2, &x) < 0) return 0;
        return apply_bound(p, mirror(op), x) < 0 ? 0 : e;
    }
    return 0;
}

static int alias_is(const struct sql_token *alias, const struct sql_token *t)
{
    char a[256], b[256];
    if (!alias || fa_ident_text(alias, a, sizeof(a)) < 0 || fa_ident_text(t, b, sizeof(b)) < 0)
        return 0;
    return !strcasecmp(a, b);
}

/* The key a select item stands for (a bare tag becomes one when add). */
static int item_key(struct fa_plan *p, const struct fa_item *it, int add)
{
    if (it->kind == IT_KEY) return it->idx;
    if (it->kind != IT_BARE || p->t->cols[it->col].kind != CAT_COL_TAG) return -1;
    for (size_t i = 0; i < p->nkeys; i++)
        if (!p->keys[i].bucket && p->keys[i].col == it->col) return (int)i;
    if (!add) return -1;
    struct fa_key k = {.bucket = 0, .col = it->col};
    return add_key(p, &k);
}

/* A GROUP BY / ORDER BY term t[b..e): the key it names, or -1. In GROUP BY
 * a name is a table column before it is an alias; in ORDER BY an alias comes
 * first (SQLite's rules). */
static int term_key(struct fa_parse *ps, size_t b, size_t e, int order_by, int add)
{
    struct fa_plan *p = ps->p;
    int64_t pos;
    if (e - b == 1 && order_by) { /* alias */
        int hit = -1;
        for (size_t i = 0; i < p->nitems; i++)
            if (alias_is(p->items[i].alias, &ps->t[b])) {
                if (hit >= 0) return -1;
                hit = (int)i;
            }
        if (hit >= 0) return item_key(p, &p->items[hit], add);
    }
    if (e - b == 1 && int_literal(&ps->t[b], &pos)) {
        if (pos < 1 || (size_t)pos > p->nitems) return -1;
        return item_key(p, &p->items[pos - 1], add);
    }
    if (e - b == 1) {
        long c = column_of(p->t, &ps->t[b]);
        if (c > 0 && p->t->cols[c].kind == CAT_COL_TAG) {
            for (size_t i = 0; i < p->nkeys; i++)
                if (!p->keys[i].bucket && p->keys[i].col == (uint32_t)c) return (int)i;
            if (!add) return -1;
            struct fa_key k = {.bucket = 0, .col = (uint32_t)c};
            return add_key(p, &k);
        }
        if (c >= 0) return -1; /* time or a field */
        if (!order_by) {       /* GROUP BY alias */
            int hit = -1;
            for (size_t i = 0; i < p->nitems; i++)
                if (alias_is(p->items[i].alias, &ps->t[b])) {
                    if (hit >= 0) return -1;
                    hit = (int)i;
                }
            if (hit >= 0) return item_key(p, &p->items[hit], add);
        }
        return -1;
    }
    struct fa_key k;
    if (parse_date_bin(ps, b, &k) == e - b) {
        for (size_t i = 0; i < p->nkeys; i++)
            if (p->keys[i].bucket && p->keys[i].stride == k.stride && p->keys[i].origin == k.origin)
                return (int)i;
        return add ? add_key(p, &k) : -1;
    }
    return -1;
}

static int agg_fn(const struct sql_token *t, enum fa_fn *fn)
{
    static const struct {
        const char *name;
        enum fa_fn fn;
    } fns[] = {{"count", FN_COUNT}, {"sum", FN_SUM}, {"avg", FN_AVG},
               {"total", FN_TOTAL}, {"min", FN_MIN}, {"max", FN_MAX}};
    for (size_t i = 0; i < sizeof(fns) / sizeof(fns[0]); i++)
        if (fa_is_kw(t, fns[i].name)) {
            *fn = fns[i].fn;
            return 1;
        }
    return 0;
}

static enum fa_ctype col_ctype(const struct cat_column *c)
{
    if (c->kind == CAT_COL_TIME) return CT_TIME;
    if (c->kind == CAT_COL_TAG) return CT_STR;
    switch (c->type) {
    case LP_FLOAT: return CT_REAL;
    case LP_INTEGER: return CT_INT;
    case LP_UNSIGNED: return CT_UINT;
    case LP_BOOLEAN: return CT_BOOL;
    default: return CT_STR;
    }
}

/* Select items t[b..e) (split at top-level commas). */
static int parse_items(struct fa_parse *ps, size_t b, size_t e)
{
    struct fa_plan *p = ps->p;
    size_t k = b;
    while (k < e) {
        size_t s = k;
        int depth = 0;
        while (k < e && !(depth == 0 && fa_is_kw(&ps->t[k], ","))) {
            if (fa_is_kw(&ps->t[k], "(")) depth++;
            if (fa_is_kw(&ps->t[k], ")")) depth--;
            k++;
        }
        size_t ie = k; /* item t[s..ie) */
        if (p->nitems >= FA_MAX_ITEMS || ie == s) return -1;
        struct fa_item *it = &p->items[p->nitems];
        memset(it, 0, sizeof(*it));
        if (ie - s >= 3 && fa_is_kw(&ps->t[ie - 2], "AS")) {
            it->alias = &ps->t[ie - 1];
            ie -= 2;
        } else if (ie - s >= 2 &&
                   (ps->t[ie - 1].type == SQLT_IDENT || ps->t[ie - 1].type == SQLT_QIDENT) &&
                   (fa_is_kw(&ps->t[ie - 2], ")") || ps->t[ie - 2].type == SQLT_IDENT ||
                    ps->t[ie - 2].type == SQLT_QIDENT)) {
            it->alias = &ps->t[ie - 1];
            ie -= 1;
        }
        if (it->alias && it->alias->type != SQLT_IDENT && it->alias->type != SQLT_QIDENT) return -1;
        enum fa_fn fn;
        if (ie - s == 1) {
            long c = column_of(p->t, &ps->t[s]);
            if (c < 0) return -1;
            it->kind = IT_BARE;
            it->col = (uint32_t)c;
        } else if (agg_fn(&ps->t[s], &fn) && at_kw(ps, s + 1, "(") &&
                   fa_is_kw(&ps->t[ie - 1], ")")) {
            struct fa_agg *a = &p->aggs[p->naggs];
            if (ie - s == 4 && fn == FN_COUNT && fa_is_kw(&ps->t[s + 2], "*")) {
                a->fn = FN_COUNT_STAR;
                a->col = 0;
                a->ct = CT_TIME;
            } else if (ie - s == 4) {
                long c = column_of(p->t, &ps->t[s + 2]);
                if (c < 0) return -1;
                a->fn = fn;
                a->col = (uint32_t)c;
                a->ct = col_ctype(&p->t->cols[c]);
                if (a->ct == CT_STR && fn != FN_COUNT) return -1;
            } else
                return -1;
            it->kind = IT_AGG;
            it->idx = (int)p->naggs++;
        } else {
            struct fa_key key;
            if (parse_date_bin(ps, s, &key) != ie - s) return -1;
            /* a key only if GROUP BY names it; checked later */
            int ki = add_key(p, &key);
            if (ki < 0) return -1;
            it->kind = IT_KEY;
            it->idx = ki;
        }
        p->nitems++;
        if (k < e) k++; /* ',' */
    }
    return 0;
}

/* Parses the statement into p; returns 0, or -1 when the shape is not ours. */
int fa_parse_plan(struct fa_parse *ps)
{
    struct fa_plan *p = ps->p;
    size_t n = ps->n;
    if (n && fa_is_kw(&ps->t[n - 1], ";")) n--;
    ps->n = n;
    if (!at_kw(ps, 0, "SELECT")) return -1;
    size_t from = 0;
    int depth = 0;
    for (size_t k = 1; k < n; k++) {
        if (fa_is_kw(&ps->t[k], "(")) depth++;
        if (fa_is_kw(&ps->t[k], ")")) depth--;
        if (depth == 0 && fa_is_kw(&ps->t[k], "FROM")) {
            from = k;
            break;
        }
    }
    if (!from || from + 1 >= n || at_kw(ps, 1, "DISTINCT") || at_kw(ps, 1, "ALL")) return -1;
    /* the table, resolved as create_tables does */
    const struct sql_token *tt = &ps->t[from + 1];
    char name[256];
    if (fa_ident_text(tt, name, sizeof(name)) < 0) return -1;
    size_t k = from + 2;
    size_t where = 0, group = 0;
    if (at_kw(ps, k, "WHERE")) where = k;
    for (size_t j = k; j < n; j++)
        if (at_kw(ps, j, "GROUP") && at_kw(ps, j + 1, "BY")) {
            group = j;
            break;
        }
    if (!group || (!where && group != k)) return -1;
    /* select items first: the key list starts in select order for buckets */
    p->bucket_key = -1;
    if (parse_items(ps, 1, from) < 0) return -1;
    if (where) {
        size_t j = where + 1;
        for (;;) {
            size_t e = parse_pred(ps, j, group);
            if (!e) return -1;
            if (e == group) break;
            if (!fa_is_kw(&ps->t[e], "AND")) return -1;
            j = e + 1;
        }
    }
    /* GROUP BY terms: every key must be named, in this order */
    struct fa_key keys[FA_MAX_KEYS];
    int used[FA_MAX_KEYS] = {0};
    size_t nk = 0;
    k = group + 2;
    size_t end = k;
    while (end < n && !at_kw(ps, end, "ORDER") && !at_kw(ps, end, "LIMIT") &&
           !at_kw(ps, end, "HAVING"))
        end++;
    if (at_kw(ps, end, "HAVING")) return -1;
    int map[FA_MAX_KEYS];
    while (k < end) {
        size_t s = k;
        depth = 0;
        while (k < end && !(depth == 0 && fa_is_kw(&ps->t[k], ","))) {
            if (fa_is_kw(&ps->t[k], "(")) depth++;
            if (fa_is_kw(&ps->t[k], ")")) depth--;
            k++;
        }
        int ki = term_key(ps, s, k, 0, 1);
        if (ki < 0 || nk >= FA_MAX_KEYS || used[ki]) return -1;
        used[ki] = 1;
        map[nk++] = ki;
        if (k < end) k++;
    }
    if (nk != p->nkeys || nk == 0) return -1; /* a date_bin selected but not grouped */
    /* reorder the keys into GROUP BY order */
    for (size_t i = 0; i < nk; i++)
        keys[i] = p->keys[map[i]];
    int inv[FA_MAX_KEYS];
    for (size_t i = 0; i < nk; i++)
        inv[map[i]] = (int)i;
    memcpy(p->keys, keys, sizeof(keys[0]) * nk);
    p->bucket_key = -1;
    p->ntk = 0;
    for (size_t i = 0; i < nk; i++) {
        if (p->keys[i].bucket)
            p->bucket_key = (int)i;
        else {
            p->keys[i].tagi = (int)p->ntk;
            p->tagcols[p->ntk++] = p->keys[i].col;
        }
    }
    for (size_t i = 0; i < p->nitems; i++)
        if (p->items[i].kind == IT_KEY) p->items[i].idx = inv[p->items[i].idx];
    /* a selected tag that is a key is a key; others stay bare */
    for (size_t i = 0; i < p->nitems; i++) {
        struct fa_item *it = &p->items[i];
        if (it->kind != IT_BARE || p->t->cols[it->col].kind != CAT_COL_TAG) continue;
        for (size_t j = 0; j < nk; j++)
            if (!p->keys[j].bucket && p->keys[j].col == it->col) {
                it->kind = IT_KEY;
                it->idx = (int)j;
            }
    }
    /* bare columns: only with exactly one min/max aggregate */
    p->minmax = -1;
    for (size_t i = 0; i < p->nitems; i++)
        if (p->items[i].kind == IT_BARE) {
            if (p->nbare >= FA_MAX_ITEMS) return -1;
            p->items[i].idx = (int)p->nbare;
            p->bare[p->nbare++] = p->items[i].col;
        }
    if (p->nbare) {
        if (p->naggs != 1 || (p->aggs[0].fn != FN_MIN && p->aggs[0].fn != FN_MAX)) return -1;
        p->minmax = 0;
    }
    if (p->naggs == 0) return -1;
    /* ORDER BY: every key once */
    k = end;
    p->norder = 0;
    if (at_kw(ps, k, "ORDER")) {
        if (!at_kw(ps, k + 1, "BY")) return -1;
        k += 2;
        int oused[FA_MAX_KEYS] = {0};
        size_t oend = k;
        while (oend < n && !at_kw(ps, oend, "LIMIT"))
            oend++;
        while (k < oend) {
            size_t s = k;
            depth = 0;
            while (k < oend && !(depth == 0 && fa_is_kw(&ps->t[k], ","))) {
                if (fa_is_kw(&ps->t[k], "(")) depth++;
                if (fa_is_kw(&ps->t[k], ")")) depth--;
                k++;
            }
            size_t te = k;
            int desc = 0;
            if (te > s && (fa_is_kw(&ps->t[te - 1], "ASC") || fa_is_kw(&ps->t[te - 1], "DESC"))) {
                desc = fa_is_kw(&ps->t[te - 1], "DESC");
                te--;
            }
            if (te == s) return -1;
            int ki = term_key(ps, s, te, 1, 0);
            if (ki < 0 || oused[ki] || p->norder >= FA_MAX_KEYS) return -1;
            oused[ki] = 1;
            p->order[p->norder].key = ki;
            p->order[p->norder++].desc = desc;
            if (k < oend) k++;
        }
        if (p->norder != p->nkeys) return -1;
        k = oend;
    } else {
        for (size_t i = 0; i < p->nkeys; i++)
            p->order[i] = (struct fa_order){(int)i, 0};
        p->norder = p->nkeys;
    }
    p->limit = -1;
    p->offset = 0;
    if (at_kw(ps, k, "LIMIT")) {
        if (k + 1 >= n || !int_literal(&ps->t[k + 1], &p->limit)) return -1;
        k += 2;
        if (at_kw(ps, k, "OFFSET")) {
            if (k + 1 >= n || !int_literal(&ps->t[k + 1], &p->offset)) return -1;
            k += 2;
        }
    }
    if (k != n) return -1;
    /* fix the tag filter value pointers */
    for (size_t i = 0; i < p->nvals; i++)
        p->vals[i].ptr = p->strs.ptr + (uintptr_t)p->vals[i].ptr;
    for (size_t i = 0; i < p->ntagf; i++) {
        p->tagf[i].vals = p->vals + p->vfirst[i];
        if (p->tagf[i].nvals == 0) p->empty = 1;
    }
    if (p->min_time > p->max_time) p->empty = 1;
    return 0;
}
