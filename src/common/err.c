/* err.c — descriptions for the error codes of err.h. */
#include "common/err.h"

const char *sl_strerror(int rc)
{
    switch (rc) {
    case SL_OK: return "success";
    case SL_ENOMEM: return "out of memory";
    case SL_EINVAL: return "invalid argument";
    case SL_EIO: return "input/output error";
    case SL_ENOENT: return "not found";
    case SL_EEXIST: return "already exists";
    case SL_ERANGE: return "value out of range";
    case SL_ETOOBIG: return "too large";
    case SL_ECORRUPT: return "data is corrupt";
    case SL_EBUSY: return "busy";
    case SL_EPERM: return "permission denied";
    case SL_EAGAIN: return "try again";
    case SL_ECONFLICT: return "conflict";
    case SL_ESTATE: return "in error state";
    }
    return "unknown error";
}
