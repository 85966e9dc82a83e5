/*
 * wal.c — the write-ahead log: file format, group commit, rotation and
 * checkpoints. Recovery (replay) lives in wal_replay.c.
 *
 * FILES
 *
 * The WAL is a directory of segment files named wal-<first LSN as 16 lower-case
 * hex digits>.log; other names are ignored. Sorted by name they are in LSN
 * order. The last one is the active segment; the others are sealed.
 *
 * SEGMENT HEADER (32 bytes, integers little-endian)
 *
 *   offset size  field
 *        0    8  magic "SLWAL001"
 *        8    4  format version (1)
 *       12    4  header size (32)
 *       16    8  LSN of the first record of this segment (>= 1, equals the name)
 *       24    4  reserved, zero
 *       28    4  CRC-32C of bytes 0..27
 *
 * RECORD (16-byte header + payload, packed back to back after the header)
 *
 *   offset size  field
 *        0    4  length word: bits 0..28 payload length (<= 256 MiB),
 *                bits 29..30 zero, bit 31 = BATCH (first record of a batch)
 *        4    4  CRC-32C of bytes 0..3, then bytes 8..15, then the payload
 *                (that is, of length word || lsn || payload)
 *        8    8  LSN
 *       16    n  payload (opaque to the WAL)
 *
 * LSNs start at 1 and increase by exactly one from record to record, across
 * segments. After the last record, the rest of the active segment is zero
 * (it is preallocated with fallocate so that fdatasync does not have to
 * journal a size change per commit); a 16-byte all-zero header, or the end of
 * the file, ends a segment. A zero header can never be a record: LSN 0 is
 * never used.
 *
 * WRITING (adaptive group commit)
 *
 * Appenders encode their record into a shared pending buffer under one mutex;
 * the first record put into an empty buffer gets the BATCH flag. An appender
 * that wants durability and finds no sync running becomes the leader: it takes
 * the whole pending buffer (a "batch"), releases the mutex, writes the batch
 * with one write and calls fdatasync, then wakes everyone. Records appended
 * while it syncs accumulate in the buffer and share the next sync, led by one
 * of their appenders. So an idle WAL syncs each write at once and a busy one
 * amortises a sync over every write that arrived during the previous one.
 * Non-syncing appends only fill the buffer (the appender flushes it itself
 * once WAL_FLUSH_BYTES are pending).
 *
 * Invariant: a batch is written only after the previous batch is durable,
 * and a new segment is created (header synced, directory synced) only after
 * the last batch of the old one is durable. Hence at most one batch — the
 * last one of the active segment — can be partly on disk after a crash, and
 * only it may contain damage that is not real corruption.
 *
 * ERRORS
 *
 * If a write or fdatasync fails, the WAL enters a sticky error state: the
 * appends of that batch get SL_EIO, every later append SL_ESTATE, and nothing
 * is written or synced again until the process reopens the WAL and replays.
 * Retrying fdatasync after a failure is unsafe (Linux may have dropped the
 * dirty pages and reports the error once: the PostgreSQL "fsyncgate").
 *
 * RECOVERY RULES (wal_replay.c)
 *
 * 1. Segments are read in name order. A header must be valid and match the
 *    name; a segment must start at the LSN after the previous one's last.
 * 2. Records are read while header, length, CRC and LSN check out. A zero
 *    header followed only by zeros, or the end of the file, ends a segment.
 * 3. In the active (last) segment, damage at offset X is a torn tail if no
 *    intact record carrying the BATCH flag follows X: such records can only
 *    belong to the unfinished last batch, which nobody was told is durable.
 *    The segment is truncated at X (and preallocated again) and replay
 *    succeeds. A last segment whose header is missing or zero and that holds
 *    no record is a torn rotation and is deleted.
 * 4. Any other damage (a sealed segment, or an intact later batch after the
 *    damage, or a gap or overlap in LSNs between segments) fails replay with
 *    SL_ECORRUPT and a message naming the file and offset. With skip_corrupt
 *    the damaged bytes are skipped up to the next intact record with a
 *    higher LSN, and counted in the stats.
 */
