/*
 * test_into_place.c — blosc chunks decoded straight into their place in
 * the output (zarr_scatter over lsio_chain_decode_sink), in C so that
 * AddressSanitizer watches the unshuffle into the output's rows: v2 arrays
 * (6, 100, 280) of chunks (3, 64, 96), edge chunks on the last two
 * dimensions, chunks of several blosc blocks whose ends fall inside rows
 * (checked in the chunk headers): float32 blosc-lz4 with byte shuffle
 * (split streams; blosc makes lz4 blocks 64 KiB or more, so a 64 KiB block
 * and a leftover), float64 blosc-zstd with byte shuffle (blosc's own block
 * size), int16 blosc-zstd without shuffle in blocks of 1000 bytes. Whole reads and selections with outer steps equal
 * the values written and count the chunks that went into place; a
 * selection whose rows run backwards, and the same reads with
 * LSIO_NO_DECODE_INTO_PLACE, go the ordinary way with the same values; a
 * chunk damaged inside a block is an error naming it, and the read after
 * it (the chunk rewritten) is right.
 */
#include <unistd.h>

#include "zarr_testutil.h"

#define NT 6
#define NY 100
#define NX 280
#define CT 3
#define CY 64
#define CX 96

typedef struct kind {
    const char *dtype, *compressor;
    size_t es;
} kind;

static double value(size_t t, size_t y, size_t x)
{
    return (double)((t * 31 + y * 7 + x) % 509) * 0.5 - 100;
}

static void put(unsigned char *p, const kind *k, double v)
{
    if (k->es == 4) {
        float f = (float)v;
        memcpy(p, &f, 4);
    } else if (k->es == 8) {
        memcpy(p, &v, 8);
    } else {
        int16_t i = (int16_t)v;
        memcpy(p, &i, 2);
    }
}

/* Write every chunk (edge chunks padded, as zarr-python writes them). */
static void write_array(const char *dir, const kind *k)
{
    zt_text(dir, ".zarray",
            "{\"zarr_format\": 2, \"shape\": [%d, %d, %d], \"chunks\": [%d, %d, %d], "
            "\"dtype\": \"%s\", \"compressor\": %s, \"fill_value\": 0, \"filters\": null,"
            " \"order\": \"C\"}",
            NT, NY, NX, CT, CY, CX, k->dtype, k->compressor);
    lsio_codec *c;
    CHECK_OK(lsio_codec_create(&c, "blosc", k->compressor));
    lsio_chunk_spec spec;
    memset(&spec, 0, sizeof spec);
    CHECK_OK(lsio_dtype_parse(k->dtype, &spec.dtype));
    spec.ndim = 3;
    spec.shape[0] = CT;
    spec.shape[1] = CY;
    spec.shape[2] = CX;
    size_t bytes = (size_t)CT * CY * CX * k->es;
    unsigned char *buf = malloc(bytes);
    for (size_t ct = 0; ct < NT / CT; ct++)
        for (size_t cy = 0; cy < (NY + CY - 1) / CY; cy++)
            for (size_t cx = 0; cx < (NX + CX - 1) / CX; cx++) {
                memset(buf, 0, bytes);
                for (size_t t = 0; t < CT; t++)
                    for (size_t y = 0; y < CY; y++)
                        for (size_t x = 0; x < CX; x++) {
                            size_t tt = ct * CT + t, yy = cy * CY + y, xx = cx * CX + x;
                            if (yy < NY && xx < NX)
                                put(buf + ((t * CY + y) * CX + x) * k->es, k,
                                    value(tt, yy, xx));
                        }
                char key[64];
                snprintf(key, sizeof key, "%zu.%zu.%zu", ct, cy, cx);
                zt_write_chunk(dir, key, c, &spec, buf, bytes);
            }
    free(buf);
    lsio_codec_destroy(c);
}

static uint64_t direct(lsio_zarr_array *a)
{
    lsio_zarr_stats st;
    lsio_zarr_stats_get(a, &st);
    return st.chunks_direct;
}

/* Read sel, check every value; returns the chunks that went into place. */
static uint64_t check_read(lsio_zarr_array *a, const kind *k, const char *text)
{
    uint64_t shape[3] = {NT, NY, NX};
    lsio_selection s;
    CHECK_OK(lsio_selection_parse(text, 3, shape, &s));
    uint64_t n = lsio_selection_count(&s);
    unsigned char *out = malloc(n * k->es), *want = malloc(k->es);
    uint64_t before = direct(a);
    CHECK_OK(lsio_zarr_read(a, &s, out, n * k->es));
    uint64_t i = 0;
    for (uint64_t t = 0; t < s.dim[0].count; t++)
        for (uint64_t y = 0; y < s.dim[1].count; y++)
            for (uint64_t x = 0; x < s.dim[2].count; x++, i++) {
                put(want, k,
                    value((size_t)(s.dim[0].start + (int64_t)t * s.dim[0].step),
                          (size_t)(s.dim[1].start + (int64_t)y * s.dim[1].step),
                          (size_t)(s.dim[2].start + (int64_t)x * s.dim[2].step)));
                if (memcmp(out + i * k->es, want, k->es)) {
                    fprintf(stderr, "%s %s: element %llu differs\n", k->dtype, text,
                            (unsigned long long)i);
                    exit(1);
                }
            }
    free(out);
    free(want);
    return direct(a) - before;
}

