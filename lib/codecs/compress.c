/*
 * compress.c — the fast compressors: blosc (libblosc), zstd (libzstd), lz4
 * in numcodecs' framing (liblz4), gzip and zlib (libdeflate). Each is a
 * thin wrapper: parse the configuration once, then call the library with
 * the caller's destination and its capacity, so a stream never writes past
 * it and one that would decode to more is -LSIO_ESIZE (the bomb stops at
 * the expected size). Decompression contexts are per thread (codec_tls).
 * bz2 and lzma, the slow ones, are in compress_xz.c.
 */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include <blosc.h>
#include <libdeflate.h>
#include <lz4.h>
#include <zstd.h>
#include <zstd_errors.h>

#include "codec_internal.h"

/* ------------------------------------------------------------------ blosc */

static const char *const shuffle_names[] = {"noshuffle", "shuffle", "bitshuffle"};

static int bloscc_init(lsio_codec *c, const cJSON *cfg)
{
    const cJSON *cn = cfg ? cJSON_GetObjectItemCaseSensitive(cfg, "cname") : NULL;
    const char *cname = cJSON_IsString(cn) ? cn->valuestring : "lz4";
    if (strlen(cname) >= sizeof c->p.cname ||
        blosc_compname_to_compcode(cname) < 0)
        return lsio_error(-LSIO_EUNSUPPORTED, "codec \"%s\": cname \"%s\"", c->name, cname);
    strcpy(c->p.cname, cname);
    const cJSON *sh = cfg ? cJSON_GetObjectItemCaseSensitive(cfg, "shuffle") : NULL;
    c->p.shuffle = 1;
    if (cJSON_IsString(sh)) {
        c->p.shuffle = -2;
        for (int i = 0; i < 3; i++)
            if (!strcmp(sh->valuestring, shuffle_names[i]))
                c->p.shuffle = i;
        if (c->p.shuffle == -2)
            return lsio_error(-LSIO_EFORMAT, "codec \"%s\": shuffle \"%s\"", c->name,
                              sh->valuestring);
    } else if (cfg_int(c, cfg, "shuffle", 1, &c->p.shuffle) < 0) {
        return -LSIO_EFORMAT;
    }
    if (c->p.shuffle < -1 || c->p.shuffle > 2)
        return lsio_error(-LSIO_EFORMAT, "codec \"%s\": shuffle %d", c->name, c->p.shuffle);
    if (cfg_int(c, cfg, "clevel", 5, &c->p.level) < 0 ||
        cfg_int(c, cfg, "typesize", 0, &c->p.typesize) < 0 ||
        cfg_int(c, cfg, "blocksize", 0, &c->p.blocksize) < 0)
        return -LSIO_EFORMAT;
    if (c->p.typesize < 0 || c->p.blocksize < 0)
        return lsio_error(-LSIO_EFORMAT, "codec \"%s\": negative typesize/blocksize", c->name);
    return codec_level_in(c, 0, 9);
}

static void blosc_json(const lsio_codec *c, cJSON *o)
{
    cJSON_AddStringToObject(o, "cname", c->p.cname);
    cJSON_AddNumberToObject(o, "clevel", c->p.level);
    if (c->v3 && c->p.shuffle >= 0)
        cJSON_AddStringToObject(o, "shuffle", shuffle_names[c->p.shuffle]);
    else
        cJSON_AddNumberToObject(o, "shuffle", c->p.shuffle);
    if (c->p.typesize)
        cJSON_AddNumberToObject(o, "typesize", c->p.typesize);
    cJSON_AddNumberToObject(o, "blocksize", c->p.blocksize);
}

