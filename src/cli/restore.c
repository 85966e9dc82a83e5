/*
 * restore.c — `sluice restore`: puts the databases of a backup (made by
 * `sluice backup`, see backup.c) into the data directory of a stopped server.
 *
 * Order of work, so that nothing is half-done:
 *   1. read the backup's manifest and verify every file (size and SHA-256)
 *      before anything is written: a damaged backup is refused as a whole;
 *   2. make sure no server uses the data directory: take the LOCK flock
 *      (api_data_dir_lock) and look for processes that hold files of the
 *      directory open (/proc/PID/fd), and refuse if any does;
 *   3. plan: each restored database gets fresh catalog ids (above every id
 *      the target catalog has used, so WAL records of the target can never
 *      apply to it) and, under --new-name, paths under its new name; a
 *      database whose name is live in the target is refused, so other
 *      databases are never touched;
 *   4. copy each Parquet file to DATA/path.tmp (checksummed again while
 *      copying), fsync, rename, fsync the directory;
 *   5. publish: write the merged catalog.json atomically (tmp, fsync, rename,
 *      fsync dir). Until this step the target's catalog does not know the
 *      new files; a crash before it leaves unregistered files, which the
 *      server deletes at start-up as orphans, and the directory as it was.
 *
 * Tokens are not restored (backups do not contain them). A fresh data
 * directory gets a new operator token when the server first starts.
 *
 * Exit status: 0 success, 1 refused or failed (nothing published), 2 usage.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <jansson.h>
#include <limits.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "api/api.h"
#include "catalog/catalog.h"
#include "cli/commands.h"
#include "common/buf.h"
#include "common/err.h"
#include "common/fsutil.h"
#include "common/mem.h"
#include "storage/persist.h"

#define RESTORE_JSON_MAX ((size_t)256 << 20)

static void restore_usage(FILE *f)
{
    fprintf(f,
            "usage: sluice restore --data-dir DATA [options] BACKUP_DIR\n"
            "\n"
            "Restores the databases of a backup made by 'sluice backup' into the data directory\n"
            "of a stopped server (a new one, or an existing one: other databases are kept).\n"
            "Every file is checked against the backup's SHA-256 checksums before anything is\n"
            "written. A database whose name already exists in DATA is refused. Tokens are not\n"
            "restored.\n"
            "\n"
            "options:\n"
            "  --data-dir DIR   the server's data directory (required; created if missing)\n"
            "  --db NAME        restore only this database of the backup\n"
            "  --new-name NAME  restore it under this name (needs --db, or a backup of one\n"
            "                   database)\n"
            "  -h, --help       this text\n"
            "\n"
            "exit status: 0 success, 1 refused or failed (nothing was restored), 2 usage error\n");
}

static json_t *load_json(const char *path, char *err, size_t errlen)
{
    char *text = NULL;
    size_t len;
    int rc = sl_file_read_all(path, RESTORE_JSON_MAX, &text, &len);
    if (rc < 0) {
        snprintf(err, errlen, "cannot read %s: %s", path, sl_strerror(rc));
        return NULL;
    }
    json_error_t je;
    json_t *j = json_loadb(text, len, 0, &je);
    sl_free(text);
    if (!j || !json_is_object(j)) {
        snprintf(err, errlen, "%s is not valid JSON: %s", path, j ? "not an object" : je.text);
        json_decref(j);
        return NULL;
    }
    return j;
}

/* Step 1: every file of the manifest is there, with its size and checksum. */
static int verify_backup(const char *bdir, json_t *man)
{
    json_t *files = json_object_get(man, "files");
    size_t i;
    json_t *jf;
    int bad = 0, have_catalog = 0;
    json_array_foreach(files, i, jf)
    {
        const char *rel = json_string_value(json_object_get(jf, "path"));
        const char *sha = json_string_value(json_object_get(jf, "sha256"));
        json_int_t size = json_integer_value(json_object_get(jf, "size"));
        char path[4300], hex[65];
        uint64_t got = 0;
        if (!rel || !sha || !api_backup_path_ok(rel)) {
            fprintf(stderr, "sluice restore: the manifest has an invalid entry (%s)\n",
                    rel ? rel : "no path");
            bad = 1;
            continue;
        }
        have_catalog |= !strcmp(rel, "catalog.json");
        snprintf(path, sizeof(path), "%s/%s", bdir, rel);
        int rc = api_sha256_file(path, hex, &got);
        if (rc < 0) {
            fprintf(stderr, "sluice restore: backup file %s is %s\n", rel,
                    rc == SL_ENOENT ? "missing" : "unreadable");
            bad = 1;
        } else if ((json_int_t)got != size) {
            fprintf(stderr,
                    "sluice restore: backup file %s is damaged: %llu bytes, expected %lld\n", rel,
                    (unsigned long long)got, (long long)size);
            bad = 1;
        } else if (strcmp(hex, sha) != 0) {
            fprintf(stderr,
                    "sluice restore: backup file %s is damaged: sha256 %s does not match the "
                    "manifest's %s\n",
                    rel, hex, sha);
            bad = 1;
        }
    }
    if (!have_catalog) {
        fprintf(stderr, "sluice restore: the manifest lists no catalog.json\n");
        bad = 1;
    }
    return bad ? -1 : 0;
}

