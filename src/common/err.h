/*
 * err.h — the one error space of sluice.
 *
 * Every function that can fail returns int: 0 (SL_OK) on success, a negative
 * SL_E* value on failure. Callers chain with `if ((rc = f()) < 0) goto out;`.
 * sl_strerror() gives a lower-case phrase for logs and error bodies.
 */
#ifndef SL_COMMON_ERR_H
#define SL_COMMON_ERR_H

#include "sluice/errors.h"

/* Returns a static, lower-case description of rc (never NULL). */
const char *sl_strerror(int rc);

#endif
