/*
 * meta.c — the parquet.thrift structures sluice reads and writes, encoded
 * with the Thrift compact protocol (thrift.c). Field ids follow
 * parquet.thrift of the Apache Parquet format:
 *
 *   FileMetaData   1 version i32, 2 schema list<SchemaElement>, 3 num_rows i64,
 *                  4 row_groups list<RowGroup>, 5 key_value_metadata
 *                  list<KeyValue>, 6 created_by string, 7 column_orders
 *                  list<ColumnOrder>
 *   SchemaElement  1 type, 2 type_length, 3 repetition_type, 4 name,
 *                  5 num_children, 6 converted_type, 7 scale, 8 precision,
 *                  9 field_id, 10 logicalType
 *   LogicalType    union: 1 STRING{}, 8 TIMESTAMP{1 isAdjustedToUTC bool,
 *                  2 unit union{1 MILLIS,2 MICROS,3 NANOS}}, 10 INTEGER{1
 *                  bitWidth i8, 2 isSigned bool}, others skipped
 *   RowGroup       1 columns list<ColumnChunk>, 2 total_byte_size, 3 num_rows,
 *                  4 sorting_columns list<SortingColumn{1 column_idx i32,
 *                  2 descending bool, 3 nulls_first bool}>, 5 file_offset,
 *                  6 total_compressed_size, 7 ordinal i16
 *   ColumnChunk    1 file_path, 2 file_offset i64, 3 meta_data ColumnMetaData,
 *                  4 offset_index_offset i64, 5 offset_index_length i32,
 *                  6 column_index_offset i64, 7 column_index_length i32
 *   ColumnMetaData 1 type, 2 encodings list<i32>, 3 path_in_schema
 *                  list<string>, 4 codec, 5 num_values, 6 total_uncompressed_size,
 *                  7 total_compressed_size, 8 key_value_metadata, 9
 *                  data_page_offset, 10 index_page_offset, 11
 *                  dictionary_page_offset, 12 statistics
 *   Statistics     1 max (legacy), 2 min (legacy), 3 null_count, 4
 *                  distinct_count, 5 max_value, 6 min_value
 *   KeyValue       1 key, 2 value
 *   PageHeader     1 type, 2 uncompressed_page_size, 3 compressed_page_size,
 *                  4 crc, 5 data_page_header{1 num_values, 2 encoding, 3
 *                  definition_level_encoding, 4 repetition_level_encoding,
 *                  5 statistics}, 7 dictionary_page_header{1 num_values,
 *                  2 encoding, 3 is_sorted}
 *   OffsetIndex    1 page_locations list<PageLocation{1 offset i64,
 *                  2 compressed_page_size i32, 3 first_row_index i64}>
 *   ColumnIndex    1 null_pages list<bool>, 2 min_values list<binary>,
 *                  3 max_values list<binary>, 4 boundary_order enum
 *                  (0 UNORDERED, 1 ASCENDING, 2 DESCENDING), 5 null_counts
 *                  list<i64>
 * Unknown fields are skipped, so files of newer writers still parse.
 */
#include "parquet/pq_int.h"

#include <string.h>

#include "common/err.h"
#include "common/mem.h"

/* ---- decoding ---- */

static int32_t get_enum(struct tc_in *in, int type)
{
    if (type != TC_I32) {
        tc_fail(in);
        return 0;
    }
    return tc_i32(in);
}

static int64_t get_int(struct tc_in *in, int type)
{
    if (type != TC_I32 && type != TC_I64 && type != TC_I16) {
        tc_fail(in);
        return 0;
    }
    return tc_i64(in);
}

static int get_boolf(struct tc_in *in, int type)
{
    if (type != TC_TRUE && type != TC_FALSE) {
        tc_fail(in);
        return 0;
    }
    return type == TC_TRUE;
}

static void get_bin(struct tc_in *in, int type, const uint8_t **p, uint32_t *n)
{
    if (type != TC_BINARY) {
        tc_fail(in);
        *p = NULL;
        *n = 0;
        return;
    }
    tc_binary(in, p, n);
}

