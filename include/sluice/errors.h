/*
 * sluice/errors.h — the return codes of libsluice and of sluice itself (one
 * definition, included by src/common/err.h and by sluice/sluice.h): 0 on
 * success, a negative SL_E* value on failure.
 */
#ifndef SLUICE_ERRORS_H
#define SLUICE_ERRORS_H

enum sl_err {
    SL_OK = 0,
    SL_ENOMEM = -1,     /* allocation failed or a hard size cap was hit */
    SL_EINVAL = -2,     /* bad argument or malformed input */
    SL_EIO = -3,        /* read/write/fsync failed */
    SL_ENOENT = -4,     /* no such file, database, table, token... */
    SL_EEXIST = -5,     /* already exists */
    SL_ERANGE = -6,     /* value out of range */
    SL_ETOOBIG = -7,    /* input larger than its limit */
    SL_ECORRUPT = -8,   /* on-disk data fails a check */
    SL_EBUSY = -9,      /* resource temporarily exhausted; retry later */
    SL_EPERM = -10,     /* not allowed */
    SL_EAGAIN = -11,    /* try again */
    SL_ECONFLICT = -12, /* schema/type conflict */
    SL_ESTATE = -13,    /* object is in a (sticky) error state */
};

#endif
