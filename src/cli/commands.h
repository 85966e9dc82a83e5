/*
 * commands.h — the subcommands of the one `sluice` binary. Each takes the
 * arguments after its name (argv[0] is the subcommand) and returns the
 * process exit code: 0 success, 1 failure, 2 usage error.
 */
#ifndef SL_CLI_COMMANDS_H
#define SL_CLI_COMMANDS_H

struct sl_command {
    const char *name;
    int (*run)(int argc, char **argv);
    const char *summary;
};

/* The table main() dispatches on, terminated by a NULL name. */
extern const struct sl_command sl_commands[];

int cmd_version(int argc, char **argv);
int cmd_lint(int argc, char **argv);
int cmd_parquet(int argc, char **argv); /* parquet-dump, parquet-gen */
int cmd_serve(int argc, char **argv);
int cmd_write(int argc, char **argv);
int cmd_query(int argc, char **argv);
int cmd_agent(int argc, char **argv); /* src/agent/agent_main.c */
int cmd_db(int argc, char **argv);
int cmd_token(int argc, char **argv);
int cmd_backup(int argc, char **argv);  /* backup.c */
int cmd_restore(int argc, char **argv); /* backup.c */

#endif
