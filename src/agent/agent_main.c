/*
 * agent_main.c — the `sluice agent` command line, Telegraf's flags:
 *
 *   sluice agent [--config FILE]... [--config-directory DIR]
 *                [--test | --once] [--test-wait SECONDS] [--debug] [--quiet]
 *                [--input-filter a:b] [--output-filter a:b]
 *   sluice agent config [--input-filter a:b] [--output-filter a:b]
 *
 * Without --config the file is $TELEGRAF_CONFIG_PATH or
 * /etc/telegraf/telegraf.conf. Signals while running: SIGHUP reloads the
 * configuration (buffered metrics move to the new outputs), SIGUSR1 flushes
 * every output now, SIGINT/SIGTERM stop after one last flush.
 */
#include <curl/curl.h>
#include <malloc.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "agent/agent.h"
#include "agent/config.h"
#include "agent/plugin.h"
#include "common/err.h"
#include "common/log.h"
#include "common/mem.h"
#include "common/timeutil.h"

int cmd_agent(int argc, char **argv);

static void usage(FILE *f)
{
    fprintf(f,
            "usage: sluice agent [options]\n"
            "       sluice agent config [--input-filter a:b] [--output-filter a:b]\n\n"
            "Runs a Telegraf-compatible collection agent from telegraf.conf files.\n\n"
            "options:\n"
            "  --config FILE            configuration file (repeatable; default\n"
            "                           $TELEGRAF_CONFIG_PATH or /etc/telegraf/telegraf.conf)\n"
            "  --config-directory DIR   also load DIR/*.conf, in lexical order\n"
            "  --test                   gather once, print line protocol prefixed by '> ', exit\n"
            "  --test-wait SECONDS      in --test, wait this long for service inputs\n"
            "  --once                   gather once, write to the outputs, exit\n"
            "  --debug                  debug logging\n"
            "  --quiet                  log errors only\n"
            "  --input-filter a:b       only these inputs\n"
            "  --output-filter a:b      only these outputs\n");
}

static void print_commented(const char *sample)
{
    for (const char *p = sample; *p;) {
        size_t l = strcspn(p, "\n");
        printf("# %.*s\n", (int)l, p);
        p += l + (p[l] == '\n');
    }
    printf("\n");
}

static int print_sample(const char *in_filter, const char *out_filter)
{
    printf("# sluice agent configuration (Telegraf-compatible)\n\n"
           "[global_tags]\n"
           "  # dc = \"us-east-1\"\n\n"
           "[agent]\n"
           "  interval = \"10s\"\n"
           "  round_interval = true\n"
           "  metric_batch_size = 1000\n"
           "  metric_buffer_limit = 10000\n"
           "  collection_jitter = \"0s\"\n"
           "  collection_offset = \"0s\"\n"
           "  flush_interval = \"10s\"\n"
           "  flush_jitter = \"0s\"\n"
           "  precision = \"0s\"\n"
           "  # debug = false\n"
           "  # quiet = false\n"
           "  # logfile = \"\"\n"
           "  hostname = \"\"\n"
           "  omit_hostname = false\n\n");
    const char *defaults_in[] = {"cpu", "disk",      "diskio", "mem",
                                 "net", "processes", "system", NULL};
    printf("###############################################################################\n"
           "#                            OUTPUT PLUGINS                                   #\n"
           "###############################################################################\n\n");
    for (size_t i = 0; agent_outputs[i]; i++) {
        const char *n = agent_outputs[i]->name;
        int on = out_filter ? strstr(out_filter, n) != NULL : !strcmp(n, "influxdb_v2");
        if (out_filter && !on) continue;
        printf("%s%s\n", on ? "" : "# (disabled, remove the leading '#' to use)\n#",
               on ? agent_outputs[i]->sample : "");
        if (!on) {
            for (const char *p = agent_outputs[i]->sample; *p;) {
                size_t l = strcspn(p, "\n");
                printf("# %.*s\n", (int)l, p);
                p += l + (p[l] == '\n');
            }
            printf("\n");
        }
    }
    if (!in_filter && !out_filter) {
        /* processors and aggregators, commented out, as Telegraf's sample */
        printf(
            "###############################################################################\n"
            "#                            PROCESSOR PLUGINS                                #\n"
            "###############################################################################\n\n");
        for (size_t i = 0; agent_processors[i]; i++)
            print_commented(agent_processors[i]->sample);
        printf(
            "###############################################################################\n"
            "#                            AGGREGATOR PLUGINS                               #\n"
            "###############################################################################\n\n");
        for (size_t i = 0; agent_aggregators[i]; i++)
            print_commented(agent_aggregators[i]->sample);
    }
    printf("###############################################################################\n"
           "#                            INPUT PLUGINS                                    #\n"
           "###############################################################################\n\n");
    for (size_t i = 0; agent_inputs[i]; i++) {
        const char *n = agent_inputs[i]->name;
        int on = 0;
        if (in_filter)
            on = strstr(in_filter, n) != NULL;
        else
            for (size_t k = 0; defaults_in[k]; k++)
                if (!strcmp(defaults_in[k], n)) on = 1;
        if (in_filter && !on) continue;
        if (on) {
            printf("%s\n", agent_inputs[i]->sample);
            continue;
        }
        for (const char *p = agent_inputs[i]->sample; *p;) {
            size_t l = strcspn(p, "\n");
            printf("# %.*s\n", (int)l, p);
            p += l + (p[l] == '\n');
        }
        printf("\n");
    }
    return 0;
}

