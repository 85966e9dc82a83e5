/*
 * parse.c — the TOML 1.0 document grammar: expressions (key/value pairs,
 * [table] and [[array.of.tables]] headers, comments, blank lines), keys,
 * arrays and inline tables. Scalars are in scalar.c, the DOM in value.c.
 *
 * The parser is a single forward pass with recursion only for nested
 * arrays and inline tables (bounded by TOML_MAX_DEPTH). Before parsing, the
 * whole input is checked to be UTF-8 (the spec requires it) and an index of
 * line starts is built, so positions of values and errors are found by
 * binary search instead of being tracked at every newline.
 *
 * Table rules of TOML 1.0, as flags on table values (toml_int.h):
 *   - a [header] may define a table once (TOML_F_DEFINED); it may pass
 *     through tables created implicitly by earlier headers or dotted keys,
 *     through the last element of an [[array]], but never into an inline
 *     table or inline array (TOML_F_FROZEN);
 *   - a [header] may not define a table made by dotted keys (TOML_F_DOTTED);
 *   - dotted keys of a key/value only pass through tables that dotted keys
 *     created, so they cannot reopen a table defined by a header;
 *   - [[header]] appends to an array it created (TOML_F_AOT), never to an
 *     inline array;
 *   - inline tables and arrays are closed once their text ends.
 */
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>

#include "common/err.h"
#include "common/hash.h"
#include "common/mem.h"
#include "toml/toml_int.h"

int toml__fail(struct toml_parser *p, size_t at, int rc, const char *fmt, ...)
{
    if (p->rc) return p->rc;
    p->rc = rc;
    if (p->err) {
        uint32_t line, col;
        toml__position(p, at, &line, &col);
        p->err->line = (int)line;
        p->err->column = (int)col;
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(p->err->msg, sizeof(p->err->msg), fmt, ap);
        va_end(ap);
    }
    return rc;
}

void toml__position(const struct toml_parser *p, size_t at, uint32_t *line, uint32_t *col)
{
    size_t lo = 0, hi = p->nlines; /* lines[lo] <= at < lines[hi] */
    while (hi - lo > 1) {
        size_t mid = lo + (hi - lo) / 2;
        if (p->lines[mid] <= at)
            lo = mid;
        else
            hi = mid;
    }
    *line = (uint32_t)(lo + 1);
    *col = (uint32_t)(at - p->lines[lo] + 1);
}

/* A key for messages: at most 48 bytes, control bytes as '?'. */
static const char *key_for_msg(const char *key, size_t len, char *out, size_t cap)
{
    size_t n = 0;
    for (size_t i = 0; i < len && n + 4 < cap && i < 48; i++)
        out[n++] = ((unsigned char)key[i] < 0x20 || key[i] == 0x7f) ? '?' : key[i];
    if (len > 48 && n + 4 < cap) {
        memcpy(out + n, "...", 3);
        n += 3;
    }
    out[n] = '\0';
    return out;
}

/* Returns the offset of the first byte that is not valid UTF-8 (overlong
 * forms, surrogates and code points above U+10FFFF are invalid), or len. */
static size_t utf8_check(const unsigned char *s, size_t len)
{
    size_t i = 0;
    while (i < len) {
        unsigned char c = s[i];
        if (c < 0x80) {
            i++;
            continue;
        }
        size_t n;
        uint32_t cp;
        if (c >= 0xc2 && c <= 0xdf) {
            n = 2;
            cp = c & 0x1f;
        } else if (c >= 0xe0 && c <= 0xef) {
            n = 3;
            cp = c & 0x0f;
        } else if (c >= 0xf0 && c <= 0xf4) {
            n = 4;
            cp = c & 0x07;
        } else {
            return i;
        }
        if (len - i < n) return i;
        for (size_t k = 1; k < n; k++) {
            if ((s[i + k] & 0xc0) != 0x80) return i;
            cp = (cp << 6) | (s[i + k] & 0x3f);
        }
        if ((n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000) || cp > 0x10ffff ||
            (cp >= 0xd800 && cp <= 0xdfff))
            return i;
        i += n;
    }
    return len;
}

static int peek(const struct toml_parser *p)
{
    return p->pos < p->len ? (unsigned char)p->buf[p->pos] : -1;
}

static void skip_ws(struct toml_parser *p)
{
    while (p->pos < p->len && (p->buf[p->pos] == ' ' || p->buf[p->pos] == '\t'))
        p->pos++;
}

