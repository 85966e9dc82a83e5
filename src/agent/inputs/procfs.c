/*
 * procfs.c — parsers for /proc and /sys files used by the system inputs.
 *
 * The files are read whole (they are small; each read is capped) and parsed
 * with strtoull-style scanning; malformed lines are skipped rather than
 * trusted, since a container may present odd or truncated files.
 */
#include "agent/inputs/procfs.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <utmp.h>

#include "common/err.h"
#include "common/mem.h"

int procfs_slurp(const char *path, size_t max, char **out)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return errno == ENOENT ? SL_ENOENT : SL_EIO;
    size_t cap = 4096, len = 0;
    char *b = sl_malloc(cap);
    int rc = 0;
    if (!b) {
        rc = SL_ENOMEM;
        goto out;
    }
    for (;;) {
        if (len + 1 >= cap) {
            if (cap >= max) {
                rc = SL_ETOOBIG;
                goto out;
            }
            char *nb = sl_realloc(b, cap * 2);
            if (!nb) {
                rc = SL_ENOMEM;
                goto out;
            }
            b = nb;
            cap *= 2;
        }
        ssize_t r = read(fd, b + len, cap - len - 1);
        if (r < 0) {
            if (errno == EINTR) continue;
            rc = SL_EIO;
            goto out;
        }
        if (r == 0) break;
        len += (size_t)r;
    }
    b[len] = '\0';
    *out = b;
    b = NULL;
out:
    sl_free(b);
    close(fd);
    return rc;
}

static int slurp_at(const char *root, const char *rel, size_t max, char **out)
{
    char path[4096];
    int n = snprintf(path, sizeof(path), "%s/%s", root, rel);
    if (n < 0 || (size_t)n >= sizeof(path)) return SL_EINVAL;
    return procfs_slurp(path, max, out);
}

/* Parses up to max unsigned decimal numbers separated by blanks from *p. */
static size_t scan_u64s(const char **p, uint64_t *v, size_t max)
{
    size_t n = 0;
    const char *s = *p;
    while (n < max) {
        while (*s == ' ' || *s == '\t')
            s++;
        if (!isdigit((unsigned char)*s)) break;
        char *end;
        errno = 0;
        unsigned long long x = strtoull(s, &end, 10);
        if (errno) x = UINT64_MAX;
        v[n++] = x;
        s = end;
    }
    *p = s;
    return n;
}

static const char *next_line(const char *s)
{
    const char *nl = strchr(s, '\n');
    return nl ? nl + 1 : s + strlen(s);
}

int procfs_parse_cpu(const char *text, struct cpu_times **out, size_t *n)
{
    struct cpu_times *v = NULL;
    size_t cnt = 0, cap = 0;
    for (const char *s = text; *s; s = next_line(s)) {
        if (strncmp(s, "cpu", 3) != 0) continue;
        const char *p = s + 3;
        char name[24];
        if (*p == ' ') {
            strcpy(name, "cpu-total");
        } else {
            size_t k = 0;
            while (isdigit((unsigned char)p[k]) && k < 10)
                k++;
            if (k == 0 || p[k] != ' ') continue;
            snprintf(name, sizeof(name), "cpu%.*s", (int)k, p);
            p += k;
        }
        uint64_t f[10] = {0};
        if (scan_u64s(&p, f, 10) < 4) continue; /* user nice system idle at least */
        struct cpu_times *nv = sl_grow(v, &cap, cnt + 1, sizeof(*nv));
        if (!nv) {
            sl_free(v);
            return SL_ENOMEM;
        }
        v = nv;
        struct cpu_times *t = &v[cnt++];
        memset(t, 0, sizeof(*t));
        memcpy(t->name, name, sizeof(name));
        t->user = f[0], t->nice = f[1], t->system = f[2], t->idle = f[3];
        t->iowait = f[4], t->irq = f[5], t->softirq = f[6], t->steal = f[7];
        t->guest = f[8], t->guest_nice = f[9];
    }
    if (!cnt) {
        sl_free(v);
        return SL_EINVAL;
    }
    *out = v;
    *n = cnt;
    return 0;
}

int procfs_read_cpu(const char *proc_root, struct cpu_times **out, size_t *n)
{
    char *text = NULL;
    int rc = slurp_at(proc_root, "stat", 4 << 20, &text);
    if (rc == 0) rc = procfs_parse_cpu(text, out, n);
    sl_free(text);
    return rc;
}

uint64_t cpu_total_ticks(const struct cpu_times *t)
{
    return t->user + t->system + t->nice + t->iowait + t->irq + t->softirq + t->steal + t->idle;
}

