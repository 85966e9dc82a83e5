/*
 * catalog.c — databases, tables and columns, persisted as catalog.json.
 *
 * File format (JSON, rewritten whole and atomically on every change):
 *   {"format":"sluice-catalog","version":1,"next_id":N,
 *    "databases":[{"id":1,"name":"db","retention_ns":0,"created_ns":T,"deleted":false,
 *                  "tables":[{"id":2,"name":"cpu","deleted":false,
 *                             "columns":[{"name":"time","kind":"time"},
 *                                        {"name":"host","kind":"tag"},
 *                                        {"name":"usage","kind":"field","type":"float"}]}]}]}
 * Column order in the file is column id order; ids are never reused, so a
 * column's id is its position. Deleted databases and tables stay in the file
 * (ids must not be reused while WAL records or files may mention them); a
 * database created again under a dropped name gets a new id.
 */
#include "catalog/catalog.h"

#include <jansson.h>
#include <stdio.h>
#include <string.h>

#include "common/err.h"
#include "common/fsutil.h"
#include "common/hash.h"
#include "common/mem.h"
#include "common/timeutil.h"

#define CATALOG_FILE      "catalog.json"
#define CATALOG_MAX_BYTES (256u << 20)

const char *catalog_name_invalid(const char *name, size_t len)
{
    if (len == 0) return "name is empty";
    if (len > CAT_MAX_NAME) return "name is longer than 512 bytes";
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)name[i];
        if (c < 0x20 || c == 0x7f) return "name contains a control character";
    }
    return NULL;
}

void catalog_rdlock(struct catalog *c)
{
    pthread_rwlock_rdlock(&c->lock);
}

void catalog_wrlock(struct catalog *c)
{
    pthread_rwlock_wrlock(&c->lock);
}

void catalog_unlock(struct catalog *c)
{
    pthread_rwlock_unlock(&c->lock);
}

/* ---- column index (open addressing on the name hash) ---- */

static int index_rebuild(struct cat_table *t, size_t cap)
{
    uint32_t *idx = sl_calloc(cap, sizeof(*idx));
    if (!idx) return SL_ENOMEM;
    for (size_t i = 0; i < t->ncols; i++) {
        const char *n = t->cols[i].name;
        size_t h = sl_hash64(n, strlen(n), 0) & (cap - 1);
        while (idx[h])
            h = (h + 1) & (cap - 1);
        idx[h] = (uint32_t)i + 1;
    }
    sl_free(t->index);
    t->index = idx;
    t->index_cap = cap;
    return 0;
}

struct cat_column *cat_table_column_get(struct cat_table *t, const char *name, size_t len)
{
    if (!t->index_cap) return NULL;
    size_t mask = t->index_cap - 1;
    size_t h = sl_hash64(name, len, 0) & mask;
    for (;;) {
        uint32_t v = t->index[h];
        if (!v) return NULL;
        struct cat_column *col = &t->cols[v - 1];
        if (strlen(col->name) == len && memcmp(col->name, name, len) == 0) return col;
        h = (h + 1) & mask;
    }
}

int cat_table_column_add(struct cat_table *t, const char *name, size_t len, enum cat_col_kind kind,
                         enum lp_type type, struct cat_column **out)
{
    if (t->ncols >= CAT_MAX_COLUMNS_PER_TABLE) return SL_ETOOBIG;
    struct cat_column *cols = sl_grow(t->cols, &t->cap, t->ncols + 1, sizeof(*cols));
    if (!cols) return SL_ENOMEM;
    t->cols = cols;
    char *n = sl_strndup(name, len);
    if (!n) return SL_ENOMEM;
    struct cat_column *col = &t->cols[t->ncols];
    col->name = n;
    col->id = (uint32_t)t->ncols;
    col->kind = kind;
    col->type = type;
    t->ncols++;
    if (kind == CAT_COL_TAG) t->ntags++;
    if (t->ncols * 2 > t->index_cap) {
        int rc = index_rebuild(t, t->index_cap ? t->index_cap * 2 : 16);
        if (rc < 0) {
            t->ncols--;
            if (kind == CAT_COL_TAG) t->ntags--;
            sl_free(n);
            return rc;
        }
    } else {
        size_t mask = t->index_cap - 1;
        size_t h = sl_hash64(name, len, 0) & mask;
        while (t->index[h])
            h = (h + 1) & mask;
        t->index[h] = col->id + 1;
    }
    if (out) *out = col;
    return 0;
}

