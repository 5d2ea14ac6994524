/* cmd_stats.c — placeholder until its issue lands. */
#include <stdio.h>

#include "cli.h"

int cmd_stats(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    fprintf(stderr, "lsio stats: not implemented yet\n");
    return 2;
}