static void need_struct(struct tc_in *in, int type)
{
    if (type != TC_STRUCT) tc_fail(in);
}

static void decode_time_unit(struct tc_in *in, struct pm_schema_el *e)
{
    if (tc_enter(in) < 0) return;
    int16_t last = 0, id;
    int t;
    while (tc_field(in, &last, &t, &id)) {
        if (id >= 1 && id <= 3 && t == TC_STRUCT) e->lt_unit = id;
        tc_skip(in, t);
    }
    tc_leave(in);
}

static void decode_logical(struct tc_in *in, struct pm_schema_el *e)
{
    if (tc_enter(in) < 0) return;
    int16_t last = 0, id;
    int t;
    e->lt_kind = LT_OTHER;
    while (tc_field(in, &last, &t, &id)) {
        if (id == LT_STRING) {
            need_struct(in, t);
            e->lt_kind = LT_STRING;
            tc_skip(in, t);
        } else if (id == LT_TIMESTAMP || id == LT_INTEGER) {
            need_struct(in, t);
            if (tc_enter(in) < 0) break;
            e->lt_kind = id;
            int16_t l2 = 0, id2;
            int t2;
            while (tc_field(in, &l2, &t2, &id2)) {
                if (id == LT_TIMESTAMP && id2 == 1) {
                    e->lt_utc = get_boolf(in, t2);
                } else if (id == LT_TIMESTAMP && id2 == 2) {
                    need_struct(in, t2);
                    decode_time_unit(in, e);
                } else if (id == LT_INTEGER && id2 == 1) {
                    if (t2 != TC_BYTE) tc_fail(in);
                    e->lt_bits = tc_i8(in);
                } else if (id == LT_INTEGER && id2 == 2) {
                    e->lt_signed = get_boolf(in, t2);
                } else {
                    tc_skip(in, t2);
                }
            }
            tc_leave(in);
        } else {
            tc_skip(in, t);
        }
    }
    tc_leave(in);
}

static void decode_schema_el(struct tc_in *in, struct pm_schema_el *e)
{
    memset(e, 0, sizeof *e);
    e->num_children = -1;
    e->converted = -1;
    if (tc_enter(in) < 0) return;
    int16_t last = 0, id;
    int t, have_name = 0;
    while (tc_field(in, &last, &t, &id)) {
        switch (id) {
        case 1:
            e->has_type = 1;
            e->type = get_enum(in, t);
            break;
        case 3:
            e->has_rep = 1;
            e->rep = get_enum(in, t);
            break;
        case 4:
            get_bin(in, t, &e->name, &e->name_len);
            have_name = 1;
            break;
        case 5: e->num_children = get_enum(in, t); break;
        case 6: e->converted = get_enum(in, t); break;
        case 10:
            need_struct(in, t);
            decode_logical(in, e);
            break;
        default: tc_skip(in, t); break;
        }
    }
    if (!have_name) tc_fail(in);
    tc_leave(in);
}

static void decode_stats(struct tc_in *in, struct pm_stats *s)
{
    if (tc_enter(in) < 0) return;
    int16_t last = 0, id;
    int t;
    while (tc_field(in, &last, &t, &id)) {
        switch (id) {
        case 3:
            s->has_null_count = 1;
            s->null_count = get_int(in, t);
            break;
        case 5: get_bin(in, t, &s->max_value, &s->max_len); break;
        case 6: get_bin(in, t, &s->min_value, &s->min_len); break;
        default: tc_skip(in, t); break;
        }
    }
    tc_leave(in);
}