static void one(const char *tmp, const kind *k)
{
    char dir[4096];
    snprintf(dir, sizeof dir, "%s/into_place.XXXXXX", tmp);
    CHECK(mkdtemp(dir));
    write_array(dir, k);
    lsio_zarr_array *a;
    CHECK_OK(lsio_zarr_open(&a, dir, NULL));
    /* chunk 0.0.0 is several blocks, not a whole number of rows each */
    char hpath[4200];
    snprintf(hpath, sizeof hpath, "%s/0.0.0", dir);
    FILE *hf = fopen(hpath, "rb");
    unsigned char h[16];
    CHECK(hf && fread(h, 1, 16, hf) == 16);
    fclose(hf);
    uint32_t nbytes = h[4] | h[5] << 8 | h[6] << 16 | (uint32_t)h[7] << 24;
    uint32_t bs = h[8] | h[9] << 8 | h[10] << 16 | (uint32_t)h[11] << 24;
    if (!(bs < nbytes && bs % (CX * k->es) != 0)) {
        fprintf(stderr, "%s: blocks of %u bytes in a chunk of %u\n", k->dtype, bs, nbytes);
        exit(1);
    }
    /* 2 x 2 x 3 chunks, none one piece of the output */
    CHECK_EQ(check_read(a, k, ":,:,:"), 12);
    /* outer steps, a part of every chunk row-wise: into place, except the
     * chunks of which a small span is needed (partial decoding) */
    CHECK(check_read(a, k, "::2,3:97:2,5:290") > 0);
    CHECK(check_read(a, k, "1:5,::3,:") > 0);
    /* rows backwards, or every other element of a row: the ordinary way */
    CHECK_EQ(check_read(a, k, ":,:,::-1"), 0);
    CHECK_EQ(check_read(a, k, ":,:,::2"), 0);
    setenv("LSIO_NO_DECODE_INTO_PLACE", "1", 1);
    CHECK_EQ(check_read(a, k, ":,:,:"), 0);
    CHECK_EQ(check_read(a, k, "::2,3:97:2,5:290"), 0);
    unsetenv("LSIO_NO_DECODE_INTO_PLACE");

    /* damage in the middle of chunk 1.1.1: an error naming it */
    char path[4200];
    snprintf(path, sizeof path, "%s/1.1.1", dir);
    FILE *f = fopen(path, "r+b");
    CHECK(f);
    CHECK_EQ(fseek(f, 0, SEEK_END), 0);
    long len = ftell(f);
    unsigned char junk[48];
    memset(junk, 0x5a, sizeof junk);
    CHECK_EQ(fseek(f, len / 2, SEEK_SET), 0);
    CHECK_EQ(fwrite(junk, 1, sizeof junk, f), sizeof junk);
    fclose(f);
    uint64_t shape[3] = {NT, NY, NX};
    lsio_selection s;
    CHECK_OK(lsio_selection_parse(":,:,:", 3, shape, &s));
    size_t bytes = (size_t)NT * NY * NX * k->es;
    void *out = malloc(bytes);
    int rc = lsio_zarr_read(a, &s, out, bytes);
    CHECK(rc < 0);
    CHECK(strstr(lsio_last_error(), "1.1.1"));
    free(out);
    write_array(dir, k); /* whole again */
    CHECK_EQ(check_read(a, k, ":,:,:"), 12);
    lsio_zarr_close(a);
    char cmd[4300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    CHECK_EQ(system(cmd), 0);
}

int main(void)
{
    const char *tmp = getenv("LSIO_TEST_TMP") ? getenv("LSIO_TEST_TMP") : "/tmp";
    const kind kinds[] = {
        {"<f4", "{\"id\":\"blosc\",\"cname\":\"lz4\",\"clevel\":5,\"shuffle\":1,\"blocksize\":16384}",
         4},
        {"<f8", "{\"id\":\"blosc\",\"cname\":\"zstd\",\"clevel\":3,\"shuffle\":1,\"blocksize\":0}",
         8},
        {"<i2", "{\"id\":\"blosc\",\"cname\":\"zstd\",\"clevel\":3,\"shuffle\":0,\"blocksize\":1000}",
         2},
    };
    for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++)
        one(tmp, &kinds[i]);
    printf("ok\n");
    return 0;
}
