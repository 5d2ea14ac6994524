/*
 * zw_strings.c — one place where a chunk meets its codecs, for fixed-size
 * data types and for variable-length strings alike, and the string write
 * entry point.
 *
 * A string chunk is built as an array of zw_str references (pointer and
 * length) so that the plan, the scatter of the selection and the fill
 * tests of zw_write.c work on it unchanged, with 16-byte "elements". The
 * references point into the caller's bytes or into the decoded old chunk;
 * encoding gathers them into offsets + bytes for lsio_chain_encode_strings
 * (vlen-utf8, then any compressor).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "zw_internal.h"

int zw_chunk_decode(const lsio_zwrite_array *a, const void *src, size_t len, void *chunk,
                    void **keep)
{
    *keep = NULL;
    if (!a->strings)
        return lsio_chain_decode(a->chain, src, len, chunk, a->chunk_bytes);
    uint64_t *off = NULL;
    uint8_t *data = NULL;
    size_t dlen = 0, n = a->chunk_bytes / sizeof(zw_str);
    int rc = lsio_chain_decode_strings(a->chain, src, len, &off, &data, &dlen);
    if (rc < 0)
        return rc;
    zw_str *s = chunk;
    for (size_t i = 0; i < n; i++)
        s[i] = (zw_str){(const char *)data + off[i], off[i + 1] - off[i]};
    free(off);
    *keep = data;
    return 0;
}

void *zw_chunk_buf(lsio_zwrite_array *a)
{
    void *p = NULL;
    pthread_mutex_lock(&a->free_mu);
    if (a->nfree)
        p = a->free_bufs[--a->nfree];
    pthread_mutex_unlock(&a->free_mu);
    return p ? p : malloc(a->chunk_bytes ? a->chunk_bytes : 1);
}

void zw_chunk_buf_put(lsio_zwrite_array *a, void *p)
{
    if (!p)
        return;
    pthread_mutex_lock(&a->free_mu);
    unsigned cap = sizeof a->free_bufs / sizeof a->free_bufs[0];
    size_t budget = a->opts.inflight_bytes ? a->opts.inflight_bytes : ZW_DEFAULT_INFLIGHT;
    if (a->chunk_bytes && budget / a->chunk_bytes < cap)
        cap = (unsigned)(budget / a->chunk_bytes);
    if (a->nfree < cap) {
        a->free_bufs[a->nfree++] = p;
        p = NULL;
    }
    pthread_mutex_unlock(&a->free_mu);
    free(p);
}

void *zw_big_buf(lsio_zwrite_array *a, size_t len, size_t *cap)
{
    void *p = NULL;
    pthread_mutex_lock(&a->free_mu);
    for (unsigned i = 0; i < a->nbig; i++)
        if (a->big_caps[i] >= len) {
            p = a->big_bufs[i];
            *cap = a->big_caps[i];
            a->big_bufs[i] = a->big_bufs[--a->nbig];
            a->big_caps[i] = a->big_caps[a->nbig];
            break;
        }
    pthread_mutex_unlock(&a->free_mu);
    if (!p) {
        *cap = len + len / 4;
        p = malloc(*cap ? *cap : 1);
    }
    return p;
}

void zw_big_buf_put(lsio_zwrite_array *a, void *p, size_t cap)
{
    if (!p)
        return;
    pthread_mutex_lock(&a->free_mu);
    unsigned n = sizeof a->big_bufs / sizeof a->big_bufs[0];
    if (a->nbig < n) {
        a->big_bufs[a->nbig] = p;
        a->big_caps[a->nbig++] = cap;
        p = NULL;
    } else { /* replace the smallest when this one is larger */
        unsigned k = 0;
        for (unsigned i = 1; i < n; i++)
            if (a->big_caps[i] < a->big_caps[k])
                k = i;
        if (a->big_caps[k] < cap) {
            void *old = a->big_bufs[k];
            a->big_bufs[k] = p;
            a->big_caps[k] = cap;
            p = old;
        }
    }
    pthread_mutex_unlock(&a->free_mu);
    free(p);
}

int zw_chunk_encode(const lsio_zwrite_array *a, const void *chunk, void **out, size_t *len)
{
    if (!a->strings)
        return lsio_chain_encode(a->chain, chunk, a->chunk_bytes, out, len);
    const zw_str *s = chunk;
    size_t n = a->chunk_bytes / sizeof(zw_str), total = 0;
    for (size_t i = 0; i < n; i++)
        total += (size_t)s[i].n;
    uint64_t *off = malloc((n + 1) * sizeof *off);
    char *data = malloc(total ? total : 1);
    int rc = off && data ? 0 : -ENOMEM;
    if (rc == 0) {
        size_t k = 0;
        for (size_t i = 0; i < n; i++) {
            off[i] = k;
            if (s[i].n)
                memcpy(data + k, s[i].p, (size_t)s[i].n);
            k += (size_t)s[i].n;
        }
        off[n] = k;
        rc = lsio_chain_encode_strings(a->chain, off, data, out, len);
    }
    free(off);
    free(data);
    return rc;
}

int lsio_zwrite_write_strings(lsio_zwrite_array *a, const lsio_selection *sel,
                              const uint64_t *offsets, const char *bytes, uint64_t count)
{
    if (!a || !offsets || (!bytes && count && offsets[count]))
        return lsio_error(-EINVAL, "lsio_zwrite_write_strings: NULL argument");
    if (!a->strings)
        return lsio_error(-EINVAL, "array %s: not a string array", a->url);
    zw_str *refs = malloc((count ? count : 1) * sizeof *refs);
    if (!refs)
        return -ENOMEM;
    for (uint64_t i = 0; i < count; i++) {
        if (offsets[i + 1] < offsets[i]) {
            free(refs);
            return lsio_error(-EINVAL, "array %s: string offsets decrease at %llu", a->url,
                              (unsigned long long)i);
        }
        refs[i] = (zw_str){bytes + offsets[i], offsets[i + 1] - offsets[i]};
    }
    int rc = zw_write_any(a, sel, refs, (size_t)count * sizeof *refs);
    free(refs);
    return rc;
}
