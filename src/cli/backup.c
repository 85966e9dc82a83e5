/*
 * backup.c — `sluice backup`: copies a consistent snapshot of a running
 * server's databases into a local directory (see src/api/backup.c for how
 * the server makes the snapshot while it keeps taking writes).
 *
 * The client asks for a snapshot (POST /api/sluice/backup), downloads each
 * file of its manifest in chunks of at most BACKUP_CHUNK_MAX bytes (memory
 * stays bounded whatever the file size) into FILE.part while computing its
 * SHA-256, checks size and checksum against the manifest, fsyncs and renames
 * it into place, and writes manifest.json last: a directory without one is
 * not a complete backup. The snapshot is deleted on the server at the end,
 * also after a failure (and the server expires forgotten ones by itself).
 *
 * Backup directory layout (restore reads it, see restore.c):
 *   DIR/manifest.json   the server's manifest: files with size and SHA-256
 *   DIR/catalog.json    the catalog of the backed-up databases
 *   DIR/dbs/...         their Parquet files, as in a data directory
 *
 * Exit status: 0 success, 1 server, network or disk error, 2 usage error.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "api/api.h"
#include "cli/commands.h"
#include "cli/remote.h"
#include "common/err.h"
#include "common/fsutil.h"
#include "common/mem.h"

static void backup_usage(FILE *f)
{
    fprintf(f, "usage: sluice backup [options] DIR\n"
               "\n"
               "Copies a consistent snapshot of a running server's databases into DIR (created;\n"
               "it must be empty). Every write acknowledged before the backup starts is in it;\n"
               "the server keeps taking writes meanwhile. Each file is checked with SHA-256.\n"
               "Tokens are not backed up. Restore with 'sluice restore'.\n"
               "\n"
               "options:\n"
               "  --host URL       server (default http://localhost:8086, or $SLUICE_HOST)\n"
               "  --token T        admin token (default $SLUICE_TOKEN, then $INFLUX_TOKEN)\n"
               "  --db NAME        back up only this database (default: all)\n"
               "  --format F       summary as pretty (default) or json\n"
               "  -h, --help       this text\n"
               "\n"
               "exit status: 0 success, 1 server, network or disk error, 2 usage error\n");
}

static int dir_empty_or_absent(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d) return errno == ENOENT;
    struct dirent *de;
    int empty = 1;
    while ((de = readdir(d)))
        if (strcmp(de->d_name, ".") && strcmp(de->d_name, "..")) empty = 0;
    closedir(d);
    return empty;
}

/* Downloads one file of snapshot id into dir/rel; checks size and sha256. */
static int fetch_file(struct remote *r, const char *id, const char *dir, const char *rel,
                      uint64_t size, const char *sha)
{
    char final[4200], part[4300], parent[4200];
    if ((size_t)snprintf(final, sizeof(final), "%s/%s", dir, rel) >= sizeof(final)) {
        fprintf(stderr, "%s: path too long: %s/%s\n", r->cmd, dir, rel);
        return REMOTE_FAIL;
    }
    snprintf(part, sizeof(part), "%s.part", final);
    snprintf(parent, sizeof(parent), "%s", final);
    *strrchr(parent, '/') = 0;
    if (sl_mkdirs(parent, 1) < 0) {
        fprintf(stderr, "%s: cannot create %s: %s\n", r->cmd, parent, strerror(errno));
        return REMOTE_FAIL;
    }
    int fd = open(part, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0) {
        fprintf(stderr, "%s: cannot create %s: %s\n", r->cmd, part, strerror(errno));
        return REMOTE_FAIL;
    }
    char *esc = sl_admin_escape(rel);
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    int rc = esc && ctx && EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) == 1 ? 0 : REMOTE_FAIL;
    uint64_t off = 0;
    char path[8400], what[4400];
    snprintf(what, sizeof(what), "download %s", rel);
    while (rc == 0 && off < size) {
        long status;
        char *body = NULL;
        size_t len = 0;
        snprintf(path, sizeof(path), "/api/sluice/backup/%s/file?path=%s&offset=%llu&length=%zu",
                 id, esc, (unsigned long long)off, BACKUP_CHUNK_MAX);
        int e = sl_admin_request(r->a, "GET", path, NULL, 0, BACKUP_CHUNK_MAX + 1, &status, &body,
                                 &len);
        if (e < 0) {
            if (status)
                fprintf(stderr, "%s: %s: HTTP %ld: %.*s\n", r->cmd, what, status,
                        (int)(len > 500 ? 500 : len), body ? body : "");
            else
                fprintf(stderr, "%s: %s: %s: %.*s\n", r->cmd, what, sl_strerror(e),
                        (int)(len > 500 ? 500 : len), body ? body : "");
            rc = REMOTE_FAIL;
        } else if (len == 0 || off + len > size) {
            fprintf(stderr, "%s: %s: the server sent %s at offset %llu (file size %llu)\n", r->cmd,
                    what, len ? "too much" : "nothing", (unsigned long long)off,
                    (unsigned long long)size);
            rc = REMOTE_FAIL;
        } else if (sl_write_full(fd, body, len) < 0) {
            fprintf(stderr, "%s: cannot write %s: %s\n", r->cmd, part, strerror(errno));
            rc = REMOTE_FAIL;
        } else {
            EVP_DigestUpdate(ctx, body, len);
            off += len;
        }
        sl_free(body);
    }
    unsigned char md[32];
    unsigned int mdlen = 0;
    char hex[65] = "";
    if (rc == 0 && EVP_DigestFinal_ex(ctx, md, &mdlen) == 1 && mdlen == 32) api_sha256_hex(md, hex);
    if (rc == 0 && strcmp(hex, sha) != 0) {
        fprintf(stderr, "%s: %s: checksum mismatch (sha256 %s, manifest says %s)\n", r->cmd, what,
                hex, sha);
        rc = REMOTE_FAIL;
    }
    if (rc == 0 && sl_fsync(fd) < 0) {
        fprintf(stderr, "%s: cannot sync %s: %s\n", r->cmd, part, strerror(errno));
        rc = REMOTE_FAIL;
    }
    if (close(fd) != 0 && rc == 0) rc = REMOTE_FAIL;
    if (rc == 0 && rename(part, final) != 0) {
        fprintf(stderr, "%s: cannot rename %s: %s\n", r->cmd, part, strerror(errno));
        rc = REMOTE_FAIL;
    }
    if (rc == 0) sl_fsync_dir(final);
    if (rc) unlink(part);
    EVP_MD_CTX_free(ctx);
    sl_free(esc);
    return rc;
}