static void decode_col_meta(struct tc_in *in, struct pm_column *c)
{
    if (tc_enter(in) < 0) return;
    int16_t last = 0, id;
    int t, et;
    unsigned seen = 0;
    while (tc_field(in, &last, &t, &id)) {
        switch (id) {
        case 1: c->type = get_enum(in, t); break;
        case 2: {
            if (t != TC_LIST) {
                tc_fail(in);
                break;
            }
            size_t n = tc_list(in, &et);
            if (et != TC_I32 && n) tc_fail(in);
            for (size_t i = 0; i < n && !in->err; i++) {
                int32_t e = tc_i32(in);
                if (e >= 0 && e < 32) c->encodings |= 1u << e;
            }
            break;
        }
        case 3: {
            if (t != TC_LIST) {
                tc_fail(in);
                break;
            }
            size_t n = tc_list(in, &et);
            if (et != TC_BINARY && n) tc_fail(in);
            c->path_len = (int32_t)(n > 1000 ? 1000 : n);
            for (size_t i = 0; i < n && !in->err; i++) {
                const uint8_t *p;
                uint32_t len;
                tc_binary(in, &p, &len);
                if (i == 0) {
                    c->path0 = p;
                    c->path0_len = len;
                }
            }
            break;
        }
        case 4: c->codec = get_enum(in, t); break;
        case 5: c->num_values = get_int(in, t); break;
        case 6: c->total_uncompressed = get_int(in, t); break;
        case 7: c->total_compressed = get_int(in, t); break;
        case 9: c->data_page_offset = get_int(in, t); break;
        case 11: c->dict_page_offset = get_int(in, t); break;
        case 12:
            need_struct(in, t);
            decode_stats(in, &c->stats);
            break;
        default: tc_skip(in, t); break;
        }
        if (id > 0 && id < 32) seen |= 1u << id;
    }
    /* required: type, encodings, path, codec, num_values, sizes, data offset */
    unsigned req = (1u << 1) | (1u << 2) | (1u << 3) | (1u << 4) | (1u << 5) | (1u << 6) |
                   (1u << 7) | (1u << 9);
    if ((seen & req) != req) tc_fail(in);
    c->has_meta = 1;
    tc_leave(in);
}

static void decode_chunk(struct tc_in *in, struct pm_column *c)
{
    memset(c, 0, sizeof *c);
    c->dict_page_offset = -1;
    c->oi_offset = -1;
    c->ci_offset = -1;
    if (tc_enter(in) < 0) return;
    int16_t last = 0, id;
    int t;
    while (tc_field(in, &last, &t, &id)) {
        if (id == 1) {
            /* file_path: the data lives in another file; we do not follow it. */
            tc_fail(in);
        } else if (id == 3) {
            need_struct(in, t);
            decode_col_meta(in, c);
        } else if (id == 4) {
            c->oi_offset = get_int(in, t);
        } else if (id == 5) {
            c->oi_length = get_enum(in, t);
        } else if (id == 6) {
            c->ci_offset = get_int(in, t);
        } else if (id == 7) {
            c->ci_length = get_enum(in, t);
        } else {
            tc_skip(in, t);
        }
    }
    if (!c->has_meta) tc_fail(in);
    tc_leave(in);
}

/* Allocates a zeroed array for n elements; n was bounded by tc_list. */
static void *alloc_arr(struct tc_in *in, size_t n, size_t size)
{
    if (in->err) return NULL;
    void *p = sl_calloc(n ? n : 1, size);
    if (!p) in->err = SL_ENOMEM;
    return p;
}

static void decode_row_group(struct tc_in *in, struct pm_row_group *g)
{
    memset(g, 0, sizeof *g);
    g->total_compressed_size = -1;
    g->file_offset = -1;
    if (tc_enter(in) < 0) return;
    int16_t last = 0, id;
    int t, et;
    int have_cols = 0, have_rows = 0;
    while (tc_field(in, &last, &t, &id)) {
        if (id == 1 && t == TC_LIST && !have_cols) {
            size_t n = tc_list(in, &et);
            if (n && et != TC_STRUCT) tc_fail(in);
            g->cols = alloc_arr(in, n, sizeof *g->cols);
            if (!g->cols) break;
            g->ncols = n;
            for (size_t i = 0; i < n && !in->err; i++)
                decode_chunk(in, &g->cols[i]);
            have_cols = 1;
        } else if (id == 2) {
            g->total_byte_size = get_int(in, t);
        } else if (id == 3) {
            g->num_rows = get_int(in, t);
            have_rows = 1;
        } else if (id == 4 && t == TC_LIST && !g->sort) {
            size_t n = tc_list(in, &et);
            if (n && et != TC_STRUCT) tc_fail(in);
            g->sort = alloc_arr(in, n, sizeof *g->sort);
            if (!g->sort) break;
            g->nsort = n;
            for (size_t i = 0; i < n && !in->err; i++) {
                if (tc_enter(in) < 0) break;
                int16_t l2 = 0, id2;
                int t2;
                while (tc_field(in, &l2, &t2, &id2)) {
                    if (id2 == 1)
                        g->sort[i].column_idx = get_enum(in, t2);
                    else if (id2 == 2)
                        g->sort[i].descending = get_boolf(in, t2);
                    else if (id2 == 3)
                        g->sort[i].nulls_first = get_boolf(in, t2);
                    else
                        tc_skip(in, t2);
                }
                tc_leave(in);
            }
        } else if (id == 5) {
            g->file_offset = get_int(in, t);
        } else if (id == 6) {
            g->total_compressed_size = get_int(in, t);
        } else {
            tc_skip(in, t);
        }
    }
    if (!have_cols || !have_rows) tc_fail(in);
    tc_leave(in);
}

