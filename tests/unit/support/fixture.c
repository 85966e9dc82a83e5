/* fixture.c — the unit tests' temporary data directory (see fixture.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "common/fsutil.h"
#include "support/fixture.h"

static char fx_path[256];

const char *fx_tmpdir(const char *prefix)
{
    int n = snprintf(fx_path, sizeof(fx_path), "/tmp/%s-XXXXXX", prefix);
    if (n < 0 || (size_t)n >= sizeof(fx_path) || !mkdtemp(fx_path)) {
        fx_path[0] = '\0';
        return NULL;
    }
    return fx_path;
}

const char *fx_dir(void)
{
    return fx_path;
}

int fx_setup(void **state)
{
    (void)state;
    char prefix[128];
    snprintf(prefix, sizeof(prefix), "sluice-%s", program_invocation_short_name);
    return fx_tmpdir(prefix) ? 0 : -1;
}

int fx_teardown(void **state)
{
    (void)state;
    return sl_remove_tree(fx_path);
}
