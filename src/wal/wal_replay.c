/*
 * wal_replay.c — recovery: lists the segments, hands every intact record to
 * the caller in LSN order, cuts off a torn tail, refuses (or, when asked,
 * skips) real corruption, and leaves the active segment ready for appends.
 * The format and the recovery rules are documented at the top of wal.c.
 *
 * Segments are mapped read-only, so replay needs no memory proportional to
 * their size. Searching past damage is linear: cheap checks (reserved bits,
 * length fits, LSN in range) come before the CRC.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/err.h"
#include "common/fsutil.h"
#include "common/mem.h"
#include "wal/wal.h"
#include "wal/wal_int.h"

#define NONE SIZE_MAX

/* ---- the segment list ---- */

static int parse_name(const char *name, uint64_t *lsn)
{
    /* wal-<16 hex>.log */
    if (strlen(name) != 24 || memcmp(name, "wal-", 4) != 0 || strcmp(name + 20, ".log") != 0)
        return 0;
    uint64_t v = 0;
    for (int i = 4; i < 20; i++) {
        char c = name[i];
        int d = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
        if (d < 0) return 0;
        v = v << 4 | (uint64_t)d;
    }
    *lsn = v;
    return 1;
}

static int seg_cmp(const void *a, const void *b)
{
    uint64_t x = ((const struct wal_seg *)a)->first_lsn, y = ((const struct wal_seg *)b)->first_lsn;
    return x < y ? -1 : x > y;
}

int wal_seg_list(struct wal *w)
{
    DIR *d = opendir(w->dir);
    if (!d) {
        wal_set_error(w, "cannot open wal directory '%s': %s", w->dir, strerror(errno));
        return SL_EIO;
    }
    int rc = 0;
    struct dirent *e;
    w->nsegs = 0;
    while ((e = readdir(d))) {
        uint64_t lsn;
        struct stat st;
        if (!parse_name(e->d_name, &lsn)) continue;
        if (fstatat(dirfd(d), e->d_name, &st, 0) != 0 || !S_ISREG(st.st_mode)) continue;
        struct wal_seg *s = sl_grow(w->segs, &w->segs_cap, w->nsegs + 1, sizeof(*s));
        if (!s) {
            rc = SL_ENOMEM;
            break;
        }
        w->segs = s;
        s[w->nsegs].first_lsn = lsn;
        s[w->nsegs].bytes = (uint64_t)st.st_size;
        w->nsegs++;
    }
    closedir(d);
    if (w->nsegs) qsort(w->segs, w->nsegs, sizeof(*w->segs), seg_cmp);
    return rc;
}

static void seg_list_remove(struct wal *w, size_t i)
{
    memmove(w->segs + i, w->segs + i + 1, (w->nsegs - i - 1) * sizeof(*w->segs));
    w->nsegs--;
}

/* ---- record checks ---- */

enum rec_state {
    REC_OK,
    REC_SHORT,    /* fewer than 16 bytes left */
    REC_RESERVED, /* reserved bits set in the length word */
    REC_LENGTH,   /* payload runs past the end of the file */
    REC_ZERO,     /* all-zero header */
    REC_CRC,      /* checksum mismatch */
    REC_LSN,      /* intact, but not the LSN that must come next */
};

static const char *rec_state_str(enum rec_state r)
{
    switch (r) {
    case REC_OK: return "intact record";
    case REC_SHORT: return "truncated record header";
    case REC_RESERVED: return "reserved bits set in the record length";
    case REC_LENGTH: return "record length runs past the end of the file";
    case REC_ZERO: return "zero-filled region followed by non-zero bytes";
    case REC_CRC: return "record checksum mismatch";
    case REC_LSN: return "unexpected record lsn";
    }
    return "damage";
}

