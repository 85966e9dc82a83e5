/*
 * pq_int.h — internals shared by the Parquet writer and reader: the Thrift
 * compact protocol (thrift.c), the footer/page-header structures of
 * parquet.thrift (meta.c), the value encodings (encoding.c) and the page
 * codecs (codec.c). Not for use outside src/parquet/.
 */
#ifndef SL_PARQUET_PQ_INT_H
#define SL_PARQUET_PQ_INT_H

#include <stddef.h>
#include <stdint.h>

#include "common/buf.h"
#include "parquet/parquet.h"

/* ---- Thrift compact protocol (thrift.c) ---- */

enum tc_type {
    TC_STOP = 0,
    TC_TRUE = 1,
    TC_FALSE = 2,
    TC_BYTE = 3,
    TC_I16 = 4,
    TC_I32 = 5,
    TC_I64 = 6,
    TC_DOUBLE = 7,
    TC_BINARY = 8,
    TC_LIST = 9,
    TC_SET = 10,
    TC_MAP = 11,
    TC_STRUCT = 12,
};

/* Encoding appends to a buffer; errors (cap reached) are latched in err. Each
 * struct writer keeps its own `last` field id (starting at 0) on its stack,
 * which is all the state the protocol needs. */
struct tc_out {
    struct sl_buf *b;
    int err;
};

void tc_put_uvarint(struct tc_out *o, uint64_t v);
void tc_put_field(struct tc_out *o, int16_t *last, int16_t id, int type);
void tc_put_i32(struct tc_out *o, int16_t *last, int16_t id, int32_t v);
void tc_put_i64(struct tc_out *o, int16_t *last, int16_t id, int64_t v);
void tc_put_bool(struct tc_out *o, int16_t *last, int16_t id, int v);
void tc_put_i8(struct tc_out *o, int16_t *last, int16_t id, int8_t v);
void tc_put_binary(struct tc_out *o, int16_t *last, int16_t id, const void *p, size_t n);
void tc_put_list_begin(struct tc_out *o, int16_t *last, int16_t id, int elem_type, size_t n);
/* A binary list element (no field header). */
void tc_put_elem_binary(struct tc_out *o, const void *p, size_t n);
void tc_put_elem_i32(struct tc_out *o, int32_t v);
void tc_put_stop(struct tc_out *o);

/* Decoding reads a bounded byte range; every failure (truncation, bad type,
 * too deep, absurd count) latches err = SL_ECORRUPT and makes later reads
 * return zeros, so parsers check err once at the end of a struct. */
struct tc_in {
    const uint8_t *p, *end;
    int err;
    int depth;
};

#define TC_MAX_DEPTH 16

/* Reads a field header: returns 0 at STOP (or on error), 1 otherwise with
 * *type and *id set. For bool fields the value is in the type (TC_TRUE/FALSE). */
int tc_field(struct tc_in *in, int16_t *last, int *type, int16_t *id);
uint64_t tc_uvarint(struct tc_in *in);
int64_t tc_i64(struct tc_in *in); /* also i32/i16 (zigzag varint) */
int32_t tc_i32(struct tc_in *in);
int tc_i8(struct tc_in *in);
/* Binary/string: *p points into the input. */
void tc_binary(struct tc_in *in, const uint8_t **p, uint32_t *n);
/* List/set header; the count is checked against the remaining bytes (every
 * element takes at least one byte except bools/empty... all take >= 1). */
size_t tc_list(struct tc_in *in, int *elem_type);
/* Skips a value of the given type. */
void tc_skip(struct tc_in *in, int type);
/* Enters/leaves a nested struct (depth limit). */
int tc_enter(struct tc_in *in);
void tc_leave(struct tc_in *in);
/* Marks the input damaged. */
void tc_fail(struct tc_in *in);

/* ---- parquet.thrift structures (meta.c) ---- */

/* Physical types */
enum {
    PT_BOOLEAN = 0,
    PT_INT32 = 1,
    PT_INT64 = 2,
    PT_INT96 = 3,
    PT_FLOAT = 4,
    PT_DOUBLE = 5,
    PT_BYTE_ARRAY = 6,
    PT_FIXED = 7
};
enum { REP_REQUIRED = 0, REP_OPTIONAL = 1, REP_REPEATED = 2 };
enum {
    CT_UTF8 = 0,
    CT_TIMESTAMP_MILLIS = 9,
    CT_TIMESTAMP_MICROS = 10,
    CT_UINT_64 = 14,
    CT_INT_64 = 18
};
enum { CODEC_UNCOMPRESSED = 0, CODEC_SNAPPY = 1, CODEC_ZSTD = 6 };
enum { PAGE_DATA = 0, PAGE_INDEX = 1, PAGE_DICTIONARY = 2, PAGE_DATA_V2 = 3 };
/* Logical type kinds we know (LogicalType union field ids). */
enum { LT_NONE = 0, LT_STRING = 1, LT_TIMESTAMP = 8, LT_INTEGER = 10, LT_OTHER = 99 };
enum { TU_NONE = 0, TU_MILLIS = 1, TU_MICROS = 2, TU_NANOS = 3 };

