/*
 * fuzz_zwrite_meta.c — the Zarr writer's metadata parser and writer on
 * arbitrary text, no IO: the first byte picks v2 (.zarray, with .zattrs
 * after a NUL) or v3 (zarr.json). Whatever is accepted must survive a round
 * trip: the documents the writer makes from it parse back to the same spec
 * (shape, chunks, shards, data type, fill value, codecs, attributes, keys).
 * The same text also goes through lsio_zwrite_codecs_convert both ways.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "zw_internal.h"

static lsio_zwrite_array *blank(void)
{
    lsio_zwrite_array *a = calloc(1, sizeof *a);
    if (!a)
        abort();
    a->url = strdup("fuzz");
    pthread_mutex_init(&a->lock, NULL);
    pthread_mutex_init(&a->free_mu, NULL);
    return a;
}

static int same_str(const char *x, const char *y)
{
    return (!x && !y) || (x && y && !strcmp(x, y));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    int v2 = !(data[0] & 1);
    const char *text = (const char *)data + 1;
    size_t len = size - 1;
    const char *attrs = NULL;
    size_t alen = 0;
    const char *nul = memchr(text, 0, len);
    if (nul && v2) {
        attrs = nul + 1;
        alen = len - (size_t)(attrs - text);
        len = (size_t)(nul - text);
    }
    lsio_zwrite_array *a = blank();
    if (zw_parse_meta_text(a, v2, text, len, attrs, alen) == 0) {
        if (zw_write_meta(a) < 0 || !a->doc_main)
            abort();
        lsio_zwrite_array *b = blank();
        if (zw_parse_meta_text(b, v2, a->doc_main, strlen(a->doc_main), a->doc_attrs,
                               a->doc_attrs ? strlen(a->doc_attrs) : 0) < 0)
            abort();
        const lsio_zwrite_spec *s = &a->spec, *t = &b->spec;
        if (s->ndim != t->ndim || s->dtype.kind != t->dtype.kind || s->dtype.size != t->dtype.size ||
            s->dtype.big_endian != t->dtype.big_endian || s->fortran_order != t->fortran_order ||
            s->separator != t->separator || s->v3_v2_keys != t->v3_v2_keys ||
            s->index_at_start != t->index_at_start || a->sharded != b->sharded ||
            a->fill_null != b->fill_null || memcmp(a->fill, b->fill, a->strings ? 0 : a->itemsize) ||
            !same_str(a->fill_json, b->fill_json) || !same_str(a->codecs_json, b->codecs_json) ||
            !same_str(a->index_codecs, b->index_codecs))
            abort();
        for (unsigned d = 0; d < s->ndim; d++)
            if (s->shape[d] != t->shape[d] || s->chunks[d] != t->chunks[d] ||
                s->shards[d] != t->shards[d] || !same_str(a->dimnames[d], b->dimnames[d]))
                abort();
        lsio_zwrite_close(b);
    }
    lsio_zwrite_close(a);
    char *t = strndup(text, len), *out = NULL;
    lsio_dtype f4 = {LSIO_DT_FLOAT, 4, 0};
    if (t && lsio_zwrite_codecs_convert(t, v2 ? 2 : 3, v2 ? 3 : 2, &f4, &out) == 0)
        free(out);
    if (t && lsio_zwrite_codecs_from_text(t, v2 ? 2 : 3, &f4, &out) == 0)
        free(out);
    free(t);
    return 0;
}
