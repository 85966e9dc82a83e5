/*
 * disk.c — the disk (statfs of each mount) and diskio (/proc/diskstats)
 * inputs, following Telegraf's disk.go/diskio.go and gopsutil:
 *   disk   mounts from /proc/1/mountinfo (fallback /proc/self/mountinfo);
 *          statfs with f_bsize: total = blocks·bsize, free = bavail·bsize,
 *          used = (blocks − bfree)·bsize; mounts with total 0 (proc, sysfs,
 *          cgroup...) are skipped; used_percent = used/(used+free)·100.
 *   diskio counters as they are, sectors × 512 for bytes; tag serial from
 *          udev's database ("unknown" when absent) unless skip_serial_number.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>

#include "agent/conf.h"
#include "agent/filter.h"
#include "agent/inputs/inputs.h"
#include "agent/plugin.h"
#include "common/err.h"
#include "common/mem.h"

struct disk_input {
    char *proc_root; /* first, for input_root_set */
    struct glob_list mount_points, ignore_fs, ignore_mount_opts;
};

static const char *const default_ignore_fs[] = {"tmpfs",   "devtmpfs", "devfs",   "iso9660",
                                                "overlay", "aufs",     "squashfs"};

static void disk_free(void *state)
{
    struct disk_input *s = state;
    sl_free(s->proc_root);
    glob_list_release(&s->mount_points);
    glob_list_release(&s->ignore_fs);
    glob_list_release(&s->ignore_mount_opts);
    sl_free(s);
}

static int disk_init(struct plugin_conf *c, void **state)
{
    struct disk_input *s = sl_calloc(1, sizeof(*s));
    if (!s) return SL_ENOMEM;
    int rc = SL_ENOMEM;
    int have_ignore = conf_has(c, "ignore_fs");
    if (!(s->proc_root = sl_strdup(agent_host_path("proc")))) goto fail;
    if ((rc = conf_strlist(c, "mount_points", &s->mount_points)) < 0) goto fail;
    if ((rc = conf_strlist(c, "ignore_fs", &s->ignore_fs)) < 0) goto fail;
    if ((rc = conf_strlist(c, "ignore_mount_opts", &s->ignore_mount_opts)) < 0) goto fail;
    if (!have_ignore)
        for (size_t i = 0; i < sizeof(default_ignore_fs) / sizeof(default_ignore_fs[0]); i++)
            if ((rc = glob_list_add(&s->ignore_fs, default_ignore_fs[i])) < 0) goto fail;
    *state = s;
    return 0;
fail:
    disk_free(s);
    return rc;
}

/* 1 when any of the comma-separated mount options is in the list. */
static int opts_ignored(const struct glob_list *l, const char *opts)
{
    char one[256];
    for (const char *p = opts; l->n && *p;) {
        size_t k = strcspn(p, ",");
        if (k < sizeof(one)) {
            memcpy(one, p, k);
            one[k] = '\0';
            if (glob_list_match(l, one)) return 1;
        }
        p += k;
        if (*p == ',') p++;
    }
    return 0;
}

