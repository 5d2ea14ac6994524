/*
 * fuzz_codec.c — libFuzzer target for every decoder and the chain.
 *
 * Input: byte 0 picks a codec configuration (the table below, shared with
 * fuzz/corpus/codec_make.py, which writes the seed corpus from numcodecs),
 * byte 1 the chunk size, the rest is the encoded chunk. The chunk decodes
 * into an exact-size heap block, so AddressSanitizer sees any write past
 * it; the single-codec API decodes the same bytes too, and blosc chains
 * decode a byte range of them (which must equal that range of the whole)
 * and decode them into a sink (which must give the whole, or refuse).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lsio_codecs.h"
#include "sink_collect.h"

typedef struct cfg {
    const char *dtype;
    int ndim2;                /* shape (n/4, 4) instead of (n) */
    const char *names[3];
    const char *jsons[3];
} cfg;

static const cfg cfgs[] = {
    /* 0 */ {"<f4", 0, {"blosc"}, {"{\"cname\":\"lz4\",\"clevel\":5,\"shuffle\":1}"}},
    /* 1 */ {"<i2", 0, {"blosc"}, {"{\"cname\":\"zstd\",\"clevel\":3,\"shuffle\":2}"}},
    /* 2 */ {"|u1", 0, {"blosc"}, {"{\"cname\":\"blosclz\",\"clevel\":9,\"shuffle\":0}"}},
    /* 3 */ {"<f8", 0, {"zstd"}, {"{\"level\":1}"}},
    /* 4 */ {"<i4", 0, {"lz4"}, {"{\"acceleration\":1}"}},
    /* 5 */ {"<u2", 0, {"gzip"}, {"{\"level\":5}"}},
    /* 6 */ {"<i8", 0, {"zlib"}, {"{\"level\":1}"}},
    /* 7 */ {"<f4", 0, {"bz2"}, {"{\"level\":1}"}},
    /* 8 */ {"<f4", 0, {"lzma"}, {NULL}},
    /* 9 */ {"|u1", 0, {"lzma"}, {"{\"format\":2,\"preset\":1}"}},
    /* 10 */ {"<i4", 0, {"shuffle", "zstd"}, {"{\"elementsize\":4}", NULL}},
    /* 11 */ {"<i4", 0, {"delta", "zlib"}, {"{\"dtype\":\"<i4\"}", NULL}},
    /* 12 */ {"<f8", 0, {"fixedscaleoffset"},
              {"{\"offset\":10,\"scale\":100,\"dtype\":\"<f8\",\"astype\":\"<i2\"}"}},
    /* 13 */ {"<i4", 0, {"bytes", "zstd", "crc32c"}, {"{\"endian\":\"little\"}", NULL, NULL}},
    /* 14 */ {"<i2", 1, {"transpose", "bytes", "gzip"},
              {"{\"order\":[1,0]}", "{\"endian\":\"big\"}", "{\"level\":1}"}},
    /* 15 */ {"|O", 0, {"vlen-utf8", "zstd"}, {NULL, NULL}},
    /* 16 */ {"<f4", 0, {"astype", "lz4"},
              {"{\"encode_dtype\":\"<f8\",\"decode_dtype\":\"<f4\"}", NULL}},
    /* 17 */ {">f8", 0, {NULL}, {NULL}},
    /* 18 */ {"<i2", 0, {"crc32", "bz2"}, {NULL, NULL}},
    /* 19 */ {"<u4", 0, {"adler32", "gzip"}, {NULL, NULL}},
    /* 20 */ {"<f4", 0, {"bitround", "blosc"},
              {"{\"keepbits\":9}", "{\"cname\":\"lz4hc\",\"clevel\":5,\"shuffle\":-1}"}},
};
enum { NCFG = sizeof cfgs / sizeof cfgs[0] };
static const uint32_t counts[] = {0, 1, 7, 100, 1000, 4096};

