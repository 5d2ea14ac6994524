/*
 * test_decode_sink.c — decoding blosc chunks into a sink in pieces
 * (lsio_chain_decode_sink, the path that unshuffles blocks straight into
 * their place in a reader's output) against the ordinary decode through
 * libblosc: element sizes 1 to 16, lz4/lz4hc/zstd, shuffled or not,
 * blocks with a leftover, incompressible streams stored raw; what it must
 * refuse (blosclz, zlib, bitshuffle, a typesize that is not the element
 * size, a truncated buffer) it refuses before handing over any piece;
 * damaged chunks fail or decode as libblosc decodes them. And
 * lsio_unshuffle against a byte-at-a-time reference.
 */
#include <stdint.h>

#include "codec_test.h"
#include "sink_collect.h"

/* ------------------------------------------------------------ unshuffle */

static void unshuffle_kernels(void)
{
    uint64_t s = 7;
    unsigned char planes[17][80], ref[17 * 80], got[17 * 80 + 64];
    const size_t ns[] = {0, 1, 15, 16, 17, 31, 32, 33, 47, 64, 79};
    for (size_t es = 1; es <= 17; es++)
        for (size_t k = 0; k < sizeof ns / sizeof ns[0]; k++)
            for (size_t off = 0; off < 20; off += 3)
                for (int stream = 0; stream < 2; stream++) {
                    size_t n = ns[k];
                    const unsigned char *p[17];
                    for (size_t b = 0; b < es; b++) {
                        for (size_t i = 0; i < sizeof planes[b]; i++)
                            planes[b][i] = (unsigned char)rng_next(&s);
                        p[b] = planes[b];
                    }
                    for (size_t i = 0; i < n; i++)
                        for (size_t b = 0; b < es; b++)
                            ref[i * es + b] = planes[b][i];
                    /* off 16 and 0 are 16-byte aligned: the streamed stores */
                    unsigned char *d = (unsigned char *)(((uintptr_t)got + 15) & ~(uintptr_t)15);
                    memset(got, 0xee, sizeof got);
                    lsio_unshuffle(d + off, p, n, es, stream);
                    lsio_unshuffle_fence();
                    CHECK(memcmp(d + off, ref, n * es) == 0);
                    /* nothing written around it */
                    for (unsigned char *q = got; q < d + off; q++)
                        CHECK(*q == 0xee);
                    for (unsigned char *q = d + off + n * es; q < got + sizeof got; q++)
                        CHECK(*q == 0xee);
                }
}

/* ------------------------------------------------------------- the sink */

typedef sink_collect collect;
#define collect_put sink_collect_put

/* Decode enc into a sink: its result, with the pieces checked against the
 * ordinary decode when it succeeds. */
static int sink_decode(lsio_chain *ch, const void *enc, size_t enclen, size_t es, collect *co)
{
    size_t len = lsio_chain_decoded_size(ch);
    memset(co, 0, sizeof *co);
    co->buf = malloc(len ? len : 1);
    co->n = len / es;
    co->es = es;
    lsio_chunk_sink sink = {.esize = es, .put = collect_put, .ctx = co};
    int rc = lsio_chain_decode_sink(ch, enc, enclen, &sink);
    CHECK(!co->bad);
    if (rc == -LSIO_EUNSUPPORTED)
        CHECK_EQ(co->pieces, 0);
    if (rc == 0) {
        CHECK_EQ(co->next, co->n);
        uint8_t *whole = malloc(len ? len : 1);
        CHECK_OK(lsio_chain_decode(ch, enc, enclen, whole, len));
        CHECK(memcmp(whole, co->buf, len) == 0);
        free(whole);
    }
    return rc;
}

/* A chunk's worth of smooth values for ch (malloc'd; *len: its bytes). */
static uint8_t *sample(lsio_chain *ch, uint64_t seed, size_t *len)
{
    *len = lsio_chain_decoded_size(ch);
    uint8_t *raw = malloc(*len);
    CHECK(raw);
    fill(raw, *len, seed);
    return raw;
}

