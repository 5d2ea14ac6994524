/*
 * main.c — `lsio`: benchmark the IO backends, inspect, read and summarise
 * arrays. Dispatches to the subcommands in cmd_*.c.
 */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "lsio_base.h"

static const struct {
    const char *name;
    int (*fn)(int, char **);
    const char *help;
} cmds[] = {
    {"bench", cmd_bench, "bench io [options]     benchmark the IO backends (fio-like)"},
    {"info", cmd_info, "info URL [--json]      describe a Zarr group or array"},
    {"get", cmd_get, "get URL [--select S] -o out.npy   read an array or a selection"},
    {"stats", cmd_stats, "stats URL [--select S] [--json]  count, min, max, mean, std, NaNs"},
    {"copy", cmd_copy, "copy SRC DST [options] copy or rechunk an array or group"},
};

static void usage(FILE *f)
{
    fprintf(f, "lsio %s — Light Speed IO\n\nusage:\n", lsio_version());
    for (size_t i = 0; i < sizeof cmds / sizeof cmds[0]; i++)
        fprintf(f, "  lsio %s\n", cmds[i].help);
    fprintf(f, "\nlocations: paths, file://, http(s)://, s3://bucket/key\n"
               "'lsio COMMAND --help' for a command's options.\n\n"
               "environment (README.md has the whole list):\n"
               "  LSIO_THREADS       decode threads (default: every core)\n"
               "  LSIO_BACKEND       local backend: uring or posix (default: uring where it works)\n"
               "  LSIO_CACHE_BUDGET  uncached bytes read through the page cache before O_DIRECT\n"
               "  LSIO_HUGEPAGES     on, off, auto: transparent huge pages for large buffers\n"
               "  AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN, AWS_REGION,\n"
               "  AWS_ENDPOINT_URL, AWS_PROFILE, AWS_NO_SIGN_REQUEST   S3, as the AWS CLI\n");
}

int main(int argc, char **argv)
{
    if (argc < 2 || !strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")) {
        usage(argc < 2 ? stderr : stdout);
        return argc < 2 ? 2 : 0;
    }
    if (!strcmp(argv[1], "--version")) {
        printf("lsio %s\n", lsio_version());
        return 0;
    }
    for (size_t i = 0; i < sizeof cmds / sizeof cmds[0]; i++)
        if (!strcmp(argv[1], cmds[i].name))
            return cmds[i].fn(argc - 1, argv + 1);
    fprintf(stderr, "lsio: unknown command '%s'\n\n", argv[1]);
    usage(stderr);
    return 2;
}
