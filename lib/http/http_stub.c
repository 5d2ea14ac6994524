/*
 * http_stub.c — placeholder for the http and s3 backends until lib/http
 * lands: opening an http(s):// or s3:// location says it is not built.
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
    *why = strdup("remote backends are not built yet");
    return -EPROTONOSUPPORT;
}

const lsio_backend lsio_backend_http = {.name = "http", .start = stub_start};
const lsio_backend lsio_backend_s3 = {.name = "s3", .start = stub_start};
