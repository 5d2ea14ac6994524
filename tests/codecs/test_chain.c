/*
 * test_chain.c — chains as Zarr builds them: v3 bytes (both byte orders) +
 * transpose + a compressor + crc32c, v2 big-endian dtypes (the implicit
 * byte swap), filters before a compressor, strings (vlen-utf8 + zstd), the
 * registry's names ("numcodecs.<id>", unknown names), chain ordering
 * rules, the CRC-32C check vector and configurations printed back.
 */
#include "codec_test.h"

/* decoded[i,j,k] of a C-order array of shape s, element size es */
static void transpose_ref(const uint8_t *dec, uint8_t *enc, const uint64_t *s,
                          const unsigned *perm, unsigned es)
{
    /* 3-D only: enc shape e[i] = s[perm[i]] */
    uint64_t e[3] = {s[perm[0]], s[perm[1]], s[perm[2]]};
    size_t o = 0;
    for (uint64_t a = 0; a < e[0]; a++)
        for (uint64_t b = 0; b < e[1]; b++)
            for (uint64_t c = 0; c < e[2]; c++) {
                uint64_t idx[3];
                idx[perm[0]] = a;
                idx[perm[1]] = b;
                idx[perm[2]] = c;
                size_t off = ((idx[0] * s[1] + idx[1]) * s[2] + idx[2]) * es;
                memcpy(enc + o, dec + off, es);
                o += es;
            }
}

static void v3_transpose(void)
{
    static const unsigned perms[][3] = {{0, 1, 2}, {2, 1, 0}, {1, 0, 2}, {0, 2, 1}, {2, 0, 1}, {1, 2, 0}};
    static const uint64_t shapes[][3] = {{3, 4, 5}, {1, 7, 2}, {6, 1, 1}, {0, 3, 2}, {2, 3, 1}};
    static const char *const dts[] = {"|u1", "<i2", "<f4", "<f8", "<c16", "|S3"};
    for (size_t p = 0; p < 6; p++)
        for (size_t sh = 0; sh < 5; sh++)
            for (size_t d = 0; d < 6; d++) {
                lsio_chunk_spec spec = spec1(dts[d], 1);
                spec.ndim = 3;
                memcpy(spec.shape, shapes[sh], sizeof shapes[sh]);
                char json[128];
                snprintf(json, sizeof json, "{\"order\":[%u,%u,%u]}", perms[p][0], perms[p][1],
                         perms[p][2]);
                const char *names[] = {"transpose", "bytes", "zstd", "crc32c"};
                const char *jsons[] = {json, "{\"endian\":\"little\"}", "{\"level\":1}", NULL};
                lsio_chain *ch = mk_chain(&spec, 4, names, jsons);
                size_t len = lsio_chain_decoded_size(ch);
                uint8_t *in = malloc(len + 1), *out = malloc(len + 1), *ref = malloc(len + 1);
                fill(in, len, p * 100 + sh * 10 + d);
                transpose_ref(in, ref, spec.shape, perms[p], spec.dtype.size);
                void *enc;
                size_t enclen;
                CHECK_OK(lsio_chain_encode(ch, in, len, &enc, &enclen));
                /* the stored bytes are the transposed array, zstd'd, crc'd */
                lsio_codec *z = mk_codec("zstd", NULL);
                size_t got;
                CHECK(enclen >= 4);
                CHECK_OK(lsio_codec_decode(z, NULL, enc, enclen - 4, out, len, &got));
                CHECK_EQ(got, len);
                CHECK(memcmp(out, ref, len) == 0);
                lsio_codec_destroy(z);
                memset(out, 0, len);
                CHECK_OK(lsio_chain_decode(ch, enc, enclen, out, len));
                CHECK(memcmp(out, in, len) == 0);
                free(enc);
                free(in);
                free(out);
                free(ref);
                lsio_chain_destroy(ch);
            }
    /* "F" reverses the axes, "C" keeps them */
    lsio_codec *t = mk_codec("transpose", "{\"order\":\"F\"}");
    char *js = lsio_codec_config_json(t);
    CHECK(strcmp(js, "{\"order\":\"F\"}") == 0);
    free(js);
    lsio_codec_destroy(t);
}

