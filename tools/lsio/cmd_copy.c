/* cmd_copy.c — placeholder until its issue lands. */
#include <stdio.h>

#include "cli.h"

int cmd_copy(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    fprintf(stderr, "lsio copy: not implemented yet\n");
    return 2;
}
