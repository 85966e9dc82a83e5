/*
 * catalog.h — databases, tables and typed columns: the schema that grows on write.
 *
 * The catalog is the single source of truth for names, ids and column types.
 * It is persisted as one JSON file (catalog.json in the data directory),
 * rewritten atomically (tmp + fsync + rename + fsync dir) on every schema
 * change *before* the change is used, so that WAL replay after a crash always
 * finds the columns its records were validated against.
 *
 * Concurrency: one reader/writer lock. Lookups take it shared; schema changes
 * take it exclusively. Objects (struct cat_db, cat_table, cat_column) are never
 * freed while the catalog is open — a dropped database is marked deleted and
 * kept until close — so pointers returned by lookups stay valid without
 * reference counting. Column arrays grow by reallocation under the write lock,
 * which is why column access goes through cat_table_column*() under the lock
 * and callers copy what they need (id, type) rather than keep column pointers.
 */
#ifndef SL_CATALOG_CATALOG_H
#define SL_CATALOG_CATALOG_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#include "lp/lp.h"

/* Limits that protect the server from schema explosions (each is a per-line error). */
#define CAT_MAX_DATABASES         10000
#define CAT_MAX_TABLES_PER_DB     100000
#define CAT_MAX_COLUMNS_PER_TABLE 2000
#define CAT_MAX_NAME              512

enum cat_col_kind { CAT_COL_TIME = 0, CAT_COL_TAG = 1, CAT_COL_FIELD = 2 };

struct cat_column {
    char *name;
    uint32_t id; /* index in the table's column array; stable */
    enum cat_col_kind kind;
    enum lp_type type; /* fields only */
};

/* The time window of a file without an explicit length (catalogs written
 * before windows had lengths): one hour, the buffer's partition. */
#define CAT_DEFAULT_PART_LEN (3600LL * 1000000000LL)

/* A Parquet file of a table (path relative to the data directory). Its rows
 * lie in the window [part_start, part_start + part_len): an hour for files
 * written by persistence, a day or longer for rolled-up files (compact.c). */
struct cat_file {
    char *path;
    int64_t part_start; /* window start (ns) */
    int64_t part_len;   /* window length (ns); 0 when registering = one hour */
    int64_t min_time, max_time;
    uint64_t rows, bytes;
    uint64_t max_lsn; /* newest WAL record whose rows it holds */
    uint32_t seq;     /* larger = newer; decides which row wins on duplicates */
};

struct cat_table {
    char *name;
    uint32_t id;
    struct cat_db *db;
    struct cat_column *cols; /* cols[0] is always "time" */
    size_t ncols, cap;
    uint32_t *index; /* open-addressing name -> column id + 1 */
    size_t index_cap;
    uint32_t ntags; /* number of tag columns */
    int deleted;
    struct cat_file *files; /* live files, sorted by (part_start, seq) */
    size_t nfiles, files_cap;
    uint32_t next_seq;
};

struct cat_db {
    char *name;
    uint32_t id;
    int64_t retention_ns; /* 0 = keep forever */
    int64_t created_ns;
    int deleted;
    struct cat_table **tables;
    size_t ntables, cap;
};

struct catalog {
    pthread_rwlock_t lock;
    char *path; /* catalog.json */
    struct cat_db **dbs;
    size_t ndbs, cap;
    uint32_t next_id;
    uint64_t version; /* bumped on every change */
};

/* Opens (or creates) the catalog in dir. Returns 0, SL_ECORRUPT (with a
 * message in errbuf) or SL_EIO. */
int catalog_open(const char *dir, struct catalog **out, char *errbuf, size_t errlen);
void catalog_close(struct catalog *c);

void catalog_rdlock(struct catalog *c);
void catalog_wrlock(struct catalog *c);
void catalog_unlock(struct catalog *c);

/* Lookups; the caller holds the lock (shared or exclusive). NULL when absent
 * or deleted. */
struct cat_db *catalog_db_get(struct catalog *c, const char *name, size_t len);
struct cat_table *cat_db_table_get(struct cat_db *db, const char *name, size_t len);
struct cat_column *cat_table_column_get(struct cat_table *t, const char *name, size_t len);

/* Schema changes; the caller holds the write lock. Each persists the catalog
 * before returning 0, except catalog_table_create and cat_table_column_add,
 * whose callers add a table with its first columns and then call
 * catalog_persist once. */
int catalog_db_create(struct catalog *c, const char *name, size_t len, int64_t retention_ns,
                      struct cat_db **out);
int catalog_db_drop(struct catalog *c, struct cat_db *db);
int catalog_db_set_retention(struct catalog *c, struct cat_db *db, int64_t retention_ns);
int catalog_table_create(struct catalog *c, struct cat_db *db, const char *name, size_t len,
                         struct cat_table **out);
int catalog_table_drop(struct catalog *c, struct cat_table *t);
/* Adds columns without persisting (for batching several); call catalog_persist after. */
int cat_table_column_add(struct cat_table *t, const char *name, size_t len, enum cat_col_kind kind,
                         enum lp_type type, struct cat_column **out);
int catalog_persist(struct catalog *c);

/* Registers file f (copied) and removes the files whose seq is in drop[]
 * (compaction), then persists; all or nothing. Caller holds the write lock. */
int catalog_table_files_update(struct catalog *c, struct cat_table *t, const struct cat_file *f,
                               const uint32_t *drop, size_t ndrop);
/* Registers n files (copied) in one catalog update; all or nothing. */
int catalog_table_files_add(struct catalog *c, struct cat_table *t, const struct cat_file *f,
                            size_t n);

/* Validates a database or table name: 1..CAT_MAX_NAME bytes, no control
 * characters. (Storage escapes names for use as directory names; a v1
 * database "db/rp" is legal.) Returns NULL or a message. */
const char *catalog_name_invalid(const char *name, size_t len);

#endif
