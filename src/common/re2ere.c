/*
 * re2ere.c — the RE2 spellings InfluxQL users write in regexes, translated
 * for the POSIX regex engine (regcomp) that sluice uses (re2ere.h).
 */
#include "common/re2ere.h"

#include <string.h>

#include "common/mem.h"

char *sl_re2_to_ere(const char *p, int *icase)
{
    size_t n = strlen(p);
    *icase = 0;
    if (!strncmp(p, "(?i)", 4)) {
        *icase = 1;
        p += 4;
        n -= 4;
    }
    char *o = sl_malloc(n * 12 + 1);
    if (!o) return NULL;
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        if (p[i] == '\\' && i + 1 < n) {
            const char *rep = NULL;
            switch (p[i + 1]) {
            case 'd': rep = "[0-9]"; break;
            case 'D': rep = "[^0-9]"; break;
            case 'w': rep = "[A-Za-z0-9_]"; break;
            case 'W': rep = "[^A-Za-z0-9_]"; break;
            case 's': rep = "[[:space:]]"; break;
            case 'S': rep = "[^[:space:]]"; break;
            default: break;
            }
            if (rep) {
                size_t rl = strlen(rep);
                memcpy(o + k, rep, rl);
                k += rl;
            } else {
                o[k++] = p[i];
                o[k++] = p[i + 1];
            }
            i++;
            continue;
        }
        o[k++] = p[i];
    }
    o[k] = '\0';
    return o;
}
