/*
 * tail.c — the tail service input (Telegraf's tail.go): follows every file
 * matching `files` (glob(3) patterns, re-expanded every second) and parses
 * each complete line with `data_format` (default influx; json metrics are
 * named "tail"); metrics get tag `path_tag` (default "path"; "" disables).
 * Patterns with "**" match across directories (see walk()).
 *
 * Where reading starts. Offsets are ALWAYS persisted (Telegraf only keeps
 * them with initial_read_offset = "saved-or-*" and its agent statefile): a
 * file with a saved offset resumes there when it is still the same file
 * (same device and inode, at least that long); so a restart neither loses
 * nor repeats lines. A file without a usable saved offset starts per
 * `initial_read_offset` ("beginning", "end", "saved-or-beginning",
 * "saved-or-end"; default "end", or "beginning" with the old
 * `from_beginning = true`) if it existed when the input started; files that
 * appear later are read from their beginning. A file that shrinks is read
 * again from 0 (truncation); a path that now names another inode (rotation)
 * has its old file drained first.
 *
 * Watching: watch_method "inotify" (default) sleeps on inotify events of
 * the files and their directories (with a 1 s rescan for new glob
 * matches); "poll" checks every 250 ms.
 *
 * State file: <state_directory>/tail-<16 hex of the files list>.state where
 * state_directory (a sluice option) defaults to $SLUICE_AGENT_STATE_DIR,
 * else $STATE_DIRECTORY (systemd), else $HOME/.local/state/sluice-agent,
 * else /var/lib/sluice-agent. Format, one line per file, written atomically
 * (fsynced) at most once a second and on stop:
 *     sluice-tail-state 1
 *     <dev> <inode> <offset> <path to end of line>
 * The offset is the byte after the last complete line handed to the
 * pipeline. Lines longer than 1 MiB are dropped with an error.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <glob.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "agent/conf.h"
#include "agent/inputs/services.h"
#include "agent/parsers/parsers.h"
#include "common/buf.h"
#include "common/err.h"
#include "common/fsutil.h"
#include "common/log.h"
#include "common/mem.h"
#include "common/timeutil.h"

#define TAIL_MAX_LINE    (1u << 20)
#define TAIL_READ_BUDGET (8u << 20) /* bytes per file per pass */

enum tail_start { START_END, START_BEGINNING };

struct tail_file {
    char *path;
    int fd;
    dev_t dev;
    ino_t ino;
    int64_t offset; /* next byte to read; all before it is handled */
    int skipping;   /* inside an over-long line: drop up to its newline */
    int seen;       /* matched by the last glob expansion */
    int wd;         /* inotify watch or -1 */
};

struct saved {
    char *path;
    unsigned long long dev, ino;
    int64_t offset;
};

struct tail_input {
    struct glob_list files;
    char *path_tag, *watch_method, *state_dir, *state_path;
    enum tail_start start;
    int start_saved; /* resume from saved offsets (always on; see above) */
    struct parser *parser;
    struct agent_acc *acc;
    char *rbuf; /* TAIL_MAX_LINE + 64 KiB, while started */
    struct tail_file *tf;
    size_t ntf, tf_cap;
    struct saved *sv;
    size_t nsv;
    int ino_fd;
    int state_dirty;
    int64_t last_save, last_scan;
    pthread_t thread;
    int thread_started, first_scan;
    atomic_int stop;
};

static void saved_release(struct tail_input *s)
{
    for (size_t i = 0; i < s->nsv; i++)
        sl_free(s->sv[i].path);
    sl_free(s->sv);
    s->sv = NULL;
    s->nsv = 0;
}

static void tail_free(void *state)
{
    struct tail_input *s = state;
    if (!s) return;
    glob_list_release(&s->files);
    sl_free(s->path_tag);
    sl_free(s->watch_method);
    sl_free(s->state_dir);
    sl_free(s->state_path);
    if (s->parser) parser_free(s->parser);
    for (size_t i = 0; i < s->ntf; i++) {
        if (s->tf[i].fd >= 0) close(s->tf[i].fd);
        sl_free(s->tf[i].path);
    }
    sl_free(s->tf);
    sl_free(s->rbuf);
    saved_release(s);
    sl_free(s);
}