#include "wal/wal.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/crc32c.h"
#include "common/err.h"
#include "common/fsutil.h"
#include "common/log.h"
#include "common/mem.h"
#include "common/timeutil.h"
#include "wal/wal_int.h"

/* ---- helpers shared with wal_replay.c ---- */

void wal_set_error(struct wal *w, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(w->err, sizeof(w->err), fmt, ap);
    va_end(ap);
}

int wal_seg_path(const struct wal *w, uint64_t first_lsn, char *out, size_t cap)
{
    int n = snprintf(out, cap, "%s/wal-%016" PRIx64 ".log", w->dir, first_lsn);
    return n < 0 || (size_t)n >= cap ? SL_EINVAL : 0;
}

void wal_seg_header(uint8_t *hdr, uint64_t first_lsn)
{
    memset(hdr, 0, WAL_HDR_SIZE);
    memcpy(hdr, WAL_MAGIC, 8);
    wal_put32(hdr + 8, WAL_VERSION);
    wal_put32(hdr + 12, WAL_HDR_SIZE);
    wal_put64(hdr + 16, first_lsn);
    wal_put32(hdr + 28, sl_crc32c(0, hdr, 28));
}

uint64_t wal_seg_header_check(const uint8_t *hdr)
{
    if (memcmp(hdr, WAL_MAGIC, 8) != 0) return 0;
    if (wal_get32(hdr + 8) != WAL_VERSION || wal_get32(hdr + 12) != WAL_HDR_SIZE) return 0;
    if (wal_get32(hdr + 24) != 0 || wal_get32(hdr + 28) != sl_crc32c(0, hdr, 28)) return 0;
    uint64_t lsn = wal_get64(hdr + 16);
    return lsn >= WAL_MAX_LSN ? 0 : lsn;
}

uint32_t wal_rec_crc(const uint8_t *hdr, const void *payload, size_t len)
{
    uint32_t crc = sl_crc32c(0, hdr, 4);
    crc = sl_crc32c(crc, hdr + 8, 8);
    return sl_crc32c(crc, payload, len);
}

void wal_seg_prealloc(struct wal *w)
{
    if (w->seg_alloc >= w->segment_bytes) return;
    /* Best effort: without preallocation the WAL still works, only the
     * syncs cost a little more. A full disk shows up in the next write. */
    if (fallocate(w->fd, 0, 0, (off_t)w->segment_bytes) == 0) w->seg_alloc = w->segment_bytes;
}

static int seg_list_add(struct wal *w, uint64_t first_lsn, uint64_t bytes)
{
    struct wal_seg *s = sl_grow(w->segs, &w->segs_cap, w->nsegs + 1, sizeof(*s));
    if (!s) return SL_ENOMEM;
    w->segs = s;
    s[w->nsegs].first_lsn = first_lsn;
    s[w->nsegs].bytes = bytes;
    w->nsegs++;
    return 0;
}

int wal_seg_create(struct wal *w, uint64_t first_lsn)
{
    char path[4096];
    uint8_t hdr[WAL_HDR_SIZE];
    int rc = wal_seg_path(w, first_lsn, path, sizeof(path));
    if (rc < 0) return rc;
    int fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) {
        pthread_mutex_lock(&w->mu);
        wal_set_error(w, "cannot create '%s': %s", path, strerror(errno));
        pthread_mutex_unlock(&w->mu);
        return SL_EIO;
    }
    w->fd = fd;
    w->seg_first = first_lsn;
    w->seg_off = WAL_HDR_SIZE;
    w->seg_alloc = 0;
    wal_seg_prealloc(w);
    wal_seg_header(hdr, first_lsn);
    rc = sl_write_full(fd, hdr, sizeof(hdr));
    if (rc == 0) rc = sl_fdatasync(fd);
    if (rc == 0) rc = sl_fsync_dir(w->dir);
    pthread_mutex_lock(&w->mu);
    if (rc < 0)
        wal_set_error(w, "cannot initialise '%s': %s", path, strerror(errno));
    else
        rc = seg_list_add(w, first_lsn, w->seg_alloc > WAL_HDR_SIZE ? w->seg_alloc : WAL_HDR_SIZE);
    pthread_mutex_unlock(&w->mu);
    return rc;
}

