/*
 * test_roundtrip.c — every codec, alone in a chain, encodes and decodes
 * back to the same bytes, over many dtypes and sizes (empty, one element,
 * odd sizes, several blosc blocks), through both the chain API and the
 * single-codec API. Lossy filters are checked against values computed
 * here; numcodecs' bytes are checked by tests/python/test_codecs.py.
 */
#include <math.h>

#include "codec_test.h"

static const char *const dtypes[] = {"|u1", "|i1", "<i2", "<u2", "<i4", "<u4", "<f4",
                                     "<i8", "<u8", "<f8", "<c8", "<c16", "|b1", "<f2"};
static const size_t sizes[] = {0, 1, 2, 3, 7, 100, 1000, 4097, 70001};

static const struct {
    const char *name, *json;
} bb[] = {
    {"blosc", NULL},
    {"blosc", "{\"cname\":\"lz4\",\"clevel\":5,\"shuffle\":-1,\"blocksize\":0}"},
    {"blosc", "{\"cname\":\"zstd\",\"clevel\":3,\"shuffle\":2,\"blocksize\":4096}"},
    {"blosc", "{\"cname\":\"blosclz\",\"clevel\":9,\"shuffle\":0}"},
    {"blosc", "{\"cname\":\"lz4hc\",\"clevel\":1,\"shuffle\":1}"},
    {"blosc", "{\"cname\":\"zlib\",\"clevel\":4,\"shuffle\":1}"},
    {"blosc", "{\"cname\":\"lz4\",\"clevel\":0,\"shuffle\":1}"},
    {"numcodecs.blosc", "{\"cname\":\"zstd\",\"clevel\":5,\"shuffle\":\"bitshuffle\",\"typesize\":4}"},
    {"zstd", NULL},
    {"zstd", "{\"level\":5,\"checksum\":true}"},
    {"zstd", "{\"level\":-3}"},
    {"lz4", NULL},
    {"lz4", "{\"acceleration\":20}"},
    {"gzip", "{\"level\":0}"},
    {"gzip", "{\"level\":6}"},
    {"zlib", "{\"level\":1}"},
    {"zlib", "{\"level\":9}"},
    {"bz2", "{\"level\":1}"},
    {"bz2", "{\"level\":9}"},
    {"lzma", NULL},
    {"lzma", "{\"format\":2,\"preset\":1}"},
    {"lzma", "{\"format\":1,\"check\":0,\"preset\":0}"},
    {"lzma", "{\"format\":0,\"check\":10,\"preset\":2}"},
    {"shuffle", "{\"elementsize\":4}"},
    {"shuffle", "{\"elementsize\":3}"},
    {"shuffle", "{\"elementsize\":1}"},
    {"shuffle", "{\"elementsize\":16}"},
    {"crc32c", NULL},
    {"crc32", NULL},
    {"adler32", NULL},
    {"numcodecs.zlib", "{\"level\":2}"},
};

static int big_sizes_only(const char *name)
{
    /* the slow ones (an lzma encoder sets up ~100 MB): fewer dtypes and
     * sizes keep the test fast under the sanitizers */
    return !strcmp(name, "bz2") || !strcmp(name, "lzma");
}

static void roundtrip(const char *name, const char *json, const char *dtype, size_t n)
{
    lsio_chunk_spec spec = spec1(dtype, n);
    const char *names[1] = {name}, *jsons[1] = {json};
    lsio_chain *ch = mk_chain(&spec, 1, names, jsons);
    size_t len = lsio_chain_decoded_size(ch);
    CHECK_EQ(len, n * spec.dtype.size);
    uint8_t *in = malloc(len + 1), *out = malloc(len + 1);
    fill(in, len, n * 31 + spec.dtype.size);
    void *enc;
    size_t enclen;
    CHECK_OK(lsio_chain_encode(ch, in, len, &enc, &enclen));
    memset(out, 0xAB, len + 1);
    if (lsio_chain_decode(ch, enc, enclen, out, len) < 0) {
        fprintf(stderr, "%s %s %s n=%zu: %s\n", name, json ? json : "", dtype, n, lsio_last_error());
        exit(1);
    }
    if (memcmp(in, out, len)) {
        fprintf(stderr, "%s %s %s n=%zu: round trip differs\n", name, json ? json : "", dtype, n);
        exit(1);
    }
    CHECK_EQ(out[len], 0xAB); /* nothing past the end */

    /* the single-codec API agrees */
    lsio_codec *c = mk_codec(name, json);
    void *enc2;
    size_t enc2len, got = 0;
    CHECK_OK(lsio_codec_encode(c, &spec, in, len, &enc2, &enc2len));
    memset(out, 0xCD, len + 1);
    CHECK_OK(lsio_codec_decode(c, &spec, enc2, enc2len, out, len, &got));
    CHECK_EQ(got, len);
    CHECK(memcmp(in, out, len) == 0);
    CHECK_EQ(out[len], 0xCD);
    free(enc2);
    lsio_codec_destroy(c);
    free(enc);
    free(in);
    free(out);
    lsio_chain_destroy(ch);
}