static int disk_gather(void *state, struct agent_acc *acc)
{
    struct disk_input *s = state;
    struct mount_entry *mounts = NULL;
    size_t n = 0;
    int rc = procfs_read_mounts(s->proc_root, &mounts, &n);
    if (rc < 0) {
        acc_error(acc, "reading mounts under %s: %s", s->proc_root, sl_strerror(rc));
        return rc;
    }
    const char *prefix = agent_host_path("mount_prefix");
    size_t plen = strlen(prefix);
    for (size_t i = 0; i < n && rc == 0; i++) {
        struct mount_entry *e = &mounts[i];
        if (s->ignore_fs.n && glob_list_match(&s->ignore_fs, e->fstype)) continue;
        if (opts_ignored(&s->ignore_mount_opts, e->opts)) continue;
        /* the path as seen by the host (without HOST_MOUNT_PREFIX) */
        const char *path = e->mountpoint;
        if (plen && !strncmp(path, prefix, plen)) path += plen;
        if (!*path) path = "/";
        if (s->mount_points.n) {
            size_t k;
            for (k = 0; k < s->mount_points.n; k++)
                if (!strcmp(s->mount_points.v[k], path)) break;
            if (k == s->mount_points.n) continue;
        }
        /* a later mount on the same path hides this one */
        int hidden = 0;
        for (size_t j = i + 1; j < n; j++)
            if (!strcmp(mounts[j].mountpoint, e->mountpoint)) hidden = 1;
        if (hidden) continue;
        struct statfs st;
        if (statfs(e->mountpoint, &st) != 0) continue;
        uint64_t bsize = (uint64_t)st.f_bsize;
        uint64_t total = (uint64_t)st.f_blocks * bsize;
        if (total == 0) continue;
        uint64_t free_ = (uint64_t)st.f_bavail * bsize;
        uint64_t used = ((uint64_t)st.f_blocks - (uint64_t)st.f_bfree) * bsize;
        uint64_t itotal = st.f_files, ifree = st.f_ffree;
        uint64_t iused = itotal >= ifree ? itotal - ifree : 0;
        double pct = used + free_ > 0 ? (double)used / ((double)used + (double)free_) * 100.0 : 0;
        double ipct = itotal > 0 ? (double)iused / (double)itotal * 100.0 : 0;
        const char *dev = e->device;
        char devbuf[256];
        if (!strcmp(dev, "/dev/root")) {
            /* resolve through /sys/dev/block/<maj:min> as gopsutil does */
            char link[512], target[256];
            snprintf(link, sizeof(link), "%s/dev/block/%s", agent_host_path("sys"), e->devid);
            ssize_t r = readlink(link, target, sizeof(target) - 1);
            if (r > 0) {
                target[r] = '\0';
                const char *base = strrchr(target, '/');
                snprintf(devbuf, sizeof(devbuf), "/dev/%.200s", base ? base + 1 : target);
                dev = devbuf;
            }
        }
        if (!strncmp(dev, "/dev/", 5)) dev += 5;
        struct metric *m = acc_new_metric(acc, "disk");
        if (!m) {
            rc = SL_ENOMEM;
            break;
        }
        rc = metric_add_tag(m, "device", dev);
        if (rc == 0) rc = metric_add_tag(m, "fstype", e->fstype);
        if (rc == 0) rc = metric_add_tag(m, "mode", e->mode);
        if (rc == 0) rc = metric_add_tag(m, "path", path);
        if (rc == 0) rc = metric_add_int(m, "free", (int64_t)free_);
        if (rc == 0) rc = metric_add_int(m, "inodes_free", (int64_t)ifree);
        if (rc == 0) rc = metric_add_int(m, "inodes_total", (int64_t)itotal);
        if (rc == 0) rc = metric_add_int(m, "inodes_used", (int64_t)iused);
        if (rc == 0) rc = metric_add_float(m, "inodes_used_percent", ipct);
        if (rc == 0) rc = metric_add_int(m, "total", (int64_t)total);
        if (rc == 0) rc = metric_add_int(m, "used", (int64_t)used);
        if (rc == 0) rc = metric_add_float(m, "used_percent", pct);
        if (rc < 0) {
            metric_free(m);
            break;
        }
        rc = acc_add(acc, m);
    }
    procfs_mounts_free(mounts, n);
    return rc;
}

const struct agent_input_ops input_disk = {
    .name = "disk",
    .sample = "[[inputs.disk]]\n"
              "  ## By default stats will be gathered for all mount points.\n"
              "  ## Set mount_points will restrict the stats to only the specified mount points.\n"
              "  # mount_points = [\"/\"]\n"
              "  ## Ignore mount points by filesystem type.\n"
              "  ignore_fs = [\"tmpfs\", \"devtmpfs\", \"devfs\", \"iso9660\", \"overlay\", "
              "\"aufs\", \"squashfs\"]\n",
    .init = disk_init,
    .gather = disk_gather,
    .free = disk_free,
};

/* ---- diskio ---- */

struct diskio_input {
    char *proc_root; /* first, for input_root_set */
    struct glob_list devices;
    int skip_serial_number;
};

static void diskio_free(void *state)
{
    struct diskio_input *s = state;
    sl_free(s->proc_root);
    glob_list_release(&s->devices);
    sl_free(s);
}