/* ---- the leader: write + sync one batch, rotate ---- */

/* Seals the active segment (its data is durable already) and starts a new
 * one at first_lsn. Called by the leader without mu. */
static int seg_rotate(struct wal *w, uint64_t first_lsn)
{
    if (w->fd >= 0) {
        /* Drop the unused preallocation; if this is lost in a crash the
         * zeros left behind read as the end of the segment. */
        if (ftruncate(w->fd, (off_t)w->seg_off) != 0)
            sl_warn("wal", "cannot trim segment %016" PRIx64 " in '%s': %s", w->seg_first, w->dir,
                    strerror(errno));
        close(w->fd);
        w->fd = -1;
        pthread_mutex_lock(&w->mu);
        if (w->nsegs) w->segs[w->nsegs - 1].bytes = w->seg_off;
        pthread_mutex_unlock(&w->mu);
    }
    return wal_seg_create(w, first_lsn);
}

static unsigned hist_bucket(uint64_t ns)
{
    uint64_t us = ns / 1000;
    unsigned k = 0;
    while (us > 1 && k < WAL_SYNC_HIST_BUCKETS - 1) {
        us >>= 1;
        k++;
    }
    return k;
}

/*
 * Called with mu held and no leader. Takes the leader role and everything
 * pending, writes and syncs it (rotating before when the batch would overflow
 * the segment, after when force_rotate or the segment is full), and returns
 * with mu held and the role released. On failure the WAL is failed for good.
 */
static int lead(struct wal *w, int force_rotate)
{
    struct sl_buf batch = w->pend;
    uint64_t last = w->next_lsn - 1;
    uint64_t first = w->durable_lsn + 1;
    int rc = 0;
    const char *what = "write";

    w->leading = 1;
    w->pend = w->spare;
    sl_buf_init(&w->spare, w->pend.max);
    pthread_mutex_unlock(&w->mu);

    int64_t t0 = sl_mono_ns(), dt = 0;
    if (batch.len) {
        if (w->seg_off > WAL_HDR_SIZE && w->seg_off + batch.len > w->segment_bytes) {
            what = "rotate";
            rc = seg_rotate(w, first);
            t0 = sl_mono_ns();
        }
        if (rc == 0) {
            what = "write";
            rc = sl_write_full(w->fd, batch.ptr, batch.len);
        }
        if (rc == 0) {
            w->seg_off += batch.len;
            what = "fdatasync";
            rc = sl_fdatasync(w->fd);
        }
        dt = sl_mono_ns() - t0;
    }
    int rotate = force_rotate ? w->seg_off > WAL_HDR_SIZE : w->seg_off >= w->segment_bytes;
    if (rc == 0 && rotate) {
        what = "rotate";
        rc = seg_rotate(w, last + 1);
    }
    int err = errno;

    pthread_mutex_lock(&w->mu);
    /* Keep the batch's memory for the next one unless it grew huge. */
    sl_buf_reset(&batch);
    sl_buf_release(&w->spare);
    if (batch.cap > 4 * WAL_FLUSH_BYTES)
        sl_buf_release(&batch);
    else
        w->spare = batch;
    if (rc == 0) {
        w->last_group = last - w->durable_lsn;
        w->last_end_ns = sl_mono_ns();
        w->durable_lsn = last;
        if (dt) {
            w->st.syncs++;
            w->st.sync_ns_total += (uint64_t)dt;
            w->st.sync_hist[hist_bucket((uint64_t)dt)]++;
        }
        if (w->nsegs) {
            struct wal_seg *s = &w->segs[w->nsegs - 1];
            s->bytes = w->seg_off > w->seg_alloc ? w->seg_off : w->seg_alloc;
        }
    } else {
        w->failed = 1;
        w->fail_lsn = last;
        w->st.sync_errors++;
        if (strcmp(what, "rotate") != 0) /* wal_seg_create said what failed */
            wal_set_error(w,
                          "wal %s failed in '%s' (segment %016" PRIx64 "): %s; "
                          "the wal refuses writes until restart",
                          what, w->dir, w->seg_first, strerror(err));
        rc = SL_EIO;
    }
    w->leading = 0;
    pthread_cond_broadcast(&w->cv);
    return rc;
}

