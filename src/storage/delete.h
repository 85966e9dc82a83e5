/*
 * delete.h — deleting points for good: DELETE and DROP SERIES (a predicate
 * over measurement name, tags and time) and DROP MEASUREMENT. A deletion is
 * logged in the WAL before it touches the buffer or any file, so WAL replay
 * applies it in log order and rows logged before it can never come back;
 * rows logged after it are kept. See delete.c for the protocol and the
 * record layout.
 */
#ifndef SL_STORAGE_DELETE_H
#define SL_STORAGE_DELETE_H

#include <regex.h>
#include <stddef.h>
#include <stdint.h>

#include "common/buf.h"

struct engine;

/* First payload byte of a delete record (write records start with 1). */
#define DEL_REC_KIND 2
/* Deepest predicate tree accepted (hostile WAL bytes or queries). */
#define DEL_MAX_DEPTH 256

enum del_op {
    DEL_TRUE = 0, /* every series */
    DEL_AND,
    DEL_OR,
    DEL_TAG_EQ,  /* tag key = value (a missing tag has the value "") */
    DEL_TAG_NE,  /* tag key != value */
    DEL_TAG_RE,  /* tag key =~ /regex/ */
    DEL_TAG_NRE, /* tag key !~ /regex/ */
    DEL_NAME_EQ, /* measurement = name */
    DEL_NAME_RE, /* measurement =~ /regex/ */
};

struct del_node {
    enum del_op op;
    char *key;              /* tag key (DEL_TAG_*), owned */
    char *val;              /* value, measurement name or RE2-style pattern, owned */
    struct del_node *l, *r; /* DEL_AND, DEL_OR */
    regex_t re;             /* compiled by del_pred_compile */
    int re_ok;
};

/* What to delete: rows with time in [tmin, tmax] of the series (measurement
 * + tag set) for which root holds. */
struct del_pred {
    int64_t tmin, tmax;    /* inclusive */
    struct del_node *root; /* NULL = every series */
};

/* A new node (key and val copied, either may be NULL). On failure returns
 * NULL and frees l and r, so trees can be built by nesting calls. */
struct del_node *del_node_new(enum del_op op, const char *key, const char *val, struct del_node *l,
                              struct del_node *r);
void del_node_free(struct del_node *n);
/* Compiles the regexes of p. SL_EINVAL (message in err) for a bad pattern. */
int del_pred_compile(struct del_pred *p, char *err, size_t errlen);
/* Frees the tree; p can be reused. */
void del_pred_release(struct del_pred *p);

/* Does p select the series (measurement, tags)? keys/vals: ntags tag keys
 * and values (NUL-terminated). With keys == NULL the tags are unknown and
 * the answer may be DEL_MAYBE. Returns 0, 1 or DEL_MAYBE. */
#define DEL_MAYBE 2
int del_pred_eval(const struct del_pred *p, const char *measurement, size_t ntags,
                  const char *const *keys, const char *const *vals);

/* The WAL record of a deletion in database db_id (appended to out), and
 * back. decode compiles the regexes; SL_ECORRUPT for malformed bytes. */
int del_pred_encode(const struct del_pred *p, uint32_t db_id, struct sl_buf *out);
int del_pred_decode(const void *rec, size_t len, uint32_t *db_id, struct del_pred *p);

struct del_result {
    uint64_t buffer_rows;   /* rows removed from memory */
    uint64_t file_rows;     /* rows removed from Parquet files */
    size_t files_rewritten; /* files replaced by a copy without the rows */
    size_t files_dropped;   /* files whose every row was deleted */
};

/* Deletes the rows p selects in database db, durably: when it returns 0
 * they are gone from the buffer and the files, and stay gone after a crash.
 * Serializes with persistence and compaction. Returns 0, SL_ENOENT (no such
 * database), SL_ESTATE (WAL failed), SL_EIO, SL_ENOMEM, SL_ECORRUPT (a file
 * could not be read). res may be NULL. */
int storage_delete(struct engine *e, const char *db, size_t dblen, const struct del_pred *p,
                   struct del_result *res);

/* Drops a table: it disappears from the catalog at once, its buffered rows
 * and files are deleted, and a table written later under the same name
 * starts empty (also after WAL replay). Returns 0, SL_ENOENT (no such
 * database or table), SL_ESTATE, SL_EIO, SL_ENOMEM. */
int storage_drop_table(struct engine *e, const char *db, size_t dblen, const char *table,
                       size_t tlen);

struct cat_db;
struct cat_table;

/* Does table t of database db hold a row that queries see: a file with rows
 * or a buffered row, not older than the retention cut-off? InfluxDB 1.x
 * forgets a series with its last point (DELETE, DROP SERIES, retention) and
 * a measurement with its last series, so the SHOW statements list only such
 * tables; the catalog keeps the others with their column types, as 1.x
 * keeps the field types of an emptied measurement until DROP MEASUREMENT.
 * The caller holds the catalog lock (shared is enough); it also keeps the
 * buffer table from being dropped meanwhile. Returns 1 or 0. */
int storage_table_has_rows(struct engine *e, const struct cat_db *db, const struct cat_table *t);

/* The tag keys of the series that remain: sets present[c] (t->ncols
 * entries, zeroed by the caller) for each tag column c of t with a value in
 * a row queries see (buffer rows by their series, file rows by the row
 * groups' null counts; no column data is read). Same locking as
 * storage_table_has_rows. Returns 0, SL_ENOMEM or a file's read error. */
int storage_table_tag_presence(struct engine *e, const struct cat_db *db, const struct cat_table *t,
                               uint8_t *present);

/* Replays a delete record with log sequence number lsn: removes the
 * selected rows of records logged before it from the buffer. SL_ECORRUPT
 * for a malformed record. */
int storage_delete_replay(struct engine *e, uint64_t lsn, const void *rec, size_t len);

#endif