/* Step 2: pid of a process (other than us) with a file under dir open, or 0.
 * Only processes whose /proc/PID/fd we may read are seen (ours, or all for
 * root); the LOCK flock covers servers that take it. */
static long dir_in_use(const char *dir)
{
    char real[PATH_MAX];
    if (!realpath(dir, real)) return 0;
    size_t rl = strlen(real);
    DIR *proc = opendir("/proc");
    if (!proc) return 0;
    struct dirent *pe;
    long found = 0, self = (long)getpid();
    while (!found && (pe = readdir(proc))) {
        char *end;
        long pid = strtol(pe->d_name, &end, 10);
        if (*end || pid <= 0 || pid == self) continue;
        char fdp[64];
        snprintf(fdp, sizeof(fdp), "/proc/%ld/fd", pid);
        DIR *fds = opendir(fdp);
        if (!fds) continue;
        struct dirent *fe;
        while ((fe = readdir(fds))) {
            char lp[384], target[PATH_MAX];
            if (fe->d_name[0] == '.') continue;
            snprintf(lp, sizeof(lp), "%s/%s", fdp, fe->d_name);
            ssize_t n = readlink(lp, target, sizeof(target) - 1);
            if (n <= 0) continue;
            target[n] = 0;
            if ((size_t)n > rl && !strncmp(target, real, rl) && target[rl] == '/') {
                found = pid;
                break;
            }
        }
        closedir(fds);
    }
    closedir(proc);
    return found;
}

/* Step 4: copy with checksum, tmp + fsync + rename + fsync dir. */
static int copy_verified(const char *from, const char *to, const char *sha)
{
    char tmp[4400], parent[4300];
    snprintf(tmp, sizeof(tmp), "%s.tmp", to);
    snprintf(parent, sizeof(parent), "%s", to);
    *strrchr(parent, '/') = 0;
    if (sl_mkdirs(parent, 0) < 0) return SL_EIO;
    int in = open(from, O_RDONLY | O_CLOEXEC);
    if (in < 0) return SL_EIO;
    int out = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (out < 0) {
        close(in);
        return SL_EIO;
    }
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    char *buf = sl_malloc(1 << 20);
    int rc = ctx && buf && EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) == 1 ? 0 : SL_ENOMEM;
    while (rc == 0) {
        ssize_t n = read(in, buf, 1 << 20);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) rc = SL_EIO;
        if (n <= 0) break;
        EVP_DigestUpdate(ctx, buf, (size_t)n);
        rc = sl_write_full(out, buf, (size_t)n);
    }
    unsigned char md[32];
    unsigned int mdlen = 0;
    char hex[65] = "";
    if (rc == 0 && EVP_DigestFinal_ex(ctx, md, &mdlen) == 1 && mdlen == 32) api_sha256_hex(md, hex);
    if (rc == 0 && strcmp(hex, sha) != 0) rc = SL_ECORRUPT; /* changed since step 1 */
    if (rc == 0) rc = sl_fsync(out);
    if (close(out) != 0 && rc == 0) rc = SL_EIO;
    close(in);
    if (rc == 0 && rename(tmp, to) != 0) rc = SL_EIO;
    if (rc == 0) rc = sl_fsync_dir(to);
    if (rc < 0) unlink(tmp);
    EVP_MD_CTX_free(ctx);
    sl_free(buf);
    return rc;
}

