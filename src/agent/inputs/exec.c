/*
 * exec.c — the exec input (Telegraf's exec.go): runs each of `commands`
 * (and the old `command`) every gather and parses its standard output with
 * `data_format` (default influx; json metrics are named "exec").
 * A command is split into words like a POSIX shell would, without running a
 * shell: '…', "…" and backslash quoting, no expansion. Its program may be a
 * glob (Telegraf runs every match). stdin is /dev/null; `environment`
 * ("KEY=value" strings) is added to the agent's environment. After
 * `timeout` (default 5 s) the command's process group is killed and the
 * gather reports an error. A non-zero exit status is an error that names the
 * command and quotes the start of its stderr, and the output is dropped —
 * unless `ignore_error = true`, which parses the output anyway.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <fcntl.h>
#include <glob.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "agent/conf.h"
#include "agent/inputs/services.h"
#include "agent/parsers/parsers.h"
#include "common/buf.h"
#include "common/err.h"
#include "common/mem.h"
#include "common/timeutil.h"

extern char **environ;

#define EXEC_MAX_OUTPUT (64u << 20)
#define EXEC_MAX_STDERR 512

struct exec_input {
    struct glob_list commands, environment;
    int64_t timeout;
    int ignore_error;
    struct parser *parser;
};

static void exec_free(void *state)
{
    struct exec_input *s = state;
    if (!s) return;
    glob_list_release(&s->commands);
    glob_list_release(&s->environment);
    if (s->parser) parser_free(s->parser);
    sl_free(s);
}

static int exec_init(struct plugin_conf *c, void **state)
{
    struct exec_input *s = sl_calloc(1, sizeof(*s));
    if (!s) return SL_ENOMEM;
    s->timeout = 5 * SL_NS_PER_S;
    int rc;
    char *command = NULL;
    if ((rc = conf_strlist(c, "commands", &s->commands)) < 0) goto fail;
    if ((rc = conf_str(c, "command", &command)) < 0) goto fail;
    if (command) {
        rc = glob_list_add(&s->commands, command);
        sl_free(command);
        if (rc < 0) goto fail;
    }
    if ((rc = conf_strlist(c, "environment", &s->environment)) < 0) goto fail;
    if ((rc = conf_duration(c, "timeout", &s->timeout)) < 0) goto fail;
    if ((rc = conf_bool(c, "ignore_error", &s->ignore_error)) < 0) goto fail;
    for (size_t i = 0; i < s->environment.n; i++)
        if (!strchr(s->environment.v[i], '=')) {
            rc = conf_fail(c, "environment", "'%s' is not KEY=value", s->environment.v[i]);
            goto fail;
        }
    if (s->timeout <= 0) s->timeout = 5 * SL_NS_PER_S;
    if ((rc = parser_from_conf(c, "influx", "exec", &s->parser)) < 0) goto fail;
    *state = s;
    return 0;
fail:
    exec_free(s);
    return rc;
}

/* ---- word splitting ---- */

struct argv_list {
    char **v;
    size_t n, cap;
};

static void argv_release(struct argv_list *a)
{
    for (size_t i = 0; i < a->n; i++)
        sl_free(a->v[i]);
    sl_free(a->v);
    memset(a, 0, sizeof(*a));
}

static int argv_push(struct argv_list *a, char *s)
{
    if (a->n + 2 > a->cap) {
        size_t nc = a->cap ? a->cap * 2 : 8;
        char **nv = sl_realloc(a->v, nc * sizeof(*nv));
        if (!nv) {
            sl_free(s);
            return SL_ENOMEM;
        }
        a->v = nv;
        a->cap = nc;
    }
    a->v[a->n++] = s;
    a->v[a->n] = NULL;
    return 0;
}

