/*
 * test_sparse.c — partial decoding and sparse reads of blosc chunks, in C
 * (so that AddressSanitizer watches them): a v2 float32 array (512, 1024) of
 * 2 chunks (256, 1024) written with blosc (blocks of 256 KiB or less, several per
 * chunk); single-row and small-box selections, read three times, equal the
 * values written; reads fetch fewer bytes than whole chunks (the first
 * probes a chunk's header, later ones know it: the header and the blocks
 * needed, not the chunk); a chunk written again with other values
 * in between is read whole and gives the new ones; a chunk cut short
 * in between, or turned into a directory, is an error naming it, never a
 * crash; chunks of one block
 * (nothing to skip) are read whole after their probe, values right.
 */
#include <sys/stat.h>
#include <unistd.h>

#include "zarr_testutil.h"

#define NY 512
#define NX 1024
#define CY 256

static float ref[NY][NX];

/* blocksize 0: blosc's choice (several blocks per chunk) */
static void write_chunks(const char *dir, float bias, int blocksize)
{
    lsio_codec *c;
    char cfg[128];
    snprintf(cfg, sizeof cfg, "{\"cname\":\"lz4\",\"clevel\":5,\"shuffle\":1,\"blocksize\":%d}",
             blocksize);
    CHECK_OK(lsio_codec_create(&c, "blosc", cfg));
    lsio_chunk_spec spec;
    memset(&spec, 0, sizeof spec);
    CHECK_OK(lsio_dtype_parse("<f4", &spec.dtype));
    spec.ndim = 2;
    spec.shape[0] = CY;
    spec.shape[1] = NX;
    for (int cy = 0; cy < NY / CY; cy++) {
        for (int y = 0; y < CY; y++)
            for (int x = 0; x < NX; x++)
                ref[cy * CY + y][x] = (float)((unsigned)((cy * CY + y) * 7919 + x * 104729) % 65521) * 0.37f + bias;
        char key[16];
        snprintf(key, sizeof key, "%d.0", cy);
        zt_write_chunk(dir, key, c, &spec, ref[cy * CY], sizeof(float) * CY * NX);
    }
    lsio_codec_destroy(c);
}

static uint64_t bytes_read(lsio_zarr_array *a)
{
    lsio_zarr_stats st;
    lsio_zarr_stats_get(a, &st);
    return st.bytes_read;
}

/* Read the selections; returns the bytes fetched; rc of the first failure. */
static int read_sels(lsio_zarr_array *a, uint64_t *fetched)
{
    static const char *const sels[] = {"3,:", "40:43,100:140", "511,1000:", "255:257,0:8"};
    uint64_t before = bytes_read(a);
    for (size_t i = 0; i < sizeof sels / sizeof sels[0]; i++) {
        uint64_t shape[2] = {NY, NX};
        lsio_selection s;
        CHECK_OK(lsio_selection_parse(sels[i], 2, shape, &s));
        uint64_t n = lsio_selection_count(&s);
        float *out = malloc(n * sizeof *out);
        int rc = lsio_zarr_read(a, &s, out, n * sizeof *out);
        if (rc < 0) {
            free(out);
            return rc;
        }
        /* compare in selection order */
        uint64_t k = 0;
        for (uint64_t y = 0; y < s.dim[0].count; y++)
            for (uint64_t x = 0; x < s.dim[1].count; x++, k++) {
                int64_t yy = s.dim[0].start + (int64_t)y * s.dim[0].step;
                int64_t xx = s.dim[1].start + (int64_t)x * s.dim[1].step;
                if (out[k] != ref[yy][xx]) {
                    fprintf(stderr, "%s: [%lld,%lld] = %g, want %g\n", sels[i], (long long)yy,
                            (long long)xx, out[k], ref[yy][xx]);
                    exit(1);
                }
            }
        free(out);
    }
    *fetched = bytes_read(a) - before;
    return 0;
}

