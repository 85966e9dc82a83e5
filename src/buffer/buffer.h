/*
 * buffer.h — the in-memory columnar write buffer.
 *
 * Every acknowledged point lands here (after its WAL record is durable) and is
 * visible to readers at once. Layout: buffer → table (one per catalog table)
 * → partition (one per BUF_PARTITION_NS window of time) → columns. A row has a
 * series id (an index into the table's series dictionary, which holds the
 * series key and the tag values, so tags are dictionary-encoded by series),
 * a time, and one slot per field column with a validity byte.
 *
 * Rows are appended in arrival order; duplicates (same series and time) are
 * resolved when a partition is read (buffer_part_snapshot): rows are ordered
 * by series key then time, and rows with the same key are merged field by
 * field, the later write (higher WAL LSN, then arrival) winning — deterministic, so retries are
 * idempotent.
 *
 * Memory is accounted globally; buffer_over_limit() tells the write path to
 * refuse new writes (503 + Retry-After) until persistence releases partitions.
 */
#ifndef SL_BUFFER_BUFFER_H
#define SL_BUFFER_BUFFER_H

#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "lp/lp.h"

#define BUF_PARTITION_NS (3600LL * 1000000000LL) /* one hour */

struct buf_series {
    char *key; /* canonical series key (escaped line protocol) */
    size_t key_len;
    uint32_t ntags;
    uint32_t *tag_cols; /* catalog column id of each tag */
    char **tag_vals;    /* unescaped values, same order */
};

struct buf_alias {
    char *key; /* NULL = empty slot */
    uint32_t len, sid;
    uint64_t hash;
};

struct buf_col {
    enum lp_type type;
    int present; /* the column exists in this partition */
    union {
        double *f;
        int64_t *i;
        uint64_t *u;
        uint8_t *b;
        struct buf_str *s;
    } v;
    uint8_t *valid; /* one byte per row: 1 = value present */
};

struct buf_str {
    char *ptr; /* owned, NUL-terminated */
    uint32_t len;
};

struct buf_part {
    int64_t start; /* partition window start (ns) */
    size_t nrows, cap;
    uint32_t *sid;
    int64_t *time;
    uint64_t *lsn;        /* WAL record of each row: duplicates resolve in log order */
    struct buf_col *cols; /* indexed by catalog column id; ncols entries */
    size_t ncols;
    int64_t min_time, max_time;
    uint64_t max_lsn;        /* newest WAL record with rows here */
    uint64_t min_lsn;        /* oldest WAL record with rows here */
    size_t bytes;            /* accounted memory */
    int64_t last_write_mono; /* CLOCK_MONOTONIC_COARSE ns of the last insert */
    int persisting;          /* a persistence job owns a snapshot of it */
};

struct buf_table {
    pthread_mutex_t lock;
    uint32_t db_id, table_id;
    /* series dictionary */
    struct buf_series *series;
    size_t nseries, series_cap;
    uint32_t *series_index; /* open addressing: key hash -> sid + 1 */
    size_t series_index_cap;
    /* aliases: series keys as clients write them (tags unsorted) -> sid */
    struct buf_alias *aliases;
    size_t naliases, aliases_cap;
    /* partitions, sorted by start */
    struct buf_part **parts;
    size_t nparts, parts_cap;
    /* partitions being persisted: immutable, still read by scans */
    struct buf_part **sealed;
    size_t nsealed, sealed_cap;
    size_t bytes;
};

struct buffer {
    pthread_mutex_t lock; /* guards the table list */
    struct buf_table **tables;
    size_t ntables, cap;
    atomic_size_t bytes;
    size_t limit;
    atomic_ullong rows_total;
};

/* A typed field value to insert (column id resolved by the catalog). */
struct buf_value {
    uint32_t col;
    enum lp_type type;
    union {
        double f;
        int64_t i;
        uint64_t u;
        int b;
        struct {
            const char *ptr;
            size_t len;
        } s;
    } v;
};

/* One row to insert. tags are the point's sorted tags with their column ids. */
struct buf_row {
    const char *series_key;
    size_t series_key_len;
    const struct lp_tag *tags;
    const uint32_t *tag_cols;
    size_t ntags;
    int64_t time;
    const struct buf_value *vals;
    size_t nvals;
};