int cpu_usage_compute(const struct cpu_times *prev, const struct cpu_times *cur,
                      struct cpu_usage *u)
{
    uint64_t tp = cpu_total_ticks(prev), tc = cpu_total_ticks(cur);
    if (tc < tp) return SL_ERANGE;
    if (tc == tp) return 0;
    double dt = (double)(tc - tp);
#define D(f) ((double)cur->f - (double)prev->f)
    u->user = 100.0 * (D(user) - D(guest)) / dt;
    u->system = 100.0 * D(system) / dt;
    u->idle = 100.0 * D(idle) / dt;
    u->nice = 100.0 * (D(nice) - D(guest_nice)) / dt;
    u->iowait = 100.0 * D(iowait) / dt;
    u->irq = 100.0 * D(irq) / dt;
    u->softirq = 100.0 * D(softirq) / dt;
    u->steal = 100.0 * D(steal) / dt;
    u->guest = 100.0 * D(guest) / dt;
    u->guest_nice = 100.0 * D(guest_nice) / dt;
    u->active = 100.0 * (((double)tc - (double)cur->idle) - ((double)tp - (double)prev->idle)) / dt;
#undef D
    return 1;
}

int procfs_parse_meminfo(const char *text, struct meminfo *mi)
{
    mi->n = 0;
    for (const char *s = text; *s && mi->n < sizeof(mi->e) / sizeof(mi->e[0]); s = next_line(s)) {
        const char *colon = strchr(s, ':');
        const char *nl = strchr(s, '\n');
        if (!colon || (nl && colon > nl)) continue;
        size_t klen = (size_t)(colon - s);
        if (klen == 0 || klen >= sizeof(mi->e[0].key)) continue;
        const char *p = colon + 1;
        uint64_t v;
        if (scan_u64s(&p, &v, 1) != 1) continue;
        while (*p == ' ')
            p++;
        if (!strncmp(p, "kB", 2)) v = v > UINT64_MAX / 1024 ? UINT64_MAX : v * 1024;
        memcpy(mi->e[mi->n].key, s, klen);
        mi->e[mi->n].key[klen] = '\0';
        mi->e[mi->n].val = v;
        mi->n++;
    }
    return mi->n ? 0 : SL_EINVAL;
}

int procfs_read_meminfo(const char *proc_root, struct meminfo *mi)
{
    char *text = NULL;
    int rc = slurp_at(proc_root, "meminfo", 1 << 20, &text);
    if (rc == 0) rc = procfs_parse_meminfo(text, mi);
    sl_free(text);
    return rc;
}

uint64_t meminfo_get(const struct meminfo *mi, const char *key)
{
    for (size_t i = 0; i < mi->n; i++)
        if (!strcmp(mi->e[i].key, key)) return mi->e[i].val;
    return UINT64_MAX;
}

/* Copies a mountinfo field, decoding the \ooo octal escapes, into a new string. */
static char *unescape_field(const char *s, size_t n)
{
    char *d = sl_malloc(n + 1);
    if (!d) return NULL;
    size_t j = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '\\' && i + 3 < n && s[i + 1] >= '0' && s[i + 1] <= '3' && s[i + 2] >= '0' &&
            s[i + 2] <= '7' && s[i + 3] >= '0' && s[i + 3] <= '7') {
            d[j++] = (char)((s[i + 1] - '0') * 64 + (s[i + 2] - '0') * 8 + (s[i + 3] - '0'));
            i += 3;
        } else {
            d[j++] = s[i];
        }
    }
    d[j] = '\0';
    return d;
}

/* Telegraf's mode tag: "rw" if the options say rw, else "ro", else "unknown". */
static const char *opts_mode(const char *o, size_t n)
{
    int ro = 0;
    for (size_t i = 0; i < n;) {
        size_t j = i;
        while (j < n && o[j] != ',')
            j++;
        if (j - i == 2 && !strncmp(o + i, "rw", 2)) return "rw";
        if (j - i == 2 && !strncmp(o + i, "ro", 2)) ro = 1;
        i = j + 1;
    }
    return ro ? "ro" : "unknown";
}

void procfs_mounts_free(struct mount_entry *m, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        sl_free(m[i].mountpoint);
        sl_free(m[i].device);
        sl_free(m[i].fstype);
        sl_free(m[i].opts);
    }
    sl_free(m);
}

