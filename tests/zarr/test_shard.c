/*
 * test_shard.c — Zarr v3 sharding_indexed, shards built by the test: an
 * (8, 6) uint16 array in shards of (4, 6) with inner chunks of (2, 3),
 * inner chunks gzip'd and stored out of order, one inner chunk absent
 * (all-ones index entry) and one shard absent, index with crc32c at the
 * end or at the start. Checks values, that a small selection fetches only
 * the inner chunks it needs, that a bad checksum or an index pointing past
 * the shard fails naming the shard, and the raw read-into-place path of an
 * unsharded v3 array whose chunks are whole rows.
 */
#include <math.h>

#include "zarr_testutil.h"

#define NY 8
#define NX 6

static uint16_t ref[NY][NX];

/* Write the array; index at the start (1) or end (0). */
static void write_sharded(const char *dir, int at_start, int bad_crc)
{
    zt_text(dir, "zarr.json",
            "{\"zarr_format\": 3, \"node_type\": \"array\", \"shape\": [%d, %d],"
            " \"data_type\": \"uint16\", \"chunk_grid\": {\"name\": \"regular\","
            " \"configuration\": {\"chunk_shape\": [4, 6]}},"
            " \"chunk_key_encoding\": {\"name\": \"default\"}, \"fill_value\": 7,"
            " \"codecs\": [{\"name\": \"sharding_indexed\", \"configuration\": {"
            " \"chunk_shape\": [2, 3], \"codecs\": [{\"name\": \"bytes\", \"configuration\":"
            " {\"endian\": \"little\"}}, {\"name\": \"gzip\", \"configuration\": {\"level\": 1}}],"
            " \"index_codecs\": [{\"name\": \"bytes\", \"configuration\": {\"endian\": \"little\"}},"
            " {\"name\": \"crc32c\"}], \"index_location\": \"%s\"}}],"
            " \"dimension_names\": [\"y\", null], \"attributes\": {\"k\": 1}}",
            NY, NX, at_start ? "start" : "end");
    lsio_codec *c[2];
    CHECK_OK(lsio_codec_create(&c[0], "bytes", "{\"endian\": \"little\"}"));
    CHECK_OK(lsio_codec_create(&c[1], "gzip", "{\"level\": 1}"));
    lsio_chunk_spec spec = {.ndim = 2, .shape = {2, 3}, .dtype = {LSIO_DT_UINT, 2, 0}};
    /* Only shard 0 (rows 0..3) exists; shard 1 is missing. */
    unsigned char shard[4096], index[4 * 16 + 4];
    size_t idx_len = sizeof index, pos = at_start ? idx_len : 0;
    /* inner chunks in reverse order of their index, inner (1, 0) absent */
    for (int i = 3; i >= 0; i--) {
        int iy = i / 2, ix = i % 2;
        if (iy == 1 && ix == 0) {
            zt_put64(index + 16 * i, UINT64_MAX);
            zt_put64(index + 16 * i + 8, UINT64_MAX);
            continue;
        }
        uint16_t v[6];
        for (int y = 0; y < 2; y++)
            for (int x = 0; x < 3; x++)
                v[y * 3 + x] = ref[iy * 2 + y][ix * 3 + x];
        size_t n;
        void *enc = zt_encode(c, 2, &spec, v, sizeof v, &n);
        memcpy(shard + pos, enc, n);
        zt_put64(index + 16 * i, pos);
        zt_put64(index + 16 * i + 8, n);
        pos += n;
        free(enc);
    }
    uint32_t crc = lsio_crc32c(index, 64) ^ (bad_crc ? 1u : 0u);
    for (int i = 0; i < 4; i++)
        index[64 + i] = (unsigned char)(crc >> (8 * i));
    memcpy(shard + (at_start ? 0 : pos), index, idx_len);
    zt_write(dir, "c/0/0", shard, pos + (at_start ? 0 : idx_len));
    lsio_codec_destroy(c[0]);
    lsio_codec_destroy(c[1]);
}

static uint16_t expect_at(int y, int x)
{
    if (y >= 4 || (y / 2 == 1 && x / 3 == 0))
        return 7;
    return ref[y][x];
}

static void check_all(lsio_zarr_array *a)
{
    uint16_t out[NY][NX];
    CHECK_OK(lsio_zarr_read(a, NULL, out, sizeof out));
    for (int y = 0; y < NY; y++)
        for (int x = 0; x < NX; x++)
            if (out[y][x] != expect_at(y, x)) {
                fprintf(stderr, "(%d, %d) = %u, want %u\n", y, x, out[y][x], expect_at(y, x));
                exit(1);
            }
    /* reversed rows, every other column */
    uint64_t shape[2] = {NY, NX};
    lsio_selection s;
    CHECK_OK(lsio_selection_parse("::-1, 1::2", 2, shape, &s));
    uint16_t o2[NY * 3];
    CHECK_OK(lsio_zarr_read(a, &s, o2, sizeof o2));
    for (int i = 0; i < NY; i++)
        for (int j = 0; j < 3; j++)
            CHECK_EQ(o2[i * 3 + j], expect_at(NY - 1 - i, 1 + 2 * j));
}