/* ---- files ---- */

static int file_cmp(const struct cat_file *a, const struct cat_file *b)
{
    if (a->part_start != b->part_start) return a->part_start < b->part_start ? -1 : 1;
    return a->seq < b->seq ? -1 : a->seq > b->seq;
}

/* Inserts a copy of f keeping files sorted. */
static int files_insert(struct cat_table *t, const struct cat_file *f)
{
    struct cat_file *fs = sl_grow(t->files, &t->files_cap, t->nfiles + 1, sizeof(*fs));
    if (!fs) return SL_ENOMEM;
    t->files = fs;
    char *path = sl_strdup(f->path);
    if (!path) return SL_ENOMEM;
    size_t pos = t->nfiles;
    while (pos > 0 && file_cmp(&t->files[pos - 1], f) > 0)
        pos--;
    memmove(t->files + pos + 1, t->files + pos, (t->nfiles - pos) * sizeof(*fs));
    t->files[pos] = *f;
    t->files[pos].path = path;
    if (t->files[pos].part_len <= 0) t->files[pos].part_len = CAT_DEFAULT_PART_LEN;
    t->nfiles++;
    if (f->seq >= t->next_seq) t->next_seq = f->seq + 1;
    return 0;
}

int catalog_table_files_update(struct catalog *c, struct cat_table *t, const struct cat_file *f,
                               const uint32_t *drop, size_t ndrop)
{
    /* keep the old list so a failed persist can be undone */
    size_t old_n = t->nfiles;
    struct cat_file *old = sl_malloc((old_n ? old_n : 1) * sizeof(*old));
    if (!old) return SL_ENOMEM;
    if (old_n) memcpy(old, t->files, old_n * sizeof(*old));
    uint32_t old_seq = t->next_seq;
    size_t kept = 0;
    struct cat_file *dropped = sl_malloc((old_n ? old_n : 1) * sizeof(*dropped));
    size_t ndropped = 0;
    if (!dropped) {
        sl_free(old);
        return SL_ENOMEM;
    }
    for (size_t i = 0; i < t->nfiles; i++) {
        int gone = 0;
        for (size_t k = 0; k < ndrop; k++)
            gone |= t->files[i].seq == drop[k];
        if (gone)
            dropped[ndropped++] = t->files[i];
        else
            t->files[kept++] = t->files[i];
    }
    t->nfiles = kept;
    int rc = f ? files_insert(t, f) : 0;
    if (rc == 0) rc = catalog_persist(c);
    if (rc < 0) {
        /* restore: the new entry (if inserted) owns a fresh path copy */
        for (size_t i = 0; i < t->nfiles; i++) {
            int was_old = 0;
            for (size_t k = 0; k < old_n; k++)
                was_old |= t->files[i].path == old[k].path;
            if (!was_old) sl_free(t->files[i].path);
        }
        struct cat_file *fs = sl_grow(t->files, &t->files_cap, old_n, sizeof(*fs));
        if (fs) t->files = fs;
        if (old_n) memcpy(t->files, old, old_n * sizeof(*old));
        t->nfiles = old_n;
        t->next_seq = old_seq;
    } else {
        for (size_t i = 0; i < ndropped; i++)
            sl_free(dropped[i].path);
    }
    sl_free(old);
    sl_free(dropped);
    return rc;
}

