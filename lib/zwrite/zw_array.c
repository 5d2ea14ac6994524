/*
 * zw_array.c — the life of a write handle: create (check the spec, clear
 * or refuse what is at the url, write the metadata), open (read it back),
 * close, attributes, statistics; and groups.
 *
 * A handle shares or opens one lsio_io backend for its url and keeps one
 * completion queue whose callback finishes the puts of lsio_zwrite_write.
 */
#include <cjson/cJSON.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "zw_internal.h"

static int handle_new(lsio_zwrite_array **out, const char *url, const lsio_zwrite_opts *opts)
{
    lsio_zwrite_opts d = LSIO_ZWRITE_OPTS_DEFAULT;
    lsio_zwrite_array *a = calloc(1, sizeof *a);
    *out = NULL;
    if (!url)
        return lsio_error(-EINVAL, "lsio_zwrite: NULL url");
    if (!a)
        return -ENOMEM;
    a->opts = opts ? *opts : d;
    size_t n = strlen(url);
    while (n > 1 && url[n - 1] == '/')
        n--;
    a->url = strndup(url, n);
    pthread_mutex_init(&a->lock, NULL);
    pthread_mutex_init(&a->free_mu, NULL);
    int rc = a->url ? 0 : -ENOMEM;
    if (rc == 0 && a->opts.io_handle) {
        a->io = a->opts.io_handle;
    } else if (rc == 0) {
        rc = lsio_io_open(&a->io, a->url, &a->opts.io);
        a->own_io = rc == 0;
    }
    a->pool = a->opts.pool ? a->opts.pool : lsio_pool_default();
    if (rc == 0 && !a->pool)
        rc = lsio_error(-ENOMEM, "no thread pool");
    if (rc == 0)
        rc = lsio_cq_create(&a->cq);
    if (rc < 0) {
        lsio_zwrite_close(a);
        return rc;
    }
    *out = a;
    return 0;
}

void lsio_zwrite_close(lsio_zwrite_array *a)
{
    if (!a)
        return;
    if (a->cq)
        lsio_cq_destroy(a->cq);
    if (a->own_io)
        lsio_io_close(a->io);
    lsio_chain_destroy(a->chain);
    lsio_chain_destroy(a->index_chain);
    free(a->fill);
    free(a->fill_str);
    free(a->doc_main);
    free(a->doc_attrs);
    free(a->fill_json);
    free(a->attrs_json);
    free(a->codecs_json);
    free(a->v2_compressor);
    free(a->v2_filters);
    free(a->index_codecs);
    for (unsigned d = 0; d < ZW_MAXD; d++)
        free(a->dimnames[d]);
    free((void *)a->written);
    pthread_mutex_destroy(&a->lock);
    for (unsigned i = 0; i < a->nfree; i++)
        free(a->free_bufs[i]);
    for (unsigned i = 0; i < a->nbig; i++)
        free(a->big_bufs[i]);
    pthread_mutex_destroy(&a->free_mu);
    free(a->url);
    free(a);
}

static int ready(lsio_zwrite_array *a)
{
    lsio_cq_set_callback(a->cq, zw_put_done, a);
    return 0;
}

static int none_under(void *ctx, const char *location, uint64_t size)
{
    (void)location;
    (void)size;
    *(int *)ctx = 1;
    return 1; /* one is enough */
}

int lsio_zwrite_create(lsio_zwrite_array **out, const char *url, const lsio_zwrite_spec *spec,
                       const lsio_zwrite_opts *opts)
{
    lsio_zwrite_array *a;
    if (!out || !spec)
        return lsio_error(-EINVAL, "lsio_zwrite_create: NULL argument");
    int rc = handle_new(&a, url, opts);
    if (rc < 0)
        return rc;
    rc = zw_adopt_spec(a, spec);
    if (rc < 0)
        lsio_error_wrap(rc, "array %s", a->url);
    int fmt = 0, is_array = 0, any = 0;
    if (rc == 0)
        rc = zw_probe(a->io, a->url, &fmt, &is_array);
    if (rc == 0 && fmt && !a->opts.overwrite)
        rc = lsio_error(-EEXIST, "%s: a Zarr v%d %s is there already", a->url, fmt,
                        is_array ? "array" : "group");
    if (rc == 0 && a->opts.overwrite) {
        rc = zw_remove_tree(a->io, a->url);
    } else if (rc == 0) {
        char *prefix = lsio_join(a->url, "");
        rc = prefix ? lsio_list(a->io, prefix, none_under, &any) : -ENOMEM;
        free(prefix);
    }
    if (rc == 0) {
        a->fresh = !any;
        if (a->fresh && a->nobjects <= ((uint64_t)1 << 28))
            a->written = calloc((size_t)(a->nobjects + 7) / 8, 1);
        rc = zw_write_meta(a);
    }
    if (rc == 0)
        rc = ready(a);
    if (rc < 0) {
        lsio_zwrite_close(a);
        return rc;
    }
    *out = a;
    return 0;
}