int pm_file_decode(const uint8_t *p, size_t n, struct pm_file *f)
{
    memset(f, 0, sizeof *f);
    struct tc_in in = {p, p + n, 0, 0};
    int16_t last = 0, id;
    int t, et;
    int have_schema = 0, have_rgs = 0, have_rows = 0;
    while (tc_field(&in, &last, &t, &id)) {
        if (id == 1) {
            f->version = get_enum(&in, t);
        } else if (id == 2 && t == TC_LIST && !have_schema) {
            size_t cnt = tc_list(&in, &et);
            if (cnt && et != TC_STRUCT) tc_fail(&in);
            f->schema = alloc_arr(&in, cnt, sizeof *f->schema);
            if (!f->schema) break;
            f->nschema = cnt;
            for (size_t i = 0; i < cnt && !in.err; i++)
                decode_schema_el(&in, &f->schema[i]);
            have_schema = 1;
        } else if (id == 3) {
            f->num_rows = get_int(&in, t);
            have_rows = 1;
        } else if (id == 4 && t == TC_LIST && !have_rgs) {
            size_t cnt = tc_list(&in, &et);
            if (cnt && et != TC_STRUCT) tc_fail(&in);
            f->rgs = alloc_arr(&in, cnt, sizeof *f->rgs);
            if (!f->rgs) break;
            for (size_t i = 0; i < cnt && !in.err; i++) {
                decode_row_group(&in, &f->rgs[i]);
                f->nrgs = i + 1; /* so release frees what was decoded */
            }
            have_rgs = 1;
        } else if (id == 5 && t == TC_LIST && !f->kv) {
            size_t cnt = tc_list(&in, &et);
            if (cnt && et != TC_STRUCT) tc_fail(&in);
            f->kv = alloc_arr(&in, cnt, sizeof *f->kv);
            if (!f->kv) break;
            f->nkv = cnt;
            for (size_t i = 0; i < cnt && !in.err; i++) {
                if (tc_enter(&in) < 0) break;
                int16_t l2 = 0, id2;
                int t2, have_key = 0;
                while (tc_field(&in, &l2, &t2, &id2)) {
                    if (id2 == 1) {
                        get_bin(&in, t2, &f->kv[i].key, &f->kv[i].key_len);
                        have_key = 1;
                    } else if (id2 == 2) {
                        get_bin(&in, t2, &f->kv[i].value, &f->kv[i].value_len);
                        f->kv[i].has_value = 1;
                    } else {
                        tc_skip(&in, t2);
                    }
                }
                if (!have_key) tc_fail(&in);
                tc_leave(&in);
            }
        } else if (id == 6) {
            get_bin(&in, t, &f->created_by, &f->created_by_len);
        } else if (id == 7 && t == TC_LIST) {
            size_t cnt = tc_list(&in, &et);
            f->ncolumn_orders = cnt;
            for (size_t i = 0; i < cnt && !in.err; i++)
                tc_skip(&in, et);
        } else {
            tc_skip(&in, t);
        }
    }
    if (!in.err && (!have_schema || !have_rgs || !have_rows)) tc_fail(&in);
    if (in.err) {
        pm_file_release(f);
        return in.err;
    }
    return 0;
}

