/*
 * thrift.c — the Thrift compact protocol, the serialisation of every Parquet
 * footer and page header. Only what Parquet uses: structs, lists, binaries,
 * bools, i8/i16/i32/i64, double (skipped only).
 *
 * Wire format (Apache Thrift compact protocol spec):
 *   integers   i16/i32/i64 as ZigZag then ULEB128 varint; i8 as one byte
 *   binary     ULEB128 length, then the bytes
 *   double     8 bytes little-endian
 *   field      one byte (delta << 4 | type) when the id is 1..15 above the
 *              previous field id of the same struct, else (type) followed by
 *              the id as a zigzag varint i16; a bool field carries its value
 *              in the type nibble (1 = true, 2 = false); 0 ends the struct
 *   list/set   one byte (size << 4 | elem type) for size < 15, else
 *              (0xF0 | elem type) followed by the size as ULEB128; bool
 *              elements are single bytes
 *   map        ULEB128 size, then (key type << 4 | value type) if size > 0
 *
 * The decoder is written for hostile input: a count is never trusted beyond
 * the bytes left (each element takes at least one byte), nesting is limited
 * to TC_MAX_DEPTH, and any failure latches in->err.
 */
#include "parquet/pq_int.h"

#include <string.h>

#include "common/err.h"

static void put_byte(struct tc_out *o, uint8_t c)
{
    if (o->err) return;
    int rc = sl_buf_add(o->b, &c, 1);
    if (rc < 0) o->err = rc;
}

void tc_put_uvarint(struct tc_out *o, uint64_t v)
{
    uint8_t tmp[10];
    size_t n = 0;
    do {
        uint8_t c = v & 0x7f;
        v >>= 7;
        tmp[n++] = c | (v ? 0x80 : 0);
    } while (v);
    if (o->err) return;
    int rc = sl_buf_add(o->b, tmp, n);
    if (rc < 0) o->err = rc;
}

static uint64_t zigzag(int64_t v)
{
    return ((uint64_t)v << 1) ^ (uint64_t)(v >> 63);
}

void tc_put_field(struct tc_out *o, int16_t *last, int16_t id, int type)
{
    int delta = id - *last;
    if (delta > 0 && delta <= 15) {
        put_byte(o, (uint8_t)(delta << 4 | type));
    } else {
        put_byte(o, (uint8_t)type);
        tc_put_uvarint(o, zigzag(id));
    }
    *last = id;
}

void tc_put_i32(struct tc_out *o, int16_t *last, int16_t id, int32_t v)
{
    tc_put_field(o, last, id, TC_I32);
    tc_put_uvarint(o, zigzag(v));
}

void tc_put_i64(struct tc_out *o, int16_t *last, int16_t id, int64_t v)
{
    tc_put_field(o, last, id, TC_I64);
    tc_put_uvarint(o, zigzag(v));
}

void tc_put_bool(struct tc_out *o, int16_t *last, int16_t id, int v)
{
    tc_put_field(o, last, id, v ? TC_TRUE : TC_FALSE);
}

void tc_put_i8(struct tc_out *o, int16_t *last, int16_t id, int8_t v)
{
    tc_put_field(o, last, id, TC_BYTE);
    put_byte(o, (uint8_t)v);
}

void tc_put_elem_binary(struct tc_out *o, const void *p, size_t n)
{
    tc_put_uvarint(o, n);
    if (o->err || n == 0) return;
    int rc = sl_buf_add(o->b, p, n);
    if (rc < 0) o->err = rc;
}

void tc_put_binary(struct tc_out *o, int16_t *last, int16_t id, const void *p, size_t n)
{
    tc_put_field(o, last, id, TC_BINARY);
    tc_put_elem_binary(o, p, n);
}

void tc_put_list_begin(struct tc_out *o, int16_t *last, int16_t id, int elem_type, size_t n)
{
    tc_put_field(o, last, id, TC_LIST);
    if (n < 15) {
        put_byte(o, (uint8_t)(n << 4 | (size_t)elem_type));
    } else {
        put_byte(o, (uint8_t)(0xf0 | elem_type));
        tc_put_uvarint(o, n);
    }
}

void tc_put_elem_i32(struct tc_out *o, int32_t v)
{
    tc_put_uvarint(o, zigzag(v));
}

void tc_put_stop(struct tc_out *o)
{
    put_byte(o, 0);
}

/* ---- decoding ---- */

void tc_fail(struct tc_in *in)
{
    if (!in->err) in->err = SL_ECORRUPT; /* keep the first cause (e.g. SL_ENOMEM) */
    in->p = in->end;
}

static int get_byte(struct tc_in *in)
{
    if (in->err || in->p >= in->end) {
        tc_fail(in);
        return 0;
    }
    return *in->p++;
}

uint64_t tc_uvarint(struct tc_in *in)
{
    uint64_t v = 0;
    for (int shift = 0; shift < 64; shift += 7) {
        int c = get_byte(in);
        if (in->err) return 0;
        if (shift == 63 && (c & 0x7e)) break; /* more than 64 bits */
        v |= (uint64_t)(c & 0x7f) << shift;
        if (!(c & 0x80)) return v;
    }
    tc_fail(in);
    return 0;
}

