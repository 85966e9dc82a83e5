/*
 * fsutil.h — the durable-file primitives, written once and used by everyone
 * (catalog, token store, Parquet files, agent state).
 *
 * sl_file_write_atomic: write tmp → fsync → rename over the target → fsync the
 * directory. After it returns 0 the new content survives power loss; before
 * that, readers see the old content or (for a new file) nothing.
 */
#ifndef SL_COMMON_FSUTIL_H
#define SL_COMMON_FSUTIL_H

#include <stddef.h>
#include <sys/types.h>

int sl_file_write_atomic(const char *path, const void *data, size_t len, mode_t mode);
/* Reads a whole file (at most max bytes, else SL_ETOOBIG). *out is owned by
 * the caller (sl_free) and NUL-terminated. */
int sl_file_read_all(const char *path, size_t max, char **out, size_t *len);
/* fsyncs the directory that contains path (or path itself if it is a directory). */
int sl_fsync_dir(const char *dir);
/* fsync/fdatasync through a hook so tests can inject failures. */
int sl_fdatasync(int fd);
int sl_fsync(int fd);
/* mkdir -p with mode 0755 (0700 for private=1). */
int sl_mkdirs(const char *path, int private_dir);
/* rm -rf; returns 0 when the path is gone. */
int sl_remove_tree(const char *path);
/* write(2) loop that handles short writes and EINTR. */
int sl_write_full(int fd, const void *p, size_t n);
/* pread(2) loop; SL_EIO on short read. */
int sl_pread_full(int fd, void *p, size_t n, off_t off);

#endif