static void roundtrip(const char *dtype, const char *json, size_t count, int noise,
                      int expect_rc, int expect_shuffled)
{
    lsio_chunk_spec sp = spec1(dtype, count);
    const char *names[] = {"blosc"};
    const char *jsons[] = {json};
    lsio_chain *ch = mk_chain(&sp, 1, names, jsons);
    size_t len, es = sp.dtype.size;
    uint8_t *raw = sample(ch, count + es, &len);
    if (noise) { /* the low bytes incompressible: raw streams beside packed ones */
        uint64_t s = count | 1;
        for (size_t i = 0; i < len; i += es)
            raw[i] = (uint8_t)rng_next(&s);
    }
    void *enc;
    size_t enclen;
    CHECK_OK(lsio_chain_encode(ch, raw, len, &enc, &enclen));
    collect co;
    int rc = sink_decode(ch, enc, enclen, es, &co);
    if (expect_rc == 0 && (((const uint8_t *)enc)[2] & 0x02))
        expect_rc = -LSIO_EUNSUPPORTED; /* stored as is: nothing to gain */
    if (rc != expect_rc) {
        fprintf(stderr, "%s %s count %zu: rc %d, expected %d (%s)\n", dtype, json, count, rc,
                expect_rc, rc < 0 ? lsio_last_error() : "");
        exit(1);
    }
    if (rc == 0) {
        CHECK(memcmp(co.buf, raw, len) == 0);
        CHECK_EQ(co.shuffled > 0, expect_shuffled);
    }
    free(co.buf);
    free(enc);
    free(raw);
    lsio_chain_destroy(ch);
}

static void formats(void)
{
    const char *dtypes[] = {"|u1", "<i2", "<f4", "<f8", "<c16"};
    const char *cnames[] = {"lz4", "lz4hc", "zstd"};
    const size_t counts[] = {1000, 4099, 100000};
    const int blocksizes[] = {0, 4096, 40000};
    char json[160];
    for (size_t d = 0; d < 5; d++)
        for (size_t c = 0; c < 3; c++)
            for (int shuffle = 0; shuffle < 2; shuffle++)
                for (size_t k = 0; k < 3; k++)
                    for (size_t b = 0; b < 3; b++)
                        for (int noise = 0; noise < 2; noise++) {
                            snprintf(json, sizeof json,
                                     "{\"cname\":\"%s\",\"clevel\":5,\"shuffle\":%d,"
                                     "\"blocksize\":%d}",
                                     cnames[c], shuffle, blocksizes[b]);
                            /* every one of these takes the sink path, and
                             * shuffled ones hand over planes */
                            int es1 = d == 0;
                            roundtrip(dtypes[d], json, counts[k], noise, 0, shuffle && !es1);
                        }
}

/* What the path does not take: refused before any piece, so the ordinary
 * decode runs. */
