/*
 * buffer_disk.c — the disk buffer of an output (see buffer_disk.h).
 *
 * Directory layout (one directory per output, buffer_directory/<output>-<n>):
 *
 *   <seq>.seg   segment files, seq = 16 lower-case hex digits, increasing
 *   ack         the acknowledgement: where the first record not yet
 *               delivered is
 *   lock        flock(2)ed while a process uses the directory, so two agents
 *               never share a buffer (the kernel drops the lock on kill -9)
 *
 * Segment file:
 *   offset 0   8 bytes  magic "SLAGSEG1"
 *   offset 8   records, back to back:
 *                u32 LE  payload length n (1 .. 16 MiB)
 *                u32 LE  CRC-32C of the payload
 *                n bytes payload: the metric as one line of line protocol
 *                        (ns timestamps, unsigned integers as 'u')
 *
 * Ack file (written with sl_file_write_atomic: tmp, fsync, rename, fsync dir):
 *   8 bytes magic "SLAGACK1", u64 LE segment seq, u64 LE offset,
 *   u32 LE CRC-32C of the 24 bytes before it.
 *
 * Durability: a record is written with one write(2) when the metric enters
 * the buffer, so a kill -9 of the agent loses nothing (the data is in the
 * page cache); the segment is fdatasync'd at most a second later, on every
 * flush, on rotation and on close, so a power loss can lose at most about
 * the last second. The acknowledgement is persisted after every delivered
 * (or rejected) batch; a crash between the server's answer and that write
 * re-sends the batch on restart. Redelivery is harmless: the server stores
 * a point per series and timestamp, so a re-sent point overwrites itself.
 *
 * Recovery (open): segments are scanned in order; each record's length and
 * CRC are checked. The first bad or torn record of a segment ends it: the
 * file is truncated there (a kill -9 during a write leaves at most one torn
 * record at the end of the last segment). Segments entirely before the
 * acknowledgement, fully acknowledged or empty are deleted; taking resumes
 * at the acknowledgement.
 * Writing always continues in a new segment.
 *
 * Bound and drop policy: the segments may total at most max_bytes. When an
 * append exceeds it, whole segments are deleted from the oldest on (never
 * the one being written), i.e. the OLDEST metrics are dropped — as
 * Telegraf's memory buffer does — and every dropped record is counted
 * (internal_write.metrics_dropped) and logged. Segments rotate at
 * min(4 MiB, max_bytes / 8) so a drop removes a small slice.
 */
#include "agent/buffer_disk.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/buf.h"
#include "common/crc32c.h"
#include "common/err.h"
#include "common/fsutil.h"
#include "common/log.h"
#include "common/mem.h"
#include "common/timeutil.h"
#include "lp/lp.h"

#define SEG_MAGIC     "SLAGSEG1"
#define ACK_MAGIC     "SLAGACK1"
#define SEG_HDR       8
#define REC_HDR       8
#define REC_MAX       (16u << 20)
#define DEFAULT_MAX   (128ull << 20)
#define SEG_MAX_LIMIT (4ull << 20)

struct seg {
    uint64_t seq, size, records;
};

struct pos {
    uint64_t seq, off;
};

struct disk_buffer {
    char *dir;
    uint64_t max_bytes, seg_max;
    struct seg *segs; /* oldest first; the last is being written */
    size_t nsegs, segs_cap;
    int wfd;
    struct pos ack;       /* first record not yet acknowledged */
    uint64_t ack_index;   /* records of segment ack.seq before ack.off */
    struct pos rd;        /* next record to take */
    uint64_t pending;     /* records after ack */
    struct pos *inflight; /* end positions of records taken, in order */
    size_t ninflight, inflight_cap;
    uint64_t inflight_live; /* in-flight records whose segment still exists */
    int rd_fd;
    uint64_t rd_fd_seq;
    int lock_fd;
    uint64_t dropped, replayed;
    int64_t last_sync;
    int dirty;
    uint64_t next_seq;
    struct sl_buf scratch;
};