int catalog_table_files_add(struct catalog *c, struct cat_table *t, const struct cat_file *f,
                            size_t n)
{
    size_t old_n = t->nfiles;
    uint32_t old_seq = t->next_seq;
    struct cat_file *old = sl_malloc((old_n ? old_n : 1) * sizeof(*old));
    if (!old) return SL_ENOMEM;
    if (old_n) memcpy(old, t->files, old_n * sizeof(*old));
    int rc = 0;
    size_t added = 0;
    for (; added < n && rc == 0; added++)
        rc = files_insert(t, &f[added]);
    if (rc == 0) rc = catalog_persist(c);
    if (rc < 0) {
        /* drop the copies made by files_insert (paths not in the old list) */
        for (size_t i = 0; i < t->nfiles; i++) {
            int was_old = 0;
            for (size_t k = 0; k < old_n && !was_old; k++)
                was_old = t->files[i].path == old[k].path;
            if (!was_old) sl_free(t->files[i].path);
        }
        if (old_n) memcpy(t->files, old, old_n * sizeof(*old));
        t->nfiles = old_n;
        t->next_seq = old_seq;
    }
    sl_free(old);
    return rc;
}

/* ---- objects ---- */

static void table_free(struct cat_table *t)
{
    if (!t) return;
    for (size_t i = 0; i < t->nfiles; i++)
        sl_free(t->files[i].path);
    sl_free(t->files);
    for (size_t i = 0; i < t->ncols; i++)
        sl_free(t->cols[i].name);
    sl_free(t->cols);
    sl_free(t->index);
    sl_free(t->name);
    sl_free(t);
}

static void db_free(struct cat_db *d)
{
    if (!d) return;
    for (size_t i = 0; i < d->ntables; i++)
        table_free(d->tables[i]);
    sl_free(d->tables);
    sl_free(d->name);
    sl_free(d);
}

static struct cat_table *table_new(struct cat_db *db, const char *name, size_t len, uint32_t id)
{
    struct cat_table *t = sl_calloc(1, sizeof(*t));
    if (!t) return NULL;
    t->name = sl_strndup(name, len);
    t->id = id;
    t->db = db;
    if (!t->name || cat_table_column_add(t, "time", 4, CAT_COL_TIME, LP_INTEGER, NULL) < 0) {
        table_free(t);
        return NULL;
    }
    return t;
}

static int db_add_table(struct cat_db *db, struct cat_table *t)
{
    struct cat_table **ts = sl_grow(db->tables, &db->cap, db->ntables + 1, sizeof(*ts));
    if (!ts) return SL_ENOMEM;
    db->tables = ts;
    db->tables[db->ntables++] = t;
    return 0;
}

static int catalog_add_db(struct catalog *c, struct cat_db *d)
{
    struct cat_db **ds = sl_grow(c->dbs, &c->cap, c->ndbs + 1, sizeof(*ds));
    if (!ds) return SL_ENOMEM;
    c->dbs = ds;
    c->dbs[c->ndbs++] = d;
    return 0;
}

struct cat_db *catalog_db_get(struct catalog *c, const char *name, size_t len)
{
    /* Databases are few; a linear scan over live ones is cheaper than a map. */
    for (size_t i = c->ndbs; i-- > 0;) {
        struct cat_db *d = c->dbs[i];
        if (!d->deleted && strlen(d->name) == len && memcmp(d->name, name, len) == 0) return d;
    }
    return NULL;
}

struct cat_table *cat_db_table_get(struct cat_db *db, const char *name, size_t len)
{
    /* Tables per database can be many; callers cache lookups per request. */
    for (size_t i = 0; i < db->ntables; i++) {
        struct cat_table *t = db->tables[i];
        if (!t->deleted && strlen(t->name) == len && memcmp(t->name, name, len) == 0) return t;
    }
    return NULL;
}

/* ---- persistence ---- */

static const char *kind_name(enum cat_col_kind k)
{
    return k == CAT_COL_TIME ? "time" : k == CAT_COL_TAG ? "tag" : "field";
}