struct planned_file {
    const char *from_rel; /* in the backup (borrowed from the manifest JSON) */
    char *to_rel;         /* in the data directory */
    const char *sha;
};

/* The manifest's entry for rel (borrowed), or NULL. */
static json_t *manifest_entry(json_t *man, const char *rel)
{
    size_t i;
    json_t *jf;
    json_array_foreach(json_object_get(man, "files"), i, jf)
    {
        const char *p = json_string_value(json_object_get(jf, "path"));
        if (p && !strcmp(p, rel)) return jf;
    }
    return NULL;
}

/* Highest id used anywhere in a catalog, next_id included. */
static json_int_t max_id(json_t *cat)
{
    json_int_t m = json_integer_value(json_object_get(cat, "next_id"));
    size_t i, k;
    json_t *jd, *jt;
    json_array_foreach(json_object_get(cat, "databases"), i, jd)
    {
        json_int_t v = json_integer_value(json_object_get(jd, "id"));
        if (v >= m) m = v + 1;
        json_array_foreach(json_object_get(jd, "tables"), k, jt)
        {
            v = json_integer_value(json_object_get(jt, "id"));
            if (v >= m) m = v + 1;
        }
    }
    return m < 1 ? 1 : m;
}

int cmd_restore(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"data-dir", required_argument, 0, 'D'},
        {"db", required_argument, 0, 'd'},
        {"new-name", required_argument, 0, 'n'},
        {"help", no_argument, 0, 'h'},
        {0, 0, 0, 0},
    };
    const char *data = NULL, *only = NULL, *newname = NULL;
    int opt;
    optind = 1;
    opterr = 0;
    while ((opt = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
        switch (opt) {
        case 'D': data = optarg; break;
        case 'd': only = optarg; break;
        case 'n': newname = optarg; break;
        case 'h': restore_usage(stdout); return 0;
        default:
            fprintf(stderr, "sluice restore: unknown or incomplete option '%s'\n\n",
                    argv[optind - 1]);
            restore_usage(stderr);
            return 2;
        }
    }
    if (!data || !*data || optind != argc - 1) {
        fprintf(stderr, "sluice restore: %s\n\n",
                !data || !*data ? "--data-dir is required" : "give exactly one backup directory");
        restore_usage(stderr);
        return 2;
    }
    if (newname && catalog_name_invalid(newname, strlen(newname))) {
        fprintf(stderr, "sluice restore: invalid --new-name: %s\n",
                catalog_name_invalid(newname, strlen(newname)));
        return 2;
    }
    const char *bdir = argv[optind];
    char err[1200] = "", path[4300];
    json_t *man = NULL, *bcat = NULL, *tcat = NULL;
    struct planned_file *plan = NULL;
    size_t nplan = 0, plan_cap = 0, ncopied = 0;
    int lock_fd = -1, rc = 1;
    char *text = NULL;
    struct sl_buf pfx_old = SL_BUF_INIT, pfx_new = SL_BUF_INIT;
    json_t *chosen = json_array();

    /* 1. the backup, verified */
    snprintf(path, sizeof(path), "%s/manifest.json", bdir);
    if (!(man = load_json(path, err, sizeof(err)))) {
        fprintf(stderr, "sluice restore: %s (is %s a complete backup?)\n", err, bdir);
        goto out;
    }
    const char *fmt = json_string_value(json_object_get(man, "format"));
    if (!fmt || strcmp(fmt, "sluice-backup") != 0 ||
        json_integer_value(json_object_get(man, "version")) != 1 ||
        !json_is_array(json_object_get(man, "files"))) {
        fprintf(stderr, "sluice restore: %s is not a sluice backup manifest (version 1)\n", path);
        goto out;
    }
    if (verify_backup(bdir, man) < 0) {
        fprintf(stderr, "sluice restore: the backup in %s is damaged; nothing was restored\n",
                bdir);
        goto out;
    }
    snprintf(path, sizeof(path), "%s/catalog.json", bdir);
    if (!(bcat = load_json(path, err, sizeof(err)))) {
        fprintf(stderr, "sluice restore: %s\n", err);
        goto out;
    }
    size_t i, k;
    json_t *jd, *jt;
    json_array_foreach(json_object_get(bcat, "databases"), i, jd)
    {
        const char *name = json_string_value(json_object_get(jd, "name"));
        if (!name || json_is_true(json_object_get(jd, "deleted"))) continue;
        if (!only || !strcmp(only, name)) json_array_append(chosen, jd);
    }
    if (json_array_size(chosen) == 0) {
        fprintf(stderr, "sluice restore: the backup has %s\n",
                only ? "no database of that name" : "no databases");
        goto out;
    }
    if (newname && json_array_size(chosen) != 1) {
        fprintf(stderr, "sluice restore: --new-name needs one database: add --db NAME\n");
        rc = 2;
        goto out;
    }

    /* 2. the target, not in use */
    if (sl_mkdirs(data, 0) < 0) {
        fprintf(stderr, "sluice restore: cannot create %s: %s\n", data, strerror(errno));
        goto out;
    }
    int lrc = api_data_dir_lock(data, &lock_fd);
    if (lrc < 0) {
        fprintf(stderr, "sluice restore: %s\n",
                lrc == SL_EBUSY ? "the data directory is in use (its LOCK is held): stop the "
                                  "server first"
                                : "cannot lock the data directory");
        goto out;
    }
    long pid = dir_in_use(data);
    if (pid) {
        fprintf(stderr,
                "sluice restore: process %ld has files of %s open (a running server?): stop it "
                "first\n",
                pid, data);
        goto out;
    }
    snprintf(path, sizeof(path), "%s/catalog.json", data);
    if (access(path, F_OK) == 0) {
        if (!(tcat = load_json(path, err, sizeof(err)))) {
            fprintf(stderr, "sluice restore: %s\n", err);
            goto out;
        }
        const char *tf = json_string_value(json_object_get(tcat, "format"));
        if (!tf || strcmp(tf, "sluice-catalog") != 0 ||
            !json_is_array(json_object_get(tcat, "databases"))) {
            fprintf(stderr, "sluice restore: %s is not a sluice catalog\n", path);
            goto out;
        }
    } else {
        tcat = json_pack("{s:s,s:i,s:i,s:[]}", "format", "sluice-catalog", "version", 1, "next_id",
                         1, "databases");
    }

    /* 3. the plan: names, ids, paths */
    json_int_t next = max_id(tcat);
    json_array_foreach(chosen, i, jd)
    {
        const char *old = json_string_value(json_object_get(jd, "name"));
        const char *name = newname ? newname : old;
        size_t m;
        json_t *td;
        json_array_foreach(json_object_get(tcat, "databases"), m, td)
        {
            const char *tn = json_string_value(json_object_get(td, "name"));
            if (tn && !strcmp(tn, name) && !json_is_true(json_object_get(td, "deleted"))) {
                fprintf(stderr,
                        "sluice restore: database \"%s\" already exists in %s; delete it first "
                        "or restore with --new-name\n",
                        name, data);
                goto out;
            }
        }
        sl_buf_reset(&pfx_old);
        sl_buf_reset(&pfx_new);
        storage_db_relpath(old, &pfx_old);
        sl_buf_addc(&pfx_old, '/');
        storage_db_relpath(name, &pfx_new);
        sl_buf_addc(&pfx_new, '/');
        json_t *copy = json_deep_copy(jd);
        json_object_set_new(copy, "name", json_string(name));
        json_object_set_new(copy, "id", json_integer(next++));
        json_object_set_new(copy, "deleted", json_false());
        json_array_foreach(json_object_get(copy, "tables"), k, jt)
        {
            json_object_set_new(jt, "id", json_integer(next++));
            size_t f;
            json_t *jf;
            json_array_foreach(json_object_get(jt, "files"), f, jf)
            {
                const char *rel = json_string_value(json_object_get(jf, "path"));
                json_t *ent = rel ? manifest_entry(man, rel) : NULL;
                const char *sha = json_string_value(json_object_get(ent, "sha256"));
                if (!rel || !sha || strncmp(rel, pfx_old.ptr, pfx_old.len) != 0) {
                    fprintf(stderr,
                            "sluice restore: the backup's catalog lists %s, which the manifest "
                            "does not cover\n",
                            rel ? rel : "a file without a path");
                    json_decref(copy);
                    goto out;
                }
                struct planned_file *p = sl_grow(plan, &plan_cap, nplan + 1, sizeof(*plan));
                if (!p) {
                    json_decref(copy);
                    goto out;
                }
                plan = p;
                struct sl_buf to = SL_BUF_INIT;
                sl_buf_init(&to, 8192);
                sl_buf_add(&to, pfx_new.ptr, pfx_new.len);
                sl_buf_adds(&to, rel + pfx_old.len);
                plan[nplan].from_rel = json_string_value(json_object_get(ent, "path"));
                plan[nplan].sha = sha;
                plan[nplan].to_rel = sl_buf_detach(&to, NULL);
                if (!plan[nplan].to_rel || !api_backup_path_ok(plan[nplan].to_rel)) {
                    sl_free(plan[nplan].to_rel);
                    json_decref(copy);
                    fprintf(stderr, "sluice restore: bad file path %s\n", rel);
                    goto out;
                }
                json_object_set_new(jf, "path", json_string(plan[nplan].to_rel));
                nplan++;
            }
        }
        json_array_append_new(json_object_get(tcat, "databases"), copy);
    }
    if (next > UINT32_MAX) {
        fprintf(stderr, "sluice restore: the catalog ran out of ids\n");
        goto out;
    }
    json_object_set_new(tcat, "next_id", json_integer(next));

    /* 4. the files */
    for (; ncopied < nplan; ncopied++) {
        char from[4300], to[4300];
        snprintf(from, sizeof(from), "%s/%s", bdir, plan[ncopied].from_rel);
        snprintf(to, sizeof(to), "%s/%s", data, plan[ncopied].to_rel);
        int c = copy_verified(from, to, plan[ncopied].sha);
        if (c < 0) {
            fprintf(stderr, "sluice restore: cannot copy %s to %s: %s\n", from, to,
                    c == SL_ECORRUPT ? "it changed after it was verified" : sl_strerror(c));
            goto out;
        }
    }

    /* 5. publish */
    text = json_dumps(tcat, JSON_INDENT(1));
    snprintf(path, sizeof(path), "%s/catalog.json", data);
    if (!text || sl_file_write_atomic(path, text, strlen(text), 0644) < 0) {
        fprintf(stderr, "sluice restore: cannot write %s: %s\n", path, strerror(errno));
        goto out;
    }
    uint64_t bytes = 0;
    json_array_foreach(json_object_get(man, "files"), i, jt)
    {
        const char *p = json_string_value(json_object_get(jt, "path"));
        for (size_t f = 0; p && f < nplan; f++)
            if (!strcmp(plan[f].from_rel, p))
                bytes += (uint64_t)json_integer_value(json_object_get(jt, "size"));
    }
    json_array_foreach(chosen, i, jd)
    {
        const char *old = json_string_value(json_object_get(jd, "name"));
        printf("restored database \"%s\"", old);
        if (newname) printf(" as \"%s\"", newname);
        printf(" (%zu tables)\n", json_array_size(json_object_get(jd, "tables")));
    }
    printf("%zu files, %llu bytes into %s; start the server to use them\n", nplan,
           (unsigned long long)bytes, data);
    ncopied = 0; /* published: keep them */
    rc = 0;
out:
    /* not published: the copies are unregistered; remove them now (the
     * server would remove them at start-up anyway) */
    for (size_t f = 0; f < ncopied; f++) {
        snprintf(path, sizeof(path), "%s/%s", data, plan[f].to_rel);
        unlink(path);
    }
    for (size_t f = 0; f < nplan; f++)
        sl_free(plan[f].to_rel);
    sl_free(plan);
    free(text);
    sl_buf_release(&pfx_old);
    sl_buf_release(&pfx_new);
    json_decref(chosen);
    json_decref(man);
    json_decref(bcat);
    json_decref(tcat);
    if (lock_fd >= 0) close(lock_fd);
    return rc;
}
