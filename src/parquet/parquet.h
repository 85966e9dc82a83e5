/*
 * parquet.h — sluice's own Apache Parquet writer and reader (the on-disk
 * format of the storage engine, DESIGN.md §4; file layout in docs/parquet.md).
 *
 * Scope: flat schemas (one leaf per column, REQUIRED or OPTIONAL, no nesting)
 * of the six column types sluice stores. The writer emits data pages v1 with
 *   time, int64, uint64  DELTA_BINARY_PACKED
 *   double               BYTE_STREAM_SPLIT
 *   bool                 PLAIN (bit-packed)
 *   string               RLE_DICTIONARY (dictionary page PLAIN) when the column
 *                        asks for it, falling back to PLAIN for the rest of a
 *                        column chunk once the dictionary grows past its cap;
 *                        PLAIN otherwise
 * definition levels in the RLE/bit-packed hybrid, each page compressed with
 * ZSTD (default), SNAPPY or nothing, column-chunk statistics min_value /
 * max_value / null_count, and key/value metadata. The reader reads every file
 * the writer emits (and PLAIN / PLAIN_DICTIONARY pages of other writers for
 * these types). It never trusts the file: every offset and length is checked
 * against the file size, every count against the bytes that must hold it, and
 * decoded sizes against hard caps; damage yields SL_ECORRUPT and a message.
 *
 * Threading: a writer or reader is used by one thread at a time; distinct
 * objects are independent.
 */
#ifndef SL_PARQUET_PARQUET_H
#define SL_PARQUET_PARQUET_H

#include <stddef.h>
#include <stdint.h>

#include "common/buf.h"

/* Column types, each mapped to one Parquet physical + logical type. */
enum pq_ctype {
    PQ_TIME_NS, /* INT64, TIMESTAMP(NANOS), isAdjustedToUTC per pq_writer_opts */
    PQ_INT64,   /* INT64, INTEGER(64, signed) / INT_64 */
    PQ_UINT64,  /* INT64, INTEGER(64, unsigned) / UINT_64 */
    PQ_DOUBLE,  /* DOUBLE */
    PQ_BOOL,    /* BOOLEAN */
    PQ_STRING,  /* BYTE_ARRAY, STRING / UTF8 */
};

enum pq_codec { PQ_CODEC_ZSTD = 0, PQ_CODEC_SNAPPY, PQ_CODEC_NONE };

/* Parquet encodings, as numbered by the format (bit i of an encodings mask). */
enum pq_encoding {
    PQ_ENC_PLAIN = 0,
    PQ_ENC_PLAIN_DICTIONARY = 2,
    PQ_ENC_RLE = 3,
    PQ_ENC_DELTA_BINARY_PACKED = 5,
    PQ_ENC_RLE_DICTIONARY = 8,
    PQ_ENC_BYTE_STREAM_SPLIT = 9,
};

/* A string slice; never NUL-terminated by contract. */
struct pq_str {
    const char *ptr;
    uint32_t len;
};

struct pq_kv {
    const char *key;
    const char *value;
};

struct pq_column_spec {
    const char *name;
    enum pq_ctype type;
    int nullable;   /* OPTIONAL with definition levels; else REQUIRED */
    int dictionary; /* strings only: dictionary-encode (tags) */
};

/* Hard limits (a value beyond them is refused by the writer, and treated as
 * corruption by the reader). */
#define PQ_MAX_COLUMNS    4096
#define PQ_MAX_STRING     ((uint32_t)64 << 20) /* one string value */
#define PQ_MAX_PAGE_BYTES ((size_t)256 << 20)  /* one decompressed page */
#define PQ_MAX_FOOTER     ((size_t)64 << 20)

struct pq_writer_opts {
    enum pq_codec codec;    /* default PQ_CODEC_ZSTD */
    int zstd_level;         /* 0 = 3 */
    size_t row_group_rows;  /* 0 = 1048576 */
    size_t page_rows;       /* 0 = 65536; a page also ends at ~1 MiB of strings */
    size_t dict_max_bytes;  /* 0 = 1 MiB: dictionary cap before PLAIN fallback */
    const struct pq_kv *kv; /* copied at open */
    size_t nkv;
    const size_t *sort_cols; /* RowGroup.sorting_columns (ascending), optional */
    size_t nsort;
    int no_fsync; /* tests/tools: skip the fsync in close */
    /* Time columns are written TIMESTAMP(isAdjustedToUTC=false, NANOS) by
     * default, as InfluxDB 3 does: DuckDB then reads them as TIMESTAMP_NS with
     * every nanosecond, whereas for isAdjustedToUTC=true it returns
     * TIMESTAMP WITH TIME ZONE truncated to microseconds. The values are UTC
     * nanoseconds since the epoch either way. Set to 1 for the UTC flag. */
    int time_adjusted_utc;
    /* Tests/tools: leave out the page index (OffsetIndex/ColumnIndex) that
     * is otherwise written for every column chunk after the last row group. */
    int no_page_index;
};