int procfs_parse_mountinfo(const char *text, struct mount_entry **out, size_t *n)
{
    struct mount_entry *v = NULL;
    size_t cnt = 0, cap = 0;
    for (const char *s = text; *s; s = next_line(s)) {
        const char *eol = strchr(s, '\n');
        if (!eol) eol = s + strlen(s);
        /* split into blank-separated words */
        const char *w[64];
        size_t wl[64], nw = 0;
        for (const char *p = s; p < eol && nw < 64;) {
            while (p < eol && *p == ' ')
                p++;
            if (p == eol) break;
            const char *q = p;
            while (q < eol && *q != ' ')
                q++;
            w[nw] = p;
            wl[nw++] = (size_t)(q - p);
            p = q;
        }
        /* id parent maj:min root mountpoint opts [optional...] - fstype source superopts */
        size_t sep = 0;
        for (size_t i = 6; i < nw; i++)
            if (wl[i] == 1 && w[i][0] == '-') {
                sep = i;
                break;
            }
        if (nw < 7 || sep == 0 || sep + 2 >= nw) continue;
        struct mount_entry *nv = sl_grow(v, &cap, cnt + 1, sizeof(*nv));
        if (!nv) goto nomem;
        v = nv;
        struct mount_entry *e = &v[cnt];
        e->mountpoint = unescape_field(w[4], wl[4]);
        e->fstype = unescape_field(w[sep + 1], wl[sep + 1]);
        e->device = unescape_field(w[sep + 2], wl[sep + 2]);
        e->opts = unescape_field(w[5], wl[5]);
        e->mode = opts_mode(w[5], wl[5]);
        snprintf(e->devid, sizeof(e->devid), "%.*s", (int)(wl[2] < 31 ? wl[2] : 31), w[2]);
        cnt++;
        if (!e->mountpoint || !e->fstype || !e->device || !e->opts) goto nomem;
    }
    *out = v;
    *n = cnt;
    return 0;
nomem:
    procfs_mounts_free(v, cnt);
    return SL_ENOMEM;
}

int procfs_read_mounts(const char *proc_root, struct mount_entry **out, size_t *n)
{
    char *text = NULL;
    int rc = slurp_at(proc_root, "1/mountinfo", 8 << 20, &text);
    if (rc < 0) rc = slurp_at(proc_root, "self/mountinfo", 8 << 20, &text);
    if (rc == 0) rc = procfs_parse_mountinfo(text, out, n);
    sl_free(text);
    return rc;
}

int procfs_parse_diskstats(const char *text, struct diskstat **out, size_t *n)
{
    struct diskstat *v = NULL;
    size_t cnt = 0, cap = 0;
    for (const char *s = text; *s; s = next_line(s)) {
        const char *p = s;
        uint64_t mm[2];
        if (scan_u64s(&p, mm, 2) != 2) continue;
        while (*p == ' ')
            p++;
        const char *name = p;
        while (*p && *p != ' ' && *p != '\n')
            p++;
        size_t nl = (size_t)(p - name);
        if (nl == 0 || nl >= sizeof(v[0].name)) continue;
        uint64_t f[11];
        if (scan_u64s(&p, f, 11) != 11) continue;
        struct diskstat *nv = sl_grow(v, &cap, cnt + 1, sizeof(*nv));
        if (!nv) {
            sl_free(v);
            return SL_ENOMEM;
        }
        v = nv;
        struct diskstat *d = &v[cnt++];
        d->major = (unsigned)mm[0];
        d->minor = (unsigned)mm[1];
        memcpy(d->name, name, nl);
        d->name[nl] = '\0';
        d->reads = f[0], d->merged_reads = f[1], d->read_sectors = f[2], d->read_time = f[3];
        d->writes = f[4], d->merged_writes = f[5], d->write_sectors = f[6];
        d->write_time = f[7], d->iops_in_progress = f[8], d->io_time = f[9];
        d->weighted_io_time = f[10];
    }
    *out = v;
    *n = cnt;
    return 0;
}

int procfs_read_diskstats(const char *proc_root, struct diskstat **out, size_t *n)
{
    char *text = NULL;
    int rc = slurp_at(proc_root, "diskstats", 8 << 20, &text);
    if (rc == 0) rc = procfs_parse_diskstats(text, out, n);
    sl_free(text);
    return rc;
}