static void put32(unsigned char *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (unsigned char)(v >> (8 * i));
}
static void put64(unsigned char *p, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        p[i] = (unsigned char)(v >> (8 * i));
}
static uint32_t get32(const unsigned char *p)
{
    uint32_t v = 0;
    for (int i = 3; i >= 0; i--)
        v = (v << 8) | p[i];
    return v;
}
static uint64_t get64(const unsigned char *p)
{
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--)
        v = (v << 8) | p[i];
    return v;
}

static int pos_lt(struct pos a, struct pos b)
{
    return a.seq < b.seq || (a.seq == b.seq && a.off < b.off);
}

static void seg_path(const struct disk_buffer *d, uint64_t seq, char *out, size_t cap)
{
    snprintf(out, cap, "%s/%016" PRIx64 ".seg", d->dir, seq);
}

static struct seg *seg_find(struct disk_buffer *d, uint64_t seq)
{
    for (size_t i = 0; i < d->nsegs; i++)
        if (d->segs[i].seq == seq) return &d->segs[i];
    return NULL;
}

static int ack_persist(struct disk_buffer *d)
{
    unsigned char b[28];
    char path[4096];
    memcpy(b, ACK_MAGIC, 8);
    put64(b + 8, d->ack.seq);
    put64(b + 16, d->ack.off);
    put32(b + 24, sl_crc32c(0, b, 24));
    snprintf(path, sizeof(path), "%s/ack", d->dir);
    return sl_file_write_atomic(path, b, sizeof(b), 0600);
}

static void close_rd(struct disk_buffer *d)
{
    if (d->rd_fd >= 0) close(d->rd_fd);
    d->rd_fd = -1;
}

/* Deletes the oldest segment (never the one being written). */
static void drop_head(struct disk_buffer *d, int counted)
{
    struct seg s = d->segs[0];
    char path[4096];
    uint64_t unacked = 0;
    if (s.seq > d->ack.seq)
        unacked = s.records;
    else if (s.seq == d->ack.seq)
        unacked = s.records - d->ack_index;
    if (counted) {
        d->dropped += unacked;
        d->pending -= unacked;
        for (size_t i = 0; i < d->ninflight; i++)
            if (d->inflight[i].seq == s.seq && d->inflight_live) d->inflight_live--;
    }
    if (d->rd_fd >= 0 && d->rd_fd_seq == s.seq) close_rd(d);
    seg_path(d, s.seq, path, sizeof(path));
    unlink(path);
    memmove(d->segs, d->segs + 1, (d->nsegs - 1) * sizeof(*d->segs));
    d->nsegs--;
    if (d->ack.seq <= s.seq) {
        d->ack.seq = d->segs[0].seq;
        d->ack.off = SEG_HDR;
        d->ack_index = 0;
    }
    if (pos_lt(d->rd, d->ack)) d->rd = d->ack;
}

static int new_segment(struct disk_buffer *d)
{
    uint64_t seq = d->next_seq++;
    char path[4096];
    if (d->wfd >= 0) {
        sl_fdatasync(d->wfd);
        close(d->wfd);
        d->wfd = -1;
    }
    struct seg *ns = sl_grow(d->segs, &d->segs_cap, d->nsegs + 1, sizeof(*ns));
    if (!ns) return SL_ENOMEM;
    d->segs = ns;
    seg_path(d, seq, path, sizeof(path));
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0) return SL_EIO;
    if (sl_write_full(fd, SEG_MAGIC, SEG_HDR) < 0 || sl_fdatasync(fd) < 0 ||
        sl_fsync_dir(d->dir) < 0) {
        close(fd);
        unlink(path);
        return SL_EIO;
    }
    d->wfd = fd;
    d->segs[d->nsegs++] = (struct seg){.seq = seq, .size = SEG_HDR, .records = 0};
    return 0;
}

/* Scans a segment: counts valid records, truncates at the first bad one.
 * Returns 0, or SL_ECORRUPT when the file is not a segment at all. */
