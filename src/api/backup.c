/*
 * backup.c — online backup: consistent snapshots of the data directory that
 * a client downloads while the server keeps taking writes (admin only).
 *
 *   POST   /api/sluice/backup[?db=NAME][&ttl=SECS]  make a snapshot; 201 + manifest
 *   GET    /api/sluice/backup                       list snapshots (manifests, no files)
 *   GET    /api/sluice/backup/ID                    the manifest
 *   GET    /api/sluice/backup/ID/file?path=P&offset=O&length=N
 *                                                   up to BACKUP_CHUNK_MAX bytes of a file
 *   DELETE /api/sluice/backup/ID                    remove the snapshot (204)
 *
 * Making a snapshot:
 *   1. persist every buffered partition (storage_persist, forced): each write
 *      acknowledged before the request is then in a registered Parquet file;
 *   2. under the catalog read lock — no file can be registered, compacted
 *      away or expired meanwhile — read catalog.json (on disk it always equals
 *      the in-memory catalog under the lock: every change is persisted under
 *      the write lock), and hard-link each live Parquet file it lists for the
 *      chosen databases into DATA/snapshots/ID/ (copying when a link is not
 *      possible); write the catalog, cut down to those databases, beside them;
 *   3. outside the lock, checksum every file (SHA-256) and write
 *      manifest.json last (atomically): a snapshot without one is incomplete.
 * Parquet files are immutable once registered and compaction/retention only
 * unlink their names, so the links stay valid whatever happens to the
 * originals. Writes that arrive after step 1 may or may not be in the backup.
 *
 * Tokens are not part of a backup (as in InfluxDB's portable backups): a
 * restore that brought back old tokens could revive revoked credentials, and
 * the restored server makes a new operator token when it has none.
 *
 * Snapshots hold disk space (the links pin files that compaction replaced),
 * so they expire: a snapshot not accessed for its ttl (default one hour), a
 * snapshot made by an earlier server process, and an incomplete one are
 * removed at the next backup request, and api_backup_remove_all() clears
 * them all (at start-up).
 *
 * manifest.json:
 *   {"format":"sluice-backup","version":1,"id":"...","created":"RFC 3339",
 *    "created_ns":N,"server_version":"0.1.0","server_started_ns":N,"ttl_s":3600,
 *    "databases":["a","b"],"tokens_included":false,
 *    "files":[{"path":"catalog.json","size":N,"sha256":"hex"},
 *             {"path":"dbs/a/cpu/2024-01-01/00-00-000001.parquet",...},...]}
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "api/api.h"
#include "common/err.h"
#include "common/fsutil.h"
#include "common/log.h"
#include "common/mem.h"
#include "common/timeutil.h"
#include "storage/persist.h"

#define BACKUP_SNAP_DIR      "snapshots"
#define BACKUP_TTL_DEFAULT_S 3600
#define BACKUP_TTL_MAX_S     (7 * 86400)
#define BACKUP_CATALOG_MAX   ((size_t)256 << 20)
#define BACKUP_MANIFEST_MAX  ((size_t)256 << 20)

/* Snapshot creation, deletion and expiry take turns. */
static pthread_mutex_t backup_mu = PTHREAD_MUTEX_INITIALIZER;

/* ---- helpers shared with the CLI ---- */

int api_backup_path_ok(const char *rel)
{
    if (!rel || !*rel || rel[0] == '/' || strlen(rel) > 3000) return 0;
    const char *p = rel;
    while (*p) {
        const char *e = strchr(p, '/');
        size_t n = e ? (size_t)(e - p) : strlen(p);
        if (n == 0 || (n == 1 && p[0] == '.') || (n == 2 && p[0] == '.' && p[1] == '.')) return 0;
        for (size_t i = 0; i < n; i++)
            if ((unsigned char)p[i] < 0x20 || p[i] == '\\') return 0;
        p += n;
        if (*p == '/') p++;
        if (e && !*p) return 0; /* trailing slash */
    }
    return 1;
}

