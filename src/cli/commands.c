/* commands.c — the table of subcommands; add a line here for each new command. */
#include "cli/commands.h"

#include <stdio.h>

int cmd_version(int argc, char **argv)
{
    (void)argc, (void)argv;
    printf("sluice %s\n", SLUICE_VERSION);
    return 0;
}

const struct sl_command sl_commands[] = {
    {"version", cmd_version, "print the version"},
    {NULL, NULL, NULL},
};