static char *default_state_dir(void)
{
    const char *e = getenv("SLUICE_AGENT_STATE_DIR");
    if (e && *e) return sl_strdup(e);
    e = getenv("STATE_DIRECTORY");
    if (e && *e) return sl_strdup(e);
    e = getenv("HOME");
    if (e && *e) {
        size_t n = strlen(e) + 32;
        char *p = sl_malloc(n);
        if (p) snprintf(p, n, "%s/.local/state/sluice-agent", e);
        return p;
    }
    return sl_strdup("/var/lib/sluice-agent");
}

static int tail_init(struct plugin_conf *c, void **state)
{
    struct tail_input *s = sl_calloc(1, sizeof(*s));
    if (!s) return SL_ENOMEM;
    s->ino_fd = -1;
    s->start = START_END;
    s->start_saved = 1;
    int rc = SL_ENOMEM;
    int from_beginning = 0, pipe_mode = 0;
    int64_t idummy = 0;
    char *initial = NULL, *encoding = NULL;
    if (!(s->path_tag = sl_strdup("path"))) goto fail;
    if (!(s->watch_method = sl_strdup("inotify"))) goto fail;
    if ((rc = conf_strlist(c, "files", &s->files)) < 0) goto fail;
    if ((rc = conf_bool(c, "from_beginning", &from_beginning)) < 0) goto fail;
    if ((rc = conf_str(c, "initial_read_offset", &initial)) < 0) goto fail;
    if ((rc = conf_bool(c, "pipe", &pipe_mode)) < 0) goto fail;
    if ((rc = conf_str(c, "watch_method", &s->watch_method)) < 0) goto fail;
    if ((rc = conf_str(c, "path_tag", &s->path_tag)) < 0) goto fail;
    if ((rc = conf_str(c, "state_directory", &s->state_dir)) < 0) goto fail;
    if ((rc = conf_int(c, "max_undelivered_lines", &idummy)) < 0) goto fail;
    if ((rc = conf_str(c, "character_encoding", &encoding)) < 0) goto fail;
    if (from_beginning) s->start = START_BEGINNING;
    if (initial) {
        if (!strcmp(initial, "beginning") || !strcmp(initial, "saved-or-beginning"))
            s->start = START_BEGINNING;
        else if (!strcmp(initial, "end") || !strcmp(initial, "saved-or-end") || !*initial)
            s->start = START_END;
        else {
            rc = conf_fail(c, "initial_read_offset", "unknown value '%s'", initial);
            goto fail;
        }
    }
    if (pipe_mode) {
        rc = conf_fail(c, "pipe", "named pipes are not supported yet");
        goto fail;
    }
    if (encoding && *encoding && strcasecmp(encoding, "utf-8") != 0 &&
        strcasecmp(encoding, "utf8") != 0) {
        rc = conf_fail(c, "character_encoding", "only utf-8 is supported");
        goto fail;
    }
    if (strcmp(s->watch_method, "inotify") != 0 && strcmp(s->watch_method, "poll") != 0) {
        rc = conf_fail(c, "watch_method", "must be \"inotify\" or \"poll\"");
        goto fail;
    }
    if (conf_has(c, "multiline") || conf_has(c, "filters")) {
        const char *k = conf_has(c, "multiline") ? "multiline" : "filters";
        rc = conf_fail(c, k, "%s is not supported yet", k);
        goto fail;
    }
    if (s->files.n == 0) {
        rc = conf_fail(c, "files", "no files given");
        goto fail;
    }
    if (!s->state_dir && !(s->state_dir = default_state_dir())) {
        rc = SL_ENOMEM;
        goto fail;
    }
    /* the state file is keyed by the files list */
    uint64_t h = 1469598103934665603ULL;
    for (size_t i = 0; i < s->files.n; i++) {
        for (const char *p = s->files.v[i]; *p; p++)
            h = (h ^ (unsigned char)*p) * 1099511628211ULL;
        h = (h ^ 0xff) * 1099511628211ULL;
    }
    size_t n = strlen(s->state_dir) + 48;
    if (!(s->state_path = sl_malloc(n))) {
        rc = SL_ENOMEM;
        goto fail;
    }
    snprintf(s->state_path, n, "%s/tail-%016llx.state", s->state_dir, (unsigned long long)h);
    if ((rc = parser_from_conf(c, "influx", "tail", &s->parser)) < 0) goto fail;
    sl_free(initial);
    sl_free(encoding);
    *state = s;
    return 0;
fail:
    sl_free(initial);
    sl_free(encoding);
    tail_free(s);
    return rc;
}