struct cli {
    const char **files;
    size_t nfiles;
    const char *dir, *in_filter, *out_filter;
    int test, once, debug, quiet;
    double test_wait;
};

static int load(struct agent *a, const struct cli *cli)
{
    char err[1024] = "";
    struct agent_load_opts o = {
        .files = cli->files,
        .nfiles = cli->nfiles,
        .dir = cli->dir,
        .input_filter = cli->in_filter,
        .output_filter = cli->out_filter,
    };
    int rc = agent_init(a);
    if (rc == 0) rc = agent_config_load(a, &o, err, sizeof(err));
    if (rc < 0) {
        fprintf(stderr, "sluice agent: %s\n", *err ? err : sl_strerror(rc));
        agent_release(a);
        return rc;
    }
    if (cli->debug || a->opt.debug)
        sl_log_set_level(SL_LOG_DEBUG);
    else if (cli->quiet || a->opt.quiet)
        sl_log_set_level(SL_LOG_ERROR);
    return 0;
}

static int run_test(struct agent *a, const struct cli *cli)
{
    struct metric_list out = {0};
    for (size_t i = 0; i < a->ninputs; i++)
        if (a->inputs[i]->ops->start) {
            int rc = a->inputs[i]->ops->start(a->inputs[i]->state, &a->inputs[i]->acc);
            if (rc == 0) a->inputs[i]->service_started = 1;
        }
    a->capture = &out;
    agent_gather_once(a, 1, &out);
    a->capture = &out;
    if (cli->test_wait > 0) {
        struct timespec ts = {(time_t)cli->test_wait,
                              (long)((cli->test_wait - (double)(time_t)cli->test_wait) * 1e9)};
        nanosleep(&ts, NULL);
    }
    for (size_t i = 0; i < a->ninputs; i++)
        if (a->inputs[i]->service_started && a->inputs[i]->ops->stop)
            a->inputs[i]->ops->stop(a->inputs[i]->state);
    a->capture = NULL;
    struct sl_buf b;
    sl_buf_init(&b, 0);
    struct lp_write_opts wo = {.uint_support = 1, .precision = LP_PREC_NS};
    int rc = 0;
    for (size_t i = 0; i < out.n && rc == 0; i++) {
        metric_sort_fields(out.v[i]);
        sl_buf_reset(&b);
        if ((rc = sl_buf_adds(&b, "> ")) < 0) break;
        int wr = metric_write_lp(out.v[i], &b, &wo);
        if (wr == SL_EINVAL) continue;
        if ((rc = wr) < 0) break;
        fwrite(b.ptr, 1, b.len, stdout);
    }
    fflush(stdout);
    sl_buf_release(&b);
    metric_list_release(&out);
    return rc < 0 ? 1 : 0;
}