/* Checks the record at off (not its LSN order). */
static enum rec_state rec_at(const uint8_t *p, size_t n, size_t off, uint64_t *lsn, size_t *len,
                             uint32_t *word)
{
    if (n - off < WAL_REC_HDR) return REC_SHORT;
    const uint8_t *h = p + off;
    uint32_t lw = wal_get32(h);
    *word = lw;
    *lsn = wal_get64(h + 8);
    *len = lw & WAL_LEN_MASK;
    if (lw == 0 && wal_get32(h + 4) == 0 && *lsn == 0) return REC_ZERO;
    if (lw & WAL_FLAG_RESERVED) return REC_RESERVED;
    if (*len > WAL_MAX_RECORD || *len > n - off - WAL_REC_HDR) return REC_LENGTH;
    if (*lsn == 0 || *lsn >= WAL_MAX_LSN) return REC_LSN;
    if (wal_rec_crc(h, h + WAL_REC_HDR, *len) != wal_get32(h + 4)) return REC_CRC;
    return REC_OK;
}

static int all_zero(const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (p[i]) return 0;
    return 1;
}

/* Offset of the first intact record at or after from whose LSN is at least
 * lo and could sit where it is: records are at least 16 bytes long and LSNs
 * go up by one, so a record at offset q of a segment starting at LSN first
 * has an LSN <= first + (q - 32) / 16 (first == 0: no such bound). The bound
 * depends on the position, never on the file size, so a search gives the
 * same answer before and after the tail of the file changes. Cheap tests
 * before the CRC keep this linear in practice. Returns NONE if there is none. */
static size_t find_next(const uint8_t *p, size_t n, size_t from, uint64_t lo, uint64_t first)
{
    for (size_t q = from; q < n && n - q >= WAL_REC_HDR; q++) {
        const uint8_t *h = p + q;
        uint32_t lw = wal_get32(h);
        if (lw & WAL_FLAG_RESERVED) continue;
        size_t len = lw & WAL_LEN_MASK;
        if (len > n - q - WAL_REC_HDR) continue;
        uint64_t lsn = wal_get64(h + 8);
        uint64_t hi = WAL_MAX_LSN - 1;
        if (first) hi = q < WAL_HDR_SIZE ? 0 : first + (q - WAL_HDR_SIZE) / WAL_REC_HDR;
        if (lsn < lo || lsn > hi || lsn == 0) continue;
        if (wal_rec_crc(h, h + WAL_REC_HDR, len) == wal_get32(h + 4)) return q;
    }
    return NONE;
}

/* Whether an intact record flagged BATCH, with an LSN >= lo, lies at or after
 * from: that proves a later batch was written, so the earlier one was durable. */
static int later_batch(const uint8_t *p, size_t n, size_t from, uint64_t lo, uint64_t first)
{
    size_t q = from;
    while ((q = find_next(p, n, q, lo, first)) != NONE) {
        uint64_t lsn;
        size_t len;
        uint32_t word;
        rec_at(p, n, q, &lsn, &len, &word);
        if (word & WAL_FLAG_BATCH) return 1;
        q += WAL_REC_HDR + len;
        lo = lsn + 1;
    }
    return 0;
}

static size_t nonzero_end(const uint8_t *p, size_t n)
{
    while (n && !p[n - 1])
        n--;
    return n;
}

/* ---- one segment ---- */

struct scan {
    struct wal *w;
    const char *path;
    const uint8_t *p;
    size_t n;
    int last;
    uint64_t expect; /* LSN that must come next; 0 before the first segment */
    int (*cb)(void *ctx, uint64_t lsn, const void *rec, size_t len);
    void *ctx;
    /* results */
    size_t end;   /* end of the intact records */
    size_t trunc; /* torn tail: truncate to end (0 = nothing to cut) */
    int drop;     /* torn rotation: delete the file */
    int skipped;  /* unusable segment skipped (skip_corrupt): move it aside */
};

static int damage(struct scan *s, size_t off, const char *what, uint64_t lsn)
{
    wal_set_error(s->w,
                  "wal corrupt: '%s' at offset %zu: %s (lsn %" PRIu64
                  " expected); start with the skip-corrupt option to skip damaged records",
                  s->path, off, what, lsn);
    return SL_ECORRUPT;
}

