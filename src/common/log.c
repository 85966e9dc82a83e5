/* log.c — leveled logging; one fprintf per line so lines from threads do not interleave. */
#include "common/log.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "common/err.h"

static volatile enum sl_log_level cur_level = SL_LOG_INFO;

void sl_log_set_level(enum sl_log_level lvl)
{
    cur_level = lvl;
}

enum sl_log_level sl_log_get_level(void)
{
    return cur_level;
}

int sl_log_parse_level(const char *s, enum sl_log_level *out)
{
    static const char *names[] = {"debug", "info", "warn", "error"};
    for (int i = 0; i < 4; i++) {
        if (strcasecmp(s, names[i]) == 0) {
            *out = (enum sl_log_level)i;
            return 0;
        }
    }
    return SL_EINVAL;
}

void sl_log(enum sl_log_level lvl, const char *sub, const char *fmt, ...)
{
    static const char *names[] = {"debug", "info", "warn", "error"};
    if (lvl < cur_level) return;
    char msg[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    struct tm tm;
    gmtime_r(&ts.tv_sec, &tm);
    fprintf(stderr, "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ %-5s %s: %s\n", tm.tm_year + 1900,
            tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, ts.tv_nsec / 1000000,
            names[lvl], sub, msg);
}
