/* fsutil.c — durable file writes and small file-system helpers. */
#include "common/fsutil.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/err.h"
#include "common/mem.h"

int sl_fdatasync(int fd)
{
    return fdatasync(fd) == 0 ? 0 : SL_EIO;
}

int sl_fsync(int fd)
{
    return fsync(fd) == 0 ? 0 : SL_EIO;
}

int sl_write_full(int fd, const void *p, size_t n)
{
    const char *c = p;
    while (n) {
        ssize_t w = write(fd, c, n);
        if (w < 0) {
            if (errno == EINTR) continue;
            return errno == ENOSPC ? SL_EIO : SL_EIO;
        }
        c += w;
        n -= (size_t)w;
    }
    return 0;
}

int sl_pread_full(int fd, void *p, size_t n, off_t off)
{
    char *c = p;
    while (n) {
        ssize_t r = pread(fd, c, n, off);
        if (r < 0) {
            if (errno == EINTR) continue;
            return SL_EIO;
        }
        if (r == 0) return SL_EIO;
        c += r;
        n -= (size_t)r;
        off += r;
    }
    return 0;
}

int sl_fsync_dir(const char *path)
{
    char tmp[4096];
    struct stat st;
    const char *dir = path;
    if (stat(path, &st) != 0 || !S_ISDIR(st.st_mode)) {
        snprintf(tmp, sizeof(tmp), "%s", path);
        dir = dirname(tmp);
    }
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) return SL_EIO;
    int rc = sl_fsync(fd);
    close(fd);
    return rc;
}

int sl_file_write_atomic(const char *path, const void *data, size_t len, mode_t mode)
{
    char tmp[4096];
    int n = snprintf(tmp, sizeof(tmp), "%s.tmp.%ld", path, (long)getpid());
    if (n < 0 || (size_t)n >= sizeof(tmp)) return SL_EINVAL;
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
    if (fd < 0) return errno == ENOENT ? SL_ENOENT : SL_EIO;
    int rc = sl_write_full(fd, data, len);
    if (rc == 0) rc = sl_fsync(fd);
    if (close(fd) != 0 && rc == 0) rc = SL_EIO;
    if (rc == 0 && rename(tmp, path) != 0) rc = SL_EIO;
    if (rc != 0) {
        unlink(tmp);
        return rc;
    }
    return sl_fsync_dir(path);
}

int sl_file_read_all(const char *path, size_t max, char **out, size_t *len)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return errno == ENOENT ? SL_ENOENT : SL_EIO;
    struct stat st;
    int rc = 0;
    char *buf = NULL;
    if (fstat(fd, &st) != 0) {
        rc = SL_EIO;
        goto out;
    }
    if ((size_t)st.st_size > max) {
        rc = SL_ETOOBIG;
        goto out;
    }
    buf = sl_malloc((size_t)st.st_size + 1);
    if (!buf) {
        rc = SL_ENOMEM;
        goto out;
    }
    if (st.st_size && (rc = sl_pread_full(fd, buf, (size_t)st.st_size, 0)) < 0) goto out;
    buf[st.st_size] = '\0';
    *out = buf;
    buf = NULL;
    if (len) *len = (size_t)st.st_size;
out:
    sl_free(buf);
    close(fd);
    return rc;
}

int sl_mkdirs(const char *path, int private_dir)
{
    char tmp[4096];
    size_t n = strlen(path);
    if (n == 0 || n >= sizeof(tmp)) return SL_EINVAL;
    memcpy(tmp, path, n + 1);
    mode_t mode = private_dir ? 0700 : 0755;
    for (size_t i = 1; i <= n; i++) {
        if (tmp[i] != '/' && tmp[i] != '\0') continue;
        char c = tmp[i];
        tmp[i] = '\0';
        if (mkdir(tmp, mode) != 0 && errno != EEXIST) return SL_EIO;
        tmp[i] = c;
    }
    return 0;
}

static int remove_tree_at(int parent, const char *name)
{
    struct stat st;
    if (fstatat(parent, name, &st, AT_SYMLINK_NOFOLLOW) != 0) return errno == ENOENT ? 0 : SL_EIO;
    if (!S_ISDIR(st.st_mode)) return unlinkat(parent, name, 0) == 0 ? 0 : SL_EIO;
    int fd = openat(parent, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0) return SL_EIO;
    DIR *d = fdopendir(fd);
    if (!d) {
        close(fd);
        return SL_EIO;
    }
    int rc = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
        if ((rc = remove_tree_at(dirfd(d), e->d_name)) < 0) break;
    }
    closedir(d);
    if (rc == 0 && unlinkat(parent, name, AT_REMOVEDIR) != 0) rc = SL_EIO;
    return rc;
}

int sl_remove_tree(const char *path)
{
    return remove_tree_at(AT_FDCWD, path);
}