static int scan_segment(struct scan *s, uint64_t name_lsn)
{
    struct wal *w = s->w;
    const uint8_t *p = s->p;
    size_t n = s->n;
    uint64_t first = n >= WAL_HDR_SIZE ? wal_seg_header_check(p) : 0;

    if (first == 0 || first != name_lsn) {
        /* Shorter than a header, or a zero header, and no record in it. */
        int zero = n < WAL_HDR_SIZE || all_zero(p, WAL_HDR_SIZE);
        if (s->last && zero && find_next(p, n, 0, 1, 0) == NONE) {
            s->drop = 1; /* created, never written to: a torn rotation */
            return 0;
        }
        if (!w->skip_corrupt)
            return damage(s, 0,
                          first == 0 ? "bad segment header"
                                     : "segment header does not match the file name",
                          s->expect);
        w->st.skipped_regions++;
        w->st.skipped_bytes += n;
        s->skipped = 1;
        return 0;
    }
    if (s->expect && first != s->expect) {
        if (!w->skip_corrupt) {
            wal_set_error(w,
                          "wal corrupt: '%s' at offset 16: segment starts at lsn %" PRIu64
                          " but lsn %" PRIu64 " must come next (%s); start with the "
                          "skip-corrupt option to skip damaged records",
                          s->path, first, s->expect,
                          first > s->expect ? "records are missing" : "segments overlap");
            return SL_ECORRUPT;
        }
        w->st.skipped_regions++;
    }
    uint64_t e = s->expect > first ? s->expect : first;
    size_t off = WAL_HDR_SIZE;
    while (off < n) {
        uint64_t lsn;
        size_t len;
        uint32_t word;
        enum rec_state r = rec_at(p, n, off, &lsn, &len, &word);
        if (r == REC_OK && lsn == e) {
            int rc = s->cb(s->ctx, lsn, p + off + WAL_REC_HDR, len);
            if (rc < 0) {
                wal_set_error(w, "wal replay stopped by the caller at lsn %" PRIu64 " (%d)", lsn,
                              rc);
                return rc;
            }
            w->st.replayed++;
            e++;
            off += WAL_REC_HDR + len;
            continue;
        }
        if (r == REC_OK) r = REC_LSN;
        if (all_zero(p + off, n - off)) break; /* the clean end */
        if (s->last && !later_batch(p, n, off, e, first)) {
            /* Torn tail: only the unfinished last batch follows. */
            s->trunc = 1;
            w->st.truncated_bytes += nonzero_end(p, n) - off;
            break;
        }
        if (!w->skip_corrupt) return damage(s, off, rec_state_str(r), e);
        size_t q = find_next(p, n, off + 1, e, first);
        w->st.skipped_regions++;
        if (q == NONE) {
            w->st.skipped_bytes += nonzero_end(p, n) - off;
            off = n;
            break;
        }
        w->st.skipped_bytes += q - off;
        off = q;
        e = wal_get64(p + q + 8);
    }
    s->end = off < n ? off : n;
    s->expect = e;
    return 0;
}

/* Maps and scans segment i. */
static int replay_one(struct scan *s, size_t i)
{
    struct wal *w = s->w;
    char path[4096];
    int rc = wal_seg_path(w, w->segs[i].first_lsn, path, sizeof(path));
    if (rc < 0) return rc;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        wal_set_error(w, "cannot open '%s': %s", path, strerror(errno));
        return SL_EIO;
    }
    struct stat st;
    void *map = NULL;
    if (fstat(fd, &st) != 0) {
        wal_set_error(w, "cannot stat '%s': %s", path, strerror(errno));
        rc = SL_EIO;
        goto out;
    }
    if (st.st_size > 0) {
        map = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
        if (map == MAP_FAILED) {
            map = NULL;
            wal_set_error(w, "cannot map '%s': %s", path, strerror(errno));
            rc = SL_EIO;
            goto out;
        }
    }
    s->path = path;
    s->p = map;
    s->n = (size_t)st.st_size;
    s->end = s->trunc = 0;
    s->drop = s->skipped = 0;
    rc = scan_segment(s, w->segs[i].first_lsn);
