/*
 * metric.h — the agent's owning metric and the per-output metric buffer.
 *
 * A metric is what an input produces and an output sends: a name, a tag set
 * kept sorted by key (so the series key is canonical), fields in insertion
 * order with the five line-protocol types, and a time in ns. Every string is
 * owned by the metric; metric_free() releases everything.
 *
 * The buffer follows Telegraf's memory buffer: a ring of at most `limit`
 * metrics; adding to a full ring overwrites the OLDEST metric and counts a
 * drop. A batch is taken out of the front; on failure it is put back at the
 * front (still bounded by the limit, so the oldest may be dropped then), on
 * success it is freed and counted as written. All buffer functions lock the
 * buffer's own mutex, so inputs and an output thread can share it.
 *
 * With a disk buffer attached (metric_buffer_attach_disk, buffer_strategy =
 * "disk") the same calls keep the metrics in segment files instead
 * (buffer_disk.h): len counts what is on disk and not in flight, the bound
 * is the disk buffer's size in bytes rather than limit, and a returned
 * batch is simply read again from disk.
 */
#ifndef SL_AGENT_METRIC_H
#define SL_AGENT_METRIC_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#include "common/buf.h"
#include "lp/lp.h"

struct metric_tag {
    char *key;
    char *val;
};

struct metric_field {
    char *key;
    enum lp_type type;
    union {
        double f;
        int64_t i;
        uint64_t u;
        int b;
        char *s; /* owned, NUL-terminated */
    } v;
};

struct metric {
    char *name;
    struct metric_tag *tags; /* sorted by key, keys unique */
    size_t ntags, tags_cap;
    struct metric_field *fields; /* insertion order, keys unique */
    size_t nfields, fields_cap;
    int64_t time; /* ns since the epoch */
};

/* Returns a new metric without tags or fields, or NULL on allocation failure.
 * The caller owns it (metric_free). */
struct metric *metric_new(const char *name, int64_t time_ns);
void metric_free(struct metric *m);
/* Deep copy; NULL on allocation failure. */
struct metric *metric_copy(const struct metric *m);

int metric_set_name(struct metric *m, const char *name);
/* Adds a tag or replaces the value of an existing one. */
int metric_add_tag(struct metric *m, const char *key, const char *val);
/* Returns the value or NULL. */
const char *metric_get_tag(const struct metric *m, const char *key);
/* Returns 1 when the tag existed and was removed, 0 otherwise. */
int metric_remove_tag(struct metric *m, const char *key);
/* Renames a tag (replacing any tag already called `to`); 1 if renamed, 0 if
 * absent, < 0 on error. */
int metric_rename_tag(struct metric *m, const char *from, const char *to);

/* Adds a field or replaces an existing one with the same key. */
int metric_add_float(struct metric *m, const char *key, double v);
int metric_add_int(struct metric *m, const char *key, int64_t v);
int metric_add_uint(struct metric *m, const char *key, uint64_t v);
int metric_add_bool(struct metric *m, const char *key, int v);
int metric_add_string(struct metric *m, const char *key, const char *v);
int metric_add_stringn(struct metric *m, const char *key, const char *v, size_t n);
/* Copies a field value (any type) under a new key. */
int metric_add_field_copy(struct metric *m, const char *key, const struct metric_field *f);
const struct metric_field *metric_get_field(const struct metric *m, const char *key);
int metric_remove_field(struct metric *m, const char *key);
int metric_rename_field(struct metric *m, const char *from, const char *to);

/* Appends the metric as one line of line protocol. A metric without fields
 * cannot be written and gives SL_EINVAL. opts NULL = ns, uint support on. */
int metric_write_lp(const struct metric *m, struct sl_buf *out, const struct lp_write_opts *opts);
/* Builds a metric from a parsed line-protocol point (default_time when the
 * point has none). */
struct metric *metric_from_lp(const struct lp_point *pt, int64_t default_time);

/* Sorts the fields by key (Telegraf's --test output order). */
void metric_sort_fields(struct metric *m);

/* Bytes a metric occupies in memory, roughly (for accounting). */
size_t metric_size(const struct metric *m);

/* A growable list of metrics that owns them (the accumulator's output). */
struct metric_list {
    struct metric **v;
    size_t n, cap;
};
/* Takes ownership of m (frees it on failure). */
int metric_list_push(struct metric_list *l, struct metric *m);
/* Frees every metric and the array. */
void metric_list_release(struct metric_list *l);

struct disk_buffer;

struct metric_buffer {
    pthread_mutex_t mu;
    struct disk_buffer *disk; /* NULL = memory ring */
    struct metric **ring;
    size_t limit; /* capacity */
    size_t head;  /* index of the oldest */
    size_t len;
    uint64_t added, dropped, written, rejected;
};

int metric_buffer_init(struct metric_buffer *b, size_t limit);
void metric_buffer_release(struct metric_buffer *b);
/* Takes ownership of m; when full, the oldest metric is freed and counted in
 * dropped. Never fails. */
void metric_buffer_add(struct metric_buffer *b, struct metric *m);
size_t metric_buffer_len(struct metric_buffer *b);
/* Removes up to max of the oldest metrics into out[] (caller-provided, max
 * entries) and returns how many. */
size_t metric_buffer_take(struct metric_buffer *b, struct metric **out, size_t max);
/* A taken batch was delivered: frees the metrics, counts them as written. */
void metric_buffer_accept(struct metric_buffer *b, struct metric **batch, size_t n);
/* A taken batch was rejected for good (e.g. HTTP 400): frees and counts them. */
void metric_buffer_drop(struct metric_buffer *b, struct metric **batch, size_t n);
/* A taken batch failed and will be retried: puts it back in front of what is
 * buffered, in order. Metrics that no longer fit (the oldest) are dropped. */
void metric_buffer_return(struct metric_buffer *b, struct metric **batch, size_t n);
/* Attaches an opened disk buffer (the buffer takes ownership): what the
 * memory ring holds is appended to it. */
void metric_buffer_attach_disk(struct metric_buffer *b, struct disk_buffer *d);
/* Moves everything from src into dst (for reloads); src is left empty. A
 * disk buffer of src moves to dst when dst has none. */
void metric_buffer_move(struct metric_buffer *dst, struct metric_buffer *src);

#endif
