/*
 * test_errors.c — decoders fail cleanly on bad input: truncated streams,
 * flipped bytes (no crash, no write past dst: dst is an exact-size heap
 * block, so AddressSanitizer sees any overrun), decompression bombs (data
 * that decodes to more than the chunk) and short data, each -LSIO_ESIZE
 * or -LSIO_ECODEC with a message naming the codec; crc32c catches every
 * flipped byte.
 */
#include "codec_test.h"

static const struct {
    const char *name, *json;
} cs[] = {
    {"blosc", "{\"cname\":\"lz4\",\"clevel\":5,\"shuffle\":1}"},
    {"blosc", "{\"cname\":\"zstd\",\"clevel\":5,\"shuffle\":2}"},
    {"zstd", NULL},
    {"lz4", NULL},
    {"gzip", "{\"level\":5}"},
    {"zlib", "{\"level\":5}"},
    {"bz2", NULL},
    {"lzma", NULL},
    {"lzma", "{\"format\":2}"},
};

enum { N = 10000 };

static void expect_fail(const lsio_chain *ch, const void *enc, size_t len, const char *name,
                        const char *what)
{
    uint8_t *dst = malloc(N);
    int rc = lsio_chain_decode(ch, enc, len, dst, N);
    if (rc >= 0 || !strstr(lsio_last_error(), name)) {
        fprintf(stderr, "%s: %s of %zu bytes: rc %d, message \"%s\"\n", name, what, len, rc,
                lsio_last_error());
        exit(1);
    }
    free(dst);
}

int main(void)
{
    uint8_t *data = malloc(4 * N);
    fill(data, 4 * N, 5);
    for (size_t i = 0; i < sizeof cs / sizeof cs[0]; i++) {
        const char *name = cs[i].name;
        lsio_chunk_spec spec = spec1("<f4", N / 4);
        const char *names[] = {name}, *jsons[] = {cs[i].json};
        lsio_chain *ch = mk_chain(&spec, 1, names, jsons);
        void *enc;
        size_t len;
        CHECK_OK(lsio_chain_encode(ch, data, N, &enc, &len));

        /* truncated: a fresh copy of exactly that length each time */
        size_t cuts[] = {0, 1, 3, 4, 15, 16, len / 2, len - 4, len - 1};
        for (size_t k = 0; k < sizeof cuts / sizeof cuts[0]; k++) {
            if (cuts[k] >= len)
                continue;
            uint8_t *t = malloc(cuts[k] ? cuts[k] : 1);
            memcpy(t, enc, cuts[k]);
            expect_fail(ch, t, cuts[k], name, "truncated");
            free(t);
        }
        /* flipped bytes: any result but a crash or an overrun */
        uint8_t *bad = malloc(len), *dst = malloc(N);
        uint64_t s = 12345 + i;
        int slow = !strcmp(name, "bz2") || !strcmp(name, "lzma");
        for (int k = 0; k < (slow ? 40 : 300); k++) {
            memcpy(bad, enc, len);
            size_t pos = rng_next(&s) % len;
            bad[pos] ^= (uint8_t)(1 + rng_next(&s) % 255);
            (void)lsio_chain_decode(ch, bad, len, dst, N);
        }
        free(bad);

        /* bomb: a stream of twice the chunk stops at the chunk's size */
        lsio_codec *c = mk_codec(name, cs[i].json);
        void *big;
        size_t biglen;
        CHECK_OK(lsio_codec_encode(c, &spec, data, 2 * N, &big, &biglen));
        expect_fail(ch, big, biglen, name, "bomb");
        CHECK_EQ(lsio_chain_decode(ch, big, biglen, dst, N), -LSIO_ESIZE);
        size_t got;
        CHECK_EQ(lsio_codec_decode(c, &spec, big, biglen, dst, N, &got), -LSIO_ESIZE);
        free(big);
        /* short: half a chunk */
        CHECK_OK(lsio_codec_encode(c, &spec, data, N / 2, &big, &biglen));
        CHECK_EQ(lsio_chain_decode(ch, big, biglen, dst, N), -LSIO_ESIZE);
        CHECK(strstr(lsio_last_error(), name));
        free(big);
        lsio_codec_destroy(c);
        free(dst);
        free(enc);
        lsio_chain_destroy(ch);
    }

    /* lz4's size header claims 4 GiB: refused before any work */
    uint8_t lz[8] = {0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0}, out[16];
    lsio_codec *c = mk_codec("lz4", NULL);
    size_t got;
    CHECK_EQ(lsio_codec_decode(c, NULL, lz, 8, out, 16, &got), -LSIO_ESIZE);
    lsio_codec_destroy(c);

    /* crc32c: every single flipped bit is caught */
    lsio_chunk_spec spec = spec1("|u1", 64);
    const char *names[] = {"bytes", "zstd", "crc32c"}, *jsons[] = {NULL, NULL, NULL};
    lsio_chain *ch = mk_chain(&spec, 3, names, jsons);
    void *enc;
    size_t len;
    CHECK_OK(lsio_chain_encode(ch, data, 64, &enc, &len));
    uint8_t *e = enc, dst[64];
    for (size_t k = 0; k < len * 8; k++) {
        e[k / 8] ^= (uint8_t)(1u << (k % 8));
        CHECK_EQ(lsio_chain_decode(ch, enc, len, dst, 64), -LSIO_ECHECKSUM);
        CHECK(strstr(lsio_last_error(), "crc32c"));
        e[k / 8] ^= (uint8_t)(1u << (k % 8));
    }
    CHECK_OK(lsio_chain_decode(ch, enc, len, dst, 64));
    CHECK(memcmp(dst, data, 64) == 0);
    CHECK_EQ(lsio_chain_decode(ch, enc, 3, dst, 64), -LSIO_ECODEC);
    free(enc);
    lsio_chain_destroy(ch);
    /* numcodecs' crc32 and adler32: the checksum first */
    const char *zs[] = {"crc32", "adler32"};
    for (int z = 0; z < 2; z++) {
        ch = mk_chain(&spec, 1, zs + z, jsons);
        CHECK_OK(lsio_chain_encode(ch, data, 64, &enc, &len));
        CHECK_EQ(len, 68);
        e = enc;
        e[10] ^= 1;
        CHECK_EQ(lsio_chain_decode(ch, enc, len, dst, 64), -LSIO_ECHECKSUM);
        CHECK(strstr(lsio_last_error(), zs[z]));
        e[10] ^= 1;
        CHECK_OK(lsio_chain_decode(ch, enc, len, dst, 64));
        CHECK(memcmp(dst, data, 64) == 0);
        free(enc);
        lsio_chain_destroy(ch);
    }

    /* no compressor: a chunk of the wrong size */
    spec = spec1("<i4", 10);
    ch = mk_chain(&spec, 0, NULL, NULL);
    CHECK_EQ(lsio_chain_decode(ch, data, 39, dst, 40), -LSIO_ESIZE);
    CHECK_EQ(lsio_chain_decode(ch, data, 41, dst, 40), -LSIO_ESIZE);
    lsio_chain_destroy(ch);
    free(data);
    printf("ok\n");
    return 0;
}