static int scan_segment(struct disk_buffer *d, struct seg *s, uint64_t *ack_index)
{
    char path[4096];
    seg_path(d, s->seq, path, sizeof(path));
    int fd = open(path, O_RDWR | O_CLOEXEC);
    if (fd < 0) return SL_EIO;
    struct stat st;
    unsigned char hdr[REC_HDR];
    int rc = 0;
    if (fstat(fd, &st) < 0 || st.st_size < SEG_HDR || sl_pread_full(fd, hdr, SEG_HDR, 0) < 0 ||
        memcmp(hdr, SEG_MAGIC, SEG_HDR)) {
        rc = SL_ECORRUPT;
        goto out;
    }
    uint64_t off = SEG_HDR, size = (uint64_t)st.st_size;
    s->records = 0;
    while (off + REC_HDR <= size) {
        if (sl_pread_full(fd, hdr, REC_HDR, (off_t)off) < 0) break;
        uint32_t n = get32(hdr), crc = get32(hdr + 4);
        if (n == 0 || n > REC_MAX || off + REC_HDR + n > size) break;
        sl_buf_reset(&d->scratch);
        if (sl_buf_reserve(&d->scratch, n) < 0) break;
        if (sl_pread_full(fd, d->scratch.ptr, n, (off_t)(off + REC_HDR)) < 0) break;
        if (sl_crc32c(0, d->scratch.ptr, n) != crc) break;
        off += REC_HDR + n;
        s->records++;
        if (s->seq == d->ack.seq && off <= d->ack.off) (*ack_index)++;
    }
    if (off != size) {
        sl_warn("agent", "disk buffer %s: %s: cut %" PRIu64 " bytes of torn or corrupt data",
                d->dir, path, size - off);
        if (ftruncate(fd, (off_t)off) < 0 || sl_fdatasync(fd) < 0) rc = SL_EIO;
    }
    s->size = off;
out:
    close(fd);
    return rc;
}

static int seq_cmp(const void *x, const void *y)
{
    uint64_t a = ((const struct seg *)x)->seq, b = ((const struct seg *)y)->seq;
    return a < b ? -1 : a > b;
}

static int recover(struct disk_buffer *d, char *err, size_t errcap)
{
    DIR *dir = opendir(d->dir);
    if (!dir) {
        snprintf(err, errcap, "disk buffer %s: cannot open: %s", d->dir, strerror(errno));
        return SL_EIO;
    }
    struct dirent *de;
    int rc = 0;
    while ((de = readdir(dir))) {
        size_t l = strlen(de->d_name);
        if (l != 20 || strcmp(de->d_name + 16, ".seg")) continue;
        char *end;
        uint64_t seq = strtoull(de->d_name, &end, 16);
        if (end != de->d_name + 16 || seq == 0) continue;
        struct seg *ns = sl_grow(d->segs, &d->segs_cap, d->nsegs + 1, sizeof(*ns));
        if (!ns) {
            rc = SL_ENOMEM;
            break;
        }
        d->segs = ns;
        d->segs[d->nsegs++] = (struct seg){.seq = seq};
    }
    closedir(dir);
    if (rc < 0) return rc;
    if (d->nsegs > 1) qsort(d->segs, d->nsegs, sizeof(*d->segs), seq_cmp);
    /* the acknowledgement */
    char path[4096];
    char *ack = NULL;
    size_t alen = 0;
    snprintf(path, sizeof(path), "%s/ack", d->dir);
    d->ack = (struct pos){0, SEG_HDR};
    if (sl_file_read_all(path, 4096, &ack, &alen) == 0 && alen == 28 &&
        !memcmp(ack, ACK_MAGIC, 8) &&
        sl_crc32c(0, ack, 24) == get32((const unsigned char *)ack + 24)) {
        d->ack.seq = get64((const unsigned char *)ack + 8);
        d->ack.off = get64((const unsigned char *)ack + 16);
    }
    sl_free(ack);
    /* scan; drop what is fully acknowledged or not a segment */
    for (size_t i = 0; i < d->nsegs;) {
        struct seg *s = &d->segs[i];
        uint64_t idx = 0;
        int r = s->seq < d->ack.seq ? 1 : scan_segment(d, s, &idx);
        if (r == SL_EIO) return r;
        if (r != 0 || s->records == 0 || (s->seq == d->ack.seq && idx == s->records)) {
            if (r == SL_ECORRUPT)
                sl_warn("agent",
                        "disk buffer %s: segment %016" PRIx64 " is not a segment file, removed",
                        d->dir, s->seq);
            seg_path(d, s->seq, path, sizeof(path));
            unlink(path);
            memmove(s, s + 1, (d->nsegs - i - 1) * sizeof(*s));
            d->nsegs--;
            continue;
        }
        if (s->seq == d->ack.seq) d->ack_index = idx;
        d->pending += s->records - (s->seq == d->ack.seq ? idx : 0);
        i++;
    }
    if (d->nsegs && d->segs[0].seq != d->ack.seq) {
        d->ack = (struct pos){d->segs[0].seq, SEG_HDR};
        d->ack_index = 0;
    }
    d->replayed = d->pending;
    d->next_seq = (d->nsegs ? d->segs[d->nsegs - 1].seq : 0) + 1;
    if (d->ack.seq >= d->next_seq) d->next_seq = d->ack.seq + 1;
    return 0;
}