void pm_file_release(struct pm_file *f)
{
    if (!f) return;
    for (size_t i = 0; i < f->nrgs; i++) {
        sl_free(f->rgs[i].cols);
        sl_free(f->rgs[i].sort);
    }
    sl_free(f->rgs);
    sl_free(f->schema);
    sl_free(f->kv);
    memset(f, 0, sizeof *f);
}

int pm_page_header_decode(const uint8_t **pp, const uint8_t *end, struct pm_page_header *h)
{
    memset(h, 0, sizeof *h);
    struct tc_in in = {*pp, end, 0, 0};
    int16_t last = 0, id;
    int t;
    unsigned seen = 0;
    while (tc_field(&in, &last, &t, &id)) {
        switch (id) {
        case 1: h->type = get_enum(&in, t); break;
        case 2: h->uncompressed_size = get_enum(&in, t); break;
        case 3: h->compressed_size = get_enum(&in, t); break;
        case 5:
        case 7: {
            need_struct(&in, t);
            if (tc_enter(&in) < 0) break;
            int16_t l2 = 0, id2;
            int t2;
            unsigned s2 = 0;
            while (tc_field(&in, &l2, &t2, &id2)) {
                if (id2 == 1)
                    h->num_values = get_enum(&in, t2);
                else if (id2 == 2)
                    h->encoding = get_enum(&in, t2);
                else if (id2 == 3 && id == 5)
                    h->def_encoding = get_enum(&in, t2);
                else if (id2 == 4 && id == 5)
                    h->rep_encoding = get_enum(&in, t2);
                else
                    tc_skip(&in, t2);
                if (id2 > 0 && id2 < 8) s2 |= 1u << id2;
            }
            tc_leave(&in);
            if ((s2 & 6u) != 6u) tc_fail(&in);
            if (id == 5)
                h->has_data = 1;
            else
                h->has_dict = 1;
            break;
        }
        default: tc_skip(&in, t); break;
        }
        if (id > 0 && id < 16) seen |= 1u << id;
    }
    if ((seen & 0xeu) != 0xeu) tc_fail(&in);
    if (in.err) return in.err;
    *pp = in.p;
    return 0;
}

/* ---- encoding ---- */

static void put_stats(struct tc_out *o, int16_t *last, int16_t id, const struct pm_stats *s)
{
    tc_put_field(o, last, id, TC_STRUCT);
    int16_t l = 0;
    if (s->has_null_count) tc_put_i64(o, &l, 3, s->null_count);
    if (s->max_value) tc_put_binary(o, &l, 5, s->max_value, s->max_len);
    if (s->min_value) tc_put_binary(o, &l, 6, s->min_value, s->min_len);
    tc_put_stop(o);
}

static void put_column(struct tc_out *o, const struct pm_column *c)
{
    int16_t l = 0;
    int64_t start = c->dict_page_offset >= 0 ? c->dict_page_offset : c->data_page_offset;
    tc_put_i64(o, &l, 2, start);
    tc_put_field(o, &l, 3, TC_STRUCT);
    int16_t m = 0;
    tc_put_i32(o, &m, 1, c->type);
    size_t nenc = 0;
    for (int e = 0; e < 32; e++)
        if (c->encodings & (1u << e)) nenc++;
    tc_put_list_begin(o, &m, 2, TC_I32, nenc);
    for (int e = 0; e < 32; e++)
        if (c->encodings & (1u << e)) tc_put_elem_i32(o, e);
    tc_put_list_begin(o, &m, 3, TC_BINARY, 1);
    tc_put_elem_binary(o, c->path0, c->path0_len);
    tc_put_i32(o, &m, 4, c->codec);
    tc_put_i64(o, &m, 5, c->num_values);
    tc_put_i64(o, &m, 6, c->total_uncompressed);
    tc_put_i64(o, &m, 7, c->total_compressed);
    tc_put_i64(o, &m, 9, c->data_page_offset);
    if (c->dict_page_offset >= 0) tc_put_i64(o, &m, 11, c->dict_page_offset);
    put_stats(o, &m, 12, &c->stats);
    tc_put_stop(o);
    if (c->oi_offset >= 0) {
        tc_put_i64(o, &l, 4, c->oi_offset);
        tc_put_i32(o, &l, 5, c->oi_length);
    }
    if (c->ci_offset >= 0) {
        tc_put_i64(o, &l, 6, c->ci_offset);
        tc_put_i32(o, &l, 7, c->ci_length);
    }
    tc_put_stop(o);
}