static int blosc_dec(const lsio_codec *c, const lsio_chunk_spec *spec, const void *src,
                     size_t srclen, void *dst, size_t dstcap, size_t *outlen)
{
    (void)spec;
    size_t nbytes;
    if (srclen < BLOSC_MIN_HEADER_LENGTH || blosc_cbuffer_validate(src, srclen, &nbytes) < 0)
        return codec_corrupt(c, "not a valid blosc buffer (truncated or corrupt header)");
    if (nbytes > dstcap)
        return lsio_error(-LSIO_ESIZE, "%s: header says %zu bytes, expected at most %zu",
                          c->name, nbytes, dstcap);
    if (nbytes == 0) {
        *outlen = 0;
        return 0;
    }
    int n = blosc_decompress_ctx(src, dst, dstcap, 1);
    if (n < 0 || (size_t)n != nbytes)
        return codec_corrupt(c, "corrupt data");
    *outlen = (size_t)n;
    return 0;
}

/* Blocks are compressed independently: blosc_getitem decompresses only
 * those that hold the range. It trusts the header's compressed size, which
 * blosc_cbuffer_validate has checked against srclen, and checks each
 * block's offset against it (c-blosc >= 1.21). */
static int blosc_dec_range(const lsio_codec *c, const lsio_chunk_spec *spec, const void *src,
                           size_t srclen, size_t expect, size_t off, size_t len, void *dst)
{
    (void)spec;
    size_t nbytes, typesize;
    int flags;
    if (srclen < BLOSC_MIN_HEADER_LENGTH || blosc_cbuffer_validate(src, srclen, &nbytes) < 0)
        return codec_corrupt(c, "not a valid blosc buffer (truncated or corrupt header)");
    if (nbytes != expect)
        return lsio_error(-LSIO_ESIZE, "%s: header says %zu bytes, expected %zu", c->name,
                          nbytes, expect);
    if (len == 0)
        return 0;
    if (off > nbytes || len > nbytes - off)
        return lsio_error(-EINVAL, "%s: bytes %zu..%zu of a %zu-byte chunk", c->name, off,
                          off + len, nbytes);
    blosc_cbuffer_metainfo(src, &typesize, &flags);
    /* getitem counts in items of the header's typesize; an unaligned range
     * (a typesize that is not the array's) is decoded whole */
    if (typesize == 0 || off % typesize || len % typesize || nbytes > INT32_MAX)
        return -LSIO_EUNSUPPORTED;
    int n = blosc_getitem(src, (int)(off / typesize), (int)(len / typesize), dst);
    if (n < 0 || (size_t)n != len)
        return codec_corrupt(c, "corrupt data");
    return 0;
}

static uint32_t le32(const unsigned char *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* A blosc (1.x format) buffer: a 16-byte header (version, versionlz,
 * flags, typesize, nbytes, blocksize, cbytes), then, unless the data was
 * stored as is (flag 0x02: blocks follow the header in order), one 32-bit
 * start per block; the blocks' bytes lie anywhere after (threads may write
 * them out of order), each up to the next start or the end. */
static int blosc_span(const lsio_codec *c, const void *head, size_t headlen, size_t expect,
                      size_t off, size_t len, lsio_enc_span *sp)
{
    const unsigned char *h = head;
    if (headlen < BLOSC_MIN_HEADER_LENGTH)
        return -LSIO_EUNSUPPORTED;
    size_t typesize = h[3], nbytes = le32(h + 4), bs = le32(h + 8), cbytes = le32(h + 12);
    if (h[0] != BLOSC_VERSION_FORMAT || typesize == 0 || bs == 0 || bs > nbytes ||
        cbytes < BLOSC_MIN_HEADER_LENGTH)
        return codec_corrupt(c, "not a valid blosc buffer (truncated or corrupt header)");
    if (nbytes != expect)
        return lsio_error(-LSIO_ESIZE, "%s: header says %zu bytes, expected %zu", c->name,
                          nbytes, expect);
    if (off % typesize || len % typesize)
        return -LSIO_EUNSUPPORTED;
    size_t nblocks = (nbytes + bs - 1) / bs, b0 = off / bs, b1 = (off + len - 1) / bs;
    sp->size = cbytes;
    if (h[2] & BLOSC_MEMCPYED) {
        sp->head = BLOSC_MIN_HEADER_LENGTH;
        sp->lo = sp->head + b0 * bs;
        sp->hi = sp->head + ((b1 + 1) * bs < nbytes ? (b1 + 1) * bs : nbytes);
        if (sp->hi > cbytes)
            return codec_corrupt(c, "stored blocks past the end");
        return 0;
    }
    if (nblocks > (cbytes - BLOSC_MIN_HEADER_LENGTH) / 4)
        return codec_corrupt(c, "more blocks than bytes");
    sp->head = BLOSC_MIN_HEADER_LENGTH + 4 * nblocks;
    if (headlen < sp->head)
        return -LSIO_EUNSUPPORTED;
    const unsigned char *st = h + BLOSC_MIN_HEADER_LENGTH;
    size_t lo = SIZE_MAX, hi = 0;
    for (size_t j = b0; j <= b1; j++) {
        size_t a = le32(st + 4 * j), e = cbytes;
        if (a < sp->head || a >= cbytes)
            return codec_corrupt(c, "a block starts outside the buffer");
        for (size_t k = 0; k < nblocks; k++) {
            size_t x = le32(st + 4 * k);
            if (x > a && x < e)
                e = x;
        }
        lo = a < lo ? a : lo;
        hi = e > hi ? e : hi;
    }
    sp->lo = lo;
    sp->hi = hi;
    return 0;
}