int main(void)
{
    const char *tmp = getenv("LSIO_TEST_TMP") ? getenv("LSIO_TEST_TMP") : "/tmp";
    char dir[4096];
    snprintf(dir, sizeof dir, "%s/sparse.XXXXXX", tmp);
    CHECK(mkdtemp(dir));
    zt_text(dir, ".zarray",
            "{\"zarr_format\": 2, \"shape\": [%d, %d], \"chunks\": [%d, %d], \"dtype\": \"<f4\","
            " \"compressor\": {\"id\": \"blosc\", \"cname\": \"lz4\", \"clevel\": 5, "
            "\"shuffle\": 1, \"blocksize\": 0}, \"fill_value\": 0, \"filters\": null,"
            " \"order\": \"C\"}",
            NY, NX, CY, NX);
    write_chunks(dir, 0, 0);
    lsio_zarr_array *a;
    CHECK_OK(lsio_zarr_open(&a, dir, NULL));
    uint64_t whole, first, second, third;
    setenv("LSIO_NO_SPARSE_READS", "1", 1); /* every chunk read whole */
    CHECK_OK(read_sels(a, &whole));
    unsetenv("LSIO_NO_SPARSE_READS");
    CHECK_OK(read_sels(a, &first));  /* local: probed, header then blocks */
    CHECK_OK(read_sels(a, &second)); /* the headers known: no probes */
    CHECK_OK(read_sels(a, &third));
    printf("bytes fetched: %llu whole, then %llu, %llu, %llu\n", (unsigned long long)whole,
           (unsigned long long)first, (unsigned long long)second, (unsigned long long)third);
    CHECK(first < whole / 4 * 3);
    CHECK(second <= first);
    CHECK_EQ(second, third);
    /* written again: other headers, read whole, new values */
    write_chunks(dir, 0.25f, 0);
    uint64_t again, again2;
    CHECK_OK(read_sels(a, &again));
    CHECK(again > second);
    CHECK_OK(read_sels(a, &again2)); /* learned again: sparse again */
    CHECK(again2 < again / 4 * 3);
    /* cut short after the header was learned: an error naming the chunk */
    char path[4200];
    snprintf(path, sizeof path, "%s/1.0", dir);
    CHECK_EQ(truncate(path, 200), 0);
    int rc = read_sels(a, &again);
    CHECK(rc < 0);
    CHECK(strstr(lsio_last_error(), "chunk 1.0") != NULL);
    /* a chunk turned into a directory: the header read itself fails */
    snprintf(path, sizeof path, "%s/0.0", dir);
    CHECK_EQ(unlink(path), 0);
    CHECK_EQ(mkdir(path, 0755), 0);
    rc = read_sels(a, &again);
    CHECK(rc < 0);
    CHECK(strstr(lsio_last_error(), "chunk 0.0") != NULL);
    CHECK_EQ(rmdir(path), 0);
    lsio_zarr_close(a);
    /* one block per chunk: the probe finds nothing to skip and the chunk is
     * read whole (the probe's 4 KiB counted too) */
    write_chunks(dir, 0.5f, CY * NX * 4);
    char head[16];
    snprintf(path, sizeof path, "%s/0.0", dir);
    FILE *f = fopen(path, "rb");
    CHECK(f && fread(head, 1, 16, f) == 16);
    fclose(f);
    uint32_t bs;
    memcpy(&bs, head + 8, 4); /* little-endian machine */
    CHECK_EQ(bs, CY * NX * 4); /* one block */
    struct stat st0, st1;
    snprintf(path, sizeof path, "%s/0.0", dir);
    CHECK_EQ(stat(path, &st0), 0);
    snprintf(path, sizeof path, "%s/1.0", dir);
    CHECK_EQ(stat(path, &st1), 0);
    CHECK_OK(lsio_zarr_open(&a, dir, NULL));
    uint64_t one;
    CHECK_OK(read_sels(a, &one)); /* chunk 0.0 read by 3 selections, 1.0 by 2 */
    CHECK(one >= 3 * (uint64_t)st0.st_size + 2 * (uint64_t)st1.st_size);
    lsio_zarr_close(a);
    char cmd[4200];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    CHECK_EQ(system(cmd), 0);
    printf("ok\n");
    return 0;
}
