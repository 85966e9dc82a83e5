/*
 * filter.c — glob matching and Telegraf's metric filters (see filter.h).
 *
 * The matcher is recursive only on `*` and `{`, with the recursion depth
 * bounded by the pattern length, which comes from the configuration file.
 */
#include "agent/filter.h"

#include <string.h>

#include "common/err.h"
#include "common/mem.h"

/* Matches one [...] class at p (just after '['); returns the pattern position
 * after ']' and sets *hit, or NULL when the class is not closed. */
static const char *class_match(const char *p, unsigned char c, int *hit)
{
    int neg = 0, ok = 0;
    if (*p == '!' || *p == '^') {
        neg = 1;
        p++;
    }
    int first = 1;
    while (*p && (*p != ']' || first)) {
        first = 0;
        unsigned char lo = (unsigned char)*p, hi;
        if (lo == '\\' && p[1]) lo = (unsigned char)*++p;
        p++;
        hi = lo;
        if (*p == '-' && p[1] && p[1] != ']') {
            hi = (unsigned char)p[1];
            if (hi == '\\' && p[2]) {
                hi = (unsigned char)p[2];
                p++;
            }
            p += 2;
        }
        if (c >= lo && c <= hi) ok = 1;
    }
    if (*p != ']') return NULL;
    *hit = ok != neg;
    return p + 1;
}

/* Finds the end of a {...} group starting after '{'; NULL if unclosed. */
static const char *brace_end(const char *p)
{
    int depth = 1;
    for (; *p; p++) {
        if (*p == '\\' && p[1])
            p++;
        else if (*p == '{')
            depth++;
        else if (*p == '}' && --depth == 0)
            return p;
    }
    return NULL;
}

static int match_here(const char *p, const char *pend, const char *s);

/* Tries each alternative of {alt1,alt2} followed by the rest of the pattern. */
static int match_brace(const char *p, const char *close, const char *pend, const char *s)
{
    const char *alt = p;
    int depth = 0;
    for (const char *q = p;; q++) {
        if (q < close && *q == '\\' && q + 1 < close) {
            q++;
            continue;
        }
        if (q < close && *q == '{') depth++;
        if (q < close && *q == '}') depth--;
        if (q == close || (*q == ',' && depth == 0)) {
            /* pattern = alt .. q  followed by close+1 .. pend */
            size_t a = (size_t)(q - alt), r = (size_t)(pend - (close + 1));
            char stackbuf[256];
            char *tmp = a + r + 1 <= sizeof(stackbuf) ? stackbuf : sl_malloc(a + r + 1);
            if (!tmp) return 0;
            memcpy(tmp, alt, a);
            memcpy(tmp + a, close + 1, r);
            tmp[a + r] = '\0';
            int ok = match_here(tmp, tmp + a + r, s);
            if (tmp != stackbuf) sl_free(tmp);
            if (ok) return 1;
            if (q == close) return 0;
            alt = q + 1;
        }
    }
}

static int match_here(const char *p, const char *pend, const char *s)
{
    while (p < pend) {
        switch (*p) {
        case '*':
            while (p < pend && *p == '*')
                p++;
            if (p == pend) return 1;
            for (;; s++) {
                if (match_here(p, pend, s)) return 1;
                if (!*s) return 0;
            }
        case '?':
            if (!*s) return 0;
            p++;
            s++;
            break;
        case '[': {
            int hit = 0;
            const char *np = class_match(p + 1, (unsigned char)*s, &hit);
            if (np && np <= pend) {
                if (!*s || !hit) return 0;
                p = np;
                s++;
                break;
            }
            if (*s != '[') return 0; /* unclosed: literal */
            p++;
            s++;
            break;
        }
        case '{': {
            const char *close = brace_end(p + 1);
            if (close && close < pend) return match_brace(p + 1, close, pend, s);
            if (*s != '{') return 0;
            p++;
            s++;
            break;
        }
        case '\\':
            if (p + 1 < pend) p++;
            /* fall through */
        default:
            if (*s != *p) return 0;
            p++;
            s++;
        }
    }
    return *s == '\0';
}

int glob_match(const char *pattern, const char *s)
{
    return match_here(pattern, pattern + strlen(pattern), s);
}

int glob_list_add(struct glob_list *l, const char *pattern)
{
    char *c = sl_strdup(pattern);
    if (!c) return SL_ENOMEM;
    char **nv = sl_realloc(l->v, (l->n + 1) * sizeof(*nv));
    if (!nv) {
        sl_free(c);
        return SL_ENOMEM;
    }
    l->v = nv;
    l->v[l->n++] = c;
    return 0;
}

