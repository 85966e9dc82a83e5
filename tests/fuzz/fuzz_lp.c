/*
 * fuzz_lp.c — libFuzzer target for the line-protocol parser and serializer.
 *
 * The first byte picks the precision and whether tight name/string limits
 * apply; the rest is parsed as line protocol. For every error the position
 * must lie within the line; for every point, lp_write_point() must accept it
 * and parsing its output must give back the same point (the round-trip
 * property parse(serialize(p)) == p), bit for bit for floats.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/buf.h"
#include "common/err.h"
#include "lp/lp.h"

#define CHECK(c)                                                                                   \
    do {                                                                                           \
        if (!(c)) {                                                                                \
            fprintf(stderr, "fuzz_lp: check failed: %s (line %d)\n", #c, __LINE__);                \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

static int same_bytes(const char *a, size_t an, const char *b, size_t bn)
{
    return an == bn && (an == 0 || !memcmp(a, b, an));
}

static void check_same(const struct lp_point *a, const struct lp_point *b)
{
    CHECK(same_bytes(a->measurement, a->measurement_len, b->measurement, b->measurement_len));
    CHECK(a->ntags == b->ntags);
    for (size_t i = 0; i < a->ntags; i++) {
        CHECK(same_bytes(a->tags[i].key, a->tags[i].key_len, b->tags[i].key, b->tags[i].key_len));
        CHECK(same_bytes(a->tags[i].val, a->tags[i].val_len, b->tags[i].val, b->tags[i].val_len));
    }
    CHECK(a->nfields == b->nfields);
    for (size_t i = 0; i < a->nfields; i++) {
        const struct lp_field *x = &a->fields[i], *y = &b->fields[i];
        CHECK(same_bytes(x->key, x->key_len, y->key, y->key_len));
        CHECK(x->type == y->type);
        switch (x->type) {
        case LP_FLOAT: CHECK(!memcmp(&x->v.f, &y->v.f, sizeof(double))); break;
        case LP_INTEGER: CHECK(x->v.i == y->v.i); break;
        case LP_UNSIGNED: CHECK(x->v.u == y->v.u); break;
        case LP_STRING: CHECK(same_bytes(x->v.s.ptr, x->v.s.len, y->v.s.ptr, y->v.s.len)); break;
        case LP_BOOLEAN: CHECK(x->v.b == y->v.b); break;
        }
    }
    CHECK(a->has_time == b->has_time);
    CHECK(!a->has_time || a->time == b->time);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0) return 0;
    struct lp_parser_opts o = {.precision = (enum lp_precision)(data[0] % 7)};
    if (data[0] & 0x80) o.max_name = 16, o.max_string = 32;
    const char *in = (const char *)data + 1;
    size_t len = size - 1;

    struct lp_parser p, p2;
    struct lp_point pt, pt2;
    struct lp_error err, err2;
    struct sl_buf out = SL_BUF_INIT, key = SL_BUF_INIT;
    struct lp_write_opts wo = {.uint_support = 1, .precision = LP_PREC_NS};
    size_t last_line = 0;
    int rc;
    lp_parser_init(&p, in, len, &o);
    while ((rc = lp_parser_next(&p, &pt, &err)) > 0) {
        if (rc == LP_ERROR) {
            CHECK(err.line > last_line);
            last_line = err.line;
            CHECK(err.column >= 1 && err.column <= err.raw_len + 1);
            CHECK(err.message[0] != 0);
            CHECK(err.raw >= in && err.raw + err.raw_len <= in + len);
            continue;
        }
        CHECK(pt.line > last_line);
        last_line = pt.line;
        CHECK(pt.nfields > 0);
        CHECK(pt.raw >= in && pt.raw + pt.raw_len <= in + len);
        CHECK(!pt.has_time || (pt.time >= LP_TIME_MIN && pt.time <= LP_TIME_MAX));
        for (size_t i = 1; i < pt.ntags; i++) {
            size_t n = pt.tags[i].key_len < pt.tags[i - 1].key_len ? pt.tags[i].key_len
                                                                   : pt.tags[i - 1].key_len;
            int c = memcmp(pt.tags[i - 1].key, pt.tags[i].key, n);
            CHECK(c < 0 || (c == 0 && pt.tags[i - 1].key_len < pt.tags[i].key_len));
        }
        sl_buf_reset(&out);
        CHECK(lp_write_point(&out, &pt, &wo) == 0);
        CHECK(out.len > 0 && out.ptr[out.len - 1] == '\n');
        lp_parser_init(&p2, out.ptr, out.len, NULL);
        rc = lp_parser_next(&p2, &pt2, &err2);
        if (rc != LP_POINT) {
            fprintf(stderr, "reparse failed: %s\nline: %.*s", rc == LP_ERROR ? err2.message : "?",
                    (int)out.len, out.ptr);
            abort();
        }
        check_same(&pt, &pt2);
        CHECK(lp_parser_next(&p2, &pt2, &err2) == LP_END);
        lp_parser_release(&p2);
        /* the series key is the serialized line up to the first unescaped space */
        sl_buf_reset(&key);
        CHECK(lp_series_key(&pt, &key) == 0);
        CHECK(key.len < out.len && !memcmp(key.ptr, out.ptr, key.len) && out.ptr[key.len] == ' ');
    }
    CHECK(rc == LP_END || rc == SL_ENOMEM);
    lp_parser_release(&p);
    sl_buf_release(&out);
    sl_buf_release(&key);
    return 0;
}