static void put_schema_el(struct tc_out *o, const struct pm_schema_el *e)
{
    int16_t l = 0;
    if (e->has_type) tc_put_i32(o, &l, 1, e->type);
    if (e->has_rep) tc_put_i32(o, &l, 3, e->rep);
    tc_put_binary(o, &l, 4, e->name, e->name_len);
    if (e->num_children >= 0) tc_put_i32(o, &l, 5, e->num_children);
    if (e->converted >= 0) tc_put_i32(o, &l, 6, e->converted);
    if (e->lt_kind != LT_NONE) {
        tc_put_field(o, &l, 10, TC_STRUCT);
        int16_t u = 0;
        tc_put_field(o, &u, (int16_t)e->lt_kind, TC_STRUCT);
        int16_t v = 0;
        if (e->lt_kind == LT_TIMESTAMP) {
            tc_put_bool(o, &v, 1, e->lt_utc);
            tc_put_field(o, &v, 2, TC_STRUCT);
            int16_t w = 0;
            tc_put_field(o, &w, (int16_t)e->lt_unit, TC_STRUCT);
            tc_put_stop(o); /* empty unit struct */
            tc_put_stop(o); /* TimeUnit union */
        } else if (e->lt_kind == LT_INTEGER) {
            tc_put_i8(o, &v, 1, (int8_t)e->lt_bits);
            tc_put_bool(o, &v, 2, e->lt_signed);
        }
        tc_put_stop(o); /* the logical type's struct */
        tc_put_stop(o); /* LogicalType union */
    }
    tc_put_stop(o);
}

int pm_file_encode(const struct pm_file *f, struct sl_buf *out)
{
    struct tc_out o = {out, 0};
    int16_t l = 0;
    tc_put_i32(&o, &l, 1, f->version);
    tc_put_list_begin(&o, &l, 2, TC_STRUCT, f->nschema);
    for (size_t i = 0; i < f->nschema; i++)
        put_schema_el(&o, &f->schema[i]);
    tc_put_i64(&o, &l, 3, f->num_rows);
    tc_put_list_begin(&o, &l, 4, TC_STRUCT, f->nrgs);
    for (size_t i = 0; i < f->nrgs; i++) {
        const struct pm_row_group *g = &f->rgs[i];
        int16_t r = 0;
        tc_put_list_begin(&o, &r, 1, TC_STRUCT, g->ncols);
        for (size_t c = 0; c < g->ncols; c++)
            put_column(&o, &g->cols[c]);
        tc_put_i64(&o, &r, 2, g->total_byte_size);
        tc_put_i64(&o, &r, 3, g->num_rows);
        if (g->nsort) {
            tc_put_list_begin(&o, &r, 4, TC_STRUCT, g->nsort);
            for (size_t s = 0; s < g->nsort; s++) {
                int16_t q = 0;
                tc_put_i32(&o, &q, 1, g->sort[s].column_idx);
                tc_put_bool(&o, &q, 2, g->sort[s].descending);
                tc_put_bool(&o, &q, 3, g->sort[s].nulls_first);
                tc_put_stop(&o);
            }
        }
        if (g->file_offset >= 0) tc_put_i64(&o, &r, 5, g->file_offset);
        if (g->total_compressed_size >= 0) tc_put_i64(&o, &r, 6, g->total_compressed_size);
        if (i <= INT16_MAX) { /* ordinal is an i16: zigzag of a non-negative value */
            tc_put_field(&o, &r, 7, TC_I16);
            tc_put_uvarint(&o, (uint64_t)i << 1);
        }
        tc_put_stop(&o);
    }
    if (f->nkv) {
        tc_put_list_begin(&o, &l, 5, TC_STRUCT, f->nkv);
        for (size_t i = 0; i < f->nkv; i++) {
            int16_t k = 0;
            tc_put_binary(&o, &k, 1, f->kv[i].key, f->kv[i].key_len);
            if (f->kv[i].has_value) tc_put_binary(&o, &k, 2, f->kv[i].value, f->kv[i].value_len);
            tc_put_stop(&o);
        }
    }
    if (f->created_by) tc_put_binary(&o, &l, 6, f->created_by, f->created_by_len);
    if (f->ncolumn_orders) {
        tc_put_list_begin(&o, &l, 7, TC_STRUCT, f->ncolumn_orders);
        for (size_t i = 0; i < f->ncolumn_orders; i++) {
            int16_t c = 0;
            tc_put_field(&o, &c, 1, TC_STRUCT); /* TYPE_ORDER: TypeDefinedOrder {} */
            tc_put_stop(&o);
            tc_put_stop(&o);
        }
    }
    tc_put_stop(&o);
    return o.err;
}