static void endian(void)
{
    /* v3 bytes big: stored big-endian, decoded native */
    uint32_t v[100], back[100];
    uint8_t be[400];
    for (int i = 0; i < 100; i++) {
        v[i] = 0x01020304u * (uint32_t)i + 17;
        be[4 * i] = (uint8_t)(v[i] >> 24);
        be[4 * i + 1] = (uint8_t)(v[i] >> 16);
        be[4 * i + 2] = (uint8_t)(v[i] >> 8);
        be[4 * i + 3] = (uint8_t)v[i];
    }
    lsio_chunk_spec spec = spec1("uint32", 100);
    const char *names[] = {"bytes", "gzip"};
    const char *jsons[] = {"{\"endian\":\"big\"}", "{\"level\":3}"};
    lsio_chain *ch = mk_chain(&spec, 2, names, jsons);
    void *enc;
    size_t enclen;
    CHECK_OK(lsio_chain_encode(ch, v, sizeof v, &enc, &enclen));
    lsio_codec *g = mk_codec("gzip", NULL);
    uint8_t raw[400];
    size_t got;
    CHECK_OK(lsio_codec_decode(g, NULL, enc, enclen, raw, sizeof raw, &got));
    CHECK(got == 400 && memcmp(raw, be, 400) == 0);
    CHECK_OK(lsio_chain_decode(ch, enc, enclen, back, sizeof back));
    CHECK(memcmp(back, v, sizeof v) == 0);
    lsio_chain_destroy(ch);
    free(enc);

    /* v2 ">u4" with no array→bytes codec: the same bytes on disk */
    spec = spec1(">u4", 100);
    lsio_chain *ch2 = mk_chain(&spec, 1, names + 1, jsons + 1);
    CHECK_OK(lsio_chain_encode(ch2, v, sizeof v, &enc, &enclen));
    CHECK_OK(lsio_codec_decode(g, NULL, enc, enclen, raw, sizeof raw, &got));
    CHECK(got == 400 && memcmp(raw, be, 400) == 0);
    memset(back, 0, sizeof back);
    CHECK_OK(lsio_chain_decode(ch2, enc, enclen, back, sizeof back));
    CHECK(memcmp(back, v, sizeof v) == 0);
    free(enc);
    lsio_chain_destroy(ch2);
    /* no compressor at all: a pure swap into dst */
    ch2 = mk_chain(&spec, 0, NULL, NULL);
    CHECK_OK(lsio_chain_decode(ch2, be, sizeof be, back, sizeof back));
    CHECK(memcmp(back, v, sizeof v) == 0);
    lsio_chain_destroy(ch2);
    lsio_codec_destroy(g);

    /* complex128 big-endian swaps each 8-byte half; |S5 never swaps */
    spec = spec1(">c16", 3);
    ch2 = mk_chain(&spec, 0, NULL, NULL);
    uint8_t c[48], cd[48];
    for (int i = 0; i < 48; i++)
        c[i] = (uint8_t)i;
    CHECK_OK(lsio_chain_decode(ch2, c, 48, cd, 48));
    for (int i = 0; i < 48; i++)
        CHECK_EQ(cd[i], (i / 8) * 8 + 7 - i % 8);
    lsio_chain_destroy(ch2);
    spec = spec1("|S5", 3);
    ch2 = mk_chain(&spec, 0, NULL, NULL);
    CHECK_OK(lsio_chain_decode(ch2, c, 15, cd, 15));
    CHECK(memcmp(c, cd, 15) == 0);
    lsio_chain_destroy(ch2);
}

static void v2_filters(void)
{
    /* delta then blosc, as zarr-python writes it; also the F-order flag */
    int64_t v[5000], back[5000];
    for (int i = 0; i < 5000; i++)
        v[i] = 1000000 + 3 * i + (i % 5);
    lsio_chunk_spec spec = spec1("<i8", 50);
    spec.ndim = 2;
    spec.shape[1] = 100;
    spec.fortran_order = 1;
    const char *names[] = {"delta", "shuffle", "blosc"};
    const char *jsons[] = {"{\"id\":\"delta\",\"dtype\":\"<i8\",\"astype\":\"<i4\"}",
                           "{\"elementsize\":4}",
                           "{\"id\":\"blosc\",\"cname\":\"lz4\",\"clevel\":5,\"shuffle\":1}"};
    lsio_chain *ch = mk_chain(&spec, 3, names, jsons);
    CHECK_EQ(lsio_chain_decoded_size(ch), sizeof v);
    void *enc;
    size_t enclen;
    CHECK_OK(lsio_chain_encode(ch, v, sizeof v, &enc, &enclen));
    CHECK(enclen < sizeof v / 4);
    CHECK_OK(lsio_chain_decode(ch, enc, enclen, back, sizeof back));
    CHECK(memcmp(back, v, sizeof v) == 0);
    free(enc);
    lsio_chain_destroy(ch);
}