int catalog_persist(struct catalog *c)
{
    json_t *root = json_object();
    json_t *dbs = json_array();
    json_object_set_new(root, "format", json_string("sluice-catalog"));
    json_object_set_new(root, "version", json_integer(1));
    json_object_set_new(root, "next_id", json_integer(c->next_id));
    for (size_t i = 0; i < c->ndbs; i++) {
        struct cat_db *d = c->dbs[i];
        json_t *jd = json_object();
        json_object_set_new(jd, "id", json_integer(d->id));
        json_object_set_new(jd, "name", json_string(d->name));
        json_object_set_new(jd, "retention_ns", json_integer(d->retention_ns));
        json_object_set_new(jd, "created_ns", json_integer(d->created_ns));
        json_object_set_new(jd, "deleted", json_boolean(d->deleted));
        json_t *jts = json_array();
        for (size_t k = 0; k < d->ntables; k++) {
            struct cat_table *t = d->tables[k];
            json_t *jt = json_object();
            json_object_set_new(jt, "id", json_integer(t->id));
            json_object_set_new(jt, "name", json_string(t->name));
            json_object_set_new(jt, "deleted", json_boolean(t->deleted));
            json_t *jcs = json_array();
            for (size_t m = 0; m < t->ncols; m++) {
                json_t *jc = json_object();
                json_object_set_new(jc, "name", json_string(t->cols[m].name));
                json_object_set_new(jc, "kind", json_string(kind_name(t->cols[m].kind)));
                if (t->cols[m].kind == CAT_COL_FIELD)
                    json_object_set_new(jc, "type", json_string(lp_type_name(t->cols[m].type)));
                json_array_append_new(jcs, jc);
            }
            json_object_set_new(jt, "columns", jcs);
            json_object_set_new(jt, "next_seq", json_integer(t->next_seq));
            json_t *jfs = json_array();
            for (size_t m = 0; m < t->nfiles; m++) {
                const struct cat_file *f = &t->files[m];
                json_t *jf = json_object();
                json_object_set_new(jf, "path", json_string(f->path));
                json_object_set_new(jf, "part_start", json_integer(f->part_start));
                json_object_set_new(jf, "part_len", json_integer(f->part_len));
                json_object_set_new(jf, "min_time", json_integer(f->min_time));
                json_object_set_new(jf, "max_time", json_integer(f->max_time));
                json_object_set_new(jf, "rows", json_integer((json_int_t)f->rows));
                json_object_set_new(jf, "bytes", json_integer((json_int_t)f->bytes));
                json_object_set_new(jf, "max_lsn", json_integer((json_int_t)f->max_lsn));
                json_object_set_new(jf, "seq", json_integer(f->seq));
                json_array_append_new(jfs, jf);
            }
            json_object_set_new(jt, "files", jfs);
            json_array_append_new(jts, jt);
        }
        json_object_set_new(jd, "tables", jts);
        json_array_append_new(dbs, jd);
    }
    json_object_set_new(root, "databases", dbs);
    char *text = json_dumps(root, JSON_COMPACT);
    json_decref(root);
    if (!text) return SL_ENOMEM;
    int rc = sl_file_write_atomic(c->path, text, strlen(text), 0644);
    free(text);
    if (rc == 0) c->version++;
    return rc;
}

static int parse_type(const char *s, enum lp_type *t)
{
    static const enum lp_type all[] = {LP_FLOAT, LP_INTEGER, LP_UNSIGNED, LP_STRING, LP_BOOLEAN};
    for (size_t i = 0; i < 5; i++) {
        if (!strcmp(s, lp_type_name(all[i]))) {
            *t = all[i];
            return 0;
        }
    }
    return SL_ECORRUPT;
}