int cmd_agent(int argc, char **argv)
{
    struct cli cli;
    memset(&cli, 0, sizeof(cli));
    const char *files[64];
    int sample = 0;
    cli.files = files;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        /* accept both --flag value and --flag=value, and Telegraf's single dash */
        if (a[0] == '-' && a[1] != '-' && a[1]) a++;
        const char *val = NULL;
        char flag[64];
        const char *eq = strchr(a, '=');
        if (eq && (size_t)(eq - a) < sizeof(flag)) {
            memcpy(flag, a, (size_t)(eq - a));
            flag[eq - a] = '\0';
            val = eq + 1;
        } else {
            snprintf(flag, sizeof(flag), "%s", a);
        }
#define NEED_VAL()                                                                                 \
    do {                                                                                           \
        if (!val) {                                                                                \
            if (i + 1 >= argc) {                                                                   \
                fprintf(stderr, "sluice agent: %s needs a value\n", flag);                         \
                return 2;                                                                          \
            }                                                                                      \
            val = argv[++i];                                                                       \
        }                                                                                          \
    } while (0)
        if (!strcmp(flag, "config") && a == argv[i]) {
            sample = 1;
        } else if (!strcmp(flag, "--config") || !strcmp(flag, "-config")) {
            NEED_VAL();
            if (cli.nfiles >= 64) {
                fprintf(stderr, "sluice agent: too many --config files\n");
                return 2;
            }
            files[cli.nfiles++] = val;
        } else if (!strcmp(flag, "--config-directory") || !strcmp(flag, "-config-directory")) {
            NEED_VAL();
            cli.dir = val;
        } else if (!strcmp(flag, "--input-filter") || !strcmp(flag, "-input-filter")) {
            NEED_VAL();
            cli.in_filter = val;
        } else if (!strcmp(flag, "--output-filter") || !strcmp(flag, "-output-filter")) {
            NEED_VAL();
            cli.out_filter = val;
        } else if (!strcmp(flag, "--test-wait") || !strcmp(flag, "-test-wait")) {
            NEED_VAL();
            cli.test_wait = atof(val);
        } else if (!strcmp(flag, "--test") || !strcmp(flag, "-test")) {
            cli.test = 1;
        } else if (!strcmp(flag, "--once") || !strcmp(flag, "-once")) {
            cli.once = 1;
        } else if (!strcmp(flag, "--debug") || !strcmp(flag, "-debug")) {
            cli.debug = 1;
        } else if (!strcmp(flag, "--quiet") || !strcmp(flag, "-quiet")) {
            cli.quiet = 1;
        } else if (!strcmp(flag, "--help") || !strcmp(flag, "-h") || !strcmp(flag, "-help")) {
            usage(stdout);
            return 0;
        } else {
            fprintf(stderr, "sluice agent: unknown option '%s'\n\n", argv[i]);
            usage(stderr);
            return 2;
        }
#undef NEED_VAL
    }
    if (sample) return print_sample(cli.in_filter, cli.out_filter);
    if (cli.nfiles == 0 && !cli.dir) {
        const char *p = getenv("TELEGRAF_CONFIG_PATH");
        files[cli.nfiles++] = p && *p ? p : "/etc/telegraf/telegraf.conf";
    }
    if (cli.debug) sl_log_set_level(SL_LOG_DEBUG);
    /* few threads, little data: two malloc arenas are plenty and keep RSS low */
    mallopt(M_ARENA_MAX, 2);
    curl_global_init(CURL_GLOBAL_DEFAULT);
    srandom((unsigned)(sl_now_ns() ^ getpid()));

    struct agent *a = sl_calloc(1, sizeof(*a));
    int code = 1;
    if (!a) goto out;
    if (load(a, &cli) < 0) {
        sl_free(a);
        a = NULL;
        goto out;
    }
    if (a->opt.logfile && *a->opt.logfile && !cli.test && !freopen(a->opt.logfile, "a", stderr))
        fprintf(stdout, "sluice agent: cannot open logfile %s\n", a->opt.logfile);
    if (cli.test) {
        code = run_test(a, &cli);
        goto out;
    }
    if (cli.once) {
        if (agent_open_buffers(a) < 0) goto out;
        for (size_t i = 0; i < a->noutputs; i++)
            if (a->outputs[i]->ops->connect) a->outputs[i]->ops->connect(a->outputs[i]->state);
        agent_gather_once(a, 1, NULL);
        agent_flush_all(a);
        code = 0;
        for (size_t i = 0; i < a->noutputs; i++)
            if (metric_buffer_len(&a->outputs[i]->buf)) code = 1;
        goto out;
    }

    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGHUP);
    sigaddset(&set, SIGUSR1);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    signal(SIGPIPE, SIG_IGN);
    if (agent_start(a) < 0) {
        agent_stop(a, 0);
        goto out;
    }
    sl_info("agent", "started: %zu input(s), %zu processor(s), %zu output(s)", a->ninputs,
            a->nprocessors, a->noutputs);
    for (;;) {
        int sig = 0;
        if (sigwait(&set, &sig) != 0) continue;
        if (sig == SIGUSR1) {
            sl_info("agent", "SIGUSR1: flushing outputs");
            agent_flush_request(a);
        } else if (sig == SIGHUP) {
            sl_info("agent", "SIGHUP: reloading configuration");
            struct agent *n = sl_calloc(1, sizeof(*n));
            if (!n || load(n, &cli) < 0) {
                sl_error("agent", "reload failed; keeping the running configuration");
                sl_free(n);
                continue;
            }
            agent_stop(a, 0);
            uint64_t lost = agent_adopt_buffers(n, a);
            if (lost)
                sl_warn("agent", "reload: %llu buffered metric(s) of removed outputs dropped",
                        (unsigned long long)lost);
            agent_release(a);
            sl_free(a);
            a = n;
            if (agent_start(a) < 0) {
                agent_stop(a, 0);
                goto out;
            }
        } else {
            sl_info("agent", "signal %d: stopping (one last flush)", sig);
            agent_stop(a, 1);
            code = 0;
            break;
        }
    }
out:
    if (a) {
        agent_release(a);
        sl_free(a);
    }
    curl_global_cleanup();
    return code;
}