void api_sha256_hex(const unsigned char md[32], char hex[65])
{
    static const char digits[] = "0123456789abcdef";
    for (int i = 0; i < 32; i++) {
        hex[2 * i] = digits[md[i] >> 4];
        hex[2 * i + 1] = digits[md[i] & 15];
    }
    hex[64] = 0;
}

int api_sha256_file(const char *path, char hex[65], uint64_t *size)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return errno == ENOENT ? SL_ENOENT : SL_EIO;
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    unsigned char *buf = sl_malloc(1 << 20);
    int rc = ctx && buf ? 0 : SL_ENOMEM;
    uint64_t total = 0;
    if (rc == 0 && EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) != 1) rc = SL_EIO;
    while (rc == 0) {
        ssize_t n = read(fd, buf, 1 << 20);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) rc = SL_EIO;
        if (n <= 0) break;
        total += (uint64_t)n;
        if (EVP_DigestUpdate(ctx, buf, (size_t)n) != 1) rc = SL_EIO;
    }
    unsigned char md[32];
    unsigned int mdlen = 0;
    if (rc == 0 && (EVP_DigestFinal_ex(ctx, md, &mdlen) != 1 || mdlen != 32)) rc = SL_EIO;
    if (rc == 0) {
        api_sha256_hex(md, hex);
        *size = total;
    }
    EVP_MD_CTX_free(ctx);
    sl_free(buf);
    close(fd);
    return rc;
}

int api_data_dir_lock(const char *dir, int *fd_out)
{
    char path[4200];
    *fd_out = -1;
    if ((size_t)snprintf(path, sizeof(path), "%s/LOCK", dir) >= sizeof(path)) return SL_EINVAL;
    int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0) return errno == ENOENT ? SL_ENOENT : SL_EIO;
    if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
        int busy = errno == EWOULDBLOCK;
        close(fd);
        return busy ? SL_EBUSY : SL_EIO;
    }
    *fd_out = fd;
    return 0;
}

/* ---- snapshot directory ---- */

static int snap_dir(const struct api_server *s, const char *id, char *out, size_t cap)
{
    int n = id ? snprintf(out, cap, "%s/" BACKUP_SNAP_DIR "/%s", s->eng->data_dir, id)
               : snprintf(out, cap, "%s/" BACKUP_SNAP_DIR, s->eng->data_dir);
    return n > 0 && (size_t)n < cap ? 0 : SL_ETOOBIG;
}

static int id_ok(const char *id, size_t n)
{
    if (n != 24) return 0;
    for (size_t i = 0; i < n; i++)
        if (!((id[i] >= '0' && id[i] <= '9') || (id[i] >= 'a' && id[i] <= 'f'))) return 0;
    return 1;
}

static json_t *manifest_load(const char *dir)
{
    char path[4300], *text = NULL;
    size_t len;
    snprintf(path, sizeof(path), "%s/manifest.json", dir);
    if (sl_file_read_all(path, BACKUP_MANIFEST_MAX, &text, &len) < 0) return NULL;
    json_t *j = json_loadb(text, len, 0, NULL);
    sl_free(text);
    if (j && !json_is_object(j)) {
        json_decref(j);
        j = NULL;
    }
    return j;
}

/* Marks a snapshot as used now (its expiry counts from the last access). */
static void manifest_touch(const char *dir)
{
    char path[4300];
    snprintf(path, sizeof(path), "%s/manifest.json", dir);
    utimensat(AT_FDCWD, path, NULL, 0);
}

int api_backup_remove_all(const char *data_dir)
{
    char path[4200];
    snprintf(path, sizeof(path), "%s/" BACKUP_SNAP_DIR, data_dir);
    return sl_remove_tree(path);
}