/* Decoding into a sink (lsio_chain_decode_sink). libblosc decodes a whole
 * buffer into one contiguous destination: each block's streams are
 * decompressed into a scratch block, then unshuffled into the destination.
 * A reader that wants the chunk somewhere else (rows of a larger array)
 * must copy it once more. Here the blocks' streams go through the same
 * decompressors (liblz4, libzstd) into a scratch block of this thread,
 * and the sink unshuffles them straight into their place; a stream stored
 * raw (incompressible) is handed over where it lies in src.
 *
 * The layout walked is c-blosc 1.x's (blosc_d): after the header, one
 * 32-bit start per block; a block of bsize bytes is typesize streams of
 * bsize / typesize bytes when it is split (flag 0x10 clear, typesize <= 16,
 * bsize / typesize >= 128, not the last partial block), else one stream;
 * each stream is a 32-bit length then the bytes, stored raw when the
 * length equals the stream's decoded size. Only what this path knows is
 * taken (format 2, lz4/lz4hc or zstd at version 1, byte shuffle of the
 * sink's element size or none): anything else, and any buffer libblosc
 * would refuse at its header, is -LSIO_EUNSUPPORTED before a piece is
 * handed over, and libblosc decodes it (or names what is wrong). */
#define BLOSC_SPLIT_MAX 16
#define BLOSC_SPLIT_MIN 128
static size_t blosc_splits(size_t typesize, size_t bsize, int dont_split, int leftover)
{
    return !dont_split && typesize <= BLOSC_SPLIT_MAX && bsize / typesize >= BLOSC_SPLIT_MIN &&
                   !leftover
               ? typesize
               : 1;
}