static int load_table(struct cat_db *d, json_t *jt, char *err, size_t errlen)
{
    const char *name = json_string_value(json_object_get(jt, "name"));
    json_t *jcs = json_object_get(jt, "columns");
    if (!name || !json_is_array(jcs) || json_array_size(jcs) == 0) {
        snprintf(err, errlen, "table entry without name or columns");
        return SL_ECORRUPT;
    }
    struct cat_table *t = sl_calloc(1, sizeof(*t));
    if (!t || !(t->name = sl_strdup(name))) {
        sl_free(t);
        return SL_ENOMEM;
    }
    t->id = (uint32_t)json_integer_value(json_object_get(jt, "id"));
    t->db = d;
    t->deleted = json_is_true(json_object_get(jt, "deleted"));
    size_t i;
    json_t *jc;
    json_array_foreach(jcs, i, jc)
    {
        const char *cn = json_string_value(json_object_get(jc, "name"));
        const char *kind = json_string_value(json_object_get(jc, "kind"));
        const char *type = json_string_value(json_object_get(jc, "type"));
        enum cat_col_kind k;
        enum lp_type ty = LP_INTEGER;
        if (!cn || !kind) goto bad;
        if (!strcmp(kind, "time"))
            k = CAT_COL_TIME;
        else if (!strcmp(kind, "tag"))
            k = CAT_COL_TAG;
        else if (!strcmp(kind, "field")) {
            k = CAT_COL_FIELD;
            if (!type || parse_type(type, &ty) < 0) goto bad;
        } else
            goto bad;
        if ((i == 0) != (k == CAT_COL_TIME)) goto bad;
        int rc = cat_table_column_add(t, cn, strlen(cn), k, ty, NULL);
        if (rc < 0) {
            table_free(t);
            return rc;
        }
    }
    t->next_seq = (uint32_t)json_integer_value(json_object_get(jt, "next_seq"));
    json_t *jfs = json_object_get(jt, "files");
    json_t *jf;
    json_array_foreach(jfs, i, jf)
    {
        const char *path = json_string_value(json_object_get(jf, "path"));
        if (!path) goto bad;
        struct cat_file f = {
            .path = (char *)path,
            .part_start = json_integer_value(json_object_get(jf, "part_start")),
            /* absent in older catalogs: 0, which files_insert makes one hour */
            .part_len = json_integer_value(json_object_get(jf, "part_len")),
            .min_time = json_integer_value(json_object_get(jf, "min_time")),
            .max_time = json_integer_value(json_object_get(jf, "max_time")),
            .rows = (uint64_t)json_integer_value(json_object_get(jf, "rows")),
            .bytes = (uint64_t)json_integer_value(json_object_get(jf, "bytes")),
            .max_lsn = (uint64_t)json_integer_value(json_object_get(jf, "max_lsn")),
            .seq = (uint32_t)json_integer_value(json_object_get(jf, "seq")),
        };
        if (files_insert(t, &f) < 0) {
            table_free(t);
            return SL_ENOMEM;
        }
    }
    if (db_add_table(d, t) < 0) {
        table_free(t);
        return SL_ENOMEM;
    }
    return 0;
bad:
    snprintf(err, errlen, "table \"%s\": malformed column entry", name);
    table_free(t);
    return SL_ECORRUPT;
}

static int load(struct catalog *c, const char *text, size_t len, char *err, size_t errlen)
{
    json_error_t jerr;
    json_t *root = json_loadb(text, len, 0, &jerr);
    if (!root) {
        snprintf(err, errlen, "%s: line %d: %s", c->path, jerr.line, jerr.text);
        return SL_ECORRUPT;
    }
    int rc = 0;
    const char *fmt = json_string_value(json_object_get(root, "format"));
    json_t *dbs = json_object_get(root, "databases");
    if (!fmt || strcmp(fmt, "sluice-catalog") != 0 || !json_is_array(dbs)) {
        snprintf(err, errlen, "%s: not a sluice catalog", c->path);
        rc = SL_ECORRUPT;
        goto out;
    }
    c->next_id = (uint32_t)json_integer_value(json_object_get(root, "next_id"));
    size_t i;
    json_t *jd;
    json_array_foreach(dbs, i, jd)
    {
        const char *name = json_string_value(json_object_get(jd, "name"));
        json_t *jts = json_object_get(jd, "tables");
        if (!name || !json_is_array(jts)) {
            snprintf(err, errlen, "%s: database entry %zu is malformed", c->path, i);
            rc = SL_ECORRUPT;
            goto out;
        }
        struct cat_db *d = sl_calloc(1, sizeof(*d));
        if (!d || !(d->name = sl_strdup(name))) {
            sl_free(d);
            rc = SL_ENOMEM;
            goto out;
        }
        d->id = (uint32_t)json_integer_value(json_object_get(jd, "id"));
        d->retention_ns = json_integer_value(json_object_get(jd, "retention_ns"));
        d->created_ns = json_integer_value(json_object_get(jd, "created_ns"));
        d->deleted = json_is_true(json_object_get(jd, "deleted"));
        if ((rc = catalog_add_db(c, d)) < 0) {
            db_free(d);
            goto out;
        }
        size_t k;
        json_t *jt;
        json_array_foreach(jts, k, jt)
        {
            if ((rc = load_table(d, jt, err, errlen)) < 0) goto out;
        }
    }
out:
    json_decref(root);
    return rc;
}