/* ---- public API ---- */

int wal_open(const struct wal_opts *o, struct wal **out)
{
    int rc = 0;
    *out = NULL;
    if (!o || !o->dir || !o->dir[0]) return SL_EINVAL;
    struct wal *w = sl_calloc(1, sizeof(*w));
    if (!w) return SL_ENOMEM;
    w->fd = -1;
    pthread_mutex_init(&w->mu, NULL);
    pthread_cond_init(&w->cv, NULL);
    sl_buf_init(&w->pend, WAL_PEND_MAX + WAL_MAX_RECORD + WAL_REC_HDR);
    sl_buf_init(&w->spare, w->pend.max);
    w->skip_corrupt = o->skip_corrupt;
    w->segment_bytes = o->segment_bytes ? o->segment_bytes : WAL_DEFAULT_SEGMENT_BYTES;
    if (w->segment_bytes < WAL_MIN_SEGMENT) w->segment_bytes = WAL_MIN_SEGMENT;
    w->dir = sl_strdup(o->dir);
    if (!w->dir) {
        rc = SL_ENOMEM;
        goto out;
    }
    struct stat st;
    int existed = stat(o->dir, &st) == 0;
    if ((rc = sl_mkdirs(o->dir, 0)) < 0) {
        wal_set_error(w, "cannot create wal directory '%s'", o->dir);
        goto out;
    }
    if (!existed) {
        char parent[4096];
        snprintf(parent, sizeof(parent), "%s/..", o->dir);
        sl_fsync_dir(parent);
    }
    rc = wal_seg_list(w);
out:
    if (rc < 0) {
        wal_close(w);
        return rc;
    }
    *out = w;
    return 0;
}