/* Splits cmd into words; SL_EINVAL on an unterminated quote or escape. */
int exec_split_words(const char *cmd, char ***argv, size_t *argc)
{
    struct argv_list a = {0};
    struct sl_buf w;
    sl_buf_init(&w, 1 << 20);
    const char *p = cmd;
    int rc = 0;
    while (rc == 0) {
        while (*p == ' ' || *p == '\t' || *p == '\n')
            p++;
        if (!*p) break;
        sl_buf_reset(&w);
        int any = 0;
        while (*p && *p != ' ' && *p != '\t' && *p != '\n' && rc == 0) {
            any = 1;
            if (*p == '\'') {
                const char *e = strchr(p + 1, '\'');
                if (!e) {
                    rc = SL_EINVAL;
                    break;
                }
                rc = sl_buf_add(&w, p + 1, (size_t)(e - p - 1));
                p = e + 1;
            } else if (*p == '"') {
                p++;
                while (*p && *p != '"' && rc == 0) {
                    if (*p == '\\' && (p[1] == '"' || p[1] == '\\' || p[1] == '$' || p[1] == '`')) {
                        rc = sl_buf_addc(&w, p[1]);
                        p += 2;
                    } else if (*p == '\\' && p[1] == '\n') {
                        p += 2;
                    } else {
                        rc = sl_buf_addc(&w, *p++);
                    }
                }
                if (*p != '"') {
                    rc = SL_EINVAL;
                    break;
                }
                p++;
            } else if (*p == '\\') {
                if (!p[1]) {
                    rc = SL_EINVAL;
                    break;
                }
                if (p[1] != '\n') rc = sl_buf_addc(&w, p[1]);
                p += 2;
            } else {
                rc = sl_buf_addc(&w, *p++);
            }
        }
        if (rc == 0 && any) {
            char *word = sl_strndup(w.ptr ? w.ptr : "", w.len);
            rc = word ? argv_push(&a, word) : SL_ENOMEM;
        }
    }
    sl_buf_release(&w);
    if (rc == 0 && a.n == 0) rc = SL_EINVAL;
    if (rc < 0) {
        argv_release(&a);
        return rc;
    }
    *argv = a.v;
    *argc = a.n;
    return 0;
}

/* ---- running ---- */

/* Runs argv; fills out (stdout, capped) and err (stderr, first bytes).
 * Returns 0 on exit status 0, SL_EIO with msg on failure/non-zero status,
 * SL_EBUSY on timeout. */
static int run(struct exec_input *s, char **argv, struct sl_buf *out, char *err, size_t errcap,
               char *msg, size_t msgcap)
{
    /* everything the child needs is built before fork */
    size_t nenv = 0;
    while (environ && environ[nenv])
        nenv++;
    char **envp = sl_calloc(nenv + s->environment.n + 1, sizeof(*envp));
    if (!envp) return SL_ENOMEM;
    for (size_t i = 0; i < nenv; i++)
        envp[i] = environ[i];
    for (size_t i = 0; i < s->environment.n; i++)
        envp[nenv + i] = s->environment.v[i];
    int po[2] = {-1, -1}, pe[2] = {-1, -1};
    int rc = SL_EIO;
    if (pipe2(po, O_CLOEXEC) < 0 || pipe2(pe, O_CLOEXEC) < 0) {
        snprintf(msg, msgcap, "pipe: %s", strerror(errno));
        goto out;
    }
    pid_t pid = fork();
    if (pid < 0) {
        snprintf(msg, msgcap, "fork: %s", strerror(errno));
        goto out;
    }
    if (pid == 0) {
        setpgid(0, 0);
        int devnull = open("/dev/null", O_RDONLY);
        if (devnull >= 0) dup2(devnull, 0);
        dup2(po[1], 1);
        dup2(pe[1], 2);
        execvpe(argv[0], argv, envp);
        static const char m[] = "exec failed\n";
        ssize_t wr = write(2, m, sizeof(m) - 1);
        (void)wr;
        _exit(127);
    }
    setpgid(pid, pid);
    close(po[1]);
    close(pe[1]);
    po[1] = pe[1] = -1;
    int64_t deadline = sl_mono_ns() + s->timeout;
    size_t elen = 0;
    int open_fds = 2, timed_out = 0, too_big = 0;
    struct pollfd fds[2] = {{po[0], POLLIN, 0}, {pe[0], POLLIN, 0}};
    char chunk[65536];
    while (open_fds > 0) {
        int64_t left = deadline - sl_mono_ns();
        if (left <= 0) {
            timed_out = 1;
            break;
        }
        int pr = poll(fds, 2, (int)(left / SL_NS_PER_MS) + 1);
        if (pr < 0 && errno == EINTR) continue;
        if (pr < 0) break;
        for (int i = 0; i < 2; i++) {
            if (fds[i].fd < 0 || !(fds[i].revents & (POLLIN | POLLHUP | POLLERR))) continue;
            ssize_t n = read(fds[i].fd, chunk, sizeof(chunk));
            if (n < 0 && errno == EINTR) continue;
            if (n <= 0) {
                fds[i].fd = -1;
                open_fds--;
                continue;
            }
            if (i == 0) {
                if (!too_big && sl_buf_add(out, chunk, (size_t)n) < 0) too_big = 1;
            } else if (elen + 1 < errcap) {
                size_t k = (size_t)n < errcap - 1 - elen ? (size_t)n : errcap - 1 - elen;
                memcpy(err + elen, chunk, k);
                elen += k;
            }
        }
    }
    while (elen && (err[elen - 1] == '\n' || err[elen - 1] == '\r' || err[elen - 1] == ' '))
        elen--;
    err[elen] = 0;
    if (timed_out || too_big) kill(-pid, SIGKILL);
    int st = 0;
    while (waitpid(pid, &st, 0) < 0 && errno == EINTR) {
    }
    if (timed_out) {
        snprintf(msg, msgcap, "command timed out after %.3gs", (double)s->timeout / 1e9);
        rc = SL_EBUSY;
    } else if (too_big) {
        snprintf(msg, msgcap, "output larger than %u bytes", EXEC_MAX_OUTPUT);
        rc = SL_ETOOBIG;
    } else if (WIFEXITED(st) && WEXITSTATUS(st) == 0) {
        rc = 0;
    } else if (WIFEXITED(st)) {
        snprintf(msg, msgcap, "exit status %d", WEXITSTATUS(st));
    } else {
        snprintf(msg, msgcap, "killed by signal %d", WIFSIGNALED(st) ? WTERMSIG(st) : 0);
    }
out:
    for (int i = 0; i < 2; i++) {
        if (po[i] >= 0) close(po[i]);
        if (pe[i] >= 0) close(pe[i]);
    }
    sl_free(envp);
    return rc;
}

