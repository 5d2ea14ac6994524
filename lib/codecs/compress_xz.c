/*
 * compress_xz.c — the slow, strong compressors of numcodecs: bz2 (libbz2)
 * and lzma (liblzma; numcodecs' default is the xz container with a CRC-64
 * check, preset 6). Like compress.c, each decodes into the caller's memory
 * with its capacity as the limit: a stream that holds more is -LSIO_ESIZE.
 */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include <bzlib.h>
#include <lzma.h>

#include "codec_internal.h"

/* -------------------------------------------------------------------- bz2 */

static int bz2_init(lsio_codec *c, const cJSON *cfg)
{
    if (cfg_int(c, cfg, "level", 1, &c->p.level) < 0)
        return -LSIO_EFORMAT;
    return codec_level_in(c, 1, 9);
}

/* One bz2 stream from *in into *out; BZ_STREAM_END when it ended. */
static int bz2_stream(const char **in, size_t *in_left, char **out, size_t *out_left)
{
    bz_stream z;
    memset(&z, 0, sizeof z);
    if (BZ2_bzDecompressInit(&z, 0, 0) != BZ_OK)
        return BZ_MEM_ERROR;
    int rc;
    /* the library counts in unsigned ints: feed it in pieces */
    for (;;) {
        unsigned ai = *in_left > UINT_MAX ? UINT_MAX : (unsigned)*in_left;
        unsigned ao = *out_left > UINT_MAX ? UINT_MAX : (unsigned)*out_left;
        z.next_in = (char *)*in;
        z.avail_in = ai;
        z.next_out = *out;
        z.avail_out = ao;
        rc = BZ2_bzDecompress(&z);
        *in += ai - z.avail_in;
        *in_left -= ai - z.avail_in;
        *out += ao - z.avail_out;
        *out_left -= ao - z.avail_out;
        if (rc != BZ_OK)
            break;
        if (*out_left == 0) {
            /* full: the end of the stream, or more data (a bomb) */
            char probe;
            ai = *in_left > UINT_MAX ? UINT_MAX : (unsigned)*in_left;
            z.next_in = (char *)*in;
            z.avail_in = ai;
            z.next_out = &probe;
            z.avail_out = 1;
            rc = BZ2_bzDecompress(&z);
            *in += ai - z.avail_in;
            *in_left -= ai - z.avail_in;
            if (z.avail_out == 0 || rc == BZ_OK)
                rc = BZ_OUTBUFF_FULL;
            break;
        }
        if (ai == z.avail_in && ao == z.avail_out) /* no progress: truncated */
            break;
    }
    BZ2_bzDecompressEnd(&z);
    return rc;
}

static int bz2_dec(const lsio_codec *c, const lsio_chunk_spec *spec, const void *src,
                   size_t srclen, void *dst, size_t dstcap, size_t *outlen)
{
    (void)spec;
    const char *in = src;
    char *out = dst;
    size_t in_left = srclen, out_left = dstcap;
    int rc;
    /* streams one after the other, as Python's bz2 reads them */
    do
        rc = bz2_stream(&in, &in_left, &out, &out_left);
    while (rc == BZ_STREAM_END && in_left > 0);
    if (rc == BZ_STREAM_END) {
        *outlen = dstcap - out_left;
        return 0;
    }
    if (rc == BZ_MEM_ERROR)
        return -ENOMEM;
    if (rc == BZ_OUTBUFF_FULL)
        return codec_too_big(c, dstcap);
    return codec_corrupt(c, "corrupt or truncated stream");
}

static int bz2_enc(const lsio_codec *c, const lsio_chunk_spec *spec, const void *src,
                   size_t srclen, void **dst, size_t *dstlen)
{
    (void)spec;
    /* libbz2's documented bound: 1% more plus 600 bytes */
    size_t cap = srclen + srclen / 100 + 601;
    if (cap > UINT_MAX)
        return lsio_error(-LSIO_EUNSUPPORTED, "%s: %zu bytes is over bz2's 4 GiB", c->name,
                          srclen);
    char *out = malloc(cap);
    if (!out)
        return -ENOMEM;
    unsigned n = (unsigned)cap;
    int rc = BZ2_bzBuffToBuffCompress(out, &n, (char *)src, (unsigned)srclen, c->p.level, 0, 0);
    if (rc != BZ_OK) {
        free(out);
        return lsio_error(-LSIO_ECODEC, "%s: compression failed (%d)", c->name, rc);
    }
    *dst = out;
    *dstlen = n;
    return 0;
}

const codec_ops codec_bz2_ops = {
    .id = "bz2", .role = LSIO_CODEC_BYTES_BYTES, .init = bz2_init,
    .to_json = codec_level_json, .kind = codec_kind_oop, .enc_size = codec_enc_unknown,
    .decode = bz2_dec, .encode = bz2_enc,
};

/* ------------------------------------------------------------------- lzma */

enum { FORMAT_AUTO = 0, FORMAT_XZ = 1, FORMAT_ALONE = 2, FORMAT_RAW = 3 };

/* What a decoder may allocate: a header can ask for a 4 GiB dictionary;
 * preset 9 (and 9e) needs 65 MiB, so 128 MiB refuses no numcodecs preset. */
#define LZMA_MEMLIMIT ((uint64_t)128 << 20)

