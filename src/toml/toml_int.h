/*
 * toml_int.h — private structures of the TOML parser, shared by value.c (the
 * DOM), parse.c (document structure) and scalar.c (strings, numbers and
 * datetimes). Not for use outside src/toml/.
 */
#ifndef SL_TOML_TOML_INT_H
#define SL_TOML_TOML_INT_H

#include <stdarg.h>
#include <stdint.h>

#include "common/arena.h"
#include "common/buf.h"
#include "toml/toml.h"

/* Tables with at least this many keys get a hash index. */
#define TOML_INDEX_MIN 8

struct toml_kv {
    const char *key;
    size_t keylen;
    struct toml_value *val;
};

struct toml_table {
    struct toml_kv *kv;
    size_t len, cap;
    uint32_t *index;  /* open addressing: entry number + 1, 0 = empty */
    size_t index_cap; /* power of two, >= 2 * len when index != NULL */
    uint64_t seed;
};

struct toml_array {
    struct toml_value **items;
    size_t len, cap;
};

/* value flags */
enum {
    TOML_F_DEFINED = 1, /* table: defined by a [header], [[header]] or inline */
    TOML_F_DOTTED = 2,  /* table: created by a dotted key in a key/value */
    TOML_F_FROZEN = 4,  /* inline table / inline array (and all inside): closed */
    TOML_F_AOT = 8,     /* array: made by [[header]] */
};

struct toml_value {
    union {
        struct toml_table tab;
        struct toml_array arr;
        struct {
            const char *ptr;
            size_t len;
        } str;
        int64_t i;
        double f;
        bool b;
        struct toml_datetime dt;
    } u;
    uint32_t line, column;
    uint16_t depth; /* tables/arrays: nesting level, root = 0 */
    uint8_t type;
    uint8_t flags;
};

/* A document: the arena that holds everything, and the root. */
struct toml_doc {
    struct sl_arena arena;
    struct toml_value root;
};

struct toml_parser {
    const char *buf;
    size_t len;
    size_t pos;
    uint32_t *lines; /* offset of the start of each line */
    size_t nlines;
    struct sl_arena *arena;
    struct toml_value *root;
    struct toml_value *cur; /* table receiving key/values */
    struct toml_error *err;
    struct sl_buf scratch; /* string decoding */
    uint64_t seed;
    int rc; /* first error (sticky) */
};

/* value.c */
struct toml_value *toml__new(struct toml_parser *p, enum toml_type type, size_t at);
struct toml_value *toml__find(const struct toml_table *t, const char *key, size_t len);
/* Appends key -> val; the key must not exist yet. */
int toml__insert(struct toml_parser *p, struct toml_table *t, const char *key, size_t len,
                 struct toml_value *val);
int toml__push(struct toml_parser *p, struct toml_array *a, struct toml_value *val);
/* Sets TOML_F_FROZEN on v and everything below it that is not frozen yet. */
void toml__freeze(struct toml_value *v);
void toml__position(const struct toml_parser *p, size_t at, uint32_t *line, uint32_t *col);

/* parse.c: records the first error at byte offset `at` and returns rc. */
int toml__fail(struct toml_parser *p, size_t at, int rc, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* scalar.c: each parses at p->pos, advances past the item and returns 0, or
 * fails through toml__fail. */
/* A basic or literal string, single-line or (multi != 0) multi-line. The
 * opening quote is at p->pos. */
int toml__string(struct toml_parser *p, bool multiline_ok, const char **s, size_t *len);
/* A number, boolean or datetime, into v (whose type it sets). */
int toml__scalar(struct toml_parser *p, struct toml_value *v);

#endif
