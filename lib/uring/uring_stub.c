/*
 * uring_stub.c — placeholder for the io_uring backend until lib/uring
 * lands: starting it fails, so the core falls back to posix.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "io_backend.h"

static int stub_start(lsio_io *io, const lsio_io_opts *opts, void **state, char **why)
{
    (void)io;
    (void)opts;
    (void)state;
    *why = strdup("the io_uring backend is not built yet");
    return -ENOSYS;
}

const lsio_backend lsio_backend_uring = {.name = "uring", .start = stub_start};
