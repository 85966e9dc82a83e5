/*
 * buf.h — growable byte buffer with a hard cap (curl's dynbuf idea).
 *
 * Every buffer that grows with input has a maximum size; appending past it
 * fails with SL_ETOOBIG and leaves the buffer as it was. The content is always
 * NUL-terminated (the terminator is not counted in len).
 */
#ifndef SL_COMMON_BUF_H
#define SL_COMMON_BUF_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

struct sl_buf {
    char *ptr;
    size_t len;
    size_t cap;
    size_t max; /* hard cap on len; 0 means SL_BUF_DEFAULT_MAX */
};

#define SL_BUF_DEFAULT_MAX ((size_t)1 << 32)
#define SL_BUF_INIT                                                                                \
    {                                                                                              \
        NULL, 0, 0, 0                                                                              \
    }

void sl_buf_init(struct sl_buf *b, size_t max);
/* Frees the memory; the buffer may be reused after sl_buf_init. */
void sl_buf_release(struct sl_buf *b);
/* Empties the buffer, keeping its memory. */
void sl_buf_reset(struct sl_buf *b);
/* Makes room for n more bytes. */
int sl_buf_reserve(struct sl_buf *b, size_t n);
int sl_buf_add(struct sl_buf *b, const void *p, size_t n);
int sl_buf_addc(struct sl_buf *b, char c);
int sl_buf_adds(struct sl_buf *b, const char *s);
int sl_buf_addf(struct sl_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int sl_buf_vaddf(struct sl_buf *b, const char *fmt, va_list ap)
    __attribute__((format(printf, 2, 0)));
int sl_buf_add_i64(struct sl_buf *b, int64_t v);
int sl_buf_add_u64(struct sl_buf *b, uint64_t v);
/* Appends s as a JSON string literal, quotes included. */
int sl_buf_add_json_str(struct sl_buf *b, const char *s, size_t n);
/* Takes ownership of the content; the buffer is left empty. */
char *sl_buf_detach(struct sl_buf *b, size_t *len);

#endif
