/*
 * array.c — opening a Zarr array: find its metadata (v3 zarr.json, else v2
 * .zarray with .zattrs) through the IO layer, parse it (meta.c), and answer
 * the questions about it that need no chunk data: info, fill value, item
 * size, counters, chunk keys, and the count of stored chunks (a listing).
 */
#include <errno.h>
#include <stdarg.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "zarr_internal.h"

int zarr_read_text(lsio_io *io, const char *url, char **text, size_t *len)
{
    lsio_buf *b = NULL;
    int rc = lsio_io_read(io, url, 0, LSIO_TO_END, &b);
    if (rc < 0)
        return rc;
    size_t n = lsio_buf_len(b);
    char *s = malloc(n + 1);
    if (!s) {
        lsio_buf_release(b);
        return -ENOMEM;
    }
    memcpy(s, lsio_buf_data(b), n);
    s[n] = 0;
    lsio_buf_release(b);
    *text = s;
    if (len)
        *len = n;
    return 0;
}

int zarr_chunk_key(const zarr_meta *m, const uint64_t *idx, char *buf, size_t cap)
{
    size_t k = 0;
    int w;
    if (m->v3_default_keys) {
        if (cap < 2)
            return -ENAMETOOLONG;
        buf[k++] = 'c';
        buf[k] = 0;
    }
    if (m->ndim == 0 && !m->v3_default_keys) {
        w = snprintf(buf, cap, "0");
        return w < 0 || (size_t)w >= cap ? -ENAMETOOLONG : w;
    }
    for (unsigned d = 0; d < m->ndim; d++) {
        int first = d == 0 && !m->v3_default_keys;
        w = snprintf(buf + k, cap - k, "%s%" PRIu64, first ? "" : (m->sep == '/' ? "/" : "."),
                     idx[d]);
        if (w < 0 || (size_t)w >= cap - k)
            return -ENAMETOOLONG;
        k += (size_t)w;
    }
    return (int)k;
}

int zarr_array_make(lsio_zarr_array **out, zarr_meta *m, const char *url, lsio_io *io,
                    int own_io, const lsio_zarr_opts *opts)
{
    lsio_zarr_array *a = calloc(1, sizeof *a);
    if (!a)
        return -ENOMEM;
    size_t n = strlen(url);
    while (n > 1 && url[n - 1] == '/')
        n--;
    a->url = strndup(url, n);
    if (!a->url) {
        free(a);
        return -ENOMEM;
    }
    a->m = *m;
    memset(m, 0, sizeof *m);
    zarr_hints_init(&a->hints);
    a->io = io;
    a->own_io = own_io;
    a->pool = opts && opts->pool ? opts->pool : NULL;
    a->inflight = opts && opts->inflight_bytes ? opts->inflight_bytes : (size_t)256 << 20;
    lsio_zarr_info *in = &a->info;
    in->zarr_format = a->m.zarr_format;
    in->url = a->url;
    in->ndim = a->m.ndim;
    in->nchunks = 1;
    for (unsigned d = 0; d < a->m.ndim; d++) {
        in->shape[d] = a->m.shape[d];
        in->chunks[d] = a->m.chunks[d];
        in->shards[d] = a->m.sharded ? a->m.outer[d] : 0;
        in->nchunks *= (a->m.shape[d] + a->m.outer[d] - 1) / a->m.outer[d];
        in->dimension_names[d] = a->m.dim_names[d];
    }
    in->dtype = a->m.dtype;
    in->fortran_order = a->m.fortran_order;
    in->fill_value_json = a->m.fill_json;
    in->attrs_json = a->m.attrs_json;
    in->codecs_json = a->m.codecs_json;
    *out = a;
    return 0;
}

/* Read and parse the metadata at url with io. */
static int open_meta(lsio_io *io, const char *url, zarr_meta *m)
{
    char *p = lsio_join(url, "zarr.json"), *text = NULL, *attrs = NULL;
    size_t len = 0, alen = 0;
    if (!p)
        return -ENOMEM;
    int rc = zarr_read_text(io, p, &text, &len);
    free(p);
    if (rc == 0) {
        rc = zarr_meta_parse_text(m, 3, text, len, NULL, 0, url);
        if (rc == -LSIO_EFORMAT && strstr(text, "\"group\"") &&
            strstr(lsio_last_error(), "node_type"))
            rc = lsio_error(-ENOENT, "array %s: a group is there, not an array", url);
        free(text);
        return rc;
    }
    if (rc != -ENOENT)
        return lsio_error_wrap(rc, "array %s: reading zarr.json", url);
    if (!(p = lsio_join(url, ".zarray")))
        return -ENOMEM;
    rc = zarr_read_text(io, p, &text, &len);
    free(p);
    if (rc == -ENOENT)
        return lsio_error(-ENOENT, "no Zarr array at %s", url);
    if (rc < 0)
        return lsio_error_wrap(rc, "array %s: reading .zarray", url);
    if (!(p = lsio_join(url, ".zattrs"))) {
        free(text);
        return -ENOMEM;
    }
    int arc = zarr_read_text(io, p, &attrs, &alen);
    free(p);
    if (arc < 0 && arc != -ENOENT) {
        free(text);
        return lsio_error_wrap(arc, "array %s: reading .zattrs", url);
    }
    rc = zarr_meta_parse_text(m, 2, text, len, attrs, alen, url);
    free(text);
    free(attrs);
    return rc;
}