/* Filters whose round trip is exact for integer-valued data. */
static void filters(void)
{
    static const char *const ints[] = {"|u1", "|i1", "<i2", "<u2", "<i4", "<u4", "<i8", "<u8"};
    char json[256];
    for (size_t d = 0; d < sizeof ints / sizeof ints[0]; d++)
        for (size_t s = 0; s < sizeof sizes / sizeof sizes[0]; s++) {
            snprintf(json, sizeof json, "{\"dtype\":\"%s\"}", ints[d]);
            roundtrip("delta", json, ints[d], sizes[s]);
            snprintf(json, sizeof json, "{\"dtype\":\"%s\",\"astype\":\"%s\"}", ints[d], ints[d]);
            roundtrip("numcodecs.delta", json, ints[d], sizes[s]);
            snprintf(json, sizeof json, "{\"encode_dtype\":\"%s\",\"decode_dtype\":\"%s\"}",
                     ints[d], ints[d]);
            roundtrip("astype", json, ints[d], sizes[s]);
        }
    /* widening casts are exact */
    static const char *const widen[][2] = {{"|u1", "<u2"}, {"|i1", "<i4"}, {"<i2", "<f4"},
                                          {"<i4", "<f8"}, {"<u4", "<i8"}};
    for (size_t w = 0; w < sizeof widen / sizeof widen[0]; w++)
        for (size_t s = 0; s < sizeof sizes / sizeof sizes[0]; s++) {
            snprintf(json, sizeof json, "{\"encode_dtype\":\"%s\",\"decode_dtype\":\"%s\"}",
                     widen[w][1], widen[w][0]);
            roundtrip("astype", json, widen[w][0], sizes[s]);
        }
}

/* Delta with a narrower astype, fixedscaleoffset and bitround: values
 * checked against the arithmetic numcodecs does. */
static void lossy(void)
{
    enum { N = 1000 };
    double x[N];
    for (int i = 0; i < N; i++)
        x[i] = 10.0 + 0.37 * i - (i % 11) * 0.013;
    lsio_chunk_spec spec = spec1("<f8", N);
    const char *names[1] = {"fixedscaleoffset"};
    const char *jsons[1] = {"{\"id\":\"fixedscaleoffset\",\"scale\":100,\"offset\":10,"
                            "\"dtype\":\"<f8\",\"astype\":\"<i4\"}"};
    lsio_chain *ch = mk_chain(&spec, 1, names, jsons);
    void *enc;
    size_t enclen;
    CHECK_OK(lsio_chain_encode(ch, x, sizeof x, &enc, &enclen));
    CHECK_EQ(enclen, N * 4);
    int32_t *e = enc;
    for (int i = 0; i < N; i++)
        CHECK_EQ(e[i], (int32_t)rint((x[i] - 10) * 100));
    double y[N];
    CHECK_OK(lsio_chain_decode(ch, enc, enclen, y, sizeof y));
    for (int i = 0; i < N; i++)
        CHECK(y[i] == e[i] / 100.0 + 10);
    free(enc);
    lsio_chain_destroy(ch);

    /* bitround: decode is the identity; encode keeps `keepbits` mantissa bits */
    float f[N], g[N];
    for (int i = 0; i < N; i++)
        f[i] = (float)(x[i] * 1.2345);
    spec = spec1("<f4", N);
    names[0] = "bitround";
    jsons[0] = "{\"keepbits\":5}";
    ch = mk_chain(&spec, 1, names, jsons);
    CHECK_OK(lsio_chain_encode(ch, f, sizeof f, &enc, &enclen));
    CHECK_OK(lsio_chain_decode(ch, enc, enclen, g, sizeof g));
    CHECK(memcmp(enc, g, sizeof g) == 0);
    for (int i = 0; i < N; i++) {
        uint32_t b;
        memcpy(&b, &g[i], 4);
        CHECK_EQ(b & ((1u << 18) - 1), 0);
        CHECK(fabsf(g[i] - f[i]) <= fabsf(f[i]) / 32);
    }
    free(enc);
    lsio_chain_destroy(ch);

    /* delta into a narrower type wraps like numpy's astype */
    int32_t a[5] = {100, 300, 200, -100000, 7};
    spec = spec1("<i4", 5);
    names[0] = "delta";
    jsons[0] = "{\"dtype\":\"<i4\",\"astype\":\"|i1\"}";
    ch = mk_chain(&spec, 1, names, jsons);
    CHECK_OK(lsio_chain_encode(ch, a, sizeof a, &enc, &enclen));
    CHECK_EQ(enclen, 5);
    int8_t *d8 = enc;
    CHECK_EQ(d8[0], 100);
    CHECK_EQ(d8[1], (int8_t)200);
    CHECK_EQ(d8[2], -100);
    CHECK_EQ(d8[3], (int8_t)(-100000 - 200));
    free(enc);
    lsio_chain_destroy(ch);
}

/* shuffle of n dtype elements leaves a partial element of elementsize */
static int partial_elements(const char *json, const char *dtype, size_t n)
{
    lsio_chunk_spec spec = spec1(dtype, n);
    const char *es = strstr(json, "\"elementsize\":");
    unsigned e = es ? (unsigned)atoi(es + 14) : 4;
    return e > 1 && (n * spec.dtype.size) % e != 0;
}

int main(void)
{
    for (size_t c = 0; c < sizeof bb / sizeof bb[0]; c++)
        for (size_t d = 0; d < sizeof dtypes / sizeof dtypes[0]; d++)
            for (size_t s = 0; s < sizeof sizes / sizeof sizes[0]; s++) {
                if (big_sizes_only(bb[c].name) &&
                    (d % 7 != 0 || (sizes[s] != 0 && sizes[s] != 7 && sizes[s] != 1000)))
                    continue;
                if ((sizes[s] > 10000 && d % 5 != 0) || (sizes[s] > 1000 && d % 2 != 0))
                    continue;
                if (!strcmp(bb[c].name, "shuffle") && partial_elements(bb[c].json, dtypes[d], sizes[s]))
                    continue; /* refused, as numcodecs does (test_codecs.py checks) */
                roundtrip(bb[c].name, bb[c].json, dtypes[d], sizes[s]);
            }
    filters();
    lossy();
    printf("ok\n");
    return 0;
}