/* ---- state file ---- */

static int state_load(struct tail_input *s)
{
    char *text = NULL;
    size_t len = 0;
    int rc = sl_file_read_all(s->state_path, 64u << 20, &text, &len);
    if (rc == SL_ENOENT) return 0;
    if (rc < 0) return rc;
    char *p = text, *end = text + len;
    int first = 1;
    while (p < end) {
        char *nl = memchr(p, '\n', (size_t)(end - p));
        if (!nl) break; /* a torn last line is ignored */
        *nl = 0;
        if (first) {
            if (strcmp(p, "sluice-tail-state 1") != 0) {
                sl_error("agent", "[inputs.tail] %s: not a state file, ignored", s->state_path);
                break;
            }
            first = 0;
        } else {
            unsigned long long dev, ino;
            long long off;
            int used = 0;
            if (sscanf(p, "%llu %llu %lld %n", &dev, &ino, &off, &used) == 3 && used > 0 &&
                off >= 0 && p[used]) {
                struct saved *nv = sl_realloc(s->sv, (s->nsv + 1) * sizeof(*nv));
                if (!nv) {
                    sl_free(text);
                    return SL_ENOMEM;
                }
                s->sv = nv;
                if (!(nv[s->nsv].path = sl_strdup(p + used))) {
                    sl_free(text);
                    return SL_ENOMEM;
                }
                nv[s->nsv].dev = dev;
                nv[s->nsv].ino = ino;
                nv[s->nsv].offset = off;
                s->nsv++;
            }
        }
        p = nl + 1;
    }
    sl_free(text);
    return 0;
}

static int state_save(struct tail_input *s)
{
    struct sl_buf b;
    sl_buf_init(&b, 64u << 20);
    int rc = sl_buf_adds(&b, "sluice-tail-state 1\n");
    for (size_t i = 0; i < s->ntf && rc == 0; i++) {
        struct tail_file *f = &s->tf[i];
        if (f->fd < 0 || strchr(f->path, '\n')) continue;
        rc = sl_buf_addf(&b, "%llu %llu %lld %s\n", (unsigned long long)f->dev,
                         (unsigned long long)f->ino, (long long)f->offset, f->path);
    }
    if (rc == 0) rc = sl_mkdirs(s->state_dir, 0);
    if (rc == 0) rc = sl_file_write_atomic(s->state_path, b.ptr, b.len, 0644);
    sl_buf_release(&b);
    if (rc < 0)
        sl_error("agent", "[inputs.tail] saving offsets to %s: %s", s->state_path, sl_strerror(rc));
    else
        s->state_dirty = 0;
    s->last_save = sl_mono_ns();
    return rc;
}

/* ---- reading ---- */

