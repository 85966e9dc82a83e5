/*
 * gofmt.c — Go's float formatting, which Telegraf's output depends on:
 * fmt.Sprint / %v (prometheus bucket and quantile names, enum tag values)
 * and strconv.FormatFloat(v, 'f', -1, 64) (json tags, converter strings).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent/parsers/parsers.h"

/* Go's fmt.Sprint(float64): shortest round-trip digits, %e form when the
 * exponent is < -4 or >= 21. */
void parser_go_float_v(double v, char *out, size_t cap)
{
    if (isinf(v)) {
        snprintf(out, cap, "%s", v > 0 ? "+Inf" : "-Inf");
        return;
    }
    if (isnan(v)) {
        snprintf(out, cap, "NaN");
        return;
    }
    char e[64];
    int prec;
    for (prec = 0; prec < 17; prec++) {
        snprintf(e, sizeof(e), "%.*e", prec, v);
        if (strtod(e, NULL) == v) break;
    }
    int exp = atoi(strchr(e, 'e') + 1);
    if (exp < -4 || exp >= 21) {
        snprintf(out, cap, "%s", e);
        /* C writes e+05/e-05 like Go; Go drops a trailing ".": none with %.*e */
        return;
    }
    int decimals = prec - exp;
    snprintf(out, cap, "%.*f", decimals > 0 ? decimals : 0, v);
}

/* strconv.FormatFloat(v, 'f', -1, 64): shortest round-trip, no exponent. */
void parser_go_float_f(double v, char *out, size_t cap)
{
    for (int prec = 1; prec <= 17; prec++) {
        snprintf(out, cap, "%.*g", prec, v);
        if (strtod(out, NULL) == v) break;
    }
    if (!strchr(out, 'e')) return;
    /* expand the exponent form: count the significant decimals needed */
    char *e = strchr(out, 'e');
    int exp = atoi(e + 1);
    int digits = (int)(e - out) - (strchr(out, '.') ? 1 : 0) - (out[0] == '-' ? 1 : 0);
    int decimals = digits - 1 - exp;
    snprintf(out, cap, "%.*f", decimals > 0 ? decimals : 0, v);
}
