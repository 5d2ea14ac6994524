/*
 * cli.h — the `lsio` command: each subcommand lives in its own file
 * (cmd_<name>.c) and is listed in main.c.
 */
#ifndef LSIO_CLI_H
#define LSIO_CLI_H

int cmd_bench(int argc, char **argv); /* lsio bench io ... */
int cmd_info(int argc, char **argv);  /* lsio info URL */
int cmd_get(int argc, char **argv);   /* lsio get URL -o out.npy */
int cmd_stats(int argc, char **argv); /* lsio stats URL */
int cmd_copy(int argc, char **argv);  /* lsio copy SRC DST */

/* Shared helpers (cli_util.c). */
int cli_isatty_stderr(void);
/* A one-line progress bar on stderr when it is a terminal. */
void cli_progress(const char *what, double done, double total, double start_s);
void cli_progress_end(void);
double cli_now_s(void);
/* Parse "16M", "1GiB", "4k", "1048576" into bytes; -1 if malformed. */
long long cli_parse_size(const char *s);

#endif
