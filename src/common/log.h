/*
 * log.h — leveled logging to stderr (or a file), one line per message,
 * `2026-01-02T03:04:05.123Z level subsystem: message`. Secrets must never be
 * passed to these functions; tokens are logged by id only.
 */
#ifndef SL_COMMON_LOG_H
#define SL_COMMON_LOG_H

enum sl_log_level { SL_LOG_DEBUG, SL_LOG_INFO, SL_LOG_WARN, SL_LOG_ERROR };

void sl_log_set_level(enum sl_log_level lvl);
enum sl_log_level sl_log_get_level(void);
/* Parses "debug|info|warn|error"; returns 0 or SL_EINVAL. */
int sl_log_parse_level(const char *s, enum sl_log_level *out);
void sl_log(enum sl_log_level lvl, const char *sub, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#define sl_debug(sub, ...)                                                                         \
    do {                                                                                           \
        if (sl_log_get_level() <= SL_LOG_DEBUG) sl_log(SL_LOG_DEBUG, sub, __VA_ARGS__);            \
    } while (0)
#define sl_info(sub, ...)  sl_log(SL_LOG_INFO, sub, __VA_ARGS__)
#define sl_warn(sub, ...)  sl_log(SL_LOG_WARN, sub, __VA_ARGS__)
#define sl_error(sub, ...) sl_log(SL_LOG_ERROR, sub, __VA_ARGS__)

#endif
