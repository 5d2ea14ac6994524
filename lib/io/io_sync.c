/*
 * io_sync.c — the synchronous calls of the IO core: size, whole-object read
 * and write (each on a private completion queue, so they never take another
 * caller's completions), delete and list (straight to the backend).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "io_core.h"

/* ------------------------------------------------------- synchronous calls */

int lsio_io_size(lsio_io *io, const char *location, uint64_t *size)
{
    if (!io || !location || !size)
        return lsio_error(-EINVAL, "lsio_io_size: NULL argument");
    const lsio_backend *be;
    void *state;
    const char *path;
    int rc = lsio__io_target(io, location, &be, &state, &path);
    if (rc < 0)
        return rc;
    return be->size(state, path, size);
}

/* Wait for the one completion of a private queue; 0 or its error (with its
 * message as this thread's last error). *c keeps the buffer. */
static int wait_one(lsio_cq *cq, lsio_completion *c)
{
    int n;
    do
        n = lsio_cq_wait(cq, c, 1, -1);
    while (n == 0);
    if (n < 0)
        return n;
    if (c->status) {
        lsio_error_set(c->status, c->error ? c->error : lsio_strerror(c->status));
        int st = c->status;
        lsio_completion_release(c);
        return st;
    }
    return 0;
}

int lsio_io_read(lsio_io *io, const char *location, int64_t offset, int64_t length,
                 lsio_buf **out)
{
    if (!out)
        return lsio_error(-EINVAL, "lsio_io_read: NULL argument");
    lsio_cq *cq;
    int rc = lsio_cq_create(&cq);
    if (rc < 0)
        return rc;
    lsio_range r = {.offset = offset, .length = length};
    rc = lsio_get_ranges(io, cq, location, &r, 1, 0);
    lsio_completion c = {0};
    if (rc == 0)
        rc = wait_one(cq, &c);
    lsio_cq_destroy(cq);
    if (rc < 0)
        return rc;
    if (!c.buf) { /* empty range */
        rc = lsio_buf_alloc(0, 0, &c.buf);
        if (rc < 0)
            return rc;
    }
    free(c.error);
    *out = c.buf;
    return 0;
}

int lsio_write(lsio_io *io, const char *location, const void *data, size_t len, unsigned flags)
{
    lsio_cq *cq;
    int rc = lsio_cq_create(&cq);
    if (rc < 0)
        return rc;
    rc = lsio_put(io, cq, location, data, len, 0, flags);
    lsio_completion c = {0};
    if (rc == 0)
        rc = wait_one(cq, &c);
    lsio_completion_release(&c);
    lsio_cq_destroy(cq);
    return rc;
}

int lsio_delete(lsio_io *io, const char *location)
{
    if (!io || !location)
        return lsio_error(-EINVAL, "lsio_delete: NULL argument");
    const lsio_backend *be;
    void *state;
    const char *path;
    int rc = lsio__io_target(io, location, &be, &state, &path);
    if (rc < 0)
        return rc;
    if (!be->del)
        return lsio_error(-ENOTSUP, "delete %s: not supported by %s", location, be->name);
    return be->del(state, path);
}

/* Local listings see paths; give the caller locations in its own form. */
typedef struct {
    lsio_list_fn fn;
    void *ctx;
    const char *scheme; /* "file://" or "file://localhost" or "" */
} list_wrap;

static int list_cb(void *ctx, const char *path, uint64_t size)
{
    list_wrap *w = ctx;
    if (!*w->scheme)
        return w->fn(w->ctx, path, size);
    size_t n = strlen(w->scheme) + strlen(path) + 1;
    char stackbuf[1024];
    char *loc = n <= sizeof stackbuf ? stackbuf : malloc(n);
    if (!loc)
        return -ENOMEM;
    size_t sl = strlen(w->scheme);
    memcpy(loc, w->scheme, sl);
    memcpy(loc + sl, path, n - sl);
    int rc = w->fn(w->ctx, loc, size);
    if (loc != stackbuf)
        free(loc);
    return rc;
}

int lsio_list(lsio_io *io, const char *prefix, lsio_list_fn fn, void *ctx)
{
    if (!io || !prefix || !fn)
        return lsio_error(-EINVAL, "lsio_list: NULL argument");
    const lsio_backend *be;
    void *state;
    const char *path;
    int rc = lsio__io_target(io, prefix, &be, &state, &path);
    if (rc < 0)
        return rc;
    if (!be->list)
        return lsio_error(-ENOTSUP, "list %s: not supported by %s", prefix, be->name);
    char scheme[32] = "";
    if (path != prefix)
        snprintf(scheme, sizeof scheme, "%.*s", (int)(path - prefix), prefix);
    list_wrap w = {fn, ctx, scheme};
    return be->list(state, path, list_cb, &w);
}