static int append_locked(struct wal *w, const struct iovec *iov, int iovcnt, size_t len, int sync,
                         uint64_t *lsn)
{
    int rc;
    size_t need = WAL_REC_HDR + len;
    if (!w->ready) {
        wal_set_error(w, "wal_replay must succeed before the first append");
        return SL_EINVAL;
    }
    /* Back-pressure: never let the pending batch grow past WAL_PEND_MAX. */
    while (!w->failed && w->pend.len && w->pend.len + need > WAL_PEND_MAX) {
        if (!w->leading)
            lead(w, 0);
        else
            pthread_cond_wait(&w->cv, &w->mu);
    }
    if (w->failed) return SL_ESTATE;
    if ((rc = sl_buf_reserve(&w->pend, need)) < 0) {
        wal_set_error(w, "out of memory for a %zu-byte wal record", len);
        return rc;
    }
    uint8_t *h = (uint8_t *)w->pend.ptr + w->pend.len;
    uint64_t my = w->next_lsn++;
    wal_put32(h, (uint32_t)len | (w->pend.len == 0 ? WAL_FLAG_BATCH : 0));
    wal_put64(h + 8, my);
    uint8_t *p = h + WAL_REC_HDR;
    for (int i = 0; i < iovcnt; i++) {
        if (iov[i].iov_len) memcpy(p, iov[i].iov_base, iov[i].iov_len);
        p += iov[i].iov_len;
    }
    wal_put32(h + 4, wal_rec_crc(h, h + WAL_REC_HDR, len));
    w->pend.len += need;
    w->pend.ptr[w->pend.len] = '\0';
    w->st.records++;
    w->st.bytes += need;
    if (lsn) *lsn = my;

    if (!sync) {
        if (w->pend.len >= WAL_FLUSH_BYTES && !w->leading) {
            if (lead(w, 0) < 0) return SL_EIO;
        }
        return 0;
    }
    int yielded = 0;
    while (w->durable_lsn < my) {
        if (w->failed) return my <= w->fail_lsn ? SL_EIO : SL_ESTATE;
        if (w->leading) {
            pthread_cond_wait(&w->cv, &w->mu);
            continue;
        }
        /* Busy (the last batch was shared and just ended) and fewer records
         * pending than it had: the appenders it released are probably about
         * to append again, so give them one chance to join this batch. */
        if (!yielded && w->last_group > 1 && w->next_lsn - 1 - w->durable_lsn < w->last_group &&
            sl_mono_ns() - w->last_end_ns < 1000000) {
            yielded = 1;
            pthread_mutex_unlock(&w->mu);
            sched_yield();
            pthread_mutex_lock(&w->mu);
            continue;
        }
        lead(w, 0);
    }
    return 0;
}

int wal_appendv(struct wal *w, const struct iovec *iov, int iovcnt, int sync, uint64_t *lsn)
{
    size_t len = 0;
    if (iovcnt < 0 || (iovcnt > 0 && !iov)) return SL_EINVAL;
    for (int i = 0; i < iovcnt; i++) {
        if (iov[i].iov_len > WAL_MAX_RECORD - len) {
            pthread_mutex_lock(&w->mu);
            wal_set_error(w, "wal record larger than %zu bytes", WAL_MAX_RECORD);
            pthread_mutex_unlock(&w->mu);
            return SL_ETOOBIG;
        }
        if (iov[i].iov_len && !iov[i].iov_base) return SL_EINVAL;
        len += iov[i].iov_len;
    }
    pthread_mutex_lock(&w->mu);
    int rc = append_locked(w, iov, iovcnt, len, sync, lsn);
    pthread_mutex_unlock(&w->mu);
    return rc;
}

int wal_append(struct wal *w, const void *rec, size_t len, int sync, uint64_t *lsn)
{
    struct iovec iov = {(void *)rec, len};
    return wal_appendv(w, &iov, 1, sync, lsn);
}

int wal_sync(struct wal *w)
{
    int rc = 0;
    pthread_mutex_lock(&w->mu);
    uint64_t target = w->next_lsn - 1;
    if (!w->ready || w->failed) {
        rc = w->ready ? SL_ESTATE : SL_EINVAL;
        goto out;
    }
    while (w->durable_lsn < target) {
        if (w->failed) {
            rc = target <= w->fail_lsn ? SL_EIO : SL_ESTATE;
            goto out;
        }
        if (!w->leading)
            lead(w, 0);
        else
            pthread_cond_wait(&w->cv, &w->mu);
    }
    if (w->failed) rc = SL_ESTATE;
out:
    pthread_mutex_unlock(&w->mu);
    return rc;
}

int wal_rotate(struct wal *w)
{
    int rc = 0;
    pthread_mutex_lock(&w->mu);
    if (!w->ready) {
        rc = SL_EINVAL;
        goto out;
    }
    while (w->leading && !w->failed)
        pthread_cond_wait(&w->cv, &w->mu);
    if (w->failed) {
        rc = SL_ESTATE;
        goto out;
    }
    rc = lead(w, 1);
out:
    pthread_mutex_unlock(&w->mu);
    return rc;
}