int procfs_parse_netdev(const char *text, struct netdev **out, size_t *n)
{
    struct netdev *v = NULL;
    size_t cnt = 0, cap = 0;
    for (const char *s = text; *s; s = next_line(s)) {
        const char *eol = strchr(s, '\n');
        if (!eol) eol = s + strlen(s);
        const char *colon = memchr(s, ':', (size_t)(eol - s));
        if (!colon) continue; /* header lines have no colon */
        const char *name = s;
        while (name < colon && *name == ' ')
            name++;
        size_t nl = (size_t)(colon - name);
        if (nl == 0 || nl >= sizeof(v[0].name)) continue;
        const char *p = colon + 1;
        uint64_t f[16];
        if (scan_u64s(&p, f, 16) != 16) continue;
        struct netdev *nv = sl_grow(v, &cap, cnt + 1, sizeof(*nv));
        if (!nv) {
            sl_free(v);
            return SL_ENOMEM;
        }
        v = nv;
        struct netdev *d = &v[cnt++];
        memcpy(d->name, name, nl);
        d->name[nl] = '\0';
        d->bytes_recv = f[0], d->packets_recv = f[1], d->err_in = f[2], d->drop_in = f[3];
        d->bytes_sent = f[8], d->packets_sent = f[9], d->err_out = f[10], d->drop_out = f[11];
    }
    *out = v;
    *n = cnt;
    return 0;
}

int procfs_read_netdev(const char *proc_root, struct netdev **out, size_t *n)
{
    char *text = NULL;
    int rc = slurp_at(proc_root, "net/dev", 4 << 20, &text);
    if (rc == 0) rc = procfs_parse_netdev(text, out, n);
    sl_free(text);
    return rc;
}

long sysfs_net_flags(const char *sys_root, const char *ifname)
{
    char rel[256], *text = NULL;
    if (strchr(ifname, '/') || snprintf(rel, sizeof(rel), "class/net/%s/flags", ifname) >= 256)
        return SL_EINVAL;
    int rc = slurp_at(sys_root, rel, 4096, &text);
    if (rc < 0) return rc;
    char *end;
    long v = strtol(text, &end, 16);
    if (end == text) v = SL_EINVAL;
    sl_free(text);
    return v;
}

int procfs_count_stat_line(const char *text, struct proc_counts *pc)
{
    /* pid (comm) state ... ; comm may contain spaces and parentheses */
    const char *rp = strrchr(text, ')');
    if (!rp || rp[1] != ' ' || !rp[2]) return SL_EINVAL;
    char state = rp[2];
    /* num_threads is field 20; after ')' come fields 3.. so skip 17 words */
    const char *p = rp + 2;
    for (int i = 0; i < 17 && *p; i++) {
        while (*p && *p != ' ')
            p++;
        while (*p == ' ')
            p++;
    }
    int64_t threads = 0;
    if (isdigit((unsigned char)*p)) threads = strtoll(p, NULL, 10);
    switch (state) {
    case 'R': pc->running++; break;
    case 'S': pc->sleeping++; break;
    case 'D': pc->blocked++; break;
    case 'Z': pc->zombies++; break;
    case 'X': pc->dead++; break;
    case 'T':
    case 't': pc->stopped++; break;
    case 'W': pc->paging++; break;
    case 'I': pc->idle++; break;
    default: pc->unknown++; break;
    }
    pc->total++;
    pc->total_threads += threads;
    return 0;
}

int procfs_count_processes(const char *proc_root, struct proc_counts *pc)
{
    memset(pc, 0, sizeof(*pc));
    DIR *d = opendir(proc_root);
    if (!d) return SL_EIO;
    struct dirent *de;
    char path[512], buf[1024];
    while ((de = readdir(d))) {
        if (!isdigit((unsigned char)de->d_name[0])) continue;
        if (snprintf(path, sizeof(path), "%s/%s/stat", proc_root, de->d_name) >= (int)sizeof(path))
            continue;
        int fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0) continue; /* the process exited */
        ssize_t r = read(fd, buf, sizeof(buf) - 1);
        close(fd);
        if (r <= 0) continue;
        buf[r] = '\0';
        procfs_count_stat_line(buf, pc);
    }
    closedir(d);
    return 0;
}

int procfs_read_loadavg(const char *proc_root, double load[3])
{
    char *text = NULL;
    int rc = slurp_at(proc_root, "loadavg", 4096, &text);
    if (rc < 0) return rc;
    if (sscanf(text, "%lf %lf %lf", &load[0], &load[1], &load[2]) != 3) rc = SL_EINVAL;
    sl_free(text);
    return rc;
}

int procfs_read_btime(const char *proc_root, int64_t *btime)
{
    char *text = NULL;
    int rc = slurp_at(proc_root, "stat", 4 << 20, &text);
    if (rc < 0) return rc;
    rc = SL_EINVAL;
    for (const char *s = text; *s; s = next_line(s))
        if (!strncmp(s, "btime ", 6)) {
            *btime = strtoll(s + 6, NULL, 10);
            rc = 0;
            break;
        }
    sl_free(text);
    return rc;
}

