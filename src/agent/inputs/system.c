/*
 * system.c — the cpu, mem, system and processes inputs, computed from /proc
 * exactly as Telegraf (gopsutil) does; see reference/telegraf.md. Fields are
 * added in key order, which is the order Telegraf prints them in.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sched.h>

#include "agent/conf.h"
#include "agent/inputs/inputs.h"
#include "agent/inputs/procfs.h"
#include "agent/plugin.h"
#include "common/err.h"
#include "common/mem.h"

/* ---- cpu ---- */

struct cpu_input {
    int percpu, totalcpu, collect_cpu_time, report_active, core_tags;
    char *proc_root;
    char *sys_root;
    struct cpu_times *prev;
    size_t nprev;
    double clk_tck;
};

static int cpu_init(struct plugin_conf *c, void **state)
{
    struct cpu_input *s = sl_calloc(1, sizeof(*s));
    if (!s) return SL_ENOMEM;
    s->percpu = 1;
    s->totalcpu = 1;
    int rc;
    if ((rc = conf_bool(c, "percpu", &s->percpu)) < 0 ||
        (rc = conf_bool(c, "totalcpu", &s->totalcpu)) < 0 ||
        (rc = conf_bool(c, "collect_cpu_time", &s->collect_cpu_time)) < 0 ||
        (rc = conf_bool(c, "report_active", &s->report_active)) < 0 ||
        (rc = conf_bool(c, "core_tags", &s->core_tags)) < 0) {
        sl_free(s);
        return rc;
    }
    s->proc_root = sl_strdup(agent_host_path("proc"));
    s->sys_root = sl_strdup(agent_host_path("sys"));
    long tck = sysconf(_SC_CLK_TCK);
    s->clk_tck = tck > 0 ? (double)tck : 100.0;
    if (!s->proc_root || !s->sys_root) {
        sl_free(s->proc_root);
        sl_free(s->sys_root);
        sl_free(s);
        return SL_ENOMEM;
    }
    *state = s;
    return 0;
}

static void cpu_free(void *state)
{
    struct cpu_input *s = state;
    sl_free(s->prev);
    sl_free(s->proc_root);
    sl_free(s->sys_root);
    sl_free(s);
}

int input_cpu_set_root(void *state, const char *proc_root)
{
    struct cpu_input *s = state;
    char *r = sl_strdup(proc_root);
    if (!r) return SL_ENOMEM;
    sl_free(s->proc_root);
    s->proc_root = r;
    return 0;
}

static int cpu_topology_tags(struct cpu_input *s, struct metric *m, const char *cpu)
{
    static const char *const files[2][2] = {{"core_id", "core_id"},
                                            {"physical_package_id", "physical_id"}};
    for (int i = 0; i < 2; i++) {
        char path[512], *text = NULL;
        snprintf(path, sizeof(path), "%s/devices/system/cpu/%s/topology/%s", s->sys_root, cpu,
                 files[i][0]);
        if (procfs_slurp(path, 256, &text) < 0) continue;
        text[strcspn(text, "\n")] = '\0';
        int rc = metric_add_tag(m, files[i][1], text);
        sl_free(text);
        if (rc < 0) return rc;
    }
    return 0;
}

