/*
 * test_sharding.c — the sharding_indexed codec (shards inside shards):
 * a shard assembled byte by byte here decodes to the values the spec says
 * (missing inner chunks as the fill value); encode → decode round trips
 * over index at the start and the end, contiguous and strided inner
 * chunks, a shard inside a shard inside a shard, and a compressor after
 * the codec; a nested shard followed by zstd, gzip or crc32c (and three
 * levels with one after each) round trips, its nested shards stored through
 * that codec, and every truncation or bit flip of it is an error (with
 * crc32c: every flip) or a decode, never a write past dst; all-fill inner
 * chunks are left out of the index; errors (a short blob, a crc mismatch,
 * an entry outside the blob, an entry overlapping the index at the start or
 * the end, an inner chunk of the wrong size, a shape that is not a
 * multiple, bad configurations) name the codec and never write past dst.
 */
#include "codec_test.h"

static const char *const SHARD2 =
    "{\"chunk_shape\":[2,3],\"codecs\":[{\"name\":\"bytes\",\"configuration\":{\"endian\":"
    "\"little\"}},{\"name\":\"zstd\",\"configuration\":{\"level\":1}}],\"index_codecs\":"
    "[{\"name\":\"bytes\",\"configuration\":{\"endian\":\"little\"}},{\"name\":\"crc32c\"}],"
    "\"index_location\":\"%s\"}";

static lsio_chunk_spec spec2(const char *dt, uint64_t a, uint64_t b, const void *fv)
{
    lsio_chunk_spec s = spec1(dt, a);
    s.ndim = 2;
    s.shape[1] = b;
    s.fill = fv;
    return s;
}

static uint64_t le64(const uint8_t *p)
{
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--)
        v = v << 8 | p[i];
    return v;
}

