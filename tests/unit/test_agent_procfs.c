/* test_agent_procfs.c — /proc parsers and Telegraf's arithmetic for the system inputs,
 * on recorded fixtures in tests/unit/data/agent/ and on hostile text. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "agent/agent.h"
#include "agent/inputs/inputs.h"
#include "agent/inputs/procfs.h"
#include "common/err.h"
#include "common/mem.h"

static char root1[1024], root2[1024], data[512];

static int setup(void **st)
{
    (void)st;
    const char *src = getenv("SLUICE_SRC");
    if (!src) src = ".";
    snprintf(data, sizeof(data), "%.400s/tests/unit/data/agent", src);
    snprintf(root1, sizeof(root1), "%s/proc1", data);
    snprintf(root2, sizeof(root2), "%s/proc2", data);
    return 0;
}

static char *fixture(const char *name)
{
    char path[1024], *text = NULL;
    snprintf(path, sizeof(path), "%s/%s", data, name);
    assert_int_equal(procfs_slurp(path, 1 << 20, &text), 0);
    return text;
}

static void test_cpu_parse_and_usage(void **st)
{
    (void)st;
    struct cpu_times *a = NULL, *b = NULL;
    size_t na = 0, nb = 0;
    assert_int_equal(procfs_read_cpu(root1, &a, &na), 0);
    assert_int_equal(procfs_read_cpu(root2, &b, &nb), 0);
    assert_int_equal(na, 3);
    assert_string_equal(a[0].name, "cpu-total");
    assert_string_equal(a[2].name, "cpu1");
    assert_int_equal(a[0].guest_nice, 2);
    assert_int_equal(cpu_total_ticks(&a[0]), 9485);
    struct cpu_usage u;
    assert_int_equal(cpu_usage_compute(&a[0], &b[0], &u), 1);
    /* Δtotal = 475; user = 100·(Δuser − Δguest)/Δtotal = 100·(100 − 20)/475 */
    assert_float_equal(u.user, 8000.0 / 475, 1e-9);
    assert_float_equal(u.system, 5000.0 / 475, 1e-9);
    assert_float_equal(u.idle, 30000.0 / 475, 1e-9);
    assert_float_equal(u.nice, 800.0 / 475, 1e-9);
    assert_float_equal(u.iowait, 1000.0 / 475, 1e-9);
    assert_float_equal(u.irq, 200.0 / 475, 1e-9);
    assert_float_equal(u.softirq, 300.0 / 475, 1e-9);
    assert_float_equal(u.steal, 0, 1e-9);
    assert_float_equal(u.guest, 2000.0 / 475, 1e-9);
    assert_float_equal(u.guest_nice, 200.0 / 475, 1e-9);
    assert_float_equal(u.active, 17500.0 / 475, 1e-9);
    /* no interval: no usage; counters going back: an error */
    assert_int_equal(cpu_usage_compute(&a[0], &a[0], &u), 0);
    assert_int_equal(cpu_usage_compute(&b[0], &a[0], &u), SL_ERANGE);
    sl_free(a);
    sl_free(b);
}

/* Drives the cpu input itself over two fixture snapshots. */
static void test_cpu_input_two_gathers(void **st)
{
    (void)st;
    void *state = NULL;
    assert_int_equal(input_cpu.init(NULL, &state), 0);
    assert_int_equal(input_cpu_set_root(state, root1), 0);
    struct metric_list l = {0};
    /* an accumulator in sink mode collects the raw metrics */
    struct agent_acc acc = {.agent = NULL, .input = NULL, .now = 1000, .sink = &l};
    assert_int_equal(input_cpu.gather(state, &acc), 0);
    assert_int_equal(l.n, 0); /* first gather: no usage */
    assert_int_equal(input_cpu_set_root(state, root2), 0);
    assert_int_equal(input_cpu.gather(state, &acc), 0);
    assert_int_equal(l.n, 3);
    assert_string_equal(metric_get_tag(l.v[0], "cpu"), "cpu0");
    assert_string_equal(metric_get_tag(l.v[2], "cpu"), "cpu-total");
    const struct metric_field *f = metric_get_field(l.v[2], "usage_user");
    assert_non_null(f);
    assert_int_equal(f->type, LP_FLOAT);
    assert_float_equal(f->v.f, 8000.0 / 475, 1e-9);
    assert_null(metric_get_field(l.v[2], "usage_active")); /* report_active=false */
    assert_null(metric_get_field(l.v[2], "time_user"));
    assert_int_equal(l.v[2]->nfields, 10);
    metric_list_release(&l);
    input_cpu.free(state);
}