/* Removes expired, foreign and incomplete snapshots. Caller holds backup_mu. */
static void sweep(struct api_server *s)
{
    char root[4200], dir[4500], mpath[4600];
    if (snap_dir(s, NULL, root, sizeof(root)) < 0) return;
    DIR *d = opendir(root);
    if (!d) return;
    struct dirent *de;
    int64_t now = sl_now_ns();
    while ((de = readdir(d))) {
        if (de->d_name[0] == '.') continue;
        snprintf(dir, sizeof(dir), "%s/%s", root, de->d_name);
        json_t *m = manifest_load(dir);
        const char *why = NULL;
        struct stat st;
        snprintf(mpath, sizeof(mpath), "%s/manifest.json", dir);
        if (!m || stat(mpath, &st) != 0) {
            why = "incomplete";
        } else {
            int64_t started = json_integer_value(json_object_get(m, "server_started_ns"));
            int64_t ttl = json_integer_value(json_object_get(m, "ttl_s"));
            int64_t age = now - ((int64_t)st.st_mtim.tv_sec * SL_NS_PER_S + st.st_mtim.tv_nsec);
            if (started != s->eng->started_ns)
                why = "made by an earlier server process";
            else if (ttl > 0 && age > ttl * SL_NS_PER_S)
                why = "expired";
        }
        json_decref(m);
        if (why) {
            sl_remove_tree(dir);
            sl_info("backup", "removed snapshot %s (%s)", de->d_name, why);
        }
    }
    closedir(d);
}

/* ---- making a snapshot ---- */

static int copy_file(const char *from, const char *to)
{
    int in = open(from, O_RDONLY | O_CLOEXEC);
    if (in < 0) return errno == ENOENT ? SL_ENOENT : SL_EIO;
    int out = open(to, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (out < 0) {
        close(in);
        return SL_EIO;
    }
    char *buf = sl_malloc(1 << 20);
    int rc = buf ? 0 : SL_ENOMEM;
    while (rc == 0) {
        ssize_t n = read(in, buf, 1 << 20);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) rc = SL_EIO;
        if (n <= 0) break;
        rc = sl_write_full(out, buf, (size_t)n);
    }
    sl_free(buf);
    close(in);
    if (close(out) != 0 && rc == 0) rc = SL_EIO;
    return rc;
}

/* Links DATA/rel to SNAP/rel (copies when linking is not possible). */
static int link_one(const char *data_dir, const char *snap, const char *rel)
{
    char from[4200], to[4200], parent[4200];
    if (!api_backup_path_ok(rel)) return SL_ECORRUPT;
    snprintf(from, sizeof(from), "%s/%s", data_dir, rel);
    if ((size_t)snprintf(to, sizeof(to), "%s/%s", snap, rel) >= sizeof(to)) return SL_ETOOBIG;
    snprintf(parent, sizeof(parent), "%s", to);
    *strrchr(parent, '/') = 0;
    int rc = sl_mkdirs(parent, 1);
    if (rc < 0) return rc;
    if (link(from, to) == 0) return 0;
    if (errno == ENOENT) return SL_ENOENT;
    if (errno == EEXIST) return 0; /* listed twice */
    return copy_file(from, to);
}

/* Keeps the chosen, live databases and tables of the catalog and links
 * their files into snap. Caller holds the catalog read lock. */
static int snapshot_files(struct api_server *s, json_t *cat, const char *only, const char *snap,
                          json_t *names, json_t *files, char *err, size_t errlen)
{
    json_t *dbs = json_object_get(cat, "databases");
    if (!json_is_array(dbs)) {
        snprintf(err, errlen, "catalog.json is not a sluice catalog");
        return SL_ECORRUPT;
    }
    json_t *keep = json_array();
    size_t i;
    json_t *jd;
    int rc = 0;
    json_array_foreach(dbs, i, jd)
    {
        const char *name = json_string_value(json_object_get(jd, "name"));
        if (!name || json_is_true(json_object_get(jd, "deleted"))) continue;
        if (only && strcmp(only, name) != 0) continue;
        json_t *tables = json_object_get(jd, "tables"), *kt = json_array();
        size_t k;
        json_t *jt;
        json_array_foreach(tables, k, jt)
        {
            if (rc < 0) break;
            if (json_is_true(json_object_get(jt, "deleted"))) continue;
            size_t f;
            json_t *jf;
            json_array_foreach(json_object_get(jt, "files"), f, jf)
            {
                const char *rel = json_string_value(json_object_get(jf, "path"));
                rc = link_one(s->eng->data_dir, snap, rel ? rel : "");
                if (rc < 0) {
                    snprintf(err, errlen, "cannot take data file %.300s: %s", rel ? rel : "?",
                             sl_strerror(rc));
                    break;
                }
                json_array_append_new(files, json_string(rel));
            }
            json_array_append(kt, jt);
        }
        json_object_set_new(jd, "tables", kt);
        json_array_append(keep, jd);
        json_array_append_new(names, json_string(name));
        if (rc < 0) break;
    }
    json_object_set_new(cat, "databases", keep);
    return rc;
}