static int cpu_emit(struct cpu_input *s, struct agent_acc *acc, const struct cpu_times *t)
{
    int rc = 0;
    struct metric *m;
    if (s->collect_cpu_time) {
        if (!(m = acc_new_metric(acc, "cpu"))) return SL_ENOMEM;
        double k = s->clk_tck;
        uint64_t total = cpu_total_ticks(t);
        rc = metric_add_tag(m, "cpu", t->name);
        if (rc == 0 && s->core_tags && strcmp(t->name, "cpu-total"))
            rc = cpu_topology_tags(s, m, t->name);
        if (rc == 0 && s->report_active)
            rc = metric_add_float(m, "time_active", (double)(total - t->idle) / k);
        if (rc == 0) rc = metric_add_float(m, "time_guest", (double)t->guest / k);
        if (rc == 0) rc = metric_add_float(m, "time_guest_nice", (double)t->guest_nice / k);
        if (rc == 0) rc = metric_add_float(m, "time_idle", (double)t->idle / k);
        if (rc == 0) rc = metric_add_float(m, "time_iowait", (double)t->iowait / k);
        if (rc == 0) rc = metric_add_float(m, "time_irq", (double)t->irq / k);
        if (rc == 0) rc = metric_add_float(m, "time_nice", (double)t->nice / k);
        if (rc == 0) rc = metric_add_float(m, "time_softirq", (double)t->softirq / k);
        if (rc == 0) rc = metric_add_float(m, "time_steal", (double)t->steal / k);
        if (rc == 0) rc = metric_add_float(m, "time_system", (double)t->system / k);
        if (rc == 0) rc = metric_add_float(m, "time_user", (double)t->user / k);
        if (rc < 0) {
            metric_free(m);
            return rc;
        }
        if ((rc = acc_add(acc, m)) < 0) return rc;
    }
    const struct cpu_times *p = NULL;
    for (size_t i = 0; i < s->nprev; i++)
        if (!strcmp(s->prev[i].name, t->name)) p = &s->prev[i];
    if (!p) return 0; /* first gather: no usage yet */
    struct cpu_usage u;
    int r = cpu_usage_compute(p, t, &u);
    if (r == SL_ERANGE) {
        acc_error(acc, "current total CPU time is less than previous total CPU time");
        return 0;
    }
    if (r == 0) return 0;
    if (!(m = acc_new_metric(acc, "cpu"))) return SL_ENOMEM;
    rc = metric_add_tag(m, "cpu", t->name);
    if (rc == 0 && s->core_tags && strcmp(t->name, "cpu-total"))
        rc = cpu_topology_tags(s, m, t->name);
    if (rc == 0 && s->report_active) rc = metric_add_float(m, "usage_active", u.active);
    if (rc == 0) rc = metric_add_float(m, "usage_guest", u.guest);
    if (rc == 0) rc = metric_add_float(m, "usage_guest_nice", u.guest_nice);
    if (rc == 0) rc = metric_add_float(m, "usage_idle", u.idle);
    if (rc == 0) rc = metric_add_float(m, "usage_iowait", u.iowait);
    if (rc == 0) rc = metric_add_float(m, "usage_irq", u.irq);
    if (rc == 0) rc = metric_add_float(m, "usage_nice", u.nice);
    if (rc == 0) rc = metric_add_float(m, "usage_softirq", u.softirq);
    if (rc == 0) rc = metric_add_float(m, "usage_steal", u.steal);
    if (rc == 0) rc = metric_add_float(m, "usage_system", u.system);
    if (rc == 0) rc = metric_add_float(m, "usage_user", u.user);
    if (rc < 0) {
        metric_free(m);
        return rc;
    }
    return acc_add(acc, m);
}

static int cpu_gather(void *state, struct agent_acc *acc)
{
    struct cpu_input *s = state;
    struct cpu_times *cur = NULL;
    size_t n = 0;
    int rc = procfs_read_cpu(s->proc_root, &cur, &n);
    if (rc < 0) {
        acc_error(acc, "reading %s/stat: %s", s->proc_root, sl_strerror(rc));
        return rc;
    }
    /* Telegraf's order: every CPU, then the total. */
    if (s->percpu)
        for (size_t i = 0; i < n && rc == 0; i++)
            if (strcmp(cur[i].name, "cpu-total")) rc = cpu_emit(s, acc, &cur[i]);
    if (s->totalcpu)
        for (size_t i = 0; i < n && rc == 0; i++)
            if (!strcmp(cur[i].name, "cpu-total")) rc = cpu_emit(s, acc, &cur[i]);
    sl_free(s->prev);
    s->prev = cur;
    s->nprev = n;
    return rc;
}

const struct agent_input_ops input_cpu = {
    .name = "cpu",
    .sample = "[[inputs.cpu]]\n"
              "  ## Whether to report per-cpu stats or not\n"
              "  percpu = true\n"
              "  ## Whether to report total system cpu stats or not\n"
              "  totalcpu = true\n"
              "  ## If true, collect raw CPU time metrics\n"
              "  collect_cpu_time = false\n"
              "  ## If true, compute and report the sum of all non-idle CPU states\n"
              "  report_active = false\n"
              "  ## If true, add core_id and physical_id tags\n"
              "  # core_tags = false\n",
    .init = cpu_init,
    .gather = cpu_gather,
    .free = cpu_free,
};

/* ---- mem ---- */

struct root_input {
    char *proc_root;
};

static int root_init(struct plugin_conf *c, void **state)
{
    (void)c;
    struct root_input *s = sl_calloc(1, sizeof(*s));
    if (!s) return SL_ENOMEM;
    s->proc_root = sl_strdup(agent_host_path("proc"));
    if (!s->proc_root) {
        sl_free(s);
        return SL_ENOMEM;
    }
    *state = s;
    return 0;
}