int lsio_zwrite_open(lsio_zwrite_array **out, const char *url, const lsio_zwrite_opts *opts)
{
    lsio_zwrite_array *a;
    if (!out)
        return lsio_error(-EINVAL, "lsio_zwrite_open: NULL argument");
    int rc = handle_new(&a, url, opts);
    if (rc == 0)
        rc = zw_read_meta(a);
    if (rc == 0)
        rc = ready(a);
    if (rc < 0) {
        lsio_zwrite_close(a);
        return rc;
    }
    *out = a;
    return 0;
}

const lsio_zwrite_spec *lsio_zwrite_get_spec(const lsio_zwrite_array *a) { return &a->spec; }

int lsio_zwrite_set_attrs(lsio_zwrite_array *a, const char *attrs_json)
{
    char *copy = attrs_json ? strdup(attrs_json) : strdup("{}");
    if (!copy)
        return -ENOMEM;
    free(a->attrs_json);
    a->attrs_json = copy;
    a->spec.attrs_json = copy;
    return zw_write_meta(a);
}

void lsio_zwrite_stats_get(const lsio_zwrite_array *a, lsio_zwrite_stats *st)
{
    st->objects_written = atomic_load(&a->st_written);
    st->objects_deleted = atomic_load(&a->st_deleted);
    st->objects_merged = atomic_load(&a->st_merged);
    st->chunks_encoded = atomic_load(&a->st_encoded);
    st->bytes_written = atomic_load(&a->st_bytes);
    st->bytes_in = atomic_load(&a->st_in);
}

/* ------------------------------------------------------------------ groups */

int lsio_zwrite_create_group(const char *url, int zarr_format, const char *attrs_json,
                             const lsio_zwrite_opts *opts)
{
    if (zarr_format != 2 && zarr_format != 3)
        return lsio_error(-EINVAL, "group %s: zarr_format %d: want 2 or 3", url ? url : "",
                          zarr_format);
    lsio_zwrite_array *a;
    int rc = handle_new(&a, url, opts);
    if (rc < 0)
        return rc;
    int fmt, is_array;
    rc = zw_probe(a->io, a->url, &fmt, &is_array);
    if (rc == 0 && fmt && (is_array || fmt != zarr_format)) {
        if (a->opts.overwrite)
            rc = zw_remove_tree(a->io, a->url);
        else
            rc = lsio_error(-EEXIST, "%s: a Zarr v%d %s is there already", a->url, fmt,
                            is_array ? "array" : "group");
    }
    char *doc = NULL;
    if (rc == 0 && attrs_json) {
        cJSON *j = cJSON_Parse(attrs_json);
        rc = cJSON_IsObject(j) ? 0
                               : lsio_error(-EINVAL, "group %s: attributes: want a JSON object", a->url);
        cJSON_Delete(j);
    }
    if (rc == 0) {
        const char *at = attrs_json ? attrs_json : "{}";
        size_t n = strlen(at) + 96;
        if (!(doc = malloc(n)))
            rc = -ENOMEM;
        else if (zarr_format == 2)
            snprintf(doc, n, "{\n  \"zarr_format\": 2\n}\n");
        else
            snprintf(doc, n, "{\n  \"zarr_format\": 3,\n  \"node_type\": \"group\",\n  "
                             "\"attributes\": %s\n}\n", at);
    }
    if (rc == 0) {
        char *loc = lsio_join(a->url, zarr_format == 2 ? ".zgroup" : "zarr.json");
        rc = loc ? lsio_write(a->io, loc, doc, strlen(doc), a->opts.put_flags) : -ENOMEM;
        free(loc);
    }
    if (rc == 0 && zarr_format == 2 && attrs_json) {
        char *loc = lsio_join(a->url, ".zattrs");
        rc = loc ? lsio_write(a->io, loc, attrs_json, strlen(attrs_json), a->opts.put_flags)
                 : -ENOMEM;
        free(loc);
    }
    free(doc);
    lsio_zwrite_close(a);
    return rc;
}