int disk_buffer_open(const char *dir, uint64_t max_bytes, struct disk_buffer **out, char *err,
                     size_t errcap)
{
    struct disk_buffer *d = sl_calloc(1, sizeof(*d));
    if (!d) return SL_ENOMEM;
    d->wfd = d->rd_fd = d->lock_fd = -1;
    d->max_bytes = max_bytes ? max_bytes : DEFAULT_MAX;
    d->seg_max = d->max_bytes / 8;
    if (d->seg_max > SEG_MAX_LIMIT) d->seg_max = SEG_MAX_LIMIT;
    if (d->seg_max < 4096) d->seg_max = 4096;
    sl_buf_init(&d->scratch, REC_MAX + 64);
    int rc;
    if (!(d->dir = sl_strdup(dir))) {
        rc = SL_ENOMEM;
        goto fail;
    }
    if ((rc = sl_mkdirs(dir, 1)) < 0) {
        snprintf(err, errcap, "disk buffer %s: cannot create the directory: %s", dir,
                 sl_strerror(rc));
        goto fail;
    }
    char lp[4096];
    snprintf(lp, sizeof(lp), "%s/lock", dir);
    d->lock_fd = open(lp, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (d->lock_fd < 0 || flock(d->lock_fd, LOCK_EX | LOCK_NB) < 0) {
        snprintf(err, errcap, "disk buffer %s: %s", dir,
                 d->lock_fd < 0 ? strerror(errno) : "in use by another running agent");
        rc = SL_EBUSY;
        goto fail;
    }
    if ((rc = recover(d, err, errcap)) < 0) goto fail;
    if ((rc = new_segment(d)) < 0) {
        snprintf(err, errcap, "disk buffer %s: cannot create a segment: %s", dir, sl_strerror(rc));
        goto fail;
    }
    if (d->nsegs == 1) { /* nothing recovered: start at the new segment */
        d->ack = (struct pos){d->segs[0].seq, SEG_HDR};
        d->ack_index = 0;
    }
    d->rd = d->ack;
    d->last_sync = sl_mono_ns();
    *out = d;
    return 0;
fail:
    disk_buffer_close(d);
    return rc;
}

void disk_buffer_close(struct disk_buffer *d)
{
    if (!d) return;
    if (d->wfd >= 0) {
        sl_fdatasync(d->wfd);
        close(d->wfd);
    }
    close_rd(d);
    if (d->lock_fd >= 0) close(d->lock_fd);
    sl_free(d->segs);
    sl_free(d->inflight);
    sl_free(d->dir);
    sl_buf_release(&d->scratch);
    sl_free(d);
}

int disk_buffer_sync(struct disk_buffer *d)
{
    if (!d->dirty || d->wfd < 0) return 0;
    d->dirty = 0;
    d->last_sync = sl_mono_ns();
    return sl_fdatasync(d->wfd);
}

long disk_buffer_add(struct disk_buffer *d, const struct metric *m)
{
    sl_buf_reset(&d->scratch);
    int rc = sl_buf_add(&d->scratch, "\0\0\0\0\0\0\0\0", REC_HDR);
    if (rc == 0) rc = metric_write_lp(m, &d->scratch, NULL);
    if (rc < 0) return rc;
    size_t n = d->scratch.len - REC_HDR;
    if (n > REC_MAX) return SL_ETOOBIG;
    unsigned char *h = (unsigned char *)d->scratch.ptr;
    put32(h, (uint32_t)n);
    put32(h + 4, sl_crc32c(0, d->scratch.ptr + REC_HDR, n));
    struct seg *tail = &d->segs[d->nsegs - 1];
    if (tail->records && tail->size + d->scratch.len > d->seg_max) {
        if ((rc = new_segment(d)) < 0) return rc;
        tail = &d->segs[d->nsegs - 1];
    }
    if ((rc = sl_write_full(d->wfd, d->scratch.ptr, d->scratch.len)) < 0) {
        /* undo a partial append so the segment stays parseable */
        if (ftruncate(d->wfd, (off_t)tail->size) < 0)
            sl_error("agent", "disk buffer %s: cannot undo a partial write: %s", d->dir,
                     strerror(errno));
        lseek(d->wfd, 0, SEEK_END);
        return rc;
    }
    tail->size += d->scratch.len;
    tail->records++;
    d->pending++;
    d->dirty = 1;
    if (sl_mono_ns() - d->last_sync >= SL_NS_PER_S) disk_buffer_sync(d);
    uint64_t total = 0;
    for (size_t i = 0; i < d->nsegs; i++)
        total += d->segs[i].size;
    uint64_t before = d->dropped;
    while (total > d->max_bytes && d->nsegs > 1) {
        total -= d->segs[0].size;
        drop_head(d, 1);
    }
    return (long)(d->dropped - before);
}

size_t disk_buffer_len(const struct disk_buffer *d)
{
    return (size_t)(d->pending - d->inflight_live);
}

/* Reads the record at d->rd into a metric; advances rd. Returns 1 with
 * *m set (or NULL for a record that cannot be used, counted as dropped), 0
 * at the end of the data, < 0 on I/O error. */
static int read_one(struct disk_buffer *d, struct metric **m, int *lost)
{
    *m = NULL;
    *lost = 0;
    for (;;) {
        struct seg *s = seg_find(d, d->rd.seq);
        if (!s) return 0;
        if (d->rd.off + REC_HDR <= s->size) break;
        if (s == &d->segs[d->nsegs - 1]) return 0;
        d->rd = (struct pos){(s + 1)->seq, SEG_HDR};
    }
    if (d->rd_fd < 0 || d->rd_fd_seq != d->rd.seq) {
        close_rd(d);
        char path[4096];
        seg_path(d, d->rd.seq, path, sizeof(path));
        if ((d->rd_fd = open(path, O_RDONLY | O_CLOEXEC)) < 0) return SL_EIO;
        d->rd_fd_seq = d->rd.seq;
    }
    unsigned char hdr[REC_HDR];
    if (sl_pread_full(d->rd_fd, hdr, REC_HDR, (off_t)d->rd.off) < 0) return SL_EIO;
    uint32_t n = get32(hdr), crc = get32(hdr + 4);
    struct seg *s = seg_find(d, d->rd.seq);
    if (n == 0 || n > REC_MAX || d->rd.off + REC_HDR + n > s->size) {
        /* cannot happen for data we scanned or wrote; skip the segment */
        sl_error("agent", "disk buffer %s: bad record header in segment %016" PRIx64, d->dir,
                 d->rd.seq);
        return SL_ECORRUPT;
    }
    sl_buf_reset(&d->scratch);
    if (sl_buf_reserve(&d->scratch, n + 1) < 0) return SL_ENOMEM;
    if (sl_pread_full(d->rd_fd, d->scratch.ptr, n, (off_t)(d->rd.off + REC_HDR)) < 0) return SL_EIO;
    d->rd.off += REC_HDR + n;
    if (sl_crc32c(0, d->scratch.ptr, n) != crc) {
        *lost = 1;
        return 1;
    }
    struct lp_parser lp;
    struct lp_point pt;
    struct lp_error le;
    lp_parser_init(&lp, d->scratch.ptr, n, NULL);
    if (lp_parser_next(&lp, &pt, &le) == LP_POINT)
        *m = metric_from_lp(&pt, 0);
    else
        *lost = 1;
    lp_parser_release(&lp);
    return 1;
}

size_t disk_buffer_take(struct disk_buffer *d, struct metric **out, size_t max)
{
    size_t got = 0;
    while (got < max) {
        struct metric *m;
        int lost;
        struct pos start = d->rd;
        int r = read_one(d, &m, &lost);
        if (r <= 0) {
            if (r == SL_ECORRUPT) {
                /* skip the rest of this segment */
                struct seg *s = seg_find(d, start.seq);
                if (s) d->rd.off = s->size;
                continue;
            }
            break;
        }
        struct pos *ni = sl_grow(d->inflight, &d->inflight_cap, d->ninflight + 1, sizeof(*ni));
        if (!ni) {
            metric_free(m);
            d->rd = start;
            break;
        }
        d->inflight = ni;
        if (!m) {
            /* An allocation failure (retry later), or a record that fails
             * its check: that one is acknowledged on its own, counted, when
             * nothing else is in flight (else the next take meets it). */
            if (!lost || d->ninflight) {
                d->rd = start;
                break;
            }
            d->inflight[d->ninflight++] = d->rd;
            d->inflight_live++;
            d->dropped++;
            sl_error("agent", "disk buffer %s: dropped a record that fails its check", d->dir);
            disk_buffer_ack(d, 1);
            continue;
        }
        d->inflight[d->ninflight++] = d->rd;
        d->inflight_live++;
        out[got++] = m;
    }
    return got;
}

int disk_buffer_ack(struct disk_buffer *d, size_t n)
{
    if (n > d->ninflight) n = d->ninflight;
    if (n == 0) return 0;
    uint64_t first = d->segs[0].seq;
    for (size_t i = 0; i < n; i++) {
        struct pos e = d->inflight[i];
        if (e.seq < first || !seg_find(d, e.seq)) continue; /* dropped meanwhile */
        if (!pos_lt(d->ack, e)) continue;
        if (e.seq != d->ack.seq) d->ack_index = 0;
        d->ack = e;
        d->ack_index++;
        d->pending--;
        d->inflight_live--;
    }
    memmove(d->inflight, d->inflight + n, (d->ninflight - n) * sizeof(*d->inflight));
    d->ninflight -= n;
    /* move past a finished segment and delete everything before the ack */
    struct seg *s = seg_find(d, d->ack.seq);
    if (s && d->ack.off >= s->size && s != &d->segs[d->nsegs - 1]) {
        d->ack = (struct pos){(s + 1)->seq, SEG_HDR};
        d->ack_index = 0;
    }
    int rc = ack_persist(d);
    if (rc < 0)
        sl_error("agent", "disk buffer %s: cannot persist the acknowledgement: %s", d->dir,
                 sl_strerror(rc));
    while (d->nsegs > 1 && d->segs[0].seq < d->ack.seq)
        drop_head(d, 0);
    return rc;
}

void disk_buffer_rewind(struct disk_buffer *d)
{
    d->ninflight = 0;
    d->inflight_live = 0;
    d->rd = d->ack;
}

void disk_buffer_stats(const struct disk_buffer *d, struct disk_buffer_stats *st)
{
    memset(st, 0, sizeof(*st));
    st->pending = d->pending;
    st->segments = d->nsegs;
    for (size_t i = 0; i < d->nsegs; i++)
        st->bytes += d->segs[i].size;
    st->dropped = d->dropped;
    st->replayed = d->replayed;
}

const char *disk_buffer_dir(const struct disk_buffer *d)
{
    return d->dir;
}