static size_t ncodecs(const cfg *c)
{
    size_t n = 0;
    while (n < 3 && c->names[n])
        n++;
    return n;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 2)
        return 0;
    const cfg *c = &cfgs[data[0] % NCFG];
    uint32_t count = counts[data[1] % (sizeof counts / sizeof counts[0])];
    data += 2;
    size -= 2;
    lsio_chunk_spec spec;
    memset(&spec, 0, sizeof spec);
    if (lsio_dtype_parse(c->dtype, &spec.dtype) < 0)
        abort();
    if (c->ndim2) {
        spec.ndim = 2;
        spec.shape[0] = count / 4;
        spec.shape[1] = 4;
    } else {
        spec.ndim = 1;
        spec.shape[0] = count;
    }
    size_t n = ncodecs(c);
    lsio_codec *codecs[3] = {0};
    for (size_t i = 0; i < n; i++)
        if (lsio_codec_create(&codecs[i], c->names[i], c->jsons[i]) < 0)
            abort();
    lsio_chain *ch = NULL;
    if (lsio_chain_create(&ch, codecs, n, &spec) < 0)
        abort();
    /* the bytes get their own heap block, so reads past them are seen too */
    uint8_t *src = malloc(size ? size : 1);
    memcpy(src, data, size);
    if (spec.dtype.kind == LSIO_DT_STRING) {
        uint64_t *off;
        uint8_t *d;
        size_t dlen;
        if (lsio_chain_decode_strings(ch, src, size, &off, &d, &dlen) == 0) {
            if (off[spec.shape[0]] != dlen)
                abort();
            free(off);
            free(d);
        }
    } else {
        size_t len = lsio_chain_decoded_size(ch);
        uint8_t *dst = malloc(len ? len : 1);
        if (lsio_chain_decode(ch, src, size, dst, len) == 0) {
            /* what decodes must encode and decode back to the same (not
             * for bz2 and lzma, whose encoders cost ~100 ms under ASan) */
            void *enc;
            size_t enclen;
            int slow = n && (!strcmp(c->names[0], "bz2") || !strcmp(c->names[0], "lzma"));
            if (!slow && lsio_chain_encode(ch, dst, len, &enc, &enclen) == 0) {
                uint8_t *again = malloc(len ? len : 1);
                if (lsio_chain_decode(ch, enc, enclen, again, len) < 0 ||
                    (len && memcmp(again, dst, len) && spec.dtype.kind != LSIO_DT_FLOAT))
                    abort();
                free(again);
                free(enc);
            }
        }
        /* part of it (blosc chains): only what decodes whole may succeed,
         * and then with the same bytes; a range is picked from the input */
        if (lsio_chain_can_decode_range(ch) && len) {
            size_t a = size ? data[0] % (len + 1) : 0, b = size > 1 ? data[1] % (len + 1) : len;
            size_t lo = a < b ? a : b, hi = a < b ? b : a;
            uint8_t *part = malloc(hi - lo ? hi - lo : 1);
            uint8_t *whole = malloc(len);
            int rr = lsio_chain_decode_range(ch, src, size, lo, hi - lo, part);
            if (rr == 0 && lsio_chain_decode(ch, src, size, whole, len) == 0 &&
                memcmp(part, whole + lo, hi - lo))
                abort();
            /* and read sparsely: only the header and the span's bytes
             * filled, the rest of the buffer garbage */
            lsio_enc_span sp;
            if (hi > lo && lsio_chain_encoded_span(ch, src, size, lo, hi - lo, &sp) == 0) {
                if (sp.head > size || sp.lo > sp.hi || sp.hi > sp.size)
                    abort();
                if (sp.size == size) {
                    uint8_t *sparse = malloc(size);
                    memset(sparse, 0xa5, size);
                    memcpy(sparse, src, sp.head);
                    memcpy(sparse + sp.lo, src + sp.lo, sp.hi - sp.lo);
                    /* memory safety only: a crafted chunk whose blocks
                     * overlap decodes whole but not from its span */
                    (void)lsio_chain_decode_range(ch, sparse, size, lo, hi - lo, part);
                    free(sparse);
                }
            }
            free(part);
            free(whole);
        }
        /* into a sink (blosc chains): only what decodes whole may
         * succeed, with the same bytes, every element handed over once,
         * in order; "unsupported" before any piece */
        if (lsio_chain_can_decode_sink(ch) && len) {
            sink_collect co = {.buf = malloc(len), .n = len / spec.dtype.size,
                               .es = spec.dtype.size};
            lsio_chunk_sink sink = {.esize = co.es, .put = sink_collect_put, .ctx = &co};
            int rs = lsio_chain_decode_sink(ch, src, size, &sink);
            uint8_t *whole = malloc(len);
            if (co.bad || (rs == -LSIO_EUNSUPPORTED && co.next) ||
                (rs == 0 && (co.next != co.n || lsio_chain_decode(ch, src, size, whole, len) < 0 ||
                             memcmp(co.buf, whole, len))))
                abort();
            free(whole);
            free(co.buf);
        }
        /* the last codec alone, through the single-codec API */
        if (n && lsio_codec_role_of(codecs[n - 1]) == LSIO_CODEC_BYTES_BYTES) {
            size_t got;
            (void)lsio_codec_decode(codecs[n - 1], &spec, src, size, dst, len, &got);
        }
        free(dst);
    }
    free(src);
    lsio_chain_destroy(ch);
    for (size_t i = 0; i < n; i++)
        lsio_codec_destroy(codecs[i]);
    return 0;
}