static void test_cpu_hostile(void **st)
{
    (void)st;
    struct cpu_times *t = NULL;
    size_t n = 0;
    assert_int_equal(procfs_parse_cpu("", &t, &n), SL_EINVAL);
    assert_int_equal(procfs_parse_cpu("cpu", &t, &n), SL_EINVAL);
    assert_int_equal(procfs_parse_cpu("cpuX 1 2 3 4\ncpu 1 2\n", &t, &n), SL_EINVAL);
    assert_int_equal(procfs_parse_cpu("cpu0 1 2 3 4", &t, &n), 0); /* old kernels: 4 fields */
    assert_int_equal(n, 1);
    assert_int_equal(t[0].idle, 4);
    assert_int_equal(t[0].steal, 0);
    sl_free(t);
    assert_int_equal(procfs_parse_cpu("cpu 99999999999999999999999 1 1 1\n", &t, &n), 0);
    assert_true(t[0].user == UINT64_MAX);
    sl_free(t);
}

static void test_mem(void **st)
{
    (void)st;
    char *text = fixture("meminfo");
    struct meminfo mi;
    assert_int_equal(procfs_parse_meminfo(text, &mi), 0);
    sl_free(text);
    assert_true(meminfo_get(&mi, "MemTotal") == 16000000ULL * 1024);
    assert_true(meminfo_get(&mi, "HugePages_Total") == 4); /* a count, not kB */
    assert_true(meminfo_get(&mi, "Nope") == UINT64_MAX);
    struct metric *m = metric_new("mem", 0);
    assert_int_equal(input_mem_fill(&mi, m), 0);
    assert_int_equal(metric_get_field(m, "total")->type, LP_INTEGER);
    assert_int_equal(metric_get_field(m, "total")->v.i, 16000000LL * 1024);
    assert_int_equal(metric_get_field(m, "available")->v.i, 9000000LL * 1024);
    assert_int_equal(metric_get_field(m, "used")->v.i, 7000000LL * 1024);
    /* cached includes SReclaimable */
    assert_int_equal(metric_get_field(m, "cached")->v.i, 6600000LL * 1024);
    assert_int_equal(metric_get_field(m, "used_percent")->type, LP_FLOAT);
    assert_float_equal(metric_get_field(m, "used_percent")->v.f, 43.75, 1e-9);
    assert_float_equal(metric_get_field(m, "available_percent")->v.f, 56.25, 1e-9);
    assert_int_equal(metric_get_field(m, "swap_free")->v.i, 1500000LL * 1024);
    assert_int_equal(metric_get_field(m, "huge_pages_free")->v.i, 2);
    assert_int_equal(metric_get_field(m, "write_back_tmp")->v.i, 0); /* absent → 0 */
    /* fields are in key order */
    for (size_t i = 1; i < m->nfields; i++)
        assert_true(strcmp(m->fields[i - 1].key, m->fields[i].key) < 0);
    metric_free(m);
    assert_int_equal(procfs_parse_meminfo("garbage\n:\nX: y\n", &mi), SL_EINVAL);
}

static void test_mountinfo(void **st)
{
    (void)st;
    char *text = fixture("mountinfo");
    struct mount_entry *m = NULL;
    size_t n = 0;
    assert_int_equal(procfs_parse_mountinfo(text, &m, &n), 0);
    sl_free(text);
    assert_int_equal(n, 5);
    assert_string_equal(m[0].mountpoint, "/");
    assert_string_equal(m[0].device, "/dev/vda1");
    assert_string_equal(m[0].fstype, "ext4");
    assert_string_equal(m[0].mode, "rw");
    assert_string_equal(m[0].devid, "252:1");
    assert_string_equal(m[3].mountpoint, "/mnt/my disk"); /* \040 decoded */
    assert_string_equal(m[3].mode, "ro");
    assert_string_equal(m[3].fstype, "xfs");
    procfs_mounts_free(m, n);
}