/* Partial decoding: a blosc chunk of many blocks, ranges of it equal the
 * same bytes of the whole; chains it cannot do say so. */
static void decode_range(void)
{
    enum { N = 1 << 18 }; /* 1 MiB of float32: blocks of 64 KiB */
    float *v = malloc(N * sizeof *v), *whole = malloc(N * sizeof *v), *part = malloc(N * sizeof *v);
    CHECK(v && whole && part);
    for (int i = 0; i < N; i++)
        v[i] = (float)(i % 977) * 0.5f + (float)(i / 977);
    lsio_chunk_spec spec = spec1("<f4", N);
    /* v3: bytes, blosc (blocksize 64 KiB), crc32c */
    const char *names[] = {"bytes", "blosc", "crc32c"};
    const char *jsons[] = {"{\"endian\":\"little\"}",
                           "{\"cname\":\"lz4\",\"clevel\":5,\"shuffle\":\"shuffle\","
                           "\"typesize\":4,\"blocksize\":65536}",
                           NULL};
    lsio_chain *ch = mk_chain(&spec, 3, names, jsons);
    CHECK(lsio_chain_can_decode_range(ch));
    void *enc;
    size_t enclen;
    CHECK_OK(lsio_chain_encode(ch, v, N * sizeof *v, &enc, &enclen));
    CHECK_OK(lsio_chain_decode(ch, enc, enclen, whole, N * sizeof *v));
    CHECK(memcmp(whole, v, N * sizeof *v) == 0);
    static const size_t r[][2] = {{0, 4}, {0, 65536}, {65532, 8}, {100000, 300000},
                                  {N * 4 - 4, 4}, {0, N * 4}, {12, 0}};
    for (size_t i = 0; i < sizeof r / sizeof r[0]; i++) {
        memset(part, 0xee, N * sizeof *v);
        CHECK_OK(lsio_chain_decode_range(ch, enc, enclen, r[i][0], r[i][1], part));
        CHECK(memcmp(part, (char *)v + r[i][0], r[i][1]) == 0);
        CHECK(r[i][1] == N * 4 || ((unsigned char *)part)[r[i][1]] == 0xee); /* no more */
    }
    /* not a multiple of blosc's typesize: decode it whole */
    CHECK_EQ(lsio_chain_decode_range(ch, enc, enclen, 2, 4, part), -LSIO_EUNSUPPORTED);
    CHECK_EQ(lsio_chain_decode_range(ch, enc, enclen, N * 4 - 4, 8, part), -EINVAL);
    /* the checksum still covers the whole chunk */
    unsigned char *bad = malloc(enclen);
    memcpy(bad, enc, enclen);
    bad[enclen / 2] ^= 0x55;
    CHECK(lsio_chain_decode_range(ch, bad, enclen, 0, 4, part) < 0);
    CHECK(strstr(lsio_last_error(), "crc32c"));
    /* a truncated chunk */
    CHECK(lsio_chain_decode_range(ch, enc, enclen / 2, 0, 4, part) < 0);
    lsio_enc_span spc;
    CHECK_EQ(lsio_chain_encoded_span(ch, enc, enclen, 0, 4, &spc), -LSIO_EUNSUPPORTED);
    free(bad);
    free(enc);
    lsio_chain_destroy(ch);

    /* v2 blosc with no crc: a wrong size in the header is named */
    const char *n2[] = {"blosc"};
    const char *j2[] = {"{\"cname\":\"zstd\",\"clevel\":1,\"shuffle\":2}"};
    ch = mk_chain(&spec, 1, n2, j2);
    CHECK(lsio_chain_can_decode_range(ch));
    CHECK_OK(lsio_chain_encode(ch, v, N * sizeof *v, &enc, &enclen));
    CHECK_OK(lsio_chain_decode_range(ch, enc, enclen, 4096, 40000, part));
    CHECK(memcmp(part, (char *)v + 4096, 40000) == 0);
    /* sparse: only the header and the span's bytes filled */
    {
        unsigned char *sparse = malloc(enclen);
        static const size_t q[][2] = {{4096, 40000}, {0, 4}, {N * 4 - 8, 8}, {300000, 500000}};
        for (size_t i = 0; i < sizeof q / sizeof q[0]; i++) {
            lsio_enc_span sp;
            CHECK_OK(lsio_chain_encoded_span(ch, enc, enclen, q[i][0], q[i][1], &sp));
            CHECK_EQ(sp.size, enclen);
            CHECK(sp.head >= 16 && sp.head <= sp.lo && sp.lo < sp.hi && sp.hi <= enclen);
            if (q[i][1] < 100000)
                CHECK(sp.hi - sp.lo < enclen / 2);
            memset(sparse, 0xa5, enclen);
            memcpy(sparse, enc, sp.head);
            memcpy(sparse + sp.lo, (char *)enc + sp.lo, sp.hi - sp.lo);
            CHECK_OK(lsio_chain_decode_range(ch, sparse, enclen, q[i][0], q[i][1], part));
            CHECK(memcmp(part, (char *)v + q[i][0], q[i][1]) == 0);
            /* the head alone is enough to say where */
            lsio_enc_span sp2;
            CHECK_OK(lsio_chain_encoded_span(ch, enc, sp.head, q[i][0], q[i][1], &sp2));
            CHECK(sp2.lo == sp.lo && sp2.hi == sp.hi);
            CHECK_EQ(lsio_chain_encoded_span(ch, enc, sp.head - 1, q[i][0], q[i][1], &sp2),
                     -LSIO_EUNSUPPORTED);
        }
        free(sparse);
        /* stored as is (incompressible): blocks in order after the header */
        uint64_t seed = 1;
        for (int i = 0; i < N; i++) {
            seed = seed * 6364136223846793005ull + 1442695040888963407ull;
            uint32_t x = (uint32_t)(seed >> 32);
            memcpy(&whole[i], &x, 4);
        }
        void *raw;
        size_t rawlen;
        CHECK_OK(lsio_chain_encode(ch, whole, N * sizeof *v, &raw, &rawlen));
        CHECK(((unsigned char *)raw)[2] & 0x02);
        lsio_enc_span sp;
        CHECK_OK(lsio_chain_encoded_span(ch, raw, rawlen, 123456, 1000, &sp));
        CHECK(sp.head == 16 && sp.hi - sp.lo < rawlen / 2);
        sparse = calloc(1, rawlen);
        memcpy(sparse, raw, sp.head);
        memcpy(sparse + sp.lo, (char *)raw + sp.lo, sp.hi - sp.lo);
        CHECK_OK(lsio_chain_decode_range(ch, sparse, rawlen, 123456, 1000, part));
        CHECK(memcmp(part, (char *)whole + 123456, 1000) == 0);
        /* a header that cannot be right */
        ((unsigned char *)raw)[8] = 0;
        ((unsigned char *)raw)[9] = 0;
        ((unsigned char *)raw)[10] = 0;
        ((unsigned char *)raw)[11] = 0;
        CHECK_EQ(lsio_chain_encoded_span(ch, raw, rawlen, 0, 4, &sp), -LSIO_ECODEC);
        free(sparse);
        free(raw);
    }
    lsio_chunk_spec small = spec1("<f4", N / 2);
    lsio_chain *ch2 = mk_chain(&small, 1, n2, j2);
    CHECK_EQ(lsio_chain_decode_range(ch2, enc, enclen, 0, 4, part), -LSIO_ESIZE);
    lsio_chain_destroy(ch2);
    free(enc);
    lsio_chain_destroy(ch);

    /* chains that cannot: a filter before blosc, no blosc, a byte swap */
    const char *n3[] = {"shuffle", "blosc"};
    const char *j3[] = {"{\"elementsize\":4}", NULL};
    ch = mk_chain(&spec, 2, n3, j3);
    CHECK(!lsio_chain_can_decode_range(ch));
    CHECK_EQ(lsio_chain_decode_range(ch, v, 16, 0, 4, part), -LSIO_EUNSUPPORTED);
    lsio_chain_destroy(ch);
    const char *n4[] = {"zstd"};
    const char *j4[] = {NULL};
    ch = mk_chain(&spec, 1, n4, j4);
    CHECK(!lsio_chain_can_decode_range(ch));
    lsio_chain_destroy(ch);
    const char *n5[] = {"bytes", "blosc"};
    const char *j5[] = {"{\"endian\":\"big\"}", NULL};
    ch = mk_chain(&spec, 2, n5, j5);
    CHECK(!lsio_chain_can_decode_range(ch));
    lsio_chain_destroy(ch);
    free(v);
    free(whole);
    free(part);
}

