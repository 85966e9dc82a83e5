/*
 * envsubst.c — Telegraf's environment-variable substitution on the raw text
 * of a configuration file (the forms are listed in toml.h and docs/toml.md).
 *
 * Telegraf (>= 1.27) first strips comments with a small TOML-aware scanner
 * and then runs compose-go's template substitution with two twists: an
 * unset variable without a default keeps its text ("$X" stays "$X"), and an
 * invalid template such as "${1}" is kept as written. We do the same in one
 * pass: the comment scanner follows Telegraf's rules (quotes '...' and
 * "..." end at their closing quote or the end of the line, '''...''' and
 * """...""" at their closing triple, a backslash outside a literal string
 * takes the next byte with it, # outside quotes starts a comment), but
 * comments are copied instead of dropped, so line numbers and the text the
 * parser sees stay the same apart from the substitutions.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/err.h"
#include "common/mem.h"
#include "toml/toml.h"

#define MAX_NESTING 16 /* ${A:-${B:-${C}}} ... */

/* A "${" and the "}" that closes it (counting nested "${"), on the same
 * line and before any comment; close is (size_t)-1 when there is none. */
struct brace {
    size_t open, close;
};

struct subst {
    const char *in;
    size_t len;
    struct brace *braces; /* sorted by open */
    size_t nbraces;
    toml_env_lookup_fn lookup;
    void *ctx;
    struct sl_buf *out;
    char *errmsg;
    size_t errcap;
};

static bool name_start(char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_';
}

static bool name_char(char c)
{
    return name_start(c) || (c >= '0' && c <= '9');
}

static int line_of(const struct subst *s, const char *at)
{
    int line = 1;
    for (const char *c = s->in; c < at && c < s->in + s->len; c++)
        if (*c == '\n') line++;
    return line;
}

static const char *lookup(const struct subst *s, const char *name, size_t n)
{
    char buf[256];
    if (n >= sizeof(buf)) return NULL; /* no such variable in practice */
    memcpy(buf, name, n);
    buf[n] = '\0';
    return s->lookup(buf, s->ctx);
}

/* Offset of the `}` closing the "${" at offset at (the index of its '$'),
 * or (size_t)-1: a binary search in the table build_braces() made. */
static size_t closing_brace(const struct subst *s, size_t at)
{
    size_t lo = 0, hi = s->nbraces;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (s->braces[mid].open < at)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo < s->nbraces && s->braces[lo].open == at) return s->braces[lo].close;
    return (size_t)-1;
}

static int expand(struct subst *s, const char *p, size_t n, int depth);

/*
 * At p[0] == '$' (p[1] exists or not). Handles one substitution and returns
 * how many input bytes it consumed (>= 1), or a negative error.
 */
static int64_t dollar(struct subst *s, const char *p, size_t n, int depth)
{
    int rc;
    if (n >= 2 && p[1] == '$') {
        rc = sl_buf_addc(s->out, '$');
        return rc < 0 ? rc : 2;
    }
    if (n >= 2 && name_start(p[1])) {
        size_t e = 2;
        while (e < n && name_char(p[e]))
            e++;
        const char *val = lookup(s, p + 1, e - 1);
        rc = val ? sl_buf_adds(s->out, val) : sl_buf_add(s->out, p, e);
        return rc < 0 ? rc : (int64_t)e;
    }
    if (n < 3 || p[1] != '{' || !name_start(p[2])) {
        rc = sl_buf_add(s->out, p, n >= 2 && p[1] == '{' ? 2 : 1);
        return rc < 0 ? rc : (n >= 2 && p[1] == '{' ? 2 : 1);
    }
    size_t ne = 3;
    while (ne < n && name_char(p[ne]))
        ne++;
    const char *name = p + 2;
    size_t nlen = ne - 2;
    if (ne < n && p[ne] == '}') {
        const char *val = lookup(s, name, nlen);
        rc = val ? sl_buf_adds(s->out, val) : sl_buf_add(s->out, p, ne + 1);
        return rc < 0 ? rc : (int64_t)(ne + 1);
    }
    /* operator: ":-" "-" ":+" "+" ":?" "?" */
    size_t op = ne;
    bool colon = op < n && p[op] == ':';
    if (colon) op++;
    char kind = op < n ? p[op] : 0;
    /* the word runs from p + op + 1 to the closing brace */
    size_t base = (size_t)(p - s->in) + op + 1;
    size_t close = closing_brace(s, (size_t)(p - s->in));
    if (close != (size_t)-1 && close >= base && close - base < n - op - 1)
        close -= base;
    else
        close = (size_t)-1;
    if (op >= n || (kind != '-' && kind != '+' && kind != '?') || close == (size_t)-1) {
        rc = sl_buf_add(s->out, p, 2); /* invalid template: kept as written */
        return rc < 0 ? rc : 2;
    }
    const char *word = p + op + 1;
    size_t wlen = close;
    size_t consumed = op + 1 + close + 1;
    const char *val = lookup(s, name, nlen);
    bool set = val != NULL, nonempty = val && *val;
    bool use_word;
    switch (kind) {
    case '-': use_word = colon ? !nonempty : !set; break;
    case '+': use_word = colon ? nonempty : set; break;
    default:
        if (colon ? nonempty : set) {
            use_word = false;
            break;
        }
        if (s->errcap) {
            /* the message itself is substituted too, like compose-go does */
            struct sl_buf msg = SL_BUF_INIT;
            sl_buf_init(&msg, 4096);
            struct sl_buf *saved = s->out;
            s->out = &msg;
            int mrc = depth < MAX_NESTING ? expand(s, word, wlen, depth + 1) : 0;
            s->out = saved;
            if (mrc < 0) {
                sl_buf_release(&msg);
                return mrc;
            }
            snprintf(s->errmsg, s->errcap, "line %d: required variable %.*s is missing a value%s%s",
                     line_of(s, p), (int)nlen, name, msg.len ? ": " : "", msg.ptr ? msg.ptr : "");
            sl_buf_release(&msg);
        }
        return SL_EINVAL;
    }
    if (!use_word) {
        rc = (kind == '+') ? 0 : sl_buf_adds(s->out, val);
        return rc < 0 ? rc : (int64_t)consumed;
    }
    if (depth >= MAX_NESTING) {
        if (s->errcap)
            snprintf(s->errmsg, s->errcap, "line %d: variables nested deeper than %d",
                     line_of(s, p), MAX_NESTING);
        return SL_EINVAL;
    }
    rc = expand(s, word, wlen, depth + 1);
    return rc < 0 ? rc : (int64_t)consumed;
}

