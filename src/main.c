/*
 * main.c — entry point of the `sluice` binary: dispatches to a subcommand
 * (serve, agent, write, query, db, token, lint, ...). See cli/commands.c.
 */
#include <stdio.h>
#include <string.h>

#include "cli/commands.h"

static void usage(FILE *f)
{
    fprintf(f, "usage: sluice <command> [options]\n\n"
               "sluice is an InfluxDB-compatible time-series database and ingestion toolkit.\n\n"
               "commands:\n");
    for (const struct sl_command *c = sl_commands; c->name; c++)
        fprintf(f, "  %-13s %s\n", c->name, c->summary);
    fprintf(f, "\nRun 'sluice <command> --help' for a command's options.\n");
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return 2;
    }
    const char *name = argv[1];
    if (!strcmp(name, "--help") || !strcmp(name, "-h") || !strcmp(name, "help")) {
        usage(stdout);
        return 0;
    }
    if (!strcmp(name, "--version")) name = "version";
    for (const struct sl_command *c = sl_commands; c->name; c++)
        if (!strcmp(c->name, name)) return c->run(argc - 1, argv + 1);
    fprintf(stderr, "sluice: unknown command '%s'\n\n", name);
    usage(stderr);
    return 2;
}