static void strings(void)
{
    const char *items[] = {"", "a", "héllo", "🙂 emoji", "", "zz"};
    uint64_t off[7] = {0};
    char data[64];
    size_t pos = 0;
    for (int i = 0; i < 6; i++) {
        memcpy(data + pos, items[i], strlen(items[i]));
        pos += strlen(items[i]);
        off[i + 1] = pos;
    }
    lsio_chunk_spec spec = spec1("string", 3);
    spec.ndim = 2;
    spec.shape[1] = 2;
    const char *names[] = {"vlen-utf8", "zstd"};
    const char *jsons[] = {NULL, "{\"level\":0,\"checksum\":false}"};
    lsio_chain *ch = mk_chain(&spec, 2, names, jsons);
    void *enc;
    size_t enclen;
    CHECK_OK(lsio_chain_encode_strings(ch, off, data, &enc, &enclen));
    uint64_t *o2;
    uint8_t *d2;
    size_t dlen;
    CHECK_OK(lsio_chain_decode_strings(ch, enc, enclen, &o2, &d2, &dlen));
    CHECK_EQ(dlen, pos);
    CHECK(memcmp(o2, off, sizeof off) == 0);
    CHECK(memcmp(d2, data, pos) == 0);
    free(o2);
    free(d2);
    uint8_t dummy[8];
    CHECK_EQ(lsio_chain_decode(ch, enc, enclen, dummy, 8), -EINVAL);
    free(enc);
    lsio_chain_destroy(ch);

    /* the raw layout: count, then length + bytes */
    void *raw;
    size_t rawlen;
    CHECK_OK(lsio_vlen_utf8_encode(off, data, 6, &raw, &rawlen));
    CHECK_EQ(rawlen, 4 + 6 * 4 + pos);
    const uint8_t *r = raw;
    CHECK_EQ(r[0], 6);
    CHECK_EQ(r[4], 0);
    CHECK_EQ(r[8], 1);
    CHECK_EQ(r[12], 'a');
    CHECK_EQ(lsio_vlen_utf8_decode(raw, rawlen, 5, &o2, &d2, &dlen), -LSIO_ESIZE);
    CHECK_EQ(lsio_vlen_utf8_decode(raw, rawlen - 1, 6, &o2, &d2, &dlen), -LSIO_ECODEC);
    free(raw);
    /* an item that eats the next item's length (found by fuzz_codec: the
     * bytes buffer is sized by what the lengths leave) */
    static const uint8_t eat[] = {2, 0, 0, 0, 4, 0, 0, 0, 'a', 'b', 'c', 'd'};
    CHECK_EQ(lsio_vlen_utf8_decode(eat, sizeof eat, 2, &o2, &d2, &dlen), -LSIO_ECODEC);
    static const uint8_t over[] = {1, 0, 0, 0, 9, 0, 0, 0, 'a'};
    CHECK_EQ(lsio_vlen_utf8_decode(over, sizeof over, 1, &o2, &d2, &dlen), -LSIO_ECODEC);
    static const uint8_t many[] = {0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0};
    CHECK_EQ(lsio_vlen_utf8_decode(many, sizeof many, 0xffffffffu, &o2, &d2, &dlen),
             -LSIO_ECODEC);
}