/* Substitutes everything in p[0..n) (no comment handling: used for words). */
static int expand(struct subst *s, const char *p, size_t n, int depth)
{
    size_t i = 0;
    while (i < n) {
        const char *d = memchr(p + i, '$', n - i);
        size_t plain = d ? (size_t)(d - (p + i)) : n - i;
        int rc = sl_buf_add(s->out, p + i, plain);
        if (rc < 0) return rc;
        i += plain;
        if (i >= n) break;
        int64_t used = dollar(s, p + i, n - i, depth);
        if (used < 0) return (int)used;
        i += (size_t)used;
    }
    return 0;
}

/* Telegraf's comment scanner; returns the end of the token starting at i
 * (a quoted string, an escape, or a comment, which is flagged). Plain bytes
 * return i + 1. */
static size_t scan_token(const char *in, size_t len, size_t i, bool *comment)
{
    *comment = false;
    char c = in[i];
    if (c == '\\') return i + 2 <= len ? i + 2 : len;
    if (c == '#') {
        *comment = true;
        const char *nl = memchr(in + i, '\n', len - i);
        return nl ? (size_t)(nl - in) : len;
    }
    if (c != '"' && c != '\'') return i + 1;
    bool triple = len - i >= 3 && in[i + 1] == c && in[i + 2] == c;
    size_t j = i + (triple ? 3 : 1);
    while (j < len) {
        char d = in[j];
        if (d == '\\' && c == '"') {
            j += 2;
            continue;
        }
        if (triple) {
            if (d == c && len - j >= 3 && in[j + 1] == c && in[j + 2] == c) return j + 3;
        } else if (d == c || d == '\n') {
            return j + 1;
        }
        j++;
    }
    return len;
}

/*
 * Pairs every "${" with its closing "}" in one pass, so that finding where
 * ${NAME:-word} ends costs a lookup instead of a scan to the end of the line
 * (which would make a line full of unclosed "${A:-" quadratic). Lines and
 * comments reset the pairing, as the substitution never crosses them.
 */
static int build_braces(struct subst *s)
{
    size_t count = 0;
    for (size_t i = 0; i + 1 < s->len; i++)
        count += s->in[i] == '$' && s->in[i + 1] == '{';
    if (count == 0) return 0;
    size_t *stack = sl_malloc(count * sizeof(*stack));
    s->braces = sl_malloc(count * sizeof(*s->braces));
    if (!stack || !s->braces) {
        sl_free(stack);
        return SL_ENOMEM;
    }
    size_t depth = 0;
    for (size_t i = 0; i < s->len;) {
        bool comment;
        size_t end = scan_token(s->in, s->len, i, &comment);
        if (comment) {
            depth = 0;
            i = end;
            continue;
        }
        for (; i < end; i++) {
            char c = s->in[i];
            if (c == '\n') {
                depth = 0;
            } else if (c == '$' && i + 1 < s->len && s->in[i + 1] == '{') {
                s->braces[s->nbraces].open = i;
                s->braces[s->nbraces].close = (size_t)-1;
                stack[depth++] = s->nbraces++;
            } else if (c == '}' && depth > 0) {
                s->braces[stack[--depth]].close = i;
            }
        }
    }
    sl_free(stack);
    return 0;
}

int toml_envsubst_with(const char *in, size_t len, toml_env_lookup_fn lookup_fn, void *ctx,
                       struct sl_buf *out, char *errmsg, size_t errcap)
{
    struct subst s = {in, len, NULL, 0, lookup_fn, ctx, out, errmsg, errcap};
    if (errcap) errmsg[0] = '\0';
    int rc = build_braces(&s);
    if (rc < 0) goto out;
    size_t i = 0, run = 0; /* bytes [run, i) are pending substitution */
    while (i < len) {
        bool comment;
        size_t end = scan_token(in, len, i, &comment);
        if (comment) {
            if ((rc = expand(&s, in + run, i - run, 0)) < 0) goto out;
            if ((rc = sl_buf_add(out, in + i, end - i)) < 0) goto out;
            run = end;
        }
        i = end;
    }
    rc = expand(&s, in + run, len - run, 0);
out:
    sl_free(s.braces);
    return rc;
}

static const char *getenv_lookup(const char *name, void *ctx)
{
    (void)ctx;
    return getenv(name);
}

int toml_envsubst(const char *in, size_t len, struct sl_buf *out, char *errmsg, size_t errcap)
{
    return toml_envsubst_with(in, len, getenv_lookup, NULL, out, errmsg, errcap);
}