static void test_diskstats_netdev_snmp(void **st)
{
    (void)st;
    char *text = fixture("diskstats");
    struct diskstat *d = NULL;
    size_t n = 0;
    assert_int_equal(procfs_parse_diskstats(text, &d, &n), 0);
    sl_free(text);
    assert_int_equal(n, 3); /* the short line is skipped */
    assert_string_equal(d[0].name, "vda");
    assert_int_equal(d[0].reads, 73211);
    assert_int_equal(d[0].read_sectors, 5981690);
    assert_int_equal(d[0].weighted_io_time, 114904);
    assert_int_equal(d[1].iops_in_progress, 1);
    sl_free(d);

    text = fixture("netdev");
    struct netdev *nd = NULL;
    assert_int_equal(procfs_parse_netdev(text, &nd, &n), 0);
    sl_free(text);
    assert_int_equal(n, 2);
    assert_string_equal(nd[1].name, "eth0");
    assert_int_equal(nd[1].bytes_recv, 173711174);
    assert_int_equal(nd[1].bytes_sent, 448069);
    assert_int_equal(nd[1].err_in, 1);
    assert_int_equal(nd[1].drop_in, 2);
    assert_int_equal(nd[1].err_out, 3);
    assert_int_equal(nd[1].drop_out, 4);
    assert_int_equal(nd[1].packets_sent, 4307);
    sl_free(nd);

    text = fixture("snmp");
    struct proto_stat *ps = NULL;
    assert_int_equal(procfs_parse_snmp(text, &ps, &n), 0);
    sl_free(text);
    assert_int_equal(n, 7);
    assert_string_equal(ps[0].name, "ip_forwarding");
    assert_string_equal(ps[4].name, "tcp_maxconn");
    assert_int_equal(ps[4].val, -1);
    assert_string_equal(ps[6].name, "udp_indatagrams");
    sl_free(ps);
}

static void test_processes_and_uptime(void **st)
{
    (void)st;
    struct proc_counts pc;
    memset(&pc, 0, sizeof(pc));
    const char *line = "1234 (my (odd) proc) S 1 1 1 0 -1 4194560 100 0 0 0 1 2 0 0 20 0 "
                       "7 0 100 1000 10 18446744073709551615";
    assert_int_equal(procfs_count_stat_line(line, &pc), 0);
    assert_int_equal(pc.sleeping, 1);
    assert_int_equal(pc.total_threads, 7);
    assert_int_equal(procfs_count_stat_line("1 (x) Z 0 0", &pc), 0);
    assert_int_equal(procfs_count_stat_line("1 (x) I", &pc), 0);
    assert_int_equal(procfs_count_stat_line("1 (x) ?", &pc), 0);
    assert_int_equal(procfs_count_stat_line("garbage", &pc), SL_EINVAL);
    assert_int_equal(procfs_count_stat_line("1 (x)", &pc), SL_EINVAL);
    assert_int_equal(pc.zombies, 1);
    assert_int_equal(pc.idle, 1);
    assert_int_equal(pc.unknown, 1);
    assert_int_equal(pc.total, 4);
    struct metric *m = metric_new("processes", 0);
    assert_int_equal(input_processes_fill(&pc, m), 0);
    assert_int_equal(m->nfields, 11);
    assert_int_equal(metric_get_field(m, "total_threads")->v.i, 7);
    metric_free(m);

    /* the live /proc: at least this process, consistent totals */
    assert_int_equal(procfs_count_processes("/proc", &pc), 0);
    assert_true(pc.total >= 1);
    assert_true(pc.running >= 1);
    assert_int_equal(pc.running + pc.sleeping + pc.stopped + pc.zombies + pc.blocked + pc.paging +
                         pc.dead + pc.idle + pc.unknown,
                     pc.total);

    char buf[64];
    uptime_format(59, buf, sizeof(buf));
    assert_string_equal(buf, " 0:00");
    uptime_format(2 * 3600 + 3 * 60, buf, sizeof(buf));
    assert_string_equal(buf, " 2:03");
    uptime_format(86400 + 2 * 3600 + 3 * 60 + 5, buf, sizeof(buf));
    assert_string_equal(buf, "1 day,  2:03");
    uptime_format(3 * 86400 + 13 * 3600, buf, sizeof(buf));
    assert_string_equal(buf, "3 days, 13:00");

    int64_t bt;
    assert_int_equal(procfs_read_btime(root1, &bt), 0);
    assert_int_equal(bt, 1700000000);
    int64_t users;
    assert_int_equal(utmp_count_users("/nonexistent/utmp", &users), 0);
    assert_int_equal(users, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cpu_parse_and_usage),
        cmocka_unit_test(test_cpu_input_two_gathers),
        cmocka_unit_test(test_cpu_hostile),
        cmocka_unit_test(test_mem),
        cmocka_unit_test(test_mountinfo),
        cmocka_unit_test(test_diskstats_netdev_snmp),
        cmocka_unit_test(test_processes_and_uptime),
    };
    return cmocka_run_group_tests(tests, setup, NULL);
}