static int blosc_dec_sink(const lsio_codec *c, const void *srcv, size_t srclen, size_t expect,
                          const lsio_chunk_sink *sink)
{
    const unsigned char *src = srcv;
    if (srclen < BLOSC_MIN_HEADER_LENGTH)
        return -LSIO_EUNSUPPORTED;
    unsigned flags = src[2];
    size_t ts = src[3], nbytes = le32(src + 4), bs = le32(src + 8), cbytes = le32(src + 12);
    unsigned comp = (flags >> 5) & 7;
    size_t es = sink->esize;
    int shuf = (flags & BLOSC_DOSHUFFLE) && ts > 1;
    int dont_split = (flags >> 4) & 1;
    if (src[0] != BLOSC_VERSION_FORMAT || src[1] != 1 ||
        (flags & (BLOSC_MEMCPYED | BLOSC_DOBITSHUFFLE | 0x08)) ||
        (comp != BLOSC_LZ4_FORMAT && comp != BLOSC_ZSTD_FORMAT) || cbytes != srclen ||
        nbytes != expect || nbytes == 0 || nbytes > BLOSC_MAX_BUFFERSIZE || bs == 0 ||
        bs > nbytes || bs > BLOSC_MAX_BLOCKSIZE || ts == 0)
        return -LSIO_EUNSUPPORTED;
    size_t nblocks = (nbytes + bs - 1) / bs, left = nbytes % bs;
    if (nblocks > (cbytes - BLOSC_MIN_HEADER_LENGTH) / 4)
        return -LSIO_EUNSUPPORTED;
    /* every piece (a block) whole elements of the sink, shuffled in
     * elements of its size if at all */
    if ((shuf && (ts != es || ts > BLOSC_SPLIT_MAX)) || bs % es || left % es)
        return -LSIO_EUNSUPPORTED;
    if (bs % blosc_splits(ts, bs, dont_split, 0))
        return -LSIO_EUNSUPPORTED;
    codec_tls *t = codec_tls_get();
    unsigned char *tmp;
    if (!t || !(tmp = codec_tls_scratch(t, 0, bs)))
        return -LSIO_EUNSUPPORTED;
    if (comp == BLOSC_ZSTD_FORMAT && !t->zstd_dctx && !(t->zstd_dctx = ZSTD_createDCtx()))
        return -LSIO_EUNSUPPORTED;
    const unsigned char *starts = src + BLOSC_MIN_HEADER_LENGTH;
    for (size_t j = 0; j < nblocks; j++) {
        int leftover = j == nblocks - 1 && left;
        size_t bsize = leftover ? left : bs;
        size_t ns = blosc_splits(ts, bsize, dont_split, leftover), neb = bsize / ns;
        const unsigned char *stream[BLOSC_SPLIT_MAX];
        size_t off = le32(starts + 4 * j);
        for (size_t k = 0; k < ns; k++) {
            if (off < BLOSC_MIN_HEADER_LENGTH || off > cbytes - 4)
                return codec_corrupt(c, "a block starts outside the buffer");
            size_t cb = le32(src + off);
            off += 4;
            if (cb > INT32_MAX || cb > cbytes - off)
                return codec_corrupt(c, "a stream runs past the end");
            if (cb == neb) {
                stream[k] = src + off;
            } else {
                unsigned char *o = tmp + k * neb;
                size_t got;
                if (comp == BLOSC_LZ4_FORMAT) {
                    int n = LZ4_decompress_safe((const char *)src + off, (char *)o, (int)cb,
                                                (int)neb);
                    got = n < 0 ? SIZE_MAX : (size_t)n;
                } else {
                    got = ZSTD_decompressDCtx(t->zstd_dctx, o, neb, src + off, cb);
                    if (ZSTD_isError(got))
                        got = SIZE_MAX;
                }
                if (got != neb)
                    return codec_corrupt(c, "corrupt data");
                stream[k] = o;
            }
            off += cb;
        }
        size_t e0 = j * bs / es, n = bsize / es;
        if (!shuf) { /* the streams side by side, as libblosc lays them */
            for (size_t k = 0; k < ns && ns > 1; k++)
                if (stream[k] != tmp + k * neb)
                    memcpy(tmp + k * neb, stream[k], neb);
            sink->put(sink->ctx, e0, n, ns > 1 ? (const unsigned char *const *)&tmp : stream, 1);
            continue;
        }
        const unsigned char *plane[BLOSC_SPLIT_MAX];
        for (size_t b = 0; b < ts; b++) /* one stream: the planes lie in it in turn */
            plane[b] = ns == ts ? stream[b] : stream[0] + b * n;
        sink->put(sink->ctx, e0, n, plane, ts);
    }
    return 0;
}