static void handle_line(struct tail_input *s, struct tail_file *f, const char *line, size_t len)
{
    if (len && line[len - 1] == '\r') len--;
    if (len == 0) return;
    struct metric_list ml = {0};
    char err[256] = "";
    int rc = parser_parse(s->parser, line, len, sl_now_ns(), &ml, err, sizeof(err));
    if (rc < 0) {
        acc_error(s->acc, "malformed line in %s: %s", f->path, *err ? err : sl_strerror(rc));
        metric_list_release(&ml);
        return;
    }
    for (size_t i = 0; i < ml.n; i++) {
        struct metric *m = ml.v[i];
        ml.v[i] = NULL;
        if (s->path_tag && *s->path_tag && metric_add_tag(m, s->path_tag, f->path) < 0) {
            metric_free(m);
            continue;
        }
        acc_add(s->acc, m);
    }
    metric_list_release(&ml);
}

/* Reads complete lines from f->offset. With final, a trailing line without
 * newline counts as complete (the file is being left for good). */
static void read_file(struct tail_input *s, struct tail_file *f, int final)
{
    char *buf = s->rbuf;
    const size_t bufsz = TAIL_MAX_LINE + 65536;
    size_t budget = TAIL_READ_BUDGET;
    while (budget > 0 && !atomic_load(&s->stop)) {
        ssize_t n = pread(f->fd, buf, bufsz, f->offset);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return;
        size_t used = 0;
        for (;;) {
            char *nl = memchr(buf + used, '\n', (size_t)n - used);
            if (!nl) break;
            size_t ll = (size_t)(nl - (buf + used));
            if (f->skipping)
                f->skipping = 0;
            else
                handle_line(s, f, buf + used, ll);
            used += ll + 1;
        }
        if (used == 0) {
            if ((size_t)n >= TAIL_MAX_LINE) { /* no newline in a whole line's worth */
                if (!f->skipping)
                    acc_error(s->acc, "%s: line longer than %u bytes dropped", f->path,
                              TAIL_MAX_LINE);
                f->skipping = 1;
                used = (size_t)n;
            } else if (final) {
                if (!f->skipping) handle_line(s, f, buf, (size_t)n);
                f->skipping = 0;
                used = (size_t)n;
            }
        }
        if (used == 0) return; /* a partial line: wait for its newline */
        f->offset += (int64_t)used;
        s->state_dirty = 1;
        budget = budget > used ? budget - used : 0;
        if ((size_t)n < bufsz && used == (size_t)n) return;
    }
}

static void file_close(struct tail_input *s, struct tail_file *f)
{
    if (f->wd >= 0 && s->ino_fd >= 0) inotify_rm_watch(s->ino_fd, f->wd);
    f->wd = -1;
    if (f->fd >= 0) close(f->fd);
    f->fd = -1;
}

static void watch(struct tail_input *s, struct tail_file *f)
{
    if (s->ino_fd < 0) return;
    f->wd = inotify_add_watch(s->ino_fd, f->path,
                              IN_MODIFY | IN_ATTRIB | IN_MOVE_SELF | IN_DELETE_SELF);
}

/* Opens path and decides where to start. */
static int file_open(struct tail_input *s, struct tail_file *f, int at_start)
{
    int fd = open(f->path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    if (fd < 0) return SL_ENOENT;
    struct stat st;
    if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
        close(fd);
        return SL_EINVAL;
    }
    f->fd = fd;
    f->dev = st.st_dev;
    f->ino = st.st_ino;
    f->skipping = 0;
    int64_t off = -1;
    for (size_t i = 0; i < s->nsv && s->start_saved; i++)
        if (!strcmp(s->sv[i].path, f->path) && s->sv[i].dev == (unsigned long long)st.st_dev &&
            s->sv[i].ino == (unsigned long long)st.st_ino && s->sv[i].offset <= st.st_size)
            off = s->sv[i].offset;
    if (off < 0) off = at_start && s->start == START_END ? (int64_t)st.st_size : 0;
    f->offset = off;
    s->state_dirty = 1;
    watch(s, f);
    return 0;
}

static struct tail_file *find_file(struct tail_input *s, const char *path)
{
    for (size_t i = 0; i < s->ntf; i++)
        if (!strcmp(s->tf[i].path, path)) return &s->tf[i];
    return NULL;
}

