/*
 * re2ere.h — RE2 → POSIX extended regular expressions (InfluxQL's regexes,
 * used by the query executor and by DELETE predicates).
 */
#ifndef SL_COMMON_RE2ERE_H
#define SL_COMMON_RE2ERE_H

/* Translates \d \w \s and their negations and a leading (?i) into a POSIX
 * extended regex. Returns a new string (sl_free) or NULL on ENOMEM; *icase
 * is set for (?i). */
char *sl_re2_to_ere(const char *pattern, int *icase);

#endif