static int blosc_enc(const lsio_codec *c, const lsio_chunk_spec *spec, const void *src,
                     size_t srclen, void **dst, size_t *dstlen)
{
    if (srclen > BLOSC_MAX_BUFFERSIZE)
        return lsio_error(-LSIO_EUNSUPPORTED, "%s: %zu bytes is over blosc's limit", c->name,
                          srclen);
    size_t typesize = c->p.typesize ? (size_t)c->p.typesize : spec->dtype.size;
    if (typesize == 0)
        typesize = 1;
    int shuffle = c->p.shuffle;
    if (shuffle < 0)
        shuffle = typesize == 1 ? BLOSC_BITSHUFFLE : BLOSC_SHUFFLE;
    size_t cap = srclen + BLOSC_MAX_OVERHEAD;
    void *out = malloc(cap);
    if (!out)
        return -ENOMEM;
    int n = blosc_compress_ctx(c->p.level, shuffle, typesize, srclen, src, out, cap,
                               c->p.cname, (size_t)c->p.blocksize, 1);
    if (n <= 0) {
        free(out);
        return lsio_error(-LSIO_ECODEC, "%s: compression failed (%d)", c->name, n);
    }
    *dst = out;
    *dstlen = (size_t)n;
    return 0;
}

const codec_ops codec_blosc_ops = {
    .id = "blosc", .role = LSIO_CODEC_BYTES_BYTES, .init = bloscc_init, .to_json = blosc_json,
    .kind = codec_kind_oop, .enc_size = codec_enc_unknown, .decode = blosc_dec, .encode = blosc_enc,
    .decode_range = blosc_dec_range, .enc_span = blosc_span, .decode_sink = blosc_dec_sink,
};

/* ------------------------------------------------------------------- zstd */

static int zstd_init(lsio_codec *c, const cJSON *cfg)
{
    int checksum;
    if (cfg_int(c, cfg, "level", c->v3 ? 0 : 1, &c->p.level) < 0 ||
        cfg_int(c, cfg, "checksum", 0, &checksum) < 0)
        return -LSIO_EFORMAT;
    c->p.check = checksum;
    return codec_level_in(c, ZSTD_minCLevel(), ZSTD_maxCLevel());
}

static void zstd_json(const lsio_codec *c, cJSON *o)
{
    codec_level_json(c, o);
    if (c->v3 || c->p.check)
        cJSON_AddBoolToObject(o, "checksum", c->p.check);
}

static int zstd_dec(const lsio_codec *c, const lsio_chunk_spec *spec, const void *src,
                    size_t srclen, void *dst, size_t dstcap, size_t *outlen)
{
    (void)spec;
    codec_tls *t = codec_tls_get();
    if (!t)
        return -ENOMEM;
    if (!t->zstd_dctx && !(t->zstd_dctx = ZSTD_createDCtx()))
        return -ENOMEM;
    size_t n = ZSTD_decompressDCtx(t->zstd_dctx, dst, dstcap, src, srclen);
    if (ZSTD_isError(n)) {
        if (ZSTD_getErrorCode(n) == ZSTD_error_dstSize_tooSmall)
            return codec_too_big(c, dstcap);
        return lsio_error(-LSIO_ECODEC, "%s: %s", c->name, ZSTD_getErrorName(n));
    }
    *outlen = n;
    return 0;
}

static int zstd_enc(const lsio_codec *c, const lsio_chunk_spec *spec, const void *src,
                    size_t srclen, void **dst, size_t *dstlen)
{
    (void)spec;
    size_t cap = ZSTD_compressBound(srclen);
    void *out = malloc(cap ? cap : 1);
    ZSTD_CCtx *cc = ZSTD_createCCtx();
    if (!out || !cc) {
        free(out);
        ZSTD_freeCCtx(cc);
        return -ENOMEM;
    }
    ZSTD_CCtx_setParameter(cc, ZSTD_c_compressionLevel, c->p.level);
    ZSTD_CCtx_setParameter(cc, ZSTD_c_checksumFlag, c->p.check);
    size_t n = ZSTD_compress2(cc, out, cap, src, srclen);
    ZSTD_freeCCtx(cc);
    if (ZSTD_isError(n)) {
        free(out);
        return lsio_error(-LSIO_ECODEC, "%s: %s", c->name, ZSTD_getErrorName(n));
    }
    *dst = out;
    *dstlen = n;
    return 0;
}