/* One column of a batch, column-major. values points to nrows elements of
 * int64_t (TIME_NS, INT64), uint64_t, double, uint8_t (BOOL, 0/1) or
 * struct pq_str (STRING). valid: 1 = present, 0 = NULL; NULL means all
 * present. A NULL slot's value is ignored. */
struct pq_column_data {
    const void *values;
    const uint8_t *valid;
};

struct pq_writer;

/* Creates (truncates) the file at path and prepares a writer for the given
 * columns (copied). The file is complete only after pq_writer_close or
 * pq_writer_commit returns 0; write to a temporary name and use
 * pq_writer_commit to publish it atomically. NULL opts = defaults.
 * Returns 0 and *out, or SL_EINVAL (bad schema/options), SL_EIO, SL_ENOMEM. */
int pq_writer_open(const char *path, const struct pq_column_spec *cols, size_t ncols,
                   const struct pq_writer_opts *o, struct pq_writer **out);
/* As pq_writer_open, but the file is appended to *out_buf (borrowed; it must
 * outlive the writer), e.g. for an HTTP response body. */
int pq_writer_open_buf(struct sl_buf *out_buf, const struct pq_column_spec *cols, size_t ncols,
                       const struct pq_writer_opts *o, struct pq_writer **out);
/* Appends nrows rows (copied; the caller keeps ownership of cols). Full row
 * groups are encoded and written as they fill. Any failure is sticky: every
 * later call returns SL_ESTATE and the writer can only be aborted. */
int pq_writer_write(struct pq_writer *w, const struct pq_column_data *cols, size_t nrows);
/* Rows accepted so far. */
uint64_t pq_writer_rows(const struct pq_writer *w);
/* Flushes the last row group, writes the footer, fsyncs and closes the file,
 * and frees w (also on failure; on failure a file-backed writer also removes
 * its file). */
int pq_writer_close(struct pq_writer *w);
/* pq_writer_close, then rename to final_path and fsync its directory. Frees w. */
int pq_writer_commit(struct pq_writer *w, const char *final_path);
/* Discards the file (unlinks it) and frees w. NULL is a no-op. */
void pq_writer_abort(struct pq_writer *w);

/* ---- reader ---- */

struct pq_reader;

struct pq_column_info {
    const char *name; /* NUL-terminated, owned by the reader */
    enum pq_ctype type;
    int nullable;
};

union pq_value {
    int64_t i; /* TIME_NS, INT64 */
    uint64_t u;
    double d;
    int b;
    struct pq_str s; /* points into reader-owned memory */
};

struct pq_stats {
    int has_null_count;
    int64_t null_count;
    int has_minmax; /* min/max present and decoded for the column's type */
    union pq_value min, max;
};

struct pq_chunk_info {
    enum pq_codec codec;
    uint32_t encodings;         /* bit (1u << enum pq_encoding) per encoding used */
    int64_t num_values;         /* rows incl. NULLs */
    int64_t compressed_bytes;   /* pages incl. headers, as stored */
    int64_t uncompressed_bytes; /* pages incl. headers, before compression */
};

/* Decoded column chunk: row-aligned values (a NULL slot holds 0 / empty),
 * valid[i] = 1 when row i is present (valid == NULL: no NULLs possible).
 * Strings point into memory owned by the buffer. Release with
 * pq_column_buf_release; the struct may then be reused. */
struct pq_column_buf {
    enum pq_ctype type;
    size_t nrows;
    void *values; /* int64_t*, uint64_t*, double*, uint8_t*, struct pq_str* */
    uint8_t *valid;
    size_t null_count;
    /* private: string storage */
    void **blobs_;
    size_t nblobs_, blobs_cap_;
};

#define PQ_COLUMN_BUF_INIT                                                                         \
    {                                                                                              \
        PQ_TIME_NS, 0, NULL, NULL, 0, NULL, 0, 0                                                   \
    }

/* Opens and validates a file (footer, schema, every chunk range). The file
 * stays open until pq_reader_close. On failure returns SL_ENOENT, SL_EIO,
 * SL_ECORRUPT (damage) or SL_EINVAL (valid Parquet we cannot read, e.g.
 * nested), and writes a lower-case message to err (may be NULL). */
int pq_reader_open(const char *path, struct pq_reader **out, char *err, size_t errlen);
/* As pq_reader_open over len bytes at data, which are borrowed and must stay
 * unchanged until pq_reader_close. */
int pq_reader_open_mem(const void *data, size_t len, struct pq_reader **out, char *err,
                       size_t errlen);
void pq_reader_close(struct pq_reader *r);
/* fstat of the file a reader opened by path reads (SL_EINVAL for a memory
 * reader): tells whether the path still names that file. */