static int lzma_init(lsio_codec *c, const cJSON *cfg)
{
    const cJSON *f = cfg ? cJSON_GetObjectItemCaseSensitive(cfg, "filters") : NULL;
    if (f && !cJSON_IsNull(f))
        return lsio_error(-LSIO_EUNSUPPORTED, "codec \"%s\": custom filters", c->name);
    if (cfg_int(c, cfg, "format", FORMAT_XZ, &c->p.format) < 0 ||
        cfg_int(c, cfg, "check", -1, &c->p.check) < 0 ||
        cfg_int(c, cfg, "preset", -1, &c->p.level) < 0)
        return -LSIO_EFORMAT;
    if (c->p.format < FORMAT_AUTO || c->p.format > FORMAT_ALONE)
        return lsio_error(-LSIO_EUNSUPPORTED, "codec \"%s\": format %d", c->name, c->p.format);
    if (c->p.level != -1 && (c->p.level < 0 || c->p.level > 9))
        return lsio_error(-LSIO_EFORMAT, "codec \"%s\": preset %d", c->name, c->p.level);
    if (c->p.check != -1 && !lzma_check_is_supported((lzma_check)c->p.check))
        return lsio_error(-LSIO_EUNSUPPORTED, "codec \"%s\": check %d", c->name, c->p.check);
    return 0;
}

static void lzma_json(const lsio_codec *c, cJSON *o)
{
    cJSON_AddNumberToObject(o, "format", c->p.format);
    cJSON_AddNumberToObject(o, "check", c->p.check);
    if (c->p.level >= 0)
        cJSON_AddNumberToObject(o, "preset", c->p.level);
    else
        cJSON_AddNullToObject(o, "preset");
    cJSON_AddNullToObject(o, "filters");
}

static int lzma_dec(const lsio_codec *c, const lsio_chunk_spec *spec, const void *src,
                    size_t srclen, void *dst, size_t dstcap, size_t *outlen)
{
    (void)spec;
    lzma_stream z = LZMA_STREAM_INIT;
    lzma_ret r;
    if (c->p.format == FORMAT_ALONE)
        r = lzma_alone_decoder(&z, LZMA_MEMLIMIT);
    else if (c->p.format == FORMAT_XZ)
        r = lzma_stream_decoder(&z, LZMA_MEMLIMIT, LZMA_CONCATENATED);
    else
        r = lzma_auto_decoder(&z, LZMA_MEMLIMIT, LZMA_CONCATENATED);
    if (r != LZMA_OK)
        return -ENOMEM;
    z.next_in = src;
    z.avail_in = srclen;
    z.next_out = dst;
    z.avail_out = dstcap;
    r = lzma_code(&z, LZMA_FINISH);
    size_t n = dstcap - z.avail_out;
    if (r == LZMA_OK && z.avail_out == 0) {
        /* full: the end of the stream, or more data (a bomb) */
        uint8_t probe;
        z.next_out = &probe;
        z.avail_out = 1;
        r = lzma_code(&z, LZMA_FINISH);
        if (z.avail_out == 0 || r == LZMA_OK) {
            lzma_end(&z);
            return codec_too_big(c, dstcap);
        }
    }
    lzma_end(&z);
    if (r == LZMA_MEMLIMIT_ERROR)
        return lsio_error(-LSIO_EUNSUPPORTED, "%s: stream needs over %llu MiB to decode",
                          c->name, (unsigned long long)(LZMA_MEMLIMIT >> 20));
    if (r != LZMA_STREAM_END)
        return codec_corrupt(c, "corrupt or truncated stream");
    *outlen = n;
    return 0;
}

static int lzma_enc(const lsio_codec *c, const lsio_chunk_spec *spec, const void *src,
                    size_t srclen, void **dst, size_t *dstlen)
{
    (void)spec;
    uint32_t preset = c->p.level < 0 ? LZMA_PRESET_DEFAULT : (uint32_t)c->p.level;
    lzma_stream z = LZMA_STREAM_INIT;
    lzma_ret r;
    if (c->p.format == FORMAT_ALONE) {
        lzma_options_lzma opt;
        if (lzma_lzma_preset(&opt, preset))
            return lsio_error(-LSIO_EFORMAT, "%s: preset %u", c->name, preset);
        r = lzma_alone_encoder(&z, &opt);
    } else {
        lzma_check check = c->p.check < 0 ? LZMA_CHECK_CRC64 : (lzma_check)c->p.check;
        r = lzma_easy_encoder(&z, preset, check);
    }
    if (r != LZMA_OK)
        return lsio_error(r == LZMA_MEM_ERROR ? -ENOMEM : -LSIO_ECODEC, "%s: encoder setup",
                          c->name);
    size_t cap = lzma_stream_buffer_bound(srclen) + 1024;
    uint8_t *out = malloc(cap);
    if (!out) {
        lzma_end(&z);
        return -ENOMEM;
    }
    z.next_in = src;
    z.avail_in = srclen;
    z.next_out = out;
    z.avail_out = cap;
    r = lzma_code(&z, LZMA_FINISH);
    size_t n = cap - z.avail_out;
    lzma_end(&z);
    if (r != LZMA_STREAM_END) {
        free(out);
        return lsio_error(-LSIO_ECODEC, "%s: compression failed (%d)", c->name, (int)r);
    }
    *dst = out;
    *dstlen = n;
    return 0;
}

const codec_ops codec_lzma_ops = {
    .id = "lzma", .role = LSIO_CODEC_BYTES_BYTES, .init = lzma_init, .to_json = lzma_json,
    .kind = codec_kind_oop, .enc_size = codec_enc_unknown, .decode = lzma_dec,
    .encode = lzma_enc,
};