int pm_page_header_encode(const struct pm_page_header *h, struct sl_buf *out)
{
    struct tc_out o = {out, 0};
    int16_t l = 0;
    tc_put_i32(&o, &l, 1, h->type);
    tc_put_i32(&o, &l, 2, h->uncompressed_size);
    tc_put_i32(&o, &l, 3, h->compressed_size);
    if (h->has_data) {
        tc_put_field(&o, &l, 5, TC_STRUCT);
        int16_t d = 0;
        tc_put_i32(&o, &d, 1, h->num_values);
        tc_put_i32(&o, &d, 2, h->encoding);
        tc_put_i32(&o, &d, 3, h->def_encoding);
        tc_put_i32(&o, &d, 4, h->rep_encoding);
        tc_put_stop(&o);
    } else if (h->has_dict) {
        tc_put_field(&o, &l, 7, TC_STRUCT);
        int16_t d = 0;
        tc_put_i32(&o, &d, 1, h->num_values);
        tc_put_i32(&o, &d, 2, h->encoding);
        tc_put_stop(&o);
    }
    tc_put_stop(&o);
    return o.err;
}

/* ---- page index ---- */

int pm_offset_index_encode(const struct pm_page_loc *p, size_t n, struct sl_buf *out)
{
    struct tc_out o = {out, 0};
    int16_t l = 0;
    tc_put_list_begin(&o, &l, 1, TC_STRUCT, n);
    for (size_t i = 0; i < n; i++) {
        int16_t q = 0;
        tc_put_i64(&o, &q, 1, p[i].offset);
        tc_put_i32(&o, &q, 2, p[i].size);
        tc_put_i64(&o, &q, 3, p[i].first_row);
        tc_put_stop(&o);
    }
    tc_put_stop(&o);
    return o.err;
}

int pm_column_index_encode(const struct pm_page_stat *p, size_t n, int boundary_order,
                           struct sl_buf *out)
{
    struct tc_out o = {out, 0};
    int16_t l = 0;
    tc_put_list_begin(&o, &l, 1, TC_TRUE, n);
    for (size_t i = 0; i < n; i++) {
        uint8_t b = p[i].null_page ? 1 : 0; /* bool elements: one byte, 1 = true */
        if (!o.err && sl_buf_add(out, &b, 1) < 0) o.err = SL_ENOMEM;
    }
    tc_put_list_begin(&o, &l, 2, TC_BINARY, n);
    for (size_t i = 0; i < n; i++)
        tc_put_elem_binary(&o, p[i].min, p[i].null_page ? 0 : p[i].min_len);
    tc_put_list_begin(&o, &l, 3, TC_BINARY, n);
    for (size_t i = 0; i < n; i++)
        tc_put_elem_binary(&o, p[i].max, p[i].null_page ? 0 : p[i].max_len);
    tc_put_i32(&o, &l, 4, boundary_order);
    tc_put_list_begin(&o, &l, 5, TC_I64, n);
    for (size_t i = 0; i < n; i++)
        tc_put_uvarint(&o, ((uint64_t)p[i].null_count << 1) ^ (uint64_t)(p[i].null_count >> 63));
    tc_put_stop(&o);
    return o.err;
}