static void root_free(void *state)
{
    struct root_input *s = state;
    sl_free(s->proc_root);
    sl_free(s);
}

int input_root_set(void *state, const char *proc_root)
{
    struct root_input *s = state;
    char *r = sl_strdup(proc_root);
    if (!r) return SL_ENOMEM;
    sl_free(s->proc_root);
    s->proc_root = r;
    return 0;
}

static int64_t clamp_i64(uint64_t v)
{
    return v == UINT64_MAX ? 0 : v > INT64_MAX ? INT64_MAX : (int64_t)v;
}

int input_mem_fill(const struct meminfo *mi, struct metric *m)
{
#define G(k) clamp_i64(meminfo_get(mi, k))
    int64_t total = G("MemTotal"), free_ = G("MemFree"), buffers = G("Buffers");
    int64_t cached = G("Cached") + G("SReclaimable");
    int64_t available;
    if (meminfo_get(mi, "MemAvailable") != UINT64_MAX)
        available = G("MemAvailable");
    else
        available = free_ + buffers + cached; /* pre-3.14 kernels */
    int64_t used = total - available;
    double used_pct = total > 0 ? 100.0 * (double)used / (double)total : 0.0;
    double avail_pct = total > 0 ? 100.0 * (double)available / (double)total : 0.0;
    struct {
        const char *field;
        int64_t v;
    } ints[] = {
        {"active", G("Active")},
        {"available", available},
        {"buffered", buffers},
        {"cached", cached},
        {"commit_limit", G("CommitLimit")},
        {"committed_as", G("Committed_AS")},
        {"dirty", G("Dirty")},
        {"free", free_},
        {"high_free", G("HighFree")},
        {"high_total", G("HighTotal")},
        {"huge_page_size", G("Hugepagesize")},
        {"huge_pages_free", G("HugePages_Free")},
        {"huge_pages_total", G("HugePages_Total")},
        {"inactive", G("Inactive")},
        {"low_free", G("LowFree")},
        {"low_total", G("LowTotal")},
        {"mapped", G("Mapped")},
        {"page_tables", G("PageTables")},
        {"shared", G("Shmem")},
        {"slab", G("Slab")},
        {"sreclaimable", G("SReclaimable")},
        {"sunreclaim", G("SUnreclaim")},
        {"swap_cached", G("SwapCached")},
        {"swap_free", G("SwapFree")},
        {"swap_total", G("SwapTotal")},
        {"total", total},
        {"used", used},
        {"vmalloc_chunk", G("VmallocChunk")},
        {"vmalloc_total", G("VmallocTotal")},
        {"vmalloc_used", G("VmallocUsed")},
        {"write_back", G("Writeback")},
        {"write_back_tmp", G("WritebackTmp")},
    };
#undef G
    int rc = 0;
    for (size_t i = 0; i < sizeof(ints) / sizeof(ints[0]) && rc == 0; i++) {
        if (!strcmp(ints[i].field, "available")) {
            rc = metric_add_int(m, "available", ints[i].v);
            if (rc == 0) rc = metric_add_float(m, "available_percent", avail_pct);
            continue;
        }
        rc = metric_add_int(m, ints[i].field, ints[i].v);
        if (rc == 0 && !strcmp(ints[i].field, "used"))
            rc = metric_add_float(m, "used_percent", used_pct);
    }
    return rc;
}

static int mem_gather(void *state, struct agent_acc *acc)
{
    struct root_input *s = state;
    struct meminfo mi;
    int rc = procfs_read_meminfo(s->proc_root, &mi);
    if (rc < 0) {
        acc_error(acc, "reading %s/meminfo: %s", s->proc_root, sl_strerror(rc));
        return rc;
    }
    struct metric *m = acc_new_metric(acc, "mem");
    if (!m) return SL_ENOMEM;
    if ((rc = input_mem_fill(&mi, m)) < 0) {
        metric_free(m);
        return rc;
    }
    return acc_add(acc, m);
}

const struct agent_input_ops input_mem = {
    .name = "mem",
    .sample = "[[inputs.mem]]\n  # no configuration\n",
    .init = root_init,
    .gather = mem_gather,
    .free = root_free,
};

/* ---- system ---- */