/* At '#': consumes the comment up to (not including) the line end. */
static int skip_comment(struct toml_parser *p)
{
    p->pos++;
    while (p->pos < p->len) {
        unsigned char c = (unsigned char)p->buf[p->pos];
        if (c == '\n') return 0;
        if (c == '\r' && p->pos + 1 < p->len && p->buf[p->pos + 1] == '\n') return 0;
        if ((c < 0x20 && c != '\t') || c == 0x7f)
            return toml__fail(p, p->pos, SL_EINVAL, "control character 0x%02x in comment", c);
        p->pos++;
    }
    return 0;
}

/* Consumes a newline if there is one; returns 1 if it did. */
static int eat_newline(struct toml_parser *p)
{
    if (peek(p) == '\n') {
        p->pos++;
        return 1;
    }
    if (peek(p) == '\r' && p->pos + 1 < p->len && p->buf[p->pos + 1] == '\n') {
        p->pos += 2;
        return 1;
    }
    return 0;
}

/* After an expression: whitespace, an optional comment, then a line end or
 * the end of the input. */
static int end_of_line(struct toml_parser *p, const char *what)
{
    skip_ws(p);
    if (peek(p) == '#' && skip_comment(p) < 0) return p->rc;
    if (p->pos >= p->len || eat_newline(p)) return 0;
    return toml__fail(p, p->pos, SL_EINVAL, "expected a new line after %s", what);
}

/* Whitespace, newlines and comments inside an array. */
static int skip_ws_nl(struct toml_parser *p)
{
    for (;;) {
        skip_ws(p);
        if (peek(p) == '#') {
            if (skip_comment(p) < 0) return p->rc;
        } else if (!eat_newline(p)) {
            return 0;
        }
    }
}

static bool is_bare(int c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' ||
           c == '-';
}

/* One simple key (bare, "basic" or 'literal') at p->pos. */
static int simple_key(struct toml_parser *p, const char **key, size_t *len)
{
    int c = peek(p);
    if (c == '"' || c == '\'') return toml__string(p, false, key, len);
    size_t start = p->pos;
    while (p->pos < p->len && is_bare((unsigned char)p->buf[p->pos]))
        p->pos++;
    if (p->pos == start) {
        if (c < 0 || c == '\n' || c == '\r')
            return toml__fail(p, start, SL_EINVAL, "expected a key");
        if (c == '=') return toml__fail(p, start, SL_EINVAL, "missing key before '='");
        if (c < 0x20 || c >= 0x7f)
            return toml__fail(p, start, SL_EINVAL, "invalid character in key");
        return toml__fail(p, start, SL_EINVAL, "invalid character '%c' in key", c);
    }
    *key = sl_arena_strndup(p->arena, p->buf + start, p->pos - start);
    if (!*key) return toml__fail(p, start, SL_ETOOBIG, "document too large (memory limit)");
    *len = p->pos - start;
    return 0;
}

static int check_depth(struct toml_parser *p, unsigned depth, size_t at)
{
    if (depth > TOML_MAX_DEPTH)
        return toml__fail(p, at, SL_ETOOBIG, "nesting deeper than %d levels", TOML_MAX_DEPTH);
    return 0;
}

/* Creates an empty table under `parent` at key; NULL after a failure. */
static struct toml_value *add_table(struct toml_parser *p, struct toml_value *parent,
                                    const char *key, size_t len, size_t at, uint8_t flags)
{
    if (check_depth(p, parent->depth + 1u, at) < 0) return NULL;
    struct toml_value *v = toml__new(p, TOML_TABLE, at);
    if (!v) return NULL;
    v->depth = (uint16_t)(parent->depth + 1);
    v->flags = flags;
    if (toml__insert(p, &parent->u.tab, key, len, v) < 0) {
        toml__fail(p, at, SL_ETOOBIG, "document too large (memory limit)");
        return NULL;
    }
    return v;
}

static const char *what_is(const struct toml_value *v)
{
    switch (v->type) {
    case TOML_TABLE: return "a table";
    case TOML_ARRAY: return "an array";
    default: return "a value";
    }
}

