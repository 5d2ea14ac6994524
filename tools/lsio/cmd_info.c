/* cmd_info.c — placeholder until its issue lands. */
#include <stdio.h>

#include "cli.h"

int cmd_info(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    fprintf(stderr, "lsio info: not implemented yet\n");
    return 2;
}