static void put64(uint8_t *p, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

/* decode with a canary after dst; returns the codec's result */
static int dec_guarded(lsio_chain *ch, const void *src, size_t n, void *dst, size_t dn)
{
    uint8_t *g = malloc(dn + 64);
    memset(g, 0xA5, dn + 64);
    int rc = lsio_chain_decode(ch, src, n, g, dn);
    for (size_t i = dn; i < dn + 64; i++)
        CHECK_EQ(g[i], 0xA5);
    if (rc == 0)
        memcpy(dst, g, dn);
    free(g);
    return rc;
}

/* The 3 (offset, nbytes) entries of the hand-made shards' index at p. */
static void put_index(uint8_t *p, const uint64_t *e)
{
    for (int i = 0; i < 6; i++)
        put64(p + 8 * i, e[i]);
}

/* The hand-made u1 shard of 6 (inner chunks of 2, bytes only, LE index
 * without a checksum, index at `where`): its chain (fill fv) after checking
 * that blob decodes to {fill, fill, 5, 6, 7, 8}. */
static lsio_chain *hand_chain(const uint8_t *blob, size_t n, const char *where,
                              const uint8_t *fv, lsio_codec **c)
{
    char cfg[512];
    snprintf(cfg, sizeof cfg,
             "{\"chunk_shape\":[2],\"codecs\":[{\"name\":\"bytes\"}],\"index_codecs\":"
             "[{\"name\":\"bytes\",\"configuration\":{\"endian\":\"little\"}}],"
             "\"index_location\":\"%s\"}", where);
    *c = mk_codec("sharding_indexed", cfg);
    lsio_chunk_spec s = spec1("|u1", 6);
    s.fill = fv;
    lsio_chain *ch = NULL;
    CHECK_OK(lsio_chain_create(&ch, c, 1, &s));
    uint8_t out[6];
    CHECK_OK(dec_guarded(ch, blob, n, out, 6));
    const uint8_t want[6] = {*fv, *fv, 5, 6, 7, 8};
    CHECK(memcmp(out, want, 6) == 0);
    return ch;
}

/* A shard written by hand: u1, shard 6, inner 2, bytes only, index at the
 * end without a checksum; inner 0 missing, 1 at offset 2, 2 at offset 0. */
static void by_hand(void)
{
    uint8_t blob[4 + 48] = {7, 8, 5, 6};
    put_index(blob + 4, (const uint64_t[]){LSIO_SHARD_MISSING, LSIO_SHARD_MISSING, 2, 2, 0, 2});
    lsio_codec *c;
    uint8_t fv = 9, out[6];
    lsio_chunk_spec s = spec1("|u1", 6);
    lsio_chain *ch = hand_chain(blob, sizeof blob, "end", &fv, &c);
    /* no fill given: zeros */
    lsio_chain_destroy(ch);
    s.fill = NULL;
    CHECK_OK(lsio_chain_create(&ch, &c, 1, &s));
    CHECK_OK(dec_guarded(ch, blob, sizeof blob, out, 6));
    CHECK(out[0] == 0 && out[1] == 0 && out[2] == 5);
    /* an entry outside the blob */
    put64(blob + 20, 51);
    CHECK_EQ(dec_guarded(ch, blob, sizeof blob, out, 6), -LSIO_EFORMAT);
    CHECK(strstr(lsio_last_error(), "sharding_indexed") && strstr(lsio_last_error(), "outside"));
    put64(blob + 20, 2);
    /* an inner chunk of the wrong size (bytes 0..2, clear of the index) */
    put64(blob + 44, 3);
    CHECK_EQ(dec_guarded(ch, blob, sizeof blob, out, 6), -LSIO_ESIZE);
    CHECK(strstr(lsio_last_error(), "inner chunk 2"));
    put64(blob + 44, 2);
    /* half-missing entry */
    put64(blob + 4, 0);
    CHECK_EQ(dec_guarded(ch, blob, sizeof blob, out, 6), -LSIO_EFORMAT);
    put64(blob + 4, LSIO_SHARD_MISSING);
    /* an entry inside the blob but overlapping the index at its end
     * (bytes 3..4, the index starts at 4): before the check it decoded an
     * index byte as data */
    put64(blob + 20, 3);
    CHECK_EQ(dec_guarded(ch, blob, sizeof blob, out, 6), -LSIO_EFORMAT);
    CHECK(strstr(lsio_last_error(), "sharding_indexed") &&
          strstr(lsio_last_error(), "index entry 1") && strstr(lsio_last_error(), "overlapping"));
    put64(blob + 20, 2);
    CHECK_OK(dec_guarded(ch, blob, sizeof blob, out, 6)); /* ending right at the index: fine */
    /* a blob too short for its index */
    CHECK_EQ(dec_guarded(ch, blob, 40, out, 6), -LSIO_EFORMAT);
    CHECK(strstr(lsio_last_error(), "sharding_indexed") && strstr(lsio_last_error(), "index"));
    lsio_chain_destroy(ch);
    /* the shard's shape is not a multiple of chunk_shape */
    s = spec1("|u1", 5);
    CHECK_OK(lsio_chain_create(&ch, &c, 1, &s));
    CHECK_EQ(dec_guarded(ch, blob, sizeof blob, out, 5), -LSIO_EFORMAT);
    CHECK(strstr(lsio_last_error(), "multiple"));
    lsio_chain_destroy(ch);
    lsio_codec_destroy(c);
}

/* The same shard with its index at the start: entries that begin inside
 * the index (but lie inside the blob) are refused, one starting right after
 * it is fine. */
static void by_hand_start(void)
{
    uint8_t blob[48 + 4] = {0};
    memcpy(blob + 48, (const uint8_t[]){7, 8, 5, 6}, 4);
    put_index(blob, (const uint64_t[]){LSIO_SHARD_MISSING, LSIO_SHARD_MISSING, 50, 2, 48, 2});
    lsio_codec *c;
    uint8_t fv = 9, out[6];
    lsio_chain *ch = hand_chain(blob, sizeof blob, "start", &fv, &c);
    static const uint64_t offs[] = {47, 46, 0, 20};
    for (size_t k = 0; k < sizeof offs / sizeof offs[0]; k++) {
        put64(blob + 32, offs[k]); /* inner chunk 2 */
        CHECK_EQ(dec_guarded(ch, blob, sizeof blob, out, 6), -LSIO_EFORMAT);
        CHECK(strstr(lsio_last_error(), "sharding_indexed") &&
              strstr(lsio_last_error(), "index entry 2") &&
              strstr(lsio_last_error(), "overlapping the index"));
    }
    lsio_chain_destroy(ch);
    lsio_codec_destroy(c);
}

/* 2-D u2, shard 8×6, inner 2×3: round trip, index both places */
static void round_trip_2d(void)
{
    for (int at = 0; at < 2; at++) {
        char cfg[512];
        snprintf(cfg, sizeof cfg, SHARD2, at ? "start" : "end");
        lsio_codec *c = mk_codec("sharding_indexed", cfg);
        uint16_t fv = 7, src[48], out[48];
        for (int i = 0; i < 48; i++)
            src[i] = (uint16_t)(i * 31 + 1);
        for (int r = 2; r < 4; r++) /* inner chunk (1,1) all fill */
            for (int k = 3; k < 6; k++)
                src[r * 6 + k] = fv;
        lsio_chunk_spec s = spec2("<u2", 8, 6, &fv);
        lsio_chain *ch = NULL;
        CHECK_OK(lsio_chain_create(&ch, &c, 1, &s));
        void *enc;
        size_t n;
        CHECK_OK(lsio_chain_encode(ch, src, sizeof src, &enc, &n));
        const uint8_t *ix = (const uint8_t *)enc + (at ? 0 : n - (8 * 16 + 4));
        CHECK_EQ(lsio_crc32c(ix, 8 * 16), (uint32_t)le64(ix + 8 * 16) & 0xffffffffu);
        CHECK_EQ(le64(ix + 3 * 16), LSIO_SHARD_MISSING); /* (1,1) left out */
        CHECK(le64(ix + 0) != LSIO_SHARD_MISSING);
        if (at)
            CHECK_EQ(le64(ix), 8 * 16 + 4);
        memset(out, 0, sizeof out);
        CHECK_OK(dec_guarded(ch, enc, n, out, sizeof out));
        CHECK(memcmp(src, out, sizeof src) == 0);
        /* crc mismatch */
        uint8_t *bad = malloc(n);
        memcpy(bad, enc, n);
        bad[(at ? 0 : n - 8 * 16 - 4) + 17] ^= 1;
        CHECK(dec_guarded(ch, bad, n, out, sizeof out) < 0);
        CHECK(strstr(lsio_last_error(), "sharding_indexed") && strstr(lsio_last_error(), "index"));
        /* dst too small */
        CHECK(lsio_chain_decode(ch, enc, n, out, sizeof out - 2) < 0);
        free(bad);
        free(enc);
        lsio_chain_destroy(ch);
        lsio_codec_destroy(c);
    }
}

/* f4 16×8 as a shard of 8×8 shards of 2×2 chunks (gzip), the whole chain
 * with a transpose before it (the codec then decodes into the chain's
 * scratch), and a contiguous layout (inner 1×8). */
static void nested(void)
{
    const char *cfg =
        "{\"chunk_shape\":[8,8],\"codecs\":[{\"name\":\"sharding_indexed\",\"configuration\":"
        "{\"chunk_shape\":[2,2],\"codecs\":[{\"name\":\"bytes\",\"configuration\":{\"endian\":"
        "\"big\"}},{\"name\":\"gzip\",\"configuration\":{\"level\":1}}],\"index_codecs\":["
        "{\"name\":\"bytes\",\"configuration\":{\"endian\":\"little\"}},{\"name\":\"crc32c\"}],"
        "\"index_location\":\"start\"}}],\"index_codecs\":[{\"name\":\"bytes\","
        "\"configuration\":{\"endian\":\"little\"}},{\"name\":\"crc32c\"}]}";
    const char *contig = "{\"chunk_shape\":[1,8],\"codecs\":[{\"name\":\"bytes\"}]}";
    for (int v = 0; v < 2; v++) {
        lsio_codec *cs[2] = {mk_codec("transpose", "{\"order\":[1,0]}"),
                             mk_codec("sharding_indexed", v ? contig : cfg)};
        float fv = -1.5f, src[128], out[128];
        for (int i = 0; i < 128; i++)
            src[i] = (i / 8) % 3 == 1 ? fv : (float)i * 0.25f;
        lsio_chunk_spec s = spec2("<f4", 16, 8, &fv);
        for (int ncod = 1; ncod <= 2; ncod++) {
            lsio_chain *ch = NULL;
            CHECK_OK(lsio_chain_create(&ch, cs + 2 - ncod, (size_t)ncod, &s));
            void *enc;
            size_t n;
            CHECK_OK(lsio_chain_encode(ch, src, sizeof src, &enc, &n));
            CHECK_OK(dec_guarded(ch, enc, n, out, sizeof out));
            CHECK(memcmp(src, out, sizeof src) == 0);
            /* truncated: an error, never a crash */
            for (size_t cut = 1; cut < n; cut += n / 7 + 1)
                CHECK(lsio_chain_decode(ch, enc, n - cut, out, sizeof out) < 0);
            free(enc);
            lsio_chain_destroy(ch);
        }
        char *js = lsio_codec_config_json(cs[1]);
        CHECK(js && strstr(js, "\"chunk_shape\"") && strstr(js, "\"index_location\":\"end\""));
        if (!v)
            CHECK(strstr(js, "\"index_location\":\"start\"") && strstr(js, "gzip") &&
                  !strstr(js, "\"id\""));
        free(js);
        lsio_codec_destroy(cs[0]);
        lsio_codec_destroy(cs[1]);
    }
}

/* A shard inside a shard followed by a bytes→bytes codec (the nested
 * shard's bytes go through zstd, gzip or crc32c before the outer index
 * records them), and a whole sharding chain followed by one. i4 16×8, outer
 * codec chunk_shape 8×8 (two nested shards), nested chunk_shape 2×4. */
static const char *const AFTER[] = {
    "{\"name\":\"zstd\",\"configuration\":{\"level\":3}}",
    "{\"name\":\"gzip\",\"configuration\":{\"level\":1}}",
    "{\"name\":\"crc32c\"}",
};
static const char *const INNER_CFG =
    "{\"chunk_shape\":[2,4],\"codecs\":[{\"name\":\"bytes\",\"configuration\":{\"endian\":"
    "\"little\"}}],\"index_codecs\":[{\"name\":\"bytes\",\"configuration\":{\"endian\":"
    "\"little\"}},{\"name\":\"crc32c\"}],\"index_location\":\"%s\"}";
static const char *const OUTER_SHARD =
    "{\"chunk_shape\":[8,8],\"codecs\":[{\"name\":\"sharding_indexed\",\"configuration\":%s},"
    "%s],\"index_codecs\":[{\"name\":\"bytes\",\"configuration\":{\"endian\":\"little\"}},"
    "{\"name\":\"crc32c\"}],\"index_location\":\"%s\"}";

static void nested_src(int32_t *src, int32_t fv)
{
    for (int i = 0; i < 128; i++)
        src[i] = (int32_t)((uint32_t)i * 2654435761u >> 7) - 1000;
    for (int r = 2; r < 4; r++) /* inner chunk (1,0) of nested shard 0 all fill */
        for (int k = 0; k < 4; k++)
            src[r * 8 + k] = fv;
}

/* Encode, decode, compare; then every truncation is an error, and every
 * single-bit flip of the encoded bytes an error naming a codec or (only
 * where nothing checks those bytes, strict == 0) a decode, never a write
 * past dst. Returns the encoded bytes (*np of them). */
static uint8_t *round_trip_damage(lsio_chain *ch, const int32_t *src, size_t *np, int strict)
{
    int32_t out[128];
    void *enc;
    size_t n;
    CHECK_OK(lsio_chain_encode(ch, src, 512, &enc, &n));
    memset(out, 0, sizeof out);
    CHECK_OK(dec_guarded(ch, enc, n, out, sizeof out));
    CHECK(memcmp(src, out, sizeof out) == 0);
    for (size_t cut = 1; cut <= n; cut++)
        CHECK(dec_guarded(ch, enc, n - cut, out, sizeof out) < 0);
    uint8_t *bad = malloc(n);
    for (size_t k = 0; k < n; k++) {
        memcpy(bad, enc, n);
        bad[k] ^= (uint8_t)(1u << (k % 8));
        int rc = dec_guarded(ch, bad, n, out, sizeof out);
        if (strict)
            CHECK(rc < 0);
        if (rc < 0) {
            const char *m = lsio_last_error();
            CHECK(strstr(m, "sharding_indexed") || strstr(m, "zstd") || strstr(m, "gzip") ||
                  strstr(m, "crc32c"));
        }
    }
    free(bad);
    *np = n;
    return enc;
}

static void nested_then_bytes_codec(void)
{
    int32_t fv = -7, src[128], out[64];
    nested_src(src, fv);
    lsio_chunk_spec s = spec2("<i4", 16, 8, &fv), s8 = spec2("<i4", 8, 8, &fv);
    for (size_t a = 0; a < sizeof AFTER / sizeof AFTER[0]; a++)
        for (int at = 0; at < 4; at++) { /* bit 0: outer index at the start, bit 1: nested */
            char inner[512], cfg[1536];
            snprintf(inner, sizeof inner, INNER_CFG, at & 2 ? "start" : "end");
            snprintf(cfg, sizeof cfg, OUTER_SHARD, inner, AFTER[a], at & 1 ? "start" : "end");
            lsio_codec *c = mk_codec("sharding_indexed", cfg);
            lsio_codec *ic = mk_codec("sharding_indexed", inner);
            lsio_chain *ch = NULL, *ich = NULL;
            CHECK_OK(lsio_chain_create(&ch, &c, 1, &s));
            CHECK_OK(lsio_chain_create(&ich, &ic, 1, &s8));
            size_t n;
            /* crc32c checks every byte of the nested shards, the outer
             * index's crc32c the rest */
            uint8_t *enc = round_trip_damage(ch, src, &n, a == 2);
            /* the outer index (2 entries + crc) records both nested shards,
             * each through the codec after them */
            const uint8_t *ix = enc + (at & 1 ? 0 : n - 36);
            CHECK_EQ(lsio_crc32c(ix, 32), (uint32_t)le64(ix + 32) & 0xffffffffu);
            for (int k = 0; k < 2; k++) {
                uint64_t off = le64(ix + 16 * k), len = le64(ix + 16 * k + 8);
                CHECK(off != LSIO_SHARD_MISSING && off + len <= n && len > 4);
                const uint8_t *p = enc + off;
                if (a == 0) {
                    CHECK(p[0] == 0x28 && p[1] == 0xb5 && p[2] == 0x2f && p[3] == 0xfd);
                } else if (a == 1) {
                    CHECK(p[0] == 0x1f && p[1] == 0x8b);
                } else { /* a nested shard and its crc32c: the shard decodes alone */
                    CHECK_EQ(lsio_crc32c(p, len - 4), (uint32_t)le64(p + len - 4) & 0xffffffffu);
                    CHECK_OK(dec_guarded(ich, p, len - 4, out, sizeof out));
                    CHECK(memcmp(src + 64 * k, out, sizeof out) == 0);
                }
            }
            free(enc);
            lsio_chain_destroy(ich);
            lsio_chain_destroy(ch);
            lsio_codec_destroy(ic);
            lsio_codec_destroy(c);
        }
}

/* Three levels with a bytes→bytes codec after each nested shard, and a
 * chain whose sharding_indexed is followed by zstd itself. */
static void nested_deep_and_chain(void)
{
    const char *deep =
        "{\"chunk_shape\":[8,8],\"codecs\":[{\"name\":\"sharding_indexed\",\"configuration\":"
        "{\"chunk_shape\":[4,4],\"codecs\":[{\"name\":\"sharding_indexed\",\"configuration\":"
        "{\"chunk_shape\":[2,2],\"codecs\":[{\"name\":\"bytes\",\"configuration\":{\"endian\":"
        "\"big\"}},{\"name\":\"zstd\",\"configuration\":{\"level\":1}}],\"index_location\":"
        "\"start\"}},{\"name\":\"gzip\",\"configuration\":{\"level\":5}}]}},{\"name\":"
        "\"crc32c\"}],\"index_codecs\":[{\"name\":\"bytes\",\"configuration\":{\"endian\":"
        "\"little\"}},{\"name\":\"crc32c\"}]}";
    char plain[512];
    snprintf(plain, sizeof plain, INNER_CFG, "end");
    int32_t fv = -7, src[128];
    nested_src(src, fv);
    lsio_chunk_spec s = spec2("<i4", 16, 8, &fv);
    for (int v = 0; v < 2; v++) {
        lsio_codec *cs[2] = {mk_codec("sharding_indexed", v ? plain : deep),
                             mk_codec("zstd", "{\"level\":1}")};
        lsio_chain *ch = NULL;
        CHECK_OK(lsio_chain_create(&ch, cs, (size_t)(1 + v), &s));
        size_t n;
        uint8_t *enc = round_trip_damage(ch, src, &n, !v);
        if (v) /* the chain's last stage: one zstd frame over the whole shard */
            CHECK(n > 4 && enc[0] == 0x28 && enc[1] == 0xb5 && enc[2] == 0x2f && enc[3] == 0xfd);
        free(enc);
        lsio_chain_destroy(ch);
        lsio_codec_destroy(cs[0]);
        lsio_codec_destroy(cs[1]);
    }
}

static void bad_configs(void)
{
    static const char *const bad[] = {
        "{}",
        "{\"chunk_shape\":[0],\"codecs\":[]}",
        "{\"chunk_shape\":[2.5],\"codecs\":[]}",
        "{\"chunk_shape\":[2]}",
        "{\"chunk_shape\":[2],\"codecs\":[{\"name\":\"nope\"}]}",
        "{\"chunk_shape\":[2],\"codecs\":[],\"index_location\":\"middle\"}",
        "{\"chunk_shape\":[2],\"codecs\":[],\"index_codecs\":[{\"name\":\"zstd\"}]}",
        "{\"chunk_shape\":[2],\"codecs\":[{}]}",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        lsio_codec *c = NULL;
        CHECK(lsio_codec_create(&c, "sharding_indexed", bad[i]) < 0);
        CHECK(c == NULL);
        CHECK(strstr(lsio_last_error(), "sharding_indexed") != NULL);
    }
    /* 2-D config on a 1-D shard */
    lsio_codec *c = mk_codec("sharding_indexed", "{\"chunk_shape\":[2,2],\"codecs\":[]}");
    lsio_chunk_spec s = spec1("<i4", 4);
    lsio_chain *ch = NULL;
    CHECK_OK(lsio_chain_create(&ch, &c, 1, &s));
    int32_t out[4];
    CHECK_EQ(lsio_chain_decode(ch, "0123456789012345678901234567890123456789012345678901234567890123456789", 70, out, sizeof out), -LSIO_EFORMAT);
    lsio_chain_destroy(ch);
    lsio_codec_destroy(c);
}

int main(void)
{
    by_hand();
    by_hand_start();
    round_trip_2d();
    nested();
    nested_then_bytes_codec();
    nested_deep_and_chain();
    bad_configs();
    printf("ok\n");
    return 0;
}