int main(void)
{
    for (int y = 0; y < NY; y++)
        for (int x = 0; x < NX; x++)
            ref[y][x] = (uint16_t)(1000 + y * 10 + x);
    const char *tmp = test_tmpdir("zarr_shard");
    char dir[4200];
    uint64_t shape[2] = {NY, NX};
    for (int at_start = 0; at_start < 2; at_start++) {
        snprintf(dir, sizeof dir, "%s/s%d.zarr", tmp, at_start);
        write_sharded(dir, at_start, 0);
        lsio_zarr_array *a;
        CHECK_OK(lsio_zarr_open(&a, dir, NULL));
        const lsio_zarr_info *in = lsio_zarr_get_info(a);
        CHECK_EQ(in->chunks[0], 2);
        CHECK_EQ(in->chunks[1], 3);
        CHECK_EQ(in->shards[0], 4);
        CHECK_EQ(in->shards[1], 6);
        CHECK_EQ(in->nchunks, 2);
        CHECK(in->dimension_names[0] && !strcmp(in->dimension_names[0], "y"));
        CHECK(!in->dimension_names[1]);
        CHECK(strstr(in->attrs_json, "\"k\""));
        check_all(a);
        /* One inner chunk: only it is fetched. */
        lsio_zarr_stats b, e;
        lsio_zarr_stats_get(a, &b);
        lsio_selection s;
        CHECK_OK(lsio_selection_parse("0:2, 3:6", 2, shape, &s));
        uint16_t o[6];
        CHECK_OK(lsio_zarr_read(a, &s, o, sizeof o));
        lsio_zarr_stats_get(a, &e);
        CHECK_EQ(e.chunks_read - b.chunks_read, 1);
        CHECK_EQ(o[5], ref[1][5]);
        uint64_t present;
        CHECK_OK(lsio_zarr_count_chunks(a, &present, NULL));
        CHECK_EQ(present, 1);
        lsio_zarr_close(a);
        /* A bad checksum names the shard. */
        write_sharded(dir, at_start, 1);
        CHECK_OK(lsio_zarr_open(&a, dir, NULL));
        uint16_t out[NY * NX];
        int rc = lsio_zarr_read(a, NULL, out, sizeof out);
        CHECK(rc < 0);
        zt_expect(rc, rc, dir, "c/0/0", NULL);
        lsio_zarr_close(a);
    }
    /* An index entry past the end of the shard. */
    snprintf(dir, sizeof dir, "%s/s0.zarr", tmp);
    write_sharded(dir, 0, 0);
    {
        unsigned char idx[68];
        memset(idx, 0, sizeof idx);
        for (int i = 0; i < 4; i++) {
            zt_put64(idx + 16 * i, 1u << 20);
            zt_put64(idx + 16 * i + 8, 10);
        }
        uint32_t crc = lsio_crc32c(idx, 64);
        for (int i = 0; i < 4; i++)
            idx[64 + i] = (unsigned char)(crc >> (8 * i));
        zt_write(dir, "c/0/0", idx, sizeof idx);
        lsio_zarr_array *a;
        CHECK_OK(lsio_zarr_open(&a, dir, NULL));
        uint16_t out[NY * NX];
        int rc = lsio_zarr_read(a, NULL, out, sizeof out);
        CHECK(rc < 0);
        zt_expect(rc, rc, "c/0/0", NULL);
        lsio_zarr_close(a);
    }

    /* Raw v3 chunks that are whole rows: read straight into the output;
     * a missing one is the fill value, a short one an error naming it. */
    snprintf(dir, sizeof dir, "%s/raw.zarr", tmp);
    zt_text(dir, "zarr.json",
            "{\"zarr_format\": 3, \"node_type\": \"array\", \"shape\": [6, 4],"
            " \"data_type\": \"float64\", \"chunk_grid\": {\"name\": \"regular\","
            " \"configuration\": {\"chunk_shape\": [2, 4]}}, \"chunk_key_encoding\":"
            " {\"name\": \"v2\", \"configuration\": {\"separator\": \"/\"}},"
            " \"fill_value\": \"-Infinity\", \"codecs\": [{\"name\": \"bytes\","
            " \"configuration\": {\"endian\": \"little\"}}]}");
    double rows[8];
    for (int i = 0; i < 8; i++)
        rows[i] = i * 0.5;
    zt_write(dir, "0/0", rows, sizeof rows);
    zt_write(dir, "2/0", rows, sizeof rows);
    lsio_zarr_array *a;
    CHECK_OK(lsio_zarr_open(&a, dir, NULL));
    double out[24];
    CHECK_OK(lsio_zarr_read(a, NULL, out, sizeof out));
    CHECK(out[3] == 1.5 && out[19] == 1.5);
    CHECK(out[8] == -INFINITY && out[15] == -INFINITY);
    zt_write(dir, "1/0", rows, 12);
    int rc = lsio_zarr_read(a, NULL, out, sizeof out);
    CHECK(rc < 0);
    zt_expect(rc, rc, dir, "chunk 1/0", NULL);
    lsio_zarr_close(a);
    return 0;
}