/* A [header] passes through key (which is followed by a dot). */
static struct toml_value *header_step(struct toml_parser *p, struct toml_value *t, const char *key,
                                      size_t len, size_t at)
{
    char kb[64];
    struct toml_value *v = toml__find(&t->u.tab, key, len);
    if (!v) return add_table(p, t, key, len, at, 0);
    if (v->type == TOML_TABLE) {
        if (v->flags & TOML_F_FROZEN) {
            toml__fail(p, at, SL_EINVAL, "cannot extend inline table '%s'",
                       key_for_msg(key, len, kb, sizeof(kb)));
            return NULL;
        }
        return v;
    }
    if (v->type == TOML_ARRAY && (v->flags & TOML_F_AOT) && v->u.arr.len > 0)
        return v->u.arr.items[v->u.arr.len - 1];
    toml__fail(p, at, SL_EINVAL, "key '%s' is already %s (defined at line %u)",
               key_for_msg(key, len, kb, sizeof(kb)), what_is(v), v->line);
    return NULL;
}

/* The last key of a [header]. */
static struct toml_value *header_table(struct toml_parser *p, struct toml_value *t, const char *key,
                                       size_t len, size_t at)
{
    char kb[64];
    struct toml_value *v = toml__find(&t->u.tab, key, len);
    if (!v) return add_table(p, t, key, len, at, TOML_F_DEFINED);
    const char *why = NULL;
    if (v->type != TOML_TABLE)
        why = what_is(v);
    else if (v->flags & TOML_F_FROZEN)
        why = "an inline table";
    else if (v->flags & TOML_F_DEFINED)
        why = "defined";
    else if (v->flags & TOML_F_DOTTED)
        why = "defined by dotted keys";
    if (why) {
        toml__fail(p, at, SL_EINVAL, "table '%s' is already %s (line %u)",
                   key_for_msg(key, len, kb, sizeof(kb)), why, v->line);
        return NULL;
    }
    v->flags |= TOML_F_DEFINED;
    toml__position(p, at, &v->line, &v->column);
    return v;
}

/* The last key of a [[header]]: appends a new table. */
static struct toml_value *header_array(struct toml_parser *p, struct toml_value *t, const char *key,
                                       size_t len, size_t at)
{
    char kb[64];
    struct toml_value *arr = toml__find(&t->u.tab, key, len);
    if (!arr) {
        if (check_depth(p, t->depth + 1u, at) < 0) return NULL;
        arr = toml__new(p, TOML_ARRAY, at);
        if (!arr) return NULL;
        arr->depth = (uint16_t)(t->depth + 1);
        arr->flags = TOML_F_AOT;
        if (toml__insert(p, &t->u.tab, key, len, arr) < 0) {
            toml__fail(p, at, SL_ETOOBIG, "document too large (memory limit)");
            return NULL;
        }
    } else if (arr->type != TOML_ARRAY || !(arr->flags & TOML_F_AOT)) {
        toml__fail(p, at, SL_EINVAL, "key '%s' is already %s (line %u)",
                   key_for_msg(key, len, kb, sizeof(kb)),
                   arr->type == TOML_ARRAY ? "an inline array" : what_is(arr), arr->line);
        return NULL;
    }
    if (check_depth(p, arr->depth + 1u, at) < 0) return NULL;
    struct toml_value *v = toml__new(p, TOML_TABLE, at);
    if (!v) return NULL;
    v->depth = (uint16_t)(arr->depth + 1);
    v->flags = TOML_F_DEFINED;
    if (toml__push(p, &arr->u.arr, v) < 0) {
        toml__fail(p, at, SL_ETOOBIG, "document too large (memory limit)");
        return NULL;
    }
    return v;
}

static int header(struct toml_parser *p)
{
    size_t start = p->pos;
    p->pos++;
    bool aot = peek(p) == '[';
    if (aot) p->pos++;
    struct toml_value *t = p->root;
    skip_ws(p);
    for (;;) {
        size_t at = p->pos;
        const char *key;
        size_t len;
        if (simple_key(p, &key, &len) < 0) return p->rc;
        skip_ws(p);
        if (peek(p) == '.') {
            p->pos++;
            skip_ws(p);
            if (!(t = header_step(p, t, key, len, at))) return p->rc;
            continue;
        }
        t = aot ? header_array(p, t, key, len, start) : header_table(p, t, key, len, start);
        if (!t) return p->rc;
        break;
    }
    if (peek(p) != ']')
        return toml__fail(p, p->pos, SL_EINVAL, "expected ']' to close the table header");
    p->pos++;
    if (aot) {
        if (peek(p) != ']')
            return toml__fail(p, p->pos, SL_EINVAL, "expected ']]' to close the header");
        p->pos++;
    }
    p->cur = t;
    return end_of_line(p, "a table header");
}

static struct toml_value *value(struct toml_parser *p, unsigned depth);