struct pm_schema_el {
    const uint8_t *name;
    uint32_t name_len;
    int has_type;
    int32_t type;
    int has_rep;
    int32_t rep;
    int32_t num_children; /* -1 if absent */
    int32_t converted;    /* -1 if absent */
    int lt_kind;          /* LT_* */
    int lt_unit;          /* TU_* for TIMESTAMP */
    int lt_utc;
    int lt_bits, lt_signed; /* INTEGER */
};

struct pm_stats {
    const uint8_t *min_value, *max_value; /* NULL if absent */
    uint32_t min_len, max_len;
    int has_null_count;
    int64_t null_count;
};

struct pm_column {
    int32_t type;
    int32_t codec;
    uint32_t encodings; /* mask */
    const uint8_t *path0;
    uint32_t path0_len;
    int32_t path_len; /* number of path elements */
    int64_t num_values;
    int64_t total_uncompressed;
    int64_t total_compressed;
    int64_t data_page_offset;
    int64_t dict_page_offset; /* -1 if absent */
    int has_meta;
    struct pm_stats stats;
    /* ColumnChunk 4..7: page index location (-1 / 0 when absent) */
    int64_t oi_offset;
    int32_t oi_length;
    int64_t ci_offset;
    int32_t ci_length;
};

struct pm_sort_col {
    int32_t column_idx;
    int descending, nulls_first;
};

struct pm_row_group {
    int64_t num_rows;
    int64_t total_byte_size;
    int64_t total_compressed_size; /* -1 if absent */
    int64_t file_offset;           /* -1 if absent */
    struct pm_column *cols;
    size_t ncols;
    struct pm_sort_col *sort;
    size_t nsort;
};

struct pm_kv {
    const uint8_t *key, *value;
    uint32_t key_len, value_len;
    int has_value;
};

struct pm_file {
    int32_t version;
    int64_t num_rows;
    struct pm_schema_el *schema;
    size_t nschema;
    struct pm_row_group *rgs;
    size_t nrgs;
    struct pm_kv *kv;
    size_t nkv;
    const uint8_t *created_by;
    uint32_t created_by_len;
    size_t ncolumn_orders;
};

/* Decodes a FileMetaData; pointers refer into [p, p+n). Returns 0 or
 * SL_ECORRUPT / SL_ENOMEM. pm_file_release frees the arrays. */
int pm_file_decode(const uint8_t *p, size_t n, struct pm_file *f);
void pm_file_release(struct pm_file *f);
/* Encodes a FileMetaData (the writer's view: same structures). */
int pm_file_encode(const struct pm_file *f, struct sl_buf *out);

struct pm_page_header {
    int32_t type;
    int32_t uncompressed_size;
    int32_t compressed_size;
    /* DataPageHeader / DictionaryPageHeader */
    int has_data, has_dict;
    int32_t num_values;
    int32_t encoding;
    int32_t def_encoding;
    int32_t rep_encoding;
};

/* Decodes a PageHeader from [*p, end), advancing *p past it. */
int pm_page_header_decode(const uint8_t **p, const uint8_t *end, struct pm_page_header *h);
int pm_page_header_encode(const struct pm_page_header *h, struct sl_buf *out);

/* Page index (parquet.thrift OffsetIndex / ColumnIndex). */
struct pm_page_loc {
    int64_t offset;
    int32_t size; /* compressed page incl. header */
    int64_t first_row;
};

enum { BO_UNORDERED = 0, BO_ASCENDING = 1, BO_DESCENDING = 2 };

/* One page's entry of a ColumnIndex. */
struct pm_page_stat {
    int null_page;
    int64_t null_count;
    const uint8_t *min, *max; /* bytes as in Statistics.min_value/max_value */
    uint32_t min_len, max_len;
};

/* Encodes an OffsetIndex of n pages. */
int pm_offset_index_encode(const struct pm_page_loc *p, size_t n, struct sl_buf *out);
/* Encodes a ColumnIndex of n pages with null_counts. */
int pm_column_index_encode(const struct pm_page_stat *p, size_t n, int boundary_order,
                           struct sl_buf *out);
/* Decodes an OffsetIndex from [p, p+len) into *locs (allocated, *n entries;
 * at least one byte of input per entry, so n is bounded by len). */
int pm_offset_index_decode(const uint8_t *p, size_t len, struct pm_page_loc **locs, size_t *n);
/* Decodes a ColumnIndex; *stats (allocated, *n entries) point into [p, p+len).
 * *has_null_counts says whether null_count is set. */
int pm_column_index_decode(const uint8_t *p, size_t len, struct pm_page_stat **stats, size_t *n,
                           int *boundary_order, int *has_null_counts);

/* ---- encodings (encoding.c) ---- */