int wal_checkpoint(struct wal *w, uint64_t lsn)
{
    int rc = 0;
    uint64_t *victims = NULL;
    size_t nv = 0;
    pthread_mutex_lock(&w->mu);
    if (!w->ready) {
        rc = SL_EINVAL;
        goto out;
    }
    /* The active segment holds records and all of them are covered: rotate
     * so that it becomes a sealed one that can go. */
    uint64_t active_first = w->segs[w->nsegs - 1].first_lsn;
    if (!w->failed && w->next_lsn > active_first && w->next_lsn - 1 <= lsn) {
        pthread_mutex_unlock(&w->mu);
        rc = wal_rotate(w);
        pthread_mutex_lock(&w->mu);
        if (rc < 0) goto out;
    }
    size_t n = 0;
    while (n + 1 < w->nsegs && w->segs[n + 1].first_lsn - 1 <= lsn)
        n++;
    if (n == 0) goto out;
    victims = sl_malloc(n * sizeof(*victims));
    if (!victims) {
        rc = SL_ENOMEM;
        goto out;
    }
    for (size_t i = 0; i < n; i++)
        victims[i] = w->segs[i].first_lsn;
    memmove(w->segs, w->segs + n, (w->nsegs - n) * sizeof(*w->segs));
    w->nsegs -= n;
    nv = n;
out:
    pthread_mutex_unlock(&w->mu);
    for (size_t i = 0; i < nv; i++) {
        char path[4096];
        if (wal_seg_path(w, victims[i], path, sizeof(path)) == 0 && unlink(path) != 0 &&
            errno != ENOENT && rc == 0) {
            pthread_mutex_lock(&w->mu);
            wal_set_error(w, "cannot delete '%s': %s", path, strerror(errno));
            pthread_mutex_unlock(&w->mu);
            rc = SL_EIO;
        }
    }
    if (nv && rc == 0) rc = sl_fsync_dir(w->dir);
    sl_free(victims);
    return rc;
}

uint64_t wal_last_lsn(struct wal *w)
{
    pthread_mutex_lock(&w->mu);
    uint64_t v = w->next_lsn ? w->next_lsn - 1 : 0;
    pthread_mutex_unlock(&w->mu);
    return v;
}

uint64_t wal_durable_lsn(struct wal *w)
{
    pthread_mutex_lock(&w->mu);
    uint64_t v = w->durable_lsn;
    pthread_mutex_unlock(&w->mu);
    return v;
}

int wal_failed(struct wal *w)
{
    pthread_mutex_lock(&w->mu);
    int v = w->failed;
    pthread_mutex_unlock(&w->mu);
    return v;
}

const char *wal_last_error(struct wal *w)
{
    return w->err;
}

void wal_get_stats(struct wal *w, struct wal_stats *st)
{
    pthread_mutex_lock(&w->mu);
    *st = w->st;
    st->segments = w->nsegs;
    pthread_mutex_unlock(&w->mu);
}

size_t wal_disk_bytes(struct wal *w)
{
    size_t total = 0;
    pthread_mutex_lock(&w->mu);
    for (size_t i = 0; i < w->nsegs; i++)
        total += w->segs[i].bytes;
    pthread_mutex_unlock(&w->mu);
    return total;
}

void wal_close(struct wal *w)
{
    if (!w) return;
    pthread_mutex_lock(&w->mu);
    while (w->leading)
        pthread_cond_wait(&w->cv, &w->mu);
    if (w->ready && !w->failed && w->pend.len) lead(w, 0);
    pthread_mutex_unlock(&w->mu);
    if (w->fd >= 0) close(w->fd);
    sl_buf_release(&w->pend);
    sl_buf_release(&w->spare);
    pthread_cond_destroy(&w->cv);
    pthread_mutex_destroy(&w->mu);
    sl_free(w->segs);
    sl_free(w->dir);
    sl_free(w);
}