static int64_t n_cpus(void)
{
    cpu_set_t set;
    if (sched_getaffinity(0, sizeof(set), &set) == 0) return CPU_COUNT(&set);
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n > 0 ? n : 1;
}

static int system_gather(void *state, struct agent_acc *acc)
{
    struct root_input *s = state;
    double load[3];
    int rc = procfs_read_loadavg(s->proc_root, load);
    if (rc < 0) {
        acc_error(acc, "reading %s/loadavg: %s", s->proc_root, sl_strerror(rc));
        return rc;
    }
    int64_t users = 0, unique = 0;
    char utmp[4096];
    snprintf(utmp, sizeof(utmp), "%s/run/utmp", agent_host_path("var"));
    if (access(utmp, R_OK) != 0) snprintf(utmp, sizeof(utmp), "%s/utmp", agent_host_path("run"));
    rc = utmp_count_users(utmp, &users);
    if (rc == 0) rc = utmp_count_unique_users(utmp, &unique);
    if (rc < 0) acc_error(acc, "reading %s: %s", utmp, sl_strerror(rc));
    struct metric *m = acc_new_metric(acc, "system");
    if (!m) return SL_ENOMEM;
    rc = metric_add_float(m, "load1", load[0]);
    if (rc == 0) rc = metric_add_float(m, "load15", load[2]);
    if (rc == 0) rc = metric_add_float(m, "load5", load[1]);
    if (rc == 0) rc = metric_add_int(m, "n_cpus", n_cpus());
    if (rc == 0) rc = metric_add_int(m, "n_unique_users", unique);
    if (rc == 0) rc = metric_add_int(m, "n_users", users);
    if (rc < 0) {
        metric_free(m);
        return rc;
    }
    if ((rc = acc_add(acc, m)) < 0) return rc;
    int64_t btime;
    if ((rc = procfs_read_btime(s->proc_root, &btime)) < 0) {
        acc_error(acc, "reading boot time: %s", sl_strerror(rc));
        return rc;
    }
    int64_t up = acc_now(acc) / 1000000000LL - btime;
    if (up < 0) up = 0;
    if (!(m = acc_new_metric(acc, "system"))) return SL_ENOMEM;
    if ((rc = metric_add_int(m, "uptime", up)) < 0) {
        metric_free(m);
        return rc;
    }
    if ((rc = acc_add(acc, m)) < 0) return rc;
    char fmt[64];
    uptime_format((uint64_t)up, fmt, sizeof(fmt));
    if (!(m = acc_new_metric(acc, "system"))) return SL_ENOMEM;
    if ((rc = metric_add_string(m, "uptime_format", fmt)) < 0) {
        metric_free(m);
        return rc;
    }
    return acc_add(acc, m);
}

const struct agent_input_ops input_system = {
    .name = "system",
    .sample = "[[inputs.system]]\n  # no configuration\n",
    .init = root_init,
    .gather = system_gather,
    .free = root_free,
};

/* ---- processes ---- */

int input_processes_fill(const struct proc_counts *pc, struct metric *m)
{
    struct {
        const char *k;
        int64_t v;
    } f[] = {
        {"blocked", pc->blocked}, {"dead", pc->dead},       {"idle", pc->idle},
        {"paging", pc->paging},   {"running", pc->running}, {"sleeping", pc->sleeping},
        {"stopped", pc->stopped}, {"total", pc->total},     {"total_threads", pc->total_threads},
        {"unknown", pc->unknown}, {"zombies", pc->zombies},
    };
    for (size_t i = 0; i < sizeof(f) / sizeof(f[0]); i++) {
        int rc = metric_add_int(m, f[i].k, f[i].v);
        if (rc < 0) return rc;
    }
    return 0;
}

static int processes_gather(void *state, struct agent_acc *acc)
{
    struct root_input *s = state;
    struct proc_counts pc;
    int rc = procfs_count_processes(s->proc_root, &pc);
    if (rc < 0) {
        acc_error(acc, "scanning %s: %s", s->proc_root, sl_strerror(rc));
        return rc;
    }
    struct metric *m = acc_new_metric(acc, "processes");
    if (!m) return SL_ENOMEM;
    if ((rc = input_processes_fill(&pc, m)) < 0) {
        metric_free(m);
        return rc;
    }
    return acc_add(acc, m);
}

const struct agent_input_ops input_processes = {
    .name = "processes",
    .sample = "[[inputs.processes]]\n  # no configuration\n",
    .init = root_init,
    .gather = processes_gather,
    .free = root_free,
};