/* key = value into table t (the current table, or an inline table). */
static int keyval(struct toml_parser *p, struct toml_value *t)
{
    char kb[64];
    for (;;) {
        size_t at = p->pos;
        const char *key;
        size_t len;
        if (simple_key(p, &key, &len) < 0) return p->rc;
        skip_ws(p);
        if (peek(p) == '.') {
            p->pos++;
            skip_ws(p);
            struct toml_value *v = toml__find(&t->u.tab, key, len);
            if (!v) {
                if (!(v = add_table(p, t, key, len, at, TOML_F_DOTTED))) return p->rc;
            } else if (v->type != TOML_TABLE || (v->flags & TOML_F_FROZEN) ||
                       !(v->flags & TOML_F_DOTTED)) {
                return toml__fail(p, at, SL_EINVAL,
                                  "cannot add keys to '%s' with dotted keys: it is %s (line %u)",
                                  key_for_msg(key, len, kb, sizeof(kb)),
                                  v->type != TOML_TABLE        ? what_is(v)
                                  : (v->flags & TOML_F_FROZEN) ? "an inline table"
                                                               : "a table defined elsewhere",
                                  v->line);
            }
            t = v;
            continue;
        }
        if (peek(p) != '=') return toml__fail(p, p->pos, SL_EINVAL, "expected '=' after a key");
        p->pos++;
        skip_ws(p);
        struct toml_value *old = toml__find(&t->u.tab, key, len);
        if (old)
            return toml__fail(p, at, SL_EINVAL, "duplicate key '%s' (first defined at line %u)",
                              key_for_msg(key, len, kb, sizeof(kb)), old->line);
        if (check_depth(p, t->depth + 1u, at) < 0) return p->rc;
        struct toml_value *v = value(p, t->depth + 1u);
        if (!v) return p->rc;
        toml__position(p, at, &v->line, &v->column);
        if (toml__insert(p, &t->u.tab, key, len, v) < 0)
            return toml__fail(p, at, SL_ETOOBIG, "document too large (memory limit)");
        return 0;
    }
}

static struct toml_value *array(struct toml_parser *p, unsigned depth)
{
    struct toml_value *a = toml__new(p, TOML_ARRAY, p->pos);
    if (!a) return NULL;
    a->depth = (uint16_t)depth;
    p->pos++;
    for (;;) {
        if (skip_ws_nl(p) < 0) return NULL;
        if (peek(p) == ']') break;
        size_t at = p->pos;
        if (p->pos >= p->len) {
            toml__fail(p, at, SL_EINVAL, "unterminated array");
            return NULL;
        }
        if (check_depth(p, depth + 1, at) < 0) return NULL;
        struct toml_value *v = value(p, depth + 1);
        if (!v) return NULL;
        if (toml__push(p, &a->u.arr, v) < 0) {
            toml__fail(p, at, SL_ETOOBIG, "document too large (memory limit)");
            return NULL;
        }
        if (skip_ws_nl(p) < 0) return NULL;
        if (peek(p) == ',') {
            p->pos++;
            continue;
        }
        if (peek(p) == ']') break;
        toml__fail(p, p->pos, SL_EINVAL, "expected ',' or ']' in array");
        return NULL;
    }
    p->pos++;
    a->flags |= TOML_F_FROZEN;
    return a;
}

static struct toml_value *inline_table(struct toml_parser *p, unsigned depth)
{
    struct toml_value *t = toml__new(p, TOML_TABLE, p->pos);
    if (!t) return NULL;
    t->depth = (uint16_t)depth;
    t->flags = TOML_F_DEFINED;
    p->pos++;
    skip_ws(p);
    if (peek(p) == '}') {
        p->pos++;
        t->flags |= TOML_F_FROZEN;
        return t;
    }
    for (;;) {
        skip_ws(p);
        if (peek(p) == '\n' || peek(p) == '\r') {
            toml__fail(p, p->pos, SL_EINVAL, "newline in inline table");
            return NULL;
        }
        if (keyval(p, t) < 0) return NULL;
        skip_ws(p);
        int c = peek(p);
        if (c == ',') {
            p->pos++;
            skip_ws(p);
            if (peek(p) == '}') {
                toml__fail(p, p->pos, SL_EINVAL, "trailing comma in inline table");
                return NULL;
            }
            continue;
        }
        if (c == '}') break;
        if (c == '\n' || c == '\r')
            toml__fail(p, p->pos, SL_EINVAL, "newline in inline table");
        else if (c < 0)
            toml__fail(p, p->pos, SL_EINVAL, "unterminated inline table");
        else
            toml__fail(p, p->pos, SL_EINVAL, "expected ',' or '}' in inline table");
        return NULL;
    }
    p->pos++;
    toml__freeze(t);
    return t;
}