struct stat;
int pq_reader_fstat(const struct pq_reader *r, struct stat *st);
/* Frees the reader's scratch buffers (page bytes, filter hits) and clears
 * its message, e.g. before keeping an idle reader in a cache. */
void pq_reader_trim(struct pq_reader *r);

size_t pq_reader_num_columns(const struct pq_reader *r);
size_t pq_reader_num_row_groups(const struct pq_reader *r);
int64_t pq_reader_num_rows(const struct pq_reader *r);
int64_t pq_reader_row_group_rows(const struct pq_reader *r, size_t rg);
/* NULL when col is out of range. */
const struct pq_column_info *pq_reader_column(const struct pq_reader *r, size_t col);
/* Column index by name, or -1. */
long pq_reader_find_column(const struct pq_reader *r, const char *name);
/* Key/value metadata: value for key (NUL-terminated, reader-owned) or NULL. */
const char *pq_reader_kv(const struct pq_reader *r, const char *key);
size_t pq_reader_num_kv(const struct pq_reader *r);
/* The i-th pair; returns SL_ERANGE when i is out of range. */
int pq_reader_kv_at(const struct pq_reader *r, size_t i, const char **key, const char **value);
/* Column-chunk statistics and layout; SL_ERANGE for bad indexes. */
int pq_reader_stats(const struct pq_reader *r, size_t rg, size_t col, struct pq_stats *out);
int pq_reader_chunk_info(const struct pq_reader *r, size_t rg, size_t col,
                         struct pq_chunk_info *out);
/* Bytes the decoded form of one column chunk may take (values + validity +
 * kept pages); beyond it read_column fails with SL_ETOOBIG. Default 1 GiB. */
void pq_reader_set_mem_limit(struct pq_reader *r, size_t bytes);
/* Decodes one column chunk into out (which must be initialised or released
 * before; it is overwritten). On failure out is left released and the
 * reason is in pq_reader_errmsg. */
int pq_reader_read_column(struct pq_reader *r, size_t rg, size_t col, struct pq_column_buf *out);
/* As pq_reader_read_column, into the caller's arrays: values holds the row
 * group's row count of values of the column's width (8 bytes; 1 for
 * booleans; struct pq_str for strings), valid as many bytes (set to 1 for a
 * column without NULLs). owner keeps what strings point into and must be
 * released (its values and valid stay NULL). */
int pq_reader_read_column_into(struct pq_reader *r, size_t rg, size_t col, void *values,
                               uint8_t *valid, struct pq_column_buf *owner);
/* ---- selective reads ----
 * These read only the pages that hold wanted rows, found through the file's
 * page index (OffsetIndex; ColumnIndex min/max to skip pages) or, in files
 * without one, by walking the chunk's page headers once (cached per chunk).
 * Row selections are ascending row indexes within the row group; a
 * selection that is not strictly ascending or not below the row count is
 * SL_EINVAL. Failures as read_column (SL_ECORRUPT, SL_ETOOBIG, SL_ERANGE,
 * SL_ENOMEM, message in pq_reader_errmsg). */

/* Rows sel[0..m) of column col in row group rg, decoded into out compacted
 * (out->nrows = m; value j belongs to row sel[j]). Only the pages holding a
 * selected row are read and decompressed; the dictionary page once when
 * needed. m == row-group rows behaves as read_column. out as read_column. */
int pq_reader_read_rows(struct pq_reader *r, size_t rg, size_t col, const uint32_t *sel, size_t m,
                        struct pq_column_buf *out);
/* Selection by a string column: writes to out (capacity: rows of the row
 * group) the ascending rows of the input selection in (NULL = all rows)
 * whose value equals one of vals[0..nvals); NULL never matches. Pages whose
 * ColumnIndex min/max exclude every value are skipped, and so are pages
 * without an input row; dictionary-encoded pages compare each dictionary
 * entry once and then scan the index runs without materialising strings. */
int pq_reader_filter_str(struct pq_reader *r, size_t rg, size_t col, const struct pq_str *vals,
                         size_t nvals, const uint32_t *in, size_t nin, uint32_t *out, size_t *nout);
/* Selection by an INT64/TIME column range lo <= v <= hi, same conventions;
 * pages whose ColumnIndex min/max exclude [lo, hi] are skipped unread, pages
 * inside it without NULLs are taken unread. */
int pq_reader_filter_i64(struct pq_reader *r, size_t rg, size_t col, int64_t lo, int64_t hi,
                         const uint32_t *in, size_t nin, uint32_t *out, size_t *nout);

/* Message of the last failure of r ("" if none). */
const char *pq_reader_errmsg(const struct pq_reader *r);

void pq_column_buf_release(struct pq_column_buf *b);

/* "time_ns", "int64", ... */
const char *pq_ctype_name(enum pq_ctype t);
const char *pq_codec_name(enum pq_codec c);
const char *pq_encoding_name(int enc);

#endif
