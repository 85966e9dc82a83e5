/*
 * fuzz_wal.c — arbitrary bytes as WAL segment files, then replay.
 *
 * Input: one control byte, then the file content.
 *   bit 0: skip_corrupt
 *   bit 1: split the content in two segments at the point given by bits
 *          2..7 (in 64ths); the second is named after the LSN in its header
 *          bytes 16..23 (or 2 when it is shorter)
 *   bit 2: a valid header for LSN 1 is put in front of the first part, so
 *          the input is records only
 *
 * Besides "no crash, no leak, bounded memory" (segments are mapped, never
 * read into the heap) it checks recovery's promise: when replay succeeds,
 * one synced append works and a second replay yields exactly the same
 * records followed by the new one. A violation traps.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <fcntl.h>

#include "common/crc32c.h"
#include "common/fsutil.h"
#include "wal/wal.h"
#include "wal/wal_int.h"

static char dir[80];

struct seen {
    uint64_t n;
    uint64_t hash; /* over (lsn, len, payload crc) of every record */
    uint64_t hash_at;
    uint64_t at; /* record count at which hash_at is taken */
    uint64_t last_lsn;
};

static int cb(void *ctx, uint64_t lsn, const void *rec, size_t len)
{
    struct seen *s = ctx;
    uint32_t c = sl_crc32c(0, rec, len); /* touches every byte (ASan) */
    s->hash = (s->hash ^ lsn) * 0x100000001b3ull;
    s->hash = (s->hash ^ len ^ ((uint64_t)c << 32)) * 0x100000001b3ull;
    s->n++;
    s->last_lsn = lsn;
    if (s->n == s->at) s->hash_at = s->hash;
    return 0;
}

static void put_file(uint64_t lsn, const uint8_t *p, size_t n)
{
    char path[160];
    snprintf(path, sizeof(path), "%s/wal-%016llx.log", dir, (unsigned long long)lsn);
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd < 0) return;
    if (n) sl_write_full(fd, p, n);
    close(fd);
}

static uint64_t get64(const uint8_t *p)
{
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--)
        v = v << 8 | p[i];
    return v;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!dir[0]) {
        const char *base = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp";
        snprintf(dir, sizeof(dir), "%s/sluice-fuzz-wal-%ld", base, (long)getpid());
    }
    if (size < 1 || size > (1 << 20)) return 0;
    sl_remove_tree(dir);
    if (sl_mkdirs(dir, 0) < 0) return 0;
    uint8_t ctl = data[0];
    data++;
    size--;
    int skip = ctl & 1;
    size_t first = size;
    if (ctl & 2) first = size * (ctl >> 2) / 64;
    if (ctl & 4) {
        /* A valid header for LSN 1 in front, so that record parsing is reached. */
        uint8_t *buf = malloc(32 + first);
        if (!buf) return 0;
        wal_seg_header(buf, 1);
        memcpy(buf + 32, data, first);
        put_file(1, buf, 32 + first);
        free(buf);
    } else {
        put_file(1, data, first);
    }
    if (first < size) {
        size_t n2 = size - first;
        uint64_t lsn = n2 >= 24 ? get64(data + first + 16) : 2;
        put_file(lsn, data + first, n2);
    }

    struct wal_opts o = {.dir = dir, .segment_bytes = 4096, .skip_corrupt = skip};
    struct wal *w = NULL;
    struct seen s1 = {0}, s2 = {0};
    if (wal_open(&o, &w) < 0) goto out;
    int rc = wal_replay(w, cb, &s1);
    if (rc < 0) {
        wal_close(w);
        goto out;
    }
    uint64_t lsn = 0;
    if (wal_append(w, "fuzz", 4, 1, &lsn) != 0) __builtin_trap();
    if (s1.n && lsn <= s1.last_lsn) __builtin_trap();
    wal_close(w);

    if (wal_open(&o, &w) < 0) __builtin_trap();
    s2.at = s1.n;
    rc = wal_replay(w, cb, &s2);
    if (rc != 0 || s2.n != s1.n + 1 || s2.last_lsn != lsn) __builtin_trap();
    if (s1.n && s2.hash_at != s1.hash) __builtin_trap();
    wal_close(w);
out:
    sl_remove_tree(dir);
    return 0;
}