/* Starts following path (a new glob match) unless already followed. */
static void consider(struct tail_input *s, const char *path)
{
    struct tail_file *f = find_file(s, path);
    if (f) {
        f->seen = 1;
        return;
    }
    if (s->ntf == s->tf_cap) {
        size_t nc = s->tf_cap ? s->tf_cap * 2 : 8;
        struct tail_file *nt = sl_realloc(s->tf, nc * sizeof(*nt));
        if (!nt) return;
        s->tf = nt;
        s->tf_cap = nc;
    }
    f = &s->tf[s->ntf];
    memset(f, 0, sizeof(*f));
    f->fd = f->wd = -1;
    if (!(f->path = sl_strdup(path))) return;
    if (file_open(s, f, s->first_scan) < 0) {
        sl_free(f->path);
        return;
    }
    f->seen = 1;
    s->ntf++;
}

#define TAIL_MAX_WALK 10000 /* files examined per "**" pattern per scan */

/* "**" patterns (Telegraf's globpath): every regular file under the
 * directory before the first "**" whose path matches the pattern, where
 * "**" spans any number of directories. Implemented with fnmatch without
 * FNM_PATHNAME, so in such a pattern a single "*" may span "/" too. */
static void walk(struct tail_input *s, const char *pattern, const char *dir, int depth,
                 size_t *budget)
{
    if (depth > 32 || *budget == 0) return;
    DIR *d = opendir(dir);
    if (!d) return;
    struct dirent *e;
    char path[4096];
    while ((e = readdir(d)) && *budget > 0) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
        const char *sep = dir[0] && dir[strlen(dir) - 1] == '/' ? "" : "/";
        if (snprintf(path, sizeof(path), "%s%s%s", dir, sep, e->d_name) >= (int)sizeof(path))
            continue;
        struct stat st;
        if (lstat(path, &st) < 0) continue;
        (*budget)--;
        if (S_ISDIR(st.st_mode))
            walk(s, pattern, path, depth + 1, budget);
        else if (S_ISREG(st.st_mode) && fnmatch(pattern, path, 0) == 0)
            consider(s, path);
    }
    closedir(d);
}

static void scan(struct tail_input *s)
{
    for (size_t i = 0; i < s->ntf; i++)
        s->tf[i].seen = 0;
    for (size_t g = 0; g < s->files.n; g++) {
        const char *pat = s->files.v[g];
        const char *dstar = strstr(pat, "**");
        if (dstar) {
            char base[4096];
            const char *slash = dstar;
            while (slash > pat && slash[-1] != '/')
                slash--;
            size_t bl = slash > pat ? (size_t)(slash - pat - 1) : 0;
            if (bl >= sizeof(base)) continue;
            memcpy(base, pat, bl);
            base[bl] = 0;
            if (!bl) snprintf(base, sizeof(base), "%s", *pat == '/' ? "/" : ".");
            size_t budget = TAIL_MAX_WALK;
            walk(s, pat, base, 0, &budget);
            continue;
        }
        glob_t gl;
        memset(&gl, 0, sizeof(gl));
        if (glob(pat, GLOB_BRACE, NULL, &gl) == 0)
            for (size_t k = 0; k < gl.gl_pathc; k++)
                consider(s, gl.gl_pathv[k]);
        globfree(&gl);
    }
    s->first_scan = 0;
    /* files no longer matched: drain and forget */
    for (size_t i = 0; i < s->ntf;) {
        struct tail_file *f = &s->tf[i];
        if (f->seen) {
            i++;
            continue;
        }
        read_file(s, f, 1);
        file_close(s, f);
        sl_free(f->path);
        s->tf[i] = s->tf[--s->ntf];
        s->state_dirty = 1;
    }
    s->last_scan = sl_mono_ns();
}