static void registry(void)
{
    lsio_codec *c;
    CHECK_EQ(lsio_codec_create(&c, "nosuch", NULL), -LSIO_EUNSUPPORTED);
    CHECK(strstr(lsio_last_error(), "nosuch"));
    CHECK_EQ(lsio_codec_create(&c, "zstd", "[1]"), -LSIO_EFORMAT);
    CHECK_EQ(lsio_codec_create(&c, "zstd", "{\"level\":\"x\"}"), -LSIO_EFORMAT);
    CHECK_EQ(lsio_codec_create(&c, "blosc", "{\"cname\":\"nope\"}"), -LSIO_EUNSUPPORTED);
    CHECK_EQ(lsio_codec_create(&c, "blosc", "{\"shuffle\":\"sideways\"}"), -LSIO_EFORMAT);
    CHECK_EQ(lsio_codec_create(&c, "bytes", "{\"endian\":\"middle\"}"), -LSIO_EFORMAT);
    CHECK_EQ(lsio_codec_create(&c, "transpose", "{\"order\":[0,0]}"), -LSIO_EFORMAT);
    CHECK_EQ(lsio_codec_create(&c, "lzma", "{\"filters\":[{\"id\":33}]}"), -LSIO_EUNSUPPORTED);
    CHECK_EQ(lsio_codec_create(&c, "delta", "{}"), -LSIO_EFORMAT);
    /* integers past int's range (fuzz_zarr_meta: a blosc clevel of 1e108
     * was converted to int before being checked, undefined behaviour) */
    static const char *const big[] = {
        "{\"clevel\":1e108}", "{\"clevel\":2147483648}", "{\"typesize\":-2147483649}",
        "{\"blocksize\":1.8e308}", "{\"shuffle\":-1e20}"};
    for (size_t i = 0; i < sizeof big / sizeof big[0]; i++) {
        CHECK_EQ(lsio_codec_create(&c, "blosc", big[i]), -LSIO_EFORMAT);
        CHECK(strstr(lsio_last_error(), "out of range"));
    }
    CHECK_EQ(lsio_codec_create(&c, "zstd", "{\"level\":-1e300}"), -LSIO_EFORMAT);
    CHECK(strstr(lsio_last_error(), "\"level\" is out of range"));
    CHECK_EQ(lsio_codec_create(&c, "zstd", "{\"level\":1.5}"), -LSIO_EFORMAT);
    CHECK(strstr(lsio_last_error(), "not an integer"));
    c = mk_codec("blosc", "{\"cname\":\"lz4\",\"clevel\":5,\"blocksize\":2147483647}");
    lsio_codec_destroy(c);

    c = mk_codec("numcodecs.delta", "{\"dtype\":\"<i4\"}");
    CHECK(strcmp(lsio_codec_name(c), "numcodecs.delta") == 0);
    CHECK_EQ(lsio_codec_role_of(c), LSIO_CODEC_ARRAY_ARRAY);
    char *js = lsio_codec_config_json(c);
    CHECK(strcmp(js, "{\"dtype\":\"<i4\",\"astype\":\"<i4\"}") == 0);
    free(js);
    lsio_codec_destroy(c);
    c = mk_codec("blosc", "{\"id\":\"blosc\",\"cname\":\"zstd\",\"clevel\":3,\"shuffle\":2,\"blocksize\":0}");
    js = lsio_codec_config_json(c);
    CHECK(strcmp(js, "{\"id\":\"blosc\",\"cname\":\"zstd\",\"clevel\":3,\"shuffle\":2,\"blocksize\":0}") == 0);
    free(js);
    CHECK_EQ(lsio_codec_role_of(c), LSIO_CODEC_BYTES_BYTES);

    /* v3 order rules: array→array, array→bytes, bytes→bytes */
    lsio_codec *b = mk_codec("bytes", NULL), *t = mk_codec("transpose", "{\"order\":[1,0]}");
    lsio_chunk_spec spec = spec1("<f4", 2);
    spec.ndim = 2;
    spec.shape[1] = 3;
    lsio_chain *ch;
    lsio_codec *bad1[] = {b, t}, *bad2[] = {c, b}, *bad3[] = {b, b}, *good[] = {t, b, c};
    CHECK_EQ(lsio_chain_create(&ch, bad1, 2, &spec), -LSIO_EFORMAT);
    CHECK_EQ(lsio_chain_create(&ch, bad2, 2, &spec), -LSIO_EFORMAT);
    CHECK_EQ(lsio_chain_create(&ch, bad3, 2, &spec), -LSIO_EFORMAT);
    lsio_codec *tbad = mk_codec("transpose", "{\"order\":[2,1,0]}");
    lsio_codec *bad4[] = {tbad, b};
    CHECK_EQ(lsio_chain_create(&ch, bad4, 2, &spec), -LSIO_EFORMAT);
    lsio_codec_destroy(tbad);
    CHECK_OK(lsio_chain_create(&ch, good, 3, &spec));
    /* the chain holds its own references */
    lsio_codec_destroy(b);
    lsio_codec_destroy(t);
    lsio_codec_destroy(c);
    float f[6] = {1, 2, 3, 4, 5, 6}, g[6];
    void *enc;
    size_t enclen;
    CHECK_OK(lsio_chain_encode(ch, f, sizeof f, &enc, &enclen));
    CHECK_OK(lsio_chain_decode(ch, enc, enclen, g, sizeof g));
    CHECK(memcmp(f, g, sizeof f) == 0);
    CHECK_EQ(lsio_chain_decode(ch, enc, enclen, g, sizeof g - 1), -EINVAL);
    free(enc);
    lsio_chain_destroy(ch);

    CHECK_EQ(lsio_crc32c("123456789", 9), 0xE3069283u);
    CHECK_EQ(lsio_crc32c("", 0), 0);
}

int main(void)
{
    v3_transpose();
    endian();
    v2_filters();
    decode_range();
    strings();
    registry();
    printf("ok\n");
    return 0;
}
