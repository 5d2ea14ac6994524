/* cmd_get.c — placeholder until its issue lands. */
#include <stdio.h>

#include "cli.h"

int cmd_get(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    fprintf(stderr, "lsio get: not implemented yet\n");
    return 2;
}