static struct toml_value *value(struct toml_parser *p, unsigned depth)
{
    int c = peek(p);
    if (c == '"' || c == '\'') {
        struct toml_value *v = toml__new(p, TOML_STRING, p->pos);
        if (!v || toml__string(p, true, &v->u.str.ptr, &v->u.str.len) < 0) return NULL;
        return v;
    }
    if (c == '[') return array(p, depth);
    if (c == '{') return inline_table(p, depth);
    if (c < 0 || c == '\n' || c == '\r' || c == '#') {
        toml__fail(p, p->pos, SL_EINVAL, "missing value");
        return NULL;
    }
    struct toml_value *v = toml__new(p, TOML_INTEGER, p->pos);
    if (!v || toml__scalar(p, v) < 0) return NULL;
    return v;
}

static int document(struct toml_parser *p)
{
    if (p->len >= 3 && memcmp(p->buf, "\xef\xbb\xbf", 3) == 0) p->pos = 3;
    while (p->pos < p->len) {
        skip_ws(p);
        int c = peek(p);
        if (c < 0) break;
        if (c == '#') {
            if (skip_comment(p) < 0) return p->rc;
            eat_newline(p);
            continue;
        }
        if (eat_newline(p)) continue;
        if (c == '\r') return toml__fail(p, p->pos, SL_EINVAL, "carriage return without newline");
        if (c == '[') {
            if (header(p) < 0) return p->rc;
            continue;
        }
        if (keyval(p, p->cur) < 0) return p->rc;
        if (end_of_line(p, "a value") < 0) return p->rc;
    }
    return 0;
}

static int build_lines(struct toml_parser *p)
{
    size_t n = 1;
    for (const char *s = p->buf, *end = p->buf + p->len;
         s < end && (s = memchr(s, '\n', (size_t)(end - s))); s++)
        n++;
    p->lines = sl_malloc(n * sizeof(*p->lines));
    if (!p->lines) return SL_ENOMEM;
    p->lines[0] = 0;
    p->nlines = 1;
    for (size_t i = 0; i < p->len; i++)
        if (p->buf[i] == '\n') p->lines[p->nlines++] = (uint32_t)(i + 1);
    return 0;
}

int toml_parse(const char *buf, size_t len, struct toml_value **root, struct toml_error *err)
{
    static _Atomic uint64_t counter;
    struct toml_parser p = {0};
    struct toml_doc *doc = NULL;
    int rc;
    *root = NULL;
    if (err) memset(err, 0, sizeof(*err));
    p.err = err;
    if (!buf && len) return SL_EINVAL;
    if (len > TOML_MAX_INPUT) {
        p.nlines = 1;
        uint32_t zero = 0;
        p.lines = &zero;
        rc = toml__fail(&p, 0, SL_ETOOBIG, "input larger than %zu bytes", TOML_MAX_INPUT);
        p.lines = NULL;
        return rc;
    }
    p.buf = buf ? buf : "";
    p.len = len;
    sl_buf_init(&p.scratch, TOML_MAX_INPUT);
    if ((rc = build_lines(&p)) < 0) {
        if (err) snprintf(err->msg, sizeof(err->msg), "out of memory");
        goto out;
    }
    size_t bad = utf8_check((const unsigned char *)p.buf, len);
    if (bad < len) {
        rc = toml__fail(&p, bad, SL_EINVAL, "invalid UTF-8");
        goto out;
    }
    doc = sl_malloc(sizeof(*doc));
    if (!doc) {
        rc = toml__fail(&p, 0, SL_ENOMEM, "out of memory");
        goto out;
    }
    sl_arena_init(&doc->arena, TOML_MAX_MEMORY);
    memset(&doc->root, 0, sizeof(doc->root));
    doc->root.type = TOML_TABLE;
    doc->root.flags = TOML_F_DEFINED;
    doc->root.line = 1;
    doc->root.column = 1;
    uintptr_t addr = (uintptr_t)doc;
    p.seed = sl_hash64(&addr, sizeof(addr), atomic_fetch_add(&counter, 1));
    doc->root.u.tab.seed = p.seed;
    p.arena = &doc->arena;
    p.root = p.cur = &doc->root;
    if ((rc = document(&p)) < 0) goto out;
    *root = &doc->root;
    doc = NULL;
out:
    if (doc) toml_free(&doc->root);
    sl_free(p.lines);
    sl_buf_release(&p.scratch);
    return rc;
}
