/*
 * checksum.c — the checksum codecs (bytes→bytes): Zarr v3's `crc32c` (a
 * 4-byte little-endian CRC-32C appended, computed by ISA-L) and numcodecs'
 * `crc32` and `adler32` (the zlib checksums, little-endian, put before the
 * data; libdeflate computes them), and lsio_crc32c() itself. Decoding only
 * checks and trims: the data is a view of the input, never copied.
 */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include <isa-l/crc.h>
#include <libdeflate.h>

#include "codec_internal.h"

/* ----------------------------------------------------------------- crc32c */

uint32_t lsio_crc32c(const void *data, size_t len)
{
    /* ISA-L takes the running CRC uninverted: start from ~0, invert at the end */
    const unsigned char *p = data;
    unsigned int crc = 0xFFFFFFFFu;
    while (len > 0) {
        int n = len > (size_t)INT_MAX ? INT_MAX : (int)len;
        crc = crc32_iscsi((unsigned char *)p, n, crc);
        p += n;
        len -= (size_t)n;
    }
    return crc ^ 0xFFFFFFFFu;
}

static codec_kind crc_kind(const lsio_codec *c, const lsio_chunk_spec *s)
{
    (void)c;
    (void)s;
    return CODEC_VIEW;
}

static size_t crc_enc_size(const lsio_codec *c, size_t n)
{
    (void)c;
    return n + 4;
}

static uint32_t get32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static int crc_dec(const lsio_codec *c, const lsio_chunk_spec *spec, const void *src,
                   size_t srclen, void *dst, size_t dstcap, size_t *outlen)
{
    (void)spec;
    const uint8_t *s = src;
    if (srclen < 4)
        return codec_corrupt(c, "shorter than its 4-byte checksum");
    size_t n = srclen - 4;
    uint32_t want = get32(s + n);
    uint32_t got = lsio_crc32c(s, n);
    if (got != want)
        return lsio_error(-LSIO_ECHECKSUM, "%s: checksum %08x, stored %08x", c->name, got,
                          want);
    if (dst) {
        if (n > dstcap)
            return codec_too_big(c, dstcap);
        memmove(dst, src, n);
    }
    *outlen = n;
    return 0;
}

static int crc_enc(const lsio_codec *c, const lsio_chunk_spec *spec, const void *src,
                   size_t srclen, void **dst, size_t *dstlen)
{
    (void)c;
    (void)spec;
    uint8_t *out = malloc(srclen + 4);
    if (!out)
        return -ENOMEM;
    if (srclen)
        memcpy(out, src, srclen);
    uint32_t v = lsio_crc32c(src, srclen);
    for (int i = 0; i < 4; i++)
        out[srclen + i] = (uint8_t)(v >> (8 * i));
    *dst = out;
    *dstlen = srclen + 4;
    return 0;
}

const codec_ops codec_crc32c_ops = {
    .id = "crc32c", .role = LSIO_CODEC_BYTES_BYTES, .kind = crc_kind,
    .enc_size = crc_enc_size, .decode = crc_dec, .encode = crc_enc,
};

/* ------------------------------------------------- numcodecs crc32, adler32 */

/* The zlib checksums in pieces libdeflate's unsigned int length takes. */
static uint32_t zsum(const lsio_codec *c, const uint8_t *p, size_t n)
{
    int adler = c->ops == &codec_adler32_ops;
    uint32_t v = adler ? 1 : 0;
    while (n > 0) {
        unsigned k = n > UINT_MAX ? UINT_MAX : (unsigned)n;
        v = adler ? libdeflate_adler32(v, p, k) : libdeflate_crc32(v, p, k);
        p += k;
        n -= k;
    }
    return v;
}

static int zsum_dec(const lsio_codec *c, const lsio_chunk_spec *spec, const void *src,
                    size_t srclen, void *dst, size_t dstcap, size_t *outlen)
{
    (void)spec;
    const uint8_t *s = src;
    if (srclen < 4)
        return codec_corrupt(c, "shorter than its 4-byte checksum");
    uint32_t want = get32(s), got = zsum(c, s + 4, srclen - 4);
    if (got != want)
        return lsio_error(-LSIO_ECHECKSUM, "%s: checksum %08x, stored %08x", c->name, got,
                          want);
    if (!dst)
        return lsio_error(-EINVAL, "%s: needs a destination", c->name);
    if (srclen - 4 > dstcap)
        return codec_too_big(c, dstcap);
    memmove(dst, s + 4, srclen - 4);
    *outlen = srclen - 4;
    return 0;
}

static int zsum_enc(const lsio_codec *c, const lsio_chunk_spec *spec, const void *src,
                    size_t srclen, void **dst, size_t *dstlen)
{
    (void)spec;
    uint8_t *out = malloc(srclen + 4);
    if (!out)
        return -ENOMEM;
    uint32_t v = zsum(c, src, srclen);
    for (int i = 0; i < 4; i++)
        out[i] = (uint8_t)(v >> (8 * i));
    if (srclen)
        memcpy(out + 4, src, srclen);
    *dst = out;
    *dstlen = srclen + 4;
    return 0;
}

/* The data follows the checksum: not a prefix, so decode copies (OOP). */
const codec_ops codec_crc32_ops = {
    .id = "crc32", .role = LSIO_CODEC_BYTES_BYTES, .kind = codec_kind_oop,
    .enc_size = crc_enc_size, .decode = zsum_dec, .encode = zsum_enc,
};

const codec_ops codec_adler32_ops = {
    .id = "adler32", .role = LSIO_CODEC_BYTES_BYTES, .kind = codec_kind_oop,
    .enc_size = crc_enc_size, .decode = zsum_dec, .encode = zsum_enc,
};