static void backup_create(struct api_server *s, struct http_req *req, struct http_resp *resp)
{
    const char *only = http_query(req, "db");
    const char *ttl_s = http_query(req, "ttl");
    long ttl = ttl_s ? strtol(ttl_s, NULL, 10) : BACKUP_TTL_DEFAULT_S;
    if (ttl <= 0 || ttl > BACKUP_TTL_MAX_S) {
        http_resp_error(resp, 400, "ttl must be 1..604800 seconds");
        return;
    }
    if (only && !*only) only = NULL;
    char id[25], snap[4200], path[4400], err[600] = "";
    unsigned char rnd[4] = {0};
    RAND_bytes(rnd, sizeof(rnd));
    int64_t now = sl_now_ns();
    snprintf(id, sizeof(id), "%016llx%02x%02x%02x%02x", (unsigned long long)now, rnd[0], rnd[1],
             rnd[2], rnd[3]);
    json_t *cat = NULL, *names = json_array(), *rels = json_array(), *man = NULL;
    char *text = NULL;
    size_t len = 0;
    int status = 500, rc;

    pthread_mutex_lock(&backup_mu);
    sweep(s);
    /* 1. everything acknowledged so far goes into Parquet files */
    if ((rc = storage_persist(s->eng, 1)) < 0) {
        snprintf(err, sizeof(err), "cannot persist the write buffer: %s", sl_strerror(rc));
        goto out;
    }
    if ((rc = snap_dir(s, id, snap, sizeof(snap))) < 0 || (rc = sl_mkdirs(snap, 1)) < 0) {
        snprintf(err, sizeof(err), "cannot create the snapshot directory: %s", sl_strerror(rc));
        goto out;
    }
    /* 2. the catalog and its files, as of one moment */
    catalog_rdlock(s->eng->catalog);
    if (only && !catalog_db_get(s->eng->catalog, only, strlen(only))) {
        catalog_unlock(s->eng->catalog);
        snprintf(err, sizeof(err), "database not found: \"%.400s\"", only);
        status = 404;
        goto out;
    }
    rc = sl_file_read_all(s->eng->catalog->path, BACKUP_CATALOG_MAX, &text, &len);
    json_error_t je;
    if (rc == 0 && !(cat = json_loadb(text, len, 0, &je))) rc = SL_ECORRUPT;
    if (rc < 0)
        snprintf(err, sizeof(err), "cannot read the catalog: %s", sl_strerror(rc));
    else
        rc = snapshot_files(s, cat, only, snap, names, rels, err, sizeof(err));
    catalog_unlock(s->eng->catalog);
    if (rc < 0) goto out;
    sl_free(text);
    text = json_dumps(cat, JSON_INDENT(1));
    snprintf(path, sizeof(path), "%s/catalog.json", snap);
    if (!text || (rc = sl_file_write_atomic(path, text, strlen(text), 0600)) < 0) {
        snprintf(err, sizeof(err), "cannot write the snapshot's catalog");
        goto out;
    }
    /* 3. checksums, then the manifest */
    char created[48];
    sl_time_format_rfc3339(now, created);
    json_t *files = json_array();
    man = json_pack("{s:s,s:i,s:s,s:s,s:I,s:s,s:I,s:i,s:O,s:b,s:o}", "format", "sluice-backup",
                    "version", 1, "id", id, "created", created, "created_ns", (json_int_t)now,
                    "server_version", s->version ? s->version : "", "server_started_ns",
                    (json_int_t)s->eng->started_ns, "ttl_s", (int)ttl, "databases", names,
                    "tokens_included", 0, "files", files);
    if (!man) {
        rc = SL_ENOMEM;
        snprintf(err, sizeof(err), "out of memory");
        goto out;
    }
    json_t *all = json_array();
    json_array_append_new(all, json_string("catalog.json"));
    json_array_extend(all, rels);
    size_t i;
    json_t *jr;
    uint64_t total = 0;
    json_array_foreach(all, i, jr)
    {
        char hex[65];
        uint64_t size = 0;
        snprintf(path, sizeof(path), "%s/%s", snap, json_string_value(jr));
        if ((rc = api_sha256_file(path, hex, &size)) < 0) {
            snprintf(err, sizeof(err), "cannot checksum %.300s: %s", json_string_value(jr),
                     sl_strerror(rc));
            break;
        }
        total += size;
        json_array_append_new(
            files, json_pack("{s:O,s:I,s:s}", "path", jr, "size", (json_int_t)size, "sha256", hex));
    }
    json_decref(all);
    if (rc < 0) goto out;
    sl_free(text);
    text = json_dumps(man, JSON_INDENT(1));
    snprintf(path, sizeof(path), "%s/manifest.json", snap);
    if (!text || (rc = sl_file_write_atomic(path, text, strlen(text), 0600)) < 0) {
        snprintf(err, sizeof(err), "cannot write the snapshot's manifest");
        goto out;
    }
    sl_info("backup", "snapshot %s: %zu databases, %zu files, %llu bytes", id,
            json_array_size(names), json_array_size(files), (unsigned long long)total);
    status = 201;
out:
    if (status != 201 && snap_dir(s, id, snap, sizeof(snap)) == 0) sl_remove_tree(snap);
    pthread_mutex_unlock(&backup_mu);
    if (status == 201) {
        resp->status = 201;
        resp->content_type = "application/json";
        sl_buf_adds(&resp->body, text);
        sl_buf_addc(&resp->body, '\n');
    } else {
        if (status == 500) sl_error("backup", "snapshot failed: %s", err);
        http_resp_error(resp, status, err);
    }
    sl_free(text);
    json_decref(cat);
    json_decref(names);
    json_decref(rels);
    json_decref(man);
}