out:
    if (map) munmap(map, (size_t)st.st_size);
    close(fd);
    s->path = NULL;
    return rc;
}

/* Deletes (drop) or renames aside (skipped) segment i and forgets it. */
static int retire(struct wal *w, size_t i, int drop)
{
    char path[4096], aside[4200];
    int rc = wal_seg_path(w, w->segs[i].first_lsn, path, sizeof(path));
    if (rc < 0) return rc;
    snprintf(aside, sizeof(aside), "%s.corrupt", path);
    if (drop ? unlink(path) != 0 : rename(path, aside) != 0) {
        wal_set_error(w, "cannot %s '%s': %s", drop ? "delete" : "rename", path, strerror(errno));
        return SL_EIO;
    }
    seg_list_remove(w, i);
    return sl_fsync_dir(w->dir);
}

/* Opens the last segment for appending at end, cutting off a torn tail. */
static int reopen_active(struct wal *w, uint64_t first_lsn, size_t end, int trunc)
{
    char path[4096];
    int rc = wal_seg_path(w, first_lsn, path, sizeof(path));
    if (rc < 0) return rc;
    int fd = open(path, O_RDWR | O_CLOEXEC);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) != 0) {
        wal_set_error(w, "cannot open '%s' for appending: %s", path, strerror(errno));
        if (fd >= 0) close(fd);
        return SL_EIO;
    }
    w->fd = fd;
    w->seg_first = first_lsn;
    w->seg_off = end;
    w->seg_alloc = (uint64_t)st.st_size;
    if (trunc) {
        /* Erase the torn bytes for good before anything is written after
         * them: a later batch must never sit in front of stale records. */
        if (ftruncate(fd, (off_t)end) != 0 || sl_fsync(fd) < 0) {
            wal_set_error(w, "cannot truncate the torn tail of '%s': %s", path, strerror(errno));
            return SL_EIO;
        }
        w->seg_alloc = end;
    }
    wal_seg_prealloc(w);
    if (lseek(fd, (off_t)end, SEEK_SET) < 0) {
        wal_set_error(w, "cannot seek in '%s': %s", path, strerror(errno));
        return SL_EIO;
    }
    w->segs[w->nsegs - 1].bytes = w->seg_alloc > end ? w->seg_alloc : end;
    return 0;
}

int wal_replay(struct wal *w, int (*cb)(void *ctx, uint64_t lsn, const void *rec, size_t len),
               void *ctx)
{
    int rc = 0;
    if (w->replayed) {
        wal_set_error(w, "wal_replay called twice");
        return SL_EINVAL;
    }
    w->replayed = 1;
    struct scan s = {.w = w, .cb = cb, .ctx = ctx};
    size_t end = 0;
    int trunc = 0, active_scanned = 0;
    for (size_t i = 0; i < w->nsegs;) {
        s.last = i + 1 == w->nsegs;
        if ((rc = replay_one(&s, i)) < 0) return rc;
        if (s.drop || s.skipped) {
            if ((rc = retire(w, i, s.drop)) < 0) return rc;
            continue;
        }
        if (s.last) {
            active_scanned = 1;
            end = s.end;
            trunc = s.trunc;
        }
        i++;
    }
    uint64_t next = s.expect ? s.expect : 1;
    if (w->nsegs && active_scanned) {
        rc = reopen_active(w, w->segs[w->nsegs - 1].first_lsn, end, trunc);
    } else {
        /* No segment, or the last one was retired: start a new one. An
         * empty sealed segment with the same first LSN is simply replaced. */
        if (w->nsegs && w->segs[w->nsegs - 1].first_lsn == next) w->nsegs--;
        rc = wal_seg_create(w, next);
    }
    if (rc < 0) return rc;
    pthread_mutex_lock(&w->mu);
    w->next_lsn = next;
    w->durable_lsn = next - 1;
    w->ready = 1;
    pthread_mutex_unlock(&w->mu);
    return 0;
}