static int run_one(struct exec_input *s, const char *cmdline, char **argv, struct agent_acc *acc)
{
    struct sl_buf out;
    sl_buf_init(&out, EXEC_MAX_OUTPUT);
    char err[EXEC_MAX_STDERR + 1], msg[256] = "";
    int rc = run(s, argv, &out, err, sizeof(err), msg, sizeof(msg));
    if (rc == SL_ENOMEM) goto done;
    if (rc < 0) {
        acc_error(acc, "exec: %s for command \"%s\": %s", msg, cmdline, err);
        if (!s->ignore_error || rc == SL_EBUSY || rc == SL_ETOOBIG) {
            rc = 0;
            goto done;
        }
    }
    struct metric_list ml = {0};
    char perr[256] = "";
    rc = parser_parse(s->parser, out.ptr ? out.ptr : "", out.len, acc_now(acc), &ml, perr,
                      sizeof(perr));
    if (rc < 0) {
        acc_error(acc, "parsing output of \"%s\": %s", cmdline, *perr ? perr : sl_strerror(rc));
        metric_list_release(&ml);
        rc = rc == SL_ENOMEM ? rc : 0;
        goto done;
    }
    rc = 0;
    for (size_t i = 0; i < ml.n; i++) {
        struct metric *m = ml.v[i];
        ml.v[i] = NULL;
        if (rc == 0)
            rc = acc_add(acc, m);
        else
            metric_free(m);
    }
    metric_list_release(&ml);
done:
    sl_buf_release(&out);
    return rc == SL_ENOMEM ? rc : 0;
}

static int exec_gather(void *state, struct agent_acc *acc)
{
    struct exec_input *s = state;
    for (size_t i = 0; i < s->commands.n; i++) {
        char **argv = NULL;
        size_t argc = 0;
        int rc = exec_split_words(s->commands.v[i], &argv, &argc);
        if (rc == SL_ENOMEM) return rc;
        if (rc < 0) {
            acc_error(acc, "exec: cannot split command \"%s\" into words", s->commands.v[i]);
            continue;
        }
        glob_t g;
        memset(&g, 0, sizeof(g));
        int grc = glob(argv[0], GLOB_NOSORT, NULL, &g);
        if (grc == 0 && g.gl_pathc > 0) {
            char *prog = argv[0];
            for (size_t k = 0; k < g.gl_pathc && rc == 0; k++) {
                argv[0] = g.gl_pathv[k];
                rc = run_one(s, s->commands.v[i], argv, acc);
            }
            argv[0] = prog;
        } else {
            rc = run_one(s, s->commands.v[i], argv, acc);
        }
        globfree(&g);
        for (size_t k = 0; k < argc; k++)
            sl_free(argv[k]);
        sl_free(argv);
        if (rc < 0) return rc;
    }
    return 0;
}

const struct agent_input_ops input_exec = {
    .name = "exec",
    .sample = "[[inputs.exec]]\n"
              "  ## Commands array\n"
              "  commands = [\"/tmp/test.sh\", \"/usr/bin/mycollector --foo=bar\"]\n"
              "  ## Environment variables (KEY=value) added to the agent's environment\n"
              "  # environment = []\n"
              "  ## Timeout for each command to complete.\n"
              "  timeout = \"5s\"\n"
              "  # ignore_error = false\n"
              "  data_format = \"influx\"\n",
    .init = exec_init,
    .gather = exec_gather,
    .free = exec_free,
};