int glob_list_match(const struct glob_list *l, const char *s)
{
    for (size_t i = 0; i < l->n; i++)
        if (glob_match(l->v[i], s)) return 1;
    return 0;
}

void glob_list_release(struct glob_list *l)
{
    for (size_t i = 0; i < l->n; i++)
        sl_free(l->v[i]);
    sl_free(l->v);
    l->v = NULL;
    l->n = 0;
}

int metric_filter_add_tag(struct metric_filter *f, int drop, const char *key, const char *glob)
{
    struct tag_filter **arr = drop ? &f->tagdrop : &f->tagpass;
    size_t *n = drop ? &f->ntagdrop : &f->ntagpass;
    size_t i;
    for (i = 0; i < *n; i++)
        if (!strcmp((*arr)[i].key, key)) break;
    if (i == *n) {
        struct tag_filter *na = sl_realloc(*arr, (*n + 1) * sizeof(*na));
        if (!na) return SL_ENOMEM;
        *arr = na;
        memset(&na[i], 0, sizeof(na[i]));
        na[i].key = sl_strdup(key);
        if (!na[i].key) return SL_ENOMEM;
        (*n)++;
    }
    return glob_list_add(&(*arr)[i].globs, glob);
}

int metric_filter_active(const struct metric_filter *f)
{
    return f->namepass.n || f->namedrop.n || f->fieldinclude.n || f->fieldexclude.n ||
           f->taginclude.n || f->tagexclude.n || f->ntagpass || f->ntagdrop;
}

/* 1 when some tag of m named in tf matches one of its globs. */
static int tags_match(const struct tag_filter *tf, size_t n, const struct metric *m)
{
    for (size_t i = 0; i < n; i++) {
        const char *v = metric_get_tag(m, tf[i].key);
        if (v && glob_list_match(&tf[i].globs, v)) return 1;
    }
    return 0;
}

int metric_filter_select(const struct metric_filter *f, const struct metric *m)
{
    if (f->namepass.n && !glob_list_match(&f->namepass, m->name)) return 0;
    if (f->namedrop.n && glob_list_match(&f->namedrop, m->name)) return 0;
    if (f->ntagpass && !tags_match(f->tagpass, f->ntagpass, m)) return 0;
    if (f->ntagdrop && tags_match(f->tagdrop, f->ntagdrop, m)) return 0;
    return 1;
}

int metric_filter_apply(const struct metric_filter *f, struct metric *m)
{
    return metric_filter_select(f, m) && metric_filter_modify(f, m);
}

int metric_filter_modify(const struct metric_filter *f, struct metric *m)
{
    if (f->fieldinclude.n || f->fieldexclude.n) {
        for (size_t i = m->nfields; i-- > 0;) {
            const char *k = m->fields[i].key;
            int keep = (!f->fieldinclude.n || glob_list_match(&f->fieldinclude, k)) &&
                       !(f->fieldexclude.n && glob_list_match(&f->fieldexclude, k));
            if (!keep) metric_remove_field(m, k);
        }
    }
    if (f->taginclude.n || f->tagexclude.n) {
        for (size_t i = m->ntags; i-- > 0;) {
            const char *k = m->tags[i].key;
            int keep = (!f->taginclude.n || glob_list_match(&f->taginclude, k)) &&
                       !(f->tagexclude.n && glob_list_match(&f->tagexclude, k));
            if (!keep) metric_remove_tag(m, k);
        }
    }
    return m->nfields > 0;
}

void metric_filter_release(struct metric_filter *f)
{
    glob_list_release(&f->namepass);
    glob_list_release(&f->namedrop);
    glob_list_release(&f->fieldinclude);
    glob_list_release(&f->fieldexclude);
    glob_list_release(&f->taginclude);
    glob_list_release(&f->tagexclude);
    for (size_t i = 0; i < f->ntagpass; i++) {
        sl_free(f->tagpass[i].key);
        glob_list_release(&f->tagpass[i].globs);
    }
    for (size_t i = 0; i < f->ntagdrop; i++) {
        sl_free(f->tagdrop[i].key);
        glob_list_release(&f->tagdrop[i].globs);
    }
    sl_free(f->tagpass);
    sl_free(f->tagdrop);
    memset(f, 0, sizeof(*f));
}