int catalog_open(const char *dir, struct catalog **out, char *err, size_t errlen)
{
    struct catalog *c = sl_calloc(1, sizeof(*c));
    if (!c) return SL_ENOMEM;
    pthread_rwlock_init(&c->lock, NULL);
    c->next_id = 1;
    size_t n = strlen(dir) + sizeof(CATALOG_FILE) + 2;
    c->path = sl_malloc(n);
    if (!c->path) {
        catalog_close(c);
        return SL_ENOMEM;
    }
    snprintf(c->path, n, "%s/%s", dir, CATALOG_FILE);
    char *text = NULL;
    size_t len = 0;
    int rc = sl_file_read_all(c->path, CATALOG_MAX_BYTES, &text, &len);
    if (rc == SL_ENOENT) {
        rc = catalog_persist(c);
        if (rc < 0) snprintf(err, errlen, "cannot write %s", c->path);
    } else if (rc == 0) {
        rc = load(c, text, len, err, errlen);
    } else {
        snprintf(err, errlen, "cannot read %s: %s", c->path, sl_strerror(rc));
    }
    sl_free(text);
    if (rc < 0) {
        catalog_close(c);
        return rc;
    }
    *out = c;
    return 0;
}

void catalog_close(struct catalog *c)
{
    if (!c) return;
    for (size_t i = 0; i < c->ndbs; i++)
        db_free(c->dbs[i]);
    sl_free(c->dbs);
    sl_free(c->path);
    pthread_rwlock_destroy(&c->lock);
    sl_free(c);
}

int catalog_db_create(struct catalog *c, const char *name, size_t len, int64_t retention_ns,
                      struct cat_db **out)
{
    if (catalog_name_invalid(name, len)) return SL_EINVAL;
    if (catalog_db_get(c, name, len)) return SL_EEXIST;
    size_t live = 0;
    for (size_t i = 0; i < c->ndbs; i++)
        live += !c->dbs[i]->deleted;
    if (live >= CAT_MAX_DATABASES) return SL_ETOOBIG;
    struct cat_db *d = sl_calloc(1, sizeof(*d));
    if (!d || !(d->name = sl_strndup(name, len))) {
        sl_free(d);
        return SL_ENOMEM;
    }
    d->id = c->next_id++;
    d->retention_ns = retention_ns;
    d->created_ns = sl_now_ns();
    int rc = catalog_add_db(c, d);
    if (rc < 0) {
        db_free(d);
        return rc;
    }
    if ((rc = catalog_persist(c)) < 0) {
        c->ndbs--;
        db_free(d);
        return rc;
    }
    if (out) *out = d;
    return 0;
}

int catalog_db_drop(struct catalog *c, struct cat_db *db)
{
    db->deleted = 1;
    int rc = catalog_persist(c);
    if (rc < 0) db->deleted = 0;
    return rc;
}

int catalog_db_set_retention(struct catalog *c, struct cat_db *db, int64_t retention_ns)
{
    int64_t old = db->retention_ns;
    db->retention_ns = retention_ns;
    int rc = catalog_persist(c);
    if (rc < 0) db->retention_ns = old;
    return rc;
}

int catalog_table_create(struct catalog *c, struct cat_db *db, const char *name, size_t len,
                         struct cat_table **out)
{
    if (catalog_name_invalid(name, len)) return SL_EINVAL;
    size_t live = 0;
    for (size_t i = 0; i < db->ntables; i++)
        live += !db->tables[i]->deleted;
    if (live >= CAT_MAX_TABLES_PER_DB) return SL_ETOOBIG;
    struct cat_table *t = table_new(db, name, len, c->next_id);
    if (!t) return SL_ENOMEM;
    int rc = db_add_table(db, t);
    if (rc < 0) {
        table_free(t);
        return rc;
    }
    c->next_id++;
    if (out) *out = t;
    return 0; /* persisted by the caller together with the table's first columns */
}

int catalog_table_drop(struct catalog *c, struct cat_table *t)
{
    t->deleted = 1;
    int rc = catalog_persist(c);
    if (rc < 0) t->deleted = 0;
    return rc;
}