const codec_ops codec_zstd_ops = {
    .id = "zstd", .role = LSIO_CODEC_BYTES_BYTES, .init = zstd_init, .to_json = zstd_json,
    .kind = codec_kind_oop, .enc_size = codec_enc_unknown, .decode = zstd_dec, .encode = zstd_enc,
};

/* -------------------------------------------------------------------- lz4 */

static int lz4_init(lsio_codec *c, const cJSON *cfg)
{
    if (cfg_int(c, cfg, "acceleration", 1, &c->p.acceleration) < 0)
        return -LSIO_EFORMAT;
    return 0;
}

static void lz4_json(const lsio_codec *c, cJSON *o)
{
    cJSON_AddNumberToObject(o, "acceleration", c->p.acceleration);
}

static int lz4_dec(const lsio_codec *c, const lsio_chunk_spec *spec, const void *src,
                   size_t srclen, void *dst, size_t dstcap, size_t *outlen)
{
    (void)spec;
    const uint8_t *s = src;
    if (srclen < 4)
        return codec_corrupt(c, "shorter than its 4-byte size header");
    uint32_t n = (uint32_t)s[0] | (uint32_t)s[1] << 8 | (uint32_t)s[2] << 16 |
                 (uint32_t)s[3] << 24;
    if (n > dstcap)
        return lsio_error(-LSIO_ESIZE, "%s: header says %u bytes, expected at most %zu",
                          c->name, n, dstcap);
    if (n > INT_MAX || srclen - 4 > INT_MAX)
        return lsio_error(-LSIO_EUNSUPPORTED, "%s: block over 2 GiB", c->name);
    int got = LZ4_decompress_safe((const char *)s + 4, dst, (int)(srclen - 4), (int)n);
    if (got < 0 || (uint32_t)got != n)
        return codec_corrupt(c, "corrupt or truncated block");
    *outlen = n;
    return 0;
}

static int lz4_enc(const lsio_codec *c, const lsio_chunk_spec *spec, const void *src,
                   size_t srclen, void **dst, size_t *dstlen)
{
    (void)spec;
    if (srclen > LZ4_MAX_INPUT_SIZE)
        return lsio_error(-LSIO_EUNSUPPORTED, "%s: %zu bytes is over lz4's limit", c->name,
                          srclen);
    int bound = LZ4_compressBound((int)srclen);
    uint8_t *out = malloc((size_t)bound + 4);
    if (!out)
        return -ENOMEM;
    for (int i = 0; i < 4; i++)
        out[i] = (uint8_t)(srclen >> (8 * i));
    int n = LZ4_compress_fast(src, (char *)out + 4, (int)srclen, bound, c->p.acceleration);
    if (n <= 0) {
        free(out);
        return lsio_error(-LSIO_ECODEC, "%s: compression failed", c->name);
    }
    *dst = out;
    *dstlen = (size_t)n + 4;
    return 0;
}

const codec_ops codec_lz4_ops = {
    .id = "lz4", .role = LSIO_CODEC_BYTES_BYTES, .init = lz4_init, .to_json = lz4_json,
    .kind = codec_kind_oop, .enc_size = codec_enc_unknown, .decode = lz4_dec, .encode = lz4_enc,
};

/* ----------------------------------------------------------- gzip / zlib */

static int deflate_init(lsio_codec *c, const cJSON *cfg)
{
    if (cfg_int(c, cfg, "level", 1, &c->p.level) < 0)
        return -LSIO_EFORMAT;
    return codec_level_in(c, 0, 9);
}

static struct libdeflate_decompressor *deflate_d(void)
{
    codec_tls *t = codec_tls_get();
    if (!t)
        return NULL;
    if (!t->deflate_d)
        t->deflate_d = libdeflate_alloc_decompressor();
    return t->deflate_d;
}

static int deflate_result(const lsio_codec *c, enum libdeflate_result r, size_t cap)
{
    if (r == LIBDEFLATE_INSUFFICIENT_SPACE)
        return codec_too_big(c, cap);
    return codec_corrupt(c, "corrupt or truncated stream");
}

