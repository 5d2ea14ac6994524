/*
 * vlen.c — variable-length UTF-8 strings in numcodecs' VLenUTF8 layout,
 * which Zarr v3's "vlen-utf8" codec shares: a uint32 LE item count, then
 * each item as a uint32 LE byte length and its bytes. Decoding gives
 * offsets and one block of bytes (what a reader hands to numpy or Arrow);
 * every length is checked against the bytes left before anything is read.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "codec_internal.h"

static uint32_t get32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static void put32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

int lsio_vlen_utf8_decode(const void *src, size_t srclen, size_t expected_count,
                          uint64_t **offsets, uint8_t **data, size_t *datalen)
{
    const uint8_t *s = src;
    if (srclen < 4)
        return lsio_error(-LSIO_ECODEC, "vlen-utf8: shorter than its 4-byte count");
    size_t count = get32(s);
    if (count != expected_count)
        return lsio_error(-LSIO_ESIZE, "vlen-utf8: %zu items, expected %zu", count,
                          expected_count);
    /* every item takes at least its 4-byte length */
    if (count > (srclen - 4) / 4)
        return lsio_error(-LSIO_ECODEC, "vlen-utf8: %zu items cannot fit in %zu bytes", count,
                          srclen);
    size_t total = srclen - 4 - 4 * count; /* an upper bound of the bytes */
    uint64_t *off = malloc((count + 1) * sizeof *off);
    uint8_t *d = malloc(total ? total : 1);
    if (!off || !d) {
        free(off);
        free(d);
        return -ENOMEM;
    }
    size_t pos = 4, used = 0;
    off[0] = 0;
    for (size_t i = 0; i < count; i++) {
        if (srclen - pos < 4)
            goto truncated;
        size_t n = get32(s + pos);
        pos += 4;
        /* the later items' lengths must still fit after this one */
        if (n > srclen - pos || n > total - used)
            goto truncated;
        memcpy(d + used, s + pos, n);
        pos += n;
        used += n;
        off[i + 1] = used;
    }
    if (pos != srclen) {
        free(off);
        free(d);
        return lsio_error(-LSIO_ECODEC, "vlen-utf8: %zu bytes after the last item",
                          srclen - pos);
    }
    *offsets = off;
    *data = d;
    *datalen = used;
    return 0;
truncated:
    free(off);
    free(d);
    return lsio_error(-LSIO_ECODEC, "vlen-utf8: truncated");
}

int lsio_vlen_utf8_encode(const uint64_t *offsets, const void *data, size_t count, void **dst,
                          size_t *dstlen)
{
    if (count > UINT32_MAX)
        return lsio_error(-LSIO_EUNSUPPORTED, "vlen-utf8: %zu items", count);
    size_t total = 4;
    for (size_t i = 0; i < count; i++) {
        if (offsets[i + 1] < offsets[i])
            return lsio_error(-EINVAL, "vlen-utf8: offsets decrease at item %zu", i);
        uint64_t n = offsets[i + 1] - offsets[i];
        if (n > UINT32_MAX || lsio_add_size(total, 4 + (size_t)n, &total) < 0)
            return lsio_error(-LSIO_EUNSUPPORTED, "vlen-utf8: item %zu too long", i);
    }
    uint8_t *out = malloc(total), *p = out;
    if (!out)
        return -ENOMEM;
    put32(p, (uint32_t)count);
    p += 4;
    for (size_t i = 0; i < count; i++) {
        uint32_t n = (uint32_t)(offsets[i + 1] - offsets[i]);
        put32(p, n);
        memcpy(p + 4, (const uint8_t *)data + offsets[i], n);
        p += 4 + n;
    }
    *dst = out;
    *dstlen = total;
    return 0;
}

/* The codec object for the registry: chains of strings go through
 * lsio_chain_decode_strings; a bytes-to-bytes decode has no meaning. */
static int vlen_dec(const lsio_codec *c, const lsio_chunk_spec *spec, const void *src,
                    size_t srclen, void *dst, size_t dstcap, size_t *outlen)
{
    (void)spec, (void)src, (void)srclen, (void)dst, (void)dstcap, (void)outlen;
    return lsio_error(-LSIO_EUNSUPPORTED, "%s: decode with lsio_vlen_utf8_decode", c->name);
}

static int vlen_enc(const lsio_codec *c, const lsio_chunk_spec *spec, const void *src,
                    size_t srclen, void **dst, size_t *dstlen)
{
    (void)spec, (void)src, (void)srclen, (void)dst, (void)dstlen;
    return lsio_error(-LSIO_EUNSUPPORTED, "%s: encode with lsio_vlen_utf8_encode", c->name);
}

const codec_ops codec_vlen_utf8_ops = {
    .id = "vlen-utf8", .role = LSIO_CODEC_ARRAY_BYTES, .kind = codec_kind_oop,
    .decode = vlen_dec, .encode = vlen_enc,
};