int cmd_backup(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"host", required_argument, 0, 'H'}, {"token", required_argument, 0, 't'},
        {"db", required_argument, 0, 'd'},   {"format", required_argument, 0, 'f'},
        {"help", no_argument, 0, 'h'},       {0, 0, 0, 0},
    };
    struct remote r;
    const char *db = NULL;
    int opt;
    remote_init(&r, "sluice backup");
    optind = 1;
    opterr = 0;
    while ((opt = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
        switch (opt) {
        case 'H': r.host = optarg; break;
        case 't': r.token = optarg; break;
        case 'd': db = optarg; break;
        case 'f':
            if (remote_set_format(&r, optarg)) return REMOTE_USAGE;
            break;
        case 'h': backup_usage(stdout); return 0;
        default:
            fprintf(stderr, "sluice backup: unknown or incomplete option '%s'\n\n",
                    argv[optind - 1]);
            backup_usage(stderr);
            return REMOTE_USAGE;
        }
    }
    if (optind != argc - 1 || !*argv[optind] || (db && !*db)) {
        fprintf(stderr, "sluice backup: %s\n\n",
                db && !*db ? "--db needs a name" : "give exactly one backup directory");
        backup_usage(stderr);
        return REMOTE_USAGE;
    }
    const char *dir = argv[optind];
    if (!dir_empty_or_absent(dir)) {
        fprintf(stderr, "sluice backup: %s exists and is not empty; give a new directory\n", dir);
        return REMOTE_FAIL;
    }
    int created = access(dir, F_OK) != 0;
    if (sl_mkdirs(dir, 1) < 0) {
        fprintf(stderr, "sluice backup: cannot create %s: %s\n", dir, strerror(errno));
        return REMOTE_FAIL;
    }
    if (remote_open(&r)) return REMOTE_FAIL;
    json_t *man = NULL;
    char path[1200];
    char *esc = db ? sl_admin_escape(db) : NULL;
    snprintf(path, sizeof(path), "/api/sluice/backup%s%.1000s", esc ? "?db=" : "", esc ? esc : "");
    sl_free(esc);
    int rc = remote_call(&r, "create a snapshot", "POST", path, NULL, &man, NULL);
    const char *id = json_string_value(json_object_get(man, "id"));
    json_t *files = json_object_get(man, "files");
    const char *fmt = json_string_value(json_object_get(man, "format"));
    if (rc == 0 && (!id || !json_is_array(files) || !fmt || strcmp(fmt, "sluice-backup") != 0)) {
        fprintf(stderr, "sluice backup: the server's answer is not a backup manifest\n");
        rc = REMOTE_FAIL;
    }
    uint64_t total = 0;
    size_t i;
    json_t *jf;
    json_array_foreach(files, i, jf)
    {
        if (rc) break;
        const char *rel = json_string_value(json_object_get(jf, "path"));
        const char *sha = json_string_value(json_object_get(jf, "sha256"));
        json_int_t size = json_integer_value(json_object_get(jf, "size"));
        if (!rel || !api_backup_path_ok(rel) || !strcmp(rel, "manifest.json") || !sha ||
            strlen(sha) != 64 || size < 0) {
            fprintf(stderr, "sluice backup: the manifest has an invalid entry (%s)\n",
                    rel ? rel : "no path");
            rc = REMOTE_FAIL;
            break;
        }
        rc = fetch_file(&r, id, dir, rel, (uint64_t)size, sha);
        total += (uint64_t)size;
    }
    if (rc == 0) {
        char *text = json_dumps(man, JSON_INDENT(1));
        snprintf(path, sizeof(path), "%.1000s/manifest.json", dir);
        if (!text || sl_file_write_atomic(path, text, strlen(text), 0600) < 0) {
            fprintf(stderr, "sluice backup: cannot write %s\n", path);
            rc = REMOTE_FAIL;
        }
        free(text);
    }
    if (id) { /* the snapshot pins disk space on the server: release it now */
        snprintf(path, sizeof(path), "/api/sluice/backup/%.64s", id);
        if (remote_call(&r, "remove the snapshot on the server", "DELETE", path, NULL, NULL, NULL))
            fprintf(stderr, "sluice backup: the server will expire snapshot %s by itself\n", id);
    }
    if (rc == 0) {
        json_t *dbs = json_object_get(man, "databases");
        if (r.json) {
            json_t *o =
                json_pack("{s:s,s:O,s:i,s:I,s:s}", "directory", dir, "databases", dbs, "files",
                          (int)json_array_size(files), "bytes", (json_int_t)total, "id", id);
            remote_print_json(stdout, o);
            json_decref(o);
        } else {
            printf("backup complete: %zu database%s, %zu files, %llu bytes in %s\n",
                   json_array_size(dbs), json_array_size(dbs) == 1 ? "" : "s",
                   json_array_size(files), (unsigned long long)total, dir);
        }
    } else if (man) {
        fprintf(stderr, "sluice backup: failed; %s is incomplete (no manifest.json)\n", dir);
    } else if (created) {
        rmdir(dir); /* nothing was downloaded */
    }
    json_decref(man);
    remote_close(&r);
    return rc;
}