static int gzip_dec(const lsio_codec *c, const lsio_chunk_spec *spec, const void *src,
                    size_t srclen, void *dst, size_t dstcap, size_t *outlen)
{
    (void)spec;
    struct libdeflate_decompressor *d = deflate_d();
    if (!d)
        return -ENOMEM;
    const uint8_t *in = src;
    uint8_t *out = dst;
    size_t used_out = 0;
    /* members one after the other, as gzip(1) and Python write them */
    do {
        size_t in_n, out_n;
        enum libdeflate_result r = libdeflate_gzip_decompress_ex(
            d, in, srclen, out + used_out, dstcap - used_out, &in_n, &out_n);
        if (r != LIBDEFLATE_SUCCESS)
            return deflate_result(c, r, dstcap);
        in += in_n;
        srclen -= in_n;
        used_out += out_n;
        /* zero padding after a member is skipped, as Python's gzip does */
        while (srclen > 0 && *in == 0) {
            in++;
            srclen--;
        }
    } while (srclen > 0);
    *outlen = used_out;
    return 0;
}

static int zlib_dec(const lsio_codec *c, const lsio_chunk_spec *spec, const void *src,
                    size_t srclen, void *dst, size_t dstcap, size_t *outlen)
{
    (void)spec;
    struct libdeflate_decompressor *d = deflate_d();
    if (!d)
        return -ENOMEM;
    size_t in_n, out_n;
    enum libdeflate_result r =
        libdeflate_zlib_decompress_ex(d, src, srclen, dst, dstcap, &in_n, &out_n);
    if (r != LIBDEFLATE_SUCCESS)
        return deflate_result(c, r, dstcap);
    /* bytes after the end of the stream are ignored, as Python's zlib does */
    *outlen = out_n;
    return 0;
}

static int deflate_enc(const lsio_codec *c, const void *src, size_t srclen, void **dst,
                       size_t *dstlen, int gzip)
{
    struct libdeflate_compressor *z = libdeflate_alloc_compressor(c->p.level);
    if (!z)
        return -ENOMEM;
    size_t cap = gzip ? libdeflate_gzip_compress_bound(z, srclen)
                      : libdeflate_zlib_compress_bound(z, srclen);
    void *out = malloc(cap);
    size_t n = 0;
    if (out)
        n = gzip ? libdeflate_gzip_compress(z, src, srclen, out, cap)
                 : libdeflate_zlib_compress(z, src, srclen, out, cap);
    libdeflate_free_compressor(z);
    if (!out)
        return -ENOMEM;
    if (n == 0) {
        free(out);
        return lsio_error(-LSIO_ECODEC, "%s: compression failed", c->name);
    }
    *dst = out;
    *dstlen = n;
    return 0;
}

static int gzip_enc(const lsio_codec *c, const lsio_chunk_spec *spec, const void *src,
                    size_t srclen, void **dst, size_t *dstlen)
{
    (void)spec;
    return deflate_enc(c, src, srclen, dst, dstlen, 1);
}

static int zlib_enc(const lsio_codec *c, const lsio_chunk_spec *spec, const void *src,
                    size_t srclen, void **dst, size_t *dstlen)
{
    (void)spec;
    return deflate_enc(c, src, srclen, dst, dstlen, 0);
}

const codec_ops codec_gzip_ops = {
    .id = "gzip", .role = LSIO_CODEC_BYTES_BYTES, .init = deflate_init, .to_json = codec_level_json,
    .kind = codec_kind_oop, .enc_size = codec_enc_unknown, .decode = gzip_dec, .encode = gzip_enc,
};

const codec_ops codec_zlib_ops = {
    .id = "zlib", .role = LSIO_CODEC_BYTES_BYTES, .init = deflate_init, .to_json = codec_level_json,
    .kind = codec_kind_oop, .enc_size = codec_enc_unknown, .decode = zlib_dec, .encode = zlib_enc,
};