int pm_offset_index_decode(const uint8_t *p, size_t len, struct pm_page_loc **locs, size_t *n)
{
    struct tc_in in = {p, p + len, 0, 0};
    int16_t last = 0, id;
    int t, et, have = 0;
    *locs = NULL;
    *n = 0;
    while (tc_field(&in, &last, &t, &id)) {
        if (id == 1 && t == TC_LIST && !have) {
            size_t cnt = tc_list(&in, &et);
            if (cnt && et != TC_STRUCT) tc_fail(&in);
            *locs = alloc_arr(&in, cnt, sizeof **locs);
            if (!*locs) break;
            *n = cnt;
            have = 1;
            for (size_t i = 0; i < cnt && !in.err; i++) {
                if (tc_enter(&in) < 0) break;
                int16_t l2 = 0, id2;
                int t2;
                unsigned seen = 0;
                while (tc_field(&in, &l2, &t2, &id2)) {
                    if (id2 == 1)
                        (*locs)[i].offset = get_int(&in, t2);
                    else if (id2 == 2)
                        (*locs)[i].size = get_enum(&in, t2);
                    else if (id2 == 3)
                        (*locs)[i].first_row = get_int(&in, t2);
                    else
                        tc_skip(&in, t2);
                    if (id2 > 0 && id2 < 4) seen |= 1u << id2;
                }
                if (seen != 0xeu) tc_fail(&in);
                tc_leave(&in);
            }
        } else {
            tc_skip(&in, t);
        }
    }
    if (!in.err && !have) tc_fail(&in);
    if (in.err) {
        sl_free(*locs);
        *locs = NULL;
        *n = 0;
        return in.err;
    }
    return 0;
}

int pm_column_index_decode(const uint8_t *p, size_t len, struct pm_page_stat **stats, size_t *n,
                           int *boundary_order, int *has_null_counts)
{
    struct tc_in in = {p, p + len, 0, 0};
    int16_t last = 0, id;
    int t, et;
    unsigned seen = 0;
    struct pm_page_stat *s = NULL;
    size_t ns = 0;
    *boundary_order = BO_UNORDERED;
    *has_null_counts = 0;
    while (tc_field(&in, &last, &t, &id)) {
        if (id >= 1 && id <= 5 && id != 4 && t == TC_LIST && !(seen & (1u << id))) {
            size_t cnt = tc_list(&in, &et);
            if (!s) {
                s = alloc_arr(&in, cnt, sizeof *s);
                if (!s) break;
                ns = cnt;
            }
            if (cnt != ns) tc_fail(&in);
            int want = id == 1 ? TC_TRUE : id == 5 ? TC_I64 : TC_BINARY;
            if (cnt && et != want && !(id == 1 && et == TC_FALSE)) tc_fail(&in);
            for (size_t i = 0; i < cnt && !in.err; i++) {
                if (id == 1) {
                    if (in.p >= in.end) {
                        tc_fail(&in);
                        break;
                    }
                    uint8_t b = *in.p++;
                    if (b > 2) tc_fail(&in);
                    s[i].null_page = b == 1;
                } else if (id == 2) {
                    tc_binary(&in, &s[i].min, &s[i].min_len);
                } else if (id == 3) {
                    tc_binary(&in, &s[i].max, &s[i].max_len);
                } else {
                    s[i].null_count = tc_i64(&in);
                }
            }
            seen |= 1u << id;
        } else if (id == 4) {
            *boundary_order = get_enum(&in, t);
            seen |= 1u << id;
        } else {
            tc_skip(&in, t);
        }
    }
    if (!in.err && (seen & 0x1eu) != 0x1eu) tc_fail(&in);
    if (in.err) {
        sl_free(s);
        return in.err;
    }
    *has_null_counts = (seen >> 5) & 1;
    *stats = s;
    *n = ns;
    return 0;
}
