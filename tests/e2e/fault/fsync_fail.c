/*
 * fsync_fail.c — an LD_PRELOAD shim for the fsync fault test (the fallback
 * when libfiu is not installed or cannot intercept the server's calls).
 *
 * While the file named by $SLUICE_FAULT_TRIGGER exists, fdatasync() fails
 * with EIO, once: the shim removes the trigger file when it injects the
 * failure, so exactly one sync fails. With SLUICE_FAULT_FSYNC=1, fsync() is
 * failed the same way. Everything else goes to the real libc functions.
 *
 * Built by tests/e2e/test_fsync_fault.py at run time:
 *   cc -shared -fPIC -O2 -o fsync_fail.so fsync_fail.c -ldl
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int inject(void)
{
    const char *t = getenv("SLUICE_FAULT_TRIGGER");
    if (!t || !*t) return 0;
    /* unlink succeeds for exactly one caller, even with concurrent syncs */
    return unlink(t) == 0;
}

int fdatasync(int fd)
{
    static int (*real)(int);
    if (inject()) {
        errno = EIO;
        return -1;
    }
    if (!real) real = (int (*)(int))dlsym(RTLD_NEXT, "fdatasync");
    return real ? real(fd) : (errno = ENOSYS, -1);
}

int fsync(int fd)
{
    static int (*real)(int);
    const char *also = getenv("SLUICE_FAULT_FSYNC");
    if (also && !strcmp(also, "1") && inject()) {
        errno = EIO;
        return -1;
    }
    if (!real) real = (int (*)(int))dlsym(RTLD_NEXT, "fsync");
    return real ? real(fd) : (errno = ENOSYS, -1);
}
