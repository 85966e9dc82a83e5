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
    {"serve", cmd_serve, "run the server (HTTP write and query APIs, storage)"},
    {"parquet-dump", cmd_parquet, "print a Parquet file's schema, metadata, statistics, rows"},
    {"parquet-gen", cmd_parquet, "(testing) write a deterministic sample Parquet file"},
    {"agent", cmd_agent, "run the Telegraf-compatible collection agent"},
    {"lint", cmd_lint, "check line protocol and report every line a server would reject"},
    {"write", cmd_write, "send line protocol to a server (files, stdin or arguments)"},
    {"query", cmd_query, "run an SQL or InfluxQL query against a server"},
    {"db", cmd_db, "list, create, update and delete databases on a server"},
    {"token", cmd_token, "create, list and delete API tokens on a server"},
    {"backup", cmd_backup, "copy a consistent snapshot of a server's databases to a directory"},
    {"restore", cmd_restore, "restore a backup into the data directory of a stopped server"},
    {"version", cmd_version, "print the version"},
    {NULL, NULL, NULL},
};