/* ---- reading a snapshot ---- */

static void backup_list(struct api_server *s, struct http_resp *resp)
{
    char root[4200], dir[4500];
    json_t *arr = json_array();
    if (snap_dir(s, NULL, root, sizeof(root)) == 0) {
        DIR *d = opendir(root);
        struct dirent *de;
        while (d && (de = readdir(d))) {
            if (de->d_name[0] == '.') continue;
            snprintf(dir, sizeof(dir), "%s/%s", root, de->d_name);
            json_t *m = manifest_load(dir);
            if (!m) continue;
            json_t *o = json_pack("{s:O,s:O,s:O,s:i}", "id", json_object_get(m, "id"), "created",
                                  json_object_get(m, "created"), "databases",
                                  json_object_get(m, "databases"), "files",
                                  (int)json_array_size(json_object_get(m, "files")));
            if (o) json_array_append_new(arr, o);
            json_decref(m);
        }
        if (d) closedir(d);
    }
    char *text = json_dumps(arr, JSON_COMPACT);
    json_decref(arr);
    resp->status = 200;
    resp->content_type = "application/json";
    sl_buf_adds(&resp->body, text ? text : "[]");
    sl_buf_addc(&resp->body, '\n');
    free(text);
}

static void backup_chunk(struct http_req *req, struct http_resp *resp, const char *snap)
{
    const char *rel = http_query(req, "path");
    const char *off_s = http_query(req, "offset"), *len_s = http_query(req, "length");
    char path[8400], *end;
    if (!rel || !api_backup_path_ok(rel)) {
        http_resp_error(resp, 400,
                        "parameter \"path\" must be a relative path inside the snapshot");
        return;
    }
    unsigned long long off = off_s ? strtoull(off_s, &end, 10) : 0;
    if (off_s && (*end || off_s[0] == '-')) {
        http_resp_error(resp, 400, "invalid offset");
        return;
    }
    unsigned long long want = len_s ? strtoull(len_s, &end, 10) : BACKUP_CHUNK_MAX;
    if (len_s && (*end || len_s[0] == '-')) {
        http_resp_error(resp, 400, "invalid length");
        return;
    }
    if (want > BACKUP_CHUNK_MAX) want = BACKUP_CHUNK_MAX;
    snprintf(path, sizeof(path), "%s/%s", snap, rel);
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        if (fd >= 0) close(fd);
        http_resp_error(resp, 404, "no such file in the snapshot");
        return;
    }
    unsigned long long size = (unsigned long long)st.st_size;
    size_t n = off >= size ? 0 : (size_t)(size - off < want ? size - off : want);
    int rc = sl_buf_reserve(&resp->body, n + 1);
    if (rc == 0 && n) rc = sl_pread_full(fd, resp->body.ptr, n, (off_t)off);
    close(fd);
    if (rc < 0) {
        http_resp_error(resp, 500, sl_strerror(rc));
        return;
    }
    resp->body.len = n;
    resp->body.ptr[n] = 0;
    resp->status = 200;
    resp->content_type = "application/octet-stream";
    char v[32];
    snprintf(v, sizeof(v), "%llu", size);
    http_resp_header(resp, "X-Sluice-File-Size", v);
}

