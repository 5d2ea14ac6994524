/*
 * fuzz_sharding_codec.c — the sharding_indexed codec (shards inside shards)
 * decoding arbitrary bytes. Input: byte 0 picks one of four chains (a
 * shard of shards of u1 with crc32c indexes at the end; 2-D int16 with a
 * plain index at the start; uint16 inner chunks through gzip with a crc32c
 * index; u1 shards of shards each through zstd after the nested shard),
 * bit 7 of byte 0 makes the harness write a correct checksum over the
 * outer index (so the entries themselves get parsed); the rest is the
 * shard. Entries that overlap the index are among what decode must refuse. dst is malloc'd at exactly the decoded size, so ASan sees any
 * write past it. A shard that decodes is encoded again and must decode to
 * the same values.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lsio_codecs.h"

#define NCFG 4

static const char *const CFG[NCFG] = {
    "{\"chunk_shape\":[4],\"codecs\":[{\"name\":\"sharding_indexed\",\"configuration\":{"
    "\"chunk_shape\":[2],\"codecs\":[{\"name\":\"bytes\"}],\"index_codecs\":[{\"name\":"
    "\"bytes\",\"configuration\":{\"endian\":\"little\"}},{\"name\":\"crc32c\"}]}}],"
    "\"index_codecs\":[{\"name\":\"bytes\",\"configuration\":{\"endian\":\"little\"}},"
    "{\"name\":\"crc32c\"}]}",
    "{\"chunk_shape\":[2,3],\"codecs\":[{\"name\":\"bytes\",\"configuration\":{\"endian\":"
    "\"little\"}}],\"index_codecs\":[{\"name\":\"bytes\",\"configuration\":{\"endian\":"
    "\"little\"}}],\"index_location\":\"start\"}",
    "{\"chunk_shape\":[2,2],\"codecs\":[{\"name\":\"bytes\",\"configuration\":{\"endian\":"
    "\"little\"}},{\"name\":\"gzip\",\"configuration\":{\"level\":1}}],\"index_codecs\":["
    "{\"name\":\"bytes\",\"configuration\":{\"endian\":\"little\"}},{\"name\":\"crc32c\"}]}",
    "{\"chunk_shape\":[4],\"codecs\":[{\"name\":\"sharding_indexed\",\"configuration\":{"
    "\"chunk_shape\":[2],\"codecs\":[{\"name\":\"bytes\"}],\"index_location\":\"start\"}},"
    "{\"name\":\"zstd\",\"configuration\":{\"level\":1}}],\"index_codecs\":[{\"name\":"
    "\"bytes\",\"configuration\":{\"endian\":\"little\"}},{\"name\":\"crc32c\"}]}",
};
static const char *const DT[NCFG] = {"|u1", "<i2", "<u2", "|u1"};
static const uint64_t SHAPE[NCFG][2] = {{8, 0}, {4, 6}, {4, 4}, {8, 0}};
static const unsigned NDIM[NCFG] = {1, 2, 2, 1};
/* the outer index at the end, with crc */
static const size_t INDEX[NCFG] = {2 * 16 + 4, 0, 4 * 16 + 4, 2 * 16 + 4};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static lsio_chain *ch[NCFG];
    static size_t dsize[NCFG];
    static const uint16_t fillv = 7;
    if (!ch[0]) {
        for (int i = 0; i < NCFG; i++) {
            lsio_codec *c;
            lsio_chunk_spec s;
            memset(&s, 0, sizeof s);
            s.ndim = NDIM[i];
            memcpy(s.shape, SHAPE[i], sizeof SHAPE[i]);
            s.fill = i == 1 ? NULL : &fillv; /* little-endian hosts: u1 fill 7 too */
            if (lsio_dtype_parse(DT[i], &s.dtype) < 0 ||
                lsio_codec_create(&c, "sharding_indexed", CFG[i]) < 0 ||
                lsio_chain_create(&ch[i], &c, 1, &s) < 0)
                abort();
            lsio_codec_destroy(c);
            dsize[i] = lsio_chain_decoded_size(ch[i]);
        }
    }
    if (size < 1)
        return 0;
    int k = (data[0] & 0x7f) % NCFG;
    size_t n = size - 1;
    uint8_t *src = malloc(n ? n : 1);
    if (!src)
        return 0;
    memcpy(src, data + 1, n);
    if ((data[0] & 0x80) && INDEX[k] && n >= INDEX[k]) {
        uint32_t c = lsio_crc32c(src + n - INDEX[k], INDEX[k] - 4);
        memcpy(src + n - 4, &c, 4);
    }
    uint8_t *dst = malloc(dsize[k]), *again = malloc(dsize[k]);
    if (dst && again && lsio_chain_decode(ch[k], src, n, dst, dsize[k]) == 0) {
        void *enc;
        size_t elen;
        if (lsio_chain_encode(ch[k], dst, dsize[k], &enc, &elen) != 0)
            abort();
        if (lsio_chain_decode(ch[k], enc, elen, again, dsize[k]) != 0 ||
            memcmp(dst, again, dsize[k]))
            abort();
        free(enc);
    }
    free(again);
    free(dst);
    free(src);
    return 0;
}