int buffer_init(struct buffer *b, size_t limit_bytes);
void buffer_release(struct buffer *b);
int buffer_over_limit(struct buffer *b);
/* Over half the limit: time to persist everything. */
int buffer_over_limit_soft(struct buffer *b);

/* Finds or creates the table; never NULL except on ENOMEM. */
struct buf_table *buffer_table(struct buffer *b, uint32_t db_id, uint32_t table_id);
/* Finds the table or NULL. */
struct buf_table *buffer_table_find(struct buffer *b, uint32_t db_id, uint32_t table_id);
/* Drops every table of a database (or one table when table_id != 0). */
void buffer_drop(struct buffer *b, uint32_t db_id, uint32_t table_id);

/* Inserts rows; the caller holds t->lock. ncols is the table's column count in
 * the catalog (columns may have been added since the partition was made). */
int buffer_insert_locked(struct buffer *b, struct buf_table *t, const struct buf_row *row,
                         size_t ncols, uint64_t lsn);

/* The same in steps, for callers that resolve series themselves: find a
 * series by canonical key; add it (with its tags) if absent; append a row. */
int buffer_series_find_locked(struct buf_table *t, const char *key, size_t len, uint32_t *sid);
int buffer_series_add_locked(struct buffer *b, struct buf_table *t, const char *key, size_t len,
                             const struct lp_tag *tags, const uint32_t *tag_cols, size_t ntags,
                             uint32_t *sid);
int buffer_append_locked(struct buffer *b, struct buf_table *t, uint32_t sid, int64_t time,
                         const struct buf_value *vals, size_t nvals, size_t ncols, uint64_t lsn);

/* Series aliases: the measurement-and-tags prefix of a line as the client
 * wrote it (tags in their order) maps to the series, so a line whose tags are
 * not sorted need not have its canonical key rebuilt every time. Bounded: the
 * map is cleared when it outgrows twice the series count plus 4096. */
int buffer_alias_find_locked(struct buf_table *t, const char *key, size_t len, uint32_t *sid);
int buffer_alias_add_locked(struct buffer *b, struct buf_table *t, const char *key, size_t len,
                            uint32_t sid);

/* A deduplicated, sorted, read-only copy of one partition's rows. */
struct buf_snapshot {
    int64_t start;
    size_t nrows;
    uint32_t *sid;
    int64_t *time;
    struct buf_col *cols; /* copies; strings point into the snapshot's arena */
    size_t ncols;
    uint64_t max_lsn;
    char *strings; /* backing store for string values */
};

/* Makes a snapshot of partition index pi of table t (t->lock held). Rows are
 * ordered by series key, then time; duplicates merged (later wins per field).
 * Rows outside [min_time, max_time] are left out. */
int buffer_part_snapshot(struct buf_table *t, size_t pi, int64_t min_time, int64_t max_time,
                         struct buf_snapshot *out);
void buffer_snapshot_release(struct buf_snapshot *s);

/* The same for any partition (active or sealed). */
int buffer_snapshot_part(struct buf_table *t, const struct buf_part *p, int64_t min_time,
                         int64_t max_time, struct buf_snapshot *out);

/* Moves active partition pi to the sealed list and returns it; new rows for
 * its window go to a fresh partition. */
struct buf_part *buffer_seal_locked(struct buf_table *t, size_t pi);
/* Frees a sealed partition once its rows are in a file. */
void buffer_sealed_drop_locked(struct buffer *b, struct buf_table *t, struct buf_part *p);
/* Deletes rows (DELETE / DROP SERIES): from every partition of t, active
 * and sealed, removes the rows whose series id s has match[s] != 0 (s <
 * nmatch), whose time is in [tmin, tmax] and whose WAL LSN is below
 * before_lsn (rows logged after the delete record stay). Frees their
 * strings and gives back their accounted memory. The caller holds t->lock
 * and keeps persistence out (engine persist_lock), since a sealed partition
 * may be rewritten here. Returns the number of rows removed. */
size_t buffer_delete_rows_locked(struct buffer *b, struct buf_table *t, const uint8_t *match,
                                 size_t nmatch, int64_t tmin, int64_t tmax, uint64_t before_lsn);
/* Oldest WAL LSN still only in memory (UINT64_MAX when the buffer is empty). */
uint64_t buffer_min_lsn(struct buffer *b);

#endif