void api_backup(struct api_server *s, struct http_req *req, struct http_resp *resp)
{
    struct api_auth a;
    api_authenticate(s, req, &a);
    if (!a.ok) {
        api_unauthorized(resp, API_V3);
        return;
    }
    if (!a.grant.admin) {
        http_resp_error(resp, 403, "an admin token is required");
        return;
    }
    const char *m = req->method, *rest = req->path + strlen("/api/sluice/backup");
    int get = !strcmp(m, "GET") || !strcmp(m, "HEAD");
    if (!*rest || !strcmp(rest, "/")) {
        if (!strcmp(m, "POST")) return backup_create(s, req, resp);
        if (get) return backup_list(s, resp);
        http_resp_error(resp, 405, "method not allowed");
        return;
    }
    if (*rest != '/') {
        http_resp_error(resp, 404, "no such backup endpoint");
        return;
    }
    rest++;
    const char *slash = strchr(rest, '/');
    size_t idlen = slash ? (size_t)(slash - rest) : strlen(rest);
    char id[25], snap[4200];
    if (!id_ok(rest, idlen) || (slash && strcmp(slash, "/file") != 0)) {
        http_resp_error(resp, 404, "no such snapshot");
        return;
    }
    memcpy(id, rest, idlen);
    id[idlen] = 0;
    if (snap_dir(s, id, snap, sizeof(snap)) < 0) {
        http_resp_error(resp, 404, "no such snapshot");
        return;
    }
    if (!strcmp(m, "DELETE") && !slash) {
        pthread_mutex_lock(&backup_mu);
        struct stat st;
        int found = stat(snap, &st) == 0;
        if (found) sl_remove_tree(snap);
        pthread_mutex_unlock(&backup_mu);
        if (found) {
            sl_info("backup", "snapshot %s removed", id);
            resp->status = 204;
        } else
            http_resp_error(resp, 404, "no such snapshot");
        return;
    }
    if (!get) {
        http_resp_error(resp, 405, "method not allowed");
        return;
    }
    json_t *man = manifest_load(snap);
    if (!man) {
        http_resp_error(resp, 404, "no such snapshot (expired or removed?)");
        return;
    }
    manifest_touch(snap);
    if (slash) {
        json_decref(man);
        return backup_chunk(req, resp, snap);
    }
    char *text = json_dumps(man, JSON_INDENT(1));
    json_decref(man);
    resp->status = 200;
    resp->content_type = "application/json";
    sl_buf_adds(&resp->body, text ? text : "{}");
    sl_buf_addc(&resp->body, '\n');
    free(text);
}
