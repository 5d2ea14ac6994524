/*
 * cli.h — the `lsio` command: each subcommand lives in its own file
 * (cmd_<name>.c) and is listed in main.c.
 */
#ifndef LSIO_CLI_H
#define LSIO_CLI_H

#include <stddef.h>

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

/* Options taking a value, as "--name value" or "--name=value": if argv[*i]
 * is `name`, store its value in *val, advance *i past it and return 1;
 * return 0 if argv[*i] is another argument, -1 (printed, naming cmd) when
 * the value is missing. */
int cli_opt_value(const char *cmd, int argc, char **argv, int *i, const char *name,
                  const char **val);

/* The options every array command takes (info, get, stats):
 *   --threads N      decode threads (a pool of N; default: every core)
 *   --backend B      auto|uring|posix|http|s3 (default auto)
 *   --inflight SIZE  bytes read but not yet decoded (default 256 MiB) */
struct lsio_zarr_opts;
struct lsio_pool;
typedef struct cli_zarr_common {
    unsigned threads;
    int backend;              /* lsio_backend_kind */
    long long inflight;
    struct lsio_pool *pool;   /* made by cli_zarr_setup for --threads */
} cli_zarr_common;
#define CLI_ZARR_COMMON_HELP                                                       \
    "  --threads N          decode threads (default: every core)\n"               \
    "  --backend B          auto|uring|posix|http|s3 (default auto)\n"            \
    "  --inflight SIZE      bytes read but not yet decoded (default 256M)\n"
/* Consume argv[*i] if it is a common option: 1 consumed, 0 not one, -1 a
 * bad value (printed). */
int cli_zarr_arg(cli_zarr_common *c, const char *cmd, int argc, char **argv, int *i);
/* Fill opts (LSIO_ZARR_OPTS_DEFAULT plus the options); makes the pool of
 * --threads. 0, or -1 (printed). cli_zarr_end frees what it made. */
int cli_zarr_setup(cli_zarr_common *c, const char *cmd, struct lsio_zarr_opts *opts);
void cli_zarr_end(cli_zarr_common *c);
/* Print "lsio CMD: <what failed>" for err: the library's message of the
 * failed call when it left one (it names the URL or chunk key), else
 * "<what>: <lsio_strerror(err)>". Returns 1 (the exit status). */
int cli_fail(const char *cmd, int err, const char *what);
/* A data type as a numpy type string: as stored ("<f4", ">i2", "|b1",
 * "<U7", "|S3"; variable-length strings "string"), or with native=1 in this
 * machine's byte order, as the readers return it. */
struct lsio_dtype;
const char *cli_dtype_descr(const struct lsio_dtype *d, int native, char *buf, size_t len);
/* Human-readable size ("1.5 GiB") into buf. */
const char *cli_fmt_size(double bytes, char *buf, size_t len);

#endif