static int diskio_init(struct plugin_conf *c, void **state)
{
    struct diskio_input *s = sl_calloc(1, sizeof(*s));
    if (!s) return SL_ENOMEM;
    int rc = SL_ENOMEM;
    struct glob_list ignored = {0};
    if (!(s->proc_root = sl_strdup(agent_host_path("proc")))) goto fail;
    if ((rc = conf_strlist(c, "devices", &s->devices)) < 0) goto fail;
    if ((rc = conf_bool(c, "skip_serial_number", &s->skip_serial_number)) < 0) goto fail;
    /* accepted for compatibility; their effect (udev-derived names) is not implemented */
    if ((rc = conf_strlist(c, "device_tags", &ignored)) < 0) goto fail;
    if ((rc = conf_strlist(c, "name_templates", &ignored)) < 0) goto fail;
    glob_list_release(&ignored);
    *state = s;
    return 0;
fail:
    glob_list_release(&ignored);
    diskio_free(s);
    return rc;
}

/* Reads E:ID_SERIAL= from udev's database entry for the block device. */
static void udev_serial(unsigned major, unsigned minor, char *out, size_t cap)
{
    char path[512], *text = NULL;
    snprintf(out, cap, "unknown");
    snprintf(path, sizeof(path), "%s/udev/data/b%u:%u", agent_host_path("run"), major, minor);
    if (procfs_slurp(path, 1 << 20, &text) < 0) return;
    const char *p = strstr(text, "E:ID_SERIAL=");
    if (p && (p == text || p[-1] == '\n')) {
        p += 12;
        size_t l = strcspn(p, "\n");
        if (l > 0) snprintf(out, cap, "%.*s", (int)l, p);
    }
    sl_free(text);
}

static int diskio_gather(void *state, struct agent_acc *acc)
{
    struct diskio_input *s = state;
    struct diskstat *d = NULL;
    size_t n = 0;
    int rc = procfs_read_diskstats(s->proc_root, &d, &n);
    if (rc < 0) {
        acc_error(acc, "reading %s/diskstats: %s", s->proc_root, sl_strerror(rc));
        return rc;
    }
    for (size_t i = 0; i < n && rc == 0; i++) {
        if (s->devices.n && !glob_list_match(&s->devices, d[i].name)) continue;
        struct metric *m = acc_new_metric(acc, "diskio");
        if (!m) {
            rc = SL_ENOMEM;
            break;
        }
        rc = metric_add_tag(m, "name", d[i].name);
        if (rc == 0 && !s->skip_serial_number) {
            char serial[256];
            udev_serial(d[i].major, d[i].minor, serial, sizeof(serial));
            rc = metric_add_tag(m, "serial", serial);
        }
        struct {
            const char *k;
            uint64_t v;
        } f[] = {
            {"io_time", d[i].io_time},
            {"iops_in_progress", d[i].iops_in_progress},
            {"merged_reads", d[i].merged_reads},
            {"merged_writes", d[i].merged_writes},
            {"read_bytes", d[i].read_sectors * 512},
            {"read_time", d[i].read_time},
            {"reads", d[i].reads},
            {"weighted_io_time", d[i].weighted_io_time},
            {"write_bytes", d[i].write_sectors * 512},
            {"write_time", d[i].write_time},
            {"writes", d[i].writes},
        };
        for (size_t k = 0; k < sizeof(f) / sizeof(f[0]) && rc == 0; k++)
            rc = metric_add_int(m, f[k].k, f[k].v > INT64_MAX ? INT64_MAX : (int64_t)f[k].v);
        if (rc < 0) {
            metric_free(m);
            break;
        }
        rc = acc_add(acc, m);
    }
    sl_free(d);
    return rc;
}

const struct agent_input_ops input_diskio = {
    .name = "diskio",
    .sample = "[[inputs.diskio]]\n"
              "  ## Devices to collect stats for (globs); all by default.\n"
              "  # devices = [\"sda\", \"sdb\", \"vd*\"]\n"
              "  ## Skip gathering of the disk's serial numbers.\n"
              "  # skip_serial_number = true\n",
    .init = diskio_init,
    .gather = diskio_gather,
    .free = diskio_free,
};