/* Number of bits needed for v (0 for 0). */
int pq_bit_width(uint64_t v);
/* Appends values packed LSB-first, bw bits each (0..64). */
int pq_bitpack(struct sl_buf *out, const uint64_t *v, size_t n, int bw);
/* RLE/bit-packed hybrid of n values of bit width bw (1..32), no length prefix. */
int pq_hybrid_encode(struct sl_buf *out, const uint32_t *v, size_t n, int bw);
/* Decodes exactly n values from [p, p+len); SL_ECORRUPT if the data runs out
 * or a value exceeds bw bits. *used = bytes consumed (may be NULL). */
int pq_hybrid_decode(const uint8_t *p, size_t len, int bw, uint32_t *v, size_t n, size_t *used);
/* Run-at-a-time reading of an RLE/bit-packed hybrid of `left` values. */
struct pq_hyb {
    const uint8_t *s, *end;
    int bw;
    size_t left; /* values still to read */
};
/* Next run: returns 1 with *count values, either an RLE run of *val
 * (*rle = 1) or literals decoded into buf[0..*count) (*rle = 0; buf holds
 * at least `left` values); 0 when `left` values were read; SL_ECORRUPT. */
int pq_hyb_next(struct pq_hyb *it, uint32_t *buf, size_t *count, int *rle, uint32_t *val);
/* DELTA_BINARY_PACKED of n int64 values (two's-complement wrap arithmetic). */
int pq_delta_encode(struct sl_buf *out, const int64_t *v, size_t n);
/* Decodes exactly n values; SL_ECORRUPT if the header's count differs. */
int pq_delta_decode(const uint8_t *p, size_t len, int64_t *v, size_t n, size_t *used);
/* BYTE_STREAM_SPLIT of n values of width 8 bytes. */
int pq_bss_encode(struct sl_buf *out, const void *v, size_t n);
int pq_bss_decode(const uint8_t *p, size_t len, void *v, size_t n);

void pq_put_le32(uint8_t *p, uint32_t v);
uint32_t pq_get_le32(const uint8_t *p);
void pq_put_le64(uint8_t *p, uint64_t v);
uint64_t pq_get_le64(const uint8_t *p);

/* ---- codecs (codec.c) ---- */

/* Compresses [p, p+n) into out (replacing its content). level for zstd. */
int pq_compress(int codec, int level, const void *p, size_t n, struct sl_buf *out);
/* Decompresses into dst of exactly dst_len bytes; SL_ECORRUPT unless the
 * data decompresses to exactly dst_len bytes. */
int pq_decompress(int codec, const void *p, size_t n, void *dst, size_t dst_len);
/* Thrift codec id for a pq_codec and back (-1 if unsupported). */
int pq_codec_to_thrift(enum pq_codec c);
int pq_codec_from_thrift(int32_t c);

/* ---- column chunk decoding (column.c) ---- */

struct pq_chunk_ctx {
    const char *name; /* for messages */
    enum pq_ctype type;
    int nullable;
    int codec; /* enum pq_codec */
    size_t nrows;
    size_t mem_limit;
    char *err; /* message buffer */
    size_t errlen;
    /* when dst_values is set, values (and, for a nullable column, the valid
     * bytes) are decoded into the caller's arrays of nrows entries instead
     * of arrays the column buffer owns */
    void *dst_values;
    uint8_t *dst_valid;
};

/* Decodes the pages of one column chunk ([chunk, chunk+len), the bytes from
 * its first page on) into out. On failure out may hold partial data (the
 * caller releases it) and x->err says why. */
int pq_decode_chunk(const struct pq_chunk_ctx *x, const uint8_t *chunk, size_t len,
                    struct pq_column_buf *out);

/* Page-at-a-time decoding of one column chunk (selective reads). Strings
 * that must outlive a call are kept as blobs of owner. Each call gets the
 * bytes of one page (header + compressed body). */
struct pq_pdec;
int pq_pdec_new(const struct pq_chunk_ctx *x, struct pq_column_buf *owner, struct pq_pdec **out);
void pq_pdec_free(struct pq_pdec *pd);
/* Decodes a dictionary page (before any data page that needs it). */
int pq_pdec_dict(struct pq_pdec *pd, const uint8_t *p, size_t len);
/* Page type of the page at [p, p+len) (PAGE_*), or SL_ECORRUPT. */
int pq_pdec_page_type(const uint8_t *p, size_t len);
/* Decodes a data page of exactly rows rows: *values (row-aligned, NULL slots
 * 0 / empty) and *valid (NULL when REQUIRED) stay valid until the next call;
 * with keep, string values stay valid as long as the owner. */
int pq_pdec_data(struct pq_pdec *pd, const uint8_t *p, size_t len, size_t rows, int keep,
                 const void **values, const uint8_t **valid);
/* hit[i] = 1 when row i of the data page (rows rows) is a string equal to
 * one of vals[0..nvals), else 0. Dictionary pages compare each dictionary
 * entry once and then read the index runs without materialising strings. */
int pq_pdec_match_str(struct pq_pdec *pd, const uint8_t *p, size_t len, size_t rows,
                      const struct pq_str *vals, size_t nvals, uint8_t *hit);

#endif