int64_t tc_i64(struct tc_in *in)
{
    uint64_t z = tc_uvarint(in);
    return (int64_t)(z >> 1) ^ -(int64_t)(z & 1);
}

int32_t tc_i32(struct tc_in *in)
{
    int64_t v = tc_i64(in);
    if (v < INT32_MIN || v > INT32_MAX) {
        tc_fail(in);
        return 0;
    }
    return (int32_t)v;
}

int tc_i8(struct tc_in *in)
{
    return (int8_t)get_byte(in);
}

void tc_binary(struct tc_in *in, const uint8_t **p, uint32_t *n)
{
    uint64_t len = tc_uvarint(in);
    *p = NULL;
    *n = 0;
    if (in->err) return;
    if (len > (uint64_t)(in->end - in->p) || len > UINT32_MAX) {
        tc_fail(in);
        return;
    }
    *p = in->p;
    *n = (uint32_t)len;
    in->p += len;
}

int tc_field(struct tc_in *in, int16_t *last, int *type, int16_t *id)
{
    int c = get_byte(in);
    if (in->err || c == 0) return 0;
    int t = c & 0x0f;
    int delta = c >> 4;
    if (t == TC_STOP || t > TC_STRUCT) {
        tc_fail(in);
        return 0;
    }
    int64_t fid;
    if (delta) {
        fid = (int64_t)*last + delta;
    } else {
        fid = tc_i64(in);
    }
    if (in->err || fid < INT16_MIN || fid > INT16_MAX) {
        tc_fail(in);
        return 0;
    }
    *last = (int16_t)fid;
    *id = (int16_t)fid;
    *type = t;
    return 1;
}

size_t tc_list(struct tc_in *in, int *elem_type)
{
    int c = get_byte(in);
    if (in->err) return 0;
    uint64_t n = (uint64_t)c >> 4;
    *elem_type = c & 0x0f;
    if (n == 15) n = tc_uvarint(in);
    if (in->err) return 0;
    if (*elem_type == TC_STOP || *elem_type > TC_STRUCT) {
        tc_fail(in);
        return 0;
    }
    /* Every element of every type takes at least one byte on the wire. */
    if (n > (uint64_t)(in->end - in->p)) {
        tc_fail(in);
        return 0;
    }
    return (size_t)n;
}

int tc_enter(struct tc_in *in)
{
    if (in->err) return -1;
    if (++in->depth > TC_MAX_DEPTH) {
        tc_fail(in);
        return -1;
    }
    return 0;
}

void tc_leave(struct tc_in *in)
{
    in->depth--;
}

static void skip_n(struct tc_in *in, size_t n)
{
    if (in->err) return;
    if (n > (size_t)(in->end - in->p)) {
        tc_fail(in);
        return;
    }
    in->p += n;
}

void tc_skip(struct tc_in *in, int type)
{
    if (in->err) return;
    switch (type) {
    case TC_TRUE:
    case TC_FALSE:
        /* As a field the value is in the header; as an element it is one byte.
         * Callers skipping fields pass the field type and we consume nothing;
         * list elements are skipped by skip_elem below. */
        return;
    case TC_BYTE: skip_n(in, 1); return;
    case TC_I16:
    case TC_I32:
    case TC_I64: (void)tc_uvarint(in); return;
    case TC_DOUBLE: skip_n(in, 8); return;
    case TC_BINARY: {
        const uint8_t *p;
        uint32_t n;
        tc_binary(in, &p, &n);
        return;
    }
    case TC_LIST:
    case TC_SET: {
        int et;
        size_t n = tc_list(in, &et);
        if (tc_enter(in) < 0) return;
        for (size_t i = 0; i < n && !in->err; i++) {
            if (et == TC_TRUE || et == TC_FALSE)
                skip_n(in, 1);
            else
                tc_skip(in, et);
        }
        tc_leave(in);
        return;
    }
    case TC_MAP: {
        uint64_t n = tc_uvarint(in);
        if (in->err || n == 0) return;
        int kv = get_byte(in);
        if (in->err) return;
        int kt = kv >> 4, vt = kv & 0x0f;
        if (kt == 0 || kt > TC_STRUCT || vt == 0 || vt > TC_STRUCT ||
            n > (uint64_t)(in->end - in->p) / 2) {
            tc_fail(in);
            return;
        }
        if (tc_enter(in) < 0) return;
        for (uint64_t i = 0; i < n && !in->err; i++) {
            if (kt == TC_TRUE || kt == TC_FALSE)
                skip_n(in, 1);
            else
                tc_skip(in, kt);
            if (vt == TC_TRUE || vt == TC_FALSE)
                skip_n(in, 1);
            else
                tc_skip(in, vt);
        }
        tc_leave(in);
        return;
    }
    case TC_STRUCT: {
        if (tc_enter(in) < 0) return;
        int16_t last = 0, id;
        int t;
        while (tc_field(in, &last, &t, &id))
            tc_skip(in, t);
        tc_leave(in);
        return;
    }
    default: tc_fail(in); return;
    }
}