int lsio_zarr_open(lsio_zarr_array **out, const char *url, const lsio_zarr_opts *opts)
{
    if (!out || !url)
        return lsio_error(-EINVAL, "lsio_zarr_open: NULL argument");
    *out = NULL;
    lsio_zarr_opts def = LSIO_ZARR_OPTS_DEFAULT;
    if (!opts)
        opts = &def;
    lsio_io *io = opts->io_handle;
    int rc;
    if (!io && (rc = lsio_io_open(&io, url, &opts->io)) < 0)
        return lsio_error_wrap(rc, "array %s: opening the store", url);
    zarr_meta m;
    memset(&m, 0, sizeof m);
    rc = open_meta(io, url, &m);
    if (rc == 0)
        rc = zarr_array_make(out, &m, url, io, !opts->io_handle, opts);
    if (rc < 0) {
        zarr_meta_free(&m);
        if (!opts->io_handle)
            lsio_io_close(io);
    }
    return rc;
}

int zarr_local(const lsio_zarr_array *a)
{
    const char *be = lsio_io_backend_name(a->io);
    return be && (!strcmp(be, "uring") || !strcmp(be, "posix"));
}

void lsio_zarr_close(lsio_zarr_array *a)
{
    if (!a)
        return;
    zarr_meta_free(&a->m);
    zarr_hints_fini(&a->hints);
    if (a->own_io)
        lsio_io_close(a->io);
    free(a->url);
    free(a);
}

const lsio_zarr_info *lsio_zarr_get_info(const lsio_zarr_array *a) { return &a->info; }

void lsio_zarr_fill_value(const lsio_zarr_array *a, void *elem)
{
    if (a->m.fill && a->m.itemsize)
        memcpy(elem, a->m.fill, a->m.itemsize);
}

size_t lsio_zarr_itemsize(const lsio_zarr_array *a) { return a->m.itemsize; }

void lsio_zarr_stats_get(const lsio_zarr_array *a, lsio_zarr_stats *st)
{
    lsio_zarr_array *x = (lsio_zarr_array *)a;
    st->chunks_read = atomic_load(&x->st_read);
    st->chunks_missing = atomic_load(&x->st_missing);
    st->bytes_read = atomic_load(&x->st_bytes);
    st->bytes_decoded = atomic_load(&x->st_decoded);
    st->chunks_direct = atomic_load(&x->st_direct);
}

/* ----------------------------------------------------------- count chunks */

typedef struct count_ctx {
    const zarr_meta *m;
    size_t base;
    uint64_t n, bytes;
} count_ctx;

/* Is rel (a location relative to the array) a chunk key of m? */
static int is_chunk_key(const zarr_meta *m, const char *rel)
{
    const char *p = rel;
    if (m->v3_default_keys) {
        if (*p++ != 'c')
            return 0;
        if (m->ndim == 0)
            return *p == 0;
        if (*p++ != m->sep)
            return 0;
    } else if (m->ndim == 0)
        return !strcmp(p, "0");
    for (unsigned d = 0; d < m->ndim; d++) {
        if (d && *p++ != m->sep)
            return 0;
        if (*p < '0' || *p > '9')
            return 0;
        while (*p >= '0' && *p <= '9')
            p++;
    }
    return *p == 0;
}

static int count_one(void *ctx, const char *location, uint64_t size)
{
    count_ctx *c = ctx;
    if (strlen(location) > c->base && is_chunk_key(c->m, location + c->base)) {
        c->n++;
        c->bytes += size;
    }
    return 0;
}

int lsio_zarr_count_chunks(lsio_zarr_array *a, uint64_t *present, uint64_t *stored_bytes)
{
    char *prefix = lsio_join(a->url, "");
    if (!prefix)
        return -ENOMEM;
    count_ctx c = {.m = &a->m, .base = strlen(prefix)};
    int rc = lsio_list(a->io, prefix, count_one, &c);
    free(prefix);
    if (rc < 0)
        return rc;
    if (present)
        *present = c.n;
    if (stored_bytes)
        *stored_bytes = c.bytes;
    return 0;
}