static void check_files(struct tail_input *s)
{
    for (size_t i = 0; i < s->ntf && !atomic_load(&s->stop); i++) {
        struct tail_file *f = &s->tf[i];
        struct stat fst, pst;
        if (fstat(f->fd, &fst) == 0 && fst.st_size < f->offset) {
            sl_info("agent", "[inputs.tail] %s was truncated; reading from the start", f->path);
            f->offset = 0;
            f->skipping = 0;
            s->state_dirty = 1;
        }
        read_file(s, f, 0);
        if (stat(f->path, &pst) == 0 && (pst.st_ino != f->ino || pst.st_dev != f->dev)) {
            /* rotated: drain the old file, then follow the new one from 0 */
            read_file(s, f, 1);
            file_close(s, f);
            if (file_open(s, f, 0) == 0) {
                f->offset = 0;
                read_file(s, f, 0);
            } else {
                f->fd = -1;
            }
        }
    }
    for (size_t i = 0; i < s->ntf;) { /* drop files that could not be reopened */
        if (s->tf[i].fd >= 0) {
            i++;
            continue;
        }
        sl_free(s->tf[i].path);
        s->tf[i] = s->tf[--s->ntf];
    }
}

static void *tail_thread(void *arg)
{
    struct tail_input *s = arg;
    int inotify = !strcmp(s->watch_method, "inotify") && s->ino_fd >= 0;
    while (!atomic_load(&s->stop)) {
        if (sl_mono_ns() - s->last_scan >= SL_NS_PER_S) scan(s);
        check_files(s);
        if (s->state_dirty && sl_mono_ns() - s->last_save >= SL_NS_PER_S) state_save(s);
        if (inotify) {
            struct pollfd p = {s->ino_fd, POLLIN, 0};
            if (poll(&p, 1, 250) > 0) {
                char ev[4096];
                while (read(s->ino_fd, ev, sizeof(ev)) > 0) {
                }
            }
        } else {
            struct timespec ts = {0, 250 * 1000 * 1000};
            nanosleep(&ts, NULL);
        }
    }
    return NULL;
}

static int tail_start(void *state, struct agent_acc *acc)
{
    struct tail_input *s = state;
    s->acc = acc;
    atomic_store(&s->stop, 0);
    if (!s->rbuf && !(s->rbuf = sl_malloc(TAIL_MAX_LINE + 65536))) return SL_ENOMEM;
    int rc = state_load(s);
    if (rc < 0)
        sl_error("agent", "[inputs.tail] reading %s: %s (starting without offsets)", s->state_path,
                 sl_strerror(rc));
    if (!strcmp(s->watch_method, "inotify")) s->ino_fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
    s->first_scan = 1;
    scan(s);
    if (pthread_create(&s->thread, NULL, tail_thread, s) != 0) return SL_ENOMEM;
    s->thread_started = 1;
    return 0;
}

static void tail_stop(void *state)
{
    struct tail_input *s = state;
    atomic_store(&s->stop, 1);
    if (s->thread_started) pthread_join(s->thread, NULL);
    s->thread_started = 0;
    if (s->ntf || s->state_dirty) state_save(s);
    for (size_t i = 0; i < s->ntf; i++) {
        file_close(s, &s->tf[i]);
        sl_free(s->tf[i].path);
    }
    s->ntf = 0;
    saved_release(s);
    if (s->ino_fd >= 0) close(s->ino_fd);
    s->ino_fd = -1;
    sl_free(s->rbuf);
    s->rbuf = NULL;
}

const struct agent_input_ops input_tail = {
    .name = "tail",
    .sample = "[[inputs.tail]]\n"
              "  ## Files to tail (glob patterns).\n"
              "  files = [\"/var/mymetrics.out\"]\n"
              "  ## Where to start in files without a saved offset: \"beginning\" or \"end\".\n"
              "  # initial_read_offset = \"end\"\n"
              "  ## \"inotify\" or \"poll\"\n"
              "  # watch_method = \"inotify\"\n"
              "  ## sluice: directory of the offsets file (always kept)\n"
              "  # state_directory = \"$HOME/.local/state/sluice-agent\"\n"
              "  data_format = \"influx\"\n",
    .init = tail_init,
    .start = tail_start,
    .stop = tail_stop,
    .free = tail_free,
};
