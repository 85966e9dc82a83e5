/*
 * procfs.h — readers for the Linux files the system inputs use, and the
 * arithmetic Telegraf applies to them. Every reader takes the root of the
 * tree it reads ("/proc", "/sys", ...) so tests can point it at recorded
 * fixture files; nothing here keeps state.
 */
#ifndef SL_AGENT_INPUTS_PROCFS_H
#define SL_AGENT_INPUTS_PROCFS_H

#include <stddef.h>
#include <stdint.h>

/* One "cpu" line of /proc/stat, in clock ticks. */
struct cpu_times {
    char name[24]; /* "cpu-total" for the aggregate line, else "cpu0"... */
    uint64_t user, nice, system, idle, iowait, irq, softirq, steal, guest, guest_nice;
};

/* Parses /proc/stat at proc_root. *out (sl_free) gets the total first, then
 * each CPU. Returns 0 or SL_E*. */
int procfs_read_cpu(const char *proc_root, struct cpu_times **out, size_t *n);
/* Parses the text of /proc/stat (for tests and the reader above). */
int procfs_parse_cpu(const char *text, struct cpu_times **out, size_t *n);

/* Telegraf's total (user+system+nice+iowait+irq+softirq+steal+idle) and
 * active (total-idle) in ticks. */
uint64_t cpu_total_ticks(const struct cpu_times *t);

struct cpu_usage {
    double user, system, idle, nice, iowait, irq, softirq, steal, guest, guest_nice, active;
};
/* Percentages from the deltas between two samples of the same CPU. Returns
 * 1 with *u filled, 0 when there is no interval (Δtotal = 0), SL_ERANGE when
 * the counters went backwards. */
int cpu_usage_compute(const struct cpu_times *prev, const struct cpu_times *cur,
                      struct cpu_usage *u);

/* /proc/meminfo: each "Key: value [kB]" as bytes (kB scaled); pages counts
 * (HugePages_*) stay counts. Lookup by key, UINT64_MAX when absent. */
struct meminfo {
    size_t n;
    struct {
        char key[32];
        uint64_t val;
    } e[96];
};
int procfs_read_meminfo(const char *proc_root, struct meminfo *mi);
int procfs_parse_meminfo(const char *text, struct meminfo *mi);
uint64_t meminfo_get(const struct meminfo *mi, const char *key);

/* One mount from mountinfo. */
struct mount_entry {
    char *mountpoint, *device, *fstype, *opts;
    const char *mode; /* "rw", "ro" or "unknown" (static) */
    char devid[32];   /* "major:minor" */
};
/* Parses mountinfo text; entries and their strings are one allocation each
 * (free with procfs_mounts_free). */
int procfs_parse_mountinfo(const char *text, struct mount_entry **out, size_t *n);
/* Reads <proc_root>/1/mountinfo, falling back to <proc_root>/self/mountinfo. */
int procfs_read_mounts(const char *proc_root, struct mount_entry **out, size_t *n);
void procfs_mounts_free(struct mount_entry *m, size_t n);
struct diskstat {
    unsigned major, minor;
    char name[64];
    uint64_t reads, merged_reads, read_sectors, read_time;
    uint64_t writes, merged_writes, write_sectors, write_time;
    uint64_t iops_in_progress, io_time, weighted_io_time;
};
int procfs_parse_diskstats(const char *text, struct diskstat **out, size_t *n);
/* /proc/net/snmp as (proto_stat lower-cased, value) pairs, e.g.
 * ("tcp_activeopens", 12). Returns the count in *n; *out is sl_free'd. */
struct proto_stat {
    char name[64];
    int64_t val;
};
int procfs_parse_snmp(const char *text, struct proto_stat **out, size_t *n);
int procfs_read_diskstats(const char *proc_root, struct diskstat **out, size_t *n);

struct netdev {
    char name[64];
    uint64_t bytes_recv, packets_recv, err_in, drop_in;
    uint64_t bytes_sent, packets_sent, err_out, drop_out;
};
int procfs_parse_netdev(const char *text, struct netdev **out, size_t *n);
int procfs_read_netdev(const char *proc_root, struct netdev **out, size_t *n);
/* Reads <sys_root>/class/net/<ifname>/flags; returns the flags or < 0. */
long sysfs_net_flags(const char *sys_root, const char *ifname);

struct proc_counts {
    int64_t running, sleeping, stopped, zombies, blocked, paging, dead, idle, unknown;
    int64_t total, total_threads;
};
/* Scans <proc_root>/[0-9]* /stat. Processes that vanish meanwhile are skipped. */
int procfs_count_processes(const char *proc_root, struct proc_counts *pc);
/* Classifies one /proc/<pid>/stat line into pc; SL_EINVAL if malformed. */
int procfs_count_stat_line(const char *text, struct proc_counts *pc);

/* load averages from <proc_root>/loadavg */
int procfs_read_loadavg(const char *proc_root, double load[3]);
/* boot time (btime) from <proc_root>/stat, seconds since the epoch */
int procfs_read_btime(const char *proc_root, int64_t *btime);
/* Number of USER_PROCESS records in a utmp file. */
int utmp_count_users(const char *path, int64_t *n);
/* Number of distinct user names among those records. */
int utmp_count_unique_users(const char *path, int64_t *n);
/* Telegraf's uptime_format: "%d day[s], " when days != 0, then "%2d:%02d". */
size_t uptime_format(uint64_t seconds, char *out, size_t cap);

/* Reads a whole small file into a fresh buffer (sl_free), capped at max. */
int procfs_slurp(const char *path, size_t max, char **out);

#endif