static void refused(void)
{
    roundtrip("<f4", "{\"cname\":\"blosclz\",\"clevel\":5,\"shuffle\":1}", 10000, 0,
              -LSIO_EUNSUPPORTED, 0);
    roundtrip("<f4", "{\"cname\":\"zlib\",\"clevel\":5,\"shuffle\":1}", 10000, 0,
              -LSIO_EUNSUPPORTED, 0);
    roundtrip("<i2", "{\"cname\":\"lz4\",\"clevel\":5,\"shuffle\":2}", 10000, 0,
              -LSIO_EUNSUPPORTED, 0);
    /* shuffled in 8-byte units, elements of 4: the planes are not the sink's */
    roundtrip("<f4", "{\"cname\":\"lz4\",\"clevel\":5,\"shuffle\":1,\"typesize\":8}", 10000, 0,
              -LSIO_EUNSUPPORTED, 0);
    /* clevel 0: stored as is (the memcpyed flag) */
    roundtrip("<f4", "{\"cname\":\"lz4\",\"clevel\":0,\"shuffle\":1}", 10000, 0,
              -LSIO_EUNSUPPORTED, 0);
    /* not shuffled in 8-byte units: whole elements still, so taken */
    roundtrip("<f4", "{\"cname\":\"lz4\",\"clevel\":5,\"shuffle\":0,\"typesize\":8}", 10000, 0,
              0, 0);

    /* chains: v3 bytes + blosc + crc32c can; a byte swap cannot */
    lsio_chunk_spec sp = spec1("<f4", 5000);
    const char *n3[] = {"bytes", "blosc", "crc32c"};
    const char *j3[] = {"{\"endian\":\"little\"}",
                        "{\"cname\":\"zstd\",\"clevel\":3,\"shuffle\":\"shuffle\",\"typesize\":4}",
                        NULL};
    lsio_chain *ch = mk_chain(&sp, 3, n3, j3);
    CHECK(lsio_chain_can_decode_sink(ch));
    size_t len;
    uint8_t *raw = sample(ch, 3, &len);
    void *enc;
    size_t enclen;
    CHECK_OK(lsio_chain_encode(ch, raw, len, &enc, &enclen));
    collect co;
    CHECK_EQ(sink_decode(ch, enc, enclen, 4, &co), 0);
    CHECK(memcmp(co.buf, raw, len) == 0);
    free(co.buf);
    /* a wrong checksum: an error, no piece */
    ((uint8_t *)enc)[enclen / 2] ^= 1;
    CHECK(sink_decode(ch, enc, enclen, 4, &co) < 0);
    CHECK_EQ(co.pieces, 0);
    free(co.buf);
    free(enc);
    free(raw);
    lsio_chain_destroy(ch);

    const char *nb[] = {"bytes", "blosc"};
    const char *jb[] = {"{\"endian\":\"big\"}", "{\"cname\":\"lz4\",\"clevel\":5}"};
    ch = mk_chain(&sp, 2, nb, jb);
    CHECK(!lsio_chain_can_decode_sink(ch));
    uint8_t dummy[32] = {0};
    lsio_chunk_sink sink = {.esize = 4, .put = collect_put, .ctx = &co};
    CHECK_EQ(lsio_chain_decode_sink(ch, dummy, sizeof dummy, &sink), -LSIO_EUNSUPPORTED);
    lsio_chain_destroy(ch);
}

/* Damage: every single-byte change and every cut of a small chunk either
 * fails, is refused, or decodes to what libblosc decodes. */
static void damaged(void)
{
    lsio_chunk_spec sp = spec1("<f4", 3000);
    const char *names[] = {"blosc"};
    const char *jsons[] = {"{\"cname\":\"lz4\",\"clevel\":5,\"shuffle\":1,\"blocksize\":2048}"};
    lsio_chain *ch = mk_chain(&sp, 1, names, jsons);
    size_t len;
    uint8_t *raw = sample(ch, 11, &len);
    void *encv;
    size_t enclen;
    CHECK_OK(lsio_chain_encode(ch, raw, len, &encv, &enclen));
    uint8_t *enc = encv;
    collect co;
    CHECK_EQ(sink_decode(ch, enc, enclen, 4, &co), 0);
    free(co.buf);
    size_t ok = 0, failed = 0;
    uint64_t s = 5;
    for (size_t i = 0; i < enclen; i++) {
        uint8_t *bad = malloc(enclen);
        memcpy(bad, enc, enclen);
        bad[i] ^= (uint8_t)(1 + rng_next(&s) % 255);
        int rc = sink_decode(ch, bad, enclen, 4, &co); /* checks against libblosc */
        ok += rc == 0;
        failed += rc < 0;
        free(co.buf);
        free(bad);
    }
    CHECK(failed > 0); /* header and block starts are checked */
    for (size_t cut = 0; cut < enclen; cut += 7) {
        uint8_t *part = malloc(cut ? cut : 1);
        memcpy(part, enc, cut);
        CHECK(sink_decode(ch, part, cut, 4, &co) < 0);
        CHECK_EQ(co.pieces, 0);
        free(co.buf);
        free(part);
    }
    (void)ok;
    free(enc);
    free(raw);
    lsio_chain_destroy(ch);
}

int main(void)
{
    unshuffle_kernels();
    formats();
    refused();
    damaged();
    printf("ok\n");
    return 0;
}