int utmp_count_users(const char *path, int64_t *n)
{
    *n = 0;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return errno == ENOENT ? 0 : SL_EIO; /* no utmp: nobody logged in */
    struct utmp u;
    for (;;) {
        ssize_t r = read(fd, &u, sizeof(u));
        if (r != (ssize_t)sizeof(u)) break;
        if (u.ut_type == USER_PROCESS) (*n)++;
    }
    close(fd);
    return 0;
}

int utmp_count_unique_users(const char *path, int64_t *n)
{
    *n = 0;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return errno == ENOENT ? 0 : SL_EIO;
    struct utmp u;
    char(*names)[sizeof(u.ut_user) + 1] = NULL;
    size_t cnt = 0, cap = 0;
    int rc = 0;
    while (read(fd, &u, sizeof(u)) == (ssize_t)sizeof(u)) {
        if (u.ut_type != USER_PROCESS) continue;
        char name[sizeof(u.ut_user) + 1];
        memcpy(name, u.ut_user, sizeof(u.ut_user));
        name[sizeof(u.ut_user)] = '\0';
        size_t i;
        for (i = 0; i < cnt; i++)
            if (!strcmp(names[i], name)) break;
        if (i < cnt) continue;
        void *nn = sl_grow(names, &cap, cnt + 1, sizeof(*names));
        if (!nn) {
            rc = SL_ENOMEM;
            break;
        }
        names = nn;
        memcpy(names[cnt++], name, sizeof(name));
    }
    close(fd);
    sl_free(names);
    *n = (int64_t)cnt;
    return rc;
}

size_t uptime_format(uint64_t seconds, char *out, size_t cap)
{
    uint64_t days = seconds / 86400;
    uint64_t minutes = seconds / 60;
    uint64_t hours = (minutes / 60) % 24;
    minutes %= 60;
    int n;
    if (days)
        n = snprintf(out, cap, "%" PRIu64 " day%s, %2" PRIu64 ":%02" PRIu64, days,
                     days > 1 ? "s" : "", hours, minutes);
    else
        n = snprintf(out, cap, "%2" PRIu64 ":%02" PRIu64, hours, minutes);
    return n < 0 ? 0 : (size_t)n;
}

int procfs_parse_snmp(const char *text, struct proto_stat **out, size_t *n)
{
    struct proto_stat *v = NULL;
    size_t cnt = 0, cap = 0;
    const char *s = text;
    while (*s) {
        const char *hdr = s;
        const char *vals = next_line(hdr);
        if (!*vals) break;
        const char *hc = strchr(hdr, ':'), *vc = strchr(vals, ':');
        const char *hend = strchr(hdr, '\n');
        if (!hc || !vc || !hend || hc > hend || (hc - hdr) != (vc - vals) ||
            strncmp(hdr, vals, (size_t)(hc - hdr)) != 0 || (size_t)(hc - hdr) >= 16) {
            s = vals;
            continue;
        }
        char proto[16];
        size_t pl = (size_t)(hc - hdr);
        for (size_t i = 0; i < pl; i++)
            proto[i] = (char)tolower((unsigned char)hdr[i]);
        proto[pl] = '\0';
        const char *hp = hc + 1, *vp = vc + 1;
        for (;;) {
            while (*hp == ' ')
                hp++;
            while (*vp == ' ')
                vp++;
            if (*hp == '\n' || !*hp || *vp == '\n' || !*vp) break;
            const char *he = hp;
            while (*he && *he != ' ' && *he != '\n')
                he++;
            char *ve;
            long long x = strtoll(vp, &ve, 10);
            if (ve == vp) break;
            struct proto_stat *nv = sl_grow(v, &cap, cnt + 1, sizeof(*nv));
            if (!nv) {
                sl_free(v);
                return SL_ENOMEM;
            }
            v = nv;
            int len =
                snprintf(v[cnt].name, sizeof(v[cnt].name), "%s_%.*s", proto, (int)(he - hp), hp);
            for (int i = 0; i < len && i < (int)sizeof(v[cnt].name); i++)
                v[cnt].name[i] = (char)tolower((unsigned char)v[cnt].name[i]);
            v[cnt++].val = x;
            hp = he;
            vp = ve;
        }
        s = next_line(vals);
    }
    *out = v;
    *n = cnt;
    return 0;
}
